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

use std::fmt::Write as _;

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
    /// None when the dump does not tell (cut off, without a GC line).
    pub used: Option<u64>,
    pub free: Option<u64>,
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

/// The fewest snapshots, and the shortest span (s), a leak estimate is made from.
pub const LEAK_MIN_SNAPSHOTS: usize = 8;
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
    pub session: usize,
    pub peak_used: Option<Point>,
    pub lowest_largest_free: Option<Point>,
    /// Lines of the dumps cut off.
    pub cut_off: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// One row per this many seconds (the first snapshot at or after each multiple), or every
    /// snapshot.
    pub every_s: Option<f64>,
    /// The highest use over every session.
    pub peak_used: Option<Point>,
    /// The smallest largest-free block over every session.
    pub lowest_largest_free: Option<Point>,
    pub sessions: Vec<SessionSummary>,
    pub leak: Option<Leak>,
    /// Why there is no leak estimate, when there is none.
    pub leak_note: Option<String>,
    /// The session the estimate was made on, when the capture has several (the last: a reset
    /// empties the heap, so only one session's memory can be followed).
    pub leak_session: Option<usize>,
    /// MemoryErrors in the log lines: (exhausted, fragmented, unexplained).
    pub memory_errors: (usize, usize, usize),
    /// The capture's name, for the advice to run `memanim why`.
    pub source: String,
}

/// One row from a snapshot: figures by [`Snapshot::figures`], kinds and free runs from its
/// blocks (0 when the dump had no table).
fn row(session: usize, t_s: f64, s: &Snapshot, block_size: u64) -> Row {
    let f = s.figures(s.block_size().map_or(block_size, u64::from));
    let st = s.block_stats();
    let mut kinds = [(0u64, 0u64); 10];
    for area in &s.areas {
        let bs = area.block_size as u64;
        let mut current: Option<usize> = None;
        for &b in &area.blocks {
            match b {
                BlockKind::Tail => {
                    if let Some(k) = current {
                        kinds[k].1 += bs;
                    }
                }
                k if k.is_head() => {
                    let slot = KINDS
                        .iter()
                        .position(|x| *x == k)
                        .unwrap_or(KINDS.len() - 1); // marked heads count as unknown
                    kinds[slot].0 += 1;
                    kinds[slot].1 += bs;
                    current = Some(slot);
                }
                _ => current = None,
            }
        }
    }
    Row {
        session,
        line: s.line,
        t_s,
        used: f.map(|f| f.used),
        free: f.map(|f| f.free),
        largest_free: f.and_then(|f| f.largest_free),
        fragmentation: f.and_then(|f| f.fragmentation()),
        free_runs: (!s.areas.is_empty()).then_some(st.free_runs),
        kinds: (!s.areas.is_empty()).then_some(kinds),
        cut_off: !s.complete,
    }
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

/// One snapshot's figures, from the index: what the summary, the leak estimate and the chart use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub session: usize,
    pub index: usize,
    pub line: u64,
    /// Seconds since the capture's first snapshot (sessions laid end to end).
    pub t_s: f64,
    pub used: Option<u64>,
    pub free: Option<u64>,
    pub largest_free: Option<u64>,
    pub complete: bool,
    pub timed: bool,
}

/// Every snapshot's figures in order, from the index alone (no dump is read): memory does not
/// grow with the capture, and a week of dumps is read in seconds.
pub fn samples(capture: &Capture) -> impl Iterator<Item = Sample> + '_ {
    let bs = capture.figures_block_size();
    crate::timeline::snapshot_times_iter(capture, &Default::default()).map(move |(r, t)| {
        let s = &capture.sessions[r.session];
        let meta = s.snapshots.meta(r.index);
        let f = s.figures(r.index, bs);
        Sample {
            session: r.session,
            index: r.index,
            line: meta.line,
            t_s: t as f64 / 1000.0,
            used: f.map(|f| f.used),
            free: f.map(|f| f.free),
            largest_free: f.and_then(|f| f.largest_free),
            complete: meta.complete,
            timed: meta.timed,
        }
    })
}

