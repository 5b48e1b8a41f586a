//! Snapshots kept compactly, so a capture of hours (a gigabyte of text) fits in a little memory.
//!
//! Consecutive dumps of one heap differ in a few ranges of blocks (8 to 170 per dump in the
//! samples), so each area is stored as the ranges that changed since the previous dump
//! ([`Enc::Delta`]), or, every so often and whenever that would not be smaller, as runs of equal
//! blocks ([`Enc::Key`]). Decoding a snapshot walks back at most [`MAX_CHAIN`] deltas to a key, so
//! any snapshot is cheap to get on its own, and iterating in order applies one delta per step.

use super::{as_bytes, BlockKind, GcSummary, HeapArea, MemStats, Snapshot, StackStats};

/// The longest chain of deltas before a key is stored again.
pub const MAX_CHAIN: u32 = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Enc {
    /// Runs: (kind, varint length) pairs.
    Key(Box<[u8]>),
    /// Against the same area in snapshot `base`: (varint skip, varint count, count kinds) groups.
    Delta { base: u32, ops: Box<[u8]> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredArea {
    ptr: u64,
    block_size: u32,
    len: u32,
    chain: u32,
    enc: Enc,
}

/// A snapshot's figures packed for storage: `Option`s become flags and sentinels, block counts
/// `u32`, which halves the 248 bytes a `Snapshot` takes (300,000 snapshots: 39 MB saved).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Meta {
    line: u64,
    ticks: u64,
    time_ms: i64,
    wall_ms: i64,
    mem: [u64; 3],
    gc: [u64; 4],
    /// 1-blocks, 2-blocks, max block, max free (u32::MAX: absent); stack used and limit.
    counts: [u32; 6],
    flags: u8,
}

const HAS_WALL: u8 = 1;
const HAS_MEM: u8 = 2;
const HAS_STACK: u8 = 4;
const HAS_GC: u8 = 8;
const HAS_SPLIT: u8 = 16;
const COMPLETE: u8 = 32;
const TIMED: u8 = 64;
const NONE32: u32 = u32::MAX;

fn pack32(v: Option<u64>) -> u32 {
    v.map_or(NONE32, |v| v.min(NONE32 as u64 - 1) as u32)
}

fn unpack32(v: u32) -> Option<u64> {
    (v != NONE32).then_some(v as u64)
}

impl Meta {
    fn pack(s: &Snapshot) -> Meta {
        let mut flags = 0;
        let mut set = |cond: bool, f: u8| {
            if cond {
                flags |= f
            }
        };
        set(s.wall_ms.is_some(), HAS_WALL);
        set(s.mem.is_some(), HAS_MEM);
        set(s.stack.is_some(), HAS_STACK);
        set(s.gc.is_some(), HAS_GC);
        set(s.gc.is_some_and(|g| g.max_new_split.is_some()), HAS_SPLIT);
        set(s.complete, COMPLETE);
        set(s.timed, TIMED);
        let m = s.mem.unwrap_or_default();
        let g = s.gc.unwrap_or_default();
        let st = s.stack.unwrap_or_default();
        Meta {
            line: s.line,
            ticks: s.ticks,
            time_ms: s.time_ms,
            wall_ms: s.wall_ms.unwrap_or(0),
            mem: [m.total, m.current, m.peak],
            gc: [g.total, g.used, g.free, g.max_new_split.unwrap_or(0)],
            counts: [
                pack32(g.one_blocks),
                pack32(g.two_blocks),
                pack32(g.max_block),
                pack32(g.max_free),
                pack32(Some(st.used)),
                pack32(st.limit),
            ],
            flags,
        }
    }

    fn unpack(&self) -> Snapshot {
        let has = |f: u8| self.flags & f != 0;
        Snapshot {
            line: self.line,
            ticks: self.ticks,
            time_ms: self.time_ms,
            timed: has(TIMED),
            wall_ms: has(HAS_WALL).then_some(self.wall_ms),
            mem: has(HAS_MEM).then_some(MemStats {
                total: self.mem[0],
                current: self.mem[1],
                peak: self.mem[2],
            }),
            stack: has(HAS_STACK).then_some(StackStats {
                used: unpack32(self.counts[4]).unwrap_or(0),
                limit: unpack32(self.counts[5]),
            }),
            gc: has(HAS_GC).then_some(GcSummary {
                total: self.gc[0],
                used: self.gc[1],
                free: self.gc[2],
                max_new_split: has(HAS_SPLIT).then_some(self.gc[3]),
                one_blocks: unpack32(self.counts[0]),
                two_blocks: unpack32(self.counts[1]),
                max_block: unpack32(self.counts[2]),
                max_free: unpack32(self.counts[3]),
            }),
            areas: Vec::new(),
            complete: has(COMPLETE),
        }
    }
}

/// Snapshot figures are kept in chunks of this many, allocated once each: a single growing Vec
/// would briefly hold its old and new buffer at every doubling (130 MB at 300,000 snapshots).
const CHUNK: usize = 4096;

/// The snapshots of one session, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshots {
    /// Each snapshot's figures, packed, in chunks of CHUNK.
    metas: Vec<Vec<Meta>>,
    count: usize,
    areas: Vec<Vec<StoredArea>>,
    /// The last snapshot pushed, decoded: the base for the next delta.
    last: Vec<HeapArea>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = data.get(*pos) {
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

fn kind_of(b: u8) -> BlockKind {
    BlockKind::ALL
        .iter()
        .copied()
        .find(|k| *k as u8 == b)
        .unwrap_or(BlockKind::Unknown)
}

fn encode_key(blocks: &[BlockKind]) -> Box<[u8]> {
    let blocks = as_bytes(blocks);
    let mut out = Vec::with_capacity(blocks.len() / 4 + 8);
    let mut i = 0;
    while i < blocks.len() {
        let k = blocks[i];
        let run = blocks[i..].iter().take_while(|&&b| b == k).count();
        out.push(k);
        put_varint(&mut out, run as u64);
        i += run;
    }
    out.into_boxed_slice()
}

fn decode_key(data: &[u8], len: usize, out: &mut Vec<BlockKind>) {
    out.clear();
    out.reserve(len);
    let mut pos = 0;
    while pos < data.len() && out.len() < len {
        let k = kind_of(data[pos]);
        pos += 1;
        let run = get_varint(data, &mut pos) as usize;
        let run = run.min(len - out.len());
        out.extend(std::iter::repeat_n(k, run));
    }
    out.resize(len, BlockKind::Missing);
}

/// First index at or after `from` where `a` and `b` differ, comparing 16 bytes at a time.
fn next_diff(a: &[u8], b: &[u8], from: usize) -> Option<usize> {
    let (a, b) = (&a[from..], &b[from..]);
    let whole = a.len() / 16 * 16;
    let chunk = a[..whole]
        .chunks_exact(16)
        .zip(b[..whole].chunks_exact(16))
        .position(|(x, y)| {
            let x = u128::from_ne_bytes(x.try_into().expect("16 bytes"));
            let y = u128::from_ne_bytes(y.try_into().expect("16 bytes"));
            x != y
        })
        .map_or(whole, |c| c * 16);
    a[chunk..]
        .iter()
        .zip(&b[chunk..])
        .position(|(x, y)| x != y)
        .map(|p| from + chunk + p)
}

/// The changed ranges from `old` to `new` (same length); None when they would take `limit` bytes
/// or more.
fn encode_delta(old: &[BlockKind], new: &[BlockKind], limit: usize) -> Option<Box<[u8]>> {
    let (old, new) = (as_bytes(old), as_bytes(new));
    let mut out = Vec::new();
    let mut i = 0;
    let mut last_end = 0;
    let n = new.len();
    while let Some(start) = next_diff(old, new, i) {
        // A range ends at 4 equal blocks in a row (shorter gaps cost more as two ranges).
        let mut end = start;
        let mut same = 0;
        while end < n && same < 4 {
            if old[end] == new[end] {
                same += 1;
            } else {
                same = 0;
            }
            end += 1;
        }
        let end = end - same;
        put_varint(&mut out, (start - last_end) as u64);
        put_varint(&mut out, (end - start) as u64);
        out.extend_from_slice(&new[start..end]);
        if out.len() >= limit {
            return None;
        }
        last_end = end;
        i = end;
    }
    Some(out.into_boxed_slice())
}

fn apply_delta(ops: &[u8], blocks: &mut [BlockKind]) {
    let mut pos = 0;
    let mut at = 0usize;
    while pos < ops.len() {
        at += get_varint(ops, &mut pos) as usize;
        let count = get_varint(ops, &mut pos) as usize;
        for j in 0..count {
            let Some(&b) = ops.get(pos + j) else { break };
            if let Some(slot) = blocks.get_mut(at + j) {
                *slot = kind_of(b);
            }
        }
        pos += count;
        at += count;
    }
}

impl Snapshots {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Stores a snapshot (its blocks are encoded; the figures kept as they are).
    pub fn push(&mut self, mut snap: Snapshot) {
        let index = self.count as u32;
        let areas = std::mem::take(&mut snap.areas);
        let mut stored = Vec::with_capacity(areas.len());
        for area in &areas {
            let prev = self
                .last
                .iter()
                .position(|p| p.ptr == area.ptr && p.blocks.len() == area.blocks.len());
            let prev_chain = prev.and_then(|p| {
                self.areas
                    .last()
                    .and_then(|v| v.iter().find(|s| s.ptr == self.last[p].ptr))
                    .map(|s| s.chain)
            });
            // A delta is tried first and kept when under half the raw size; a key otherwise.
            let delta = match (prev, prev_chain) {
                (Some(p), Some(chain)) if chain < MAX_CHAIN => encode_delta(
                    &self.last[p].blocks,
                    &area.blocks,
                    area.blocks.len() / 2 + 8,
                )
                .map(|ops| {
                    (
                        Enc::Delta {
                            base: index - 1,
                            ops,
                        },
                        chain + 1,
                    )
                }),
                _ => None,
            };
            let enc = delta.unwrap_or_else(|| (Enc::Key(encode_key(&area.blocks)), 0));
            stored.push(StoredArea {
                ptr: area.ptr,
                block_size: area.block_size,
                len: area.blocks.len() as u32,
                chain: enc.1,
                enc: enc.0,
            });
        }
        if self.count % CHUNK == 0 {
            self.metas.push(Vec::with_capacity(CHUNK));
        }
        self.metas
            .last_mut()
            .expect("a chunk")
            .push(Meta::pack(&snap));
        self.count += 1;
        self.areas.push(stored);
        self.last = areas;
    }

    /// The session time of the last snapshot (ms), if any.
    pub fn last_time(&self) -> Option<i64> {
        self.count
            .checked_sub(1)
            .map(|i| self.metas[i / CHUNK][i % CHUNK].time_ms)
    }

    /// The figures of snapshot `i` without decoding its blocks (`areas` is empty).
    pub fn meta(&self, i: usize) -> Snapshot {
        self.metas[i / CHUNK][i % CHUNK].unpack()
    }

    /// (pointer, block count) of each area of snapshot `i`, without decoding.
    pub fn area_sizes(&self, i: usize) -> impl Iterator<Item = (u64, usize, u32)> + '_ {
        self.areas[i]
            .iter()
            .map(|a| (a.ptr, a.len as usize, a.block_size))
    }

    fn decode_area(&self, a: &StoredArea, out: &mut Vec<BlockKind>) {
        match &a.enc {
            Enc::Key(data) => decode_key(data, a.len as usize, out),
            Enc::Delta { base, ops } => {
                let base_area = self.areas[*base as usize]
                    .iter()
                    .find(|b| b.ptr == a.ptr)
                    .expect("a delta's base holds the same area");
                self.decode_area(base_area, out);
                out.resize(a.len as usize, BlockKind::Missing);
                apply_delta(ops, out);
            }
        }
    }

    /// Snapshot `i` with its blocks.
    pub fn get(&self, i: usize) -> Snapshot {
        let mut s = self.meta(i);
        s.areas = self.areas[i]
            .iter()
            .map(|a| {
                let mut blocks = Vec::new();
                self.decode_area(a, &mut blocks);
                HeapArea {
                    ptr: a.ptr,
                    block_size: a.block_size,
                    blocks,
                }
            })
            .collect();
        s
    }

    pub fn last(&self) -> Option<Snapshot> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Every snapshot in order, decoding each from the one before (one delta per step).
    pub fn iter(&self) -> impl Iterator<Item = Snapshot> + '_ {
        let mut prev: Option<Snapshot> = None;
        (0..self.len()).map(move |i| {
            let mut s = self.meta(i);
            s.areas = self.areas[i]
                .iter()
                .map(|a| {
                    let blocks = match (&a.enc, &prev) {
                        (Enc::Delta { base, ops }, Some(p)) if *base as usize + 1 == i => {
                            let mut b = p
                                .areas
                                .iter()
                                .find(|x| x.ptr == a.ptr)
                                .map(|x| x.blocks.clone())
                                .unwrap_or_default();
                            b.resize(a.len as usize, BlockKind::Missing);
                            apply_delta(ops, &mut b);
                            b
                        }
                        _ => {
                            let mut b = Vec::new();
                            self.decode_area(a, &mut b);
                            b
                        }
                    };
                    HeapArea {
                        ptr: a.ptr,
                        block_size: a.block_size,
                        blocks,
                    }
                })
                .collect();
            prev = Some(s.clone());
            s
        })
    }

    /// Every snapshot decoded, in a Vec (for tests and small captures).
    pub fn to_vec(&self) -> Vec<Snapshot> {
        self.iter().collect()
    }

    /// True when snapshots `i` and `j` hold the same blocks in the same areas.
    ///
    /// For consecutive snapshots this reads the encoding: a delta against the one before is empty
    /// exactly when nothing changed, since only differing ranges are stored. Only a key needs a
    /// decoded comparison.
    pub fn same_blocks(&self, i: usize, j: usize) -> bool {
        let (a, b) = (&self.areas[i], &self.areas[j]);
        if a.len() != b.len()
            || a.iter()
                .zip(b)
                .any(|(x, y)| x.ptr != y.ptr || x.len != y.len)
        {
            return false;
        }
        let mut keys = Vec::new();
        for (k, y) in b.iter().enumerate() {
            match &y.enc {
                Enc::Delta { base, ops } if *base as usize == i && j == i + 1 => {
                    if !ops.is_empty() {
                        return false;
                    }
                }
                _ => keys.push(k),
            }
        }
        let (mut x, mut y) = (Vec::new(), Vec::new());
        keys.into_iter().all(|k| {
            self.decode_area(&a[k], &mut x);
            self.decode_area(&b[k], &mut y);
            x == y
        })
    }

    /// Bytes used by the encoded blocks (for benchmarks).
    pub fn encoded_bytes(&self) -> usize {
        self.areas
            .iter()
            .flatten()
            .map(|a| match &a.enc {
                Enc::Key(d) => d.len(),
                Enc::Delta { ops, .. } => ops.len(),
            } + std::mem::size_of::<StoredArea>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(ptr: u64, s: &str) -> HeapArea {
        HeapArea {
            ptr,
            block_size: 16,
            blocks: s.bytes().map(BlockKind::from_char).collect(),
        }
    }

    fn snap(areas: Vec<HeapArea>) -> Snapshot {
        Snapshot {
            areas,
            complete: true,
            ..Snapshot::default()
        }
    }

    #[test]
    fn round_trips_keys_deltas_and_changing_areas() {
        let mut st = Snapshots::default();
        let seq = [
            vec![area(1, "hh=S....LD===..")],
            vec![area(1, "hh=S....LD===..")],
            vec![area(1, "h..S..T=LD===.."), area(2, "....")],
            vec![area(2, "hh..")],
            vec![area(1, "hhhhhhhhhhhhhhh"), area(2, "hh..")],
        ];
        for s in &seq {
            st.push(snap(s.clone()));
        }
        for (i, s) in seq.iter().enumerate() {
            assert_eq!(&st.get(i).areas, s, "get({i})");
        }
        let all: Vec<Snapshot> = st.iter().collect();
        for (i, s) in seq.iter().enumerate() {
            assert_eq!(&all[i].areas, s, "iter {i}");
        }
        assert!(st.same_blocks(0, 1));
        assert!(!st.same_blocks(1, 2));
    }

    #[test]
    fn long_chains_are_cut_by_keys() {
        let mut st = Snapshots::default();
        let mut blocks = vec![b'.'; 640];
        let mut expect = Vec::new();
        for i in 0..200 {
            blocks[(i * 7) % 640] = b"hSLD"[i % 4];
            let s: String = blocks.iter().map(|&b| b as char).collect();
            st.push(snap(vec![area(9, &s)]));
            expect.push(s);
        }
        for (i, s) in expect.iter().enumerate() {
            let got: String = st.get(i).areas[0]
                .blocks
                .iter()
                .map(|k| k.to_char())
                .collect();
            assert_eq!(&got, s);
        }
        assert!(st.areas.iter().flatten().all(|a| a.chain <= MAX_CHAIN));
        // Small changes are stored as small deltas.
        assert!(st.encoded_bytes() < 200 * 100, "{}", st.encoded_bytes());
    }
}
