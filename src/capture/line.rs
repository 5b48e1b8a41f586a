//! Classifies one line of a capture, without any state: a dump marker, a mem_info summary line, a
//! layout row, a run of free rows, a reboot or banner, or anything else (an app log line).
//!
//! Works on bytes, since serial captures carry invalid UTF-8; the caller has already removed the line
//! ending and any foreign prefix it learned.

use crate::heap::{BlockKind, GcSummary, MemStats, StackStats};

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// `@@@ <ticks>`: a dump starts.
    DumpStart {
        ticks: u64,
    },
    /// `@@@ <ticks> (<8 integers>)`: the sync line before the first dump of a session.
    Sync {
        ticks: u64,
        tuple: [i64; 8],
    },
    /// `@@@`: the dump ends.
    DumpEnd,
    /// `@@@ <ticks> | message`: an app log line stamped by the device helper.
    TimedLog {
        ticks: u64,
        text: &'a [u8],
    },
    /// A line that starts with `@@@` but is none of the above.
    BadMarker,
    Mem(MemStats),
    Stack(StackStats),
    Gc(GcSummary),
    /// ` No. of 1-blocks: a, 2-blocks: b, max blk sz: c, max free sz: d`
    BlockCounts {
        one: Option<u64>,
        two: Option<u64>,
        max_block: Option<u64>,
        max_free: Option<u64>,
    },
    /// `GC memory layout; from <ptr>:`
    AreaHeader {
        ptr: u64,
    },
    /// `<offset>: <blocks>`; `body` is everything after `": "`: block characters, and possibly text
    /// another writer put on the same line (see [`layout_chars_len`]).
    Row {
        offset: u64,
        digits: u8,
        body: &'a [u8],
    },
    /// `       (N lines all free)`
    FreeRows(u64),
    /// `MPY: soft reboot`, a hard-reset message from the boot ROM, or the like.
    Reboot,
    /// `MicroPython v1.23.0 on 2024-06-02; ...`
    Banner,
    /// Anything else.
    Text,
}

impl Line<'_> {
    /// True for the `@@@` marker forms.
    pub fn is_marker(&self) -> bool {
        matches!(
            self,
            Line::DumpStart { .. } | Line::Sync { .. } | Line::DumpEnd | Line::TimedLog { .. }
        )
    }
}

/// Classifies a line that has no line ending and no foreign prefix.
pub fn classify(s: &[u8]) -> Line<'_> {
    let Some(&first) = s.first() else {
        return Line::Text;
    };
    match first {
        b'@' if s.starts_with(b"@@@") => classify_marker(&s[3..]),
        b'm' if s.starts_with(b"mem: ") => parse_mem(&s[5..]).map_or(Line::Text, Line::Mem),
        b's' if s.starts_with(b"stack: ") => parse_stack(&s[7..]).map_or(Line::Text, Line::Stack),
        b'G' if s.starts_with(b"GC: ") => parse_gc(&s[4..]).map_or(Line::Text, Line::Gc),
        b'G' if s.starts_with(b"GC memory layout; from ") => {
            parse_area_header(&s[23..]).map_or(Line::Text, |ptr| Line::AreaHeader { ptr })
        }
        b' ' => classify_indented(s),
        b'M' if s.starts_with(b"MPY: soft reboot") => Line::Reboot,
        b'M' if s.starts_with(b"MicroPython ") && contains(s, b" on ") => Line::Banner,
        b'r' if s.starts_with(b"rst:0x") => Line::Reboot,
        b'e' if s.starts_with(b"ets ") && contains(s, b"rst:") => Line::Reboot,
        c if c.is_ascii_hexdigit() => parse_row(s).unwrap_or(Line::Text),
        _ => Line::Text,
    }
}

fn classify_marker(s: &[u8]) -> Line<'_> {
    let s = trim_end(s);
    if s.is_empty() {
        return Line::DumpEnd;
    }
    let Some(s) = s.strip_prefix(b" ") else {
        return Line::BadMarker;
    };
    let s = trim_start(s);
    let (ticks, rest) = match take_uint(s) {
        Some(v) => v,
        None => return Line::BadMarker,
    };
    let rest = trim_start(rest);
    if rest.is_empty() {
        return Line::DumpStart { ticks };
    }
    if let Some(text) = rest.strip_prefix(b"|") {
        let text = text.strip_prefix(b" ").unwrap_or(text);
        return Line::TimedLog { ticks, text };
    }
    if rest.first() == Some(&b'(') && rest.last() == Some(&b')') {
        if let Some(tuple) = parse_tuple(&rest[1..rest.len() - 1]) {
            return Line::Sync { ticks, tuple };
        }
    }
    Line::BadMarker
}

