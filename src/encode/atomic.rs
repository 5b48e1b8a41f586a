//! Outputs are written to a temporary file beside the target and renamed into place only once
//! complete, so a failure (or Ctrl-C) never leaves half a GIF and never destroys an existing one.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Prefix of every temporary file memanim creates, so stale ones are easy to recognise.
pub const TEMP_PREFIX: &str = ".memanim-tmp-";

/// Checks, without writing anything, that `dest` can be an output file: its directory exists and
/// it is not itself a directory. Returns the directory. Called before any work starts, so a typo
/// in `-o` is reported before a long capture is read.
pub fn check_dest(dest: &Path) -> Result<PathBuf> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::Write {
            path: dest.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                if dir.exists() {
                    format!("{} is not a directory", dir.display())
                } else {
                    format!("directory {} does not exist", dir.display())
                },
            ),
        });
    }
    if dest.is_dir() {
        return Err(Error::Write {
            path: dest.to_path_buf(),
            source: std::io::Error::other("it is a directory"),
        });
    }
    Ok(dir)
}

/// A file being written; it appears at its path only on [`AtomicFile::commit`].
///
/// A destination that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written in place: renaming a temporary file over it would replace the device itself.
pub struct AtomicFile {
    dest: PathBuf,
    /// None when writing in place.
    tmp: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file in the destination's directory (a rename across file systems
    /// would not be atomic).
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = check_dest(dest)?;
        if let Ok(meta) = fs::metadata(dest) {
            if !meta.is_file() {
                let file =
                    fs::OpenOptions::new()
                        .write(true)
                        .open(dest)
                        .map_err(|e| Error::Write {
                            path: dest.to_path_buf(),
                            source: e,
                        })?;
                return Ok(AtomicFile {
                    dest: dest.to_path_buf(),
                    tmp: None,
                    writer: Some(BufWriter::with_capacity(1 << 16, file)),
                });
            }
        }
        let name = dest
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!("{TEMP_PREFIX}{}-{name}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::Write {
            path: dest.to_path_buf(),
            // Say where it failed: "No such file or directory" about a directory that exists
            // (/proc) is otherwise a riddle.
            source: std::io::Error::new(
                e.kind(),
                format!("cannot create a file in {}: {e}", dir.display()),
            ),
        })?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp: Some(tmp),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer
            .as_mut()
            .expect("writer is present until commit")
    }

    /// An error about this output.
    pub fn error(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.dest.clone(),
            source,
        }
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<PathBuf> {
        let w = self.writer.take().expect("commit is called once");
        let file = w.into_inner().map_err(|e| Error::Write {
            path: self.dest.clone(),
            source: e.into_error(),
        })?;
        let Some(tmp) = self.tmp.take() else {
            return Ok(self.dest.clone()); // written in place
        };
        if let Err(e) = file.sync_all() {
            let _ = fs::remove_file(&tmp);
            return Err(self.error(e));
        }
        drop(file);
        if let Err(e) = fs::rename(&tmp, &self.dest) {
            let _ = fs::remove_file(&tmp);
            return Err(self.error(e));
        }
        Ok(self.dest.clone())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            if let Some(tmp) = &self.tmp {
                let _ = fs::remove_file(tmp);
            }
        }
    }
}
