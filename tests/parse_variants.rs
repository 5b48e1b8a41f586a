//! One hand-made capture per format variant of FORMAT.md that the real samples do not show.

mod common;

use common::{chars, dump, layout_rows, parse, pattern, try_parse, Area, Style};
use memanim::heap::BlockKind;
use memanim::WarningKind as W;

fn board() -> Style {
    Style::default() // 16-byte blocks, 8-digit offsets, no mem: line
}

fn one(ticks: u64, blocks: &str) -> String {
    dump(
        ticks,
        &[Area {
            ptr: "3ffb0000",
            blocks,
        }],
        board(),
    )
}

#[test]
fn generator_matches_a_real_dump() {
    // The helper prints the way gc.c does: check it against a dump from the real unix port.
    let real = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/frag_small.log"
    ))
    .unwrap();
    let (c, _) = parse(&real);
    let snap = &c.sessions[0].snapshots.get(0);
    let printed = layout_rows(
        &chars(&snap.areas[0]),
        Style {
            block_size: 32,
            ..board()
        },
    );
    assert!(
        real.contains(&printed),
        "generated rows differ from the real dump"
    );
}

#[test]
fn block_size_16_and_32_are_inferred_from_the_row_step() {
    let blocks = pattern(1000, 3);
    for bs in [16u64, 32] {
        let text = dump(
            100,
            &[Area {
                ptr: "20001000",
                blocks: &blocks,
            }],
            Style {
                block_size: bs,
                ..board()
            },
        );
        let (c, w) = parse(&text);
        assert!(w.is_empty(), "{:?}", w.report("t"));
        let a = &c.sessions[0].snapshots.get(0).areas[0];
        assert_eq!(a.block_size as u64, bs);
        assert_eq!(chars(a), blocks);
    }
}

#[test]
fn free_runs_at_start_and_end_and_short_last_rows() {
    // Starts with 3 free rows, ends with a free run into a short last row, and one lone free row.
    let mut b = ".".repeat(64 * 3 + 10);
    b.push_str(&"h=".repeat(40));
    b.push_str(&".".repeat(64 + 20)); // one full free row after a partial row: printed in full
    b.push_str("S===");
    b.push_str(&".".repeat(64 * 4 + 17));
    let text = one(5, &b);
    assert!(text.contains("(3 lines all free)"));
    let (c, w) = parse(&text);
    assert!(w.is_empty(), "{:?}", w.report("t"));
    assert_eq!(chars(&c.sessions[0].snapshots.get(0).areas[0]), b);
    // An area that ends exactly on a free run prints only the marker.
    let b2 = format!("{}{}", "h".repeat(64), ".".repeat(64 * 5));
    let text2 = one(5, &b2);
    assert!(text2.trim_end().ends_with("(5 lines all free)\n@@@"));
    let (c2, w2) = parse(&text2);
    assert!(w2.is_empty());
    assert_eq!(chars(&c2.sessions[0].snapshots.get(0).areas[0]), b2);
}

#[test]
fn five_digit_offsets_of_old_firmware_with_masked_pointers() {
    // v1.8-era firmware printed (real pointer & 0xfffff): the first row is not at 0.
    let blocks = pattern(3000, 1);
    let style = Style {
        digits: 5,
        offset_base: 0x3ffb_1230 & 0xfffff,
        ..board()
    };
    let text = dump(
        9,
        &[Area {
            ptr: "3ffb1230",
            blocks: &blocks,
        }],
        style,
    );
    assert!(text.contains("b1230: "));
    let (c, w) = parse(&text);
    assert!(w.is_empty(), "{:?}", w.report("t"));
    let a = &c.sessions[0].snapshots.get(0).areas[0];
    assert_eq!((a.block_size, chars(a)), (16, blocks));
    assert_eq!(c.offset_digits, 5);
}

#[test]
fn crlf_stray_cr_and_invalid_utf8() {
    let text = one(10, &pattern(500, 2)).replace('\n', "\r\n");
    let mut bytes = b"boot noise \xff\xfe\x80\r\n".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(b"\rprogress 50%\rprogress 100%\r\n");
    let (c, w) = try_parse(&bytes).unwrap();
    assert_eq!(c.snapshot_count(), 1);
    assert_eq!(w.count(W::InvalidUtf8), 1);
    let logs: Vec<String> = c.sessions[0].logs.iter().map(|l| l.text).collect();
    assert!(logs[0].starts_with("boot noise "));
    assert!(logs.iter().any(|l| l == "progress 100%"));
    assert_eq!(
        chars(&c.sessions[0].snapshots.get(0).areas[0]),
        pattern(500, 2)
    );
}

