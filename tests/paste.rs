//! Dumps as people paste them: without the @@@ markers, with a terminal's or a probe's prefix on
//! every line, only the table or only the figures, an ESP32 split heap, a `Frag:` histogram, a
//! paste cut off mid-row, a capture across a reset, marked and pasted dumps mixed. One fixture a
//! variant, in tests/paste/ (real unix-port output; tests/paste/make_fixtures.py made them).
//!
//! Expected figures are read from the fixture's own text (its GC lines, its rows) by the small
//! readers below, never written into the test: what memanim reports must be what the dump says.

mod common;

use memanim::heap::{BlockKind, Snapshot};
use memanim::render::{palette, Renderer};
use memanim::{timeline, Capture, WarningKind as W};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/paste/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> (Capture, memanim::Warnings) {
    let text = fixture(name);
    memanim::parse(text.as_bytes(), name, &Default::default()).expect("the paste has dumps")
}

fn snapshots(c: &Capture) -> Vec<Snapshot> {
    c.snapshots().map(|(_, s)| s).collect()
}

/// `(total, used, free)` of every `GC:` line in the text, in order, wherever it sits in a line.
fn gc_lines(text: &str) -> Vec<(u64, u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let at = l.find("GC: total: ")?;
            let nums: Vec<u64> = l[at + 4..]
                .split(',')
                .take(3)
                .map(|f| f.rsplit(' ').next().unwrap().trim().parse().unwrap())
                .collect();
            Some((nums[0], nums[1], nums[2]))
        })
        .collect()
}

/// `max free sz` of every ` No. of` line, in blocks.
fn max_free(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| {
            let at = l.find("max free sz: ")?;
            Some(l[at + 13..].trim().parse().unwrap())
        })
        .collect()
}

/// Every table in the text, as its block characters: a `GC memory layout` header starts a table
/// (an area), rows are `<hex>: <blocks>` anywhere in a line, a free-lines marker is 64 dots a line.
/// A table without a header starts at its first row after other text.
fn tables(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for l in text.lines() {
        if l.contains("GC memory layout; from ") {
            out.push(String::new());
            open = true;
            continue;
        }
        if let Some(at) = l.find("lines all free)") {
            let n: usize = l[..at].rsplit('(').next().unwrap().trim().parse().unwrap();
            out.last_mut().unwrap().push_str(&".".repeat(64 * n));
            continue;
        }
        let row = l.split_once(": ").filter(|(head, body)| {
            let hex = head.rsplit(' ').next().unwrap();
            (hex.len() == 8 || hex.len() == 5)
                && hex.chars().all(|c| c.is_ascii_hexdigit())
                && !body.is_empty()
                && body.trim_end().chars().all(|c| ".=hTLDSAFBMm".contains(c))
        });
        match row {
            Some((_, body)) => {
                if !open {
                    out.push(String::new());
                    open = true;
                }
                out.last_mut().unwrap().push_str(body.trim_end());
            }
            None if !l.trim().is_empty() && !l.contains("GC") && !l.contains("No. of") => {
                open = false
            }
            None => {}
        }
    }
    out
}

fn chars(s: &Snapshot) -> Vec<String> {
    s.areas.iter().map(common::chars).collect()
}

/// Heads of each kind in a string of block characters.
fn heads(blocks: &str, kind: char) -> usize {
    blocks.chars().filter(|&c| c == kind).count()
}

/// Each snapshot's used and free equal its GC line, and its largest free block `max free sz`
/// times the block size, as every command reports them.
fn figures_match_gc_lines(c: &Capture, text: &str, block_size: u64) {
    let snaps = snapshots(c);
    let gc = gc_lines(text);
    let mf = max_free(text);
    assert_eq!(snaps.len(), gc.len(), "one snapshot per GC line");
    for (i, s) in snaps.iter().enumerate() {
        // The ` No. of` line was read, not lost to a prefix.
        assert_eq!(s.gc.unwrap().max_free, Some(mf[i]), "snapshot {}", i + 1);
        let f = s.figures(block_size).expect("a GC line gives figures");
        assert_eq!((f.total, f.used, f.free), gc[i], "snapshot {}", i + 1);
        assert_eq!(
            f.largest_free,
            Some(mf[i] * block_size),
            "snapshot {}",
            i + 1
        );
    }
    // info and stats say the same for every snapshot.
    let stats = memanim::analysis::stats::compute(c, None);
    for (row, g) in stats.rows(c).zip(&gc) {
        assert_eq!(
            (row.used, row.free),
            (Some(g.1), Some(g.2)),
            "stats line {}",
            row.line
        );
    }
    let info = memanim::analysis::info::summarize(c, &Default::default());
    let used: Vec<Option<u64>> = gc.iter().map(|g| Some(g.1)).collect();
    assert_eq!(info.used_series, used);
}

