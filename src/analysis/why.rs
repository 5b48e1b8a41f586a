//! `memanim why`: every MemoryError in a capture, explained from the dump just before it.
//!
//! An allocation of N bytes needs `ceil(N / block size)` consecutive free blocks in one heap area.
//! The dump before the error says how much is free and how long the longest free run is, so the
//! failure is one of three things: the heap was **exhausted** (less free memory than asked), it was
//! **fragmented** (enough free memory, but no run long enough), or the dump does not explain it
//! (**unexplained**: a long enough run was there when the dump was printed; the heap changed in
//! between, the size printed is not what was allocated, or the heap was locked).
//!
//! MicroPython collects garbage before it gives up on an allocation, so the dump before counts
//! garbage as used that was free when the allocation failed: its free memory is a lower bound.
//! When it shows too little but the dump after shows enough in all, the dump after is the one the
//! verdict is read from (the heap after that collection), and the report says so.
//!
//! For a fragmented heap the question is which objects cut the free space into pieces. Each
//! allocation that borders a free run is ranked by the run that freeing it would make; the
//! objects are followed back through the session ([`crate::heap::age::AgeTracker`], counting
//! snapshots) to say how long they have lived and when they appeared. Long-lived small objects
//! scattered through free memory are the usual cause. The cheapest room is also found: the
//! window of the needed length that the fewest objects occupy.
//!
//! Events come from log lines alone ([`events`] reads no blocks); [`explain`] decodes the dumps
//! around one event.

use crate::capture::{Capture, LogLine};
use crate::heap::age::AgeTracker;
use crate::heap::{BlockKind, Figures, HeapArea, Snapshot};

/// What the dump before a MemoryError says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Less free memory than was asked for.
    Exhausted,
    /// Enough free memory, but no free run long enough.
    Fragmented,
    /// The dump shows a free run long enough, or there is no size or no dump to judge by.
    Unexplained,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Exhausted => "exhausted",
            Verdict::Fragmented => "fragmented",
            Verdict::Unexplained => "unexplained",
        }
    }
}

/// One MemoryError, located in its session.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub session: usize,
    /// Index of the log line in its session's logs.
    pub log: usize,
    /// 1-based line of the error in the capture.
    pub line: u64,
    /// The line as printed.
    pub text: String,
    /// Bytes asked for, when the line says (`allocating 4096 bytes`, `bytearray(4096)`, ...).
    pub requested: Option<u64>,
    /// The last complete snapshot of the session before the error, and the first after it.
    pub before: Option<usize>,
    pub after: Option<usize>,
    /// The one the verdict is read from: `before`, unless it still counted garbage that the dump
    /// after shows collected (see the module's notes).
    pub judged: Option<usize>,
    /// `memory allocation failed, heap is locked`: an allocation in a hard interrupt handler or
    /// under `micropython.heap_lock()`; free memory does not matter.
    pub locked: bool,
    /// Block size of the heap (bytes): the dump's, else the capture's.
    pub block_size: u64,
    /// The figures of the dump the verdict is read from (`before`, else `after`).
    pub figures: Option<Figures>,
    /// The longest free run in bytes, counted in the dump's table when it has one (within one
    /// area: an allocation never spans two), else its `max free sz`.
    pub largest_run: Option<u64>,
    /// Blocks of the largest heap area: a request longer than that never fits (split heaps).
    pub largest_area: Option<u64>,
    pub verdict: Verdict,
}

impl Event {
    /// Blocks the request needs.
    pub fn blocks_needed(&self) -> Option<u64> {
        self.requested.map(|r| r.div_ceil(self.block_size.max(1)))
    }

    /// The snapshot the verdict is read from (see [`Event::judged`]).
    pub fn judged_by(&self) -> Option<usize> {
        self.judged
    }

    /// One line for frames and summaries: `MemoryError at line 812: fragmented, 4096 B asked,
    /// 20.5 KiB free, largest free 2.1 KiB`.
    pub fn headline(&self) -> String {
        let b = crate::render::human_bytes;
        let mut s = format!("MemoryError at line {}: {}", self.line, self.verdict.name());
        match self.requested {
            Some(r) => s.push_str(&format!(", {} asked", b(r))),
            None => s.push_str(", size not printed"),
        }
        if let Some(f) = self.figures {
            s.push_str(&format!(", {} free", b(f.free)));
        }
        if let Some(l) = self.largest_run {
            s.push_str(&format!(", largest free {}", b(l)));
        }
        s
    }
}

pub use crate::capture::line::{is_memory_error, requested_bytes};