/// ` No. of ...` or `       (N lines all free)`: both start with spaces.
fn classify_indented(s: &[u8]) -> Line<'_> {
    let t = trim_start(s);
    if let Some(rest) = t.strip_prefix(b"No. of ") {
        let mut one = None;
        let mut two = None;
        let mut max_block = None;
        let mut max_free = None;
        for (key, value) in fields(rest) {
            match key {
                b"1-blocks" => one = Some(value),
                b"2-blocks" => two = Some(value),
                b"max blk sz" => max_block = Some(value),
                b"max free sz" => max_free = Some(value),
                _ => {}
            }
        }
        if one.is_none() && max_block.is_none() {
            return Line::Text;
        }
        return Line::BlockCounts {
            one,
            two,
            max_block,
            max_free,
        };
    }
    if let Some(rest) = t.strip_prefix(b"(") {
        if let Some((n, tail)) = take_uint(rest) {
            if trim_end(tail) == b" lines all free)" {
                return Line::FreeRows(n);
            }
        }
    }
    Line::Text
}

fn parse_row(s: &[u8]) -> Option<Line<'_>> {
    // Nearly every row has v1.20's 8 hex digits: read without a branch per digit.
    if let Some(&[.., b':', b' ']) = s.get(..10) {
        if let Some(offset) = hex_value(&s[..8]) {
            return Some(Line::Row {
                offset,
                digits: 8,
                body: &s[10..],
            });
        }
    }
    let digits = s
        .iter()
        .take(17)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if !(4..=16).contains(&digits) || s.get(digits) != Some(&b':') {
        return None;
    }
    let offset = hex_value(&s[..digits])?;
    let body = &s[digits + 1..];
    let body = body.strip_prefix(b" ")?;
    Some(Line::Row {
        offset,
        digits: digits as u8,
        body,
    })
}

/// How many bytes at the start of a row's body are block characters.
pub fn layout_chars_len(body: &[u8]) -> usize {
    // Nearly every row is block characters to its end: that is checked for the whole row at
    // once, with no branch per character (the compiler makes it a few vector operations).
    let bad = body
        .iter()
        .fold(0u8, |bad, &c| bad | u8::from(!BlockKind::is_layout_char(c)));
    if bad == 0 {
        return body.len();
    }
    body.iter()
        .take_while(|&&c| BlockKind::is_layout_char(c))
        .count()
}

fn parse_area_header(s: &[u8]) -> Option<u64> {
    let s = trim_end(s);
    let s = s.strip_suffix(b":").unwrap_or(s);
    let s = s
        .strip_prefix(b"0x")
        .or_else(|| s.strip_prefix(b"0X"))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    hex_value(s)
}

/// The value of up to 16 hex digits; None for anything else.
fn hex_value(s: &[u8]) -> Option<u64> {
    if s.len() > 16 {
        return None;
    }
    let (mut v, mut bad) = (0u64, 0u8);
    for &c in s {
        let d = HEX_DIGIT[c as usize];
        bad |= d;
        v = v << 4 | (d & 0xf) as u64;
    }
    (bad & NOT_HEX == 0).then_some(v)
}

/// The value of each hex digit; [`NOT_HEX`] for any other byte.
static HEX_DIGIT: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => NOT_HEX,
        };
        c += 1;
    }
    t
};
const NOT_HEX: u8 = 0x80;

fn parse_mem(s: &[u8]) -> Option<MemStats> {
    let mut m = MemStats::default();
    let mut seen = 0;
    for (k, v) in fields(s) {
        match k {
            b"total" => m.total = v,
            b"current" => m.current = v,
            b"peak" => m.peak = v,
            _ => continue,
        }
        seen += 1;
    }
    (seen > 0).then_some(m)
}

