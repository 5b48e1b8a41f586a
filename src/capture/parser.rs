//! The state machine over classified lines.
//!
//! It is push-based ([`Parser::feed`] one line at a time, then [`Parser::finish`]) so the same code
//! serves a file, stdin and the live serial recorder. Memory is the compact model plus one dump
//! being built: no text is kept but log lines.
//!
//! What a dump's table holds (its counts, hash and unknown characters) matters to nobody but the
//! dump, while sessions, clocks, prefixes and pasted dumps need every line in file order. So a
//! dump is finished in two steps: `Parser::finish_dump` settles, in order, what needs the
//! parser's state, and `Settled::finish` does the rest, there or, when indexing a capture
//! ([`Parser::finish_dumps_in_parallel`]), on rayon's pool in bounded batches while the parser
//! reads on. The index keeps each dump's place until its batch is back, and warnings found
//! meanwhile wait behind it, so both come out exactly as without the pool (a test holds them to
//! it). Memory then is two batches more: a few MB.

use std::collections::VecDeque;
use std::sync::mpsc;

use rayon::prelude::*;

use super::line::{self, classify, Line, Stamp};
use super::store::Entry;
use super::{
    read_sync_tuple, Capture, LineBytes, LogMeta, ParseOptions, Session, SyncPoint, MAX_LINE_BYTES,
};
use crate::error::{WarningKind as W, Warnings};
use crate::heap::layout::{AreaBuilder, FinishedArea, LayoutIssue, Spare, MAX_BLOCKS_UNBOUNDED};
use crate::heap::{BlockKind, GcSummary, MemStats, Snapshot, StackStats};

/// The period 64-bit unix builds use (`MP_SMALL_INT_POSITIVE_MASK + 1`).
const WIDE_TICKS_PERIOD: u64 = 1 << 62;

/// Some ports wrap `ticks_ms` at 2^29 rather than 2^30.
const HALF_TICKS_PERIOD: u64 = 1 << 29;

/// The longest gap between two dumps that is read as a 2^29 wrap rather than a reset (ms).
const WRAP_GAP_MS: u64 = 60_000;

/// A dump being read: between `@@@ <ticks>` and `@@@`, or mem_info output without markers.
#[derive(Debug)]
struct DumpBuilder {
    line: u64,
    ticks: u64,
    time_ms: i64,
    /// From a dated line prefix (a pasted dump's own wall clock).
    wall_ms: Option<i64>,
    mem: Option<MemStats>,
    stack: Option<StackStats>,
    gc: Option<GcSummary>,
    areas: Vec<AreaBuilder>,
    /// Blocks still allowed in this dump (from the GC total, or a fixed ceiling).
    budget: u64,
    /// Set when the dump turned out unusable; its remaining lines are swallowed.
    dropped: bool,
    /// A row was interrupted by another writer's text; the next bare run of block characters continues it.
    row_interrupted: bool,
    /// Started by mem_info output that no `@@@ <ticks>` marker announced (a pasted dump): it ends
    /// where the next one starts, at a REPL prompt, a marker, a reset or the end of the input.
    implicit: bool,
    /// False when nothing says when it was taken (no ticks, no time prefix).
    timed: bool,
    /// Byte range of its lines in the capture: from its first line to the end of the last line
    /// that belonged to it (what the index keeps, to read it again).
    start: u64,
    end: u64,
    /// The learned prefix was stripped from its lines.
    prefixed: bool,
}

impl DumpBuilder {
    fn new(line: u64, ticks: u64, time_ms: i64, implicit: bool, timed: bool) -> Self {
        DumpBuilder {
            line,
            ticks,
            time_ms,
            wall_ms: None,
            mem: None,
            stack: None,
            gc: None,
            areas: Vec::new(),
            budget: MAX_BLOCKS_UNBOUNDED,
            dropped: false,
            row_interrupted: false,
            implicit,
            timed,
            start: 0,
            end: 0,
            prefixed: false,
        }
    }

    /// Keeps a `GC:` line, with the block counts of a line read before it, and bounds the table
    /// by its total.
    fn set_gc(&mut self, g: GcSummary) {
        let counts = self.gc.take().unwrap_or_default();
        self.gc = Some(GcSummary {
            one_blocks: counts.one_blocks,
            two_blocks: counts.two_blocks,
            max_block: counts.max_block,
            max_free: counts.max_free,
            ..g
        });
        // The table cannot hold more blocks than the GC total at the smallest block size (8 B).
        self.budget = self.budget.min(g.total / 8 + 64);
    }

    /// Adds blocks to the last area with `add` (given the blocks the dump may still hold), and
    /// takes what was added off that budget.
    fn push_blocks<E>(
        &mut self,
        add: impl FnOnce(&mut AreaBuilder, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        let area = self.areas.last_mut().expect("an area exists");
        let before = area.len() as u64;
        let res = add(area, self.budget);
        self.budget = self.budget.saturating_sub(area.len() as u64 - before);
        res
    }

    /// True when `kind` is a line mem_info prints once per call and this dump already has it or
    /// what comes after it: the line starts the next dump.
    fn starts_next(&self, kind: &Line<'_>) -> bool {
        let table = !self.areas.is_empty();
        let gc_line = self.gc.is_some_and(|g| g.total > 0);
        let counts = self
            .gc
            .is_some_and(|g| g.one_blocks.is_some() || g.max_block.is_some());
        match kind {
            Line::Mem(_) => self.mem.is_some() || self.stack.is_some() || gc_line || table,
            Line::Stack(_) => self.stack.is_some() || gc_line || table,
            Line::Gc(_) => gc_line || table,
            Line::BlockCounts { .. } => counts || table,
            Line::AreaHeader { ptr } => self.areas.iter().any(|a| a.ptr == *ptr),
            // Rows pasted without a header that start again at offset 0: another table.
            Line::Row { offset: 0, .. } => self
                .areas
                .last()
                .is_some_and(|a| a.headerless && a.restarts_at_zero()),
            _ => false,
        }
    }

    /// In a pasted dump, true while its table is still coming: a row was interrupted, a
    /// layout header has no rows yet, or the rows so far hold fewer blocks than the GC line
    /// counts. Text there was printed inside it.
    fn mid_table(&self, block_size: u32) -> bool {
        let blocks: u64 = self.areas.iter().map(|a| a.len() as u64).sum();
        self.row_interrupted
            || self.areas.last().is_some_and(AreaBuilder::is_empty)
            || self
                .gc
                .is_some_and(|g| blocks > 0 && blocks * (block_size as u64) < g.total)
    }
}

/// How a dump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Its `@@@` end marker.
    Marker,
    /// Something else came first (a new dump, a reset, the end of the input).
    CutOff,
    /// A pasted dump (no markers): complete when its table is as long as its GC line says.
    Implicit,
}

/// A dump whose place in the capture is settled: what is left to do needs nothing of the
/// parser's state, so it may run on another thread.
#[derive(Debug)]
struct Settled {
    d: DumpBuilder,
    block_size: u32,
    end: End,
    /// Session time and wall clock, as the dumps before it decided.
    time_ms: i64,
    wall_ms: Option<i64>,
}

/// Warnings found while finishing one dump, in order: (kind, line, message).
type Notes = Vec<(W, u64, String)>;

/// A dump finished: its snapshot without blocks, its areas, and its warnings.
struct Finished {
    snap: Snapshot,
    areas: Vec<FinishedArea>,
    notes: Notes,
}

