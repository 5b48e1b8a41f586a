//! One frame as an image file: a renderer and the frame's index go in, a file comes out (written
//! atomically): an indexed PNG (exact and small, the default), or, for pasting into issues and
//! chats that prefer them, a lossless WebP or a JPEG, encoded by the `image` crate from the
//! frame's palette colours.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::atomic::AtomicFile;
use super::png::encode_png;
use super::StillFormat;
use crate::error::{Error, Result};
use crate::render::frame::Frame;
use crate::render::{palette, Renderer};

/// JPEG quality. Cells are small flat rectangles with sharp edges, the worst case for JPEG: at
/// 95 a cell's centre comes back within about 10 levels of its colour (at 92, 18) and the file
/// is about 7 times the PNG (unix32_blocks16.log, 592x460 px: 178 KB against 26 KB).
pub const JPEG_QUALITY: u8 = 95;

/// The frame's pixels as RGB, row by row.
pub fn frame_rgb(frame: &Frame) -> Vec<u8> {
    let pal = palette::rgb();
    frame.pixels.iter().flat_map(|&i| pal[i as usize]).collect()
}

/// Encodes a frame in `format`.
pub fn encode_still(
    frame: &Frame,
    format: StillFormat,
) -> std::result::Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    use image::ImageEncoder as _;
    let (w, h) = (frame.width, frame.height);
    let mut out = Vec::new();
    match format {
        StillFormat::Png => return Ok(encode_png(frame)?),
        StillFormat::Webp => image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(
            &frame_rgb(frame),
            w,
            h,
            image::ExtendedColorType::Rgb8,
        ),
        StillFormat::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out,
            JPEG_QUALITY,
        )
        .write_image(&frame_rgb(frame), w, h, image::ExtendedColorType::Rgb8),
    }?;
    Ok(out)
}

/// Renders frame `index` and writes it to `path` in `format`, atomically.
pub fn write_still(
    renderer: &Renderer<'_>,
    index: usize,
    path: &Path,
    format: StillFormat,
) -> Result<PathBuf> {
    let frame = renderer.render(index);
    let bytes = encode_still(&frame, format).map_err(|source| Error::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    let mut file = AtomicFile::create(path)?;
    file.write_all(&bytes).map_err(|e| file.error(e))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::palette::ix;

    fn frame() -> Frame {
        let mut f = Frame::new(40, 20, ix::BACKGROUND);
        f.fill_rect(4, 4, 16, 8, ix::HEADS);
        f.fill_rect(22, 4, 14, 8, ix::ALLOCATED);
        f
    }

    #[test]
    fn webp_is_lossless_and_jpeg_close() {
        let f = frame();
        let pal = palette::rgb();
        for (format, tolerance) in [(StillFormat::Webp, 0), (StillFormat::Jpeg, 12)] {
            let bytes = encode_still(&f, format).unwrap();
            let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
            assert_eq!((img.width(), img.height()), (40, 20));
            for (x, y, index) in [
                (10, 8, ix::HEADS),
                (28, 8, ix::ALLOCATED),
                (2, 16, ix::BACKGROUND),
            ] {
                let got = img.get_pixel(x, y).0;
                let want = pal[index as usize];
                let off = got
                    .iter()
                    .zip(want)
                    .map(|(a, b)| a.abs_diff(b))
                    .max()
                    .unwrap();
                assert!(
                    off <= tolerance,
                    "{format:?} at ({x},{y}): {got:?} vs {want:?}"
                );
            }
        }
    }
}
