//! Share-ready animations: a GIF that plays in the time asked (`--duration`) and fits where it is
//! posted (`--max-size`), and the figures behind the hint printed for long captures.
//!
//! Takes the render options and the capture; gives back the options with a speed, frame rate,
//! look and window chosen, and a [`FitReport`] that says what was given up. It renders nothing
//! that is written: a candidate's size comes from [`crate::encode::budget::estimate_gif`], which
//! encodes a sample of its frames, and the real pass (in `lib.rs`) is held to the limit by
//! [`crate::encode::budget::Limited`].
//!
//! What `--max-size` gives up, in this order, each only when the one before is not enough:
//!
//! 1. frame rate: snapshots are merged into fewer frames, the frame-rate cap stepping down
//!    from `--fps` (50) to [`MIN_FIT_FPS`];
//! 2. size: at that rate, `--scale` steps down to 1, then the cell to [`MIN_FIT_CELL`] px
//!    (the same columns, so the map keeps its shape); at the largest look that fits, the frame
//!    rate is raised back as far as it still fits;
//! 3. length, only with `--trim`: the start of the window is dropped, keeping its end (where a
//!    long run's trouble usually is), at the lowest rate and the smallest cells.
//!
//! Each step is a search over estimates (binary, as size falls with each step), so a run costs a
//! few dozen sample renders and then one encoding pass. If that pass goes over the limit (the
//! estimate was low), it stops there and a second pass runs with every estimate corrected by
//! what the first pass measured; there is no third.

use crate::capture::Capture;
use crate::encode::budget::{self, Estimate};
use crate::error::{Error, Result};
use crate::options::{CellSize, RenderOptions, StyleOptions, TimingOptions, DEFAULT_LAST_FRAME_S};
use crate::render::{ErrorMark, Renderer};
use crate::timeline::{self, Selection, TimePoint};
use crate::units;

/// The lowest frame rate `--max-size` merges snapshots down to: below one frame a second an
/// animation stops reading as motion, so smaller cells are the next thing given up.
pub const MIN_FIT_FPS: f64 = 1.0;

/// The smallest cell `--max-size` shrinks to (px across): at 3 px a block is still a dot with
/// its own colour; smaller, neighbours blur into one another.
pub const MIN_FIT_CELL: u32 = 3;

/// Frame rates `--max-size` tries, highest first: about 20% apart, so little of the budget is
/// left unused.
pub const FPS_STEPS: [f64; 18] = [
    50.0, 40.0, 30.0, 25.0, 20.0, 15.0, 12.0, 10.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.5, 2.0, 1.5, 1.2,
    1.0,
];

/// The share of the limit an estimate may fill. The sample's mean is already raised by its
/// standard error; this keeps a few percent more for frames the sample missed, so the one
/// encoding pass nearly always fits.
pub const ESTIMATE_SHARE: f64 = 0.95;

/// A GIF that plays longer than this (ms) gets the hint to use `--duration` or `--max-size`.
pub const LONG_PLAY_MS: f64 = 5.0 * 60_000.0;

/// The last frame's hold with `--duration D` when `--last-frame` is not given (ms): the usual 3 s,
/// but at most a tenth of D, so a 10 s GIF is not a third still picture.
pub fn default_hold_ms(duration_ms: f64) -> f64 {
    (DEFAULT_LAST_FRAME_S * 1000.0).min(duration_ms / 10.0)
}

/// The timing that plays the selection's window in `duration_ms`, the last frame's hold
/// included: idle gaps are capped first (`max_idle_ms`, as always), the speed is the one that
/// plays the rest in the time the hold leaves, and the schedule ends exactly at `duration_ms`
/// ([`TimingOptions::play_ms`]), so the GIF's delays add up to it (to the centisecond).
pub fn play_in(
    capture: &Capture,
    timing: &TimingOptions,
    selection: &Selection,
    duration_ms: f64,
) -> Result<TimingOptions> {
    let hold = timing.last_frame_ms;
    if duration_ms <= hold {
        return Err(Error::Usage(format!(
            "--duration {} leaves no time to play: the last frame alone is held {} (--last-frame)",
            units::seconds(duration_ms),
            units::seconds(hold)
        )));
    }
    let times = timeline::Times::new(capture, timing);
    let range = timeline::window(selection.from, selection.to, &times, &capture.source)?;
    let span = times.played_ms(range, timing);
    let mut timing = TimingOptions {
        play_ms: Some(duration_ms),
        ..timing.clone()
    };
    if span <= 0.0 {
        return Ok(timing); // one snapshot: it is held for the whole time
    }
    // Snapshots that come faster than the frame rate start late (up to `timeline::MAX_LAG_MS`
    // behind) before they are merged, so at the speed that fits the span exactly, the last frame
    // may start late and the animation end after `duration_ms`. Each round takes that lateness
    // off the time the span is played in; a round is one schedule, cheap next to a render.
    let mut play = duration_ms - hold;
    for _ in 0..4 {
        timing.speed = span / play;
        let (schedule, _) = timeline::resolve_selection(capture, &timing, selection)?;
        let over = schedule.duration_ms - duration_ms;
        if over < 5.0 || play - over <= hold.max(1.0) {
            break;
        }
        play -= over;
    }
    Ok(timing)
}

