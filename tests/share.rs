//! Share-ready GIFs (issue 18): `--max-size` keeps the file under the limit, `--duration` plays the
//! window in the time asked, `--title` draws a line of the user's text, every summary says the
//! play time, frame count and size, and a long capture gets a hint. Each check decodes the GIF
//! that was written: its size on disk, the sum of its delays, its frames and pixels.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{decode_gif, scratch};
use memanim::units::{play_time, size};

fn memanim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The sum of a GIF's delays (cs): how long it plays.
fn play_cs(path: &Path) -> u64 {
    decode_gif(path).delays.iter().map(|&d| d as u64).sum()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// A 1-hour capture: long_run.log's real dumps (a 110 KiB heap) replayed every 2 s, 1,801 dumps.
fn hour_capture(dir: &Path) -> PathBuf {
    let path = dir.join("hour.log");
    let dumps = common::dumps_of("tests/data/long_run.log");
    std::fs::write(&path, common::replay(&dumps, 1801, 2000)).unwrap();
    path
}

/// The summary line `memanim: wrote OUT (N frames, WxH px, plays T, S)` agrees with the file.
fn assert_summary(stderr: &str, gif: &Path) {
    let decoded = decode_gif(gif);
    let line = format!(
        "memanim: wrote {} ({} frames, {}x{} px, plays {}, {})",
        gif.display(),
        decoded.frames.len(),
        decoded.width,
        decoded.height,
        play_time(play_cs(gif) as f64 * 10.0),
        size(file_size(gif))
    );
    assert!(stderr.contains(&line), "expected {line:?} in:\n{stderr}");
}

#[test]
fn max_size_fits_a_sample_by_merging_and_says_so() {
    let dir = scratch("share_sample");
    let plain = dir.join("plain.gif");
    let (code, err) = memanim(&["samples/frag_small.log", "-o", p(&plain)]);
    assert_eq!(code, 0, "{err}");
    assert!(file_size(&plain) > 600_000, "the sample's GIF is large");
    assert_summary(&err, &plain);

    let small = dir.join("small.gif");
    let (code, err) = memanim(&[
        "samples/frag_small.log",
        "-o",
        p(&small),
        "--max-size",
        "300k",
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = file_size(&small);
    assert!(bytes <= 300_000, "{bytes}");
    assert!(
        bytes >= 200_000,
        "{bytes}: the budget is used, not thrown away"
    );
    assert_summary(&err, &small);
    let said = format!("to fit {} in 300 kB", size(bytes));
    assert!(err.contains("merged to ") && err.contains(&said), "{err}");
    // Merging keeps the capture's pace: 12 s of dumps at speed 1 and the 3 s hold (the dumps
    // around the sample's MemoryErrors keep frames of their own, which may start a frame
    // interval late).
    let cs = play_cs(&small);
    assert!((1500..=1650).contains(&cs), "{cs}");
    assert!(decode_gif(&small).frames.len() < decode_gif(&plain).frames.len());

    // A limit the GIF already meets changes nothing: the same bytes as without it.
    let roomy = dir.join("roomy.gif");
    let (code, err) = memanim(&[
        "samples/frag_small.log",
        "-o",
        p(&roomy),
        "--max-size",
        "10M",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fits as it is"), "{err}");
    assert_eq!(
        std::fs::read(&roomy).unwrap(),
        std::fs::read(&plain).unwrap()
    );
}

#[test]
fn max_size_fits_a_one_hour_capture_with_smaller_cells() {
    let dir = scratch("share_hour_cells");
    let log = hour_capture(&dir);
    let plain = dir.join("plain.gif");
    let (code, err) = memanim(&[p(&log), "-o", p(&plain)]);
    assert_eq!(code, 0, "{err}");
    let plain_bytes = file_size(&plain);
    assert!(plain_bytes > 2_500_000, "{plain_bytes}");
    // A dump every 2 s is below the lowest frame rate already: only smaller cells can help.
    let out = dir.join("fit.gif");
    let (code, err) = memanim(&[p(&log), "-o", p(&out), "--max-size", "2.5M"]);
    assert_eq!(code, 0, "{err}");
    let bytes = file_size(&out);
    assert!(bytes <= 2_500_000, "{bytes}");
    assert_summary(&err, &out);
    assert!(err.contains("smaller cells ("), "{err}");
    assert!(!err.contains("merged to"), "nothing was merged: {err}");
    let (fit, orig) = (decode_gif(&out), decode_gif(&plain));
    assert_eq!(fit.frames.len(), orig.frames.len());
    assert_eq!(fit.delays, orig.delays, "the timing is the capture's");
    assert_eq!(play_cs(&out), 360_000 + 300, "one hour and the 3 s hold");
    assert!(fit.height < orig.height, "a smaller map");
}

#[test]
fn duration_and_max_size_together_on_a_one_hour_capture() {
    let dir = scratch("share_hour_duration");
    let log = hour_capture(&dir);
    let out = dir.join("short.gif");
    let (code, err) = memanim(&[
        p(&log),
        "-o",
        p(&out),
        "--duration",
        "1m",
        "--max-size",
        "1M",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(play_cs(&out), 6000, "{err}");
    let bytes = file_size(&out);
    assert!(bytes <= 1_000_000, "{bytes}");
    assert_summary(&err, &out);
    assert!(err.contains("to fit the window in 1 min 00 s"), "{err}");
    assert!(
        err.contains("merged to ") && err.contains("in 1 MB"),
        "{err}"
    );
    assert!(!err.contains("will play for"), "no hint when asked: {err}");
}

#[test]
fn a_size_out_of_reach_writes_nothing_and_says_the_smallest() {
    let dir = scratch("share_unreachable");
    let log = hour_capture(&dir);
    let out = dir.join("heap.gif");
    std::fs::write(&out, b"an older file").unwrap();
    let (code, err) = memanim(&[p(&log), "-o", p(&out), "--max-size", "300k"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(": cannot fit it in 300 kB (--max-size)"),
        "{err}"
    );
    assert!(
        err.contains("the smallest GIF memanim can make of this window is about ")
            && err.contains("--trim")
            && err.contains("--duration"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"an older file");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temporary file left"
    );
    // A limit just above that smallest estimate is still refused (estimates keep 5% to spare),
    // and the message says why rather than naming a size under the limit without comment.
    let about = err
        .split("is about ")
        .nth(1)
        .and_then(|r| r.split(" (").next())
        .unwrap();
    let smallest = memanim::units::parse_size(&about.replace(' ', "")).unwrap();
    let close = ((smallest as f64 * 1.03) as u64).to_string();
    let (code, close_err) = memanim(&[p(&log), "-o", p(&out), "--max-size", &close]);
    assert_eq!(code, 1, "{close_err}");
    assert!(
        close_err.contains("too close to the limit to promise"),
        "{close_err}"
    );
    // The smallest size it names is truly more than the limit: the smallest settings it names,
    // rendered, come out larger.
    let (code, err2) = memanim(&[p(&log), "-o", p(&out), "--fps", "1", "--cell", "3"]);
    assert_eq!(code, 0, "{err2}");
    assert!(file_size(&out) > 300_000);

    // With --trim it keeps the end of the capture instead.
    let trimmed = dir.join("trimmed.gif");
    let (code, err) = memanim(&[p(&log), "-o", p(&trimmed), "--max-size", "300k", "--trim"]);
    assert_eq!(code, 0, "{err}");
    let bytes = file_size(&trimmed);
    assert!(bytes <= 300_000, "{bytes}");
    assert_summary(&err, &trimmed);
    assert!(
        err.contains("kept the last ") && err.contains("of the window (from +"),
        "{err}"
    );
    let cs = play_cs(&trimmed);
    assert!(cs > 60 * 100 && cs < 3600 * 100, "{cs}");
    // With --duration, the part kept plays in the time asked.
    let (code, err) = memanim(&[
        p(&log),
        "-o",
        p(&trimmed),
        "--duration",
        "20s",
        "--max-size",
        "60k",
        "--trim",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(file_size(&trimmed) <= 60_000);
    assert_eq!(play_cs(&trimmed), 2000, "{err}");
    assert!(err.contains("kept the last "), "{err}");
    // Even one frame above the limit cannot be trimmed to fit.
    let (code, err) = memanim(&[p(&log), "-o", p(&trimmed), "--max-size", "5k", "--trim"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("even one frame takes"), "{err}");
}

#[test]
fn duration_plays_the_window_in_the_time_asked() {
    let dir = scratch("share_duration");
    for (args, cs) in [
        (&["--duration", "5s"][..], 500),
        (&["--duration", "30s"], 3000), // slower than real time
        (&["--duration", "4s", "--from", "2s", "--to", "8s"], 400),
        (&["--duration", "4s", "--fps", "5"], 400),
        (&["--play-time", "7.5s", "--last-frame", "2s"], 750),
    ] {
        let out = dir.join("d.gif");
        let mut all = vec!["samples/frag_small.log", "-o", p(&out)];
        all.extend_from_slice(args);
        let (code, err) = memanim(&all);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(play_cs(&out), cs, "{args:?}: {err}");
        assert_summary(&err, &out);
    }
    // The last frame is held 3 s, but at most a tenth of the time; --last-frame keeps its own.
    let out = dir.join("d.gif");
    let (_, err) = memanim(&["samples/frag_small.log", "-o", p(&out), "--duration", "10s"]);
    let last = *decode_gif(&out).delays.last().unwrap();
    assert!((100..=110).contains(&last), "{last}: {err}");
    // And it conflicts with --speed, which it sets.
    let (code, err) = memanim(&[
        "samples/frag_small.log",
        "-o",
        p(&out),
        "--duration",
        "10s",
        "--speed",
        "2",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn duration_caps_idle_gaps_before_it_chooses_the_speed() {
    // Dumps at 0, 1 s and 61 s: the 60 s gap is shortened to --max-idle 5 s first, so 6 s of
    // capture play; --duration 6.6s with a hold of 0.6 s plays them at speed 1.
    let dir = scratch("share_idle");
    let blocks = |seed| common::pattern(256, seed);
    let mut text = String::new();
    for (ticks, seed) in [(1000u64, 1), (2000, 2), (62_000, 3)] {
        let b = blocks(seed);
        text.push_str(&common::dump(
            ticks,
            &[common::Area {
                ptr: "20000000",
                blocks: &b,
            }],
            Default::default(),
        ));
    }
    let log = dir.join("gap.log");
    std::fs::write(&log, text).unwrap();
    let out = dir.join("gap.gif");
    let (code, err) = memanim(&[
        p(&log),
        "-o",
        p(&out),
        "--duration",
        "6.6s",
        "--last-frame",
        "600ms",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decode_gif(&out).delays, [100, 500, 60], "{err}");
    assert!(err.contains("played at 1x speed"), "{err}");
}

#[test]
fn a_long_capture_gets_one_hint_with_its_figures() {
    let dir = scratch("share_hint");
    let log = hour_capture(&dir);
    let out = dir.join("long.gif");
    let (code, err) = memanim(&[p(&log), "-o", p(&out)]);
    assert_eq!(code, 0, "{err}");
    let hints: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("--duration 30s"))
        .collect();
    assert_eq!(hints.len(), 1, "{err}");
    let hint = hints[0];
    assert!(
        hint.starts_with("memanim: this GIF will play for 1 h 00 min (1801 frames) and be about ")
            && hint.contains("--max-size 10M"),
        "{hint}"
    );
    // "about X": within 15% of what was written.
    let about = hint
        .split("be about ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap();
    let estimate = memanim::units::parse_size(&about.replace(' ', "")).unwrap() as f64;
    let real = file_size(&out) as f64;
    assert!((estimate / real - 1.0).abs() < 0.15, "{about} vs {real}");
    // A render that plays a few minutes gets none; neither does one that asked.
    for args in [
        &["--speed", "20"][..],
        &["--duration", "2m"],
        &["--max-size", "10M"],
    ] {
        let mut all = vec![p(&log), "-o", p(&out)];
        all.extend_from_slice(args);
        let (code, err) = memanim(&all);
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("will play for"), "{args:?}: {err}");
    }
}

#[test]
fn the_title_is_drawn_in_every_frame_and_never_redrawn() {
    let dir = scratch("share_title");
    // Text that a formatter, a shell or a terminal would read as something else.
    let title = "ESP32 v1.24 {0} %s $HOME \\n <b> Ωμέγα";
    let with = dir.join("with.gif");
    let without = dir.join("without.gif");
    let (code, err) = memanim(&["samples/frag_small.log", "-o", p(&with), "--title", title]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("warning"),
        "every character has a glyph: {err}"
    );
    let (code, err) = memanim(&["samples/frag_small.log", "-o", p(&without)]);
    assert_eq!(code, 0, "{err}");
    let (a, b) = (decode_gif(&with), decode_gif(&without));
    // One text line taller, and below it the same frames.
    let t = memanim::render::text::TextRenderer::with_chars(12.0, title);
    assert_eq!(a.height, b.height + t.line_height);
    assert_eq!(a.frames.len(), b.frames.len());
    let w = a.width as usize;
    let band = (t.line_height as usize + 8) * w; // the margin and the heading line
    for (fa, fb) in a.frames.iter().zip(&b.frames) {
        assert_eq!(&fa[band..], &fb[band - t.line_height as usize * w..]);
    }
    // The heading is the title's own glyphs, exactly as typed: drawn independently, the same.
    let mut expect =
        memanim::render::Frame::new(a.width, a.height, memanim::render::palette::ix::BACKGROUND);
    t.draw(
        &mut expect,
        8,
        8,
        title,
        memanim::render::palette::ix::TEXT,
        a.width - 16,
    );
    for f in &a.frames {
        assert_eq!(&f[..band], &expect.pixels[..band]);
    }
    // Drawn once: no later frame's rectangle reaches into the heading.
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut d = opts.read_info(std::fs::File::open(&with).unwrap()).unwrap();
    let mut k = 0;
    while let Some(f) = d.read_next_frame().unwrap() {
        if k > 0 {
            assert!(
                f.top as u32 >= 8 + t.line_height,
                "frame {k} redraws from row {}",
                f.top
            );
        }
        k += 1;
    }
}
