//! The last stage: frames in, files out. [`Output::choose`] turns `-o` and `--format` into an
//! [`Output`] before any work starts; [`Output::write`] then takes a [`Renderer`] built for a
//! schedule and writes its frames as an animated GIF, a PNG per frame with an ffmpeg concat file,
//! one still (PNG, WebP or JPEG), a constant-frame-rate Y4M video, or an interactive HTML report,
//! to a file or standard output, and says what it wrote ([`Written`]).
//!
//! Every kind uses the same renderer and schedule; frames are rendered in parallel in bounded
//! batches ([`render_batches`]) and written in schedule order, and the report carries the
//! renderer's layout so the page draws what a still shows. Files appear only once complete
//! ([`atomic`]); a GIF can be held to a byte budget ([`budget`]).

pub mod atomic;
pub mod budget;
pub mod gif;
pub mod html;
pub mod lzw;
pub mod png;
pub mod still;
pub mod y4m;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::capture::Capture;
use crate::error::{Error, Result};
use crate::options::RenderOptions;
use crate::render::frame::Frame;
use crate::render::{AgeClasses, Layout, Renderer};
use crate::timeline::Schedule;

/// Where the bytes go: a file (written atomically) or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file, created beside its path and renamed into place once complete.
    File(PathBuf),
    /// Standard output (`-o -`), written as it goes.
    Stdout,
}

impl Target {
    /// What the target is called in messages: its path, or "standard output".
    pub fn display(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Stdout => "standard output".to_string(),
        }
    }
}

/// The kind of output, named with `--format` or read off the `-o` path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An animated GIF.
    Gif,
    /// PNG: a directory of frames, or one frame as a still.
    Png,
    /// A Y4M video.
    Y4m,
    /// The interactive report (one self-contained page).
    Html,
    /// A still as lossless WebP.
    Webp,
    /// A still as JPEG.
    Jpeg,
}

/// The image format of a still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StillFormat {
    /// Indexed PNG, exact and small: the default.
    #[default]
    Png,
    /// Lossless WebP.
    Webp,
    /// JPEG (lossy: colours come back close, not exact).
    Jpeg,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gif => "gif",
            Format::Png => "png",
            Format::Y4m => "y4m",
            Format::Html => "html",
            Format::Webp => "webp",
            Format::Jpeg => "jpg",
        }
    }

    /// The format a file extension (lower case, no dot) names.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "gif" => Some(Format::Gif),
            "png" => Some(Format::Png),
            "y4m" => Some(Format::Y4m),
            "html" | "htm" => Some(Format::Html),
            "webp" => Some(Format::Webp),
            "jpg" | "jpeg" => Some(Format::Jpeg),
            _ => None,
        }
    }
}

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// One animated GIF.
    Gif(Target),
    /// `frame_000001.png`, ... and `ffconcat.txt` in a directory. `force` replaces earlier frames.
    PngSequence {
        /// The directory of the frames.
        dir: PathBuf,
        /// Replace the frames a directory that is not empty already holds.
        force: bool,
    },
    /// One frame as an image (`--at`, `--snapshot` or `--frame`): PNG, WebP or JPEG.
    Still(PathBuf, StillFormat),
    /// A constant-frame-rate Y4M video (frames repeated to follow real time).
    Y4m {
        /// Where the video goes.
        target: Target,
        /// Video frames per second ([`DEFAULT_Y4M_FPS`] unless `--fps`).
        fps: f64,
    },
    /// One HTML page to scrub through every frame, hover and click blocks.
    Html(Target),
}

/// The Y4M frame rate when `--fps` is not given.
pub const DEFAULT_Y4M_FPS: f64 = 25.0;

/// Extensions of videos people ask for, which memanim makes through ffmpeg.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "webm", "mkv", "mov", "avi", "m4v"];

