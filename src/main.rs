//! The `memanim` binary: parses the command line, opens files, calls the library, prints warnings
//! and chooses the exit code (0 written, 1 failed, 2 usage error from clap).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser as _;
use memanim::cli::{CaptureArgs, Cli, Command, LookArgs};
use memanim::serial::{CaptureOptions, FileMode, Stop};
use memanim::{Error, Output, Warnings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    memanim::interrupt::install();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memanim: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn open(path: &Path) -> memanim::Result<(Box<dyn BufRead>, String)> {
    let name = path.display().to_string();
    if name == "-" {
        return Ok((
            Box::new(BufReader::with_capacity(1 << 18, io::stdin())),
            name,
        ));
    }
    let read_err = |source| Error::Read {
        path: name.clone(),
        source,
    };
    if path.is_dir() {
        return Err(read_err(io::Error::other(
            "it is a directory, not a capture file",
        )));
    }
    let file = File::open(path).map_err(read_err)?;
    Ok((Box::new(BufReader::with_capacity(1 << 18, file)), name))
}

fn print_warnings(source: &str, warnings: &Warnings) {
    if warnings.is_empty() {
        return;
    }
    for line in warnings.report(source) {
        eprintln!("memanim: warning: {line}");
    }
    eprintln!("memanim: {} warning(s) in {source}", warnings.total());
}

fn run(cli: Cli) -> memanim::Result<()> {
    match cli.command {
        Some(Command::Info(args)) => {
            let (reader, name) = open(&args.capture)?;
            let (capture, warnings) = memanim::parse(reader, &name, &args.parse.to_options())?;
            let info = memanim::info::summarize(&capture, &warnings);
            let text = if args.json {
                info.to_json()
            } else {
                info.to_text()
            };
            let mut out = io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            Ok(())
        }
        Some(Command::Capture(args)) => capture(*args),
        Some(Command::Diff(args)) => {
            if args.at.len() != 2 {
                return Err(Error::Options(format!(
                    "diff compares two times: give --at twice (got {})",
                    args.at.len()
                )));
            }
            let (reader, name) = open(&args.capture)?;
            let (capture, warnings) = memanim::parse(reader, &name, &args.parse.to_options())?;
            print_warnings(&name, &warnings);
            let schedule = memanim::timeline::resolve(&capture, &Default::default());
            let a = memanim::timeline::frame_at(&schedule, args.at[0]);
            let b = memanim::timeline::frame_at(&schedule, args.at[1]);
            let text = memanim::diff::write_diff(
                &capture,
                &schedule,
                a,
                b,
                &Default::default(),
                &args.output,
            )?;
            print!("{text}");
            eprintln!("memanim: wrote {}", args.output.display());
            Ok(())
        }
        Some(Command::Plot(args)) => {
            // Refuse a wrong extension before reading a long capture.
            memanim::plot::PlotFormat::from_path(&args.output)?;
            let (reader, name) = open(&args.capture)?;
            let (capture, warnings) = memanim::parse(reader, &name, &args.parse.to_options())?;
            print_warnings(&name, &warnings);
            let stats = memanim::stats::compute(&capture, None);
            let opts = memanim::plot::PlotOptions {
                width: args.width,
                height: args.height,
                from: args.from,
                to: args.to,
            };
            let shown = memanim::plot::write_plot(&stats, &capture.source, &args.output, &opts)?;
            eprintln!(
                "memanim: wrote {} ({shown} snapshots)",
                args.output.display()
            );
            Ok(())
        }
        Some(Command::Stats(args)) => {
            let (reader, name) = open(&args.capture)?;
            let (capture, warnings) = memanim::parse(reader, &name, &args.parse.to_options())?;
            print_warnings(&name, &warnings);
            let stats = memanim::stats::compute(&capture, args.parse.every);
            let text = if args.csv {
                stats.to_csv()
            } else if args.json {
                stats.to_json()
            } else {
                stats.to_text()
            };
            let mut out = io::stdout().lock();
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            Ok(())
        }
        None => {
            let args = cli.render;
            match (&args.capture, &args.output) {
                (Some(c), Some(o)) => render(c, o, &args.look, args.force),
                _ => Err(Error::Options(
                    "a capture file and -o OUTPUT are needed".into(),
                )),
            }
        }
    }
}

/// Parses `capture_path` and writes `out_path`: the render command, and `capture --render`.
fn render(
    capture_path: &Path,
    out_path: &Path,
    look: &LookArgs,
    force: bool,
) -> memanim::Result<()> {
    let options = look.to_options();
    let output = Output::choose(
        out_path,
        look.format.map(Into::into),
        options.selection.is_still(),
        look.fps,
        force,
    )
    .map_err(Error::Options)?;
    // Options that have no effect on this output are said so, not silently ignored.
    if let (Some(fps), false) = (look.fps, matches!(output, Output::Y4m { .. })) {
        if fps > memanim::options::DEFAULT_FPS {
            eprintln!("memanim: warning: --fps {fps}: GIF and PNG frames are at most 50 per second; using 50");
        }
    }
    if look.loop_count != 0 && !matches!(output, Output::Gif(_)) {
        eprintln!("memanim: warning: --loop applies to GIFs only; ignored");
    }
    if matches!(output, Output::Still(..)) && (look.speed != 1.0 || look.loop_count != 0) {
        eprintln!("memanim: warning: --speed and --loop have no effect on a single frame");
    }
    let (reader, name) = open(capture_path)?;
    let (capture, warnings) = memanim::parse(reader, &name, &options.parse)?;
    print_warnings(&name, &warnings);
    let bar = memanim::progress::bar(capture.snapshot_count() as u64, "rendering", look.quiet);
    let result = memanim::render(&capture, &options, &output, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = match result {
        Err(Error::Write { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
            // The reader went away (`| head`): nothing to report.
            return Ok(());
        }
        r => r?,
    };
    if look.quiet {
        return Ok(());
    }
    if let Some((k, n, t)) = report.still {
        eprintln!(
            "memanim: wrote {} (frame {}/{} at +{:.3} s, {}x{} px)",
            report.output,
            k + 1,
            n,
            t as f64 / 1000.0,
            report.width,
            report.height
        );
        return Ok(());
    }
    eprintln!(
        "memanim: wrote {} ({} {}, {}x{} px, {:.1} s)",
        report.output,
        report.written,
        if matches!(output, Output::Y4m { .. }) {
            "video frames"
        } else {
            "frames"
        },
        report.width,
        report.height,
        report.duration_ms / 1000.0
    );
    if let Output::PngSequence { dir, .. } = &output {
        eprintln!(
            "memanim: make a video with: ffmpeg -f concat -i {} -pix_fmt yuv420p out.mp4",
            dir.join(memanim::encode::png::CONCAT_FILE).display()
        );
    }
    Ok(())
}

fn capture(args: CaptureArgs) -> memanim::Result<()> {
    if args.list {
        let ports = memanim::serial::list_ports();
        if ports.is_empty() {
            println!("no serial ports found");
        }
        for (name, what) in ports {
            println!("{name}\t{what}");
        }
        return Ok(());
    }
    let (Some(port), Some(output)) = (args.port.clone(), args.output.clone()) else {
        return Err(Error::Options("capture needs a PORT and -o FILE".into()));
    };
    let mut opts = CaptureOptions::new(port, output);
    opts.baud = args.baud;
    opts.echo = args.echo;
    opts.duration = args.duration.map(std::time::Duration::from_secs_f64);
    opts.dumps = args.dumps;
    opts.reconnect = args.reconnect;
    opts.reset = args.reset;
    opts.mode = match (args.force, args.append) {
        (true, _) => FileMode::Overwrite,
        (_, true) => FileMode::Append,
        _ => FileMode::New,
    };
    if let Some(script) = &args.run {
        opts.run = Some(std::fs::read(script).map_err(|source| Error::Read {
            path: script.display().to_string(),
            source,
        })?);
    }
    let live = !args.look.quiet && io::stderr().is_terminal();
    if !args.look.quiet {
        eprintln!(
            "memanim: recording {} to {} (Ctrl-C stops)",
            opts.port,
            opts.output.display()
        );
    }
    let rec = memanim::serial::record(&opts, &mut |st| {
        if live {
            eprint!("\r\x1b[2K{}", st.line());
        }
    })?;
    memanim::interrupt::reset();
    if live {
        eprintln!();
    }
    if !args.look.quiet {
        let why = match rec.stop {
            Stop::Interrupted => "stopped by Ctrl-C",
            Stop::Duration => "--duration reached",
            Stop::Dumps => "--dumps reached",
            Stop::PortGone => "the port went away",
            Stop::ScriptEnded => "the script ended",
        };
        eprintln!(
            "memanim: {} ({why}): {}",
            rec.path.display(),
            rec.status.line()
        );
    }
    print_warnings(&rec.path.display().to_string(), &rec.warnings);
    if let Some(out) = &args.render {
        render(&rec.path, out, &args.look, false)?;
    }
    Ok(())
}
