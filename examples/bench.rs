//! Benchmarks, printed as a table: `cargo run --release --example bench`.
//!
//! - parse: MB/s over a large in-memory capture built from tests/data/long_run.log
//! - gif: wall time and size of the GIF for long_run.log (446 dumps) and default_heap.log (2 MiB
//!   heap), with 1 and 2 worker threads
//! - html: wall time and size of the report for each sample, and for 1,000 dumps of a 192 KiB
//!   heap (samples/asyncio_app.log's dumps replayed forwards and backwards)
//!
//! - share: a 1-hour capture (long_run.log's real dumps replayed every 350 ms, the device
//!   helper's default period) rendered with `--max-size 10M`, and with `--duration 30s`: the
//!   whole run (parse, size estimates, the encoding pass), the GIF's size and what was chosen
//!
//! Timings are the best of a few runs, so a busy machine shows its noise less.

use std::time::Instant;

use memanim::{Output, RenderOptions};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    (best, last.unwrap())
}

/// A capture of `n` dumps `period_ms` apart, replaying the dumps of `text` forwards then
/// backwards (consecutive dumps stay close, as a running app's do), with a log line every 10.
fn replay(text: &[u8], n: usize, period_ms: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut dumps: Vec<String> = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(d) = cur.as_mut() {
            if line == "@@@" {
                dumps.push(cur.take().unwrap());
            } else {
                d.push_str(line);
                d.push('\n');
            }
        } else if line.starts_with("@@@ ") && !line.ends_with(')') {
            cur = Some(String::new());
        }
    }
    let mut out = String::from("@@@ 1000 (2026, 11, 25, 12, 0, 0, 2, 329)\n");
    let cycle = 2 * dumps.len() - 2;
    for i in 0..n {
        let k = i % cycle;
        let d = if k < dumps.len() { k } else { cycle - k };
        out.push_str(&format!(
            "@@@ {}\n{}@@@\n",
            1000 + i as u64 * period_ms,
            dumps[d]
        ));
        if i % 10 == 9 {
            out.push_str(&format!("INFO:bench:dump {i}\n"));
        }
    }
    out.into_bytes()
}

