//! Draws one snapshot as a frame of palette indices: the user's `--title`, a title, a legend, the
//! heap map (one cell per GC block, one band per heap area), the status lines (time, frame, GC
//! figures), the timeline strip and a pane of recent log lines.
//!
//! The geometry ([`Layout`]) is worked out once per run from the whole capture, so every frame has the
//! same size and an area keeps its place even in the dumps where it is absent. The [`Renderer`] is
//! immutable after construction and shared by the rayon workers.

pub mod frame;
pub mod grid;
pub mod palette;
pub mod strip;
pub mod text;

use crate::cancel::Cancel;
use crate::capture::{format_wall, Capture};
use crate::heap::age::{AgeTracker, Ages};
use crate::heap::{BlockKind, Snapshot};
use crate::options::{CellSize, ColorBy, StyleOptions};
use crate::timeline::{FrameSpec, Schedule, SnapRef};
pub use frame::Frame;
use palette::ix;
use text::TextRenderer;

/// One frame's age class per block (0 = youngest, [`grid::NO_AGE`] for none), per area pointer.
pub type AgeClasses = Vec<(u64, Vec<u8>)>;

/// A frame being drawn, and what is on it, so the next frame of a run repaints only what differs.
struct Canvas {
    pub frame: Frame,
    /// Nothing drawn yet: the static parts (legend, rules, the strip's label) are still to draw.
    fresh: bool,
    title: String,
    map: grid::MapState,
    /// (logs_end, logs_new_from) of the log pane as drawn.
    logs: Option<(usize, usize)>,
    /// The snapshot on the canvas: the next frame's change marks compare with it.
    shown: Option<(SnapRef, Snapshot)>,
    /// The notice line as drawn.
    notice: Option<String>,
}

impl Canvas {
    fn new(l: &Layout) -> Self {
        Canvas {
            frame: Frame::new(l.width, l.height, ix::BACKGROUND),
            fresh: true,
            title: String::new(),
            map: grid::MapState::default(),
            logs: None,
            shown: None,
            notice: None,
        }
    }
}

/// One heap area's place in the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaSlot {
    pub ptr: u64,
    /// Most blocks this area had in any snapshot of its session.
    pub blocks: usize,
    /// Cells it takes: `blocks` over [`Layout::blocks_per_cell`], rounded up.
    pub cells: usize,
    pub block_size: u32,
    /// Top of the label line (px).
    pub label_y: u32,
    /// Top of the first cell row (px).
    pub y: u32,
    pub rows: u32,
}

/// Frame geometry, fixed for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub margin: u32,
    /// Blocks per grid row.
    pub columns: u32,
    /// Cell pitch across (px); cells of 4 px and more leave a 1 px gap.
    pub cell: u32,
    /// Cell pitch down (px); cells of 3 px and more leave a 1 px gap.
    pub cell_h: u32,
    /// Consecutive blocks one cell shows: 1 (exact), or a power of two for the density view of
    /// a large heap in an animation (see [`crate::options::StyleOptions::exact`]).
    pub blocks_per_cell: u32,
    pub map_x: u32,
    /// The map's band (px): every session draws its own areas from `map_y`, and the band is as
    /// tall as the tallest session's.
    pub map_y: u32,
    pub map_h: u32,
    /// Per session (by index): where its areas go. A reset gives the board a new heap, so one
    /// session's areas never share the map with another's.
    pub sessions: Vec<Vec<AreaSlot>>,
    /// The user's own title line (`--title`), above the title line, when given.
    pub heading_y: Option<u32>,
    /// The title line: the capture's name, date and session.
    pub title_y: u32,
    pub legend_y: u32,
    /// The status lines (time, frame, used, free, ...) under the map: left edge, top, how many.
    pub status_x: u32,
    pub status_y: u32,
    pub status_lines: u32,
    /// A line for notices under the status lines (a reset, a dump without a table), when the
    /// capture needs one.
    pub notice_y: Option<u32>,
    pub log_y: u32,
    pub log_lines: usize,
    /// The timeline strip: (x, y, width, height), when shown.
    pub strip: Option<(u32, u32, u32, u32)>,
}

impl Layout {
    /// The area slots of `session` (none for a session whose dumps have no table).
    pub fn areas(&self, session: usize) -> &[AreaSlot] {
        self.sessions.get(session).map_or(&[], Vec::as_slice)
    }

    /// The top-left pixel of the cell of block `i` of area `a` of `session`.
    pub fn cell_origin(&self, session: usize, a: usize, i: usize) -> (u32, u32) {
        self.cell_in(&self.areas(session)[a], i / self.blocks_per_cell as usize)
    }

    /// The top-left pixel of cell `i` of the area in `slot` (block `i` in the exact view).
    pub fn cell_in(&self, slot: &AreaSlot, i: usize) -> (u32, u32) {
        let col = (i % self.columns as usize) as u32;
        let row = (i / self.columns as usize) as u32;
        (self.map_x + col * self.cell, slot.y + row * self.cell_h)
    }

    /// The painted part of a cell (px across, down): the pitch less a 1 px gap, for cells of at
    /// least 4 px across and 3 px down. One allocation (or free run) fills the gap to its right
    /// neighbour, so it reads as one bar.
    pub fn cell_fill(&self) -> (u32, u32) {
        (
            self.cell - u32::from(self.cell >= 4),
            self.cell_h - u32::from(self.cell_h >= 3),
        )
    }

    /// Rows of the bar along the bottom of a cell that marks it allocated or freed since the
    /// previous frame; None when cells are too small to carry one.
    pub fn mark_bar(&self) -> Option<u32> {
        let (fill, fill_h) = self.cell_fill();
        (fill >= 3 && fill_h >= 2).then_some(if fill_h >= 10 { 2 } else { 1 })
    }

