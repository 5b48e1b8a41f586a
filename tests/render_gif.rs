//! The GIF written for a capture shows each snapshot's blocks in their kind's colour, at the
//! capture's own timing.

mod common;

use common::{decode_gif, load, scratch};
use memanim::heap::BlockKind;
use memanim::render::palette;
use memanim::{timeline, Output, RenderOptions};

fn render(
    capture: &memanim::Capture,
    opts: &RenderOptions,
    path: &std::path::Path,
) -> memanim::RenderReport {
    memanim::render(
        capture,
        opts,
        &Output::Gif(memanim::Target::File(path.to_path_buf())),
        &|_, _| {},
    )
    .unwrap()
}

/// The colour a block must have: heads and free blocks by kind, tails by their allocation's head.
fn expected_index(blocks: &[BlockKind], i: usize) -> u8 {
    match blocks[i] {
        BlockKind::Tail => {
            let head = blocks[..i]
                .iter()
                .rev()
                .find(|k| **k != BlockKind::Tail)
                .copied()
                .unwrap_or(BlockKind::Free);
            palette::tail_index(head)
        }
        k => palette::head_index(k),
    }
}

#[test]
fn frames_show_every_kind_in_its_colour_at_the_capture_timing() {
    let capture = load("samples/frag_small.log");
    let dir = scratch("gif_colours");
    let out = dir.join("heap.gif");
    let opts = RenderOptions::default();
    let report = render(&capture, &opts, &out);
    let gif = decode_gif(&out);
    let schedule = timeline::resolve(&capture, &opts.timing);
    assert_eq!(gif.frames.len(), report.written);
    assert_eq!(gif.frames.len(), schedule.frames.len());
    assert_eq!((gif.width, gif.height), (report.width, report.height));
    assert_eq!(gif.repeat, gif::Repeat::Infinite);

    // Delays: each frame starts within 10 ms of its snapshot's time since the first (speed 1, gaps < 5 s).
    let mut start_cs = 0u64;
    for (k, spec) in schedule.frames.iter().enumerate() {
        let real = spec.elapsed_ms as u64;
        assert!(
            (start_cs * 10).abs_diff(real) <= 10,
            "frame {k}: starts at {} ms, snapshot at {real} ms",
            start_cs * 10
        );
        start_cs += gif.delays[k] as u64;
    }
    assert!(gif.delays.iter().all(|&d| d >= 2));
    assert_eq!(
        *gif.delays.last().unwrap(),
        300,
        "the last frame is held 3 s"
    );

    // Cells: in several frames, the first block of every kind present, plus every 37th block.
    let pal = palette::rgb();
    let layout = memanim::render::Renderer::new(&capture, &schedule, &opts.style).layout;
    let mut kinds_checked = std::collections::BTreeSet::new();
    for &k in &[
        0,
        schedule.frames.len() / 3,
        schedule.frames.len() / 2,
        schedule.frames.len() - 1,
    ] {
        let spec = &schedule.frames[k];
        let snap = &capture.sessions[spec.snap.session]
            .snapshots
            .get(spec.snap.index);
        let blocks = &snap.areas[0].blocks;
        let mut picks: Vec<usize> = (0..blocks.len()).step_by(37).collect();
        for kind in BlockKind::ALL {
            if let Some(i) = blocks.iter().position(|&b| b == kind) {
                picks.push(i);
            }
        }
        for i in picks {
            // The top-left pixel of a cell is its colour (change marks sit in the middle).
            let (x, y) = layout.cell_origin(0, 0, i);
            let want = pal[expected_index(blocks, i) as usize];
            assert_eq!(
                gif.rgb(k, x, y),
                want,
                "frame {k}, block {i} ({:?})",
                blocks[i]
            );
            kinds_checked.insert(blocks[i]);
        }
    }
    for kind in ["h", "T", "L", "D", "S", "A", "F", "B", "M", "=", "."] {
        assert!(
            kinds_checked.contains(&BlockKind::from_char(kind.as_bytes()[0])),
            "kind {kind} never sampled"
        );
    }
}