fn main() {
    println!(
        "memanim benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| what | input | figure |");
    println!("|---|---|---|");

    // Parse: ~200 MB of capture text in memory, so disk speed does not count.
    let one = data("long_run.log");
    let reps = (200 << 20) / one.len() + 1;
    let mut big = Vec::with_capacity(one.len() * reps);
    for _ in 0..reps {
        big.extend_from_slice(&one);
    }
    let (secs, snaps) = best(3, || {
        let (c, _) = memanim::parse(&big[..], "big", &Default::default()).unwrap();
        c.snapshot_count()
    });
    let mb = big.len() as f64 / 1e6;
    println!(
        "| parse | long_run.log x{reps} ({mb:.0} MB, {snaps} dumps) | {:.0} MB/s |",
        mb / secs
    );

    let dir = std::env::temp_dir().join(format!("memanim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["long_run.log", "default_heap.log"] {
        let text = data(name);
        for jobs in [1usize, 2] {
            let out = dir.join("bench.gif");
            let opts = RenderOptions {
                jobs: Some(jobs),
                ..RenderOptions::default()
            };
            let (secs, report) = best(3, || {
                let (c, _) = memanim::parse(&text[..], name, &opts.parse).unwrap();
                let target = Output::Gif(memanim::Target::File(out.clone()));
                memanim::render(&c, &opts, &target, &|_, _| {}).unwrap()
            });
            let size = std::fs::metadata(&out).unwrap().len();
            println!(
                "| parse + gif, {jobs} thread(s) | {name} ({} frames, {}x{}) | {:.2} s, {:.0} frames/s, {:.2} MB, {:.1} KB/frame |",
                report.written,
                report.width,
                report.height,
                secs,
                report.written as f64 / secs,
                size as f64 / 1e6,
                size as f64 / 1e3 / report.written as f64
            );
        }
    }
    // PNG frames for ffmpeg: the whole command, parse to the last file.
    let text = data("long_run.log");
    for jobs in [1usize, 2] {
        let opts = RenderOptions {
            jobs: Some(jobs),
            ..RenderOptions::default()
        };
        let frames = dir.join("frames");
        let (secs, report) = best(3, || {
            let _ = std::fs::remove_dir_all(&frames);
            let (c, _) = memanim::parse(&text[..], "long_run.log", &opts.parse).unwrap();
            let out = Output::PngSequence {
                dir: frames.clone(),
                force: false,
            };
            memanim::render(&c, &opts, &out, &|_, _| {}).unwrap()
        });
        let bytes: u64 = std::fs::read_dir(&frames)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        println!(
            "| parse + png frames, {jobs} thread(s) | long_run.log ({} frames) | {:.2} s, {:.0} frames/s, {:.1} KB/frame |",
            report.written,
            secs,
            report.written as f64 / secs,
            bytes as f64 / 1e3 / report.written as f64
        );
    }
    // The HTML report: parse to the written page.
    let samples = format!("{}/samples", env!("CARGO_MANIFEST_DIR"));
    let mut inputs: Vec<(String, Vec<u8>)> = [
        "asyncio_app",
        "frag_small",
        "mixed_logs",
        "split_heap_coverage",
        "unix32_blocks16",
    ]
    .iter()
    .map(|n| {
        (
            format!("{n}.log"),
            std::fs::read(format!("{samples}/{n}.log")).unwrap(),
        )
    })
    .collect();
    inputs.push((
        "1,000 dumps of asyncio_app.log (192 KiB heap)".into(),
        replay(
            &std::fs::read(format!("{samples}/asyncio_app.log")).unwrap(),
            1000,
            350,
        ),
    ));
    for (name, text) in &inputs {
        let out = dir.join("report.html");
        let opts = RenderOptions::default();
        let (secs, report) = best(3, || {
            let (c, _) = memanim::parse(&text[..], name, &opts.parse).unwrap();
            let target = Output::Html(memanim::Target::File(out.clone()));
            memanim::render(&c, &opts, &target, &|_, _| {}).unwrap()
        });
        let size = std::fs::metadata(&out).unwrap().len();
        println!(
            "| parse + html | {name} ({:.2} MB, {} frames) | {secs:.2} s, {:.2} MB, {:.1} KB/frame |",
            text.len() as f64 / 1e6,
            report.written,
            size as f64 / 1e6,
            size as f64 / 1e3 / report.written as f64
        );
    }
    // Share-ready: one hour of dumps every 350 ms, fitted into 10 MB, or played in 30 s.
    let hour = replay(&data("long_run.log"), 10_286, 350);
    for (what, share) in [
        (
            "--max-size 10M",
            memanim::options::ShareOptions {
                max_size: Some(10_000_000),
                ..Default::default()
            },
        ),
        (
            "--duration 30s",
            memanim::options::ShareOptions {
                duration_ms: Some(30_000.0),
                ..Default::default()
            },
        ),
    ] {
        let mut opts = RenderOptions {
            share,
            ..RenderOptions::default()
        };
        if share.duration_ms.is_some() {
            opts.timing.last_frame_ms = memanim::share::default_hold_ms(30_000.0);
        }
        let out = dir.join("share.gif");
        let (secs, report) = best(3, || {
            let (c, _) = memanim::parse(&hour[..], "hour.log", &opts.parse).unwrap();
            let target = Output::Gif(memanim::Target::File(out.clone()));
            memanim::render(&c, &opts, &target, &|_, _| {}).unwrap()
        });
        let size = std::fs::metadata(&out).unwrap().len();
        let chose = report
            .fit
            .as_ref()
            .map_or(String::new(), |f| format!(", {}", f.describe()));
        println!(
            "| 1-hour capture, {what} | long_run.log's dumps every 350 ms ({:.0} MB, 10,286 dumps) | {secs:.2} s, {}, {} frames, plays {}{chose} |",
            hour.len() as f64 / 1e6,
            memanim::units::size(size),
            report.written,
            memanim::units::play_time(report.duration_ms),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
