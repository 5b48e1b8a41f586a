//! `memanim diff run.log --at 5s --at 60s -o diff.png`: two snapshots side by side, the second with
//! its differences from the first marked (the renderer's change marks), and a summary by kind of
//! what was allocated and freed between them. A snapshot is picked by time (the one on screen
//! then) or by its number (`#N`, `--snapshot N`), so every dump can be reached, also one the
//! animation merges into a later frame.
//!
//! [`diff`] takes a parsed capture, the two points the user gave and the output path; it writes
//! the PNG (atomically) and gives the summary as text. [`summarize`] gives the changes by kind
//! of two decoded snapshots alone.
//!
//! An object is matched by area, head offset, kind and length: the same heuristic the change marks
//! use. A block reused by a new object of the same kind and size at the same place looks unchanged.

use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::{allocations, kind_slot};
use crate::capture::Capture;
use crate::encode::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::heap::{BlockKind, Snapshot};
use crate::options::StyleOptions;
use crate::options::TimingOptions;
use crate::render::frame::Frame;
use crate::render::Renderer;
use crate::timeline::{self, FrameSpec, Schedule, SnapRef, TimePoint};

/// Objects and bytes of one kind that appeared or went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Change {
    /// Objects in the second snapshot that the first did not have.
    pub allocated: u64,
    /// Their bytes, tails included.
    pub allocated_bytes: u64,
    /// Objects of the first snapshot that the second no longer has.
    pub freed: u64,
    /// Their bytes, tails included.
    pub freed_bytes: u64,
}

/// One allocation: (area pointer, head index, kind, length in blocks, bytes).
type Object = (u64, usize, BlockKind, usize, u64);

/// Every allocation of a snapshot, area by area.
fn objects(s: &Snapshot) -> Vec<Object> {
    s.areas
        .iter()
        .flat_map(|a| {
            allocations(&a.blocks).map(move |(head, len)| {
                let bytes = len as u64 * a.block_size as u64;
                (a.ptr, head, a.blocks[head], len, bytes)
            })
        })
        .collect()
}

/// What changed from `a` to `b`, per kind of [`BlockKind::OBJECTS`] (marked heads count as unknown).
pub fn summarize(a: &Snapshot, b: &Snapshot) -> Vec<(BlockKind, Change)> {
    let mut out: Vec<(BlockKind, Change)> = BlockKind::OBJECTS
        .iter()
        .map(|&k| (k, Change::default()))
        .collect();
    let key = |o: &Object| (o.0, o.1, o.2, o.3);
    // Only blocks both dumps printed are compared: the rest of a cut-off dump is unknown, not
    // free, and must not count as freed (or its counterpart as allocated).
    let comparable = |o: &Object| o.1 + o.3 <= printed(a, b, o.0);
    let oa: Vec<_> = objects(a).into_iter().filter(comparable).collect();
    let ob: Vec<_> = objects(b).into_iter().filter(comparable).collect();
    let in_a: std::collections::HashSet<_> = oa.iter().map(key).collect();
    let in_b: std::collections::HashSet<_> = ob.iter().map(key).collect();
    for o in &ob {
        if !in_a.contains(&key(o)) {
            let c = &mut out[kind_slot(o.2)].1;
            c.allocated += 1;
            c.allocated_bytes += o.4;
        }
    }
    for o in &oa {
        if !in_b.contains(&key(o)) {
            let c = &mut out[kind_slot(o.2)].1;
            c.freed += 1;
            c.freed_bytes += o.4;
        }
    }
    out
}

/// How many blocks of area `ptr`, from its start, both snapshots printed (up to the first block
/// either lacks).
fn printed(a: &Snapshot, b: &Snapshot, ptr: u64) -> usize {
    let len = |s: &Snapshot| {
        s.areas.iter().find(|x| x.ptr == ptr).map_or(0, |x| {
            x.blocks
                .iter()
                .position(|&k| k == BlockKind::Missing)
                .unwrap_or(x.blocks.len())
        })
    };
    len(a).min(len(b))
}

