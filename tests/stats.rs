//! `memanim stats`: figures against hand-computed values and the dumps' own GC lines, and the leak
//! verdict on real MicroPython apps that leak and that do not.

mod common;

use memanim::analysis::stats::{compute, KINDS};

#[test]
fn figures_match_hand_computed_values() {
    // 12 blocks of 16 B: h= S . . L . . . D = = (plus one free row of padding is not printed).
    let area = [common::Area {
        ptr: "20000000",
        blocks: "h=S..L...D==",
    }];
    let t = common::dump(1000, &area, Default::default());
    let (c, w) = common::parse(&t);
    assert!(w.is_empty());
    let s = compute(&c, None);
    let rows: Vec<_> = s.rows(&c).collect();
    let r = &rows[0];
    assert_eq!((r.used, r.free), (Some(7 * 16), Some(5 * 16)));
    assert_eq!(r.free_runs, Some(2));
    assert_eq!(r.largest_free, Some(3 * 16));
    assert!((r.fragmentation.unwrap() - 0.4).abs() < 1e-9);
    let kind = |name: &str| r.kinds.unwrap()[KINDS.iter().position(|k| k.name() == name).unwrap()];
    assert_eq!(kind("object"), (1, 32));
    assert_eq!(kind("str/bytes"), (1, 16));
    assert_eq!(kind("list"), (1, 16));
    assert_eq!(kind("dict"), (1, 48));
    assert_eq!(s.peak_used, Some((112, 0.0, 1)));
}

#[test]
fn a_dump_without_its_table_is_read_from_its_gc_line() {
    // The second dump printed only its summary lines: its row comes from the GC line, and the
    // largest free block from `max free sz` times the block size the first dump showed (32 B).
    let style = common::Style {
        block_size: 32,
        ..Default::default()
    };
    let one = |blocks: &str, table: bool| {
        let area = [common::Area {
            ptr: "20000000",
            blocks,
        }];
        common::dump(1000, &area, common::Style { table, ..style })
    };
    let t = format!(
        "{}{}",
        one("h=S..L...D==", true),
        one("h=SSSL....==", false).replace("@@@ 1000", "@@@ 1500")
    );
    let (c, w) = common::parse(&t);
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = compute(&c, None);
    let rows: Vec<_> = s.rows(&c).collect();
    let r = &rows[1];
    assert_eq!(
        (r.used, r.free, r.largest_free),
        (Some(8 * 32), Some(4 * 32), Some(4 * 32))
    );
    assert!(r.fragmentation.unwrap().abs() < 1e-9);
    assert_eq!(s.peak_used, Some((256, 0.5, 8)));
}

#[test]
fn rows_agree_with_the_gc_lines_of_every_sample() {
    for name in ["frag_small", "split_heap_coverage", "unix32_blocks16"] {
        let c = common::load(&format!("samples/{name}.log"));
        let s = compute(&c, None);
        let rows: Vec<_> = s.rows(&c).collect();
        assert_eq!(rows.len(), c.snapshot_count());
        for (row, (_, snap)) in rows.iter().zip(c.metas()) {
            let g = snap.gc.unwrap();
            assert_eq!(
                (row.used, row.free),
                (Some(g.used), Some(g.free)),
                "{name} line {}",
                row.line
            );
            // The kinds add up to the used bytes.
            assert_eq!(
                Some(row.kinds.unwrap().iter().map(|k| k.1).sum::<u64>()),
                row.used,
                "{name} line {}",
                row.line
            );
        }
    }
}

#[test]
fn every_samples_rows_and_csv_json_have_the_table() {
    let c = common::load("tests/data/long_run.log");
    let all = compute(&c, None);
    let ten = compute(&c, Some(10.0));
    // 55 s: rows at 0, 10, 20, 30, 40, 50 s.
    let rows: Vec<_> = ten.rows(&c).collect();
    assert_eq!(
        rows.len(),
        6,
        "{:?}",
        rows.iter().map(|r| r.t_s).collect::<Vec<_>>()
    );
    assert!(rows.windows(2).all(|w| w[1].t_s - w[0].t_s >= 9.0));
    let csv = all.to_csv(&c);
    assert_eq!(csv.lines().count(), c.snapshot_count() + 1);
    assert!(csv.starts_with(
        "session,line,time_s,used,free,largest_free,fragmentation,free_runs,object_objects"
    ));
    let json = ten.to_json(&c);
    assert!(json.starts_with("{\"rows\":[") && json.contains("\"leak\":{"));
}