impl Settled {
    /// Checks the table against the summary lines and finishes its areas: the dump's own work.
    fn finish(self) -> Finished {
        let Settled {
            d,
            block_size,
            end,
            time_ms,
            wall_ms,
        } = self;
        let x = Extent::of(&d, block_size as u64, end);
        let complete = x.ended && x.mismatch.is_none();
        let mut notes = Notes::new();
        let (line, gc, has_table) = (d.line, d.gc, !d.areas.is_empty());
        let last = d.areas.len().saturating_sub(1);
        let mut areas = Vec::with_capacity(d.areas.len());
        for (k, ab) in d.areas.into_iter().enumerate() {
            let (area, issues) = ab.finish(block_size, if k == last { x.missing } else { 0 });
            notes.extend(issues.into_iter().map(layout_note));
            areas.push(area);
        }
        x.notes(line, end, block_size, &mut notes);
        if let (true, true, Some(g)) = (complete, has_table, gc) {
            notes.extend(gc_disagreement(&areas, &g, block_size as u64, line));
        }
        let snap = Snapshot {
            line,
            ticks: d.ticks,
            time_ms,
            timed: d.timed,
            wall_ms,
            mem: d.mem,
            stack: d.stack,
            gc,
            areas: Vec::new(),
            complete,
        };
        Finished { snap, areas, notes }
    }
}

/// A layout issue as a warning.
fn layout_note(issue: LayoutIssue) -> (W, u64, String) {
    match issue {
        LayoutIssue::ShortRow { line, blocks } => (
            W::RowRepaired,
            line,
            format!("layout row has {blocks} blocks but is not the last of its area; the rest is shown as missing"),
        ),
        LayoutIssue::LongRow { line, chars } => (
            W::RowRepaired,
            line,
            format!("layout row has {chars} block characters; only the first 64 are used"),
        ),
        LayoutIssue::UnknownChars { line, chars } => (
            W::UnknownBlockChar,
            line,
            format!("unknown block character(s) '{}': shown as 'unknown'", chars.escape_default()),
        ),
        LayoutIssue::OffsetMismatch {
            line,
            printed,
            counted,
            rows,
        } => (
            W::OffsetMismatch,
            line,
            format!(
                "printed offset {printed:x} differs from the counted {counted:x} ({rows} row(s) in this area); rows are placed by counting"
            ),
        ),
    }
}

/// How a dump's table compares with the total its GC line counts (bytes).
struct Extent {
    /// Bytes of blocks in the table.
    table: u64,
    /// The GC total, when the table holds less than it.
    short: Option<u64>,
    /// The dump was printed to its end (a marker, or a pasted table as long as its GC total).
    ended: bool,
    /// Blocks never printed, shown as missing at the end of the last area.
    missing: u64,
    /// The GC total, when a whole table disagrees with it.
    mismatch: Option<u64>,
}

impl Extent {
    fn of(d: &DumpBuilder, bs: u64, end: End) -> Extent {
        let table = d.areas.iter().map(|a| a.len() as u64).sum::<u64>() * bs;
        let has_table = !d.areas.is_empty();
        let total = d.gc.map(|g| g.total).filter(|&t| t > 0);
        let short = total.filter(|&t| has_table && table < t);
        let ended = match end {
            End::Marker => true,
            End::CutOff => false,
            // Without markers, only the table's length against the GC line tells a cut-off dump.
            End::Implicit => short.is_none(),
        };
        // Cut off mid-table: the blocks never printed are shown as missing.
        let missing = match short {
            Some(t) if !ended => d.budget.min((t - table) / bs),
            _ => 0,
        };
        let mismatch = total.filter(|&t| has_table && table != t && short.is_none_or(|_| ended));
        Extent {
            table,
            short,
            ended,
            missing,
            mismatch,
        }
    }

    /// The warnings this extent calls for, about the dump at `line`.
    fn notes(&self, line: u64, end: End, block_size: u32, notes: &mut Notes) {
        let table = self.table;
        if let (End::Implicit, Some(t)) = (end, self.short) {
            notes.push((
                W::DumpCutOff,
                line,
                format!(
                    "the dump (no markers) that starts at line {line} stops after {table} of the {t} bytes its GC line counts; kept as far as it goes"
                ),
            ));
        }
        if let Some(t) = self.mismatch {
            notes.push((
                W::GcMismatch,
                line,
                format!(
                    "layout holds {table} bytes of blocks ({} blocks of {block_size} B) but the GC line says total {t}",
                    table / block_size as u64,
                ),
            ));
        }
    }
}

/// A warning when a whole table's used and free bytes are not the GC line's.
fn gc_disagreement(
    areas: &[FinishedArea],
    g: &GcSummary,
    bs: u64,
    line: u64,
) -> Option<(W, u64, String)> {
    let (used, free) = areas.iter().fold((0, 0), |(u, f), a| {
        (u + a.digest.used() * bs, f + a.digest.free * bs)
    });
    (used != g.used || free != g.free).then(|| {
        (
            W::GcMismatch,
            line,
            format!(
                "blocks give used {used} / free {free} bytes but the GC line says used {} / free {}",
                g.used, g.free
            ),
        )
    })
}

/// Where a dump's record is in the index: session (its place in `Parser::sessions`, or the
/// current one) and index within it.
#[derive(Debug, Clone, Copy)]
struct Place {
    session: usize,
    index: usize,
}

/// A dump for the index, to be finished.
#[derive(Debug)]
struct Job {
    place: Place,
    settled: Settled,
    /// Its bytes in the capture.
    offset: u64,
    len: u64,
    prefixed: bool,
    own_wall: bool,
}

/// A dump finished for the index.
struct Done {
    place: Place,
    entry: Entry,
    notes: Notes,
    /// Its first areas' buffers, back to the parser's thread to be used again: freeing them
    /// on another thread than the one that allocated them makes the threads wait on the
    /// allocator's lock.
    spare: [Option<Spare>; 2],
}

impl Job {
    fn run(self) -> Done {
        let f = self.settled.finish();
        let entry = Entry::new(
            &f.snap,
            &f.areas,
            self.offset,
            self.len,
            self.prefixed,
            self.own_wall,
        );
        Done {
            place: self.place,
            entry,
            notes: f.notes,
            spare: {
                let mut areas = f.areas.into_iter().map(FinishedArea::into_spare);
                [areas.next(), areas.next()]
            },
        }
    }
}

/// A batch goes to the pool when it holds this many dumps...
const BATCH_DUMPS: usize = 1024;
/// ...or this many blocks (one byte each while they wait): two batches out at a time are a few
/// MB, whatever the capture's length.
const BATCH_BLOCKS: u64 = 1 << 22;
/// Warnings held behind dumps still on the pool, with those dumps' own places (at most two
/// batches' worth), at most: past this, the parser waits for the pool.
const MAX_HELD: usize = 4 * BATCH_DUMPS;
/// Room for blocks in the buffers of finished areas kept for the next ones, at most: as much
/// as two batches hold, so a parser that keeps the pool busy allocates nothing per dump.
const MAX_SPARE_BLOCKS: usize = 2 * BATCH_BLOCKS as usize;

/// What a batch sent to the pool gives back: its dumps finished, and its Vec, empty.
type Returned = std::thread::Result<(Vec<Done>, Vec<Job>)>;

/// Dumps being finished on rayon's pool: the batch being gathered, and the one out.
struct Pool {
    batch: Vec<Job>,
    blocks: u64,
    in_flight: Option<mpsc::Receiver<Returned>>,
    /// The Vec of the batch that came back last, empty, for the next.
    reuse: Option<Vec<Job>>,
    /// When a batch goes ([`BATCH_DUMPS`], [`BATCH_BLOCKS`]; smaller in tests).
    max_dumps: usize,
    max_blocks: u64,
    /// Batches sent so far.
    sent: usize,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            batch: Vec::new(),
            blocks: 0,
            in_flight: None,
            reuse: None,
            max_dumps: BATCH_DUMPS,
            max_blocks: BATCH_BLOCKS,
            sent: 0,
        }
    }
}

/// The parser's warnings in file order, also while dumps are finished on other threads: a
/// warning found after a dump that is not back yet waits behind it.
#[derive(Default)]
struct Ordered {
    out: Warnings,
    /// Empty, or a dump not back yet first.
    held: VecDeque<Held>,
}

enum Held {
    Note(W, u64, String),
    /// The place of a dump's own warnings.
    Dump,
}

