//! Turns a capture's snapshot times into a [`Schedule`]: which snapshot each frame shows, when, for
//! how long, and which log lines are visible with it.
//!
//! Ticks were unwrapped per session by the parser; here sessions are laid end to end (by wall clock
//! when both have a sync line, else 1 s apart), long gaps are capped (`max_idle`), time is scaled
//! (`speed`), frames closer than the fps cap are merged keeping the latest snapshot, and delays are
//! emitted in centiseconds from accumulated milliseconds so rounding never drifts.

use crate::capture::{Capture, LogLine};
use crate::error::{Error, Result};
use crate::options::TimingOptions;

/// Gap placed between two sessions when the wall clock cannot tell (ms).
pub const SESSION_GAP_MS: i64 = 1000;

/// A snapshot's address in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapRef {
    pub session: usize,
    pub index: usize,
}

/// One frame to render and write.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSpec {
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
    pub frames: Vec<FrameSpec>,
    /// (session, index in that session's logs), in file order.
    pub logs: Vec<(usize, usize)>,
    /// Snapshots merged away by the fps cap.
    pub merged: usize,
    /// Snapshots merged into the frame before because nothing visible changed.
    pub unchanged: usize,
    /// Total output duration (ms).
    pub duration_ms: f64,
}

impl Schedule {
    pub fn log<'c>(&self, capture: &'c Capture, i: usize) -> &'c LogLine {
        let (s, j) = self.logs[i];
        &capture.sessions[s].logs[j]
    }
}

/// A point in the capture's time: milliseconds since its first snapshot, or a share of its span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePoint {
    Ms(f64),
    Percent(f64),
}

impl TimePoint {
    /// Parses `12.5`, `12.5s`, `500ms`, `1m30s`, `1h`, `2m`, `30%`.
    pub fn parse(s: &str) -> std::result::Result<TimePoint, String> {
        let t = s.trim();
        let bad = || format!("'{s}' is not a time (examples: 12.5s, 500ms, 1m30s, 30%)");
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            return if (0.0..=100.0).contains(&v) {
                Ok(TimePoint::Percent(v))
            } else {
                Err(format!("'{s}': a percentage is between 0 and 100"))
            };
        }
        if let Ok(v) = t.parse::<f64>() {
            return if v.is_finite() && v >= 0.0 {
                Ok(TimePoint::Ms(v * 1000.0))
            } else {
                Err(bad())
            };
        }
        // A sequence of <number><unit> parts: h, m, s, ms.
        let mut total = 0.0;
        let mut rest = t;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let v: f64 = rest[..n].parse().map_err(|_| bad())?;
            let after = &rest[n..];
            let (mult, len) = if after.starts_with("ms") {
                (1.0, 2)
            } else if after.starts_with('h') {
                (3_600_000.0, 1)
            } else if after.starts_with('m') {
                (60_000.0, 1)
            } else if after.starts_with('s') {
                (1000.0, 1)
            } else {
                return Err(bad());
            };
            total += v * mult;
            rest = &after[len..];
        }
        Ok(TimePoint::Ms(total))
    }

    /// Milliseconds since the first snapshot, for a capture spanning `span_ms`.
    pub fn resolve(self, span_ms: i64) -> i64 {
        match self {
            TimePoint::Ms(v) => v.round() as i64,
            TimePoint::Percent(p) => (span_ms as f64 * p / 100.0).round() as i64,
        }
    }
}

/// What the user asked to see: a time window, and optionally one frame of it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Selection {
    pub from: Option<TimePoint>,
    pub to: Option<TimePoint>,
    /// One frame: the snapshot shown at this time.
    pub at: Option<TimePoint>,
    /// One frame: the Nth (1-based) of the schedule, as the header numbers it.
    pub frame: Option<usize>,
}

impl Selection {
    /// True when one frame is asked for.
    pub fn is_still(&self) -> bool {
        self.at.is_some() || self.frame.is_some()
    }
}

/// The frame of `schedule` on screen at `t` (the last one whose snapshot is not later than it).
pub fn frame_at(schedule: &Schedule, t: TimePoint) -> usize {
    let span = schedule.frames.last().map_or(0, |f| f.elapsed_ms);
    let t = t.resolve(span);
    schedule
        .frames
        .iter()
        .rposition(|f| f.elapsed_ms <= t)
        .unwrap_or(0)
}

