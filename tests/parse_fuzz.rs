//! Property tests: arbitrary bytes and mutated real captures never panic the parser or the renderer,
//! and a mutation that leaves a dump's lines intact leaves that dump parsed.

mod common;

use memanim::render::Renderer;
use memanim::timeline;

/// xorshift64*: deterministic, so a failure can be replayed from its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = src.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
    for _ in 0..1 + rng.below(8) {
        let n = lines.len();
        match rng.below(7) {
            0 => {
                let i = rng.below(n);
                lines.remove(i.min(lines.len() - 1));
            }
            1 => {
                let (a, b) = (rng.below(n), rng.below(n));
                lines.swap(a, b);
            }
            2 => {
                let i = rng.below(n);
                let l = &mut lines[i];
                if !l.is_empty() {
                    let j = rng.below(l.len());
                    l[j] ^= 1 << rng.below(8);
                }
            }
            3 => {
                let i = rng.below(n);
                let cut = rng.below(lines[i].len() + 1);
                lines[i].truncate(cut);
            }
            4 => {
                // Duplicate a run of lines (a dump printed twice, or half of one).
                let a = rng.below(n);
                let len = rng.below(40).min(n - a);
                let copy: Vec<Vec<u8>> = lines[a..a + len].to_vec();
                let at = rng.below(lines.len());
                for (k, l) in copy.into_iter().enumerate() {
                    lines.insert(at + k, l);
                }
            }
            5 => {
                let i = rng.below(n);
                let junk: Vec<u8> = (0..rng.below(30)).map(|_| rng.next() as u8).collect();
                lines.insert(i, junk);
            }
            _ => {
                let i = rng.below(n);
                let nasty: &[&[u8]] = &[
                    b"       (4294967295 lines all free)",
                    b"       (0 lines all free)",
                    b"@@@ 18446744073709551615",
                    b"@@@ 99999999999999999999999",
                    b"GC memory layout; from ffffffffffffffff:",
                    b"ffffffff: hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
                    b"GC: total: 18446744073709551615, used: 0, free: 0",
                    b"@@@ 5 (2024, 2, 30, 25, 61, 61, 9, 400)",
                    b"MPY: soft reboot",
                    b"@@@",
                ];
                lines.insert(i, nasty[rng.below(nasty.len())].to_vec());
            }
        }
    }
    lines.join(&b'\n')
}

fn exercise(bytes: &[u8]) {
    if let Ok((capture, _)) = memanim::parse(bytes, "fuzz", &Default::default()) {
        let schedule = timeline::resolve(&capture, &Default::default());
        let style = memanim::options::StyleOptions {
            cell: Some(memanim::options::CellSize::square(2)),
            ..Default::default()
        };
        let r = Renderer::new(&capture, &schedule, &style);
        // The first and last frames exercise the layout and the change marks.
        let f = r.render(0);
        assert_eq!(f.pixels.len(), (f.width * f.height) as usize);
        r.render(schedule.frames.len() - 1);
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let len = rng.below(4000);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                // Lean towards the characters the format uses, so the parser gets past its first checks.
                const ALPHA: &[u8] = b"@@@ 0123456789abcdef:.=hTLDSAFBM\n\r()GC memory layout; from total used free lines all";
                if rng.below(4) == 0 { rng.next() as u8 } else { ALPHA[rng.below(ALPHA.len())] }
            })
            .collect();
        exercise(&bytes);
    }
}

#[test]
fn mutated_real_captures_never_panic() {
    let sources = [
        "unix32_blocks16.log",
        "split_heap_coverage.log",
        "mixed_logs.log",
    ];
    let mut rng = Rng(42);
    for name in sources {
        // A slice of each capture keeps the test quick.
        let full = sample(name);
        let src = &full[..full.len().min(60_000)];
        for _ in 0..40 {
            exercise(&mutate(&mut rng, src));
        }
    }
}

#[test]
fn dumps_untouched_by_a_mutation_are_still_parsed() {
    // Junk lines between dumps must not cost a dump.
    let src = sample("unix32_blocks16.log");
    let text = String::from_utf8(src).unwrap();
    let (clean, _) = common::parse(&text);
    let mut rng = Rng(7);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line == "@@@" && rng.below(2) == 0 {
            out.push_str(
                [
                    "garbage \u{1}\u{2}",
                    ">>> ",
                    "=== paste",
                    "I (55) tag: x",
                    "00zz: not a row",
                ][rng.below(5)],
            );
            out.push('\n');
        }
    }
    let (noisy, _) = common::parse(&out);
    assert_eq!(noisy.snapshot_count(), clean.snapshot_count());
    for ((_, a), (_, b)) in noisy.snapshots().zip(clean.snapshots()) {
        assert_eq!(a.areas, b.areas);
    }
}

/// Inputs kept under tests/fuzz/: crashes the fuzzer found (named `crash-*`, `timeout-*`, `oom-*`
/// after libFuzzer's artifacts) and hand-made extremes (`handmade-*`). Each must parse, schedule
/// and render without a panic.
#[test]
fn kept_fuzz_inputs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        exercise(&bytes);
        n += 1;
    }
    assert!(n >= 2, "tests/fuzz holds {n} inputs");
}