#[test]
fn speed_idle_cap_fps_and_loop_shape_the_timing() {
    let capture = load("samples/unix32_blocks16.log");
    let dir = scratch("gif_timing");
    let base = RenderOptions::default();
    let normal = timeline::resolve(&capture, &base.timing);
    let span_cs = |s: &timeline::Schedule| s.frames.iter().map(|f| f.delay_cs as u64).sum::<u64>();

    let mut fast = base.clone();
    fast.timing.speed = 2.0;
    fast.timing.last_frame_ms = base.timing.last_frame_ms / 2.0;
    let quick = timeline::resolve(&capture, &fast.timing);
    assert!((span_cs(&quick) as i64 - span_cs(&normal) as i64 / 2).abs() <= 2);

    let mut capped = base.clone();
    capped.timing.fps = 2.0;
    let few = timeline::resolve(&capture, &capped.timing);
    // 57 dumps 222 ms apart over 12.4 s: one frame per 500 ms (25), plus the two frame
    // intervals the animation may run late before dumps share frames (timeline::MAX_LAG_MS).
    assert!(
        few.frames.len() <= 25 + 2 && few.frames.len() < normal.frames.len() / 2,
        "{} frames",
        few.frames.len()
    );
    assert!(few.frames.iter().all(|f| f.delay_cs >= 50));
    // Merging keeps the latest snapshot of each group, so the last snapshot is still shown.
    assert_eq!(
        few.frames.last().unwrap().snap,
        normal.frames.last().unwrap().snap
    );

    let mut once = base.clone();
    once.loop_count = 1;
    let out = dir.join("once.gif");
    render(&capture, &once, &out);
    assert_eq!(decode_gif(&out).repeat, gif::Repeat::Finite(1));

    // A long silent gap is cut to --max-idle.
    let t = format!(
        "{}{}",
        common::dump(
            1000,
            &[common::Area {
                ptr: "20000000",
                blocks: "hh.."
            }],
            Default::default()
        ),
        common::dump(
            61_000,
            &[common::Area {
                ptr: "20000000",
                blocks: "h..."
            }],
            Default::default()
        )
    );
    let (c, _) = common::parse(&t);
    let mut idle = base.clone();
    idle.timing.max_idle_ms = Some(2000.0);
    let s = timeline::resolve(&c, &idle.timing);
    assert_eq!(s.frames[0].delay_cs, 200);
    assert_eq!(
        s.frames[1].elapsed_ms, 60_000,
        "the label keeps the real time"
    );
}

#[test]
fn unchanged_snapshots_become_one_longer_frame() {
    let area = |b: &'static str| {
        [common::Area {
            ptr: "20000000",
            blocks: b,
        }]
    };
    let style = common::Style::default();
    let t = [
        common::dump(0, &area("hh=S...."), style),
        common::dump(500, &area("hh=S...."), style),
        common::dump(1000, &area("hh=S...."), style),
        common::dump(1500, &area("h..S...."), style),
    ]
    .concat();
    let (c, _) = common::parse(&t);
    let s = timeline::resolve(&c, &Default::default());
    assert_eq!(s.frames.len(), 2);
    assert_eq!(s.unchanged, 2);
    assert_eq!(s.frames[0].delay_cs, 150);
    // A new log line makes an otherwise unchanged snapshot its own frame.
    let t2 = t.replacen("@@@ 1000", "INFO:app:tick\n@@@ 1000", 1);
    let (c2, _) = common::parse(&t2);
    assert_eq!(timeline::resolve(&c2, &Default::default()).frames.len(), 3);
}

#[test]
fn every_sample_renders() {
    let dir = scratch("gif_all");
    for name in [
        "frag_small",
        "asyncio_app",
        "mixed_logs",
        "split_heap_coverage",
        "unix32_blocks16",
    ] {
        let capture = load(&format!("samples/{name}.log"));
        let out = dir.join(format!("{name}.gif"));
        let report = render(&capture, &RenderOptions::default(), &out);
        let gif = decode_gif(&out);
        assert_eq!(gif.frames.len(), report.written, "{name}");
        assert!(report.width <= 1300, "{name}: {} px wide", report.width);
        // Each area's label row sits above cells that are not background.
        let layout = memanim::render::Renderer::new(
            &capture,
            &timeline::resolve(&capture, &Default::default()),
            &Default::default(),
        )
        .layout;
        for a in 0..layout.areas(0).len() {
            let (x, y) = layout.cell_origin(0, a, 0);
            assert_ne!(
                gif.frames[0][(y * gif.width + x) as usize],
                palette::ix::BACKGROUND,
                "{name} area {a}"
            );
        }
    }
}