impl Output {
    /// The one place `-o` and `--format` become an output kind, checked before any work starts.
    ///
    /// `--format` always wins over the path's extension (`-o out.webm --format y4m` writes Y4M
    /// to out.webm, `-o vid --format y4m` a file named vid). Without it the extension decides:
    /// `.gif`, `.png` (a still: needs `still`), `.y4m`; a path ending in `/`, an existing
    /// directory, or a name without extension that does not exist yet is a directory of PNG
    /// frames. `-` is standard output and needs `--format`. Every refusal is a usage error that
    /// says what to write instead.
    ///
    /// ```
    /// use std::path::Path;
    /// use memanim::encode::{Format, Output, StillFormat, Target};
    ///
    /// let gif = Output::choose(Path::new("heap.gif"), None, false, None, false).unwrap();
    /// assert_eq!(gif, Output::Gif(Target::File("heap.gif".into())));
    /// // --format wins over the extension.
    /// let y4m = Output::choose(Path::new("out.webm"), Some(Format::Y4m), false, None, false);
    /// assert!(matches!(y4m, Ok(Output::Y4m { fps: 25.0, .. })));
    /// // One frame (--at, --snapshot or --frame) is a still, and a still is named as one.
    /// let still = Output::choose(Path::new("snap.png"), None, true, None, false).unwrap();
    /// assert_eq!(still, Output::Still("snap.png".into(), StillFormat::Png));
    /// assert!(Output::choose(Path::new("snap.gif"), None, true, None, false).is_err());
    /// // Standard output needs --format.
    /// assert!(Output::choose(Path::new("-"), None, false, None, false).is_err());
    /// ```
    pub fn choose(
        path: &Path,
        format: Option<Format>,
        still: bool,
        fps: Option<f64>,
        force: bool,
    ) -> Result<Output> {
        let name = Named::new(path);
        let (format, said) = match format {
            Some(f) => (f, Said::Flag),
            None => name.implied_format()?,
        };
        name.output(format, said, still, fps, force)
    }

    /// The frames this output of `schedule` holds: a Y4M's video frames (each schedule frame
    /// repeated to fill its time), one for a still (whatever its schedule holds for the strip),
    /// else one per schedule frame.
    pub fn frame_count(&self, schedule: &Schedule) -> usize {
        match self {
            Output::Y4m { fps, .. } => {
                let delays: Vec<u16> = schedule.frames.iter().map(|f| f.delay_cs).collect();
                y4m::repeats(&delays, *fps).iter().sum()
            }
            Output::Still(..) => 1,
            _ => schedule.frames.len(),
        }
    }

    /// What the output is called in messages.
    pub fn describe(&self) -> String {
        match self {
            Output::Gif(t) | Output::Y4m { target: t, .. } | Output::Html(t) => t.display(),
            Output::PngSequence { dir, .. } => dir.display().to_string(),
            Output::Still(p, _) => p.display().to_string(),
        }
    }

    /// Checks, writing nothing, that the output's place exists: a file's directory, or a frame
    /// directory's parent. Called before the capture is read.
    pub fn check_place(&self) -> Result<()> {
        match self {
            Output::Gif(Target::File(p))
            | Output::Y4m {
                target: Target::File(p),
                ..
            }
            | Output::Html(Target::File(p))
            | Output::Still(p, _) => atomic::check_dest(p).map(|_| ()),
            Output::PngSequence { dir, .. } => {
                let parent = match dir.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                if parent.is_dir() {
                    Ok(())
                } else {
                    Err(Error::Write {
                        path: dir.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!("directory {} does not exist", parent.display()),
                        ),
                    })
                }
            }
            _ => Ok(()),
        }
    }
}

/// Where the output kind came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    /// `--format`.
    Flag,
    /// The file extension of `-o`.
    Extension,
    /// `-o` is (or looks like) a directory: PNG frames.
    Directory,
}

/// What the `-o` path says about the output, read once.
struct Named<'a> {
    path: &'a Path,
    /// `-`: standard output.
    stdout: bool,
    /// The extension, lower case.
    ext: Option<String>,
    /// An existing directory, or a path ending in `/`.
    is_dir: bool,
    /// `is_dir`, or a name without extension that does not exist yet.
    looks_dir: bool,
}

impl<'a> Named<'a> {
    fn new(path: &'a Path) -> Self {
        let stdout = path.as_os_str() == "-";
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let is_dir = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
        let looks_dir = is_dir || (ext.is_none() && !stdout && !path.exists());
        Named {
            path,
            stdout,
            ext,
            is_dir,
            looks_dir,
        }
    }

