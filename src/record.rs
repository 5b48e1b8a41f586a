//! `memanim capture PORT`: records a live board to a capture file.
//!
//! Every byte received goes to the file as it arrives (flushed after each read, so a crash or a
//! pulled cable loses nothing already received); complete lines also go through the same parser the
//! renderer uses, to count dumps and show the last one's figures. The file is opened in append mode
//! or created new, never truncated unless the user said `--force`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::capture::{LineBytes, Parser, MAX_LINE_BYTES};
use crate::error::{Error, Result, Warnings};
use crate::heap::Snapshot;

/// Default baud rate of MicroPython boards' USB-serial consoles.
pub const DEFAULT_BAUD: u32 = 115_200;

/// How an existing capture file is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// Refuse to touch an existing file.
    New,
    /// Replace it (`--force`).
    Overwrite,
    /// Add to its end (`--append`).
    Append,
}

/// What `memanim capture` does; built by the CLI, or by a program that records a board.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureOptions {
    pub port: String,
    pub baud: u32,
    pub output: PathBuf,
    pub mode: FileMode,
    /// Copy the received text to standard output.
    pub echo: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many complete dumps.
    pub dumps: Option<u64>,
    /// When the port disappears, wait for it and go on appending.
    pub reconnect: bool,
    /// Interrupt the running program and soft-reset the board before recording.
    pub reset: bool,
    /// A script to run through the raw REPL; recording ends when it does.
    pub run: Option<Vec<u8>>,
    /// Stops the recording (Ctrl-C in the binary): [`record`] then ends with
    /// [`Stop::Interrupted`], the file holding everything received.
    pub cancel: Cancel,
}

impl CaptureOptions {
    pub fn new(port: impl Into<String>, output: impl Into<PathBuf>) -> Self {
        CaptureOptions {
            port: port.into(),
            baud: DEFAULT_BAUD,
            output: output.into(),
            mode: FileMode::New,
            echo: false,
            duration: None,
            dumps: None,
            reconnect: false,
            reset: false,
            run: None,
            cancel: Cancel::default(),
        }
    }
}

/// Why recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupted,
    Duration,
    Dumps,
    /// The port went away and `--reconnect` was not given.
    PortGone,
    /// The `--run` script finished.
    ScriptEnded,
}

/// Progress shown while recording, and the result at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub bytes: u64,
    pub dumps: usize,
    /// (used, free) bytes of the newest dump.
    pub last: Option<(u64, u64)>,
    pub elapsed: Duration,
    pub reconnects: usize,
}

impl Status {
    /// `12.3 KiB, 42 dumps, last used 43.1 KiB free 35.9 KiB, 0:01:23`
    pub fn line(&self) -> String {
        let s = self.elapsed.as_secs();
        let mut out = format!(
            "{} received, {}",
            crate::render::human_bytes(self.bytes),
            crate::units::count(self.dumps as u64, "dump", "dumps")
        );
        if let Some((u, f)) = self.last {
            out.push_str(&format!(
                ", last used {} free {}",
                crate::render::human_bytes(u),
                crate::render::human_bytes(f)
            ));
        }
        if self.reconnects > 0 {
            out.push_str(&format!(
                ", {}",
                crate::units::count(self.reconnects as u64, "reconnect", "reconnects")
            ));
        }
        out.push_str(&format!(", {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60));
        out
    }
}

/// What the recorder tells its caller while it runs; the library prints nothing itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// The port and the capture file are open: recording has begun.
    Started,
    /// The figures so far, a few times a second and once at the end.
    Status(&'a Status),
    /// The port went away (`error` says how); `waiting` when `reconnect` waits for it to return.
    PortGone { error: &'a str, waiting: bool },
}

/// What [`record`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub path: PathBuf,
    pub stop: Stop,
    pub status: Status,
    pub warnings: Warnings,
}

/// The serial ports of this machine, with a description (USB product and maker where known).
pub fn list_ports() -> Vec<(String, String)> {
    // Without libudev, serialport scans /sys/class/tty and panics when it is absent (containers).
    if cfg!(target_os = "linux") && !Path::new("/sys/class/tty").is_dir() {
        return Vec::new();
    }
    let ports = serialport::available_ports().unwrap_or_default();
    ports
        .into_iter()
        .map(|p| {
            let what = match p.port_type {
                serialport::SerialPortType::UsbPort(u) => {
                    let mut d = format!("USB {:04x}:{:04x}", u.vid, u.pid);
                    for part in [u.manufacturer, u.product, u.serial_number]
                        .into_iter()
                        .flatten()
                    {
                        d.push(' ');
                        d.push_str(&part);
                    }
                    d
                }
                serialport::SerialPortType::BluetoothPort => "Bluetooth".into(),
                serialport::SerialPortType::PciPort => "PCI".into(),
                serialport::SerialPortType::Unknown => "serial".into(),
            };
            (p.port_name, what)
        })
        .collect()
}

fn ports_hint() -> String {
    let ports = list_ports();
    if ports.is_empty() {
        "no serial ports were found on this machine".into()
    } else {
        let names: Vec<String> = ports.iter().map(|(n, d)| format!("{n} ({d})")).collect();
        format!("ports here: {}", names.join(", "))
    }
}

fn open_port(opts: &CaptureOptions) -> Result<Box<dyn serialport::SerialPort>> {
    serialport::new(&opts.port, opts.baud)
        .timeout(Duration::from_millis(100))
        .open()
        .map_err(|e| {
            let why = match e.kind() {
                serialport::ErrorKind::NoDevice => format!("no such port, or it is busy ({e})"),
                _ => e.to_string(),
            };
            Error::Serial {
                port: opts.port.clone(),
                message: format!("cannot open it: {why}; {}", ports_hint()),
            }
        })
}

/// Checks, without touching anything, that the capture file can be written as `opts.mode` says:
/// its directory exists, and an existing file is only touched with `--force` or `--append`.
/// Called before the port is opened, so a recording never starts only to fail at its file.
pub fn check_output(opts: &CaptureOptions) -> Result<()> {
    crate::encode::atomic::check_dest(&opts.output)?;
    if opts.mode == FileMode::New && opts.output.exists() {
        return Err(exists_error(&opts.output));
    }
    Ok(())
}

fn exists_error(path: &Path) -> Error {
    Error::Usage(format!(
        "{} exists; memanim will not overwrite a capture (use --append to add to it, or --force to replace it)",
        path.display()
    ))
}

fn open_file(opts: &CaptureOptions) -> Result<File> {
    let mut o = OpenOptions::new();
    match opts.mode {
        FileMode::New => o.write(true).create_new(true),
        FileMode::Overwrite => o.write(true).create(true).truncate(true),
        FileMode::Append => o.append(true).create(true),
    };
    o.open(&opts.output).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            exists_error(&opts.output)
        } else {
            Error::Write {
                path: opts.output.clone(),
                source: e,
            }
        }
    })
}

