//! `memanim info`: what a capture holds, as text for people or JSON for scripts.

use std::fmt::Write as _;

use crate::capture::{format_wall, Capture};
use crate::error::Warnings;
use crate::render::human_bytes;

/// Where a figure peaked: (bytes, session, snapshot index, time ms, line).
pub type Extreme = (u64, usize, usize, i64, u64);

/// A summary of a capture, computed once and printed as text or JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    pub source: String,
    pub lines: u64,
    pub bytes: u64,
    pub sessions: Vec<SessionInfo>,
    pub snapshots: usize,
    pub incomplete_snapshots: usize,
    /// Snapshots printed without a time (pasted dumps): shown by number, spaced evenly.
    pub untimed_snapshots: usize,
    /// Snapshots printed without a layout table (only their figures).
    pub tableless_snapshots: usize,
    pub log_lines: usize,
    pub timed_log_lines: usize,
    /// Median gap between consecutive dumps (ms), and the 10th and 90th percentiles.
    pub period_ms: Option<(f64, f64, f64)>,
    pub span_ms: i64,
    pub heap_bytes: u64,
    pub block_size: Option<u32>,
    pub offset_digits: u8,
    pub firmware_hints: Vec<String>,
    /// Over every session (each session's own are in [`SessionInfo`]).
    pub peak_used: Option<Extreme>,
    pub min_largest_free: Option<Extreme>,
    /// Largest free block over the capture (bytes), for the over-time sketch: each snapshot's
    /// when there are at most [`SERIES_POINTS`], else the lowest of each of that many equal runs
    /// of snapshots (so its size does not grow with the capture); None where no dump tells.
    pub largest_free_series: Vec<Option<u64>>,
    /// Used memory, sketched the same way (the lowest of each run: what stays in use).
    pub used_series: Vec<Option<u64>>,
    pub warnings: Vec<String>,
    pub warning_count: u64,
    /// MemoryErrors in the log lines: (exhausted, fragmented, unexplained).
    pub memory_errors: (usize, usize, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub index: usize,
    pub first_line: u64,
    pub snapshots: usize,
    pub span_ms: i64,
    pub start_wall: Option<String>,
    pub banner: Option<String>,
    /// What began this session (None for the first): the reset line, or another reason.
    pub started_by: Option<String>,
    /// True when `started_by` is a line the board printed as it reset.
    pub reset: bool,
    /// (pointer, blocks) of each heap area this session's dumps show.
    pub areas: Vec<(u64, usize)>,
    pub peak_used: Option<Extreme>,
    pub min_largest_free: Option<Extreme>,
    /// Lines of the dumps that were cut off.
    pub cut_off: Vec<u64>,
}

/// Computes the summary.
/// The most points of [`Info::largest_free_series`] and [`Info::used_series`].
pub const SERIES_POINTS: usize = 1000;

/// A series of `n` values kept as the lowest of each of at most [`SERIES_POINTS`] equal runs.
struct Sketch {
    n: usize,
    points: Vec<Option<u64>>,
}

impl Sketch {
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
    fn add(&mut self, gap: i64) {
        *self.0.entry(gap).or_insert(0) += 1;
    }

    /// The gap at share `p` (0..1) of them, in order, as a sorted list's element at
    /// `round((len - 1) * p)` would be.
    fn percentile(&self, p: f64) -> Option<f64> {
        let len: u64 = self.0.values().sum();
        let want = ((len.checked_sub(1)?) as f64 * p).round() as u64;
        let mut seen = 0;
        self.0.iter().find_map(|(&g, &n)| {
            seen += n;
            (seen > want).then_some(g as f64)
        })
    }
}