/// A sentence for each area whose blocks are compared only in part (a dump was cut off).
fn partly_compared(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    b.areas
        .iter()
        .filter_map(|x| {
            let n = printed(a, b, x.ptr);
            (n < x.blocks.len()).then(|| {
                format!(
                    "area 0x{:x}: compared its first {n} of {} blocks only: a dump was cut off there",
                    x.ptr,
                    x.blocks.len()
                )
            })
        })
        .collect()
}

/// The summary as text.
pub fn summary_text(changes: &[(BlockKind, Change)], ta: f64, tb: f64) -> String {
    let mut o = format!("from +{ta:.3} s to +{tb:.3} s\n");
    change_line(&mut o, "kind", [&"allocated", &"bytes", &"freed", &"bytes"]);
    let mut total = Change::default();
    for (k, c) in changes {
        if c.allocated + c.freed == 0 {
            continue;
        }
        change_line(&mut o, k.name(), c.cells());
        total.allocated += c.allocated;
        total.allocated_bytes += c.allocated_bytes;
        total.freed += c.freed;
        total.freed_bytes += c.freed_bytes;
    }
    change_line(&mut o, "total", total.cells());
    o
}

impl Change {
    /// Its cells in the summary table, in column order.
    fn cells(&self) -> [&dyn std::fmt::Display; 4] {
        [
            &self.allocated,
            &self.allocated_bytes,
            &self.freed,
            &self.freed_bytes,
        ]
    }
}

/// One line of the summary table: the kind, then objects allocated, their bytes, objects freed
/// and their bytes.
fn change_line(o: &mut String, kind: &str, [a, ab, f, fb]: [&dyn std::fmt::Display; 4]) {
    let _ = writeln!(o, "{kind:<11} {a:>10} {ab:>12} {f:>10} {fb:>12}");
}

/// Compares the snapshots at `points` (`sort`: compare the earlier with the later, whatever the
/// order given) and writes the picture to `path`; returns the summary text. A point outside the
/// capture, or two points on the same snapshot, is a usage error.
pub fn diff(capture: &Capture, points: [TimePoint; 2], sort: bool, path: &Path) -> Result<String> {
    let times = timeline::Times::new(capture, &Default::default());
    let all = 0..=times.len().saturating_sub(1);
    let mut pick = [0; 2];
    for (k, p) in points.iter().enumerate() {
        let (t, exact) = timeline::locate(*p, "--at", &times, &capture.source)?;
        pick[k] = exact.unwrap_or_else(|| times.on_screen_at(&all, t));
    }
    if pick[0] == pick[1] {
        return Err(Error::Usage(format!(
            "--at {} and --at {} both pick snapshot #{}: give two different snapshots \
             (by number: --at '#{}' --at '#{}')",
            points[0],
            points[1],
            pick[0] + 1,
            pick[0] + 1,
            (pick[0] + 2).min(times.len())
        )));
    }
    if sort && pick[0] > pick[1] {
        pick.swap(0, 1);
    }
    // Every snapshot its own frame, so frame i is snapshot #i+1.
    let every = timeline::resolve(
        capture,
        &TimingOptions {
            merge: false,
            ..TimingOptions::default()
        },
    );
    write_diff(
        capture,
        &every,
        pick[0],
        pick[1],
        &StyleOptions::default(),
        path,
    )
}

