//! The command line: clap derive types, their help text, and their conversion to library options.
//! Nothing else in the crate imports clap.
//!
//! In go the program's arguments; out comes a [`Cli`] (or a clap error, exit 2), and for a
//! render a [`RenderPlan`]: the [`Output`] kind, the library's [`RenderOptions`], and warnings
//! for options that have no effect. Every value is parsed by `units.rs` (times, sizes) or
//! `options.rs` (cell sizes), so no file is read before a mistyped option is refused.
//!
//! [`parse_from`] is clap plus the two suggestions clap cannot make for this shape of command line
//! (a render is the default command, so a stray word is first taken as a capture file): a
//! misspelt subcommand (`memanim inf run.log`) and a forgotten `-o` (`memanim run.log heap.gif`).
//! [`LookArgs::plan`] and [`DiffArgs::points`] check option combinations in one place, before
//! any file is read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::capture::{ParseOptions, DEFAULT_TICKS_PERIOD, DEFAULT_UNTIMED_EVERY_MS};
use crate::encode::{Format, Output};
use crate::error::{Error, Result, EXIT_CODES};
use crate::options::{
    self, CellSize, ColorBy, RenderOptions, ShareOptions, StyleOptions, TimingOptions,
};
use crate::timeline::Selection;
use crate::units::{self, TimePoint};

/// The exit-code table, as every `--help` prints it (the README has the same table).
pub fn exit_codes_help() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, what) in EXIT_CODES {
        let _ = writeln!(s, "  {code}  {what}");
    }
    s
}

const TIMES_HELP: &str = "\
Times (--from, --to, --at): 12.5 or 12.5s, 500ms, 1m30s, 1h, 30% of the capture, or #12 for
snapshot 12 (every snapshot of the capture in file order, counted from 1 as `info` and `stats`
count them). A time after the end of the capture is an error that says its span.
Durations (--max-idle, --last-frame, --duration, --every): 90 (seconds), 2.5s, 500ms, 1m30s.
Sizes (--max-size): 10M, 1.5M, 256k (k, M = 1000, 1000000 bytes, as hosts state upload
limits: 10M also fits a host that means 10 MiB), 8MiB (Ki, Mi = 1024, 1048576), or bytes.";

const SHARE_HELP: &str = "\
For a bug report or a chat: --duration plays the whole window in that time, --max-size keeps a
GIF under a host's limit (GitHub takes images up to 10 MB). To fit, memanim gives up, in order,
only what it must: frame rate (snapshots merged into fewer frames, down to 1 per second), then
size (--scale down to 1, then cells down to 3 px), then, with --trim only, the start of the
window (the end is kept). It estimates from a sample of frames before writing, says what it
chose, and never writes a file over the limit: if even the smallest settings are too large, it
says how large they come out and writes nothing (exit 1).";

fn top_help() -> String {
    format!(
        "{}
Output (from -o, or --format, which wins over the name):
  heap.gif         animated GIF
  heap.html        interactive report: one page to scrub, hover and click blocks, offline
  frames/          a directory: frame_000001.png, ... and ffconcat.txt with real durations
  snap.png         one frame, with --at TIME, --snapshot N or --frame N (also .webp, .jpg)
  video.y4m, -     Y4M video at a constant --fps (default 25); '-' needs --format

Every snapshot gets a frame, shown at least 1/--fps. Snapshots share a frame only when keeping
them apart would put the animation more than half a second behind the capture (a high --speed),
and the summary then says how many did.

{SHARE_HELP}

{TIMES_HELP}

Examples:
  memanim run.log -o heap.gif                        animate a capture
  memanim run.log -o heap.gif --speed 4              four times faster
  memanim run.log -o heap.html                       a report to explore in a browser
  memanim run.log -o bug.gif --duration 30s --max-size 10M --title 'ESP32 v1.24: leak'
  memanim run.log -o part.gif --from 10s --to 1m30s  only that window
  memanim run.log --at 12.5s -o snap.png             the frame on screen at 12.5 s
  memanim run.log --snapshot 3 -o third.png          the third snapshot
  memanim run.log -o frames/                         PNG frames for ffmpeg
  memanim run.log --format y4m -o - | ffmpeg -i - out.mp4
  memanim info run.log                               what the capture holds
  memanim why run.log                                why MemoryError: exhausted or fragmented",
        exit_codes_help()
    )
}

fn capture_help() -> String {
    format!(
        "{}
Every byte received is written to the capture file at once; Ctrl-C stops recording and keeps it.
The render options below apply to --render OUTPUT.

Examples:
  memanim capture --list                                  serial ports with their USB description
  memanim capture /dev/ttyUSB0 -o run.log                 record until Ctrl-C
  memanim capture /dev/ttyACM0 -o run.log --reset --duration 2m --render heap.gif
  memanim capture /dev/ttyACM0 -o run.log --run app.py    run app.py through the raw REPL, record it",
        exit_codes_help()
    )
}

/// Animate MicroPython heap dumps (micropython.mem_info(1) between @@@ markers) into GIFs,
/// videos and interactive HTML reports.
#[derive(Debug, Parser)]
#[command(
    name = "memanim",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true,
    after_help = top_help()
)]
pub struct Cli {
    /// The subcommand; None renders (`memanim CAPTURE -o OUTPUT`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The render command's arguments (empty with a subcommand).
    #[command(flatten)]
    pub render: RenderArgs,
}

/// The subcommands; rendering is the default command and has none.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a capture: sessions, snapshots, period, heap, peak use, warnings.
    #[command(after_help = exit_codes_help())]
    Info(InfoArgs),
    /// The capture as numbers over time: used, free, largest free block, fragmentation, objects
    /// and bytes per kind; then peak use, the lowest largest free block and a leak estimate.
    #[command(after_help = exit_codes_help())]
    Stats(StatsArgs),
    /// Two snapshots side by side (a PNG), the second with its differences marked, and what was
    /// allocated and freed between them, by kind.
    #[command(after_help = format!("{}\n{TIMES_HELP}", exit_codes_help()))]
    Diff(DiffArgs),
    /// A chart of used memory, free memory and the largest free block over time (PNG or SVG),
    /// with board resets and a leak's fitted line marked.
    #[command(after_help = format!("{}\n{TIMES_HELP}", exit_codes_help()))]
    Plot(PlotArgs),
    /// Why did the app get MemoryError? Each one in the log, explained from the dump before it:
    /// exhausted (not enough free memory) or fragmented (no free run long enough), and the
    /// objects that split the free space.
    Why(WhyArgs),
    /// Record a live board from its serial port to a capture file.
    #[command(after_help = capture_help())]
    Capture(Box<CaptureArgs>),
}

