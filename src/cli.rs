//! The command line: clap derive types and their conversion to library options. Nothing else in the
//! crate imports clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::capture::{ParseOptions, DEFAULT_TICKS_PERIOD, DEFAULT_UNTIMED_EVERY_MS};
use crate::encode::Format;
use crate::options::{self, CellSize, ColorBy, RenderOptions, StyleOptions, TimingOptions};
use crate::timeline::{Selection, TimePoint};

const EXIT_CODES: &str = "\
Exit codes:
  0  output written (even with warnings)
  1  nothing usable in the input, or an I/O failure
  2  usage error

Output (from -o, or --format):
  heap.gif         animated GIF
  heap.html        interactive report: one page to scrub, hover and click blocks, offline
  frames/          a directory: frame_000001.png, ... and ffconcat.txt with real durations
  snap.png         one frame, with --at TIME or --frame N (also snap.webp, snap.jpg)
  video.y4m, -     Y4M video at a constant --fps (default 25); '-' needs --format

Times (--from, --to, --at): 12.5 or 12.5s, 500ms, 1m30s, 1h, or 30% of the capture.

Examples:
  memanim run.log -o heap.gif                        animate a capture
  memanim run.log -o heap.gif --speed 4              four times faster
  memanim run.log -o heap.html                       a report to explore in a browser
  memanim run.log -o part.gif --from 10s --to 1m30s  only that window
  memanim run.log --at 12.5s -o snap.png             the frame on screen at 12.5 s
  memanim run.log -o frames/                         PNG frames for ffmpeg
  memanim run.log --format y4m -o - | ffmpeg -i - out.mp4
  memanim info run.log                               what the capture holds";

/// Animate MicroPython heap dumps (micropython.mem_info(1) between @@@ markers) into GIFs,
/// videos and interactive HTML reports.
#[derive(Debug, Parser)]
#[command(
    name = "memanim",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a capture: sessions, snapshots, period, heap, peak use, warnings.
    Info(InfoArgs),
    /// The capture as numbers over time: used, free, largest free block, fragmentation, objects
    /// and bytes per kind; peak use, the worst fragmentation and a leak estimate.
    Stats(StatsArgs),
    /// Two snapshots side by side, the second with its differences marked, and what was allocated
    /// and freed between them, by kind.
    Diff(DiffArgs),
    /// A chart of used memory, free memory and the largest free block over time (PNG or SVG),
    /// with board resets and a leak's fitted line marked.
    Plot(PlotArgs),
    /// Record a live board from its serial port to a capture file.
    #[command(after_help = CAPTURE_HELP)]
    Capture(Box<CaptureArgs>),
}

const CAPTURE_HELP: &str = "\
Every byte received is written to the capture file at once; Ctrl-C stops recording and keeps it.

Examples:
  memanim capture --list                                  serial ports with their USB description
  memanim capture /dev/ttyUSB0 -o run.log                 record until Ctrl-C
  memanim capture /dev/ttyACM0 -o run.log --reset --duration 2m --render heap.gif
  memanim capture /dev/ttyACM0 -o run.log --run app.py    run app.py through the raw REPL, record it";

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The serial port (e.g. /dev/ttyUSB0, /dev/ttyACM0).
    #[arg(required_unless_present = "list")]
    pub port: Option<String>,
    /// The capture file to write.
    #[arg(short, long, value_name = "FILE", required_unless_present = "list")]
    pub output: Option<PathBuf>,
    /// List the serial ports and exit.
    #[arg(long)]
    pub list: bool,
    /// Baud rate.
    #[arg(long, default_value_t = crate::serial::DEFAULT_BAUD)]
    pub baud: u32,
    /// Also print what the board sends to standard output.
    #[arg(long)]
    pub echo: bool,
    /// Stop after this long (e.g. 90s, 2m, 1h).
    #[arg(long, value_name = "TIME", value_parser = seconds)]
    pub duration: Option<f64>,
    /// Stop after this many complete dumps.
    #[arg(long, value_name = "N")]
    pub dumps: Option<usize>,
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
    /// Render the capture when recording stops (a .gif, a frames directory, ...).
    #[arg(long, value_name = "PATH")]
    pub render: Option<PathBuf>,
    #[command(flatten)]
    pub look: LookArgs,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub parse: ParseArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The capture file ('-' for stdin).
    pub capture: PathBuf,
    /// The two times to compare (give --at twice), e.g. --at 5s --at 60s.
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse, num_args = 1, required = true)]
    pub at: Vec<TimePoint>,
    /// The image to write (.png).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub parse: ParseArgs,
}

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
    #[command(flatten)]
    pub parse: ParseArgs,
}

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
    /// Start of the time window (e.g. 10s, 1m30s, 30%).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub from: Option<TimePoint>,
    /// End of the time window.
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub to: Option<TimePoint>,
    #[command(flatten)]
    pub parse: ParseArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ParseArgs {
    /// Period at which ticks_ms wraps, in ms (2^30 on boards; a 2^29 wrap and 64-bit unix values are detected).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TICKS_PERIOD)]
    pub ticks_period: u64,
    /// One snapshot per this much time (e.g. 2s, 1m). Dumps pasted without a time are placed
    /// this far apart (default 1s); a timed capture keeps the last snapshot of each interval
    /// (stats: one row per interval).
    #[arg(long, value_name = "TIME", value_parser = positive_seconds)]
    pub every: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The capture file ('-' for stdin).
    #[arg(required = true)]
    pub capture: Option<PathBuf>,
    /// Output: a .gif, an .html report, a directory for PNG frames, a .png, .webp or .jpg still
    /// (with --at/--frame), a .y4m, or '-'.
    #[arg(short, long, value_name = "PATH", required = true)]
    pub output: Option<PathBuf>,
    /// Replace the frames in a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub look: LookArgs,
}

