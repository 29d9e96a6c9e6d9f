//! Splitting a monitor command line into arguments.
//!
//! Arguments are separated by blanks; a `"..."` section keeps blanks and may contain `\"`
//! and `\\`; quoted and unquoted parts next to each other form one argument
//! (`a"b c"` is `ab c`; `""` is an empty argument).

/// Longest accepted line, in bytes.
pub const MAX_LINE: usize = 4096;
/// Most arguments on one line (command name included).
pub const MAX_ARGS: usize = 64;

/// Splits `line` into arguments, or says why it cannot.
pub fn split_line(line: &str) -> Result<Vec<String>, String> {
    if line.len() > MAX_LINE {
        return Err(format!("Line too long (more than {MAX_LINE} bytes)"));
    }
    let mut args = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let arg = cur.get_or_insert_with(String::new);
                read_quoted(&mut chars, arg)?;
            }
            c if c.is_whitespace() => {
                if let Some(arg) = cur.take() {
                    push(&mut args, arg)?;
                }
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(arg) = cur {
        push(&mut args, arg)?;
    }
    Ok(args)
}

fn push(args: &mut Vec<String>, arg: String) -> Result<(), String> {
    if args.len() >= MAX_ARGS {
        return Err(format!("Too many arguments (more than {MAX_ARGS})"));
    }
    args.push(arg);
    Ok(())
}

/// Reads up to the closing quote (the opening one is consumed).
fn read_quoted(chars: &mut std::str::Chars<'_>, arg: &mut String) -> Result<(), String> {
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(()),
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => arg.push(e),
                Some(other) => {
                    arg.push('\\');
                    arg.push(other);
                }
                None => break,
            },
            c => arg.push(c),
        }
    }
    Err("Unterminated quote".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_line(s).expect("valid line")
    }

    #[test]
    fn blanks_separate() {
        assert_eq!(
            split("  sms  001010123456789\thello "),
            ["sms", "001010123456789", "hello"]
        );
        assert!(split("   ").is_empty());
    }

    #[test]
    fn quotes_group_and_escape() {
        assert_eq!(
            split(r#"sms 1234 "hello world""#),
            ["sms", "1234", "hello world"]
        );
        assert_eq!(split(r#"a"b c"d"#), ["ab cd"]);
        assert_eq!(split(r#"x "" y"#), ["x", "", "y"]);
        assert_eq!(split(r#""say \"hi\" \\ \n""#), [r#"say "hi" \ \n"#]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            split_line(r#"sms "oops"#),
            Err("Unterminated quote".to_string())
        );
        assert_eq!(
            split_line(r#"sms "oops\"#),
            Err("Unterminated quote".to_string())
        );
        assert!(split_line(&"a ".repeat(MAX_ARGS + 1)).is_err_and(|e| e.starts_with("Too many")));
        assert!(
            split_line(&"a".repeat(MAX_LINE + 1)).is_err_and(|e| e.starts_with("Line too long"))
        );
    }
}
