//! The answers: what a capture says, computed from the same per-snapshot figures
//! ([`crate::heap::Snapshot::figures`]) that the frames show.
//!
//! Each analysis takes a parsed [`crate::Capture`] (or the capture's index, for those that must
//! run in bounded memory on captures of any length) and gives a value that the binary prints as
//! text or JSON, or an image it writes: [`info`] (what is in the file), [`stats`] (a table of
//! figures per snapshot, peaks and a leak estimate), [`diff`] (two snapshots side by side),
//! [`plot`] (usage over time as PNG or SVG) and [`why`] (each MemoryError explained from the dump
//! before it). None of them prints anything.
//!
//! The rules they share live here: every snapshot's figures in timeline order ([`samples`]), the
//! peaks of a session ([`Extremes`]), and how a heap area splits into objects ([`allocations`],
//! [`kind_slot`]).
//!
//! ```
//! use memanim::capture::{parse, ParseOptions};
//!
//! // Two dumps 350 ms apart: the second has used 64 bytes more.
//! let dump = |ticks, used: u64| {
//!     format!(
//!         "@@@ {ticks}\nGC: total: 1024, used: {used}, free: {}\n \
//!          No. of 1-blocks: 2, 2-blocks: 1, max blk sz: 3, max free sz: 50\n@@@\n",
//!         1024 - used
//!     )
//! };
//! let text = dump(1000, 160) + &dump(1350, 224);
//! let (capture, _) = parse(text.as_bytes(), "run.log", &ParseOptions::default()).unwrap();
//! let samples: Vec<_> = memanim::analysis::samples(&capture).collect();
//! assert_eq!(samples.len(), 2);
//! assert_eq!((samples[1].at.time_ms, samples[1].used), (350, Some(224)));
//! assert_eq!(samples[1].largest_free, Some(50 * 16));
//! ```

pub mod diff;
pub mod info;
pub mod plot;
pub mod stats;
pub mod why;

use crate::capture::Capture;
use crate::heap::BlockKind;

/// Where a snapshot sits: its session (0-based), its index in that session, its source line and
/// its time on the capture's timeline (ms since the first snapshot, sessions laid end to end, as
/// the frames and `--at` count it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The session's index in the capture (0-based; printed from 1).
    pub session: usize,
    /// The snapshot's index in its session (0-based).
    pub index: usize,
    /// The source line of the dump.
    pub line: u64,
    /// Milliseconds since the capture's first snapshot, on the capture's timeline.
    pub time_ms: i64,
}

impl Place {
    /// The time in seconds since the capture's first snapshot.
    pub fn t_s(&self) -> f64 {
        self.time_ms as f64 / 1000.0
    }
}

/// One snapshot's figures, from the capture's index: what the summaries, the leak estimate and
/// the chart use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Where the snapshot sits.
    pub at: Place,
    /// Bytes used; None when the dump does not tell (cut off, without a GC line).
    pub used: Option<u64>,
    /// Bytes free; None likewise.
    pub free: Option<u64>,
    /// The largest free block (bytes); None when the dump does not tell.
    pub largest_free: Option<u64>,
    /// False when the dump was cut off.
    pub complete: bool,
    /// False when the dump carried no time (pasted): its place on the timeline is only its order.
    pub timed: bool,
}

impl Sample {
    /// The heap's size as the figures give it (used + free), when both are known.
    pub fn heap(&self) -> Option<u64> {
        Some(self.used? + self.free?)
    }
}

/// Every snapshot's figures ([`crate::capture::Session::figures`]) in file order, each at its
/// time on the capture's timeline. Read from the index alone (no dump is decoded), so memory does
/// not grow with the capture and a week of dumps is read in seconds.
pub fn samples(capture: &Capture) -> impl Iterator<Item = Sample> + '_ {
    let bs = capture.figures_block_size();
    crate::timeline::snapshot_times_iter(capture, &Default::default()).map(move |(r, t)| {
        let s = &capture.sessions[r.session];
        let meta = s.snapshots.meta(r.index);
        let f = s.figures(r.index, bs);
        Sample {
            at: Place {
                session: r.session,
                index: r.index,
                line: meta.line,
                time_ms: t,
            },
            used: f.map(|f| f.used),
            free: f.map(|f| f.free),
            largest_free: f.and_then(|f| f.largest_free),
            complete: meta.complete,
            timed: meta.timed,
        }
    })
}

