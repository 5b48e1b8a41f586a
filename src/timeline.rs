//! Turns a capture's snapshot times into a [`Schedule`]: which snapshot each frame shows, when, for
//! how long, and which log lines are visible with it.
//!
//! In go a [`Capture`], the [`TimingOptions`] and a [`Selection`] (what the user asked to see,
//! parsed before the capture was read); out comes the [`Schedule`] ([`resolve_selection`]), and
//! for a still the frame to write. The renderer draws the frames it lists; the encoder writes
//! their delays.
//!
//! Ticks were unwrapped per session by the parser; here sessions are laid end to end (by wall clock
//! when both have a sync line, else 1 s apart), long gaps are capped (`max_idle`), time is scaled
//! (`speed`), every snapshot gets a frame of at least 1/fps (snapshots share a frame, which shows
//! the latest, only when frames would fall more than [`MAX_LAG_MS`] behind), and delays are
//! emitted in centiseconds from accumulated milliseconds so rounding never drifts.

use std::ops::RangeInclusive;

use crate::capture::{Capture, LogLine};
use crate::error::{Error, Result};

/// Playback speed factor.
pub const DEFAULT_SPEED: f64 = 1.0;
/// Gaps between snapshots longer than this are shortened to it (seconds).
pub const DEFAULT_MAX_IDLE_S: f64 = 5.0;
/// Frame-rate cap; 50 is the most a GIF can show (2 cs per frame).
pub const DEFAULT_FPS: f64 = 50.0;
/// How long the last frame stays before the GIF loops (seconds).
pub const DEFAULT_LAST_FRAME_S: f64 = 3.0;

/// How snapshot times become frame times.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingOptions {
    /// Playback speed factor (2.0 = twice as fast).
    pub speed: f64,
    /// Longest gap between two frames, before `speed` applies (ms); None = no limit.
    pub max_idle_ms: Option<f64>,
    /// Most frames per second: a frame is shown at least 1/fps. Snapshots closer together still
    /// get a frame each, starting late, unless that puts the animation more than
    /// `timeline::MAX_LAG_MS` behind; then they are merged, keeping the latest.
    pub fps: f64,
    /// How long the last frame is held (ms).
    pub last_frame_ms: f64,
    /// One snapshot per this much capture time (ms), the last of each interval; None = all.
    pub every_ms: Option<f64>,
    /// Merge snapshots into shared frames (the frame-rate cap, and snapshots that look like the one
    /// before). False gives every snapshot its own frame: stills and `diff` use that.
    pub merge: bool,
    /// The animation's whole play time (ms), last frame included: the last frame is held until
    /// then (at least one frame interval). None: it is held `last_frame_ms`. Set by the library
    /// from [`crate::options::ShareOptions::duration_ms`], together with the speed that plays the window in it.
    pub play_ms: Option<f64>,
    /// Snapshots that always get a frame of their own, as (session, index) in order: merging
    /// never hides them (the library keeps the dumps around each MemoryError, which the notice
    /// and `--at oom` point at).
    pub keep: Vec<(usize, usize)>,
}

impl Default for TimingOptions {
    fn default() -> Self {
        TimingOptions {
            speed: DEFAULT_SPEED,
            max_idle_ms: Some(DEFAULT_MAX_IDLE_S * 1000.0),
            fps: DEFAULT_FPS,
            last_frame_ms: DEFAULT_LAST_FRAME_S * 1000.0,
            every_ms: None,
            merge: true,
            play_ms: None,
            keep: Vec::new(),
        }
    }
}

impl TimingOptions {
    /// True when snapshot `r` always gets a frame of its own ([`Self::keep`]).
    fn keeps(&self, r: SnapRef) -> bool {
        self.keep.binary_search(&(r.session, r.index)).is_ok()
    }

    /// The speed factor, 1 when `speed` is not a positive number.
    fn speed_or_1(&self) -> f64 {
        if self.speed > 0.0 {
            self.speed
        } else {
            1.0
        }
    }
}

/// Gap placed between two sessions when the wall clock cannot tell (ms).
pub const SESSION_GAP_MS: i64 = 1000;

/// A snapshot's address in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapRef {
    /// The session's index in the capture.
    pub session: usize,
    /// The snapshot's index in its session.
    pub index: usize,
}

/// One frame to render and write.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSpec {
    /// The snapshot shown (the latest of those the frame stands for).
    pub snap: SnapRef,
    /// The snapshot shown before this one (for marking changes); None for the first frame.
    pub prev: Option<SnapRef>,
    /// Real time since the first snapshot of the capture (ms), sessions laid end to end.
    pub elapsed_ms: i64,
    /// When the frame starts in the output (ms).
    pub start_ms: f64,
    /// Display time in centiseconds (never below 2, the least browsers honour).
    pub delay_cs: u16,
    /// Log lines visible with this frame: the flat log list's `..logs_end`.
    pub logs_end: usize,
    /// Log lines from here to `logs_end` are new since the previous frame.
    pub logs_new_from: usize,
}