impl Ordered {
    fn push(&mut self, kind: W, line: u64, message: impl Into<String>) {
        if self.held.is_empty() {
            self.out.push(kind, line, message);
        } else {
            self.held.push_back(Held::Note(kind, line, message.into()));
        }
    }

    fn extend(&mut self, notes: Notes) {
        for (kind, line, message) in notes {
            self.push(kind, line, message);
        }
    }

    /// Keeps a place for the warnings of a dump handed to the pool.
    fn hold_dump(&mut self) {
        self.held.push_back(Held::Dump);
    }

    /// The warnings of the next dump: in their place, then what waited behind them, up to
    /// the next dump not back yet. Dumps come back in the order they were handed out.
    fn release(&mut self, notes: Notes) {
        if matches!(self.held.front(), Some(Held::Dump)) {
            self.held.pop_front();
        }
        for (kind, line, message) in notes {
            self.out.push(kind, line, message);
        }
        while let Some(Held::Note(..)) = self.held.front() {
            if let Some(Held::Note(kind, line, message)) = self.held.pop_front() {
                self.out.push(kind, line, message);
            }
        }
    }
}

/// True for the lines that may start a pasted dump: mem_info's summary lines, a layout header, a
/// free run, or a row that holds only block characters (a table copied without its header).
fn starts_pasted_dump(kind: &Line<'_>) -> bool {
    match kind {
        Line::Mem(_)
        | Line::Stack(_)
        | Line::Gc(_)
        | Line::BlockCounts { .. }
        | Line::AreaHeader { .. }
        | Line::FreeRows(_) => true,
        Line::Row { digits, body, .. } => {
            let body = line::trim_end(body);
            matches!(digits, 5 | 8)
                && !body.is_empty()
                && body.len() <= 64
                && body.iter().all(|&c| crate::heap::is_known_block_char(c))
        }
        _ => false,
    }
}

/// `Frag: ...`: the histogram some non-mainline firmware prints in place of the layout rows.
fn is_frag_line(s: &[u8]) -> bool {
    line::trim_start(s).starts_with(b"Frag:")
}

/// Unwraps `ticks_ms` with `ticks_diff` semantics.
#[derive(Debug, Clone, Copy)]
struct Clock {
    last_ticks: u64,
    last_time: i64,
}

/// Reads a capture line by line.
pub struct Parser {
    period: u64,
    warnings: Ordered,
    sessions: Vec<Session>,
    session: Session,
    clock: Option<Clock>,
    dump: Option<DumpBuilder>,
    prefix: Option<Vec<u8>>,
    /// A reboot line was seen since the last dump, so a backwards jump of ticks is expected.
    reboot_seen: bool,
    /// Block size of the last dump that had one, for dumps too small to infer it.
    last_block_size: Option<u32>,
    offset_digits: u8,
    lines: u64,
    bytes: u64,
    /// Log lines with an asctime whose session time waits for the session's sync line.
    pending_wall: Vec<(usize, i64)>,
    /// (pointer, blocks) of each area in the last dump: capacity hints for the next.
    area_sizes: Vec<(u64, usize)>,
    /// Session time between snapshots that carry no time of their own (ms).
    untimed_every_ms: i64,
    /// The time prefix of the last pasted dump of this session that had one, and its session time.
    last_stamp: Option<(Stamp, i64)>,
    /// Byte offset of the line being read, and where its bytes are (to place log text in it).
    line_start: u64,
    line_ptr: usize,
    /// Reading one dump again for the index (see `store::Decoder`): its snapshots land here,
    /// nothing is indexed, no log line is kept.
    decoded: Option<Vec<Snapshot>>,
    /// Set when dumps are finished on the thread pool ([`Parser::finish_dumps_in_parallel`]).
    pool: Option<Pool>,
    /// Buffers of finished areas, for the next areas to be built in, and their room (blocks).
    spare: Vec<Spare>,
    spare_blocks: usize,
}

impl Parser {
    pub fn new(options: ParseOptions) -> Self {
        let period = options.ticks_period.max(2);
        Parser {
            period,
            warnings: Ordered::default(),
            sessions: Vec::new(),
            session: Session {
                ticks_period: period,
                first_line: 1,
                ..Session::default()
            },
            clock: None,
            dump: None,
            prefix: None,
            reboot_seen: false,
            last_block_size: None,
            offset_digits: 0,
            lines: 0,
            bytes: 0,
            pending_wall: Vec::new(),
            area_sizes: Vec::new(),
            untimed_every_ms: options.untimed_every_ms.max(1),
            last_stamp: None,
            line_start: 0,
            line_ptr: 0,
            decoded: None,
            pool: None,
            spare: Vec::new(),
            spare_blocks: 0,
        }
    }

    /// From here on, dumps are finished on rayon's thread pool, in batches, while the parser
    /// reads on: what a dump's table holds (its counts, its hash, its unknown characters) is
    /// its own business, and only the parser's state (sessions, clocks, prefixes) needs file
    /// order. The index and the warnings come out the same as without; until [`Parser::finish`],
    /// the newest snapshots' figures may not be in yet ([`Parser::last_snapshot`] is for a
    /// parser that does not do this).
    ///
    /// On a thread of rayon's pool this does nothing: the parser would wait for work queued
    /// behind itself.
    pub fn finish_dumps_in_parallel(&mut self) {
        if rayon::current_thread_index().is_none() {
            self.pool.get_or_insert_with(Pool::default);
        }
    }

    /// A parser that reads one dump again: what `store::Decoder` uses. `prefix` is the learned
    /// prefix when the dump had it stripped; `block_size` the one it was read with, for a dump
    /// too short to show it.
    pub(crate) fn decoding(
        options: ParseOptions,
        prefix: Option<Vec<u8>>,
        block_size: u32,
    ) -> Self {
        let mut p = Parser::new(options);
        p.prefix = prefix;
        p.last_block_size = Some(block_size);
        p.decoded = Some(Vec::new());
        p
    }

    /// Ends a [`Parser::decoding`] run: the dump it read, if it read one.
    pub(crate) fn finish_decoding(mut self) -> Option<Snapshot> {
        match &self.dump {
            Some(d) if d.implicit => self.finish_dump(End::Implicit),
            Some(_) => self.finish_dump(End::CutOff),
            None => {}
        }
        self.decoded?.into_iter().next()
    }

    /// The prefix learned from the markers, if any: the index's decoder strips it too.
    pub fn learned_prefix(&self) -> Option<&[u8]> {
        self.prefix.as_deref()
    }

    /// Warnings so far (the recorder shows them live); with dumps finished in parallel, those
    /// after a dump not back yet are not in yet.
    pub fn warnings(&self) -> &Warnings {
        &self.warnings.out
    }

    /// Number of complete snapshots so far, in all sessions.
    pub fn snapshot_count(&self) -> usize {
        self.sessions
            .iter()
            .map(|s| s.snapshots.len())
            .sum::<usize>()
            + self.session.snapshots.len()
    }

    /// The figures of the newest snapshot (without its blocks), if any.
    pub fn last_snapshot(&self) -> Option<Snapshot> {
        fn last(s: &Session) -> Option<Snapshot> {
            s.snapshots
                .len()
                .checked_sub(1)
                .map(|i| s.snapshots.meta(i))
        }
        last(&self.session).or_else(|| self.sessions.iter().rev().find_map(last))
    }

