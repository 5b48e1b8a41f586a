//! The `memanim` binary: parses the command line, opens files, calls the library, prints warnings
//! and chooses the exit code (0 written, 1 failed, 2 usage error from clap).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser as _;
use memanim::cli::{Cli, Command};
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
        None => {
            let args = cli.render;
            let (capture_path, out_path) = match (&args.capture, &args.output) {
                (Some(c), Some(o)) => (c, o),
                _ => {
                    return Err(Error::Options(
                        "a capture file and -o OUTPUT are needed".into(),
                    ))
                }
            };
            let options = args.to_options();
            let output = Output::choose(
                out_path,
                args.format.map(Into::into),
                options.selection.is_still(),
                args.fps,
                args.force,
            )
            .map_err(Error::Options)?;
            if let (Some(fps), false) = (args.fps, matches!(output, Output::Y4m { .. })) {
                if fps > memanim::options::DEFAULT_FPS {
                    eprintln!("memanim: warning: --fps {fps}: GIF and PNG frames are at most 50 per second; using 50");
                }
            }
            let (reader, name) = open(capture_path)?;
            let (capture, warnings) = memanim::parse(reader, &name, &options.parse)?;
            print_warnings(&name, &warnings);
            let bar =
                memanim::progress::bar(capture.snapshot_count() as u64, "rendering", args.quiet);
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
            if let (false, Some((k, n, t))) = (args.quiet, report.still) {
                eprintln!(
                    "memanim: wrote {} (frame {}/{} at +{:.3} s, {}x{} px)",
                    report.output,
                    k + 1,
                    n,
                    t as f64 / 1000.0,
                    report.width,
                    report.height
                );
            } else if !args.quiet {
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
            }
            Ok(())
        }
    }
}
