//! Frames → animated GIF with one global palette.
//!
//! Per batch: frames are rendered in parallel; each frame identical to the one before is merged into
//! it (its delay added); every kept frame is cut to the rectangle that changed, with unchanged pixels
//! made transparent, and LZW-compressed in parallel; then frames are written in schedule order. The
//! newest kept frame waits (`pending`) until the next different frame is known, since merging may
//! still lengthen its delay.

use std::io::Write;
use std::path::Path;

use gif::{DisposalMethod, Encoder, Repeat};
use rayon::prelude::*;

use super::lzw::Lzw;
use super::render_batches;
use crate::error::{Error, Result};
use crate::render::frame::Frame;
use crate::render::palette::{self, ix};
use crate::render::Renderer;

/// What the GIF writer needs beyond the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GifSettings {
    /// 0 = loop forever.
    pub loop_count: u16,
    /// Frames rendered and compressed per batch.
    pub batch: usize,
}

/// Figures about a written GIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GifStats {
    /// Frames in the file (after merging identical ones).
    pub frames: usize,
    /// Schedule frames merged into the one before because they looked the same.
    pub merged_identical: usize,
    /// The sum of the delays written (cs): how long the GIF plays.
    pub play_cs: u64,
}

/// A kept frame: its full pixels, its schedule delay, and how it is encoded.
struct Kept {
    frame: Frame,
    delay_cs: u32,
}

