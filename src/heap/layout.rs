//! Decodes the rows of a `GC memory layout; from <ptr>:` section into blocks.
//!
//! The printed offsets are not trusted for position: firmware up to v1.19.1 prints them as 5 hex digits
//! that wrap every 1 MiB, and older firmware printed the masked real pointer. So rows are placed by
//! counting (each row is 64 blocks, a `(N lines all free)` marker is N rows), and the printed offsets
//! serve only to infer the block size (their step is 64 blocks) and as a check.

use super::{BlockKind, HeapArea};

/// Blocks per printed row, fixed in py/gc.c (`DUMP_BYTES_PER_LINE`).
pub const BLOCKS_PER_ROW: usize = 64;

/// The most blocks one dump may hold when it has no GC line to bound it: 16 M blocks is a 256 MiB heap
/// of 16-byte blocks, far above any board, and keeps a hostile `(4294967295 lines all free)` from
/// allocating gigabytes.
pub const MAX_BLOCKS_UNBOUNDED: u64 = 1 << 24;

/// Something the builder repaired or could not use; the parser turns it into a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutIssue {
    /// A row was shorter than 64 blocks but was not the last one; the rest was filled as missing.
    ShortRow { line: u64, blocks: usize },
    /// A row had more than 64 block characters; the extra ones were dropped.
    LongRow { line: u64, chars: usize },
    /// Characters that are not a known block kind (kept as Unknown).
    UnknownChars { line: u64, chars: String },
    /// A printed offset disagrees with the counted position.
    OffsetMismatch {
        line: u64,
        printed: u64,
        counted: u64,
        rows: u64,
    },
}

/// The area would exceed the number of blocks the dump can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyBlocks {
    pub line: u64,
    pub limit: u64,
}

/// Collects the rows of one area as they arrive.
#[derive(Debug, Clone)]
pub struct AreaBuilder {
    pub ptr: u64,
    blocks: Vec<BlockKind>,
    /// (row index, printed offset, source line) of every printed row.
    printed: Vec<(u64, u64, u64)>,
    /// Hex digits of the offset column: 5 before v1.20, 8 since.
    pub offset_digits: u8,
    issues: Vec<LayoutIssue>,
    unknown_seen: [bool; 128],
    /// Free and missing blocks so far, counted as rows arrive (cheaper than a pass at the end).
    free: u64,
    missing: u64,
    /// Its rows came without a `GC memory layout` header (a table pasted from the middle).
    pub headerless: bool,
    /// Every `(N lines all free)` marker: its first row, the rows it holds here, the N printed
    /// and its line. A marker larger than the dump can hold holds no rows until the offsets
    /// printed around it say how many it really stands for ([`Self::reconcile_free_runs`]).
    markers: Vec<Marker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    start: u64,
    rows: u64,
    printed: u64,
    line: u64,
}

/// A free-run count that [`AreaBuilder::reconcile_free_runs`] corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeRunFix {
    pub line: u64,
    pub printed: u64,
    pub read: u64,
}

impl AreaBuilder {
    pub fn new(ptr: u64) -> Self {
        Self::with_capacity(ptr, 0)
    }