    /// The cell a pixel belongs to in `session`'s map, as (area, its first block), if any.
    pub fn block_at(&self, session: usize, x: u32, y: u32) -> Option<(usize, usize)> {
        if x < self.map_x || x >= self.map_x + self.columns * self.cell {
            return None;
        }
        let col = (x - self.map_x) / self.cell;
        self.areas(session).iter().enumerate().find_map(|(a, s)| {
            if y < s.y || y >= s.y + s.rows * self.cell_h {
                return None;
            }
            let i = ((y - s.y) / self.cell_h * self.columns + col) as usize;
            (i < s.cells).then_some((a, i * self.blocks_per_cell as usize))
        })
    }
}

/// How long a reset's notice stays on screen (ms of output time).
const NOTICE_MS: f64 = 2000.0;

/// Text size (px at scale 1). 12 px DejaVu Sans Mono reads well and keeps the changing figures,
/// redrawn in every GIF frame, cheap; 13 px made long_run.log's GIF 6% larger.
const TEXT_PX: f32 = 12.0;

/// Everything needed to draw frames of one capture; built once, then shared read-only.
pub struct Renderer<'c> {
    pub layout: Layout,
    pub text: TextRenderer,
    capture: &'c Capture,
    schedule: &'c Schedule,
    style: StyleOptions,
    /// Sessions that have snapshots.
    sessions: usize,
    /// Snapshots in the capture, for "snapshot 12/134".
    snapshots_total: usize,
    strip: Option<strip::Strip>,
    /// MemoryErrors: (first frame, last frame, notice).
    marks: Vec<(usize, usize, String)>,
    /// Objects outlined on the map (a still of a MemoryError's dump).
    outline: Outline,
    /// Stops the loops that render many frames (see [`Renderer::cancel_on`]).
    cancel: Cancel,
    /// Lower bounds of age classes 1.. (ms), for `--color age`.
    pub age_bounds: Vec<u32>,
    /// Some dump's table is cut off (the legend then has "no data"): found once, as it takes a
    /// pass over the capture.
    cut_off: bool,
}

/// A MemoryError to show: a mark on the strip where it happened, and a notice on the frames from
/// the dump before it to the dump after it. (The analysis that finds them is `crate::analysis::why`; the
/// renderer only draws what it is given.)
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorMark {
    pub session: usize,
    /// The last snapshot before the error, and the first after it.
    pub before: usize,
    pub after: Option<usize>,
    /// The notice: the verdict and the figures.
    pub text: String,
}

/// Objects to outline in a still, as (session, area pointer, first block, blocks).
pub type Outline = Vec<(usize, u64, usize, usize)>;

impl<'c> Renderer<'c> {
    pub fn new(capture: &'c Capture, schedule: &'c Schedule, style: &StyleOptions) -> Self {
        Self::with_marks(capture, schedule, style, Vec::new())
    }

    /// A renderer that also shows `marks` (MemoryErrors) on the strip and in notices.
    pub fn with_marks(
        capture: &'c Capture,
        schedule: &'c Schedule,
        style: &StyleOptions,
        marks: Vec<ErrorMark>,
    ) -> Self {
        let marks = mark_frames(schedule, marks);
        let scale = style.scale.clamp(1, 8);
        let text =
            TextRenderer::with_chars(TEXT_PX * scale as f32, style.title.as_deref().unwrap_or(""));
        let bounds = age_bounds(schedule);
        let sessions = capture
            .sessions
            .iter()
            .filter(|s| !s.snapshots.is_empty())
            .count();
        let cut_off = any_cut_off(capture);
        let layout = compute_layout(
            capture,
            style,
            &text,
            &legend_items(style, &bounds, cut_off),
            sessions > 1 || !marks.is_empty(),
        );
        let strip = marked_strip(capture, schedule, &layout, &marks);
        Renderer {
            marks,
            outline: Vec::new(),
            cancel: Cancel::default(),
            age_bounds: bounds,
            cut_off,
            strip,
            layout,
            text,
            capture,
            schedule,
            style: style.clone(),
            sessions,
            snapshots_total: capture.snapshot_count(),
        }
    }

    /// The snapshot a frame shows, decoded.
    pub fn snapshot(&self, spec: &FrameSpec) -> Snapshot {
        self.capture.sessions[spec.snap.session]
            .snapshots
            .get(spec.snap.index)
    }

    /// Draws frame `n` (0-based) of the schedule on its own. Coloured by age, the objects are
    /// followed through every frame before it first.
    pub fn render(&self, n: usize) -> Frame {
        let ages = self.age_tracker().map(|mut t| {
            for k in 0..n {
                self.observe_ages(&mut t, k);
            }
            self.observe(&mut t, n)
        });
        let mut canvas = Canvas::new(&self.layout);
        self.draw(&mut canvas, n, ages.as_deref());
        canvas.frame
    }

    /// Draws the frames `frames` (best consecutive) one after the other on one canvas: the first
    /// in full, each next one by repainting only what differs from the one before (the cells
    /// whose look changed, the status lines, the strip's cursor, and the log pane, labels and
    /// title when their text changed). `ages` holds each frame's age classes when coloured by age.
    pub fn render_run(&self, frames: &[usize], ages: &[Option<AgeClasses>]) -> Vec<Frame> {
        let mut canvas = Canvas::new(&self.layout);
        frames
            .iter()
            .enumerate()
            .map(|(k, &n)| {
                self.draw(&mut canvas, n, ages.get(k).and_then(|a| a.as_deref()));
                canvas.frame.clone()
            })
            .collect()
    }

