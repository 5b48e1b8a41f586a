//! The heap model: what one `micropython.mem_info(1)` dump says about the GC heap.
//!
//! No I/O and no pixels live here. In go the parsed lines of one dump (the capture parser fills
//! a [`Snapshot`], with [`layout`] turning table rows into blocks); out come its blocks and its
//! figures. A [`Snapshot`] holds the summary lines (each optional, since boards differ) and one
//! [`HeapArea`] per `GC memory layout; from <ptr>:` section, each with one [`BlockKind`] byte per
//! GC block. The renderer turns blocks into cells; [`Snapshot::figures`] (with [`fragmentation`])
//! is the one rule for a dump's used, free and largest free block, which `info`, `stats`, `plot`,
//! the strip and the overlay all show.
//!
//! ```
//! use memanim::heap::{fragmentation, BlockKind, HeapArea, Snapshot};
//!
//! // No GC line: the figures are counted from a whole table.
//! let blocks = "h=..S...".bytes().map(BlockKind::from_char).collect();
//! let area = HeapArea { ptr: 0x2000_0000, block_size: 16, blocks };
//! let snap = Snapshot { complete: true, areas: vec![area], ..Snapshot::default() };
//! let f = snap.figures(16).unwrap();
//! assert_eq!((f.used, f.free, f.largest_free), (48, 80, Some(48)));
//! assert_eq!(f.fragmentation(), Some(fragmentation(80, 48)));
//! ```

pub mod age;
pub mod digest;
pub mod layout;

/// What one GC block holds, decoded from the character `gc_dump_alloc_table` prints for it.
///
/// `repr(u8)` keeps a heap map at one byte per block; 65,000 blocks of a 2 MiB unix heap are 64 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum BlockKind {
    /// `.`: free.
    #[default]
    Free = 0,
    /// `=` (or `t` before v1.8.1): continues the allocation whose head precedes it.
    Tail,
    /// `h`: head of any other object.
    Head,
    /// `T`: tuple.
    Tuple,
    /// `L`: list.
    List,
    /// `D`: dict.
    Dict,
    /// `S`: str or bytes.
    Str,
    /// `A`: bytearray or array.array.
    Array,
    /// `F`: boxed float.
    Float,
    /// `B`: bytecode function.
    Bytecode,
    /// `M`: module.
    Module,
    /// `m`: a head marked during a collection.
    Marked,
    /// A character this version of memanim does not know; kept so no block is ever dropped.
    Unknown,
    /// No data: a block the dump never printed (the dump was cut off).
    Missing,
}

impl BlockKind {
    /// Every kind, in legend order.
    pub const ALL: [BlockKind; 14] = [
        BlockKind::Head,
        BlockKind::Tuple,
        BlockKind::List,
        BlockKind::Dict,
        BlockKind::Str,
        BlockKind::Array,
        BlockKind::Float,
        BlockKind::Bytecode,
        BlockKind::Module,
        BlockKind::Marked,
        BlockKind::Unknown,
        BlockKind::Tail,
        BlockKind::Free,
        BlockKind::Missing,
    ];

    /// The kinds of object heads, most common first (the legend's and the stats table's order);
    /// marked heads are counted with the unknown ones.
    pub const OBJECTS: [BlockKind; 10] = [
        BlockKind::Head,
        BlockKind::Str,
        BlockKind::List,
        BlockKind::Dict,
        BlockKind::Tuple,
        BlockKind::Array,
        BlockKind::Float,
        BlockKind::Bytecode,
        BlockKind::Module,
        BlockKind::Unknown,
    ];

    /// Number of distinct kinds; `kind as usize` is always below this.
    pub const COUNT: usize = 14;

    /// Decodes one layout character. Unknown printable characters map to [`BlockKind::Unknown`];
    /// a space, which no row prints, is what [`BlockKind::to_char`] gives for "no data", and
    /// decodes back to [`BlockKind::Missing`].
    #[inline]
    pub fn from_char(c: u8) -> BlockKind {
        KIND_OF_BYTE[c as usize]
    }