    /// Takes one physical line (without its `\n`). `n` is its 1-based line number.
    pub fn feed(&mut self, n: u64, line: LineBytes<'_>) {
        // The end of a file still being written (a live capture) inside a marked dump: the line
        // may be cut anywhere ("max free sz: 5" of 5204), so it is left out, as if the file had
        // been read a moment earlier, and the dump ends cut off before it (which the warning on
        // the cut-off dump says). A paste's last line without its line break is read as it is,
        // and a closing marker is whole whatever follows it.
        if line.unterminated
            && self.dump.as_ref().is_some_and(|d| !d.implicit)
            && line.bytes.trim_ascii() != b"@@@"
        {
            return;
        }
        self.lines = n;
        self.line_start = self.bytes;
        self.line_ptr = line.bytes.as_ptr() as usize;
        self.bytes += line.bytes.len() as u64 + 1;
        if let Some(len) = line.cut_from {
            self.warnings.push(
                W::LongLine,
                n,
                format!("line is {len} bytes long; only the first {MAX_LINE_BYTES} were read"),
            );
            self.bytes += len.saturating_sub(line.bytes.len() as u64);
        }
        let mut bytes = line.bytes;
        if line.nul {
            self.warnings.push(
                W::Binary,
                n,
                "NUL bytes in a text line (line noise, or a binary file?)",
            );
        }
        while let Some(&b'\r') = bytes.last() {
            bytes = &bytes[..bytes.len() - 1];
        }
        self.logical_line(n, bytes);
        // The line belonged to the dump still open after it (or started it).
        let end = self.bytes;
        if let Some(d) = self.dump.as_mut() {
            d.end = end;
        }
        if self.warnings.held.len() > MAX_HELD {
            self.flush();
        }
    }

    /// Reads one logical line (a physical line, or a piece of one cut at a carriage return):
    /// what it is once the prefixes are off, and the text a log line keeps.
    fn logical_line(&mut self, n: u64, printed: &[u8]) {
        let mut s = printed;
        if let Some(p) = &self.prefix {
            if s.starts_with(p) {
                s = &s[p.len()..];
            }
        }
        let kind = classify(s);
        // A carriage return inside a line is a terminal overwrite or two writers meeting: each
        // piece is read as a line of its own. Only unrecognised lines are searched for one, since
        // dump lines (nearly all of a capture) never hold one.
        if matches!(kind, Line::Text) && s.contains(&b'\r') {
            for piece in s.split(|&c| c == b'\r') {
                if !piece.is_empty() {
                    self.logical_line(n, piece);
                }
            }
            return;
        }
        let (s, kind, stamp) = match kind {
            Line::Text => self.line_prefix(n, s),
            kind => (s, kind, None),
        };
        // Log lines keep the text as printed, prefix and all; a prefix alone is a blank line.
        let text = if matches!(kind, Line::Text) && line::is_bare_prefix(printed) {
            &printed[..0]
        } else {
            printed
        };
        self.apply_line(n, s, kind, stamp, text);
    }

    /// Acts on a line read as `kind`: a marker opens or closes a dump, syncs the clock or is a
    /// log line with its time; a reboot or banner may start a session; the rest is the dump's to
    /// read (text may first end a pasted dump, and what no dump takes is logged). `s` is the line
    /// without its prefixes, `stamp` the time a prefix gave, `text` what a log line keeps.
    fn apply_line(&mut self, n: u64, s: &[u8], kind: Line<'_>, stamp: Option<Stamp>, text: &[u8]) {
        match kind {
            Line::DumpStart { ticks } => {
                self.close_open_dump(n, "a new '@@@ <ticks>' marker");
                self.start_dump(n, ticks);
            }
            Line::Sync { ticks, tuple } => {
                self.close_open_dump(n, "a new sync line");
                self.sync_line(n, ticks, &tuple);
            }
            Line::DumpEnd => self.dump_end(n),
            Line::TimedLog { ticks, text } => {
                let time = self
                    .clock
                    .map(|c| c.last_time + self.ticks_diff(ticks, c.last_ticks));
                self.log(n, text, time);
            }
            Line::BadMarker => {
                self.warnings.push(
                    W::MalformedMarker,
                    n,
                    "line starts with '@@@' but is not a dump marker; kept as a log line",
                );
                self.log(n, text, None);
            }
            Line::Reboot | Line::Banner => self.reset_line(n, s, kind == Line::Banner, text),
            Line::Text => {
                if self.text_ends_pasted_dump(s) {
                    self.finish_dump(End::Implicit);
                }
                self.dump_line(n, s, kind, stamp, text);
            }
            other => self.dump_line(n, s, other, stamp, text),
        }
    }