fn parse_stack(s: &[u8]) -> Option<StackStats> {
    let (used, rest) = take_uint(trim_start(s))?;
    let rest = trim_end(rest);
    let limit = match rest.strip_prefix(b" out of ") {
        Some(l) => Some(take_uint(l)?.0),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some(StackStats { used, limit })
}

fn parse_gc(s: &[u8]) -> Option<GcSummary> {
    let mut g = GcSummary::default();
    let mut seen = 0;
    for (k, v) in fields(s) {
        match k {
            b"total" => g.total = v,
            b"used" => g.used = v,
            b"free" => g.free = v,
            b"max new split" => g.max_new_split = Some(v),
            _ => continue,
        }
        seen += 1;
    }
    (seen >= 3).then_some(g)
}

/// `key: value, key=value, ...` pairs whose value is an unsigned integer.
fn fields(s: &[u8]) -> impl Iterator<Item = (&[u8], u64)> {
    s.split(|&c| c == b',').filter_map(|part| {
        let sep = part.iter().position(|&c| c == b':' || c == b'=')?;
        let key = trim_start(trim_end(&part[..sep]));
        let (v, rest) = take_uint(trim_start(&part[sep + 1..]))?;
        trim_end(rest).is_empty().then_some((key, v))
    })
}

fn parse_tuple(s: &[u8]) -> Option<[i64; 8]> {
    let mut out = [0i64; 8];
    let mut n = 0;
    for part in s.split(|&c| c == b',') {
        let part = trim_start(trim_end(part));
        if part.is_empty() && n == 8 {
            continue; // a trailing comma
        }
        if n == 8 {
            return None;
        }
        let (neg, digits) = match part.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, part),
        };
        let (v, rest) = take_uint(digits)?;
        if !rest.is_empty() || v > i64::MAX as u64 {
            return None;
        }
        out[n] = if neg { -(v as i64) } else { v as i64 };
        n += 1;
    }
    (n == 8).then_some(out)
}

/// A decimal number at the start of `s` and what follows it; None on no digits or overflow.
pub fn take_uint(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[..n] {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some((v, &s[n..]))
}

pub fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &s[n..]
}

pub fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    &s[..s.len() - n]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A prefix that whatever showed the serial port put before a line: a debug probe's channel
/// (`" 0> "`), a serial monitor's time (`[12:01:02.345] `, `12:01:02.345 -> `), a log viewer's
/// level (`[INFO] `), a REPL prompt (`>>> `) or paste-mode echo (`=== `).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// Bytes to skip.
    pub len: usize,
    /// The time it carries: ms since midnight, or since 1970 when it has a date too.
    pub time: Option<Stamp>,
}

/// A time read off a line prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub ms: i64,
    /// True when `ms` counts from 1970 (the prefix had a date); false when from midnight, or
    /// from an uptime counter (`[  12.345]`).
    pub dated: bool,
}

/// Reads a known prefix shape at the start of `s`, if the rest of the line is something memanim
/// reads (a marker or a line of a dump). The rest decides: a log line that merely starts with a
/// bracket or a time keeps its text. Between the prefix and the rest, one space (or an arrow,
/// ` -> `) is the separator; mem_info's own indented lines (` No. of`, `       (N lines all
/// free)`) keep their indent, so the shortest separator that makes sense of the rest wins.
pub fn split_prefix(s: &[u8]) -> Option<Prefix> {
    // The indent is the fallback: an indented `GC: total: ...` also looks like a level word
    // ("GC:") followed by text. A tab before ` No. of` must go but the space stay, so every
    // share of the indent is tried, longest first.
    let indent = s.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    let tokens =
        std::iter::once(prefix_token(s)).chain((1..=indent).rev().map(|k| Some((k, None))));
    tokens.flatten().find_map(|(end, time)| {
        let after = &s[end..];
        separators(after).into_iter().find_map(|sep| {
            let rest = &after[sep..];
            (!rest.is_empty() && classify(rest) != Line::Text).then_some(Prefix {
                len: end + sep,
                time,
            })
        })
    })
}

/// `s` after a prefix shape and its separator (or all of `s` when it has none), for reading what a
/// terminal's stamp is put before: `10:00:03.100 -> >>> del a` is a prompt.
pub fn after_prefix(s: &[u8]) -> &[u8] {
    match prefix_token(s) {
        // The longest separator: the text itself starts after every blank.
        Some((end, _)) => &s[end + separators(&s[end..]).into_iter().max().unwrap_or(0)..],
        None => s,
    }
}