/// Every MemoryError in the capture's log lines, in file order, with its verdict. Lines of one
/// error (a traceback and the app's own message about it, printed together) are one event.
pub fn events(capture: &Capture) -> Vec<Event> {
    let fallback_bs = capture.figures_block_size();
    let mut out: Vec<Event> = Vec::new();
    for s in &capture.sessions {
        for k in 0..s.logs.len() {
            // The index flagged the lines to read.
            if !s.logs.meta(k).memory_error {
                continue;
            }
            let l = s.logs.get(k);
            let requested = requested_bytes(&l.text);
            // A traceback's `MemoryError: ...` and the app's own message about the same failure,
            // printed together (no dump between): one event, with a size if either gives one.
            // Two messages of the app are two failures.
            if let Some(last) = out.last_mut().filter(|last| last.session == s.index) {
                let prev = s.logs.get(last.log);
                let traceback = |t: &str| t.trim_start().starts_with("MemoryError");
                if prev.after == l.after
                    && l.line <= last.line + 3
                    && (traceback(&prev.text) || traceback(&l.text))
                {
                    if last.requested.is_none() && requested.is_some() {
                        last.requested = requested;
                        *last = judge(capture, last.clone(), fallback_bs);
                    }
                    continue;
                }
            }
            let (before, after) = around(s, &l);
            let e = Event {
                session: s.index,
                log: k,
                line: l.line,
                text: l.text.trim_end().to_string(),
                requested,
                before,
                after,
                judged: None,
                locked: l.text.contains("heap is locked"),
                block_size: fallback_bs as u64,
                figures: None,
                largest_run: None,
                largest_area: None,
                verdict: Verdict::Unexplained,
            };
            out.push(judge(capture, e, fallback_bs));
        }
    }
    out
}

/// (exhausted, fragmented, unexplained) among `events`.
pub fn verdict_counts(events: &[Event]) -> (usize, usize, usize) {
    let n = |v: Verdict| events.iter().filter(|e| e.verdict == v).count();
    (
        n(Verdict::Exhausted),
        n(Verdict::Fragmented),
        n(Verdict::Unexplained),
    )
}

/// The last complete snapshot of the session before the line, and the first after it.
fn around(s: &crate::capture::Session, l: &LogLine) -> (Option<usize>, Option<usize>) {
    let n = s.snapshots.len();
    // A line printed inside a dump came while that dump was being printed: the dump is not
    // "before" it.
    let last_before = match l.after {
        Some(a) if l.in_dump => a.checked_sub(1),
        a => a,
    };
    let complete = |i: &usize| s.snapshots.meta(*i).complete;
    let before = last_before.and_then(|a| (0..=a).rev().find(complete));
    let first_after = l.after.map_or(0, |a| a + 1);
    let after = (first_after..n).find(complete);
    (before, after)
}

/// What one dump says about a request: its block size, figures, longest free run and largest area.
struct Reading {
    block_size: u64,
    figures: Option<Figures>,
    largest_run: Option<u64>,
    largest_area: Option<u64>,
}

fn read(capture: &Capture, session: usize, i: usize, fallback_bs: u32) -> Reading {
    let snap = capture.sessions[session].snapshots.get(i);
    let block_size = snap.block_size().unwrap_or(fallback_bs) as u64;
    let figures = snap.figures(block_size);
    Reading {
        block_size,
        figures,
        largest_area: snap.areas.iter().map(|a| a.blocks.len() as u64).max(),
        // Counted in the table when it has one (within one area: an allocation never spans two).
        largest_run: if snap.areas.is_empty() {
            figures.and_then(|f| f.largest_free)
        } else {
            Some(snap.block_stats().largest_free_bytes)
        },
    }
}

/// Reads the verdict off the dump before the event, or off the dump after it when the one before
/// still counted garbage (it shows less free than asked, the one after enough).
fn judge(capture: &Capture, mut e: Event, fallback_bs: u32) -> Event {
    let read = |i: Option<usize>| i.map(|i| (i, read(capture, e.session, i, fallback_bs)));
    let (before, after) = (read(e.before), read(e.after));
    // The allocator takes whole blocks: a request needs that many of them in one run.
    let need = |r: &Reading| {
        e.requested
            .map(|q| q.div_ceil(r.block_size.max(1)) * r.block_size)
    };
    let enough_free = |r: &Reading| need(r).is_some_and(|n| r.figures.is_some_and(|f| f.free >= n));
    let judged = match (&before, &after) {
        (Some(b), Some(a)) if !e.locked && !enough_free(&b.1) && enough_free(&a.1) => Some(a),
        (Some(b), _) => Some(b),
        (None, a) => a.as_ref(),
    };
    let Some((i, r)) = judged else {
        return e;
    };
    e.judged = Some(*i);
    e.block_size = r.block_size;
    e.figures = r.figures;
    e.largest_run = r.largest_run;
    e.largest_area = r.largest_area;
    e.verdict = match (need(r), r.figures, r.largest_run) {
        _ if e.locked => Verdict::Unexplained,
        (Some(n), Some(f), _) if f.free < n => Verdict::Exhausted,
        (Some(n), Some(_), Some(l)) if l < n => Verdict::Fragmented,
        _ => Verdict::Unexplained,
    };
    e
}

