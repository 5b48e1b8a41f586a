//! Writes the scheduled frames: an animated GIF, a PNG per frame with an ffmpeg concat file, one
//! still (PNG, WebP or JPEG), a constant-frame-rate Y4M video, or an interactive HTML report.
//! Every kind uses the same renderer and schedule; frames are rendered in parallel in bounded
//! batches and written in schedule order, and the report carries the renderer's layout so the
//! page draws what a still shows.

pub mod atomic;
pub mod gif;
pub mod html;
pub mod png;
pub mod still;
pub mod y4m;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::render::{AgeClasses, Frame, Renderer};

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

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// One animated GIF.
    Gif(Target),
    /// `frame_000001.png`, ... and `ffconcat.txt` in a directory. `force` replaces earlier frames.
    PngSequence { dir: PathBuf, force: bool },
    /// One frame as an image (`--at` or `--frame`).
    Still(PathBuf, StillFormat),
    /// A constant-frame-rate Y4M video (frames repeated to follow real time).
    Y4m { target: Target, fps: f64 },
    /// One HTML page to scrub through every frame, hover and click blocks.
    Html(Target),
}

/// The Y4M frame rate when `--fps` is not given.
pub const DEFAULT_Y4M_FPS: f64 = 25.0;

impl Output {
    /// Chooses the output from `-o`, `--format` and whether one frame was asked for.
    pub fn choose(
        path: &Path,
        format: Option<Format>,
        still: bool,
        fps: Option<f64>,
        force: bool,
    ) -> std::result::Result<Output, String> {
        let stdout = path.as_os_str() == "-";
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let looks_dir = path.is_dir()
            || path.as_os_str().to_string_lossy().ends_with('/')
            || (ext.is_none() && !stdout && !path.exists());
        let from_path = match ext.as_deref() {
            _ if stdout => None,
            Some("gif") => Some(Format::Gif),
            Some("png") => Some(Format::Png),
            Some("y4m") => Some(Format::Y4m),
            Some("html" | "htm") => Some(Format::Html),
            Some("webp") => Some(Format::Webp),
            Some("jpg" | "jpeg") => Some(Format::Jpeg),
            _ if looks_dir => Some(Format::Png),
            Some(e) => {
                return Err(format!(
                    "cannot tell what to write from '.{e}' in {}: use .gif, .html, .png, .webp or .jpg \
                     (with --at or --frame), .y4m, a directory for PNG frames, or --format",
                    path.display()
                ))
            }
            None => None,
        };
        let format = match (format, from_path) {
            (Some(f), Some(p)) if f != p && !(f == Format::Png && looks_dir) => {
                return Err(format!(
                    "--format {} does not match the output {}",
                    format_name(f),
                    path.display()
                ))
            }
            (Some(f), _) => f,
            (None, Some(p)) => p,
            (None, None) => {
                return Err(
                    "writing to '-' (standard output) needs --format gif, y4m or html".into(),
                )
            }
        };
        let target = || {
            if stdout {
                Target::Stdout
            } else {
                Target::File(path.to_path_buf())
            }
        };
        Ok(match format {
            Format::Gif if still => return Err("--at and --frame write one PNG: use -o NAME.png".into()),
            Format::Gif => Output::Gif(target()),
            Format::Y4m if still => return Err("--at and --frame write one PNG: use -o NAME.png".into()),
            Format::Y4m => Output::Y4m {
                target: target(),
                fps: fps.unwrap_or(DEFAULT_Y4M_FPS),
            },
            Format::Png if stdout => return Err("PNG frames cannot go to standard output; name a directory".into()),
            Format::Html if still => return Err("--at and --frame write one image; an HTML report holds every frame (open it at frame N with report.html#s=N)".into()),
            Format::Html => Output::Html(target()),
            Format::Webp | Format::Jpeg if stdout => return Err("a still cannot go to standard output; name a file".into()),
            Format::Webp | Format::Jpeg if !still => {
                return Err(format!(
                    "{}: a .{} file holds one frame; add --at TIME or --frame N",
                    path.display(),
                    format_name(format)
                ))
            }
            Format::Webp => Output::Still(path.to_path_buf(), StillFormat::Webp),
            Format::Jpeg => Output::Still(path.to_path_buf(), StillFormat::Jpeg),
            Format::Png if still && !looks_dir => Output::Still(path.to_path_buf(), StillFormat::Png),
            Format::Png if still => {
                return Err(format!("{} is a directory: a still needs a file name ending in .png", path.display()))
            }
            Format::Png if ext.as_deref() == Some("png") => {
                return Err(format!(
                    "{}: a .png name writes one frame; add --at TIME or --frame N, or give a directory for all frames",
                    path.display()
                ))
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
}

pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Gif => "gif",
        Format::Png => "png",
        Format::Y4m => "y4m",
        Format::Html => "html",
        Format::Webp => "webp",
        Format::Jpeg => "jpg",
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
        if crate::interrupt::requested() {
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
    if let Some(free) = crate::interrupt::free_space(&dir) {
        if estimate > free {
            return Err(Error::Options(format!(
                "{} would need about {} but only {} is free there; shorten it with --from/--to, \
                 --fps or --speed, or use a smaller --cell",
                output.describe(),
                crate::render::human_bytes(estimate),
                crate::render::human_bytes(free)
            )));
        }
    }
    Ok(())
}