#[test]
fn banners_prompts_and_soft_reboot_start_sessions() {
    let mut t = String::new();
    t.push_str("MicroPython v1.23.0 on 2024-06-02; Generic ESP32 module with ESP32\n");
    t.push_str("Type \"help()\" for more information.\n>>> \n");
    t.push_str("@@@ 1000 (2024, 6, 2, 10, 0, 0, 6, 154)\n");
    t.push_str(&one(1000, &pattern(400, 1)));
    t.push_str(&one(1350, &pattern(400, 2)));
    t.push_str("MPY: soft reboot\n");
    t.push_str("MicroPython v1.23.0 on 2024-06-02; Generic ESP32 module with ESP32\n");
    t.push_str(&one(200, &pattern(400, 3)));
    let (c, w) = parse(&t);
    assert_eq!(c.sessions.len(), 2);
    assert_eq!(c.sessions[0].snapshots.len(), 2);
    assert_eq!(c.sessions[1].snapshots.len(), 1);
    assert!(c.sessions[0]
        .banner
        .as_deref()
        .unwrap()
        .starts_with("MicroPython v1.23.0"));
    assert_eq!(c.sessions[1].logs.get(0).text, "MPY: soft reboot");
    assert_eq!(w.count(W::TicksBackwards), 0, "a reboot explains the jump");
    // Wall-clock time: 2024-06-02 10:00:00 + 350 ms.
    assert_eq!(
        memanim::capture::format_wall(c.sessions[0].snapshots.get(1).wall_ms.unwrap(), true),
        "2024-06-02 10:00:00.350"
    );
    assert!(
        c.sessions[1].snapshots.get(0).wall_ms.is_none(),
        "the new session has no sync line"
    );
}

#[test]
fn ticks_wrap_at_2_pow_30_and_backwards_jumps_start_sessions() {
    let p = 1u64 << 30;
    let t = format!("{}{}{}", one(p - 100, "h."), one(250, "hh"), one(50, "h="));
    let (c, w) = parse(&t);
    assert_eq!(c.sessions.len(), 2);
    assert_eq!(
        c.sessions[0].snapshots.get(1).time_ms,
        350,
        "wrapped forward"
    );
    assert_eq!(w.count(W::TicksBackwards), 1);
    assert_eq!(w.kept()[0].pos.line, 15, "{:?}", w.kept()); // 7 lines per dump: the third starts at 15
                                                            // --ticks-period 2^29 reads the same jump as going backwards.
    let opts = memanim::ParseOptions {
        ticks_period: 1 << 29,
        ..Default::default()
    };
    let t2 = format!("{}{}", one((1 << 29) - 10, "h."), one(20, "hh"));
    let (c2, _) = memanim::parse(t2.as_bytes(), "t", &opts).unwrap();
    assert_eq!(c2.sessions[0].snapshots.get(1).time_ms, 30);
}

#[test]
fn ticks_that_wrap_at_2_pow_29_are_found_without_the_option() {
    // A port whose ticks wrap at 2^29: from 2^29 - 100 to 250 is 350 ms later, not a reset; the
    // next dumps go on in the same session with the new period.
    let h = 1u64 << 29;
    let t = format!("{}{}{}", one(h - 100, "h."), one(250, "hh"), one(600, "h="));
    let (c, w) = parse(&t);
    assert_eq!(c.sessions.len(), 1);
    let times: Vec<i64> = (0..3)
        .map(|i| c.sessions[0].snapshots.get(i).time_ms)
        .collect();
    assert_eq!(times, [0, 350, 700]);
    assert_eq!(w.count(W::TicksWrap), 1, "said, not silent: {:?}", w.kept());
    assert_eq!(w.count(W::TicksBackwards), 0);
    // A reboot message before the jump keeps it a reset; so does a jump from far below 2^29.
    let t = format!("{}MPY: soft reboot\n{}", one(h - 100, "h."), one(250, "hh"));
    assert_eq!(parse(&t).0.sessions.len(), 2);
    let t = format!("{}{}", one(h - 5_000_000, "h."), one(250, "hh"));
    let (c, w) = parse(&t);
    assert_eq!(c.sessions.len(), 2);
    assert_eq!(w.count(W::TicksWrap), 0);
}

