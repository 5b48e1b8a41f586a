//! The interactive report: one self-contained HTML page (`-o heap.html`) that scrubs through
//! every frame of the schedule, draws the heap map on a canvas, and tells what a block is.
//!
//! It takes the schedule and the renderer the other outputs use, and gives a page of three
//! parts: a template, a small hand-written script and a style sheet (all in `html/`, included at
//! build time), and the capture as JSON data. The page draws what a still shows because it does
//! not work anything out: the renderer's [`Layout`] (map origin, columns,
//! cell pitch, painted size, area slots per session), the palette, each kind's head and tail
//! colour, the status lines, the figures ([`crate::capture::Session::figures`]) and the objects
//! with their birth ([`crate::heap::age`]) all come from Rust; the script only places cells.
//!
//! Blocks are stored as text, one character per kind as `mem_info` prints it (`.=hSLD...`, a
//! space for no data) with run lengths (`.120` is 120 free blocks): a key frame holds the whole
//! area, every other frame only the ranges that changed since the frame before
//! (`skip:runs,skip:runs`). A key comes every [`KEY_EVERY`] frames and at each session, so the
//! page decodes any frame from at most that many deltas.
//!
//! Everything from the capture (log lines, banners, the file name) is data: it goes into the
//! page only inside the JSON, with `<`, `>`, `&` and the two JavaScript line separators written
//! as `\u` escapes, and the script inserts it with `textContent`. A Content-Security-Policy
//! allows nothing but the page's own script and style, named by their SHA-256.

use std::collections::HashMap;
use std::io::{self, Write};

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::capture::Capture;
use crate::error::{Error, Result};
use crate::heap::age::AgeTracker;
use crate::heap::{BlockKind, Snapshot};
use crate::options::ColorBy;
use crate::render::{palette, Layout, Renderer};
use crate::timeline::{FrameSpec, Schedule};

/// The page around the data: `{{CSP}}`, `{{STYLE}}`, `{{DATA}}` and `{{SCRIPT}}` are filled
/// in, in that order (the data comes before the script that reads it).
const TEMPLATE: &str = include_str!("html/page.html");
const SCRIPT: &str = include_str!("html/report.js");
const STYLE: &str = include_str!("html/report.css");

/// A key frame (whole areas) every this many frames; the others hold what changed.
pub const KEY_EVERY: usize = 32;

/// Log lines before the first frame's own that the page keeps, for context.
pub const LOG_CONTEXT: usize = 50;

/// The version of the page's data layout, for anyone reading it out of a page.
const DATA_VERSION: u32 = 1;

/// A report ready to write: the page's data, serialised.
pub struct Report {
    json: String,
}

#[derive(Serialize)]
struct Data<'a> {
    version: u32,
    generator: String,
    source: &'a str,
    lines: u64,
    snapshots: usize,
    geometry: Geometry,
    palette: Vec<String>,
    kinds: Vec<Kind>,
    /// Palette indices of the parts the script draws itself.
    colours: Colours,
    age: Option<AgeColours>,
    legend: Vec<(u8, Option<u8>, String)>,
    sessions: Vec<SessionData<'a>>,
    frames: Frames,
    notices: Vec<(usize, String)>,
    logs: Logs,
}

/// The renderer's map geometry (px, in the frame's coordinates).
#[derive(Serialize)]
struct Geometry {
    width: u32,
    map_x: u32,
    map_y: u32,
    map_h: u32,
    columns: u32,
    cell: u32,
    cell_h: u32,
    fill: u32,
    fill_h: u32,
    /// Rows of the allocated/freed mark; 0 when none are drawn.
    bar: u32,
    /// Line height of the text the frames are drawn with (px).
    line_height: u32,
}

#[derive(Serialize)]
struct Kind {
    /// The character `mem_info` prints (a space for no data).
    c: char,
    name: &'static str,
    /// Palette index of a block of this kind, and of a tail whose head is of this kind.
    head: u8,
    tail: u8,
    is_head: bool,
    used: bool,
}

