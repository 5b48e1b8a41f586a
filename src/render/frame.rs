//! The pixel frame every stage after rendering works with: `width * height` palette indices, row
//! by row, in the fixed palette of [`super::palette`], and the drawing primitives that fill it.
//! The encoders take a [`Frame`] as it is: a GIF needs no quantising because the palette is known
//! before any frame is drawn.

/// A rendered frame: `width * height` palette indices, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Frame {
    pub fn new(width: u32, height: u32, fill: u8) -> Self {
        Frame {
            width,
            height,
            pixels: vec![fill; width as usize * height as usize],
        }
    }

    /// Fills a rectangle, clipped to the frame.
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, c: u8) {
        let x1 = (x + w).min(self.width);
        let y1 = (y + h).min(self.height);
        if x >= x1 {
            return;
        }
        for yy in y..y1 {
            let row = (yy * self.width) as usize;
            self.pixels[row + x as usize..row + x1 as usize].fill(c);
        }
    }
}
