//! `memanim stats`: the capture as numbers over time, and the answers they imply: peak use, the
//! worst fragmentation, and whether memory leaks.
//!
//! Used, free and the largest free block follow the one rule of [`Snapshot::figures`] (the dump's
//! own GC line first, the blocks for what it lacks, nothing for a cut-off dump that does not say),
//! so `stats`, `info`, `plot` and the frames agree; objects per kind and free runs are counted
//! from the blocks. The leak estimate fits a line through the lower envelope of used
//! memory: the least used in each of up to 20 equal time windows. What survives the collector is
//! what the app holds, and that is where the minimum sits, whether the app makes garbage (the
//! minima are the moments after a collection) or keeps everything (the minima grow with it).
//!
//! [`compute`] takes a parsed capture and gives [`Stats`]: the extremes, per session and over
//! all, and the leak estimate, from the capture's index. The table is not held:
//! [`Stats::write_text`], [`Stats::write_csv`] and [`Stats::write_json`] read each row's dump as
//! they write it, so a week of dumps is written in bounded memory.

use std::fmt::Write as _;

use crate::analysis::why::VerdictCounts;
use crate::analysis::{allocations, kind_slot, samples, Extremes, Place, Sample};
use crate::capture::Capture;
use crate::heap::{BlockKind, Snapshot};

/// Kinds counted per row, in table order.
pub const KINDS: [BlockKind; 10] = BlockKind::OBJECTS;

/// One row: one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The session's index (0-based); printed from 1, as everywhere.
    pub session: usize,
    /// Source line of the dump.
    pub line: u64,
    /// Seconds since the capture's first snapshot (sessions laid end to end).
    pub t_s: f64,
    /// Bytes used; None when the dump does not tell (cut off, without a GC line).
    pub used: Option<u64>,
    /// Bytes free; None likewise.
    pub free: Option<u64>,
    /// The largest free block (bytes); None when the dump does not tell.
    pub largest_free: Option<u64>,
    /// 1 - largest free / free.
    pub fragmentation: Option<f64>,
    /// None when the dump has no table (only its figures).
    pub free_runs: Option<u64>,
    /// Per kind of `KINDS`: (objects, bytes including their tails).
    /// None when the dump has no table.
    pub kinds: Option<[(u64, u64); 10]>,
    /// The dump was cut off.
    pub cut_off: bool,
}

/// The leak line must fit this well (R²) to call it a leak.
pub const LEAK_MIN_R2: f64 = 0.6;
/// ... and grow by at least this share of the heap over the capture.
pub const LEAK_MIN_GROWTH: f64 = 0.02;

/// The fewest snapshots a leak estimate is made from (in the last session)...
pub const LEAK_MIN_SNAPSHOTS: usize = 8;
/// ... and the shortest span they cover (s).
pub const LEAK_MIN_SPAN_S: f64 = 2.0;

/// The leak estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leak {
    /// Bytes per minute (positive: growing).
    pub slope_per_min: f64,
    /// R² of the fit (1 = every point on the line).
    pub r2: f64,
    /// Points (window minima) the fit used.
    pub points: usize,
    /// Fitted growth over the capture as a share of the heap (0.05 = 5%).
    pub growth_share: f64,
    /// The fitted line's ends: (seconds since the first snapshot, bytes), over the part of the
    /// capture it was fitted to.
    pub line: [(f64, f64); 2],
}

/// A figure's extreme: (bytes, t_s, line).
pub type Point = (u64, f64, u64);

/// One session's extremes: a reset empties the heap, so each session has its own.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    /// The session's index (0-based); printed from 1.
    pub session: usize,
    /// Its highest used memory.
    pub peak_used: Option<Point>,
    /// Its smallest largest free block.
    pub lowest_largest_free: Option<Point>,
    /// Lines of the dumps cut off.
    pub cut_off: Vec<u64>,
}

