//! The `memanim` binary: parses the command line, opens files, calls the library, prints warnings
//! and chooses the exit code (the table is `memanim::error::EXIT_CODES`: 0 written, 1 failed,
//! 2 usage error, clap's own errors included).

mod progress;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use memanim::cancel::Cancel;
use memanim::cli::{
    CaptureArgs, Cli, Command, DiffArgs, InfoArgs, ParseArgs, PlotArgs, RenderPlan, StatsArgs,
    WhyArgs,
};
use memanim::record::{CaptureOptions, Event, FileMode};
use memanim::units::{count, play_time, seconds, size};
use memanim::{Error, Output, ParseOptions, RenderReport, Warnings};

fn main() -> ExitCode {
    let cli = match memanim::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        // Prints the error (or the help) and exits with 2 (0 for --help); a closed pipe is ignored.
        Err(e) => e.exit(),
    };
    let interrupts = Interrupts::install();
    match run(cli, &interrupts) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our standard output went away (`memanim info x.log | head`). A C
        // program would be killed by SIGPIPE without a word; Rust ignores SIGPIPE, so the write
        // fails instead. Like ripgrep (crates/core/main.rs), end quietly with 0: the reader took
        // what it wanted, and an error message would only be noise in the pipeline.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            say(&format!("memanim: error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Ctrl-C and SIGTERM (SIGHUP too) cancel the current token, so an interrupted run removes its
/// temporary files and says so instead of dying with half a file on disk. A second signal for
/// the same token ends the process at once, with 130 (128 + SIGINT), as a shell reports Ctrl-C;
/// ctrlc does not say which signal came, so a second SIGTERM ends it with 130 too.
struct Interrupts(Arc<Mutex<Cancel>>);

impl Interrupts {
    fn install() -> Self {
        let current = Arc::new(Mutex::new(Cancel::new()));
        let seen = Arc::clone(&current);
        // Without a handler (it could not be set), a signal ends the process at once, as the
        // second one does.
        let _ = ctrlc::set_handler(move || {
            let token = seen.lock().unwrap_or_else(|e| e.into_inner());
            if token.is_cancelled() {
                std::process::exit(130);
            }
            token.cancel();
        });
        Interrupts(current)
    }

    /// The token the next signal cancels.
    fn token(&self) -> Cancel {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A new token for work that must not take an earlier Ctrl-C as its own: `capture` stops on
    /// Ctrl-C, and the render that follows must not stop on that same Ctrl-C.
    fn fresh(&self) -> Cancel {
        let token = Cancel::new();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = token.clone();
        token
    }
}

/// Writes one line to standard error, ignoring failure. Messages are a side channel: when stderr
/// is closed or full (`2>&1 | head -1`, `2>/dev/full`) they are dropped and the work goes on,
/// where `eprintln!` would panic. ripgrep instead exits at once when stderr's pipe closes; its
/// messages and its results share one terminal, while ours sit beside an output file the user
/// still wants written.
fn say(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Writes the main output of `info`, `stats`, `diff` and `capture --list` to standard output.
/// A failed write (`> /dev/full`) is an error naming it; a closed pipe ends the program quietly
/// (see `main`).
fn print_out(text: &str) -> memanim::Result<()> {
    write_out(|out| out.write_all(text.as_bytes()))
}

/// [`print_out`] for output written piece by piece.
fn write_out(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> memanim::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    f(&mut out)
        .and_then(|_| out.flush())
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })
}

/// Reads a capture: a file where it is, or standard input (`-`), which the library copies to an
/// unnamed temporary file as it reads. Returns the capture, its warnings and its name.
fn read_capture(
    path: &Path,
    options: &memanim::ParseOptions,
) -> memanim::Result<(memanim::Capture, Warnings, String)> {
    let name = path.display().to_string();
    if name == "-" {
        // Read on a thread of its own, a few chunks ahead: the copy out of the pipe then
        // overlaps the parsing.
        let stdin = memanim::capture::ReadAhead::new(io::stdin()).map_err(|e| Error::Read {
            path: name.clone(),
            source: e,
        })?;
        let (c, w) = memanim::parse(stdin, &name, options)?;
        return Ok((c, w, name));
    }
    if path.is_dir() {
        return Err(Error::Read {
            path: name,
            source: io::Error::other("it is a directory, not a capture file"),
        });
    }
    let (c, w) = memanim::parse_path(path, &name, options)?;
    Ok((c, w, name))
}

fn print_warnings(source: &str, warnings: &Warnings) {
    if warnings.is_empty() {
        return;
    }
    for line in warnings.report(source) {
        say(&format!("memanim: warning: {line}"));
    }
    say(&format!(
        "memanim: {} in {source}",
        count(warnings.total(), "warning", "warnings")
    ));
}

