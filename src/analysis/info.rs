//! `memanim info`: what a capture holds, as text for people or JSON for scripts.
//!
//! [`summarize`] takes a parsed [`Capture`] and the parser's [`Warnings`] and gives an [`Info`]:
//! the file's sessions, snapshots and log lines, the dump period, the heap's size and the
//! firmware it suggests, the peaks of used memory and the lows of the largest free block (by the
//! same figures `stats`, `plot` and the frames use), a small sketch of both over time, and the
//! MemoryErrors `memanim why` explains. [`Info::to_text`] and [`Info::to_json`] print it. It
//! reads the capture's index only, so a capture of any length is summarised in bounded memory.

use std::fmt::Write as _;

use crate::analysis::why::VerdictCounts;
use crate::analysis::{Extremes, Place};
use crate::capture::{format_wall, Capture, Session};
use crate::error::Warnings;
use crate::render::human_bytes;

/// Where a figure peaked: (bytes, session, snapshot index in the session, time ms on the
/// capture's timeline, line).
pub type Extreme = (u64, usize, usize, i64, u64);

/// A summary of a capture, computed once and printed as text or JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// The capture's name as the user gave it ("-" for stdin).
    pub source: String,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Every session, in file order.
    pub sessions: Vec<SessionInfo>,
    /// Snapshots over every session.
    pub snapshots: usize,
    /// Snapshots whose dump was cut off.
    pub incomplete_snapshots: usize,
    /// Snapshots printed without a time (pasted dumps): shown by number, spaced evenly.
    pub untimed_snapshots: usize,
    /// Snapshots printed without a layout table (only their figures).
    pub tableless_snapshots: usize,
    /// Log lines (anything not part of a dump).
    pub log_lines: usize,
    /// Log lines that carry their own time.
    pub timed_log_lines: usize,
    /// Median gap between consecutive dumps of a session (whole ms), and the 10th and 90th
    /// percentiles.
    pub period_ms: Option<(i64, i64, i64)>,
    /// The capture's length on its timeline (ms; sessions laid end to end).
    pub span_ms: i64,
    /// The largest heap any dump shows (bytes).
    pub heap_bytes: u64,
    /// Bytes per block as the layout tables show them.
    pub block_size: Option<u32>,
    /// Hex digits of the layout offsets (5 before v1.20, 8 since; 0 without a table).
    pub offset_digits: u8,
    /// What the dumps suggest about the firmware, one sentence each.
    pub firmware_hints: Vec<String>,
    /// The highest used memory over every session (each session's own is in [`SessionInfo`]).
    pub peak_used: Option<Extreme>,
    /// The smallest largest free block over every session.
    pub min_largest_free: Option<Extreme>,
    /// Largest free block over the capture (bytes), for the over-time sketch: each snapshot's
    /// when there are at most [`SERIES_POINTS`], else the lowest of each of that many equal runs
    /// of snapshots (so its size does not grow with the capture); None where no dump tells.
    pub largest_free_series: Vec<Option<u64>>,
    /// Used memory, sketched the same way (the lowest of each run: what stays in use).
    pub used_series: Vec<Option<u64>>,
    /// The parser's warnings as printed (the first 200).
    pub warnings: Vec<String>,
    /// How many warnings there were in all.
    pub warning_count: u64,
    /// MemoryErrors in the log lines, by verdict.
    pub memory_errors: VerdictCounts,
}

/// One session of the capture (a board reset starts the next).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// Its index (0-based); printed from 1.
    pub index: usize,
    /// The line it starts at.
    pub first_line: u64,
    /// How many snapshots it has.
    pub snapshots: usize,
    /// From its first snapshot to its last (ms, the board's own clock).
    pub span_ms: i64,
    /// The wall-clock time of its first snapshot, when the session has a sync line.
    pub start_wall: Option<String>,
    /// The MicroPython banner, when the board printed one.
    pub banner: Option<String>,
    /// What began this session (None for the first): the reset line, or another reason.
    pub started_by: Option<String>,
    /// True when `started_by` is a line the board printed as it reset.
    pub reset: bool,
    /// (pointer, blocks) of each heap area this session's dumps show.
    pub areas: Vec<(u64, usize)>,
    /// The session's highest used memory.
    pub peak_used: Option<Extreme>,
    /// The session's smallest largest free block.
    pub min_largest_free: Option<Extreme>,
    /// Lines of the dumps that were cut off.
    pub cut_off: Vec<u64>,
}

