//! Errors and warnings, both carrying the place in the input they are about.
//!
//! The library never prints: fatal problems come back as [`Error`], everything that was skipped or
//! repaired comes back as [`Warning`] values collected in a [`Warnings`] list, which folds warnings of
//! one kind into a count so a noisy 100 MB log does not produce 100,000 lines of output.

use std::fmt;
use std::path::PathBuf;

/// A place in an input file: its name as the user gave it and a 1-based line number (0 = whole file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourcePos {
    pub line: u64,
}

impl SourcePos {
    pub fn line(line: u64) -> Self {
        SourcePos { line }
    }
}

/// Everything that stops memanim from producing a result.
#[derive(Debug)]
pub enum Error {
    /// An input file could not be opened or read.
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The input was read, but holds nothing memanim can use.
    NoDumps {
        path: String,
        lines: u64,
        detail: String,
    },
    /// Every dump lacks its layout table (`micropython.mem_info()` without the 1): there are
    /// figures to report but no blocks to draw.
    NoLayout { path: String, snapshots: usize },
    /// An output could not be written.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A usage error: the command line asks for something memanim cannot do, whether the options
    /// contradict each other or the capture (a time outside it, an output the command cannot
    /// write). The message names the option and says what to give instead. Exit code 2.
    Usage(String),
    /// Encoding a frame failed: `source` is the encoder's own error.
    Encode {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// `--max-size` cannot be met: the message says the smallest size reachable and what to try.
    TooLarge {
        path: PathBuf,
        limit: u64,
        message: String,
    },
    /// The serial port could not be used: `message` says what failed and what to do, and
    /// `source` is the port's own error where there is one.
    Serial {
        port: String,
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The user stopped the work (Ctrl-C) before the output was complete.
    Interrupted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } => {
                write!(f, "{path}: cannot read it: {source}{}", io_hint(source))
            }
            Error::NoDumps {
                path,
                lines,
                detail,
            } => {
                write!(f, "{path}: no heap dumps found ({lines} lines read)")?;
                if !detail.is_empty() {
                    write!(f, "; {detail}")?;
                }
                Ok(())
            }
            Error::NoLayout { path, snapshots } => write!(
                f,
                "{path}: none of its {snapshots} dump(s) has a layout table ('GC memory layout' \
                 and its rows), so there are no blocks to draw; print them with \
                 micropython.mem_info(1), not mem_info() (memanim info, stats and plot read the \
                 figures these dumps have)"
            ),
            Error::Write { path, source } => write!(
                f,
                "{}: cannot write it: {source}{}",
                path.display(),
                io_hint(source)
            ),
            Error::Usage(msg) => f.write_str(msg),
            Error::Encode { path, source } => {
                write!(f, "{}: cannot encode it: {source}", path.display())
            }
            Error::TooLarge {
                path,
                limit,
                message,
            } => write!(
                f,
                "{}: cannot fit it in {} (--max-size): {message}; nothing was written",
                path.display(),
                crate::units::size(*limit)
            ),
            Error::Serial { port, message, .. } => write!(f, "serial port {port}: {message}"),
            Error::Interrupted => f.write_str("interrupted; no output was written"),
        }
    }
}

/// What to do about a common I/O failure, after its message; empty for the rest, whose message
/// says enough.
fn io_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => " (check the path)",
        std::io::ErrorKind::PermissionDenied => " (check its permissions)",
        _ => "",
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } | Error::Write { source, .. } => Some(source),
            Error::Encode { source, .. } => Some(source.as_ref()),
            Error::Serial {
                source: Some(source),
                ..
            } => Some(source.as_ref()),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Exit code: the output was written.
pub const EXIT_OK: u8 = 0;
/// Exit code: nothing was written (nothing usable in the input, an I/O failure, Ctrl-C).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: a usage error (clap's own errors exit with 2 too).
pub const EXIT_USAGE: u8 = 2;

/// The exit codes and what they mean: the one table `--help` and the README print.
pub const EXIT_CODES: [(u8, &str); 3] = [
    (
        EXIT_OK,
        "done: the output was written (warnings or not), or the program reading standard output quit early (like head)",
    ),
    (
        EXIT_FAILED,
        "failed: nothing usable in the input, a file or port that cannot be read or written, or Ctrl-C",
    ),
    (
        EXIT_USAGE,
        "usage error: an unknown or bad option, options that contradict each other, a time or snapshot outside the capture, an output the command cannot write",
    ),
];