/// Every frame in output order, plus the flat list of log lines the frames refer to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// The frames in output order.
    pub frames: Vec<FrameSpec>,
    /// Every log line of the capture, numbered in file order (frames refer to them by number).
    pub logs: Numbering,
    /// Snapshots merged into a frame with a later one because they came faster than the frame
    /// rate allows (see [`MAX_LAG_MS`]); the summary says how many.
    pub merged: usize,
    /// Frames that start later than their snapshot's time because it came less than a frame
    /// interval after the one before (a burst of dumps); each is shown one frame interval.
    pub late: usize,
    /// Snapshots merged into the frame before because nothing visible changed.
    pub unchanged: usize,
    /// Total output duration (ms).
    pub duration_ms: f64,
}

impl Schedule {
    /// Log line `i` of the flat list, with its text (read from the capture).
    pub fn log(&self, capture: &Capture, i: usize) -> LogLine {
        let (s, j) = self.logs.at(i);
        capture.sessions[s].logs.get(j)
    }
}

/// Items of every session numbered in file order (snapshots, or log lines): number `k` is
/// (session, index in it) by a search over the sessions' first numbers, so a schedule holds
/// numbers, not a list as long as the capture.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Numbering {
    /// The number of each session's first item; one more entry for the total.
    starts: Vec<usize>,
}

impl Numbering {
    fn of(capture: &Capture, count: impl Fn(&crate::capture::Session) -> usize) -> Self {
        let mut starts = Vec::with_capacity(capture.sessions.len() + 1);
        let mut k = 0;
        for s in &capture.sessions {
            starts.push(k);
            k += count(s);
        }
        starts.push(k);
        Numbering { starts }
    }

    /// The capture's log lines.
    pub fn logs(capture: &Capture) -> Self {
        Self::of(capture, |s| s.logs.len())
    }

    /// The capture's snapshots (as `#N` and `info` count them, from 0 here).
    pub fn snapshots(capture: &Capture) -> Self {
        Self::of(capture, |s| s.snapshots.len())
    }

    /// Items over all sessions.
    pub fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// True when no session has an item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `k` as (session, index in it); `k` must be below [`Self::len`].
    pub fn at(&self, k: usize) -> (usize, usize) {
        // The last session whose first number is at most k (sessions without items share
        // their number with the next, which wins).
        let s = self.starts.partition_point(|&st| st <= k) - 1;
        (s, k - self.starts[s])
    }

    /// Item `k`, if there is one.
    pub fn get(&self, k: usize) -> Option<(usize, usize)> {
        (k < self.len()).then(|| self.at(k))
    }

    /// The number of item `index` of `session`.
    pub fn number(&self, session: usize, index: usize) -> usize {
        self.starts[session] + index
    }
}

pub use crate::units::TimePoint;

/// How far a frame may start after its snapshot's (scaled) time before snapshots are merged (ms
/// of output time; two frame intervals when that is longer, at a low `--fps`). See
/// `schedule_times`: a burst of dumps taken by hand within milliseconds stays one frame each,
/// while a stream faster than the frame rate (a high `--speed`, a low `--fps`) is merged so the
/// animation keeps its pace.
pub const MAX_LAG_MS: f64 = 500.0;

/// "run.log spans 0 to 12.345 s (snapshots #1 to #134)": what a point may be, for error messages.
fn span_text(times: &Times, source: &str) -> String {
    let span = times.last().unwrap_or(0);
    format!(
        "{source} spans 0 to {} (snapshots #1 to #{})",
        crate::units::seconds(span as f64),
        times.len()
    )
}