/// The most points of [`Info::largest_free_series`] and [`Info::used_series`].
pub const SERIES_POINTS: usize = 1000;

/// A series of `n` values kept as the lowest of each of at most [`SERIES_POINTS`] equal runs.
struct Sketch {
    n: usize,
    points: Vec<Option<u64>>,
}

impl Sketch {
    /// An empty sketch of `n` values.
    fn new(n: usize) -> Self {
        Sketch {
            n,
            points: vec![None; n.min(SERIES_POINTS)],
        }
    }

    /// Value `v` of the `i`th of the `n` snapshots.
    fn add(&mut self, i: usize, v: Option<u64>) {
        let Some(v) = v else { return };
        let k = i * self.points.len() / self.n.max(1);
        if let Some(p) = self.points.get_mut(k) {
            *p = Some(p.map_or(v, |p| p.min(v)));
        }
    }
}

/// Gaps between consecutive dumps (ms), counted by value: a capture's gaps take few values (its
/// dump period, give or take), so this stays small however long the capture is.
#[derive(Default)]
struct Gaps(std::collections::BTreeMap<i64, u64>);

impl Gaps {
    /// Counts one gap (ms).
    fn add(&mut self, gap: i64) {
        *self.0.entry(gap).or_insert(0) += 1;
    }

    /// The gap at share `p` (0..1) of them, in order, as a sorted list's element at
    /// `round((len - 1) * p)` would be.
    fn percentile(&self, p: f64) -> Option<i64> {
        let len: u64 = self.0.values().sum();
        let want = ((len.checked_sub(1)?) as f64 * p).round() as u64;
        let mut seen = 0;
        self.0.iter().find_map(|(&g, &n)| {
            seen += n;
            (seen > want).then_some(g)
        })
    }

    /// (median, 10th percentile, 90th percentile), when there is a gap.
    fn period(&self) -> Option<(i64, i64, i64)> {
        self.percentile(0.5).map(|median| {
            (
                median,
                self.percentile(0.1).unwrap_or(median),
                self.percentile(0.9).unwrap_or(median),
            )
        })
    }
}

/// One session as the walk found it.
#[derive(Default)]
struct SessionWalk {
    extremes: Extremes,
    cut_off: Vec<u64>,
}

/// What one walk over every snapshot's index entry gives: the figures summed up, and what the
/// summary lines (not the blocks) say about the firmware.
struct Walk {
    gaps: Gaps,
    largest_free_series: Sketch,
    used_series: Sketch,
    heap_bytes: u64,
    /// The last snapshot's time on the capture's timeline (ms).
    span_ms: i64,
    untimed: usize,
    tableless: usize,
    /// A dump had a `mem:` line (unix builds), or a `max new split` figure (ESP32).
    has_mem: bool,
    has_split: bool,
    /// Every session of the capture, in order.
    sessions: Vec<SessionWalk>,
}

impl Walk {
    /// Walks every snapshot of the capture, in file order.
    fn over(capture: &Capture) -> Walk {
        let total = capture.snapshot_count();
        let mut w = Walk {
            gaps: Gaps::default(),
            largest_free_series: Sketch::new(total),
            used_series: Sketch::new(total),
            heap_bytes: 0,
            span_ms: 0,
            untimed: 0,
            tableless: 0,
            has_mem: false,
            has_split: false,
            sessions: Vec::with_capacity(capture.sessions.len()),
        };
        // Times are on the capture's timeline, as stats, plot and the frames give them (sessions
        // laid end to end, the gap between them shortened like an idle gap). The timeline yields
        // every snapshot in file order, as this walk takes them.
        let mut times = crate::timeline::snapshot_times_iter(capture, &Default::default());
        let block_size = capture.figures_block_size();
        let mut k = 0;
        for s in &capture.sessions {
            let mut session = SessionWalk::default();
            for i in 0..s.snapshots.len() {
                w.span_ms = times.next().map_or(w.span_ms, |(_, t)| t);
                w.add(s, i, k, block_size, &mut session);
                k += 1;
            }
            w.sessions.push(session);
        }
        w
    }

