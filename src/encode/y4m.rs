//! The renderer's frames and their delays go in; out comes a constant-frame-rate Y4M (YUV4MPEG2)
//! stream, 4:2:0, on any writer, which ffmpeg and most encoders read from a pipe with no
//! options: `memanim run.log --format y4m -o - | ffmpeg -i - out.mp4`.
//!
//! The GIF's variable delays become repeated frames: video frame k shows the schedule frame on
//! screen at k / fps. Each schedule frame is rendered once and converted once.

use std::io::Write;

use super::render_batches;
use crate::error::Result;
use crate::render::frame::Frame;
use crate::render::{palette, Renderer};

/// BT.601 limited range, which is what ffmpeg assumes for Y4M without a colour-range tag.
fn yuv(rgb: [u8; 3]) -> [u8; 3] {
    let (r, g, b) = (rgb[0] as f64, rgb[1] as f64, rgb[2] as f64);
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    [y.round() as u8, u.round() as u8, v.round() as u8]
}

/// How many video frames each schedule frame fills at `fps`, from the accumulated delays (so the
/// video's length matches the GIF's to within one video frame).
pub fn repeats(delays_cs: &[u16], fps: f64) -> Vec<usize> {
    let mut out = Vec::with_capacity(delays_cs.len());
    let mut t_cs = 0u64;
    let mut emitted = 0usize;
    for &d in delays_cs {
        t_cs += d as u64;
        let until = ((t_cs as f64 / 100.0) * fps).round() as usize;
        out.push(until.saturating_sub(emitted));
        emitted = emitted.max(until);
    }
    out
}

/// The stream header.
pub fn header(width: u32, height: u32, fps: f64) -> String {
    // A rational frame rate: fps in thousandths.
    let num = (fps * 1000.0).round() as u64;
    format!("YUV4MPEG2 W{width} H{height} F{num}:1000 Ip A1:1 C420jpeg\n")
}

/// One frame as Y, then U and V at half resolution (each the mean of a 2x2 block).
pub fn frame_bytes(frame: &Frame, out: &mut Vec<u8>) {
    let table: Vec<[u8; 3]> = palette::rgb().into_iter().map(yuv).collect();
    let (w, h) = (frame.width as usize, frame.height as usize);
    out.clear();
    out.extend_from_slice(b"FRAME\n");
    out.extend(frame.pixels.iter().map(|&p| table[p as usize][0]));
    for plane in [1, 2] {
        for y in (0..h).step_by(2) {
            for x in (0..w).step_by(2) {
                let mut sum = 0u32;
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (xx, yy) = ((x + dx).min(w - 1), (y + dy).min(h - 1));
                    sum += table[frame.pixels[yy * w + xx] as usize][plane] as u32;
                }
                out.push(((sum + 2) / 4) as u8);
            }
        }
    }
}

/// Writes the video. Returns the number of video frames.
pub fn write_y4m<W: Write + ?Sized>(
    w: &mut W,
    renderer: &Renderer<'_>,
    delays_cs: &[u16],
    fps: f64,
    batch: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> std::result::Result<usize, std::io::Error> {
    let l = &renderer.layout;
    w.write_all(header(l.width, l.height, fps).as_bytes())?;
    let reps = repeats(delays_cs, fps);
    let indices: Vec<usize> = (0..delays_cs.len()).collect();
    let mut written = 0;
    let mut io_err = None;
    let mut buf = Vec::new();
    let mut done = 0;
    let res: Result<()> = render_batches(renderer, &indices, batch, |chunk, frames| {
        for (&i, frame) in chunk.iter().zip(&frames) {
            if reps[i] == 0 {
                continue;
            }
            frame_bytes(frame, &mut buf);
            for _ in 0..reps[i] {
                if let Err(e) = w.write_all(&buf) {
                    io_err = Some(e);
                    return Err(crate::error::Error::Interrupted);
                }
                written += 1;
            }
        }
        done += chunk.len();
        progress(done);
        Ok(())
    });
    if let Some(e) = io_err {
        return Err(e);
    }
    res.map_err(|e| std::io::Error::other(e.to_string()))?;
    w.flush()?;
    Ok(written)
}