    /// The character mem_info prints for this kind (`?` for unknown, ` ` for missing).
    pub fn to_char(self) -> char {
        match self {
            BlockKind::Free => '.',
            BlockKind::Tail => '=',
            BlockKind::Head => 'h',
            BlockKind::Tuple => 'T',
            BlockKind::List => 'L',
            BlockKind::Dict => 'D',
            BlockKind::Str => 'S',
            BlockKind::Array => 'A',
            BlockKind::Float => 'F',
            BlockKind::Bytecode => 'B',
            BlockKind::Module => 'M',
            BlockKind::Marked => 'm',
            BlockKind::Unknown => '?',
            BlockKind::Missing => ' ',
        }
    }

    /// A short name for legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Free => "free",
            BlockKind::Tail => "tail",
            BlockKind::Head => "object",
            BlockKind::Tuple => "tuple",
            BlockKind::List => "list",
            BlockKind::Dict => "dict",
            BlockKind::Str => "str/bytes",
            BlockKind::Array => "bytearray",
            BlockKind::Float => "float",
            BlockKind::Bytecode => "function",
            BlockKind::Module => "module",
            BlockKind::Marked => "marked",
            BlockKind::Unknown => "unknown",
            BlockKind::Missing => "no data",
        }
    }

    /// True for the first block of an allocation.
    #[inline]
    pub fn is_head(self) -> bool {
        !matches!(self, BlockKind::Free | BlockKind::Tail | BlockKind::Missing)
    }

    /// True for blocks that hold data (heads and tails), as gc_info counts `used`.
    #[inline]
    pub fn is_used(self) -> bool {
        !matches!(self, BlockKind::Free | BlockKind::Missing)
    }

    /// True when `c` is a character a layout row may contain: any printable ASCII but space and ':'.
    #[inline]
    pub fn is_layout_char(c: u8) -> bool {
        // Not ':' (it ends an offset) and not '`' (a markdown fence glued to a pasted row).
        c.is_ascii_graphic() && c != b':' && c != b'`'
    }
}

const fn build_kind_table() -> [BlockKind; 256] {
    let mut t = [BlockKind::Unknown; 256];
    t[MISSING_CHAR as usize] = BlockKind::Missing;
    t[b'.' as usize] = BlockKind::Free;
    t[b'=' as usize] = BlockKind::Tail;
    t[b't' as usize] = BlockKind::Tail;
    t[b'h' as usize] = BlockKind::Head;
    t[b'T' as usize] = BlockKind::Tuple;
    t[b'L' as usize] = BlockKind::List;
    t[b'D' as usize] = BlockKind::Dict;
    t[b'S' as usize] = BlockKind::Str;
    t[b'A' as usize] = BlockKind::Array;
    t[b'F' as usize] = BlockKind::Float;
    t[b'B' as usize] = BlockKind::Bytecode;
    t[b'M' as usize] = BlockKind::Module;
    t[b'm' as usize] = BlockKind::Marked;
    t
}

/// The one map from a printed character to a kind: rows are decoded, and the index's figures
/// worked out from row text ([`digest`]), through this table alone.
static KIND_OF_BYTE: [BlockKind; 256] = build_kind_table();

/// What [`BlockKind::to_char`] prints for a block with no data: never a layout character, so a
/// table of printed characters can hold it where blocks are missing.
pub const MISSING_CHAR: u8 = b' ';

/// True for the characters py/gc.c prints (and `t`, the tail of firmware before v1.8.1); anything
/// else decodes to Unknown with a warning.
#[inline]
pub fn is_known_block_char(c: u8) -> bool {
    !matches!(
        KIND_OF_BYTE[c as usize],
        BlockKind::Unknown | BlockKind::Missing
    )
}

/// `mem: total=T, current=C, peak=P` (unix builds): bytes ever allocated, live, and the peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemStats {
    /// Bytes allocated since start, freed or not.
    pub total: u64,
    /// Bytes allocated now.
    pub current: u64,
    /// The most bytes allocated at once.
    pub peak: u64,
}

/// `stack: U out of L` (the limit is absent on some ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackStats {
    /// Bytes of stack in use.
    pub used: u64,
    /// The stack's size (bytes), when the port prints it.
    pub limit: Option<u64>,
}

