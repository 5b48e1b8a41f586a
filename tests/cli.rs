//! The binary: exit codes, messages that name the file, stdin, warnings on stderr.

mod common;

use std::process::Command;

fn memanim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
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
}

#[test]
fn renders_a_gif_and_reports_it() {
    let dir = common::scratch("cli_render");
    let out = dir.join("a.gif");
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote") && err.contains("39 frames"), "{err}");
    assert_eq!(common::decode_gif(&out).frames.len(), 39);
    // -q prints nothing on success.
    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", out.to_str().unwrap(), "-q"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn reads_stdin_and_warns_once_with_a_count() {
    let dir = common::scratch("cli_stdin");
    let out = dir.join("s.gif");
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("{i:04x}: hhhh\n")); // row-like lines outside a dump
    }
    text.push_str(&common::dump(
        5,
        &[common::Area {
            ptr: "20000000",
            blocks: "hh=S",
        }],
        Default::default(),
    ));
    let res = common::memanim_fed(&["-", "-o", out.to_str().unwrap()], text.as_bytes());
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(
        err.contains("memanim: warning: -:1: heap dump line outside a dump"),
        "{err}"
    );
    assert!(err.contains("and 25 more warnings like these"), "{err}");
    assert!(err.contains("30 warning(s) in -"), "{err}");
    assert!(out.exists());
}

#[test]
fn bad_input_exits_1_with_a_message_naming_the_file() {
    let dir = common::scratch("cli_bad");
    let empty = dir.join("run.log");
    std::fs::write(&empty, "just a log line\nanother\n").unwrap();
    let out = dir.join("x.gif");
    let (code, _, err) = memanim(&[empty.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("run.log: no heap dumps found (2 lines read)"),
        "{err}"
    );
    assert!(!out.exists());

    let (code, _, err) = memanim(&["does-not-exist.log", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read does-not-exist.log"), "{err}");

    let (code, _, err) = memanim(&["samples", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("directory"), "{err}");

    let (code, _, err) = memanim(&["samples/mixed_logs.log", "-o", "heap.mp4"]);
    assert_eq!(code, 1);
    assert!(err.contains("'.mp4'"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(memanim(&["samples/mixed_logs.log"]).0, 2);
    assert_eq!(
        memanim(&["samples/mixed_logs.log", "-o", "a.gif", "--fps", "500"]).0,
        2
    );
    let (code, out, _) = memanim(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes:"));
}

#[test]
fn diff_needs_two_times_and_prints_a_summary() {
    let dir = common::scratch("cli_diff");
    let out = dir.join("d.png");
    let (code, _, err) = memanim(&[
        "diff",
        "samples/mixed_logs.log",
        "--at",
        "1s",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("give --at twice"), "{err}");
    let (code, text, err) = memanim(&[
        "diff",
        "samples/mixed_logs.log",
        "--at",
        "1s",
        "--at",
        "5s",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.starts_with("from +") && text.contains("allocated") && text.contains("total"),
        "{text}"
    );
    assert!(out.exists());
}
