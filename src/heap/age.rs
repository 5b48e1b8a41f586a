//! How long each object has lived, followed across snapshots.
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
}

impl AgeTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in the next snapshot (of `session`, at `t_ms` on the timeline) and returns the age
    /// of each of its blocks. A new session forgets everything: a reset empties the heap.
    pub fn observe(&mut self, session: usize, t_ms: i64, snap: &Snapshot) -> Ages {
        if self.session != Some(session) {
            self.areas.clear();
            self.session = Some(session);
        }
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
                let born = match before.get(i).copied().flatten() {
                    Some(b) if b.len as usize == len && same_kind(b.kind, k) => b.at_ms,
                    _ => t_ms,
                };
                heads[i] = Some(Born {
                    kind: k,
                    len: len as u32,
                    at_ms: born,
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
}