#[test]
fn a_large_heap_fits_on_screen() {
    let capture = load("tests/data/default_heap.log");
    let schedule = timeline::resolve(&capture, &Default::default());
    let exact = memanim::options::StyleOptions {
        exact: true,
        ..Default::default()
    };
    let layout = memanim::render::Renderer::new(&capture, &schedule, &exact).layout;
    assert!(
        layout.width <= 1300 && layout.height <= 1100,
        "{}x{}",
        layout.width,
        layout.height
    );
    assert!(layout.cell >= 2);
    // Exact: every one of the 64,776 blocks has its own cell.
    assert_eq!(layout.blocks_per_cell, 1);
    let last = layout.cell_origin(0, 0, 64_775);
    assert_eq!(layout.block_at(0, last.0, last.1), Some((0, 64_775)));
    // An animation's default: 4 blocks a cell (16,194 cells), each with a gap around it.
    let l = memanim::render::Renderer::new(&capture, &schedule, &Default::default()).layout;
    assert_eq!(l.blocks_per_cell, 4);
    assert_eq!((l.cell, l.cell_h), (4, 3));
    assert!(
        l.width <= 1300 && l.height <= 1100,
        "{}x{}",
        l.width,
        l.height
    );
    let last = l.cell_origin(0, 0, 64_775);
    assert_eq!(l.block_at(0, last.0, last.1), Some((0, 64_772)));
}

#[test]
fn an_8_mib_psram_heap_fits_on_screen_too() {
    use common::{dump, Area, Style};
    // 524,288 blocks of 16 bytes (an ESP32-S3's 8 MiB PSRAM heap): exact, 1024 columns of 1 px.
    let blocks = common::pattern(524_288, 3);
    let area = Area {
        ptr: "3f800000",
        blocks: &blocks,
    };
    let (capture, _) = common::parse(&dump(1000, &[area], Style::default()));
    let schedule = timeline::resolve(&capture, &Default::default());
    let exact = memanim::options::StyleOptions {
        exact: true,
        ..Default::default()
    };
    let l = memanim::render::Renderer::new(&capture, &schedule, &exact).layout;
    assert_eq!((l.columns, l.cell, l.cell_h), (1024, 1, 1));
    assert!(
        l.width <= 1300 && l.height <= 1100,
        "{}x{}",
        l.width,
        l.height
    );
    let last = l.cell_origin(0, 0, 524_287);
    assert_eq!(l.block_at(0, last.0, last.1), Some((0, 524_287)));
    // The animation's density view: 32 blocks a cell, cells large enough to read.
    let l = memanim::render::Renderer::new(&capture, &schedule, &Default::default()).layout;
    assert_eq!(l.blocks_per_cell, 32);
    assert_eq!((l.cell, l.cell_h), (4, 3));
    let last = l.cell_origin(0, 0, 524_287);
    assert_eq!(l.block_at(0, last.0, last.1), Some((0, 524_256)));
}

#[test]
fn the_density_view_colours_a_cell_by_what_fills_it() {
    use common::{dump, Area, Style};
    // About 32,768 blocks: 2 a cell. The first cells: a list of 2 blocks (full), a str and a
    // free block (pale), two free blocks, a bytearray of 3 blocks (full), its last tail and a
    // dict head (one each: the tie goes to the lower colour index); then tuples and free runs.
    let start = "L=S...A==D";
    let rest: String = "T=..".repeat((32_768 - start.len()) / 4);
    let blocks = format!("{start}{rest}");
    let mut later = blocks.clone().into_bytes();
    later[4] = b'A'; // a new bytearray in the third cell
    later[0] = b'.'; // the list freed in the first: now a free block and a lone tail
    later[1] = b'.';
    let later = String::from_utf8(later).unwrap();
    let text = [&blocks, &later]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            dump(
                1000 + i as u64 * 100,
                &[Area {
                    ptr: "20000000",
                    blocks: b,
                }],
                Style::default(),
            )
        })
        .collect::<String>();
    let (capture, _) = common::parse(&text);
    let dir = common::scratch("density");
    let out = dir.join("d.gif");
    memanim::render(
        &capture,
        &Default::default(),
        &memanim::Output::Gif(memanim::Target::File(out.clone())),
        &|_, _| {},
    )
    .unwrap();
    let gif = common::decode_gif(&out);
    let schedule = timeline::resolve(&capture, &Default::default());
    let l = memanim::render::Renderer::new(&capture, &schedule, &Default::default()).layout;
    assert_eq!(l.blocks_per_cell, 2);
    let at = |frame: usize, cell: usize| {
        let (x, y) = l.cell_origin(0, 0, cell * 2);
        gif.frames[frame][(y * gif.width + x) as usize]
    };
    let head = |k| palette::head_index(k);
    assert_eq!(at(0, 0), head(BlockKind::List), "full: the kind's colour");
    assert_eq!(
        at(0, 1),
        palette::tail_index(BlockKind::Str),
        "half free: pale"
    );
    assert_eq!(at(0, 2), palette::ix::FREE);
    assert_eq!(at(0, 3), head(BlockKind::Array));
    let tie = head(BlockKind::Array).min(head(BlockKind::Dict));
    assert_eq!(at(0, 4), tie);
    assert_eq!(at(0, 5), head(BlockKind::Tuple));
    // The second frame: the third cell holds a new bytearray (pale: one block of two) and is
    // marked new along its bottom; the first was freed.
    assert_eq!(at(1, 2), palette::tail_index(BlockKind::Array));
    let bottom = |frame: usize, cell: usize| {
        let (x, y) = l.cell_origin(0, 0, cell * 2);
        let (_, fill_h) = l.cell_fill();
        gif.frames[frame][((y + fill_h - 1) * gif.width + x) as usize]
    };
    assert_eq!(bottom(1, 2), palette::ix::ALLOCATED);
    assert_eq!(bottom(1, 0), palette::ix::FREED);
    assert_eq!(bottom(1, 5), head(BlockKind::Tuple), "unchanged: no mark");
    // A still of the same capture is exact.
    let still = dir.join("s.png");
    let report = memanim::render(
        &capture,
        &memanim::RenderOptions {
            selection: timeline::Selection {
                at: Some(memanim::units::TimePoint::Snapshot(1)),
                ..Default::default()
            },
            ..Default::default()
        },
        &memanim::Output::Still(still, memanim::encode::StillFormat::Png),
        &|_, _| {},
    )
    .unwrap();
    assert!(report.width != gif.width || report.height != gif.height);
}