    /// The legend's entries, as every frame draws them: (head colour, tail colour, name).
    pub fn legend(&self) -> Vec<(u8, Option<u8>, String)> {
        legend_items(&self.style, &self.age_bounds, self.cut_off)
    }

    /// The style the frames are drawn with.
    pub fn style(&self) -> &StyleOptions {
        &self.style
    }

    /// A tracker for `--color age`, None when frames are coloured by kind.
    pub fn age_tracker(&self) -> Option<AgeTracker> {
        (self.style.color == ColorBy::Age).then(AgeTracker::new)
    }

    /// Feeds `tracker` every snapshot of frame `n`'s session after frame `n - 1`'s, up to and
    /// including frame `n`'s own (frames must come in schedule order), and returns the age of
    /// each of its blocks (ms). Snapshots merged away by `--fps`, or before a `--from` window, are
    /// seen too, so ages do not depend on which dumps became frames.
    pub fn observe_ages(&self, tracker: &mut AgeTracker, n: usize) -> Ages {
        let spec = &self.schedule.frames[n];
        let snaps = &self.capture.sessions[spec.snap.session].snapshots;
        let from = match n.checked_sub(1).map(|p| self.schedule.frames[p].snap) {
            Some(p) if p.session == spec.snap.session => (p.index + 1).min(spec.snap.index),
            _ => 0,
        };
        // A snapshot's time on the timeline, from its time in the session.
        let shown_ms = snaps.meta(spec.snap.index).time_ms;
        for i in from..spec.snap.index {
            let t = spec.elapsed_ms - (shown_ms - snaps.meta(i).time_ms);
            tracker.observe(spec.snap.session, t, &snaps.get(i));
        }
        tracker.observe(
            spec.snap.session,
            spec.elapsed_ms,
            &snaps.get(spec.snap.index),
        )
    }

    /// [`Renderer::observe_ages`] as the age class of each block, for drawing.
    pub fn observe(&self, tracker: &mut AgeTracker, n: usize) -> AgeClasses {
        self.observe_ages(tracker, n)
            .into_iter()
            .map(|(ptr, ages)| {
                let classes = ages
                    .iter()
                    .map(|a| match a {
                        Some(ms) => self.age_bounds.iter().filter(|&&b| *ms >= b).count() as u8,
                        None => grid::NO_AGE,
                    })
                    .collect();
                (ptr, classes)
            })
            .collect()
    }

    /// Draws frame `n` over what `c` shows.
    fn draw(&self, c: &mut Canvas, n: usize, ages: Option<&[(u64, Vec<u8>)]>) {
        let spec = &self.schedule.frames[n];
        let snap = self.snapshot(spec);
        let prev = self.previous(spec, c.shown.take());
        if c.fresh {
            self.draw_static(&mut c.frame);
        }
        self.draw_title(c, spec, &snap);
        let colouring = match ages {
            Some(a) => grid::Colouring::Age(a),
            None => grid::Colouring::Kind,
        };
        grid::draw_map(
            &mut c.frame,
            &self.layout,
            &self.text,
            grid::Shown {
                session: spec.snap.session,
                snap: &snap,
                prev: prev.as_ref(),
            },
            colouring,
            &mut c.map,
        );
        self.draw_outline(&mut c.frame, spec.snap.session);
        self.draw_status(&mut c.frame, spec, &snap);
        self.draw_notice(c, n);
        if let Some(s) = &self.strip {
            s.draw_cursor(&mut c.frame, n, strip_marker(self.style.scale));
        }
        let logs = (spec.logs_end, spec.logs_new_from);
        if c.logs != Some(logs) {
            self.draw_logs(&mut c.frame, spec);
            c.logs = Some(logs);
        }
        c.fresh = false;
        c.shown = Some((spec.snap, snap));
    }

    /// The snapshot `spec`'s change marks compare with: the one before it, within its session,
    /// when changes are shown. In a run that is usually `shown`, the snapshot the canvas shows,
    /// already decoded.
    fn previous(&self, spec: &FrameSpec, shown: Option<(SnapRef, Snapshot)>) -> Option<Snapshot> {
        match spec.prev {
            Some(p) if self.style.show_changes && p.session == spec.snap.session => match shown {
                Some((r, s)) if r == p => Some(s),
                _ => Some(self.capture.sessions[p.session].snapshots.get(p.index)),
            },
            _ => None,
        }
    }

    /// The parts no frame changes, drawn once on a fresh canvas: the legend, the strip and its
    /// label, the rule over the log pane, and the user's title line.
    fn draw_static(&self, f: &mut Frame) {
        let l = &self.layout;
        let t = &self.text;
        self.draw_legend(f);
        if let Some(s) = &self.strip {
            s.draw(f);
            let label = format!(
                "used (fill), largest free (line), 0..{}",
                human_bytes(s.max)
            );
            t.draw(
                f,
                s.x as i32,
                (s.y - t.line_height) as i32,
                &label,
                ix::TEXT_DIM,
                s.width,
            );
        }
        if l.log_lines > 0 {
            f.fill_rect(l.margin, l.log_y - 4, l.width - 2 * l.margin, 1, ix::RULE);
        }
        // Drawn once per canvas and never changed, so only the GIF's first frame carries it.
        if let (Some(y), Some(heading)) = (l.heading_y, &self.style.title) {
            t.draw(
                f,
                l.margin as i32,
                y as i32,
                heading,
                ix::TEXT,
                l.width - 2 * l.margin,
            );
        }
    }