#[test]
fn large_unix_ticks_switch_to_the_64_bit_period() {
    let big = (1u64 << 31) + 5;
    let t = format!("{}{}", one(big, "h."), one(big + 400, "hh"));
    let (c, w) = parse(&t);
    assert!(w.is_empty());
    assert_eq!(c.sessions.len(), 1);
    assert_eq!(c.sessions[0].snapshots.get(1).time_ms, 400);
}

#[test]
fn sync_tuple_in_rtc_datetime_order() {
    // RTC.datetime(): (year, month, mday, weekday, hour, minute, second, subseconds); 2024-06-02 is a Sunday (6).
    let t = format!("@@@ 500 (2024, 6, 2, 6, 13, 45, 30, 0)\n{}", one(500, "h."));
    let (c, w) = parse(&t);
    assert!(w.is_empty());
    let sync = c.sessions[0].sync.as_ref().unwrap();
    assert_eq!(sync.order, memanim::capture::TupleOrder::RtcDatetime);
    assert_eq!(
        memanim::capture::format_wall(sync.wall_ms, false),
        "2024-06-02 13:45:30"
    );
    // A tuple valid in neither order is a warning, not an error.
    let bad = format!(
        "@@@ 500 (2024, 13, 40, 99, 99, 99, 9, 999)\n{}",
        one(500, "h.")
    );
    let (c, w) = parse(&bad);
    assert!(c.sessions[0].sync.is_none());
    assert_eq!(w.count(W::SyncLine), 1);
}

#[test]
fn missing_summary_lines_or_missing_table() {
    let table_only = dump(
        1,
        &[Area {
            ptr: "20000000",
            blocks: &pattern(300, 4),
        }],
        Style {
            summary: false,
            ..board()
        },
    );
    let (c, w) = parse(&table_only);
    let s = &c.sessions[0].snapshots.get(0);
    assert!(s.gc.is_none() && s.stack.is_none());
    assert_eq!(chars(&s.areas[0]), pattern(300, 4));
    assert!(w.is_empty(), "{:?}", w.report("t"));

    let summary_only = dump(
        1,
        &[Area {
            ptr: "20000000",
            blocks: &pattern(300, 4),
        }],
        Style {
            table: false,
            ..board()
        },
    );
    let (c, _) = parse(&summary_only);
    let s = &c.sessions[0].snapshots.get(0);
    assert!(s.areas.is_empty());
    assert_eq!(s.gc.unwrap().total, 300 * 16);

    let stack_no_limit = "@@@ 5\nstack: 736\nGC: total: 1024, used: 32, free: 992, max new split: 110592\n No. of 1-blocks: 1, 2-blocks: 0, max blk sz: 2, max free sz: 62\nGC memory layout; from 3ffbdc20:\n00000000: h=..............................................................\n@@@\n";
    let (c, w) = parse(stack_no_limit);
    let s = &c.sessions[0].snapshots.get(0);
    assert_eq!(s.stack.unwrap().limit, None);
    assert_eq!(s.gc.unwrap().max_new_split, Some(110592));
    assert!(w.is_empty(), "{:?}", w.report("t"));
}

#[test]
fn circuitpython_0x_pointer() {
    let t = one(1, &pattern(200, 1)).replace("from 3ffb0000:", "from 0x20004a10:");
    let (c, _) = parse(&t);
    assert_eq!(c.sessions[0].snapshots.get(0).areas[0].ptr, 0x2000_4a10);
}

#[test]
fn esp32_areas_come_and_go_between_dumps() {
    let a1 = pattern(640, 1);
    let a2 = pattern(320, 2);
    let a3 = pattern(128, 3);
    let mut t = dump(
        100,
        &[Area {
            ptr: "3ffb0000",
            blocks: &a1,
        }],
        board(),
    );
    t += &dump(
        450,
        &[
            Area {
                ptr: "3ffb0000",
                blocks: &a1,
            },
            Area {
                ptr: "3f800000",
                blocks: &a2,
            },
        ],
        board(),
    );
    t += &dump(
        800,
        &[
            Area {
                ptr: "3ffb0000",
                blocks: &a1,
            },
            Area {
                ptr: "3f900000",
                blocks: &a3,
            },
        ],
        board(),
    );
    let (c, w) = parse(&t);
    assert!(w.is_empty(), "{:?}", w.report("t"));
    let s = c.sessions[0].snapshots.to_vec();
    assert_eq!(
        s.iter().map(|x| x.areas.len()).collect::<Vec<_>>(),
        vec![1, 2, 2]
    );
    assert_eq!(s[2].areas[1].ptr, 0x3f90_0000);
    assert_eq!(chars(&s[2].areas[1]), a3);
    assert_eq!(c.sessions[0].areas().len(), 3);
}