pub fn summarize(capture: &Capture, warnings: &Warnings) -> Info {
    let mut gaps = Gaps::default();
    let total = capture.snapshot_count();
    let mut largest_free_series = Sketch::new(total);
    let mut used_series = Sketch::new(total);
    let mut k_all = 0usize;
    let mut heap_bytes = 0;
    let block_size = capture.block_size();
    let figures_bs = capture.figures_block_size();
    let mut hints = Vec::new();
    let (mut has_mem, mut has_split) = (false, false);
    let (mut untimed, mut tableless) = (0, 0);
    // Times are on the capture's timeline, as stats, plot and the frames give them (sessions
    // laid end to end, the gap between them shortened like an idle gap).
    let mut timeline = crate::timeline::snapshot_times_iter(capture, &Default::default());
    let mut span_ms = 0;
    let mut sessions = Vec::with_capacity(capture.sessions.len());
    for s in &capture.sessions {
        let mut si = SessionInfo {
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
            peak_used: None,
            min_largest_free: None,
            cut_off: Vec::new(),
        };
        for i in 0..s.snapshots.len() {
            let meta = s.snapshots.meta(i);
            if i > 0 {
                gaps.add(meta.time_ms - s.snapshots.meta(i - 1).time_ms);
            }
            let fig = s.figures(i, figures_bs);
            heap_bytes = heap_bytes.max(fig.map_or(0, |f| f.total));
            used_series.add(k_all, fig.map(|f| f.used));
            largest_free_series.add(k_all, fig.and_then(|f| f.largest_free));
            k_all += 1;
            // The timeline yields every snapshot in this same order.
            let t = timeline.next().map_or(span_ms, |(_, t)| t);
            span_ms = t;
            let here = |b: u64| (b, s.index, i, t, meta.line);
            if let Some(f) = fig {
                if si.peak_used.is_none_or(|p| f.used > p.0) {
                    si.peak_used = Some(here(f.used));
                }
                if let Some(l) = f.largest_free {
                    if si.min_largest_free.is_none_or(|p| l < p.0) {
                        si.min_largest_free = Some(here(l));
                    }
                }
            }
            if !meta.complete {
                si.cut_off.push(meta.line);
            }
            untimed += usize::from(!meta.timed);
            tableless += usize::from(s.snapshots.area_sizes(i).next().is_none());
            has_mem |= meta.mem.is_some();
            has_split |= meta.gc.is_some_and(|g| g.max_new_split.is_some());
        }
        sessions.push(si);
    }
    let peak = sessions
        .iter()
        .filter_map(|s| s.peak_used)
        .reduce(|a, b| if b.0 > a.0 { b } else { a });
    let min_free = sessions
        .iter()
        .filter_map(|s| s.min_largest_free)
        .reduce(|a, b| if b.0 < a.0 { b } else { a });
    match capture.offset_digits {
        5 => hints.push("5-digit layout offsets: firmware v1.19.1 or older".to_string()),
        8 => hints.push(
            "8-digit layout offsets: MicroPython v1.20 or newer (or CircuitPython)".to_string(),
        ),
        _ => {}
    }
    if has_mem {
        hints.push("'mem:' line: a unix build (or MICROPY_MEM_STATS)".to_string());
    }
    if has_split {
        hints.push("'max new split': ESP32 firmware v1.21 or newer".to_string());
    }
    let most_areas = sessions.iter().map(|s| s.areas.len()).max().unwrap_or(0);
    if most_areas > 1 {
        hints.push(format!("split heap: {most_areas} areas"));
    }
    match block_size {
        Some(16) => hints.push("16-byte blocks: a 32-bit port".to_string()),
        Some(32) => hints.push("32-byte blocks: a 64-bit build (unix)".to_string()),
        _ => {}
    }
    for s in &capture.sessions {
        if let Some(b) = &s.banner {
            if !hints.contains(b) {
                hints.push(b.clone());
            }
        }
    }
    let period_ms = gaps.percentile(0.5).map(|median| {
        (
            median,
            gaps.percentile(0.1).unwrap_or(median),
            gaps.percentile(0.9).unwrap_or(median),
        )
    });
    let mut warn_lines = warnings.report(&capture.source);
    warn_lines.truncate(200);
    Info {
        source: capture.source.clone(),
        lines: capture.lines,
        bytes: capture.bytes,
        snapshots: capture.snapshot_count(),
        incomplete_snapshots: sessions.iter().map(|s| s.cut_off.len()).sum(),
        untimed_snapshots: untimed,
        tableless_snapshots: tableless,
        sessions,
        log_lines: capture.log_count(),
        timed_log_lines: capture
            .sessions
            .iter()
            .map(|s| {
                (0..s.logs.len())
                    .filter(|&j| s.logs.meta(j).time_ms.is_some())
                    .count()
            })
            .sum(),
        period_ms,
        span_ms,
        heap_bytes,
        block_size,
        offset_digits: capture.offset_digits,
        firmware_hints: hints,
        peak_used: peak,
        min_largest_free: min_free,
        largest_free_series: largest_free_series.points,
        used_series: used_series.points,
        warnings: warn_lines,
        warning_count: warnings.total(),
        memory_errors: crate::analysis::why::verdict_counts(&crate::analysis::why::events(capture)),
    }
}

