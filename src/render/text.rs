//! Text drawn with ab_glyph and the DejaVu Sans Mono shipped in `fonts/`, embedded in the binary.
//!
//! Every glyph memanim can draw is rasterised once when the renderer is built; drawing is then a
//! blit of palette indices. Antialiasing coverage is snapped to `ix::SHADES` levels so frames stay
//! in the fixed palette (the way agg quantises alpha).

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

use super::frame::Frame;
use super::palette::ix;

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

/// The embedded font (known to parse: a test renders with it).
fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("the embedded font is a valid TTF")
}

/// Width and height (px) of `text` at `size_px` as [`draw_string`] draws it: the advances, and
/// the font's ascent to descent.
pub fn string_size(size_px: f32, text: &str) -> (u32, u32) {
    let font = font();
    let scaled = font.as_scaled(PxScale::from(size_px));
    let width: f32 = text
        .chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum();
    (
        width.ceil() as u32,
        (scaled.ascent() - scaled.descent()).ceil() as u32,
    )
}

/// Draws `text` at `size_px` with its top-left corner at (0, 0), calling `put(x, y, coverage)`
/// for every pixel a glyph covers. Each glyph is placed at its pen position plus its own left
/// bearing, which is what keeps a narrow glyph ('.', 'i', ' ') from pulling its neighbours
/// together: plotters' own ab_glyph text drops the bearing ("us ed", "( 79. 0 KiB)"), so the
/// chart draws its text through this function (see `plot`).
pub fn draw_string(size_px: f32, text: &str, mut put: impl FnMut(i32, i32, f32)) {
    let font = font();
    let scale = PxScale::from(size_px);
    let scaled = font.as_scaled(scale);
    let ascent = scaled.ascent();
    let mut pen = 0.0f32;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, point(pen, ascent));
        pen += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue; // a space
        };
        let b = outline.px_bounds();
        outline.draw(|x, y, cov| put(b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
    }
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

/// The characters of `text` (control characters aside) that the embedded font has no glyph for,
/// in the order they first appear: frames draw them as '?'.
pub fn undrawable(text: &str) -> Vec<char> {
    let font = font();
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !c.is_control() && font.glyph_id(c).0 == 0 && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

impl TextRenderer {
    /// Rasterises the glyphs at `size_px`.
    pub fn new(size_px: f32) -> Self {
        Self::with_chars(size_px, "")
    }

    /// Rasterises the glyphs at `size_px`, and also those of the characters of `more` that the
    /// font has (a `--title` in Greek or Cyrillic).
    pub fn with_chars(size_px: f32, more: &str) -> Self {
        let font = font();
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
        let mut wanted: Vec<char> = EXTRA_CHARS.chars().collect();
        for c in more.chars() {
            if !c.is_ascii() && !c.is_control() && font.glyph_id(c).0 != 0 && !wanted.contains(&c) {
                wanted.push(c);
            }
        }
        let extra = wanted.into_iter().map(|c| (c, raster(c))).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The middle of the ink of each run of inked columns, left to right.
    fn ink_centres(columns: &[bool]) -> Vec<f64> {
        let mut out = Vec::new();
        let mut start = None;
        for (x, &ink) in columns.iter().chain([&false]).enumerate() {
            match (ink, start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    out.push((s + x - 1) as f64 / 2.0);
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// Glyphs of a monospace font, narrow ones included, sit in the middle of their cells: the
    /// spacing is even ("used", not "us ed"; "79.0", not "79. 0").
    #[test]
    fn glyphs_sit_evenly_in_their_cells() {
        let text = "i.l:(j)";
        let size = 24.0;
        let font = font();
        let advance = font
            .as_scaled(PxScale::from(size))
            .h_advance(font.glyph_id('0')) as f64;
        // The chart's text (drawn at fractional advances).
        let (w, h) = string_size(size, text);
        let mut ink = vec![false; w as usize + 8];
        draw_string(size, text, |x, _, c| {
            if c > 0.3 {
                ink[x as usize] = true;
            }
        });
        assert!(h >= 24, "{h}");
        let centres = ink_centres(&ink);
        assert_eq!(centres.len(), text.len(), "{centres:?}");
        for (i, c) in centres.iter().enumerate() {
            let cell = (i as f64 + 0.5) * advance;
            assert!(
                (c - cell).abs() <= 2.0,
                "glyph {i} at {c}, its cell's middle is {cell}"
            );
        }
        // The frames' text (whole-pixel advances).
        let t = TextRenderer::new(size);
        let width = t.advance * text.len() as u32 + 8;
        let mut frame = Frame::new(width, t.line_height, 0);
        t.draw(&mut frame, 0, 0, text, ix::TEXT, width);
        // Full-shade pixels only: the faint edge of one glyph may touch the next one's.
        let full = ix::full(ix::TEXT);
        let cols: Vec<bool> = (0..width)
            .map(|x| (0..frame.height).any(|y| frame.pixels[(y * width + x) as usize] == full))
            .collect();
        let centres = ink_centres(&cols);
        assert_eq!(centres.len(), text.len(), "{centres:?}");
        for (i, c) in centres.iter().enumerate() {
            let cell = (i as f64 + 0.5) * t.advance as f64;
            assert!(
                (c - cell).abs() <= 2.0,
                "frame glyph {i} at {c}, its cell's middle is {cell}"
            );
        }
    }
}