/// `GC: total: T, used: U, free: F[, max new split: N]` and the ` No. of 1-blocks` line after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcSummary {
    /// Bytes, summed over all areas.
    pub total: u64,
    /// Bytes in used blocks.
    pub used: u64,
    /// Bytes in free blocks.
    pub free: u64,
    /// ESP32 since v1.21: bytes the heap could still grow by.
    pub max_new_split: Option<u64>,
    /// From the ` No. of` line, when present: allocations of one block.
    pub one_blocks: Option<u64>,
    /// Allocations of two blocks (the ` No. of` line).
    pub two_blocks: Option<u64>,
    /// Largest allocation, in blocks.
    pub max_block: Option<u64>,
    /// Largest free run, in blocks (absent before v1.8.2).
    pub max_free: Option<u64>,
}

/// One `GC memory layout; from <ptr>:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapArea {
    /// The area's start address as printed (0 when the header was lost).
    pub ptr: u64,
    /// Bytes per GC block: 16 on 32-bit ports, 32 on 64-bit unix.
    pub block_size: u32,
    /// One kind per block, in address order.
    pub blocks: Vec<BlockKind>,
}

impl HeapArea {
    /// The area's size in bytes (blocks times block size).
    pub fn bytes(&self) -> u64 {
        self.blocks.len() as u64 * self.block_size as u64
    }
}

/// Figures recomputed from the blocks themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockStats {
    /// Blocks in every area, those with no data included.
    pub blocks: u64,
    /// Heads and tails.
    pub used_blocks: u64,
    /// Free blocks (blocks with no data are neither used nor free).
    pub free_blocks: u64,
    /// Longest run of free blocks within one area.
    pub largest_free_run: u64,
    /// Number of separate free runs.
    pub free_runs: u64,
    /// Number of allocations (heads).
    pub objects: u64,
    /// Bytes summed over areas (each area's own block size).
    pub used_bytes: u64,
    /// Free bytes summed over areas.
    pub free_bytes: u64,
    /// Largest free run in bytes.
    pub largest_free_bytes: u64,
}

impl BlockStats {
    /// [`fragmentation`] of these counts.
    pub fn fragmentation(&self) -> f64 {
        fragmentation(self.free_bytes, self.largest_free_bytes)
    }
}

/// 1 - largest free / free: 0 when all free memory is one run, near 1 when it is shattered.
pub fn fragmentation(free: u64, largest_free: u64) -> f64 {
    if free == 0 {
        0.0
    } else {
        1.0 - largest_free as f64 / free as f64
    }
}

/// A snapshot's headline figures (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// The heap's size.
    pub total: u64,
    /// Bytes in used blocks.
    pub used: u64,
    /// Bytes in free blocks.
    pub free: u64,
    /// None when the dump does not tell: no `max free sz` and no whole table to count.
    pub largest_free: Option<u64>,
}

impl Figures {
    /// 1 - largest free / free, when the largest free block is known.
    pub fn fragmentation(&self) -> Option<f64> {
        self.largest_free.map(|l| fragmentation(self.free, l))
    }
}

/// What a whole table's blocks say (bytes), for the figures a dump's own lines lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub used: u64,
    pub free: u64,
    pub largest_free: u64,
}

/// The largest free block as a dump tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LargestFree {
    /// `max free sz` from the dump's lines: blocks, which the block size turns into bytes.
    Blocks(u64),
    /// Counted in a whole table: bytes.
    Bytes(u64),
}

/// A snapshot's figures before the block size is known: [`Snapshot::figures`]'s rule, kept in
/// parts so the capture's index can store them and give the same figures later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureParts {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub largest_free: Option<LargestFree>,
}

impl FigureParts {
    /// The rule: the GC line's total, used and free (when it has a total), else the counts of a
    /// whole table; the largest free block from `max free sz`, else counted. `counted` is called
    /// only when the GC line does not say it all (counting is the slow part), and gives None
    /// when there is no whole table to count.
    pub fn of(gc: Option<GcSummary>, counted: impl FnOnce() -> Option<Counted>) -> Option<Self> {
        match gc.filter(|g| g.total > 0) {
            Some(g) => Some(FigureParts {
                total: g.total,
                used: g.used,
                free: g.free,
                largest_free: match g.max_free {
                    Some(m) => Some(LargestFree::Blocks(m)),
                    None => counted().map(|c| LargestFree::Bytes(c.largest_free)),
                },
            }),
            None => counted().map(|c| FigureParts {
                total: c.used + c.free,
                used: c.used,
                free: c.free,
                largest_free: Some(LargestFree::Bytes(c.largest_free)),
            }),
        }
    }

