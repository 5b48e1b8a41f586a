//! The capture file: what a board printed while `device/mem_dump.py` ran.
//!
//! [`parse`] reads any `BufRead` in one pass and gives a [`Capture`]: sessions (a reboot or a
//! backwards jump of `ticks_ms` starts a new one), each with its snapshots and log lines in file
//! order, plus the warnings for everything skipped or repaired. Nothing is rendered here; times are
//! unwrapped to milliseconds since the session began, and the timeline decides what is shown when.
//!
//! ```
//! use memanim::capture::{parse, ParseOptions};
//!
//! // One dump as mem_dump.py prints it (a 64-block heap), with a log line before it.
//! let text = "\
//! boot ok
//! @@@ 1000
//! GC: total: 1024, used: 160, free: 864
//!  No. of 1-blocks: 2, 2-blocks: 1, max blk sz: 3, max free sz: 54
//! GC memory layout; from 3ffe0000:
//! 00000000: h=hhBh=h==......................................................
//! @@@
//! ";
//! let (capture, warnings) = parse(text.as_bytes(), "run.log", &ParseOptions::default()).unwrap();
//! assert_eq!(capture.snapshot_count(), 1);
//! assert_eq!(capture.log_count(), 1);
//! let dump = capture.sessions[0].snapshots.get(0);
//! assert_eq!(dump.areas[0].blocks.len(), 64);
//! assert_eq!(dump.figures(16).unwrap().used, 160);
//! assert!(warnings.is_empty(), "{warnings:?}");
//! ```

pub mod line;
pub mod parser;
pub mod source;
pub mod store;

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use crate::cancel::Cancel;
use crate::error::{Error, Result, WarningKind, Warnings};
use crate::heap::{Figures, Snapshot};

pub use parser::Parser;
pub use source::{ReadAhead, Source};
pub use store::{Decoder, LogLine, LogMeta, Logs, SnapshotFlags, Snapshots};

/// Options that change how a capture is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The period at which `ticks_ms` wraps (ms). 2^30 on boards; memanim moves to 2^62 by itself
    /// when it sees a larger value, as the 64-bit unix port prints.
    pub ticks_period: u64,
    /// Time between snapshots that carry no time of their own (ms): dumps pasted from a REPL,
    /// without markers or a terminal's time stamps. They are numbered by file order and spaced
    /// evenly; only the spacing is made up.
    pub untimed_every_ms: i64,
    /// Stops the reading (Ctrl-C in the binary): [`parse`] then returns
    /// [`Error::Interrupted`]. It is checked between chunks of input, so a read waiting for
    /// input stops once that read returns.
    pub cancel: Cancel,
}

/// The spacing of snapshots without a time (ms): one a second.
pub const DEFAULT_UNTIMED_EVERY_MS: i64 = 1000;

/// `time.ticks_ms()` wraps at 2^30 on most ports (`MICROPY_PY_TIME_TICKS_PERIOD`).
pub const DEFAULT_TICKS_PERIOD: u64 = 1 << 30;

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            ticks_period: DEFAULT_TICKS_PERIOD,
            untimed_every_ms: DEFAULT_UNTIMED_EVERY_MS,
            cancel: Cancel::default(),
        }
    }
}

/// [`Session::started_by`] for a session that a second sync line started (the dumper was started
/// again; the board may not have been reset).
pub const NEW_SYNC_LINE: &str = "a new sync line";

/// [`Session::started_by`] for a session that began when `ticks_ms` went back with no message.
pub const TICKS_WENT_BACK: &str = "ticks_ms went back";

impl Session {
    /// True when the session began with a line the board printed as it reset (a banner, `MPY:
    /// soft reboot`, a boot ROM message), not with a second sync line or ticks going back.
    pub fn began_with_reset_line(&self) -> bool {
        self.started_by
            .as_deref()
            .is_some_and(|w| w != NEW_SYNC_LINE && w != TICKS_WENT_BACK)
    }
}

