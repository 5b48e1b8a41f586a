//! The recorder against a scripted stand-in board: what the board sends arrives in the chunks
//! its script says (split mid-line and mid-UTF-8), with stalls, a reset, a script run through
//! the raw REPL and a disconnect. Each test checks the capture file on disk and what the
//! recorder reported. (tests/capture.rs records a pseudo-terminal through the binary.)

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use common::{Area, Style};
use memanim::cancel::Cancel;
use memanim::record::{record, CaptureOptions, Event, Recorded, Status, Stop};
use memanim::{Error, WarningKind};

/// One read of the stand-in board.
enum Step {
    /// These bytes arrive (over several reads if the reader's buffer is smaller).
    Send(Vec<u8>),
    /// A read that times out, as a silent serial port's does.
    Silence,
    /// A read of a non-blocking port with nothing to give.
    WouldBlock,
    /// The port fails (USB unplugged).
    Unplug,
    /// The port reports the end of its stream.
    Eof,
    /// The user presses Ctrl-C; the read itself times out.
    CtrlC(Cancel),
}

/// A board that plays its steps in order, then stays silent. What it is sent goes to
/// `received`, which the test keeps a handle on.
struct Board {
    steps: VecDeque<Step>,
    received: Rc<RefCell<Vec<u8>>>,
}

impl Board {
    fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Board {
            steps: steps.into_iter().collect(),
            received: Rc::default(),
        }
    }
}

/// A `connect` for [`record`] that gives `board` once; a reopen finds nothing.
fn once<P>(board: P) -> impl FnMut() -> memanim::Result<P> {
    let mut board = Some(board);
    move || board.take().ok_or_else(not_there)
}

/// What opening an absent port gives.
fn not_there() -> Error {
    Error::Serial {
        port: "test-port".into(),
        message: "not there".into(),
        source: None,
    }
}

