//! Built-in monitor commands of section 7: `log`, `users` and `quit` (`help` is served by
//! the monitor itself since it reads the registry).

use std::io::{self, Write};

use super::{Command, MonitorContext};

/// `log [log_options]`.
pub const LOG: Command = Command {
    name: "log",
    usage: "log [log_options]",
    help: "Without argument, show the current log state. With arguments, change the log \
           options; the syntax is that of the log_options configuration property \
           (several arguments are joined with commas).",
    min_args: 0,
    max_args: usize::MAX,
    handler: log,
};

/// `users`.
pub const USERS: Command = Command {
    name: "users",
    usage: "users",
    help: "List the users of the database and their registration state.",
    min_args: 0,
    max_args: 0,
    handler: users,
};

/// `quit`.
pub const QUIT: Command = Command {
    name: "quit",
    usage: "quit",
    help: "Stop ringcore and exit.",
    min_args: 0,
    max_args: 0,
    handler: quit,
};

fn log(ctx: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    if args.is_empty() {
        return writeln!(out, "{}", ctx.log_options());
    }
    match ctx.set_log_options(&args.join(",")) {
        Ok(()) => Ok(()),
        Err(e) => writeln!(out, "{e}"),
    }
}

fn users(ctx: &mut dyn MonitorContext, _args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    ctx.users(out)
}

fn quit(ctx: &mut dyn MonitorContext, _args: &[&str], _out: &mut dyn Write) -> io::Result<()> {
    ctx.request_quit();
    Ok(())
}
