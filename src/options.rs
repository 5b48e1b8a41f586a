//! The options of each command as one struct with defaults, shared by the CLI and library callers.
//! Every field says its unit.
//!
//! In go the values `cli.rs` read off the command line (or a library caller's own); out comes one
//! [`RenderOptions`], which the library narrows into what each stage uses: the parse options,
//! the timeline's [`Selection`] and [`TimingOptions`], the renderer's [`StyleOptions`], and the
//! share targets. The `DEFAULT_*` constants are the defaults `--help` shows.

use crate::cancel::Cancel;
use crate::capture::ParseOptions;
use crate::timeline::Selection;
pub use crate::timeline::{
    TimingOptions, DEFAULT_FPS, DEFAULT_LAST_FRAME_S, DEFAULT_MAX_IDLE_S, DEFAULT_SPEED,
};

/// The image is kept about this wide unless `--cell` asks for more (px).
pub const DEFAULT_MAX_WIDTH: u32 = 1280;
/// The heap map is kept about this tall (px).
pub const DEFAULT_MAX_MAP_HEIGHT: u32 = 780;
/// Log lines shown under the map.
pub const DEFAULT_LOG_LINES: usize = 6;
/// The most frames one run writes unless `--max-frames` says otherwise: far more than anyone
/// watches, few enough that a mistaken command cannot run for hours or fill a disk.
pub const DEFAULT_MAX_FRAMES: usize = 50_000;
/// Frames rendered per batch: bounds memory whatever the capture's length.
pub const DEFAULT_BATCH: usize = 32;

/// The pitch of one block's cell in the heap map (px), gaps included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSize {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

impl CellSize {
    /// A square cell `side` px wide.
    pub fn square(side: u32) -> Self {
        CellSize {
            width: side,
            height: side,
        }
    }

    /// The default shape: about half as tall as wide (at least 3 px, which leaves a 1 px gap
    /// between rows). A block is a step along an address range, so a cell's shape carries no
    /// meaning, while every pixel row of a changed cell costs bytes in a GIF frame: bricks of
    /// 8x4 make long_run.log's GIF about 30% smaller than squares of 8 and read as well. Cells
    /// under 4 px stay square.
    pub fn brick(width: u32) -> Self {
        if width >= 4 {
            CellSize {
                width,
                height: width.div_ceil(2).max(3),
            }
        } else {
            CellSize::square(width)
        }
    }

    /// The cell `k` times as large each way (`--scale`).
    pub fn scaled(self, k: u32) -> Self {
        CellSize {
            width: self.width * k,
            height: self.height * k,
        }
    }

    /// `8` (a brick 8 wide) or `8x8`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let num = |t: &str| -> Result<u32, String> {
            match t.trim().parse::<u32>() {
                Ok(n) if (1..=64).contains(&n) => Ok(n),
                _ => Err(format!(
                    "'{t}' is not a cell size: give pixels from 1 to 64, as 8 or 8x4"
                )),
            }
        };
        match s.split_once(['x', 'X']) {
            Some((w, h)) => Ok(CellSize {
                width: num(w)?,
                height: num(h)?,
            }),
            None => Ok(CellSize::brick(num(s)?)),
        }
    }
}

/// What a used block's colour says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// The kind of its object (str, list, dict, ...).
    #[default]
    Kind,
    /// How long its object has lived (see `heap::age` for how objects are followed).
    Age,
}

/// How frames look.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleOptions {
    /// What a used block's colour says.
    pub color: ColorBy,
    /// Blocks per grid row; None picks 64 or a multiple that fits the size limits.
    pub columns: Option<u32>,
    /// Cell size (px); None picks the largest brick that fits.
    pub cell: Option<CellSize>,
    /// Multiplies cells, text and margins (1 = normal).
    pub scale: u32,
    /// Log lines under the map (0 hides the pane).
    pub log_lines: usize,
    /// Mark blocks allocated or freed since the previous frame.
    pub show_changes: bool,
    /// Draw the timeline strip (used memory and largest free block over time) under the map.
    pub timeline: bool,
    /// Upper bound on the image width when the cell size is chosen automatically (px).
    pub max_width: u32,
    /// Upper bound on the heap map's height when the cell size is chosen automatically (px).
    pub max_map_height: u32,
    /// A line of the user's own text drawn at the top of every frame (the board, the firmware,
    /// the bug), as given: nothing in it is interpreted.
    pub title: Option<String>,
    /// One cell per block however large the heap. Without it, an animation of a heap of more
    /// than [`DENSITY_CELLS`] blocks shows a few blocks per cell (the density view); stills and
    /// the HTML report are always exact.
    pub exact: bool,
}

/// The most cells an animation's map has before blocks share cells (see [`StyleOptions::exact`]):
/// a 512 KiB heap of 32-byte blocks. Every pixel of a changed region costs encoding time and
/// bytes in every frame, and past this many blocks a block's own cell is too small to read.
pub const DENSITY_CELLS: usize = 16_384;

impl Default for StyleOptions {
    fn default() -> Self {
        StyleOptions {
            columns: None,
            cell: None,
            scale: 1,
            log_lines: DEFAULT_LOG_LINES,
            show_changes: true,
            timeline: true,
            color: ColorBy::Kind,
            max_width: DEFAULT_MAX_WIDTH,
            max_map_height: DEFAULT_MAX_MAP_HEIGHT,
            title: None,
            exact: false,
        }
    }
}

/// What makes an animation ready to post (`--duration`, `--max-size`): see `crate::share`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ShareOptions {
    /// Play the whole window in this time (ms), last frame included; the speed is chosen for it.
    pub duration_ms: Option<f64>,
    /// GIF only: write no more than this many bytes, giving up frame rate, then cell size, then
    /// (with `trim`) the start of the window.
    pub max_size: Option<u64>,
    /// With `max_size`: when nothing else is enough, keep only the end of the window.
    pub trim: bool,
}

/// Everything `memanim CAPTURE -o OUT` needs besides the input and output.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// How the capture is read.
    pub parse: ParseOptions,
    /// The time window and, for a still, the one frame.
    pub selection: Selection,
    /// How snapshot times become frame times.
    pub timing: TimingOptions,
    /// How frames look.
    pub style: StyleOptions,
    /// GIF loop count: 0 = forever.
    pub loop_count: u16,
    /// Worker threads; None = one per core.
    pub jobs: Option<usize>,
    /// Frames rendered at once (bounds memory).
    pub batch: usize,
    /// Refuse to write more frames than this (video frames for Y4M).
    pub max_frames: usize,
    /// Play time and size targets.
    pub share: ShareOptions,
    /// Stops the render (Ctrl-C in the binary): [`crate::render()`] then returns
    /// [`crate::Error::Interrupted`] and writes nothing. Reading the capture has its own token,
    /// `parse.cancel`; the binary gives both the same one.
    pub cancel: Cancel,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            parse: ParseOptions::default(),
            selection: Selection::default(),
            timing: TimingOptions::default(),
            style: StyleOptions::default(),
            loop_count: 0,
            jobs: None,
            batch: DEFAULT_BATCH,
            max_frames: DEFAULT_MAX_FRAMES,
            share: ShareOptions::default(),
            cancel: Cancel::default(),
        }
    }
}
