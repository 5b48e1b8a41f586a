//! The binary as users meet it: exit codes for every subcommand, messages that name the file and
//! the option, closed and full standard streams, times and snapshots outside the capture, outputs
//! checked before work starts, and summaries in plain words.

mod common;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use memanim::error::EXIT_CODES;

const BIN: &str = env!("CARGO_BIN_EXE_memanim");

fn memanim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs memanim with its standard output and error going where the caller says.
fn memanim_to(args: &[&str], stdout: Stdio, stderr: Stdio) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn dev_full() -> Stdio {
    Stdio::from(OpenOptions::new().write(true).open("/dev/full").unwrap())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A capture with warnings: 30 layout rows outside any dump, then one dump.
fn noisy_capture(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..30 {
        // Row-like lines outside a dump (4 hex digits: not a row a pasted table would have).
        text.push_str(&format!("{i:04x}: hhhh\n"));
    }
    text.push_str(&common::dump(
        5,
        &[common::Area {
            ptr: "20000000",
            blocks: "hh=S",
        }],
        Default::default(),
    ));
    let p = dir.join("noisy.log");
    std::fs::write(&p, text).unwrap();
    p
}

/// Dumps at the given ticks (ms), each with different blocks so no two look the same.
fn dumps_at(ticks: &[u64]) -> String {
    ticks
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let blocks = format!("{}{}", "h".repeat(i + 1), ".".repeat(63 - i));
            common::dump(
                t,
                &[common::Area {
                    ptr: "20000000",
                    blocks: &blocks,
                }],
                Default::default(),
            )
        })
        .collect()
}

#[test]
fn info_prints_a_summary_and_json() {
    let (code, out, _) = memanim(&["info", "samples/split_heap_coverage.log"]);
    assert_eq!(code, 0);
    assert!(out.contains("snapshots    80 in 1 session(s)"), "{out}");
    assert!(out.contains("4 area(s), 32-byte blocks"), "{out}");
    assert!(out.contains("dump period  median 141 ms"), "{out}");
    let (code, json, _) = memanim(&["info", "--json", "samples/unix32_blocks16.log"]);
    assert_eq!(code, 0);
    assert!(json.starts_with('{') && json.trim_end().ends_with('}'));
    assert!(json.contains("\"snapshots\":57"), "{json}");
    assert!(json.contains("\"block_size\":16"));
    assert!(json.contains("\"heap_bytes\":48000"));
    // Sessions and snapshots are numbered from 1, as in the text.
    assert!(json.contains("\"sessions\":[{\"index\":1,"), "{json}");
    assert!(json.contains("\"session\":1,\"snapshot\":"), "{json}");
    assert!(!json.contains("\"session\":0"), "{json}");
}

#[test]
fn renders_a_gif_and_reports_it() {
    let dir = common::scratch("cli_render");
    let out = dir.join("a.gif");
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", path(&out)]);
    assert_eq!(code, 0, "{err}");
    // Its dumps are 200 ms apart or more: one frame each.
    let dumps = common::dumps_of("samples/mixed_logs.log").len();
    assert!(
        err.contains(&format!("wrote {} ({dumps} frames", path(&out))),
        "{err}"
    );
    assert_eq!(common::decode_gif(&out).frames.len(), dumps);
    // -q prints nothing on success.
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", path(&out), "-q"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn warnings_are_counted_in_words() {
    let dir = common::scratch("cli_stdin");
    let out = dir.join("s.gif");
    let text = std::fs::read(noisy_capture(&dir)).unwrap();
    let res = common::memanim_fed(&["-", "-o", path(&out)], &text);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(
        err.contains("memanim: warning: -:1: heap dump line outside a dump"),
        "{err}"
    );
    // The kind is said in words, not as a Rust name.
    assert!(
        err.contains("and 25 more warnings like these (heap dump lines outside a dump)"),
        "{err}"
    );
    assert!(!err.contains("OutsideDump"), "{err}");
    assert!(err.contains("memanim: 30 warnings in -"), "{err}");
    // One frame is "1 frame".
    assert!(err.contains("(1 frame, "), "{err}");
    assert!(out.exists());
}