/// Resolves the point `p`, given with option `what` (e.g. `--at`), against the snapshot times
/// `times` (ms since the first snapshot, non-decreasing, file order: [`Times`]) of the
/// capture called `source`. Returns its time (ms) and, for `#N`, the snapshot's index in `times`.
///
/// A point after the end of the capture, or a snapshot number it does not have, is a usage error
/// that says the capture's range: nothing is clamped.
pub fn locate(
    p: TimePoint,
    what: &str,
    times: &Times,
    source: &str,
) -> Result<(i64, Option<usize>)> {
    let Some(span) = times.last() else {
        return Err(Error::Usage(format!("{source} has no snapshots")));
    };
    match p {
        TimePoint::Snapshot(n) if n >= 1 && n <= times.len() => Ok((times.get(n - 1), Some(n - 1))),
        // `--at #N` is also how `--snapshot N` arrives: the message names the snapshot, which
        // both flags mean, rather than one of the flags.
        TimePoint::Snapshot(n) => Err(Error::Usage(format!(
            "{}there is no snapshot #{n}; {}",
            if what == "--at" {
                String::new()
            } else {
                format!("{what} #{n}: ")
            },
            span_text(times, source)
        ))),
        TimePoint::Percent(v) => Ok(((span as f64 * v / 100.0).round() as i64, None)),
        // The caller that can find MemoryErrors (a still) turns this into a snapshot first.
        TimePoint::MemoryError(_) => Err(Error::Usage(format!(
            "{what} {p}: a MemoryError picks a still (--at oom -o still.png); it is no time for {what}"
        ))),
        TimePoint::Ms(v) => {
            let t = v.round() as i64;
            if t > span {
                Err(Error::Usage(format!(
                    "{what} {p} is after the end of the capture: {}",
                    span_text(times, source)
                )))
            } else {
                Ok((t, None))
            }
        }
    }
}

/// Refuses a `--from`/`--to` window whose start comes after its end when the two points are of
/// one kind (two times, two shares, two snapshot numbers): that needs no capture, so the command
/// line is refused before one is read. Points of different kinds are ordered by [`window`] once
/// the capture's times are known.
///
/// ```
/// use memanim::timeline::{check_order, TimePoint};
///
/// assert!(check_order(Some(TimePoint::Ms(6000.0)), Some(TimePoint::Ms(2000.0))).is_err());
/// assert!(check_order(Some(TimePoint::Percent(60.0)), Some(TimePoint::Ms(2000.0))).is_ok());
/// ```
pub fn check_order(from: Option<TimePoint>, to: Option<TimePoint>) -> Result<()> {
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(());
    };
    let inverted = match (from, to) {
        // As `locate` rounds them.
        (TimePoint::Ms(a), TimePoint::Ms(b)) => a.round() > b.round(),
        (TimePoint::Percent(a), TimePoint::Percent(b)) => a > b,
        (TimePoint::Snapshot(a), TimePoint::Snapshot(b)) => a > b,
        _ => false,
    };
    if inverted {
        Err(Error::Usage(format!(
            "--from {from} is after --to {to}: a window starts before it ends"
        )))
    } else {
        Ok(())
    }
}

/// The snapshots a `--from`/`--to` window holds, as an index range into `times` (see [`locate`]).
/// `#N` bounds are exact snapshots; time bounds take every snapshot at or after `--from` and at
/// or before `--to`. An inverted or empty window is a usage error that says the capture's range.
pub fn window(
    from: Option<TimePoint>,
    to: Option<TimePoint>,
    times: &Times,
    source: &str,
) -> Result<RangeInclusive<usize>> {
    check_order(from, to)?;
    let lo = match from {
        None => (0, Some(0)),
        Some(p) => locate(p, "--from", times, source)?,
    };
    let hi = match to {
        None => (times.last().unwrap_or(0), times.len().checked_sub(1)),
        Some(p) => locate(p, "--to", times, source)?,
    };
    let first = lo.1.unwrap_or_else(|| times.partition_point(|t| t < lo.0));
    let last = match hi.1 {
        Some(i) => Some(i),
        None => times.partition_point(|t| t <= hi.0).checked_sub(1),
    };
    let (Some(from), Some(to)) = (from, to) else {
        // One bound: the window is empty only if the capture is.
        return match last {
            Some(last) if first <= last => Ok(first..=last),
            _ => Err(Error::Usage(format!(
                "{}: no snapshot in the window; {}",
                match (from, to) {
                    (Some(f), _) => format!("--from {f}"),
                    (_, Some(t)) => format!("--to {t}"),
                    _ => "--from/--to".to_string(),
                },
                span_text(times, source)
            ))),
        };
    };
    if lo.0 > hi.0 || lo.1.zip(hi.1).is_some_and(|(a, b)| a > b) {
        return Err(Error::Usage(format!(
            "--from {from} is after --to {to}; {}",
            span_text(times, source)
        )));
    }
    match last {
        Some(last) if first <= last => Ok(first..=last),
        _ => Err(Error::Usage(format!(
            "--from {from} --to {to}: no snapshot between them; {}",
            span_text(times, source)
        ))),
    }
}

/// What the user asked to see: a time window, and optionally one frame of it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Selection {
    /// The window's start (`--from`); None is the first snapshot.
    pub from: Option<TimePoint>,
    /// The window's end (`--to`); None is the last snapshot.
    pub to: Option<TimePoint>,
    /// One frame: the snapshot shown at this time, or snapshot `#N` (`--snapshot N`).
    pub at: Option<TimePoint>,
    /// One frame: the Nth (1-based) of the animation, as a PNG sequence numbers its files.
    pub frame: Option<usize>,
}