/// An allocation that sits between free runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub kind: BlockKind,
    /// Area pointer, and the head's block index in it.
    pub area: u64,
    pub block: usize,
    /// Blocks, head and tails.
    pub blocks: usize,
    pub bytes: u64,
    /// The free run that freeing it alone would make (bytes).
    pub run_if_freed: u64,
    /// Snapshots it has been seen in, up to the dump before the error (1 = new in that dump).
    pub lived: usize,
    /// The snapshot (index in the session) it was first seen in.
    pub since: usize,
}

impl Pin {
    /// Its address: the area's start plus the head's offset.
    pub fn address(&self, block_size: u64) -> u64 {
        self.area + self.block as u64 * block_size
    }
}

/// The fewest objects whose freeing makes a free run as long as the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub area: u64,
    /// First block of the window and its length (blocks).
    pub block: usize,
    pub blocks: usize,
    /// Objects in it, and their bytes.
    pub objects: usize,
    pub bytes: u64,
}

/// What `memanim why` says about one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub event: Event,
    /// Free runs in the dump before (count), when it has a table.
    pub free_runs: Option<u64>,
    /// Allocations bordering free runs, ranked by the free memory freeing each would join
    /// (most first; ties: the smaller, then the longest-lived).
    pub pins: Vec<Pin>,
    /// How many of the first pins [`Explanation::largest_if_top_freed`] frees (`top`, or fewer
    /// when there are fewer pins).
    pub top_freed: usize,
    /// The longest free run if the first `top_freed` pins were freed (bytes).
    pub largest_if_top_freed: Option<u64>,
    /// The cheapest place to make room for the request, when its size is known.
    pub room: Option<Room>,
    /// Figures of the first dump after the error, when there is one.
    pub after: Option<Figures>,
    /// What else the dumps say, in sentences: a request larger than any heap area, a dump
    /// after the error that tells another story.
    pub notes: Vec<String>,
}

/// How many pinning objects the summary lists and frees, unless asked otherwise.
pub const TOP: usize = 5;

/// Explains one event: decodes the dump its verdict is read from, follows its objects back
/// through the session; `top` pinning objects are freed for [`Explanation::largest_if_top_freed`].
pub fn explain(capture: &Capture, event: &Event, top: usize) -> Explanation {
    let s = &capture.sessions[event.session];
    let after = event
        .after
        .and_then(|i| s.figures(i, event.block_size as u32));
    let mut x = Explanation {
        event: event.clone(),
        free_runs: None,
        pins: Vec::new(),
        top_freed: 0,
        largest_if_top_freed: None,
        room: None,
        after,
        notes: notes(capture, event, after),
    };
    let Some(at) = event.judged_by() else {
        return x;
    };
    // Ages in snapshots: feed the tracker snapshot indices as its clock.
    let mut tracker = AgeTracker::new();
    let mut snap = Snapshot::default();
    let mut ages = Vec::new();
    for (i, sn) in s.snapshots.iter().enumerate().take(at + 1) {
        ages = tracker.observe(event.session, i as i64, &sn);
        snap = sn;
    }
    if snap.areas.is_empty() {
        return x;
    }
    x.free_runs = Some(snap.block_stats().free_runs);
    for area in &snap.areas {
        let area_ages = ages
            .iter()
            .find(|(p, _)| *p == area.ptr)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&[]);
        for (start, len) in allocations(&area.blocks) {
            let left = free_before(&area.blocks, start);
            let right = free_after(&area.blocks, start + len);
            if left + right == 0 {
                continue;
            }
            let age = area_ages.get(start).copied().flatten().unwrap_or(0) as usize;
            x.pins.push(Pin {
                kind: area.blocks[start],
                area: area.ptr,
                block: start,
                blocks: len,
                bytes: len as u64 * area.block_size as u64,
                run_if_freed: (left + len + right) as u64 * area.block_size as u64,
                lived: age + 1,
                since: at - age.min(at),
            });
        }
    }
    // The free memory an object keeps apart ranks it: a one-block str between two long runs
    // matters more than a large buffer between two short ones (whose own bytes would make most
    // of the joined run). Then the smaller, then the longer-lived.
    x.pins.sort_by(|a, b| {
        (b.run_if_freed - b.bytes)
            .cmp(&(a.run_if_freed - a.bytes))
            .then(a.bytes.cmp(&b.bytes))
            .then(b.lived.cmp(&a.lived))
            .then(a.area.cmp(&b.area))
            .then(a.block.cmp(&b.block))
    });
    x.top_freed = x.pins.len().min(top);
    x.largest_if_top_freed = Some(largest_run_without(&snap.areas, &x.pins[..x.top_freed]));
    if let Some(need) = event.blocks_needed() {
        x.room = cheapest_room(&snap.areas, need as usize);
    }
    x
}