#[derive(Serialize)]
struct Colours {
    background: u8,
    allocated: u8,
    freed: u8,
    text: u8,
    text_dim: u8,
}

#[derive(Serialize)]
struct AgeColours {
    /// Lower bounds (ms) of classes 1..: an object of age `a` is of class `count(bounds <= a)`.
    bounds: Vec<u32>,
    head: Vec<u8>,
    tail: Vec<u8>,
}

#[derive(Serialize)]
struct SessionData<'a> {
    /// 1-based among the sessions that have snapshots; 0 for one without.
    number: usize,
    first_line: u64,
    started_by: Option<&'a str>,
    banner: Option<&'a str>,
    slots: Vec<Slot>,
}

#[derive(Serialize)]
struct Slot {
    /// Lowercase hex, no `0x`: pointers can exceed what a JavaScript number holds exactly.
    ptr: String,
    blocks: usize,
    block_size: u32,
    label_y: u32,
    y: u32,
    rows: u32,
}

/// One entry per frame in each column.
#[derive(Serialize, Default)]
struct Frames {
    /// Capture session index.
    session: Vec<usize>,
    /// The snapshot's number in the capture, 1-based (what `#s=N` names).
    snapshot: Vec<usize>,
    /// The snapshot's index within its session (object ages count snapshots by it).
    index: Vec<usize>,
    /// Time since the first snapshot (ms), sessions laid end to end.
    t: Vec<i64>,
    /// How long the frame is shown when playing at 1x (cs).
    delay: Vec<u16>,
    /// 0 for a dump pasted without a time: it is shown by number and line.
    timed: Vec<u8>,
    /// Line of the dump in the capture.
    line: Vec<u64>,
    /// The status lines under the map, as the still prints them.
    status: Vec<String>,
    /// Figures (bytes), null where the dump does not tell.
    used: Vec<Option<u64>>,
    free: Vec<Option<u64>>,
    largest: Vec<Option<u64>>,
    total: Vec<Option<u64>>,
    /// Log lines visible with the frame: `logs.text[..logs_end - logs.first]`; the ones from
    /// `logs_new` on are new since the frame before.
    logs_end: Vec<usize>,
    logs_new: Vec<usize>,
    /// 1 when `blocks` holds whole areas, 0 when it holds the changes since the frame before.
    key: Vec<u8>,
    /// Per area slot of the frame's session.
    blocks: Vec<Vec<String>>,
    /// The objects first seen in the frame, per area slot ([`encode_objects`]).
    objects: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct Logs {
    /// Index of the first line kept in the schedule's flat list of log lines.
    first: usize,
    text: Vec<String>,
    line: Vec<u64>,
}

/// An object (allocation) as the report lists it: where it is, from which frame to which, and
/// how much earlier it was born than the first frame that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    first: usize,
    last: usize,
    slot: usize,
    head: usize,
    /// Both 0 unless it was born in a dump merged away or before the window (ms, snapshots).
    born_ms: u64,
    born_snapshots: u64,
}

/// The objects first seen in one frame, per area slot, as text: for each object by address,
/// `varint(gap * 2 + born)`, `varint(life)` and, when `born` is 1, `varint(born_ms)` and
/// `varint(born_snapshots)`. `gap` is the head's distance from the head before, less one (from
/// block 0 for the first); `life` the frames after the first that still show it. A varint is
/// base64url digits of 5 bits, least significant first, with 32 added to all but the last.
/// Most objects take two or three characters: there are tens of thousands in a few hundred
/// frames, and numbers in JSON arrays took five times as much.
fn encode_objects(objects: &[Seen], slots: usize) -> Vec<String> {
    let mut out = vec![String::new(); slots];
    let mut next_head = vec![0usize; slots];
    for o in objects {
        let s = &mut out[o.slot];
        let born = o.born_ms != 0 || o.born_snapshots != 0;
        put_varint(
            s,
            ((o.head - next_head[o.slot]) as u64) * 2 + u64::from(born),
        );
        put_varint(s, (o.last - o.first) as u64);
        if born {
            put_varint(s, o.born_ms);
            put_varint(s, o.born_snapshots);
        }
        next_head[o.slot] = o.head + 1;
    }
    out
}

