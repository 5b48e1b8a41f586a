//! Reading a capture from standard input, from a file that is still being written, and the
//! temporary spool that standard input goes through (issue 16, item 5).
//!
//! A capture on stdin (`-`) is copied to an unnamed temporary file as it is parsed, so that its
//! dumps can be read again when frames need them (src/capture/source.rs). These tests check that
//! this path gives what the file path gives, that a live capture is read up to its last complete
//! dump, and that the spool never outlives the process: not after success, an error or Ctrl-C.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use memanim::heap::BlockKind;

const BIN: &str = env!("CARGO_BIN_EXE_memanim");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs memanim with `args`, standard input from `stdin` (closed after it), or none.
fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    match stdin {
        Some(bytes) => common::memanim_fed(args, bytes),
        None => Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    }
}

fn ok(out: &Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

/// The captures read both ways: a real app's, a paste without markers (one dump untimed), and a
/// paste across a soft reboot (two sessions, the first ending in a cut-off dump).
const CAPTURES: [&str; 3] = [
    "samples/asyncio_app.log",
    "tests/paste/mixed.txt",
    "tests/paste/resets.txt",
];

#[test]
fn info_and_stats_are_the_same_from_stdin_and_from_the_file() {
    for rel in CAPTURES {
        let path = root().join(rel);
        let p = path.to_str().unwrap();
        let bytes = std::fs::read(&path).unwrap();

        let csv_file = ok(&run(&["stats", "--csv", p], None), rel);
        let csv_stdin = ok(&run(&["stats", "--csv", "-"], Some(&bytes)), rel);
        assert!(csv_file.len() > 100, "{rel}: stats printed rows");
        assert_eq!(csv_file, csv_stdin, "{rel}: stats --csv");

        // The capture's name is the one thing that differs: its path, or "-" for stdin. Named
        // the same, the two outputs are the same byte for byte.
        let json_file = String::from_utf8(ok(&run(&["info", "--json", p], None), rel)).unwrap();
        let json_stdin =
            String::from_utf8(ok(&run(&["info", "--json", "-"], Some(&bytes)), rel)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json_file).unwrap();
        assert_eq!(v["source"], p, "{rel}");
        assert!(v["snapshots"].as_u64().unwrap() >= 3, "{rel}: {v}");
        let v: serde_json::Value = serde_json::from_str(&json_stdin).unwrap();
        assert_eq!(v["source"], "-", "{rel}");
        assert_eq!(json_file.replace(p, "-"), json_stdin, "{rel}: info --json");
    }
}

#[test]
fn a_gif_is_the_same_from_stdin_and_from_the_file_but_for_the_name_it_shows() {
    let dir = common::scratch("scale_io_gif");
    for rel in CAPTURES {
        let path = root().join(rel);
        let p = path.to_str().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let from_file = dir.join("file.gif");
        let from_stdin = dir.join("stdin.gif");
        ok(
            &run(&[p, "-o", from_file.to_str().unwrap(), "-q"], None),
            rel,
        );
        ok(
            &run(
                &["-", "-o", from_stdin.to_str().unwrap(), "-q"],
                Some(&bytes),
            ),
            rel,
        );
        // Standard output carries the same bytes as a file, whichever way the capture came.
        let piped_file = ok(&run(&[p, "-o", "-", "--format", "gif", "-q"], None), rel);
        let piped_stdin = ok(
            &run(&["-", "-o", "-", "--format", "gif", "-q"], Some(&bytes)),
            rel,
        );
        assert_eq!(piped_file, std::fs::read(&from_file).unwrap(), "{rel}");
        assert_eq!(piped_stdin, std::fs::read(&from_stdin).unwrap(), "{rel}");

        // The title line at the top shows the capture's name ("-" for stdin); every other pixel
        // of every frame, every delay and the frame count are the same.
        let a = common::decode_gif(&from_file);
        let b = common::decode_gif(&from_stdin);
        assert_eq!((a.width, a.height), (b.width, b.height), "{rel}");
        assert_eq!(a.delays, b.delays, "{rel}");
        assert!(a.frames.len() >= 3, "{rel}: {} frames", a.frames.len());
        let mut rows = (u32::MAX, 0);
        for (fa, fb) in a.frames.iter().zip(&b.frames) {
            for (i, (pa, pb)) in fa.iter().zip(fb).enumerate() {
                if pa != pb {
                    let y = i as u32 / a.width;
                    rows = (rows.0.min(y), rows.1.max(y));
                }
            }
        }
        assert!(
            rows.0 <= rows.1,
            "{rel}: the name is drawn, so the title differs"
        );
        assert!(
            rows.1 < 32 && rows.1 - rows.0 < 20,
            "{rel}: frames differ in rows {}..={} of {}, beyond the title line",
            rows.0,
            rows.1,
            a.height
        );
    }
}

/// The capture the live-file tests cut: a sync line and then real dumps 350 ms apart.
fn live_text(n: usize) -> String {
    common::replay(&common::dumps_of("samples/asyncio_app.log"), n, 350)
}

/// Where each dump of `text` starts (its `@@@ <ticks>` line) and where it ends (after its `@@@`
/// line).
fn dump_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end();
        if l == "@@@" {
            if let Some(s) = start.take() {
                out.push((s, at + line.len()));
            }
        } else if l.starts_with("@@@ ") && !l.ends_with(')') {
            start = Some(at);
        }
        at += line.len();
    }
    out
}