/// Sentences on what the verdict alone does not say.
fn notes(capture: &Capture, e: &Event, after: Option<Figures>) -> Vec<String> {
    let b = crate::render::human_bytes;
    let mut out = Vec::new();
    if e.locked {
        out.push(
            "the heap was locked (an allocation in a hard interrupt handler, or under \
             micropython.heap_lock()): no allocation succeeds then, however much is free"
                .to_string(),
        );
        return out;
    }
    if let (Some(need), Some(area)) = (e.blocks_needed(), e.largest_area) {
        if need > area {
            out.push(format!(
                "{} blocks are more than the largest heap area holds ({area} blocks, {}): an \
                 allocation never spans two areas, so this one can never succeed",
                need,
                b(area * e.block_size)
            ));
        }
    }
    // MicroPython collects garbage before it gives up on an allocation, so the dump before the
    // error may count as used what that collection freed.
    let before = e
        .before
        .filter(|&i| Some(i) != e.judged)
        .and_then(|i| capture.sessions[e.session].figures(i, e.block_size as u32));
    if let (Some(f), Some(r)) = (before, e.requested) {
        out.push(format!(
            "the dump before showed only {} free, less than the {} asked, but it still counted \
             garbage: the collection the failed allocation ran freed it, and the dump after \
             shows the heap that allocation met, so the verdict is read from it",
            b(f.free),
            b(r)
        ));
    } else if let (Some(f), Some(a)) = (e.figures, after) {
        if e.judged == e.before && a.free + f.total / 50 < f.free {
            out.push(format!(
                "the dump after shows less free ({}): the app kept allocating",
                b(a.free)
            ));
        }
    }
    out
}

/// (head index, length) of every allocation in an area.
fn allocations(blocks: &[BlockKind]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < blocks.len() {
            if blocks[i].is_head() {
                let start = i;
                i += 1;
                while i < blocks.len() && blocks[i] == BlockKind::Tail {
                    i += 1;
                }
                return Some((start, i - start));
            }
            i += 1;
        }
        None
    })
}

fn free_before(blocks: &[BlockKind], at: usize) -> usize {
    blocks[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == BlockKind::Free)
        .count()
}

fn free_after(blocks: &[BlockKind], at: usize) -> usize {
    blocks[at.min(blocks.len())..]
        .iter()
        .take_while(|&&b| b == BlockKind::Free)
        .count()
}

/// The longest free run (bytes) once the `freed` allocations are free too.
fn largest_run_without(areas: &[HeapArea], freed: &[Pin]) -> u64 {
    areas
        .iter()
        .map(|a| {
            let mut blocks = a.blocks.clone();
            for p in freed.iter().filter(|p| p.area == a.ptr) {
                blocks[p.block..p.block + p.blocks].fill(BlockKind::Free);
            }
            let mut best = 0usize;
            let mut run = 0usize;
            for b in &blocks {
                run = if *b == BlockKind::Free { run + 1 } else { 0 };
                best = best.max(run);
            }
            best as u64 * a.block_size as u64
        })
        .max()
        .unwrap_or(0)
}