/// `memanim capture`: record a board's serial output, then render it if asked.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The serial port (e.g. /dev/ttyUSB0, /dev/ttyACM0).
    #[arg(required_unless_present = "list")]
    pub port: Option<String>,
    /// The capture file to write (the board's text, as received).
    #[arg(short, long, value_name = "PATH", required_unless_present = "list")]
    pub output: Option<PathBuf>,
    /// List the serial ports and exit.
    #[arg(long)]
    pub list: bool,
    /// Baud rate.
    #[arg(long, default_value_t = crate::record::DEFAULT_BAUD)]
    pub baud: u32,
    /// Also print what the board sends to standard output.
    #[arg(long)]
    pub echo: bool,
    /// Stop after this long (e.g. 90s, 2m, 1h30m).
    #[arg(long, value_name = "TIME", value_parser = units::parse_positive_seconds)]
    pub duration: Option<f64>,
    /// Stop after this many complete dumps.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub dumps: Option<u64>,
    /// When the port disappears (USB unplugged), wait for it and go on appending.
    #[arg(long)]
    pub reconnect: bool,
    /// Stop the running program (Ctrl-C) and soft-reset the board (Ctrl-D) before recording.
    #[arg(long)]
    pub reset: bool,
    /// Run this script on the board through the raw REPL and record its output.
    #[arg(long, value_name = "SCRIPT")]
    pub run: Option<PathBuf>,
    /// Replace an existing capture file.
    #[arg(long, conflicts_with = "append")]
    pub force: bool,
    /// Add to an existing capture file.
    #[arg(long)]
    pub append: bool,
    /// Render the capture when recording stops: a .gif, a frames directory, a .png with --at, ...
    /// (checked before recording starts).
    #[arg(long, value_name = "OUTPUT")]
    pub render: Option<PathBuf>,
    /// The rendering plays the whole capture in this time, last frame included (e.g. 30s):
    /// what --duration is when rendering (here --duration is how long to record).
    #[arg(long, value_name = "TIME", value_parser = units::parse_positive_seconds, conflicts_with = "speed", requires = "render")]
    pub play_time: Option<f64>,
    /// How `--render` chooses, times and draws frames.
    #[command(flatten)]
    pub look: LookArgs,
}

/// `memanim info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

/// `memanim why`.
#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// Print JSON: {"events": [...]}.
    #[arg(long)]
    pub json: bool,
    /// Pinning objects listed per MemoryError.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

/// `memanim diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// A snapshot to compare, by time or as #N; give two (--at 5s --at 60s, --at '#3' --at '#4').
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub at: Vec<TimePoint>,
    /// A snapshot to compare by its number (1-based, as `info` counts them); same as --at '#N'.
    #[arg(long, value_name = "N", value_parser = counted_from_one)]
    pub snapshot: Vec<u64>,
    /// The image to write (.png).
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

impl DiffArgs {
    /// The two snapshots to compare, in the order given. With one `--at` and one `--snapshot`,
    /// the order between them is not known: the earlier is compared with the later.
    pub fn points(&self) -> Result<([TimePoint; 2], bool)> {
        let points: Vec<TimePoint> = self
            .at
            .iter()
            .copied()
            .chain(
                self.snapshot
                    .iter()
                    .map(|&n| TimePoint::Snapshot(n as usize)),
            )
            .collect();
        match points[..] {
            [a, b] => Ok(([a, b], !self.at.is_empty() && !self.snapshot.is_empty())),
            _ => Err(Error::Usage(format!(
                "--at/--snapshot: diff compares two snapshots: give --at (a time or #N) or --snapshot N twice, \
                 e.g. --at 5s --at 60s (got {})",
                points.len()
            ))),
        }
    }

    /// Checks the output name before the capture is read: diff writes a PNG.
    pub fn check_output(&self) -> Result<()> {
        let ext = self
            .output
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() == Some("png") {
            crate::encode::atomic::check_dest(&self.output).map(|_| ())
        } else {
            Err(Error::Usage(format!(
                "-o {}: diff writes a PNG image: name the output NAME.png",
                self.output.display()
            )))
        }
    }
}

/// `memanim stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// Print CSV.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

/// `memanim plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// The chart: a .png or an .svg.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// Width (px).
    #[arg(long, value_name = "PX", default_value_t = 1200, value_parser = clap::value_parser!(u32).range(200..=16000))]
    pub width: u32,
    /// Height (px).
    #[arg(long, value_name = "PX", default_value_t = 600, value_parser = clap::value_parser!(u32).range(150..=16000))]
    pub height: u32,
    /// Start of the time window (e.g. 10s, 1m30s, 30%, #12).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub from: Option<TimePoint>,
    /// End of the time window.
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub to: Option<TimePoint>,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

impl PlotArgs {
    /// Refuses what the command line alone shows to be wrong (the chart's name, where it goes,
    /// a window that ends before it starts) before a long capture is read.
    pub fn check(&self) -> Result<()> {
        crate::analysis::plot::PlotFormat::from_path(&self.output)?;
        crate::encode::atomic::check_dest(&self.output)?;
        crate::timeline::check_order(self.from, self.to)
    }
}

/// How a capture is read: every command takes these.
#[derive(Debug, Args, Clone)]
pub struct ParseArgs {
    /// Period at which ticks_ms wraps, in ms or as a duration (2^30 ms on boards; a 2^29 wrap and 64-bit unix values are detected).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TICKS_PERIOD, value_parser = units::parse_period_ms)]
    pub ticks_period: u64,
    /// One snapshot per this much time (e.g. 2s, 1m): dumps pasted without a time are placed
    /// this far apart (default 1s); of a timed capture, the first snapshot at or after each
    /// multiple is kept (frames, and stats rows).
    #[arg(long, value_name = "TIME", value_parser = units::parse_positive_seconds)]
    pub every: Option<f64>,
}

/// The render command: `memanim CAPTURE -o OUTPUT [options]`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The capture file ('-' for stdin).
    #[arg(required = true)]
    pub capture: Option<PathBuf>,
    /// Words after the capture: never valid, caught to say what was meant (`-o heap.gif`).
    #[arg(hide = true)]
    pub stray: Vec<String>,
    /// Output: a .gif, an .html report, a directory for PNG frames, a .png, .webp or .jpg (one
    /// frame, with --at, --snapshot or --frame), a .y4m, or '-' (standard output, with --format).
    #[arg(short, long, value_name = "PATH", required = true)]
    pub output: Option<PathBuf>,
    /// Replace the frames in a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Play the whole window in this time, last frame included (e.g. 30s, 1m): the speed is
    /// chosen for it, after idle gaps are shortened (--max-idle). The last frame is held
    /// --last-frame, or 3 s but at most a tenth of the time.
    #[arg(long, visible_alias = "play-time", value_name = "TIME", value_parser = units::parse_positive_seconds, conflicts_with = "speed")]
    pub duration: Option<f64>,
    /// How frames are chosen, timed and drawn.
    #[command(flatten)]
    pub look: LookArgs,
}

impl RenderArgs {
    /// [`LookArgs::plan`] for the render command: its output, `--force` and `--duration`.
    pub fn plan(&self) -> Result<RenderPlan> {
        let out = self
            .output
            .as_deref()
            .ok_or_else(|| Error::Usage("a capture file and -o OUTPUT are needed".into()))?;
        self.look.plan(out, self.force, self.duration)
    }
}

