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
//! around one event. [`report_text`] and [`report_json`] take the explanations and give the
//! report as text for people or JSON for scripts.

use std::fmt::{Display, Write as _};

use serde::Serialize;

use crate::analysis::allocations;
use crate::capture::{Capture, LogLine, Session};
use crate::heap::age::{AgeTracker, Ages};
use crate::heap::digest::free_runs;
use crate::heap::{BlockKind, Figures, HeapArea, Snapshot};
use crate::render::human_bytes;
use crate::units::count;

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
    /// `exhausted`, `fragmented` or `unexplained`, as the reports print it.
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
    /// The session's index (0-based).
    pub session: usize,
    /// Index of the log line in its session's logs.
    pub log: usize,
    /// 1-based line of the error in the capture.
    pub line: u64,
    /// The line as printed.
    pub text: String,
    /// Bytes asked for, when the line says (`allocating 4096 bytes`, `bytearray(4096)`, ...).
    pub requested: Option<u64>,
    /// The last complete snapshot of the session before the error (index in the session).
    pub before: Option<usize>,
    /// The first complete snapshot of the session after it.
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
    /// What the dump says about the error.
    pub verdict: Verdict,
}

impl Event {
    /// Blocks the request needs.
    pub fn blocks_needed(&self) -> Option<u64> {
        self.requested.map(|r| r.div_ceil(self.block_size.max(1)))
    }

    /// The snapshot (index in its session) the error is marked at on the strip, in frames and in
    /// plots: the last dump before it, else the first after it; None when its session has no
    /// dump.
    pub fn marked_at(&self) -> Option<usize> {
        self.before.or(self.after)
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

/// Which log lines are MemoryErrors, and the bytes one asked for: decided where lines are read.
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

/// How many MemoryErrors got each verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct VerdictCounts {
    /// MemoryErrors with less free memory than was asked for.
    pub exhausted: usize,
    /// MemoryErrors with enough free memory but no free run long enough.
    pub fragmented: usize,
    /// MemoryErrors the dumps do not explain.
    pub unexplained: usize,
}

impl VerdictCounts {
    /// The counts among `events`.
    pub fn of(events: &[Event]) -> Self {
        let n = |v: Verdict| events.iter().filter(|e| e.verdict == v).count();
        VerdictCounts {
            exhausted: n(Verdict::Exhausted),
            fragmented: n(Verdict::Fragmented),
            unexplained: n(Verdict::Unexplained),
        }
    }

    /// The counts among the capture's [`events`].
    pub fn of_capture(capture: &Capture) -> Self {
        Self::of(&events(capture))
    }

    /// Every MemoryError, whatever its verdict.
    pub fn total(&self) -> usize {
        self.exhausted + self.fragmented + self.unexplained
    }
}

/// The last complete snapshot of the session before the line, and the first after it.
fn around(s: &Session, l: &LogLine) -> (Option<usize>, Option<usize>) {
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

/// What snapshot `i` of `session` says ([`Reading`]); `fallback_bs` for a dump without a table.
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
    /// The kind of its head.
    pub kind: BlockKind,
    /// The pointer of its area.
    pub area: u64,
    /// The head's block index in the area.
    pub block: usize,
    /// Blocks, head and tails.
    pub blocks: usize,
    /// Its size: blocks times the block size.
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
    /// The pointer of its area.
    pub area: u64,
    /// First block of the window.
    pub block: usize,
    /// Its length (blocks): the request's.
    pub blocks: usize,
    /// Objects in it (counting any that reach outside it).
    pub objects: usize,
    /// Their bytes: what freeing them releases.
    pub bytes: u64,
}

impl Room {
    /// The address of the window's first block.
    pub fn address(&self, block_size: u64) -> u64 {
        self.area + self.block as u64 * block_size
    }
}

/// What `memanim why` says about one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The MemoryError explained.
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
    let (snap, ages) = aged_snapshot(s, at);
    if snap.areas.is_empty() {
        return x;
    }
    x.free_runs = Some(snap.block_stats().free_runs);
    x.pins = pins(&snap, &ages, at);
    x.top_freed = x.pins.len().min(top);
    x.largest_if_top_freed = Some(largest_run_without(&snap.areas, &x.pins[..x.top_freed]));
    if let Some(need) = event.blocks_needed() {
        x.room = cheapest_room(&snap.areas, need as usize);
    }
    x
}