/// The window of `need` blocks, in one area, that the fewest objects occupy (ties: the fewest
/// bytes): freeing those objects makes room for the request. None when no area is long enough or
/// every window holds blocks the dump did not print.
fn cheapest_room(areas: &[HeapArea], need: usize) -> Option<Room> {
    let mut best: Option<Room> = None;
    for a in areas {
        let n = a.blocks.len();
        if need == 0 || need > n {
            continue;
        }
        // Prefix counts of heads, used blocks and missing blocks, so each window costs O(1).
        let mut heads = vec![0usize; n + 1];
        let mut used = vec![0usize; n + 1];
        let mut missing = vec![0usize; n + 1];
        for (i, b) in a.blocks.iter().enumerate() {
            heads[i + 1] = heads[i] + usize::from(b.is_head());
            used[i + 1] = used[i] + usize::from(b.is_used());
            missing[i + 1] = missing[i] + usize::from(*b == BlockKind::Missing);
        }
        // The head of the object each block belongs to (a tail's starts before it).
        let mut owner = vec![0usize; n];
        for i in 0..n {
            owner[i] = if a.blocks[i] == BlockKind::Tail && i > 0 {
                owner[i - 1]
            } else {
                i
            };
        }
        for s in 0..=n - need {
            let e = s + need;
            if missing[e] - missing[s] > 0 {
                continue;
            }
            let mut objects = heads[e] - heads[s];
            // Blocks of objects that reach outside the window are freed too.
            let mut extra = 0usize;
            if a.blocks[s] == BlockKind::Tail {
                objects += 1;
                extra += s - owner[s];
            }
            if e < n && a.blocks[e] == BlockKind::Tail && a.blocks[e - 1].is_used() {
                extra += free_after_object(&a.blocks, e);
            }
            let bytes = (used[e] - used[s] + extra) as u64 * a.block_size as u64;
            let better = match &best {
                None => true,
                Some(b) => (objects, bytes) < (b.objects, b.bytes),
            };
            if better {
                best = Some(Room {
                    area: a.ptr,
                    block: s,
                    blocks: need,
                    objects,
                    bytes,
                });
            }
        }
    }
    best
}

/// Tail blocks of the object running on from `at`.
fn free_after_object(blocks: &[BlockKind], at: usize) -> usize {
    blocks[at..]
        .iter()
        .take_while(|&&b| b == BlockKind::Tail)
        .count()
}

/// Where things are on the timeline: each snapshot's time (s) and line, per session.
struct Places {
    times: Vec<Vec<f64>>,
}

impl Places {
    fn new(capture: &Capture) -> Self {
        let mut times: Vec<Vec<f64>> = capture
            .sessions
            .iter()
            .map(|s| vec![0.0; s.snapshots.len()])
            .collect();
        for (r, t) in crate::timeline::snapshot_times(capture, &Default::default()) {
            times[r.session][r.index] = t as f64 / 1000.0;
        }
        Places { times }
    }

    /// The snapshot's line, and its time when the capture gave it one (a pasted dump without
    /// ticks or a terminal's stamp has only its place in the file).
    fn at(&self, capture: &Capture, session: usize, i: usize) -> (u64, Option<f64>) {
        let meta = capture.sessions[session].snapshots.meta(i);
        (meta.line, meta.timed.then(|| self.times[session][i]))
    }

    /// `line 812, +3.150 s`, or `line 812` for a dump without a time.
    fn describe(&self, capture: &Capture, session: usize, i: usize) -> String {
        match self.at(capture, session, i) {
            (line, Some(t)) => format!("line {line}, +{t:.3} s"),
            (line, None) => format!("line {line}"),
        }
    }
}

