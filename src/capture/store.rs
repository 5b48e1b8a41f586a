//! The index of a capture's dumps: where each one is in the capture, and its figures. Never its
//! blocks.
//!
//! A week of dumps of a busy heap is gigabytes of text and tens of thousands of blocks per dump;
//! keeping the blocks, even delta-encoded, made memory grow with the capture. So the parser keeps
//! a record of each dump: its byte range and line, its time, the figures the one rule of
//! [`Snapshot::figures`] gives, a hash of its blocks (to tell two dumps apart without reading
//! them), and which areas it has; records are delta-packed (`records.rs`), about 18 bytes a
//! dump. A frame, a `diff` or `memanim why` reads the dumps it shows
//! again from the capture ([`Snapshots::get`]), through the same parser.

use std::collections::HashMap;
use std::sync::Arc;

mod records;

use records::{Record, Records};

use super::source::Source;
use super::{LineBytes, ParseOptions};
use crate::heap::digest::{self, AreaDigest, FREE_CHAR};
use crate::heap::layout::FinishedArea;
use crate::heap::{
    BlockKind, Counted, FigureParts, Figures, GcSummary, HeapArea, LargestFree, Snapshot,
};

const SET_MASK: u32 = (1 << 19) - 1;
const COMPLETE: u32 = 1 << 19;
const TIMED: u32 = 1 << 20;
const HAS_GC: u32 = 1 << 21;
const HAS_MEM: u32 = 1 << 22;
const HAS_STACK: u32 = 1 << 23;
const HAS_SPLIT: u32 = 1 << 24;
const MAX_FREE: u32 = 1 << 25;
const LARGEST: u32 = 1 << 26;
const FIGURES: u32 = 1 << 27;
const PREFIX: u32 = 1 << 28;
const OWN_WALL: u32 = 1 << 29;

/// The areas a dump has: (pointer, blocks, block size) of each, in the dump's order.
pub type AreaSet = Vec<(u64, u32, u32)>;

/// What the index says of a snapshot besides its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotFlags {
    pub has_mem: bool,
    pub has_stack: bool,
    /// Its GC line has `max new split` (ESP32 since v1.21).
    pub has_split: bool,
}

/// Reads a dump again from the capture, through the parser: what [`Snapshots::get`] returns.
#[derive(Debug)]
pub struct Decoder {
    source: Source,
    options: ParseOptions,
    /// The prefix the parser learned from a marker (`COM3| @@@ ...`), if it learned one: the
    /// dumps after it had it stripped.
    prefix: Option<Vec<u8>>,
}

impl Decoder {
    pub fn new(source: Source, options: ParseOptions, prefix: Option<Vec<u8>>) -> Self {
        Decoder {
            source,
            options,
            prefix,
        }
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The dump `r` as the parser reads it from its lines alone, with the block size it had
    /// when the capture was parsed. None when the capture cannot be read there any more.
    fn dump(&self, r: &Record, block_size: u32) -> Option<Snapshot> {
        let mut bytes = Vec::new();
        self.source
            .read(r.offset, r.len as usize, &mut bytes)
            .ok()?;
        let prefix = self.prefix.clone().filter(|_| r.set_flags & PREFIX != 0);
        let mut parser = super::Parser::decoding(self.options.clone(), prefix, block_size);
        let mut n = r.line as u64;
        super::for_each_line(&bytes[..], |_, line: LineBytes<'_>| {
            parser.feed(n, line);
            n += 1;
        })
        .ok()?;
        parser.finish_decoding()
    }
}

/// The snapshots of one session, in order: their records, and the decoder that reads them back.
#[derive(Debug, Clone, Default)]
pub struct Snapshots {
    records: Records,
    sets: Vec<AreaSet>,
    set_ids: HashMap<AreaSet, u32>,
    /// Wall clocks of snapshots that carry their own (a terminal's dated stamp), by index.
    walls: Vec<(u32, i64)>,
    /// The session's sync line as wall clock minus session time: the other snapshots' clock.
    sync_wall: Option<i64>,
    decoder: Option<Arc<Decoder>>,
}

impl PartialEq for Snapshots {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records && self.sets == other.sets && self.walls == other.walls
    }
}