/// Writes every frame of the renderer's schedule to `w`. `progress` is called with the number of
/// schedule frames done so far; `name` is the output's name for error messages.
pub fn write_gif<W: Write>(
    w: W,
    renderer: &Renderer<'_>,
    delays: &[u16],
    settings: GifSettings,
    name: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(W, GifStats)> {
    let err = |e: GifError| e.into_error(name);
    let l = &renderer.layout;
    let (width, height) = (dim(l.width).map_err(err)?, dim(l.height).map_err(err)?);
    let mut enc =
        Encoder::new(w, width, height, &palette::gif_palette()).map_err(|e| err(e.into()))?;
    enc.set_repeat(match settings.loop_count {
        0 => Repeat::Infinite,
        n => Repeat::Finite(n),
    })
    .map_err(|e| err(e.into()))?;
    let mut stats = GifStats::default();
    let mut prev: Option<Kept> = None; // the last kept frame (already encoded, waiting for its delay)
    let mut pending: Option<gif::Frame<'static>> = None;
    let indices: Vec<usize> = (0..delays.len()).collect();
    render_batches(renderer, &indices, settings.batch, |chunk, frames| {
        // Decide which frames are kept; identical ones add their delay to the frame before.
        let mut kept: Vec<Kept> = Vec::with_capacity(frames.len());
        for (&i, frame) in chunk.iter().zip(frames) {
            let delay = delays[i] as u32;
            let last = if kept.is_empty() {
                prev.as_mut()
            } else {
                kept.last_mut()
            };
            match last {
                Some(last) if last.frame.pixels == frame.pixels => {
                    last.delay_cs += delay;
                    stats.merged_identical += 1;
                }
                _ => kept.push(Kept {
                    frame,
                    delay_cs: delay,
                }),
            }
        }
        let end = chunk.last().map_or(0, |&i| i + 1);
        // The previous batch's last frame may have grown: it is complete now unless every frame of
        // this batch merged into it.
        if kept.is_empty() {
            progress(end);
            return Ok(());
        }
        if let Some(mut p) = pending.take() {
            p.delay = clamp_delay(prev.as_ref().map_or(2, |k| k.delay_cs));
            enc.write_lzw_pre_encoded_frame(&p)
                .map_err(|e| err(e.into()))?;
            stats.frames += 1;
            stats.play_cs += p.delay as u64;
        }
        let base = prev.as_ref().map(|k| &k.frame);
        let mut encoded: Vec<gif::Frame<'static>> = kept
            .par_iter()
            .enumerate()
            .map_init(Lzw::new, |lzw, (k, cur)| {
                let before = if k == 0 {
                    base
                } else {
                    Some(&kept[k - 1].frame)
                };
                let mut f = delta_frame(&cur.frame, before);
                f.delay = clamp_delay(cur.delay_cs);
                compress(&mut f, lzw);
                f
            })
            .collect();
        let last = encoded.pop().expect("kept is not empty");
        for f in &encoded {
            enc.write_lzw_pre_encoded_frame(f)
                .map_err(|e| err(e.into()))?;
            stats.frames += 1;
            stats.play_cs += f.delay as u64;
        }
        pending = Some(last);
        prev = kept.pop();
        progress(end);
        Ok(())
    })?;
    if let Some(mut p) = pending {
        p.delay = clamp_delay(prev.as_ref().map_or(2, |k| k.delay_cs));
        enc.write_lzw_pre_encoded_frame(&p)
            .map_err(|e| err(e.into()))?;
        stats.frames += 1;
        stats.play_cs += p.delay as u64;
    }
    let w = enc.into_inner().map_err(|e| err(e.into()))?;
    Ok((w, stats))
}

fn clamp_delay(cs: u32) -> u16 {
    cs.clamp(2, u16::MAX as u32) as u16
}

fn dim(v: u32) -> std::result::Result<u16, GifError> {
    u16::try_from(v).map_err(|_| GifError::TooLarge(v))
}

/// Replaces a frame's pixels by their LZW codes, for `Encoder::write_lzw_pre_encoded_frame`.
pub(crate) fn compress(frame: &mut gif::Frame<'static>, lzw: &mut Lzw) {
    frame.buffer = lzw.compress(&frame.buffer).into();
}

/// The part of `cur` that differs from `prev`, with unchanged pixels transparent.
pub(crate) fn delta_frame(cur: &Frame, prev: Option<&Frame>) -> gif::Frame<'static> {
    let w = cur.width as usize;
    let Some(prev) = prev else {
        return gif::Frame {
            width: cur.width as u16,
            height: cur.height as u16,
            buffer: cur.pixels.clone().into(),
            dispose: DisposalMethod::Keep,
            ..gif::Frame::default()
        };
    };
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
    for (y, (a, b)) in cur
        .pixels
        .chunks_exact(w)
        .zip(prev.pixels.chunks_exact(w))
        .enumerate()
    {
        if a == b {
            continue;
        }
        let first = a.iter().zip(b).position(|(p, q)| p != q).unwrap_or(0);
        let last = w
            - 1
            - a.iter()
                .rev()
                .zip(b.iter().rev())
                .position(|(p, q)| p != q)
                .unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y;
    }
    if x0 == usize::MAX {
        // Identical (only possible when the caller did not merge): one transparent pixel.
        return gif::Frame {
            width: 1,
            height: 1,
            buffer: vec![ix::TRANSPARENT].into(),
            transparent: Some(ix::TRANSPARENT),
            dispose: DisposalMethod::Keep,
            ..gif::Frame::default()
        };
    }
    let (rw, rh) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut buf = Vec::with_capacity(rw * rh);
    for y in y0..=y1 {
        let a = &cur.pixels[y * w + x0..y * w + x1 + 1];
        let b = &prev.pixels[y * w + x0..y * w + x1 + 1];
        buf.extend(
            a.iter()
                .zip(b)
                .map(|(&p, &q)| if p == q { ix::TRANSPARENT } else { p }),
        );
    }
    gif::Frame {
        left: x0 as u16,
        top: y0 as u16,
        width: rw as u16,
        height: rh as u16,
        buffer: buf.into(),
        transparent: Some(ix::TRANSPARENT),
        dispose: DisposalMethod::Keep,
        ..gif::Frame::default()
    }
}

/// Why writing a GIF failed.
#[derive(Debug)]
pub enum GifError {
    Io(std::io::Error),
    Format(String),
    TooLarge(u32),
}

impl From<gif::EncodingError> for GifError {
    fn from(e: gif::EncodingError) -> Self {
        match e {
            gif::EncodingError::Io(io) => GifError::Io(io),
            other => GifError::Format(other.to_string()),
        }
    }
}

impl GifError {
    /// Attaches the output path.
    pub fn into_error(self, path: &std::path::Path) -> Error {
        match self {
            GifError::Io(source) => Error::Write {
                path: path.to_path_buf(),
                source,
            },
            GifError::Format(message) => Error::Encode {
                path: path.to_path_buf(),
                message,
            },
            GifError::TooLarge(v) => Error::Encode {
                path: path.to_path_buf(),
                message: format!("a GIF side is at most 65535 px, this one would be {v}; use a smaller --cell or --columns"),
            },
        }
    }
}