/// `2 (1 exhausted, 1 fragmented, 0 unexplained); memanim why run.log explains them`, for info
/// and stats.
pub fn memory_errors_line(source: &str, counts: (usize, usize, usize)) -> Option<String> {
    let (x, f, u) = counts;
    (x + f + u > 0).then(|| {
        format!(
            "{} ({x} exhausted, {f} fragmented, {u} unexplained); `memanim why {source}` explains them",
            x + f + u
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

fn secs(ms: i64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

impl Info {
    /// The human summary.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
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
        let many = self.sessions.len() > 1;
        for s in &self.sessions {
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
                "dump period  median {med:.0} ms (10%..90%: {p10:.0}..{p90:.0} ms)"
            );
        }
        let most_areas = self
            .sessions
            .iter()
            .map(|s| s.areas.len())
            .max()
            .unwrap_or(0);
        let _ = writeln!(
            o,
            "heap         {} ({} bytes), {} area(s), {}-byte blocks",
            human_bytes(self.heap_bytes),
            self.heap_bytes,
            most_areas,
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
        if let Some(line) = memory_errors_line(&self.source, self.memory_errors) {
            let _ = writeln!(o, "MemoryError  {line}");
        }
        let _ = writeln!(o, "warnings     {}", self.warning_count);
        for w in &self.warnings {
            let _ = writeln!(o, "  {w}");
        }
        o
    }

    /// The same as JSON.
    pub fn to_json(&self) -> String {
        use Json::*;
        let at = |x: &Option<(u64, usize, usize, i64, u64)>| match x {
            Some((b, s, i, t, line)) => Obj(vec![
                ("bytes", Int(*b as i64)),
                // Numbered from 1, as the text, `#N` and `--snapshot N` count them.
                ("session", Int(*s as i64 + 1)),
                (
                    "snapshot",
                    Int(self.sessions[..*s]
                        .iter()
                        .map(|x| x.snapshots)
                        .sum::<usize>() as i64
                        + *i as i64
                        + 1),
                ),
                ("time_ms", Int(*t)),
                ("line", Int(*line as i64)),
            ]),
            None => Null,
        };
        let j = Obj(vec![
            ("source", Str(self.source.clone())),
            ("lines", Int(self.lines as i64)),
            ("bytes", Int(self.bytes as i64)),
            ("snapshots", Int(self.snapshots as i64)),
            (
                "incomplete_snapshots",
                Int(self.incomplete_snapshots as i64),
            ),
            ("untimed_snapshots", Int(self.untimed_snapshots as i64)),
            ("tableless_snapshots", Int(self.tableless_snapshots as i64)),
            (
                "sessions",
                Arr(self
                    .sessions
                    .iter()
                    .map(|s| {
                        Obj(vec![
                            ("index", Int(s.index as i64 + 1)),
                            ("first_line", Int(s.first_line as i64)),
                            ("snapshots", Int(s.snapshots as i64)),
                            ("span_ms", Int(s.span_ms)),
                            ("start_wall", s.start_wall.clone().map_or(Null, Str)),
                            ("banner", s.banner.clone().map_or(Null, Str)),
                            ("started_by", s.started_by.clone().map_or(Null, Str)),
                            (
                                "areas",
                                Arr(s
                                    .areas
                                    .iter()
                                    .map(|(p, n)| {
                                        Obj(vec![
                                            ("ptr", Str(format!("{p:x}"))),
                                            ("blocks", Int(*n as i64)),
                                        ])
                                    })
                                    .collect()),
                            ),
                            ("peak_used", at(&s.peak_used)),
                            ("min_largest_free", at(&s.min_largest_free)),
                            (
                                "cut_off_lines",
                                Arr(s.cut_off.iter().map(|&l| Int(l as i64)).collect()),
                            ),
                        ])
                    })
                    .collect()),
            ),
            ("span_ms", Int(self.span_ms)),
            (
                "period_ms",
                match self.period_ms {
                    Some((m, a, b)) => {
                        Obj(vec![("median", Num(m)), ("p10", Num(a)), ("p90", Num(b))])
                    }
                    None => Null,
                },
            ),
            ("heap_bytes", Int(self.heap_bytes as i64)),
            (
                "block_size",
                self.block_size.map_or(Null, |b| Int(b as i64)),
            ),
            ("offset_digits", Int(self.offset_digits as i64)),
            (
                "firmware_hints",
                Arr(self.firmware_hints.iter().cloned().map(Str).collect()),
            ),
            ("log_lines", Int(self.log_lines as i64)),
            ("timed_log_lines", Int(self.timed_log_lines as i64)),
            ("peak_used", at(&self.peak_used)),
            ("min_largest_free", at(&self.min_largest_free)),
            (
                "largest_free",
                Arr(self
                    .largest_free_series
                    .iter()
                    .map(|v| v.map_or(Null, |v| Int(v as i64)))
                    .collect()),
            ),
            (
                "used",
                Arr(self
                    .used_series
                    .iter()
                    .map(|v| v.map_or(Null, |v| Int(v as i64)))
                    .collect()),
            ),
            (
                "memory_errors",
                Obj(vec![
                    ("exhausted", Int(self.memory_errors.0 as i64)),
                    ("fragmented", Int(self.memory_errors.1 as i64)),
                    ("unexplained", Int(self.memory_errors.2 as i64)),
                ]),
            ),
            ("warning_count", Int(self.warning_count as i64)),
            (
                "warnings",
                Arr(self.warnings.iter().cloned().map(Str).collect()),
            ),
        ]);
        let mut out = String::new();
        j.write(&mut out);
        out.push('\n');
        out
    }
}

/// Just enough JSON to print summaries without a serialisation dependency.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    pub fn write(&self, o: &mut String) {
        match self {
            Json::Null => o.push_str("null"),
            Json::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
            Json::Int(v) => {
                let _ = write!(o, "{v}");
            }
            Json::Num(v) if v.is_finite() => {
                let _ = write!(o, "{v}");
            }
            Json::Num(_) => o.push_str("null"),
            Json::Str(s) => write_str(o, s),
            Json::Arr(items) => {
                o.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    x.write(o);
                }
                o.push(']');
            }
            Json::Obj(fields) => {
                o.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    write_str(o, k);
                    o.push(':');
                    v.write(o);
                }
                o.push('}');
            }
        }
    }
}

fn write_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
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
            let want = all[((all.len() - 1) as f64 * p).round() as usize] as f64;
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