/// Renders snapshots `a` and `b` (frames of `full`, a schedule with a frame per snapshot) side by
/// side into one PNG at `path`; returns the summary text. Two snapshots of different sessions, or
/// one without a layout table, are a usage error.
pub fn write_diff(
    capture: &Capture,
    full: &Schedule,
    a: usize,
    b: usize,
    style: &StyleOptions,
    path: &Path,
) -> Result<String> {
    let (fa, fb) = (&full.frames[a], &full.frames[b]);
    check_same_session(capture, fa.snap, fb.snap)?;
    let snapshot = |f: &FrameSpec| -> Result<Snapshot> {
        let s = capture.sessions[f.snap.session].snapshots.get(f.snap.index);
        if s.areas.is_empty() {
            return Err(Error::Usage(format!(
                "--at: snapshot #{} (line {}) has no layout table, only its figures (micropython.mem_info() without the 1): diff compares blocks; pick two snapshots printed with mem_info(1)",
                timeline::snapshot_number(capture, f.snap),
                s.line
            )));
        }
        Ok(s)
    };
    let (sa, sb) = (snapshot(fa)?, snapshot(fb)?);
    let picture = side_by_side(capture, full, fa, fb, style);
    write_png(&picture, path)?;
    let mut text = summary_text(
        &summarize(&sa, &sb),
        fa.elapsed_ms as f64 / 1000.0,
        fb.elapsed_ms as f64 / 1000.0,
    );
    for note in partly_compared(&sa, &sb) {
        let _ = writeln!(text, "note: {note}");
    }
    Ok(text)
}

/// A usage error when a reset lies between the two snapshots: the second heap is a new one,
/// block for block unrelated to the first.
fn check_same_session(capture: &Capture, a: SnapRef, b: SnapRef) -> Result<()> {
    if a.session == b.session {
        return Ok(());
    }
    // Sessions as `info` numbers them: those with dumps.
    let number = |k: usize| {
        capture.sessions[..k]
            .iter()
            .filter(|s| !s.snapshots.is_empty())
            .count()
            + 1
    };
    Err(Error::Usage(format!(
        "--at: the two snapshots are in different sessions ({} and {}): the board was reset between \
         them, so its heap was rebuilt and no block of one is a block of the other; compare two \
         times of one session (memanim info lists the sessions)",
        number(a.session),
        number(b.session)
    )))
}

/// Frames `fa` and `fb` rendered side by side, 8 px apart. They are drawn as a two-frame
/// schedule, B with A as its previous frame, so B's change marks are the differences; log lines
/// follow each frame as in the animation.
fn side_by_side(
    capture: &Capture,
    full: &Schedule,
    fa: &FrameSpec,
    fb: &FrameSpec,
    style: &StyleOptions,
) -> Frame {
    let spec = |f: &FrameSpec, prev: Option<SnapRef>| FrameSpec { prev, ..f.clone() };
    let two = Schedule {
        frames: vec![spec(fa, None), spec(fb, Some(fa.snap))],
        logs: full.logs.clone(),
        merged: 0,
        late: 0,
        unchanged: 0,
        duration_ms: 0.0,
    };
    let mut style = style.clone();
    style.show_changes = true;
    style.timeline = false;
    let r = Renderer::new(capture, &two, &style);
    let (left, right) = (r.render(0), r.render(1));
    let gap = 8;
    let mut out = Frame::new(
        left.width * 2 + gap,
        left.height,
        crate::render::palette::ix::RULE,
    );
    for y in 0..left.height {
        let row = (y * out.width) as usize;
        let src = (y * left.width) as usize..((y + 1) * left.width) as usize;
        out.pixels[row..row + left.width as usize].copy_from_slice(&left.pixels[src.clone()]);
        let at = row + (left.width + gap) as usize;
        out.pixels[at..at + left.width as usize].copy_from_slice(&right.pixels[src]);
    }
    out
}

/// `frame` as a PNG at `path`, written atomically.
fn write_png(frame: &Frame, path: &Path) -> Result<()> {
    let bytes = crate::encode::png::encode_png(frame).map_err(|e| Error::Encode {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let mut file = AtomicFile::create(path)?;
    std::io::Write::write_all(&mut file, &bytes).map_err(|e| file.error(e))?;
    file.commit()?;
    Ok(())
}