/// How frames are chosen, timed and drawn: shared by rendering and `capture --render`, so the help
/// speaks of "the output", never of `-o` (which names the capture file in `capture`).
#[derive(Debug, Args)]
pub struct LookArgs {
    /// Output format, when the output's name does not say it (needed for '-'). It always wins
    /// over the name's extension.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Start of the time window (e.g. 10s, 1m30s, 30%, #12).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub from: Option<TimePoint>,
    /// End of the time window.
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub to: Option<TimePoint>,
    /// Write one frame as an image (.png, .webp, .jpg): the snapshot on screen at this time (or #N).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse, conflicts_with_all = ["frame", "snapshot"])]
    pub at: Option<TimePoint>,
    /// Write one frame as an image (.png, .webp, .jpg): snapshot N (1-based, every snapshot of the capture in file
    /// order, as `info` and `stats` count them; the frame's status line shows it).
    #[arg(long, value_name = "N", value_parser = counted_from_one, conflicts_with = "frame")]
    pub snapshot: Option<u64>,
    /// Write one frame as an image (.png, .webp, .jpg): the Nth frame of the animation (frame_00000N.png of the frames).
    #[arg(long, value_name = "N", value_parser = counted_from_one)]
    pub frame: Option<u64>,
    /// Blocks per grid row [default: 64, or more to fit a large heap].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub columns: Option<u32>,
    /// Cell size in pixels: 8 (a brick 8 wide, 4 tall) or 8x8 [default: the largest that fits about 1280 px].
    #[arg(long, value_name = "PX", value_parser = CellSize::parse)]
    pub cell: Option<CellSize>,
    /// Scale cells, text and margins by this factor.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub scale: u32,
    /// Log lines shown under the heap map (0 hides them).
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_LOG_LINES)]
    pub log_lines: usize,
    /// Playback speed (2 = twice as fast; from above 0 to 10000).
    #[arg(long, value_name = "X", default_value_t = options::DEFAULT_SPEED, value_parser = speed)]
    pub speed: f64,
    /// Shorten gaps between snapshots to at most this long (e.g. 5, 2.5s, 1m30s; 0 = no limit).
    #[arg(long, value_name = "TIME", default_value_t = options::DEFAULT_MAX_IDLE_S, value_parser = units::parse_seconds)]
    pub max_idle: f64,
    /// GIF and PNG frames: at most this many per second (default and at most 50, all a GIF can
    /// show); snapshots that come faster for long share frames, and the summary says how many.
    /// Y4M: the video's frame rate (default 25, at most 120).
    #[arg(long, value_name = "FPS", value_parser = fps)]
    pub fps: Option<f64>,
    /// How long the last frame is held before the GIF loops (e.g. 3, 500ms) [default: 3s; with
    /// --duration, at most a tenth of it].
    #[arg(long, value_name = "TIME", value_parser = units::parse_seconds)]
    pub last_frame: Option<f64>,
    /// How many times the GIF plays (0 = forever).
    #[arg(long = "loop", value_name = "N", default_value_t = 0)]
    pub loop_count: u16,
    /// Do not mark the blocks allocated or freed since the previous frame.
    #[arg(long)]
    pub no_changes: bool,
    /// Do not draw the timeline strip (used and largest free block over time) under the map.
    #[arg(long)]
    pub no_timeline: bool,
    /// One cell per block even for a heap of more than 16,384 blocks, which animations
    /// otherwise show a few blocks a cell (pale: partly free). Stills and reports are exact.
    #[arg(long)]
    pub exact: bool,
    /// Colour used blocks by the kind of their object, or by how long it has lived (age: an
    /// object is the same while its place, kind and length stay; the oldest are brightest).
    #[arg(long, value_name = "BY", default_value = "kind")]
    pub color: ColorArg,
    /// GIF: write at most this many bytes (e.g. 10M, 256k; M = 1000000). Frame rate, then scale
    /// and cell size, then (with --trim) the start of the window are given up, in that order, as
    /// far as needed; the summary says what.
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    pub max_size: Option<u64>,
    /// With --max-size: when the lowest frame rate and the smallest cells are still too large,
    /// keep only the end of the window (its start is dropped).
    #[arg(long, requires = "max_size")]
    pub trim: bool,
    /// A title line drawn at the top of every frame (the board, the firmware, the bug), as given.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Refuse to write more frames than this (video frames for Y4M).
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_MAX_FRAMES, value_parser = clap::value_parser!(u64).range(1..).map(|n| n as usize))]
    pub max_frames: usize,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// How the capture is read.
    #[command(flatten)]
    pub parse: ParseArgs,
}

impl ParseArgs {
    /// The library's parse options: `--every` (seconds) spaces untimed dumps, in whole ms.
    pub fn to_options(&self) -> ParseOptions {
        ParseOptions {
            ticks_period: self.ticks_period.max(2),
            untimed_every_ms: self.every.map_or(DEFAULT_UNTIMED_EVERY_MS, |s| {
                ((s * 1000.0).round() as i64).max(1)
            }),
            ..ParseOptions::default()
        }
    }
}

/// A render as the command line asks for it, checked before any file is read.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    /// What to write, as `-o` and `--format` say.
    pub output: Output,
    /// Everything else the library needs to render.
    pub options: RenderOptions,
    /// Options that have no effect on this output, said rather than silently ignored.
    pub warnings: Vec<String>,
}

impl LookArgs {
    /// One frame was asked for (`--at`, `--snapshot`, `--frame`).
    pub fn is_still(&self) -> bool {
        self.at.is_some() || self.snapshot.is_some() || self.frame.is_some()
    }