    /// Redraws the title line when its text differs from what `c` shows.
    fn draw_title(&self, c: &mut Canvas, spec: &FrameSpec, snap: &Snapshot) {
        let l = &self.layout;
        let t = &self.text;
        let title = self.title(spec, snap);
        if c.title != title {
            c.frame
                .fill_rect(0, l.title_y, l.width, t.line_height, ix::BACKGROUND);
            t.draw(
                &mut c.frame,
                l.margin as i32,
                l.title_y as i32,
                &title,
                ix::TEXT_DIM,
                l.width - 2 * l.margin,
            );
            c.title = title;
        }
    }

    /// Redraws the notice line (or clears it) when frame `n`'s notice differs from what `c`
    /// shows.
    fn draw_notice(&self, c: &mut Canvas, n: usize) {
        let l = &self.layout;
        let t = &self.text;
        let notice = self.notice(n);
        if c.notice != notice {
            if let Some(y) = l.notice_y {
                c.frame
                    .fill_rect(0, y, l.width, t.line_height, ix::BACKGROUND);
                if let Some(text) = &notice {
                    // A verdict is longer than the status column: it may use the whole width.
                    t.draw(
                        &mut c.frame,
                        l.margin as i32,
                        y as i32,
                        text,
                        ix::TEXT_WARN,
                        l.width - 2 * l.margin,
                    );
                }
            }
            c.notice = notice;
        }
    }

    /// The title line at the top: what is shown, which stays put. Everything that changes every
    /// frame is in the status lines under the map, next to the timeline strip and within the
    /// map's width: that keeps the rectangle a GIF frame redraws small. (The header used to sit
    /// above the map, so nearly every frame redrew from the top of the image down to the strip.)
    fn title(&self, spec: &FrameSpec, snap: &Snapshot) -> String {
        let mut title = self.capture.source.clone();
        if let Some(wall) = snap.wall_ms {
            title.push_str("  ");
            let stamp = format_wall(wall, false);
            title.push_str(stamp.split_once(' ').map_or(&stamp[..], |(date, _)| date));
        }
        if self.sessions > 1 {
            title.push_str(&format!(
                "  session {}/{}",
                self.session_number(spec.snap.session),
                self.sessions
            ));
        }
        title
    }

    /// Time, snapshot number, clock and the dump's GC figures, under the map.
    fn draw_status(&self, f: &mut Frame, spec: &FrameSpec, snap: &Snapshot) {
        let l = &self.layout;
        let t = &self.text;
        f.fill_rect(
            l.status_x,
            l.status_y,
            l.width - l.status_x,
            l.status_lines * t.line_height,
            ix::BACKGROUND,
        );
        for (i, line) in self.status(spec, snap).iter().enumerate() {
            t.draw(
                f,
                l.status_x as i32,
                (l.status_y + i as u32 * t.line_height) as i32,
                line,
                ix::TEXT,
                l.width - l.status_x,
            );
        }
    }

    /// The status lines of a frame: when (the time since the first dump and the snapshot's
    /// number, or, for a dump without a time, its number and line), the board's clock, and the
    /// figures.
    pub fn status(&self, spec: &FrameSpec, snap: &Snapshot) -> Vec<String> {
        // Fixed-width fields: the time and the counter keep their place. The counter is the
        // snapshot's number as `info`, `stats`, `--snapshot N` and `#N` count (frames may skip
        // snapshots that looked the same, or came faster than the frame rate).
        let total = self.snapshots_total.to_string();
        let number = crate::timeline::snapshot_number(self.capture, spec.snap);
        let mut now = if snap.timed {
            let elapsed = format!(
                "+{}.{:03}",
                spec.elapsed_ms.div_euclid(1000),
                spec.elapsed_ms.rem_euclid(1000)
            );
            format!(
                "{elapsed:>9} s  snapshot {number:>w$}/{total}",
                w = total.len()
            )
        } else {
            // A dump with no time of its own: say which one it is, not a made-up time.
            format!(
                "snapshot {number:>w$}/{total}  line {}",
                snap.line,
                w = total.len()
            )
        };
        if let Some(wall) = snap.wall_ms {
            now.push_str("  ");
            let stamp = format_wall(wall, false);
            now.push_str(stamp.split_once(' ').map_or(&stamp[..], |(_, time)| time));
        }
        if !snap.complete {
            now.push_str("  (dump cut off)");
        }
        let [usage, largest] = summary_fields(snap, self.capture.figures_block_size());
        if self.layout.status_lines >= 3 {
            vec![now, usage, largest]
        } else {
            vec![now, format!("{usage}  {largest}")]
        }
    }

    /// The notice for frame `n`: in the first `NOTICE_MS` of a session after a reset, which
    /// session begins and why; else, on the frames around a MemoryError, its verdict.
    pub fn notice(&self, n: usize) -> Option<String> {
        self.layout.notice_y?;
        self.reset_notice(n).or_else(|| {
            // Marks whose frames overlap: the error latest in the capture that has begun.
            self.marks
                .iter()
                .filter(|m| (m.0..=m.1).contains(&n))
                .max_by_key(|m| m.0)
                .map(|m| m.2.clone())
        })
    }

    /// Outlines `objects` on the map (for a still of the dump before a MemoryError).
    pub fn outline(mut self, objects: Outline) -> Self {
        self.outline = objects;
        self
    }

    /// Lets `cancel` stop the loops that render many frames with this renderer (the encoders'
    /// batches, the report's pass over the frames): they return [`crate::Error::Interrupted`].
    pub fn cancel_on(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// True once the token given to [`Renderer::cancel_on`] was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn reset_notice(&self, n: usize) -> Option<String> {
        let spec = &self.schedule.frames[n];
        let session = spec.snap.session;
        let first = self.schedule.frames[..=n]
            .iter()
            .rposition(|f| f.snap.session != session)
            .map_or(0, |k| k + 1);
        let s = &self.capture.sessions[session];
        let why = s.started_by.as_deref()?;
        (spec.start_ms - self.schedule.frames[first].start_ms < NOTICE_MS).then(|| {
            format!(
                "{}session {}/{} begins at line {} ({why})",
                if s.began_with_reset_line() {
                    "reset: "
                } else {
                    "new "
                },
                self.session_number(session),
                self.sessions,
                s.first_line
            )
        })
    }

