//! The heap map: one cell per block, tails in a lighter shade of their head's colour, and marks on
//! the blocks allocated or freed since the previous frame.
//!
//! Each cell's look is summed up in a small key (colour, whether it joins its right neighbour,
//! its change mark). [`MapState`] keeps the keys of the frame drawn last, so the next frame of a
//! run repaints only the cells whose key changed, and the area labels only when their text did.

use super::frame::Frame;
use super::palette::{self, ix};
use super::text::TextRenderer;
use super::{human_bytes, AreaSlot, Layout};
use crate::heap::{BlockKind, HeapArea, Snapshot};

/// What the map of the frame drawn last looked like.
#[derive(Debug, Clone, Default)]
pub struct MapState {
    /// The session whose areas are drawn; another session's map starts from a blank band.
    session: Option<usize>,
    labels: Vec<String>,
    /// Per area slot, per block: the key of the cell as drawn ([`NOT_DRAWN`] before the first).
    cells: Vec<Vec<u32>>,
}

/// A key no cell has: the cell must be drawn.
const NOT_DRAWN: u32 = u32::MAX;

/// How used blocks are coloured.
#[derive(Debug, Clone, Copy)]
pub enum Colouring<'a> {
    /// By the kind of their object (heads full, tails paler).
    Kind,
    /// By their object's age class (0 = youngest), per area pointer, block by block;
    /// [`NO_AGE`] for blocks with no object.
    Age(&'a [(u64, Vec<u8>)]),
}

/// The age class of a block that belongs to no object.
pub const NO_AGE: u8 = u8::MAX;

impl Colouring<'_> {
    /// The age classes of the area at `ptr`: None when coloured by kind, and no classes (so every
    /// block coloured by kind) for an area the frame's classes leave out.
    fn ages_of(&self, ptr: u64) -> Option<&[u8]> {
        match *self {
            Colouring::Kind => None,
            Colouring::Age(all) => Some(
                all.iter()
                    .find(|(p, _)| *p == ptr)
                    .map_or(&[][..], |(_, v)| v.as_slice()),
            ),
        }
    }
}

impl MapState {
    /// Makes this the state of `session`'s map. After a reset the new session's heap has its own
    /// areas, drawn on a blank band; nothing of the old map is kept.
    fn enter(&mut self, f: &mut Frame, l: &Layout, session: usize) {
        if self.session != Some(session) {
            if self.session.is_some() {
                f.fill_rect(0, l.map_y, l.width, l.map_h, ix::BACKGROUND);
            }
            *self = MapState {
                session: Some(session),
                ..MapState::default()
            };
        }
    }
}

/// The snapshot a frame's map shows.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    /// Its session: a new one clears the map.
    pub session: usize,
    pub snap: &'a Snapshot,
    /// The snapshot shown before it, in the same session: it enables change marks.
    pub prev: Option<&'a Snapshot>,
}

/// Draws every area of the snapshot `shown` over what `state` says is on `f`.
pub fn draw_map(
    f: &mut Frame,
    l: &Layout,
    text: &TextRenderer,
    shown: Shown<'_>,
    colouring: Colouring<'_>,
    state: &mut MapState,
) {
    let Shown {
        session,
        snap,
        prev,
    } = shown;
    state.enter(f, l, session);
    let slots = l.areas(session);
    if slots.is_empty() {
        draw_no_table(f, l, text, state);
        return;
    }
    state.labels.resize(slots.len(), String::new());
    state.cells.resize(slots.len(), Vec::new());
    for (a, slot) in slots.iter().enumerate() {
        let area = snap.areas.iter().find(|x| x.ptr == slot.ptr);
        let before = prev.and_then(|p| p.areas.iter().find(|x| x.ptr == slot.ptr));
        let label = area_label(l, slots, a, snap, area);
        if state.labels[a] != label {
            draw_label(f, l, text, slot.label_y, &label);
            state.labels[a] = label;
        }
        let ages = colouring.ages_of(slot.ptr);
        let cells = &mut state.cells[a];
        cells.resize(slot.cells, NOT_DRAWN);
        if l.blocks_per_cell > 1 {
            draw_area_density(f, l, slot, area, before, ages, cells);
        } else {
            draw_area(f, l, slot, area, before, ages, cells);
        }
    }
}