/// The hash the index keeps of decoded blocks ([`digest::blocks_hash`]).
fn blocks_hash(areas: &[HeapArea]) -> u32 {
    let digests: Vec<(u64, AreaDigest)> = areas
        .iter()
        .map(|a| (a.ptr, AreaDigest::of_blocks(&a.blocks)))
        .collect();
    digest::blocks_hash(digests.iter().map(|(p, d)| (*p, d)))
}

/// What the index keeps of a finished dump, worked out from its areas' digests without
/// decoding its blocks, on whichever thread finished it: its record (all but the area set's
/// id, which [`Snapshots::fill`] gives) and its area set.
#[derive(Debug)]
pub(crate) struct Entry {
    rec: Record,
    set: SetBuf,
}

/// An area set made on a pool thread: one or two areas (nearly every capture) without an
/// allocation, which the parser's thread would have to free.
#[derive(Debug)]
enum SetBuf {
    Inline([(u64, u32, u32); 2], usize),
    Heap(AreaSet),
}

impl SetBuf {
    fn as_slice(&self) -> &[(u64, u32, u32)] {
        match self {
            SetBuf::Inline(a, n) => &a[..*n],
            SetBuf::Heap(v) => v,
        }
    }

    /// The area set of `areas`: (pointer, blocks, block size) of each.
    fn of(areas: &[FinishedArea]) -> SetBuf {
        let sizes = areas
            .iter()
            .map(|a| (a.ptr, a.chars.len() as u32, a.block_size));
        if areas.len() <= 2 {
            let mut inline = [(0, 0, 0); 2];
            for (slot, size) in inline.iter_mut().zip(sizes) {
                *slot = size;
            }
            SetBuf::Inline(inline, areas.len())
        } else {
            SetBuf::Heap(sizes.collect())
        }
    }
}

impl Entry {
    /// `snap` is the dump without its blocks, `areas` its finished areas; its lines are `len`
    /// bytes at `offset`. `prefixed`: the learned prefix was stripped from its lines.
    /// `own_wall`: it has a wall clock of its own (a terminal's dated stamp).
    pub(crate) fn new(
        snap: &Snapshot,
        areas: &[FinishedArea],
        offset: u64,
        len: u64,
        prefixed: bool,
        own_wall: bool,
    ) -> Entry {
        let flag = |cond: bool, f: u32| if cond { f } else { 0 };
        let mut rec = Record {
            offset,
            len: sat32(len),
            line: sat32(snap.line),
            time_ms: sat32(snap.time_ms.max(0) as u64),
            ticks: snap.ticks as u32,
            hash: digest::blocks_hash(areas.iter().map(|a| (a.ptr, &a.digest))),
            set_flags: flag(snap.complete, COMPLETE)
                | flag(snap.timed, TIMED)
                | flag(snap.gc.is_some(), HAS_GC)
                | flag(snap.mem.is_some(), HAS_MEM)
                | flag(snap.stack.is_some(), HAS_STACK)
                | flag(
                    snap.gc.is_some_and(|g| g.max_new_split.is_some()),
                    HAS_SPLIT,
                )
                | flag(prefixed, PREFIX)
                | flag(own_wall, OWN_WALL),
            ..Record::default()
        };
        // The parts of Snapshot::figures's rule: the largest free block as `max free sz` is
        // kept in blocks, turned into bytes when the block size is read.
        let whole = snap.complete && !areas.is_empty();
        if let Some(p) = FigureParts::of(snap.gc, || whole.then(|| counted(areas))) {
            (rec.total, rec.used, rec.free) = (sat32(p.total), sat32(p.used), sat32(p.free));
            rec.set_flags |= FIGURES;
            match p.largest_free {
                Some(LargestFree::Blocks(n)) => {
                    rec.largest = sat32(n);
                    rec.set_flags |= MAX_FREE;
                }
                Some(LargestFree::Bytes(b)) => {
                    rec.largest = sat32(b);
                    rec.set_flags |= LARGEST;
                }
                None => {}
            }
        }
        Entry {
            rec,
            set: SetBuf::of(areas),
        }
    }
}