impl Read for Board {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.steps.pop_front() {
            Some(Step::Send(mut bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                if n < bytes.len() {
                    self.steps.push_front(Step::Send(bytes.split_off(n)));
                }
                Ok(n)
            }
            Some(Step::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
            Some(Step::Unplug) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the device was unplugged",
            )),
            Some(Step::Eof) => Ok(0),
            Some(Step::CtrlC(cancel)) => {
                cancel.cancel();
                Err(io::ErrorKind::TimedOut.into())
            }
            Some(Step::Silence) | None => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

impl Write for Board {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.received.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An event as the recorder reported it, kept.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Started,
    Received(Vec<u8>),
    Status(Status),
    PortGone { error: String, waiting: bool },
}

/// Options for a capture file `name` in a fresh directory, stopped after 20 s whatever happens
/// (a test that hangs fails instead).
fn options(name: &str) -> CaptureOptions {
    let mut opts = CaptureOptions::new("test-port", common::scratch(name).join("run.log"));
    opts.duration = Some(Duration::from_secs(20));
    opts
}

/// Records from `boards`: the first is the board at the start, the next ones what each reopen
/// finds (a reopen when none is left fails, as an absent port does).
fn run(opts: &CaptureOptions, boards: Vec<Board>) -> (memanim::Result<Recorded>, Vec<Seen>) {
    let mut boards = VecDeque::from(boards);
    let mut seen = Vec::new();
    let result = record(
        opts,
        || boards.pop_front().ok_or_else(not_there),
        &mut |e| {
            seen.push(match e {
                Event::Started => Seen::Started,
                Event::Received(data) => Seen::Received(data.to_vec()),
                Event::Status(st) => Seen::Status(st.clone()),
                Event::PortGone { error, waiting } => Seen::PortGone {
                    error: error.to_string(),
                    waiting,
                },
            })
        },
    );
    (result, seen)
}

/// Every byte the recorder reported as received, in order.
fn received(seen: &[Seen]) -> Vec<u8> {
    seen.iter()
        .flat_map(|e| match e {
            Seen::Received(data) => data.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// A dump whose GC line says `used` blocks of 16 bytes out of 256.
fn dump(ticks: u64, used: usize) -> String {
    let blocks = "h=".repeat(used / 2) + &".".repeat(256 - used);
    common::dump(
        ticks,
        &[Area {
            ptr: "3ffb1230",
            blocks: &blocks,
        }],
        Style::default(),
    )
}

fn sends(text: &[u8], size: usize) -> Vec<Step> {
    text.chunks(size).map(|c| Step::Send(c.to_vec())).collect()
}

fn on_disk(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn chunks_split_mid_line_and_mid_utf8_land_whole_on_disk() {
    let text = format!(
        "INFO:app:température 21.5°C, ½ buffer — ok\n{}INFO:app:naïve façade ✓\n{}",
        dump(1000, 40),
        dump(2000, 100)
    );
    for size in [1, 2, 3, 7, 64, 4096] {
        let bytes = text.as_bytes();
        let splits_a_char = (size..bytes.len())
            .step_by(size)
            .any(|i| !text.is_char_boundary(i));
        assert!(
            splits_a_char || size >= 64,
            "chunks of {size} split no character"
        );
        let opts = options(&format!("record_split_{size}"));
        let cancel = opts.cancel.clone();
        let mut steps = sends(bytes, size);
        steps.push(Step::CtrlC(cancel));
        let (rec, seen) = run(&opts, vec![Board::new(steps)]);
        let rec = rec.unwrap();
        assert_eq!(rec.stop, Stop::Interrupted);
        assert_eq!(on_disk(&opts.output), bytes, "chunks of {size}");
        assert_eq!(received(&seen), bytes);
        assert_eq!(rec.status.bytes, bytes.len() as u64);
        assert_eq!(rec.status.dumps, 2);
        assert_eq!(rec.status.last, Some((100 * 16, 156 * 16)));
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings.report("t"));
        assert_eq!(seen.first(), Some(&Seen::Started));
        assert_eq!(seen.last(), Some(&Seen::Status(rec.status.clone())));
        let (c, _) = common::parse(&String::from_utf8(on_disk(&opts.output)).unwrap());
        let logs: Vec<String> = c.sessions[0].logs.iter().map(|l| l.text).collect();
        assert_eq!(
            logs,
            [
                "INFO:app:température 21.5°C, ½ buffer — ok",
                "INFO:app:naïve façade ✓"
            ]
        );
    }
}

#[test]
fn a_board_reset_mid_recording_is_kept_and_the_dumps_counted_across_it() {
    let before = format!("{}{}", dump(5000, 60), dump(6000, 80));
    let reset = "MPY: soft reboot\nMicroPython v1.23.0 on 2024-06-01; ESP32 module with ESP32\n";
    let after = dump(100, 20);
    let text = format!("{before}{reset}{after}");
    let opts = CaptureOptions {
        dumps: Some(3),
        ..options("record_reset")
    };
    // The reset message arrives cut in the middle of "reboot"; the third dump ends a chunk, and
    // what follows it is never read.
    let cut = before.len() + 10;
    let steps = vec![
        Step::Send(text.as_bytes()[..cut].to_vec()),
        Step::Send(text.as_bytes()[cut..].to_vec()),
        Step::Send(b"INFO:app:after the third dump\n".to_vec()),
    ];
    let (rec, _) = run(&opts, vec![Board::new(steps)]);
    let rec = rec.unwrap();
    assert_eq!(rec.stop, Stop::Dumps);
    assert_eq!(on_disk(&opts.output), text.as_bytes());
    assert_eq!(rec.status.dumps, 3);
    assert_eq!(rec.status.last, Some((20 * 16, 236 * 16)));
    let (c, _) = common::parse(&text);
    assert_eq!(c.sessions.len(), 2, "the reset starts a new session");
    assert_eq!(
        c.sessions[1].started_by.as_deref(),
        Some("MPY: soft reboot")
    );
}

#[test]
fn a_stall_loses_nothing_and_the_duration_still_ends_a_silent_recording() {
    let text = format!("{}{}", dump(1, 30), dump(2, 50));
    let half = text.len() / 2 + 3;
    let opts = options("record_stall");
    let mut steps = vec![Step::Send(text.as_bytes()[..half].to_vec())];
    steps.extend((0..200).map(|_| Step::Silence));
    steps.extend((0..200).map(|_| Step::WouldBlock));
    steps.push(Step::Send(text.as_bytes()[half..].to_vec()));
    steps.push(Step::CtrlC(opts.cancel.clone()));
    let (rec, _) = run(&opts, vec![Board::new(steps)]);
    let rec = rec.unwrap();
    assert_eq!(rec.stop, Stop::Interrupted);
    assert_eq!(on_disk(&opts.output), text.as_bytes());
    assert_eq!(rec.status.dumps, 2);

    // A board that never says anything: --duration ends it.
    let opts = CaptureOptions {
        duration: Some(Duration::from_millis(300)),
        ..options("record_silent")
    };
    let (rec, seen) = run(&opts, vec![Board::new([])]);
    let rec = rec.unwrap();
    assert_eq!(rec.stop, Stop::Duration);
    assert!(rec.status.elapsed >= Duration::from_millis(300));
    assert!(on_disk(&opts.output).is_empty());
    assert!(seen.iter().all(|e| !matches!(e, Seen::Received(_))));
}

#[test]
fn a_disconnect_ends_the_recording_with_every_byte_received_on_disk() {
    let text = dump(7, 64);
    // Cut inside a layout row: the file keeps the half row, as received.
    let cut = text.find("\n0000").unwrap() + 12;
    for (gone, error) in [
        (Step::Unplug, "the device was unplugged"),
        (Step::Eof, "the connection closed"),
    ] {
        let opts = options("record_disconnect");
        let steps = vec![Step::Send(text.as_bytes()[..cut].to_vec()), gone];
        let (rec, seen) = run(&opts, vec![Board::new(steps)]);
        let rec = rec.unwrap();
        assert_eq!(rec.stop, Stop::PortGone);
        assert_eq!(on_disk(&opts.output), &text.as_bytes()[..cut]);
        assert_eq!(rec.status.dumps, 0);
        let gone_at = seen
            .iter()
            .position(|e| matches!(e, Seen::PortGone { .. }))
            .unwrap();
        assert!(matches!(seen[gone_at - 1], Seen::Status(_)));
        assert_eq!(
            seen[gone_at],
            Seen::PortGone {
                error: error.into(),
                waiting: false
            }
        );
    }
}

#[test]
fn reconnect_waits_for_the_board_and_marks_the_gap_on_a_line_of_its_own() {
    let opts = CaptureOptions {
        reconnect: true,
        ..options("record_reconnect")
    };
    let first = Board::new([
        Step::Send(b"INFO:app:before\nINFO:app:ha".to_vec()),
        Step::Unplug,
    ]);
    let second = Board::new([
        Step::Send(b"INFO:app:after\n".to_vec()),
        Step::CtrlC(opts.cancel.clone()),
    ]);
    let (rec, seen) = run(&opts, vec![first, second]);
    let rec = rec.unwrap();
    assert_eq!(rec.stop, Stop::Interrupted);
    assert_eq!(rec.status.reconnects, 1);
    assert!(seen.contains(&Seen::PortGone {
        error: "the device was unplugged".into(),
        waiting: true
    }));
    let text = String::from_utf8(on_disk(&opts.output)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[..2], ["INFO:app:before", "INFO:app:ha"]);
    assert!(
        lines[2].starts_with("[memanim] test-port was gone for ")
            && lines[2].ends_with("; recording resumed"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "INFO:app:after");
    // The gap line is the recorder's, not the board's: not counted as received.
    assert_eq!(
        rec.status.bytes,
        (b"INFO:app:before\nINFO:app:ha".len() + b"INFO:app:after\n".len()) as u64
    );
}

#[test]
fn ctrl_c_while_waiting_for_the_board_ends_the_recording() {
    let opts = CaptureOptions {
        reconnect: true,
        ..options("record_reconnect_cancel")
    };
    let cancel = opts.cancel.clone();
    let mut seen = Vec::new();
    let mut opened = 0;
    let rec = record(
        &opts,
        || {
            opened += 1;
            if opened == 1 {
                return Ok(Board::new([
                    Step::Send(b"INFO:app:x\n".to_vec()),
                    Step::Unplug,
                ]));
            }
            // Not back; the user gives up.
            cancel.cancel();
            Err(not_there())
        },
        &mut |e| seen.push(matches!(e, Event::PortGone { waiting: true, .. })),
    )
    .unwrap();
    assert_eq!(rec.stop, Stop::Interrupted);
    assert_eq!(opened, 2);
    assert!(seen.contains(&true));
    assert_eq!(on_disk(&opts.output), b"INFO:app:x\n");
}

#[test]
fn a_port_that_does_not_open_leaves_no_file() {
    let opts = options("record_no_port");
    let (rec, seen) = run(&opts, vec![]);
    assert!(matches!(rec, Err(Error::Serial { .. })));
    assert!(seen.is_empty(), "nothing started");
    assert!(!opts.output.exists());
}

#[test]
fn reset_sends_ctrl_c_twice_then_ctrl_d_before_recording() {
    let opts = CaptureOptions {
        reset: true,
        ..options("record_reset_keys")
    };
    let cancel = opts.cancel.clone();
    let board = Board::new([
        Step::Send(b"MPY: soft reboot\n".to_vec()),
        Step::CtrlC(cancel),
    ]);
    let sent = Rc::clone(&board.received);
    let rec = record(&opts, once(board), &mut |_| {}).unwrap();
    assert_eq!(rec.stop, Stop::Interrupted);
    assert_eq!(*sent.borrow(), b"\r\x03\x03\x04");
    assert_eq!(on_disk(&opts.output), b"MPY: soft reboot\n");
}

#[test]
fn a_line_longer_than_the_limit_is_kept_on_disk_and_cut_for_the_parser() {
    let long = format!("INFO:{}\n", "x".repeat(100_000));
    let text = format!("{long}{}", dump(3, 10));
    let opts = options("record_long_line");
    let mut steps = sends(text.as_bytes(), 5000);
    steps.push(Step::CtrlC(opts.cancel.clone()));
    let (rec, _) = run(&opts, vec![Board::new(steps)]);
    let rec = rec.unwrap();
    assert_eq!(on_disk(&opts.output), text.as_bytes());
    assert_eq!(rec.warnings.count(WarningKind::LongLine), 1);
    assert_eq!(rec.status.dumps, 1);
}

/// A board that speaks the raw REPL: Ctrl-A gets the banner, Ctrl-D runs the script, which
/// "prints" `output` and `errors`. A read gives at most `chunk` bytes.
struct RawReplBoard {
    chunk: usize,
    out: VecDeque<u8>,
    raw: bool,
    script: Rc<RefCell<Vec<u8>>>,
    output: &'static [u8],
    errors: &'static [u8],
}

impl Read for RawReplBoard {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.out.len().min(buf.len()).min(self.chunk);
        if n == 0 {
            return Err(io::ErrorKind::TimedOut.into());
        }
        for (b, c) in buf.iter_mut().zip(self.out.drain(..n)) {
            *b = c;
        }
        Ok(n)
    }
}

impl Write for RawReplBoard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &c in buf {
            match c {
                0x01 => {
                    self.raw = true;
                    self.out.extend(b"raw REPL; CTRL-B to exit\r\n>");
                }
                0x04 if self.raw => {
                    self.out.extend(b"OK");
                    self.out.extend(self.output);
                    self.out.push_back(0x04);
                    self.out.extend(self.errors);
                    self.out.extend(b"\x04>");
                }
                c if self.raw => self.script.borrow_mut().push(c),
                // What a running program printed before the raw REPL: dropped by the recorder.
                _ => self.out.extend(b"Traceback: KeyboardInterrupt\r\n"),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_run_script_records_its_output_without_the_raw_repl_bytes() {
    let script = b"import mem_dump\nmem_dump.dump()\n".repeat(20);
    let output: &'static [u8] = Box::leak(dump(42, 30).into_bytes().into_boxed_slice());
    // Read 5 bytes at a time, "OK" comes with the start of the output; read whole, with all of
    // it and both \x04: neither may be lost.
    for chunk in [5, 4096] {
        let opts = CaptureOptions {
            run: Some(script.clone()),
            ..options(&format!("record_run_{chunk}"))
        };
        let board = RawReplBoard {
            chunk,
            out: VecDeque::new(),
            raw: false,
            script: Rc::default(),
            output,
            errors: b"Warning: done\n",
        };
        let sent = Rc::clone(&board.script);
        let rec = record(&opts, once(board), &mut |_| {}).unwrap();
        assert_eq!(rec.stop, Stop::ScriptEnded);
        assert_eq!(*sent.borrow(), script, "the script, whole");
        let mut want = output.to_vec();
        want.extend_from_slice(b"Warning: done\n");
        assert_eq!(on_disk(&opts.output), want, "read {chunk} at a time");
        assert_eq!(rec.status.dumps, 1);
        assert_eq!(rec.status.last, Some((30 * 16, 226 * 16)));
    }
}