    /// 1-based number of a session among those with snapshots.
    fn session_number(&self, session: usize) -> usize {
        self.capture.sessions[..session]
            .iter()
            .filter(|s| !s.snapshots.is_empty())
            .count()
            + 1
    }

    /// A frame around each outlined object, row by row of its cells, over the 1 px gaps
    /// between cells (so the cells keep their colours). Used for stills only: the cells under a
    /// frame are not tracked for repainting.
    fn draw_outline(&self, f: &mut Frame, session: usize) {
        let l = &self.layout;
        let colour = ix::full(ix::TEXT_WARN);
        for &(s, ptr, start, len) in &self.outline {
            let Some(slot) = l
                .areas(session)
                .iter()
                .find(|a| a.ptr == ptr && s == session)
            else {
                continue;
            };
            let cols = l.columns as usize;
            // In cells: the first and one past the last cell the object touches.
            let g = l.blocks_per_cell as usize;
            let (start, end) = (start / g, (start + len).div_ceil(g).min(slot.cells));
            let mut i = start;
            while i < end {
                let row_end = ((i / cols + 1) * cols).min(end);
                let (x0, y0) = l.cell_in(slot, i);
                let w = (row_end - i) as u32 * l.cell;
                let (x, y) = (x0.saturating_sub(1), y0.saturating_sub(1));
                f.fill_rect(x, y, w + 1, 1, colour);
                f.fill_rect(x, y + l.cell_h, w + 1, 1, colour);
                f.fill_rect(x, y, 1, l.cell_h + 1, colour);
                f.fill_rect(x + w, y, 1, l.cell_h + 1, colour);
                i = row_end;
            }
        }
    }

    fn draw_legend(&self, f: &mut Frame) {
        let l = &self.layout;
        let t = &self.text;
        let sw = (t.line_height * 2 / 3).max(4);
        let y = l.legend_y;
        let mut x = l.margin as i32;
        let mut y = y;
        for (head, tail, name) in self.legend() {
            let need = sw * (1 + u32::from(tail.is_some())) + 4 + t.width_of(&name) + 12;
            if x as u32 + need > l.width - l.margin {
                x = l.margin as i32;
                y += t.line_height;
            }
            let sy = y + (t.line_height - sw) / 2;
            f.fill_rect(x as u32, sy, sw, sw, head);
            let mut tx = x as u32 + sw + 1;
            if let Some(tail) = tail {
                f.fill_rect(tx, sy, sw, sw, tail);
                tx += sw + 1;
            }
            x = t.draw(f, tx as i32 + 3, y as i32, &name, ix::TEXT_DIM, l.width) + 12;
        }
    }

    fn draw_logs(&self, f: &mut Frame, spec: &FrameSpec) {
        let l = &self.layout;
        if l.log_lines == 0 {
            return;
        }
        let t = &self.text;
        f.fill_rect(
            0,
            l.log_y,
            l.width,
            l.log_lines as u32 * t.line_height,
            ix::BACKGROUND,
        );
        // The newest non-empty lines, oldest first.
        let mut shown: Vec<usize> = Vec::with_capacity(l.log_lines);
        let mut i = spec.logs_end;
        while i > 0 && shown.len() < l.log_lines {
            i -= 1;
            if !self.schedule.log(self.capture, i).text.trim().is_empty() {
                shown.push(i);
            }
        }
        shown.reverse();
        // New lines get a bar in the gutter rather than another text colour: when they stop being
        // new, only the bar is erased, not the whole line (which would cost GIF bytes).
        let gutter = t.advance;
        for (row, &i) in shown.iter().enumerate() {
            let line = self.schedule.log(self.capture, i);
            let y = l.log_y + row as u32 * t.line_height;
            if i >= spec.logs_new_from {
                f.fill_rect(
                    l.margin,
                    y + 1,
                    (gutter / 3).max(2),
                    t.line_height - 2,
                    ix::full(ix::TEXT_NEW),
                );
            }
            t.draw(
                f,
                (l.margin + gutter) as i32,
                y as i32,
                without_ansi(line.text.trim_end()).as_ref(),
                ix::TEXT_DIM,
                l.width - 2 * l.margin - gutter,
            );
        }
    }
}

/// Each of `marks` as (first frame, last frame, notice): from the first frame showing the dump
/// before it (or a later one of its session) to the last showing a snapshot up to the dump after
/// it. A mark with no such frame in its session is left out.
fn mark_frames(schedule: &Schedule, marks: Vec<ErrorMark>) -> Vec<(usize, usize, String)> {
    let pos = |f: &FrameSpec| (f.snap.session, f.snap.index);
    marks
        .into_iter()
        .filter_map(|m| {
            let first = schedule
                .frames
                .iter()
                .position(|f| pos(f) >= (m.session, m.before))
                .filter(|&k| schedule.frames[k].snap.session == m.session)?;
            let end = (m.session, m.after.unwrap_or(m.before));
            let last = schedule.frames[first..]
                .iter()
                .rposition(|f| pos(f) <= end)
                .map_or(first, |k| first + k);
            Some((first, last, m.text))
        })
        .collect()
}

