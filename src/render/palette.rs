//! The one fixed palette every frame is drawn in, known before rendering starts, so GIF frames need
//! no quantising and PNG frames can be written as indexed images.
//!
//! Head colours follow the Okabe-Ito set (told apart with the common colour-vision deficiencies),
//! extended by a few light tones for the rarer kinds. A tail takes its head's colour mixed with white,
//! so an allocation reads as one object with a strong first block.

use crate::heap::BlockKind;

/// Palette indices of the fixed entries.
pub mod ix {
    /// The transparent index GIF frames use for pixels unchanged since the previous frame.
    pub const TRANSPARENT: u8 = 0;
    pub const BACKGROUND: u8 = 1;
    pub const FREE: u8 = 2;
    pub const MISSING: u8 = 3;
    pub const ALLOCATED: u8 = 4;
    pub const FREED: u8 = 5;
    pub const PANEL: u8 = 6;
    pub const RULE: u8 = 7;
    /// Head colours start here, one per kind in `BlockKind` order; tails follow at +TAIL_OFFSET.
    pub const HEADS: u8 = 8;
    pub const TAIL_OFFSET: u8 = 16;
    /// Text colours: each has `SHADES` entries, from faint to full. Two levels (half and full
    /// coverage) look smooth enough at 12 px and cost far fewer GIF bytes than four.
    pub const TEXT: u8 = 40;
    pub const TEXT_DIM: u8 = 42;
    pub const TEXT_NEW: u8 = 44;
    pub const TEXT_WARN: u8 = 46;
    pub const SHADES: u8 = 2;

    /// The full-coverage shade of text colour `text` (one of `TEXT`, `TEXT_DIM`, ...): what a
    /// solid mark in that colour is drawn with.
    pub const fn full(text: u8) -> u8 {
        text + SHADES - 1
    }
    /// `--color age`: one head colour per age class, youngest first; tails follow at +AGE_CLASSES.
    pub const AGE_HEADS: u8 = 48;
    pub const AGE_CLASSES: u8 = 8;
    /// Entries in use: all 64 of the GIF colour table.
    pub const COUNT: usize = 64;
}

const BG: [u8; 3] = [0x16, 0x16, 0x1d];
const PANEL: [u8; 3] = [0x20, 0x20, 0x2a];

/// Head colour of each kind.
pub fn head_rgb(kind: BlockKind) -> [u8; 3] {
    match kind {
        BlockKind::Head => [0x56, 0xb4, 0xe9],     // sky blue
        BlockKind::Tuple => [0xcc, 0x79, 0xa7],    // reddish purple
        BlockKind::List => [0x00, 0x9e, 0x73],     // bluish green
        BlockKind::Dict => [0xe6, 0x9f, 0x00],     // orange
        BlockKind::Str => [0xf0, 0xe4, 0x42],      // yellow
        BlockKind::Array => [0xd5, 0x5e, 0x00],    // vermillion
        BlockKind::Float => [0x33, 0x7a, 0xd6],    // blue
        BlockKind::Bytecode => [0xb8, 0xa6, 0xff], // lavender
        BlockKind::Module => [0xf2, 0xf2, 0xf2],   // white
        BlockKind::Marked => [0xff, 0x8a, 0xd8],   // pink
        BlockKind::Unknown => [0x9a, 0x9a, 0x9a],  // grey
        BlockKind::Tail => [0x70, 0x70, 0x78],     // a tail with no head before it
        BlockKind::Free => [0x2c, 0x2c, 0x38],
        BlockKind::Missing => [0x0c, 0x0c, 0x10],
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// Index of a head block's colour.
#[inline]
pub fn head_index(kind: BlockKind) -> u8 {
    match kind {
        BlockKind::Free => ix::FREE,
        BlockKind::Missing => ix::MISSING,
        k => ix::HEADS + k as u8,
    }
}

/// Index of a tail block whose allocation started with a head of `head` kind.
#[inline]
pub fn tail_index(head: BlockKind) -> u8 {
    match head {
        BlockKind::Free | BlockKind::Missing => ix::HEADS + ix::TAIL_OFFSET + BlockKind::Tail as u8,
        k => ix::HEADS + ix::TAIL_OFFSET + k as u8,
    }
}

/// Age classes from young to old: viridis from blue to yellow, so the oldest objects (the ones that
/// pin fragments) are the brightest; it stays ordered for colour-blind readers and in grey.
const AGE_RGB: [[u8; 3]; ix::AGE_CLASSES as usize] = [
    [0x41, 0x44, 0x87],
    [0x35, 0x5f, 0x8d],
    [0x2a, 0x78, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x22, 0xa8, 0x84],
    [0x44, 0xbf, 0x70],
    [0x7a, 0xd1, 0x51],
    [0xfd, 0xe7, 0x25],
];

/// Index of the head colour of age class `c` (0 = youngest).
#[inline]
pub fn age_head_index(c: u8) -> u8 {
    ix::AGE_HEADS + c.min(ix::AGE_CLASSES - 1)
}

/// Index of the tail colour of age class `c`.
#[inline]
pub fn age_tail_index(c: u8) -> u8 {
    age_head_index(c) + ix::AGE_CLASSES
}

/// The palette as RGB triples, `ix::COUNT` entries.
pub fn rgb() -> Vec<[u8; 3]> {
    let mut p = vec![[0u8; 3]; ix::COUNT];
    p[ix::TRANSPARENT as usize] = [0xff, 0x00, 0xff];
    p[ix::BACKGROUND as usize] = BG;
    p[ix::FREE as usize] = head_rgb(BlockKind::Free);
    p[ix::MISSING as usize] = head_rgb(BlockKind::Missing);
    p[ix::ALLOCATED as usize] = [0xff, 0xff, 0xff];
    p[ix::FREED as usize] = [0xff, 0x3b, 0x30];
    p[ix::PANEL as usize] = PANEL;
    p[ix::RULE as usize] = [0x3a, 0x3a, 0x48];
    for k in BlockKind::ALL {
        let head = head_rgb(k);
        p[(ix::HEADS + k as u8) as usize] = head;
        let tail = if k == BlockKind::Tail {
            head
        } else {
            mix(head, [0xff, 0xff, 0xff], 0.45)
        };
        p[(ix::HEADS + ix::TAIL_OFFSET + k as u8) as usize] = tail;
    }
    for (c, &rgb) in AGE_RGB.iter().enumerate() {
        p[age_head_index(c as u8) as usize] = rgb;
        p[age_tail_index(c as u8) as usize] = mix(rgb, [0xff, 0xff, 0xff], 0.45);
    }
    for (base, fg) in [
        (ix::TEXT, [0xec, 0xec, 0xf0]),
        (ix::TEXT_DIM, [0x9a, 0x9a, 0xaa]),
        (ix::TEXT_NEW, [0xff, 0xd5, 0x4a]),
        (ix::TEXT_WARN, [0xff, 0x6b, 0x5e]),
    ] {
        for s in 0..ix::SHADES {
            let t = (s + 1) as f32 / ix::SHADES as f32;
            p[(base + s) as usize] = mix(BG, fg, t);
        }
    }
    p
}

/// The palette flattened to `r, g, b, ...`, padded to 64 entries for a GIF colour table.
pub fn gif_palette() -> Vec<u8> {
    let mut flat: Vec<u8> = rgb().into_iter().flatten().collect();
    flat.resize(64 * 3, 0);
    flat
}