/// True when `s` is nothing but a prefix shape (and spaces): a blank line as a terminal showed it.
pub fn is_bare_prefix(s: &[u8]) -> bool {
    let rest = after_prefix(s);
    rest.len() < s.len() && trim_start(rest).is_empty()
}

/// The longest prefix shape memanim recognises (bytes).
const MAX_PREFIX_SHAPE: usize = 48;

/// Where the prefix's own token ends (before its separator), and the time it carries. The
/// shapes, after any indent: a REPL prompt or paste-mode echo (`>>>`, `===`, `...`), a markdown
/// quote (`>`, `> >`), a probe's channel (`0>`), anything in brackets (`[12:01:02.345]`,
/// `[  12.345]`, `[INFO]`, `<inf>`), ESP-IDF's `I (1234)`, a level word and colon (`INFO:`), a
/// time with or without a date; else the indent alone (a markdown code block).
fn prefix_token(s: &[u8]) -> Option<(usize, Option<Stamp>)> {
    let lead = s.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    let t = &s[lead..];
    let head = &t[..t.len().min(MAX_PREFIX_SHAPE)];
    let token = |len: usize| Some((lead + len, None));
    for p in [&b">>>"[..], b"===", b"..."] {
        if t.starts_with(p) {
            return token(p.len());
        }
    }
    if t.first() == Some(&b'>') {
        // A markdown quote, maybe nested: "> ", "> > ".
        let mut len = 1;
        while t.get(len) == Some(&b' ') && t.get(len + 1) == Some(&b'>') {
            len += 2;
        }
        return token(len);
    }
    let digits = head.iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=2).contains(&digits) && head.get(digits) == Some(&b'>') {
        return token(digits + 1);
    }
    // A time or level in brackets (`[2026-11-25 21:04:21.123]`, `[  12.345]`, `[INFO]`), or a
    // level word in angle brackets (`<inf>`): short, so markup (`<!-- ... -->`) is not a prefix.
    if head.first() == Some(&b'[') {
        let end = head.iter().take(32).position(|&c| c == b']')?;
        return Some((lead + end + 1, stamp(trim_start(&head[1..end]))));
    }
    if head.first() == Some(&b'<') {
        let end = head.iter().take(12).position(|&c| c == b'>')?;
        return head[1..end]
            .iter()
            .all(u8::is_ascii_alphanumeric)
            .then_some((lead + end + 1, None));
    }
    if head.len() > 4
        && matches!(head[0], b'E' | b'W' | b'I' | b'D' | b'V')
        && head[1] == b' '
        && head[2] == b'('
    {
        let d = head[3..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 && head.get(3 + d) == Some(&b')') {
            return token(4 + d);
        }
    }
    let word = head.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if (2..=10).contains(&word) && head.get(word) == Some(&b':') {
        return token(word + 1);
    }
    if let Some((time, used)) = stamp_prefix(head) {
        return Some((lead + used, Some(time)));
    }
    (lead > 0).then_some((lead, None))
}

/// The separators to try after a prefix's token, shortest first: none, an arrow or a bar
/// between spaces (` -> `, ` | `, ` - `), one space, every blank.
fn separators(after: &[u8]) -> Vec<usize> {
    let blanks = after
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    let mut out = vec![0];
    if blanks > 0 {
        for arrow in [&b"-> "[..], b"| ", b"- "] {
            if after[blanks..].starts_with(arrow) {
                let at = blanks + arrow.len();
                let more = after[at..].iter().take_while(|&&c| c == b' ').count();
                out.extend([at, at + more]);
            }
        }
        out.extend([1, blanks]);
    }
    out
}

/// The whole of `s` as a time: see [`stamp_prefix`].
fn stamp(s: &[u8]) -> Option<Stamp> {
    let s = trim_end(s);
    match stamp_prefix(s) {
        Some((t, used)) if used == s.len() => Some(t),
        _ => None,
    }
}