/// The highest used memory and the lowest largest free block among the snapshots added, each
/// with where it was. Ties keep the first, so of equal peaks the earliest is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extremes {
    /// (bytes, where).
    pub peak_used: Option<(u64, Place)>,
    /// (bytes, where).
    pub lowest_largest_free: Option<(u64, Place)>,
}

impl Extremes {
    /// Takes one snapshot's figures into account; an unknown figure is left out, not read as 0.
    pub fn add(&mut self, used: Option<u64>, largest_free: Option<u64>, at: Place) {
        if let Some(u) = used {
            if self.peak_used.is_none_or(|p| u > p.0) {
                self.peak_used = Some((u, at));
            }
        }
        if let Some(l) = largest_free {
            if self.lowest_largest_free.is_none_or(|p| l < p.0) {
                self.lowest_largest_free = Some((l, at));
            }
        }
    }

    /// The extremes over several sets (each session's), in order: ties keep the earlier.
    pub fn over<'a>(all: impl IntoIterator<Item = &'a Extremes>) -> Extremes {
        all.into_iter().fold(Extremes::default(), |mut acc, e| {
            if let Some(p) = e.peak_used {
                acc.add(Some(p.0), None, p.1);
            }
            if let Some(l) = e.lowest_largest_free {
                acc.add(None, Some(l.0), l.1);
            }
            acc
        })
    }
}

/// (head index, length in blocks) of every allocation in an area's blocks, in order: a head and
/// the tails that follow it. Tails without a head before them belong to no allocation.
pub fn allocations(blocks: &[BlockKind]) -> impl Iterator<Item = (usize, usize)> + '_ {
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

/// The position of an object's kind in [`BlockKind::OBJECTS`], where per-kind counts are kept;
/// a head marked during a collection counts as the last (unknown).
pub fn kind_slot(kind: BlockKind) -> usize {
    BlockKind::OBJECTS
        .iter()
        .position(|x| *x == kind)
        .unwrap_or(BlockKind::OBJECTS.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: usize) -> Place {
        Place {
            session: 0,
            index,
            line: index as u64 * 10,
            time_ms: index as i64 * 1000,
        }
    }

    #[test]
    fn extremes_keep_the_first_of_equal_peaks() {
        let mut a = Extremes::default();
        a.add(Some(5), Some(9), at(0));
        a.add(Some(7), None, at(1));
        a.add(Some(7), Some(3), at(2));
        a.add(None, Some(3), at(3));
        assert_eq!(a.peak_used, Some((7, at(1))));
        assert_eq!(a.lowest_largest_free, Some((3, at(2))));
        let mut b = Extremes::default();
        b.add(Some(7), Some(2), at(4));
        let all = Extremes::over([&a, &b]);
        assert_eq!(all.peak_used, Some((7, at(1))));
        assert_eq!(all.lowest_largest_free, Some((2, at(4))));
    }

    #[test]
    fn allocations_are_heads_with_their_tails() {
        let blocks: Vec<BlockKind> = b"=.h==S.T="
            .iter()
            .map(|&c| BlockKind::from_char(c))
            .collect();
        let all: Vec<_> = allocations(&blocks).collect();
        assert_eq!(all, vec![(2, 3), (5, 1), (7, 2)]);
        assert_eq!(kind_slot(BlockKind::Marked), BlockKind::OBJECTS.len() - 1);
        assert_eq!(
            BlockKind::OBJECTS[kind_slot(BlockKind::Str)],
            BlockKind::Str
        );
    }
}
