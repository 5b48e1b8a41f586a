//! The timeline strip under the heap map: used memory (filled) and the largest free block (a
//! line) over the whole schedule, a red divider where the board was reset, and a cursor at the
//! frame being drawn.
//!
//! The strip is drawn once when the renderer is built and copied once onto each canvas; each
//! frame only moves the cursor: a small triangle under the strip rather than a line through it.
//! A line changes two full pixel columns in every frame; on long_run.log the triangle made the
//! GIF 21 KB smaller (about 47 bytes a frame).

use super::frame::Frame;
use super::palette::{self, ix};
use super::Layout;
use crate::capture::Capture;
use crate::heap::BlockKind;
use crate::timeline::Schedule;

/// The strip's pixels and where each frame's cursor goes.
#[derive(Debug, Clone)]
pub struct Strip {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pixels: Vec<u8>,
    /// Column of each schedule frame.
    cursor: Vec<u32>,
    /// Columns one frame takes, on average.
    step_cols: u32,
    /// The top of the scale (bytes).
    pub max: u64,
}

/// (used, largest free) bytes of each scheduled frame, as the status lines show them
/// ([`crate::capture::Session::figures`]); None where the dump does not tell.
fn figures(capture: &Capture, schedule: &Schedule) -> Vec<Option<(u64, Option<u64>)>> {
    let bs = capture.figures_block_size();
    schedule
        .frames
        .iter()
        .map(|f| {
            capture.sessions[f.snap.session]
                .figures(f.snap.index, bs)
                .map(|fig| (fig.used, fig.largest_free))
        })
        .collect()
}

