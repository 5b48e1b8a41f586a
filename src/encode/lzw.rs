//! GIF's LZW compression: a frame's palette indices go in, the image data of a GIF frame comes out
//! (variable-length codes of 3 to 12 bits, least significant bit first, with a clear code when
//! the 4,096-entry table is full), ready for `gif::Encoder::write_lzw_pre_encoded_frame`.
//!
//! Why our own: on a busy heap nearly every pixel of the map changes between frames, and the
//! `gif` crate's encoder (weezl's tree dictionary) took 70% of a GIF's run time. Frames here use
//! 64 colours, so the dictionary fits a direct table (code × next index → code, 512 KiB of
//! `u16`): one load per input byte, and resetting it clears only the entries that were set. The
//! output is standard GIF LZW; tests decode it with the `gif` crate's decoder.

/// The largest code GIF allows (12 bits).
const MAX_CODES: usize = 4096;

/// A reusable LZW compressor: keep one per thread, since its table is half a megabyte.
pub struct Lzw {
    /// `table[code << bits | index]`: the code for `code`'s string followed by `index`; 0 = none
    /// (no entry can be 0: entries start past the clear and end codes).
    table: Vec<u16>,
    /// The slots set since the last reset.
    used: Vec<u32>,
    /// Bits per index the table is laid out for.
    bits: u8,
}

impl Default for Lzw {
    fn default() -> Self {
        Self::new()
    }
}

impl Lzw {
    /// A compressor with an empty table (it is allocated on first use).
    pub fn new() -> Self {
        Lzw {
            table: Vec::new(),
            used: Vec::with_capacity(MAX_CODES),
            bits: 0,
        }
    }

    /// Compresses `data` (palette indices) as a GIF image's data: the minimum code size byte,
    /// then the codes (not yet cut into sub-blocks), as `gif::Encoder::write_lzw_pre_encoded_frame`
    /// takes them.
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        // The minimum code size covers the largest index (at least 2, as GIF requires).
        let max = data.iter().copied().max().unwrap_or(0) as u32;
        let min_size = (max + 1).max(4).next_power_of_two().trailing_zeros() as u8;
        let mut out = Vec::with_capacity(data.len() / 2 + 16);
        out.push(min_size);
        self.prepare(min_size);
        let m = min_size as u32;
        let clear = 1u32 << m;
        let end = clear + 1;
        let mut w = BitWriter { out, acc: 0, n: 0 };
        let mut size = m + 1;
        let mut next = clear + 2;
        w.put(clear, size);
        let Some((&first, rest)) = data.split_first() else {
            w.put(end, size);
            return w.finish();
        };
        let mut cur = first as u32;
        // Every slot is below the table's length (codes < 4096, indices < 2^m); the mask says so
        // to the compiler, which then drops the bounds check from the hottest loop.
        let mask = self.table.len() - 1;
        for &b in rest {
            let slot = (((cur as usize) << m) | b as usize) & mask;
            let child = self.table[slot];
            if child != 0 {
                cur = child as u32;
                continue;
            }
            w.put(cur, size);
            if next as usize == MAX_CODES {
                // Table full: start over, as decoders will once they read the clear code.
                w.put(clear, size);
                self.reset();
                size = m + 1;
                next = clear + 2;
            } else {
                self.table[slot] = next as u16;
                self.used.push(slot as u32);
                // The decoder, one entry behind, widens its codes when this entry's code
                // needs another bit; the next code written is read at the new width.
                if next == 1 << size {
                    size += 1;
                }
                next += 1;
            }
            cur = b as u32;
        }
        w.put(cur, size);
        // Reading that code, the decoder adds the entry before it and may widen once more.
        if next == 1 << size && size < 12 && next > clear + 2 {
            size += 1;
        }
        w.put(end, size);
        w.finish()
    }

    /// Lays the table out for `bits`-bit indices, empty.
    fn prepare(&mut self, bits: u8) {
        if self.bits != bits {
            self.table = vec![0; MAX_CODES << bits];
            self.used.clear();
            self.bits = bits;
        } else {
            self.reset();
        }
    }

    fn reset(&mut self) {
        for &s in &self.used {
            self.table[s as usize] = 0;
        }
        self.used.clear();
    }
}

/// Codes packed least significant bit first.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, code: u32, size: u32) {
        self.acc |= (code as u64) << self.n;
        self.n += size;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        while self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `data` as the pixels of a `w`×`h` GIF written with our compressor.
    fn round_trip(pixels: &[u8], w: u16, h: u16) -> Vec<u8> {
        let palette: Vec<u8> = (0..64u8).flat_map(|i| [i, i, i]).collect();
        let mut file = Vec::new();
        {
            let mut enc = gif::Encoder::new(&mut file, w, h, &palette).unwrap();
            let frame = gif::Frame {
                width: w,
                height: h,
                buffer: Lzw::new().compress(pixels).into(),
                ..gif::Frame::default()
            };
            enc.write_lzw_pre_encoded_frame(&frame).unwrap();
        }
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::Indexed);
        let mut dec = opts.read_info(&file[..]).unwrap();
        dec.read_next_frame().unwrap().unwrap().buffer.to_vec()
    }

    /// A deterministic mix of runs and noise, like a heap map: xorshift.
    fn pixels(n: usize, colours: u8, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let run = 1 + (x >> 40) as usize % 9;
            let c = (x % colours as u64) as u8;
            out.extend(std::iter::repeat_n(c, run.min(n - out.len())));
        }
        out
    }

    #[test]
    fn what_it_writes_decodes_to_the_same_pixels() {
        for (w, h, colours, seed) in [
            (1u16, 1u16, 2u8, 1u64),
            (7, 3, 2, 2),
            (64, 64, 4, 3),
            (300, 200, 17, 4),
            (784, 700, 64, 5),  // far past 4,096 codes: clear codes in the stream
            (1000, 100, 64, 6), // every width from 3 to 12 bits
        ] {
            let p = pixels(w as usize * h as usize, colours, seed);
            assert_eq!(round_trip(&p, w, h), p, "{w}x{h}, {colours} colours");
        }
    }

    #[test]
    fn every_length_ends_cleanly() {
        // Streams that end just as the code width grows (or the table fills) are where an
        // encoder and a decoder can disagree about the width of the end code.
        for colours in [2u8, 5, 64] {
            let p = pixels(9000, colours, colours as u64);
            for n in (1..9000).step_by(7).chain(4090..4110) {
                assert_eq!(
                    round_trip(&p[..n], n as u16, 1),
                    &p[..n],
                    "{n} px of {colours}"
                );
            }
        }
    }

    #[test]
    fn a_uniform_image_and_pure_noise_both_round_trip() {
        let flat = vec![5u8; 640 * 480];
        assert_eq!(round_trip(&flat, 640, 480), flat);
        let mut x = 88172645463325252u64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 58) as u8
            })
            .collect();
        assert_eq!(round_trip(&noise, 500, 400), noise);
    }

    #[test]
    fn one_compressor_serves_frames_of_different_palettes() {
        let mut lzw = Lzw::new();
        let a = pixels(5000, 64, 7);
        let b = pixels(5000, 3, 8);
        let first = lzw.compress(&a);
        let _ = lzw.compress(&b);
        assert_eq!(
            lzw.compress(&a),
            first,
            "no state leaks from one frame to the next"
        );
    }
}
