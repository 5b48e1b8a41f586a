//! `memanim plot`: the chart's pixels follow the figures, the SVG carries its axes and legend, and
//! bad output names are refused before anything is written.

mod common;

use std::process::Command;

use common::{dump, scratch, Area, Style};
use memanim::analysis::plot::{write_plot, PlotOptions};
use memanim::analysis::stats::compute;

/// A 1024-block heap: `n` dumps with a quarter of it used, then `n` with three quarters.
fn two_levels(n: u64) -> String {
    let quarter = format!("{}{}", "h".repeat(256), ".".repeat(768));
    let three = format!("{}{}", "h".repeat(768), ".".repeat(256));
    let mut text = String::new();
    for i in 0..2 * n {
        let blocks = if i < n { &quarter } else { &three };
        let area = Area {
            ptr: "0x20000000",
            blocks,
        };
        text.push_str(&dump(1000 + i * 100, &[area], Style::default()));
    }
    text
}

/// Pixels of the `used` fill (sky blue over white, grid lines included) in column `x`.
fn fill_height(img: &image::RgbImage, x: u32) -> u32 {
    (0..img.height())
        .filter(|&y| {
            let [r, g, b] = img.get_pixel(x, y).0;
            b > 200 && b as i32 > r as i32 + 30 && g > 150 && r < 230
        })
        .count() as u32
}

/// The capture, named as the chart's title shows it.
fn named(c: &memanim::Capture, name: &str) -> memanim::Capture {
    let mut c = c.clone();
    c.source = name.to_string();
    c
}

#[test]
fn the_used_area_is_as_high_as_the_memory_used() {
    let (capture, _) = common::parse(&two_levels(10));
    let stats = compute(&capture, None);
    let out = scratch("plot_levels").join("usage.png");
    write_plot(
        &stats,
        &named(&capture, "levels"),
        &out,
        &PlotOptions::default(),
    )
    .unwrap();
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 600));
    // The plot area spans roughly x 100..1190: sample well inside each half of the time axis.
    let low = fill_height(&img, 300);
    let high = fill_height(&img, 1000);
    assert!(low > 50, "the quarter-used half has a fill ({low} px)");
    let ratio = high as f64 / low as f64;
    assert!(
        (2.6..=3.4).contains(&ratio),
        "75% used should fill three times as high as 25%: {high} / {low} px"
    );
}

#[test]
fn a_dense_zigzag_stays_inside_the_chart() {
    // 3000 dumps whose largest free block jumps between 4 and 60 blocks: far more points than
    // pixel columns, in sharp zigzags.
    let mut text = String::new();
    for i in 0..3000u64 {
        let blocks = if i % 2 == 0 {
            format!("{}{}", "h".repeat(60), ".".repeat(4))
        } else {
            format!("{}{}", ".".repeat(60), "h".repeat(4))
        };
        let area = Area {
            ptr: "0x20000000",
            blocks: &blocks,
        };
        text.push_str(&dump(1000 + i * 100, &[area], Style::default()));
    }
    let (capture, _) = common::parse(&text);
    let stats = compute(&capture, None);
    let out = scratch("plot_dense").join("dense.png");
    write_plot(
        &stats,
        &named(&capture, "dense"),
        &out,
        &PlotOptions::default(),
    )
    .unwrap();
    let img = image::open(&out).unwrap().to_rgb8();
    // The largest-free line's orange must not reach the caption (top 30 rows) or the x axis'
    // labels (bottom 50 rows).
    let orange = |y: u32| (0..img.width()).any(|x| img.get_pixel(x, y).0 == [0xe6, 0x9f, 0x00]);
    let outside: Vec<u32> = (0..30)
        .chain(img.height() - 50..img.height())
        .filter(|&y| orange(y))
        .collect();
    assert!(
        outside.is_empty(),
        "line pixels outside the chart in rows {outside:?}"
    );
    assert!((100..500).any(orange), "the line is drawn");
}

#[test]
fn the_svg_has_axes_legend_and_board_resets() {
    let mut text = two_levels(5);
    text.push_str("MPY: soft reboot\n");
    text.push_str(&two_levels(5));
    let (capture, _) = common::parse(&text);
    assert_eq!(capture.sessions.len(), 2);
    let stats = compute(&capture, None);
    let out = scratch("plot_svg").join("usage.svg");
    write_plot(
        &stats,
        &named(&capture, "two.log"),
        &out,
        &PlotOptions::default(),
    )
    .unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg"));
    for label in [
        "two.log: heap use over time",
        "time since the first dump (s)",
        "KiB",
        "used",
        "free",
        "largest free block",
        "heap (16.0 KiB)",
        "board reset",
    ] {
        assert!(svg.contains(label), "the SVG has no '{label}'");
    }
    assert!(
        svg.contains("font-family=\"DejaVu Sans Mono\""),
        "text uses the embedded font's family"
    );
    // The last session steps up and stays up: that reads as memory kept, and the fitted line says so.
    assert_eq!(
        svg.contains("leak: +"),
        stats.leak.is_some_and(|l| l.is_leak())
    );
}