/// What the finished areas' blocks say, as [`Snapshot::block_stats`] gives for the decoded blocks.
fn counted(areas: &[FinishedArea]) -> Counted {
    let mut c = Counted {
        used: 0,
        free: 0,
        largest_free: 0,
    };
    for a in areas {
        let bs = a.block_size as u64;
        c.used += a.digest.used() * bs;
        c.free += a.digest.free * bs;
        let (_, longest) = digest::free_runs(&a.chars, FREE_CHAR);
        c.largest_free = c.largest_free.max(longest * bs);
    }
    c
}

fn sat32(v: u64) -> u32 {
    v.min(u32::MAX as u64) as u32
}

impl Snapshots {
    pub(crate) fn attach(&mut self, decoder: &Arc<Decoder>) {
        self.decoder = Some(decoder.clone());
    }

    /// Ties the session's snapshots to the wall clock: wall = session time + `offset` (ms).
    pub(crate) fn set_sync(&mut self, offset: i64) {
        self.sync_wall = Some(offset);
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the next place for a dump being finished, with what the parser reads back while
    /// it is (its session time); [`Self::fill`] completes it. `own_wall`: the wall clock of its
    /// own stamp (a terminal's dated prefix), if it had one.
    pub(crate) fn reserve(&mut self, time_ms: i64, own_wall: Option<i64>) -> usize {
        let i = self.records.reserve(Record {
            time_ms: sat32(time_ms.max(0) as u64),
            ..Record::default()
        });
        if let Some(w) = own_wall {
            self.walls.push((i as u32, w));
        }
        i
    }

    /// Completes place `i` ([`Self::reserve`]). Places are filled in order, so area sets are
    /// numbered as they first appear.
    pub(crate) fn fill(&mut self, i: usize, e: Entry) {
        let next = self.sets.len() as u32;
        let set = e.set.as_slice();
        let id = match self.sets.last() {
            // Most dumps have the areas of the one before: no hashing for them.
            Some(last) if last[..] == *set => next - 1,
            _ => match self.set_ids.get(set) {
                Some(&id) => id,
                None => {
                    self.set_ids.insert(set.to_vec(), next);
                    self.sets.push(set.to_vec());
                    next
                }
            },
        };
        let mut rec = e.rec;
        rec.set_flags |= id.min(SET_MASK);
        self.records.fill(i, rec);
    }

    /// The session time of the last snapshot (ms), if any.
    pub fn last_time(&self) -> Option<i64> {
        self.len().checked_sub(1).map(|i| self.time_ms(i))
    }

    /// The session time of snapshot `i` (ms).
    pub fn time_ms(&self, i: usize) -> i64 {
        self.records.get(i).time_ms as i64
    }

    /// Snapshot `i` as the index knows it: no blocks (`areas` is empty), no `mem:`/`stack:`
    /// values (see [`Self::flags`]), and of the GC line only total, used, free and `max free
    /// sz`; `ticks` holds the low 32 bits. [`Self::get`] reads the whole dump.
    pub fn meta(&self, i: usize) -> Snapshot {
        let r = self.records.get(i);
        let has = |f: u32| r.set_flags & f != 0;
        Snapshot {
            line: r.line as u64,
            ticks: r.ticks as u64,
            time_ms: r.time_ms as i64,
            timed: has(TIMED),
            wall_ms: if has(OWN_WALL) {
                self.walls
                    .binary_search_by_key(&(i as u32), |w| w.0)
                    .ok()
                    .map(|k| self.walls[k].1)
            } else {
                self.sync_wall.map(|o| o + r.time_ms as i64)
            },
            mem: None,
            stack: None,
            gc: has(HAS_GC).then(|| GcSummary {
                total: r.total as u64,
                used: r.used as u64,
                free: r.free as u64,
                max_free: has(MAX_FREE).then_some(r.largest as u64),
                ..GcSummary::default()
            }),
            areas: Vec::new(),
            complete: has(COMPLETE),
        }
    }

    /// What the index knows of snapshot `i`'s summary lines.
    pub fn flags(&self, i: usize) -> SnapshotFlags {
        let f = self.records.get(i).set_flags;
        SnapshotFlags {
            has_mem: f & HAS_MEM != 0,
            has_stack: f & HAS_STACK != 0,
            has_split: f & HAS_SPLIT != 0,
        }
    }

    /// The figures of snapshot `i`, as [`Snapshot::figures`] gives them for the whole dump
    /// (the index keeps the parts that rule takes), without reading it. `block_size` turns
    /// `max free sz` into bytes for a dump printed without a table.
    pub fn figures(&self, i: usize, block_size: u32) -> Option<Figures> {
        let r = self.records.get(i);
        if r.set_flags & FIGURES == 0 {
            return None;
        }
        let bs = self.sets[(r.set_flags & SET_MASK) as usize]
            .first()
            .map_or(block_size, |a| a.2) as u64;
        let largest_free = if r.set_flags & MAX_FREE != 0 {
            Some(LargestFree::Blocks(r.largest as u64))
        } else if r.set_flags & LARGEST != 0 {
            Some(LargestFree::Bytes(r.largest as u64))
        } else {
            None
        };
        let parts = FigureParts {
            total: r.total as u64,
            used: r.used as u64,
            free: r.free as u64,
            largest_free,
        };
        Some(parts.figures(bs))
    }

    /// (pointer, block count, block size) of each area of snapshot `i`, without reading it.
    pub fn area_sizes(&self, i: usize) -> impl Iterator<Item = (u64, usize, u32)> + '_ {
        self.sets[(self.records.get(i).set_flags & SET_MASK) as usize]
            .iter()
            .map(|&(p, n, bs)| (p, n as usize, bs))
    }

