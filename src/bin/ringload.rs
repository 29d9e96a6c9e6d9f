//! ringload: emulates IMS UEs against an IMS core (registrations with AKA or MD5, calls
//! with RTP to an echo IMPU or between UEs) on an open-loop schedule and reports
//! latency histograms. See `ringload --help`.

use std::process::ExitCode;
use std::time::SystemTime;

use ringcore::load::args::{self, Parsed, USAGE};
use ringcore::load::{plot, plot_png, progress::Progress, report, run};

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ringload: {e}");
            return ExitCode::from(2);
        }
    };
    let started = SystemTime::now();
    let mut progress = Progress::new(args.quiet);
    let result = run::run(&args.run, &mut |s| progress.update(s));
    progress.finish();
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ringload: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report::text(&args.run, &r));
    let mut ok = true;
    if let Some(p) = &args.report_json {
        ok &= written("report", p, report::write_json(p, &args.run, &r));
    }
    if let Some(p) = &args.hdr_log {
        ok &= written("hdr log", p, report::write_hdr_log(p, &r, started));
    }
    if let Some(p) = &args.plot {
        let title = format!("ringload: {} UEs against {}", args.run.ues, args.run.target);
        ok &= written("plot", p, write_plot(p, &plot::svg(&r.metrics, &title)));
    }
    let attempted = r.metrics.total_attempted();
    let timeouts = r.metrics.cause(ringcore::load::metrics::Cause::Timeout);
    if attempted > 0 && timeouts == attempted {
        eprintln!("ringload: no answer from {} to any request: is the IMS core running there?", args.run.target);
    }
    if attempted == 0 {
        eprintln!("ringload: nothing was attempted (the run ended before its first action)");
        return ExitCode::from(1);
    }
    if r.metrics.total_failed() > 0 || !ok {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn written(what: &str, path: &std::path::Path, r: std::io::Result<()>) -> bool {
    r.map_err(|e| eprintln!("ringload: writing the {what} to {}: {e}", path.display())).is_ok()
}

/// Writes the chart as SVG, or as PNG when the file name ends in `.png` (checked by args).
fn write_plot(path: &std::path::Path, svg: &str) -> std::io::Result<()> {
    let png = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !png {
        return std::fs::write(path, svg);
    }
    let out = plot_png::render(svg).map_err(std::io::Error::other)?;
    if !out.has_text {
        eprintln!("ringload: no font found, the PNG plot has no labels (apt-get install fonts-dejavu-core)");
    }
    std::fs::write(path, out.bytes)
}