/// A session whose dumps have no layout table has no areas to draw: one line in the map's place
/// says so, and how to get one.
fn draw_no_table(f: &mut Frame, l: &Layout, text: &TextRenderer, state: &mut MapState) {
    let label = "no layout table in this session's dumps (micropython.mem_info(1) prints it)";
    if state.labels.first().map(String::as_str) != Some(label) {
        draw_label(f, l, text, l.map_y, label);
        state.labels = vec![label.to_string()];
    }
}

/// Writes `label` on the label line at `y`, over whatever it said before.
fn draw_label(f: &mut Frame, l: &Layout, text: &TextRenderer, y: u32, label: &str) {
    f.fill_rect(
        l.map_x,
        y,
        l.width - l.map_x,
        text.line_height,
        ix::BACKGROUND,
    );
    text.draw(
        f,
        l.map_x as i32,
        y as i32,
        label,
        ix::TEXT_DIM,
        l.width - l.map_x,
    );
}

/// The label over area `a` of `slots`: [`area_summary`], and in the density view what a cell
/// shows.
fn area_label(
    l: &Layout,
    slots: &[AreaSlot],
    a: usize,
    snap: &Snapshot,
    area: Option<&HeapArea>,
) -> String {
    let label = area_summary(slots, a, snap, area);
    if l.blocks_per_cell > 1 {
        format!(
            "{label}  ({} blocks a cell; pale: partly free)",
            l.blocks_per_cell
        )
    } else {
        label
    }
}

/// Which area of `slots` (when there are several) area `a` is, where it is, and what `snap`
/// says of it: its size, or that the dump does not show it.
fn area_summary(slots: &[AreaSlot], a: usize, snap: &Snapshot, area: Option<&HeapArea>) -> String {
    let slot = &slots[a];
    match (slots.len() > 1, area) {
        (true, Some(ar)) => format!(
            "area {}/{}  0x{:x}  {}  {} blocks of {} B",
            a + 1,
            slots.len(),
            slot.ptr,
            human_bytes(ar.bytes()),
            ar.blocks.len(),
            ar.block_size
        ),
        (true, None) if snap.areas.is_empty() => format!(
            "area {}/{}  0x{:x}  (this dump has no layout table)",
            a + 1,
            slots.len(),
            slot.ptr
        ),
        (true, None) => format!(
            "area {}/{}  0x{:x}  (not in this dump)",
            a + 1,
            slots.len(),
            slot.ptr
        ),
        // Rows pasted without their `GC memory layout` header have no address.
        (false, Some(ar)) if slot.ptr == 0 => format!(
            "heap (its address was not in the paste)  {}  {} blocks of {} B",
            human_bytes(ar.bytes()),
            ar.blocks.len(),
            ar.block_size
        ),
        (false, Some(ar)) => format!(
            "heap 0x{:x}  {}  {} blocks of {} B",
            slot.ptr,
            human_bytes(ar.bytes()),
            ar.blocks.len(),
            ar.block_size
        ),
        (false, None) => format!(
            "heap 0x{:x}  (this dump has no layout table: only its figures)",
            slot.ptr
        ),
    }
}

/// The change mark of block `i`, now `k`, against the previous frame's blocks: a used block where
/// there was none (or another object's head) is new; a free block that was used has been freed.
fn change(prev: Option<&[BlockKind]>, k: BlockKind, i: usize) -> Option<u8> {
    let was = prev?.get(i).copied().unwrap_or(BlockKind::Missing);
    match (was.is_used(), k.is_used()) {
        (false, true) if was != BlockKind::Missing => Some(ix::ALLOCATED),
        (true, true) if k.is_head() && was != k => Some(ix::ALLOCATED),
        (true, false) if k == BlockKind::Free => Some(ix::FREED),
        _ => None,
    }
}

/// How a cell is drawn: its colour, over the gap to its right neighbour when `joined`, and the
/// change mark along its bottom (joined likewise).
#[derive(Debug, Clone, Copy)]
struct Look {
    colour: u8,
    joined: bool,
    mark: Option<u8>,
    mark_joined: bool,
}

impl Look {
    /// The look as one number, to tell whether a cell needs painting again.
    fn key(self) -> u32 {
        self.colour as u32
            | (self.joined as u32) << 8
            | (self.mark.map_or(0, |m| m as u32 + 1)) << 9
            | (self.mark_joined as u32) << 17
    }
}