/// Every log line as (session, index in that session's logs), in file order.
fn flat_logs(capture: &Capture) -> Vec<(usize, usize)> {
    capture
        .sessions
        .iter()
        .flat_map(|s| (0..s.logs.len()).map(move |j| (s.index, j)))
        .collect()
}

/// Real time of every snapshot, sessions laid end to end; the first snapshot is at 0.
///
/// The gap between two sessions is the wall-clock gap when both have a sync line (else
/// [`SESSION_GAP_MS`]), capped at `timing.max_idle_ms` like any idle gap: a board that sat
/// reset for an hour must not squeeze both sessions' curves into the edges of the strip.
pub fn snapshot_times(capture: &Capture, timing: &TimingOptions) -> Vec<(SnapRef, i64)> {
    let mut snaps: Vec<(SnapRef, i64)> = Vec::with_capacity(capture.snapshot_count());
    // (global time, wall clock) of the previous session's last snapshot.
    let mut prev_end: Option<(i64, Option<i64>)> = None;
    for s in &capture.sessions {
        let Some(n) = s.snapshots.len().checked_sub(1) else {
            continue;
        };
        let (first, last) = (s.snapshots.meta(0), s.snapshots.meta(n));
        let start = match prev_end {
            None => 0,
            Some((end, wall_end)) => {
                let gap = match (wall_end, first.wall_ms) {
                    (Some(a), Some(b)) if b > a && b - a < 86_400_000 => b - a,
                    _ => SESSION_GAP_MS,
                };
                let cap = timing.max_idle_ms.map_or(i64::MAX, |m| m.max(0.0) as i64);
                end + gap.min(cap)
            }
        };
        let offset = start - first.time_ms;
        for i in 0..s.snapshots.len() {
            let snap = s.snapshots.meta(i);
            let r = SnapRef {
                session: s.index,
                index: i,
            };
            snaps.push((r, offset + snap.time_ms));
        }
        prev_end = Some((offset + last.time_ms, last.wall_ms));
    }
    snaps
}

/// Builds the schedule for every snapshot of the capture.
pub fn resolve(capture: &Capture, timing: &TimingOptions) -> Schedule {
    let snaps = snapshot_times(capture, timing);
    let logs = flat_logs(capture);
    schedule_times(capture, &snaps, logs, timing)
}

/// Builds the schedule for the snapshots inside the selection's window, and, for a still, picks
/// the one frame. The window is applied before anything is rendered, so an excerpt of a long
/// capture costs only its own frames. Returns the schedule and, for a still, its frame index.
pub fn resolve_selection(
    capture: &Capture,
    timing: &TimingOptions,
    sel: &Selection,
) -> Result<(Schedule, Option<usize>)> {
    let all = snapshot_times(capture, timing);
    let span = all.last().map_or(0, |s| s.1);
    let from = sel.from.map_or(0, |t| t.resolve(span));
    let to = sel.to.map_or(i64::MAX, |t| t.resolve(span));
    if from > to {
        return Err(Error::Options(format!(
            "--from ({} s) is after --to ({} s)",
            from as f64 / 1000.0,
            to as f64 / 1000.0
        )));
    }
    let snaps: Vec<(SnapRef, i64)> = all
        .iter()
        .copied()
        .filter(|s| s.1 >= from && s.1 <= to)
        .collect();
    if snaps.is_empty() {
        return Err(Error::Options(format!(
            "no snapshot between {:.3} s and {:.3} s; the capture spans 0 to {:.3} s",
            from as f64 / 1000.0,
            to.min(span) as f64 / 1000.0,
            span as f64 / 1000.0
        )));
    }
    let logs = flat_logs(capture);
    let schedule = schedule_times(capture, &snaps, logs, timing);
    let still = match (sel.at, sel.frame) {
        (Some(at), _) => {
            let t = at.resolve(span);
            // The frame on screen at t: the last one whose snapshot is not later than t.
            let k = schedule
                .frames
                .iter()
                .rposition(|f| f.elapsed_ms <= t)
                .unwrap_or(0);
            Some(k)
        }
        (None, Some(n)) => {
            if n == 0 || n > schedule.frames.len() {
                return Err(Error::Options(format!(
                    "--frame {n}: the animation has frames 1 to {}",
                    schedule.frames.len()
                )));
            }
            Some(n - 1)
        }
        (None, None) => None,
    };
    Ok((schedule, still))
}