    /// Snapshot `i` of session `s`, the `k`th of the capture, at time `self.span_ms`.
    fn add(&mut self, s: &Session, i: usize, k: usize, block_size: u32, session: &mut SessionWalk) {
        let meta = s.snapshots.meta(i);
        if i > 0 {
            self.gaps
                .add(meta.time_ms - s.snapshots.meta(i - 1).time_ms);
        }
        let fig = s.figures(i, block_size);
        self.heap_bytes = self.heap_bytes.max(fig.map_or(0, |f| f.total));
        self.used_series.add(k, fig.map(|f| f.used));
        self.largest_free_series
            .add(k, fig.and_then(|f| f.largest_free));
        let at = Place {
            session: s.index,
            index: i,
            line: meta.line,
            time_ms: self.span_ms,
        };
        session
            .extremes
            .add(fig.map(|f| f.used), fig.and_then(|f| f.largest_free), at);
        if !meta.complete {
            session.cut_off.push(meta.line);
        }
        self.untimed += usize::from(!meta.timed);
        self.tableless += usize::from(s.snapshots.area_sizes(i).next().is_none());
        self.has_mem |= meta.mem.is_some();
        self.has_split |= meta.gc.is_some_and(|g| g.max_new_split.is_some());
    }
}

/// Computes the summary.
pub fn summarize(capture: &Capture, warnings: &Warnings) -> Info {
    let walk = Walk::over(capture);
    let all = Extremes::over(walk.sessions.iter().map(|s| &s.extremes));
    let sessions: Vec<SessionInfo> = capture
        .sessions
        .iter()
        .zip(&walk.sessions)
        .map(|(s, w)| session_info(s, w))
        .collect();
    let mut warn_lines = warnings.report(&capture.source);
    warn_lines.truncate(200);
    Info {
        source: capture.source.clone(),
        lines: capture.lines,
        bytes: capture.bytes,
        snapshots: capture.snapshot_count(),
        incomplete_snapshots: sessions.iter().map(|s| s.cut_off.len()).sum(),
        untimed_snapshots: walk.untimed,
        tableless_snapshots: walk.tableless,
        firmware_hints: firmware_hints(capture, &walk, most_areas(&sessions)),
        sessions,
        log_lines: capture.log_count(),
        timed_log_lines: timed_log_lines(capture),
        period_ms: walk.gaps.period(),
        span_ms: walk.span_ms,
        heap_bytes: walk.heap_bytes,
        block_size: capture.block_size(),
        offset_digits: capture.offset_digits,
        peak_used: all.peak_used.map(extreme),
        min_largest_free: all.lowest_largest_free.map(extreme),
        largest_free_series: walk.largest_free_series.points,
        used_series: walk.used_series.points,
        warnings: warn_lines,
        warning_count: warnings.total(),
        memory_errors: VerdictCounts::of_capture(capture),
    }
}

/// A figure's extreme as [`Info`] reports it.
fn extreme((bytes, at): (u64, Place)) -> Extreme {
    (bytes, at.session, at.index, at.time_ms, at.line)
}

/// Session `s` with what the walk found in it.
fn session_info(s: &Session, walked: &SessionWalk) -> SessionInfo {
    SessionInfo {
        index: s.index,
        first_line: s.first_line,
        snapshots: s.snapshots.len(),
        span_ms: s.span_ms(),
        start_wall: (!s.snapshots.is_empty())
            .then(|| s.snapshots.meta(0).wall_ms)
            .flatten()
            .map(|w| format_wall(w, false)),
        banner: s.banner.clone(),
        started_by: s.started_by.clone(),
        reset: s.began_with_reset_line(),
        areas: s.areas().into_iter().map(|(p, n, _)| (p, n)).collect(),
        peak_used: walked.extremes.peak_used.map(extreme),
        min_largest_free: walked.extremes.lowest_largest_free.map(extreme),
        cut_off: walked.cut_off.clone(),
    }
}

