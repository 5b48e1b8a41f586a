//! How long each object has lived, followed across snapshots.
//!
//! In go a session's snapshots in order, each with its time on the timeline
//! ([`AgeTracker::observe`]); out come the age of every block of each (for `--color age`) and
//! the objects of the last one with the snapshot they were first seen in ([`AgeTracker::objects`]).
//!
//! A dump names no objects, so identity is a guess: an object in one snapshot is taken to be the
//! same object as in the snapshot before when it sits in the same area, starts at the same block,
//! has the same kind and the same length. The guess fails in known ways:
//! - an object freed and replaced, between two dumps, by another of the same kind and size at the
//!   same place looks like one object that lived on (ages come out too old);
//! - an object that grows or shrinks in place (a list's storage after `append`, a bytearray after
//!   `extend`) looks like a new object (too young);
//! - objects already there at the first snapshot, or at a reset, are counted from then.
//!
//! The renderer feeds every snapshot of a session in order, including the ones `--fps` merges
//! away and the ones before a `--from` window, so ages do not depend on which dumps became frames.
//!
//! A head the collector had marked when the dump was printed (`m`) matches any kind.

use super::{BlockKind, Snapshot};

/// What is known of the object whose head is at one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Born {
    kind: BlockKind,
    /// Blocks, head and tails.
    len: u32,
    /// When it was first seen (ms, on the timeline).
    at_ms: i64,
    /// How many snapshots of the session had been observed before it was first seen.
    seq: usize,
}

/// One object of the snapshot observed last, as [`AgeTracker::objects`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    /// Its area's pointer.
    pub ptr: u64,
    /// The index of its head block in the area.
    pub head: usize,
    /// Blocks, head and tails.
    pub len: u32,
    /// The kind its head block shows.
    pub kind: BlockKind,
    /// When it was first seen (ms, on the timeline).
    pub born_ms: i64,
    /// Snapshots of the session observed before it was first seen: its snapshot index in the
    /// session when every snapshot is observed from the first, as the renderer does. An object
    /// is identified by its area, head and this number.
    pub born_seq: usize,
}

/// The age of every block of one snapshot's areas, in the snapshot's area order: the age of the
/// object the block belongs to (ms), or `None` for a free block.
pub type Ages = Vec<(u64, Vec<Option<u32>>)>;

/// Follows objects through a sequence of snapshots, one session at a time.
#[derive(Debug, Default, Clone)]
pub struct AgeTracker {
    session: Option<usize>,
    /// Per area pointer: the object whose head is at each block, if any.
    areas: Vec<(u64, Vec<Option<Born>>)>,
    /// Snapshots of the current session observed so far.
    seen: usize,
}

impl AgeTracker {
    /// A tracker that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in the next snapshot (of `session`, at `t_ms` on the timeline) and returns the age
    /// of each of its blocks. A new session forgets everything: a reset empties the heap.
    pub fn observe(&mut self, session: usize, t_ms: i64, snap: &Snapshot) -> Ages {
        if self.session != Some(session) {
            self.areas.clear();
            self.session = Some(session);
            self.seen = 0;
        }
        let seq = self.seen;
        self.seen += 1;
        let mut next = Vec::with_capacity(snap.areas.len());
        let mut ages = Vec::with_capacity(snap.areas.len());
        for area in &snap.areas {
            let before = self
                .areas
                .iter()
                .find(|(p, _)| *p == area.ptr)
                .map(|(_, v)| v.as_slice())
                .unwrap_or(&[]);
            let blocks = &area.blocks;
            let mut heads: Vec<Option<Born>> = vec![None; blocks.len()];
            let mut age: Vec<Option<u32>> = vec![None; blocks.len()];
            let mut i = 0;
            while i < blocks.len() {
                let k = blocks[i];
                if !k.is_head() {
                    i += 1;
                    continue;
                }
                let len = 1 + blocks[i + 1..]
                    .iter()
                    .take_while(|&&b| b == BlockKind::Tail)
                    .count();
                let (born, born_seq) = match before.get(i).copied().flatten() {
                    Some(b) if b.len as usize == len && same_kind(b.kind, k) => (b.at_ms, b.seq),
                    _ => (t_ms, seq),
                };
                heads[i] = Some(Born {
                    kind: k,
                    len: len as u32,
                    at_ms: born,
                    seq: born_seq,
                });
                let a = u32::try_from((t_ms - born).max(0)).unwrap_or(u32::MAX);
                age[i..i + len].fill(Some(a));
                i += len;
            }
            next.push((area.ptr, heads));
            ages.push((area.ptr, age));
        }
        self.areas = next;
        ages
    }