    /// Checks these options against each other and against the output `out` (the one place
    /// that does), and turns them into the output kind and the library's options. `force`
    /// replaces a frames directory; `play_s` is the play time asked for (`--duration` when
    /// rendering, `--play-time` for `capture --render`), in seconds. Nothing is read or written.
    pub fn plan(&self, out: &Path, force: bool, play_s: Option<f64>) -> Result<RenderPlan> {
        let output = Output::choose(
            out,
            self.format.map(Into::into),
            self.is_still(),
            self.fps,
            force,
        )?;
        let mut warnings: Vec<String> = [
            self.format_overrides_name(out, &output),
            self.fps_capped(&output),
            self.without_effect(&output, play_s),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.check_max_size(&output)?;
        let play_ms = play_s.map(|s| s * 1000.0);
        let last_frame_ms = self.last_frame_ms(play_ms, &output)?;
        crate::timeline::check_order(self.from, self.to)?;
        let title = self.title.as_ref().map(|t| clean_title(t, &mut warnings));
        if force && !matches!(output, Output::PngSequence { .. }) {
            warnings.push(
                "--force only matters for a directory of frames (a file is always replaced whole); ignored"
                    .into(),
            );
        }
        let options = RenderOptions {
            parse: self.parse.to_options(),
            timing: self.timing(&output, last_frame_ms),
            style: self.style(title),
            share: ShareOptions {
                duration_ms: play_ms,
                max_size: self.max_size,
                trim: self.trim,
            },
            loop_count: self.loop_count,
            max_frames: self.max_frames,
            jobs: self.jobs.map(|j| j as usize),
            selection: self.selection(),
            ..RenderOptions::default()
        };
        Ok(RenderPlan {
            output,
            options,
            warnings,
        })
    }

    /// `-o x.gif --format png`: --format wins, and the warning says the name says otherwise.
    fn format_overrides_name(&self, out: &Path, output: &Output) -> Option<String> {
        let named = out
            .extension()
            .and_then(|e| e.to_str())
            .and_then(|e| Format::from_extension(&e.to_ascii_lowercase()))?;
        let asked = Format::from(self.format?);
        (asked != named).then(|| {
            format!(
                "--format {} writes {} named {}, whatever its .{} extension says",
                asked.name(),
                match output {
                    Output::PngSequence { .. } => "a directory of PNG frames",
                    Output::Still(..) => "one image",
                    _ => "the output",
                },
                out.display(),
                named.name()
            )
        })
    }

    /// The warning for an `--fps` above what GIF and PNG frames show (a Y4M video takes it).
    fn fps_capped(&self, output: &Output) -> Option<String> {
        let fps = self.fps.filter(|&f| f > options::DEFAULT_FPS)?;
        (!matches!(output, Output::Y4m { .. })).then(|| {
            format!(
                "--fps {fps}: GIF and PNG frames show at most {} per second; using {}",
                options::DEFAULT_FPS,
                options::DEFAULT_FPS
            )
        })
    }

    /// The warning for options given that `output` does not use: timing on a single frame,
    /// `--loop` on anything but a GIF.
    fn without_effect(&self, output: &Output, play_s: Option<f64>) -> Option<String> {
        match output {
            Output::Still(..) => {
                let timing: Vec<&str> = [
                    (self.speed != options::DEFAULT_SPEED, "--speed"),
                    (self.fps.is_some(), "--fps"),
                    (self.loop_count != 0, "--loop"),
                    (self.last_frame.is_some(), "--last-frame"),
                    (self.max_idle != options::DEFAULT_MAX_IDLE_S, "--max-idle"),
                    (play_s.is_some(), "--duration"),
                ]
                .into_iter()
                .filter_map(|(given, name)| given.then_some(name))
                .collect();
                (!timing.is_empty()).then(|| {
                    format!(
                        "{} {} no effect on a single frame",
                        timing.join(", "),
                        if timing.len() == 1 { "has" } else { "have" }
                    )
                })
            }
            Output::Gif(_) => None,
            _ if self.loop_count != 0 => Some("--loop applies to GIFs only; ignored".into()),
            _ => None,
        }
    }

    /// Refuses `--max-size` for anything but a GIF.
    fn check_max_size(&self, output: &Output) -> Result<()> {
        if self.max_size.is_none() || matches!(output, Output::Gif(_)) {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "--max-size applies to GIFs, not to {}: write a .gif, or leave --max-size out \
             (frames and video are sized by the tool that encodes them)",
            match output {
                Output::Still(..) => "a single image",
                Output::PngSequence { .. } => "a directory of PNG frames",
                Output::Html(_) => "an HTML report",
                _ => "Y4M video",
            }
        )))
    }

    /// How long the last frame is held (ms): `--last-frame`, else the share of the play time
    /// `play_ms` that [`crate::share::default_hold_ms`] gives, else the default. A `--last-frame`
    /// that takes all of `--duration` is refused (a still has no play time to take).
    fn last_frame_ms(&self, play_ms: Option<f64>, output: &Output) -> Result<f64> {
        let hold = match (self.last_frame, play_ms) {
            (Some(s), _) => s * 1000.0,
            (None, Some(play)) => crate::share::default_hold_ms(play),
            (None, None) => options::DEFAULT_LAST_FRAME_S * 1000.0,
        };
        match (play_ms, self.last_frame) {
            (Some(play), Some(_)) if hold >= play && !matches!(output, Output::Still(..)) => {
                Err(Error::Usage(format!(
                    "--duration {} leaves no time to play: --last-frame {} alone takes it",
                    units::seconds(play),
                    units::seconds(hold)
                )))
            }
            _ => Ok(hold),
        }
    }

    /// The timing options; the frame rate is the video's for Y4M (more distinct frames than it
    /// shows cannot be seen), and at most [`options::DEFAULT_FPS`] for frames.
    fn timing(&self, output: &Output, last_frame_ms: f64) -> TimingOptions {
        let fps = match output {
            Output::Y4m { fps, .. } => *fps,
            _ => self.fps.unwrap_or(options::DEFAULT_FPS),
        };
        TimingOptions {
            speed: self.speed,
            max_idle_ms: (self.max_idle > 0.0).then_some(self.max_idle * 1000.0),
            fps: fps.min(options::DEFAULT_FPS),
            last_frame_ms,
            every_ms: self.parse.every.map(|s| s * 1000.0),
            merge: true,
            play_ms: None,
            keep: Vec::new(),
        }
    }

    /// How frames look, with the title as [`clean_title`] made it.
    fn style(&self, title: Option<String>) -> StyleOptions {
        StyleOptions {
            columns: self.columns,
            cell: self.cell,
            scale: self.scale,
            log_lines: self.log_lines,
            show_changes: !self.no_changes,
            timeline: !self.no_timeline,
            color: match self.color {
                ColorArg::Kind => ColorBy::Kind,
                ColorArg::Age => ColorBy::Age,
            },
            title,
            exact: self.exact,
            ..StyleOptions::default()
        }
    }

    /// The window and the one frame asked for: `--snapshot N` is `--at #N`.
    fn selection(&self) -> Selection {
        Selection {
            from: self.from,
            to: self.to,
            at: self
                .at
                .or(self.snapshot.map(|n| TimePoint::Snapshot(n as usize))),
            frame: self.frame.map(|n| n as usize),
        }
    }
}

/// The most characters of a `--title` every frame shows whole (frames are at least 96
/// characters wide, margins aside).
pub const TITLE_CHARS: usize = 96;

/// `--title` as it is drawn: line breaks and tabs become spaces and other control characters
/// U+FFFD, so one line of text is drawn exactly as typed (nothing in it is interpreted). What
/// cannot be drawn as given is said in `warnings`.
fn clean_title(raw: &str, warnings: &mut Vec<String>) -> String {
    let title: String = raw
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    if title.contains('\u{fffd}') && !raw.contains('\u{fffd}') {
        warnings.push("--title: control characters are drawn as \u{fffd}".into());
    }
    let missing = crate::render::text::undrawable(&title);
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().take(10).map(|c| format!("'{c}'")).collect();
        warnings.push(format!(
            "--title: the font has no glyph for {}; drawn as '?'",
            list.join(" ")
        ));
    }
    let n = title.chars().count();
    if n > TITLE_CHARS {
        warnings.push(format!(
            "--title is {n} characters; a frame this size may show only the first {TITLE_CHARS} or so (the rest is cut with '…')"
        ));
    }
    title
}

/// `--color`: `kind` (the kind of a block's object) or `age` (how long it has lived), as
/// [`ColorBy`] says. The variants have no doc comments of their own: clap would print them
/// as a list of possible values in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    Kind,
    Age,
}

/// `--format`: one variant per [`Format`], named as `--format` takes it (`jpg` is `jpeg`). As
/// for [`ColorArg`], the variants carry no doc comments, which clap would print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Gif,
    Png,
    Y4m,
    Html,
    Webp,
    #[value(alias = "jpg")]
    Jpeg,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Gif => Format::Gif,
            FormatArg::Png => Format::Png,
            FormatArg::Y4m => Format::Y4m,
            FormatArg::Html => Format::Html,
            FormatArg::Webp => Format::Webp,
            FormatArg::Jpeg => Format::Jpeg,
        }
    }
}

fn speed(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 10_000.0 => Ok(v),
        _ => Err(format!(
            "'{s}': give a speed above 0 and at most 10000 (2 = twice as fast, 0.5 = half)"
        )),
    }
}

/// `--snapshot N`, `--frame N`: counted from 1, as `info` and the frames' status line count.
fn counted_from_one(s: &str) -> std::result::Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("they are counted from 1 (the first is 1, as `memanim info` counts)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number (1, 2, ...)")),
    }
}

/// The most frames per second `--fps` takes (a Y4M video's rate; GIF and PNG stop at 50).
pub const MAX_FPS: f64 = 120.0;

fn fps(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_FPS => Ok(v),
        _ => Err(format!(
            "'{s}': give frames per second above 0 and at most {MAX_FPS} \
             (GIF and PNG frames show at most {}; Y4M video up to {MAX_FPS})",
            options::DEFAULT_FPS
        )),
    }
}

/// The subcommand names, for suggestions.
fn subcommand_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// The candidate closest to `word`, if any is close: clap's own test (Jaro similarity above 0.7),
/// or at most one edit in a short word and two in a longer one, counting a swap of two neighbours
/// as one edit, which Jaro misses (`fsp` for `fps`).
fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let edits = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::osa_distance(word, c), strsim::jaro(word, c), c))
        .filter(|(d, j, _)| *d <= edits || *j > 0.7)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// A clap error of `kind` as clap would print it: with the usage of `cmd` and, when given, the
