//! Every row of the README's "Bad input" table, through the binary: the message, the exit code and
//! what was still written. Plus output faults: a full disk, a missing or unwritable directory,
//! Ctrl-C while rendering, a closed pipe.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    err: String,
}

fn memanim(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Writes `bytes` to a fresh file and renders it to a GIF beside it.
fn render_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (Run, PathBuf) {
    let input = dir.join(name);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.join(format!("{name}.gif"));
    let r = memanim(&[input.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"]);
    (r, out)
}

fn frames(path: &Path) -> usize {
    common::decode_gif(path).frames.len()
}

fn small() -> String {
    // The first 12 dumps of a real 32-bit capture.
    let text = sample("unix32_blocks16.log");
    let mut out = String::new();
    let mut ends = 0;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line == "@@@" {
            ends += 1;
            if ends == 12 {
                break;
            }
        }
    }
    out
}

#[test]
fn inputs_with_nothing_usable_exit_1_and_write_nothing() {
    let dir = common::scratch("bad_nothing");
    let (r, out) = render_bytes(&dir, "empty.log", b"");
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains("empty.log: no heap dumps found (0 lines read); the file is empty"),
        "{}",
        r.err
    );
    assert!(!out.exists());

    let png = std::fs::read(format!(
        "{}/samples/frag_small.gif",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (r, out) = render_bytes(&dir, "image.log", &png[..20_000]);
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains("it does not look like text (a binary file?)"),
        "{}",
        r.err
    );
    assert!(!out.exists());

    let elf = std::fs::read(env!("CARGO_BIN_EXE_memanim")).unwrap();
    let (r, _) = render_bytes(&dir, "elf.log", &elf[..50_000]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("binary file"), "{}", r.err);

    let (r, out) = render_bytes(
        &dir,
        "logs.log",
        b"INFO:app:starting\nWARNING:app:low memory\n>>> \n",
    );
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains("logs.log: no heap dumps found (3 lines read)"),
        "{}",
        r.err
    );
    assert!(!out.exists());

    let r = memanim(&[dir.to_str().unwrap(), "-o", "x.gif"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains("it is a directory, not a capture file"),
        "{}",
        r.err
    );

    let gone = dir.join("vanished.log");
    let r = memanim(&[
        gone.to_str().unwrap(),
        "-o",
        dir.join("v.gif").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains(": cannot read it: No such file or directory"),
        "{}",
        r.err
    );
}

#[test]
fn damaged_inputs_render_what_is_usable_with_warnings() {
    let dir = common::scratch("bad_damaged");
    let base = small();

    // A 100 MB line without a newline, at the end.
    let mut big = base.clone().into_bytes();
    big.extend(std::iter::repeat_n(b'x', 100 << 20));
    let (r, out) = render_bytes(&dir, "longline.log", &big);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err.contains("bytes long; only the first 65536 were read"),
        "{}",
        r.err
    );
    assert_eq!(frames(&out), 12);

    // A marker of 4 billion free lines: that dump is skipped, the rest rendered.
    let hostile = base.replacen(
        "       (",
        "       (4294967295 lines all free)\n       (",
        1,
    );
    let (r, out) = render_bytes(&dir, "freelines.log", hostile.as_bytes());
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err
            .contains("'(4294967295 lines all free)' is larger than the heap"),
        "{}",
        r.err
    );
    assert_eq!(frames(&out), 11);

    // Offsets going backwards, and a block size changing mid-dump: rows are placed by counting.
    let back = base.replacen("00000800:", "00000400:", 1);
    let (r, out) = render_bytes(&dir, "backwards.log", back.as_bytes());
    assert_eq!(r.code, 0);
    assert!(
        r.err
            .contains("printed offset 400 differs from the counted 800"),
        "{}",
        r.err
    );
    assert_eq!(frames(&out), 12);
    let step = base.replacen("00000c00:", "00001800:", 1);
    let (r, _) = render_bytes(&dir, "blocksize.log", step.as_bytes());
    assert_eq!(r.code, 0);
    assert!(r.err.contains("differs from the counted"), "{}", r.err);

    // More blocks than the GC total says.
    let more = base.replacen("GC: total: 48000,", "GC: total: 40000,", 1);
    let (r, out) = render_bytes(&dir, "gctotal.log", more.as_bytes());
    assert_eq!(r.code, 0);
    assert!(
        r.err.contains("but the GC line says total 40000"),
        "{}",
        r.err
    );
    assert_eq!(frames(&out), 12);

    // A dump with no end marker (the next dump starts), and one cut off by the end of the file.
    let noend = base.replacen("@@@\n@@@ ", "@@@ ", 1);
    let (r, out) = render_bytes(&dir, "noend.log", noend.as_bytes());
    assert_eq!(r.code, 0);
    assert!(r.err.contains("has no end marker '@@@'"), "{}", r.err);
    assert_eq!(frames(&out), 12);
    let cut = &base.as_bytes()[..base.len() - 3000];
    let (r, out) = render_bytes(&dir, "cut.log", cut);
    assert_eq!(r.code, 0);
    assert!(r.err.contains("the file ends inside the dump"), "{}", r.err);
    assert_eq!(frames(&out), 12);

    // Ticks jumping back without a reboot message: a second session.
    // (The copy loses its sync line, which would announce a restart by itself.)
    let mut jump = base.clone();
    let copy: String = base
        .lines()
        .filter(|l| !(l.starts_with("@@@ ") && l.ends_with(')')))
        .map(|l| format!("{l}\n"))
        .collect();
    jump.push_str(&copy.replace("@@@ 2071", "@@@ 1071"));
    let (r, out) = render_bytes(&dir, "ticks.log", jump.as_bytes());
    assert_eq!(r.code, 0);
    assert!(
        r.err
            .contains("without a reboot message; a new session starts here"),
        "{}",
        r.err
    );
    assert_eq!(frames(&out), 24);
}

#[test]
fn stdin_closed_early_renders_what_arrived() {
    let dir = common::scratch("bad_stdin");
    let out = dir.join("s.gif");
    let text = small();
    // Standard input closed mid-dump.
    let res = common::memanim_fed(
        &["-", "-o", out.to_str().unwrap()],
        &text.as_bytes()[..text.len() / 2],
    );
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(
        err.contains("-:") && err.contains("the file ends inside the dump"),
        "{err}"
    );
    assert!(frames(&out) >= 5);
}

#[test]
fn output_faults_leave_nothing_behind() {
    let dir = common::scratch("bad_output");
    let input = dir.join("in.log");
    std::fs::write(&input, small()).unwrap();
    let input = input.to_str().unwrap();

    // A directory that does not exist.
    let r = memanim(&[input, "-o", dir.join("missing/x.gif").to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("does not exist"), "{}", r.err);

    // A full disk: /dev/full takes the bytes in place (never renamed over) and fails.
    let r = memanim(&[input, "-o", "/dev/full", "--format", "gif"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("No space left on device"), "{}", r.err);
    assert!(std::fs::metadata("/dev/full")
        .unwrap()
        .file_type()
        .is_char_device_like());

    // A directory that is not writable (skipped as root, which may write anywhere).
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perm = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o555);
    std::fs::set_permissions(&ro, perm).unwrap();
    if std::fs::write(ro.join("probe"), b"x").is_ok() {
        eprintln!("*** SKIPPED: running as root, so a read-only directory is still writable ***");
    } else {
        let r = memanim(&[input, "-o", ro.join("x.gif").to_str().unwrap()]);
        assert_eq!(r.code, 1);
        assert!(r.err.contains("Permission denied"), "{}", r.err);
    }

    // Nothing but the input is left in the scratch directory (no temporary files).
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".memanim-tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}
impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_char_device(self)
    }
}

#[test]
fn ctrl_c_while_rendering_removes_the_partial_file_and_keeps_the_old_one() {
    let dir = common::scratch("bad_sigint");
    // A capture that takes a while to render: the 2 MiB heap, five times over, large cells.
    let one = std::fs::read_to_string(format!(
        "{}/tests/data/default_heap.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let input = dir.join("big.log");
    std::fs::write(&input, one.repeat(5)).unwrap();
    let out = dir.join("heap.gif");
    std::fs::write(&out, b"the previous GIF").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args([
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--cell",
            "4",
            "-j",
            "1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary file exists, then interrupt.
    let start = std::time::Instant::now();
    loop {
        let tmp = std::fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".memanim-tmp")
        });
        if tmp || start.elapsed().as_secs() > 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let res = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted; no output was written"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous GIF");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".memanim-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args([
            &format!("{}/samples/mixed_logs.log", env!("CARGO_MANIFEST_DIR")),
            "--format",
            "y4m",
            "-o",
            "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 10];
    std::io::Read::read_exact(&mut stdout, &mut head).unwrap();
    drop(stdout); // like `| head -c 10`
    let res = child.wait_with_output().unwrap();
    assert_eq!(&head, b"YUV4MPEG2 ");
    assert_eq!(res.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&res.stderr), "");
}