    /// Snapshot `i` with its blocks, read again from the capture. Should the capture have
    /// changed under it, its blocks are all "no data" rather than wrong ones.
    pub fn get(&self, i: usize) -> Snapshot {
        let r = self.records.get(i);
        let set = &self.sets[(r.set_flags & SET_MASK) as usize];
        let mut s = self.meta(i);
        let bs = set.first().map_or(16, |a| a.2);
        let dump = self.decoder.as_ref().and_then(|d| d.dump(&r, bs));
        // The summary lines as printed (the index keeps only part of them); time, line and
        // clock stay the index's, which the whole capture decided.
        if let Some(d) = &dump {
            s.ticks = d.ticks;
            s.mem = d.mem;
            s.stack = d.stack;
            s.gc = d.gc;
        }
        let decoded = dump.map(|d| d.areas);
        // The index's sizes rule: an area is as long as it was when the capture was parsed.
        s.areas = set
            .iter()
            .enumerate()
            .map(|(k, &(ptr, n, block_size))| {
                let mut blocks = decoded
                    .as_ref()
                    .and_then(|d| d.get(k))
                    .filter(|a| a.ptr == ptr)
                    .map(|a| a.blocks.clone())
                    .unwrap_or_default();
                blocks.resize(n as usize, BlockKind::Missing);
                HeapArea {
                    ptr,
                    block_size,
                    blocks,
                }
            })
            .collect();
        if let Some(d) = decoded.as_ref() {
            if blocks_hash(&s.areas) != r.hash && blocks_hash(d) != r.hash {
                s.areas
                    .iter_mut()
                    .for_each(|a| a.blocks.fill(BlockKind::Missing));
            }
        }
        s
    }

    pub fn last(&self) -> Option<Snapshot> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Every snapshot in order, each read again from the capture.
    pub fn iter(&self) -> impl Iterator<Item = Snapshot> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Every snapshot read, in a Vec (for tests and small captures).
    pub fn to_vec(&self) -> Vec<Snapshot> {
        self.iter().collect()
    }

    /// True when snapshots `i` and `j` hold the same blocks in the same areas (by their hashes).
    pub fn same_blocks(&self, i: usize, j: usize) -> bool {
        let (a, b) = (self.records.get(i), self.records.get(j));
        a.hash == b.hash && a.set_flags & SET_MASK == b.set_flags & SET_MASK
    }
}

/// What the index keeps of one log line (24 bytes): its text's place, line and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LogRec {
    /// Byte range of its text (the line, or the part of it that is the log line's).
    offset: u64,
    len: u32,
    line: u32,
    /// The last snapshot of the session that began before it; [`NO_SNAPSHOT`] before the first.
    after: u32,
    flags: u32,
}

const NO_SNAPSHOT: u32 = u32::MAX;
const IN_DUMP: u32 = 1;
const HAS_TIME: u32 = 2;
const MEMORY_ERROR: u32 = 4;

