//! Frames → animated GIF with one global palette: the renderer's schedule and its delays go in,
//! a GIF comes out on any writer, with [`GifStats`] saying how many frames it holds and how long
//! it plays.
//!
//! Per batch: frames are rendered in parallel; each frame identical to the one before is merged into
//! it (its delay added); every kept frame is cut to the rectangle that changed, with unchanged pixels
//! made transparent, and LZW-compressed in parallel ([`super::lzw`]); then frames are written in
//! schedule order. The newest kept frame waits (`pending`) until the next different frame is
//! known, since merging may still lengthen its delay.

use std::io::Write;
use std::path::Path;

use gif::{DisposalMethod, Encoder, Repeat};
use rayon::prelude::*;

use super::lzw::Lzw;
use super::render_batches;
use crate::error::{Error, Result};
use crate::render::frame::Frame;
use crate::render::palette::{self, ix};
use crate::render::{Layout, Renderer};

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

/// A kept frame: its full pixels and its delay, which grows while the frames after it are
/// identical to it.
struct Kept {
    frame: Frame,
    delay_cs: u32,
}

/// Writes every frame of the renderer's schedule to `w`. `progress` is called with the number of
/// schedule frames done so far; `name` is the output's name for error messages.
///
/// Frames identical to the one before are merged into it (their delays added); the others are
/// cut to the rectangle that changed. The encoder is finished explicitly and `w` handed back, so
/// a failed last write is an error here, not lost in a drop.
pub fn write_gif<W: Write>(
    w: W,
    renderer: &Renderer<'_>,
    delays: &[u16],
    settings: GifSettings,
    name: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(W, GifStats)> {
    let err = |e: GifError| e.into_error(name);
    let mut gif = GifWriter::new(w, &renderer.layout, settings.loop_count).map_err(err)?;
    let indices: Vec<usize> = (0..delays.len()).collect();
    render_batches(renderer, &indices, settings.batch, |chunk, frames| {
        let kept = gif.merge_identical(chunk, frames, delays);
        // Every frame of this batch merged into the one before: it may grow further still.
        if !kept.is_empty() {
            gif.write_batch(kept).map_err(err)?;
        }
        progress(chunk.last().map_or(0, |&i| i + 1));
        Ok(())
    })?;
    gif.finish().map_err(err)
}

/// The encoder and what it holds back between batches.
struct GifWriter<W: Write> {
    enc: Encoder<W>,
    stats: GifStats,
    /// The last kept frame: what the next frame is compared with and drawn over.
    prev: Option<Kept>,
    /// `prev`, encoded, waiting to be written until its delay is final (the next different
    /// frame is known).
    pending: Option<gif::Frame<'static>>,
}

impl<W: Write> GifWriter<W> {
    /// Writes the header: the layout's size, the global palette, the loop count (0 = forever).
    fn new(w: W, layout: &Layout, loop_count: u16) -> std::result::Result<Self, GifError> {
        let (width, height) = (dim(layout.width)?, dim(layout.height)?);
        let mut enc = Encoder::new(w, width, height, &palette::gif_palette())?;
        enc.set_repeat(match loop_count {
            0 => Repeat::Infinite,
            n => Repeat::Finite(n),
        })?;
        Ok(GifWriter {
            enc,
            stats: GifStats::default(),
            prev: None,
            pending: None,
        })
    }

    /// The frames of one batch (schedule indices `chunk`) that differ from the frame before
    /// them, in order; an identical frame adds its delay to the frame before (which may be
    /// `prev`, from an earlier batch).
    fn merge_identical(
        &mut self,
        chunk: &[usize],
        frames: Vec<Frame>,
        delays: &[u16],
    ) -> Vec<Kept> {
        let mut kept: Vec<Kept> = Vec::with_capacity(frames.len());
        for (&i, frame) in chunk.iter().zip(frames) {
            let delay = delays[i] as u32;
            let last = if kept.is_empty() {
                self.prev.as_mut()
            } else {
                kept.last_mut()
            };
            match last {
                Some(last) if last.frame.pixels == frame.pixels => {
                    last.delay_cs += delay;
                    self.stats.merged_identical += 1;
                }
                _ => kept.push(Kept {
                    frame,
                    delay_cs: delay,
                }),
            }
        }
        kept
    }

    /// Writes the pending frame (its delay is final now that `kept` differs from it), encodes
    /// `kept` (not empty) in parallel, writes all but the last, and holds the last back.
    fn write_batch(&mut self, mut kept: Vec<Kept>) -> std::result::Result<(), GifError> {
        self.write_pending()?;
        let mut encoded = encode_kept(self.prev.as_ref().map(|k| &k.frame), &kept);
        let last = encoded.pop().expect("kept is not empty");
        for f in &encoded {
            self.write(f)?;
        }
        self.pending = Some(last);
        self.prev = kept.pop();
        Ok(())
    }

    /// Writes the frame held back, with the delay `prev` has grown to.
    fn write_pending(&mut self) -> std::result::Result<(), GifError> {
        if let Some(mut p) = self.pending.take() {
            p.delay = clamp_delay(self.prev.as_ref().map_or(2, |k| k.delay_cs));
            self.write(&p)?;
        }
        Ok(())
    }

    fn write(&mut self, f: &gif::Frame<'static>) -> std::result::Result<(), GifError> {
        self.enc.write_lzw_pre_encoded_frame(f)?;
        self.stats.frames += 1;
        self.stats.play_cs += f.delay as u64;
        Ok(())
    }

    /// Writes the last frame and the trailer; gives back the writer.
    fn finish(mut self) -> std::result::Result<(W, GifStats), GifError> {
        self.write_pending()?;
        Ok((self.enc.into_inner()?, self.stats))
    }
}

/// `kept` as GIF frames, each cut to what changed since the one before (the first since
/// `base`, the previous batch's last frame; drawn in full without one) and LZW-compressed, in
/// parallel, in order.
fn encode_kept(base: Option<&Frame>, kept: &[Kept]) -> Vec<gif::Frame<'static>> {
    kept.par_iter()
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
        .collect()
}