/// What `memanim stats` says about a capture: its extremes, per session and over all, the leak
/// estimate and the MemoryErrors. The table's rows are not held: [`Stats::rows`] reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// One row per this many seconds (the first snapshot at or after each multiple), or every
    /// snapshot.
    pub every_s: Option<f64>,
    /// The highest use over every session.
    pub peak_used: Option<Point>,
    /// The smallest largest-free block over every session.
    pub lowest_largest_free: Option<Point>,
    /// Each session with snapshots, in order.
    pub sessions: Vec<SessionSummary>,
    /// The leak estimate, when there are enough timed snapshots to make one.
    pub leak: Option<Leak>,
    /// Why there is no leak estimate, when there is none.
    pub leak_note: Option<String>,
    /// The session the estimate was made on, when the capture has several (the last: a reset
    /// empties the heap, so only one session's memory can be followed).
    pub leak_session: Option<usize>,
    /// MemoryErrors in the log lines, by verdict.
    pub memory_errors: VerdictCounts,
    /// The capture's name, for the advice to run `memanim why`.
    pub source: String,
}

/// One row from a snapshot: figures by [`Snapshot::figures`], kinds and free runs from its
/// blocks (None when the dump had no table).
fn row(session: usize, t_s: f64, s: &Snapshot, block_size: u64) -> Row {
    let f = s.figures(s.block_size().map_or(block_size, u64::from));
    let st = s.block_stats();
    Row {
        session,
        line: s.line,
        t_s,
        used: f.map(|f| f.used),
        free: f.map(|f| f.free),
        largest_free: f.and_then(|f| f.largest_free),
        fragmentation: f.and_then(|f| f.fragmentation()),
        free_runs: (!s.areas.is_empty()).then_some(st.free_runs),
        kinds: (!s.areas.is_empty()).then(|| kind_counts(s)),
        cut_off: !s.complete,
    }
}

/// (objects, bytes including their tails) per kind of [`KINDS`] over a snapshot's areas.
fn kind_counts(s: &Snapshot) -> [(u64, u64); 10] {
    let mut kinds = [(0u64, 0u64); 10];
    for area in &s.areas {
        for (head, len) in allocations(&area.blocks) {
            let k = &mut kinds[kind_slot(area.blocks[head])];
            k.0 += 1;
            k.1 += len as u64 * area.block_size as u64;
        }
    }
    kinds
}

/// Widths of the text table's figure columns: time_s, used, free, largest, frag%, runs.
const FIGURE_WIDTHS: [usize; 6] = [9, 9, 9, 9, 6, 5];

/// One line of the text table, right-aligned: the figure cells, then one cell per kind (11 wide).
fn text_line(
    o: &mut dyn std::io::Write,
    figures: [String; 6],
    kinds: impl Iterator<Item = String>,
) -> std::io::Result<()> {
    for (i, (cell, width)) in figures.iter().zip(FIGURE_WIDTHS).enumerate() {
        let gap = if i > 0 { " " } else { "" };
        write!(o, "{gap}{cell:>width$}")?;
    }
    for cell in kinds {
        write!(o, " {cell:>11}")?;
    }
    writeln!(o)
}

/// Least squares through (x, y): (slope, R²).
pub fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some((slope, r2))
}

/// Computes the summary from the index (one pass, and one more over the last session for the
/// leak estimate). The table's rows are read when they are written: [`Stats::rows`].
pub fn compute(capture: &Capture, every_s: Option<f64>) -> Stats {
    let pass = Pass::over(capture);
    let several = pass.sessions.len() > 1;
    let leak_note = pass.tail.note(several);
    let leak = match leak_note {
        None => estimate_leak(capture, &pass.tail, pass.heap),
        Some(_) => None,
    };
    let all = Extremes::over(pass.sessions.iter().map(|s| &s.extremes));
    Stats {
        every_s,
        leak_note,
        leak_session: several.then_some(pass.tail.session),
        peak_used: all.peak_used.map(point),
        lowest_largest_free: all.lowest_largest_free.map(point),
        sessions: pass
            .sessions
            .into_iter()
            .map(SessionPass::summary)
            .collect(),
        leak,
        memory_errors: VerdictCounts::of_capture(capture),
        source: capture.source.clone(),
    }
}