/// contexts (an invalid and a suggested word, or tips).
fn clap_error(
    cmd: &mut clap::Command,
    kind: ErrorKind,
    contexts: Vec<(ContextKind, ContextValue)>,
) -> clap::Error {
    let mut e = clap::Error::new(kind).with_cmd(cmd);
    for (k, v) in contexts {
        e.insert(k, v);
    }
    e.insert(
        ContextKind::Usage,
        ContextValue::StyledStr(cmd.render_usage()),
    );
    e
}

/// Parses the command line (`args` includes the program name), with clap's errors and
/// suggestions plus the ones clap cannot make here: a misspelt subcommand where a capture file
/// would go, a misspelt flag clap finds no match for, and a second word after the capture.
/// Errors are clap errors: `exit()` prints them and exits with 2 (0 for --help and --version).
pub fn parse_from<I, T>(args: I) -> std::result::Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = Cli::command();
    let subs = subcommand_names();
    if let Some(e) = misspelt_subcommand(&mut cmd, &subs, &args) {
        return Err(e);
    }
    let matches = matches_before_output(&mut cmd, &args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.with_cmd(&cmd))?;
    if let Some(e) = look_without_render(&mut cmd, &matches) {
        return Err(e);
    }
    if let Some(word) = cli.render.stray.first() {
        return Err(stray_word(&mut cmd, &subs, &cli, word));
    }
    if cli.command.is_none() && cli.render.output.is_none() {
        return Err(clap_error(
            &mut cmd,
            ErrorKind::MissingRequiredArgument,
            vec![(
                ContextKind::InvalidArg,
                ContextValue::Strings(vec!["--output <PATH>".into()]),
            )],
        ));
    }
    Ok(cli)
}

/// The error for `capture` given a flag that shapes the render (`--fps 5`) without `--render`:
/// nothing would use it, and the user expects a render.
fn look_without_render(cmd: &mut clap::Command, matches: &clap::ArgMatches) -> Option<clap::Error> {
    let sub = matches.subcommand_matches("capture")?;
    if sub.contains_id("render") {
        return None;
    }
    // The recorder itself heeds --quiet; every other look flag is the render's.
    let look = LookArgs::augment_args(clap::Command::new("look"));
    let given = look
        .get_arguments()
        .filter(|a| a.get_id() != "quiet")
        .find(|a| {
            sub.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
        })?
        .clone();
    let flag = given
        .get_long()
        .map(|l| format!("--{l}"))
        .unwrap_or_else(|| given.get_id().to_string());
    // Built, the subcommand's usage line names the program (`memanim capture ...`).
    cmd.build();
    let capture = cmd.find_subcommand_mut("capture")?;
    Some(capture.error(
        ErrorKind::ArgumentConflict,
        format!(
            "{flag} shapes the render made when recording stops: add --render OUTPUT (e.g. --render heap.gif), or leave {flag} out"
        ),
    ))
}

/// The error for a first word that is no file but nearly a subcommand (`memanim inf run.log`),
/// if it is one.
fn misspelt_subcommand(
    cmd: &mut clap::Command,
    subs: &[String],
    args: &[std::ffi::OsString],
) -> Option<clap::Error> {
    let word = args.get(1).and_then(|a| a.to_str())?;
    if word.starts_with('-') || subs.iter().any(|s| s == word) || Path::new(word).exists() {
        return None;
    }
    let sub = closest(word, subs.iter().map(String::as_str))?;
    Some(clap_error(
        cmd,
        ErrorKind::InvalidSubcommand,
        vec![
            (
                ContextKind::InvalidSubcommand,
                ContextValue::String(word.into()),
            ),
            (
                ContextKind::SuggestedSubcommand,
                ContextValue::Strings(vec![sub.into()]),
            ),
        ],
    ))
}

/// clap's matches with `-o` not yet required: it is checked after the stray words, so `memanim
/// run.log heap.gif` hears about `-o heap.gif` rather than only that -o is missing. Help and
/// version come from `cmd` as declared, whose usage shows -o as required.
fn matches_before_output(
    cmd: &mut clap::Command,
    args: &[std::ffi::OsString],
) -> std::result::Result<clap::ArgMatches, clap::Error> {
    let mut relaxed = cmd.clone().mut_arg("output", |a| a.required(false));
    match relaxed.try_get_matches_from_mut(args) {
        Ok(m) => Ok(m),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            Err(cmd.try_get_matches_from_mut(args).err().unwrap_or(e))
        }
        Err(e) => Err(improve(e, args)),
    }
}

/// The error for a word after the capture, saying what it was likely meant as: a subcommand
/// (they come first), the output (`-o` forgotten), or a second capture.
fn stray_word(cmd: &mut clap::Command, subs: &[String], cli: &Cli, word: &str) -> clap::Error {
    let tip = if subs.iter().any(|s| s == word) {
        format!(
            "subcommands come first: `memanim {word} {}`",
            cli.render
                .capture
                .as_deref()
                .map_or("CAPTURE".into(), |c| c.display().to_string())
        )
    } else if cli.render.output.is_none() {
        format!("did you mean `-o {word}`?")
    } else {
        "memanim renders one capture at a time".into()
    };
    clap_error(
        cmd,
        ErrorKind::UnknownArgument,
        vec![
            (ContextKind::InvalidArg, ContextValue::String(word.into())),
            (
                ContextKind::Suggested,
                ContextValue::StyledStrs(vec![tip.into()]),
            ),
        ],
    )
}

