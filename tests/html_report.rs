//! The HTML report without a browser: what the page's data holds (decoded here as the page's
//! script decodes it, and compared with the capture), its size on real captures, the options
//! that choose what goes in, and the command line. The page in a browser: tests/html_browser.rs.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use memanim::heap::BlockKind;
use memanim::timeline::{Selection, TimePoint};
use memanim::{Output, RenderOptions, Target};
use serde_json::Value;

/// Writes the report of `capture` with `options` and returns the file's bytes.
fn report(capture: &memanim::Capture, options: &RenderOptions, path: &Path) -> Vec<u8> {
    memanim::render(
        capture,
        options,
        &Output::Html(Target::File(path.to_path_buf())),
        &|_, _| {},
    )
    .unwrap();
    std::fs::read(path).unwrap()
}

/// The JSON data embedded in a page.
fn data_of(page: &[u8]) -> Value {
    let page = std::str::from_utf8(page).unwrap();
    let start = page
        .find("<script type=\"application/json\" id=\"memanim-data\">")
        .expect("the data element")
        + "<script type=\"application/json\" id=\"memanim-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

/// Writes the runs of `s` into `out` from `at` (the page's `decodeRuns`).
fn decode_runs(s: &str, out: &mut [char], mut at: usize) -> usize {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mut n = 0;
        while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
            n = n * 10 + d as usize;
            chars.next();
        }
        let n = n.max(1);
        out[at..at + n].fill(c);
        at += n;
    }
    at
}

/// Every frame's blocks per slot, decoded from keys and deltas as the page does.
fn decode_blocks(data: &Value) -> Vec<Vec<String>> {
    let f = &data["frames"];
    let n = f["t"].as_array().unwrap().len();
    let mut out: Vec<Vec<String>> = Vec::with_capacity(n);
    let mut cur: Vec<Vec<char>> = Vec::new();
    for k in 0..n {
        let session = f["session"][k].as_u64().unwrap() as usize;
        let slots = data["sessions"][session]["slots"].as_array().unwrap();
        let texts = f["blocks"][k].as_array().unwrap();
        assert_eq!(texts.len(), slots.len(), "frame {k}: one text per slot");
        if f["key"][k] == 1 {
            cur = slots
                .iter()
                .zip(texts)
                .map(|(slot, text)| {
                    let mut b = vec!['!'; slot["blocks"].as_u64().unwrap() as usize];
                    let end = decode_runs(text.as_str().unwrap(), &mut b, 0);
                    assert_eq!(end, b.len(), "frame {k}: a key covers its slot");
                    b
                })
                .collect();
        } else {
            for (b, text) in cur.iter_mut().zip(texts) {
                let text = text.as_str().unwrap();
                let mut at = 0;
                for group in text.split(',').filter(|g| !g.is_empty()) {
                    let (skip, runs) = group.split_once(':').unwrap();
                    at = decode_runs(runs, b, at + skip.parse::<usize>().unwrap());
                }
            }
        }
        out.push(cur.iter().map(|b| b.iter().collect()).collect());
    }
    out
}

/// The objects of the page: (first frame, last frame, slot, head), decoded from the varints.
fn decode_objects(data: &Value) -> Vec<(usize, usize, usize, usize)> {
    const DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let f = &data["frames"];
    let mut out = Vec::new();
    for (k, slots) in f["objects"].as_array().unwrap().iter().enumerate() {
        for (a, text) in slots.as_array().unwrap().iter().enumerate() {
            let digits: Vec<u64> = text
                .as_str()
                .unwrap()
                .chars()
                .map(|c| DIGITS.find(c).unwrap() as u64)
                .collect();
            let mut pos = 0;
            let next = |pos: &mut usize| {
                let (mut v, mut scale) = (0, 1);
                loop {
                    let d = digits[*pos];
                    *pos += 1;
                    v += (d & 31) * scale;
                    scale *= 32;
                    if d < 32 {
                        return v;
                    }
                }
            };
            let mut head = 0;
            while pos < digits.len() {
                let gap = next(&mut pos);
                head += (gap >> 1) as usize;
                let life = next(&mut pos) as usize;
                if gap & 1 == 1 {
                    next(&mut pos);
                    next(&mut pos);
                }
                out.push((k, k + life, a, head));
                head += 1;
            }
        }
    }
    out
}

