//! Built-in monitor commands of section 7: `log`, `users`, `mt_call`, `sms`, `sms_flush` and `quit` (`help` is served by
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

/// `mt_call`.
pub const MT_CALL: Command = Command {
    name: "mt_call",
    usage: "mt_call IMPU [-d duration] [sip_file] [caller]",
    help: "Call the registered UE of IMPU from the network. The UE's media is echoed back; \
           after duration seconds (if given) ringcore hangs up. sip_file: the SDP offered \
           (overrides mt_call_sdp_file); caller: the calling IMPU (asserted when a subscriber).",
    min_args: 1,
    max_args: 5,
    handler: mt_call,
};

/// `sms` (seed 000 7).
pub const SMS: Command = Command {
    name: "sms",
    usage: "sms impi|impu text",
    help: "Send a SMS to the user identified by impi or impu if impi has not been found.",
    min_args: 2,
    max_args: usize::MAX,
    handler: sms,
};

/// `sms_flush` (seed 000 7).
pub const SMS_FLUSH: Command = Command {
    name: "sms_flush",
    usage: "sms_flush impi",
    help: "Flush pending SMS: try to deliver the user's pending SMS now.",
    min_args: 1,
    max_args: 1,
    handler: sms_flush,
};

/// `dialog`.
pub const DIALOG: Command = Command {
    name: "dialog",
    usage: "dialog",
    help: "List the dialogs in progress: relayed calls (server), echo and MT calls, with their \
           state, age, session interval and QoS state per media.",
    min_args: 0,
    max_args: 0,
    handler: dialog,
};

/// `dialog_set`.
pub const DIALOG_SET: Command = Command {
    name: "dialog_set",
    usage: "dialog_set ID stop [cause=N] [protocol=P] [text=...]|hold|answer [CODE]|reinvite [SDP_FILE]|downgrade [audio|video]|media [rtp=on|off] [rtcp=on|off]",
    help: "Act on dialog ID (as listed by dialog): stop ends it (with a Reason header, RFC 3326, \
           when cause, protocol (SIP by default, Q.850) or text is given; text takes the rest of \
           the line), hold puts the UE(s) on hold (re-INVITE with a=sendonly) or resumes a held \
           call, answer sends the 200 (or the final CODE, 200-699) of a ringing echo call (ring_only, remote_control), reinvite \
           re-offers the current SDP (on an MT call, the SDP of SDP_FILE when given), downgrade \
           removes the video (or audio) stream (port 0), media switches RTP and RTCP forwarding \
           (a switch not given is off).",
    min_args: 2,
    // stop's text takes the rest of the line (bounded by the monitor's line length).
    max_args: usize::MAX,
    handler: dialog_set,
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

/// seed 000 7: `mt_call callee [-d duration] [sip_file] [caller]`; a bare
/// number after the callee is a duration too (earlier form).
fn mt_call(ctx: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    let (mut duration, mut file, mut caller) = (None, None, None);
    let mut rest = args.iter().skip(1).copied();
    while let Some(a) = rest.next() {
        let d = if a == "-d" { rest.next().unwrap_or("") } else { a };
        let is_duration = a == "-d" || (duration.is_none() && file.is_none() && a.parse::<f64>().is_ok());
        if is_duration {
            match d.parse::<f64>() {
                Ok(d) if d > 0.0 && d <= 86_400.0 => duration = Some(d),
                _ => return writeln!(out, "mt_call: duration must be a number of seconds in 0..86400"),
            }
        } else if file.is_none() {
            file = Some(a);
        } else if caller.is_none() {
            caller = Some(a);
        } else {
            return writeln!(out, "mt_call: too many arguments");
        }
    }
    match ctx.mt_call(args.first().copied().unwrap_or(""), duration, file, caller) {
        Ok(line) => writeln!(out, "{line}"),
        Err(e) => writeln!(out, "mt_call: {e}"),
    }
}

fn sms(ctx: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    let (user, words) = args.split_first().map_or(("", &[][..]), |(u, w)| (*u, w));
    match ctx.sms(user, &words.join(" ")) {
        Ok(line) => writeln!(out, "{line}"),
        Err(e) => writeln!(out, "sms: {e}"),
    }
}

fn sms_flush(ctx: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    match ctx.sms_flush(args.first().copied().unwrap_or("")) {
        Ok(line) => writeln!(out, "{line}"),
        Err(e) => writeln!(out, "sms_flush: {e}"),
    }
}

fn dialog(ctx: &mut dyn MonitorContext, _args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    ctx.dialogs(out)
}

fn dialog_set(ctx: &mut dyn MonitorContext, args: &[&str], out: &mut dyn Write) -> io::Result<()> {
    let (Some(id), Some(rest)) = (args.first(), args.get(1..)) else { return writeln!(out, "usage: {}", DIALOG_SET.usage) };
    match ctx.dialog_set(id, &rest.join(" ")) {
        Ok(line) => writeln!(out, "{line}"),
        Err(e) => writeln!(out, "dialog_set: {e}"),
    }
}

fn quit(ctx: &mut dyn MonitorContext, _args: &[&str], _out: &mut dyn Write) -> io::Result<()> {
    ctx.request_quit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `mt_call` request: callee, duration, SDP file, caller.
    type MtCallArgs = (String, Option<f64>, Option<String>, Option<String>);

    /// Records the `mt_call` requests.
    #[derive(Default)]
    struct Rec(Vec<MtCallArgs>);

    impl MonitorContext for Rec {
        fn log_options(&self) -> String {
            String::new()
        }
        fn set_log_options(&mut self, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn request_quit(&mut self) {}
        fn mt_call(&mut self, impu: &str, duration: Option<f64>, sdp_file: Option<&str>, caller: Option<&str>) -> Result<String, String> {
            self.0.push((impu.to_owned(), duration, sdp_file.map(str::to_owned), caller.map(str::to_owned)));
            Ok("started".into())
        }
    }

    fn run(args: &[&str]) -> (Rec, String) {
        let (mut rec, mut out) = (Rec::default(), Vec::new());
        mt_call(&mut rec, args, &mut out).expect("writes to memory");
        (rec, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn mt_call_takes_duration_sip_file_and_caller_as_seed_000_section_7_writes_them() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(run(&["sip:ue", "-d", "5", "a.sdp", "sip:boss"]).0 .0, vec![("sip:ue".to_owned(), Some(5.0), s("a.sdp"), s("sip:boss"))]);
        assert_eq!(run(&["sip:ue", "a.sdp"]).0 .0, vec![("sip:ue".to_owned(), None, s("a.sdp"), None)]);
        assert_eq!(run(&["sip:ue", "10"]).0 .0, vec![("sip:ue".to_owned(), Some(10.0), None, None)], "the earlier IMPU duration form");
        let (rec, out) = run(&["sip:ue", "-d", "x"]);
        assert!(rec.0.is_empty() && out.contains("duration must be"), "{out}");
        let (rec, out) = run(&["sip:ue", "a.sdp", "sip:boss", "more"]);
        assert!(rec.0.is_empty() && out.contains("too many arguments"), "{out}");
    }
}