/// A clap error, with a flag suggestion where clap found none (`--fsp` is two letters swapped,
/// which clap's similarity test misses, so it suggested `-- --fsp`).
fn improve(e: clap::Error, args: &[std::ffi::OsString]) -> clap::Error {
    if e.kind() != ErrorKind::UnknownArgument || e.get(ContextKind::SuggestedArg).is_some() {
        return e;
    }
    let Some(ContextValue::String(bad)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    let Some(name) = bad.strip_prefix("--") else {
        return e;
    };
    let name = name.split('=').next().unwrap_or(name);
    // The flags of the subcommand being parsed (the first word, if it names one).
    let mut root = Cli::command();
    let sub = args
        .get(1)
        .and_then(|a| a.to_str())
        .and_then(|w| root.find_subcommand_mut(w).map(|c| c.clone()));
    let mut cmd = sub.unwrap_or_else(Cli::command);
    let longs: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    let Some(best) = closest(name, longs.iter().map(String::as_str)) else {
        return e;
    };
    let mut better = clap_error(
        &mut cmd,
        ErrorKind::UnknownArgument,
        vec![
            (ContextKind::InvalidArg, ContextValue::String(bad.clone())),
            (
                ContextKind::SuggestedArg,
                ContextValue::String(format!("--{best}")),
            ),
        ],
    );
    // Keep clap's own usage line (it names the subcommand as typed).
    if let Some(usage) = e.get(ContextKind::Usage) {
        better.insert(ContextKind::Usage, usage.clone());
    }
    better
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        parse_from(std::iter::once("memanim").chain(args.iter().copied()))
    }

    fn plan(args: &[&str]) -> Result<RenderPlan> {
        let cli = parse(args).unwrap();
        let r = cli.render;
        r.plan()
    }

    /// The rendered error text, without colours.
    fn error(args: &[&str]) -> (ErrorKind, String) {
        let e = parse(args).unwrap_err();
        (e.kind(), e.render().to_string())
    }

    #[test]
    fn render_is_the_default_command() {
        let cli = parse(&["run.log", "-o", "x.gif", "--speed", "2"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.render.capture.as_deref(), Some(Path::new("run.log")));
        let p = plan(&["run.log", "-o", "x.gif", "--speed", "2"]).unwrap();
        assert_eq!(p.options.timing.speed, 2.0);
        assert!(matches!(p.output, Output::Gif(_)));
    }

    #[test]
    fn info_subcommand_parses() {
        let cli = parse(&["info", "run.log", "--json"]).unwrap();
        match cli.command {
            Some(Command::Info(a)) => assert!(a.json),
            other => panic!("expected info, got {other:?}"),
        }
    }

    #[test]
    fn ranges_and_conflicts_are_usage_errors() {
        for bad in [
            &["run.log"][..],
            &["run.log", "-o", "a.gif", "--fps", "500"],
            &["run.log", "-o", "a.gif", "--fps", "0"],
            &["r.log", "-o", "a.png", "--at", "1s", "--frame", "2"],
            &["r.log", "-o", "a.png", "--at", "1s", "--snapshot", "2"],
            &["r.log", "-o", "a.png", "--snapshot", "2", "--frame", "2"],
            &["r.log", "-o", "a.png", "--frame", "0"],
            &["r.log", "-o", "a.png", "--snapshot", "0"],
            &["r.log", "-o", "a.gif", "--from", "soon"],
            &["run.log", "-o", "a.gif", "--speed", "0"],
            &["run.log", "-o", "a.gif", "--speed", "10001"],
            &["run.log", "-o", "a.gif", "--cell", "0"],
            &["run.log", "-o", "a.gif", "--color", "size"],
            &["run.log", "-o", "a.gif", "--max-frames", "0"],
            &["run.log", "-o", "a.gif", "--max-idle", "-1"],
            &["stats", "run.log", "--every", "0s"],
            &["stats", "run.log", "--csv", "--json"],
            &["capture", "/dev/x", "--dumps", "0", "-o", "r.log"],
            &["capture", "/dev/x", "--duration", "0", "-o", "r.log"],
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?}"));
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
        let age = plan(&["run.log", "-o", "a.gif", "--color", "age"]).unwrap();
        assert_eq!(age.options.style.color, ColorBy::Age);
        for bad in ["8x", "x4", "8x0", "65", "8x4x2", "big"] {
            assert!(
                parse(&["run.log", "-o", "a.gif", "--cell", bad]).is_err(),
                "--cell {bad}"
            );
        }
    }

    #[test]
    fn the_fps_limit_is_said_the_same_everywhere() {
        // The parser's message, the help and the warning give the same two numbers.
        let (_, zero) = error(&["r.log", "-o", "a.gif", "--fps", "0"]);
        let (_, high) = error(&["r.log", "-o", "a.gif", "--fps", "1000"]);
        for msg in [&zero, &high] {
            assert!(
                msg.contains("above 0 and at most 120") && msg.contains("at most 50"),
                "{msg}"
            );
        }
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.contains("default and at most 50") && help.contains("at most 120"),
            "{help}"
        );
        let p = plan(&["r.log", "-o", "a.gif", "--fps", "60"]).unwrap();
        assert_eq!(p.options.timing.fps, 50.0);
        assert_eq!(
            p.warnings,
            ["--fps 60: GIF and PNG frames show at most 50 per second; using 50"]
        );
        // A Y4M video takes the rate it is given, and its frames are scheduled at it.
        let p = plan(&["r.log", "-o", "v.y4m", "--fps", "60"]).unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert!(matches!(p.output, Output::Y4m { fps, .. } if fps == 60.0));
        let p = plan(&["r.log", "-o", "v.y4m"]).unwrap();
        assert_eq!(p.options.timing.fps, 25.0);
    }

    #[test]
    fn cell_sizes() {
        let cell = |v: &str| {
            let cli = parse(&["r.log", "-o", "a.gif", "--cell", v]).unwrap();
            cli.render.look.cell.map(|c| (c.width, c.height))
        };
        // One number is a brick about half as tall; WxH is exact; small cells stay square.
        assert_eq!(cell("8"), Some((8, 4)));
        assert_eq!(cell("6"), Some((6, 3)));
        assert_eq!(cell("4"), Some((4, 3)));
        assert_eq!(cell("3"), Some((3, 3)));
        assert_eq!(cell("8x8"), Some((8, 8)));
        assert_eq!(cell("10X5"), Some((10, 5)));
    }

    #[test]
    fn capture_subcommand() {
        let cli = parse(&[
            "capture",
            "/dev/ttyUSB0",
            "-o",
            "run.log",
            "--dumps",
            "5",
            "--render",
            "h.gif",
            "--speed",
            "2",
            "--duration",
            "1m30s",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Capture(a)) => {
                assert_eq!(a.dumps, Some(5));
                assert_eq!(a.duration, Some(90.0));
                let p = a
                    .look
                    .plan(a.render.as_deref().unwrap(), false, a.play_time)
                    .unwrap();
                assert_eq!(p.options.timing.speed, 2.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["capture", "--list"]).is_ok());
        assert!(parse(&["capture", "/dev/x"]).is_err(), "-o is needed");
        assert!(parse(&["capture", "/dev/x", "-o", "r", "--force", "--append"]).is_err());
    }

    #[test]
    fn capture_help_does_not_call_the_render_output_dash_o() {
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("capture")
            .unwrap()
            .render_long_help()
            .to_string();
        // -o is the capture file there; the render options speak of "the output".
        let o_lines: Vec<&str> = help.lines().filter(|l| l.contains("-o")).collect();
        assert!(
            o_lines
                .iter()
                .all(|l| l.contains("--output <PATH>") || l.contains("-o run.log")),
            "{o_lines:#?}"
        );
        assert!(help.contains("--render <OUTPUT>"), "{help}");
    }

    #[test]
    fn every_time_option_takes_the_same_spellings() {
        // One parser: what --from takes, --max-idle and --every take as durations.
        let cli = parse(&[
            "r.log",
            "-o",
            "x.gif",
            "--from",
            "1m30s",
            "--to",
            "95%",
            "--max-idle",
            "1m30s",
            "--last-frame",
            "500ms",
        ])
        .unwrap();
        let p = cli.render.plan().unwrap();
        assert_eq!(p.options.selection.from, Some(TimePoint::Ms(90_000.0)));
        assert_eq!(p.options.selection.to, Some(TimePoint::Percent(95.0)));
        assert_eq!(p.options.timing.max_idle_ms, Some(90_000.0));
        assert_eq!(p.options.timing.last_frame_ms, 500.0);
        let p = plan(&["r.log", "-o", "x.gif", "--max-idle", "0"]).unwrap();
        assert_eq!(p.options.timing.max_idle_ms, None);
        match parse(&["stats", "r.log", "--every", "1m30s"])
            .unwrap()
            .command
        {
            Some(Command::Stats(a)) => assert_eq!(a.parse.every, Some(90.0)),
            other => panic!("{other:?}"),
        }
        // A snapshot by number, as --at '#N' or --snapshot N.
        let a = plan(&["r.log", "--at", "#12", "-o", "s.png"]).unwrap();
        let b = plan(&["r.log", "--snapshot", "12", "-o", "s.png"]).unwrap();
        assert_eq!(a.options.selection.at, Some(TimePoint::Snapshot(12)));
        assert_eq!(a.options.selection, b.options.selection);
        assert!(matches!(a.output, Output::Still(..)));
    }

    /// The value (ms) a command line gives one option.
    type Read = fn(&Cli) -> f64;

    fn planned(cli: &Cli) -> RenderOptions {
        cli.render.plan().unwrap().options
    }

    fn capture_args(cli: &Cli) -> &CaptureArgs {
        match &cli.command {
            Some(Command::Capture(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    fn parse_args(cli: &Cli) -> &ParseArgs {
        match &cli.command {
            Some(Command::Stats(a)) => &a.parse,
            Some(Command::Info(a)) => &a.parse,
            Some(Command::Why(a)) => &a.parse,
            Some(Command::Plot(a)) => &a.parse,
            Some(Command::Diff(a)) => &a.parse,
            Some(Command::Capture(a)) => &a.look.parse,
            None => &cli.render.look.parse,
        }
    }

    #[test]
    fn every_length_option_reads_every_duration_spelling_and_refuses_a_share() {
        // (flag, the command line before it, what a bare number counts in ms, the value read)
        let lengths: Vec<(&str, &[&str], f64, Read)> = vec![
            ("--max-idle", &["r.log", "-o", "a.gif"], 1000.0, |c| {
                planned(c).timing.max_idle_ms.unwrap()
            }),
            ("--last-frame", &["r.log", "-o", "a.gif"], 1000.0, |c| {
                planned(c).timing.last_frame_ms
            }),
            ("--duration", &["r.log", "-o", "a.gif"], 1000.0, |c| {
                planned(c).share.duration_ms.unwrap()
            }),
            ("--play-time", &["r.log", "-o", "a.gif"], 1000.0, |c| {
                planned(c).share.duration_ms.unwrap()
            }),
            ("--every", &["r.log", "-o", "a.gif"], 1000.0, |c| {
                planned(c).timing.every_ms.unwrap()
            }),
            ("--every", &["stats", "r.log"], 1000.0, |c| {
                parse_args(c).every.unwrap() * 1000.0
            }),
            ("--every", &["info", "r.log"], 1000.0, |c| {
                parse_args(c).every.unwrap() * 1000.0
            }),
            ("--every", &["plot", "r.log", "-o", "p.svg"], 1000.0, |c| {
                parse_args(c).every.unwrap() * 1000.0
            }),
            ("--every", &["why", "r.log"], 1000.0, |c| {
                parse_args(c).every.unwrap() * 1000.0
            }),
            (
                "--duration",
                &["capture", "/dev/x", "-o", "r.log"],
                1000.0,
                |c| capture_args(c).duration.unwrap() * 1000.0,
            ),
            (
                "--play-time",
                &["capture", "/dev/x", "-o", "r.log", "--render", "h.gif"],
                1000.0,
                |c| {
                    let a = capture_args(c);
                    let p = a.look.plan(Path::new("h.gif"), false, a.play_time);
                    p.unwrap().options.share.duration_ms.unwrap()
                },
            ),
            // A bare period is milliseconds, as ticks_ms counts them.
            ("--ticks-period", &["r.log", "-o", "a.gif"], 1.0, |c| {
                planned(c).parse.ticks_period as f64
            }),
            ("--ticks-period", &["stats", "r.log"], 1.0, |c| {
                parse_args(c).ticks_period as f64
            }),
        ];
        for (flag, before, bare_ms, read) in lengths {
            for (value, ms) in [
                ("1m30s", 90_000.0),
                ("2.5s", 2_500.0),
                ("500ms", 500.0),
                ("90", 90.0 * bare_ms),
            ] {
                let args = [before, &[flag, value]].concat();
                let cli = parse(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
                assert_eq!(read(&cli), ms, "{args:?}");
            }
            let args = [before, &[flag, "50%"]].concat();
            let e = parse(&args).expect_err(&format!("{args:?}"));
            assert_eq!(e.exit_code(), 2, "{args:?}");
            let msg = e.render().to_string();
            // The render's --play-time is an alias: clap names the flag it stands for.
            let named = match flag {
                "--play-time" if before[0] != "capture" => "--duration",
                _ => flag,
            };
            assert!(
                msg.contains(&format!("'{named} <")) && msg.contains("'50%'"),
                "{args:?}: {msg}"
            );
        }
    }

    #[test]
    fn every_point_option_reads_every_duration_spelling_and_a_share() {
        type Point = fn(&Cli) -> Option<TimePoint>;
        fn still(c: &Cli) -> Selection {
            planned(c).selection
        }
        fn plot(c: &Cli) -> (Option<TimePoint>, Option<TimePoint>) {
            match &c.command {
                Some(Command::Plot(a)) => (a.from, a.to),
                other => panic!("{other:?}"),
            }
        }
        let points: Vec<(&str, &[&str], Point)> = vec![
            ("--from", &["r.log", "-o", "a.gif"], |c| still(c).from),
            ("--to", &["r.log", "-o", "a.gif"], |c| still(c).to),
            ("--at", &["r.log", "-o", "s.png"], |c| still(c).at),
            ("--from", &["plot", "r.log", "-o", "p.svg"], |c| plot(c).0),
            ("--to", &["plot", "r.log", "-o", "p.svg"], |c| plot(c).1),
            ("--at", &["diff", "r.log", "-o", "d.png"], |c| {
                match &c.command {
                    Some(Command::Diff(a)) => a.at.first().copied(),
                    other => panic!("{other:?}"),
                }
            }),
            (
                "--at",
                &["capture", "/dev/x", "-o", "r.log", "--render", "s.png"],
                |c| {
                    let a = capture_args(c);
                    let p = a.look.plan(Path::new("s.png"), false, a.play_time);
                    p.unwrap().options.selection.at
                },
            ),
        ];
        for (flag, before, read) in points {
            for (value, point) in [
                ("1m30s", TimePoint::Ms(90_000.0)),
                ("2.5s", TimePoint::Ms(2_500.0)),
                ("500ms", TimePoint::Ms(500.0)),
                ("90", TimePoint::Ms(90_000.0)),
                ("50%", TimePoint::Percent(50.0)),
            ] {
                let args = [before, &[flag, value]].concat();
                let cli = parse(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
                assert_eq!(read(&cli), Some(point), "{args:?}");
            }
        }
    }

    #[test]
    fn a_window_of_one_kind_is_ordered_before_any_capture_is_read() {
        for (from, to) in [("6s", "2s"), ("#5", "#3"), ("60%", "30%")] {
            let e = plan(&["r.log", "-o", "a.gif", "--from", from, "--to", to]).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("is after --to"), "{e}");
        }
        // Points of two kinds are ordered against the capture's times.
        assert!(plan(&["r.log", "-o", "a.gif", "--from", "60%", "--to", "2s"]).is_ok());
        assert!(plan(&["r.log", "-o", "a.gif", "--from", "2s", "--to", "2s"]).is_ok());
    }

    #[test]
    fn diff_takes_two_points_of_either_spelling() {
        let diff = |args: &[&str]| match parse(args).unwrap().command {
            Some(Command::Diff(d)) => d,
            other => panic!("{other:?}"),
        };
        let d = diff(&["diff", "r.log", "--at", "5s", "--at", "#3", "-o", "d.png"]);
        assert_eq!(
            d.points().unwrap(),
            ([TimePoint::Ms(5000.0), TimePoint::Snapshot(3)], false)
        );
        let d = diff(&[
            "diff",
            "r.log",
            "--snapshot",
            "4",
            "--at",
            "1s",
            "-o",
            "d.png",
        ]);
        assert_eq!(
            d.points().unwrap(),
            ([TimePoint::Ms(1000.0), TimePoint::Snapshot(4)], true)
        );
        let one = diff(&["diff", "r.log", "--at", "5s", "-o", "d.png"]);
        let e = one.points().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("give --at"), "{e}");
        for name in ["d.svg", "d.gif", "d"] {
            let d = diff(&["diff", "r.log", "--at", "1s", "--at", "2s", "-o", name]);
            let e = d.check_output().unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("NAME.png"), "{e}");
        }
    }

    #[test]
    fn typos_get_clap_suggestions() {
        let (kind, msg) = error(&["inf", "x.log"]);
        assert_eq!(kind, ErrorKind::InvalidSubcommand);
        assert!(msg.contains("a similar subcommand exists: 'info'"), "{msg}");
        let (_, msg) = error(&["stat", "x.log"]);
        assert!(msg.contains("'stats'"), "{msg}");
        let (kind, msg) = error(&["x.log", "-o", "a.gif", "--fsp", "10"]);
        assert_eq!(kind, ErrorKind::UnknownArgument);
        assert!(msg.contains("a similar argument exists: '--fps'"), "{msg}");
        assert!(!msg.contains("-- --fsp"), "{msg}");
        let (_, msg) = error(&["stats", "x.log", "--evry", "10s"]);
        assert!(msg.contains("'--every'"), "{msg}");
        // A word that is nothing like a flag keeps clap's own message.
        let (kind, _) = error(&["x.log", "-o", "a.gif", "--zzzzzz"]);
        assert_eq!(kind, ErrorKind::UnknownArgument);
    }

    #[test]
    fn a_second_word_gets_told_what_it_was_meant_as() {
        let (kind, msg) = error(&["run.log", "heap.gif"]);
        assert_eq!(kind, ErrorKind::UnknownArgument);
        assert!(msg.contains("unexpected argument 'heap.gif'"), "{msg}");
        assert!(msg.contains("did you mean `-o heap.gif`?"), "{msg}");
        assert!(!msg.contains("subcommand"), "{msg}");
        let (_, msg) = error(&["run.log", "info"]);
        assert!(msg.contains("`memanim info run.log`"), "{msg}");
        let (_, msg) = error(&["run.log", "-o", "a.gif", "more.log"]);
        assert!(msg.contains("one capture at a time"), "{msg}");
        // Without the second word, -o is still required.
        let (kind, _) = error(&["run.log"]);
        assert_eq!(kind, ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn options_without_effect_are_said() {
        let p = plan(&[
            "r.log", "--at", "2s", "-o", "s.png", "--speed", "3", "--loop", "2",
        ])
        .unwrap();
        assert_eq!(
            p.warnings,
            ["--speed, --loop have no effect on a single frame"]
        );
        let p = plan(&["r.log", "-o", "frames/", "--loop", "2"]).unwrap();
        assert_eq!(p.warnings, ["--loop applies to GIFs only; ignored"]);
        let p = plan(&["r.log", "-o", "a.gif", "--force"]).unwrap();
        assert!(
            p.warnings[0].starts_with("--force only matters"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn share_options_parse_and_are_checked_together() {
        let p = plan(&["r.log", "-o", "a.gif", "--max-size", "10M", "--trim"]).unwrap();
        assert_eq!(p.options.share.max_size, Some(10_000_000));
        assert!(p.options.share.trim);
        for bad in [
            &["r.log", "-o", "a.gif", "--max-size", "0"][..],
            &["r.log", "-o", "a.gif", "--max-size", "ten"],
            &["r.log", "-o", "a.gif", "--trim"],
            &["r.log", "-o", "a.gif", "--duration", "0"],
            &["r.log", "-o", "a.gif", "--duration", "30s", "--speed", "2"],
            &["capture", "/dev/x", "-o", "r.log", "--play-time", "30s"],
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?}"));
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
        // The last frame's hold counts in --duration: 3 s, at most a tenth, or as given.
        let hold = |args: &[&str]| plan(args).unwrap().options.timing.last_frame_ms;
        assert_eq!(hold(&["r.log", "-o", "a.gif", "--duration", "1m"]), 3000.0);
        assert_eq!(hold(&["r.log", "-o", "a.gif", "--duration", "10s"]), 1000.0);
        assert_eq!(
            hold(&[
                "r.log",
                "-o",
                "a.gif",
                "--duration",
                "10s",
                "--last-frame",
                "2s"
            ]),
            2000.0
        );
        let p = plan(&["r.log", "-o", "a.gif", "--duration", "1m30s"]).unwrap();
        assert_eq!(p.options.share.duration_ms, Some(90_000.0));
        let e = plan(&[
            "r.log",
            "-o",
            "a.gif",
            "--duration",
            "2s",
            "--last-frame",
            "2s",
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("leaves no time to play"), "{e}");
        // --max-size is about GIF files: refused for frames and video, said before any work.
        for out in ["frames/", "v.y4m"] {
            let e = plan(&["r.log", "-o", out, "--max-size", "1M"]).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("--max-size applies to GIFs"), "{e}");
        }
        let p = plan(&["r.log", "--at", "2s", "-o", "s.png", "--duration", "9s"]).unwrap();
        assert_eq!(p.warnings, ["--duration has no effect on a single frame"]);
        // capture --render takes the play time as --play-time (its --duration is the recording's).
        let cli = parse(&[
            "capture",
            "/dev/x",
            "-o",
            "r.log",
            "--duration",
            "1h",
            "--render",
            "h.gif",
            "--play-time",
            "30s",
            "--max-size",
            "5M",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Capture(a)) => {
                let p = a.look.plan(Path::new("h.gif"), false, a.play_time).unwrap();
                assert_eq!(a.duration, Some(3600.0));
                assert_eq!(p.options.share.duration_ms, Some(30_000.0));
                assert_eq!(p.options.share.max_size, Some(5_000_000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_title_is_one_line_of_text_drawn_as_given() {
        let p = plan(&["r.log", "-o", "a.gif", "--title", "ESP32 {0} %s $HOME"]).unwrap();
        assert_eq!(p.options.style.title.as_deref(), Some("ESP32 {0} %s $HOME"));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let p = plan(&["r.log", "-o", "a.gif", "--title", "a\nb\tc\x1b[31m"]).unwrap();
        assert_eq!(p.options.style.title.as_deref(), Some("a b c\u{fffd}[31m"));
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        let p = plan(&["r.log", "-o", "a.gif", "--title", "heap 漢字"]).unwrap();
        assert_eq!(
            p.warnings,
            ["--title: the font has no glyph for '漢' '字'; drawn as '?'"]
        );
        let long = "x".repeat(TITLE_CHARS + 1);
        let p = plan(&["r.log", "-o", "a.gif", "--title", &long]).unwrap();
        assert!(
            p.warnings[0].contains("may show only the first"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn the_help_shows_dash_o_as_required() {
        for args in [&["--help"][..], &[]] {
            let e = parse(args).unwrap_err();
            let text = e.render().to_string();
            assert!(
                text.contains("Usage: memanim [OPTIONS] --output <PATH> <CAPTURE>"),
                "{args:?}: {text}"
            );
        }
    }

    #[test]
    fn every_help_ends_with_the_exit_codes() {
        let mut cmd = Cli::command();
        let table = exit_codes_help();
        assert!(cmd.render_long_help().to_string().contains(&table));
        for sub in ["info", "stats", "diff", "plot", "capture"] {
            let help = cmd
                .find_subcommand_mut(sub)
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(help.contains(&table), "{sub} --help lacks the exit codes");
        }
    }

    #[test]
    fn one_name_for_the_output_value() {
        // -o is `-o, --output <PATH>` in every command that has it.
        let mut cmd = Cli::command();
        let mut helps = vec![("memanim", cmd.render_help().to_string())];
        for sub in ["diff", "plot", "capture"] {
            let help = cmd
                .find_subcommand_mut(sub)
                .unwrap()
                .render_help()
                .to_string();
            helps.push((sub, help));
        }
        for (what, help) in helps {
            assert!(help.contains("-o, --output <PATH>"), "{what}: {help}");
            assert!(!help.contains("<FILE>"), "{what}: {help}");
        }
    }
}