/// A figure's extreme as [`Stats`] reports it.
fn point((bytes, at): (u64, Place)) -> Point {
    (bytes, at.t_s(), at.line)
}

/// One session as the pass over the samples found it.
struct SessionPass {
    session: usize,
    extremes: Extremes,
    cut_off: Vec<u64>,
}

impl SessionPass {
    /// The session as [`Stats`] reports it.
    fn summary(self) -> SessionSummary {
        SessionSummary {
            session: self.session,
            peak_used: self.extremes.peak_used.map(point),
            lowest_largest_free: self.extremes.lowest_largest_free.map(point),
            cut_off: self.cut_off,
        }
    }
}

/// The last session's snapshots that say how much is used, for the leak estimate: a reset
/// empties the heap, so the estimate only follows memory within one boot.
#[derive(Debug, Default)]
struct Tail {
    session: usize,
    /// Times (s) of the first and the last of them. Not reset when a session starts: a last
    /// session where no dump says how much is used keeps the span of the one before.
    first: f64,
    last: f64,
    /// How many of them.
    n: usize,
    /// Whether any dump of the session (saying how much is used or not) carried no time.
    untimed: bool,
}

impl Tail {
    /// Why there is no leak estimate, when there is none: a rate needs time, and pasted dumps
    /// have none, while a few dumps over a second say nothing.
    fn note(&self, several_sessions: bool) -> Option<String> {
        let span = self.last - self.first;
        if self.untimed {
            Some(
                "none: the dumps carry no time of their own, so there is no rate to estimate"
                    .to_string(),
            )
        } else if self.n < LEAK_MIN_SNAPSHOTS || span < LEAK_MIN_SPAN_S {
            Some(format!(
                "too few snapshots to tell ({} over {span:.1} s{}; it takes at least {LEAK_MIN_SNAPSHOTS} over {LEAK_MIN_SPAN_S} s)",
                self.n,
                if several_sessions { " in the last session" } else { "" }
            ))
        } else {
            None
        }
    }
}

/// One pass over the samples: each session's extremes and cut-off dumps, the largest heap
/// (used + free), and the last session's [`Tail`].
struct Pass {
    sessions: Vec<SessionPass>,
    heap: u64,
    tail: Tail,
}

impl Pass {
    /// Reads every sample of the capture.
    fn over(capture: &Capture) -> Pass {
        let mut pass = Pass {
            sessions: Vec::new(),
            heap: 1,
            tail: Tail::default(),
        };
        for p in samples(capture) {
            pass.add(&p);
        }
        pass
    }

    /// One sample; a new session starts a new [`SessionPass`] and a new [`Tail`] count.
    fn add(&mut self, p: &Sample) {
        if self
            .sessions
            .last()
            .is_none_or(|s| s.session != p.at.session)
        {
            self.sessions.push(SessionPass {
                session: p.at.session,
                extremes: Extremes::default(),
                cut_off: Vec::new(),
            });
            self.tail.session = p.at.session;
            (self.tail.n, self.tail.untimed) = (0, false);
        }
        let s = self.sessions.last_mut().expect("a session");
        s.extremes.add(p.used, p.largest_free, p.at);
        if !p.complete {
            s.cut_off.push(p.at.line);
        }
        if p.used.is_some() {
            if self.tail.n == 0 {
                self.tail.first = p.at.t_s();
            }
            self.tail.last = p.at.t_s();
            self.tail.n += 1;
        }
        self.tail.untimed |= !p.timed;
        if let Some(h) = p.heap() {
            self.heap = self.heap.max(h);
        }
    }
}