/// Renders snapshot `n` (1-based) of the fixture to a still with the binary, and checks the colour
/// at the centre of every 7th cell against the block's kind.
fn still_shows_blocks(name: &str, n: usize) {
    let dir = common::scratch(&format!("paste_{name}_{n}"));
    let out = dir.join("still.png");
    let path = format!("tests/paste/{name}");
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            &path,
            "--frame",
            &n.to_string(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    let (c, _) = read(name);
    let schedule = timeline::resolve(&c, &Default::default());
    let spec = &schedule.frames[n - 1];
    let snap = c.sessions[spec.snap.session].snapshots.get(spec.snap.index);
    let layout = Renderer::new(&c, &schedule, &Default::default()).layout;
    let img = image::open(&out).unwrap().to_rgb8();
    let pal = palette::rgb();
    let slots = layout.areas(spec.snap.session);
    let mut checked = 0;
    for area in &snap.areas {
        let a = slots.iter().position(|s| s.ptr == area.ptr).unwrap();
        let mut head = BlockKind::Free;
        for (i, &k) in area.blocks.iter().enumerate() {
            if k != BlockKind::Tail {
                head = k;
            }
            if i % 7 != 0 || k == BlockKind::Missing {
                continue;
            }
            let want = match k {
                BlockKind::Tail => palette::tail_index(head),
                k => palette::head_index(k),
            };
            let (x, y) = layout.cell_origin(spec.snap.session, a, i);
            let p = img
                .get_pixel(x + layout.cell / 2 - 1, y + layout.cell_h / 2 - 1)
                .0;
            assert_eq!(
                p, pal[want as usize],
                "{name} snapshot {n} block {i} ({k:?})"
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "{name}: only {checked} cells checked");
}

#[test]
fn a_repl_session_with_prompts_banner_and_memory_error() {
    let text = fixture("repl_session.txt");
    let (c, w) = read("repl_session.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    // mem_info(), then mem_info(1) twice: three snapshots; the first has no table.
    let s = snapshots(&c);
    assert_eq!(s.len(), 3);
    assert!(s[0].areas.is_empty() && s[0].gc.is_some());
    assert_eq!(chars(&s[1]), vec![tables(&text)[0].clone()]);
    assert_eq!(chars(&s[2]), vec![tables(&text)[1].clone()]);
    // Blocks per kind, counted in the paste's own rows.
    let t = &tables(&text)[0];
    let count = |k: BlockKind| s[1].areas[0].blocks.iter().filter(|&&b| b == k).count();
    assert_eq!(count(BlockKind::Array), heads(t, 'A'));
    assert_eq!(count(BlockKind::Head), heads(t, 'h'));
    assert_eq!(count(BlockKind::Tail), heads(t, '='));
    assert_eq!(count(BlockKind::Free), heads(t, '.'));
    // No time: spaced by the default 1 s, shown by number.
    assert!(s.iter().all(|x| !x.timed));
    assert_eq!(
        s.iter().map(|x| x.time_ms).collect::<Vec<_>>(),
        [0, 1000, 2000]
    );
    figures_match_gc_lines(&c, &text, 32);
    // The REPL's lines are log lines with their text.
    let logs: Vec<String> = c.sessions[0]
        .logs
        .iter()
        .map(|l| l.text.trim_end().to_string())
        .collect();
    assert!(logs.iter().any(|l| l == ">>> gc.mem_free()"));
    assert!(logs
        .iter()
        .any(|l| l.starts_with("MemoryError: memory allocation failed")));
    assert_eq!(
        c.sessions.len(),
        1,
        "the banner before the first dump is no reset"
    );
    still_shows_blocks("repl_session.txt", 3);
}

#[test]
fn every_spaces_dumps_without_a_time_and_frames_show_their_number() {
    // --every sets the spacing of snapshots without a time.
    let dir = common::scratch("paste_every");
    let out = dir.join("repl.gif");
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tests/paste/repl_session.txt",
            "--every",
            "2s",
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    let gif = common::decode_gif(&out);
    assert_eq!(gif.frames.len(), 3);
    assert_eq!(&gif.delays[..2], &[200, 200], "2 s apart");
    let opts = memanim::ParseOptions {
        untimed_every_ms: 2000,
        ..Default::default()
    };
    let text = fixture("repl_session.txt");
    let (c, _) = memanim::parse(text.as_bytes(), "r", &opts).unwrap();
    assert_eq!(
        snapshots(&c).iter().map(|s| s.time_ms).collect::<Vec<_>>(),
        [0, 2000, 4000]
    );
    // The status line names the snapshot and its line, not a made-up time.
    let schedule = timeline::resolve(&c, &Default::default());
    let r = Renderer::new(&c, &schedule, &Default::default());
    let snap = c.sessions[0].snapshots.get(1);
    let status = r.status(&schedule.frames[1], &snap);
    assert_eq!(status[0], format!("snapshot 2/3  line {}", snap.line));
    assert!(!status.concat().contains(" s  frame"), "{status:?}");
}

#[test]
fn a_single_pasted_dump_renders_as_a_gif_and_a_still() {
    let one: String = fixture("mixed.txt")
        .lines()
        .skip_while(|l| !l.starts_with(">>> micropython"))
        .take_while(|l| !l.starts_with("@@@"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = common::scratch("paste_single");
    let input = dir.join("paste.txt");
    std::fs::write(&input, &one).unwrap();
    for out in ["heap.gif", "still.png"] {
        let out = dir.join(out);
        let mut args = vec![input.to_str().unwrap(), "-o", out.to_str().unwrap()];
        if out.extension().unwrap() == "png" {
            args.extend(["--frame", "1"]);
        }
        let res = std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(0), "{err}");
        assert!(out.metadata().unwrap().len() > 1000);
    }
    assert_eq!(common::decode_gif(&dir.join("heap.gif")).frames.len(), 1);
}

#[test]
fn an_rtt_prefix_is_stripped_and_log_lines_keep_their_text() {
    let text = fixture("rtt_prefix.txt");
    let (c, w) = read("rtt_prefix.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    assert_eq!(s.len(), 2);
    let t = tables(&text);
    assert_eq!(chars(&s[0]), vec![t[0].clone()]);
    assert_eq!(chars(&s[1]), vec![t[1].clone()]);
    figures_match_gc_lines(&c, &text, 32);
    let logs: Vec<String> = c.sessions[0].logs.iter().map(|l| l.text).collect();
    // " 0> " alone is a blank line; the app's lines keep the text the viewer showed.
    assert_eq!(logs, [" 0> app: start", "", " 0> app: tick"]);
    still_shows_blocks("rtt_prefix.txt", 2);
}

#[test]
fn a_serial_monitors_time_stamps_time_the_dumps_across_midnight() {
    let text = fixture("serial_stamps.txt");
    let (c, w) = read("serial_stamps.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    // 23:59:58.100, 23:59:59.600, 00:00:02.100.
    assert_eq!(
        s.iter().map(|x| x.time_ms).collect::<Vec<_>>(),
        [0, 1500, 4000]
    );
    assert!(s.iter().all(|x| x.timed));
    let t = tables(&text);
    for (i, snap) in s.iter().enumerate() {
        assert_eq!(chars(snap), vec![t[i].clone()]);
    }
    figures_match_gc_lines(&c, &text, 32);
    assert!(c.sessions[0]
        .logs
        .iter()
        .any(|l| l.text == "[23:59:58.100] app: step 0 done"));
    // In the GIF the frames are 1.5 s and 2.5 s apart.
    let dir = common::scratch("paste_stamps");
    let out = dir.join("s.gif");
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tests/paste/serial_stamps.txt", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0));
    assert_eq!(&common::decode_gif(&out).delays[..2], &[150, 250]);
}

#[test]
fn the_arduino_monitors_arrow_prefix_is_stripped() {
    let text = fixture("arduino_arrow.txt");
    let (c, w) = read("arduino_arrow.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].time_ms, 1000);
    let t = tables(&text);
    assert_eq!(chars(&s[0]), vec![t[0].clone()]);
    figures_match_gc_lines(&c, &text, 32);
    still_shows_blocks("arduino_arrow.txt", 1);
}

#[test]
fn tables_without_figures_and_rows_without_a_header() {
    let text = fixture("table_only.txt");
    let (c, w) = read("table_only.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    // Rows from the middle of a dump (no header), then a header with its rows (no figures).
    assert_eq!(s.len(), 2);
    let t = tables(&text);
    assert_eq!(t.len(), 2);
    assert_eq!(chars(&s[0]), vec![t[0].clone()]);
    assert_eq!(chars(&s[1]), vec![t[1].clone()]);
    assert!(s.iter().all(|x| x.gc.is_none()));
    // Figures come from the blocks of a whole table.
    let f = s[1].figures(32).unwrap();
    let used = t[1].chars().filter(|&c| c != '.').count() as u64 * 32;
    assert_eq!((f.used, f.total), (used, t[1].len() as u64 * 32));
    assert_eq!(s[1].areas[0].block_size, 32, "read off the row offsets");
    still_shows_blocks("table_only.txt", 2);
}

#[test]
fn figures_without_a_table_count_everywhere_but_cannot_be_drawn() {
    let text = fixture("figures_only.txt");
    let (c, w) = read("figures_only.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    assert_eq!(c.snapshot_count(), 3);
    // 16-byte blocks assumed for `max free sz` (no table says otherwise).
    figures_match_gc_lines(&c, &text, 16);
    let dir = common::scratch("paste_figures");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap()
    };
    let gif = dir.join("f.gif");
    let res = run(&["tests/paste/figures_only.txt", "-o", gif.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert!(err.contains("micropython.mem_info(1)"), "{err}");
    assert!(err.contains("tests/paste/figures_only.txt"), "{err}");
    assert!(!gif.exists());
    // info, stats and plot work.
    let res = run(&["info", "tests/paste/figures_only.txt"]);
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("3 without a layout table"), "{out}");
    let res = run(&["stats", "tests/paste/figures_only.txt", "--csv"]);
    let csv = String::from_utf8_lossy(&res.stdout);
    let used: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    let want: Vec<String> = gc_lines(&text).iter().map(|g| g.1.to_string()).collect();
    assert_eq!(used, want);
    let png = dir.join("p.png");
    let res = run(&[
        "plot",
        "tests/paste/figures_only.txt",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert_eq!(res.status.code(), Some(0));
    assert!(png.exists());
}

#[test]
fn an_esp32_split_heap_with_max_new_split_and_areas_that_come_and_go() {
    let text = fixture("esp32_split.txt");
    let (c, w) = read("esp32_split.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].areas.len(), 2);
    assert_eq!(s[1].areas.len(), 3);
    assert_eq!(s[0].gc.unwrap().max_new_split, Some(4_186_112));
    assert!(s.iter().all(|x| x.block_size() == Some(16)));
    let t = tables(&text);
    assert_eq!(chars(&s[0]), t[..2].to_vec());
    assert_eq!(chars(&s[1]), t[2..].to_vec());
    let count =
        |blocks: &[String], kind: char| blocks.iter().map(|b| heads(b, kind)).sum::<usize>();
    let got = |kind: BlockKind| {
        s[1].areas
            .iter()
            .flat_map(|a| &a.blocks)
            .filter(|&&b| b == kind)
            .count()
    };
    assert_eq!(got(BlockKind::Dict), count(&t[2..], 'D'));
    assert_eq!(got(BlockKind::Float), count(&t[2..], 'F'));
    figures_match_gc_lines(&c, &text, 16);
    // One session, three areas in all.
    assert_eq!(c.sessions[0].areas().len(), 3);
    still_shows_blocks("esp32_split.txt", 2);
}

#[test]
fn a_frag_histogram_instead_of_the_table_keeps_the_figures() {
    let text = fixture("frag_histogram.txt");
    let (c, w) = read("frag_histogram.txt");
    assert_eq!(w.count(W::NoTable), 1);
    assert!(w.kept()[0].message.contains("Frag:"), "{:?}", w.kept());
    let s = snapshots(&c);
    assert_eq!(s.len(), 1);
    assert!(s[0].areas.is_empty());
    assert!(s[0].complete);
    figures_match_gc_lines(&c, &text, 16);
    assert!(c.sessions[0].logs.get(0).text.starts_with("Frag: 1:19"));
}

#[test]
fn a_paste_cut_off_mid_row_in_markdown_fences() {
    let text = fixture("cut_paste.txt");
    let (c, w) = read("cut_paste.txt");
    let s = snapshots(&c);
    assert_eq!(s.len(), 2);
    assert!(s[0].complete);
    assert!(!s[1].complete);
    assert_eq!(w.count(W::DumpCutOff), 1);
    // The rows printed are kept, the rest of the heap is "no data"; the figures are the GC line's.
    let t = tables(&text);
    let printed = &t[1];
    let blocks = &s[1].areas[0].blocks;
    assert_eq!(blocks.len() as u64 * 32, gc_lines(&text)[1].0);
    assert_eq!(common::chars(&s[1].areas[0])[..printed.len()], printed[..]);
    assert!(blocks[printed.len()..]
        .iter()
        .all(|&b| b == BlockKind::Missing));
    figures_match_gc_lines(&c, &text, 32);
    // info and stats say where.
    let info = memanim::analysis::info::summarize(&c, &w);
    assert_eq!(info.sessions[0].cut_off, vec![s[1].line]);
    assert!(info
        .to_text()
        .contains(&format!("cut off: line {}", s[1].line)));
    let stats = memanim::analysis::stats::compute(&c, None);
    assert!(stats.to_text(&c).contains(&format!("line {}", s[1].line)));
    still_shows_blocks("cut_paste.txt", 2);
}

#[test]
fn a_reset_starts_a_session_with_its_own_heap() {
    let text = fixture("resets.txt");
    let (c, w) = read("resets.txt");
    assert_eq!(c.sessions.len(), 2);
    let (a, b) = (&c.sessions[0], &c.sessions[1]);
    assert_eq!((a.snapshots.len(), b.snapshots.len()), (3, 2));
    assert_eq!(b.started_by.as_deref(), Some("MPY: soft reboot"));
    // Each session has its own one area: the second heap is not an area of the first.
    assert_eq!(a.areas().len(), 1);
    assert_eq!(b.areas().len(), 1);
    assert_ne!(a.areas()[0].0, b.areas()[0].0);
    assert_eq!((a.areas()[0].1, b.areas()[0].1), (252, 504));
    // The dump cut off by the reset keeps its GC line's figures in every command.
    let cut = a.snapshots.get(2);
    assert!(!cut.complete);
    assert_eq!(w.count(W::DumpCutOff), 1);
    let gc = gc_lines(&text);
    let f = a.figures(2, 32).unwrap();
    assert_eq!((f.used, f.free), (gc[2].1, gc[2].2));
    assert_eq!(f.largest_free, Some(max_free(&text)[2] * 32));
    figures_match_gc_lines(&c, &text, 32);
    let stats = memanim::analysis::stats::compute(&c, None);
    assert_eq!(stats.sessions.len(), 2);
    assert_eq!(stats.sessions[0].peak_used.unwrap().0, gc[2].1);
    assert_eq!(stats.sessions[1].peak_used.unwrap().0, gc[4].1);
    let info = memanim::analysis::info::summarize(&c, &w);
    assert_eq!(info.sessions[0].peak_used.unwrap().0, gc[2].1);
    assert_eq!(info.sessions[1].areas.len(), 1);
    // Sessions 5 minutes apart by their sync lines: the gap is capped at --max-idle (5 s).
    let times = timeline::snapshot_times(&c, &Default::default());
    assert_eq!(times[3].1 - times[2].1, 5000);
    still_shows_blocks("resets.txt", 4);
}

#[test]
fn a_reset_in_the_gif_a_divider_in_the_strip_and_a_notice() {
    let (c, _) = read("resets.txt");
    let schedule = timeline::resolve(&c, &Default::default());
    let r = Renderer::new(&c, &schedule, &Default::default());
    let l = &r.layout;
    let first_of_second = schedule
        .frames
        .iter()
        .position(|f| f.snap.session == 1)
        .unwrap();
    let frame = r.render(first_of_second);
    let at = |x: u32, y: u32| frame.pixels[(y * frame.width + x) as usize];
    // The notice line has red text; the frame before it has none.
    let y = l
        .notice_y
        .expect("a notice line when the capture has resets");
    let red = |f: &memanim::render::Frame| {
        let warn = palette::ix::TEXT_WARN..palette::ix::TEXT_WARN + palette::ix::SHADES;
        (y..y + r.text.line_height)
            .flat_map(|yy| (0..f.width).map(move |x| (x, yy)))
            .filter(|&(x, yy)| warn.contains(&f.pixels[(yy * f.width + x) as usize]))
            .count()
    };
    assert!(red(&frame) > 50);
    assert_eq!(red(&r.render(first_of_second - 1)), 0);
    // The strip has a red column where the second session begins.
    let (sx, sy, sw, sh) = l.strip.unwrap();
    let columns: Vec<u32> = (sx..sx + sw)
        .filter(|&x| (sy..sy + sh).all(|yy| at(x, yy) == palette::ix::FREED))
        .collect();
    assert_eq!(columns.len(), 1, "one divider");
    // The second session's map has one area (504 blocks), the first session's slot is gone.
    assert_eq!(l.areas(1).len(), 1);
    assert_eq!(l.areas(1)[0].blocks, 504);
    // The notice says which session begins and why.
    assert_eq!(
        r.notice(first_of_second).as_deref(),
        Some("reset: session 2/2 begins at line 34 (MPY: soft reboot)")
    );
    assert_eq!(r.notice(first_of_second - 1), None);
}

#[test]
fn marked_dumps_and_a_pasted_one_in_one_file() {
    let text = fixture("mixed.txt");
    let (c, w) = read("mixed.txt");
    assert!(w.is_empty(), "{:?}", w.kept());
    let s = snapshots(&c);
    assert_eq!(s.len(), 3);
    assert_eq!(
        s.iter().map(|x| x.timed).collect::<Vec<_>>(),
        [true, false, true]
    );
    // The pasted one sits between its neighbours in time; the marked ones keep their ticks.
    assert!(s[0].time_ms <= s[1].time_ms && s[1].time_ms <= s[2].time_ms);
    assert_eq!(s[2].time_ms - s[0].time_ms, 350);
    let t = tables(&text);
    for (i, snap) in s.iter().enumerate() {
        assert_eq!(chars(snap), vec![t[i].clone()]);
    }
    figures_match_gc_lines(&c, &text, 32);
}

#[test]
fn the_readers_of_this_test_agree_with_the_fixtures() {
    // A check on the test's own readers: every fixture's tables have whole rows of its heap.
    let text = fixture("resets.txt");
    let t = tables(&text);
    assert_eq!(t.len(), 5);
    assert_eq!((t[0].len(), t[3].len()), (252, 504));
    assert_eq!(gc_lines(&text).len(), 5);
    assert!(!t[2].is_empty() && t[2].len() < 252, "the cut-off table");
}

#[test]
fn every_on_a_timed_capture_keeps_the_first_snapshot_of_each_interval() {
    let c = common::load("tests/data/long_run.log");
    let timing = memanim::options::TimingOptions {
        every_ms: Some(10_000.0),
        ..Default::default()
    };
    let s = timeline::resolve(&c, &timing);
    // 55 s of dumps: intervals 0-10 s, ..., 50-60 s.
    assert_eq!(s.frames.len(), 6);
    let all = timeline::snapshot_times(&c, &timing);
    for (k, f) in s.frames.iter().enumerate() {
        let first_in_window = all.iter().find(|(_, t)| *t / 10_000 == k as i64).unwrap();
        assert_eq!(f.snap, first_in_window.0, "interval {k}");
    }
    // stats --every picks the same snapshots.
    let stats = memanim::analysis::stats::compute(&c, Some(10.0));
    let lines: Vec<u64> = stats.rows(&c).map(|r| r.line).collect();
    let frames: Vec<u64> = s
        .frames
        .iter()
        .map(|f| c.sessions[f.snap.session].snapshots.meta(f.snap.index).line)
        .collect();
    assert_eq!(lines, frames);
}

/// What a capture says, in a form two readings can be compared by: per snapshot its blocks and
/// its figures, per session its areas.
fn reading(c: &Capture) -> Vec<String> {
    let mut out: Vec<String> = c
        .snapshots()
        .map(|(k, s)| format!("{k} {:?} {:?} {}", chars(&s), s.gc, s.complete))
        .collect();
    out.extend(c.sessions.iter().map(|s| format!("{:?}", s.areas())));
    out
}

#[test]
fn every_way_of_pasting_the_same_dumps_reads_the_same() {
    // cut_paste.txt has everything a prefix can break: ` No. of` (one leading space), free-run
    // markers (seven), a row cut off mid-way. Strip its fences and prefix every line.
    let original: String = fixture("cut_paste.txt")
        .lines()
        .filter(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (want, _) = memanim::parse(original.as_bytes(), "o", &Default::default()).unwrap();
    assert_eq!(want.snapshot_count(), 2);
    let prefixed = |p: &dyn Fn(usize) -> String| -> String {
        original
            .lines()
            .enumerate()
            .map(|(i, l)| format!("{}{l}\n", p(i)))
            .collect()
    };
    let variants: Vec<(&str, String)> = vec![
        (
            "tio stamps",
            prefixed(&|i| format!("[21:04:{:02}.{:03}] ", i / 10, i * 7 % 1000)),
        ),
        (
            "minicom stamps",
            prefixed(&|i| format!("[2026-11-25 21:04:{:02}.123] ", i / 10)),
        ),
        (
            "a time and a space",
            prefixed(&|i| format!("21:04:{:02}.123 ", i / 10)),
        ),
        (
            "arduino arrows",
            prefixed(&|i| format!("21:04:{:02}.123 -> ", i / 10)),
        ),
        ("a level in brackets", prefixed(&|_| "[INFO] ".to_string())),
        ("a level word", prefixed(&|_| "INFO: ".to_string())),
        ("zephyr", prefixed(&|_| "<inf> ".to_string())),
        ("RTT", prefixed(&|_| " 0> ".to_string())),
        ("a markdown code block", prefixed(&|_| "    ".to_string())),
        ("a tab", prefixed(&|_| "\t".to_string())),
        ("a markdown quote", prefixed(&|_| "> ".to_string())),
        ("a nested quote", prefixed(&|_| "> > ".to_string())),
        ("CR line ends", original.replace('\n', "\r")),
        ("CRLF line ends", original.replace('\n', "\r\n")),
    ];
    for (what, text) in variants {
        let (got, w) = memanim::parse(text.as_bytes(), what, &Default::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(reading(&got), reading(&want), "{what}");
        assert_eq!(w.count(W::OutsideDump), 0, "{what}: {:?}", w.kept());
    }
}

#[test]
fn a_noisy_free_run_count_is_corrected_by_the_offsets_and_the_gc_total() {
    // One digit of line noise: (5 lines all free) read as (95 ...).
    let text = fixture("resets.txt");
    let noisy = text.replacen("(5 lines all free)", "(95 lines all free)", 1);
    assert_ne!(noisy, text);
    let (c, w) = memanim::parse(noisy.as_bytes(), "n", &Default::default()).unwrap();
    let (clean, _) = read("resets.txt");
    assert_eq!(reading(&c), reading(&clean));
    assert_eq!(w.count(W::RowRepaired), 1);
    let fix = w.kept().iter().find(|x| x.kind == W::RowRepaired).unwrap();
    assert!(fix.message.contains("read as 5 lines"), "{fix}");
    // The dump stays complete; the heap keeps its size.
    assert_eq!(c.sessions[1].areas()[0].1, 504);
}

#[test]
fn a_hostile_dump_is_skipped_and_the_next_pasted_one_kept() {
    let good = fixture("mixed.txt")
        .lines()
        .skip_while(|l| !l.starts_with(">>> micropython"))
        .skip(1)
        .take_while(|l| !l.starts_with(">>>"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let bad = "GC: total: 8064, used: 0, free: 8064\nGC memory layout; from 20000000:\n       (4294967295 lines all free)\n";
    let (c, w) = memanim::parse(format!("{bad}{good}").as_bytes(), "h", &Default::default())
        .expect("the good dump is read");
    assert_eq!(c.snapshot_count(), 1);
    assert_eq!(w.count(W::DumpDropped), 1);
    // Alone, the hostile dump leaves nothing, and the error says why.
    let e = memanim::parse(bad.as_bytes(), "bad.txt", &Default::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("1 dump was unusable: line 3"), "{msg}");
}

#[test]
fn two_headerless_tables_are_two_snapshots_and_a_fence_on_a_row_is_not_blocks() {
    let t = tables(&fixture("table_only.txt"));
    let rows = |blocks: &str| -> String {
        blocks
            .as_bytes()
            .chunks(64)
            .enumerate()
            .map(|(i, r)| format!("{:08x}: {}\n", i * 0x800, std::str::from_utf8(r).unwrap()))
            .collect()
    };
    let text = format!("{}\n{}```\n", rows(&t[1]), rows(&t[1]).trim_end());
    let (c, w) = memanim::parse(text.as_bytes(), "t", &Default::default()).unwrap();
    assert_eq!(c.snapshot_count(), 2);
    let s = snapshots(&c);
    assert_eq!(chars(&s[0]), vec![t[1].clone()]);
    assert_eq!(chars(&s[1]), vec![t[1].clone()], "the fence is not blocks");
    assert_eq!(w.count(W::UnknownBlockChar), 0);
}

#[test]
fn the_last_frame_shows_what_was_printed_after_the_last_dump() {
    let (c, _) = read("repl_session.txt");
    let schedule = timeline::resolve(&c, &Default::default());
    let last = schedule.frames.last().unwrap();
    let shown: Vec<String> = (0..last.logs_end)
        .map(|i| schedule.log(&c, i).text)
        .collect();
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("MemoryError: memory allocation failed")),
        "{shown:?}"
    );
}

#[test]
fn stats_says_unknown_for_what_a_dump_without_a_table_cannot_say() {
    let (c, _) = read("repl_session.txt");
    let stats = memanim::analysis::stats::compute(&c, None);
    // mem_info() without the 1: figures yes, kinds and free runs no.
    let rows: Vec<_> = stats.rows(&c).collect();
    assert!(rows[0].used.is_some());
    assert_eq!((rows[0].kinds, rows[0].free_runs), (None, None));
    assert!(rows[1].kinds.is_some());
    let csv = stats.to_csv(&c);
    let first = csv.lines().nth(1).unwrap();
    assert!(first.ends_with(",,,,"), "{first}");
    assert!(stats.to_text(&c).lines().nth(1).unwrap().contains("?"));
    // Dumps without a time give no leak rate.
    assert!(stats.leak.is_none());
    assert!(stats.leak_note.unwrap().contains("no time"));
}

#[test]
fn diff_refuses_a_dump_without_a_table_and_compares_only_what_a_cut_off_one_printed() {
    let dir = common::scratch("paste_diff");
    let out = dir.join("d.png");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_memanim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = out.to_str().unwrap();
    let res = run(&[
        "diff",
        "tests/paste/repl_session.txt",
        "--at",
        "#1",
        "--at",
        "#2",
        "-o",
        o,
    ]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(
        err.contains("snapshot #1") && err.contains("no layout table"),
        "{err}"
    );
    assert!(!out.exists());
    let res = run(&[
        "diff",
        "tests/paste/cut_paste.txt",
        "--at",
        "#1",
        "--at",
        "#2",
        "-o",
        o,
    ]);
    let text = String::from_utf8_lossy(&res.stdout);
    assert_eq!(res.status.code(), Some(0), "{text}");
    assert!(text.contains("compared its first"), "{text}");
    // Blocks never printed are not counted as freed: only what both show differs.
    let (c, _) = read("cut_paste.txt");
    let s = snapshots(&c);
    let printed = tables(&fixture("cut_paste.txt"))[1].len();
    let changes = memanim::analysis::diff::summarize(&s[0], &s[1]);
    let freed: u64 = changes.iter().map(|(_, ch)| ch.freed).sum();
    let heads_gone = s[0].areas[0].blocks[..printed]
        .iter()
        .zip(&s[1].areas[0].blocks[..printed])
        .filter(|(a, b)| a.is_head() && a != b)
        .count() as u64;
    assert!(
        freed <= heads_gone + 1,
        "{freed} freed, {heads_gone} heads changed"
    );
}

#[test]
fn info_and_stats_give_the_same_times() {
    let (c, w) = read("resets.txt");
    let info = memanim::analysis::info::summarize(&c, &w);
    let stats = memanim::analysis::stats::compute(&c, None);
    for (i, s) in info.sessions.iter().enumerate() {
        let (b, _, _, t, line) = s.peak_used.unwrap();
        let st = stats.sessions[i].peak_used.unwrap();
        assert_eq!((b, t as f64 / 1000.0, line), st, "session {}", i + 1);
    }
}

#[test]
fn a_paste_without_its_last_line_break_keeps_its_last_line() {
    // Copying from a terminal often drops the final newline: the last row is still a row. (Only
    // a marked dump cut at the end of a live file leaves its unfinished last line out.)
    for name in ["table_only.txt", "repl_session.txt", "figures_only.txt"] {
        let text = fixture(name);
        let trimmed = text.trim_end_matches(['\n', '\r']);
        let parse = |t: &str| {
            memanim::parse(t.as_bytes(), name, &Default::default())
                .unwrap()
                .0
        };
        let (whole, cut) = (parse(&text), parse(trimmed));
        assert_eq!(snapshots(&cut), snapshots(&whole), "{name}");
        assert_eq!(cut.log_count(), whole.log_count(), "{name}");
    }
}