/// How frames are chosen, timed and drawn: shared by rendering and `capture --render`.
#[derive(Debug, Args)]
pub struct LookArgs {
    /// Output format, when -o does not say it (required for '-').
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Start of the time window (e.g. 10s, 1m30s, 30%).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub from: Option<TimePoint>,
    /// End of the time window.
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse)]
    pub to: Option<TimePoint>,
    /// Write only the frame on screen at this time (to a .png, .webp or .jpg).
    #[arg(long, value_name = "TIME", value_parser = TimePoint::parse, conflicts_with = "frame")]
    pub at: Option<TimePoint>,
    /// Write only frame N (1-based, as the header numbers it) (to a .png, .webp or .jpg).
    #[arg(long, value_name = "N")]
    pub frame: Option<usize>,
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
    /// Playback speed (2 = twice as fast).
    #[arg(long, value_name = "X", default_value_t = options::DEFAULT_SPEED, value_parser = positive_f64)]
    pub speed: f64,
    /// Shorten gaps between snapshots to at most this long (seconds; 0 = no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = options::DEFAULT_MAX_IDLE_S, value_parser = seconds)]
    pub max_idle: f64,
    /// GIF and PNG: at most this many frames per second, merging closer snapshots (keeps the
    /// latest; default and max 50). Y4M: the video's frame rate (default 25).
    #[arg(long, value_name = "FPS", value_parser = fps)]
    pub fps: Option<f64>,
    /// How long the last frame is held before the GIF loops (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = options::DEFAULT_LAST_FRAME_S, value_parser = seconds)]
    pub last_frame: f64,
    /// How many times the GIF plays (0 = forever).
    #[arg(long = "loop", value_name = "N", default_value_t = 0)]
    pub loop_count: u16,
    /// Do not mark the blocks allocated or freed since the previous frame.
    #[arg(long)]
    pub no_changes: bool,
    /// Do not draw the timeline strip (used and largest free block over time) under the map.
    #[arg(long)]
    pub no_timeline: bool,
    /// Colour used blocks by the kind of their object, or by how long it has lived (age: an
    /// object is the same while its place, kind and length stay; the oldest are brightest).
    #[arg(long, value_name = "BY", default_value = "kind")]
    pub color: ColorArg,
    /// Refuse to write more frames than this (video frames for Y4M).
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_MAX_FRAMES)]
    pub max_frames: usize,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub parse: ParseArgs,
}

impl ParseArgs {
    pub fn to_options(&self) -> ParseOptions {
        ParseOptions {
            ticks_period: self.ticks_period.max(2),
            untimed_every_ms: self.every.map_or(DEFAULT_UNTIMED_EVERY_MS, |s| {
                ((s * 1000.0).round() as i64).max(1)
            }),
        }
    }
}

impl LookArgs {
    pub fn to_options(&self) -> RenderOptions {
        RenderOptions {
            parse: self.parse.to_options(),
            timing: TimingOptions {
                speed: self.speed,
                max_idle_ms: (self.max_idle > 0.0).then_some(self.max_idle * 1000.0),
                // For Y4M the rate is the video's; frames are repeated, never merged below it.
                fps: match self.format {
                    Some(FormatArg::Y4m) => options::DEFAULT_FPS,
                    _ => self.fps.unwrap_or(options::DEFAULT_FPS),
                },
                last_frame_ms: self.last_frame * 1000.0,
                every_ms: self.parse.every.map(|s| s * 1000.0),
            },
            style: StyleOptions {
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
                ..StyleOptions::default()
            },
            loop_count: self.loop_count,
            max_frames: self.max_frames,
            jobs: self.jobs.map(|j| j as usize),
            selection: Selection {
                from: self.from,
                to: self.to,
                at: self.at,
                frame: self.frame,
            },
            ..RenderOptions::default()
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    Kind,
    Age,
}

/// `--format`.
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

/// `5`, `5s`, `1.5s`, `500ms`, `2m` → seconds.
pub fn seconds(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 5, 2.5s, 500ms, 1m)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("'{s}' must be zero or more"));
    }
    Ok(v * mult)
}

