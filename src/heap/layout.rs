//! Decodes the rows of a `GC memory layout; from <ptr>:` section into blocks.
//!
//! In go a table's rows one at a time, with their line numbers ([`AreaBuilder`]); out comes a
//! [`FinishedArea`]: one printed character per block and its [`AreaDigest`], decoded into a
//! [`HeapArea`] when a frame needs the blocks, plus the [`LayoutIssue`]s the parser turns into
//! warnings.
//!
//! The printed offsets are not trusted for position: firmware up to v1.19.1 prints them as 5 hex digits
//! that wrap every 1 MiB, and older firmware printed the masked real pointer. So rows are placed by
//! counting (each row is 64 blocks, a `(N lines all free)` marker is N rows), and the printed offsets
//! serve only to infer the block size (their step is 64 blocks) and as a check.
//!
//! The rows are kept as printed (one byte per block) until the area is finished: the index
//! only needs their [`AreaDigest`], which is worked out from the characters without decoding
//! them, and a frame decodes them then.

use super::digest::{AreaDigest, FREE_CHAR};
use super::{BlockKind, HeapArea, MISSING_CHAR};

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
    ShortRow {
        /// The row's line.
        line: u64,
        /// Blocks it had.
        blocks: usize,
    },
    /// A row had more than 64 block characters; the extra ones were dropped.
    LongRow {
        /// The row's line.
        line: u64,
        /// Block characters it had.
        chars: usize,
    },
    /// Characters that are not a known block kind (kept as Unknown).
    UnknownChars {
        /// The row's line.
        line: u64,
        /// Those not seen in an earlier row of the area, each once.
        chars: String,
    },
    /// A printed offset disagrees with the counted position.
    OffsetMismatch {
        /// The first row's line whose offset disagrees.
        line: u64,
        /// The offset it printed.
        printed: u64,
        /// The offset its place in the table gives.
        counted: u64,
        /// How many rows disagree.
        rows: u64,
    },
}

/// The area would exceed the number of blocks the dump can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyBlocks {
    /// The line that went over (0 for the rest of an interrupted row).
    pub line: u64,
    /// How many more blocks the dump could hold.
    pub limit: u64,
}

/// Collects the rows of one area as they arrive.
#[derive(Debug, Clone)]
pub struct AreaBuilder {
    /// The area's start address as its header printed it (0 without a header).
    pub ptr: u64,
    /// One character per block: as printed, [`FREE_CHAR`] for `(N lines all free)`,
    /// [`MISSING_CHAR`] for blocks with no data.
    chars: Vec<u8>,
    /// Every printed row, in order.
    printed: Vec<Printed>,
    /// Hex digits of the offset column: 5 before v1.20, 8 since.
    pub offset_digits: u8,
    issues: Vec<LayoutIssue>,
    /// Its rows came without a `GC memory layout` header (a table pasted from the middle).
    pub headerless: bool,
    /// Every `(N lines all free)` marker: its first row, the rows it holds here, the N printed
    /// and its line. A marker larger than the dump can hold holds no rows until the offsets
    /// printed around it say how many it really stands for ([`Self::reconcile_free_runs`]).
    markers: Vec<Marker>,
}

/// A row as printed: where it went, its offset and line, and how many block characters it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Printed {
    row: u64,
    offset: u64,
    line: u64,
    chars: u8,
    /// How many issues were found before the row's own unknown characters (which are only
    /// looked for when the area is finished), so they are reported in row order.
    issues_before: u32,
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
    /// The marker's line.
    pub line: u64,
    /// The N it printed.
    pub printed: u64,
    /// The rows the offsets say it stands for, which it now holds.
    pub read: u64,
}

impl AreaBuilder {
    /// An empty builder for the area at `ptr`.
    pub fn new(ptr: u64) -> Self {
        Self::with_capacity(ptr, 0)
    }

