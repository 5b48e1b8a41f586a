//! `memanim capture PORT`: records a live board to a capture file.
//!
//! [`record`] takes any port that reads and writes bytes (`Read + Write`) and a way to open it:
//! the binary opens a serial port with [`open_serial`], the tests a scripted stand-in board.
//! Every byte received goes to the file as it arrives (flushed after each read, so a crash or a
//! pulled cable loses nothing already received); complete lines also go through the same parser
//! the renderer uses, to count dumps and show the last one's figures. The file is opened in
//! append mode or created new, never truncated unless the user said `--force`. What happens is
//! told through [`Event`]s; the recorder prints nothing.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::capture::{LineBytes, Parser, MAX_LINE_BYTES};
use crate::error::{Error, Result, Warnings};
use crate::heap::Snapshot;

/// Default baud rate of MicroPython boards' USB-serial consoles.
pub const DEFAULT_BAUD: u32 = 115_200;

/// How long a read of a serial port waits for bytes: the recorder checks the token, the
/// duration and the status this often when the board is silent.
const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// How often the status goes to the caller while recording.
const STATUS_EVERY: Duration = Duration::from_millis(200);

/// How often a port that went away is tried again (`--reconnect`).
const RECONNECT_EVERY: Duration = Duration::from_millis(250);

/// Bytes read from the port at a time.
const READ_CHUNK: usize = 16 * 1024;

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
    /// The port's name: what [`open_serial`] opens, and what messages and the gap line call it.
    pub port: String,
    pub baud: u32,
    pub output: PathBuf,
    pub mode: FileMode,
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

