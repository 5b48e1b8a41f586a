//! PNG sequences with an ffmpeg concat file, Y4M video, stills and time windows: the same renderer
//! and timeline as the GIF.

mod common;

use std::path::Path;
use std::process::Command;

use common::{load, scratch};
use memanim::encode::png::{frame_name, CONCAT_FILE};
use memanim::encode::StillFormat;
use memanim::render::{palette, Renderer};
use memanim::timeline::{self, Selection, TimePoint};
use memanim::{Output, RenderOptions, Target};

fn render(
    c: &memanim::Capture,
    opts: &RenderOptions,
    out: Output,
) -> memanim::Result<memanim::RenderReport> {
    memanim::render(c, opts, &out, &|_, _| {})
}

fn rgb_at(img: &image::RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

/// (file, seconds) pairs of a concat script.
fn parse_concat(text: &str) -> Vec<(String, f64)> {
    assert!(text.starts_with("ffconcat version 1.0\n"));
    let mut out: Vec<(String, f64)> = Vec::new();
    for line in text.lines().skip(1) {
        if let Some(f) = line.strip_prefix("file ") {
            out.push((f.trim_matches('\'').to_string(), f64::NAN));
        } else if let Some(d) = line.strip_prefix("duration ") {
            out.last_mut().unwrap().1 = d.parse().unwrap();
        }
    }
    out
}

#[test]
fn png_sequence_with_concat_file_matches_the_capture() {
    let capture = load("samples/unix32_blocks16.log");
    let dir = scratch("png_seq").join("frames");
    let opts = RenderOptions::default();
    let report = render(
        &capture,
        &opts,
        Output::PngSequence {
            dir: dir.clone(),
            force: false,
        },
    )
    .unwrap();
    let schedule = timeline::resolve(&capture, &opts.timing);
    let n = schedule.frames.len();
    assert_eq!(report.written, n);
    let names: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), n + 1);
    assert!(
        names.contains(&frame_name(1))
            && names.contains(&frame_name(n))
            && names.contains(CONCAT_FILE)
    );

    // Durations add up to the capture's span plus the held last frame, on the 40 ms video grid;
    // the last frame's hold is written as 40 ms entries, the final one left to ffmpeg.
    let entries = parse_concat(&std::fs::read_to_string(dir.join(CONCAT_FILE)).unwrap());
    let files: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    let first_last = files.iter().position(|f| *f == frame_name(n)).unwrap();
    assert_eq!(first_last, n - 1, "frames listed in order");
    assert!(files[n - 1..].iter().all(|f| *f == frame_name(n)));
    assert!(entries[..n - 1]
        .iter()
        .all(|e| (e.1 * 1000.0).round() as u64 % 40 == 0));
    let span_s = capture.sessions[0].span_ms() as f64 / 1000.0;
    let before_last: f64 = entries[..n - 1].iter().map(|e| e.1).sum();
    assert!(
        (before_last - span_s).abs() <= 0.021,
        "{before_last} vs {span_s}"
    );
    let hold: f64 = entries[n - 1..]
        .iter()
        .filter(|e| !e.1.is_nan())
        .map(|e| e.1)
        .sum();
    assert!((hold + 0.04 - 3.0).abs() < 0.001, "hold {hold}");

    // Sampled cells in decoded frames have their kind's colour.
    let layout = Renderer::new(&capture, &schedule, &opts.style).layout;
    let pal = palette::rgb();
    for k in [0, n / 2, n - 1] {
        let img = image::open(dir.join(frame_name(k + 1))).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (report.width, report.height));
        let spec = &schedule.frames[k];
        let blocks = &capture.sessions[0].snapshots.get(spec.snap.index).areas[0].blocks;
        for i in (0..blocks.len()).step_by(53) {
            let (x, y) = layout.cell_origin(0, 0, i);
            let want = match blocks[i] {
                memanim::heap::BlockKind::Tail => {
                    let head = blocks[..i]
                        .iter()
                        .rev()
                        .find(|b| **b != memanim::heap::BlockKind::Tail)
                        .copied()
                        .unwrap();
                    palette::tail_index(head)
                }
                kind => palette::head_index(kind),
            };
            assert_eq!(
                rgb_at(&img, x, y),
                pal[want as usize],
                "frame {k} block {i}"
            );
        }
    }
}