impl Selection {
    /// True when one frame is asked for.
    pub fn is_still(&self) -> bool {
        self.at.is_some() || self.frame.is_some()
    }
}

/// Real time of every snapshot, sessions laid end to end; the first snapshot is at 0 (see
/// [`Times`]).
pub fn snapshot_times(capture: &Capture, timing: &TimingOptions) -> Vec<(SnapRef, i64)> {
    snapshot_times_iter(capture, timing).collect()
}

/// [`snapshot_times`] one snapshot at a time: what a pass over a long capture uses, so that it
/// holds no list as long as the capture.
pub fn snapshot_times_iter<'c>(
    capture: &'c Capture,
    timing: &TimingOptions,
) -> impl Iterator<Item = (SnapRef, i64)> + 'c {
    let times = Times::new(capture, timing);
    (0..times.len()).map(move |k| times.at(k))
}

/// Every snapshot's real time (ms), sessions laid end to end, the first snapshot at 0, by its
/// number in file order: the times `--from`, `--to`, `--at` and `#N` are resolved against.
///
/// Nothing as long as the capture is kept: each session's offset, and the index's own session
/// times (a week of dumps is millions of snapshots).
///
/// The gap between two sessions is the wall-clock gap when both have a sync line (else
/// [`SESSION_GAP_MS`]), capped at `timing.max_idle_ms` like any idle gap: a board that sat
/// reset for an hour must not squeeze both sessions' curves into the edges of the strip.
#[derive(Debug, Clone)]
pub struct Times<'c> {
    capture: &'c Capture,
    numbers: Numbering,
    /// What each session adds to its snapshots' session times (by session index).
    offsets: Vec<i64>,
}

impl<'c> Times<'c> {
    /// The times of `capture`'s snapshots, with idle gaps between sessions capped as `timing`
    /// says.
    pub fn new(capture: &'c Capture, timing: &TimingOptions) -> Self {
        let cap = timing.max_idle_ms.map_or(i64::MAX, |m| m.max(0.0) as i64);
        let mut offsets = vec![0; capture.sessions.len()];
        // The previous session's last snapshot: its global time, and the snapshot.
        let mut prev_end: Option<(i64, crate::heap::Snapshot)> = None;
        for s in capture.sessions.iter().filter(|s| !s.snapshots.is_empty()) {
            let n = s.snapshots.len() - 1;
            let (first, last) = (s.snapshots.meta(0), s.snapshots.meta(n));
            let start = match prev_end.take() {
                None => 0,
                Some((end, before)) => end + session_gap(s, &before, &first).min(cap),
            };
            offsets[s.index] = start - first.time_ms;
            prev_end = Some((offsets[s.index] + last.time_ms, last));
        }
        Times {
            capture,
            numbers: Numbering::snapshots(capture),
            offsets,
        }
    }

    /// Snapshots in the capture.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// True when the capture has no snapshot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshot `k` (0-based, file order; below [`Self::len`]).
    pub fn snap(&self, k: usize) -> SnapRef {
        let (session, index) = self.numbers.at(k);
        SnapRef { session, index }
    }

    /// The time of snapshot `k` (0-based, file order; below [`Self::len`]).
    pub fn get(&self, k: usize) -> i64 {
        self.of(self.snap(k))
    }

    /// Snapshot `k` (0-based, file order; below [`Self::len`]) and its time.
    pub fn at(&self, k: usize) -> (SnapRef, i64) {
        let r = self.snap(k);
        (r, self.of(r))
    }

    /// The snapshot on screen at time `at` among those of `range`: the last one not later than
    /// it, or the range's first when `at` falls before it.
    pub fn on_screen_at(&self, range: &RangeInclusive<usize>, at: i64) -> usize {
        let upto = self.partition_point(|t| t <= at);
        upto.saturating_sub(1).clamp(*range.start(), *range.end())
    }

    /// The time of snapshot `r`.
    pub fn of(&self, r: SnapRef) -> i64 {
        self.offsets[r.session] + self.capture.sessions[r.session].snapshots.time_ms(r.index)
    }

    /// The last snapshot's time, the capture's span.
    pub fn last(&self) -> Option<i64> {
        self.len().checked_sub(1).map(|k| self.get(k))
    }