/// Snapshot `at` of the session, decoded, and the age of each of its blocks in snapshots (the
/// session's snapshots up to it are followed, with their indices as the tracker's clock).
fn aged_snapshot(s: &Session, at: usize) -> (Snapshot, Ages) {
    let mut tracker = AgeTracker::new();
    let mut snap = Snapshot::default();
    let mut ages = Vec::new();
    for (i, sn) in s.snapshots.iter().enumerate().take(at + 1) {
        ages = tracker.observe(s.index, i as i64, &sn);
        snap = sn;
    }
    (snap, ages)
}

/// Every allocation of `snap` that borders a free run, ranked: the free memory an object keeps
/// apart ranks it, since a one-block str between two long runs matters more than a large buffer
/// between two short ones (whose own bytes would make most of the joined run). Then the smaller,
/// then the longer-lived. `at` is the snapshot's index in its session.
fn pins(snap: &Snapshot, ages: &Ages, at: usize) -> Vec<Pin> {
    let mut pins = Vec::new();
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
            pins.push(Pin {
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
    pins.sort_by(|a, b| {
        (b.run_if_freed - b.bytes)
            .cmp(&(a.run_if_freed - a.bytes))
            .then(a.bytes.cmp(&b.bytes))
            .then(b.lived.cmp(&a.lived))
            .then(a.area.cmp(&b.area))
            .then(a.block.cmp(&b.block))
    });
    pins
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

/// Free blocks just before block `at`.
fn free_before(blocks: &[BlockKind], at: usize) -> usize {
    blocks[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == BlockKind::Free)
        .count()
}

/// Free blocks from block `at` on.
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
            let (_, longest) = free_runs(&blocks, BlockKind::Free);
            longest * a.block_size as u64
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
struct Places<'c> {
    times: crate::timeline::Times<'c>,
}

impl<'c> Places<'c> {
    /// Every snapshot's time, from the capture's timeline.
    fn new(capture: &'c Capture) -> Self {
        Places {
            times: crate::timeline::Times::new(capture, &Default::default()),
        }
    }

    /// The snapshot's line, and its time when the capture gave it one (a pasted dump without
    /// ticks or a terminal's stamp has only its place in the file).
    fn at(&self, capture: &Capture, session: usize, i: usize) -> (u64, Option<f64>) {
        let meta = capture.sessions[session].snapshots.meta(i);
        let r = crate::timeline::SnapRef { session, index: i };
        (
            meta.line,
            meta.timed.then(|| self.times.of(r) as f64 / 1000.0),
        )
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

/// The leak `memanim stats` finds, when it calls it one: a leak fills the heap whatever splits
/// it, so the reports say so once.
fn leak(capture: &Capture) -> Option<crate::analysis::stats::Leak> {
    crate::analysis::stats::compute(capture, None)
        .leak
        .filter(|l| l.is_leak())
}

/// The report for people: every event, its verdict, and for a fragmented heap the objects that
/// pin it; `top` pinning objects are listed per event.
pub fn report_text(capture: &Capture, all: &[Explanation], top: usize) -> String {
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
    let c = VerdictCounts::of(&events);
    let _ = writeln!(
        o,
        "{} in {}: {} exhausted, {} fragmented, {} unexplained",
        count(all.len() as u64, "MemoryError", "MemoryErrors"),
        capture.source,
        c.exhausted,
        c.fragmented,
        c.unexplained,
    );
    if let Some(leak) = leak(capture) {
        let v = leak.verdict();
        let v = v.strip_prefix("LEAK: ").unwrap_or(&v);
        let _ = writeln!(o, "the heap also leaks (memanim stats): {v}");
    }
    let report = TextReport {
        capture,
        places: Places::new(capture),
        several_sessions: capture
            .sessions
            .iter()
            .filter(|s| !s.snapshots.is_empty())
            .count()
            > 1,
        top,
    };
    for (n, x) in all.iter().enumerate() {
        let _ = writeln!(o);
        report.event(&mut o, n + 1, x);
    }
    o
}

/// What [`report_text`] writes each event with.
struct TextReport<'a> {
    capture: &'a Capture,
    places: Places<'a>,
    /// More than one session has dumps: each event names its own.
    several_sessions: bool,
    /// Pinning objects listed per event.
    top: usize,
}

impl TextReport<'_> {
    /// Event number `n` (from 1), one labelled line per thing known about it.
    fn event(&self, o: &mut String, n: usize, x: &Explanation) {
        let e = &x.event;
        self.heading(o, n, e);
        asked_line(o, e);
        free_line(o, x);
        let _ = writeln!(o, "   verdict   {}", verdict_text(e));
        for note in &x.notes {
            let _ = writeln!(o, "   note      {note}");
        }
        // Without a size the verdict is open, but what splits the free space still matters.
        if (e.verdict == Verdict::Fragmented || e.requested.is_none())
            && !e.locked
            && !x.pins.is_empty()
        {
            self.pinning(o, x);
        }
        room_line(o, x);
        if let (Some(i), Some(f)) = (e.after, x.after) {
            let _ = writeln!(
                o,
                "   after     the dump at {}: {} free, longest free run {}",
                self.describe(e, i),
                human_bytes(f.free),
                f.largest_free.map_or("not known".to_string(), human_bytes)
            );
        }
    }

    /// Snapshot `i` of the event's session: `line 812, +3.150 s`.
    fn describe(&self, e: &Event, i: usize) -> String {
        self.places.describe(self.capture, e.session, i)
    }

    /// `2. line 1279 in session 2, after the dump at line 1244, +3.239 s`, then the line itself.
    fn heading(&self, o: &mut String, n: usize, e: &Event) {
        let when = match (e.before, e.after) {
            (Some(i), _) => format!(", after the dump at {}", self.describe(e, i)),
            (None, Some(i)) => format!(
                ", before the first dump of its session, at {}",
                self.describe(e, i)
            ),
            (None, None) => ", with no complete dump in its session".to_string(),
        };
        let session = if self.several_sessions {
            format!(" in session {}", e.session + 1)
        } else {
            String::new()
        };
        let _ = writeln!(o, "{n}. line {}{session}{when}", e.line);
        let _ = writeln!(o, "   {}", e.text.trim());
    }

    /// The objects between free runs: the first `top` as a table, what freeing them gives, and
    /// the kinds and sizes most of them have.
    fn pinning(&self, o: &mut String, x: &Explanation) {
        let e = &x.event;
        let _ = writeln!(
            o,
            "   pinning   {} between free runs; freeing one joins the runs on either side:",
            count(x.pins.len() as u64, "object", "objects")
        );
        pin_line(
            o,
            [
                &"kind",
                &"blocks",
                &"bytes",
                &"address",
                &"run if freed",
                &"lived",
            ],
        );
        for p in x.pins.iter().take(self.top) {
            let lived = format!(
                "{} (since {})",
                count(p.lived as u64, "snapshot", "snapshots"),
                self.describe(e, p.since)
            );
            pin_line(
                o,
                [
                    &p.kind.name(),
                    &p.blocks,
                    &human_bytes(p.bytes),
                    &format!("0x{:x}", p.address(e.block_size)),
                    &human_bytes(p.run_if_freed),
                    &lived,
                ],
            );
        }
        if let Some(l) = x.largest_if_top_freed.filter(|_| x.top_freed > 0) {
            let _ = writeln!(
                o,
                "   freeing the first {} would make the longest run {}{}",
                x.top_freed,
                human_bytes(l),
                match e.requested {
                    Some(r) if l >= r => format!(", enough for the {} asked", human_bytes(r)),
                    Some(r) => format!(", still short of the {} asked", human_bytes(r)),
                    None => String::new(),
                }
            );
        }
        pin_kinds(o, x);
    }
}

/// One line of the pinning table: kind, blocks, bytes, address, run if freed, lived.
fn pin_line(o: &mut String, [kind, blocks, bytes, address, run, lived]: [&dyn Display; 6]) {
    let _ = writeln!(
        o,
        "     {kind:<10} {blocks:>6} {bytes:>9}  {address:<20} {run:>12}  {lived}"
    );
}

/// `asked     4096 B: 256 blocks of 16 B in one run`.
fn asked_line(o: &mut String, e: &Event) {
    match (e.requested, e.blocks_needed()) {
        (Some(r), Some(k)) => {
            let _ = writeln!(
                o,
                "   asked     {}: {} of {} B in one run",
                human_bytes(r),
                count(k, "block", "blocks"),
                e.block_size
            );
        }
        _ => {
            let _ = writeln!(o, "   asked     the line does not say how many bytes");
        }
    }
}

/// `free      20.5 KiB of 48.0 KiB in 7 runs; the longest free run is ...`, when the dump says.
fn free_line(o: &mut String, x: &Explanation) {
    let e = &x.event;
    if let Some(f) = e.figures {
        let runs = x.free_runs.map_or(String::new(), |r| {
            format!(" in {}", count(r, "run", "runs"))
        });
        let largest = e.largest_run.map_or("not known".to_string(), |l| {
            format!(
                "{} ({})",
                human_bytes(l),
                count(l / e.block_size, "block", "blocks")
            )
        });
        let _ = writeln!(
            o,
            "   free      {} of {}{runs}; the longest free run is {largest}",
            human_bytes(f.free),
            human_bytes(f.total)
        );
    }
}

/// The verdict in words: what the figures say, and what they leave open.
fn verdict_text(e: &Event) -> String {
    let b = human_bytes;
    let blocks = |n: u64| count(n, "block", "blocks");
    match (e.verdict, e.requested, e.figures, e.largest_run) {
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
            count(e.blocks_needed().unwrap_or(0), "free block", "free blocks"),
            blocks(l / e.block_size),
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
    }
}

/// `most      60 x bytearray of 1 block, ...`, and whether long-lived small objects are most
/// of the pins (the usual cause of a fragmented heap).
fn pin_kinds(o: &mut String, x: &Explanation) {
    let groups = pin_groups(&x.pins);
    let _ = writeln!(
        o,
        "   most      {}",
        groups
            .iter()
            .take(3)
            .map(|g| format!(
                "{} x {} of {}",
                g.2,
                g.0.name(),
                count(g.1 as u64, "block", "blocks")
            ))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let judged = x.event.judged_by().unwrap_or(0);
    let small_old = x
        .pins
        .iter()
        .filter(|p| p.blocks <= 2 && p.lived * 2 > judged + 1)
        .count();
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

/// `room      blocks 0x..0x..: ...`: for a fragmented heap, the cheapest place to make room.
fn room_line(o: &mut String, x: &Explanation) {
    let e = &x.event;
    let (Some(room), Some(r)) = (&x.room, e.requested) else {
        return;
    };
    if e.verdict != Verdict::Fragmented {
        return;
    }
    let what = if room.objects == 0 {
        "a run long enough is free".to_string()
    } else {
        format!(
            "freeing {} ({}) there makes room",
            count(room.objects as u64, "object", "objects"),
            human_bytes(room.bytes)
        )
    };
    let _ = writeln!(
        o,
        "   room      blocks 0x{:x}..0x{:x}: {what} for the {} asked",
        room.address(e.block_size),
        room.area + (room.block + room.blocks) as u64 * e.block_size,
        human_bytes(r)
    );
}

/// The same for scripts: `{"events": [...], "leak": ..., "source": ...}`, pretty-printed.
pub fn report_json(capture: &Capture, all: &[Explanation], top: usize) -> String {
    let places = Places::new(capture);
    let report = json::Report {
        events: all
            .iter()
            .map(|x| json::EventJson::new(capture, &places, x, top))
            .collect(),
        leak: leak(capture).map(|l| l.verdict()),
        source: &capture.source,
    };
    let mut out = serde_json::to_string_pretty(&report).expect("the report serialises");
    out.push('\n');
    out
}

/// The shape of `why --json`. Keys are in alphabetical order: the order the output has always
/// had.
mod json {
    use serde::Serialize;

    use super::{Capture, Event, Explanation, Pin, Places, Room};

    /// The whole report.
    #[derive(Serialize)]
    pub(super) struct Report<'a> {
        pub events: Vec<EventJson<'a>>,
        /// The verdict of `memanim stats`, when it calls the heap leaking.
        pub leak: Option<String>,
        pub source: &'a str,
    }

    /// A snapshot: its line, and its time (s) when the dump had one.
    #[derive(Serialize)]
    struct Dump {
        line: u64,
        time_s: Option<f64>,
    }

    /// One MemoryError and its explanation, its session numbered from 1.
    #[derive(Serialize)]
    pub(super) struct EventJson<'a> {
        block_size: u64,
        blocks_needed: Option<u64>,
        dump_after: Option<Dump>,
        dump_before: Option<Dump>,
        free_bytes: Option<u64>,
        free_runs: Option<u64>,
        heap_locked: bool,
        /// `dump_before`, `dump_after` or `none`.
        judged_by: &'static str,
        largest_free_bytes: Option<u64>,
        largest_free_if_top_freed: Option<u64>,
        line: u64,
        notes: &'a [String],
        pinning: Vec<PinJson>,
        pinning_total: usize,
        requested_bytes: Option<u64>,
        room: Option<RoomJson>,
        /// From 1.
        session: usize,
        text: &'a str,
        top_freed: usize,
        total_bytes: Option<u64>,
        verdict: &'static str,
    }

    impl<'a> EventJson<'a> {
        /// Event `x`, with its first `top` pinning objects.
        pub(super) fn new(
            capture: &Capture,
            places: &Places<'_>,
            x: &'a Explanation,
            top: usize,
        ) -> Self {
            let e = &x.event;
            let dump = |i: Option<usize>| i.map(|i| dump(capture, places, e, i));
            EventJson {
                block_size: e.block_size,
                blocks_needed: e.blocks_needed(),
                dump_after: dump(e.after),
                dump_before: dump(e.before),
                free_bytes: e.figures.map(|f| f.free),
                free_runs: x.free_runs,
                heap_locked: e.locked,
                judged_by: match e.judged_by() {
                    Some(i) if Some(i) == e.before => "dump_before",
                    Some(_) => "dump_after",
                    None => "none",
                },
                largest_free_bytes: e.largest_run,
                largest_free_if_top_freed: x.largest_if_top_freed,
                line: e.line,
                notes: &x.notes,
                pinning: x
                    .pins
                    .iter()
                    .take(top)
                    .map(|p| PinJson::new(p, e.block_size, self::dump(capture, places, e, p.since)))
                    .collect(),
                pinning_total: x.pins.len(),
                requested_bytes: e.requested,
                room: x.room.as_ref().map(|r| RoomJson::new(r, e.block_size)),
                session: e.session + 1,
                text: &e.text,
                top_freed: x.top_freed,
                total_bytes: e.figures.map(|f| f.total),
                verdict: e.verdict.name(),
            }
        }
    }

    /// Snapshot `i` of the event's session.
    fn dump(capture: &Capture, places: &Places, e: &Event, i: usize) -> Dump {
        let (line, time_s) = places.at(capture, e.session, i);
        Dump { line, time_s }
    }

    /// One pinning object.
    #[derive(Serialize)]
    struct PinJson {
        /// Hex, `0x`-prefixed.
        address: String,
        /// The snapshot it was first seen in.
        allocated: Dump,
        area: String,
        blocks: usize,
        bytes: u64,
        kind: &'static str,
        lived_snapshots: usize,
        /// Bytes from the area's start.
        offset: u64,
        run_if_freed_bytes: u64,
    }

    impl PinJson {
        /// `p` in a heap of `block_size`-byte blocks, first seen in `allocated`.
        fn new(p: &Pin, block_size: u64, allocated: Dump) -> Self {
            PinJson {
                address: format!("0x{:x}", p.address(block_size)),
                allocated,
                area: format!("0x{:x}", p.area),
                blocks: p.blocks,
                bytes: p.bytes,
                kind: p.kind.name(),
                lived_snapshots: p.lived,
                offset: p.block as u64 * block_size,
                run_if_freed_bytes: p.run_if_freed,
            }
        }
    }

    /// The cheapest room for the request.
    #[derive(Serialize)]
    struct RoomJson {
        address: String,
        blocks: usize,
        bytes: u64,
        objects: usize,
    }

    impl RoomJson {
        /// `r` in a heap of `block_size`-byte blocks.
        fn new(r: &Room, block_size: u64) -> Self {
            RoomJson {
                address: format!("0x{:x}", r.address(block_size)),
                blocks: r.blocks,
                bytes: r.bytes,
                objects: r.objects,
            }
        }
    }
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
