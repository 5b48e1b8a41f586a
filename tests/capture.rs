//! `memanim capture` against a pseudo-terminal pair: the test holds the "board" end and feeds it
//! what the real MicroPython unix port printed (or plays a raw-REPL board); memanim records the
//! other end by its name, as it would /dev/ttyUSB0. Unix only (pseudo-terminals, signals);
//! tests/record.rs runs the recorder over a stand-in board on every OS.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

/// TTYPort::pair is not thread-safe (ptsname): one pty test at a time.
static PTY: Mutex<()> = Mutex::new(());

struct Board {
    master: TTYPort,
    /// Kept open so the pty stays up between memanim's open and the test's writes.
    _slave: TTYPort,
    name: String,
}

fn board() -> Board {
    // The slave end is left as pair() makes it: raw, and without a lock, so memanim can take its
    // own exclusive one (set_exclusive(false) would take a shared flock and block it).
    let (master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
    // pair() does not open them close-on-exec: without this, memanim would inherit the board end
    // and keep the pty alive after the test closes it.
    for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
        // SAFETY: fcntl on descriptors this process owns.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let name = slave.name().expect("the slave has a path");
    Board {
        master,
        _slave: slave,
        name,
    }
}

/// What the real MicroPython printed for the asyncio workload.
fn workload_output(mp: &Path) -> Vec<u8> {
    let out = Command::new(mp)
        .args(["-X", "heapsize=64K", "workload_async.py", "150", "1500"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/device"))
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn spawn_capture(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_memanim"))
        .arg("capture")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_size(path: &Path, size: u64) {
    let start = Instant::now();
    while std::fs::metadata(path).map_or(0, |m| m.len()) < size {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never reached {size} bytes",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_ready(path: &Path, child: &mut Child) {
    // memanim creates the file once the port is open.
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("memanim exited ({status}) before opening the port: {err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "memanim never opened the port"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sigint(child: &Child) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

#[test]
fn records_every_byte_and_ctrl_c_leaves_a_complete_file() {
    let Some(mp) = common::micropython("this capture test") else {
        return;
    };
    let data = workload_output(&mp);
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let mut b = board();
    let dir = common::scratch("cap_bytes");
    let file = dir.join("run.log");
    let mut child = spawn_capture(&[&b.name, "-o", file.to_str().unwrap()]);
    wait_ready(&file, &mut child);
    for chunk in data.chunks(700) {
        b.master.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    wait_for_size(&file, data.len() as u64);
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stopped by Ctrl-C"), "{err}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        data,
        "the file is byte for byte what the board sent"
    );
    // And it renders.
    let (c, _) = common::parse(&String::from_utf8(data).unwrap());
    assert!(c.snapshot_count() >= 8);
}

#[test]
fn stops_after_n_dumps() {
    let Some(mp) = common::micropython("this capture test") else {
        return;
    };
    let data = String::from_utf8(workload_output(&mp)).unwrap();
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let mut b = board();
    let dir = common::scratch("cap_dumps");
    let file = dir.join("run.log");
    let mut child = spawn_capture(&[&b.name, "-o", file.to_str().unwrap(), "--dumps", "3"]);
    wait_ready(&file, &mut child);
    // Line by line, as a board prints; memanim must stop on its own after the third dump.
    let mut sent = 0;
    for line in data.split_inclusive('\n') {
        if b.master.write_all(line.as_bytes()).is_err() {
            break;
        }
        sent += line.len();
        if line == "@@@\n" {
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "--dumps 3 did not stop the recording"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("--dumps reached"), "{err}");
    let got = std::fs::read_to_string(&file).unwrap();
    assert!(data.starts_with(&got) && got.len() < sent);
    let (c, _) = common::parse(&got);
    assert_eq!(c.snapshot_count(), 3);
    assert!(got.ends_with("@@@\n"));
}

#[test]
fn a_writer_killed_mid_dump_leaves_a_file_that_renders() {
    let Some(mp) = common::micropython("this capture test") else {
        return;
    };
    let data = workload_output(&mp);
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let b = board();
    let dir = common::scratch("cap_killed");
    let file = dir.join("run.log");
    let mut child = spawn_capture(&[&b.name, "-o", file.to_str().unwrap()]);
    wait_ready(&file, &mut child);
    // Half the output, cut in the middle of a dump, then the board end goes away.
    let text = String::from_utf8(data).unwrap();
    let cut = text[..text.len() / 2].rfind("\n0000").unwrap() + 12;
    let mut master = b.master;
    master.write_all(&text.as_bytes()[..cut]).unwrap();
    wait_for_size(&file, cut as u64);
    drop(master);
    drop(b._slave);
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("disappeared") && err.contains("the port went away"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), &text.as_bytes()[..cut]);
    let gif = dir.join("run.gif");
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .arg(&file)
        .arg("-o")
        .arg(&gif)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the file ends inside the dump"), "{err}");
    assert!(common::decode_gif(&gif).frames.len() >= 3);
}

#[test]
fn runs_a_script_through_the_raw_repl_of_a_stand_in_board() {
    let Some(mp) = common::micropython("this capture test") else {
        return;
    };
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let b = board();
    let dir = common::scratch("cap_run");
    let file = dir.join("run.log");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/device/raw_repl_app.py");
    let name = b.name.clone();
    // The stand-in board: speaks the raw REPL on the master end and runs what it is sent with the
    // real MicroPython, the way a board would run it.
    let mut master = b.master;
    master.set_timeout(Duration::from_millis(50)).unwrap();
    let stand_in = std::thread::spawn(move || -> (Vec<u8>, TTYPort) {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        let mut in_raw = false;
        let start = Instant::now();
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no script arrived: {got:?}"
            );
            let n = master.read(&mut buf).unwrap_or_default();
            for &c in &buf[..n] {
                match c {
                    0x01 => {
                        in_raw = true;
                        got.clear();
                        master.write_all(b"raw REPL; CTRL-B to exit\r\n>").unwrap();
                    }
                    0x03 => {}
                    0x04 if in_raw => {
                        master.write_all(b"OK").unwrap();
                        let src = dir_script(&got);
                        let out = Command::new(&mp)
                            .arg("-X")
                            .arg("heapsize=64K")
                            .arg(&src)
                            .output()
                            .unwrap();
                        master.write_all(&out.stdout).unwrap();
                        master.write_all(b"\x04").unwrap();
                        master.write_all(&out.stderr).unwrap();
                        master.write_all(b"\x04>").unwrap();
                        // A board stays connected after the script ends.
                        return (out.stdout, master);
                    }
                    c if in_raw => got.push(c),
                    _ => {}
                }
            }
        }
    });
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args([
            "capture",
            &name,
            "-o",
            file.to_str().unwrap(),
            "--run",
            script.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (printed, _still_connected) = stand_in.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the script ended"), "{err}");
    let recorded = std::fs::read(&file).unwrap();
    assert_eq!(
        recorded, printed,
        "the file holds the script's output, without the protocol bytes"
    );
    let (c, _) = common::parse(&String::from_utf8(recorded).unwrap());
    assert_eq!(c.snapshot_count(), 4);
}

/// Writes the script the stand-in board received to a file MicroPython can run.
fn dir_script(src: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("memanim-raw-repl-{}.py", std::process::id()));
    std::fs::write(&p, src).unwrap();
    p
}

#[test]
fn refuses_to_overwrite_and_names_the_ports_it_knows() {
    let dir = common::scratch("cap_refuse");
    let file = dir.join("run.log");
    std::fs::write(&file, "precious").unwrap();
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let b = board();
    let (code, err) = finish(spawn_capture(&[&b.name, "-o", file.to_str().unwrap()]));
    // A usage error, refused before the port is opened: nothing says "recording".
    assert_eq!(code, 2);
    assert!(!err.contains("recording"), "{err}");
    assert!(
        err.contains("exists; memanim will not overwrite a capture"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    let (code, err) = finish(spawn_capture(&[
        "/dev/ttyNOPE9",
        "-o",
        dir.join("x.log").to_str().unwrap(),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("/dev/ttyNOPE9")
            && (err.contains("ports here") || err.contains("no serial ports")),
        "{err}"
    );
    assert!(!dir.join("x.log").exists());
    // --append adds to it.
    let mut master = b.master;
    let child = spawn_capture(&[
        &b.name,
        "-o",
        file.to_str().unwrap(),
        "--append",
        "--duration",
        "1s",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    master.write_all(b"+more\n").unwrap();
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious+more\n");
}

#[test]
fn reconnects_when_the_board_comes_back_and_marks_the_gap() {
    let _lock = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = common::scratch("cap_reconnect");
    let file = dir.join("run.log");
    // The port is named through a symlink, as /dev/serial/by-id/... names a board: when the board
    // comes back on another device, the name still leads to it.
    let link = dir.join("board");
    let a = board();
    std::os::unix::fs::symlink(&a.name, &link).unwrap();
    let mut child = spawn_capture(&[
        link.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
        "--reconnect",
    ]);
    wait_ready(&file, &mut child);
    let part1 = b"INFO:app:before the unplug\n";
    let mut m = a.master;
    m.write_all(part1).unwrap();
    wait_for_size(&file, part1.len() as u64);
    drop(m);
    drop(a._slave); // unplugged
    std::thread::sleep(Duration::from_millis(400));
    let b = board();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&b.name, &link).unwrap();
    let part2 = b"INFO:app:after the replug\n";
    let mut m = b.master;
    // Wait until memanim wrote its gap line (it has reopened the port), then send more.
    let start = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap()
        .contains("recording resumed")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "memanim did not reconnect"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m.write_all(part2).unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap()
        .ends_with("after the replug\n")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second part never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("waiting for it to come back"), "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "INFO:app:before the unplug");
    assert!(
        lines[1].starts_with("[memanim] ") && lines[1].contains("was gone for"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "INFO:app:after the replug");
    drop(b._slave);
}

#[test]
fn list_shows_the_ports_or_says_there_are_none() {
    let out = Command::new(env!("CARGO_BIN_EXE_memanim"))
        .args(["capture", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // Each port on its own line as "name<TAB>description", or one line saying there are none.
    let ports = memanim::record::list_ports();
    if ports.is_empty() {
        assert_eq!(text.trim(), "no serial ports found");
    } else {
        assert_eq!(text.lines().count(), ports.len());
        for (line, (name, what)) in text.lines().zip(&ports) {
            assert_eq!(line, format!("{name}\t{what}"));
        }
    }
}