fn draw_area(
    f: &mut Frame,
    l: &Layout,
    slot: &AreaSlot,
    area: Option<&HeapArea>,
    prev: Option<&HeapArea>,
    ages: Option<&[u8]>,
    drawn: &mut [u32],
) {
    let mark_ok = l.mark_bar().is_some();
    let blocks: &[BlockKind] = area.map_or(&[], |x| &x.blocks);
    let prev_blocks: Option<&[BlockKind]> = prev.map(|p| p.blocks.as_slice());
    let kind_at = |i: usize| blocks.get(i).copied().unwrap_or(BlockKind::Missing);
    let change_at = |i: usize| change(prev_blocks, kind_at(i), i);
    let cols = l.columns as usize;
    let mut head = BlockKind::Free;
    let mut next_change = if slot.blocks > 0 { change_at(0) } else { None };
    for (i, drawn) in drawn.iter_mut().enumerate().take(slot.blocks) {
        let k = kind_at(i);
        if k != BlockKind::Tail {
            head = k;
        }
        let age = ages
            .and_then(|v| v.get(i).copied())
            .filter(|&c| c != NO_AGE);
        let colour = match (age, k) {
            (Some(c), BlockKind::Tail) => palette::age_tail_index(c),
            (Some(c), _) => palette::age_head_index(c),
            (None, BlockKind::Tail) => palette::tail_index(head),
            (None, _) => palette::head_index(k),
        };
        let change = next_change.filter(|_| mark_ok);
        let last_in_row = i % cols == cols - 1 || i + 1 == slot.blocks;
        next_change = if i + 1 < slot.blocks {
            change_at(i + 1)
        } else {
            None
        };
        // One allocation (a head and its tails) and one free run are drawn without the gap
        // between their cells, so an object reads as one bar.
        let next = kind_at(i + 1);
        let joined = !last_in_row
            && (next == BlockKind::Tail && k != BlockKind::Free && k != BlockKind::Missing
                || (k == BlockKind::Free && next == BlockKind::Free));
        let mark_joined = change.is_some() && !last_in_row && next_change == change;
        let look = Look {
            colour,
            joined,
            mark: change,
            mark_joined,
        };
        paint(f, l, slot, i, drawn, look);
    }
}

/// Paints cell `i` of `slot` with `look`, unless `drawn` (its key as drawn last) says it
/// already looks so.
fn paint(f: &mut Frame, l: &Layout, slot: &AreaSlot, i: usize, drawn: &mut u32, look: Look) {
    let Look {
        colour,
        joined,
        mark,
        mark_joined,
    } = look;
    let key = look.key();
    let was = std::mem::replace(drawn, key);
    if was == key {
        return;
    }
    let (fill, fill_h) = l.cell_fill();
    let (x, y) = l.cell_in(slot, i);
    // The whole pitch, gaps included, belongs to this cell: clear it, then paint.
    if was != NOT_DRAWN {
        f.fill_rect(x, y, l.cell, l.cell_h, ix::BACKGROUND);
    }
    f.fill_rect(x, y, if joined { l.cell } else { fill }, fill_h, colour);
    if let Some(m) = mark {
        // Change marks are a bar along the bottom of the cell: it leaves the kind's colour
        // visible, and taking it off in the next frame repaints one pixel row, which keeps GIF
        // frames small.
        let bar = l.mark_bar().unwrap_or(0);
        let bw = if mark_joined { l.cell } else { fill };
        f.fill_rect(x, y + fill_h - bar, bw, bar, m);
    }
}

/// The density view: each cell shows `blocks_per_cell` consecutive blocks. Its colour is the
/// kind (or age) that holds most of its used blocks, tails counted with their head: full when
/// every block is used, pale when some are free, the free colour when none is used. So a heap
/// split by small objects reads as pale cells, and a long free run as free ones. A cell is
/// marked new when any of its blocks was allocated since the previous frame, else freed when
/// any was freed.
fn draw_area_density(
    f: &mut Frame,
    l: &Layout,
    slot: &AreaSlot,
    area: Option<&HeapArea>,
    prev: Option<&HeapArea>,
    ages: Option<&[u8]>,
    drawn: &mut [u32],
) {
    let mark_ok = l.mark_bar().is_some();
    let g = l.blocks_per_cell as usize;
    let mut reader = DensityReader::new(
        area.map_or(&[], |x| &x.blocks),
        prev.map(|p| p.blocks.as_slice()),
        ages,
    );
    for (c, drawn) in drawn.iter_mut().enumerate().take(slot.cells) {
        let (colour, mark) = reader.cell(c * g..((c + 1) * g).min(slot.blocks));
        let mark = mark.filter(|_| mark_ok);
        let look = Look {
            colour,
            joined: false,
            mark,
            mark_joined: false,
        };
        paint(f, l, slot, c, drawn, look);
    }
}