/// The lower envelope of the tail's used memory: the least used in each of its time windows,
/// as (minutes, bytes) in time order.
fn lower_envelope(capture: &Capture, tail: &Tail) -> Vec<(f64, f64)> {
    let windows = (tail.n / 4).clamp(3, 20);
    let span = (tail.last - tail.first).max(1e-9);
    let mut minima: Vec<Option<(f64, u64)>> = vec![None; windows];
    for p in samples(capture).filter(|p| p.at.session == tail.session) {
        let Some(u) = p.used else { continue };
        let t = p.at.t_s();
        let w = (((t - tail.first) / span * windows as f64) as usize).min(windows - 1);
        if minima[w].is_none_or(|m| u < m.1) {
            minima[w] = Some((t, u));
        }
    }
    minima
        .into_iter()
        .flatten()
        .map(|(t, u)| (t / 60.0, u as f64))
        .collect()
}

/// The line fitted through the tail's lower envelope, as a [`Leak`] (None when it has too few
/// points or no spread in time). `heap` is the largest heap, for the growth share.
fn estimate_leak(capture: &Capture, tail: &Tail, heap: u64) -> Option<Leak> {
    let post = lower_envelope(capture, tail);
    let (slope, r2) = fit(&post)?;
    let (first, last) = (post[0].0, post[post.len() - 1].0);
    // Least squares passes through the mean point.
    let n = post.len() as f64;
    let (mx, my) = post
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let at = |x: f64| (x * 60.0, my + slope * (x - mx));
    Some(Leak {
        slope_per_min: slope,
        r2,
        points: post.len(),
        growth_share: slope * (last - first) / heap as f64,
        line: [at(first), at(last)],
    })
}

impl Leak {
    /// A sentence a developer can act on, which reads as healthy when the app is: the rate is
    /// only quoted as growth when the fit says memory grows steadily.
    pub fn verdict(&self) -> String {
        let rate = crate::render::human_bytes(self.slope_per_min.abs() as u64);
        let fit = format!("fit R² {:.2} over {} windows", self.r2, self.points);
        if self.is_leak() {
            format!(
                "LEAK: memory kept after collections grows by {rate}/min, {:.0}% of the heap over the capture ({fit})",
                self.growth_share * 100.0
            )
        } else if self.r2 < LEAK_MIN_R2
            && self.r2 >= LEAK_MIN_R2 / 2.0
            && self.slope_per_min > 0.0
            && self.growth_share >= LEAK_MIN_GROWTH
        {
            format!(
                "no clear leak: memory kept after collections rises, but too unevenly to call it a leak ({fit}); a longer capture will tell"
            )
        } else if self.r2 < LEAK_MIN_R2 {
            format!(
                "no leak: memory kept after collections goes up and down with no steady trend ({fit})"
            )
        } else if self.slope_per_min <= 0.0 {
            format!("no leak: memory kept after collections shrinks by {rate}/min ({fit})")
        } else {
            format!(
                "no leak: memory kept after collections is steady, {:.1}% of the heap over the capture (under {:.0}%; {fit})",
                self.growth_share * 100.0,
                LEAK_MIN_GROWTH * 100.0
            )
        }
    }

    /// True when the estimate says the app leaks: memory kept after collections grows steadily
    /// (the line fits, R² at least 0.6) and by a real share of the heap (2% over the capture).
    pub fn is_leak(&self) -> bool {
        self.slope_per_min > 0.0 && self.r2 >= LEAK_MIN_R2 && self.growth_share >= LEAK_MIN_GROWTH
    }
}

