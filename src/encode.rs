//! Writes the scheduled frames: an animated GIF, a PNG per frame with an ffmpeg concat file, one
//! still (PNG, WebP or JPEG), a constant-frame-rate Y4M video, or an interactive HTML report.
//! Every kind uses the same renderer and schedule; frames are rendered in parallel in bounded
//! batches and written in schedule order, and the report carries the renderer's layout so the
//! page draws what a still shows.

pub mod atomic;
pub mod budget;
pub mod gif;
pub mod html;
pub mod lzw;
pub mod png;
pub mod still;
pub mod y4m;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::render::frame::Frame;
use crate::render::{AgeClasses, Renderer};

/// Where the bytes go: a file (written atomically) or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    Stdout,
}

impl Target {
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
    Gif,
    Png,
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
    PngSequence { dir: PathBuf, force: bool },
    /// One frame as an image (`--at`, `--snapshot` or `--frame`): PNG, WebP or JPEG.
    Still(PathBuf, StillFormat),
    /// A constant-frame-rate Y4M video (frames repeated to follow real time).
    Y4m { target: Target, fps: f64 },
    /// One HTML page to scrub through every frame, hover and click blocks.
    Html(Target),
}

/// The Y4M frame rate when `--fps` is not given.
pub const DEFAULT_Y4M_FPS: f64 = 25.0;

/// Extensions of videos people ask for, which memanim makes through ffmpeg.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "webm", "mkv", "mov", "avi", "m4v"];

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

impl Output {
    /// The one place `-o` and `--format` become an output kind, checked before any work starts.
    ///
    /// `--format` always wins over the path's extension (`-o out.webm --format y4m` writes Y4M
    /// to out.webm, `-o vid --format y4m` a file named vid). Without it the extension decides:
    /// `.gif`, `.png` (a still: needs `still`), `.y4m`; a path ending in `/`, an existing
    /// directory, or a name without extension that does not exist yet is a directory of PNG
    /// frames. `-` is standard output and needs `--format`. Every refusal is a usage error that
    /// says what to write instead.
    pub fn choose(
        path: &Path,
        format: Option<Format>,
        still: bool,
        fps: Option<f64>,
        force: bool,
    ) -> Result<Output> {
        let shown = path.display();
        let explicit = format.is_some();
        let stdout = path.as_os_str() == "-";
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let is_dir = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
        let looks_dir = is_dir || (ext.is_none() && !stdout && !path.exists());
        // Whether the kind was read off a file extension (not --format, not a directory).
        let mut from_ext = false;
        let format = match format {
            Some(f) => f,
            None if stdout => {
                return Err(usage(
                    "writing to '-' (standard output) needs --format gif, y4m or html".into(),
                ))
            }
            None => match ext.as_deref().and_then(Format::from_extension) {
                Some(f) if !is_dir => {
                    from_ext = true;
                    f
                }
                _ if looks_dir => Format::Png,
                _ => {
                    let named = ext.as_ref().map_or(String::new(), |e| format!(" '.{e}'"));
                    let video = ext
                        .as_deref()
                        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e));
                    return Err(usage(if video {
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
                    }));
                }
            },
        };
        let target = || {
            if stdout {
                Target::Stdout
            } else {
                Target::File(path.to_path_buf())
            }
        };
        Ok(match format {
            Format::Gif | Format::Y4m if still => {
                return Err(usage(format!(
                    "--at, --snapshot and --frame write one image, not {}: use -o NAME.png \
                     (or .webp, .jpg)",
                    if from_ext {
                        format!("a .{} file", format.name())
                    } else {
                        format!("--format {}", format.name())
                    }
                )))
            }
            Format::Gif => Output::Gif(target()),
            Format::Y4m => Output::Y4m {
                target: target(),
                fps: fps.unwrap_or(DEFAULT_Y4M_FPS),
            },
            Format::Png if stdout => {
                return Err(usage(
                    "PNG images cannot go to standard output: name a directory for the frames, \
                     or a .png file for one frame"
                        .into(),
                ))
            }
            Format::Html if still => {
                return Err(usage(
                    "--at, --snapshot and --frame write one image; an HTML report holds every \
                     snapshot (open it at snapshot N with report.html#s=N)"
                        .into(),
                ))
            }
            Format::Html => Output::Html(target()),
            Format::Webp | Format::Jpeg if stdout => {
                return Err(usage(
                    "a still cannot go to standard output: name a file".into(),
                ))
            }
            Format::Webp | Format::Jpeg if !still => {
                return Err(usage(format!(
                    "{shown} names one image: add --at TIME, --snapshot N or --frame N to write one frame"
                )))
            }
            Format::Webp => Output::Still(path.to_path_buf(), StillFormat::Webp),
            Format::Jpeg => Output::Still(path.to_path_buf(), StillFormat::Jpeg),
            Format::Png if still && is_dir => {
                return Err(usage(format!(
                    "{shown} is a directory: one frame needs a file name, such as snap.png"
                )))
            }
            // A directory-like name without --format: a still should be called NAME.png.
            Format::Png if still && !from_ext && looks_dir && !explicit => {
                return Err(usage(format!(
                    "one frame is a PNG image: name it {shown}.png (or say --format png)"
                )))
            }
            Format::Png if still => Output::Still(path.to_path_buf(), StillFormat::Png),
            Format::Png if from_ext => {
                return Err(usage(format!(
                "{shown} names one image: add --at TIME, --snapshot N or --frame N to write one \
                     frame, or give a directory (frames/) for all of them"
            )))
            }
            Format::Png => Output::PngSequence {
                dir: path.to_path_buf(),
                force,
            },
        })
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