const VARINT_DIGITS: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn put_varint(out: &mut String, mut v: u64) {
    while v >= 32 {
        out.push(VARINT_DIGITS[(32 | (v & 31)) as usize] as char);
        v >>= 5;
    }
    out.push(VARINT_DIGITS[v as usize] as char);
}

impl Report {
    /// Gathers the page's data: every frame of `schedule` as `renderer` draws it. `progress` is
    /// called with the frames done. Fails only when interrupted (Ctrl-C).
    pub fn new(
        capture: &Capture,
        schedule: &Schedule,
        renderer: &Renderer<'_>,
        progress: &dyn Fn(usize),
    ) -> Result<Report> {
        let logs_first = schedule
            .frames
            .first()
            .map_or(0, |f| f.logs_end.saturating_sub(LOG_CONTEXT));
        let mut gathered = Gather::new(capture, renderer, logs_first);
        for (n, spec) in schedule.frames.iter().enumerate() {
            if n % 64 == 0 && renderer.is_cancelled() {
                return Err(Error::Interrupted);
            }
            gathered.frame(n, spec);
            progress(n + 1);
        }
        let (frames, notices) = gathered.finish(schedule);
        let logs_last = log_lines_until(capture, schedule);
        let data = Data {
            version: DATA_VERSION,
            generator: format!("memanim {}", env!("CARGO_PKG_VERSION")),
            source: &capture.source,
            lines: capture.lines,
            snapshots: capture.snapshot_count(),
            geometry: Geometry::of(renderer),
            palette: palette::rgb()
                .iter()
                .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
                .collect(),
            kinds: BlockKind::ALL.iter().map(|&k| Kind::of(k)).collect(),
            colours: Colours::PAGE,
            age: AgeColours::of(renderer),
            legend: renderer.legend(),
            sessions: sessions(capture, &renderer.layout),
            notices,
            logs: Logs::kept(capture, schedule, logs_first..logs_last.max(logs_first)),
            frames,
        };
        Ok(Report {
            json: script_safe_json(&data),
        })
    }

    /// The page's data as it is embedded (JSON, with `<`, `>`, `&`, U+2028 and U+2029 escaped).
    pub fn data_json(&self) -> &str {
        &self.json
    }

    /// Writes the page.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let csp = content_security_policy();
        let mut rest = TEMPLATE;
        for (marker, text) in [
            ("{{CSP}}", csp.as_str()),
            ("{{STYLE}}", STYLE),
            ("{{DATA}}", self.json.as_str()),
            ("{{SCRIPT}}", SCRIPT),
        ] {
            let (before, after) = rest
                .split_once(marker)
                .expect("the template holds each marker once, in order");
            out.write_all(before.as_bytes())?;
            out.write_all(text.as_bytes())?;
            rest = after;
        }
        out.write_all(rest.as_bytes())
    }
}

impl Geometry {
    /// The renderer's layout, as the script places cells with it.
    fn of(renderer: &Renderer<'_>) -> Geometry {
        let layout = &renderer.layout;
        let (fill, fill_h) = layout.cell_fill();
        Geometry {
            width: layout.width,
            map_x: layout.map_x,
            map_y: layout.map_y,
            map_h: layout.map_h,
            columns: layout.columns,
            cell: layout.cell,
            cell_h: layout.cell_h,
            fill,
            fill_h,
            bar: if renderer.style().show_changes {
                layout.mark_bar().unwrap_or(0)
            } else {
                0
            },
            line_height: renderer.text.line_height,
        }
    }
}

