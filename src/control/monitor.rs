//! Command line monitor (lteims manual section 7): a line interpreter with a registry of
//! commands. The control thread feeds it lines (from stdin or elsewhere) and implements
//! [`MonitorContext`]; the monitor itself does no I/O besides writing to the given output,
//! so it is tested with strings.
//!
//! Built in: `help [command]`, `log [log_options]`, `users`, `quit`. Later commands (`sms`,
//! `mt_call`, `dialog`, `dialog_set`, ...) are added with [`Monitor::register`]; the
//! context methods they need are added to [`MonitorContext`] with a default body.

use std::fmt;
use std::io::{self, Write};

#[path = "monitor_builtin.rs"]
mod builtin;
#[path = "monitor_line.rs"]
mod line;

pub use line::{split_line, MAX_ARGS, MAX_LINE};

/// Prompt printed before each line is read.
pub const PROMPT: &str = "(ims) ";

/// What the monitor's commands act on; implemented by the control thread.
pub trait MonitorContext {
    /// Current log state (monitor `log` without argument).
    fn log_options(&self) -> String;
    /// Applies a `log_options` string; the error text is shown to the user.
    fn set_log_options(&mut self, options: &str) -> Result<(), String>;
    /// Writes the user list (monitor `users`).
    fn users(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "No user database")
    }
    /// Asks the program to stop (monitor `quit`).
    fn request_quit(&mut self);
    /// Starts a network-initiated call to `impu` lasting `duration` seconds
    /// (None: until the UE hangs up), offering `sdp_file` when given, from
    /// `caller` when given; returns a line describing the call.
    fn mt_call(&mut self, impu: &str, duration: Option<f64>, sdp_file: Option<&str>, caller: Option<&str>) -> Result<String, String> {
        let _ = (impu, duration, sdp_file, caller);
        Err("MT calls are not available".into())
    }
    /// Sends an SMS with `text` to the user of `user` (an IMPI, else an IMPU); returns a line
    /// describing what was queued (monitor `sms`).
    fn sms(&mut self, user: &str, text: &str) -> Result<String, String> {
        let _ = (user, text);
        Err("SMS is not available".into())
    }
    /// Tries the pending SMS of `impi` now (monitor `sms_flush`).
    fn sms_flush(&mut self, impi: &str) -> Result<String, String> {
        let _ = impi;
        Err("SMS is not available".into())
    }
    /// Writes the dialog list (monitor `dialog`).
    fn dialogs(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "No dialog")
    }
    /// Applies a `dialog_set` action (`stop`, `hold`, `answer`, `reinvite`, `downgrade
    /// [audio|video]`, `media [rtp=on|off] [rtcp=on|off]`) to dialog `id`.
    fn dialog_set(&mut self, id: &str, action: &str) -> Result<String, String> {
        let _ = (id, action);
        Err("dialogs are not available".into())
    }
}

/// A command handler: context, arguments after the command name, output.
pub type Handler = fn(&mut dyn MonitorContext, &[&str], &mut dyn Write) -> io::Result<()>;

/// One monitor command.
#[derive(Clone, Copy)]
pub struct Command {
    /// Name typed by the user.
    pub name: &'static str,
    /// Synopsis, e.g. `log [log_options]`.
    pub usage: &'static str,
    /// Description shown by `help name`.
    pub help: &'static str,
    /// Fewest arguments accepted.
    pub min_args: usize,
    /// Most arguments accepted.
    pub max_args: usize,
    /// What it does.
    pub handler: Handler,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `help [command]`, served by the monitor itself.
const HELP: Command = Command {
    name: "help",
    usage: "help [command]",
    help: "Without argument, list the commands. With a command name, show its details.",
    min_args: 0,
    max_args: 1,
    handler: |_, _, _| Ok(()),
};

/// Bound on registered commands.
pub const MAX_COMMANDS: usize = 64;

/// The interpreter.
#[derive(Debug)]
pub struct Monitor {
    commands: Vec<Command>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new()
    }
}

impl Monitor {
    /// A monitor with the built-in commands.
    pub fn new() -> Monitor {
        Monitor {
            commands: vec![HELP, builtin::LOG, builtin::USERS, builtin::MT_CALL, builtin::SMS, builtin::SMS_FLUSH, builtin::DIALOG, builtin::DIALOG_SET, builtin::QUIT],
        }
    }

    /// Adds a command. Fails when the name is taken or the registry is full.
    pub fn register(&mut self, cmd: Command) -> Result<(), String> {
        if self.find(cmd.name).is_some() {
            return Err(format!("command '{}' already registered", cmd.name));
        }
        if self.commands.len() >= MAX_COMMANDS {
            return Err(format!("more than {MAX_COMMANDS} commands"));
        }
        self.commands.push(cmd);
        Ok(())
    }