#[test]
fn bad_input_exits_1_with_a_message_naming_the_file() {
    let dir = common::scratch("cli_bad");
    let empty = dir.join("run.log");
    std::fs::write(&empty, "just a log line\nanother\n").unwrap();
    let out = dir.join("x.gif");
    let (code, _, err) = memanim(&[path(&empty), "-o", path(&out)]);
    assert_eq!(code, 1);
    assert!(
        err.contains("run.log: no heap dumps found (2 lines read)"),
        "{err}"
    );
    assert!(!out.exists());

    let (code, _, err) = memanim(&["does-not-exist.log", "-o", path(&out)]);
    assert_eq!(code, 1);
    assert!(err.contains("does-not-exist.log: cannot read it"), "{err}");

    let (code, _, err) = memanim(&["samples", "-o", path(&out)]);
    assert_eq!(code, 1);
    assert!(err.contains("directory"), "{err}");
}

/// Every subcommand, each exit code: (what, args, code, text stderr must hold).
#[test]
fn every_subcommand_exits_0_1_or_2_as_the_table_says() {
    let dir = common::scratch("cli_codes");
    let o = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let good = "samples/mixed_logs.log";
    let existing = o("existing.log");
    std::fs::write(&existing, "kept\n").unwrap();
    let cases: Vec<(&str, Vec<String>, i32, &str)> = vec![
        // render
        (
            "render ok",
            vec![good.into(), "-o".into(), o("a.gif")],
            0,
            "wrote",
        ),
        (
            "render no file",
            vec!["nope.log".into(), "-o".into(), o("b.gif")],
            1,
            "nope.log: cannot read it",
        ),
        (
            "render bad option",
            vec![
                good.into(),
                "-o".into(),
                o("c.gif"),
                "--speed".into(),
                "0".into(),
            ],
            2,
            "--speed",
        ),
        (
            "render -o -",
            vec![good.into(), "-o".into(), "-".into()],
            2,
            "needs --format",
        ),
        (
            "render .mp4",
            vec![good.into(), "-o".into(), o("d.mp4")],
            2,
            "ffmpeg",
        ),
        (
            "render still as gif",
            vec![
                good.into(),
                "--at".into(),
                "5s".into(),
                "-o".into(),
                o("e.gif"),
            ],
            2,
            "write one image, not a .gif file: use -o NAME.png (or .webp, .jpg)",
        ),
        (
            "render .png without --at",
            vec![good.into(), "-o".into(), o("f.png")],
            2,
            "--snapshot N",
        ),
        (
            "render --from after --to",
            vec![
                good.into(),
                "-o".into(),
                o("g.gif"),
                "--from".into(),
                "6s".into(),
                "--to".into(),
                "2s".into(),
            ],
            2,
            "--from 6 s is after --to 2 s",
        ),
        (
            "render --frame 0",
            vec![
                good.into(),
                "-o".into(),
                o("h.png"),
                "--frame".into(),
                "0".into(),
            ],
            2,
            "--frame",
        ),
        // info
        ("info ok", vec!["info".into(), good.into()], 0, ""),
        (
            "info no file",
            vec!["info".into(), "nope.log".into()],
            1,
            "nope.log: cannot read it",
        ),
        (
            "info typo",
            vec!["info".into(), good.into(), "--jsn".into()],
            2,
            "'--json'",
        ),
        // stats
        ("stats ok", vec!["stats".into(), good.into()], 0, ""),
        (
            "stats no dumps",
            vec!["stats".into(), "README.md".into()],
            1,
            "no heap dumps found",
        ),
        (
            "stats --every 0s",
            vec!["stats".into(), good.into(), "--every".into(), "0s".into()],
            2,
            "longer than 0",
        ),
        // diff
        (
            "diff ok",
            vec![
                "diff".into(),
                good.into(),
                "--at".into(),
                "1s".into(),
                "--at".into(),
                "5s".into(),
                "-o".into(),
                o("d1.png"),
            ],
            0,
            "wrote",
        ),
        (
            "diff no file",
            vec![
                "diff".into(),
                "nope.log".into(),
                "--at".into(),
                "1s".into(),
                "--at".into(),
                "5s".into(),
                "-o".into(),
                o("d2.png"),
            ],
            1,
            "nope.log: cannot read it",
        ),
        (
            "diff one --at",
            vec![
                "diff".into(),
                good.into(),
                "--at".into(),
                "1s".into(),
                "-o".into(),
                o("d3.png"),
            ],
            2,
            "give --at",
        ),
        (
            "diff .svg",
            vec![
                "diff".into(),
                good.into(),
                "--at".into(),
                "1s".into(),
                "--at".into(),
                "5s".into(),
                "-o".into(),
                o("d4.svg"),
            ],
            2,
            "NAME.png",
        ),
        // plot
        (
            "plot ok",
            vec!["plot".into(), good.into(), "-o".into(), o("p1.svg")],
            0,
            "wrote",
        ),
        (
            "plot no file",
            vec!["plot".into(), "nope.log".into(), "-o".into(), o("p2.svg")],
            1,
            "nope.log: cannot read it",
        ),
        (
            "plot .jpg",
            vec!["plot".into(), good.into(), "-o".into(), o("p3.jpg")],
            2,
            ".png or an .svg",
        ),
        // capture
        (
            "capture --list",
            vec!["capture".into(), "--list".into()],
            0,
            "",
        ),
        (
            "capture no port",
            vec![
                "capture".into(),
                "/dev/ttyNOPE9".into(),
                "-o".into(),
                o("c1.log"),
            ],
            1,
            "/dev/ttyNOPE9",
        ),
        (
            "capture existing file",
            vec![
                "capture".into(),
                "/dev/ttyNOPE9".into(),
                "-o".into(),
                existing.clone(),
            ],
            2,
            "will not overwrite",
        ),
        (
            "capture --render .mp4",
            vec![
                "capture".into(),
                "/dev/ttyNOPE9".into(),
                "-o".into(),
                o("c2.log"),
                "--render".into(),
                o("c2.mp4"),
            ],
            2,
            "ffmpeg",
        ),
    ];
    for (what, args, code, text) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, _, err) = memanim(&args);
        assert_eq!(got, *code, "{what}: {err}");
        assert!(err.contains(text), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        if *code == 2 && !err.starts_with("error:") {
            // Our usage errors read like the others: one line naming the option.
            assert!(err.starts_with("memanim: error: "), "{what}: {err}");
        }
    }
    // Every code in the table is exercised by every command that can reach it.
    for (code, _) in EXIT_CODES {
        assert!(cases.iter().any(|c| c.2 == code as i32), "code {code}");
    }
    // A refused usage never leaves files behind, nor a capture file created before refusing.
    assert!(!dir.join("c2.log").exists());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "kept\n");
}