impl Kind {
    fn of(k: BlockKind) -> Kind {
        Kind {
            c: k.to_char(),
            name: k.name(),
            head: palette::head_index(k),
            tail: palette::tail_index(k),
            is_head: k.is_head(),
            used: k.is_used(),
        }
    }
}

impl Colours {
    const PAGE: Colours = Colours {
        background: palette::ix::BACKGROUND,
        allocated: palette::ix::ALLOCATED,
        freed: palette::ix::FREED,
        text: palette::ix::full(palette::ix::TEXT),
        text_dim: palette::ix::full(palette::ix::TEXT_DIM),
    };
}

impl AgeColours {
    /// The age classes' bounds and colours, when the frames are coloured by age.
    fn of(renderer: &Renderer<'_>) -> Option<AgeColours> {
        (renderer.style().color == ColorBy::Age).then(|| AgeColours {
            bounds: renderer.age_bounds.clone(),
            head: (0..palette::ix::AGE_CLASSES)
                .map(palette::age_head_index)
                .collect(),
            tail: (0..palette::ix::AGE_CLASSES)
                .map(palette::age_tail_index)
                .collect(),
        })
    }
}

impl Logs {
    /// The lines `kept` (indices in the schedule's flat list of log lines).
    fn kept(capture: &Capture, schedule: &Schedule, kept: std::ops::Range<usize>) -> Logs {
        Logs {
            first: kept.start,
            text: kept
                .clone()
                .map(|i| schedule.log(capture, i).text)
                .collect(),
            line: kept.map(|i| schedule.log(capture, i).line).collect(),
        }
    }
}