    /// The registered commands, in registration order.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    fn find(&self, name: &str) -> Option<&Command> {
        self.commands.iter().find(|c| c.name == name)
    }

    /// Interprets one line, writing the answer to `out`. Errors are only those of `out`.
    pub fn execute(
        &self,
        ctx: &mut dyn MonitorContext,
        line: &str,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let words = match split_line(line) {
            Ok(words) => words,
            Err(e) => return writeln!(out, "{e}"),
        };
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let Some((&name, rest)) = args.split_first() else {
            return Ok(());
        };
        let Some(cmd) = self.find(name) else {
            return writeln!(
                out,
                "Unknown command: {name}\nType 'help' to list the commands."
            );
        };
        if rest.len() < cmd.min_args || rest.len() > cmd.max_args {
            return writeln!(out, "Usage: {}", cmd.usage);
        }
        if cmd.name == HELP.name {
            return self.help(rest.first().copied(), out);
        }
        (cmd.handler)(ctx, rest, out)
    }

    fn help(&self, topic: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
        match topic {
            None => {
                writeln!(out, "Available commands:")?;
                let width = self
                    .commands
                    .iter()
                    .map(|c| c.usage.len())
                    .max()
                    .unwrap_or(0);
                for c in &self.commands {
                    let summary = c
                        .help
                        .split(". ")
                        .next()
                        .unwrap_or(c.help)
                        .trim_end_matches('.');
                    writeln!(out, "  {:width$}  {summary}.", c.usage)?;
                }
                writeln!(out, "Type 'help command' for details.")
            }
            Some(name) => match self.find(name) {
                Some(c) => writeln!(out, "{}\n  {}", c.usage, c.help),
                None => writeln!(out, "Unknown command: {name}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fake {
        options: String,
        quit: bool,
        applied: Vec<String>,
    }

    impl MonitorContext for Fake {
        fn log_options(&self) -> String {
            format!("options: {}", self.options)
        }
        fn set_log_options(&mut self, options: &str) -> Result<(), String> {
            if options.contains("bad") {
                return Err(format!("log_options: unknown layer 'bad' in '{options}'"));
            }
            self.applied.push(options.to_owned());
            self.options = options.to_owned();
            Ok(())
        }
        fn users(&self, out: &mut dyn Write) -> io::Result<()> {
            writeln!(out, "IMPI 001010123456789 registered")
        }
        fn request_quit(&mut self) {
            self.quit = true;
        }
    }

    fn run(m: &Monitor, ctx: &mut Fake, line: &str) -> String {
        let mut out = Vec::new();
        m.execute(ctx, line, &mut out).expect("Vec write");
        String::from_utf8(out).expect("utf8 output")
    }

    #[test]
    fn help_lists_every_command() {
        let m = Monitor::new();
        let text = run(&m, &mut Fake::default(), "help");
        assert!(text.starts_with("Available commands:\n"));
        for usage in ["help [command]", "log [log_options]", "users", "quit"] {
            assert!(
                text.contains(&format!("  {usage} ")),
                "{usage} missing in {text}"
            );
        }
    }

    #[test]
    fn help_command_shows_usage() {
        let m = Monitor::new();
        let text = run(&m, &mut Fake::default(), "help log");
        assert!(
            text.starts_with("log [log_options]\n  Without argument, show the current log state.")
        );
        assert_eq!(
            run(&m, &mut Fake::default(), "help nope"),
            "Unknown command: nope\n"
        );
        assert_eq!(
            run(&m, &mut Fake::default(), "help a b"),
            "Usage: help [command]\n"
        );
    }

    #[test]
    fn unknown_command() {
        let m = Monitor::new();
        assert_eq!(
            run(&m, &mut Fake::default(), "foo bar"),
            "Unknown command: foo\nType 'help' to list the commands.\n"
        );
        assert_eq!(run(&m, &mut Fake::default(), "   "), "");
        assert_eq!(
            run(&m, &mut Fake::default(), "log \"x"),
            "Unterminated quote\n"
        );
    }

    #[test]
    fn log_shows_and_sets() {
        let m = Monitor::new();
        let mut ctx = Fake {
            options: "sip.level=info".into(),
            ..Fake::default()
        };
        assert_eq!(run(&m, &mut ctx, "log"), "options: sip.level=info\n");
        assert_eq!(run(&m, &mut ctx, "log sip.level=debug ims.level=info"), "");
        assert_eq!(ctx.applied, ["sip.level=debug,ims.level=info"]);
        assert_eq!(
            run(&m, &mut ctx, "log bad.level=debug"),
            "log_options: unknown layer 'bad' in 'bad.level=debug'\n"
        );
        assert_eq!(ctx.options, "sip.level=debug,ims.level=info");
    }

    #[test]
    fn quoting_reaches_handlers() {
        let m = Monitor::new();
        let mut ctx = Fake::default();
        run(&m, &mut ctx, r#"log "file.path=/tmp/my logs""#);
        assert_eq!(ctx.applied, ["file.path=/tmp/my logs"]);
    }

    #[test]
    fn users_quit_and_arity() {
        let m = Monitor::new();
        let mut ctx = Fake::default();
        assert_eq!(
            run(&m, &mut ctx, "users"),
            "IMPI 001010123456789 registered\n"
        );
        assert_eq!(run(&m, &mut ctx, "quit now"), "Usage: quit\n");
        assert!(!ctx.quit);
        run(&m, &mut ctx, "quit");
        assert!(ctx.quit);
    }

    #[test]
    fn registry_is_extensible_and_checked() {
        fn echo(_: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
            writeln!(out, "{}", args.join("|"))
        }
        let cmd = Command {
            name: "echo",
            usage: "echo a b",
            help: "Send an SMS.",
            min_args: 2,
            max_args: 2,
            handler: echo,
        };
        let mut m = Monitor::new();
        m.register(cmd).expect("new name");
        assert!(m.register(cmd).is_err(), "duplicate");
        let mut ctx = Fake::default();
        assert_eq!(
            run(&m, &mut ctx, r#"echo 0600000001 "hi there""#),
            "0600000001|hi there\n"
        );
        assert_eq!(
            run(&m, &mut ctx, "echo 0600000001"),
            "Usage: echo a b\n"
        );
        let help = run(&m, &mut ctx, "help");
        assert!(
            help.lines().any(|l| l.trim_start().starts_with("echo a b") && l.trim_end().ends_with("Send an SMS.")),
            "{help}"
        );
    }
}
