//! The index's records, delta-packed: about 18 bytes a dump instead of the 48 of a [`Record`].
//!
//! A capture of days holds millions of dumps, and the index is the one part of memanim's memory
//! that grows with it. Consecutive dumps are alike: each starts where the one before ended (plus
//! a log line or two), is about as long, comes one period later and moves the figures by a few
//! blocks. So records are kept in groups of [`GROUP`], each field as the difference from the
//! record before (a LEB128 varint, zigzagged where it may be negative), except the hash, which
//! is kept whole. Reading record `i` decodes its group from its start; the last group decoded is
//! cached, so a pass in order decodes each group once.

use std::sync::Mutex;

/// Records per packed group: a read decodes at most this many.
const GROUP: usize = 16;

/// Packed bytes are kept in pages of at most this size, each allocated once: one growing Vec
/// would briefly hold its old and new buffer at every doubling.
const PAGE: usize = 64 << 10;

/// What the index knows of one dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Record {
    /// Byte range of the dump's lines in the capture.
    pub offset: u64,
    pub len: u32,
    /// Its first line (saturating at 2^32 - 1).
    pub line: u32,
    /// Milliseconds since its session began (saturating at 49 days).
    pub time_ms: u32,
    /// The low 32 bits of its `ticks_ms`.
    pub ticks: u32,
    /// Figures (bytes): total, used, free, as `Snapshot::figures` takes them.
    pub total: u32,
    pub used: u32,
    pub free: u32,
    /// `max free sz` (blocks), or the longest free run counted in a whole table (bytes): the
    /// flags say which.
    pub largest: u32,
    pub hash: u32,
    /// The area set's id and the flags (store.rs gives them their meaning).
    pub set_flags: u32,
}

/// The records of one session, in order. Places are reserved as dumps begin and filled, in
/// order, as they are finished; a group is packed once all its places are filled, so the
/// records still open are the few a batch of dumps being finished holds.
#[derive(Debug, Default)]
pub(super) struct Records {
    /// Packed groups' bytes.
    pages: Vec<Vec<u8>>,
    /// Where each packed group starts: (page, byte in it).
    groups: Vec<(u32, u32)>,
    /// The records after the packed groups, unpacked.
    open: Vec<Record>,
    /// Places filled so far (all of them before any not yet filled).
    filled: usize,
    /// The group decoded last: (its number, its records).
    cache: Cache,
}

impl Clone for Records {
    fn clone(&self) -> Self {
        Records {
            pages: self.pages.clone(),
            groups: self.groups.clone(),
            open: self.open.clone(),
            filled: self.filled,
            cache: Cache::default(),
        }
    }
}

impl PartialEq for Records {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// A decoded group, shared by the threads that read the index: one that finds it taken decodes
/// for itself rather than wait.
#[derive(Debug, Default)]
struct Cache(Mutex<Option<(usize, [Record; GROUP])>>);

impl Records {
    pub fn len(&self) -> usize {
        self.groups.len() * GROUP + self.open.len()
    }

    /// Keeps the next place, with what is known of it before it is filled.
    pub fn reserve(&mut self, rec: Record) -> usize {
        self.open.push(rec);
        self.len() - 1
    }

    /// Fills place `i`. Places are filled in order; a group whose places are all filled is
    /// packed.
    pub fn fill(&mut self, i: usize, rec: Record) {
        let packed = self.groups.len() * GROUP;
        debug_assert!(i >= packed, "place {i} was packed already");
        let Some(slot) = i.checked_sub(packed).and_then(|k| self.open.get_mut(k)) else {
            return;
        };
        *slot = rec;
        self.filled = self.filled.max(i + 1);
        if self.filled - packed >= GROUP {
            let mut bytes = Vec::with_capacity(GROUP * 24);
            let mut prev = Record::default();
            for r in &self.open[..GROUP] {
                encode(&mut bytes, &prev, r);
                prev = *r;
            }
            self.store(&bytes);
            self.open.drain(..GROUP);
        }
    }

    /// Appends a packed group's bytes to the pages.
    fn store(&mut self, bytes: &[u8]) {
        let fits = self
            .pages
            .last()
            .is_some_and(|p| p.capacity() - p.len() >= bytes.len());
        if !fits {
            // Pages grow from 1 KiB: a capture of many short sessions (a board that resets
            // every minute) must not hold 64 KiB for each.
            let size = self.pages.last().map_or(1 << 10, |p| 2 * p.capacity());
            self.pages
                .push(Vec::with_capacity(size.min(PAGE).max(bytes.len())));
        }
        let n = self.pages.len() - 1;
        let page = &mut self.pages[n];
        self.groups.push((n as u32, page.len() as u32));
        page.extend_from_slice(bytes);
    }

    /// Record `i` (below [`Self::len`]).
    pub fn get(&self, i: usize) -> Record {
        let (g, k) = (i / GROUP, i % GROUP);
        if g >= self.groups.len() {
            return self.open[i - self.groups.len() * GROUP];
        }
        let Ok(mut cache) = self.cache.0.try_lock() else {
            return self.decode(g, k + 1)[k];
        };
        match &*cache {
            Some((cached, recs)) if *cached == g => recs[k],
            _ => {
                let recs = self.decode(g, GROUP);
                *cache = Some((g, recs));
                recs[k]
            }
        }
    }

