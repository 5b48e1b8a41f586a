//! Text drawn with ab_glyph and the DejaVu Sans Mono shipped in `fonts/`, embedded in the binary.
//!
//! Every glyph memanim can draw is rasterised once when the renderer is built; drawing is then a
//! blit of palette indices. Antialiasing coverage is snapped to `ix::SHADES` levels so frames stay
//! in the fixed palette (the way agg quantises alpha).

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

use super::palette::ix;
use super::Frame;

/// DejaVu Sans Mono 2.37 (Bitstream Vera licence, see fonts/LICENSE-DejaVu.txt).
pub static FONT_BYTES: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");

/// Characters outside ASCII that log lines commonly carry; anything else is drawn as '?'.
const EXTRA_CHARS: &str = "°µ…→←↑↓•–—±×÷§©®²³¹½¼¾äöüÄÖÜßéèêàâçñøåæ✓✗";

#[derive(Debug, Clone, Default)]
struct Glyph {
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    /// Shade per pixel: 0 = nothing, 1..=SHADES.
    shade: Vec<u8>,
}

/// A monospace font at one size, rasterised.
#[derive(Debug, Clone)]
pub struct TextRenderer {
    ascii: Vec<Glyph>,
    extra: Vec<(char, Glyph)>,
    /// Horizontal advance of every glyph (px).
    pub advance: u32,
    /// Distance between baselines (px).
    pub line_height: u32,
}

impl TextRenderer {
    /// Rasterises the glyphs at `size_px`.
    pub fn new(size_px: f32) -> Self {
        let font = FontRef::try_from_slice(FONT_BYTES).expect("the embedded font is a valid TTF");
        let scaled = font.as_scaled(PxScale::from(size_px));
        let ascent = scaled.ascent().ceil() as i32;
        let line_height =
            (scaled.ascent() - scaled.descent() + scaled.line_gap()).ceil() as u32 + 2;
        let advance = scaled.h_advance(font.glyph_id('0')).round().max(1.0) as u32;
        let raster = |c: char| -> Glyph {
            let glyph = font
                .glyph_id(c)
                .with_scale_and_position(PxScale::from(size_px), point(0.0, ascent as f32));
            let Some(outline) = font.outline_glyph(glyph) else {
                return Glyph::default();
            };
            let b = outline.px_bounds();
            let (w, h) = (b.width() as u32, b.height() as u32);
            let mut shade = vec![0u8; (w * h) as usize];
            outline.draw(|x, y, cov| {
                let level = (cov.clamp(0.0, 1.0) * ix::SHADES as f32).round() as u8;
                if let Some(p) = shade.get_mut((y * w + x) as usize) {
                    *p = level;
                }
            });
            Glyph {
                left: b.min.x as i32,
                top: b.min.y as i32,
                width: w,
                height: h,
                shade,
            }
        };
        let ascii = (0u8..128)
            .map(|c| {
                if (0x20..0x7f).contains(&c) {
                    raster(c as char)
                } else {
                    Glyph::default()
                }
            })
            .collect();
        let extra = EXTRA_CHARS.chars().map(|c| (c, raster(c))).collect();
        TextRenderer {
            ascii,
            extra,
            advance,
            line_height,
        }
    }

    fn glyph(&self, c: char) -> &Glyph {
        if (c as u32) < 128 {
            &self.ascii[c as usize]
        } else {
            self.extra
                .iter()
                .find(|(e, _)| *e == c)
                .map_or(&self.ascii[b'?' as usize], |(_, g)| g)
        }
    }

    /// How many characters fit in `width` px.
    pub fn chars_in(&self, width: u32) -> usize {
        (width / self.advance) as usize
    }

    /// Width of `text` in px.
    pub fn width_of(&self, text: &str) -> u32 {
        text.chars().count() as u32 * self.advance
    }

    /// Draws `text` with its top at `y`, in colour `base` (one of the `ix::TEXT*` entries), cut
    /// (with '…') to `max_width` px. Returns the x where the text ended.
    pub fn draw(
        &self,
        frame: &mut Frame,
        x: i32,
        y: i32,
        text: &str,
        base: u8,
        max_width: u32,
    ) -> i32 {
        let max_chars = self.chars_in(max_width);
        let count = text.chars().count();
        let mut cx = x;
        for (i, c) in text.chars().enumerate() {
            if i >= max_chars {
                break;
            }
            let c = if count > max_chars && i + 1 == max_chars {
                '…'
            } else {
                c
            };
            let c = if c == '\t' { ' ' } else { c };
            let g = self.glyph(c);
            let gx = cx + g.left;
            let gy = y + g.top;
            for row in 0..g.height as i32 {
                let py = gy + row;
                if py < 0 || py >= frame.height as i32 {
                    continue;
                }
                let line = (py as u32 * frame.width) as usize;
                for col in 0..g.width as i32 {
                    let px = gx + col;
                    if px < 0 || px >= frame.width as i32 {
                        continue;
                    }
                    let s = g.shade[(row as u32 * g.width + col as u32) as usize];
                    if s > 0 {
                        frame.pixels[line + px as usize] = base + s - 1;
                    }
                }
            }
            cx += self.advance as i32;
        }
        cx
    }
}