#[test]
fn the_readme_and_help_print_the_one_exit_code_table() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (code, help, _) = memanim(&["--help"]);
    assert_eq!(code, 0);
    for (code, what) in EXIT_CODES {
        let row = format!("| {code} | {what} |");
        assert!(readme.contains(&row), "README lacks {row}");
        assert!(help.contains(&format!("  {code}  {what}")), "{help}");
    }
    for sub in ["info", "stats", "diff", "plot", "capture"] {
        let (code, help, _) = memanim(&[sub, "--help"]);
        assert_eq!(code, 0);
        assert!(help.contains("Exit codes:"), "{sub}");
    }
}

#[test]
fn typos_and_a_forgotten_dash_o_get_suggestions() {
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "heap.gif"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `-o heap.gif`?"), "{err}");
    assert!(!err.contains("subcommand"), "{err}");
    let (code, _, err) = memanim(&["inf", "samples/mixed_logs.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("a similar subcommand exists: 'info'"), "{err}");
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", "x.gif", "--fsp", "10"]);
    assert_eq!(code, 2);
    assert!(err.contains("a similar argument exists: '--fps'"), "{err}");
    assert!(!err.contains("-- --fsp"), "{err}");
}

#[test]
fn a_closed_or_full_stderr_does_not_stop_the_render() {
    let dir = common::scratch("cli_stderr");
    let input = noisy_capture(&dir);
    // `2>&1 | head -0`: the pipe is closed before memanim writes its first warning.
    let out = dir.join("closed.gif");
    let mut child = memanim_to(
        &[path(&input), "-o", path(&out)],
        Stdio::null(),
        Stdio::piped(),
    );
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "no panic (101), the output is written"
    );
    assert_eq!(common::decode_gif(&out).frames.len(), 1);
    // `2>/dev/full`: every message fails to be written.
    let out = dir.join("full.gif");
    let status = memanim_to(&[path(&input), "-o", path(&out)], Stdio::null(), dev_full())
        .wait()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(out.exists());
    // `2>&1 | head -1`: the reader takes one line, then goes.
    let out = dir.join("head.gif");
    let mut child = memanim_to(
        &[path(&input), "-o", path(&out)],
        Stdio::null(),
        Stdio::piped(),
    );
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.starts_with("memanim: warning: "), "{first}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(out.exists());
    // A failing error message does not change the exit code either.
    let status = memanim_to(&["nope.log", "-o", "x.gif"], Stdio::null(), dev_full())
        .wait()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_full_stdout_is_an_error_and_a_closed_one_ends_quietly() {
    for args in [
        &["info", "tests/data/long_run.log"][..],
        &["stats", "tests/data/long_run.log"],
        &["stats", "--json", "tests/data/long_run.log"],
        &["capture", "--list"],
    ] {
        // `> /dev/full`: the output is lost, so the exit code says so and names it.
        let res = memanim_to(args, dev_full(), Stdio::piped())
            .wait_with_output()
            .unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(
                "memanim: error: standard output: cannot write it: No space left on device"
            ),
            "{args:?}: {err}"
        );
        // `| head -c 0`: the reader is gone before the first byte; like ripgrep, exit 0 quietly.
        let mut child = memanim_to(args, Stdio::piped(), Stdio::piped());
        drop(child.stdout.take());
        let res = child.wait_with_output().unwrap();
        assert_eq!(res.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&res.stderr), "", "{args:?}");
    }
}