/// The most heap areas one session's dumps show.
fn most_areas(sessions: &[SessionInfo]) -> usize {
    sessions.iter().map(|s| s.areas.len()).max().unwrap_or(0)
}

/// Log lines that carry their own time.
fn timed_log_lines(capture: &Capture) -> usize {
    capture
        .sessions
        .iter()
        .map(|s| {
            (0..s.logs.len())
                .filter(|&j| s.logs.meta(j).time_ms.is_some())
                .count()
        })
        .sum()
}

/// What the layout offsets, the summary lines, the areas, the block size and the banners say
/// about the firmware, one sentence each (each banner once).
fn firmware_hints(capture: &Capture, walk: &Walk, most_areas: usize) -> Vec<String> {
    let mut hints = Vec::new();
    match capture.offset_digits {
        5 => hints.push("5-digit layout offsets: firmware v1.19.1 or older".to_string()),
        8 => hints.push(
            "8-digit layout offsets: MicroPython v1.20 or newer (or CircuitPython)".to_string(),
        ),
        _ => {}
    }
    if walk.has_mem {
        hints.push("'mem:' line: a unix build (or MICROPY_MEM_STATS)".to_string());
    }
    if walk.has_split {
        hints.push("'max new split': ESP32 firmware v1.21 or newer".to_string());
    }
    if most_areas > 1 {
        hints.push(format!("split heap: {most_areas} areas"));
    }
    match capture.block_size() {
        Some(16) => hints.push("16-byte blocks: a 32-bit port".to_string()),
        Some(32) => hints.push("32-byte blocks: a 64-bit build (unix)".to_string()),
        _ => {}
    }
    for b in capture.sessions.iter().filter_map(|s| s.banner.as_ref()) {
        if !hints.contains(b) {
            hints.push(b.clone());
        }
    }
    hints
}

/// `2 (1 exhausted, 1 fragmented, 0 unexplained); memanim why run.log explains them`, for info
/// and stats; None when there is no MemoryError.
pub fn memory_errors_line(source: &str, counts: VerdictCounts) -> Option<String> {
    let VerdictCounts {
        exhausted: x,
        fragmented: f,
        unexplained: u,
    } = counts;
    (counts.total() > 0).then(|| {
        format!(
            "{} ({x} exhausted, {f} fragmented, {u} unexplained); `memanim why {source}` explains them",
            counts.total()
        )
    })
}

/// A series squeezed into `width` characters of ▁▂▃▄▅▆▇█ (each character shows its bucket's
/// minimum; a bucket with no known value is a space).
pub fn sparkline(values: &[Option<u64>], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let max = values.iter().flatten().max().copied().unwrap_or(1).max(1);
    let n = values.len().min(width);
    (0..n)
        .map(|i| {
            let a = i * values.len() / n;
            let b = ((i + 1) * values.len() / n).max(a + 1);
            match values[a..b].iter().flatten().min() {
                Some(&v) => BARS[((v as f64 / max as f64) * 7.0).round() as usize],
                None => ' ',
            }
        })
        .collect()
}

/// `812, 1630 and 3 more`: the first few line numbers of a list.
pub fn lines_list(lines: &[u64]) -> String {
    const SHOWN: usize = 5;
    let mut out = lines
        .iter()
        .take(SHOWN)
        .map(|l| format!("line {l}"))
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > SHOWN {
        out.push_str(&format!(" and {} more", lines.len() - SHOWN));
    }
    out
}