/// A log line's place and time, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogMeta {
    pub line: u64,
    /// Index (within the session) of the last snapshot that began before this line; None before the first.
    pub after: Option<usize>,
    /// The line's own time in session ms, from a `@@@ <ticks> |` stamp or a logging asctime; None
    /// when it has none (it then sits between the dumps around it).
    pub time_ms: Option<i64>,
    /// True when the line was printed in the middle of a dump (another writer on the same UART).
    pub in_dump: bool,
    /// True when it reports a failed allocation ([`super::line::is_memory_error`]).
    pub memory_error: bool,
}

/// The log lines of one session, in order: their places; the text is read when asked for.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    recs: Vec<LogRec>,
    /// Times of the lines that have one, by index (sorted).
    times: Vec<(u32, i64)>,
    decoder: Option<Arc<Decoder>>,
}

impl PartialEq for Logs {
    fn eq(&self, other: &Self) -> bool {
        self.recs == other.recs && self.times == other.times
    }
}

impl Logs {
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    pub(crate) fn push(&mut self, l: &LogMeta, offset: u64, len: usize) {
        let mut flags = 0;
        if l.in_dump {
            flags |= IN_DUMP;
        }
        if l.memory_error {
            flags |= MEMORY_ERROR;
        }
        if let Some(t) = l.time_ms {
            flags |= HAS_TIME;
            self.times.push((self.recs.len() as u32, t));
        }
        self.recs.push(LogRec {
            offset,
            len: sat32(len as u64),
            line: sat32(l.line),
            after: l.after.map_or(NO_SNAPSHOT, |a| sat32(a as u64)),
            flags,
        });
    }

    /// Gives line `j` its time (an asctime line whose session's sync line came later).
    pub(crate) fn set_time(&mut self, j: usize, t: i64) {
        self.recs[j].flags |= HAS_TIME;
        match self.times.binary_search_by_key(&(j as u32), |x| x.0) {
            Ok(k) => self.times[k].1 = t,
            Err(k) => self.times.insert(k, (j as u32, t)),
        }
    }

    /// Lines that point past the last snapshot (their dump was dropped) point at it instead.
    pub(crate) fn clamp_after(&mut self, snapshots: usize) {
        for r in &mut self.recs {
            if r.after != NO_SNAPSHOT && r.after as usize >= snapshots {
                r.after = snapshots.checked_sub(1).map_or(NO_SNAPSHOT, |a| a as u32);
            }
        }
    }

    /// Moves `other`'s lines after these (a session with no snapshot gives its lines to the next).
    pub(crate) fn append(&mut self, other: Logs) {
        let base = self.recs.len() as u32;
        self.times
            .extend(other.times.into_iter().map(|(j, t)| (j + base, t)));
        self.recs.extend(other.recs);
    }

    pub(crate) fn attach(&mut self, decoder: &Arc<Decoder>) {
        self.decoder = Some(decoder.clone());
    }

    /// Line `j` without its text.
    pub fn meta(&self, j: usize) -> LogMeta {
        let r = &self.recs[j];
        LogMeta {
            line: r.line as u64,
            after: (r.after != NO_SNAPSHOT).then_some(r.after as usize),
            time_ms: (r.flags & HAS_TIME != 0)
                .then(|| {
                    self.times
                        .binary_search_by_key(&(j as u32), |x| x.0)
                        .ok()
                        .map(|k| self.times[k].1)
                })
                .flatten(),
            in_dump: r.flags & IN_DUMP != 0,
            memory_error: r.flags & MEMORY_ERROR != 0,
        }
    }

    /// The text of line `j`, read from the capture (invalid UTF-8 replaced, line end removed).
    pub fn text(&self, j: usize) -> String {
        let r = &self.recs[j];
        let mut bytes = Vec::new();
        match &self.decoder {
            Some(d) if d.source.read(r.offset, r.len as usize, &mut bytes).is_ok() => {
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => String::new(),
        }
    }

    /// Line `j` with its text.
    pub fn get(&self, j: usize) -> LogLine {
        let m = self.meta(j);
        LogLine {
            line: m.line,
            text: self.text(j),
            after: m.after,
            time_ms: m.time_ms,
            in_dump: m.in_dump,
        }
    }

    /// The last line, with its text.
    pub fn last(&self) -> Option<LogLine> {
        self.len().checked_sub(1).map(|j| self.get(j))
    }

    /// Every line with its text, in order.
    pub fn iter(&self) -> impl Iterator<Item = LogLine> + '_ {
        (0..self.len()).map(move |j| self.get(j))
    }
}