/// A capture file being written, as a board's recorder writes it: appended to, never rewritten.
struct Appender(std::fs::File);

impl Appender {
    /// Creates the file holding `text`.
    fn new(path: &Path, text: &str) -> Appender {
        std::fs::write(path, text).unwrap();
        Appender(std::fs::OpenOptions::new().append(true).open(path).unwrap())
    }

    fn push(&mut self, text: &str) {
        self.0.write_all(text.as_bytes()).unwrap();
    }
}

fn parse_file(path: &Path) -> (memanim::Capture, memanim::Warnings) {
    memanim::parse_path(path, "live.log", &Default::default()).expect("the capture has dumps")
}

#[test]
fn a_dump_completed_before_reading_is_counted_and_one_cut_off_is_not_complete() {
    let text = live_text(6);
    let spans = dump_spans(&text);
    assert_eq!(spans.len(), 6);
    let dir = common::scratch("scale_io_cut");
    let path = dir.join("live.log");
    let full = parse_file(&{
        std::fs::write(&path, &text).unwrap();
        path.clone()
    })
    .0;
    let full: Vec<_> = full.snapshots().map(|(_, s)| s).collect();

    // Five whole dumps: five complete snapshots, nothing cut off, nothing to warn about.
    std::fs::write(&path, &text[..spans[4].1]).unwrap();
    let (c, w) = parse_file(&path);
    let info = memanim::analysis::info::summarize(&c, &w);
    assert_eq!((info.snapshots, info.incomplete_snapshots), (5, 0));
    assert_eq!(w.total(), 0, "{:?}", w.report("live.log"));
    // The end marker written, its line end not yet: the dump is whole.
    std::fs::write(&path, &text[..spans[4].1 - 1]).unwrap();
    let (c, w) = parse_file(&path);
    let info = memanim::analysis::info::summarize(&c, &w);
    assert_eq!((info.snapshots, info.incomplete_snapshots), (5, 0));

    // The sixth dump written a byte at a time, and the file read after each: still five
    // complete snapshots in one session, and at most one more, marked incomplete, whose blocks
    // are the dump's own as far as it was written and missing after that (never another kind,
    // never more blocks than the dump has).
    let (start, end) = spans[5];
    let mut live = Appender::new(&path, &text[..start]);
    for cut in start + 1..end - 1 {
        live.push(&text[cut - 1..cut]);
        let (c, w) = parse_file(&path);
        let at = format!("file cut {} bytes into the sixth dump", cut - start);
        assert_eq!(c.sessions.len(), 1, "{at}");
        let snaps: Vec<_> = c.snapshots().map(|(_, s)| s).collect();
        let complete = snaps.iter().filter(|s| s.complete).count();
        assert_eq!(complete, 5, "{at}");
        assert!(snaps.len() <= 6, "{at}: {} snapshots", snaps.len());
        for (s, f) in snaps.iter().zip(&full).take(5) {
            assert_eq!((s.ticks, s.gc, &s.areas), (f.ticks, f.gc, &f.areas), "{at}");
        }
        if let Some(cut_snap) = snaps.get(5) {
            assert!(!cut_snap.complete, "{at}");
            assert_eq!(cut_snap.ticks, full[5].ticks, "{at}");
            assert!(w.count(memanim::WarningKind::DumpCutOff) >= 1, "{at}");
            for (a, fa) in cut_snap.areas.iter().zip(&full[5].areas) {
                assert!(a.blocks.len() <= fa.blocks.len(), "{at}");
                let written = a
                    .blocks
                    .iter()
                    .take_while(|&&k| k != BlockKind::Missing)
                    .count();
                assert_eq!(a.blocks[..written], fa.blocks[..written], "{at}");
                assert!(
                    a.blocks[written..].iter().all(|&k| k == BlockKind::Missing),
                    "{at}"
                );
            }
        }
    }
}

