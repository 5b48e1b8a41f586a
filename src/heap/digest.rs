//! What the index keeps of an area's blocks (its counts and a hash), worked out either from the
//! blocks or straight from the characters its rows printed, by one rule.
//!
//! In go an area's blocks, or the characters its rows printed; out come an [`AreaDigest`]
//! (blocks, free, missing, and a hash), a dump's [`blocks_hash`] (equal blocks, equal hash), and
//! [`free_runs`].
//!
//! Indexing a capture reads every table but keeps no blocks, so it need not decode them into a
//! `Vec<BlockKind>`: the characters are taken eight at a time and decoded into a word of kinds
//! through [`BlockKind::from_char`], the one map from characters to kinds, and the word is
//! counted and hashed with a few arithmetic operations, no branch per block. `(N lines all
//! free)` runs are not read at all. A frame decodes the blocks and digests them word by word
//! over the kinds' bytes, so both ways give the same digest: [`AreaDigest::of_chars`] of a
//! table's characters equals [`AreaDigest::of_blocks`] of its decoded blocks (the tests hold
//! every sample to it).

use super::BlockKind;

/// Counts and a hash of one area's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AreaDigest {
    /// Blocks in the area.
    pub blocks: u64,
    /// Free blocks.
    pub free: u64,
    /// Blocks with no data (a row cut short, a table cut off).
    pub missing: u64,
    /// Some block is of a kind this version does not know.
    pub unknown: bool,
    /// The sum of every 8-block word's hash. A free word (all zero bytes) hashes to 0, so free
    /// runs cost nothing, and the words hash independently of each other (no chain to wait on).
    words: u64,
}

impl AreaDigest {
    /// The digest of decoded blocks.
    pub fn of_blocks(blocks: &[BlockKind]) -> AreaDigest {
        let mut d = AreaDigest {
            blocks: blocks.len() as u64,
            ..AreaDigest::default()
        };
        d.add_words(blocks, 0, BlockKind::Free, |w| {
            u64::from_le_bytes(w.map(|k| k as u8))
        });
        d
    }

    /// The digest of the blocks that `chars` decode to, one printed character per block
    /// ([`super::MISSING_CHAR`] where a block has no data), without decoding them.
    pub fn of_chars(chars: &[u8]) -> AreaDigest {
        Self::of_chars_skipping(chars, std::iter::empty())
    }

    /// [`Self::of_chars`], told where runs of free blocks are (`(N lines all free)`): ranges of
    /// `chars`, in order, each starting and ending on a multiple of 8 blocks (or at the end),
    /// that are all [`FREE_CHAR`]. They are counted without being read: a free word adds
    /// nothing to the hash wherever it is.
    pub fn of_chars_skipping(
        chars: &[u8],
        free: impl IntoIterator<Item = std::ops::Range<usize>>,
    ) -> AreaDigest {
        let mut d = AreaDigest {
            blocks: chars.len() as u64,
            ..AreaDigest::default()
        };
        let mut at = 0;
        for run in free {
            debug_assert!(run.start >= at && run.start % 8 == 0 && run.end % 8 == 0);
            debug_assert!(chars[run.clone()].iter().all(|&c| c == FREE_CHAR));
            d.add_chars(&chars[at..run.start], at);
            d.free += run.len() as u64;
            at = run.end;
        }
        d.add_chars(&chars[at..], at);
        d
    }

    /// Adds the blocks `chars` decode to, the first of them block `at` of the area.
    fn add_chars(&mut self, chars: &[u8], at: usize) {
        self.add_words(chars, at as u64 / 8, FREE_CHAR, |w| {
            u64::from_le_bytes(w.map(|c| BlockKind::from_char(c) as u8))
        });
    }

