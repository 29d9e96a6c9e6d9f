//! IMS functions of the control thread: the built-in HSS, the S-CSCF
//! registrar with its binding table, and the reg event package.

pub mod bindings;
pub mod challenge;
pub mod hss;
pub mod impu;
pub mod persist;
pub mod register_input;
pub mod reginfo;
pub mod registrar;
pub mod terminating;

#[cfg(test)]
mod registrar_tests;