    /// The first `n` records of group `g`.
    fn decode(&self, g: usize, n: usize) -> [Record; GROUP] {
        let (page, at) = self.groups[g];
        let mut bytes = &self.pages[page as usize][at as usize..];
        let mut out = [Record::default(); GROUP];
        let mut prev = Record::default();
        for slot in &mut out[..n] {
            *slot = decode(&mut bytes, &prev);
            prev = *slot;
        }
        out
    }
}

/// Appends `r`, as the differences from `prev`.
fn encode(out: &mut Vec<u8>, prev: &Record, r: &Record) {
    let dt = r.time_ms as i64 - prev.time_ms as i64;
    let expected_offset = prev.offset.wrapping_add(prev.len as u64);
    let fields = [
        zigzag(r.offset.wrapping_sub(expected_offset) as i64),
        zigzag(r.len as i64 - prev.len as i64),
        zigzag(r.line as i64 - prev.line as i64),
        zigzag(dt),
        // Ticks advance with the session's time, nearly always exactly.
        zigzag(r.ticks.wrapping_sub(prev.ticks) as i32 as i64 - dt),
        zigzag(r.total as i64 - prev.total as i64),
        zigzag(r.used as i64 - prev.used as i64),
        // What is not used is free, in every dump MicroPython prints.
        zigzag(r.free as i64 - (r.total as i64 - r.used as i64)),
        zigzag(r.largest as i64 - prev.largest as i64),
        (r.set_flags ^ prev.set_flags) as u64,
    ];
    for v in fields {
        put_varint(out, v);
    }
    out.extend_from_slice(&r.hash.to_le_bytes());
}

/// Reads a record [`encode`] wrote after `prev`, advancing `bytes`.
fn decode(bytes: &mut &[u8], prev: &Record) -> Record {
    let mut next = || unzigzag(take_varint(bytes));
    let offset_delta = next();
    let len = (prev.len as i64 + next()) as u32;
    let line = (prev.line as i64 + next()) as u32;
    let dt = next();
    let time_ms = (prev.time_ms as i64 + dt) as u32;
    let ticks = prev.ticks.wrapping_add((next() + dt) as u32);
    let total = (prev.total as i64 + next()) as u32;
    let used = (prev.used as i64 + next()) as u32;
    let free = (total as i64 - used as i64 + next()) as u32;
    let largest = (prev.largest as i64 + next()) as u32;
    let set_flags = prev.set_flags ^ take_varint(bytes) as u32;
    let (hash, rest) = bytes.split_at(4);
    *bytes = rest;
    Record {
        offset: prev
            .offset
            .wrapping_add(prev.len as u64)
            .wrapping_add(offset_delta as u64),
        len,
        line,
        time_ms,
        ticks,
        total,
        used,
        free,
        largest,
        hash: u32::from_le_bytes(hash.try_into().expect("4 bytes")),
        set_flags,
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(bytes: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[0];
        *bytes = &bytes[1..];
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records like a capture's, with the extremes a packing could lose mixed in.
    fn records(n: usize) -> Vec<Record> {
        let mut out = Vec::new();
        let mut offset = 1u64 << 33;
        for i in 0..n as u32 {
            let odd = |v: u32| if i % 7 == 3 { u32::MAX - v } else { v };
            let r = Record {
                offset,
                len: 3300 + i % 50,
                line: 12 + 110 * i,
                time_ms: 350 * i,
                // A wrap of the low 32 bits, and a tick that goes back.
                ticks: (u32::MAX - 1000)
                    .wrapping_add(350 * i)
                    .wrapping_sub(u32::from(i % 5 == 0) * 900),
                total: odd(196_608),
                used: odd(60_000 + 32 * (i % 13)),
                free: 196_608 - 60_000 - 32 * (i % 13) + u32::from(i % 11 == 0) * 7,
                largest: odd(4096 * (i % 3)),
                hash: i.wrapping_mul(2_654_435_761),
                set_flags: (i / 40) | if i % 9 == 0 { 1 << 31 } else { 1 << 20 },
            };
            out.push(r);
            // Usually the next dump follows; sometimes a long log, or a jump past 4 GiB.
            offset += r.len as u64 + [0, 40, 5 << 32][i as usize % 3];
        }
        out
    }

    #[test]
    fn records_read_back_as_they_were_filled_in_about_18_bytes() {
        let recs = records(1000);
        let mut r = Records::default();
        for (i, rec) in recs.iter().enumerate() {
            assert_eq!(
                r.reserve(Record {
                    time_ms: rec.time_ms,
                    ..Record::default()
                }),
                i
            );
        }
        for (i, rec) in recs.iter().enumerate() {
            r.fill(i, *rec);
        }
        assert_eq!(r.len(), 1000);
        // In order (through the cache), backwards (a decode per read) and at random.
        for i in (0..1000)
            .chain((0..1000).rev())
            .chain((0..1000).map(|k| k * 7919 % 1000))
        {
            assert_eq!(r.get(i), recs[i], "record {i}");
        }
        let bytes: usize = r.pages.iter().map(Vec::len).sum();
        assert_eq!(r.groups.len(), 1000 / GROUP);
        assert!(
            bytes < 1000 * 48 / 2,
            "{bytes} bytes for 1000 records: the packing should be under half of 48 bytes each"
        );
    }

    #[test]
    fn places_not_filled_yet_read_as_reserved() {
        let recs = records(40);
        let mut r = Records::default();
        for rec in &recs {
            r.reserve(Record {
                time_ms: rec.time_ms,
                ..Record::default()
            });
        }
        for (i, rec) in recs.iter().enumerate().take(20) {
            r.fill(i, *rec);
        }
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.get(5), recs[5]);
        assert_eq!(r.get(19), recs[19]);
        assert_eq!(r.get(30).time_ms, recs[30].time_ms);
        assert_eq!(r.get(30).hash, 0);
    }
}