impl Error {
    /// The process exit code for this error (see [`EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            _ => EXIT_FAILED,
        }
    }

    /// True when this is a write to a reader that went away (`memanim info x.log | head`): like a
    /// C program killed by SIGPIPE, the program should end quietly. Rust ignores SIGPIPE, so the
    /// write fails with `BrokenPipe` instead.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// What kind of thing a warning is about; warnings of one kind are counted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    InvalidUtf8,
    Binary,
    LongLine,
    MalformedMarker,
    OutsideDump,
    DumpCutOff,
    DumpDropped,
    RowRepaired,
    OffsetMismatch,
    UnknownBlockChar,
    BlockSize,
    GcMismatch,
    TicksBackwards,
    /// `ticks_ms` wrapped at 2^29 where 2^30 was expected: read as a wrap.
    TicksWrap,
    SyncLine,
    ForeignPrefix,
    EmptyDump,
    /// A dump printed something else where its layout table belongs (a `Frag:` histogram).
    NoTable,
}

impl WarningKind {
    /// What warnings of this kind are about, for "... and 12 more warnings like these (...)".
    pub fn describe(self) -> &'static str {
        match self {
            WarningKind::InvalidUtf8 => "bytes that are not UTF-8",
            WarningKind::Binary => "binary data",
            WarningKind::LongLine => "lines cut at 64 KiB",
            WarningKind::MalformedMarker => "malformed @@@ markers",
            WarningKind::OutsideDump => "heap dump lines outside a dump",
            WarningKind::DumpCutOff => "dumps cut off",
            WarningKind::DumpDropped => "dumps skipped",
            WarningKind::RowRepaired => "layout rows repaired",
            WarningKind::OffsetMismatch => "printed offsets that differ from the counted ones",
            WarningKind::UnknownBlockChar => "unknown block characters",
            WarningKind::BlockSize => "block sizes that do not fit",
            WarningKind::GcMismatch => "GC lines that disagree with the blocks",
            WarningKind::TicksBackwards => "ticks_ms going back",
            WarningKind::TicksWrap => "ticks_ms wrapping",
            WarningKind::SyncLine => "sync lines that cannot be read",
            WarningKind::ForeignPrefix => "lines with a foreign prefix",
            WarningKind::EmptyDump => "empty dumps",
            WarningKind::NoTable => "dumps without a layout table",
        }
    }
}

/// One thing that was skipped or repaired, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub pos: SourcePos,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line > 0 {
            write!(f, "line {}: {}", self.pos.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// How many warnings of one kind are kept with their text; the rest are only counted.
pub const WARNINGS_KEPT_PER_KIND: usize = 5;

/// A list of warnings that keeps the first few of each kind and counts the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    kept: Vec<Warning>,
    counts: Vec<(WarningKind, u64)>,
}

impl Warnings {
    pub fn push(&mut self, kind: WarningKind, line: u64, message: impl Into<String>) {
        let slot = match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some(slot) => slot,
            None => {
                self.counts.push((kind, 0));
                self.counts.last_mut().expect("just pushed")
            }
        };
        slot.1 += 1;
        if slot.1 as usize <= WARNINGS_KEPT_PER_KIND {
            self.kept.push(Warning {
                kind,
                pos: SourcePos::line(line),
                message: message.into(),
            });
        }
    }

    /// Total number of warnings, including the ones only counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    pub fn count(&self, kind: WarningKind) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The warnings kept with their text, in the order they were found.
    pub fn kept(&self) -> &[Warning] {
        &self.kept
    }

    /// For each kind: how many were not kept (so a report can say "and 312 more like this").
    pub fn suppressed(&self) -> impl Iterator<Item = (WarningKind, u64)> + '_ {
        self.counts
            .iter()
            .filter(|(_, n)| *n as usize > WARNINGS_KEPT_PER_KIND)
            .map(|(k, n)| (*k, n - WARNINGS_KEPT_PER_KIND as u64))
    }

    /// Lines for a report: each kept warning prefixed with the source name, then the suppressed counts.
    pub fn report(&self, source: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .kept
            .iter()
            .map(|w| {
                if w.pos.line > 0 {
                    format!("{source}:{}: {}", w.pos.line, w.message)
                } else {
                    format!("{source}: {}", w.message)
                }
            })
            .collect();
        for (kind, n) in self.suppressed() {
            out.push(format!(
                "{source}: ... and {} like these ({})",
                crate::units::count(n, "more warning", "more warnings"),
                kind.describe()
            ));
        }
        out
    }
}