    /// The number of snapshots whose time satisfies `pred`, which holds for a first part of
    /// them only (as [`slice::partition_point`]): times never go back.
    pub fn partition_point(&self, pred: impl Fn(i64) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.get(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The snapshots of `range` (numbers in file order) and their times.
    pub fn range(&self, range: RangeInclusive<usize>) -> impl Iterator<Item = (SnapRef, i64)> + '_ {
        range.map(|k| self.at(k))
    }

    /// How long the snapshots of `range` play before `--speed`: the sum of their gaps, each
    /// capped at `--max-idle` ([`capped_gap`]).
    pub fn played_ms(&self, range: RangeInclusive<usize>, timing: &TimingOptions) -> f64 {
        let mut before = None;
        let mut sum = 0.0;
        for (_, t) in self.range(range) {
            if let Some(b) = before {
                sum += capped_gap(b, t, timing);
            }
            before = Some(t);
        }
        sum
    }
}

/// The real time between the last snapshot of a session (`before`) and the first of the next
/// one, `s` (`first`), before `--max-idle`.
///
/// A new sync line without a reset (the dumper started again) leaves ticks running: they give the
/// gap (the index keeps their low 32 bits, and the gap of a restarted dumper is far shorter).
/// Else the wall clocks of two sync lines, else [`SESSION_GAP_MS`].
fn session_gap(
    s: &crate::capture::Session,
    before: &crate::heap::Snapshot,
    first: &crate::heap::Snapshot,
) -> i64 {
    let ticks_gap = (first.ticks as u32).wrapping_sub(before.ticks as u32);
    let ticks_go_on = s.started_by.as_deref() == Some(crate::capture::NEW_SYNC_LINE)
        && first.timed
        && before.timed
        && ticks_gap < 86_400_000;
    match (before.wall_ms, first.wall_ms) {
        _ if ticks_go_on => ticks_gap as i64,
        (Some(a), Some(b)) if b > a && b - a < 86_400_000 => b - a,
        _ => SESSION_GAP_MS,
    }
}

/// `--every` as a stream: takes the first time at or after each multiple of the interval.
#[derive(Debug, Clone, Copy)]
pub struct Thinner {
    every: f64,
    next: f64,
}

impl Thinner {
    /// One item per `every` (in the unit of the times given to [`Self::take`]).
    pub fn new(every: f64) -> Self {
        Thinner {
            every,
            next: f64::MIN,
        }
    }