/// Reads an area's blocks for the density view, one cell's run of them after another in address
/// order, and sums each cell up as its colour and change mark.
struct DensityReader<'a> {
    blocks: &'a [BlockKind],
    /// The previous frame's blocks, for change marks.
    prev: Option<&'a [BlockKind]>,
    ages: Option<&'a [u8]>,
    /// The kind of the object the block before a cell belongs to (a cell may start in a tail).
    head: BlockKind,
    /// Used blocks per colour in the cell being read (palette indices are below 64), and the
    /// colours counted, so a cell costs its blocks rather than the palette.
    counts: [u32; palette::ix::COUNT],
    seen: Vec<u8>,
}

impl<'a> DensityReader<'a> {
    fn new(blocks: &'a [BlockKind], prev: Option<&'a [BlockKind]>, ages: Option<&'a [u8]>) -> Self {
        DensityReader {
            blocks,
            prev,
            ages,
            head: BlockKind::Free,
            counts: [0u32; palette::ix::COUNT],
            seen: Vec::with_capacity(palette::ix::COUNT),
        }
    }

    /// The colour and change mark of the cell of blocks `range` (the cell after the one read
    /// last).
    fn cell(&mut self, range: std::ops::Range<usize>) -> (u8, Option<u8>) {
        let (mut used, mut free, mut mark) = (0usize, 0usize, None);
        for i in range.clone() {
            let k = self.blocks.get(i).copied().unwrap_or(BlockKind::Missing);
            if k != BlockKind::Tail {
                self.head = k;
            }
            match k {
                BlockKind::Free => free += 1,
                BlockKind::Missing => {}
                _ => {
                    used += 1;
                    self.count(self.used_colour(i));
                }
            }
            if mark != Some(ix::ALLOCATED) {
                mark = change(self.prev, k, i).or(mark);
            }
        }
        (self.colour(used, free, range.len()), mark)
    }

    /// The colour used block `i` counts for: its age class's, or its object's kind's.
    fn used_colour(&self, i: usize) -> u8 {
        let age = self
            .ages
            .and_then(|v| v.get(i).copied())
            .filter(|&a| a != NO_AGE);
        match age {
            Some(a) => palette::age_head_index(a),
            // Tails with no head before them (a paste cut mid-object).
            None if matches!(self.head, BlockKind::Free | BlockKind::Missing) => {
                palette::head_index(BlockKind::Tail)
            }
            None => palette::head_index(self.head),
        }
    }

    /// Counts one used block of `colour` in the cell being read.
    fn count(&mut self, colour: u8) {
        if self.counts[colour as usize] == 0 {
            self.seen.push(colour);
        }
        self.counts[colour as usize] += 1;
    }

    /// The colour of a cell of `blocks` blocks, `used` of them used (as counted) and `free`
    /// free; the counts are cleared for the next cell.
    fn colour(&mut self, used: usize, free: usize, blocks: usize) -> u8 {
        let colour = if used == 0 {
            if free > 0 {
                ix::FREE
            } else {
                ix::MISSING
            }
        } else {
            // The most used colour; of equals, the lowest index, so the choice is stable.
            let best = self
                .seen
                .iter()
                .copied()
                .max_by_key(|&k| (self.counts[k as usize], std::cmp::Reverse(k)))
                .expect("a used block was counted");
            if used == blocks {
                best
            } else {
                pale(best)
            }
        };
        for k in self.seen.drain(..) {
            self.counts[k as usize] = 0;
        }
        colour
    }
}

/// The pale shade of a full colour (a kind's head colour, or an age class's).
fn pale(colour: u8) -> u8 {
    if colour >= ix::AGE_HEADS {
        palette::age_tail_index(colour - ix::AGE_HEADS)
    } else {
        colour + ix::TAIL_OFFSET
    }
}