    /// The objects of the snapshot observed last, area by area in its order, by address.
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        self.areas.iter().flat_map(|(ptr, heads)| {
            heads.iter().enumerate().filter_map(move |(head, b)| {
                b.map(|b| Object {
                    ptr: *ptr,
                    head,
                    len: b.len,
                    kind: b.kind,
                    born_ms: b.at_ms,
                    born_seq: b.seq,
                })
            })
        })
    }
}

fn same_kind(a: BlockKind, b: BlockKind) -> bool {
    a == b || a == BlockKind::Marked || b == BlockKind::Marked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::HeapArea;

    fn snap(blocks: &str) -> Snapshot {
        let kinds = blocks
            .chars()
            .map(|c| match c {
                'h' => BlockKind::Head,
                'S' => BlockKind::Str,
                'L' => BlockKind::List,
                'm' => BlockKind::Marked,
                '=' => BlockKind::Tail,
                _ => BlockKind::Free,
            })
            .collect();
        Snapshot {
            areas: vec![HeapArea {
                ptr: 0x1000,
                block_size: 16,
                blocks: kinds,
            }],
            ..Snapshot::default()
        }
    }

    fn ages(t: &mut AgeTracker, session: usize, ms: i64, blocks: &str) -> Vec<Option<u32>> {
        t.observe(session, ms, &snap(blocks)).remove(0).1
    }

    #[test]
    fn objects_keep_their_birth_while_place_kind_and_length_stay() {
        let mut t = AgeTracker::new();
        assert_eq!(
            ages(&mut t, 0, 1000, "h=.S.L=="),
            [
                Some(0),
                Some(0),
                None,
                Some(0),
                None,
                Some(0),
                Some(0),
                Some(0)
            ]
        );
        // 500 ms later: the h object lives on; S became L (new); L grew by a block (new); a
        // marked head counts as the same object.
        assert_eq!(
            ages(&mut t, 0, 1500, "m=.L.L==="),
            [
                Some(500),
                Some(500),
                None,
                Some(0),
                None,
                Some(0),
                Some(0),
                Some(0),
                Some(0)
            ]
        );
        assert_eq!(
            ages(&mut t, 0, 2500, "h=.L....")[..4],
            [Some(1500), Some(1500), None, Some(1000)]
        );
        // A freed block and a new object at another place.
        assert_eq!(
            ages(&mut t, 0, 3000, "h=...S..")[3..6],
            [None, None, Some(0)]
        );
        // A reset (new session) forgets every object.
        assert_eq!(ages(&mut t, 1, 3100, "h=...S..")[0], Some(0));
    }

    #[test]
    fn objects_carry_the_snapshot_they_were_first_seen_in() {
        let mut t = AgeTracker::new();
        ages(&mut t, 0, 0, "h=.S..");
        ages(&mut t, 0, 100, "h=.L..");
        ages(&mut t, 0, 200, "h=.L.S");
        let objects: Vec<(usize, u32, BlockKind, i64, usize)> = t
            .objects()
            .map(|o| (o.head, o.len, o.kind, o.born_ms, o.born_seq))
            .collect();
        assert_eq!(
            objects,
            [
                (0, 2, BlockKind::Head, 0, 0),
                (3, 1, BlockKind::List, 100, 1),
                (5, 1, BlockKind::Str, 200, 2)
            ]
        );
        // A new session counts its snapshots from 0.
        ages(&mut t, 1, 300, "S");
        assert_eq!(t.objects().next().map(|o| o.born_seq), Some(0));
    }
}