/// Lines longer than this are cut (the rest is skipped with a warning): no real dump line is more
/// than ~90 bytes, and a 100 MB line without a newline must not be held in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Which order the sync line's 8-tuple is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TupleOrder {
    /// `time.localtime()[:8]`: (year, month, mday, hour, minute, second, weekday, yearday).
    Localtime,
    /// `RTC.datetime()`: (year, month, mday, weekday, hour, minute, second, subseconds).
    RtcDatetime,
}

/// Ties a session's ticks to the wall clock: `@@@ <ticks> (<tuple>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPoint {
    pub line: u64,
    pub ticks: u64,
    /// The session time (ms) of `ticks`.
    pub time_ms: i64,
    /// Milliseconds since 1970-01-01 00:00 in the board's local time.
    pub wall_ms: i64,
    pub order: TupleOrder,
}

/// One boot of the board: snapshots and log lines between two resets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Session {
    /// 0-based.
    pub index: usize,
    /// First line of the file that belongs to it.
    pub first_line: u64,
    pub sync: Option<SyncPoint>,
    /// The index of its dumps: `meta(i)` and `figures(i)` from the index, `get(i)` reads the
    /// dump again from the capture, `iter()` all in order.
    pub snapshots: Snapshots,
    /// The index of its log lines: `meta(j)`, and `get(j)` or `text(j)` read the text.
    pub logs: Logs,
    /// The MicroPython banner, when the board printed one.
    pub banner: Option<String>,
    /// What ended the session before: the reset line (`MPY: soft reboot`, a banner, a boot ROM
    /// message), "a new sync line" or "ticks_ms went back". None for the first session.
    pub started_by: Option<String>,
    /// The ticks period used to unwrap this session.
    pub ticks_period: u64,
}

impl Session {
    /// The heap areas this session's dumps show: each distinct pointer with its largest block
    /// count and its block size, by address. Areas belong to a session: after a reset the board
    /// has a new heap, even when it lands at the same address.
    pub fn areas(&self) -> Vec<(u64, usize, u32)> {
        let mut out: Vec<(u64, usize, u32)> = Vec::new();
        for i in 0..self.snapshots.len() {
            for (ptr, len, block_size) in self.snapshots.area_sizes(i) {
                match out.iter_mut().find(|(p, _, _)| *p == ptr) {
                    Some(slot) => slot.1 = slot.1.max(len),
                    None => out.push((ptr, len, block_size)),
                }
            }
        }
        out.sort_by_key(|a| a.0);
        out
    }

    /// The figures of snapshot `i` ([`Snapshot::figures`]): from its summary lines when they
    /// say enough, so most dumps are not decoded. `block_size` is the capture's, for a dump
    /// printed without its table.
    pub fn figures(&self, i: usize, block_size: u32) -> Option<Figures> {
        self.snapshots.figures(i, block_size)
    }

    /// Milliseconds from the first to the last snapshot.
    pub fn span_ms(&self) -> i64 {
        match self.snapshots.len() {
            0 => 0,
            n => self.snapshots.meta(n - 1).time_ms - self.snapshots.meta(0).time_ms,
        }
    }
}

/// A whole capture file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capture {
    /// The name the user gave ("-" for stdin).
    pub source: String,
    pub sessions: Vec<Session>,
    pub lines: u64,
    pub bytes: u64,
    /// Hex digits of the layout offsets (5 before v1.20, 8 since); 0 when no row was seen.
    pub offset_digits: u8,
}

impl Capture {
    pub fn snapshot_count(&self) -> usize {
        self.sessions.iter().map(|s| s.snapshots.len()).sum()
    }

    pub fn log_count(&self) -> usize {
        self.sessions.iter().map(|s| s.logs.len()).sum()
    }

    /// The block size for figures of dumps printed without a table: what the capture's tables
    /// show, else 16 bytes (32-bit ports, most boards).
    pub fn figures_block_size(&self) -> u32 {
        self.block_size().unwrap_or(16)
    }