    /// The figures, with `block_size` for a `max free sz` in blocks.
    pub fn figures(self, block_size: u64) -> Figures {
        Figures {
            total: self.total,
            used: self.used,
            free: self.free,
            largest_free: self.largest_free.map(|l| match l {
                LargestFree::Blocks(n) => n * block_size,
                LargestFree::Bytes(b) => b,
            }),
        }
    }
}

/// One heap dump.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Line of the `@@@ <ticks>` marker.
    pub line: u64,
    /// `ticks_ms` as printed.
    pub ticks: u64,
    /// Milliseconds since the start of its session, unwrapped (monotonic within the session).
    pub time_ms: i64,
    /// False when the dump carried no time (pasted without markers or time stamps): `time_ms`
    /// then only spaces it evenly after the one before, and it is shown by number and line.
    pub timed: bool,
    /// Wall-clock time (ms since 1970, local time of the board) when the session has a sync line.
    pub wall_ms: Option<i64>,
    /// The `mem:` line (unix builds).
    pub mem: Option<MemStats>,
    /// The `stack:` line.
    pub stack: Option<StackStats>,
    /// The `GC:` line and the ` No. of` line after it.
    pub gc: Option<GcSummary>,
    /// The layout tables, one per area, in the order printed (none when the dump had none).
    pub areas: Vec<HeapArea>,
    /// False when the dump was cut off (no end marker, or a table shorter than the GC total says).
    pub complete: bool,
}

impl Snapshot {
    /// Counts computed from the blocks of every area.
    pub fn block_stats(&self) -> BlockStats {
        let mut s = BlockStats::default();
        for area in &self.areas {
            let bs = area.block_size as u64;
            // A histogram is branch-free and fast; free runs are found by scanning for run ends.
            let mut hist = [0u64; BlockKind::COUNT];
            for &b in &area.blocks {
                hist[b as usize] += 1;
            }
            let free = hist[BlockKind::Free as usize];
            let used = area.blocks.len() as u64 - free - hist[BlockKind::Missing as usize];
            s.objects += BlockKind::ALL
                .iter()
                .filter(|k| k.is_head())
                .map(|&k| hist[k as usize])
                .sum::<u64>();
            let (runs, longest) = digest::free_runs(&area.blocks, BlockKind::Free);
            s.free_runs += runs;
            s.largest_free_run = s.largest_free_run.max(longest);
            s.largest_free_bytes = s.largest_free_bytes.max(longest * bs);
            s.blocks += area.blocks.len() as u64;
            s.used_blocks += used;
            s.free_blocks += free;
            s.used_bytes += used * bs;
            s.free_bytes += free * bs;
        }
        s
    }

    /// Total blocks over all areas.
    pub fn block_count(&self) -> usize {
        self.areas.iter().map(|a| a.blocks.len()).sum()
    }

    /// Bytes per block of the first area (all areas of one build share it).
    pub fn block_size(&self) -> Option<u32> {
        self.areas.first().map(|a| a.block_size)
    }

    /// Whether [`Snapshot::figures`] needs the blocks, or the summary lines (which the store
    /// keeps without decoding) are enough.
    pub fn figures_need_blocks(&self) -> bool {
        !self.gc.is_some_and(|g| g.total > 0 && g.max_free.is_some())
    }

    /// Total, used, free and largest free block: the one rule every command and every frame
    /// uses, so one dump always shows one set of figures.
    ///
    /// The dump's own lines come first: total, used and free from the GC line, the largest free
    /// block from `max free sz` times `block_size` (the block size is never printed; pass what
    /// the capture's tables show). What they lack is counted from the blocks, but only when the
    /// table is whole: a table cut off by a reset or the end of a paste would count the blocks
    /// never printed as neither used nor free. So a cut-off dump without a GC line has no
    /// figures (None), and one without `max free sz` has no largest free block; they are left
    /// out of minima and maxima rather than shown as 0 B.
    pub fn figures(&self, block_size: u64) -> Option<Figures> {
        let whole = self.complete && !self.areas.is_empty();
        let counted = || {
            whole.then(|| {
                let st = self.block_stats();
                Counted {
                    used: st.used_bytes,
                    free: st.free_bytes,
                    largest_free: st.largest_free_bytes,
                }
            })
        };
        FigureParts::of(self.gc, counted).map(|p| p.figures(block_size))
    }
}