/// What `--max-size` chose, for the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// The limit (bytes).
    pub limit: u64,
    /// The frame-rate cap, when lowered.
    pub fps: Option<f64>,
    /// The scale, when lowered.
    pub scale: Option<u32>,
    /// The cell, when made smaller.
    pub cell: Option<CellSize>,
    /// With `--trim`: the part of the window kept, as (its start, its length) in ms of capture
    /// time since the first snapshot.
    pub kept: Option<(i64, i64)>,
    /// The estimate of the chosen settings (bytes).
    pub estimate: u64,
    /// Frames rendered and measured for that estimate, and whether that was every frame.
    pub sampled: usize,
    pub exact: bool,
    /// Encoding passes run (1, or 2 when the first went over the limit).
    pub passes: u32,
    /// Bytes written.
    pub size: u64,
}

impl FitReport {
    /// "merged to 4 fps and smaller cells (5x3 px) to fit 9.6 MB in 10 MB".
    pub fn describe(&self) -> String {
        let mut gave: Vec<String> = Vec::new();
        if let Some(fps) = self.fps {
            gave.push(format!("merged to {fps} fps"));
        }
        if let Some(s) = self.scale {
            gave.push(format!("scale {s}"));
        }
        if let Some(c) = self.cell {
            gave.push(format!("smaller cells ({}x{} px)", c.width, c.height));
        }
        if let Some((from, len)) = self.kept {
            gave.push(format!(
                "kept the last {} of the window (from +{})",
                units::play_time(len as f64),
                units::play_time(from as f64)
            ));
        }
        let fit = format!("{} in {}", units::size(self.size), units::size(self.limit));
        let mut s = if gave.is_empty() {
            format!("{fit}: fits as it is (--max-size)")
        } else {
            let last = gave.pop().unwrap_or_default();
            let list = if gave.is_empty() {
                last
            } else {
                format!("{} and {last}", gave.join(", "))
            };
            format!("{list} to fit {fit}")
        };
        if self.passes > 1 {
            s.push_str("; a second pass was needed, as the first estimate was low");
        }
        s
    }
}

/// Chosen settings and their estimate.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The options to render with.
    pub options: RenderOptions,
    pub estimate: Estimate,
    /// Correction the estimates were made with (1 on the first pass).
    pub correction: f64,
    pub report: FitReport,
}

/// One set of settings to estimate.
#[derive(Debug, Clone)]
struct Candidate {
    fps: f64,
    style: StyleOptions,
    /// With `--trim`: the first snapshot kept (index into the capture's snapshots).
    from: Option<usize>,
}

impl Candidate {
    /// The whole window at a frame-rate cap and a look: what steps 1 and 2 search over.
    fn at(fps: f64, style: &StyleOptions) -> Candidate {
        Candidate {
            fps,
            style: style.clone(),
            from: None,
        }
    }
}

/// What a search found: the settings that fit, or (when none did) the estimate of the smallest
/// it tried, for the next step to start from.
type Found<T> = std::result::Result<T, Estimate>;

/// The `--max-size` search: what stays the same while candidates are tried, and the smallest
/// candidate seen.
struct Fitter<'a> {
    capture: &'a Capture,
    base: &'a RenderOptions,
    marks: &'a [ErrorMark],
    /// The limit (bytes), as asked.
    limit: u64,
    /// Bytes an estimate may reach.
    target: f64,
    correction: f64,
    /// The output's path, for the refusal of a limit out of reach.
    output: &'a std::path::Path,
    /// The candidate with the smallest estimate so far, and that estimate: what a limit out of
    /// reach is told, and where `--trim` starts from. (Smaller cells can come out larger, when a
    /// narrower frame needs a third status line.)
    least: std::cell::RefCell<Option<(Candidate, Estimate)>>,
}