/// The timeline strip, when the layout has one, with a mark at each MemoryError of `marks`
/// (as [`mark_frames`] gives them).
fn marked_strip(
    capture: &Capture,
    schedule: &Schedule,
    layout: &Layout,
    marks: &[(usize, usize, String)],
) -> Option<strip::Strip> {
    let mut strip = strip::Strip::new(capture, schedule, layout)?;
    for &(first, _, _) in marks {
        strip.mark_error(first);
    }
    Some(strip)
}

/// Lower bounds (ms) of the age classes after the first (7 for 8 classes): a geometric series from the typical time between frames
/// to the length of the schedule, rounded to two significant digits so the legend reads well. A
/// 55 s capture at 124 ms per dump gets 270 ms, 570 ms, 1.2 s, ... 26 s.
pub fn age_bounds(schedule: &Schedule) -> Vec<u32> {
    let n = schedule.frames.len();
    let span = match (schedule.frames.first(), schedule.frames.last()) {
        (Some(a), Some(b)) => (b.elapsed_ms - a.elapsed_ms).max(0) as f64,
        _ => 0.0,
    };
    let step = if n > 1 { span / (n - 1) as f64 } else { 0.0 };
    let lo = step.max(10.0);
    let hi = span.max(lo * 8.0);
    let classes = ix::AGE_CLASSES as i32;
    let mut bounds: Vec<u32> = (1..classes)
        .map(|k| {
            let v = lo * (hi / lo).powf(k as f64 / classes as f64);
            let mag = 10f64.powf(v.log10().floor() - 1.0);
            ((v / mag).round() * mag) as u32
        })
        .collect();
    bounds.dedup();
    bounds
}

/// `270 ms`, `1.2 s`, `26 s`, `4.5 min`, `2.0 h`.
fn short_duration(ms: u32) -> String {
    let ms = ms as f64;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 120_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms < 7_200_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.1} h", ms / 3_600_000.0)
    }
}

/// Legend entries: (head colour, tail colour, name).
fn legend_items(
    style: &StyleOptions,
    age_bounds: &[u32],
    missing: bool,
) -> Vec<(u8, Option<u8>, String)> {
    let mut items: Vec<(u8, Option<u8>, String)> = match style.color {
        ColorBy::Kind => LEGEND_KINDS
            .iter()
            .map(|&k| {
                (
                    palette::head_index(k),
                    Some(palette::tail_index(k)),
                    k.name().to_string(),
                )
            })
            .collect(),
        ColorBy::Age => (0..=age_bounds.len())
            .map(|c| {
                let name = match c {
                    0 => format!("age < {}", short_duration(age_bounds[0])),
                    c if c == age_bounds.len() => {
                        format!(">= {}", short_duration(age_bounds[c - 1]))
                    }
                    c => format!("< {}", short_duration(age_bounds[c])),
                };
                let c = c as u8;
                (
                    palette::age_head_index(c),
                    Some(palette::age_tail_index(c)),
                    name,
                )
            })
            .collect(),
    };
    items.push((ix::FREE, None, "free".into()));
    if missing {
        // Blocks a cut-off dump never printed: close to free in colour, so name them.
        items.push((ix::MISSING, None, "no data".into()));
    }
    if style.show_changes {
        items.push((ix::ALLOCATED, None, "new".into()));
        items.push((ix::FREED, None, "freed".into()));
    }
    items
}

/// True when a dump of the capture was cut off: its frames show blocks with no data.
fn any_cut_off(capture: &Capture) -> bool {
    capture.metas().any(|(_, s)| !s.complete)
}

/// A log line as it is drawn: terminal colour codes (`ESC [ 0;32 m`) taken out.
fn without_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in '@'..='~'.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out.into()
}

/// How many text lines the legend needs at this width.
fn legend_rows(
    t: &TextRenderer,
    width: u32,
    margin: u32,
    items: &[(u8, Option<u8>, String)],
) -> u32 {
    let sw = (t.line_height * 2 / 3).max(4);
    let mut rows = 1;
    let mut x = margin;
    for (_, tail, name) in items {
        let need = sw * (1 + u32::from(tail.is_some())) + 4 + t.width_of(name) + 12;
        if x + need > width - margin {
            rows += 1;
            x = margin;
        }
        x += need;
    }
    rows
}

/// Kinds shown in the legend: the object kinds but the rare unknown one.
const LEGEND_KINDS: &[BlockKind] = BlockKind::OBJECTS.split_at(9).0;

/// `["used  43.1 KiB ( 54%)  free  36.9 KiB", "largest free  12.0 KiB  frag  67.5%"]`: the
/// snapshot's figures ([`Snapshot::figures`]), `?` where the dump does not tell. Every figure
/// has a fixed width, so a number growing a digit does not shift the rest of the line (which
/// would redraw it in every GIF frame).
pub fn summary_fields(snap: &Snapshot, block_size: u32) -> [String; 2] {
    let bs = snap.block_size().unwrap_or(block_size) as u64;
    let Some(f) = snap.figures(bs) else {
        return [
            format!("used {:>10} ( ? %)  free {:>10}", "?", "?"),
            format!("largest free {:>10}  frag {:>5}%", "?", "?"),
        ];
    };
    let pct = (f.used * 100).checked_div(f.total).unwrap_or(0);
    let (largest, frag) = match (f.largest_free, f.fragmentation()) {
        (Some(l), Some(fr)) => (human_bytes(l), format!("{:>5.1}", 100.0 * fr)),
        _ => ("?".to_string(), "?".to_string()),
    };
    [
        format!(
            "used {:>10} ({pct:>3}%)  free {:>10}",
            human_bytes(f.used),
            human_bytes(f.free)
        ),
        format!("largest free {largest:>10}  frag {frag:>5}%"),
    ]
}