    /// True when the item at time `t` (times in order) is kept.
    pub fn take(&mut self, t: f64) -> bool {
        let take = t >= self.next;
        if take {
            self.next = ((t / self.every).floor() + 1.0) * self.every;
        }
        take
    }
}

/// Builds the schedule for every snapshot of the capture.
pub fn resolve(capture: &Capture, timing: &TimingOptions) -> Schedule {
    schedule_times(capture, snapshot_times_iter(capture, timing), timing)
}

/// The number of a snapshot as `info`, `stats` and `#N` count them: 1-based, every snapshot of
/// the capture in file order.
pub fn snapshot_number(capture: &Capture, r: SnapRef) -> usize {
    capture.sessions[..r.session]
        .iter()
        .map(|s| s.snapshots.len())
        .sum::<usize>()
        + r.index
        + 1
}

/// Builds the schedule for the snapshots inside the selection's window, and, for a still, picks
/// the one frame. The window is applied before anything is rendered, so an excerpt of a long
/// capture costs only its own frames. Returns the schedule and, for a still, its frame index.
///
/// A still asked for by time or by `#N` is always that snapshot: its schedule keeps it and the
/// snapshot before (for the change marks) as frames of their own, so a dump the animation merges
/// into the next frame can still be shown. The other snapshots share frames at a rate that gives
/// the strip a few thousand, so a still of a week of dumps holds no frame per dump. `--frame N`
/// is the Nth frame of the animation as it is.
pub fn resolve_selection(
    capture: &Capture,
    timing: &TimingOptions,
    sel: &Selection,
) -> Result<(Schedule, Option<usize>)> {
    let times = Times::new(capture, timing);
    let range = window(sel.from, sel.to, &times, &capture.source)?;
    match (sel.at, sel.frame) {
        (Some(at), _) => {
            let i = still_index(at, sel, &times, &range, &capture.source)?;
            let (schedule, frame) = still_schedule(capture, timing, &times, &range, i);
            Ok((schedule, Some(frame)))
        }
        (None, Some(n)) => {
            let schedule = schedule_times(capture, times.range(range), timing);
            if n == 0 || n > schedule.frames.len() {
                return Err(Error::Usage(format!(
                    "--frame {n}: the animation has frames 1 to {}",
                    schedule.frames.len()
                )));
            }
            Ok((schedule, Some(n - 1)))
        }
        (None, None) => Ok((schedule_times(capture, times.range(range), timing), None)),
    }
}

/// The index in `times` of the snapshot a still at `at` shows: snapshot `#N` itself, or the one
/// on screen at a time. A point outside the window that `sel` asks for (whose bounds may fall
/// between snapshots; `range` is the snapshots it holds) is a usage error, never moved into it.
fn still_index(
    at: TimePoint,
    sel: &Selection,
    times: &Times,
    range: &RangeInclusive<usize>,
    source: &str,
) -> Result<usize> {
    let (t, exact) = locate(at, "--at", times, source)?;
    let bound = |p: Option<TimePoint>, what, default| -> Result<i64> {
        Ok(match p {
            Some(p) => locate(p, what, times, source)?.0,
            None => default,
        })
    };
    let lo = bound(sel.from, "--from", 0)?;
    let hi = bound(sel.to, "--to", times.last().unwrap_or(0))?;
    let outside = match exact {
        Some(i) => !range.contains(&i),
        None => t < lo || t > hi,
    };
    if outside {
        return Err(Error::Usage(format!(
            "--at {at} is outside the window --from/--to selects: {} to {} (snapshots #{} to #{})",
            crate::units::seconds(lo as f64),
            crate::units::seconds(hi as f64),
            range.start() + 1,
            range.end() + 1
        )));
    }
    Ok(exact.unwrap_or_else(|| times.on_screen_at(range, t)))
}

/// The schedule of a still of snapshot `i` (an index in `times`, inside `range`), and the index
/// of the frame that shows it: it and the snapshot before it have frames of their own (see
/// [`still_timing`]).
fn still_schedule(
    capture: &Capture,
    timing: &TimingOptions,
    times: &Times,
    range: &RangeInclusive<usize>,
    i: usize,
) -> (Schedule, usize) {
    let still = still_timing(
        timing,
        times.played_ms(range.clone(), timing),
        [Some(i), i.checked_sub(1)]
            .into_iter()
            .flatten()
            .filter(|k| range.contains(k))
            .map(|k| times.snap(k)),
    );
    let schedule = schedule_times(capture, times.range(range.clone()), &still);
    let frame = schedule
        .frames
        .iter()
        .position(|f| f.snap == times.snap(i))
        .expect("a kept snapshot has a frame of its own");
    (schedule, frame)
}

/// Frames a still's schedule has at most, besides those it keeps: enough for the strip, which
/// is at most a few thousand pixels wide.
const STILL_FRAMES: f64 = 4096.0;

/// The timing of a still's schedule over a window that plays `played_ms` before `--speed`
/// ([`Times::played_ms`]): `keep` (the still and the snapshot before it) get frames of their
/// own, no `--every` thinning, and a frame rate low enough that the window plays in about
/// [`STILL_FRAMES`] frames.
fn still_timing(
    timing: &TimingOptions,
    played_ms: f64,
    keep: impl Iterator<Item = SnapRef>,
) -> TimingOptions {
    let span_ms = played_ms / timing.speed_or_1();
    let mut kept = timing.keep.clone();
    kept.extend(keep.map(|r| (r.session, r.index)));
    kept.sort_unstable();
    kept.dedup();
    TimingOptions {
        fps: (STILL_FRAMES * 1000.0 / span_ms.max(1.0)).clamp(0.01, timing.fps.max(0.01)),
        every_ms: None,
        merge: true,
        keep: kept,
        ..timing.clone()
    }
}

/// `--every`: of items in time order, the first at or after each multiple of `every` (in the
/// unit `time` gives): one per interval. Frames and `stats` rows are thinned by this one rule.
///
/// ```
/// use memanim::timeline::first_of_each_interval;
///
/// let times = [0, 400, 1000, 1500, 2100, 2900];
/// assert_eq!(first_of_each_interval(&times, 1000.0, |&t| t as f64), [0, 1000, 2100]);
/// ```
pub fn first_of_each_interval<T: Clone>(
    items: &[T],
    every: f64,
    time: impl Fn(&T) -> f64,
) -> Vec<T> {
    let mut thin = Thinner::new(every);
    items
        .iter()
        .filter(|x| thin.take(time(x)))
        .cloned()
        .collect()
}

/// The time between two snapshots (real times `a` then `b`, ms) as the animation plays it before
/// `speed`: never negative, and at most `max_idle_ms`.
///
/// ```
/// use memanim::timeline::{capped_gap, TimingOptions};
///
/// // A minute without a dump plays as the default --max-idle of 5 s; a short gap as it was.
/// let timing = TimingOptions::default();
/// assert_eq!(capped_gap(0, 60_000, &timing), 5_000.0);
/// assert_eq!(capped_gap(0, 350, &timing), 350.0);
/// ```
pub fn capped_gap(a: i64, b: i64, timing: &TimingOptions) -> f64 {
    let gap = (b - a).max(0) as f64;
    match timing.max_idle_ms {
        Some(idle) => gap.min(idle.max(0.0)),
        None => gap,
    }
}

/// The schedule of `snaps` (snapshots and their real times, in order), in one pass that holds
/// only the frames: `--every` thins the snapshots, [`Pacing`] groups them by the frame rate,
/// and [`Frames`] merges groups that look the same as the frame before and sets each frame's
/// delay when the next one starts.
fn schedule_times(
    capture: &Capture,
    snaps: impl Iterator<Item = (SnapRef, i64)>,
    timing: &TimingOptions,
) -> Schedule {
    let mut pacing = Pacing::new(timing);
    let mut frames = Frames::new(capture, timing);
    for (snap, real) in thinned(snaps, timing) {
        if let Some(group) = pacing.add(snap, real) {
            frames.push(group);
        }
    }
    if let Some(group) = pacing.open.take() {
        frames.push(group);
    }
    frames.finish(pacing.min_frame_ms, pacing.merged, pacing.late)
}

/// `--every` over `snaps`: one snapshot per interval of capture time, the first at or after each
/// multiple (as `stats --every` picks its rows). Without merging (a still, a diff) every
/// snapshot stays: they show what they were asked for.
fn thinned(
    snaps: impl Iterator<Item = (SnapRef, i64)>,
    timing: &TimingOptions,
) -> impl Iterator<Item = (SnapRef, i64)> {
    let mut thin = timing
        .every_ms
        .filter(|&e| e > 0.0 && timing.merge)
        .map(Thinner::new);
    snaps.filter(move |s| thin.as_mut().is_none_or(|t| t.take(s.1 as f64)))
}

/// A group of snapshots that one frame shows: (the snapshot shown, its real time, the frame's
/// start in the output, ms).
type Group = (SnapRef, i64, f64);

/// Output start times for snapshots as they come, in groups of one frame each.
///
/// Every snapshot gets a frame of its own, shown for at least one frame interval (1/fps): a
/// snapshot that comes sooner starts late, when the frame before has had its interval. That
/// lateness is bounded by [`MAX_LAG_MS`]: a snapshot whose frame would start later than that is
/// merged into the frame before, which then shows it (the latest of its group) from the same
/// start. So three dumps taken by hand within a few milliseconds are three frames, while a
/// stream faster than the frame rate (a high --speed) is thinned to the frame rate and keeps
/// its pace. Nothing is merged silently: `merged` counts them for the summary.
struct Pacing<'a> {
    timing: &'a TimingOptions,
    speed: f64,
    /// One frame interval (ms of output).
    min_frame_ms: f64,
    /// How late a frame may start before its snapshot is merged into the frame before (ms).
    lag_limit: f64,
    /// The group being filled.
    open: Option<Group>,
    /// Output time of the last snapshot taken, as its capped, scaled real time (ms).
    t: f64,
    /// Real time of the last snapshot taken.
    last_real: Option<i64>,
    merged: usize,
    late: usize,
}