fn run(cli: Cli, interrupts: &Interrupts) -> memanim::Result<()> {
    let cancel = interrupts.token();
    match cli.command {
        Some(Command::Info(args)) => info(&args, &cancel),
        Some(Command::Capture(args)) => capture(&args, interrupts),
        Some(Command::Why(args)) => why(&args, &cancel),
        Some(Command::Diff(args)) => diff(&args, &cancel),
        Some(Command::Plot(args)) => plot(&args, &cancel),
        Some(Command::Stats(args)) => stats(&args, &cancel),
        None => {
            let args = cli.render;
            let Some(capture) = &args.capture else {
                return Err(Error::Usage(
                    "a capture file and -o OUTPUT are needed".into(),
                ));
            };
            let plan = args.plan()?;
            plan.output.check_place()?;
            render(capture, plan, args.look.quiet, &cancel)
        }
    }
}

/// The parse options the command line asks for, stopped by `cancel`.
fn parse_options(args: &ParseArgs, cancel: &Cancel) -> ParseOptions {
    ParseOptions {
        cancel: cancel.clone(),
        ..args.to_options()
    }
}

fn info(args: &InfoArgs, cancel: &Cancel) -> memanim::Result<()> {
    let (capture, warnings, _) = read_capture(&args.capture, &parse_options(&args.parse, cancel))?;
    let info = memanim::analysis::info::summarize(&capture, &warnings);
    print_out(&if args.json {
        info.to_json()
    } else {
        info.to_text()
    })
}

fn why(args: &WhyArgs, cancel: &Cancel) -> memanim::Result<()> {
    use memanim::analysis::why;
    let (capture, warnings, name) =
        read_capture(&args.capture, &parse_options(&args.parse, cancel))?;
    print_warnings(&name, &warnings);
    let all: Vec<_> = why::events(&capture)
        .iter()
        .map(|e| why::explain(&capture, e, args.top))
        .collect();
    print_out(&if args.json {
        why::report_json(&capture, &all, args.top)
    } else {
        why::report_text(&capture, &all, args.top)
    })
}

fn diff(args: &DiffArgs, cancel: &Cancel) -> memanim::Result<()> {
    let (points, sort) = args.points()?;
    args.check_output()?;
    let (capture, warnings, name) =
        read_capture(&args.capture, &parse_options(&args.parse, cancel))?;
    print_warnings(&name, &warnings);
    let text = memanim::analysis::diff::diff(&capture, points, sort, &args.output)?;
    say(&format!("memanim: wrote {}", args.output.display()));
    print_out(&text)
}

fn plot(args: &PlotArgs, cancel: &Cancel) -> memanim::Result<()> {
    use memanim::analysis::plot;
    args.check()?;
    let (capture, warnings, name) =
        read_capture(&args.capture, &parse_options(&args.parse, cancel))?;
    print_warnings(&name, &warnings);
    let stats = memanim::analysis::stats::compute(&capture, None);
    let opts = plot::PlotOptions {
        width: args.width,
        height: args.height,
        from: args.from,
        to: args.to,
    };
    let shown = plot::write_plot(&stats, &capture, &args.output, &opts)?;
    say(&format!(
        "memanim: wrote {} ({})",
        args.output.display(),
        count(shown as u64, "snapshot", "snapshots")
    ));
    Ok(())
}

fn stats(args: &StatsArgs, cancel: &Cancel) -> memanim::Result<()> {
    let (capture, warnings, name) =
        read_capture(&args.capture, &parse_options(&args.parse, cancel))?;
    print_warnings(&name, &warnings);
    let stats = memanim::analysis::stats::compute(&capture, args.parse.every);
    // Written as the rows are read: a week of dumps is not held in memory.
    write_out(|out| {
        if args.csv {
            stats.write_csv(&capture, out)
        } else if args.json {
            stats.write_json(&capture, out)
        } else {
            stats.write_text(&capture, out)
        }
    })
}