/// Computes the summary from the index (one pass, and one more over the last session for the
/// leak estimate). The table's rows are read when they are written: [`Stats::rows`].
pub fn compute(capture: &Capture, every_s: Option<f64>) -> Stats {
    let mut sessions: Vec<SessionSummary> = Vec::new();
    let mut heap = 1u64;
    // The last session's span and how many of its snapshots say how much is used: the leak
    // estimate only follows memory within one boot.
    let (mut tail_first, mut tail_last, mut tail_n, mut untimed) = (0.0f64, 0.0f64, 0usize, false);
    for p in samples(capture) {
        if sessions.last().is_none_or(|s| s.session != p.session) {
            sessions.push(SessionSummary {
                session: p.session,
                peak_used: None,
                lowest_largest_free: None,
                cut_off: Vec::new(),
            });
            (tail_n, untimed) = (0, false);
        }
        let s = sessions.last_mut().expect("a session");
        if let Some(u) = p.used {
            if s.peak_used.is_none_or(|x| u > x.0) {
                s.peak_used = Some((u, p.t_s, p.line));
            }
            if tail_n == 0 {
                tail_first = p.t_s;
            }
            tail_last = p.t_s;
            tail_n += 1;
        }
        if let Some(l) = p.largest_free {
            if s.lowest_largest_free.is_none_or(|x| l < x.0) {
                s.lowest_largest_free = Some((l, p.t_s, p.line));
            }
        }
        if !p.complete {
            s.cut_off.push(p.line);
        }
        untimed |= !p.timed;
        if let (Some(u), Some(f)) = (p.used, p.free) {
            heap = heap.max(u + f);
        }
    }
    let peak_used =
        sessions
            .iter()
            .filter_map(|s| s.peak_used)
            .reduce(|a, b| if b.0 > a.0 { b } else { a });
    let lowest_largest_free = sessions
        .iter()
        .filter_map(|s| s.lowest_largest_free)
        .reduce(|a, b| if b.0 < a.0 { b } else { a });
    let last_session = sessions.last().map_or(0, |s| s.session);
    // The lower envelope: the least used memory of each time window of the last session (a
    // reboot empties the heap, so earlier sessions say nothing of this one's trend).
    let windows = (tail_n / 4).clamp(3, 20);
    let span = (tail_last - tail_first).max(1e-9);
    let mut minima: Vec<Option<(f64, u64)>> = vec![None; windows];
    for p in samples(capture).filter(|p| p.session == last_session) {
        let Some(u) = p.used else { continue };
        let w = (((p.t_s - tail_first) / span * windows as f64) as usize).min(windows - 1);
        if minima[w].is_none_or(|m| u < m.1) {
            minima[w] = Some((p.t_s, u));
        }
    }
    let post: Vec<(f64, f64)> = minima
        .into_iter()
        .flatten()
        .map(|(t, u)| (t / 60.0, u as f64))
        .collect();
    let span_min = match (post.first(), post.last()) {
        (Some(a), Some(b)) => b.0 - a.0,
        _ => 0.0,
    };
    // A rate needs time: pasted dumps have none, and a few dumps over a second say nothing.
    let tail_span = tail_last - tail_first;
    let leak_note = if untimed {
        Some(
            "none: the dumps carry no time of their own, so there is no rate to estimate"
                .to_string(),
        )
    } else if tail_n < LEAK_MIN_SNAPSHOTS || tail_span < LEAK_MIN_SPAN_S {
        Some(format!(
            "too few snapshots to tell ({tail_n} over {tail_span:.1} s{}; it takes at least {LEAK_MIN_SNAPSHOTS} over {LEAK_MIN_SPAN_S} s)",
            if sessions.len() > 1 { " in the last session" } else { "" }
        ))
    } else {
        None
    };
    let leak = fit(&post)
        .filter(|_| leak_note.is_none())
        .map(|(slope, r2)| {
            // Least squares passes through the mean point.
            let n = post.len() as f64;
            let (mx, my) = post
                .iter()
                .fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
            let at = |x: f64| (x * 60.0, my + slope * (x - mx));
            Leak {
                slope_per_min: slope,
                r2,
                points: post.len(),
                growth_share: slope * span_min / heap as f64,
                line: [at(post[0].0), at(post[post.len() - 1].0)],
            }
        });
    Stats {
        every_s,
        leak_note,
        leak_session: (sessions.len() > 1).then_some(last_session),
        peak_used,
        lowest_largest_free,
        sessions,
        leak,
        memory_errors: crate::analysis::why::verdict_counts(&crate::analysis::why::events(capture)),
        source: capture.source.clone(),
    }
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
        write!(
            o,
            "{:>9} {:>9} {:>9} {:>9} {:>6} {:>5}",
            "time_s", "used", "free", "largest", "frag%", "runs"
        )?;
        for k in KINDS {
            write!(o, " {:>11}", k.name())?;
        }
        writeln!(o)?;
        let opt = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
        for r in self.rows(capture) {
            write!(
                o,
                "{:>9.3} {:>9} {:>9} {:>9} {:>6} {:>5}",
                r.t_s,
                opt(r.used),
                opt(r.free),
                opt(r.largest_free),
                r.fragmentation
                    .map_or("?".to_string(), |f| format!("{:.1}", f * 100.0)),
                opt(r.free_runs)
            )?;
            for k in 0..KINDS.len() {
                let cell = r
                    .kinds
                    .map_or("?".to_string(), |ks| format!("{}/{}", ks[k].0, ks[k].1));
                write!(o, " {cell:>11}")?;
            }
            writeln!(o)?;
        }
        o.write_all(self.summary_text().as_bytes())
    }

    /// The summary under the table.
    fn summary_text(&self) -> String {
        let mut o = String::from("(kind columns: objects/bytes; ? where a dump does not say)\n\n");
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
                point(&mut o, "  peak used", s.peak_used);
                point(&mut o, "  lowest largest free", s.lowest_largest_free);
            }
        } else {
            point(&mut o, "peak used", self.peak_used);
            point(&mut o, "lowest largest free", self.lowest_largest_free);
        }
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
        o
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

    /// `{"rows": [...], "peak_used": ..., ...}`, the rows written as they are read.
    pub fn write_json(&self, capture: &Capture, o: &mut dyn std::io::Write) -> std::io::Result<()> {
        use serde_json::{json, Value};
        let point = |x: &Option<Point>| match x {
            Some((b, t, line)) => json!({"bytes": b, "time_s": t, "line": line}),
            None => Value::Null,
        };
        o.write_all(b"{\"rows\":[")?;
        for (k, r) in self.rows(capture).enumerate() {
            if k > 0 {
                o.write_all(b",")?;
            }
            let kinds = r.kinds.map(|ks| {
                KINDS
                    .iter()
                    .zip(ks)
                    .map(|(k, (n, b))| (k.name().to_string(), json!({"objects": n, "bytes": b})))
                    .collect::<serde_json::Map<String, Value>>()
            });
            serde_json::to_writer(
                &mut *o,
                &json!({
                    "session": r.session + 1,
                    "line": r.line,
                    "time_s": r.t_s,
                    "used": r.used,
                    "free": r.free,
                    "largest_free": r.largest_free,
                    "fragmentation": r.fragmentation,
                    "cut_off": r.cut_off,
                    "free_runs": r.free_runs,
                    "kinds": kinds,
                }),
            )?;
        }
        let leak = self.leak.as_ref().map(|l| {
            json!({
                "bytes_per_min": l.slope_per_min,
                "r2": l.r2,
                "points": l.points,
                "growth_share": l.growth_share,
                "leak": l.is_leak(),
            })
        });
        let summary = json!({
            "peak_used": point(&self.peak_used),
            "lowest_largest_free": point(&self.lowest_largest_free),
            "sessions": self.sessions.iter().map(|s| json!({
                "session": s.session + 1,
                "peak_used": point(&s.peak_used),
                "lowest_largest_free": point(&s.lowest_largest_free),
                "cut_off_lines": s.cut_off,
            })).collect::<Vec<_>>(),
            "leak": leak,
            "leak_note": self.leak_note,
            "memory_errors": {
                "exhausted": self.memory_errors.0,
                "fragmented": self.memory_errors.1,
                "unexplained": self.memory_errors.2,
            },
        });
        // The summary's fields follow the rows in the same object.
        let text = serde_json::to_string(&summary)?;
        o.write_all(b"],")?;
        o.write_all(&text.as_bytes()[1..])?;
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