#[test]
fn a_leaking_app_is_reported_and_a_steady_one_is_not() {
    let Some(mp) = common::micropython("the leak test") else {
        return;
    };
    let run = |mode: &str| {
        let out = common::run_device_script(&mp, "128K", "leak_app.py", &[mode]);
        let (c, _) = common::parse(&out);
        let stats = compute(&c, None);
        // The chart draws the fitted line when, and only when, the verdict is a leak.
        let svg = common::scratch(&format!("leak_plot_{mode}")).join("p.svg");
        let mut named = c.clone();
        named.source = mode.to_string();
        memanim::analysis::plot::write_plot(&stats, &named, &svg, &Default::default()).unwrap();
        let has_line = std::fs::read_to_string(&svg).unwrap().contains("leak: +");
        let leak = stats.leak.expect("enough snapshots");
        assert_eq!(has_line, leak.is_leak(), "{mode}");
        leak
    };
    let leak = run("leak");
    assert!(leak.is_leak(), "{}", leak.verdict());
    assert!(leak.slope_per_min > 100_000.0, "{}", leak.verdict());
    // The fitted line rises by the slope over the span it covers.
    let [(t0, b0), (t1, b1)] = leak.line;
    let expected = leak.slope_per_min * (t1 - t0) / 60.0;
    assert!(
        t1 > t0 && ((b1 - b0) - expected).abs() < 1.0,
        "{:?}",
        leak.line
    );
    let steady = run("steady");
    assert!(!steady.is_leak(), "{}", steady.verdict());
    // A healthy app reads healthy: no growth rate quoted as if it were a leak.
    let v = steady.verdict();
    assert!(v.starts_with("no leak: "), "{v}");
    assert!(!v.contains("/min") || v.contains("shrinks"), "{v}");
}

#[test]
fn diff_marks_and_counts_what_changed_between_two_snapshots() {
    use memanim::heap::BlockKind;
    use memanim::render::palette;
    // A str at block 2 is freed; a tuple of 2 blocks appears at block 7; the rest stays.
    let style = common::Style::default();
    let a = [common::Area {
        ptr: "20000000",
        blocks: "h=S..L...D==",
    }];
    let b = [common::Area {
        ptr: "20000000",
        blocks: "h=...L.T=D==",
    }];
    let t = format!(
        "{}{}",
        common::dump(1000, &a, style),
        common::dump(2000, &b, style)
    );
    let (c, _) = common::parse(&t);
    let (sa, sb) = (
        c.sessions[0].snapshots.get(0),
        c.sessions[0].snapshots.get(1),
    );
    let changes = memanim::analysis::diff::summarize(&sa, &sb);
    let of = |k: BlockKind| changes.iter().find(|x| x.0 == k).unwrap().1;
    assert_eq!(
        (
            of(BlockKind::Tuple).allocated,
            of(BlockKind::Tuple).allocated_bytes
        ),
        (1, 32)
    );
    assert_eq!(
        (of(BlockKind::Str).freed, of(BlockKind::Str).freed_bytes),
        (1, 16)
    );
    for k in [BlockKind::Head, BlockKind::List, BlockKind::Dict] {
        assert_eq!(of(k), Default::default(), "{k:?} did not change");
    }
    // The image: both snapshots side by side; on the right, the freed and the new blocks carry
    // their marks along the bottom of the cell.
    let dir = common::scratch("diff");
    let out = dir.join("d.png");
    let schedule = memanim::timeline::resolve(&c, &Default::default());
    let text = memanim::analysis::diff::write_diff(&c, &schedule, 0, 1, &Default::default(), &out)
        .unwrap();
    assert!(text.contains("total") && text.contains("tuple"), "{text}");
    let img = image::open(&out).unwrap().to_rgb8();
    let style = memanim::options::StyleOptions {
        timeline: false,
        ..Default::default()
    };
    let layout = memanim::render::Renderer::new(&c, &schedule, &style).layout;
    assert_eq!(img.width(), 2 * layout.width + 8);
    let pal = palette::rgb();
    let bottom = |i: usize| {
        let (x, y) = layout.cell_origin(0, 0, i);
        img.get_pixel(layout.width + 8 + x, y + layout.cell_h - 2).0
    };
    assert_eq!(bottom(2), pal[palette::ix::FREED as usize]);
    assert_eq!(bottom(7), pal[palette::ix::ALLOCATED as usize]);
    assert_ne!(
        bottom(5),
        pal[palette::ix::ALLOCATED as usize],
        "the list did not change"
    );
    // The left half is the first snapshot: no marks.
    let (x, y) = layout.cell_origin(0, 0, 2);
    assert_eq!(
        img.get_pixel(x, y).0,
        pal[palette::head_index(BlockKind::Str) as usize]
    );
}