    /// Adds `blocks` (kinds, or the characters printed for them) eight at a time, the first of
    /// them word `first` of the area: `kinds` gives the kinds' bytes of each word (the first
    /// block in the lowest byte). A last, partial word is padded with free blocks (`free`).
    ///
    /// Each word is taken as a `&[T; 8]`: for kinds, `kinds` then compiles to one 8-byte load,
    /// the same code as for bytes (a `[BlockKind; 8]` taken by value through `try_into` would
    /// be checked against the niche its `Result` keeps in the first byte).
    #[inline(always)]
    fn add_words<T: Copy>(
        &mut self,
        blocks: &[T],
        first: u64,
        free: T,
        kinds: impl Fn([T; 8]) -> u64,
    ) {
        // Free is kind 0, so a zero byte is a free block. Unknown (12) and Missing (13) are
        // the only kinds with bits 2 and 3 both set: one test finds either, and only an area
        // that has one counts them exactly.
        const _: () = assert!(
            BlockKind::Free as u8 == 0
                && BlockKind::Unknown as u8 == 12
                && BlockKind::Missing as u8 == 13
                && BlockKind::COUNT == 14
        );
        let mut special = 0u64;
        let mut i = first;
        let tail = |rest: &[T]| {
            let mut w = [free; 8];
            w[..rest.len()].copy_from_slice(rest);
            kinds(w)
        };
        // Free blocks are counted in byte lanes (a count per byte of the word), which hold
        // 255 words.
        for part in blocks.chunks(255 * 8) {
            let mut frees = 0u64;
            let mut words = part.chunks_exact(8);
            for w in &mut words {
                let w: &[T; 8] = w.try_into().expect("8 blocks");
                let k = kinds(*w);
                frees += zero_lanes(k);
                special |= k & (k >> 1);
                self.words = self.words.wrapping_add(word_hash(k, i));
                i += 1;
            }
            let rest = words.remainder();
            if !rest.is_empty() {
                // The padding is free blocks: counted out again.
                let k = tail(rest);
                frees += zero_lanes(k) & (u64::MAX >> (8 * (8 - rest.len())));
                special |= k & (k >> 1);
                self.words = self.words.wrapping_add(word_hash(k, i));
            }
            self.free += lane_sum(frees);
        }
        if special & splat(0b100) != 0 {
            self.add_missing_and_unknown(blocks, &kinds, tail);
        }
    }

    /// The exact pass over `blocks` that only an area with blocks of no data or of an unknown
    /// kind needs (see [`Self::add_words`]): counts the first, notes the second. `tail` gives
    /// the kinds of a last, partial word, padded with free blocks.
    fn add_missing_and_unknown<T: Copy>(
        &mut self,
        blocks: &[T],
        kinds: impl Fn([T; 8]) -> u64,
        tail: impl Fn(&[T]) -> u64,
    ) {
        let mut count = |k: u64, lanes: u64| {
            self.missing += lane_sum(zero_lanes(k ^ MISSING) & lanes);
            self.unknown |= zero_lanes(k ^ UNKNOWN) & lanes != 0;
        };
        let mut words = blocks.chunks_exact(8);
        for w in &mut words {
            let w: &[T; 8] = w.try_into().expect("8 blocks");
            count(kinds(*w), u64::MAX);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            count(tail(rest), u64::MAX >> (8 * (8 - rest.len())));
        }
    }

    /// Blocks that hold data (heads and tails), as gc_info counts `used`.
    pub fn used(&self) -> u64 {
        self.blocks - self.free - self.missing
    }
}

const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

const MISSING: u64 = splat(BlockKind::Missing as u8);
const UNKNOWN: u64 = splat(BlockKind::Unknown as u8);

/// 1 in each byte of `x` that is zero, 0 in the others (exact: no carry crosses a byte).
#[inline(always)]
fn zero_lanes(x: u64) -> u64 {
    const LOW7: u64 = splat(0x7f);
    // The high bit of each byte of `t` is set when that byte of `x` is not zero.
    let t = ((x & LOW7).wrapping_add(LOW7) | x) | LOW7;
    !t >> 7
}

/// The sum of the 8 bytes of `x`.
#[inline(always)]
fn lane_sum(x: u64) -> u64 {
    const PAIRS: u64 = 0x00ff_00ff_00ff_00ff;
    let x = (x & PAIRS) + ((x >> 8) & PAIRS);
    x.wrapping_mul(0x0001_0001_0001_0001) >> 48
}

/// The hash of word `i` of an area: 0 for a free word (all kinds 0), a mix of the word and
/// its place for any other.
#[inline(always)]
fn word_hash(kinds: u64, i: u64) -> u64 {
    // An odd multiplier per place keeps 0 at 0 and every other word distinct at that place;
    // the shift folds the high bits into the low ones, so the sum is not linear in the words.
    // The words' sum is mixed again in [`blocks_hash`].
    let x = kinds.wrapping_mul(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    x ^ (x >> 32)
}

/// A hash of a dump's blocks from its areas' pointers and digests: equal blocks give equal
/// hashes, and two dumps with different blocks share one once in 4 billion pairs.
pub fn blocks_hash<'a>(areas: impl IntoIterator<Item = (u64, &'a AreaDigest)>) -> u32 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = 0;
    let mut mix = |w: u64| h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    for (ptr, d) in areas {
        mix(ptr);
        mix(d.blocks);
        mix(d.words);
    }
    (h ^ (h >> 32)) as u32
}