#[test]
fn the_cli_writes_a_chart_and_refuses_a_wrong_name() {
    let dir = scratch("plot_cli");
    let log = dir.join("run.log");
    std::fs::write(&log, two_levels(5)).unwrap();
    let bin = env!("CARGO_BIN_EXE_memanim");
    let ok = Command::new(bin)
        .args(["plot", log.to_str().unwrap(), "-o"])
        .arg(dir.join("u.png"))
        .args(["--width", "640", "--height", "320"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let img = image::open(dir.join("u.png")).unwrap();
    assert_eq!((img.width(), img.height()), (640, 320));
    let bad = Command::new(bin)
        .args(["plot", log.to_str().unwrap(), "-o"])
        .arg(dir.join("u.jpg"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("u.jpg") && err.contains(".svg"), "{err}");
    assert!(!dir.join("u.jpg").exists());
    // A file with no dumps has nothing to plot.
    std::fs::write(dir.join("empty.log"), "hello\n").unwrap();
    let empty = Command::new(bin)
        .args(["plot"])
        .arg(dir.join("empty.log"))
        .arg("-o")
        .arg(dir.join("e.svg"))
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(1));
    assert!(!dir.join("e.svg").exists());
}

#[test]
fn a_time_window_charts_only_its_snapshots() {
    use memanim::timeline::TimePoint;
    // 20 dumps 100 ms apart: a quarter used until 0.9 s, three quarters from 1.0 s.
    let (capture, _) = common::parse(&two_levels(10));
    let stats = compute(&capture, None);
    let out = scratch("plot_window").join("late.png");
    let opts = PlotOptions {
        from: Some(TimePoint::Ms(1000.0)),
        ..Default::default()
    };
    assert_eq!(
        write_plot(&stats, &named(&capture, "w"), &out, &opts).unwrap(),
        10
    );
    let img = image::open(&out).unwrap().to_rgb8();
    // The whole chart is the high level now: the fill is as high on the left as on the right.
    let (left, right) = (fill_height(&img, 300), fill_height(&img, 1000));
    assert!(
        left > 100 && (left as f64 / right as f64 - 1.0).abs() < 0.05,
        "{left} vs {right} px"
    );
    // Windows that hold no snapshot, or reach past the end, are refused, naming the capture's
    // span; a snapshot number is a bound too.
    for (from, to) in [
        (Some(TimePoint::Ms(5000.0)), None),
        (None, Some(TimePoint::Ms(5000.0))),
        (Some(TimePoint::Ms(950.0)), Some(TimePoint::Ms(990.0))),
        (Some(TimePoint::Snapshot(21)), None),
    ] {
        let opts = PlotOptions {
            from,
            to,
            ..Default::default()
        };
        let e = write_plot(&stats, &named(&capture, "w"), &out, &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("w spans 0 to 1.9 s (snapshots #1 to #20)"),
            "{e}"
        );
    }
    let opts = PlotOptions {
        from: Some(TimePoint::Snapshot(11)),
        to: Some(TimePoint::Snapshot(15)),
        ..Default::default()
    };
    assert_eq!(
        write_plot(&stats, &named(&capture, "w"), &out, &opts).unwrap(),
        5
    );
}

/// The rows of the plotting area: from the first row of the y axis line to its last (the axis is
/// the longest dark vertical run in column `x`).
fn plot_rows(img: &image::RgbImage, x: u32) -> (u32, u32) {
    let dark = |y: u32| img.get_pixel(x, y).0.iter().all(|&c| c < 80);
    let (mut best, mut run) = ((0, 0), None);
    for y in 0..img.height() {
        match (dark(y), run) {
            (true, None) => run = Some(y),
            (false, Some(s)) => {
                if y - s > best.1 - best.0 {
                    best = (s, y);
                }
                run = None;
            }
            _ => {}
        }
    }
    best
}

#[test]
fn the_legend_sits_above_the_chart_with_a_swatch_per_series() {
    // Every dump uses the whole heap: the fill reaches the top of the data at every time, where
    // a legend inside the chart would cover it.
    let full = "h".repeat(1024);
    let mut text = String::new();
    for i in 0..20u64 {
        let area = Area {
            ptr: "0x20000000",
            blocks: &full,
        };
        text.push_str(&dump(1000 + i * 100, &[area], Style::default()));
    }
    let (capture, _) = common::parse(&text);
    let stats = compute(&capture, None);
    let out = scratch("plot_legend").join("full.png");
    write_plot(
        &stats,
        &named(&capture, "full"),
        &out,
        &PlotOptions::default(),
    )
    .unwrap();
    let img = image::open(&out).unwrap().to_rgb8();
    // The fill is as high at the right edge (where plotters puts its legend) as in the middle.
    let (mid, right) = (fill_height(&img, 600), fill_height(&img, 1150));
    assert!(mid > 300, "{mid}");
    assert!(
        mid.abs_diff(right) <= 2,
        "middle {mid} px, right {right} px"
    );
    // The legend: above the plotting area, one swatch colour per series, free and heap apart.
    let (top, _) = plot_rows(&img, 92);
    assert!(top > 40, "the chart starts at row {top}");
    let band_has =
        |rgb: [u8; 3]| (0..top).any(|y| (0..img.width()).any(|x| img.get_pixel(x, y).0 == rgb));
    for (name, rgb) in [
        ("free", [0x00, 0x9e, 0x73]),
        ("largest free block", [0xe6, 0x9f, 0x00]),
        ("heap", [0x44, 0x44, 0x44]),
    ] {
        assert!(band_has(rgb), "no {name} swatch above the chart");
    }
}

#[test]
fn chart_text_is_evenly_spaced() {
    // The title starts with the source name: narrow glyphs, which plotters' own ab_glyph text
    // pulls to the left of their cells ("us ed", "( 79. 0 KiB)").
    let (capture, _) = common::parse(&two_levels(3));
    let stats = compute(&capture, None);
    let out = scratch("plot_text").join("t.png");
    write_plot(
        &stats,
        &named(&capture, "i.i.i.i"),
        &out,
        &PlotOptions::default(),
    )
    .unwrap();
    let img = image::open(&out).unwrap().to_rgb8();
    // Ink columns of the title row band (the caption is the first text from the top).
    let ink: Vec<bool> = (0..img.width())
        .map(|x| (8..34).any(|y| img.get_pixel(x, y).0.iter().all(|&c| c < 110)))
        .collect();
    let mut centres = Vec::new();
    let mut start = None;
    for (x, &i) in ink.iter().chain([&false]).enumerate() {
        match (i, start) {
            (true, None) => start = Some(x),
            (false, Some(s)) => {
                centres.push((s + x - 1) as f64 / 2.0);
                start = None;
            }
            _ => {}
        }
    }
    // "i.i.i.i:" are the first eight glyphs; in a monospace font their middles are one advance
    // apart (about 9.3 px at 18 px). Dropping the bearings made the gaps alternate by 4-5 px.
    let first: Vec<f64> = centres.iter().take(8).copied().collect();
    let gaps: Vec<f64> = first.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(
        (8.0..11.0).contains(&mean) && gaps.iter().all(|g| (g - mean).abs() <= 1.0),
        "glyph middles {first:?}, gaps {gaps:?}"
    );
}

/// Columns of the chart (below the legend band) where the MemoryError red runs down most of it.
fn error_columns(img: &image::RgbImage) -> Vec<u32> {
    (0..img.width())
        .filter(|&x| {
            (0..img.height())
                .filter(|&y| img.get_pixel(x, y).0 == [0xb2, 0x00, 0x1e])
                .count()
                > 150
        })
        .collect()
}

#[test]
fn a_memory_error_is_marked_where_it_happened() {
    // Two levels as above; the MemoryError comes after the 15th dump (t = 1.4 s of 0..1.9 s).
    let quarter = format!("{}{}", "h".repeat(256), ".".repeat(768));
    let three = format!("{}{}", "h".repeat(768), ".".repeat(256));
    let mut text = String::new();
    for i in 0..20u64 {
        let blocks = if i < 10 { &quarter } else { &three };
        let area = Area {
            ptr: "0x20000000",
            blocks,
        };
        text.push_str(&dump(1000 + i * 100, &[area], Style::default()));
        if i == 14 {
            text.push_str("MemoryError: memory allocation failed, allocating 16384 bytes\n");
        }
    }
    let dir = scratch("plot_error");
    let chart = |text: &str, name: &str| {
        let (capture, _) = common::parse(text);
        let out = dir.join(name);
        write_plot(
            &compute(&capture, None),
            &named(&capture, "e"),
            &out,
            &PlotOptions::default(),
        )
        .unwrap();
        image::open(&out).unwrap().to_rgb8()
    };
    let img = chart(&text, "error.png");
    let cols = error_columns(&img);
    assert!(!cols.is_empty() && cols.len() <= 3, "{cols:?}");
    // Where the fill rises (between t = 0.9 and 1.0 s) and where the axis starts give the scale.
    let rise = (100..1190)
        .find(|&x| fill_height(&img, x) > (fill_height(&img, 120) + fill_height(&img, 1150)) / 2)
        .unwrap();
    let axis = (0..img.width())
        .find(|&x| plot_rows(&img, x).1 - plot_rows(&img, x).0 > 300)
        .unwrap();
    let ratio = (cols[0] - axis) as f64 / (rise - axis) as f64;
    assert!(
        (ratio - 1.4 / 0.95).abs() < 0.1,
        "error at x {}, rise at {rise}, axis at {axis}",
        cols[0]
    );
    // Without the error line, nothing on the chart has that colour.
    let clean = chart(
        &text.replace(
            "MemoryError: memory allocation failed, allocating 16384 bytes",
            "INFO: all fine",
        ),
        "clean.png",
    );
    assert!(error_columns(&clean).is_empty());
}