/// The figures of a dump cut off by the end of a live file come from whole lines only: a number
/// that was being written when memanim read the file (`max free sz: 52` of `5204`) is not a
/// figure.
#[test]
fn a_number_cut_by_the_end_of_a_live_file_is_not_read_as_a_figure() {
    let text = live_text(6);
    let spans = dump_spans(&text);
    let dir = common::scratch("scale_io_cut_figures");
    let path = dir.join("live.log");
    std::fs::write(&path, &text).unwrap();
    let (c, w) = parse_file(&path);
    let whole = memanim::analysis::info::summarize(&c, &w);
    let last = c.snapshots().last().unwrap().1;
    std::fs::write(&path, &text[..spans[4].1]).unwrap();
    let (c, w) = parse_file(&path);
    let five_lowest = memanim::analysis::info::summarize(&c, &w)
        .min_largest_free
        .unwrap()
        .0;
    let (start, end) = spans[5];
    let mut live = Appender::new(&path, &text[..start]);
    for cut in start + 1..end {
        live.push(&text[cut - 1..cut]);
        let (c, w) = parse_file(&path);
        let at = format!(
            "file cut {} bytes into the sixth dump, after {:?}",
            cut - start,
            &text[cut.saturating_sub(24)..cut]
        );
        if let Some((_, s)) = c.snapshots().nth(5) {
            if let Some(g) = s.gc {
                let f = last.gc.unwrap();
                assert!(g.total == f.total || g.total == 0, "{at}: total {g:?}");
                assert!(g.used == f.used || g.used == 0, "{at}: used {g:?}");
                assert!(g.free == f.free || g.free == 0, "{at}: free {g:?}");
                assert!(
                    g.max_free.is_none() || g.max_free == f.max_free,
                    "{at}: max free {g:?}"
                );
            }
        }
        // So the capture's extremes are those of the real dumps.
        let info = memanim::analysis::info::summarize(&c, &w);
        let lowest = info.min_largest_free.map(|x| x.0).unwrap();
        assert!(
            lowest == five_lowest || lowest == whole.min_largest_free.unwrap().0,
            "{at}: lowest largest free {lowest} B"
        );
    }
}