    /// A builder sized for `blocks` blocks (the same area's size in the previous dump), so a large
    /// area is not grown row by row.
    pub fn with_capacity(ptr: u64, blocks: usize) -> Self {
        Self::reusing(ptr, blocks, Spare::default())
    }

    /// [`Self::with_capacity`] in the buffers of an area finished before: parsing a long
    /// capture then allocates nothing per dump.
    pub fn reusing(ptr: u64, blocks: usize, spare: Spare) -> Self {
        let blocks = blocks.min(MAX_BLOCKS_UNBOUNDED as usize);
        let Spare {
            mut chars,
            mut printed,
            mut markers,
        } = spare;
        chars.clear();
        chars.reserve(blocks);
        printed.clear();
        printed.reserve(blocks / BLOCKS_PER_ROW + 1);
        markers.clear();
        AreaBuilder {
            ptr,
            chars,
            printed,
            offset_digits: 0,
            issues: Vec::new(),
            headerless: false,
            markers,
        }
    }

    /// Blocks so far.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True before the first row.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// A row that ended short is followed by more rows: fill it up so the next one starts on a row boundary.
    fn close_short_row(&mut self, line: u64) {
        let rem = self.chars.len() % BLOCKS_PER_ROW;
        if rem != 0 {
            self.issues
                .push(LayoutIssue::ShortRow { line, blocks: rem });
            let fill = BLOCKS_PER_ROW - rem;
            self.chars.resize(self.chars.len() + fill, MISSING_CHAR);
        }
    }