#[test]
fn old_t_tails_marked_heads_and_unknown_characters() {
    let blocks = format!("htttSm=Q?Q{}", ".".repeat(54));
    let (c, w) = parse(&one(1, &blocks));
    let a = &c.sessions[0].snapshots.get(0).areas[0];
    assert_eq!(a.blocks[1], BlockKind::Tail);
    assert_eq!(a.blocks[5], BlockKind::Marked);
    assert_eq!(a.blocks[7], BlockKind::Unknown);
    assert_eq!(a.blocks.len(), 64, "no block dropped");
    assert_eq!(w.count(W::UnknownBlockChar), 1, "warned once per row");
    assert!(w.kept()[0].message.contains("Q?"));
}

#[test]
fn an_unknown_prefix_before_the_markers_is_learned() {
    // Not a shape memanim knows (those are tests/paste.rs): learned from the first marker.
    let body = one(77, &pattern(300, 5));
    let t: String = body.lines().map(|l| format!("COM3| {l}\n")).collect();
    let (c, w) = parse(&t);
    assert_eq!(w.count(W::ForeignPrefix), 1);
    assert_eq!(
        chars(&c.sessions[0].snapshots.get(0).areas[0]),
        pattern(300, 5)
    );
    assert!(c.sessions[0].snapshots.get(0).gc.is_some());
}

#[test]
fn esp_idf_log_inside_a_dump_even_mid_row() {
    let blocks = pattern(256, 6);
    let text = one(5, &blocks);
    // Split the second row after 20 characters and put an ESP-IDF log line there.
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 7 {
            let (a, b) = line.split_at(10 + 20);
            out.push_str(&format!("{a}I (1234) wifi: connected\n{b}\n"));
        } else if i == 6 {
            out.push_str("W (1200) phy: calibration\n");
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    let (c, _) = parse(&out);
    let s = &c.sessions[0];
    assert_eq!(chars(&s.snapshots.get(0).areas[0]), blocks);
    let logs: Vec<String> = s.logs.iter().map(|l| l.text).collect();
    assert_eq!(
        logs,
        vec!["W (1200) phy: calibration", "I (1234) wifi: connected"]
    );
    assert!(s.logs.iter().all(|l| l.in_dump && l.after == Some(0)));
}

#[test]
fn dump_cut_off_by_reset_and_by_end_of_file() {
    let full = one(100, &pattern(640, 1));
    let cut: String = full.lines().take(9).map(|l| format!("{l}\n")).collect();
    let t = format!(
        "{cut}ets Jul 29 2019 12:21:46\n\nrst:0x1 (POWERON_RESET),boot:0x13\n{}{}",
        one(30, &pattern(640, 2)),
        cut.replace("@@@ 100", "@@@ 400")
    );
    let (c, w) = parse(&t);
    assert_eq!(c.sessions.len(), 2);
    let first = &c.sessions[0].snapshots.get(0);
    assert!(!first.complete);
    // The rows printed are kept; the rest is missing, the area keeps its full size.
    assert_eq!(first.areas[0].blocks.len(), 640);
    assert_eq!(first.areas[0].blocks[639], BlockKind::Missing);
    assert_eq!(snap_chars(first).len(), 640);
    let last = c.sessions[1].snapshots.last().unwrap();
    assert!(!last.complete);
    assert_eq!(w.count(W::DumpCutOff), 2);
    let eof = w
        .kept()
        .iter()
        .find(|x| x.message.contains("file ends"))
        .unwrap();
    assert!(eof.message.contains(&format!("line {}", last.line)));
}

fn snap_chars(s: &memanim::heap::Snapshot) -> String {
    common::chars(&s.areas[0])
}

#[test]
fn no_end_marker_then_a_new_dump() {
    let a = one(1, &pattern(200, 1)).replace("@@@\n", "");
    let t = format!("{a}{}", one(300, &pattern(200, 2)));
    let (c, w) = parse(&t);
    assert_eq!(c.snapshot_count(), 2);
    assert_eq!(w.count(W::DumpCutOff), 1);
    // The table itself was whole, so the blocks are all there.
    assert_eq!(
        common::chars(&c.sessions[0].snapshots.get(0).areas[0]),
        pattern(200, 1)
    );
}

#[test]
fn a_hostile_free_run_drops_only_its_dump() {
    let bad = "@@@ 10\nGC: total: 1024, used: 0, free: 1024\nGC memory layout; from 20000000:\n       (4294967295 lines all free)\n@@@\n";
    let t = format!(
        "{}{bad}{}",
        one(1, &pattern(64, 1)),
        one(20, &pattern(64, 2))
    );
    let (c, w) = parse(&t);
    assert_eq!(c.snapshot_count(), 2);
    assert_eq!(w.count(W::DumpDropped), 1);
    assert!(
        w.kept()[0].message.contains("4294967295"),
        "{}",
        w.kept()[0].message
    );
    assert_eq!(w.kept()[0].pos.line, 11); // the marker line of the second dump (lines 8-12)
                                          // Without a GC line the ceiling is fixed, still far below 4 billion rows.
    let bare =
        "@@@ 10\nGC memory layout; from 20000000:\n       (4294967295 lines all free)\n@@@\n";
    let e = try_parse(bare.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("no heap dumps found"), "{e}");
}

#[test]
fn a_100_mb_line_without_newline_is_cut_not_held() {
    struct Endless(u64);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.0) as usize;
            buf[..n].fill(b'x');
            self.0 -= n as u64;
            Ok(n)
        }
    }
    let head = one(1, &pattern(64, 1));
    let reader = std::io::BufReader::new(std::io::Read::chain(head.as_bytes(), Endless(100 << 20)));
    let (c, w) = memanim::parse(reader, "big", &Default::default()).unwrap();
    assert_eq!(c.snapshot_count(), 1);
    assert_eq!(w.count(W::LongLine), 1);
    let long = c.sessions[0].logs.last().unwrap();
    assert_eq!(long.text.len(), memanim::capture::MAX_LINE_BYTES);
    assert_eq!(c.bytes, head.len() as u64 + (100 << 20) + 1);
}