    /// The format the name implies when `--format` is not given.
    fn implied_format(&self) -> Result<(Format, Said)> {
        let known = self.ext.as_deref().and_then(Format::from_extension);
        match known {
            _ if self.stdout => {
                usage("writing to '-' (standard output) needs --format gif, y4m or html".into())
            }
            Some(f) if !self.is_dir => Ok((f, Said::Extension)),
            _ if self.looks_dir => Ok((Format::Png, Said::Directory)),
            _ => Err(self.unknown_kind()),
        }
    }

    /// The output `format` makes of this name: the rules, in order, first match wins. The
    /// image kinds' own rules are in [`Named::still`] and [`Named::png`].
    fn output(
        &self,
        format: Format,
        said: Said,
        still: bool,
        fps: Option<f64>,
        force: bool,
    ) -> Result<Output> {
        use Format::*;
        match format {
            Gif | Y4m if still => usage(format!(
                "--at, --snapshot and --frame write one image, not {}: use -o NAME.png \
                 (or .webp, .jpg)",
                match said {
                    Said::Extension => format!("a .{} file", format.name()),
                    _ => format!("--format {}", format.name()),
                }
            )),
            Gif => Ok(Output::Gif(self.target())),
            Y4m => Ok(Output::Y4m {
                target: self.target(),
                fps: fps.unwrap_or(DEFAULT_Y4M_FPS),
            }),
            Html if still => usage(
                "--at, --snapshot and --frame write one image; an HTML report holds every \
                 snapshot (open it at snapshot N with report.html#s=N)"
                    .into(),
            ),
            Html => Ok(Output::Html(self.target())),
            Webp => self.still(StillFormat::Webp, still),
            Jpeg => self.still(StillFormat::Jpeg, still),
            Png => self.png(said, still, force),
        }
    }

    /// Where a GIF, a video or a report goes: standard output for `-`, else the file.
    fn target(&self) -> Target {
        if self.stdout {
            Target::Stdout
        } else {
            Target::File(self.path.to_path_buf())
        }
    }

    /// A WebP or JPEG name: always one frame, and always a file (an image is not streamed).
    fn still(&self, format: StillFormat, still: bool) -> Result<Output> {
        if self.stdout {
            return usage("a still cannot go to standard output: name a file".into());
        }
        if !still {
            return usage(format!(
                "{} names one image: add --at TIME, --snapshot N or --frame N to write one frame",
                self.path.display()
            ));
        }
        Ok(Output::Still(self.path.to_path_buf(), format))
    }

    /// A PNG name is a still or a directory of frames: a still needs a file name, and the
    /// frames a directory, so each refuses the other's name and says which to give.
    fn png(&self, said: Said, still: bool, force: bool) -> Result<Output> {
        let shown = self.path.display();
        let file = || self.path.to_path_buf();
        if self.stdout {
            usage(
                "PNG images cannot go to standard output: name a directory for the frames, \
                 or a .png file for one frame"
                    .into(),
            )
        } else if still && self.is_dir {
            usage(format!(
                "{shown} is a directory: one frame needs a file name, such as snap.png"
            ))
        } else if still && said == Said::Directory {
            // A directory-like name without --format: a still should be called NAME.png.
            usage(format!(
                "one frame is a PNG image: name it {shown}.png (or say --format png)"
            ))
        } else if still {
            Ok(Output::Still(file(), StillFormat::Png))
        } else if said == Said::Extension {
            usage(format!(
                "{shown} names one image: add --at TIME, --snapshot N or --frame N to write one \
                     frame, or give a directory (frames/) for all of them"
            ))
        } else {
            Ok(Output::PngSequence { dir: file(), force })
        }
    }

    /// The refusal of a name that says no kind: a video memanim leaves to ffmpeg, or an
    /// extension it does not know.
    fn unknown_kind(&self) -> Error {
        let shown = self.path.display();
        let named = self
            .ext
            .as_ref()
            .map_or(String::new(), |e| format!(" '.{e}'"));
        let video = self
            .ext
            .as_deref()
            .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e));
        Error::Usage(if video {
            format!(
                "memanim does not write{named} videos itself: write Y4M and let ffmpeg \
                 encode it, as in `memanim CAPTURE --format y4m -o - | ffmpeg -i - {shown}`"
            )
        } else {
            format!(
                "cannot tell what to write from the name{named} of {shown}: use .gif, \
                 .html, .png, .webp or .jpg (with --at, --snapshot or --frame), .y4m, \
                 a directory for PNG frames, or say it with --format"
            )
        })
    }
}