    /// Adds one printed row: `chars` are its block characters (see
    /// [`BlockKind::is_layout_char`]). `budget` is how many more blocks the dump may hold.
    pub fn push_row(
        &mut self,
        line: u64,
        offset: u64,
        digits: u8,
        chars: &[u8],
        budget: u64,
    ) -> Result<(), TooManyBlocks> {
        if !self.chars.is_empty() {
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
        let row = (self.chars.len() / BLOCKS_PER_ROW) as u64;
        self.printed.push(Printed {
            row,
            offset,
            line,
            chars: chars.len() as u8,
            issues_before: self.issues.len() as u32,
        });
        self.chars.extend_from_slice(chars);
        Ok(())
    }

    /// Appends the rest of a row that another writer's text interrupted (no offset was printed
    /// for it): block characters, whose unknown ones are not reported.
    pub fn append_continuation(&mut self, chars: &[u8], budget: u64) -> Result<(), TooManyBlocks> {
        if chars.len() as u64 > budget {
            return Err(TooManyBlocks {
                line: 0,
                limit: budget,
            });
        }
        self.chars.extend_from_slice(chars);
        Ok(())
    }

    /// Adds `n` rows of free blocks (`(n lines all free)`). More than `budget` blocks are not
    /// added (memory stays bounded whatever the number says); the marker is kept unresolved, to
    /// be read off the offsets around it, or the dump dropped ([`Self::unresolved`]).
    pub fn push_free_rows(&mut self, line: u64, n: u64, budget: u64) -> Result<(), TooManyBlocks> {
        if !self.chars.is_empty() {
            self.close_short_row(line.saturating_sub(1));
        }
        let start = (self.chars.len() / BLOCKS_PER_ROW) as u64;
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
        self.chars
            .resize(self.chars.len() + add as usize, FREE_CHAR);
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
        let offsets = Offsets::new(self.offset_digits, block_size);
        let mut fixes = Vec::new();
        for m in 0..self.markers.len() {
            let marker = self.markers[m];
            let Some(want) = self.rows_by_offsets(marker, &offsets) else {
                continue;
            };
            self.resize_free_run(m, want);
            fixes.push(FreeRunFix {
                line: marker.line,
                printed: marker.printed,
                read: want,
            });
        }
        fixes
    }

    /// The rows `marker` stands for by the offsets printed around it, when they disagree with
    /// the rows it holds (or it holds none of those printed); None when they agree or cannot
    /// tell (no row after it, offsets off the row grid, fewer rows than the others printed
    /// between take).
    fn rows_by_offsets(&self, marker: Marker, offsets: &Offsets) -> Option<u64> {
        let Marker {
            start,
            rows: n,
            printed,
            ..
        } = marker;
        let row_bytes = offsets.row_bytes;
        let prev = self.printed.iter().rev().find(|p| p.row < start).copied();
        let next = self.printed.iter().find(|p| p.row >= start + n).copied()?;
        // Rows between the row before the marker (or the area's start) and the next row.
        let (from_row, from_offset) = match prev {
            Some(p) => (p.row + 1, p.offset.wrapping_add(row_bytes)),
            None => (
                0,
                next.offset.wrapping_sub(next.row.wrapping_mul(row_bytes)),
            ),
        };
        if prev.is_none() && from_offset & offsets.mask != 0 {
            return None;
        }
        let between = next.offset.wrapping_sub(from_offset) & offsets.mask;
        if between % row_bytes != 0 {
            return None;
        }
        let rows = (between / row_bytes) % offsets.period;
        let gap = next.row - from_row;
        // The count is right when the printed offsets agree with it (mod a 5-digit wrap).
        if gap % offsets.period == rows && n == printed {
            return None;
        }
        // Rows printed between them besides the marker's keep their count.
        let others = gap - n;
        (rows > others).then(|| rows - others)
    }

    /// Makes marker `m` hold `want` rows of free blocks: what follows it shifts.
    fn resize_free_run(&mut self, m: usize, want: u64) {
        let Marker { start, rows: n, .. } = self.markers[m];
        let at = start as usize * BLOCKS_PER_ROW;
        let (old, new) = (n as usize * BLOCKS_PER_ROW, want as usize * BLOCKS_PER_ROW);
        self.chars
            .splice(at..at + old, std::iter::repeat_n(FREE_CHAR, new));
        let delta = want as i64 - n as i64;
        for p in self.printed.iter_mut().filter(|p| p.row >= start + n) {
            p.row = (p.row as i64 + delta) as u64;
        }
        for later in self.markers.iter_mut().skip(m + 1) {
            later.start = (later.start as i64 + delta) as u64;
        }
        self.markers[m].rows = want;
        self.markers[m].printed = want;
    }

    /// True when a row printed at offset 0 now starts the table again rather than continuing
    /// it: rows were printed, and the last one was not the last row before 5-digit offsets wrap
    /// at 1 MiB (where 0 legitimately follows).
    pub fn restarts_at_zero(&self) -> bool {
        self.printed
            .last()
            .is_some_and(|p| p.offset + 0x800 < offset_modulus(self.offset_digits).max(1 << 20))
    }

    /// The block size the printed offsets imply, if any two rows allow it to be read off.
    pub fn block_size_from_offsets(&self) -> Option<u32> {
        let modulus = offset_modulus(self.offset_digits);
        for pair in self.printed.windows(2) {
            let (r1, o1) = (pair[0].row, pair[0].offset);
            let (r2, o2) = (pair[1].row, pair[1].offset);
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
        if let Some(&Printed {
            row: r, offset: o, ..
        }) = self.printed.first()
        {
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
    /// `missing` blocks with no data are added at its end (a table cut off before it ended).
    pub fn finish(mut self, block_size: u32, missing: u64) -> (FinishedArea, Vec<LayoutIssue>) {
        let modulus = offset_modulus(self.offset_digits);
        let mask = modulus.wrapping_sub(1);
        let row_bytes = BLOCKS_PER_ROW as u64 * block_size as u64;
        self.chars
            .resize(self.chars.len() + missing as usize, MISSING_CHAR);
        let free_rows = self.markers.iter().map(|m| {
            let start = m.start as usize * BLOCKS_PER_ROW;
            start..start + m.rows as usize * BLOCKS_PER_ROW
        });
        let digest = AreaDigest::of_chars_skipping(&self.chars, free_rows);
        if digest.unknown {
            self.report_unknown_chars();
        }
        if let Some(&Printed {
            row: r0,
            offset: o0,
            ..
        }) = self.printed.first()
        {
            // Old firmware printed masked pointers, so the first row fixes the base.
            let base = o0.wrapping_sub(r0.wrapping_mul(row_bytes));
            let mut mismatches = 0u64;
            let mut first = None;
            for p in &self.printed {
                let counted = base.wrapping_add(p.row.wrapping_mul(row_bytes)) & mask;
                if counted != p.offset & mask {
                    mismatches += 1;
                    first.get_or_insert((p.line, p.offset, counted));
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
            FinishedArea {
                ptr: self.ptr,
                block_size,
                chars: self.chars,
                digest,
                rest: (self.printed, self.markers),
            },
            self.issues,
        )
    }

    /// Adds an issue for each printed row with characters not seen before in this area that
    /// are no known block kind, in its place among the issues found as the rows came.
    fn report_unknown_chars(&mut self) {
        let mut seen = [false; 256];
        let mut found: Vec<(usize, LayoutIssue)> = Vec::new();
        for p in &self.printed {
            let start = p.row as usize * BLOCKS_PER_ROW;
            let mut unknown = String::new();
            for &c in &self.chars[start..start + p.chars as usize] {
                if !super::is_known_block_char(c) && !seen[c as usize] {
                    seen[c as usize] = true;
                    unknown.push(c as char);
                }
            }
            if !unknown.is_empty() {
                let issue = LayoutIssue::UnknownChars {
                    line: p.line,
                    chars: unknown,
                };
                found.push((p.issues_before as usize, issue));
            }
        }
        // Inserted from the last, so the earlier places stay where they were counted.
        for (at, issue) in found.into_iter().rev() {
            self.issues.insert(at, issue);
        }
    }
}

/// An area whose rows are all in: its blocks as printed characters, and their digest.
#[derive(Debug, Clone)]
pub struct FinishedArea {
    /// The area's start address as printed.
    pub ptr: u64,
    /// Bytes per block.
    pub block_size: u32,
    /// One character per block (see [`AreaBuilder`]).
    pub chars: Vec<u8>,
    /// Counts and hash of the blocks (see [`AreaDigest`]).
    pub digest: AreaDigest,
    /// The builder's other buffers, for [`Self::into_spare`].
    rest: (Vec<Printed>, Vec<Marker>),
}

/// The buffers of a finished area, to build another in ([`AreaBuilder::reusing`]).
#[derive(Debug, Default)]
pub struct Spare {
    chars: Vec<u8>,
    printed: Vec<Printed>,
    markers: Vec<Marker>,
}

impl Spare {
    /// Blocks it has room for.
    pub fn blocks(&self) -> usize {
        self.chars.capacity()
    }
}

impl FinishedArea {
    /// Its buffers, to build another area in.
    pub fn into_spare(self) -> Spare {
        Spare {
            chars: self.chars,
            printed: self.rest.0,
            markers: self.rest.1,
        }
    }

    /// The area's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.chars.len() as u64 * self.block_size as u64
    }

    /// The blocks, decoded.
    pub fn decode(&self) -> HeapArea {
        HeapArea {
            ptr: self.ptr,
            block_size: self.block_size,
            blocks: self
                .chars
                .iter()
                .map(|&c| BlockKind::from_char(c))
                .collect(),
        }
    }
}

/// How printed offsets relate to rows, for an area of one block size.
struct Offsets {
    /// Bytes per printed row.
    row_bytes: u64,
    /// Keeps the bits of an offset that the column prints.
    mask: u64,
    /// Rows after which printed offsets repeat (1 MiB of 5-digit offsets), at least 1.
    period: u64,
}

impl Offsets {
    fn new(digits: u8, block_size: u32) -> Self {
        let row_bytes = BLOCKS_PER_ROW as u64 * block_size as u64;
        let modulus = offset_modulus(digits);
        Offsets {
            row_bytes,
            mask: modulus.wrapping_sub(1),
            period: (modulus / row_bytes.max(1)).max(1),
        }
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