/// The page's blocks are the capture's, frame by frame, and every allocation on screen is an
/// object of the page's table (which hover, click and age colours look up).
fn check_against_capture(capture: &memanim::Capture, options: &RenderOptions, data: &Value) {
    let (schedule, _) =
        memanim::timeline::resolve_selection(capture, &options.timing, &options.selection).unwrap();
    let frames = decode_blocks(data);
    assert_eq!(frames.len(), schedule.frames.len());
    let objects = decode_objects(data);
    let mut alive: HashMap<(usize, usize, usize), Vec<(usize, usize)>> = HashMap::new();
    for &(first, last, a, head) in &objects {
        alive.entry((first, a, head)).or_default();
        for k in first..=last {
            alive.entry((k, a, head)).or_default().push((first, last));
        }
    }
    for (k, spec) in schedule.frames.iter().enumerate() {
        let snap = capture.sessions[spec.snap.session]
            .snapshots
            .get(spec.snap.index);
        let slots = data["sessions"][spec.snap.session]["slots"]
            .as_array()
            .unwrap();
        for (a, slot) in slots.iter().enumerate() {
            let ptr = u64::from_str_radix(slot["ptr"].as_str().unwrap(), 16).unwrap();
            let mut want: String = snap
                .areas
                .iter()
                .find(|x| x.ptr == ptr)
                .map_or_else(String::new, common::chars);
            let size = slot["blocks"].as_u64().unwrap() as usize;
            want.extend(std::iter::repeat_n(' ', size - want.len()));
            assert_eq!(frames[k][a], want, "frame {k}, slot {a}");
            for (i, c) in want.chars().enumerate() {
                let head = c != ' ' && BlockKind::from_char(c as u8).is_head();
                if head {
                    assert_eq!(
                        alive.get(&(k, a, i)).map_or(0, Vec::len),
                        1,
                        "frame {k}, slot {a}: one object has its head at block {i}"
                    );
                }
            }
        }
    }
}

#[test]
fn sample_reports_hold_the_capture_and_stay_small() {
    let dir = common::scratch("html_samples");
    let mut rows = Vec::new();
    for name in [
        "samples/asyncio_app.log",
        "samples/frag_small.log",
        "samples/mixed_logs.log",
        "samples/split_heap_coverage.log",
        "samples/unix32_blocks16.log",
    ] {
        let capture = common::load(name);
        let options = RenderOptions::default();
        let page = report(&capture, &options, &dir.join("r.html"));
        rows.push(format!("{name}: {} bytes", page.len()));
        assert!(page.len() <= 2_000_000, "{name}: {} bytes", page.len());
        let data = data_of(&page);
        assert_eq!(data["source"], name);
        check_against_capture(&capture, &options, &data);
    }
    eprintln!("{}", rows.join("\n"));
}

#[test]
fn a_1000_dump_capture_of_a_192k_heap_is_under_10_mb() {
    let text = common::replay(&common::dumps_of("samples/asyncio_app.log"), 1000, 350);
    let (capture, _) = memanim::parse(text.as_bytes(), "replay.log", &Default::default()).unwrap();
    assert_eq!(capture.snapshot_count(), 1000);
    let heap = capture.sessions[0].snapshots.meta(0).gc.unwrap().total;
    assert_eq!(heap, 194_304, "a 192 KiB heap");
    let dir = common::scratch("html_1000");
    let options = RenderOptions::default();
    let page = report(&capture, &options, &dir.join("r.html"));
    eprintln!(
        "1000 dumps of a 192 KiB heap ({} bytes of capture): {} bytes of HTML",
        text.len(),
        page.len()
    );
    assert!(page.len() <= 10_000_000, "{} bytes", page.len());
    let data = data_of(&page);
    assert_eq!(data["frames"]["t"].as_array().unwrap().len(), 1000);
    check_against_capture(&capture, &options, &data);
}