impl Fitter<'_> {
    /// The options of a candidate. With `--duration`, its speed is worked out again for its
    /// frame rate and window: a lower rate lets frames start later before they merge, and a
    /// trimmed window still plays in the time asked.
    fn options(&self, c: &Candidate) -> Result<RenderOptions> {
        let mut o = self.base.clone();
        o.timing.fps = c.fps;
        o.style = c.style.clone();
        if let Some(i) = c.from {
            o.selection.from = Some(TimePoint::Snapshot(i + 1));
        }
        if let Some(d) = o.share.duration_ms {
            o.timing = play_in(self.capture, &o.timing, &o.selection, d)?;
        }
        Ok(o)
    }

    fn probe(&self, c: &Candidate) -> Result<Estimate> {
        let o = self.options(c)?;
        let (schedule, _) = timeline::resolve_selection(self.capture, &o.timing, &o.selection)?;
        let renderer = Renderer::with_marks(self.capture, &schedule, &o.style, self.marks.to_vec())
            .cancel_on(o.cancel.clone());
        let batch = crate::batch_size(&o, &renderer.layout);
        let e = budget::estimate_gif(&renderer, schedule.frames.len(), o.loop_count, batch)?;
        let mut least = self.least.borrow_mut();
        if least
            .as_ref()
            .is_none_or(|l| self.bytes(&e) < self.bytes(&l.1))
        {
            *least = Some((c.clone(), e));
        }
        Ok(e)
    }

    /// The estimate's expected bytes: each later frame at the sample's mean raised by its
    /// standard error, times the correction.
    fn bytes(&self, e: &Estimate) -> u64 {
        let later = e.frames.saturating_sub(1) as f64 * (e.mean + e.spread) * self.correction;
        e.fixed + e.first + later.ceil() as u64
    }

    fn fits(&self, e: &Estimate) -> bool {
        self.bytes(e) as f64 <= self.target
    }

    /// The first of `n` candidates (sizes falling with the index) that fits, found by bisection,
    /// with its estimate; or the estimate of the last (the smallest) when none does.
    fn first_fit(
        &self,
        n: usize,
        candidate: impl Fn(usize) -> Candidate,
    ) -> Result<Found<(usize, Estimate)>> {
        let first = self.probe(&candidate(0))?;
        if self.fits(&first) || n == 1 {
            return Ok(if self.fits(&first) {
                Ok((0, first))
            } else {
                Err(first)
            });
        }
        let last = self.probe(&candidate(n - 1))?;
        if !self.fits(&last) {
            return Ok(Err(last));
        }
        // `lo` does not fit, `hi` does.
        let (mut lo, mut hi, mut best) = (0, n - 1, last);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let e = self.probe(&candidate(mid))?;
            if self.fits(&e) {
                (hi, best) = (mid, e);
            } else {
                lo = mid;
            }
        }
        Ok(Ok((hi, best)))
    }

    /// Step 2: at the lowest rate `levels` end with, the largest look smaller than the one asked
    /// that fits; at that look, the rate raised back as far as it still fits. When no look fits,
    /// the estimate of the smallest one (or `smallest`, step 1's, when there is none smaller).
    fn shrink(&self, levels: &[f64], smallest: Estimate) -> Result<Found<Fit>> {
        let base = &self.base.style;
        let floor = *levels.last().unwrap_or(&self.base.timing.fps);
        let (schedule, _) =
            timeline::resolve_selection(self.capture, &self.base.timing, &self.base.selection)?;
        let looks = smaller_looks(self.capture, base, &schedule);
        if looks.is_empty() {
            return Ok(Err(smallest));
        }
        match self.first_fit(looks.len(), |i| Candidate::at(floor, &looks[i]))? {
            Ok((k, e)) => {
                let look = &looks[k];
                let fit = match self.first_fit(levels.len(), |i| Candidate::at(levels[i], look))? {
                    Ok((i, e)) => self.done(Candidate::at(levels[i], look), e),
                    Err(_) => self.done(Candidate::at(floor, look), e),
                };
                fit.map(Ok)
            }
            Err(e) => Ok(Err(e)),
        }
    }

    /// Step 3 (`--trim`), from the smallest settings (`least`, whose whole window does not fit:
    /// its estimate is `smallest`): the earliest start of the window that fits, keeping its end.
    /// The first frame is drawn in full whatever the window, so a limit under it is out of reach.
    fn trim(&self, least: Candidate, smallest: Estimate) -> Result<Fit> {
        let one_frame = smallest.fixed + smallest.first;
        if one_frame as f64 > self.target {
            return Err(self.too_large(format!(
                "even one frame takes {} (at {}); raise --max-size",
                units::size(one_frame),
                self.settings(&least)
            )));
        }
        let (timing, selection) = (&self.base.timing, &self.base.selection);
        let times = timeline::Times::new(self.capture, timing);
        let range = timeline::window(selection.from, selection.to, &times, &self.capture.source)?;
        let end = *range.end();
        let at_start = |s: usize| Candidate {
            from: Some(s),
            ..least.clone()
        };
        let last = self.probe(&at_start(end))?;
        if !self.fits(&last) {
            return Err(self.too_large(format!(
                "even the last snapshot alone takes about {} (at {}); raise --max-size",
                units::size(self.bytes(&last)),
                self.settings(&least)
            )));
        }
        let (start, best) = self.earliest_start(*range.start(), end, last, at_start)?;
        let mut fit = self.done(at_start(start), best)?;
        fit.report.kept = Some((times.get(start), times.get(end) - times.get(start)));
        Ok(fit)
    }

    /// Bisects on the first snapshot kept, between `from` (the whole window, which does not
    /// fit) and `end` (the last snapshot alone, which does: its estimate is `last`), and gives
    /// the start found with its estimate. Each probe estimates the part kept (with --duration a
    /// shorter part is played slower, in about as many frames, so the frame count alone cannot
    /// say what fits). It stops when the start is known to within 1% of the part kept.
    fn earliest_start(
        &self,
        from: usize,
        end: usize,
        last: Estimate,
        at_start: impl Fn(usize) -> Candidate,
    ) -> Result<(usize, Estimate)> {
        let (mut lo, mut hi, mut best) = (from, end, last);
        while hi - lo > 1 && (hi - lo) * 100 > end - hi + 1 {
            let mid = lo + (hi - lo) / 2;
            let e = self.probe(&at_start(mid))?;
            if self.fits(&e) {
                (hi, best) = (mid, e);
            } else {
                lo = mid;
            }
        }
        Ok((hi, best))
    }

    /// The chosen settings `c`, with the report of what they gave up against the options asked.
    fn done(&self, c: Candidate, e: Estimate) -> Result<Fit> {
        let base = &self.base.style;
        let o = self.options(&c)?;
        let report = FitReport {
            limit: self.limit,
            fps: self.merges_more(&c)?.then_some(c.fps),
            scale: (c.style.scale < base.scale).then_some(c.style.scale),
            cell: (c.style.cell != base.cell)
                .then_some(c.style.cell)
                .flatten(),
            kept: None,
            estimate: self.bytes(&e),
            sampled: e.sampled,
            exact: e.exact,
            passes: 1,
            size: 0,
        };
        Ok(Fit {
            options: o,
            estimate: e,
            correction: self.correction,
            report,
        })
    }

    /// Whether `c`'s lower cap merged anything: at a capture's own pace below the cap (a dump
    /// every 2 s under a cap of 1 fps) it does not, and the report does not claim it.
    fn merges_more(&self, c: &Candidate) -> Result<bool> {
        let asked = self.base.timing.fps;
        let frames = |fps: f64| -> Result<usize> {
            let o = self.options(&Candidate { fps, ..c.clone() })?;
            Ok(
                timeline::resolve_selection(self.capture, &o.timing, &o.selection)?
                    .0
                    .frames
                    .len(),
            )
        };
        Ok(c.fps < asked && frames(c.fps)? < frames(asked)?)
    }

    /// The settings of `c` that differ from those asked, for a refusal: "1 fps, scale 1".
    fn settings(&self, c: &Candidate) -> String {
        let base = &self.base.style;
        let mut s = vec![format!("{} fps", c.fps)];
        if c.style.scale < base.scale {
            s.push(format!("scale {}", c.style.scale));
        }
        if let Some(cell) = c.style.cell.filter(|_| c.style.cell != base.cell) {
            s.push(format!("{}x{} px cells", cell.width, cell.height));
        }
        s.join(", ")
    }

    /// The refusal of a limit out of reach without `--trim`: the smallest GIF the window makes
    /// (`smallest`, at the settings `least`) and what to do instead.
    fn untrimmed_too_large(&self, least: &Candidate, smallest: &Estimate) -> Error {
        let bytes = self.bytes(smallest);
        self.too_large(format!(
            "the smallest GIF memanim can make of this window is about {} (at {}){}; add \
             --trim to keep only its end, play it faster with --duration, or raise --max-size",
            units::size(bytes),
            self.settings(least),
            if bytes <= self.limit {
                format!(
                    ", too close to the limit to promise (an estimate may fill {:.0}% of it)",
                    ESTIMATE_SHARE * 100.0
                )
            } else {
                String::new()
            }
        ))
    }

    /// A limit out of reach, and why: nothing is written.
    fn too_large(&self, message: String) -> Error {
        Error::TooLarge {
            path: self.output.to_path_buf(),
            limit: self.limit,
            message,
        }
    }
}

