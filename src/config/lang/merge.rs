//! Merging of duplicate properties and included files (seed 000 5.1 items 6
//! and 7): "merge will be done by recursively overriding values considering
//! reading direction". An object merged into an object merges property by
//! property; anything else replaces the earlier value. A property keeps the
//! position where it was first written.

use std::collections::HashMap;

use crate::config::value::{Location, Value, ValueKind};

/// An object being read: properties in reading order, with an index by name.
#[derive(Default)]
pub(crate) struct ObjectBuilder {
    props: Vec<(String, Value)>,
    index: HashMap<String, usize>,
}

impl ObjectBuilder {
    /// Adds property `name`, merging it with an earlier one of the same name.
    pub(crate) fn insert(&mut self, name: String, value: Value) {
        match self.index.get(&name).and_then(|&i| self.props.get_mut(i)) {
            Some((_, old)) => merge_value(old, value),
            None => {
                self.index.insert(name.clone(), self.props.len());
                self.props.push((name, value));
            }
        }
    }

    /// Merges every property of an included object, in its order.
    pub(crate) fn insert_all(&mut self, props: Vec<(String, Value)>) {
        for (name, value) in props {
            self.insert(name, value);
        }
    }

    /// The properties, in reading order.
    pub(crate) fn into_props(self) -> Vec<(String, Value)> {
        self.props
    }

    /// The object value, located at `loc`.
    pub(crate) fn finish(self, loc: Location) -> Value {
        Value {
            kind: ValueKind::Object(self.props),
            loc,
        }
    }
}

/// Overrides `old` with `new`: objects merge recursively, anything else is replaced.
pub(crate) fn merge_value(old: &mut Value, new: Value) {
    match (&mut old.kind, new.kind) {
        (ValueKind::Object(props), ValueKind::Object(new_props)) => {
            let mut builder = ObjectBuilder::default();
            builder.insert_all(std::mem::take(props));
            builder.insert_all(new_props);
            *props = builder.into_props();
        }
        (_, kind) => *old = Value { kind, loc: new.loc },
    }
}