#[test]
fn the_window_every_and_colour_options_choose_what_goes_in() {
    let capture = common::load("samples/mixed_logs.log");
    let dir = common::scratch("html_options");
    let frames = |data: &Value| data["frames"]["snapshot"].as_array().unwrap().len();
    let all = data_of(&report(
        &capture,
        &RenderOptions::default(),
        &dir.join("a.html"),
    ));
    let dumps = common::dumps_of("samples/mixed_logs.log").len();
    assert_eq!(frames(&all), dumps, "one frame per dump");
    assert_eq!(all["age"], Value::Null, "coloured by kind");

    let window = RenderOptions {
        selection: Selection {
            from: Some(TimePoint::Percent(25.0)),
            to: Some(TimePoint::Percent(75.0)),
            ..Selection::default()
        },
        ..RenderOptions::default()
    };
    let part = data_of(&report(&capture, &window, &dir.join("w.html")));
    let n = frames(&part);
    assert!(n > 10 && n < 30, "{n} frames in the middle half");
    let first = part["frames"]["snapshot"][0].as_u64().unwrap();
    assert!(first > 1, "the window starts later: snapshot {first}");
    check_against_capture(&capture, &window, &part);

    let mut every = RenderOptions::default();
    every.timing.every_ms = Some(2000.0);
    let sparse = data_of(&report(&capture, &every, &dir.join("e.html")));
    let n = frames(&sparse);
    assert!((4..dumps).contains(&n), "one snapshot per 2 s: {n} frames");
    check_against_capture(&capture, &every, &sparse);

    let mut aged = RenderOptions::default();
    aged.style.color = memanim::options::ColorBy::Age;
    let age = data_of(&report(&capture, &aged, &dir.join("g.html")));
    assert_eq!(age["age"]["head"].as_array().unwrap().len(), 8);
    assert!(!age["age"]["bounds"].as_array().unwrap().is_empty());
    assert!(age["legend"][0][2].as_str().unwrap().starts_with("age <"));
}

#[test]
fn sessions_keep_their_own_layout_in_the_data() {
    // Two sessions with heaps at different addresses: each frame names its session's slots.
    let a = common::pattern(300, 1);
    let b = common::pattern(500, 2);
    let mut text = String::new();
    let a2 = common::pattern(300, 3);
    for (i, blocks) in [&a, &a2].into_iter().enumerate() {
        text.push_str(&common::dump(
            100 + 300 * i as u64,
            &[common::Area {
                ptr: "20000000",
                blocks,
            }],
            Default::default(),
        ));
    }
    text.push_str("MPY: soft reboot\n");
    for (i, blocks) in [&b, &a].into_iter().enumerate() {
        text.push_str(&common::dump(
            50 + 300 * i as u64,
            &[common::Area {
                ptr: "3ffb0000",
                blocks,
            }],
            Default::default(),
        ));
    }
    let (capture, _) = common::parse(&text);
    let dir = common::scratch("html_sessions");
    let options = RenderOptions::default();
    let data = data_of(&report(&capture, &options, &dir.join("s.html")));
    assert_eq!(data["frames"]["session"], serde_json::json!([0, 0, 1, 1]));
    assert_eq!(data["frames"]["key"], serde_json::json!([1, 0, 1, 0]));
    assert_eq!(data["sessions"][0]["slots"][0]["ptr"], "20000000");
    assert_eq!(data["sessions"][1]["slots"][0]["ptr"], "3ffb0000");
    assert_eq!(data["sessions"][1]["started_by"], "MPY: soft reboot");
    assert_eq!(data["sessions"][1]["number"], 2);
    check_against_capture(&capture, &options, &data);
}