/// A time at the start of `s`: `HH:MM:SS[.mmm]`, `YYYY-MM-DD HH:MM:SS[.mmm]` (or with `T`), or
/// an uptime in seconds `12.345`; with how many bytes it took.
fn stamp_prefix(s: &[u8]) -> Option<(Stamp, usize)> {
    // A date that starts the line must be a real one, and a clock must follow it.
    let dated = has_date_shape(s);
    let (day_ms, at) = if dated { (date_ms(s)?, 11) } else { (0, 0) };
    if let Some((ms, end)) = clock(s, at) {
        return Some((
            Stamp {
                ms: day_ms + ms,
                dated,
            },
            end,
        ));
    }
    if dated {
        return None;
    }
    uptime(s)
}

/// True when `s` starts like `YYYY-MM-DD ` or `YYYY-MM-DDT`, digits or not.
fn has_date_shape(s: &[u8]) -> bool {
    s.len() >= 11 && s[4] == b'-' && s[7] == b'-' && (s[10] == b' ' || s[10] == b'T')
}

/// The date at the start of `s` (shaped as [`has_date_shape`] checks), as ms since 1970; None
/// when it is not digits or not a possible month and day.
fn date_ms(s: &[u8]) -> Option<i64> {
    let (y, m, d) = (number(s, 0..4)?, number(s, 5..7)?, number(s, 8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(super::days_from_civil(y, m, d) * 86_400_000)
}

/// A clock `HH:MM:SS[.mmm]` (or with `,`) at `at` in `s`, as ms since midnight, with where it
/// ends.
fn clock(s: &[u8], at: usize) -> Option<(i64, usize)> {
    if s.get(at + 2) != Some(&b':') || s.get(at + 5) != Some(&b':') {
        return None;
    }
    let (h, mi, sec) = (
        number(s, at..at + 2)?,
        number(s, at + 3..at + 5)?,
        number(s, at + 6..at + 8)?,
    );
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = ((h * 60 + mi) * 60 + sec) * 1000;
    let mut end = at + 8;
    if matches!(s.get(end), Some(b'.' | b',')) {
        let (frac_ms, frac) = fraction(&s[end + 1..]);
        if frac > 0 {
            ms += frac_ms;
            end += 1 + frac;
        }
    }
    Some((ms, end))
}

/// An uptime in seconds at the start of `s`, as `[  12.345678]` (kernel-style) prints it:
/// digits, a point, digits.
fn uptime(s: &[u8]) -> Option<(Stamp, usize)> {
    let int = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 || int > 9 || s.get(int) != Some(&b'.') {
        return None;
    }
    let (frac_ms, frac) = fraction(&s[int + 1..]);
    if frac == 0 {
        return None;
    }
    let ms = number(s, 0..int)? * 1000 + frac_ms;
    Some((Stamp { ms, dated: false }, int + 1 + frac))
}

/// The digits of `s` in `r` as a number; None unless they are all there and all digits.
fn number(s: &[u8], r: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(r)?;
    part.iter().all(u8::is_ascii_digit).then(|| decimal(part))
}

/// The digits that start `s`, read as the fraction of a second after a point: its ms (cut
/// after the third digit, not rounded), and how many digits there were.
fn fraction(s: &[u8]) -> (i64, usize) {
    let frac = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = &s[..frac.min(3)];
    (decimal(digits) * 10i64.pow(3 - digits.len() as u32), frac)
}

/// Digits (checked by the caller) as a number.
fn decimal(digits: &[u8]) -> i64 {
    digits.iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64)
}

/// True for a REPL prompt line: `>>>` alone or followed by what the user typed.
pub fn is_prompt(s: &[u8]) -> bool {
    s.starts_with(b">>>") && (s.len() == 3 || s[3] == b' ')
}

/// Finds a `@@@` marker after a foreign prefix (a debug probe's `" 0> "`, a timestamp a terminal
/// program added): returns the prefix length when the rest of the line is a marker.
pub fn foreign_prefix_len(s: &[u8]) -> Option<usize> {
    let limit = s.len().min(MAX_FOREIGN_PREFIX + 3);
    let p = s[..limit].windows(3).position(|w| w == b"@@@")?;
    (p > 0 && classify_marker(&s[p + 3..]).is_marker()).then_some(p)
}

/// The longest foreign prefix memanim will learn.
pub const MAX_FOREIGN_PREFIX: usize = 24;

/// An asctime (`YYYY-MM-DD HH:MM:SS,mmm` or with `.`) at the start of a log line, as
/// (year, month, day, hour, minute, second, millisecond).
pub fn leading_asctime(s: &[u8]) -> Option<[i64; 7]> {
    if s.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64))
    };
    if s[4] != b'-'
        || s[7] != b'-'
        || !(s[10] == b' ' || s[10] == b'T')
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let ms = if s.len() >= 23 && (s[19] == b',' || s[19] == b'.') {
        num(20..23)?
    } else {
        0
    };
    Some([
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        ms,
    ])
}

