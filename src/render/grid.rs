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
    let gap = u32::from(l.cell >= 6);
    let fill = l.cell - gap;
    // Cells under 5 px have no room for a dot that would not hide the kind's colour.
    let mark_ok = fill >= 4;
    let dot = (fill / 3).max(2);
    let dot_at = (fill - dot) / 2;
    let blocks: &[BlockKind] = area.map_or(&[], |x| &x.blocks);
    let prev_blocks: Option<&[BlockKind]> = prev.map(|p| p.blocks.as_slice());
    let mut head = BlockKind::Free;
    for i in 0..slot.blocks {
        let k = blocks.get(i).copied().unwrap_or(BlockKind::Missing);
        let colour = match k {
            BlockKind::Tail => palette::tail_index(head),
            _ => {
                head = k;
                palette::head_index(k)
            }
        };
        let (x, y) = l.cell_origin(a, i);
        // Changes since the previous frame: a used block where there was none (or another object's
        // head) is new; a free block that was used has been freed.
        let change = prev_blocks.and_then(|pb| {
            let was = pb.get(i).copied().unwrap_or(BlockKind::Missing);
            match (was.is_used(), k.is_used()) {
                (false, true) if was != BlockKind::Missing => Some(ix::ALLOCATED),
                (true, true) if k.is_head() && was != k => Some(ix::ALLOCATED),
                (true, false) if k == BlockKind::Free => Some(ix::FREED),
                _ => None,
            }
        });
        f.fill_rect(x, y, fill, fill, colour);
        // The mark is a dot in the middle of the cell: it keeps the kind visible, and taking it off
        // in the next frame repaints only the dot, which keeps GIF frames small.
        if let Some(m) = change {
            if mark_ok {
                f.fill_rect(x + dot_at, y + dot_at, dot, dot, m);
            }
        }
    }
}