/// Parses `capture_path` and writes what `plan` says: the render command, and `capture --render`.
/// Everything in `plan` was checked before; its warnings are printed here. `cancel` stops the
/// reading and the render.
fn render(
    capture_path: &Path,
    mut plan: RenderPlan,
    quiet: bool,
    cancel: &Cancel,
) -> memanim::Result<()> {
    plan.options.cancel = cancel.clone();
    plan.options.parse.cancel = cancel.clone();
    for w in &plan.warnings {
        say(&format!("memanim: warning: {w}"));
    }
    let (capture, warnings, name) = read_capture(capture_path, &plan.options.parse)?;
    print_warnings(&name, &warnings);
    if !quiet {
        if let Some(note) = long_play_note(&capture, &plan)? {
            say(&format!("memanim: {note}"));
        }
    }
    let bar = progress::bar(capture.snapshot_count() as u64, "rendering", quiet);
    let result = memanim::render(&capture, &plan.options, &plan.output, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = result?;
    if !quiet {
        for line in render_notes(&report, &plan) {
            say(&format!("memanim: {line}"));
        }
    }
    Ok(())
}

/// Before a long render: how long the GIF will play and how large it will be, and the options
/// that make it postable.
fn long_play_note(
    capture: &memanim::Capture,
    plan: &RenderPlan,
) -> memanim::Result<Option<String>> {
    let long = memanim::share::long_play(capture, &plan.options, &plan.output)?;
    Ok(long.map(|long| {
        format!(
            "this GIF will play for {} ({}) and be about {}; to post it, add \
             --duration 30s (the whole window in 30 s) or --max-size 10M (at most 10 MB)",
            play_time(long.play_ms),
            count(long.frames as u64, "frame", "frames"),
            size(long.bytes)
        )
    }))
}

/// What a finished render says: what was written, then what shaped it (the speed --duration
/// chose, what --max-size chose, snapshots that came too fast), then the ffmpeg command for a
/// frames directory.
fn render_notes(report: &RenderReport, plan: &RenderPlan) -> Vec<String> {
    let dims = format!("{}x{} px", report.width, report.height);
    if let Some((number, of, t)) = report.still {
        return vec![format!(
            "wrote {} (snapshot {number} of {of}, at +{}, {dims}, {})",
            report.output,
            seconds(t as f64),
            size(report.bytes)
        )];
    }
    let frames = if matches!(plan.output, Output::Y4m { .. }) {
        count(report.written as u64, "video frame", "video frames")
    } else {
        count(report.written as u64, "frame", "frames")
    };
    let mut notes = vec![format!(
        "wrote {} ({frames}, {dims}, plays {}, {})",
        report.output,
        play_time(report.duration_ms),
        size(report.bytes)
    )];
    let share = &plan.options.share;
    if let Some(d) = share.duration_ms {
        notes.push(format!(
            "played at {} to fit the window in {} (--duration)",
            speed_text(report.speed),
            play_time(d)
        ));
    }
    notes.extend(report.fit.as_ref().map(|fit| fit.describe()));
    let fitted = share.duration_ms.is_some() || share.max_size.is_some();
    notes.extend(late_note(report).or_else(|| merged_note(report, fitted)));
    if let Output::PngSequence { dir, .. } = &plan.output {
        notes.push(format!(
            "make a video with: ffmpeg -f concat -i {} -pix_fmt yuv420p out.mp4",
            dir.join(memanim::encode::png::CONCAT_FILE).display()
        ));
    }
    notes
}

/// Snapshots that came sooner than a frame interval after the one before, each shown for one
/// interval. Said only when none were merged: frames that start late are then part of the
/// merge note's story.
fn late_note(report: &RenderReport) -> Option<String> {
    if report.late == 0 || report.merged > 0 {
        return None;
    }
    let interval = memanim::units::duration(1000.0 / report.fps);
    Some(format!(
        "{} less than {interval} after the one before, and {} shown for {interval}{}",
        if report.late == 1 {
            "1 snapshot came".to_string()
        } else {
            format!("{} snapshots came", report.late)
        },
        if report.late == 1 { "is" } else { "each is" },
        if report.fps >= memanim::options::DEFAULT_FPS {
            "; to hold each longer, lower --fps (--fps 2: half a second), or pick one with --snapshot N"
        } else {
            ""
        }
    ))
}

/// Snapshots that share a frame with a later one. With --duration or --max-size that is what
/// was asked for: the note says how much, not how to avoid it.
fn merged_note(report: &RenderReport, fitted: bool) -> Option<String> {
    if report.merged == 0 {
        return None;
    }
    let snapshots = count(report.snapshots as u64, "snapshot", "snapshots");
    if fitted {
        return Some(format!(
            "{} of {snapshots} share a frame with a later one (which shows the latest), at {} \
             and at most {} fps; a longer --duration or a larger --max-size keeps more apart",
            report.merged,
            speed_text(report.speed),
            report.fps
        ));
    }
    // What keeps them apart: a higher frame rate while it is below the GIF's 50, and in any
    // case slower playback.
    let fps_advice = if report.fps < memanim::options::DEFAULT_FPS {
        "raise --fps (at most 50) or "
    } else {
        ""
    };
    Some(format!(
        "{} of {snapshots} came faster than {} frames per second{} and share a frame with a \
         later one, which shows the latest; to see each on its own, {fps_advice}lower --speed",
        report.merged,
        report.fps,
        if report.speed != 1.0 {
            format!(" at --speed {}", report.speed)
        } else {
            String::new()
        },
    ))
}

/// A playback speed for messages: `133x speed`, `2.5x speed`, `0.25x speed`.
fn speed_text(speed: f64) -> String {
    let digits = if speed >= 100.0 {
        0
    } else if speed >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{speed:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    format!("{s}x speed")
}

/// `memanim capture`: lists the ports, or records one and renders the capture if asked.
/// Everything that can be refused is refused before the port is opened: the render that follows
/// the recording, the capture file, the script.
fn capture(args: &CaptureArgs, interrupts: &Interrupts) -> memanim::Result<()> {
    if args.list {
        return print_out(&ports_text());
    }
    let mut opts = capture_options(args, interrupts.token())?;
    let plan = match &args.render {
        Some(out) => {
            let plan = args.look.plan(out, false, args.play_time)?;
            plan.output.check_place()?;
            Some(plan)
        }
        None => None,
    };
    memanim::record::check_output(&opts)?;
    opts.run = args.run.as_deref().map(read_script).transpose()?;
    let quiet = args.look.quiet;
    let mut console = Console::new(&opts, quiet, args.echo);
    let rec = memanim::record::record(&opts, || memanim::record::open_serial(&opts), &mut |e| {
        console.show(e)
    })?;
    console.end_status();
    if !quiet {
        say(&format!(
            "memanim: {} ({}): {}",
            rec.path.display(),
            rec.stop.describe(),
            rec.status.line()
        ));
    }
    print_warnings(&rec.path.display().to_string(), &rec.warnings);
    match plan {
        // A fresh token: the Ctrl-C that stopped the recording must not stop the render too.
        Some(plan) => render(&rec.path, plan, quiet, &interrupts.fresh()),
        None => Ok(()),
    }
}

/// `capture --list`: one port a line, name and description, or a line saying there are none.
fn ports_text() -> String {
    let ports = memanim::record::list_ports();
    if ports.is_empty() {
        return "no serial ports found\n".into();
    }
    ports
        .iter()
        .map(|(name, what)| format!("{name}\t{what}\n"))
        .collect()
}

/// The recorder's options from the command line, but the `--run` script (read once the rest
/// was checked).
fn capture_options(args: &CaptureArgs, cancel: Cancel) -> memanim::Result<CaptureOptions> {
    let (Some(port), Some(output)) = (args.port.clone(), args.output.clone()) else {
        return Err(Error::Usage("capture needs a PORT and -o PATH".into()));
    };
    let mut opts = CaptureOptions::new(port, output);
    opts.baud = args.baud;
    opts.duration = args.duration.map(std::time::Duration::from_secs_f64);
    opts.dumps = args.dumps;
    opts.reconnect = args.reconnect;
    opts.reset = args.reset;
    opts.cancel = cancel;
    opts.mode = match (args.force, args.append) {
        (true, _) => FileMode::Overwrite,
        (_, true) => FileMode::Append,
        _ => FileMode::New,
    };
    Ok(opts)
}

fn read_script(path: &Path) -> memanim::Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Shows what the recorder reports: "recording ...", a status line redrawn in place when stderr
/// is a terminal, the port going away, and (`--echo`) the received text on standard output.
struct Console {
    port: String,
    output: String,
    quiet: bool,
    /// Standard error is a terminal and not `--quiet`: the status line is drawn.
    live: bool,
    echo: bool,
    /// A status line is on screen and the next message must start below it.
    status_shown: bool,
}

impl Console {
    fn new(opts: &CaptureOptions, quiet: bool, echo: bool) -> Self {
        Console {
            port: opts.port.clone(),
            output: opts.output.display().to_string(),
            quiet,
            live: !quiet && io::stderr().is_terminal(),
            echo,
            status_shown: false,
        }
    }

    fn show(&mut self, event: Event<'_>) {
        match event {
            Event::Started if !self.quiet => say(&format!(
                "memanim: recording {} to {} (Ctrl-C stops)",
                self.port, self.output
            )),
            Event::Received(data) if self.echo => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(data).and_then(|_| out.flush());
            }
            Event::Status(st) if self.live => {
                let _ = write!(io::stderr().lock(), "\r\x1b[2K{}", st.line());
                self.status_shown = true;
            }
            Event::PortGone { error, waiting } => {
                self.end_status();
                say(&format!(
                    "memanim: {} disappeared ({error}); {}",
                    self.port,
                    if waiting {
                        "waiting for it to come back"
                    } else {
                        "recording stopped"
                    }
                ));
            }
            _ => {}
        }
    }

    /// Ends the status line, so what follows starts on a line of its own.
    fn end_status(&mut self) {
        if std::mem::take(&mut self.status_shown) {
            say("");
        }
    }
}