/// The free runs of one area: how many, and the longest (blocks). `free` is what a free block
/// is in `blocks`: [`BlockKind::Free`] for decoded blocks, [`FREE_CHAR`] for printed characters
/// (the only character [`BlockKind::from_char`] decodes to it). A block with no data ends a run.
///
/// ```
/// use memanim::heap::digest::{free_runs, FREE_CHAR};
///
/// assert_eq!(free_runs(b"..h...  ..", FREE_CHAR), (3, 3));
/// ```
pub fn free_runs<T: Copy + PartialEq>(blocks: &[T], free: T) -> (u64, u64) {
    let (mut runs, mut longest) = (0, 0);
    let mut i = 0;
    while let Some(start) = blocks[i..].iter().position(|&b| b == free) {
        let start = i + start;
        let len = blocks[start..]
            .iter()
            .position(|&b| b != free)
            .unwrap_or(blocks.len() - start);
        runs += 1;
        longest = longest.max(len as u64);
        i = start + len;
    }
    (runs, longest)
}

/// The byte a free block is printed as.
pub const FREE_CHAR: u8 = b'.';

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::MISSING_CHAR;

    fn decode(chars: &[u8]) -> Vec<BlockKind> {
        chars.iter().map(|&c| BlockKind::from_char(c)).collect()
    }

    #[test]
    fn digests_of_characters_and_of_their_blocks_agree() {
        let rows: [&[u8]; 6] = [
            b"",
            b"h=Sh",
            b"................................................................",
            b"h=Sh=hhLMhSh===h========hhhh.BDS.hhh=..L.hT==.D.BBBT==BBh==h===B...t..xh",
            b"........h=......  ......?......",
            b"mM.=tTLDSAFBh%",
        ];
        for chars in rows {
            let a = AreaDigest::of_chars(chars);
            let b = AreaDigest::of_blocks(&decode(chars));
            assert_eq!(a, b, "{:?}", String::from_utf8_lossy(chars));
            let kinds = decode(chars);
            let free = kinds.iter().filter(|&&k| k == BlockKind::Free).count() as u64;
            let missing = kinds.iter().filter(|&&k| k == BlockKind::Missing).count() as u64;
            assert_eq!(
                (a.blocks, a.free, a.missing),
                (chars.len() as u64, free, missing)
            );
            assert_eq!(a.unknown, kinds.contains(&BlockKind::Unknown));
            assert_eq!(
                free_runs(chars, FREE_CHAR),
                free_runs(&kinds, BlockKind::Free)
            );
        }
        assert_eq!(MISSING_CHAR, BlockKind::Missing.to_char() as u8);
        assert_eq!(BlockKind::from_char(FREE_CHAR), BlockKind::Free);
    }

    #[test]
    fn free_runs_skipped_give_the_same_digest() {
        let mut chars = b"h=Sh=hhLMhSh===h".repeat(4);
        chars.extend([FREE_CHAR; 64 * 3]);
        chars.extend(b"h=ShT=".repeat(20));
        chars.extend([FREE_CHAR; 64]);
        chars.extend(b"S===");
        let whole = AreaDigest::of_chars(&chars);
        let skipped = AreaDigest::of_chars_skipping(&chars, [64..256, 376..440]);
        assert_eq!(whole, skipped);
        assert_eq!(whole, AreaDigest::of_blocks(&decode(&chars)));
    }

    #[test]
    fn the_hash_tells_blocks_and_places_apart() {
        let d = |s: &[u8]| AreaDigest::of_chars(s);
        let h = |s: &[u8]| blocks_hash([(0x1000, &d(s))]);
        let base = b"h=Sh=hhLMhSh===h........hhhh.BDS";
        assert_eq!(h(base), h(base));
        // One block changed, two blocks swapped, a free word moved, a block more, another area.
        assert_ne!(h(base), h(b"h=Sh=hhLMhSh===h........hhhh.BDT"));
        assert_ne!(h(base), h(b"=hSh=hhLMhSh===h........hhhh.BDS"));
        assert_ne!(h(base), h(b"h=Sh=hhL........MhSh===hhhhh.BDS"));
        assert_ne!(h(base), h(b"h=Sh=hhLMhSh===h........hhhh.BDS."));
        assert_ne!(h(base), blocks_hash([(0x2000, &d(base))]));
        // 't' (old firmware's tail) is the same block as '='.
        assert_eq!(h(b"ht.."), h(b"h=.."));
    }

    #[test]
    fn free_runs_end_at_missing_blocks() {
        assert_eq!(free_runs(b"..h...  ..", FREE_CHAR), (3, 3));
        assert_eq!(free_runs(b"", FREE_CHAR), (0, 0));
        assert_eq!(free_runs(b"hhhh", FREE_CHAR), (0, 0));
        assert_eq!(free_runs(b"......", FREE_CHAR), (1, 6));
    }
}
