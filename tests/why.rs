//! `memanim why`: MemoryErrors explained, on captures of the real MicroPython unix port (the
//! scripts are tests/device/oom_*.py, which use device/mem_dump.py). The figures are checked
//! against the dump's own lines, found in the capture text by the test.

mod common;

use std::process::Command;

use memanim::analysis::why::{self, Verdict};

fn memanim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a script and writes its capture to a scratch file of the test's own (tests run in
/// parallel: two sharing a file would read each other's half-written capture).
fn capture_of(test: &str, script: &str, heap: &str) -> Option<(std::path::PathBuf, String)> {
    let mp = common::micropython(&format!("the why test on {script}"))?;
    let text = common::run_device_script(&mp, heap, script, &[]);
    let path = common::scratch(&format!("why_{test}")).join("run.log");
    std::fs::write(&path, &text).unwrap();
    Some((path, text))
}

fn load(path: &std::path::Path) -> memanim::Capture {
    let text = std::fs::read(path).unwrap();
    memanim::parse(&text[..], "run.log", &Default::default())
        .unwrap()
        .0
}

/// The number after `key` in the first line of `text` (after `from_line`) that has it.
fn figure_after(text: &str, from_line: usize, key: &str) -> u64 {
    text.lines()
        .skip(from_line - 1)
        .find_map(|l| {
            let at = l.find(key)?;
            let digits: String = l[at + key.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok()
        })
        .unwrap()
}

/// 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_fragmented_heap_is_called_fragmented_with_the_dumps_own_figures() {
    let Some((path, text)) = capture_of("fragmented", "oom_fragment.py", "32K") else {
        return;
    };
    let err_line = line_of(
        &text,
        "MemoryError: memory allocation failed, allocating 4096",
    );
    // The dump before the error: its start marker is the last '@@@ <ticks>' above it.
    let before = text
        .lines()
        .take(err_line)
        .enumerate()
        .filter(|(_, l)| l.starts_with("@@@ ") && !l.contains('(') && !l.contains('|'));
    let before_line = before.last().unwrap().0 + 1;
    let free = figure_after(&text, before_line, "free: ");
    let max_free_blocks = figure_after(&text, before_line, "max free sz: ");

    let (code, out, err) = memanim(&["why", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events = json["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{out}");
    let e = &events[0];
    assert_eq!(e["line"], err_line as u64);
    assert_eq!(e["requested_bytes"], 4096);
    assert_eq!(e["blocks_needed"], 128);
    assert_eq!(e["verdict"], "fragmented");
    assert_eq!(e["free_bytes"], free);
    // The longest run counted in the table is the dump's own `max free sz`.
    assert_eq!(e["largest_free_bytes"], max_free_blocks * 32);
    assert!(free >= 4096 && max_free_blocks * 32 < 4096);
    assert_eq!(e["dump_before"]["line"], before_line as u64);
    assert!(e["dump_after"]["line"].as_u64().unwrap() > err_line as u64);
    // The pinning objects sit between free runs: each one's run if freed is longer than itself.
    let pins = e["pinning"].as_array().unwrap();
    assert!(!pins.is_empty());
    assert!(e["pinning_total"].as_u64().unwrap() >= 100, "{e}");
    for p in pins {
        assert!(
            p["run_if_freed_bytes"].as_u64() > p["bytes"].as_u64(),
            "{p}"
        );
        assert!(p["address"].as_str().unwrap().starts_with("0x"));
        assert!(p["lived_snapshots"].as_u64().unwrap() >= 1);
    }
    // Enough room exists once the cheapest window's objects are freed.
    assert!(e["room"]["objects"].as_u64().unwrap() >= 1);
    assert_eq!(e["room"]["blocks"], 128);

    // The text report says the same, in words.
    let (code, out, _) = memanim(&["why", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("FRAGMENTED"), "{out}");
    assert!(
        out.contains("long-lived small objects") || out.contains("pinning"),
        "{out}"
    );
    // info and stats count it.
    let (_, info, _) = memanim(&["info", path.to_str().unwrap()]);
    assert!(
        info.contains("MemoryError  1 (0 exhausted, 1 fragmented"),
        "{info}"
    );
    let (_, stats, _) = memanim(&["stats", path.to_str().unwrap()]);
    assert!(stats.contains("1 (0 exhausted, 1 fragmented"), "{stats}");
}

#[test]
fn a_full_heap_is_called_exhausted() {
    let Some((path, text)) = capture_of("exhausted", "oom_exhaust.py", "32K") else {
        return;
    };
    let c = load(&path);
    let events = why::events(&c);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.verdict, Verdict::Exhausted);
    let asked = figure_after(&text, line_of(&text, "allocating"), "allocating ");
    assert_eq!(e.requested, Some(asked));
    let free = figure_after(&text, 1, "free: ");
    assert_eq!(e.figures.unwrap().free, free);
    assert!(free < asked);
    let (code, out, _) = memanim(&["why", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("EXHAUSTED"), "{out}");
}

#[test]
fn no_memory_error_says_so_and_succeeds() {
    let path = format!("{}/samples/mixed_logs.log", env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = memanim(&["why", &path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("no MemoryError in "), "{out}");
    let (code, out, _) = memanim(&["why", &path, "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["events"].as_array().unwrap().len(), 0);
}

#[test]
fn app_messages_and_tracebacks_are_events_without_sizes_when_not_printed() {
    // frag_small.log: failures the app reports itself ("step 531: MemoryError allocating
    // tuple(2400)"): element counts rather than bytes, but for a bytearray, whose count is bytes.
    let c = common::load("samples/frag_small.log");
    let events = why::events(&c);
    let reported = common::lines_of("samples/frag_small.log")
        .filter(|l| l.contains(": MemoryError allocating "))
        .count();
    assert!(reported > 0);
    assert_eq!(events.len(), reported);
    for e in &events {
        let bytes = e.text.contains("bytearray(2400)").then_some(2400);
        assert_eq!(e.requested, bytes, "{}", e.text);
    }
    assert!(events.iter().all(|e| e.verdict == Verdict::Unexplained));
    // Each is read off the last dump before it.
    for e in &events {
        let b = e.before.unwrap();
        let s = &c.sessions[e.session];
        assert!(s.snapshots.meta(b).line < e.line);
        if b + 1 < s.snapshots.len() {
            assert!(s.snapshots.meta(b + 1).line > e.line);
        }
    }
    // split_heap_coverage.log: 'bytearray(70000)' is bigger than any area of the split heap.
    let c = common::load("samples/split_heap_coverage.log");
    let events = why::events(&c);
    let big: Vec<_> = events
        .iter()
        .filter(|e| e.requested == Some(70000))
        .collect();
    assert_eq!(big.len(), 2);
    // 70000 bytes are 2188 blocks: more than an area's 2012, so it can never fit.
    for e in &big {
        assert_eq!(e.largest_area, Some(2012));
        let x = why::explain(&c, e, why::TOP);
        assert!(
            x.notes.iter().any(|n| n.contains("never succeed")),
            "{:?}",
            x.notes
        );
    }
}

#[test]
fn the_gif_marks_the_error_on_the_strip_and_says_the_verdict() {
    let Some((path, _)) = capture_of("gif_mark", "oom_fragment.py", "32K") else {
        return;
    };
    let c = load(&path);
    let e = why::events(&c).remove(0);
    let schedule = memanim::timeline::resolve(&c, &Default::default());
    let mark = memanim::render::ErrorMark {
        session: e.session,
        before: e.before.unwrap(),
        after: e.after,
        text: e.headline(),
    };
    let r = memanim::render::Renderer::with_marks(&c, &schedule, &Default::default(), vec![mark]);
    // The frames from the dump before to the dump after carry the verdict.
    assert!(schedule.frames.len() >= 2);
    for k in 0..schedule.frames.len() {
        let n = r.notice(k).unwrap_or_default();
        assert!(
            n.contains("fragmented") && n.contains("4096 B asked"),
            "frame {k}: {n}"
        );
    }
    // The strip has the mark's solid cap in the warning colour at its top row.
    let frame = r.render(0);
    let (sx, sy, sw, _) = r.layout.strip.unwrap();
    let warn = memanim::render::palette::ix::TEXT_WARN + memanim::render::palette::ix::SHADES - 1;
    let capped = (sx..sx + sw)
        .filter(|&x| frame.pixels[(sy * frame.width + x) as usize] == warn)
        .count();
    assert_eq!(capped, 2, "a two-pixel cap");
}

#[test]
fn at_oom_is_a_still_of_the_dump_before_with_the_pinning_objects_outlined() {
    let Some((path, _)) = capture_of("at_oom_run", "oom_fragment.py", "32K") else {
        return;
    };
    let dir = common::scratch("why_at_oom");
    let out = dir.join("oom.png");
    let (code, _, err) = memanim(&[
        path.to_str().unwrap(),
        "--at",
        "oom",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let c = load(&path);
    let e = why::events(&c).remove(0);
    let before = e.before.unwrap();
    assert!(
        err.contains(&format!("snapshot {} of", before + 1)),
        "{err}"
    );
    // The first pinning object's first cell has the outline just above and left of it.
    let x = why::explain(&c, &e, why::TOP);
    let pin = &x.pins[0];
    let schedule = memanim::timeline::resolve(&c, &Default::default());
    let layout = memanim::render::Renderer::new(&c, &schedule, &Default::default()).layout;
    let a = layout
        .areas(e.session)
        .iter()
        .position(|s| s.ptr == pin.area)
        .unwrap();
    let (cx, cy) = layout.cell_origin(e.session, a, pin.block);
    let img = image::open(&out).unwrap().to_rgb8();
    let pal = memanim::render::palette::rgb();
    let warn = pal[(memanim::render::palette::ix::TEXT_WARN + memanim::render::palette::ix::SHADES
        - 1) as usize];
    assert_eq!(img.get_pixel(cx - 1, cy - 1).0, warn);
    assert_eq!(img.get_pixel(cx + 2, cy - 1).0, warn);
    // Not a frame of the animation elsewhere: the cell itself keeps its kind's colour.
    assert_ne!(img.get_pixel(cx + 1, cy + 1).0, warn);
    // oom:2 of a capture with one error is a usage error naming how many there are.
    let (code, _, err) = memanim(&[
        path.to_str().unwrap(),
        "--at",
        "oom:2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("has 1 MemoryError"), "{err}");
}

#[test]
fn a_dump_full_of_garbage_is_not_called_exhausted_when_the_dump_after_shows_room() {
    // The dump before the error counts uncollected garbage as used; the allocation's own
    // collection freed it, and the dump after shows enough free memory in all but no run long
    // enough: fragmented, read from the dump after.
    let Some((path, text)) = capture_of("garbage", "oom_garbage.py", "32K") else {
        return;
    };
    let err_line = line_of(
        &text,
        "MemoryError: memory allocation failed, allocating 10240",
    );
    let after_line = text
        .lines()
        .enumerate()
        .skip(err_line)
        .find(|(_, l)| l.starts_with("@@@ ") && !l.contains('('))
        .unwrap()
        .0
        + 1;
    let free_after = figure_after(&text, after_line, "free: ");
    let (code, out, err) = memanim(&["why", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e = &json["events"][0];
    assert_eq!(e["verdict"], "fragmented", "{e}");
    assert_eq!(e["judged_by"], "dump_after");
    assert_eq!(e["dump_after"]["line"], after_line as u64);
    assert_eq!(e["free_bytes"], free_after);
    assert!(free_after >= 10240);
    let notes = e["notes"].to_string();
    assert!(notes.contains("still counted garbage"), "{notes}");
}

#[test]
fn an_allocation_under_a_locked_heap_is_not_blamed_on_the_heap() {
    let Some((path, _)) = capture_of("locked", "oom_locked.py", "32K") else {
        return;
    };
    let (code, out, err) = memanim(&["why", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("heap is locked"), "{out}");
    assert!(
        out.contains("UNEXPLAINED by the heap: it was locked"),
        "{out}"
    );
    // Free memory did not matter, so no object is blamed for splitting it.
    assert!(!out.contains("pinning"), "{out}");
    let (_, json, _) = memanim(&["why", path.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["events"][0]["heap_locked"], true);
    assert_eq!(json["events"][0]["verdict"], "unexplained");
}

#[test]
fn errors_in_two_sessions_are_two_events_each_in_its_own_session() {
    // The same run twice, as a board that reset and ran it again: the second run's sync line
    // starts a second session.
    let Some((_, text)) = capture_of("two_sessions", "oom_fragment.py", "32K") else {
        return;
    };
    let path = common::scratch("why_two_sessions_joined").join("run.log");
    std::fs::write(&path, format!("{text}{text}")).unwrap();
    let c = load(&path);
    let events = why::events(&c);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_ne!(events[0].session, events[1].session);
    let lines = text.lines().count() as u64;
    assert_eq!(events[1].line, events[0].line + lines);
    assert!(events.iter().all(|e| e.verdict == Verdict::Fragmented));
    let (code, out, err) = memanim(&["why", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("in session 2"), "{out}");
}

#[test]
fn the_dumps_around_an_error_keep_their_frames_when_others_merge() {
    let Some((path, _)) = capture_of("keep", "oom_steady.py", "32K") else {
        return;
    };
    let c = load(&path);
    let e = why::events(&c).remove(0);
    let (before, after) = (e.before.unwrap(), e.after.unwrap());
    // Played 50 times faster at 1 frame/s, most snapshots merge into shared frames.
    let fast = memanim::options::TimingOptions {
        speed: 50.0,
        fps: 1.0,
        ..Default::default()
    };
    let shown = |t: &memanim::options::TimingOptions| -> Vec<usize> {
        memanim::timeline::resolve(&c, t)
            .frames
            .iter()
            .map(|f| f.snap.index)
            .collect()
    };
    let merged = shown(&fast);
    assert!(merged.len() < c.snapshot_count(), "{merged:?}");
    assert!(
        !merged.contains(&before) || !merged.contains(&after),
        "this capture must lose one of them to merging for the test to mean anything: {merged:?}"
    );
    let kept = shown(&memanim::options::TimingOptions {
        keep: vec![(e.session, before), (e.session, after)],
        ..fast
    });
    assert!(kept.contains(&before) && kept.contains(&after), "{kept:?}");
    assert!(
        kept.len() < c.snapshot_count(),
        "the others still merge: {kept:?}"
    );
}