fn schedule_times(
    capture: &Capture,
    snaps: &[(SnapRef, i64)],
    logs: Vec<(usize, usize)>,
    timing: &TimingOptions,
) -> Schedule {
    let speed = if timing.speed > 0.0 {
        timing.speed
    } else {
        1.0
    };
    let fps = timing.fps.clamp(0.01, 50.0);
    let min_frame_ms = 1000.0 / fps;
    // Output start time of each snapshot.
    let mut out_t = Vec::with_capacity(snaps.len());
    let mut t = 0.0f64;
    for (i, &(_, real)) in snaps.iter().enumerate() {
        if i > 0 {
            let mut gap = (real - snaps[i - 1].1).max(0) as f64;
            if let Some(idle) = timing.max_idle_ms {
                gap = gap.min(idle.max(0.0));
            }
            t += gap / speed;
        }
        out_t.push(t);
    }
    // Merge snapshots that fall within one frame interval: the frame keeps its start time and shows
    // the latest snapshot of its group.
    // With `--every`, snapshots in one interval of capture time are one frame too.
    let window = |i: usize| {
        timing
            .every_ms
            .filter(|e| *e > 0.0)
            .map(|e| (snaps[i].1 as f64 / e).floor() as i64)
    };
    let mut groups: Vec<(usize, f64)> = Vec::new(); // (snapshot shown, start)
    let mut merged = 0;
    for (i, &start) in out_t.iter().enumerate() {
        match groups.last_mut() {
            Some((shown, gstart))
                if start - *gstart < min_frame_ms
                    || (window(i).is_some() && window(i) == window(*shown)) =>
            {
                *shown = i;
                merged += 1;
            }
            _ => groups.push((i, start)),
        }
    }
    // Merge a frame into the one before when it would look the same: same blocks, same GC figures,
    // same session and no new log line. The frame keeps the earlier time, as a terminal recorder
    // keeps a screen that did not change.
    let mut unchanged = 0;
    let mut kept_groups: Vec<(usize, f64)> = Vec::with_capacity(groups.len());
    let mut log_cursor = 0usize;
    for &(i, start) in &groups {
        let before = log_cursor;
        log_cursor = visible_logs_end(capture, &logs, log_cursor, snaps[i].0);
        if let Some(&(j, _)) = kept_groups.last() {
            if log_cursor == before && looks_same(capture, snaps[j].0, snaps[i].0) {
                unchanged += 1;
                continue;
            }
        }
        kept_groups.push((i, start));
    }
    let groups = kept_groups;
    let end = groups
        .last()
        .map_or(0.0, |g| g.1 + timing.last_frame_ms.max(min_frame_ms));
    let mut frames = Vec::with_capacity(groups.len());
    let mut log_cursor = 0usize;
    let mut prev: Option<SnapRef> = None;
    for (k, &(i, start)) in groups.iter().enumerate() {
        let next = groups.get(k + 1).map_or(end, |g| g.1);
        let cs = ((next / 10.0).round() - (start / 10.0).round()).max(2.0);
        let (snap, real) = snaps[i];
        let logs_new_from = log_cursor;
        log_cursor = visible_logs_end(capture, &logs, log_cursor, snap);
        frames.push(FrameSpec {
            snap,
            prev,
            elapsed_ms: real,
            start_ms: start,
            delay_cs: cs.min(u16::MAX as f64) as u16,
            logs_end: log_cursor,
            logs_new_from,
        });
        prev = Some(snap);
    }
    Schedule {
        frames,
        logs,
        merged,
        unchanged,
        duration_ms: end,
    }
}

/// Advances `from` past the log lines visible with `snap`: those printed before its dump began and
/// those printed in the middle of it.
fn visible_logs_end(
    capture: &Capture,
    logs: &[(usize, usize)],
    from: usize,
    snap: SnapRef,
) -> usize {
    let mut k = from;
    while let Some(&(s, j)) = logs.get(k) {
        let l = &capture.sessions[s].logs[j];
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

/// True when two snapshots would draw the same frame apart from the time.
fn looks_same(capture: &Capture, a: SnapRef, b: SnapRef) -> bool {
    if a.session != b.session {
        return false;
    }
    let snaps = &capture.sessions[a.session].snapshots;
    let (x, y) = (snaps.meta(a.index), snaps.meta(b.index));
    x.gc == y.gc && x.complete == y.complete && snaps.same_blocks(a.index, b.index)
}