/// Splits received bytes into lines for the parser, bounded like the file reader.
struct Lines {
    buf: Vec<u8>,
    n: u64,
    cut: bool,
}

impl Lines {
    fn push(&mut self, data: &[u8], parser: &mut Parser) {
        for &b in data {
            if b == b'\n' {
                self.n += 1;
                let cut_from = self.cut.then_some(self.buf.len() as u64);
                parser.feed(
                    self.n,
                    LineBytes {
                        bytes: &self.buf,
                        cut_from,
                        nul: self.buf.contains(&0),
                        unterminated: false,
                    },
                );
                self.buf.clear();
                self.cut = false;
            } else if self.buf.len() < MAX_LINE_BYTES {
                self.buf.push(b);
            } else {
                self.cut = true;
            }
        }
    }
}

fn last_figures(s: Option<Snapshot>) -> Option<(u64, u64)> {
    s?.gc.map(|g| (g.used, g.free))
}

/// The raw REPL: Ctrl-A enters it, the script is sent, Ctrl-D runs it; the board answers "OK",
/// then prints the script's output, `\x04`, its error output, `\x04` and the `>` prompt.
fn start_script(
    port: &mut dyn serialport::SerialPort,
    script: &[u8],
    opts: &CaptureOptions,
) -> Result<()> {
    let err = |message: String| Error::Serial {
        port: opts.port.clone(),
        message,
    };
    let io = |e: std::io::Error| err(format!("raw REPL: {e}"));
    port.write_all(b"\r\x03\x03").map_err(io)?;
    std::thread::sleep(Duration::from_millis(100));
    let _ = port.clear(serialport::ClearBuffer::Input);
    port.write_all(b"\x01").map_err(io)?;
    expect(
        port,
        b"raw REPL; CTRL-B to exit\r\n>",
        Duration::from_secs(3),
        &opts.cancel,
    )
    .map_err(|got| {
        err(format!(
            "the board did not enter the raw REPL (got {got:?})"
        ))
    })?;
    // Small chunks: boards read the REPL slowly and have no flow control.
    for chunk in script.chunks(256) {
        port.write_all(chunk).map_err(io)?;
        std::thread::sleep(Duration::from_millis(10));
    }
    port.write_all(b"\x04").map_err(io)?;
    expect(port, b"OK", Duration::from_secs(5), &opts.cancel)
        .map_err(|got| err(format!("the board did not accept the script (got {got:?})")))?;
    Ok(())
}