    /// The block size (bytes) the capture's layout tables show: that of the first area printed.
    pub fn block_size(&self) -> Option<u32> {
        self.sessions.iter().find_map(|s| {
            (0..s.snapshots.len()).find_map(|i| s.snapshots.area_sizes(i).next().map(|a| a.2))
        })
    }

    /// Every snapshot (decoded) with its session index, in file order.
    pub fn snapshots(&self) -> impl Iterator<Item = (usize, Snapshot)> + '_ {
        self.sessions
            .iter()
            .flat_map(|s| s.snapshots.iter().map(move |snap| (s.index, snap)))
    }

    /// The figures of every snapshot (without blocks), with its session index, in file order.
    pub fn metas(&self) -> impl Iterator<Item = (usize, Snapshot)> + '_ {
        self.sessions
            .iter()
            .flat_map(|s| (0..s.snapshots.len()).map(move |i| (s.index, s.snapshots.meta(i))))
    }
}

/// Reads a capture in one pass. `source` names it in errors and warnings.
///
/// Fails only when the input cannot be read or holds no heap dump at all; everything else that is
/// wrong with it becomes a warning and the rest is still used.
///
/// The capture is indexed, not kept: its dumps are read again when a frame needs one, so the
/// reader's bytes are copied to an unnamed temporary file as they are read (see [`Source`]); a
/// file on disk is better given to [`parse_path`], which reads it where it is.
pub fn parse<R: BufRead>(
    reader: R,
    source: &str,
    options: &ParseOptions,
) -> Result<(Capture, Warnings)> {
    let read_err = read_error(source);
    let mut spool = source::Spool::new(reader).map_err(read_err)?;
    let parsed = index(&mut spool, source, options)?;
    let spooled = spool.finish().map_err(read_err)?;
    finish(parsed, spooled, source, options)
}

/// An I/O failure while reading the capture called `source`.
fn read_error(source: &str) -> impl Fn(std::io::Error) -> Error + Copy + '_ {
    move |e| Error::Read {
        path: source.to_string(),
        source: e,
    }
}

/// Reads the capture file at `path`, named `source` in messages: indexed in one pass, its dumps
/// read again from the file when needed. A file that grows meanwhile (a live capture) is read up
/// to where it was when the index was made.
pub fn parse_path(
    path: &Path,
    source: &str,
    options: &ParseOptions,
) -> Result<(Capture, Warnings)> {
    let read_err = read_error(source);
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut src = Source::open(path).map_err(read_err)?;
    let parsed = index(
        &mut source::ReadAhead::new(file).map_err(read_err)?,
        source,
        options,
    )?;
    src.set_len(parsed.0.bytes);
    finish(parsed, src, source, options)
}

/// The index pass: every line through the parser.
fn index(
    reader: &mut impl BufRead,
    source: &str,
    options: &ParseOptions,
) -> Result<(Capture, Warnings, Option<Vec<u8>>)> {
    let mut parser = Parser::new(options.clone());
    parser.finish_dumps_in_parallel();
    let reader = source::Cancellable::new(reader, &options.cancel);
    for_each_line(reader, |n, line| parser.feed(n, line)).map_err(|e| {
        if options.cancel.is_cancelled() {
            Error::Interrupted
        } else {
            Error::Read {
                path: source.to_string(),
                source: e,
            }
        }
    })?;
    let prefix = parser.learned_prefix().map(<[u8]>::to_vec);
    let (capture, warnings) = parser.finish();
    Ok((capture, warnings, prefix))
}