/// 1234 → "1234 B", 43520 → "42.5 KiB", ...
pub fn human_bytes(b: u64) -> String {
    if b < 10 * 1024 {
        format!("{b} B")
    } else if b < 10 * 1024 * 1024 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
    }
}

/// The widest cell the automatic layout picks (px): larger cells make a small heap no easier to
/// read, and every pixel of a changed cell costs GIF bytes.
pub const MAX_AUTO_CELL: u32 = 8;

/// The narrowest status column (characters): the status lines in three rows, and the strip's label.
const STATUS_CHARS: u32 = 46;

/// Rows of the timeline cursor, a triangle under the strip.
fn strip_marker(scale: u32) -> u32 {
    6 * scale.clamp(1, 8)
}

/// Blocks per cell: 1, unless the largest session's heap has more than
/// [`crate::options::DENSITY_CELLS`] blocks and nothing asks for the exact view (`exact`, or a
/// column count of the user's, which counts blocks); then the fewest (a power of two) that
/// bring it under.
fn blocks_per_cell(sessions: &[Vec<(u64, usize, u32)>], style: &StyleOptions) -> u32 {
    if style.exact || style.columns.is_some() {
        return 1;
    }
    let cells = |g: usize| {
        sessions
            .iter()
            .map(|areas| areas.iter().map(|a| a.1.div_ceil(g)).sum::<usize>())
            .max()
            .unwrap_or(0)
    };
    let mut g = 1usize;
    while cells(g) > crate::options::DENSITY_CELLS && g < 1 << 16 {
        g *= 2;
    }
    g as u32
}

/// Chooses columns and cell size, then places the title, legend, areas, status lines, strip and
/// log pane.
pub fn compute_layout(
    capture: &Capture,
    style: &StyleOptions,
    text: &TextRenderer,
    legend: &[(u8, Option<u8>, String)],
    notice: bool,
) -> Layout {
    let plan = Plan::new(style, text);
    let (margin, line_h) = (plan.margin, plan.line_h);
    let sessions: Vec<Vec<(u64, usize, u32)>> =
        capture.sessions.iter().map(|s| s.areas()).collect();
    let grid = plan.grid(&sessions);
    let map_w = grid.columns * grid.cell;
    let width = plan.width(map_w);
    let heading_y = style.title.is_some().then_some(margin);
    let title_y = margin + heading_y.map_or(0, |_| line_h);
    let legend_y = title_y + line_h + 2;
    let map_y = legend_y + legend_rows(text, width, margin, legend) * line_h + 6;
    let (slots, map_h) = grid.place_areas(&sessions, map_y, line_h);
    let below = plan.below(width, map_w, map_y + map_h, notice);
    Layout {
        width,
        height: below.height + below.height % 2,
        margin,
        columns: grid.columns,
        cell: grid.cell,
        cell_h: grid.cell_h,
        blocks_per_cell: grid.per_cell,
        map_x: (width - map_w) / 2,
        map_y,
        map_h,
        sessions: slots,
        heading_y,
        title_y,
        legend_y,
        status_x: below.status_x,
        status_y: below.status_y,
        status_lines: below.status_lines,
        notice_y: below.notice_y,
        log_y: below.log_y,
        log_lines: style.log_lines,
        strip: below.strip,
    }
}

/// What every step of [`compute_layout`] reads: the options, the text, and the measures that
/// follow from `--scale`.
struct Plan<'a> {
    style: &'a StyleOptions,
    text: &'a TextRenderer,
    /// `--scale`, clamped to 1..=8.
    scale: u32,
    margin: u32,
    line_h: u32,
}

/// The map's grid: its columns, its cell pitch (px) and the blocks one cell shows.
struct Grid {
    columns: u32,
    cell: u32,
    cell_h: u32,
    per_cell: u32,
}

/// Where the parts under the map go (the [`Layout`] fields of the same names), and the frame's
/// height before it is made even.
struct Below {
    status_x: u32,
    status_y: u32,
    status_lines: u32,
    notice_y: Option<u32>,
    strip: Option<(u32, u32, u32, u32)>,
    log_y: u32,
    height: u32,
}

impl<'a> Plan<'a> {
    fn new(style: &'a StyleOptions, text: &'a TextRenderer) -> Self {
        let scale = style.scale.clamp(1, 8);
        Plan {
            style,
            text,
            scale,
            margin: 8 * scale,
            line_h: text.line_height,
        }
    }

    /// The user's columns and cell size, or for what they leave open, the widest cell (and the
    /// fewest columns that give it) within `--max-width` and `--max-map-height`.
    fn grid(&self, sessions: &[Vec<(u64, usize, u32)>]) -> Grid {
        let per_cell = blocks_per_cell(sessions, self.style);
        let fit = Fit::new(self, sessions, per_cell);
        let (columns, size) = match (self.style.columns, self.style.cell) {
            (Some(c), Some(s)) => (c.max(1), s),
            (Some(c), None) => (
                c.max(1),
                fit.cell(c.max(1))
                    .unwrap_or(CellSize::square(1))
                    .scaled(self.scale),
            ),
            (None, Some(s)) => (64, s),
            (None, None) => {
                let (cols, c) = fit.best();
                (cols, c.scaled(self.scale))
            }
        };
        Grid {
            columns,
            cell: size.width.max(1),
            cell_h: size.height.max(1),
            per_cell,
        }
    }

    /// The frame's width: the map's and the margins, but room for at least 96 characters of
    /// text; even, as video encoders want.
    fn width(&self, map_w: u32) -> u32 {
        let width = (map_w + 2 * self.margin).max(self.text.advance * 96 + 2 * self.margin);
        width + width % 2
    }