fn memanim(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_writes_reports_and_lists_them() {
    let (code, help, _) = memanim(&["--help"]);
    let help = String::from_utf8(help).unwrap();
    assert_eq!(code, 0);
    assert!(
        help.contains("heap.html") && help.contains("interactive report"),
        "{help}"
    );
    assert!(help.contains(".webp"), "{help}");

    let dir = common::scratch("html_cli");
    let out = dir.join("heap.html");
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let dumps = common::dumps_of("samples/mixed_logs.log").len();
    assert!(err.contains(&format!("({dumps} frames")), "{err}");
    let page = std::fs::read(&out).unwrap();
    assert!(page.starts_with(b"<!DOCTYPE html>"));
    // Standard output, with --format.
    let (code, stdout, err) = memanim(&["samples/mixed_logs.log", "--format", "html", "-o", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stdout, page, "the same page on standard output");
    // One frame is not a report.
    let (code, _, err) = memanim(&[
        "samples/mixed_logs.log",
        "--frame",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a usage error");
    assert!(err.contains("HTML report holds every snapshot"), "{err}");
    assert!(matches!(
        Output::choose(Path::new("r.HTM"), None, false, None, false),
        Ok(Output::Html(Target::File(_)))
    ));
}

/// Stills as WebP (lossless: exact colours) and JPEG (close colours), decoded and compared
/// with the PNG still at cell centres.
#[test]
fn stills_as_webp_and_jpeg() {
    let dir = common::scratch("still_formats");
    let capture = common::load("samples/unix32_blocks16.log");
    let options = RenderOptions::default();
    let schedule = memanim::timeline::resolve(&capture, &options.timing);
    let layout = memanim::render::Renderer::with_marks(
        &capture,
        &schedule,
        &options.style,
        memanim::error_marks(&capture),
    )
    .layout;
    let path = |ext: &str| dir.join(format!("still.{ext}"));
    for ext in ["png", "webp", "jpg", "jpeg"] {
        let (code, _, err) = memanim(&[
            "samples/unix32_blocks16.log",
            "--frame",
            "20",
            "-o",
            path(ext).to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{ext}: {err}");
    }
    let png = image::open(path("png")).unwrap().to_rgb8();
    let blocks = capture.sessions[0]
        .snapshots
        .get(schedule.frames[19].snap.index)
        .areas[0]
        .blocks
        .len();
    // JPEG is lossy: its colour at a cell centre must be nearer to the PNG's than to any other
    // colour a cell can have.
    let pal = memanim::render::palette::rgb();
    let cell_colours: Vec<usize> = [2usize, 3].into_iter().chain(8..40).chain(48..64).collect();
    let nearest = |c: [u8; 3]| {
        *cell_colours
            .iter()
            .min_by_key(|&&i| {
                (0..3)
                    .map(|k| (c[k] as i32 - pal[i][k] as i32).pow(2))
                    .sum::<i32>()
            })
            .unwrap()
    };
    for (ext, format, exact) in [
        ("webp", image::ImageFormat::WebP, true),
        ("jpg", image::ImageFormat::Jpeg, false),
        ("jpeg", image::ImageFormat::Jpeg, false),
    ] {
        let bytes = std::fs::read(path(ext)).unwrap();
        assert_eq!(image::guess_format(&bytes).unwrap(), format, "{ext}");
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), png.dimensions(), "{ext}");
        let (fill, fill_h) = layout.cell_fill();
        for i in (0..blocks).step_by(7) {
            let (x, y) = layout.cell_origin(0, 0, i);
            let (cx, cy) = (x + fill / 2, y + fill_h / 2);
            let (got, want) = (img.get_pixel(cx, cy).0, png.get_pixel(cx, cy).0);
            if exact {
                assert_eq!(got, want, "{ext}, block {i}");
            } else {
                let off = got
                    .iter()
                    .zip(want)
                    .map(|(a, b)| a.abs_diff(b))
                    .max()
                    .unwrap();
                assert!(off <= 24, "{ext}, block {i}: {got:?} vs {want:?}");
                assert_eq!(pal[nearest(got)], want, "{ext}, block {i}: {got:?}");
            }
        }
    }
    // A .webp names one image: without --frame or --at it is refused.
    let (code, _, err) = memanim(&[
        "samples/unix32_blocks16.log",
        "-o",
        path("webp").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a usage error");
    assert!(err.contains("names one image"), "{err}");
}