/// Ties the index to the bytes it was made from, and refuses a capture with no dump.
fn finish(
    (mut capture, warnings, prefix): (Capture, Warnings, Option<Vec<u8>>),
    bytes: Source,
    source: &str,
    options: &ParseOptions,
) -> Result<(Capture, Warnings)> {
    let decoder = Arc::new(Decoder::new(bytes, options.clone(), prefix));
    for s in &mut capture.sessions {
        s.snapshots.attach(&decoder);
        s.logs.attach(&decoder);
    }
    capture.source = source.to_string();
    if capture.snapshot_count() == 0 {
        let detail = if parser_binary(&warnings, &capture) {
            "it does not look like text (a binary file?)".to_string()
        } else if warnings.count(WarningKind::DumpDropped) > 0 {
            // The caller never prints the warnings of a capture it could not use: say why here.
            let first = warnings
                .kept()
                .iter()
                .find(|w| w.kind == WarningKind::DumpDropped)
                .map_or(String::new(), |w| format!(": {w}"));
            format!(
                "{} unusable{first}",
                crate::units::count(
                    warnings.count(WarningKind::DumpDropped),
                    "dump was",
                    "dumps were"
                )
            )
        } else if capture.bytes == 0 {
            "the file is empty".to_string()
        } else {
            String::new()
        };
        return Err(Error::NoDumps {
            path: source.to_string(),
            lines: capture.lines,
            detail,
        });
    }
    Ok((capture, warnings))
}

/// Calls `f(line_number, line)` for each line, without its `\n`. A line longer than
/// [`MAX_LINE_BYTES`] is passed cut to that length with `cut_from` set, so memory stays bounded
/// whatever the input.
pub(crate) fn for_each_line<R: BufRead>(
    mut reader: R,
    mut f: impl FnMut(u64, LineBytes<'_>),
) -> std::io::Result<()> {
    let mut partial = Partial::default();
    let mut line_no = 0u64;
    let mut nl: Option<u8> = None;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !partial.is_empty() {
                line_no += 1;
                f(line_no, partial.line(true));
            }
            return Ok(());
        }
        let len = chunk.len();
        let nl = *nl.get_or_insert_with(|| line_end(chunk));
        // Most chunks hold no NUL byte at all: their lines need no search of their own.
        let chunk_nul = memchr::memchr(0, chunk).is_some();
        let mut start = 0;
        for end in memchr::memchr_iter(nl, chunk) {
            line_no += 1;
            if partial.is_empty() {
                // Whole lines inside the buffer are passed without copying.
                let bytes = &chunk[start..end];
                f(
                    line_no,
                    LineBytes {
                        bytes,
                        cut_from: None,
                        nul: chunk_nul && memchr::memchr(0, bytes).is_some(),
                        unterminated: false,
                    },
                );
            } else {
                partial.extend(&chunk[start..end]);
                f(line_no, partial.line(false));
                partial.clear();
            }
            start = end + 1;
        }
        // A partial line waits for the next chunk, up to the limit.
        partial.extend(&chunk[start..]);
        reader.consume(len);
    }
}

/// What ends lines, judged from the first chunk: `\n` (LF or CRLF), or `\r` when the chunk has
/// no `\n` but has a `\r` followed by something (old Mac files, some terminal loggers); a chunk
/// that ends in `\r` may be cut between the two bytes of a CRLF.
fn line_end(chunk: &[u8]) -> u8 {
    let cr_only = memchr::memchr(b'\n', chunk).is_none()
        && memchr::memchr(b'\r', &chunk[..chunk.len().saturating_sub(1)]).is_some();
    if cr_only {
        b'\r'
    } else {
        b'\n'
    }
}

/// A line begun in one chunk and continued in the next, kept up to [`MAX_LINE_BYTES`].
#[derive(Default)]
struct Partial {
    buf: Vec<u8>,
    /// Bytes past the limit were dropped.
    cut: bool,
    /// The line's length as read, cut bytes included.
    total: u64,
}

impl Partial {
    fn is_empty(&self) -> bool {
        self.buf.is_empty() && !self.cut
    }

    /// Adds `bytes`, keeping at most [`MAX_LINE_BYTES`] in all.
    fn extend(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
        if bytes.len() > room {
            self.cut = true;
        }
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.total += bytes.len() as u64;
    }