#[test]
fn no_dumps_is_an_error_naming_the_file_and_line_count() {
    let e = try_parse(b"hello\nworld\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.log: no heap dumps found (2 lines read)"
    );
    let e = try_parse(b"").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.log: no heap dumps found (0 lines read); the file is empty"
    );
}

#[test]
fn row_like_log_lines_outside_a_dump_are_logs_with_a_warning() {
    // Four hex digits and text: not a row mem_info prints (5 or 8 digits, block characters),
    // so it does not start a pasted dump; it stays a log line, with a warning.
    let t = format!("beef: hello\n{}cafe: world\n", one(1, "h."));
    let (c, w) = parse(&t);
    assert_eq!(c.snapshot_count(), 1);
    assert_eq!(c.log_count(), 2);
    assert_eq!(w.count(W::OutsideDump), 2);
    assert_eq!(w.kept()[0].pos.line, 1);
    assert_eq!(c.sessions[0].logs.get(0).text, "beef: hello");
}

#[test]
fn timed_log_lines_from_the_device_helper() {
    let t = format!(
        "{}@@@ 1200 | INFO:app:connected\n{}",
        one(1000, "h."),
        one(1350, "hh")
    );
    let (c, _) = parse(&t);
    let l = c.sessions[0].logs.get(0);
    assert_eq!(l.text, "INFO:app:connected");
    assert_eq!(l.time_ms, Some(200));
    assert_eq!(l.after, Some(0));
}

#[test]
fn gc_total_disagreeing_with_the_blocks_is_a_warning() {
    let t = one(1, &pattern(128, 1)).replace("GC: total: 2048,", "GC: total: 4096,");
    let (c, w) = parse(&t);
    assert_eq!(c.snapshot_count(), 1);
    assert_eq!(w.count(W::GcMismatch), 1);
    // Offsets going backwards: rows are placed by counting, with a warning.
    let t = one(1, &pattern(256, 1)).replace("00000800:", "00000400:");
    let (c, w) = parse(&t);
    assert_eq!(
        common::chars(&c.sessions[0].snapshots.get(0).areas[0]),
        pattern(256, 1)
    );
    assert!(w.count(W::OffsetMismatch) >= 1);
}

#[test]
fn warnings_of_one_kind_are_counted_not_repeated() {
    let t: String = (0..1000)
        .map(|i| format!("{i:04x}: hhhh\n"))
        .collect::<String>()
        + &one(1, "h.");
    let (_, w) = parse(&t);
    assert_eq!(w.count(W::OutsideDump), 1000);
    assert_eq!(w.kept().len(), memanim::error::WARNINGS_KEPT_PER_KIND);
    let report = w.report("x.log");
    assert!(report.last().unwrap().contains("995 more"), "{report:?}");
}