/// Frame rates to try from `fps` down: `fps` itself, then the [`FPS_STEPS`] below it down to
/// [`MIN_FIT_FPS`].
fn fps_levels(fps: f64) -> Vec<f64> {
    let mut levels = vec![fps];
    levels.extend(
        FPS_STEPS
            .iter()
            .copied()
            .filter(|&f| f < fps && f >= MIN_FIT_FPS),
    );
    levels
}

/// Looks smaller than `base`, largest first: `--scale` down to 1, then cells narrower by a pixel
/// at a time down to [`MIN_FIT_CELL`], of the same shape (bricks stay bricks) and in the same
/// columns.
fn smaller_looks(
    capture: &Capture,
    base: &StyleOptions,
    schedule: &timeline::Schedule,
) -> Vec<StyleOptions> {
    let mut looks: Vec<StyleOptions> = (1..base.scale.max(1))
        .rev()
        .map(|scale| StyleOptions {
            scale,
            ..base.clone()
        })
        .collect();
    let one = looks.last().unwrap_or(base).clone();
    let layout = Renderer::new(capture, schedule, &one).layout;
    let (w0, h0) = (layout.cell, layout.cell_h);
    let brick = CellSize::brick(w0)
        == CellSize {
            width: w0,
            height: h0,
        };
    for w in (MIN_FIT_CELL..w0).rev() {
        let cell = if brick {
            CellSize::brick(w)
        } else {
            CellSize {
                width: w,
                height: ((w * h0) as f64 / w0 as f64).round().max(1.0) as u32,
            }
        };
        looks.push(StyleOptions {
            cell: Some(cell),
            columns: Some(layout.columns),
            ..one.clone()
        });
    }
    looks
}