#[test]
fn times_and_snapshots_outside_the_capture_say_its_range() {
    let dir = common::scratch("cli_range");
    let s = "samples/frag_small.log";
    let ticks = common::ticks_of(s);
    let n = ticks.len();
    let since = |i: usize| ticks[i] - ticks[0];
    let span = format!(
        "{s} spans 0 to {} (snapshots #1 to #{n})",
        memanim::units::seconds(since(n - 1) as f64)
    );
    let span = span.as_str();
    let (past, past_end) = (
        format!("#{}", n + 1),
        format!("there is no snapshot #{}", n + 1),
    );
    let png = dir.join("s.png");
    let png = path(&png);
    for (args, text) in [
        (
            vec![s, "--at", "99s", "-o", png],
            "--at 99 s is after the end of the capture",
        ),
        (vec![s, "--at", past.as_str(), "-o", png], past_end.as_str()),
        (
            vec![s, "--snapshot", "200", "-o", png],
            "there is no snapshot #200",
        ),
        (
            vec![s, "--from", "13s", "-o", png, "--frame", "1"],
            "--from 13 s is after the end",
        ),
        (
            vec![s, "--to", "1m", "-o", "x.gif"],
            "--to 60 s is after the end",
        ),
        (
            vec!["diff", s, "--at", "99s", "--at", "1s", "-o", png],
            "--at 99 s is after the end",
        ),
        (
            vec!["diff", s, "--snapshot", "999", "--at", "1s", "-o", png],
            "no snapshot #999",
        ),
        (
            vec!["plot", s, "--from", "20s", "-o", "x.svg"],
            "--from 20 s is after the end",
        ),
    ] {
        let (code, _, err) = memanim(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(text), "{args:?}: {err}");
        assert!(err.contains(span), "{args:?}: {err}");
    }
    // --at before the window is not moved into it.
    let (code, _, err) = memanim(&[s, "--from", "6s", "--at", "5s", "-o", png]);
    assert_eq!(code, 2);
    let first = (0..n).find(|&i| since(i) >= 6000).unwrap();
    assert!(
        err.contains(&format!(
            "--at 5 s is outside the window --from/--to selects: 6 s to {} (snapshots #{} to #{n})",
            memanim::units::seconds(since(n - 1) as f64),
            first + 1
        )),
        "{err}"
    );
    assert!(!Path::new(png).exists());
}