    /// An unrecognised line may carry a prefix before what it says: a terminal's time, a probe's
    /// channel, a prompt (stripped from this line, its time kept), or a prefix before the
    /// markers (stripped from here on, with a warning). Gives the line without it, read again.
    fn line_prefix<'a>(&mut self, n: u64, s: &'a [u8]) -> (&'a [u8], Line<'a>, Option<Stamp>) {
        if let Some(p) = line::split_prefix(s) {
            let s = &s[p.len..];
            return (s, classify(s), p.time);
        }
        if let Some(p) = line::foreign_prefix_len(s) {
            let prefix = s[..p].to_vec();
            self.warnings.push(
                W::ForeignPrefix,
                n,
                format!(
                    "lines carry a prefix '{}' before the markers; it is removed from here on",
                    String::from_utf8_lossy(&prefix).escape_debug()
                ),
            );
            self.prefix = Some(prefix);
            let s = &s[p..];
            return (s, classify(s), None);
        }
        (s, Line::Text, None)
    }

    /// An `@@@` end marker: it ends the dump being read, if there is one.
    fn dump_end(&mut self, n: u64) {
        match &self.dump {
            Some(d) if d.implicit => self.finish_dump(End::Implicit),
            Some(_) => self.finish_dump(End::Marker),
            None => self.warnings.push(
                W::OutsideDump,
                n,
                "end marker '@@@' outside a dump, skipped",
            ),
        }
    }

    /// `MPY: soft reboot` or a firmware banner: the board reset, so what follows is a new session
    /// (named after this line) once the current one has snapshots.
    fn reset_line(&mut self, n: u64, s: &[u8], banner: bool, text: &[u8]) {
        self.close_open_dump(n, "a reset");
        if !self.session.snapshots.is_empty() {
            let why = String::from_utf8_lossy(line::trim_end(s));
            let mut why: String = why.chars().take(72).collect();
            if why.len() < line::trim_end(s).len() {
                why.push('…');
            }
            self.new_session(n, why);
        }
        self.reboot_seen = true;
        if banner && self.session.banner.is_none() {
            self.session.banner = Some(String::from_utf8_lossy(s).into_owned());
        }
        self.log(n, text, None);
    }

    /// True when text ends the pasted dump in progress: a REPL prompt (mem_info has returned),
    /// or any other words once its table is whole (its GC line's total is reached, or it has
    /// none to say). Text in the middle of a table is another writer's, and a blank line or a
    /// markdown fence is the paste's own layout: neither ends it.
    fn text_ends_pasted_dump(&self, s: &[u8]) -> bool {
        let Some(d) = self.dump.as_ref().filter(|d| d.implicit) else {
            return false;
        };
        let t = line::trim_start(line::after_prefix(s));
        let filler = t.is_empty() || t.starts_with(b"```") || t.starts_with(b"~~~");
        line::is_prompt(t)
            || (!filler && !d.areas.is_empty() && !d.mid_table(self.block_size_of(d)))
    }

    /// The block size of the dump being read, as far as its rows tell, else the last dump's.
    fn block_size_of(&self, d: &DumpBuilder) -> u32 {
        d.areas
            .iter()
            .find_map(AreaBuilder::block_size_from_offsets)
            .or(self.last_block_size)
            .unwrap_or(16)
    }

    /// Ends the dump in progress because `why` came: a marked one was cut off (it has no end
    /// marker); a pasted one ends here, and is cut off only if its table is shorter than its GC
    /// line says.
    fn close_open_dump(&mut self, n: u64, why: &str) {
        match &self.dump {
            Some(d) if d.implicit => self.finish_dump(End::Implicit),
            Some(d) => {
                let msg = format!(
                    "dump that starts at line {} has no end marker '@@@' (cut off by {why}); kept as far as it goes",
                    d.line
                );
                self.warnings.push(W::DumpCutOff, n, msg);
                self.finish_dump(End::CutOff);
            }
            None => {}
        }
    }

    /// Lines that belong inside a dump: summary lines, area headers, rows and free runs. Outside
    /// a marked dump, mem_info output starts a dump of its own (a pasted one); in a pasted dump, a
    /// line that mem_info prints only once per call starts the next.
    fn dump_line(&mut self, n: u64, s: &[u8], kind: Line<'_>, stamp: Option<Stamp>, text: &[u8]) {
        if !self.enter_dump(n, &kind, stamp, text) {
            return;
        }
        match kind {
            Line::Mem(m) => self.dump_mut().mem = Some(m),
            Line::Stack(st) => self.dump_mut().stack = Some(st),
            Line::Gc(g) => self.dump_mut().set_gc(g),
            Line::BlockCounts {
                one,
                two,
                max_block,
                max_free,
            } => {
                let g = self.dump_mut().gc.get_or_insert_with(GcSummary::default);
                g.one_blocks = one;
                g.two_blocks = two;
                g.max_block = max_block;
                g.max_free = max_free;
            }
            Line::AreaHeader { ptr } => self.area_header(ptr),
            Line::Row {
                offset,
                digits,
                body,
            } => self.layout_row(n, offset, digits, body),
            Line::FreeRows(rows) => self.free_rows(n, rows),
            Line::Text if self.dump_mut().row_interrupted && is_bare_blocks(s) => {
                self.row_rest(n, s, text)
            }
            Line::Text
                if self
                    .dump_mut()
                    .areas
                    .last()
                    .is_some_and(AreaBuilder::is_empty)
                    && is_frag_line(s) =>
            {
                self.frag_histogram(n, text)
            }
            _ => self.log(n, text, None),
        }
    }

    /// The dump being read (only called while there is one).
    fn dump_mut(&mut self) -> &mut DumpBuilder {
        self.dump.as_mut().expect("a dump is being read")
    }

    /// Decides where a dump-like line goes before it is read: it ends a pasted dump it cannot
    /// belong to, starts a pasted dump when it is one's first line, and goes to the log when no
    /// dump takes it (or the dump was dropped). True when the line is the current dump's to read.
    fn enter_dump(&mut self, n: u64, kind: &Line<'_>, stamp: Option<Stamp>, text: &[u8]) -> bool {
        if self
            .dump
            .as_ref()
            .is_some_and(|d| d.implicit && d.starts_next(kind))
        {
            self.finish_dump(End::Implicit);
        }
        if self.dump.is_none() {
            if matches!(kind, Line::Text) {
                self.log(n, text, None);
                return false;
            }
            if !starts_pasted_dump(kind) {
                self.warnings.push(
                    W::OutsideDump,
                    n,
                    "heap dump line outside a dump (no '@@@ <ticks>' before it, nor mem_info's first lines); kept as a log line",
                );
                self.log(n, text, None);
                return false;
            }
            self.start_implicit(n, stamp);
        }
        match &self.dump {
            Some(d) if d.dropped => {
                if matches!(kind, Line::Text) {
                    self.log(n, text, None);
                }
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// A `GC memory layout; from <ptr>:` header: a new area, reusing a spare one's buffers.
    fn area_header(&mut self, ptr: u64) {
        let hint = self
            .area_sizes
            .iter()
            .find(|a| a.0 == ptr)
            .map_or(0, |a| a.1);
        let area = match self.spare.pop() {
            Some(spare) => {
                self.spare_blocks -= spare.blocks();
                AreaBuilder::reusing(ptr, hint, spare)
            }
            None => AreaBuilder::with_capacity(ptr, hint),
        };
        let dump = self.dump_mut();
        dump.row_interrupted = false;
        dump.areas.push(area);
    }

    /// A layout row: its blocks go to the last area (a headerless table starts one at 0), and
    /// text printed after the blocks on the same line is a log line.
    fn layout_row(&mut self, n: u64, offset: u64, digits: u8, body: &[u8]) {
        let (chars, rest) = body.split_at(block_chars_len(body));
        let dump = self.dump.as_mut().expect("a dump is being read");
        if dump.areas.is_empty() {
            // A table copied without its header is a pasted excerpt, not a fault.
            if !dump.implicit {
                self.warnings.push(
                    W::RowRepaired,
                    n,
                    "layout row without a 'GC memory layout' header; read as an area at 0",
                );
            }
            let mut area = AreaBuilder::new(0);
            area.headerless = true;
            dump.areas.push(area);
        }
        let res = dump.push_blocks(|area, budget| area.push_row(n, offset, digits, chars, budget));
        dump.row_interrupted = !rest.is_empty() && chars.len() < 64;
        if let Err(e) = res {
            self.drop_dump(
                n,
                format!("more blocks than the heap can hold ({} allowed)", e.limit),
            );
            return;
        }
        if !rest.is_empty() {
            self.log(n, line::trim_start(rest), None);
        }
    }

    /// mem_info's `(N lines all free)` marker: that many free rows in the last area.
    fn free_rows(&mut self, n: u64, rows: u64) {
        let dump = self.dump_mut();
        if dump.areas.is_empty() {
            dump.areas.push(AreaBuilder::new(0));
        }
        dump.row_interrupted = false;
        // Too many rows to hold is not yet fatal: the offsets printed after the marker may say
        // what line noise turned it from (see reconcile_free_runs).
        let _ = dump.push_blocks(|area, budget| area.push_free_rows(n, rows, budget));
    }

    /// The rest of a row that another writer's text interrupted, on a line of its own.
    fn row_rest(&mut self, n: u64, s: &[u8], text: &[u8]) {
        let dump = self.dump_mut();
        dump.row_interrupted = false;
        let area = dump.areas.last().expect("a row came before");
        let room = 64 - area.len() % 64;
        if s.len() <= room && area.len() % 64 != 0 {
            if dump
                .push_blocks(|area, budget| area.append_continuation(s, budget))
                .is_err()
            {
                self.drop_dump(n, "more blocks than the heap can hold".to_string());
            }
        } else {
            self.log(n, text, None);
        }
    }

    /// Non-mainline firmware prints a histogram of free runs after the layout header instead
    /// of the rows: the dump keeps its figures, without a table.
    fn frag_histogram(&mut self, n: u64, text: &[u8]) {
        let dump = self.dump_mut();
        dump.areas.pop();
        let start = dump.line;
        self.warnings.push(
            W::NoTable,
            n,
            format!(
                "a 'Frag:' histogram follows the layout header instead of the table (non-mainline firmware); the dump that starts at line {start} is kept as figures only"
            ),
        );
        self.log(n, text, None);
    }

    fn drop_dump(&mut self, n: u64, why: String) {
        if let Some(d) = self.dump.as_mut() {
            d.dropped = true;
            self.warnings.push(
                W::DumpDropped,
                n,
                format!("{why}; the dump that starts at line {} is skipped", d.line),
            );
        }
    }

    fn ticks_diff(&self, new: u64, old: u64) -> i64 {
        let p = self.period as i128;
        let d = (new as i128 - old as i128).rem_euclid(p);
        (if d >= p / 2 { d - p } else { d }) as i64
    }

    /// Advances the session clock to `ticks`; starts a new session when time went backwards.
    fn advance_clock(&mut self, n: u64, ticks: u64) -> i64 {
        if ticks >= self.period && self.period < WIDE_TICKS_PERIOD {
            // Only 64-bit unix prints ticks this large; its ticks wrap at 2^62.
            self.period = WIDE_TICKS_PERIOD;
            self.session.ticks_period = self.period;
        }
        let t = match self.clock {
            // After pasted dumps in the same session, the ticks clock starts past them.
            None => self
                .session
                .snapshots
                .last_time()
                .map_or(0, |t| t + self.untimed_every_ms),
            Some(c) => {
                let d = match self.wrap_at_2_pow_29(n, c.last_ticks, ticks) {
                    Some(gap) => gap as i64,
                    None => self.ticks_diff(ticks, c.last_ticks),
                };
                if d < 0 && !self.session.snapshots.is_empty() {
                    self.ticks_went_back(n, c.last_ticks, ticks);
                    0
                } else {
                    c.last_time + d.max(0)
                }
            }
        };
        self.clock = Some(Clock {
            last_ticks: ticks,
            last_time: t,
        });
        t
    }

    /// Ticks that fall from just under 2^29 to just over 0, with no reboot message, are a port
    /// whose ticks wrap at 2^29: a reset restarts ticks near 0 too, but prints a banner (or the
    /// dumper's sync line) first. Then the clock wraps at 2^29 from here on (warned), and this
    /// gives the time between the two ticks (ms).
    fn wrap_at_2_pow_29(&mut self, n: u64, last: u64, ticks: u64) -> Option<u64> {
        let gap = (self.ticks_diff(ticks, last) < 0
            && !self.reboot_seen
            && self.period == crate::capture::DEFAULT_TICKS_PERIOD
            && last < HALF_TICKS_PERIOD
            && ticks < last)
            .then(|| ticks + HALF_TICKS_PERIOD - last)
            .filter(|&gap| gap <= WRAP_GAP_MS)?;
        self.period = HALF_TICKS_PERIOD;
        self.session.ticks_period = HALF_TICKS_PERIOD;
        self.warnings.push(
            W::TicksWrap,
            n,
            format!(
                "ticks_ms went from {last} to {ticks}: read as this port wrapping at 2^29 \
                 ({gap} ms later), not as a reset; if it was a reset, pass \
                 --ticks-period 1073741824"
            ),
        );
        Some(gap)
    }

    /// Ticks went back: a board reset, so a new session starts here (warned when no reboot
    /// message said so).
    fn ticks_went_back(&mut self, n: u64, last: u64, ticks: u64) {
        if !self.reboot_seen {
            self.warnings.push(
                W::TicksBackwards,
                n,
                format!(
                    "ticks_ms went back from {last} to {ticks} without a reboot message; \
                     a new session starts here"
                ),
            );
        }
        self.new_session(n, super::TICKS_WENT_BACK.into());
    }

    fn sync_line(&mut self, n: u64, ticks: u64, tuple: &[i64; 8]) {
        // The dumper prints a sync line once per boot: one after snapshots means the board restarted.
        if !self.session.snapshots.is_empty() {
            self.new_session(n, super::NEW_SYNC_LINE.into());
        }
        let time_ms = self.advance_clock(n, ticks);
        match read_sync_tuple(tuple) {
            Some((wall_ms, order)) => {
                self.session.sync = Some(SyncPoint {
                    line: n,
                    ticks,
                    time_ms,
                    wall_ms,
                    order,
                });
                self.session.snapshots.set_sync(wall_ms - time_ms);
            }
            None => self.warnings.push(
                W::SyncLine,
                n,
                format!(
                    "sync line's time tuple ({}) is not a valid date in either order; wall-clock time is not shown",
                    tuple.map(|v| v.to_string()).join(", ")
                ),
            ),
        }
    }

    fn start_dump(&mut self, n: u64, ticks: u64) {
        let time_ms = self.advance_clock(n, ticks);
        self.reboot_seen = false;
        let mut d = DumpBuilder::new(n, ticks, time_ms, false, true);
        d.start = self.line_start;
        d.prefixed = self.prefix.is_some();
        self.dump = Some(d);
    }

    /// Starts a dump at a line of mem_info output that no marker announced (a pasted dump). Its
    /// time comes from the line's prefix when a terminal stamped one; otherwise it has none, and
    /// it is placed `untimed_every_ms` after the snapshot before (or at the board's latest known
    /// time, inside a capture with ticks).
    fn start_implicit(&mut self, n: u64, stamp: Option<Stamp>) {
        let last = self.session.snapshots.last_time();
        let next = last.map_or(0, |t| t + self.untimed_every_ms);
        let (time_ms, timed, wall_ms) = match (stamp, self.last_stamp) {
            (Some(st), Some((prev, t))) if st.dated == prev.dated => {
                let mut d = st.ms - prev.ms;
                // A time of day without a date wraps at midnight.
                if !st.dated && d < -43_200_000 {
                    d += 86_400_000;
                }
                (t + d.max(0), true, st.dated.then_some(st.ms))
            }
            (Some(st), _) => (next, true, st.dated.then_some(st.ms)),
            (None, _) => match self.clock {
                Some(c) => (c.last_time.max(last.unwrap_or(0)), false, None),
                None => (next, false, None),
            },
        };
        if let Some(st) = stamp {
            self.last_stamp = Some((st, time_ms));
        }
        let mut d = DumpBuilder::new(n, 0, time_ms, true, timed);
        d.wall_ms = wall_ms;
        d.start = self.line_start;
        d.prefixed = self.prefix.is_some();
        self.dump = Some(d);
    }

    /// Ends the dump in progress. What needs the parser's state (the block size, a corrected
    /// free run, the time) is settled here, in file order; the rest is the dump's own
    /// ([`Settled::finish`]), done here too, or on the thread pool when dumps are finished in
    /// parallel.
    fn finish_dump(&mut self, end: End) {
        let Some(mut d) = self.dump.take() else {
            return;
        };
        if !self.keeps(&d) {
            return;
        }
        let block_size = self.settle_block_size(&d);
        self.reconcile_free_runs(&mut d, block_size);
        if let Some((line, rows)) = d.areas.iter().find_map(AreaBuilder::unresolved) {
            self.drop_unresolved(&d, line, rows);
            return;
        }
        self.remember_areas(&d);
        // Times never go back within a session, whatever the stamps say.
        let time_ms = d
            .time_ms
            .max(self.session.snapshots.last_time().unwrap_or(i64::MIN));
        let wall_ms = d.wall_ms.or_else(|| {
            let sync = self.session.sync.as_ref()?;
            Some(sync.wall_ms + (time_ms - sync.time_ms))
        });
        // The end marker's line is its last; a dump that something else ended stops at the
        // last line it had.
        let byte_end = if matches!(end, End::Marker) {
            self.bytes
        } else {
            d.end
        };
        let (offset, len) = (d.start, byte_end.saturating_sub(d.start));
        let (prefixed, own_wall) = (d.prefixed, d.wall_ms);
        let settled = Settled {
            d,
            block_size,
            end,
            time_ms,
            wall_ms,
        };
        if let Some(out) = self.decoded.as_mut() {
            let f = settled.finish();
            let mut snap = f.snap;
            snap.areas = f.areas.iter().map(FinishedArea::decode).collect();
            out.push(snap);
            self.warnings.extend(f.notes);
            return;
        }
        let place = Place {
            session: self.sessions.len(),
            index: self.session.snapshots.reserve(time_ms, own_wall),
        };
        self.run_or_defer(Job {
            place,
            settled,
            offset,
            len,
            prefixed,
            own_wall: own_wall.is_some(),
        });
    }

    /// False for a dump that ends up with nothing: dropped on the way, or with no mem_info line
    /// at all (warned).
    fn keeps(&mut self, d: &DumpBuilder) -> bool {
        if d.dropped {
            return false;
        }
        if d.areas.is_empty() && d.gc.is_none() && d.mem.is_none() && d.stack.is_none() {
            self.warnings.push(
                W::EmptyDump,
                d.line,
                "dump has no mem_info lines at all; skipped",
            );
            return false;
        }
        true
    }

    /// Skips a dump whose `(N lines all free)` marker at `line` is larger than any heap.
    fn drop_unresolved(&mut self, d: &DumpBuilder, line: u64, rows: u64) {
        let heap = match d.gc {
            Some(g) => format!("the heap (GC total {} bytes)", g.total),
            None => "any heap memanim reads".to_string(),
        };
        self.warnings.push(
            W::DumpDropped,
            line,
            format!(
                "'({rows} lines all free)' is larger than {heap}; the dump that starts at line {} is skipped",
                d.line
            ),
        );
    }

    /// Keeps what the next dump's areas are read with: each area's size, and the offset digits
    /// of the first table that had any.
    fn remember_areas(&mut self, d: &DumpBuilder) {
        self.area_sizes.clear();
        self.area_sizes
            .extend(d.areas.iter().map(|a| (a.ptr, a.len())));
        if self.offset_digits == 0 {
            if let Some(digits) = d.areas.iter().map(|a| a.offset_digits).find(|&n| n > 0) {
                self.offset_digits = digits;
            }
        }
    }

    /// Finishes a dump on the pool when there is one, else here.
    fn run_or_defer(&mut self, job: Job) {
        if self.pool.is_some() {
            self.defer(job);
        } else {
            let done = job.run();
            self.apply(done);
        }
    }

    /// Hands a dump to the thread pool; its warnings take their place when it comes back.
    fn defer(&mut self, job: Job) {
        let Some(pool) = self.pool.as_mut() else {
            return;
        };
        pool.blocks += job
            .settled
            .d
            .areas
            .iter()
            .map(|a| a.len() as u64)
            .sum::<u64>();
        pool.batch.push(job);
        self.warnings.hold_dump();
        if pool.batch.len() >= pool.max_dumps || pool.blocks >= pool.max_blocks {
            self.dispatch();
        }
    }

    /// Sends the batch being gathered to the pool, once the one before it is back: at most
    /// two batches are out at a time, so memory does not grow with the capture.
    fn dispatch(&mut self) {
        self.collect();
        let Some(pool) = self.pool.as_mut() else {
            return;
        };
        if pool.batch.is_empty() {
            return;
        }
        // The batch's Vec comes back empty with the results, to gather the batch after next:
        // a Vec of a thousand jobs is large enough to be mapped and unmapped each time.
        let mut jobs = std::mem::replace(&mut pool.batch, pool.reuse.take().unwrap_or_default());
        pool.blocks = 0;
        let (tx, rx) = mpsc::sync_channel(1);
        rayon::spawn(move || {
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let done = jobs.par_drain(..).map(Job::run).collect::<Vec<_>>();
                (done, jobs)
            }));
            // The parser waits for this batch before it goes on without it, so it is there.
            let _ = tx.send(done);
        });
        pool.in_flight = Some(rx);
        pool.sent += 1;
    }

    /// Waits for the batch on the pool and puts its dumps in place.
    fn collect(&mut self) {
        let Some(rx) = self.pool.as_mut().and_then(|p| p.in_flight.take()) else {
            return;
        };
        let done = match rx.recv() {
            Ok(Ok((done, jobs))) => {
                if let Some(pool) = self.pool.as_mut() {
                    pool.reuse = Some(jobs);
                }
                done
            }
            // A panic on the pool is the parser's own: raised again here, where it belongs.
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("a batch of dumps sent to the thread pool never came back"),
        };
        for d in done {
            self.apply(d);
        }
    }

    /// Every dump handed to the pool, back in place.
    fn flush(&mut self) {
        self.dispatch();
        self.collect();
    }

    /// A finished dump into the index, and its warnings after the ones before it.
    fn apply(&mut self, done: Done) {
        let snapshots = if done.place.session < self.sessions.len() {
            &mut self.sessions[done.place.session].snapshots
        } else {
            &mut self.session.snapshots
        };
        snapshots.fill(done.place.index, done.entry);
        self.warnings.release(done.notes);
        for spare in done.spare.into_iter().flatten() {
            if self.spare_blocks + spare.blocks() <= MAX_SPARE_BLOCKS {
                self.spare_blocks += spare.blocks();
                self.spare.push(spare);
            }
        }
    }

    /// When the table's length disagrees with the GC total, corrects `(N lines all free)` counts
    /// that the printed offsets contradict, and keeps the correction only if the table then
    /// holds exactly the GC total: one noisy digit must not make the heap three times too long.
    fn reconcile_free_runs(&mut self, d: &mut DumpBuilder, block_size: u32) {
        let total = d.gc.map(|g| g.total).filter(|&t| t > 0);
        let table = |areas: &[AreaBuilder]| -> u64 {
            areas.iter().map(|a| a.len() as u64).sum::<u64>() * block_size as u64
        };
        let unresolved = d.areas.iter().any(|a| a.unresolved().is_some());
        if !unresolved && total.is_none_or(|t| table(&d.areas) == t) {
            return;
        }
        let mut areas = d.areas.clone();
        let fixes: Vec<_> = areas
            .iter_mut()
            .flat_map(|a| a.reconcile_free_runs(block_size))
            .collect();
        // Kept only when the GC total agrees (or, without one, every marker is now resolved).
        let agrees = match total {
            Some(t) => table(&areas) == t,
            None => areas.iter().all(|a| a.unresolved().is_none()),
        };
        if fixes.is_empty() || !agrees {
            return;
        }
        d.areas = areas;
        for f in fixes {
            self.warnings.push(
                W::RowRepaired,
                f.line,
                format!(
                    "'({} lines all free)' disagrees with the offsets printed around it and with the GC total; read as {} lines",
                    f.printed, f.read
                ),
            );
        }
    }

    /// The block size for every area of a dump: read off the printed offsets when two rows allow it,
    /// else GC total / blocks, else the last dump's, else a guess from the pointer width.
    fn settle_block_size(&mut self, d: &DumpBuilder) -> u32 {
        let from_offsets = d
            .areas
            .iter()
            .find_map(AreaBuilder::block_size_from_offsets);
        let blocks: u64 = d.areas.iter().map(|a| a.len() as u64).sum();
        let from_total = d.gc.and_then(|g| {
            (blocks > 0 && g.total % blocks == 0)
                .then(|| g.total / blocks)
                .filter(|bs| bs.is_power_of_two() && (4..=256).contains(bs))
                .map(|bs| bs as u32)
        });
        let bs = match (from_offsets, from_total) {
            (Some(a), Some(b)) if a != b => {
                self.warnings.push(
                    W::BlockSize,
                    d.line,
                    format!("row offsets step by {a}-byte blocks but GC total / blocks gives {b}; using {a}"),
                );
                a
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => {
                match self.last_block_size {
                    Some(bs) => bs,
                    None => {
                        let wide = d.areas.iter().any(|a| a.ptr > u32::MAX as u64);
                        let guess = if wide { 32 } else { 16 };
                        if !d.areas.is_empty() {
                            self.warnings.push(
                            W::BlockSize,
                            d.line,
                            format!("block size cannot be read off this dump; assuming {guess} bytes"),
                        );
                        }
                        guess
                    }
                }
            }
        };
        if from_offsets.is_some() || from_total.is_some() {
            self.last_block_size = Some(bs);
        }
        bs
    }

    fn log(&mut self, n: u64, text: &[u8], time_ms: Option<i64>) {
        if self.decoded.is_some() {
            return;
        }
        // NUL bytes were warned about when the line was read.
        if std::str::from_utf8(text).is_err() {
            self.warnings.push(
                W::InvalidUtf8,
                n,
                "invalid UTF-8 (line noise?); shown with replacement characters",
            );
        }
        // A line while a pasted dump is open comes after it (it shows with the next snapshot),
        // unless the dump's table is still coming.
        let (open, in_dump) = match &self.dump {
            None => (false, false),
            Some(d) if d.implicit => (true, d.mid_table(self.block_size_of(d))),
            Some(_) => (true, true),
        };
        let count = self.session.snapshots.len() + usize::from(open);
        let mut time_ms = time_ms;
        if time_ms.is_none() {
            if let Some(t) = line::leading_asctime(text) {
                let wall = super::days_from_civil(t[0], t[1], t[2]) * 86_400_000
                    + ((t[3] * 60 + t[4]) * 60 + t[5]) * 1000
                    + t[6];
                match &self.session.sync {
                    Some(s) => time_ms = Some(s.time_ms + (wall - s.wall_ms)),
                    None => self.pending_wall.push((self.session.logs.len(), wall)),
                }
            }
        }
        // The text is a piece of the line being read: the index keeps where it is.
        let offset =
            self.line_start + (text.as_ptr() as usize).saturating_sub(self.line_ptr) as u64;
        let meta = LogMeta {
            line: n,
            after: count.checked_sub(1),
            time_ms,
            in_dump,
            memory_error: line::is_memory_error(text),
        };
        self.session.logs.push(&meta, offset, text.len());
    }

    fn close_session(&mut self) -> Session {
        if let Some(s) = self.session.sync.clone() {
            for (i, wall) in std::mem::take(&mut self.pending_wall) {
                self.session
                    .logs
                    .set_time(i, s.time_ms + (wall - s.wall_ms));
            }
        }
        self.pending_wall.clear();
        // A log line inside a dump that was then dropped must not point past the last snapshot.
        let n = self.session.snapshots.len();
        self.session.logs.clamp_after(n);
        let next = Session {
            index: self.sessions.len() + 1,
            ticks_period: self.period,
            ..Session::default()
        };
        std::mem::replace(&mut self.session, next)
    }

    /// Closes the session and starts the next at line `n`, because of `why` (the reset line).
    fn new_session(&mut self, n: u64, why: String) {
        let old = self.close_session();
        self.session.first_line = n;
        self.session.started_by = Some(why);
        self.session.index = self.sessions.len() + usize::from(!old.snapshots.is_empty());
        if !old.snapshots.is_empty() {
            self.sessions.push(old);
        } else {
            // Nothing worth a session: its log lines move to the new one.
            let logs = std::mem::take(&mut self.session.logs);
            self.session.logs = old.logs;
            self.session.logs.append(logs);
            self.session.banner = old.banner;
            self.session.first_line = old.first_line;
        }
        self.clock = None;
        self.last_stamp = None;
    }

    /// Ends the input: closes a dump cut off by the end of the file and returns the capture.
    pub fn finish(mut self) -> (Capture, Warnings) {
        match &self.dump {
            Some(d) if d.implicit => self.finish_dump(End::Implicit),
            Some(d) => {
                let msg = format!(
                    "the file ends inside the dump that starts at line {}; kept as far as it goes",
                    d.line
                );
                let line = self.lines;
                self.warnings.push(W::DumpCutOff, line, msg);
                self.finish_dump(End::CutOff);
            }
            None => {}
        }
        self.flush();
        let last = self.close_session();
        if !last.snapshots.is_empty() || !last.logs.is_empty() || self.sessions.is_empty() {
            let mut last = last;
            last.index = self.sessions.len();
            self.sessions.push(last);
        }
        for (i, s) in self.sessions.iter_mut().enumerate() {
            s.index = i;
        }
        let capture = Capture {
            source: String::new(),
            sessions: self.sessions,
            lines: self.lines,
            bytes: self.bytes,
            offset_digits: self.offset_digits,
        };
        (capture, self.warnings.out)
    }
}