/// Pins grouped by (kind, blocks), largest groups first: "60 bytearray of 1 block".
fn pin_groups(pins: &[Pin]) -> Vec<(BlockKind, usize, usize)> {
    let mut groups: Vec<(BlockKind, usize, usize)> = Vec::new();
    for p in pins {
        match groups.iter_mut().find(|g| g.0 == p.kind && g.1 == p.blocks) {
            Some(g) => g.2 += 1,
            None => groups.push((p.kind, p.blocks, 1)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.2));
    groups
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The report for people: every event, its verdict, and for a fragmented heap the objects that
/// pin it; `top` pinning objects are listed per event.
pub fn report_text(capture: &Capture, all: &[Explanation], top: usize) -> String {
    use std::fmt::Write as _;
    let b = crate::render::human_bytes;
    let mut o = String::new();
    if all.is_empty() {
        let _ = writeln!(
            o,
            "no MemoryError in {} ({} log lines read)",
            capture.source,
            capture.log_count()
        );
        return o;
    }
    let events: Vec<Event> = all.iter().map(|x| x.event.clone()).collect();
    let (ex, fr, un) = verdict_counts(&events);
    let _ = writeln!(
        o,
        "{} in {}: {ex} exhausted, {fr} fragmented, {un} unexplained",
        plural(all.len(), "MemoryError"),
        capture.source,
    );
    // A leak fills the heap whatever splits it: say so once, with the figure `stats` gives.
    if let Some(leak) = crate::analysis::stats::compute(capture, None)
        .leak
        .filter(|l| l.is_leak())
    {
        let v = leak.verdict();
        let v = v.strip_prefix("LEAK: ").unwrap_or(&v);
        let _ = writeln!(o, "the heap also leaks (memanim stats): {v}");
    }
    let places = Places::new(capture);
    let sessions = capture
        .sessions
        .iter()
        .filter(|s| !s.snapshots.is_empty())
        .count();
    for (n, x) in all.iter().enumerate() {
        let e = &x.event;
        let bs = e.block_size;
        let _ = writeln!(o);
        let when = match (e.before, e.after) {
            (Some(i), _) => format!(
                ", after the dump at {}",
                places.describe(capture, e.session, i)
            ),
            (None, Some(i)) => format!(
                ", before the first dump of its session, at {}",
                places.describe(capture, e.session, i)
            ),
            (None, None) => ", with no complete dump in its session".to_string(),
        };
        let session = if sessions > 1 {
            format!(" in session {}", e.session + 1)
        } else {
            String::new()
        };
        let _ = writeln!(o, "{}. line {}{session}{when}", n + 1, e.line);
        let _ = writeln!(o, "   {}", e.text.trim());
        match (e.requested, e.blocks_needed()) {
            (Some(r), Some(k)) => {
                let _ = writeln!(
                    o,
                    "   asked     {}: {} of {bs} B in one run",
                    b(r),
                    plural(k as usize, "block")
                );
            }
            _ => {
                let _ = writeln!(o, "   asked     the line does not say how many bytes");
            }
        }
        if let Some(f) = e.figures {
            let runs = x.free_runs.map_or(String::new(), |r| {
                format!(" in {}", plural(r as usize, "run"))
            });
            let largest = e.largest_run.map_or("not known".to_string(), |l| {
                format!("{} ({})", b(l), plural((l / bs) as usize, "block"))
            });
            let _ = writeln!(
                o,
                "   free      {} of {}{runs}; the longest free run is {largest}",
                b(f.free),
                b(f.total)
            );
        }
        let verdict = match (e.verdict, e.requested, e.figures, e.largest_run) {
            _ if e.locked => {
                "UNEXPLAINED by the heap: it was locked, so free memory did not matter".to_string()
            }
            (Verdict::Exhausted, Some(r), Some(f), _) => format!(
                "EXHAUSTED: {} free in all, less than the {} asked; the heap is full, not split",
                b(f.free),
                b(r)
            ),
            (Verdict::Fragmented, Some(_), Some(f), Some(l)) => format!(
                "FRAGMENTED: {} free in all, but no run of {}; the longest has {} ({})",
                b(f.free),
                plural(e.blocks_needed().unwrap_or(0) as usize, "free block"),
                plural((l / bs) as usize, "block"),
                b(l)
            ),
            (_, None, _, Some(l)) => format!(
                "UNEXPLAINED: the size was not printed; with a longest free run of {}, any \
                 allocation above that fails",
                b(l)
            ),
            (_, _, None, _) | (_, _, _, None) => {
                "UNEXPLAINED: no dump of this session says how full the heap was".to_string()
            }
            (_, Some(r), Some(_), Some(l)) => format!(
                "UNEXPLAINED: the dump shows a free run of {}, enough for {}; the heap changed \
                 between the dump and the allocation (dump more often to catch it), or the size \
                 printed is not what was allocated",
                b(l),
                b(r)
            ),
        };
        let _ = writeln!(o, "   verdict   {verdict}");
        for note in &x.notes {
            let _ = writeln!(o, "   note      {note}");
        }
        // Without a size the verdict is open, but what splits the free space still matters.
        if (e.verdict == Verdict::Fragmented || e.requested.is_none())
            && !e.locked
            && !x.pins.is_empty()
        {
            let _ = writeln!(
                o,
                "   pinning   {} between free runs; freeing one joins the runs on either side:",
                plural(x.pins.len(), "object")
            );
            let _ = writeln!(
                o,
                "     {:<10} {:>6} {:>9}  {:<20} {:>12}  lived",
                "kind", "blocks", "bytes", "address", "run if freed"
            );
            for p in x.pins.iter().take(top) {
                let _ = writeln!(
                    o,
                    "     {:<10} {:>6} {:>9}  {:<20} {:>12}  {} (since {})",
                    p.kind.name(),
                    p.blocks,
                    b(p.bytes),
                    format!("0x{:x}", p.address(bs)),
                    b(p.run_if_freed),
                    plural(p.lived, "snapshot"),
                    places.describe(capture, e.session, p.since),
                );
            }
            if let Some(l) = x.largest_if_top_freed.filter(|_| x.top_freed > 0) {
                let _ = writeln!(
                    o,
                    "   freeing the first {} would make the longest run {}{}",
                    x.top_freed,
                    b(l),
                    match e.requested {
                        Some(r) if l >= r => format!(", enough for the {} asked", b(r)),
                        Some(r) => format!(", still short of the {} asked", b(r)),
                        None => String::new(),
                    }
                );
            }
            let groups = pin_groups(&x.pins);
            let small_old = x
                .pins
                .iter()
                .filter(|p| p.blocks <= 2 && p.lived * 2 > e.judged_by().unwrap_or(0) + 1)
                .count();
            let _ = writeln!(
                o,
                "   most      {}",
                groups
                    .iter()
                    .take(3)
                    .map(|g| format!("{} x {} of {}", g.2, g.0.name(), plural(g.1, "block")))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if small_old * 2 >= x.pins.len() {
                let _ = writeln!(
                    o,
                    "             {small_old} of the {} are small (1-2 blocks) and have lived more \
                     than half the session:\n             long-lived small objects scattered \
                     through free memory split it",
                    x.pins.len()
                );
            }
        }
        if let (Some(room), Some(r)) = (&x.room, e.requested) {
            let what = if room.objects == 0 {
                "a run long enough is free".to_string()
            } else {
                format!(
                    "freeing {} ({}) there makes room",
                    plural(room.objects, "object"),
                    b(room.bytes)
                )
            };
            if e.verdict == Verdict::Fragmented {
                let _ = writeln!(
                    o,
                    "   room      blocks 0x{:x}..0x{:x}: {what} for the {} asked",
                    room.area + room.block as u64 * bs,
                    room.area + (room.block + room.blocks) as u64 * bs,
                    b(r)
                );
            }
        }
        if let (Some(i), Some(f)) = (e.after, x.after) {
            let _ = writeln!(
                o,
                "   after     the dump at {}: {} free, longest free run {}",
                places.describe(capture, e.session, i),
                b(f.free),
                f.largest_free.map_or("not known".to_string(), b)
            );
        }
    }
    o
}

/// The same for scripts: `{"events": [...]}`.
pub fn report_json(capture: &Capture, all: &[Explanation], top: usize) -> String {
    use serde_json::{json, Value};
    let places = Places::new(capture);
    let dump = |session: usize, i: Option<usize>| -> Value {
        match i {
            Some(i) => {
                let (line, t) = places.at(capture, session, i);
                json!({"line": line, "time_s": t})
            }
            None => Value::Null,
        }
    };
    let events: Vec<Value> = all
        .iter()
        .map(|x| {
            let e = &x.event;
            let bs = e.block_size;
            let pins: Vec<Value> = x
                .pins
                .iter()
                .take(top)
                .map(|p| {
                    json!({
                        "kind": p.kind.name(),
                        "address": format!("0x{:x}", p.address(bs)),
                        "area": format!("0x{:x}", p.area),
                        "offset": p.block as u64 * bs,
                        "blocks": p.blocks,
                        "bytes": p.bytes,
                        "run_if_freed_bytes": p.run_if_freed,
                        "lived_snapshots": p.lived,
                        "allocated": dump(e.session, Some(p.since)),
                    })
                })
                .collect();
            json!({
                "line": e.line,
                "session": e.session + 1,
                "text": e.text,
                "requested_bytes": e.requested,
                "blocks_needed": e.blocks_needed(),
                "block_size": bs,
                "total_bytes": e.figures.map(|f| f.total),
                "free_bytes": e.figures.map(|f| f.free),
                "largest_free_bytes": e.largest_run,
                "free_runs": x.free_runs,
                "verdict": e.verdict.name(),
                "dump_before": dump(e.session, e.before),
                "dump_after": dump(e.session, e.after),
                "judged_by": match e.judged_by() {
                    Some(i) if Some(i) == e.before => "dump_before",
                    Some(_) => "dump_after",
                    None => "none",
                },
                "heap_locked": e.locked,
                "pinning": pins,
                "pinning_total": x.pins.len(),
                "notes": x.notes,
                "top_freed": x.top_freed,
                "largest_free_if_top_freed": x.largest_if_top_freed,
                "room": x.room.as_ref().map(|r| json!({
                    "address": format!("0x{:x}", r.area + r.block as u64 * bs),
                    "blocks": r.blocks,
                    "objects": r.objects,
                    "bytes": r.bytes,
                })),
            })
        })
        .collect();
    let leak = crate::analysis::stats::compute(capture, None)
        .leak
        .filter(|l| l.is_leak())
        .map(|l| l.verdict());
    let mut out = serde_json::to_string_pretty(&json!({
        "source": capture.source,
        "leak": leak,
        "events": events,
    }))
    .unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_where_the_line_gives_bytes() {
        assert_eq!(
            requested_bytes("MemoryError: memory allocation failed, allocating 4096 bytes"),
            Some(4096)
        );
        assert_eq!(
            requested_bytes("W/main: MemoryError: bytearray(70000) with mem_free=139808"),
            Some(70000)
        );
        assert_eq!(
            requested_bytes("W/chunker: MemoryError joining upload 74 (20000 bytes)"),
            Some(20000)
        );
        assert_eq!(
            requested_bytes(
                "E 00014.061 shot: MemoryError for 372000-byte screenshot, free 724640"
            ),
            Some(372000)
        );
        assert_eq!(
            requested_bytes("step 531: MemoryError allocating tuple(2400)"),
            None
        );
        assert_eq!(requested_bytes("MemoryError:"), None);
    }

    #[test]
    fn memory_errors_are_told_from_other_lines() {
        assert!(is_memory_error(
            b"MemoryError: memory allocation failed, allocating 32 bytes"
        ));
        assert!(is_memory_error(b"MemoryError"));
        assert!(is_memory_error(
            b"ota | ERROR| cannot allocate 1100000-byte staging buffer"
        ));
        assert!(!is_memory_error(
            b"E (1234) wifi: cannot allocate 200 bytes"
        ));
        assert!(!is_memory_error(b"cannot allocate a socket"));
        assert!(!is_memory_error(b"INFO:app: free memory 20000 bytes"));
        // Counting errors is not having one.
        assert!(!is_memory_error(b"INFO:health: MemoryErrors since boot: 0"));
        assert!(!is_memory_error(b"no MemoryError today"));
        assert!(!is_memory_error(b"MemoryError count: 0"));
        assert!(!is_memory_error(b"stats: MyMemoryErrorHandler installed"));
        assert!(is_memory_error(b"caught MemoryError, retrying"));
        assert!(is_memory_error(b"[app] out of memory while parsing reply"));
        assert!(!is_memory_error(b"E (812) esp-tls: out of memory"));
    }

    fn area(s: &str) -> HeapArea {
        HeapArea {
            ptr: 0x1000,
            block_size: 16,
            blocks: s.bytes().map(BlockKind::from_char).collect(),
        }
    }

    #[test]
    fn the_cheapest_room_frees_the_fewest_objects() {
        // Four free blocks in a row need no freeing at all.
        let a = area("S=....h.hh....");
        let r = cheapest_room(std::slice::from_ref(&a), 4).unwrap();
        assert_eq!((r.objects, r.block, r.blocks), (0, 2, 4), "{r:?}");
        // Six: one object must go (the 'h' at 6 frees "....h."), not two.
        let r = cheapest_room(&[a], 6).unwrap();
        assert_eq!((r.objects, r.bytes), (1, 16), "{r:?}");
        // Among windows with one object, the one with the fewest bytes in use wins.
        let b = area("h===.h==..");
        let r = cheapest_room(&[b], 5).unwrap();
        assert_eq!((r.objects, r.bytes, r.block), (1, 3 * 16, 4), "{r:?}");
        // A window that starts in an object's tail frees the whole object, head included.
        let c = area("h===...");
        let r = cheapest_room(&[c], 5).unwrap();
        assert_eq!((r.objects, r.bytes), (1, 4 * 16), "{r:?}");
    }

    #[test]
    fn freeing_pins_joins_their_runs() {
        let a = area("..h..S=..L.");
        let pins: Vec<Pin> = allocations(&a.blocks)
            .map(|(start, len)| Pin {
                kind: a.blocks[start],
                area: a.ptr,
                block: start,
                blocks: len,
                bytes: 16 * len as u64,
                run_if_freed: 0,
                lived: 1,
                since: 0,
            })
            .collect();
        assert_eq!(largest_run_without(std::slice::from_ref(&a), &[]), 32);
        assert_eq!(
            largest_run_without(std::slice::from_ref(&a), &pins[..1]),
            5 * 16
        );
        assert_eq!(
            largest_run_without(std::slice::from_ref(&a), &pins),
            11 * 16
        );
    }
}