/// `3.167 s`: milliseconds as seconds with three decimals.
fn secs(ms: i64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

impl Info {
    /// The human summary: one labelled line per fact, each session indented under its own.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        self.capture_text(&mut o);
        for s in &self.sessions {
            session_text(&mut o, s, self.sessions.len() > 1);
        }
        self.time_text(&mut o);
        self.heap_text(&mut o);
        self.extremes_text(&mut o);
        if let Some(line) = memory_errors_line(&self.source, self.memory_errors) {
            let _ = writeln!(o, "MemoryError  {line}");
        }
        let _ = writeln!(o, "warnings     {}", self.warning_count);
        for w in &self.warnings {
            let _ = writeln!(o, "  {w}");
        }
        o
    }

    /// `capture` and `snapshots`: the file, and what its dumps lack.
    fn capture_text(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "capture      {} ({} lines, {} bytes)",
            self.source, self.lines, self.bytes
        );
        let mut notes = Vec::new();
        if self.incomplete_snapshots > 0 {
            notes.push(format!("{} cut off", self.incomplete_snapshots));
        }
        if self.tableless_snapshots > 0 {
            notes.push(format!(
                "{} without a layout table",
                self.tableless_snapshots
            ));
        }
        if self.untimed_snapshots > 0 {
            notes.push(format!(
                "{} without a time (pasted; shown by number)",
                self.untimed_snapshots
            ));
        }
        let _ = writeln!(
            o,
            "snapshots    {} in {} session(s){}",
            self.snapshots,
            self.sessions.len(),
            if notes.is_empty() {
                String::new()
            } else {
                format!(", {}", notes.join(", "))
            }
        );
    }

    /// `time span` and `dump period`.
    fn time_text(&self, o: &mut String) {
        if self.untimed_snapshots == self.snapshots {
            // Pasted dumps: the spacing is --every's, not the board's; do not present it as data.
            let _ = writeln!(
                o,
                "time span    none: the dumps carry no time (frames are spaced by --every)"
            );
        } else {
            let _ = writeln!(o, "time span    {}", secs(self.span_ms));
        }
        if let Some((med, p10, p90)) = self.period_ms.filter(|_| self.untimed_snapshots == 0) {
            let _ = writeln!(
                o,
                "dump period  median {med} ms (10%..90%: {p10}..{p90} ms)"
            );
        }
    }

    /// `heap`, `firmware` and `log lines`.
    fn heap_text(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "heap         {} ({} bytes), {} area(s), {}-byte blocks",
            human_bytes(self.heap_bytes),
            self.heap_bytes,
            most_areas(&self.sessions),
            self.block_size.map_or("?".to_string(), |b| b.to_string())
        );
        for h in &self.firmware_hints {
            let _ = writeln!(o, "firmware     {h}");
        }
        let _ = writeln!(
            o,
            "log lines    {} ({} with their own time)",
            self.log_lines, self.timed_log_lines
        );
    }

    /// The capture's peak used and lowest largest free block, and both sketched over time.
    fn extremes_text(&self, o: &mut String) {
        if let Some((b, s, _, t, line)) = self.peak_used {
            let _ = writeln!(
                o,
                "peak used    {} at {} (session {}, line {line})",
                human_bytes(b),
                secs(t),
                s + 1
            );
        }
        if let Some((b, s, _, t, line)) = self.min_largest_free {
            let _ = writeln!(
                o,
                "largest free lowest {} at {} (session {}, line {line})",
                human_bytes(b),
                secs(t),
                s + 1
            );
        }
        if !self.largest_free_series.is_empty() {
            let _ = writeln!(
                o,
                "largest free {}",
                sparkline(&self.largest_free_series, 60)
            );
            let _ = writeln!(o, "used         {}", sparkline(&self.used_series, 60));
        }
    }

    /// The same as JSON (one line), with sessions and snapshots numbered from 1.
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string(&json::InfoJson::new(self)).expect("info serialises");
        out.push('\n');
        out
    }

    /// The number (from 1) of snapshot `index` of session `session` among all the capture's, as
    /// `#N` and `--snapshot N` count them ([`crate::timeline::snapshot_number`]).
    fn snapshot_number(&self, session: usize, index: usize) -> usize {
        self.sessions[..session]
            .iter()
            .map(|x| x.snapshots)
            .sum::<usize>()
            + index
            + 1
    }
}