/// A usage error, as a result.
fn usage<T>(msg: String) -> Result<T> {
    Err(Error::Usage(msg))
}

/// Memory the frames of one batch may take (bytes). Two batches are in memory at a time (one
/// being written while the next is rendered).
pub const FRAME_MEMORY: u64 = 16 << 20;

/// Frames per batch: `options.batch`, but few enough that a batch stays under [`FRAME_MEMORY`].
pub fn batch_size(options: &RenderOptions, layout: &Layout) -> usize {
    let px = (layout.width as u64 * layout.height as u64).max(1);
    options.batch.clamp(1, (FRAME_MEMORY / px).max(1) as usize)
}

/// What [`Output::write`] needs besides the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSettings {
    /// How often a GIF plays: 0 = forever.
    pub loop_count: u16,
    /// Frames rendered per batch ([`batch_size`]).
    pub batch: usize,
    /// A GIF's byte budget (`--max-size`): past it the write stops with
    /// [`budget::OverBudget`] and nothing is written.
    pub limit: Option<u64>,
}

/// What [`Output::write`] wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Written {
    /// Frames (or files, or video frames) written.
    pub frames: usize,
    /// Bytes written: the file, the frames directory's files, or what went to standard output.
    pub bytes: u64,
    /// How long it plays (ms) when the output decides that itself: a GIF plays the sum of the
    /// delays it wrote. None for the others, which play the schedule's time.
    pub played_ms: Option<f64>,
}