/// Chooses the settings that make the GIF of `options` at most `limit` bytes, in the order the
/// module documentation gives, from estimates made with each later frame's mean size multiplied
/// by `correction` (1 first; more for a second pass, from what the first measured).
///
/// A limit that cannot be met even at the lowest rate and smallest cells (and, with `trim`, with
/// one frame) is an [`Error::TooLarge`] that says the smallest size reachable: nothing is written.
pub fn fit(
    capture: &Capture,
    options: &RenderOptions,
    marks: &[ErrorMark],
    limit: u64,
    correction: f64,
    output: &std::path::Path,
) -> Result<Fit> {
    let f = Fitter {
        capture,
        base: options,
        marks,
        limit,
        target: limit as f64 * ESTIMATE_SHARE,
        correction,
        output,
        least: Default::default(),
    };
    let base = &options.style;
    let levels = fps_levels(options.timing.fps);
    let floor = *levels.last().unwrap_or(&options.timing.fps);
    // 1. Merge snapshots into fewer frames.
    let smallest = match f.first_fit(levels.len(), |i| Candidate::at(levels[i], base))? {
        Ok((i, e)) => return f.done(Candidate::at(levels[i], base), e),
        Err(e) => e,
    };
    // 2. Smaller scale and cells at the lowest rate; then the rate back up as far as it fits.
    let smallest = match f.shrink(&levels, smallest)? {
        Ok(fit) => return Ok(fit),
        Err(e) => e,
    };
    // Nothing fits: from here on, the settings with the smallest estimate stand for "the
    // smallest settings".
    let (least, smallest) = f
        .least
        .borrow()
        .clone()
        .unwrap_or((Candidate::at(floor, base), smallest));
    if !options.share.trim {
        return Err(f.untrimmed_too_large(&least, &smallest));
    }
    // 3. Keep only the end of the window: the earliest start that fits.
    f.trim(least, smallest)
}