impl Stats {
    /// The table's rows, in order: every snapshot, or one per `every_s`. Each is read from the
    /// capture as it is asked for (its blocks give the objects per kind), so a table of a week
    /// of dumps is written without being held.
    pub fn rows<'c>(&self, capture: &'c Capture) -> impl Iterator<Item = Row> + 'c {
        let bs = capture.figures_block_size() as u64;
        let mut thin = self.every_s.map(crate::timeline::Thinner::new);
        crate::timeline::snapshot_times_iter(capture, &Default::default())
            .filter(move |(_, t)| thin.as_mut().is_none_or(|th| th.take(*t as f64 / 1000.0)))
            .map(move |(r, t)| {
                let snap = capture.sessions[r.session].snapshots.get(r.index);
                row(r.session, t as f64 / 1000.0, &snap, bs)
            })
    }

    /// The table and the summary, as text.
    pub fn write_text(&self, capture: &Capture, o: &mut dyn std::io::Write) -> std::io::Result<()> {
        text_line(
            o,
            ["time_s", "used", "free", "largest", "frag%", "runs"].map(String::from),
            KINDS.iter().map(|k| k.name().to_string()),
        )?;
        let opt = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
        for r in self.rows(capture) {
            let figures = [
                format!("{:.3}", r.t_s),
                opt(r.used),
                opt(r.free),
                opt(r.largest_free),
                r.fragmentation
                    .map_or("?".to_string(), |f| format!("{:.1}", f * 100.0)),
                opt(r.free_runs),
            ];
            let kinds = (0..KINDS.len()).map(|k| {
                r.kinds
                    .map_or("?".to_string(), |ks| format!("{}/{}", ks[k].0, ks[k].1))
            });
            text_line(o, figures, kinds)?;
        }
        o.write_all(self.summary_text().as_bytes())
    }

    /// The summary under the table.
    fn summary_text(&self) -> String {
        let mut o = String::from("(kind columns: objects/bytes; ? where a dump does not say)\n\n");
        self.extremes_text(&mut o);
        let cut: Vec<u64> = self
            .sessions
            .iter()
            .flat_map(|s| s.cut_off.clone())
            .collect();
        if !cut.is_empty() {
            let _ = writeln!(
                o,
                "cut off              {}: {} (figures from their GC lines, when they have one)",
                crate::units::count(cut.len() as u64, "dump", "dumps"),
                crate::analysis::info::lines_list(&cut)
            );
        }
        if let Some(line) =
            crate::analysis::info::memory_errors_line(&self.source, self.memory_errors)
        {
            let _ = writeln!(o, "MemoryError          {line}");
        }
        self.leak_text(&mut o);
        o
    }

    /// Peak used and lowest largest free: each session's when there are several (a reset
    /// empties the heap), else the capture's.
    fn extremes_text(&self, o: &mut String) {
        let point = |o: &mut String, what: &str, p: Option<Point>| {
            if let Some((b, t, line)) = p {
                let _ = writeln!(
                    o,
                    "{what:<20} {} at {t:.3} s (line {line})",
                    crate::render::human_bytes(b)
                );
            }
        };
        if self.sessions.len() > 1 {
            for s in &self.sessions {
                let _ = writeln!(o, "session {}", s.session + 1);
                point(o, "  peak used", s.peak_used);
                point(o, "  lowest largest free", s.lowest_largest_free);
            }
        } else {
            point(o, "peak used", self.peak_used);
            point(o, "lowest largest free", self.lowest_largest_free);
        }
    }

    /// The leak estimate's verdict, or why there is none.
    fn leak_text(&self, o: &mut String) {
        match &self.leak {
            Some(l) => {
                let _ = writeln!(o, "leak estimate        {}", l.verdict());
                if let Some(k) = self.leak_session {
                    let _ = writeln!(
                        o,
                        "                     (session {}, the last: a reset empties the heap)",
                        k + 1
                    );
                }
            }
            None => {
                let _ = writeln!(
                    o,
                    "leak estimate        {}",
                    self.leak_note
                        .as_deref()
                        .unwrap_or("too few snapshots to tell")
                );
            }
        }
    }

    /// One line per row, for spreadsheets.
    pub fn write_csv(&self, capture: &Capture, o: &mut dyn std::io::Write) -> std::io::Result<()> {
        write!(
            o,
            "session,line,time_s,used,free,largest_free,fragmentation,free_runs"
        )?;
        for k in KINDS {
            let n = k.name().replace('/', "_");
            write!(o, ",{n}_objects,{n}_bytes")?;
        }
        writeln!(o)?;
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        for r in self.rows(capture) {
            write!(
                o,
                "{},{},{:.3},{},{},{},{},{}",
                r.session + 1,
                r.line,
                r.t_s,
                opt(r.used),
                opt(r.free),
                opt(r.largest_free),
                r.fragmentation.map_or(String::new(), |f| format!("{f:.4}")),
                opt(r.free_runs)
            )?;
            for k in 0..KINDS.len() {
                match r.kinds {
                    Some(ks) => write!(o, ",{},{}", ks[k].0, ks[k].1)?,
                    None => o.write_all(b",,")?,
                }
            }
            writeln!(o)?;
        }
        Ok(())
    }

    /// `{"rows": [...], "leak": ..., ...}`, the rows written as they are read.
    pub fn write_json(&self, capture: &Capture, o: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *o, &json::Document::new(self, capture))?;
        o.write_all(b"\n")
    }

    /// [`Stats::write_text`] into a String.
    pub fn to_text(&self, capture: &Capture) -> String {
        let mut out = Vec::new();
        let _ = self.write_text(capture, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Stats::write_csv`] into a String.
    pub fn to_csv(&self, capture: &Capture) -> String {
        let mut out = Vec::new();
        let _ = self.write_csv(capture, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Stats::write_json`] into a String.
    pub fn to_json(&self, capture: &Capture) -> String {
        let mut out = Vec::new();
        let _ = self.write_json(capture, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The shape of `stats --json`. Keys are in alphabetical order after `rows`: the order the
/// output has always had.
mod json {
    use std::collections::BTreeMap;

    use serde::{Serialize, Serializer};

    use super::{Capture, Leak, Point, Row, SessionSummary, Stats, KINDS};
    use crate::analysis::why::VerdictCounts;

    /// The table and the summary, in one object.
    #[derive(Serialize)]
    pub(super) struct Document<'a> {
        rows: Rows<'a>,
        leak: Option<LeakJson>,
        leak_note: &'a Option<String>,
        lowest_largest_free: Option<PointJson>,
        memory_errors: VerdictCounts,
        peak_used: Option<PointJson>,
        sessions: Vec<SessionJson<'a>>,
    }

    impl<'a> Document<'a> {
        /// `stats` of `capture` as it is printed.
        pub(super) fn new(stats: &'a Stats, capture: &'a Capture) -> Self {
            Document {
                rows: Rows { stats, capture },
                leak: stats.leak.as_ref().map(LeakJson::from),
                leak_note: &stats.leak_note,
                lowest_largest_free: stats.lowest_largest_free.map(PointJson::from),
                memory_errors: stats.memory_errors,
                peak_used: stats.peak_used.map(PointJson::from),
                sessions: stats.sessions.iter().map(SessionJson::from).collect(),
            }
        }
    }

    /// The table, serialised as it is read ([`Stats::rows`]), so it is never held.
    struct Rows<'a> {
        stats: &'a Stats,
        capture: &'a Capture,
    }

    impl Serialize for Rows<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.stats.rows(self.capture).map(|r| RowJson::from(&r)))
        }
    }

    /// One row of the table, its session numbered from 1.
    #[derive(Serialize)]
    struct RowJson {
        cut_off: bool,
        fragmentation: Option<f64>,
        free: Option<u64>,
        free_runs: Option<u64>,
        /// By kind name, in alphabetical order.
        kinds: Option<BTreeMap<&'static str, KindJson>>,
        largest_free: Option<u64>,
        line: u64,
        /// From 1.
        session: usize,
        time_s: f64,
        used: Option<u64>,
    }

    impl From<&Row> for RowJson {
        fn from(r: &Row) -> Self {
            RowJson {
                cut_off: r.cut_off,
                fragmentation: r.fragmentation,
                free: r.free,
                free_runs: r.free_runs,
                kinds: r.kinds.map(|ks| {
                    KINDS
                        .iter()
                        .zip(ks)
                        .map(|(k, (objects, bytes))| (k.name(), KindJson { bytes, objects }))
                        .collect()
                }),
                largest_free: r.largest_free,
                line: r.line,
                session: r.session + 1,
                time_s: r.t_s,
                used: r.used,
            }
        }
    }

    /// One kind's objects and their bytes (tails included).
    #[derive(Serialize)]
    struct KindJson {
        bytes: u64,
        objects: u64,
    }

    /// The leak estimate, with whether it calls it a leak.
    #[derive(Serialize)]
    struct LeakJson {
        bytes_per_min: f64,
        growth_share: f64,
        leak: bool,
        points: usize,
        r2: f64,
    }

    impl From<&Leak> for LeakJson {
        fn from(l: &Leak) -> Self {
            LeakJson {
                bytes_per_min: l.slope_per_min,
                growth_share: l.growth_share,
                leak: l.is_leak(),
                points: l.points,
                r2: l.r2,
            }
        }
    }

    /// A figure's extreme: bytes, and where.
    #[derive(Serialize)]
    struct PointJson {
        bytes: u64,
        line: u64,
        time_s: f64,
    }

    impl From<Point> for PointJson {
        fn from((bytes, time_s, line): Point) -> Self {
            PointJson {
                bytes,
                line,
                time_s,
            }
        }
    }

    /// One session's extremes and cut-off dumps.
    #[derive(Serialize)]
    struct SessionJson<'a> {
        cut_off_lines: &'a [u64],
        lowest_largest_free: Option<PointJson>,
        peak_used: Option<PointJson>,
        /// From 1.
        session: usize,
    }

    impl<'a> From<&'a SessionSummary> for SessionJson<'a> {
        fn from(s: &'a SessionSummary) -> Self {
            SessionJson {
                cut_off_lines: &s.cut_off,
                lowest_largest_free: s.lowest_largest_free.map(PointJson::from),
                peak_used: s.peak_used.map(PointJson::from),
                session: s.session + 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_finds_slope_and_quality() {
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, 100.0 + 50.0 * i as f64))
            .collect();
        let (s, r2) = fit(&line).unwrap();
        assert!((s - 50.0).abs() < 1e-9 && (r2 - 1.0).abs() < 1e-9);
        let flat: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, if i % 2 == 0 { 100.0 } else { 110.0 }))
            .collect();
        let (s, r2) = fit(&flat).unwrap();
        assert!(s.abs() < 2.0 && r2 < 0.2, "{s} {r2}");
        assert!(fit(&line[..2]).is_none());
    }

    #[test]
    fn a_healthy_app_reads_healthy() {
        let leak = |slope_per_min: f64, r2: f64, growth_share: f64| Leak {
            slope_per_min,
            r2,
            points: 20,
            growth_share,
            line: [(0.0, 0.0), (60.0, slope_per_min)],
        };
        // Noise: the rate is not quoted, as if it were growth.
        let v = leak(133_000.0, 0.12, 0.3).verdict();
        assert!(
            v.starts_with("no leak: ") && v.contains("no steady trend"),
            "{v}"
        );
        assert!(!v.contains("KiB/min") && !v.contains('+'), "{v}");
        let v = leak(1000.0, 0.9, 0.005).verdict();
        assert!(
            v.starts_with("no leak: ") && v.contains("steady, 0.5% of the heap"),
            "{v}"
        );
        let v = leak(-2048.0, 0.9, -0.1).verdict();
        assert!(
            v.starts_with("no leak: ") && v.contains("shrinks by 2048 B/min"),
            "{v}"
        );
        let v = leak(50_000.0, 0.45, 0.2).verdict();
        assert!(
            v.starts_with("no clear leak: ") && v.contains("too unevenly"),
            "{v}"
        );
        let v = leak(400_000.0, 0.95, 0.5).verdict();
        assert!(
            v.starts_with("LEAK: ") && v.contains("grows by 390.6 KiB/min"),
            "{v}"
        );
    }
}
