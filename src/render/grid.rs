//! The heap map: one cell per block, tails in a lighter shade of their head's colour, and marks on
//! the blocks allocated or freed since the previous frame.

use super::palette::{self, ix};
use super::text::TextRenderer;
use super::{human_bytes, Frame, Layout};
use crate::heap::{BlockKind, HeapArea, Snapshot};

/// Draws every area of `snap`; `prev` (same session) enables change marks.
pub fn draw_map(
    f: &mut Frame,
    l: &Layout,
    text: &TextRenderer,
    snap: &Snapshot,
    prev: Option<&Snapshot>,
) {
    let many = l.areas.len() > 1;
    for (a, slot) in l.areas.iter().enumerate() {
        let area = snap.areas.iter().find(|x| x.ptr == slot.ptr);
        let before = prev.and_then(|p| p.areas.iter().find(|x| x.ptr == slot.ptr));
        let label = match (many, area) {
            (true, Some(ar)) => format!(
                "area {}/{}  0x{:x}  {}  {} blocks of {} B",
                a + 1,
                l.areas.len(),
                slot.ptr,
                human_bytes(ar.bytes()),
                ar.blocks.len(),
                ar.block_size
            ),
            (true, None) => format!(
                "area {}/{}  0x{:x}  (not in this dump)",
                a + 1,
                l.areas.len(),
                slot.ptr
            ),
            (false, Some(ar)) => format!(
                "heap 0x{:x}  {}  {} blocks of {} B",
                slot.ptr,
                human_bytes(ar.bytes()),
                ar.blocks.len(),
                ar.block_size
            ),
            (false, None) => "heap (no layout in this dump)".to_string(),
        };
        text.draw(
            f,
            l.map_x as i32,
            slot.label_y as i32,
            &label,
            ix::TEXT_DIM,
            l.width - l.map_x,
        );
        draw_area(f, l, a, area, before);
    }
}

fn draw_area(
    f: &mut Frame,
    l: &Layout,
    a: usize,
    area: Option<&HeapArea>,
    prev: Option<&HeapArea>,
) {
    let slot = &l.areas[a];
    let fill = l.cell - u32::from(l.cell >= 4);
    let fill_h = l.cell_h - u32::from(l.cell_h >= 3);
    // Change marks are a bar along the bottom of the cell: it leaves the kind's colour visible, and
    // taking it off in the next frame repaints one pixel row, which keeps GIF frames small.
    let bar = if fill_h >= 10 { 2 } else { 1 };
    let mark_ok = fill >= 3 && fill_h >= 2;
    let blocks: &[BlockKind] = area.map_or(&[], |x| &x.blocks);
    let prev_blocks: Option<&[BlockKind]> = prev.map(|p| p.blocks.as_slice());
    let kind_at = |i: usize| blocks.get(i).copied().unwrap_or(BlockKind::Missing);
    let change_at = |i: usize| -> Option<u8> {
        let pb = prev_blocks?;
        let k = kind_at(i);
        let was = pb.get(i).copied().unwrap_or(BlockKind::Missing);
        // A used block where there was none (or another object's head) is new; a free block that
        // was used has been freed.
        match (was.is_used(), k.is_used()) {
            (false, true) if was != BlockKind::Missing => Some(ix::ALLOCATED),
            (true, true) if k.is_head() && was != k => Some(ix::ALLOCATED),
            (true, false) if k == BlockKind::Free => Some(ix::FREED),
            _ => None,
        }
    };
    let cols = l.columns as usize;
    let mut head = BlockKind::Free;
    let mut next_change = if slot.blocks > 0 { change_at(0) } else { None };
    for i in 0..slot.blocks {
        let k = kind_at(i);
        let colour = match k {
            BlockKind::Tail => palette::tail_index(head),
            _ => {
                head = k;
                palette::head_index(k)
            }
        };
        let change = next_change;
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
        let (x, y) = l.cell_origin(a, i);
        let w = if joined { l.cell } else { fill };
        f.fill_rect(x, y, w, fill_h, colour);
        if let (Some(m), true) = (change, mark_ok) {
            let bw = if !last_in_row && next_change == Some(m) {
                l.cell
            } else {
                fill
            };
            f.fill_rect(x, y + fill_h - bar, bw, bar, m);
        }
    }
}