/// The correction for a second pass, after the first was stopped at the limit with
/// `frames_done` of its frames written: the bytes a later frame really took (what was written,
/// less the header and the first frame, over the frames after the first) against what the
/// estimate counted for one, and 5% more. Never less than the correction the first pass used.
///
/// The frames written were the first ones of the schedule; if they are heavier than the rest,
/// the second pass gives up more than it needed to, which is the side to err on.
pub fn corrected(fit: &Fit, frames_done: usize) -> f64 {
    let e = &fit.estimate;
    let later = fit.report.limit.saturating_sub(e.fixed + e.first) as f64;
    let per_frame = later / frames_done.saturating_sub(1).max(1) as f64;
    let counted = (e.mean + e.spread).max(1.0);
    fit.correction.max(per_frame / counted) * 1.05
}

/// The figures of a GIF that would play long: the hint for `--duration` and `--max-size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongPlay {
    /// How long it plays (ms).
    pub play_ms: f64,
    /// Its frames.
    pub frames: usize,
    /// Its likely size (bytes), from a sample of its frames.
    pub bytes: u64,
}

/// When `options` would make a GIF that plays longer than [`LONG_PLAY_MS`] and neither
/// `--duration` nor `--max-size` was given, how long it would play and how large it is likely to
/// be (from a sample of its frames: about as long as rendering 257 of them). None otherwise, and
/// for any output but a GIF.
pub fn long_play(
    capture: &Capture,
    options: &RenderOptions,
    output: &crate::Output,
) -> Result<Option<LongPlay>> {
    if !matches!(output, crate::Output::Gif(_))
        || options.selection.is_still()
        || options.share.duration_ms.is_some()
        || options.share.max_size.is_some()
    {
        return Ok(None);
    }
    let (schedule, _) = timeline::resolve_selection(capture, &options.timing, &options.selection)?;
    if schedule.duration_ms <= LONG_PLAY_MS {
        return Ok(None);
    }
    let marks = crate::error_marks(capture);
    crate::with_jobs(options.jobs, &output.describe(), || {
        let renderer = Renderer::with_marks(capture, &schedule, &options.style, marks)
            .cancel_on(options.cancel.clone());
        let batch = crate::batch_size(options, &renderer.layout);
        let e = budget::estimate_gif(&renderer, schedule.frames.len(), options.loop_count, batch)?;
        Ok(Some(LongPlay {
            play_ms: schedule.duration_ms,
            frames: schedule.frames.len(),
            bytes: e.bytes(1.0),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_step_down_from_the_cap_to_the_floor() {
        assert_eq!(fps_levels(50.0).first(), Some(&50.0));
        assert_eq!(fps_levels(50.0).last(), Some(&MIN_FIT_FPS));
        assert!(fps_levels(50.0).windows(2).all(|w| w[0] > w[1]));
        assert_eq!(fps_levels(7.0)[..3], [7.0, 6.0, 5.0]);
        // A rate already below the floor is kept: there is nothing to merge down to.
        assert_eq!(fps_levels(0.5), vec![0.5]);
    }

    #[test]
    fn the_hold_of_a_short_duration_is_a_tenth_of_it() {
        assert_eq!(default_hold_ms(60_000.0), 3000.0);
        assert_eq!(default_hold_ms(10_000.0), 1000.0);
    }

    #[test]
    fn the_report_says_what_was_given_up() {
        let mut r = FitReport {
            limit: 10_000_000,
            fps: Some(4.0),
            scale: Some(1),
            cell: None,
            kept: None,
            estimate: 9_000_000,
            sampled: 64,
            exact: false,
            passes: 1,
            size: 9_612_345,
        };
        assert_eq!(
            r.describe(),
            "merged to 4 fps and scale 1 to fit 9.61 MB in 10 MB"
        );
        r.cell = Some(CellSize::brick(5));
        r.kept = Some((2_820_000, 780_000));
        r.passes = 2;
        assert_eq!(
            r.describe(),
            "merged to 4 fps, scale 1, smaller cells (5x3 px) and kept the last 13 min 00 s of the window \
             (from +47 min 00 s) to fit 9.61 MB in 10 MB; a second pass was needed, as the \
             first estimate was low"
        );
        let plain = FitReport {
            fps: None,
            scale: None,
            cell: None,
            kept: None,
            passes: 1,
            ..r
        };
        assert_eq!(
            plain.describe(),
            "9.61 MB in 10 MB: fits as it is (--max-size)"
        );
    }
}