impl<'a> Pacing<'a> {
    fn new(timing: &'a TimingOptions) -> Self {
        let speed = timing.speed_or_1();
        let min_frame_ms = 1000.0 / timing.fps.clamp(0.01, 50.0);
        Pacing {
            timing,
            speed,
            min_frame_ms,
            // At a low --fps one frame interval is long: allow two, so `--fps 2` still shows
            // three dumps taken at once as three frames of half a second.
            lag_limit: MAX_LAG_MS.max(2.0 * min_frame_ms) + 1e-6,
            open: None,
            t: 0.0,
            last_real: None,
            merged: 0,
            late: 0,
        }
    }

    /// Takes the next snapshot (times in order) and returns the group it closes, if it starts
    /// a frame of its own; the last group stays in `open`.
    fn add(&mut self, snap: SnapRef, real: i64) -> Option<Group> {
        if let Some(before) = self.last_real {
            self.t += capped_gap(before, real, self.timing) / self.speed;
        }
        self.last_real = Some(real);
        let ideal = self.t;
        let Some((shown, shown_real, start0)) = self.open.as_mut() else {
            self.open = Some((snap, real, ideal));
            return None;
        };
        let start = ideal.max(*start0 + self.min_frame_ms);
        if self.timing.merge && start - ideal > self.lag_limit && !self.timing.keeps(*shown) {
            *shown = snap;
            *shown_real = real;
            self.merged += 1;
            None
        } else {
            self.late += usize::from(start > ideal + 1e-6);
            self.open.replace((snap, real, start))
        }
    }
}

