//! Every real capture shipped with the project parses to the figures its producer documented.

mod common;

use memanim::heap::BlockKind;
use memanim::{Capture, Warnings};

struct Expect {
    path: &'static str,
    dumps: usize,
    blocks: usize,
    block_size: u32,
    areas: usize,
    logs: usize,
    digits: u8,
}

const SAMPLES: &[Expect] = &[
    Expect {
        path: "samples/frag_small.log",
        dumps: 133,
        blocks: 2528,
        block_size: 32,
        areas: 1,
        logs: 60,
        digits: 8,
    },
    Expect {
        path: "samples/asyncio_app.log",
        dumps: 73,
        blocks: 6072,
        block_size: 32,
        areas: 1,
        logs: 102,
        digits: 8,
    },
    Expect {
        path: "samples/mixed_logs.log",
        dumps: 42,
        blocks: 2400,
        block_size: 32,
        areas: 1,
        logs: 198,
        digits: 8,
    },
    Expect {
        path: "samples/split_heap_coverage.log",
        dumps: 80,
        blocks: 8048,
        block_size: 32,
        areas: 4,
        logs: 383,
        digits: 8,
    },
    Expect {
        path: "samples/unix32_blocks16.log",
        dumps: 57,
        blocks: 3000,
        block_size: 16,
        areas: 1,
        logs: 35,
        digits: 8,
    },
    Expect {
        path: "tests/data/long_run.log",
        dumps: 446,
        blocks: 3540,
        block_size: 32,
        areas: 1,
        logs: 54,
        digits: 8,
    },
    Expect {
        path: "tests/data/default_heap.log",
        dumps: 47,
        blocks: 64776,
        block_size: 32,
        areas: 1,
        logs: 114,
        digits: 8,
    },
    Expect {
        path: "tests/data/v1_19_five_digit.log",
        dumps: 63,
        blocks: 64776,
        block_size: 32,
        areas: 1,
        logs: 102,
        digits: 5,
    },
    Expect {
        path: "tests/data/v1_12_tiles.log",
        dumps: 54,
        blocks: 40484,
        block_size: 32,
        areas: 1,
        logs: 30,
        digits: 5,
    },
];

fn load(path: &str) -> (Capture, Warnings) {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    memanim::parse(std::io::BufReader::new(file), path, &Default::default()).unwrap()
}

#[test]
fn every_sample_parses_to_its_documented_figures() {
    for e in SAMPLES {
        let (c, w) = load(e.path);
        assert!(
            w.is_empty(),
            "{}: unexpected warnings {:?}",
            e.path,
            w.report(e.path)
        );
        assert_eq!(c.sessions.len(), 1, "{}", e.path);
        assert_eq!(c.snapshot_count(), e.dumps, "{}", e.path);
        assert_eq!(c.log_count(), e.logs, "{}", e.path);
        assert_eq!(c.offset_digits, e.digits, "{}", e.path);
        let s = &c.sessions[0];
        let sync = s.sync.as_ref().expect("every sample has a sync line");
        assert_eq!(sync.order, memanim::capture::TupleOrder::Localtime);
        // Exactly one log line (the app's start message) comes before the first dump.
        assert_eq!(
            s.logs.iter().filter(|l| l.after.is_none()).count(),
            1,
            "{}",
            e.path
        );
        let mut last_t = i64::MIN;
        for snap in s.snapshots.iter() {
            assert!(snap.complete, "{} line {}", e.path, snap.line);
            assert_eq!(snap.areas.len(), e.areas, "{} line {}", e.path, snap.line);
            assert_eq!(
                snap.block_count(),
                e.blocks,
                "{} line {}",
                e.path,
                snap.line
            );
            assert_eq!(snap.block_size(), Some(e.block_size));
            assert!(snap.time_ms > last_t, "{}: time goes forward", e.path);
            last_t = snap.time_ms;
            assert!(snap.wall_ms.is_some());
            // Used and free recomputed from the blocks equal the dump's own GC line.
            let g = snap.gc.expect("GC line");
            let st = snap.block_stats();
            assert_eq!(g.total, e.blocks as u64 * e.block_size as u64);
            assert_eq!(
                (st.used_bytes, st.free_bytes),
                (g.used, g.free),
                "{} line {}",
                e.path,
                snap.line
            );
            // The dump's own "max free sz" is the longest free run the blocks show.
            assert_eq!(
                g.max_free,
                Some(st.largest_free_run),
                "{} line {}",
                e.path,
                snap.line
            );
            assert!(snap.mem.is_some() && snap.stack.is_some());
        }
    }
}

