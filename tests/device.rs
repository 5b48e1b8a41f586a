//! device/mem_dump.py on the real MicroPython unix port: its output is read by memanim's own parser
//! and rendered. MicroPython comes from `.ci/run` (target/mpy-venv) or $MEMANIM_MICROPYTHON; when
//! neither exists these tests say so loudly and pass without running.

mod common;

use std::path::Path;

fn run(mp: &Path, heap: &str, script: &str, args: &[&str]) -> String {
    common::run_device_script(mp, heap, script, args)
}

#[test]
fn start_async_dumps_at_its_period_and_stop_ends_them() {
    let Some(mp) = common::micropython("this device test") else {
        return;
    };
    let (period, run_ms) = (200, 3000);
    let text = run(&mp, "64K", "workload_async.py", &["200", "3000"]);
    let (capture, warnings) = common::parse(&text);
    assert!(warnings.is_empty(), "{:?}", warnings.report("device"));
    assert_eq!(capture.sessions.len(), 1);
    let s = &capture.sessions[0];
    // The sync line, in localtime order, right before the first dump.
    let sync = s.sync.as_ref().expect("sync line");
    assert_eq!(sync.order, memanim::capture::TupleOrder::Localtime);
    // mem_dump reads ticks once for both lines; other dumpers call ticks_ms() twice.
    assert!(s.snapshots.get(0).ticks - sync.ticks <= 5);
    // Snapshot count within 20% of duration / period.
    let expected = (run_ms / period) as f64;
    let n = s.snapshots.len() as f64;
    assert!(
        (n - expected).abs() <= expected * 0.2,
        "{n} dumps, expected about {expected}"
    );
    let snaps = s.snapshots.to_vec();
    assert!(snaps.windows(2).all(|w| w[1].time_ms > w[0].time_ms));
    for snap in &snaps {
        assert!(snap.complete && snap.wall_ms.is_some());
        assert_eq!(snap.block_size(), Some(32));
    }
    // Lines from mem_dump.log carry their own time, between the dumps around them.
    let timed: Vec<_> = s
        .logs
        .iter()
        .filter(|l| l.text.starts_with("INFO:worker:step"))
        .collect();
    assert!(timed.len() >= 5, "{} timed lines", timed.len());
    for l in &timed {
        let t = l.time_ms.expect("stamped line has a time");
        let a = l.after.expect("after the first dump");
        assert!(t >= s.snapshots.get(a).time_ms, "line {}", l.line);
        if let Some(next) = snaps.get(a + 1) {
            assert!(t <= next.time_ms, "line {}", l.line);
        }
    }
    // Plain prints are kept, placed between dumps, without a time of their own.
    assert!(s
        .logs
        .iter()
        .any(|l| l.text.starts_with("plain print from the app") && l.time_ms.is_none()));
    // After stop() no dump follows, although the app ran on for three more periods.
    let stopped = s
        .logs
        .iter()
        .find(|l| l.text == "dumps stopped")
        .expect("stop logged");
    assert!(s.snapshots.iter().all(|x| x.line < stopped.line));
    assert!(s.logs.last().unwrap().text == "workload done");

    // End to end: the capture renders, one frame per dump.
    let dir = common::scratch("device_gif");
    let out = dir.join("device.gif");
    let report = memanim::render(
        &capture,
        &Default::default(),
        &memanim::Output::Gif(memanim::Target::File(out.clone())),
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(common::decode_gif(&out).frames.len(), report.written);
    assert_eq!(report.written, s.snapshots.len());
}

#[test]
fn start_timer_defers_dumps_and_counts_a_full_schedule_queue() {
    let Some(mp) = common::micropython("this device test") else {
        return;
    };
    let text = run(&mp, "64K", "workload_timer.py", &["100", "1500"]);
    let (capture, _) = common::parse(&text);
    let s = &capture.sessions[0];
    let fired_line = s
        .logs
        .iter()
        .find(|l| l.text.starts_with("timer fired"))
        .expect("summary line");
    let words: Vec<&str> = fired_line.text.split(' ').collect();
    let fired: usize = words[2].parse().unwrap();
    let skipped: usize = words[4].parse().unwrap();
    assert!(fired >= 10, "{}", fired_line.text);
    // Every tick became a dump unless it was skipped; none came after stop().
    assert_eq!(s.snapshots.len() + skipped, fired, "{}", fired_line.text);
    assert!(s.snapshots.iter().all(|x| x.line < fired_line.line));
    // With the queue full, a tick is skipped and counted, and nothing is left pending.
    let full = s
        .logs
        .iter()
        .find(|l| l.text.starts_with("queue full after"))
        .unwrap();
    assert!(
        full.text.ends_with("skipped 1 pending False"),
        "{}",
        full.text
    );
    // out= on a port without os.dupterm is refused with a reason, and starts nothing.
    let texts: Vec<String> = s.logs.iter().map(|l| l.text).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("out refused: out= needs os.dupterm")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "running after refusal: False"));
}

#[test]
fn a_dump_allocates_nothing_on_small_and_large_heaps() {
    let Some(mp) = common::micropython("this device test") else {
        return;
    };
    for heap in ["64K", "2M"] {
        let text = run(&mp, heap, "measure.py", &["50"]);
        let line = text
            .lines()
            .find(|l| l.starts_with("MEASURE"))
            .expect("figures");
        eprintln!("{heap}: {line}");
        assert!(line.contains("bytes_allocated=0 "), "{line}");
    }
}

#[test]
fn the_readmes_three_dumps_by_hand_are_three_frames() {
    let Some(mp) = common::micropython("the by-hand recipe test") else {
        return;
    };
    // The README's recipe, as written: three mem_dump() calls with no pause between them.
    let text = run(&mp, "64K", "by_hand.py", &[]);
    let (capture, _) = common::parse(&text);
    assert_eq!(capture.snapshot_count(), 3);
    let dir = common::scratch("device_by_hand");
    let log = dir.join("run.log");
    std::fs::write(&log, &text).unwrap();
    let gif = dir.join("heap.gif");
    let res = common::memanim_fed(&[log.to_str().unwrap(), "-o", gif.to_str().unwrap()], b"");
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(err.contains("(3 frames, "), "{err}");
    // The dumps come within a few milliseconds: the summary says how long each is shown.
    let ticks: Vec<i64> = capture.metas().map(|(_, s)| s.time_ms).collect();
    if ticks[2] - ticks[0] < 20 {
        assert!(err.contains("shown for 20 ms"), "{err}");
    }
    assert_eq!(common::decode_gif(&gif).frames.len(), 3);
}