    /// A builder sized for `blocks` blocks (the same area's size in the previous dump), so a large
    /// area is not grown row by row.
    pub fn with_capacity(ptr: u64, blocks: usize) -> Self {
        let blocks = blocks.min(MAX_BLOCKS_UNBOUNDED as usize);
        AreaBuilder {
            ptr,
            blocks: Vec::with_capacity(blocks),
            printed: Vec::with_capacity(blocks / BLOCKS_PER_ROW + 1),
            offset_digits: 0,
            issues: Vec::new(),
            unknown_seen: [false; 128],
            free: 0,
            missing: 0,
            headerless: false,
            markers: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// A row that ended short is followed by more rows: fill it up so the next one starts on a row boundary.
    fn close_short_row(&mut self, line: u64) {
        let rem = self.blocks.len() % BLOCKS_PER_ROW;
        if rem != 0 {
            self.issues
                .push(LayoutIssue::ShortRow { line, blocks: rem });
            let fill = BLOCKS_PER_ROW - rem;
            self.missing += fill as u64;
            self.blocks
                .extend(std::iter::repeat_n(BlockKind::Missing, fill));
        }
    }

    /// Adds one printed row. `budget` is how many more blocks the dump may hold.
    pub fn push_row(
        &mut self,
        line: u64,
        offset: u64,
        digits: u8,
        chars: &[u8],
        budget: u64,
    ) -> Result<(), TooManyBlocks> {
        if !self.blocks.is_empty() {
            self.close_short_row(line.saturating_sub(1));
        }
        let chars = if chars.len() > BLOCKS_PER_ROW {
            self.issues.push(LayoutIssue::LongRow {
                line,
                chars: chars.len(),
            });
            &chars[..BLOCKS_PER_ROW]
        } else {
            chars
        };
        if chars.len() as u64 > budget {
            return Err(TooManyBlocks {
                line,
                limit: budget,
            });
        }
        if self.offset_digits == 0 {
            self.offset_digits = digits;
        }
        let row = (self.blocks.len() / BLOCKS_PER_ROW) as u64;
        self.printed.push((row, offset, line));
        let start = self.blocks.len();
        self.blocks
            .extend(chars.iter().map(|&c| BlockKind::from_char(c)));
        self.free += chars.iter().filter(|&&c| c == b'.').count() as u64;
        let mut unknown = String::new();
        if super::as_bytes(&self.blocks[start..]).contains(&(BlockKind::Unknown as u8)) {
            for &c in chars {
                if !super::is_known_block_char(c) {
                    let i = (c & 0x7f) as usize;
                    if !self.unknown_seen[i] {
                        self.unknown_seen[i] = true;
                        unknown.push(c as char);
                    }
                }
            }
        }
        if !unknown.is_empty() {
            self.issues.push(LayoutIssue::UnknownChars {
                line,
                chars: unknown,
            });
        }
        Ok(())
    }

    /// Appends the rest of a row that another writer's text interrupted (no offset was printed for it).
    pub fn append_continuation(&mut self, chars: &[u8], budget: u64) -> Result<(), TooManyBlocks> {
        if chars.len() as u64 > budget {
            return Err(TooManyBlocks {
                line: 0,
                limit: budget,
            });
        }
        self.blocks
            .extend(chars.iter().map(|&c| BlockKind::from_char(c)));
        Ok(())
    }

    /// Adds `n` rows of free blocks (`(n lines all free)`). More than `budget` blocks are not
    /// added (memory stays bounded whatever the number says); the marker is kept unresolved, to
    /// be read off the offsets around it, or the dump dropped ([`Self::unresolved`]).
    pub fn push_free_rows(&mut self, line: u64, n: u64, budget: u64) -> Result<(), TooManyBlocks> {
        if !self.blocks.is_empty() {
            self.close_short_row(line.saturating_sub(1));
        }
        let start = (self.blocks.len() / BLOCKS_PER_ROW) as u64;
        let add = n.saturating_mul(BLOCKS_PER_ROW as u64);
        let rows = if add > budget { 0 } else { n };
        self.markers.push(Marker {
            start,
            rows,
            printed: n,
            line,
        });
        if rows < n {
            return Err(TooManyBlocks {
                line,
                limit: budget,
            });
        }
        self.blocks
            .extend(std::iter::repeat_n(BlockKind::Free, add as usize));
        self.free += add;
        Ok(())
    }

    /// A marker too large to add that the offsets have not resolved: (line, N printed).
    pub fn unresolved(&self) -> Option<(u64, u64)> {
        self.markers
            .iter()
            .find(|m| m.rows != m.printed)
            .map(|m| (m.line, m.printed))
    }

    /// Corrects `(N lines all free)` counts that disagree with the offsets printed around them
    /// (line noise turned `(2 lines all free)` into `(92 ...)`), when `block_size` is known. The
    /// rows before and after a marker say how many rows lie between; a count that differs by
    /// more than the 5-digit wrap allows is replaced by theirs. Returns what it changed; the
    /// caller keeps the change only if the table then agrees with the GC line.
    pub fn reconcile_free_runs(&mut self, block_size: u32) -> Vec<FreeRunFix> {
        let row_bytes = BLOCKS_PER_ROW as u64 * block_size as u64;
        let modulus = offset_modulus(self.offset_digits);
        let mask = modulus.wrapping_sub(1);
        let period = (modulus / row_bytes.max(1)).max(1);
        let mut fixes = Vec::new();
        for m in 0..self.markers.len() {
            let Marker {
                start,
                rows: n,
                printed,
                line,
            } = self.markers[m];
            let prev = self.printed.iter().rev().find(|p| p.0 < start).copied();
            let Some(next) = self.printed.iter().find(|p| p.0 >= start + n).copied() else {
                continue;
            };
            // Rows between the row before the marker (or the area's start) and the next row.
            let (from_row, from_offset) = match prev {
                Some((r, o, _)) => (r + 1, o.wrapping_add(row_bytes)),
                None => (0, next.1.wrapping_sub(next.0.wrapping_mul(row_bytes))),
            };
            if prev.is_none() && from_offset & mask != 0 {
                continue;
            }
            let between = next.1.wrapping_sub(from_offset) & mask;
            if between % row_bytes != 0 {
                continue;
            }
            let rows = (between / row_bytes) % period;
            let gap = next.0 - from_row;
            // The count is right when the printed offsets agree with it (mod a 5-digit wrap).
            if gap % period == rows && n == printed {
                continue;
            }
            // Rows printed between them besides the marker's keep their count.
            let others = gap - n;
            if rows <= others {
                continue;
            }
            let want = rows - others;
            // Replace n rows of free blocks at `start` by `want` rows: shift what follows.
            let at = start as usize * BLOCKS_PER_ROW;
            let (old, new) = (n as usize * BLOCKS_PER_ROW, want as usize * BLOCKS_PER_ROW);
            self.blocks
                .splice(at..at + old, std::iter::repeat_n(BlockKind::Free, new));
            self.free = self.free + new as u64 - old as u64;
            let delta = want as i64 - n as i64;
            for p in self.printed.iter_mut().filter(|p| p.0 >= start + n) {
                p.0 = (p.0 as i64 + delta) as u64;
            }
            for later in self.markers.iter_mut().skip(m + 1) {
                later.start = (later.start as i64 + delta) as u64;
            }
            self.markers[m].rows = want;
            self.markers[m].printed = want;
            fixes.push(FreeRunFix {
                line,
                printed,
                read: want,
            });
        }
        fixes
    }

    /// True when a row printed at offset 0 now starts the table again rather than continuing
    /// it: rows were printed, and the last one was not the last row before 5-digit offsets wrap
    /// at 1 MiB (where 0 legitimately follows).
    pub fn restarts_at_zero(&self) -> bool {
        self.printed.last().is_some_and(|&(_, last, _)| {
            last + 0x800 < offset_modulus(self.offset_digits).max(1 << 20)
        })
    }

    /// (used, free) blocks so far.
    pub fn used_free_blocks(&self) -> (u64, u64) {
        let n = self.blocks.len() as u64;
        (n - self.free - self.missing, self.free)
    }

    /// The block size the printed offsets imply, if any two rows allow it to be read off.
    pub fn block_size_from_offsets(&self) -> Option<u32> {
        let modulus = offset_modulus(self.offset_digits);
        for pair in self.printed.windows(2) {
            let (r1, o1, _) = pair[0];
            let (r2, o2, _) = pair[1];
            let rows = r2 - r1;
            if rows == 0 {
                continue;
            }
            let step = o2.wrapping_sub(o1) & modulus.wrapping_sub(1);
            let per_row = step / rows;
            if per_row * rows == step && per_row % BLOCKS_PER_ROW as u64 == 0 {
                let bs = per_row / BLOCKS_PER_ROW as u64;
                if bs.is_power_of_two() && (4..=256).contains(&bs) {
                    return Some(bs as u32);
                }
            }
        }
        // A single printed row after a free run that starts the area: its offset is the run's length.
        if let Some(&(r, o, _)) = self.printed.first() {
            if r > 0 && o % (r * BLOCKS_PER_ROW as u64) == 0 {
                let bs = o / (r * BLOCKS_PER_ROW as u64);
                if bs.is_power_of_two() && (4..=256).contains(&bs) {
                    return Some(bs as u32);
                }
            }
        }
        None
    }

    /// Finishes the area with the block size the caller settled on, checking every printed offset.
    pub fn finish(mut self, block_size: u32) -> (HeapArea, Vec<LayoutIssue>) {
        let modulus = offset_modulus(self.offset_digits);
        let mask = modulus.wrapping_sub(1);
        let row_bytes = BLOCKS_PER_ROW as u64 * block_size as u64;
        if let Some(&(r0, o0, _)) = self.printed.first() {
            // Old firmware printed masked pointers, so the first row fixes the base.
            let base = o0.wrapping_sub(r0.wrapping_mul(row_bytes));
            let mut mismatches = 0u64;
            let mut first = None;
            for &(r, o, line) in &self.printed {
                let counted = base.wrapping_add(r.wrapping_mul(row_bytes)) & mask;
                if counted != o & mask {
                    mismatches += 1;
                    first.get_or_insert((line, o, counted));
                }
            }
            if let Some((line, printed, counted)) = first {
                self.issues.push(LayoutIssue::OffsetMismatch {
                    line,
                    printed,
                    counted,
                    rows: mismatches,
                });
            }
        }
        (
            HeapArea {
                ptr: self.ptr,
                block_size,
                blocks: self.blocks,
            },
            self.issues,
        )
    }
}

/// Offsets printed with 5 digits wrap at 1 MiB; with 8 at 4 GiB; wider columns do not wrap.
fn offset_modulus(digits: u8) -> u64 {
    match digits {
        0..=5 => 1 << 20,
        6..=8 => 1 << 32,
        _ => 0, // wrapping_sub(1) gives an all-ones mask
    }
}
