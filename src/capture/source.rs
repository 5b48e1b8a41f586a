//! Where a capture's bytes are, so that a dump can be read again when it is needed.
//!
//! memanim keeps an index of a capture (each dump's place and figures), never its blocks: a
//! frame, a `diff` or `memanim why` reads the dumps it shows again from here. A file is read
//! where it is; standard input (or any other reader) is copied to an unnamed temporary file as it
//! is parsed, which the operating system removes when it is closed, on every exit path (a
//! crash and a second Ctrl-C included), since it never has a name.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use crate::cancel::Cancel;

/// A capture's bytes, read by offset from any thread.
#[derive(Debug)]
pub struct Source {
    file: File,
    /// Bytes the index was made from: a file still being written is read up to here.
    len: u64,
}

impl Source {
    /// A file read where it is.
    pub fn open(path: &Path) -> io::Result<Source> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Source { file, len })
    }

    /// Bytes the index covers.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads `len` bytes at `offset` into `buf` (cleared first).
    pub fn read(&self, offset: u64, len: usize, buf: &mut Vec<u8>) -> io::Result<()> {
        // The index counts a line end after the last line even where the capture has none.
        let len = (len as u64).min(self.len.saturating_sub(offset)) as usize;
        buf.clear();
        buf.resize(len, 0);
        read_exact_at(&self.file, buf, offset)
    }

    pub(crate) fn set_len(&mut self, len: u64) {
        self.len = len;
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads from `inner` and copies every byte read into an unnamed temporary file, which becomes
/// the capture's [`Source`] (see [`Spool::finish`]).
pub struct Spool<R> {
    inner: R,
    file: File,
    written: u64,
    /// The first failed write to the temporary file, reported by [`Spool::finish`].
    error: Option<io::Error>,
}

impl<R: BufRead> Spool<R> {
    pub fn new(inner: R) -> io::Result<Spool<R>> {
        Ok(Spool {
            inner,
            file: tempfile::tempfile()?,
            written: 0,
            error: None,
        })
    }

    /// The temporary file as the capture's source.
    pub fn finish(mut self) -> io::Result<Source> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.file.flush()?;
        Ok(Source {
            file: self.file,
            len: self.written,
        })
    }
}

impl<R: BufRead> Read for Spool<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, buf)
    }
}

impl<R: BufRead> BufRead for Spool<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // What the parser has consumed is what the index's offsets count: copy exactly that.
        if self.error.is_none() {
            if let Ok(chunk) = self.inner.fill_buf() {
                let n = amt.min(chunk.len());
                if let Err(e) = self.file.write_all(&chunk[..n]) {
                    self.error = Some(e);
                }
                self.written += n as u64;
            }
        }
        self.inner.consume(amt);
    }
}

/// `Read::read` for a reader whose work is done in its `BufRead` methods (what it copies or
/// checks happens in `fill_buf` and `consume`).
fn read_through_buffer(r: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let n = {
        let chunk = r.fill_buf()?;
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        n
    };
    r.consume(n);
    Ok(n)
}

/// A reader that fails once `cancel` is cancelled: before each chunk, and at the end of the
/// input too, since Ctrl-C in a terminal also stops the program feeding a pipe, whose end then
/// follows the signal and must not be taken for a whole capture.
pub(crate) struct Cancellable<'a, R> {
    inner: R,
    cancel: &'a Cancel,
}

impl<'a, R: BufRead> Cancellable<'a, R> {
    pub(crate) fn new(inner: R, cancel: &'a Cancel) -> Self {
        Cancellable { inner, cancel }
    }

    fn stopped(&self) -> io::Result<()> {
        if self.cancel.is_cancelled() {
            // Not ErrorKind::Interrupted, which readers take as "try again".
            Err(io::Error::other("interrupted"))
        } else {
            Ok(())
        }
    }
}

impl<R: BufRead> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, buf)
    }
}

impl<R: BufRead> BufRead for Cancellable<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.stopped()?;
        if self.inner.fill_buf()?.is_empty() {
            self.stopped()?;
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
    }
}

/// Bytes [`ReadAhead`] reads at a time.
const READ_AHEAD_CHUNK: usize = 1 << 20;