    /// Places the status lines, the notice line (when `notice`), the strip and the log pane
    /// down from `top`, the bottom of the map's band.
    fn below(&self, width: u32, map_w: u32, top: u32, notice: bool) -> Below {
        let (text, line_h, scale) = (self.text, self.line_h, self.scale);
        // The status lines and the strip: a column under the map, as wide as the map (or as the
        // status text, for a narrow map).
        let status_w = map_w
            .max(STATUS_CHARS * text.advance)
            .min(width - 2 * self.margin);
        let status_x = (width - status_w) / 2;
        let status_lines = if status_w >= 66 * text.advance { 2 } else { 3 };
        let status_y = top + 4;
        let mut y = status_y + status_lines * line_h;
        let notice_y = notice.then(|| {
            let at = y;
            y += line_h;
            at
        });
        let strip = self.style.timeline.then(|| {
            let h = 36 * scale;
            let s = (status_x, y + 4 + line_h, status_w, h);
            y += 4 + line_h + h + 1 + strip_marker(scale) + 2;
            s
        });
        let log_lines = self.style.log_lines;
        let log_y = y + 8;
        let height = if log_lines > 0 {
            log_y + log_lines as u32 * line_h + self.margin
        } else {
            y + self.margin
        };
        Below {
            status_x,
            status_y,
            status_lines,
            notice_y,
            strip,
            log_y,
            height,
        }
    }
}

impl Grid {
    /// Each session's area slots, stacked down from `map_y` (a label line over each area's
    /// rows), and the height of the map's band: the tallest session's.
    fn place_areas(
        &self,
        sessions: &[Vec<(u64, usize, u32)>],
        map_y: u32,
        label_h: u32,
    ) -> (Vec<Vec<AreaSlot>>, u32) {
        let mut map_h = label_h + 4;
        let slots = sessions
            .iter()
            .map(|areas| {
                let mut y = map_y;
                let slots = areas
                    .iter()
                    .map(|&(ptr, blocks, block_size)| {
                        let cells = blocks.div_ceil(self.per_cell as usize);
                        let rows = (cells as u32).div_ceil(self.columns).max(1);
                        let label_y = y;
                        y += label_h + rows * self.cell_h + 4;
                        AreaSlot {
                            ptr,
                            blocks,
                            cells,
                            block_size,
                            label_y,
                            y: label_y + label_h,
                            rows,
                        }
                    })
                    .collect();
                map_h = map_h.max(y - map_y);
                slots
            })
            .collect();
        (slots, map_h)
    }
}

/// The room the automatic cell size must fit in (see [`Plan::grid`]).
struct Fit<'a> {
    /// Each session's areas, as (pointer, blocks, block size).
    sessions: &'a [Vec<(u64, usize, u32)>],
    per_cell: u32,
    /// The map's width (px at scale 1).
    max_w: u32,
    /// The map's height (px at scale 1) less the area labels' lines.
    avail_h: u32,
    /// The widest cell to try.
    largest: u32,
}

impl<'a> Fit<'a> {
    fn new(plan: &Plan, sessions: &'a [Vec<(u64, usize, u32)>], per_cell: u32) -> Self {
        let style = plan.style;
        let max_w = (style.max_width / plan.scale).max(64).saturating_sub(2 * 8);
        let max_h = (style.max_map_height / plan.scale).max(64);
        let most_areas = sessions.iter().map(Vec::len).max().unwrap_or(0).max(1) as u32;
        let labels = most_areas * (plan.line_h / plan.scale + 2);
        // The density view's cells stay small: with up to DENSITY_CELLS of them, 4x3 px keeps the
        // map near 200,000 px, what an exact map of a typical board's heap takes. Every pixel of a
        // busy heap's map changes, and costs encoding time, in every frame.
        let largest = if per_cell > 1 { 4 } else { MAX_AUTO_CELL };
        Fit {
            sessions,
            per_cell,
            max_w,
            avail_h: max_h.saturating_sub(labels),
            largest,
        }
    }

    /// Grid rows the tallest session takes at `cols` columns (each area at least one).
    fn rows_for(&self, cols: u32) -> u32 {
        self.sessions
            .iter()
            .map(|areas| {
                areas
                    .iter()
                    .map(|a| {
                        (a.1.div_ceil(self.per_cell as usize) as u32)
                            .div_ceil(cols)
                            .max(1)
                    })
                    .sum::<u32>()
            })
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// The largest cell width (and its brick height) that fits `cols` columns, if any does.
    fn cell(&self, cols: u32) -> Option<CellSize> {
        (1..=self.largest).rev().map(CellSize::brick).find(|c| {
            cols * c.width <= self.max_w && self.rows_for(cols) * c.height <= self.avail_h
        })
    }

    /// The fewest columns that give the widest cell; a heap too large for even 1024 columns of
    /// 1 px cells gets 1024 columns and a tall image.
    fn best(&self) -> (u32, CellSize) {
        let mut best: Option<(u32, CellSize)> = None;
        for cols in [64, 128, 256, 512, 1024] {
            if let Some(c) = self.cell(cols) {
                // Capped density cells: of the column counts that reach the cap, the most
                // (a wide map rather than a tall strip).
                let better = match best {
                    None => true,
                    Some(b) if self.per_cell > 1 => c.width >= b.1.width,
                    Some(b) => c.width > b.1.width,
                };
                if better {
                    best = Some((cols, c));
                }
            }
        }
        best.unwrap_or((1024, CellSize::square(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_colour_codes_are_not_drawn() {
        assert_eq!(
            without_ansi("\u{1b}[0;32mI (1234) wifi: up\u{1b}[0m"),
            "I (1234) wifi: up"
        );
        assert_eq!(without_ansi("plain"), "plain");
        assert_eq!(without_ansi("a\u{1b}b"), "ab", "a lone ESC goes");
    }
}