/// Snapshots with a used block at or past byte offset 1 MiB.
fn live_past_1mib(c: &Capture) -> usize {
    c.snapshots()
        .filter(|(_, s)| {
            let a = &s.areas[0];
            let first = (1 << 20) / a.block_size as usize;
            a.blocks.iter().skip(first).any(|k| k.is_used())
        })
        .count()
}

#[test]
fn five_digit_offsets_wrap_at_one_mib_and_are_placed_by_counting() {
    // The corpus README: 37 frames of v1_19_five_digit and 30 of v1_12_tiles have live blocks past 1 MiB.
    assert_eq!(
        live_past_1mib(&load("tests/data/v1_19_five_digit.log").0),
        37
    );
    assert_eq!(live_past_1mib(&load("tests/data/v1_12_tiles.log").0), 30);
}

#[test]
fn split_heap_areas_are_kept_apart() {
    let (c, _) = load("samples/split_heap_coverage.log");
    let s = c.sessions[0].snapshots.to_vec();
    let ptrs: Vec<u64> = s[0].areas.iter().map(|a| a.ptr).collect();
    assert_eq!(
        ptrs,
        vec![
            0x558461a29740,
            0x558461a39760,
            0x558461a49760,
            0x558461a59780
        ]
    );
    for snap in &s {
        assert!(snap.areas.iter().all(|a| a.blocks.len() == 2012));
    }
    // The corpus README: 16 frames have at least one all-free area; frame 1 uses only area 1.
    let all_free = |a: &memanim::heap::HeapArea| a.blocks.iter().all(|&k| k == BlockKind::Free);
    assert_eq!(
        s.iter().filter(|x| x.areas.iter().any(all_free)).count(),
        16
    );
    assert!(!all_free(&s[0].areas[0]) && s[0].areas[1..].iter().all(all_free));
}

#[test]
fn every_block_character_of_the_format_is_seen() {
    let (c, _) = load("samples/frag_small.log");
    let mut seen = [false; BlockKind::COUNT];
    for (_, s) in c.snapshots() {
        for a in &s.areas {
            for &k in &a.blocks {
                seen[k as usize] = true;
            }
        }
    }
    for k in ["h", "T", "L", "D", "S", "A", "F", "B", "M", "=", "."] {
        let kind = BlockKind::from_char(k.as_bytes()[0]);
        assert!(seen[kind as usize], "{k} not seen");
    }
}

#[test]
fn asctime_log_lines_get_their_own_time_through_the_sync_line() {
    let (c, _) = load("samples/asyncio_app.log");
    let s = &c.sessions[0];
    let timed: Vec<_> = s.logs.iter().filter(|l| l.time_ms.is_some()).collect();
    assert!(timed.len() > 90, "{} timed", timed.len());
    let span = s.span_ms();
    for l in timed {
        let t = l.time_ms.unwrap();
        // Placed within the capture (asctime has ms, the sync line has whole seconds).
        assert!(t > -1500 && t < span + 1500, "line {}: {t}", l.line);
        // And near the dumps around it.
        if let Some(a) = l.after {
            let snap_t = s.snapshots.get(a).time_ms;
            assert!(
                (t - snap_t).abs() < 2000,
                "line {}: {t} vs dump {snap_t}",
                l.line
            );
        }
    }
}

#[test]
fn tracebacks_and_empty_lines_are_log_lines() {
    let (c, _) = load("samples/mixed_logs.log");
    let logs = &c.sessions[0].logs;
    assert_eq!(
        logs.iter()
            .filter(|l| l.text.starts_with("Traceback"))
            .count(),
        4
    );
    assert_eq!(logs.iter().filter(|l| l.text.is_empty()).count(), 8);
    assert!(logs.iter().any(|l| l.text.starts_with("  File ")));
}