/// A duration above zero (`--every`): zero would mean "every snapshot", which is the default.
fn positive_seconds(s: &str) -> Result<f64, String> {
    let v = seconds(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!(
            "'{s}' must be above 0 (leave --every out to keep every snapshot)"
        ))
    }
}

fn positive_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v.is_finite() && v > 0.0 && v <= 10_000.0 {
        Ok(v)
    } else {
        Err(format!("'{s}' must be above 0 and at most 10000"))
    }
}

fn fps(s: &str) -> Result<f64, String> {
    let v = positive_f64(s)?;
    if v > 120.0 {
        Err(format!(
            "'{s}': at most 120 frames per second (a GIF shows at most 50)"
        ))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_the_default_command() {
        let cli =
            Cli::try_parse_from(["memanim", "run.log", "-o", "x.gif", "--speed", "2"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.render.capture.as_deref(),
            Some(std::path::Path::new("run.log"))
        );
        assert_eq!(cli.render.look.to_options().timing.speed, 2.0);
    }

    #[test]
    fn info_subcommand_parses() {
        let cli = Cli::try_parse_from(["memanim", "info", "run.log", "--json"]).unwrap();
        match cli.command {
            Some(Command::Info(a)) => assert!(a.json),
            other => panic!("expected info, got {other:?}"),
        }
    }

    #[test]
    fn output_is_required_and_ranges_are_checked() {
        assert!(Cli::try_parse_from(["memanim", "run.log"]).is_err());
        assert!(
            Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--fps", "500"]).is_err()
        );
        assert!(Cli::try_parse_from([
            "memanim", "r.log", "-o", "a.png", "--at", "1s", "--frame", "2"
        ])
        .is_err());
        assert!(
            Cli::try_parse_from(["memanim", "r.log", "-o", "a.gif", "--from", "soon"]).is_err()
        );
        assert!(
            Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--speed", "0"]).is_err()
        );
        assert!(Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--cell", "0"]).is_err());
        assert!(
            Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--color", "size"]).is_err()
        );
        let age = Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--color", "age"]);
        assert_eq!(
            age.unwrap().render.look.to_options().style.color,
            ColorBy::Age
        );
        for bad in ["8x", "x4", "8x0", "65", "8x4x2", "big"] {
            assert!(
                Cli::try_parse_from(["memanim", "run.log", "-o", "a.gif", "--cell", bad]).is_err(),
                "--cell {bad}"
            );
        }
    }

    #[test]
    fn cell_sizes() {
        let cell = |v: &str| {
            let cli =
                Cli::try_parse_from(["memanim", "r.log", "-o", "a.gif", "--cell", v]).unwrap();
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
        let cli = Cli::try_parse_from([
            "memanim",
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
        ])
        .unwrap();
        match cli.command {
            Some(Command::Capture(a)) => {
                assert_eq!(a.dumps, Some(5));
                assert_eq!(a.look.to_options().timing.speed, 2.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["memanim", "capture", "--list"]).is_ok());
        assert!(
            Cli::try_parse_from(["memanim", "capture", "/dev/x"]).is_err(),
            "-o is needed"
        );
        assert!(Cli::try_parse_from([
            "memanim", "capture", "/dev/x", "-o", "r", "--force", "--append"
        ])
        .is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(seconds("5").unwrap(), 5.0);
        assert_eq!(seconds("500ms").unwrap(), 0.5);
        assert_eq!(seconds("2m").unwrap(), 120.0);
        assert!(seconds("-1").is_err());
        assert!(seconds("abc").is_err());
    }

    #[test]
    fn max_idle_zero_means_no_limit() {
        let cli =
            Cli::try_parse_from(["memanim", "r.log", "-o", "a.gif", "--max-idle", "0"]).unwrap();
        assert_eq!(cli.render.look.to_options().timing.max_idle_ms, None);
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn windows_and_stills_parse() {
        let cli = Cli::try_parse_from([
            "memanim", "r.log", "-o", "x.gif", "--from", "30%", "--to", "1m30s",
        ])
        .unwrap();
        let sel = cli.render.look.to_options().selection;
        assert_eq!(sel.from, Some(TimePoint::Percent(30.0)));
        assert_eq!(sel.to, Some(TimePoint::Ms(90_000.0)));
        let cli =
            Cli::try_parse_from(["memanim", "r.log", "--at", "12.5s", "-o", "s.png"]).unwrap();
        assert_eq!(
            cli.render.look.to_options().selection.at,
            Some(TimePoint::Ms(12_500.0))
        );
        assert_eq!(TimePoint::parse("500ms"), Ok(TimePoint::Ms(500.0)));
        assert_eq!(TimePoint::parse("1h2m3s"), Ok(TimePoint::Ms(3_723_000.0)));
        assert!(TimePoint::parse("120%").is_err());
    }
}