/// ESP-IDF logs (`I (1234) wifi: ...`) landing inside a row glue their level letter to the block
/// characters: give it back to the log text. Returns how many bytes of `body` are block characters.
fn block_chars_len(body: &[u8]) -> usize {
    let n = line::layout_chars_len(body);
    if n > 0 && matches!(body[n - 1], b'E' | b'W' | b'I' | b'D' | b'V') {
        if let Some(tail) = body[n..].strip_prefix(b" (") {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 && tail.get(digits) == Some(&b')') {
                return n - 1;
            }
        }
    }
    n
}

fn is_bare_blocks(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= 64 && s.iter().all(|&c| BlockKind::is_layout_char(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::for_each_line;

    /// A marked dump of one 256-block area at `ticks`: `row` gives each row's characters.
    fn dump(out: &mut String, ticks: u64, row: impl Fn(usize) -> String) {
        out.push_str(&format!(
            "@@@ {ticks}\nGC: total: 4096, used: 2048, free: 2048\n No. of 1-blocks: 9, 2-blocks: 3, max blk sz: 8, max free sz: 40\nGC memory layout; from 3ffb0000:\n"
        ));
        for r in 0..4 {
            out.push_str(&format!("{:08x}: {}\n", r * 0x400, row(r)));
        }
        out.push_str("@@@\n");
    }

    fn row(seed: usize) -> String {
        let kinds = b"h=Sh===....LDT..";
        (0..64)
            .map(|i| kinds[(i * 7 + seed * 13) % kinds.len()] as char)
            .collect()
    }

    fn parse(text: &[u8], batch: Option<usize>) -> (Capture, Warnings, usize) {
        let mut p = Parser::new(ParseOptions::default());
        if let Some(n) = batch {
            p.finish_dumps_in_parallel();
            let pool = p.pool.as_mut().unwrap();
            (pool.max_dumps, pool.max_blocks) = (n, 1 << 20);
        }
        for_each_line(text, |n, line| p.feed(n, line)).unwrap();
        let sent = p.pool.as_ref().map_or(0, |pool| pool.sent);
        let (capture, warnings) = p.finish();
        (capture, warnings, sent)
    }

    #[test]
    fn dumps_finished_in_parallel_give_the_same_index_and_warnings() {
        let mut text = String::from("@@@ 1073740000 (2026, 11, 25, 12, 0, 0, 2, 329)\n");
        // Session 1: ticks wrap at 2^30 on the way; some dumps have unknown characters, some
        // lines between them are not UTF-8 (their warnings must stay in file order).
        for k in 0..12u64 {
            let ticks = (1_073_740_000 + k * 350) % (1 << 30);
            dump(&mut text, ticks, |r| {
                let mut s = row(r + k as usize);
                if k % 4 == 1 && r == 2 {
                    s.replace_range(5..6, "x");
                }
                s
            });
            if k % 3 == 0 {
                text.push_str("app: line noise \n");
            }
        }
        // A reset starts session 2, whose port wraps at 2^29.
        text.push_str("MPY: soft reboot\n");
        for k in 0..8u64 {
            dump(&mut text, ((1 << 29) - 1200 + k * 350) % (1 << 29), |r| {
                row(r * k as usize)
            });
        }
        // A dump pasted at the REPL: no markers, no ticks, a short row mid-table.
        text.push_str(">>> micropython.mem_info(1)\nGC: total: 4096, used: 64, free: 4032\nGC memory layout; from 3ffb0000:\n");
        text.push_str(&format!(
            "00000000: h=..\n00000400: {}\n       (2 lines all free)\n>>> \n",
            ".".repeat(64)
        ));
        for k in 8..16u64 {
            dump(&mut text, ((1 << 29) - 1200 + k * 350) % (1 << 29), |r| {
                row(r + 2 * k as usize)
            });
        }
        // The app's lines end in a byte that is not UTF-8.
        let text = text.replace("noise \n", "noise \u{0}\n").into_bytes();
        let text: Vec<u8> = text
            .iter()
            .map(|&c| if c == 0 { 0xff } else { c })
            .collect();
        let (seq, seq_warnings, _) = parse(&text, None);
        for batch in [1, 3, 7] {
            let (par, par_warnings, sent) = parse(&text, Some(batch));
            assert!(sent >= 29 / batch, "batch {batch}: {sent} batches");
            assert_eq!(par, seq, "batch {batch}");
            assert_eq!(par_warnings, seq_warnings, "batch {batch}");
        }
        // What the input was made to show.
        assert_eq!(seq.sessions.len(), 2);
        let s1 = &seq.sessions[0].snapshots;
        assert_eq!(s1.len(), 12);
        assert_eq!(s1.meta(11).time_ms, 11 * 350, "unwrapped over 2^30");
        let s2 = &seq.sessions[1].snapshots;
        assert_eq!(s2.len(), 17);
        assert!(!s2.meta(8).timed, "the pasted dump");
        let kinds: Vec<W> = seq_warnings.kept().iter().map(|w| w.kind).collect();
        for k in [
            W::UnknownBlockChar,
            W::InvalidUtf8,
            W::TicksWrap,
            W::RowRepaired,
        ] {
            assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
        }
    }
}