/// A session's lines: where it starts and why, its areas, its extremes when the capture has
/// several sessions (`many`), and its cut-off dumps.
fn session_text(o: &mut String, s: &SessionInfo, many: bool) {
    let _ = writeln!(
        o,
        "  session {}  from line {}: {} snapshots over {}{}{}",
        s.index + 1,
        s.first_line,
        s.snapshots,
        secs(s.span_ms),
        s.start_wall
            .as_ref()
            .map_or(String::new(), |w| format!(", starting {w} (board clock)")),
        match (&s.started_by, s.reset) {
            (Some(w), true) => format!(", after a reset ({w})"),
            (Some(w), false) => format!(", after {w}"),
            (None, _) => String::new(),
        }
    );
    for (i, (ptr, blocks)) in s.areas.iter().enumerate() {
        let _ = writeln!(o, "    area {}  0x{ptr:x}  {blocks} blocks", i + 1);
    }
    if s.areas.is_empty() {
        let _ = writeln!(o, "    no layout table (micropython.mem_info(1) prints it)");
    }
    if many {
        if let Some((b, _, _, t, line)) = s.peak_used {
            let _ = writeln!(
                o,
                "    peak used {} at {} (line {line})",
                human_bytes(b),
                secs(t)
            );
        }
        if let Some((b, _, _, t, line)) = s.min_largest_free {
            let _ = writeln!(
                o,
                "    lowest largest free {} at {} (line {line})",
                human_bytes(b),
                secs(t)
            );
        }
    }
    if !s.cut_off.is_empty() {
        let _ = writeln!(o, "    cut off: {}", lines_list(&s.cut_off));
    }
}

/// The shape of `info --json`, in the order the output has always had.
mod json {
    use serde::Serialize;

    use super::{Extreme, Info, SessionInfo};
    use crate::analysis::why::VerdictCounts;