impl Stop {
    /// Why, in the words of the command line: "stopped by Ctrl-C", "--dumps reached".
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Interrupted => "stopped by Ctrl-C",
            Stop::Duration => "--duration reached",
            Stop::Dumps => "--dumps reached",
            Stop::PortGone => "the port went away",
            Stop::ScriptEnded => "the script ended",
        }
    }
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
    /// Bytes just written to the capture file, as they were received (`--echo` shows them).
    Received(&'a [u8]),
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

/// Opens `opts.port` at `opts.baud`, its reads timing out after 100 ms as [`record`] needs. The
/// error names the ports this machine has.
pub fn open_serial(opts: &CaptureOptions) -> Result<Box<dyn serialport::SerialPort>> {
    serialport::new(&opts.port, opts.baud)
        .timeout(READ_TIMEOUT)
        .open()
        .map_err(|e| {
            let why = match e.kind() {
                serialport::ErrorKind::NoDevice => format!("no such port, or it is busy ({e})"),
                _ => e.to_string(),
            };
            Error::Serial {
                port: opts.port.clone(),
                message: format!("cannot open it: {why}; {}", ports_hint()),
                source: Some(Box::new(e)),
            }
        })
}

/// A failure to talk to the board over `port`, with the I/O error that caused it.
fn serial_io(port: &str, what: &str, e: io::Error) -> Error {
    Error::Serial {
        port: port.to_string(),
        message: format!("{what}: {e}; check that the board is still connected"),
        source: Some(Box::new(e)),
    }
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

/// Records until Ctrl-C (`opts.cancel`), `duration`, `dumps`, the end of a `--run` script, or the
/// port going away. `connect` opens the port: once at the start (its error ends the recording
/// before the capture file is created), and again every 250 ms after the port went away when
/// `reconnect` is set (its errors then mean "not back yet"). `event` hears when recording starts
/// (after the port and the file opened), each chunk received, the status a few times a second,
/// and the port going away.
///
/// The port's reads must return within a short time when nothing arrives (a serial port's
/// timeout: `TimedOut` or `WouldBlock`), or a silent board holds the recorder in a read where it
/// cannot see the token or the duration. A read that returns 0 bytes, like a read error, means
/// the port went away.
pub fn record<P: Read + Write>(
    opts: &CaptureOptions,
    mut connect: impl FnMut() -> Result<P>,
    event: &mut dyn FnMut(Event<'_>),
) -> Result<Recorded> {
    let mut port = connect()?;
    let file = open_file(opts)?;
    event(Event::Started);
    let early = prepare_board(&mut port, opts)?;
    let mut recording = Recording::new(opts, file);
    let script_ended = recording.take(&early, event)?;
    let stop = match recording.after_read(script_ended, event) {
        Some(stop) => stop,
        None => recording.run(port, &mut connect, event)?,
    };
    recording.finish(stop, event)
}

/// Sends what `--reset` and `--run` ask for before recording begins. Gives what the board sent
/// after the raw REPL's "OK" in the same read: the start of the script's output.
fn prepare_board(port: &mut (impl Read + Write), opts: &CaptureOptions) -> Result<Vec<u8>> {
    if opts.reset {
        // Ctrl-C twice stops a running program; Ctrl-D at the REPL soft-resets the board.
        let io = |e| serial_io(&opts.port, "cannot send the reset (--reset)", e);
        port.write_all(b"\r\x03\x03").map_err(io)?;
        std::thread::sleep(Duration::from_millis(100));
        port.write_all(b"\x04").map_err(io)?;
    }
    match &opts.run {
        Some(script) => start_script(port, script, opts),
        None => Ok(Vec::new()),
    }
}

/// The raw REPL: Ctrl-A enters it, the script is sent, Ctrl-D runs it; the board answers "OK",
/// then prints the script's output, `\x04`, its error output, `\x04` and the `>` prompt (which
/// [`ScriptOutput`] takes apart). Gives what came after the "OK" in the same read.
fn start_script(
    port: &mut (impl Read + Write),
    script: &[u8],
    opts: &CaptureOptions,
) -> Result<Vec<u8>> {
    let refused = |message: String| Error::Serial {
        port: opts.port.clone(),
        message,
        source: None,
    };
    let io = |e| serial_io(&opts.port, "cannot send the --run script", e);
    port.write_all(b"\r\x03\x03").map_err(io)?;
    // What the stopped program printed last is not the raw REPL's answer.
    discard_input(port, Duration::from_millis(100));
    port.write_all(b"\x01").map_err(io)?;
    let banner = b"raw REPL; CTRL-B to exit\r\n>";
    expect(port, banner, Duration::from_secs(3), &opts.cancel).map_err(|got| {
        refused(format!(
            "the board did not enter the raw REPL (got \"{}\"); check that it runs MicroPython \
             and that its console runs at --baud {}",
            got.escape_debug(),
            opts.baud
        ))
    })?;
    // Small chunks: boards read the REPL slowly and have no flow control.
    for chunk in script.chunks(256) {
        port.write_all(chunk).map_err(io)?;
        std::thread::sleep(Duration::from_millis(10));
    }
    port.write_all(b"\x04").map_err(io)?;
    expect(port, b"OK", Duration::from_secs(5), &opts.cancel).map_err(|got| {
        refused(format!(
            "the board did not accept the script (got \"{}\"); check that it is MicroPython \
             source, or reset the board first (--reset)",
            got.escape_debug()
        ))
    })
}

/// Reads and drops what arrives within `within` (or until the port fails, which the next step
/// reports).
fn discard_input(port: &mut impl Read, within: Duration) {
    let start = Instant::now();
    let mut b = [0u8; 256];
    while start.elapsed() < within {
        match read_port(port, &mut b) {
            Received::Data(_) | Received::Nothing => {}
            Received::Gone(_) => return,
        }
    }
}

/// Reads until `want` arrived or `within` passed. Gives the bytes that came after `want` in the
/// same read; on failure, what did arrive.
fn expect(
    port: &mut impl Read,
    want: &[u8],
    within: Duration,
    cancel: &Cancel,
) -> std::result::Result<Vec<u8>, String> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    while start.elapsed() < within && !cancel.is_cancelled() {
        match read_port(port, &mut b) {
            Received::Data(n) => {
                got.extend_from_slice(&b[..n]);
                if let Some(at) = got.windows(want.len()).position(|w| w == want) {
                    return Ok(got.split_off(at + want.len()));
                }
            }
            Received::Nothing => {}
            Received::Gone(error) => return Err(error),
        }
    }
    Err(String::from_utf8_lossy(&got).into_owned())
}

/// How one read of the port went.
enum Received {
    /// This many bytes arrived.
    Data(usize),
    /// Nothing arrived before the port's timeout.
    Nothing,
    /// The port went away; the text says how.
    Gone(String),
}

fn read_port(port: &mut impl Read, buf: &mut [u8]) -> Received {
    match port.read(buf) {
        Ok(0) => Received::Gone("the connection closed".into()),
        Ok(n) => Received::Data(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Received::Nothing
        }
        Err(e) => Received::Gone(e.to_string()),
    }
}

/// The raw REPL frames a script's run: its output, `\x04`, its error output, `\x04`. Both
/// outputs are kept and the two `\x04` dropped; the second ends the script.
#[derive(Default)]
struct ScriptOutput {
    eots: u8,
}

impl ScriptOutput {
    /// The bytes of `data` to record, and true when the script ended in `data` (what follows
    /// its last `\x04`, the prompt, is dropped).
    fn keep(&mut self, data: &[u8]) -> (Vec<u8>, bool) {
        let mut keep = Vec::with_capacity(data.len());
        for &b in data {
            if b != 0x04 {
                keep.push(b);
                continue;
            }
            self.eots += 1;
            if self.eots == 2 {
                return (keep, true);
            }
        }
        (keep, false)
    }
}

/// A recording in progress: the capture file, the parser that counts its dumps, and the figures
/// so far. Every byte it takes is on disk, flushed, before it goes anywhere else.
struct Recording<'o> {
    opts: &'o CaptureOptions,
    file: File,
    parser: Parser,
    lines: Lines,
    status: Status,
    start: Instant,
    last_status: Instant,
    /// The last byte written: a gap line starts on a line of its own.
    last_byte: u8,
    /// In `--run` mode, where the script's output ends.
    script: Option<ScriptOutput>,
}

impl<'o> Recording<'o> {
    fn new(opts: &'o CaptureOptions, file: File) -> Self {
        Recording {
            opts,
            file,
            parser: Parser::new(Default::default()),
            lines: Lines::default(),
            status: Status {
                bytes: 0,
                dumps: 0,
                last: None,
                elapsed: Duration::ZERO,
                reconnects: 0,
            },
            start: Instant::now(),
            last_status: Instant::now(),
            last_byte: b'\n',
            script: opts.run.is_some().then(ScriptOutput::default),
        }
    }

    /// Reads `port` until a reason to stop, reopening it through `connect` when it goes away
    /// and `reconnect` is set.
    fn run<P: Read>(
        &mut self,
        mut port: P,
        connect: &mut dyn FnMut() -> Result<P>,
        event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Stop> {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            if let Some(stop) = self.stop_before_read() {
                return Ok(stop);
            }
            let script_ended = match read_port(&mut port, &mut buf) {
                Received::Data(n) => self.take(&buf[..n], event)?,
                Received::Nothing => false,
                Received::Gone(error) => {
                    // Closed first: a serial port may be opened by one holder at a time.
                    drop(port);
                    match self.port_gone(&error, connect, event)? {
                        ControlFlow::Continue(back) => port = back,
                        ControlFlow::Break(stop) => return Ok(stop),
                    }
                    continue;
                }
            };
            if let Some(stop) = self.after_read(script_ended, event) {
                return Ok(stop);
            }
        }
    }

    /// Ctrl-C, or `duration` passed.
    fn stop_before_read(&self) -> Option<Stop> {
        if self.opts.cancel.is_cancelled() {
            Some(Stop::Interrupted)
        } else if self
            .opts
            .duration
            .is_some_and(|d| self.start.elapsed() >= d)
        {
            Some(Stop::Duration)
        } else {
            None
        }
    }

    /// Records what arrived (in `--run` mode, without the raw REPL's `\x04`s): to the file,
    /// flushed, then to the line parser and the caller. True when the script ended.
    fn take(&mut self, data: &[u8], event: &mut dyn FnMut(Event<'_>)) -> Result<bool> {
        let (data, script_ended) = match &mut self.script {
            Some(script) => {
                let (kept, ended) = script.keep(data);
                (Cow::Owned(kept), ended)
            }
            None => (Cow::Borrowed(data), false),
        };
        if let Some(&last) = data.last() {
            write_received(&mut self.file, &data, &self.opts.output)?;
            self.status.bytes += data.len() as u64;
            self.last_byte = last;
            self.lines.push(&data, &mut self.parser);
            event(Event::Received(&data));
        }
        Ok(script_ended)
    }

    /// Brings the figures up to date, tells them to the caller at most every 200 ms, and says
    /// whether the script's end or `dumps` stop the recording.
    fn after_read(&mut self, script_ended: bool, event: &mut dyn FnMut(Event<'_>)) -> Option<Stop> {
        self.status.dumps = self.parser.snapshot_count();
        self.status.last = last_figures(self.parser.last_snapshot());
        self.status.elapsed = self.start.elapsed();
        if self.last_status.elapsed() >= STATUS_EVERY {
            event(Event::Status(&self.status));
            self.last_status = Instant::now();
        }
        if script_ended {
            Some(Stop::ScriptEnded)
        } else if self
            .opts
            .dumps
            .is_some_and(|n| self.status.dumps as u64 >= n)
        {
            Some(Stop::Dumps)
        } else {
            None
        }
    }

    /// The port went away (`error` says how). Without `reconnect` the recording stops; with it,
    /// the port is waited for, and its return is marked in the capture.
    fn port_gone<P>(
        &mut self,
        error: &str,
        connect: &mut dyn FnMut() -> Result<P>,
        event: &mut dyn FnMut(Event<'_>),
    ) -> Result<ControlFlow<Stop, P>> {
        let gone_at = self.start.elapsed();
        if !self.opts.reconnect {
            event(Event::Status(&self.status));
            event(Event::PortGone {
                error,
                waiting: false,
            });
            return Ok(ControlFlow::Break(Stop::PortGone));
        }
        event(Event::PortGone {
            error,
            waiting: true,
        });
        let Some(port) = self.wait_for_port(connect) else {
            // The file already holds everything received.
            return Ok(ControlFlow::Break(Stop::Interrupted));
        };
        self.status.reconnects += 1;
        self.mark_gap(gone_at)?;
        Ok(ControlFlow::Continue(port))
    }

    /// Opens the port again every 250 ms until it opens (Some) or the recording is cancelled.
    fn wait_for_port<P>(&self, connect: &mut dyn FnMut() -> Result<P>) -> Option<P> {
        loop {
            if self.opts.cancel.is_cancelled() {
                return None;
            }
            std::thread::sleep(RECONNECT_EVERY);
            if let Ok(port) = connect() {
                return Some(port);
            }
        }
    }

    /// Writes the gap as a log line of its own: `[memanim] PORT was gone for 3.2 s (from +41.0
    /// s); recording resumed`.
    fn mark_gap(&mut self, gone_at: Duration) -> Result<()> {
        let gap = self.start.elapsed() - gone_at;
        let mark = format!(
            "{}[memanim] {} was gone for {:.1} s (from +{:.1} s); recording resumed\n",
            if self.last_byte == b'\n' { "" } else { "\n" },
            self.opts.port,
            gap.as_secs_f64(),
            gone_at.as_secs_f64()
        );
        write_received(&mut self.file, mark.as_bytes(), &self.opts.output)?;
        self.lines.push(mark.as_bytes(), &mut self.parser);
        self.last_byte = b'\n';
        Ok(())
    }

    /// Syncs the file to disk and gives the result; the caller hears the final status.
    fn finish(mut self, stop: Stop, event: &mut dyn FnMut(Event<'_>)) -> Result<Recorded> {
        let output = &self.opts.output;
        self.file
            .flush()
            .and_then(|_| self.file.sync_all())
            .map_err(|source| Error::Write {
                path: output.clone(),
                source,
            })?;
        self.status.elapsed = self.start.elapsed();
        self.status.dumps = self.parser.snapshot_count();
        event(Event::Status(&self.status));
        let (_, warnings) = self.parser.finish();
        Ok(Recorded {
            path: output.clone(),
            stop,
            status: self.status,
            warnings,
        })
    }
}

/// Splits received bytes into lines for the parser, bounded like the file reader: a line longer
/// than [`MAX_LINE_BYTES`] is cut, and the parser told where.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
    /// Lines passed so far: the next one's number is one more.
    n: u64,
    cut: bool,
}

impl Lines {
    /// Passes each line `data` completes to `parser`; the rest waits for the next chunk.
    fn push(&mut self, mut data: &[u8], parser: &mut Parser) {
        while let Some(end) = memchr::memchr(b'\n', data) {
            self.extend(&data[..end]);
            self.n += 1;
            parser.feed(
                self.n,
                LineBytes {
                    bytes: &self.buf,
                    cut_from: self.cut.then_some(self.buf.len() as u64),
                    nul: memchr::memchr(0, &self.buf).is_some(),
                    unterminated: false,
                },
            );
            self.buf.clear();
            self.cut = false;
            data = &data[end + 1..];
        }
        self.extend(data);
    }

    fn extend(&mut self, part: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
        if part.len() > room {
            self.cut = true;
        }
        self.buf.extend_from_slice(&part[..part.len().min(room)]);
    }
}

fn last_figures(s: Option<Snapshot>) -> Option<(u64, u64)> {
    s?.gc.map(|g| (g.used, g.free))
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