/// True for a log line that reports a failed allocation of the MicroPython heap.
///
/// `MemoryError` anywhere as a word (a traceback's last line, an app's own message) and
/// MicroPython's own `memory allocation failed`; an app's "cannot allocate 1100000-byte buffer"
/// counts when it gives a size, and "out of memory" counts. A line that counts errors ("no
/// MemoryError", "MemoryErrors since boot: 0", "MemoryError count: 3") is not one. ESP-IDF's log
/// lines (`E (1234) wifi: ...`) are about the C heap, not the GC heap, and count only when they
/// say MemoryError.
pub fn is_memory_error(text: &[u8]) -> bool {
    // Every log line is asked: most have none of the words, and say so fast.
    if memchr::memmem::find_iter(text, b"MemoryError").any(|at| names_an_error(text, at)) {
        return true;
    }
    if memchr::memmem::find(text, b"lloc").is_none()
        && memchr::memmem::find(text, b"emory").is_none()
    {
        return false;
    }
    let text = &String::from_utf8_lossy(text);
    if is_esp_idf_log(text) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    lower.contains("memory allocation failed")
        || lower.contains("out of memory")
        || ([
            "cannot allocate",
            "could not allocate",
            "failed to allocate",
            "unable to allocate",
        ]
        .iter()
        .any(|p| lower.contains(p))
            && requested_bytes(text).is_some())
}

/// Whether the `MemoryError` at `at` reports one: a whole word, not a count of them.
fn names_an_error(text: &[u8], at: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let end = at + b"MemoryError".len();
    if text[..at].last().is_some_and(word) || text.get(end).is_some_and(word) {
        return false;
    }
    let before = String::from_utf8_lossy(&text[..at]).to_ascii_lowercase();
    let after = String::from_utf8_lossy(&text[end..]).to_ascii_lowercase();
    let prev_word = before.split_whitespace().last().unwrap_or("");
    let next_word = after
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    !matches!(prev_word, "no" | "zero" | "without" | "any")
        && !matches!(next_word, "count" | "counter" | "counts" | "total" | "rate")
}

/// `E (1234) tag: ...`, ESP-IDF's log format.
fn is_esp_idf_log(text: &str) -> bool {
    let b = text.trim_start().as_bytes();
    b.len() > 4
        && matches!(b[0], b'E' | b'W' | b'I' | b'D' | b'V')
        && b[1] == b' '
        && b[2] == b'('
        && b[3].is_ascii_digit()
}

/// The bytes a failed allocation asked for, when the line says: MicroPython's `allocating N
/// bytes`, else `N bytes`, `N-byte`, `bytearray(N)` or `bytes(N)`. Element counts
/// (`list(2400)`) are not bytes and are not read.
pub fn requested_bytes(text: &str) -> Option<u64> {
    let num_before = |end: usize| -> Option<u64> {
        let digits = text[..end]
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count();
        (digits > 0 && digits <= 15)
            .then(|| text[end - digits..end].parse().ok())
            .flatten()
    };
    let num_after = |start: usize| -> Option<u64> {
        let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0 && digits <= 15)
            .then(|| text[start..start + digits].parse().ok())
            .flatten()
    };
    if let Some(at) = text.find("allocating ") {
        if let Some(n) = num_after(at + "allocating ".len()) {
            return Some(n);
        }
    }
    for call in ["bytearray(", "bytes("] {
        if let Some(at) = text.find(call) {
            if let Some(n) = num_after(at + call.len()) {
                return Some(n);
            }
        }
    }
    for unit in [" bytes", "-byte", " byte "] {
        let mut from = 0;
        while let Some(at) = text[from..].find(unit) {
            if let Some(n) = num_before(from + at) {
                return Some(n);
            }
            from += at + unit.len();
        }
    }
    None
}