#[test]
fn existing_frames_are_not_mixed_and_force_replaces_only_frames() {
    let capture = load("samples/mixed_logs.log");
    let dir = scratch("png_force").join("out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::write(dir.join(frame_name(999)), "old frame").unwrap();
    let e = render(
        &capture,
        &RenderOptions::default(),
        Output::PngSequence {
            dir: dir.clone(),
            force: false,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    assert!(dir.join(frame_name(999)).exists());
    render(
        &capture,
        &RenderOptions::default(),
        Output::PngSequence {
            dir: dir.clone(),
            force: true,
        },
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!dir.join(frame_name(999)).exists(), "stale frames removed");
    let dumps = common::dumps_of("samples/mixed_logs.log").len();
    assert!(dir.join(frame_name(dumps)).exists());
    // No temporary directory is left beside it.
    let siblings: Vec<_> = std::fs::read_dir(dir.parent().unwrap()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn a_still_is_the_frame_on_screen_at_that_time() {
    let capture = load("samples/mixed_logs.log");
    let dir = scratch("still");
    let opts = RenderOptions {
        selection: Selection {
            at: Some(TimePoint::Ms(2500.0)),
            ..Default::default()
        },
        ..Default::default()
    };
    render(
        &capture,
        &opts,
        Output::Still(dir.join("at.png"), StillFormat::Png),
    )
    .unwrap();
    let schedule = timeline::resolve(&capture, &opts.timing);
    let k = schedule
        .frames
        .iter()
        .rposition(|f| f.elapsed_ms <= 2500)
        .unwrap();
    assert!(k > 0 && schedule.frames[k + 1].elapsed_ms > 2500);
    // The same frame as in the full sequence.
    let seq = dir.join("all");
    render(
        &capture,
        &RenderOptions::default(),
        Output::PngSequence {
            dir: seq.clone(),
            force: false,
        },
    )
    .unwrap();
    let a = image::open(dir.join("at.png")).unwrap().to_rgb8();
    let b = image::open(seq.join(frame_name(k + 1))).unwrap().to_rgb8();
    assert!(a == b, "the still differs from frame {}", k + 1);
    // --frame N picks the Nth frame.
    let opts = RenderOptions {
        selection: Selection {
            frame: Some(k + 1),
            ..Default::default()
        },
        ..Default::default()
    };
    render(
        &capture,
        &opts,
        Output::Still(dir.join("n.png"), StillFormat::Png),
    )
    .unwrap();
    assert!(image::open(dir.join("n.png")).unwrap().to_rgb8() == b);
    let opts = RenderOptions {
        selection: Selection {
            frame: Some(10_000),
            ..Default::default()
        },
        ..Default::default()
    };
    let e = render(
        &capture,
        &opts,
        Output::Still(dir.join("x.png"), StillFormat::Png),
    )
    .unwrap_err();
    let dumps = common::dumps_of("samples/mixed_logs.log").len();
    assert!(
        e.to_string().contains(&format!("frames 1 to {dumps}")),
        "{e}"
    );
}

#[test]
fn time_windows_render_only_their_frames() {
    let capture = load("tests/data/long_run.log");
    let all = timeline::resolve(&capture, &Default::default());
    let sel = Selection {
        from: Some(TimePoint::Ms(10_000.0)),
        to: Some(TimePoint::Ms(20_000.0)),
        ..Default::default()
    };
    let (win, _) = timeline::resolve_selection(&capture, &Default::default(), &sel).unwrap();
    let expect = all
        .frames
        .iter()
        .filter(|f| (10_000..=20_000).contains(&f.elapsed_ms))
        .count();
    assert_eq!(win.frames.len(), expect);
    assert!(win
        .frames
        .iter()
        .all(|f| (10_000..=20_000).contains(&f.elapsed_ms)));
    // Percentages of the capture's span.
    let span = all.frames.last().unwrap().elapsed_ms;
    let sel = Selection {
        from: Some(TimePoint::Percent(50.0)),
        ..Default::default()
    };
    let (half, _) = timeline::resolve_selection(&capture, &Default::default(), &sel).unwrap();
    assert!(half.frames[0].elapsed_ms >= span / 2);
    assert!(half.frames.len() < all.frames.len() / 2 + 5);
    // An empty window is an error that says what the capture spans.
    let sel = Selection {
        from: Some(TimePoint::Ms(500_000.0)),
        ..Default::default()
    };
    let e = timeline::resolve_selection(&capture, &Default::default(), &sel).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string().contains(
            "--from 500 s is after the end of the capture: tests/data/long_run.log spans 0 to"
        ),
        "{e}"
    );
    // And a GIF of the window has just those frames.
    let dir = scratch("window");
    let opts = RenderOptions {
        selection: Selection {
            from: Some(TimePoint::Ms(10_000.0)),
            to: Some(TimePoint::Ms(20_000.0)),
            ..Default::default()
        },
        ..Default::default()
    };
    let r = render(
        &capture,
        &opts,
        Output::Gif(Target::File(dir.join("w.gif"))),
    )
    .unwrap();
    assert_eq!(
        common::decode_gif(&dir.join("w.gif")).frames.len(),
        r.written
    );
    assert_eq!(r.written, expect);
}

#[test]
fn y4m_has_a_valid_header_and_the_frames_real_time_needs() {
    let capture = load("samples/unix32_blocks16.log");
    let dir = scratch("y4m");
    let path = dir.join("v.y4m");
    let r = render(
        &capture,
        &RenderOptions::default(),
        Output::Y4m {
            target: Target::File(path.clone()),
            fps: 25.0,
        },
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let nl = bytes.iter().position(|&c| c == b'\n').unwrap();
    let header = std::str::from_utf8(&bytes[..nl]).unwrap();
    assert_eq!(
        header,
        format!(
            "YUV4MPEG2 W{} H{} F25000:1000 Ip A1:1 C420jpeg",
            r.width, r.height
        )
    );
    assert!(
        r.width % 2 == 0 && r.height % 2 == 0,
        "even dimensions for 4:2:0"
    );
    let frame = 6 + (r.width * r.height * 3 / 2) as usize;
    assert_eq!((bytes.len() - nl - 1) % frame, 0);
    let frames = (bytes.len() - nl - 1) / frame;
    assert_eq!(frames, r.written);
    let expected = (r.duration_ms / 1000.0 * 25.0).round() as usize;
    assert!(
        frames.abs_diff(expected) <= 1,
        "{frames} frames for {} ms",
        r.duration_ms
    );
    assert!(bytes[nl + 1..].starts_with(b"FRAME\n"));
}

#[test]
fn output_kind_follows_the_path_and_format() {
    use memanim::encode::Format;
    let p = |s: &str| Path::new(s).to_path_buf();
    let err = |path: &str, format: Option<Format>, still: bool| {
        let e = Output::choose(&p(path), format, still, None, false).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    };
    assert!(matches!(
        Output::choose(&p("a.gif"), None, false, None, false),
        Ok(Output::Gif(_))
    ));
    assert!(matches!(
        Output::choose(&p("frames/"), None, false, None, false),
        Ok(Output::PngSequence { .. })
    ));
    assert!(matches!(
        Output::choose(&p("s.png"), None, true, None, false),
        Ok(Output::Still(_, StillFormat::Png))
    ));
    assert!(
        matches!(Output::choose(&p("-"), Some(Format::Y4m), false, Some(30.0), false), Ok(Output::Y4m { fps, .. }) if fps == 30.0)
    );
    assert!(err("-", None, false).contains("--format"));
    assert!(err("s.png", None, false).contains("--at"));
    assert!(err("a.mp4", None, false).contains("'.mp4'"));
    assert!(err("a.mp4", None, false).contains("--format y4m -o - | ffmpeg"));
    assert!(err("a.gif", None, true).contains("one image, not a .gif file"));
    assert!(
        err("a.webp", None, false).contains("--at"),
        "a .webp is one image"
    );
    assert!(err("a.tiff", None, false).contains("--format"));
    // --format always wins over the name.
    assert!(matches!(
        Output::choose(&p("a.gif"), Some(Format::Y4m), false, None, false),
        Ok(Output::Y4m {
            target: Target::File(_),
            ..
        })
    ));
    assert!(matches!(
        Output::choose(&p("out.webm"), Some(Format::Y4m), false, None, false),
        Ok(Output::Y4m { target: Target::File(f), .. }) if f == p("out.webm")
    ));
    assert!(matches!(
        Output::choose(&p("vid"), Some(Format::Y4m), false, None, false),
        Ok(Output::Y4m { target: Target::File(f), .. }) if f == p("vid")
    ));
    assert!(matches!(
        Output::choose(&p("anim.png"), Some(Format::Gif), false, None, false),
        Ok(Output::Gif(Target::File(_)))
    ));
    assert!(matches!(
        Output::choose(&p("snap"), Some(Format::Png), true, None, false),
        Ok(Output::Still(f, _)) if f == p("snap")
    ));
}

fn ffmpeg_available() -> bool {
    let ok = |b: &str| {
        Command::new(b)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ok("ffmpeg") && ok("ffprobe") {
        true
    } else {
        eprintln!(
            "\n*** SKIPPED: ffmpeg/ffprobe not found; the video round trip did not run ***\n"
        );
        false
    }
}

fn probe_duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn ffmpeg_reproduces_the_capture_timing() {
    if !ffmpeg_available() {
        return;
    }
    let dir = scratch("ffmpeg");
    let bin = env!("CARGO_BIN_EXE_memanim");
    let root = env!("CARGO_MANIFEST_DIR");
    let capture = format!("{root}/samples/mixed_logs.log");
    let frames = dir.join("frames");
    let out = Command::new(bin)
        .arg(&capture)
        .arg("-o")
        .arg(&frames)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    // Run the command memanim printed, as printed.
    let cmd = err
        .lines()
        .find_map(|l| l.strip_prefix("memanim: make a video with: "))
        .expect("printed command");
    let mp4 = dir.join("out.mp4");
    let mut words: Vec<String> = cmd.split(' ').map(String::from).collect();
    *words.last_mut().unwrap() = mp4.display().to_string();
    let status = Command::new(&words[0])
        .args(&words[1..])
        .arg("-v")
        .arg("error")
        .status()
        .unwrap();
    assert!(status.success());
    let c = load("samples/mixed_logs.log");
    let want = timeline::resolve(&c, &Default::default()).duration_ms / 1000.0;
    let got = probe_duration(&mp4);
    assert!(
        (got - want).abs() <= 0.041,
        "concat video {got} s, capture {want} s"
    );

    // The Y4M pipe into ffmpeg with no options.
    let mut y4m = Command::new(bin)
        .args([capture.as_str(), "--format", "y4m", "-o", "-", "-q"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mp4b = dir.join("pipe.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-i", "-"])
        .arg(&mp4b)
        .stdin(y4m.stdout.take().unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(y4m.wait().unwrap().success(), "memanim's y4m stream failed");
    let got = probe_duration(&mp4b);
    assert!(
        (got - want).abs() <= 0.041,
        "y4m video {got} s, capture {want} s"
    );
}