    /// Empties it for the next line, keeping its buffer.
    fn clear(&mut self) {
        self.buf.clear();
        self.cut = false;
        self.total = 0;
    }

    fn line(&self, unterminated: bool) -> LineBytes<'_> {
        LineBytes {
            bytes: &self.buf,
            cut_from: self.cut.then_some(self.total),
            nul: memchr::memchr(0, &self.buf).is_some(),
            unterminated,
        }
    }
}

/// Most lines were invalid UTF-8 or held NUL bytes: a binary file, not a capture.
fn parser_binary(warnings: &Warnings, capture: &Capture) -> bool {
    let bad = warnings.count(WarningKind::InvalidUtf8) + warnings.count(WarningKind::Binary);
    capture.lines > 0 && bad * 4 >= capture.lines
}

/// One physical line as read. `cut_from` is set (to the line's real length) when it was longer than
/// [`MAX_LINE_BYTES`] and only its start is in `bytes`.
#[derive(Debug, Clone, Copy)]
pub struct LineBytes<'a> {
    pub bytes: &'a [u8],
    pub cut_from: Option<u64>,
    /// It holds a NUL byte (line noise, or a binary file): whoever splits the lines knows it
    /// cheaply, with one search of a whole chunk.
    pub nul: bool,
    /// The input ended before its line break: the last line of a file still being written may
    /// be cut anywhere, even mid-number.
    pub unterminated: bool,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (valid for any year).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day, hour, minute, second, millisecond) of ms since 1970.
pub fn civil_from_ms(ms: i64) -> [i64; 7] {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    [
        y,
        m,
        d,
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    ]
}

/// `YYYY-MM-DD HH:MM:SS` (with `.mmm` when `millis`).
pub fn format_wall(ms: i64, millis: bool) -> String {
    let [y, mo, d, h, mi, s, ms] = civil_from_ms(ms);
    if millis {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid_date(y: i64, m: i64, d: i64) -> bool {
    (1970..=2200).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// Monday = 0, as MicroPython's `localtime` counts.
fn weekday(y: i64, m: i64, d: i64) -> i64 {
    (days_from_civil(y, m, d) + 3).rem_euclid(7)
}

/// Reads a sync tuple in whichever order is valid, preferring the one whose weekday and yearday
/// agree with the date. Returns the wall time in ms and the order, or None when neither order fits.
pub fn read_sync_tuple(t: &[i64; 8]) -> Option<(i64, TupleOrder)> {
    let (y, mo, d) = (t[0], t[1], t[2]);
    if !valid_date(y, mo, d) {
        return None;
    }
    let wd = weekday(y, mo, d);
    let yd = days_from_civil(y, mo, d) - days_from_civil(y, 1, 1) + 1;
    let time_ok = |h: i64, mi: i64, s: i64| {
        (0..24).contains(&h) && (0..60).contains(&mi) && (0..60).contains(&s)
    };
    let local_ok = time_ok(t[3], t[4], t[5]) && (0..7).contains(&t[6]) && (1..=366).contains(&t[7]);
    let rtc_ok = (0..=7).contains(&t[3]) && time_ok(t[4], t[5], t[6]) && t[7] >= 0;
    let local_exact = local_ok && t[6] == wd && t[7] == yd;
    let rtc_exact = rtc_ok && (t[3] == wd || t[3] == wd + 1);
    let order = if local_exact || (local_ok && !rtc_exact) {
        TupleOrder::Localtime
    } else if rtc_ok {
        TupleOrder::RtcDatetime
    } else {
        return None;
    };
    let (h, mi, s, ms) = match order {
        TupleOrder::Localtime => (t[3], t[4], t[5], 0),
        // Subseconds count down from 255 on stm32 and are microseconds elsewhere: too port-specific
        // to trust, so they are dropped.
        TupleOrder::RtcDatetime => (t[4], t[5], t[6], 0),
    };
    let ms_total = days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms;
    Some((ms_total, order))
}