/// The top of the strip's scale (bytes): the largest figure of `values`, or the largest heap a
/// dump's GC line gives when that is more, so a heap's size reads the same across sessions.
fn scale_top(capture: &Capture, values: &[Option<(u64, Option<u64>)>]) -> u64 {
    let heap = capture
        .metas()
        .filter_map(|(_, s)| s.gc.map(|g| g.total))
        .max()
        .unwrap_or(0);
    values
        .iter()
        .flatten()
        .map(|v| v.0.max(v.1.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(heap)
        .max(1)
}

/// The column of each scheduled frame on a strip `width` px wide.
fn frame_columns(schedule: &Schedule, width: u32) -> Vec<u32> {
    // Time axis: each frame's real time, so gaps show as gaps. The last frame gets a share
    // as wide as an average one, so that a few dumps (a paste of three) each get a column
    // range and the last is not squeezed into the right edge.
    let n = schedule.frames.len();
    let t0 = schedule.frames[0].elapsed_ms as f64;
    let last = schedule.frames[n - 1].elapsed_ms as f64;
    let step = if n > 1 {
        (last - t0) / (n - 1) as f64
    } else {
        0.0
    };
    let t1 = (last + step).max(t0 + 1.0);
    let col = |t: i64| (((t as f64 - t0) / (t1 - t0)) * (width - 1) as f64).round() as u32;
    schedule.frames.iter().map(|f| col(f.elapsed_ms)).collect()
}

impl Strip {
    /// The strip for the layout's place, drawn; None when the layout has none, it is too small
    /// to draw, or no frame is scheduled.
    pub fn new(capture: &Capture, schedule: &Schedule, l: &Layout) -> Option<Strip> {
        let (x, y, width, height) = l.strip?;
        let n = schedule.frames.len();
        if n == 0 || width < 4 || height < 4 {
            return None;
        }
        let values = figures(capture, schedule);
        let max = scale_top(capture, &values);
        let cursor = frame_columns(schedule, width);
        // Columns one frame takes, on average: the last frame of a session fills that many,
        // and the time between sessions (the board was off or rebooting) stays empty.
        let step_cols = if n > 1 {
            (cursor[n - 1] as f64 / (n - 1) as f64).ceil().max(1.0) as u32
        } else {
            width
        };
        let mut strip = Strip {
            x,
            y,
            width,
            height,
            pixels: vec![ix::PANEL; (width * height) as usize],
            cursor,
            step_cols,
            max,
        };
        strip.plot(schedule, &values);
        strip.draw_resets(schedule);
        Some(strip)
    }

    /// Plots `values` (one per frame) column by column: each column shows the frame on screen
    /// there, and a column with nothing to show stays empty.
    fn plot(&mut self, schedule: &Schedule, values: &[Option<(u64, Option<u64>)>]) {
        let n = schedule.frames.len();
        let mut k = 0;
        for cx in 0..self.width {
            // The frame on screen at this column.
            while k + 1 < n && self.cursor[k + 1] <= cx {
                k += 1;
            }
            let ends_session = schedule
                .frames
                .get(k + 1)
                .is_some_and(|f| f.snap.session != schedule.frames[k].snap.session);
            if ends_session && cx >= self.cursor[k] + self.step_cols {
                continue;
            }
            // A dump without figures (cut off, no GC line) leaves its columns empty.
            let Some((used, largest)) = values[k] else {
                continue;
            };
            self.plot_column(cx, used, largest);
        }
    }

    /// One column's figures: `used` bytes filled up from the bottom, the `largest` free block a
    /// line two pixels thick.
    fn plot_column(&mut self, cx: u32, used: u64, largest: Option<u64>) {
        let (width, height) = (self.width, self.height);
        let used_colour = palette::tail_index(BlockKind::Head);
        let free_colour = palette::head_index(BlockKind::Str);
        for yy in 0..self.rows_for(used) {
            self.pixels[((height - 1 - yy) * width + cx) as usize] = used_colour;
        }
        if let Some(largest) = largest {
            let yl = height - 1 - self.rows_for(largest).min(height - 1);
            self.pixels[(yl * width + cx) as usize] = free_colour;
            if yl + 1 < height {
                self.pixels[((yl + 1) * width + cx) as usize] = free_colour;
            }
        }
    }

    /// Pixel rows `v` bytes reach on the strip's scale.
    fn rows_for(&self, v: u64) -> u32 {
        ((v as f64 / self.max as f64) * (self.height - 1) as f64).round() as u32
    }

    /// A reset: a divider where each later session begins, over the whole height.
    fn draw_resets(&mut self, schedule: &Schedule) {
        let width = self.width;
        for (k, pair) in schedule.frames.windows(2).enumerate() {
            if pair[0].snap.session != pair[1].snap.session {
                let cx = self.cursor[k + 1].min(width - 1);
                for yy in 0..self.height {
                    self.pixels[(yy * width + cx) as usize] = ix::FREED;
                }
            }
        }
    }

    /// Marks a MemoryError just after frame `k`'s column: a dotted line down the strip in the
    /// warning colour, with a solid cap at the top (a reset's divider is solid red). It sits
    /// halfway to the next frame, but never further than half a frame's usual width: after the
    /// last dump of a session, the error belongs to that session, not to the gap after it.
    pub fn mark_error(&mut self, k: usize) {
        let next = self.cursor.get(k + 1).copied().unwrap_or(self.width - 1);
        let half = ((next.saturating_sub(self.cursor[k])) / 2).min(self.step_cols.div_ceil(2));
        let cx = (self.cursor[k] + half).min(self.width - 1);
        let colour = ix::full(ix::TEXT_WARN);
        for yy in 0..self.height {
            if yy < 4 || yy % 3 == 0 {
                self.pixels[(yy * self.width + cx) as usize] = colour;
                if yy < 4 && cx + 1 < self.width {
                    self.pixels[(yy * self.width + cx + 1) as usize] = colour;
                }
            }
        }
    }

    /// Copies the strip into `f`: once per canvas, since only the cursor moves.
    pub fn draw(&self, f: &mut Frame) {
        for row in 0..self.height {
            let src = &self.pixels[(row * self.width) as usize..((row + 1) * self.width) as usize];
            let at = ((self.y + row) * f.width + self.x) as usize;
            f.pixels[at..at + self.width as usize].copy_from_slice(src);
        }
    }

    /// Puts the cursor at frame `n`: a triangle of `marker` rows pointing up at the frame's
    /// column, just under the strip (erasing the one before).
    pub fn draw_cursor(&self, f: &mut Frame, n: usize, marker: u32) {
        f.fill_rect(
            self.x,
            self.y + self.height + 1,
            self.width,
            marker,
            ix::BACKGROUND,
        );
        let cx = self.x + self.cursor[n];
        for r in 0..marker {
            let half = r * 2 / 3;
            let x0 = cx.saturating_sub(half).max(self.x);
            let x1 = (cx + half).min(self.x + self.width - 1);
            f.fill_rect(
                x0,
                self.y + self.height + 1 + r,
                x1 - x0 + 1,
                1,
                ix::ALLOCATED,
            );
        }
    }
}
