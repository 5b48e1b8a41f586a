//! PNG frames: the renderer's frames and their delays go in; out comes a directory with one file
//! per frame (`frame_000001.png`, which ffmpeg's `%06d` pattern also reads) plus `ffconcat.txt`
//! with each frame's real duration for ffmpeg's concat demuxer. Frames are flat colours, so the
//! fastest compression level costs little in size. [`encode_png`] also writes stills
//! (`super::still`).

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tempfile::TempDir;

use super::atomic::TEMP_PREFIX;
use super::render_batches;
use crate::error::{Error, Result};
use crate::render::frame::Frame;
use crate::render::{palette, Renderer};

/// The name of frame `n` (1-based).
pub fn frame_name(n: usize) -> String {
    format!("frame_{n:06}.png")
}

/// The concat file written beside the frames.
pub const CONCAT_FILE: &str = "ffconcat.txt";

/// Encodes a frame as an indexed (palette) PNG: the frame already is palette indices, so this is
/// several times smaller and faster than RGB (long_run.log: 182 KB a frame as RGB).
pub fn encode_png(frame: &Frame) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(frame.pixels.len() / 8);
    let mut enc = png::Encoder::new(&mut out, frame.width, frame.height);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(palette::rgb().concat());
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header()?;
    w.write_image_data(&frame.pixels)?;
    w.finish()?;
    Ok(out)
}

/// Writes every frame and the concat file into `dir`; returns `dir`.
///
/// The frames go to a new temporary directory beside `dir` first; only when all are written do
/// they replace what was there, and on any failure the temporary directory is removed. A `dir`
/// holding anything else is refused unless `force`, and even then only the files memanim writes
/// are replaced.
pub fn write_sequence(
    renderer: &Renderer<'_>,
    delays_cs: &[u16],
    dir: &Path,
    force: bool,
    batch: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<PathBuf> {
    let werr = |source: std::io::Error| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let parent = check_frames_dir(dir, force)?;
    let name = dir
        .file_name()
        .map_or_else(|| "frames".into(), |n| n.to_string_lossy().into_owned());
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(&format!("-{name}"))
        .tempdir_in(&parent)
        .map_err(werr)?;
    write_frames(renderer, delays_cs.len(), tmp.path(), batch, progress)?;
    fs::write(tmp.path().join(CONCAT_FILE), concat_file(delays_cs)).map_err(werr)?;
    put_in_place(tmp, dir).map_err(werr)?;
    Ok(dir.to_path_buf())
}

/// The directory the frames directory `dir` goes in, once it is known that the frames may go
/// there: the parent exists, and `dir` is missing, empty, or (with `force`) a directory whose
/// frames may be replaced.
fn check_frames_dir(dir: &Path, force: bool) -> Result<PathBuf> {
    let werr = |source: std::io::Error| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(werr(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("directory {} does not exist", parent.display()),
        )));
    }
    if dir.exists() {
        if !dir.is_dir() {
            return Err(werr(std::io::Error::other(
                "it exists and is not a directory",
            )));
        }
        let any = fs::read_dir(dir).map_err(werr)?.next().is_some();
        if any && !force {
            return Err(Error::Usage(format!(
                "{} is not empty; memanim will not mix new frames with what is there (use --force to replace its frames)",
                dir.display()
            )));
        }
    }
    Ok(parent)
}

/// Renders the schedule's `frames` frames in batches of at most `batch` and writes each as
/// [`frame_name`] into `into`, encoding a batch's frames in parallel. `progress` is called with
/// the frames written so far, after each batch.
fn write_frames(
    renderer: &Renderer<'_>,
    frames: usize,
    into: &Path,
    batch: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<()> {
    let indices: Vec<usize> = (0..frames).collect();
    let mut done = 0;
    render_batches(renderer, &indices, batch, |chunk, frames| {
        frames
            .par_iter()
            .zip(chunk.par_iter())
            .try_for_each(|(frame, &i)| -> Result<()> {
                let path = into.join(frame_name(i + 1));
                let bytes = encode_png(frame).map_err(|e| Error::Encode {
                    path: path.clone(),
                    source: e.into(),
                })?;
                fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
            })?;
        done += chunk.len();
        progress(done);
        Ok(())
    })
}

/// Moves the finished frames from `tmp` to `dir`: a missing `dir` is `tmp` renamed; an existing
/// one loses its old frames and concat file (nothing else) and gets the new ones.
fn put_in_place(tmp: TempDir, dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        fs::rename(tmp.path(), dir)?;
        let _ = tmp.keep(); // it is `dir` now
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let n = entry.file_name().to_string_lossy().into_owned();
        if n == CONCAT_FILE || (n.starts_with("frame_") && n.ends_with(".png")) {
            fs::remove_file(entry.path())?;
        }
    }
    for entry in fs::read_dir(tmp.path())? {
        let entry = entry?;
        fs::rename(entry.path(), dir.join(entry.file_name()))?;
    }
    Ok(())
}

/// The bytes the frames and the concat file of a sequence of `frames` frames take in `dir`.
pub fn sequence_bytes(dir: &Path, frames: usize) -> u64 {
    (1..=frames)
        .map(frame_name)
        .chain([CONCAT_FILE.to_string()])
        .filter_map(|n| fs::metadata(dir.join(n)).ok())
        .map(|m| m.len())
        .sum()
}

/// ffmpeg's concat-demuxer script: each frame with its duration in seconds.
///
/// Two things make `ffmpeg -f concat -i ffconcat.txt out.mp4` last what the capture did:
/// - Durations sit on the 25 fps grid ffmpeg uses by default (40 ms steps), from accumulated times,
///   so no frame boundary is more than 20 ms off and the total never drifts. A frame shorter than
///   one video frame may get 0 s: a 25 fps video cannot show it.
/// - ffmpeg ignores the last entry's duration and guesses one from the frames before it (a 30 s
///   capture with 360 ms dumps came out 0.32 s long). So the last frame's hold is written as
///   40 ms entries, which makes the guess one video frame, and one entry is left for it.
pub fn concat_file(delays_cs: &[u16]) -> String {
    let mut s = String::from("ffconcat version 1.0\n");
    let entry = |s: &mut String, n: usize, ms: u64| {
        s.push_str(&format!(
            "file '{}'\nduration {}.{:03}\n",
            frame_name(n),
            ms / 1000,
            ms % 1000
        ));
    };
    let mut t_ms = 0u64;
    let mut shown_ms = 0u64;
    let last = delays_cs.len();
    for (i, d) in delays_cs.iter().enumerate() {
        t_ms += *d as u64 * 10;
        let end_ms = ((t_ms + VIDEO_FRAME_MS / 2) / VIDEO_FRAME_MS * VIDEO_FRAME_MS).max(shown_ms);
        let dur = end_ms - shown_ms;
        shown_ms = end_ms;
        if i + 1 < last {
            entry(&mut s, i + 1, dur);
        } else {
            for _ in 0..(dur / VIDEO_FRAME_MS).saturating_sub(1) {
                entry(&mut s, last, VIDEO_FRAME_MS);
            }
            s.push_str(&format!("file '{}'\n", frame_name(last)));
        }
    }
    s
}

/// One frame of ffmpeg's default 25 fps (ms).
pub const VIDEO_FRAME_MS: u64 = 40;