/// A reader on a thread of its own, a few chunks ahead of the parser: copying the file out of
/// the page cache is a fifth of reading a capture, and the parser's thread need not do it. At
/// most four chunks exist (one being read, two waiting, one being parsed), reused in turn.
pub struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Chunks the parser is done with, back to the reading thread.
    spent: mpsc::SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    /// The end of the input, or an error, was reached (an error is returned once).
    done: bool,
}

impl ReadAhead {
    /// Starts reading `inner` on a new thread. The thread ends at the end of the input, at an
    /// error, or when the `ReadAhead` is dropped (once its read in progress returns).
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<ReadAhead> {
        let (tx, chunks) = mpsc::sync_channel(2);
        let (spent, reuse) = mpsc::sync_channel::<Vec<u8>>(4);
        std::thread::Builder::new()
            .name("memanim-read".into())
            .spawn(move || loop {
                let mut buf = reuse
                    .try_recv()
                    .unwrap_or_else(|_| vec![0; READ_AHEAD_CHUNK]);
                buf.resize(READ_AHEAD_CHUNK, 0);
                let mut n = 0;
                let res = loop {
                    match inner.read(&mut buf[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(n);
                let end = n == 0 || res.is_err();
                let sent = match res {
                    Err(e) if n == 0 => tx.send(Err(e)),
                    // Bytes read before an error are delivered first; the error follows.
                    Err(e) => tx.send(Ok(buf)).and_then(|_| tx.send(Err(e)).map(|_| ())),
                    Ok(()) => tx.send(Ok(buf)),
                };
                if end || sent.is_err() {
                    return;
                }
            })?;
        Ok(ReadAhead {
            chunks,
            spent,
            chunk: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, buf)
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.chunk.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(next)) if !next.is_empty() => {
                    let old = std::mem::replace(&mut self.chunk, next);
                    // The thread may have ended; a chunk it cannot take back is just freed.
                    let _ = self.spent.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The end of the input (an empty chunk, or the thread is gone after it).
                _ => self.done = true,
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.chunk.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_holds_exactly_what_was_read() {
        let text = b"line one\nline two\n\xffthree";
        let mut spool = Spool::new(std::io::BufReader::with_capacity(4, &text[..])).unwrap();
        let mut all = Vec::new();
        spool.read_to_end(&mut all).unwrap();
        assert_eq!(all, text);
        let source = spool.finish().unwrap();
        assert_eq!(source.len(), text.len() as u64);
        let mut buf = Vec::new();
        source.read(5, 8, &mut buf).unwrap();
        assert_eq!(buf, b"one\nline");
    }

    #[test]
    fn a_cancelled_reader_fails_before_a_chunk_and_at_the_end() {
        let cancel = Cancel::new();
        let mut r = Cancellable::new(&b"one\ntwo\n"[..], &cancel);
        assert_eq!(r.fill_buf().unwrap(), b"one\ntwo\n");
        r.consume(8);
        cancel.cancel();
        // The end of the input after the cancel is not a whole capture.
        assert_eq!(r.fill_buf().unwrap_err().to_string(), "interrupted");
        let mut r = Cancellable::new(&b"more"[..], &cancel);
        assert!(r.fill_buf().is_err());
    }

    #[test]
    fn read_ahead_gives_every_byte_in_order() {
        let text: Vec<u8> = (0..3 * READ_AHEAD_CHUNK + 12345)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut all = Vec::new();
        ReadAhead::new(std::io::Cursor::new(text.clone()))
            .unwrap()
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, text);
        let mut none = Vec::new();
        ReadAhead::new(std::io::empty())
            .unwrap()
            .read_to_end(&mut none)
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn read_ahead_reports_an_error_after_the_bytes_before_it() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = self.0.min(buf.len()).min(1000);
                buf[..n].fill(b'x');
                self.0 -= n;
                Ok(n)
            }
        }
        let mut r = ReadAhead::new(Failing(5000)).unwrap();
        let mut got = Vec::new();
        let err = r.read_to_end(&mut got).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(got.len(), 5000);
    }
}