/// Every session of the capture with the layout's area slots for it, numbered as the frames
/// number them (from 1, skipping sessions without snapshots).
fn sessions<'a>(capture: &'a Capture, layout: &Layout) -> Vec<SessionData<'a>> {
    let mut numbered = 0;
    capture
        .sessions
        .iter()
        .map(|s| {
            let number = if s.snapshots.is_empty() {
                0
            } else {
                numbered += 1;
                numbered
            };
            SessionData {
                number,
                first_line: s.first_line,
                started_by: s.started_by.as_deref(),
                banner: s.banner.as_deref(),
                slots: layout
                    .areas(s.index)
                    .iter()
                    .map(|a| Slot {
                        ptr: format!("{:x}", a.ptr),
                        blocks: a.blocks,
                        block_size: a.block_size,
                        label_y: a.label_y,
                        y: a.y,
                        rows: a.rows,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The per-frame columns of the page, gathered one frame at a time in schedule order.
struct Gather<'r, 'c> {
    capture: &'c Capture,
    renderer: &'r Renderer<'c>,
    /// Capture-wide number of each session's first snapshot.
    first_number: Vec<usize>,
    block_size: u32,
    logs_first: usize,
    frames: Frames,
    notices: Vec<(usize, String)>,
    objects: Vec<Seen>,
    /// (session, area pointer, head, born_seq) -> index in `objects`.
    known: HashMap<(usize, u64, usize, usize), usize>,
    tracker: AgeTracker,
    /// The session and blocks of the frame before.
    previous: Option<(usize, Vec<Vec<BlockKind>>)>,
}

impl<'r, 'c> Gather<'r, 'c> {
    fn new(capture: &'c Capture, renderer: &'r Renderer<'c>, logs_first: usize) -> Self {
        Gather {
            capture,
            renderer,
            first_number: capture
                .sessions
                .iter()
                .scan(1, |n, s| {
                    let first = *n;
                    *n += s.snapshots.len();
                    Some(first)
                })
                .collect(),
            block_size: capture.figures_block_size(),
            logs_first,
            frames: Frames::default(),
            notices: Vec::new(),
            objects: Vec::new(),
            known: HashMap::new(),
            tracker: AgeTracker::new(),
            previous: None,
        }
    }

    /// Adds frame `n` (the next in schedule order): its figures and status, its blocks and
    /// the objects it shows.
    fn frame(&mut self, n: usize, spec: &FrameSpec) {
        let snap = self.renderer.snapshot(spec);
        self.status(n, spec, &snap);
        self.blocks(n, spec.snap.session, &snap);
        self.follow_objects(n, spec);
    }

    /// The frame's columns that say where and when it is, its figures, status and log lines.
    fn status(&mut self, n: usize, spec: &FrameSpec, snap: &Snapshot) {
        let session = spec.snap.session;
        let frames = &mut self.frames;
        frames.session.push(session);
        frames
            .snapshot
            .push(self.first_number[session] + spec.snap.index);
        frames.index.push(spec.snap.index);
        frames.t.push(spec.elapsed_ms);
        frames.delay.push(spec.delay_cs);
        frames.timed.push(u8::from(snap.timed));
        frames.line.push(snap.line);
        frames
            .status
            .push(self.renderer.status(spec, snap).join("\n"));
        let figures = self.capture.sessions[session].figures(spec.snap.index, self.block_size);
        frames.used.push(figures.map(|f| f.used));
        frames.free.push(figures.map(|f| f.free));
        frames.largest.push(figures.and_then(|f| f.largest_free));
        frames.total.push(figures.map(|f| f.total));
        frames.logs_end.push(spec.logs_end.max(self.logs_first));
        frames
            .logs_new
            .push(spec.logs_new_from.max(self.logs_first));
        if let Some(text) = self.renderer.notice(n) {
            self.notices.push((n, text));
        }
    }

    /// The blocks of each area slot, padded to the slot's size with "no data", as drawn: whole
    /// on a key frame (every [`KEY_EVERY`] frames and at each session), else what changed.
    fn blocks(&mut self, n: usize, session: usize, snap: &Snapshot) {
        let now: Vec<Vec<BlockKind>> = self
            .renderer
            .layout
            .areas(session)
            .iter()
            .map(|slot| {
                let mut b = snap
                    .areas
                    .iter()
                    .find(|a| a.ptr == slot.ptr)
                    .map_or_else(Vec::new, |a| a.blocks.clone());
                b.resize(slot.blocks, BlockKind::Missing);
                b
            })
            .collect();
        let base = match &self.previous {
            Some((s, b)) if *s == session && n % KEY_EVERY != 0 => Some(b),
            _ => None,
        };
        self.frames.key.push(u8::from(base.is_none()));
        self.frames.blocks.push(match base {
            Some(before) => before
                .iter()
                .zip(&now)
                .map(|(a, b)| encode_delta(a, b))
                .collect(),
            None => now.iter().map(|b| encode_runs(b)).collect(),
        });
        self.previous = Some((session, now));
    }

    /// Follows the objects as `--color age` follows them: one [`Seen`] per object, from the
    /// first frame that shows it to the last.
    fn follow_objects(&mut self, n: usize, spec: &FrameSpec) {
        let session = spec.snap.session;
        let slots = self.renderer.layout.areas(session);
        self.renderer.observe_ages(&mut self.tracker, n);
        for o in self.tracker.objects() {
            let Some(slot) = slots.iter().position(|s| s.ptr == o.ptr) else {
                continue;
            };
            let objects = &mut self.objects;
            let id = *self
                .known
                .entry((session, o.ptr, o.head, o.born_seq))
                .or_insert_with(|| {
                    objects.push(Seen {
                        first: n,
                        last: n,
                        slot,
                        head: o.head,
                        born_ms: (spec.elapsed_ms - o.born_ms).max(0) as u64,
                        born_snapshots: spec.snap.index.saturating_sub(o.born_seq) as u64,
                    });
                    objects.len() - 1
                });
            objects[id].last = n;
        }
    }

    /// The frames' columns, with each frame's new objects encoded ([`encode_objects`]), and
    /// the notices.
    fn finish(mut self, schedule: &Schedule) -> (Frames, Vec<(usize, String)>) {
        // Objects by first frame, then by place.
        self.objects.sort_by_key(|o| (o.first, o.slot, o.head));
        let mut rest = &self.objects[..];
        for (n, spec) in schedule.frames.iter().enumerate() {
            let here = rest.iter().take_while(|o| o.first == n).count();
            let slots = self.renderer.layout.areas(spec.snap.session).len();
            self.frames
                .objects
                .push(encode_objects(&rest[..here], slots));
            rest = &rest[here..];
        }
        (self.frames, self.notices)
    }
}

/// The schedule's log lines the page keeps end here (exclusive): those visible with the last
/// frame and those printed after its dump up to the next one (a traceback after the last dump
/// of a run matters), or every line when the last frame shows the capture's last snapshot.
fn log_lines_until(capture: &Capture, schedule: &Schedule) -> usize {
    let Some(last) = schedule.frames.last() else {
        return 0;
    };
    let final_snapshot = capture
        .sessions
        .iter()
        .rposition(|s| !s.snapshots.is_empty())
        .is_some_and(|s| {
            s == last.snap.session && last.snap.index + 1 == capture.sessions[s].snapshots.len()
        });
    if final_snapshot {
        return schedule.logs.len();
    }
    let mut end = last.logs_end;
    while let Some((s, j)) = schedule.logs.get(end) {
        let line = capture.sessions[s].logs.meta(j);
        if s != last.snap.session || line.after != Some(last.snap.index) {
            break;
        }
        end += 1;
    }
    end
}

/// The Content-Security-Policy of the page: nothing is loaded or run but its own script and
/// style, named by their hashes (the JSON data is not a script and needs none).
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; base-uri 'none'; form-action 'none'",
        sha256_source(SCRIPT),
        sha256_source(STYLE)
    )
}

/// `sha256-<base64>` of `text`, as CSP names an inline script or style.
fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `value` as JSON that can sit inside a `<script>` element: serde_json escapes quotes,
/// backslashes and control characters; `<`, `>` and `&` are written as `\u003c`, `\u003e` and
/// `\u0026`, so no `</script>` or `<!--` can appear, and U+2028/U+2029 (line breaks to older
/// JavaScript parsers) as `\u2028`/`\u2029`. Outside strings JSON has none of these characters,
/// so the result parses to the same value.
pub fn script_safe_json<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("the page's data serialises");
    escape_for_script(&json)
}

/// The escaping half of [`script_safe_json`], for JSON text.
pub fn escape_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Blocks as runs: each kind's character, followed by the run's length when above 1.
pub fn encode_runs(blocks: &[BlockKind]) -> String {
    let mut out = String::with_capacity(blocks.len() / 4 + 4);
    let mut i = 0;
    while i < blocks.len() {
        let k = blocks[i];
        let run = blocks[i..].iter().take_while(|&&b| b == k).count();
        out.push(k.to_char());
        if run > 1 {
            out.push_str(&run.to_string());
        }
        i += run;
    }
    out
}

/// The ranges of `new` that differ from `old` (same length): `skip:runs` groups joined by
/// `,`, where `skip` counts the unchanged blocks since the end of the range before. Ranges
/// closer than 4 blocks are joined (two groups would cost more). Empty when nothing changed.
pub fn encode_delta(old: &[BlockKind], new: &[BlockKind]) -> String {
    let mut out = String::new();
    let n = new.len().min(old.len());
    let mut i = 0;
    let mut last_end = 0;
    while i < n {
        if old[i] == new[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        let mut same = 0;
        while end < n && same < 4 {
            same = if old[end] == new[end] { same + 1 } else { 0 };
            end += 1;
        }
        let end = end - same;
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&(start - last_end).to_string());
        out.push(':');
        out.push_str(&encode_runs(&new[start..end]));
        last_end = end;
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<BlockKind> {
        s.bytes()
            .map(|c| {
                if c == b' ' {
                    BlockKind::Missing
                } else {
                    BlockKind::from_char(c)
                }
            })
            .collect()
    }

    /// The page's decoder, in Rust: what report.js does with the strings.
    fn decode_runs(s: &str, out: &mut Vec<char>) {
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let mut n = 0;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.extend(std::iter::repeat_n(c, n.max(1)));
        }
    }

    #[test]
    fn runs_and_deltas_round_trip() {
        let a = kinds("hh=S....LD===..  ..........................hhhhhhhhhhhhh");
        let b = kinds("h==S....LD===..  ..S=......................hhhhhhhhh....");
        let runs = encode_runs(&a);
        assert!(runs.starts_with("h2=S.4LD=3.2 2.26h13"), "{runs}");
        let mut decoded = Vec::new();
        decode_runs(&runs, &mut decoded);
        assert_eq!(
            decoded.iter().collect::<String>(),
            "hh=S....LD===..  ..........................hhhhhhhhhhhhh"
        );
        let delta = encode_delta(&a, &b);
        assert_eq!(delta, "1:=,17:S=,31:.4");
        // Applying it as the page does gives b.
        let mut blocks: Vec<char> = a.iter().map(|k| k.to_char()).collect();
        let mut at = 0;
        for group in delta.split(',') {
            let (skip, runs) = group.split_once(':').unwrap();
            at += skip.parse::<usize>().unwrap();
            let mut part = Vec::new();
            decode_runs(runs, &mut part);
            blocks[at..at + part.len()].copy_from_slice(&part);
            at += part.len();
        }
        assert_eq!(blocks, b.iter().map(|k| k.to_char()).collect::<Vec<_>>());
        assert_eq!(encode_delta(&a, &a), "");
    }

    #[test]
    fn objects_are_varints_per_slot() {
        let seen = |slot, head, last, born_ms| Seen {
            first: 3,
            last,
            slot,
            head,
            born_ms,
            born_snapshots: born_ms / 100,
        };
        let text = encode_objects(
            &[seen(0, 0, 3, 0), seen(0, 2, 40, 0), seen(1, 100, 4, 250)],
            2,
        );
        // Slot 0: gap 0 life 0; gap 1 life 37 (37 = 5 + 32 * 1: "l" then "B").
        assert_eq!(text[0], "AAClB");
        // Slot 1: gap 100, born (201 = 9 + 32 * 6: 'p' 'G'), life 1, 250 ms ('6' 'H'), 2 snapshots.
        assert_eq!(text[1], "pGB6HC");
        let mut s = String::new();
        put_varint(&mut s, 0);
        put_varint(&mut s, 31);
        put_varint(&mut s, 32);
        assert_eq!(s, "AfgB");
    }

    #[test]
    fn capture_text_cannot_close_the_script_element() {
        let hostile = vec![
            "</script><script>alert(1)</script>".to_string(),
            "<!-- <img src=x onerror=alert(2)> & \u{2028}\u{2029} \"quoted\" \\".to_string(),
        ];
        let json = script_safe_json(&hostile);
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!json.contains(bad), "{bad:?} in {json}");
        }
        assert!(json.contains("\\u003c/script\\u003e"), "{json}");
        // It is still JSON, and means the same.
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hostile);
    }

    #[test]
    fn the_policy_names_the_embedded_script_and_style() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        // sha256 of "" is 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=.
        assert_eq!(
            sha256_source(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert!(csp.contains(&format!("script-src '{}'", sha256_source(SCRIPT))));
        assert!(csp.contains(&format!("style-src '{}'", sha256_source(STYLE))));
        // The script and style cannot end their own elements early, and the template holds
        // each marker once.
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        let mut at = 0;
        for m in ["{{CSP}}", "{{STYLE}}", "{{DATA}}", "{{SCRIPT}}"] {
            assert_eq!(TEMPLATE.matches(m).count(), 1, "{m}");
            let here = TEMPLATE.find(m).unwrap();
            assert!(here > at, "{m} out of order");
            at = here;
        }
    }
}