/// Another thread appends to the capture while `memanim info` reads it. However the two race,
/// memanim reads a prefix of what was written and reports exactly what the file held up to the
/// byte count it gives: the same report, byte for byte, as a copy of that prefix gives.
#[test]
fn a_capture_appended_to_while_it_is_read_is_read_to_where_it_was() {
    let text = live_text(1200);
    let spans = dump_spans(&text);
    let dir = common::scratch("scale_io_live");
    let path = dir.join("live.log");
    // Half of it, cut in the middle of a layout row of the dump in progress.
    let half = spans[spans.len() / 2].0 + 300;
    std::fs::write(&path, &text[..half]).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (path, text, done) = (path.clone(), text.clone(), done.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            let mut at = half;
            while at < text.len() && !done.load(std::sync::atomic::Ordering::SeqCst) {
                let next = (at + 3001).min(text.len());
                f.write_all(&text.as_bytes()[at..next]).unwrap();
                at = next;
                // Slower than memanim reads, so that it catches up with the end of the file.
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    let out = run(&["info", "--json", path.to_str().unwrap()], None);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    let live = String::from_utf8(ok(&out, "info on a live file")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&live).unwrap();
    // `bytes` counts a line end after the last line even where the file had none yet.
    let counted = v["bytes"].as_u64().unwrap() as usize;
    assert!(
        counted >= half && counted <= text.len() + 1,
        "{counted} of {}",
        text.len()
    );
    let read = if text.as_bytes()[counted - 1] == b'\n' {
        counted
    } else {
        counted - 1
    };
    let whole_dumps = spans.iter().filter(|s| s.1 <= read).count();
    let snapshots = v["snapshots"].as_u64().unwrap() as usize;
    let incomplete = v["incomplete_snapshots"].as_u64().unwrap() as usize;
    assert_eq!(snapshots - incomplete, whole_dumps, "{live}");
    assert!(incomplete <= 1);
    let copy = dir.join("copy.log");
    std::fs::write(&copy, &text[..read]).unwrap();
    let again = String::from_utf8(ok(
        &run(&["info", "--json", copy.to_str().unwrap()], None),
        "info on the copy",
    ))
    .unwrap();
    assert_eq!(
        live,
        again.replace(copy.to_str().unwrap(), path.to_str().unwrap())
    );
}

/// A fresh, empty directory to be memanim's TMPDIR.
fn tmpdir(name: &str) -> PathBuf {
    common::scratch(name)
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Starts memanim with `args`, TMPDIR set to `tmp`, stdin a pipe left open.
fn start(args: &[&str], tmp: &Path) -> Child {
    Command::new(BIN)
        .args(args)
        .env("TMPDIR", tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The files `pid` holds open, as /proc shows their paths.
#[cfg(target_os = "linux")]
fn open_files(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (at most 20 s) until `pid` holds a file in `tmp` open, and returns its path as /proc
/// shows it.
#[cfg(target_os = "linux")]
fn wait_for_spool(pid: u32, tmp: &Path) -> String {
    let prefix = format!("{}/", tmp.display());
    let t = Instant::now();
    loop {
        if let Some(p) = open_files(pid).into_iter().find(|p| p.starts_with(&prefix)) {
            return p;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "memanim never opened a spool in {prefix}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The spool is in TMPDIR, open, and already nameless: nothing there can outlive the process.
#[cfg(target_os = "linux")]
fn assert_spool_unnamed(pid: u32, tmp: &Path) {
    let spool = wait_for_spool(pid, tmp);
    assert!(
        spool.ends_with(" (deleted)"),
        "the spool has a name while memanim runs: {spool}"
    );
    assert_eq!(entries(tmp), Vec::<String>::new(), "TMPDIR while running");
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(target_os = "linux")]
#[test]
fn the_spool_is_gone_after_success() {
    let tmp = tmpdir("scale_io_tmp_ok");
    let text = live_text(40);
    let mut child = start(&["info", "--json", "-"], &tmp);
    let mut stdin = child.stdin.take().unwrap();
    // Half the capture, the pipe left open: memanim is reading, its spool exists.
    stdin.write_all(&text.as_bytes()[..text.len() / 2]).unwrap();
    assert_spool_unnamed(child.id(), &tmp);
    stdin.write_all(&text.as_bytes()[text.len() / 2..]).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let json = ok(&out, "info from stdin");
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["snapshots"], 40);
    assert_eq!(entries(&tmp), Vec::<String>::new(), "TMPDIR after success");
}

#[cfg(target_os = "linux")]
#[test]
fn the_spool_is_gone_after_an_error() {
    let tmp = tmpdir("scale_io_tmp_err");
    let mut child = start(&["info", "-"], &tmp);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"boot\nINFO:app:no heap dump in here\n")
        .unwrap();
    assert_spool_unnamed(child.id(), &tmp);
    stdin.write_all(b"still none\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("memanim: error: -: no heap dump") && err.contains("3 lines"),
        "{err}"
    );
    assert_eq!(entries(&tmp), Vec::<String>::new(), "TMPDIR after an error");
}

/// Ctrl-C while the GIF of a capture from stdin is being written: memanim stops, says so, exits
/// 1, and leaves neither its spool nor a part of the GIF behind.
#[cfg(target_os = "linux")]
#[test]
fn the_spool_and_the_output_are_gone_after_ctrl_c_while_rendering() {
    let tmp = tmpdir("scale_io_tmp_int");
    let out_dir = common::scratch("scale_io_tmp_int_out");
    let gif = out_dir.join("heap.gif");
    // Every one of 4,000 dumps a frame: seconds of work, where memanim is stopped at once.
    let text = live_text(4000);
    let mut child = start(
        &[
            "-",
            "-o",
            gif.to_str().unwrap(),
            "-q",
            "--max-frames",
            "100000",
        ],
        &tmp,
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    // The GIF being written (its temporary file beside it) means rendering has begun.
    let t = Instant::now();
    while entries(&out_dir).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "memanim ended before it was interrupted"
        );
        assert!(t.elapsed() < Duration::from_secs(30), "no output appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_spool_unnamed(child.id(), &tmp);
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(entries(&tmp), Vec::<String>::new(), "TMPDIR after Ctrl-C");
    assert_eq!(
        entries(&out_dir),
        Vec::<String>::new(),
        "the output directory"
    );
}

/// Ctrl-C while memanim waits for more of the capture on stdin: the read in progress finishes,
/// then memanim stops, exits 1 and leaves no spool.
#[cfg(target_os = "linux")]
#[test]
fn the_spool_is_gone_after_ctrl_c_while_reading_stdin() {
    let tmp = tmpdir("scale_io_tmp_int_read");
    let text = live_text(40);
    let mut child = start(&["stats", "-"], &tmp);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&text.as_bytes()[..text.len() / 2]).unwrap();
    assert_spool_unnamed(child.id(), &tmp);
    interrupt(&child);
    // A pipe read is restarted after the signal; the next bytes end it.
    std::thread::sleep(Duration::from_millis(20));
    let _ = stdin.write_all(&text.as_bytes()[text.len() / 2..]);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(out.stdout.is_empty(), "no stats after Ctrl-C");
    assert_eq!(entries(&tmp), Vec::<String>::new(), "TMPDIR after Ctrl-C");
}

/// Ctrl-C in a terminal reaches every process of the pipeline, so the program writing memanim's
/// standard input ends too: memanim sees the signal, then the end of its input. That is still a
/// Ctrl-C: no summary of half a capture, exit 1.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_then_the_end_of_stdin_still_stops_info_and_stats() {
    for cmd in ["info", "stats"] {
        let tmp = tmpdir(&format!("scale_io_tmp_int_eof_{cmd}"));
        let text = live_text(40);
        let mut child = start(&[cmd, "-"], &tmp);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&text.as_bytes()[..text.len() / 2]).unwrap();
        assert_spool_unnamed(child.id(), &tmp);
        interrupt(&child);
        std::thread::sleep(Duration::from_millis(20));
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("interrupted"), "{cmd}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{cmd}: printed a summary after Ctrl-C"
        );
        assert_eq!(entries(&tmp), Vec::<String>::new(), "TMPDIR after Ctrl-C");
    }
}