    /// The whole summary.
    #[derive(Serialize)]
    pub(super) struct InfoJson<'a> {
        source: &'a str,
        lines: u64,
        bytes: u64,
        snapshots: usize,
        incomplete_snapshots: usize,
        untimed_snapshots: usize,
        tableless_snapshots: usize,
        sessions: Vec<SessionJson<'a>>,
        span_ms: i64,
        period_ms: Option<Period>,
        heap_bytes: u64,
        block_size: Option<u32>,
        offset_digits: u8,
        firmware_hints: &'a [String],
        log_lines: usize,
        timed_log_lines: usize,
        peak_used: Option<ExtremeJson>,
        min_largest_free: Option<ExtremeJson>,
        largest_free: &'a [Option<u64>],
        used: &'a [Option<u64>],
        memory_errors: VerdictCounts,
        warning_count: u64,
        warnings: &'a [String],
    }

    impl<'a> InfoJson<'a> {
        /// `info` as it is printed.
        pub(super) fn new(info: &'a Info) -> Self {
            let at = |x: Option<Extreme>| x.map(|x| ExtremeJson::new(info, x));
            InfoJson {
                source: &info.source,
                lines: info.lines,
                bytes: info.bytes,
                snapshots: info.snapshots,
                incomplete_snapshots: info.incomplete_snapshots,
                untimed_snapshots: info.untimed_snapshots,
                tableless_snapshots: info.tableless_snapshots,
                sessions: info
                    .sessions
                    .iter()
                    .map(|s| SessionJson::new(info, s))
                    .collect(),
                span_ms: info.span_ms,
                period_ms: info
                    .period_ms
                    .map(|(median, p10, p90)| Period { median, p10, p90 }),
                heap_bytes: info.heap_bytes,
                block_size: info.block_size,
                offset_digits: info.offset_digits,
                firmware_hints: &info.firmware_hints,
                log_lines: info.log_lines,
                timed_log_lines: info.timed_log_lines,
                peak_used: at(info.peak_used),
                min_largest_free: at(info.min_largest_free),
                largest_free: &info.largest_free_series,
                used: &info.used_series,
                memory_errors: info.memory_errors,
                warning_count: info.warning_count,
                warnings: &info.warnings,
            }
        }
    }

    /// Whole milliseconds.
    #[derive(Serialize)]
    struct Period {
        median: i64,
        p10: i64,
        p90: i64,
    }

    /// One session, numbered from 1.
    #[derive(Serialize)]
    struct SessionJson<'a> {
        /// From 1.
        index: usize,
        first_line: u64,
        snapshots: usize,
        span_ms: i64,
        start_wall: Option<&'a str>,
        banner: Option<&'a str>,
        started_by: Option<&'a str>,
        areas: Vec<Area>,
        peak_used: Option<ExtremeJson>,
        min_largest_free: Option<ExtremeJson>,
        cut_off_lines: &'a [u64],
    }

    impl<'a> SessionJson<'a> {
        /// Session `s` of `info`.
        fn new(info: &Info, s: &'a SessionInfo) -> Self {
            let at = |x: Option<Extreme>| x.map(|x| ExtremeJson::new(info, x));
            SessionJson {
                index: s.index + 1,
                first_line: s.first_line,
                snapshots: s.snapshots,
                span_ms: s.span_ms,
                start_wall: s.start_wall.as_deref(),
                banner: s.banner.as_deref(),
                started_by: s.started_by.as_deref(),
                areas: s
                    .areas
                    .iter()
                    .map(|&(p, blocks)| Area {
                        ptr: format!("{p:x}"),
                        blocks,
                    })
                    .collect(),
                peak_used: at(s.peak_used),
                min_largest_free: at(s.min_largest_free),
                cut_off_lines: &s.cut_off,
            }
        }
    }

    /// One heap area.
    #[derive(Serialize)]
    struct Area {
        /// Hex, without `0x`.
        ptr: String,
        blocks: usize,
    }

    /// Sessions and snapshots numbered from 1, as the text, `#N` and `--snapshot N` count them.
    #[derive(Serialize)]
    struct ExtremeJson {
        bytes: u64,
        session: usize,
        snapshot: usize,
        time_ms: i64,
        line: u64,
    }

    impl ExtremeJson {
        /// An extreme of `info`, its snapshot numbered among all the capture's.
        fn new(info: &Info, (bytes, session, index, time_ms, line): Extreme) -> Self {
            ExtremeJson {
                bytes,
                session: session + 1,
                snapshot: info.snapshot_number(session, index),
                time_ms,
                line,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_percentiles_are_those_of_the_sorted_list() {
        let mut x = 12345u64;
        let mut all = Vec::new();
        let mut gaps = Gaps::default();
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let g = 340 + (x % 25) as i64 - if x % 97 == 0 { 300 } else { 0 };
            all.push(g);
            gaps.add(g);
        }
        all.sort_unstable();
        for p in [0.0, 0.1, 0.5, 0.9, 1.0] {
            let want = all[((all.len() - 1) as f64 * p).round() as usize];
            assert_eq!(gaps.percentile(p), Some(want), "p {p}");
        }
        assert_eq!(Gaps::default().percentile(0.5), None);
    }

    #[test]
    fn a_long_series_is_sketched_by_its_lows() {
        // Few snapshots: every value, in place.
        let mut s = Sketch::new(3);
        s.add(0, Some(5));
        s.add(1, None);
        s.add(2, Some(7));
        assert_eq!(s.points, vec![Some(5), None, Some(7)]);
        // Many: SERIES_POINTS points, each the lowest of its run.
        let n = SERIES_POINTS * 10 + 3;
        let mut s = Sketch::new(n);
        for i in 0..n {
            s.add(i, Some(1000 + (i % 10) as u64));
        }
        assert_eq!(s.points.len(), SERIES_POINTS);
        assert!(
            s.points.iter().all(|p| *p == Some(1000)),
            "{:?}",
            &s.points[..5]
        );
    }
}