/// Reads until `want` arrived or `within` passed; on failure returns what did arrive.
fn expect(
    port: &mut dyn serialport::SerialPort,
    want: &[u8],
    within: Duration,
    cancel: &Cancel,
) -> std::result::Result<(), String> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    while start.elapsed() < within && !cancel.is_cancelled() {
        match port.read(&mut b) {
            Ok(n) => {
                got.extend_from_slice(&b[..n]);
                if got.windows(want.len()).any(|w| w == want) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(String::from_utf8_lossy(&got).into_owned())
}

/// Records until Ctrl-C, `duration`, `dumps`, the end of a `--run` script, or the port going away.
/// `event` hears when recording starts (after the port and the file opened), the status a few
/// times a second, and the port going away.
pub fn record(opts: &CaptureOptions, event: &mut dyn FnMut(Event<'_>)) -> Result<Recorded> {
    let mut port = open_port(opts)?;
    let mut file = open_file(opts)?;
    event(Event::Started);
    let werr = |e: std::io::Error| Error::Write {
        path: opts.output.clone(),
        source: e,
    };
    if opts.reset {
        // Ctrl-C twice stops a running program; Ctrl-D at the REPL soft-resets the board.
        let io = |e: std::io::Error| Error::Serial {
            port: opts.port.clone(),
            message: format!("cannot send the reset: {e}"),
        };
        port.write_all(b"\r\x03\x03").map_err(io)?;
        std::thread::sleep(Duration::from_millis(100));
        port.write_all(b"\x04").map_err(io)?;
    }
    if let Some(script) = &opts.run {
        start_script(port.as_mut(), script, opts)?;
    }
    let start = Instant::now();
    let mut parser = Parser::new(Default::default());
    let mut lines = Lines {
        buf: Vec::new(),
        n: 0,
        cut: false,
    };
    let mut st = Status {
        bytes: 0,
        dumps: 0,
        last: None,
        elapsed: Duration::ZERO,
        reconnects: 0,
    };
    let mut last_byte = b'\n';
    let mut last_status = Instant::now();
    // In --run mode the first \x04 ends the script's output and the second its error output.
    let mut eots = 0;
    let mut buf = vec![0u8; 16 * 1024];
    let stdout = std::io::stdout();
    let stop = loop {
        if opts.cancel.is_cancelled() {
            break Stop::Interrupted;
        }
        if opts.duration.is_some_and(|d| start.elapsed() >= d) {
            break Stop::Duration;
        }
        let read = port.read(&mut buf);
        let data: &[u8] = match read {
            Ok(0) => &[],
            Ok(n) => &buf[..n],
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => &[],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let gone_at = start.elapsed();
                let error = e.to_string();
                if !opts.reconnect {
                    event(Event::Status(&st));
                    event(Event::PortGone {
                        error: &error,
                        waiting: false,
                    });
                    break Stop::PortGone;
                }
                event(Event::PortGone {
                    error: &error,
                    waiting: true,
                });
                drop(port);
                let reopened = loop {
                    if opts.cancel.is_cancelled() {
                        break None;
                    }
                    std::thread::sleep(Duration::from_millis(250));
                    if let Ok(p) = open_port(opts) {
                        break Some(p);
                    }
                };
                let Some(p) = reopened else {
                    break Stop::Interrupted; // the file already holds everything received
                };
                port = p;
                st.reconnects += 1;
                let gap = start.elapsed() - gone_at;
                // The gap goes into the capture as a log line of its own.
                let mark = format!(
                    "{}[memanim] {} was gone for {:.1} s (from +{:.1} s); recording resumed\n",
                    if last_byte == b'\n' { "" } else { "\n" },
                    opts.port,
                    gap.as_secs_f64(),
                    gone_at.as_secs_f64()
                );
                file.write_all(mark.as_bytes()).map_err(werr)?;
                file.flush().map_err(werr)?;
                lines.push(mark.as_bytes(), &mut parser);
                last_byte = b'\n';
                continue;
            }
        };
        // In --run mode, keep the script's output and error output and drop the two \x04 that
        // end them; the second one ends the recording.
        let mut script_done = false;
        let cleaned: Vec<u8>;
        let data: &[u8] = if opts.run.is_some() {
            let mut keep = Vec::with_capacity(data.len());
            for &b in data {
                if b == 0x04 {
                    eots += 1;
                    if eots == 2 {
                        script_done = true;
                        break;
                    }
                } else {
                    keep.push(b);
                }
            }
            cleaned = keep;
            &cleaned
        } else {
            data
        };
        if !data.is_empty() {
            write_received(&mut file, data, &opts.output)?;
            st.bytes += data.len() as u64;
            last_byte = data[data.len() - 1];
            lines.push(data, &mut parser);
            if opts.echo {
                let mut out = stdout.lock();
                let _ = out.write_all(data).and_then(|_| out.flush());
            }
        }
        st.dumps = parser.snapshot_count();
        st.last = last_figures(parser.last_snapshot());
        st.elapsed = start.elapsed();
        if last_status.elapsed() >= Duration::from_millis(200) {
            event(Event::Status(&st));
            last_status = Instant::now();
        }
        if script_done {
            break Stop::ScriptEnded;
        }
        if opts.dumps.is_some_and(|n| st.dumps as u64 >= n) {
            break Stop::Dumps;
        }
    };
    file.flush().map_err(werr)?;
    file.sync_all().map_err(werr)?;
    st.elapsed = start.elapsed();
    st.dumps = parser.snapshot_count();
    event(Event::Status(&st));
    let (_, warnings) = parser.finish();
    Ok(Recorded {
        path: opts.output.clone(),
        stop,
        status: st,
        warnings,
    })
}

/// Writes what arrived and flushes it at once: the file must hold every byte received, whatever
/// happens next.
fn write_received(file: &mut File, data: &[u8], path: &Path) -> Result<()> {
    file.write_all(data)
        .and_then(|_| file.flush())
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: e,
        })
}