#[test]
fn stills_and_diff_reach_every_snapshot_by_number() {
    let dir = common::scratch("cli_snapshot");
    // Three dumps within 2 ms, as the README's by-hand recipe makes them.
    let log = dir.join("hand.log");
    std::fs::write(&log, dumps_at(&[1000, 1001, 1002])).unwrap();
    let (code, _, err) = memanim(&[
        path(&log),
        "--snapshot",
        "1",
        "-o",
        path(&dir.join("one.png")),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(snapshot 1 of 3, at +0 s, "), "{err}");
    // The same still by '#N', and by --snapshot: the same picture.
    let (code, _, err) = memanim(&[path(&log), "--at", "#2", "-o", path(&dir.join("a.png"))]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(snapshot 2 of 3, at +0.001 s"), "{err}");
    memanim(&[
        path(&log),
        "--snapshot",
        "2",
        "-o",
        path(&dir.join("b.png")),
    ]);
    assert_eq!(
        std::fs::read(dir.join("a.png")).unwrap(),
        std::fs::read(dir.join("b.png")).unwrap()
    );
    // diff from the "before" dump to the last, by number.
    let (code, text, err) = memanim(&[
        "diff",
        path(&log),
        "--at",
        "#1",
        "--snapshot",
        "3",
        "-o",
        path(&dir.join("d.png")),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("from +0.000 s to +0.002 s"), "{text}");
    // 3 objects of one block more (h, hh, hhh: heads each).
    assert!(text.contains("total"), "{text}");
    let (code, _, err) = memanim(&[
        "diff",
        path(&log),
        "--at",
        "0s",
        "--at",
        "#1",
        "-o",
        path(&dir.join("e.png")),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("both pick snapshot #1"), "{err}");
}

#[test]
fn dumps_taken_by_hand_are_one_frame_each_and_merges_are_said() {
    let dir = common::scratch("cli_merge");
    let log = dir.join("hand.log");
    std::fs::write(&log, dumps_at(&[1000, 1001, 1002])).unwrap();
    let gif = dir.join("hand.gif");
    let (code, _, err) = memanim(&[path(&log), "-o", path(&gif)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(3 frames, "), "{err}");
    assert!(
        err.contains(
            "2 snapshots came less than 20 ms after the one before, and each is shown for 20 ms"
        ),
        "{err}"
    );
    let g = common::decode_gif(&gif);
    assert_eq!(g.frames.len(), 3);
    assert_eq!(g.delays, [2, 2, 300]);
    // --fps 2 holds each for half a second.
    let (code, _, err) = memanim(&[path(&log), "-o", path(&gif), "--fps", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(common::decode_gif(&gif).delays, [50, 50, 300]);
    // A high --speed thins a steady stream to the frame rate, and says so.
    let (code, _, err) = memanim(&[
        "samples/frag_small.log",
        "-o",
        path(&gif),
        "--speed",
        "10000",
    ]);
    assert_eq!(code, 0, "{err}");
    let frames = common::decode_gif(&gif).frames.len();
    let n = common::dumps_of("samples/frag_small.log").len();
    assert!(frames > 1 && frames < n, "{frames}");
    assert!(
        err.contains(&format!(
            "{} of {n} snapshots came faster than 50 frames per second at --speed 10000",
            n - frames
        )),
        "{err}"
    );
    assert!(err.contains("lower --speed"), "{err}");
}

#[test]
fn outputs_are_checked_before_work_and_format_wins() {
    let dir = common::scratch("cli_outputs");
    let s = "samples/mixed_logs.log";
    // --format wins over the extension: Y4M in a .webm, and in a name without one.
    for name in ["out.webm", "vid"] {
        let out = dir.join(name);
        let (code, _, err) = memanim(&[s, "-o", path(&out), "--format", "y4m", "-q"]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(std::fs::read(&out).unwrap().starts_with(b"YUV4MPEG2 "));
    }
    // diff writes PNG and nothing else.
    for name in ["d.svg", "d.gif", "d"] {
        let out = dir.join(name);
        let (code, _, err) = memanim(&["diff", s, "--at", "1s", "--at", "5s", "-o", path(&out)]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(!out.exists(), "{name}");
    }
    // A place that cannot hold files says why, and not that space is short.
    let (code, _, err) = memanim(&[s, "-o", "/proc/out.gif"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/proc/out.gif: cannot write it: cannot create a file in /proc"),
        "{err}"
    );
    assert!(!err.contains("free"), "{err}");
    // A missing directory is refused before the capture is read (stdin is never read).
    let res = common::memanim_fed(&["-", "-o", "/nonexistent-dir/x.gif"], b"");
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1));
    assert!(
        err.contains("directory /nonexistent-dir does not exist"),
        "{err}"
    );
    assert!(!err.contains("no heap dumps"), "{err}");
}

#[test]
fn capture_refuses_its_render_output_before_recording() {
    let dir = common::scratch("cli_capture");
    let log = dir.join("run.log");
    for (render, text) in [
        ("cap.mp4", "ffmpeg"),
        ("snap.png", "--at TIME, --snapshot N or --frame N"),
    ] {
        let (code, _, err) = memanim(&[
            "capture",
            "/dev/ttyNOPE9",
            "-o",
            path(&log),
            "--render",
            path(&dir.join(render)),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(text), "{err}");
        // The port was never opened: not "recording", and no complaint about the port.
        assert!(
            !err.contains("recording") && !err.contains("ttyNOPE9"),
            "{err}"
        );
        assert!(!log.exists());
    }
    // A flag that only shapes the render, given without --render, is refused: nothing would
    // heed it. --quiet is the recorder's own.
    for flag in [&["--fps", "5"][..], &["--color", "age"], &["--every", "2s"]] {
        let mut args = vec!["capture", "/dev/ttyNOPE9", "-o", path(&log)];
        args.extend_from_slice(flag);
        let (code, _, err) = memanim(&args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("{} shapes the render", flag[0])) && err.contains("--render"),
            "{err}"
        );
        assert!(!log.exists());
    }
    let (code, _, err) = memanim(&["capture", "/dev/ttyNOPE9", "-o", path(&log), "-q"]);
    assert_eq!(code, 1, "{err}");
    // A port that cannot be opened is reported without a "recording" line first.
    let (code, _, err) = memanim(&["capture", "/dev/ttyNOPE9", "-o", path(&log)]);
    assert_eq!(code, 1);
    assert!(!err.contains("recording"), "{err}");
    assert!(
        err.contains("serial port /dev/ttyNOPE9: cannot open it"),
        "{err}"
    );
}

#[test]
fn stats_numbers_sessions_from_1_and_its_help_matches_its_output() {
    let (code, csv, _) = memanim(&["stats", "--csv", "samples/mixed_logs.log"]);
    assert_eq!(code, 0);
    let second = csv.lines().nth(1).unwrap();
    assert!(second.starts_with("1,"), "{second}");
    let (_, json, _) = memanim(&["stats", "--json", "samples/mixed_logs.log"]);
    assert!(json.contains("\"session\":1,"), "{}", &json[..200]);
    assert!(!json.contains("\"session\":0"));
    let (_, text, _) = memanim(&["stats", "samples/mixed_logs.log"]);
    let (_, help, _) = memanim(&["stats", "--help"]);
    // The help promises what the summary prints.
    assert!(text.contains("lowest largest free") && help.contains("lowest largest free"));
    assert!(text.contains("peak used") && help.contains("peak use"));
    assert!(!help.contains("worst fragmentation"));
    // A healthy app reads healthy.
    let verdict = text
        .lines()
        .find(|l| l.starts_with("leak estimate"))
        .unwrap();
    assert!(verdict.contains("no leak: "), "{verdict}");
    assert!(!verdict.contains("KiB/min"), "{verdict}");
}

#[test]
fn still_and_format_messages_say_what_was_meant() {
    let dir = common::scratch("cli_still_messages");
    let png = dir.join("s.png");
    let png = png.to_str().unwrap();
    let s = "samples/frag_small.log";
    // Snapshots are counted from 1.
    let (code, _, err) = memanim(&[s, "--snapshot", "0", "-o", png]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("counted from 1"), "{err}");
    // --snapshot past the end names the snapshot, not --at.
    let (code, _, err) = memanim(&[s, "--snapshot", "135", "-o", png]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("there is no snapshot #135") && !err.contains("--at"),
        "{err}"
    );
    // --at oom on a capture with no MemoryError says so and what to do instead.
    let (code, _, err) = memanim(&["samples/asyncio_app.log", "--at", "oom", "-o", png]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("has no MemoryError") && err.contains("--snapshot N"),
        "{err}"
    );
    assert!(!std::path::Path::new(png).exists());
    // --format png with a .gif name writes frames into a directory of that name, and says so.
    let gif = dir.join("x.gif");
    let (code, _, err) = memanim(&[
        s,
        "--to",
        "0.2s",
        "--format",
        "png",
        "-o",
        gif.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: --format png writes a directory of PNG frames"),
        "{err}"
    );
    assert!(gif.is_dir() && gif.join("frame_000001.png").is_file());
}

#[test]
fn a_still_is_one_frame_whatever_max_frames_says() {
    // --max-frames bounds what an animation writes; a still writes one frame.
    let dir = common::scratch("cli_still_max_frames");
    let png = dir.join("s.png");
    let png = png.to_str().unwrap();
    let s = "samples/frag_small.log";
    for point in [["--snapshot", "60"], ["--at", "50%"]] {
        let (code, _, err) = memanim(&[s, point[0], point[1], "--max-frames", "10", "-o", png]);
        assert_eq!(code, 0, "{point:?}: {err}");
        assert!(err.contains("snapshot "), "{err}");
    }
    // The animation itself is still held to it.
    let gif = dir.join("a.gif");
    let (code, _, err) = memanim(&[s, "--max-frames", "10", "-o", gif.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("memanim: error: --max-frames 10: this would write"),
        "{err}"
    );
}

#[test]
fn time_options_are_checked_before_the_capture_is_read() {
    // A capture that does not exist: a usage error (2) is found first, so it is never opened.
    let dir = common::scratch("cli_times_first");
    let gif = dir.join("t.gif");
    let gif = path(&gif);
    for (args, said) in [
        (
            vec!["nope.log", "-o", gif, "--from", "6s", "--to", "2s"],
            "--from 6 s is after --to 2 s",
        ),
        (
            vec!["nope.log", "-o", gif, "--from", "#9", "--to", "#3"],
            "--from #9 is after --to #3",
        ),
        (
            vec!["nope.log", "-o", gif, "--max-idle", "50%"],
            "'50%' for '--max-idle <TIME>'",
        ),
        (
            vec!["stats", "nope.log", "--every", "50%"],
            "'50%' for '--every <TIME>'",
        ),
        (
            vec!["capture", "/dev/nope", "-o", "r.log", "--duration", "50%"],
            "'50%' for '--duration <TIME>'",
        ),
    ] {
        let (code, _, err) = memanim(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
        assert!(!err.contains("nope.log"), "{args:?}: {err}");
    }
    // Every spelling of a duration reaches the render as the same time.
    let s = "samples/mixed_logs.log";
    for idle in ["1m30s", "2.5s", "500ms", "90"] {
        let (code, _, err) = memanim(&[s, "-o", gif, "--max-idle", idle, "--every", idle, "-q"]);
        assert_eq!(code, 0, "{idle}: {err}");
    }
}