/// A line that is not part of a dump, with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub line: u64,
    /// The text, with invalid UTF-8 replaced and line endings removed.
    pub text: String,
    /// Index (within the session) of the last snapshot that began before this line; None before the first.
    pub after: Option<usize>,
    /// The line's own time in session ms; None when it has none.
    pub time_ms: Option<i64>,
    /// True when the line was printed in the middle of a dump.
    pub in_dump: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{parse, ParseOptions};

    /// Every capture kept in the repository, by name, with its text.
    fn captures() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["samples", "tests/data", "tests/paste", "tests/fuzz"] {
            let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "log" || x == "txt"))
                .collect();
            paths.sort();
            for p in paths {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        out
    }

    /// FORMAT.md's variants the files may not all show: old `t` tails and a marked head,
    /// unknown characters, a short row mid-table, a free run first, an ESP-IDF log splitting a
    /// row, two areas, a table cut off by the end of the file.
    const VARIANTS: &str = "\
@@@ 100
GC: total: 6144, used: 1024, free: 3072
 No. of 1-blocks: 3, 2-blocks: 1, max blk sz: 8, max free sz: 150
GC memory layout; from 3ffb0000:
       (2 lines all free)
00000800: htt.m===Qx..h=..................................................
00000c00: hSLDTAFBMm==xx?.
00001000: ......h=I (1234) wifi: connected
======..................................................
GC memory layout; from 3ffe0000:
00000000: h=..............................................................
@@@
@@@ 450
GC: total: 2048, used: 512, free: 1536
GC memory layout; from 3ffb0000:
00000000: h===h===SS......................................................
00000400: ..........
";

    /// `text` with each `GC:` line's `max free sz` dropped (`drop_gc`: the GC lines too), so
    /// that the index counts the figures from the table.
    fn without_figures(text: &[u8], drop_gc: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for line in text.split_inclusive(|&c| c == b'\n') {
            let s = String::from_utf8_lossy(line);
            if drop_gc && (s.starts_with("GC: ") || s.starts_with(" No. of")) {
                continue;
            }
            match s.find(", max free sz:") {
                Some(at) if s.starts_with(" No. of") => {
                    out.extend_from_slice(s[..at].as_bytes());
                    out.push(b'\n');
                }
                _ => out.extend_from_slice(line),
            }
        }
        out
    }

    #[test]
    fn index_figures_and_hashes_agree_with_the_decoded_dumps() {
        let mut inputs = captures();
        inputs.push(("VARIANTS".into(), VARIANTS.as_bytes().to_vec()));
        let mut counted = 0;
        for (name, text) in inputs {
            for (how, text) in [
                ("as printed", text.clone()),
                ("without max free sz", without_figures(&text, false)),
                ("without GC lines", without_figures(&text, true)),
            ] {
                let Ok((capture, _)) = parse(&text[..], &name, &ParseOptions::default()) else {
                    continue;
                };
                let bs = capture.figures_block_size();
                for s in &capture.sessions {
                    for i in 0..s.snapshots.len() {
                        let decoded = s.snapshots.get(i);
                        let at = format!("{name} ({how}), session {}, dump {i}", s.index);
                        assert_eq!(
                            blocks_hash(&decoded.areas),
                            s.snapshots.records.get(i).hash,
                            "{at}"
                        );
                        let want = decoded.figures(bs as u64);
                        // The index keeps 32-bit figures (a hostile capture's are cut there).
                        let fits = want.is_none_or(|f| {
                            [f.total, f.used, f.free, f.largest_free.unwrap_or(0)]
                                .iter()
                                .all(|&v| v <= u32::MAX as u64)
                        });
                        if fits {
                            assert_eq!(s.snapshots.figures(i, bs), want, "{at}");
                        }
                        if s.snapshots.records.get(i).set_flags & LARGEST != 0 {
                            counted += 1;
                        }
                    }
                }
            }
        }
        // The counting path was taken, on many dumps.
        assert!(counted > 1000, "{counted}");
    }
}