impl Output {
    /// Renders the frames of `schedule` with `renderer` (built for that schedule) and writes
    /// them as this output: all of them, or frame `still` alone for a still. `progress` is
    /// called with the schedule frames done.
    ///
    /// A file appears only once complete; on any error nothing is left behind and an existing
    /// file of that name is untouched.
    pub fn write(
        &self,
        capture: &Capture,
        schedule: &Schedule,
        renderer: &Renderer<'_>,
        still: usize,
        settings: WriteSettings,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Written> {
        let delays: Vec<u16> = schedule.frames.iter().map(|f| f.delay_cs).collect();
        let total = delays.len();
        let written = |frames, bytes| Written {
            frames,
            bytes,
            played_ms: None,
        };
        match self {
            Output::Gif(target) => write_gif(target, renderer, &delays, settings, progress),
            Output::Still(path, format) => {
                let path = still::write_still(renderer, still, path, *format)?;
                progress(1);
                Ok(written(1, fs::metadata(&path).map_or(0, |m| m.len())))
            }
            Output::Html(target) => {
                let page = html::Report::new(capture, schedule, renderer, progress)?;
                let ((), bytes) = write_to(target, 8 << 10, |w| page.write(w))?;
                Ok(written(total, bytes))
            }
            Output::PngSequence { dir, force } => {
                png::write_sequence(renderer, &delays, dir, *force, settings.batch, progress)?;
                Ok(written(total, png::sequence_bytes(dir, total)))
            }
            Output::Y4m { target, fps } => {
                let (frames, bytes) = write_to(target, 1 << 20, |w| {
                    y4m::write_y4m(w, renderer, &delays, *fps, settings.batch, progress)
                })?;
                Ok(written(frames, bytes))
            }
        }
    }
}

/// Runs `write` on `target`, counting the bytes: into an [`atomic::AtomicFile`] committed when
/// it succeeds, or standard output through a buffer of `capacity` bytes, flushed at the end.
/// Gives what `write` gave and the bytes it wrote.
fn write_to<T>(
    target: &Target,
    capacity: usize,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> Result<(T, u64)> {
    match target {
        Target::File(path) => {
            let mut file = atomic::AtomicFile::create(path)?;
            let mut counted = budget::Limited::new(&mut file, None);
            let written = write(&mut counted);
            let bytes = counted.written();
            let value = written.map_err(|e| file.error(e))?;
            file.commit()?;
            Ok((value, bytes))
        }
        Target::Stdout => {
            let stdout = BufWriter::with_capacity(capacity, std::io::stdout().lock());
            let mut out = budget::Limited::new(stdout, None);
            let value = write(&mut out)
                .and_then(|value| out.flush().map(|()| value))
                .map_err(stdout_error)?;
            Ok((value, out.written()))
        }
    }
}

/// Writes the GIF to `target`, stopped at `settings.limit` bytes. Gives the writer's figures
/// and the play time.
fn write_gif(
    target: &Target,
    renderer: &Renderer<'_>,
    delays: &[u16],
    settings: WriteSettings,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Written> {
    let gif = GifJob {
        renderer,
        delays,
        settings: gif::GifSettings {
            loop_count: settings.loop_count,
            batch: settings.batch,
        },
        progress,
    };
    let limit = settings.limit;
    let (stats, bytes) = match target {
        // A device or a FIFO is written in place, where a pass stopped at the limit could not
        // be taken back: with a limit, hold the GIF until it fits.
        Target::File(path) if limit.is_some() && fs::metadata(path).is_ok_and(|m| !m.is_file()) => {
            gif.held_to_file(path, limit)?
        }
        Target::File(path) => gif.to_file(path, limit)?,
        // Held until it is known to fit: a second pass must not follow a first that already
        // went out.
        Target::Stdout if limit.is_some() => gif.held_to_stdout(limit)?,
        Target::Stdout => gif.to_stdout()?,
    };
    Ok(Written {
        frames: stats.frames,
        bytes,
        played_ms: Some(stats.play_cs as f64 * 10.0),
    })
}

/// One GIF and the ways [`write_gif`] sends it out: each gives the writer's figures and the
/// bytes written.
struct GifJob<'a, 'r> {
    renderer: &'a Renderer<'r>,
    delays: &'a [u16],
    settings: gif::GifSettings,
    progress: &'a (dyn Fn(usize) + Sync),
}

impl GifJob<'_, '_> {
    /// The GIF written to `w`; `name` is the output's name for messages.
    fn write<W: Write>(&self, w: W, name: &Path) -> Result<(W, gif::GifStats)> {
        let (renderer, delays, progress) = (self.renderer, self.delays, self.progress);
        gif::write_gif(w, renderer, delays, self.settings, name, progress)
    }

    /// The whole GIF in memory, at most `limit` bytes: nothing goes out before it is known to fit.
    fn held(&self, name: &Path, limit: Option<u64>) -> Result<(Vec<u8>, gif::GifStats)> {
        let (buf, stats) = self.write(budget::Limited::new(Vec::new(), limit), name)?;
        Ok((buf.into_inner(), stats))
    }

    /// Held in memory, then written to `path` in one go (a device or a FIFO).
    fn held_to_file(&self, path: &Path, limit: Option<u64>) -> Result<(gif::GifStats, u64)> {
        let (buf, stats) = self.held(path, limit)?;
        let mut file = atomic::AtomicFile::create(path)?;
        file.write_all(&buf).map_err(|e| file.error(e))?;
        file.commit()?;
        Ok((stats, buf.len() as u64))
    }

    /// Streamed into a file that appears at `path` once complete, stopped at `limit` bytes.
    fn to_file(&self, path: &Path, limit: Option<u64>) -> Result<(gif::GifStats, u64)> {
        let file = budget::Limited::new(atomic::AtomicFile::create(path)?, limit);
        let (file, stats) = self.write(file, path)?;
        let bytes = file.written();
        file.into_inner().commit()?;
        Ok((stats, bytes))
    }

    /// Held in memory, then written to standard output in one go.
    fn held_to_stdout(&self, limit: Option<u64>) -> Result<(gif::GifStats, u64)> {
        let (buf, stats) = self.held(Path::new(STDOUT), limit)?;
        let mut out = std::io::stdout().lock();
        out.write_all(&buf)
            .and_then(|_| out.flush())
            .map_err(stdout_error)?;
        Ok((stats, buf.len() as u64))
    }

    /// Streamed to standard output as it is made (no limit: nothing to take back).
    fn to_stdout(&self) -> Result<(gif::GifStats, u64)> {
        let out = budget::Limited::new(BufWriter::new(std::io::stdout().lock()), None);
        let (mut out, stats) = self.write(out, Path::new(STDOUT))?;
        out.flush().map_err(stdout_error)?;
        Ok((stats, out.written()))
    }
}

/// Standard output, as messages name it.
const STDOUT: &str = "standard output";

/// An error writing to standard output.
fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: STDOUT.into(),
        source,
    }
}

/// Renders frames `indices` in batches of at most `batch` and hands each batch, in order, to
/// `sink`. At most two batches are in memory: the one `sink` is writing and the next, which the
/// workers render meanwhile, so the writer's sequential work does not leave a core idle.
///
/// A batch is cut into one run of consecutive frames per worker thread; a run draws its first
/// frame in full and each next one over it, repainting only what changed. Object ages (`--color
/// age`) depend on every frame before, so they are worked out here, in order, before the batch
/// is handed to the workers.
pub fn render_batches(
    renderer: &Renderer<'_>,
    indices: &[usize],
    batch: usize,
    mut sink: impl FnMut(&[usize], Vec<Frame>) -> Result<()>,
) -> Result<()> {
    let mut tracker = renderer.age_tracker();
    let render = |chunk: &[usize], ages: &[Option<AgeClasses>]| -> Vec<Frame> {
        let run = chunk.len().div_ceil(rayon::current_num_threads().max(1));
        let runs: Vec<Vec<Frame>> = chunk
            .par_chunks(run)
            .zip(ages.par_chunks(run))
            .map(|(frames, ages)| renderer.render_run(frames, ages))
            .collect();
        runs.into_iter().flatten().collect()
    };
    let mut ready: Option<(&[usize], Vec<Frame>)> = None;
    for chunk in indices.chunks(batch.max(1)) {
        if renderer.is_cancelled() {
            return Err(crate::error::Error::Interrupted);
        }
        let ages: Vec<Option<AgeClasses>> = chunk
            .iter()
            .map(|&i| tracker.as_mut().map(|t| renderer.observe(t, i)))
            .collect();
        let mut next = None;
        let written = rayon::in_place_scope(|s| {
            s.spawn(|_| next = Some(render(chunk, &ages)));
            match ready.take() {
                Some((c, frames)) => sink(c, frames),
                None => Ok(()),
            }
        });
        written?;
        ready = next.map(|frames| (chunk, frames));
    }
    match ready {
        Some((c, frames)) => sink(c, frames),
        None => Ok(()),
    }
}

/// A rough upper estimate of the bytes an output will take, to refuse a run that would fill the
/// disk before it starts. GIF and PNG figures are several times what the samples need
/// (3.3 KB and 21 KB a frame at 688x660); Y4M is exact.
pub fn estimate_bytes(
    output: &Output,
    frames: usize,
    video_frames: usize,
    width: u32,
    height: u32,
) -> u64 {
    let px = width as u64 * height as u64;
    match output {
        Output::Gif(_) => frames as u64 * (px / 40 + 64),
        Output::PngSequence { .. } => frames as u64 * (px / 8 + 1024),
        Output::Still(..) => px * 3 + 1024,
        Output::Y4m { .. } => video_frames as u64 * (px * 3 / 2 + 6) + 64,
        // The map's blocks (a key every 32 frames, deltas between), a line of status per frame
        // and the objects: far above the 10 KB a frame the samples take.
        Output::Html(_) => frames as u64 * (px / 16 + 4096) + (1 << 20),
    }
}

/// Refuses an output that would not fit in the free space of its file system.
pub fn check_space(output: &Output, estimate: u64) -> Result<()> {
    let dir = match output {
        Output::Gif(Target::File(p))
        | Output::Y4m {
            target: Target::File(p),
            ..
        }
        | Output::Html(Target::File(p))
        | Output::Still(p, _) => p.parent().map(Path::to_path_buf),
        Output::PngSequence { dir, .. } => dir.parent().map(Path::to_path_buf),
        _ => return Ok(()),
    };
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => PathBuf::from("."),
    };
    if let Some(free) = free_space(&dir) {
        if estimate > free {
            return Err(Error::Write {
                path: output.describe().into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    format!(
                        "it would need about {} but only {} is free there; shorten it with \
                         --from/--to, --fps or --speed, or use a smaller --cell",
                        crate::render::human_bytes(estimate),
                        crate::render::human_bytes(free)
                    ),
                ),
            });
        }
    }
    Ok(())
}

/// Free bytes for an unprivileged user on the file system holding `dir`, if the OS says.
///
/// None for a file system that reports no size at all (`/proc`, `/sys`): its "0 bytes free" says
/// nothing about space, and writing there fails for its own reason, which the write reports.
fn free_space(dir: &Path) -> Option<u64> {
    let stats = fs4::statvfs(dir).ok()?;
    (stats.total_space() > 0).then(|| stats.available_space())
}