#[test]
fn default_cells_are_bricks_and_the_status_sits_under_the_map() {
    for path in ["tests/data/long_run.log", "samples/split_heap_coverage.log"] {
        let capture = load(path);
        let schedule = timeline::resolve(&capture, &Default::default());
        let l = memanim::render::Renderer::new(&capture, &schedule, &Default::default()).layout;
        // A small heap gets the widest automatic cell, half as tall.
        assert_eq!((l.cell, l.cell_h), (8, 4), "{path}");
        // Everything that changes every frame is below the map and within the map's columns.
        let map_bottom = l
            .areas(0)
            .iter()
            .map(|a| a.y + a.rows * l.cell_h)
            .max()
            .unwrap();
        let map_right = l.map_x + l.columns * l.cell;
        assert!(l.status_y >= map_bottom, "{path}");
        let (sx, sy, sw, _) = l.strip.unwrap();
        assert!(
            sy > l.status_y && sx >= l.map_x && sx + sw <= map_right,
            "{path}"
        );
        assert!(
            l.title_y < l.legend_y && l.legend_y < l.areas(0)[0].label_y,
            "{path}"
        );
    }
}

#[test]
fn a_failed_render_leaves_no_file_and_keeps_an_existing_one() {
    let capture = load("samples/mixed_logs.log");
    let dir = scratch("gif_atomic");
    let missing = dir.join("no/such/dir/heap.gif");
    let e = memanim::render(
        &capture,
        &RenderOptions::default(),
        &Output::Gif(memanim::Target::File(missing.clone())),
        &|_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert!(!missing.exists());
    // An existing output survives a failure, and no temporary file is left behind.
    let existing = dir.join("keep.gif");
    std::fs::write(&existing, b"old").unwrap();
    let mut opts = RenderOptions::default();
    opts.style.cell = Some(memanim::options::CellSize::square(64));
    opts.style.columns = Some(4096);
    assert!(memanim::render(
        &capture,
        &opts,
        &Output::Gif(memanim::Target::File(existing.clone())),
        &|_, _| {}
    )
    .is_err());
    assert_eq!(std::fs::read(&existing).unwrap(), b"old");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn the_timeline_strip_has_a_cursor_that_follows_the_frames() {
    let capture = load("samples/unix32_blocks16.log");
    let dir = scratch("gif_strip");
    let out = dir.join("s.gif");
    let opts = RenderOptions::default();
    render(&capture, &opts, &out);
    let gif = decode_gif(&out);
    let schedule = timeline::resolve(&capture, &opts.timing);
    let layout = memanim::render::Renderer::new(&capture, &schedule, &opts.style).layout;
    let (sx, sy, sw, sh) = layout.strip.expect("the strip is on by default");
    let white = palette::rgb()[palette::ix::ALLOCATED as usize];
    // The cursor is a small triangle under the strip, its tip one pixel wide.
    let cursor = |k: usize| -> Vec<u32> {
        (sx..sx + sw)
            .filter(|&x| gif.rgb(k, x, sy + sh + 1) == white)
            .collect()
    };
    let n = gif.frames.len();
    for k in [0, n / 2, n - 1] {
        assert_eq!(cursor(k).len(), 1, "frame {k}: one tip");
    }
    let xs: Vec<u32> = [0, n / 2, n - 1].iter().map(|&k| cursor(k)[0]).collect();
    assert_eq!(xs[0], sx, "the first frame's cursor is at the left edge");
    // The last frame has a share of the strip as wide as an average frame's, ending at the
    // right edge; its cursor is where that share begins.
    let share = sw / n as u32;
    assert!(
        xs[2] < sx + sw - 1 && xs[2] + share + 2 >= sx + sw - 1,
        "the last frame's cursor starts the last share: {} of {}..{}",
        xs[2],
        sx,
        sx + sw
    );
    assert!(xs[0] < xs[1] && xs[1] < xs[2], "{xs:?}");
    // Away from the cursor, a column holds the filled 'used' colour and the largest-free line.
    let used = palette::rgb()[palette::tail_index(memanim::heap::BlockKind::Head) as usize];
    let line = palette::rgb()[palette::head_index(memanim::heap::BlockKind::Str) as usize];
    let column: Vec<[u8; 3]> = (sy..sy + sh)
        .map(|y| gif.rgb(n / 2, sx + sw / 4, y))
        .collect();
    assert!(
        column.contains(&used) && column.contains(&line),
        "{column:?}"
    );
    // --no-timeline takes it away.
    let mut style = opts.style.clone();
    style.timeline = false;
    let without = memanim::render::Renderer::new(&capture, &schedule, &style).layout;
    assert!(without.strip.is_none() && without.height < layout.height);
}

#[test]
fn frames_drawn_over_the_previous_one_equal_frames_drawn_from_scratch() {
    // A run repaints only the cells, labels, status, strip cursor and log pane that changed; the
    // result must be the frame drawn on a blank canvas, pixel for pixel. Samples cover a split
    // heap with areas coming and going, resets (sessions), cut-off dumps and log lines.
    for path in [
        "samples/split_heap_coverage.log",
        "samples/mixed_logs.log",
        "samples/asyncio_app.log",
        "tests/data/v1_19_five_digit.log",
    ] {
        let capture = load(path);
        for colour in [
            memanim::options::ColorBy::Kind,
            memanim::options::ColorBy::Age,
        ] {
            let style = memanim::options::StyleOptions {
                color: colour,
                ..Default::default()
            };
            let schedule = timeline::resolve(&capture, &Default::default());
            let r = memanim::render::Renderer::new(&capture, &schedule, &style);
            let all: Vec<usize> = (0..schedule.frames.len()).collect();
            let mut tracker = r.age_tracker();
            let ages: Vec<_> = all
                .iter()
                .map(|&n| tracker.as_mut().map(|t| r.observe(t, n)))
                .collect();
            // One run over every frame, and a run starting in the middle.
            let run = r.render_run(&all, &ages);
            let mid = all.len() / 2;
            let tail = r.render_run(&all[mid..], &ages[mid..]);
            let step = if colour == memanim::options::ColorBy::Age {
                7
            } else {
                1
            };
            for n in (0..all.len()).step_by(step) {
                let alone = r.render(n);
                assert!(
                    run[n] == alone,
                    "{path} {colour:?}: frame {n} differs when drawn in a run"
                );
                if n >= mid {
                    assert!(
                        tail[n - mid] == alone,
                        "{path} {colour:?}: frame {n}, run from {mid}"
                    );
                }
            }
        }
    }
}

/// A capture of `n` dumps 200 ms apart of one area, dump `i` holding `blocks(i)`.
fn dumps_every_200ms(n: u64, blocks: impl Fn(u64) -> String) -> memanim::Capture {
    let mut text = String::new();
    for i in 0..n {
        let b = blocks(i);
        let area = common::Area {
            ptr: "0x20000000",
            blocks: &b,
        };
        text.push_str(&common::dump(1000 + i * 200, &[area], Default::default()));
    }
    common::parse(&text).0
}

#[test]
fn color_age_paints_long_lived_objects_as_old_and_new_ones_as_young() {
    // A str that stays from the first dump; a list that appears at the 30th; a tuple that is
    // replaced by a new tuple of another length at the 50th.
    let capture = dumps_every_200ms(60, |i| {
        let list = if i >= 30 { "L==" } else { "..." };
        let tuple = if i >= 50 { "T===" } else { "T=.." };
        format!("S={list}.{tuple}{}", ".".repeat(54))
    });
    let dir = scratch("gif_age");
    let out = dir.join("age.gif");
    let mut opts = RenderOptions::default();
    opts.style.color = memanim::options::ColorBy::Age;
    render(&capture, &opts, &out);
    let gif = decode_gif(&out);
    let schedule = timeline::resolve(&capture, &opts.timing);
    let r = memanim::render::Renderer::new(&capture, &schedule, &opts.style);
    let l = &r.layout;
    let pal = palette::rgb();
    let last = gif.frames.len() - 1;
    let at = |frame: usize, block: usize| {
        let (x, y) = l.cell_origin(0, 0, block);
        gif.rgb(frame, x, y)
    };
    // The class of an age, as the legend's bounds say.
    let class = |ms: u32| r.age_bounds.iter().filter(|&&b| ms >= b).count() as u8;
    // Dumps that look the same are one frame, so ages are counted between the frames' times:
    // the str is as old as the capture, the list as old as the first frame that has it, the new
    // tuple as old as the first frame with the longer tuple.
    let t = |dump: usize| {
        schedule
            .frames
            .iter()
            .find(|f| f.snap.index >= dump)
            .unwrap()
            .elapsed_ms as u32
    };
    let now = schedule.frames[last].elapsed_ms as u32;
    let (str_age, list_age, tuple_age) = (now, now - t(30), now - t(50));
    for (block, tail, age) in [
        (0, false, str_age),
        (1, true, str_age),
        (2, false, list_age),
        (6, false, tuple_age),
    ] {
        let c = class(age);
        let want = if tail {
            palette::age_tail_index(c)
        } else {
            palette::age_head_index(c)
        };
        assert_eq!(
            at(last, block),
            pal[want as usize],
            "block {block}, {age} ms old"
        );
    }
    assert!(
        class(str_age) > class(list_age) && class(list_age) >= class(tuple_age),
        "{str_age} {list_age} {tuple_age} ms, bounds {:?}",
        r.age_bounds
    );
    // Frame 0: everything is new; free blocks keep the free colour.
    assert_eq!(at(0, 0), pal[palette::age_head_index(0) as usize]);
    assert_eq!(at(0, 3), pal[palette::ix::FREE as usize]);
    // The legend names the classes.
    assert!(r.age_bounds.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn ages_count_the_dumps_that_fps_merging_leaves_out() {
    // A dump every 200 ms; a list appears at dump 30 (6 s after the first) and stays. Something
    // changes in every dump, so no two dumps merge as unchanged.
    let capture = dumps_every_200ms(60, |i| {
        let list = if i >= 30 { "L==" } else { "..." };
        let churn = if i % 2 == 0 { "h." } else { ".h" };
        format!("S={list}{churn}{}", ".".repeat(57))
    });
    let mut opts = RenderOptions::default();
    opts.style.color = memanim::options::ColorBy::Age;
    opts.timing.fps = 1.0; // about five dumps per frame
    let schedule = timeline::resolve(&capture, &opts.timing);
    let r = memanim::render::Renderer::new(&capture, &schedule, &opts.style);
    let mut tracker = r.age_tracker().unwrap();
    let born = 30 * 200; // elapsed time of dump 30
    let mut checked = 0;
    for n in 0..schedule.frames.len() {
        let ages = r.observe_ages(&mut tracker, n);
        let f = &schedule.frames[n];
        let age = |block: usize| ages[0].1[block].map(i64::from);
        if f.snap.index >= 30 {
            // The list's age is counted from the dump it appeared in, not from the first
            // frame that shows it.
            assert_eq!(age(2), Some(f.elapsed_ms - born), "frame {n}");
            checked += 1;
        }
        // The str has been there since the first dump.
        assert_eq!(age(0), Some(f.elapsed_ms), "frame {n}");
    }
    assert!(
        checked >= 5 && schedule.frames.len() < 20,
        "{checked} of {}",
        schedule.frames.len()
    );
    // The first frame that shows the list comes after it appeared: its age is not 0.
    let first = schedule.frames.iter().find(|f| f.snap.index >= 30).unwrap();
    assert!(
        first.elapsed_ms > born,
        "fps merging skipped the dump the list appeared in"
    );
}