/// A delay as GIF stores it (cs): at least 2, since browsers show shorter ones at 10.
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

/// The part of `cur` that differs from `prev`, with unchanged pixels transparent; all of `cur`
/// without a `prev`. Frames are drawn over the one before (`DisposalMethod::Keep`).
pub(crate) fn delta_frame(cur: &Frame, prev: Option<&Frame>) -> gif::Frame<'static> {
    let Some(prev) = prev else {
        return gif::Frame {
            width: cur.width as u16,
            height: cur.height as u16,
            buffer: cur.pixels.clone().into(),
            dispose: DisposalMethod::Keep,
            ..gif::Frame::default()
        };
    };
    let Some(r) = changed_rect(cur, prev) else {
        // Identical (only possible when the caller did not merge): one transparent pixel.
        return gif::Frame {
            width: 1,
            height: 1,
            buffer: vec![ix::TRANSPARENT].into(),
            transparent: Some(ix::TRANSPARENT),
            dispose: DisposalMethod::Keep,
            ..gif::Frame::default()
        };
    };
    let w = cur.width as usize;
    let mut buf = Vec::with_capacity((r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1));
    for y in r.y0..=r.y1 {
        let a = &cur.pixels[y * w + r.x0..y * w + r.x1 + 1];
        let b = &prev.pixels[y * w + r.x0..y * w + r.x1 + 1];
        buf.extend(
            a.iter()
                .zip(b)
                .map(|(&p, &q)| if p == q { ix::TRANSPARENT } else { p }),
        );
    }
    gif::Frame {
        left: r.x0 as u16,
        top: r.y0 as u16,
        width: (r.x1 - r.x0 + 1) as u16,
        height: (r.y1 - r.y0 + 1) as u16,
        buffer: buf.into(),
        transparent: Some(ix::TRANSPARENT),
        dispose: DisposalMethod::Keep,
        ..gif::Frame::default()
    }
}

/// A rectangle of pixels, corners included.
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// The smallest rectangle holding every pixel where `cur` and `prev` (same size) differ; None
/// when they are identical.
fn changed_rect(cur: &Frame, prev: &Frame) -> Option<Rect> {
    let w = cur.width as usize;
    let mut r: Option<Rect> = None;
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
        r = Some(match r {
            None => Rect {
                x0: first,
                y0: y,
                x1: last,
                y1: y,
            },
            Some(r) => Rect {
                x0: r.x0.min(first),
                y0: r.y0,
                x1: r.x1.max(last),
                y1: y,
            },
        });
    }
    r
}

/// Why writing a GIF failed.
#[derive(Debug)]
pub enum GifError {
    /// Writing the bytes failed.
    Io(std::io::Error),
    /// The `gif` crate refused the image.
    Format(gif::EncodingError),
    /// A side of the frame (px) is more than a GIF can hold (65,535).
    TooLarge(u32),
}

impl From<gif::EncodingError> for GifError {
    fn from(e: gif::EncodingError) -> Self {
        match e {
            gif::EncodingError::Io(io) => GifError::Io(io),
            other => GifError::Format(other),
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
            GifError::Format(e) => Error::Encode {
                path: path.to_path_buf(),
                source: e.into(),
            },
            GifError::TooLarge(v) => Error::Encode {
                path: path.to_path_buf(),
                source: format!("a GIF side is at most 65535 px, this one would be {v}; use a smaller --cell or --columns").into(),
            },
        }
    }
}