/// The frames of a schedule as its groups of snapshots come in (see [`schedule_times`]).
struct Frames<'a> {
    capture: &'a Capture,
    logs: Numbering,
    timing: &'a TimingOptions,
    frames: Vec<FrameSpec>,
    log_cursor: usize,
    unchanged: usize,
}

impl<'a> Frames<'a> {
    fn new(capture: &'a Capture, timing: &'a TimingOptions) -> Self {
        Frames {
            capture,
            logs: Numbering::logs(capture),
            timing,
            frames: Vec::new(),
            log_cursor: 0,
            unchanged: 0,
        }
    }

    /// Adds the group (snapshot shown, its real time, start), unless it looks the same as the
    /// frame before: same blocks, same GC figures, same session and no new log line. Then the
    /// frame before keeps the screen, from its earlier time, as a terminal recorder keeps a
    /// screen that did not change.
    fn push(&mut self, (snap, real, start): Group) {
        let before = self.log_cursor;
        self.log_cursor = visible_logs_end(self.capture, &self.logs, before, snap);
        if let Some(last) = self.frames.last() {
            if self.timing.merge
                && self.log_cursor == before
                && !self.timing.keeps(snap)
                && looks_same(self.capture, last.snap, snap)
            {
                self.unchanged += 1;
                return;
            }
        }
        let prev = self.frames.last().map(|f| f.snap);
        if let Some(last) = self.frames.last_mut() {
            last.delay_cs = delay_cs(last.start_ms, start);
        }
        self.frames.push(FrameSpec {
            snap,
            prev,
            elapsed_ms: real,
            start_ms: start,
            delay_cs: 0,
            logs_end: self.log_cursor,
            logs_new_from: before,
        });
    }

    /// The schedule: the last frame is held until the play time (`--duration`) ends, or for
    /// `--last-frame`; `merged` and `late` are [`Pacing`]'s counts.
    fn finish(mut self, min_frame_ms: f64, merged: usize, late: usize) -> Schedule {
        // A fixed play time (`--duration`) ends the animation exactly then: the last frame's
        // hold takes up what the frames before it left over (a frame that started late shortens
        // it).
        let end = self
            .frames
            .last()
            .map_or(0.0, |f| match self.timing.play_ms {
                Some(play) => play.max(f.start_ms + min_frame_ms),
                None => f.start_ms + self.timing.last_frame_ms.max(min_frame_ms),
            });
        let total_logs = self.logs.len();
        if let Some(last) = self.frames.last_mut() {
            last.delay_cs = delay_cs(last.start_ms, end);
            // The capture's last snapshot also shows what was printed after it: a paste often
            // ends with the MemoryError it is about.
            if is_last_snapshot(self.capture, last.snap) {
                last.logs_end = total_logs;
            }
        }
        Schedule {
            frames: self.frames,
            logs: self.logs,
            merged,
            late,
            unchanged: self.unchanged,
            duration_ms: end,
        }
    }
}

/// A frame's delay (cs) from its start to the next one's (ms), rounded on the output's clock so
/// rounding never drifts, and at least 2 (the least browsers honour).
fn delay_cs(start: f64, next: f64) -> u16 {
    let cs = ((next / 10.0).round() - (start / 10.0).round()).max(2.0);
    cs.min(u16::MAX as f64) as u16
}

/// Advances `from` past the log lines visible with `snap`: those printed before its dump began and
/// those printed in the middle of it.
fn visible_logs_end(capture: &Capture, logs: &Numbering, from: usize, snap: SnapRef) -> usize {
    let mut k = from;
    while let Some((s, j)) = logs.get(k) {
        let l = capture.sessions[s].logs.meta(j);
        let visible = s < snap.session
            || (s == snap.session
                && match l.after {
                    None => true,
                    Some(a) => a < snap.index || (a == snap.index && l.in_dump),
                });
        if !visible {
            break;
        }
        k += 1;
    }
    k
}

/// True for the last snapshot of the capture (of its last session that has any).
fn is_last_snapshot(capture: &Capture, snap: SnapRef) -> bool {
    capture
        .sessions
        .iter()
        .rev()
        .find(|s| !s.snapshots.is_empty())
        .is_some_and(|s| s.index == snap.session && s.snapshots.len() == snap.index + 1)
}

/// True when two snapshots would draw the same frame apart from the time.
fn looks_same(capture: &Capture, a: SnapRef, b: SnapRef) -> bool {
    if a.session != b.session {
        return false;
    }
    let snaps = &capture.sessions[a.session].snapshots;
    let (x, y) = (snaps.meta(a.index), snaps.meta(b.index));
    x.gc == y.gc && x.complete == y.complete && snaps.same_blocks(a.index, b.index)
}
