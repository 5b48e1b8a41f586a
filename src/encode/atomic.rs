//! Atomic output files. In goes a destination path and the bytes written to an [`AtomicFile`];
//! out comes the file at that path, complete, or nothing at all.
//!
//! The bytes go to a temporary file that the `tempfile` crate creates beside the destination (a
//! rename across file systems would not be atomic) and renames into place on
//! [`AtomicFile::commit`]. Until then the destination is untouched: a failure, an early return or
//! Ctrl-C drops the temporary file, which removes it, so no half-written GIF is ever left and an
//! existing one is never destroyed.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Prefix of every temporary file and directory memanim creates, so stale ones are easy to
/// recognise.
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

/// A file being written; it appears at its path only on [`AtomicFile::commit`]. Dropped without
/// a commit, it leaves nothing behind.
///
/// A destination that exists and is not a regular file (`/dev/null`, `/dev/stdout` on a pipe, a
/// FIFO) is written in place: renaming a temporary file over it would replace the device itself.
/// A symbolic link to a file is written through: the file it points to is replaced, the link
/// kept.
pub struct AtomicFile {
    /// The path as given, for messages.
    dest: PathBuf,
    /// The path the temporary file is renamed to.
    target: PathBuf,
    writer: BufWriter<Sink>,
}

/// Where an [`AtomicFile`]'s bytes go until the commit.
enum Sink {
    /// A device or FIFO, written as it goes.
    InPlace(File),
    /// The temporary file beside the destination; dropping it removes it.
    Temp(NamedTempFile),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::InPlace(f) => f.write(buf),
            Sink::Temp(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::InPlace(f) => f.flush(),
            Sink::Temp(f) => f.flush(),
        }
    }
}

impl AtomicFile {
    /// Opens `dest` for writing: a temporary file in the destination's directory, or the
    /// destination itself when it is a device or FIFO. Fails, creating nothing, when the
    /// directory is missing or not writable.
    pub fn create(dest: &Path) -> Result<Self> {
        check_dest(dest)?;
        let target = link_target(dest);
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let write_error = |source| Error::Write {
            path: dest.to_path_buf(),
            source,
        };
        let sink = if fs::metadata(dest).is_ok_and(|meta| !meta.is_file()) {
            Sink::InPlace(
                fs::OpenOptions::new()
                    .write(true)
                    .open(dest)
                    .map_err(write_error)?,
            )
        } else {
            let name = dest
                .file_name()
                .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
            // The file is opened as `File::create` opens one (permissions from the umask, as
            // any other output), not with tempfile's owner-only default.
            let tmp = tempfile::Builder::new()
                .prefix(TEMP_PREFIX)
                .suffix(&format!("-{name}"))
                .make_in(&dir, |path| {
                    fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(path)
                })
                .map_err(|e| {
                    // Say where it failed: "No such file or directory" about a directory that
                    // exists (/proc) is otherwise a riddle.
                    write_error(std::io::Error::new(
                        e.kind(),
                        format!("cannot create a file in {}: {e}", dir.display()),
                    ))
                })?;
            Sink::Temp(tmp)
        };
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            target,
            writer: BufWriter::with_capacity(1 << 16, sink),
        })
    }

    /// An error about this output.
    pub fn error(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.dest.clone(),
            source,
        }
    }

    /// Flushes, syncs and renames the file into place; returns its path. On any failure the
    /// temporary file is removed and the destination is as it was.
    pub fn commit(self) -> Result<PathBuf> {
        let AtomicFile {
            dest,
            target,
            writer,
        } = self;
        let write_error = |source| Error::Write {
            path: dest.clone(),
            source,
        };
        match writer
            .into_inner()
            .map_err(|e| write_error(e.into_error()))?
        {
            Sink::InPlace(_) => {}
            Sink::Temp(tmp) => {
                tmp.as_file().sync_all().map_err(write_error)?;
                tmp.into_temp_path()
                    .persist(&target)
                    .map_err(|e| write_error(e.error))?;
            }
        }
        Ok(dest)
    }
}

/// The file the output replaces: `dest`, or the file a symbolic link at `dest` points to.
/// Renamed over, the link itself would become the output, and with `-o /dev/stdout` on a shell
/// redirected to a file, that link is `/dev/stdout`.
fn link_target(dest: &Path) -> PathBuf {
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf())
        }
        _ => dest.to_path_buf(),
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh empty directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("memanim-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_file_appears_only_on_commit() {
        let dir = scratch("commit");
        let dest = dir.join("out.gif");
        let mut file = AtomicFile::create(&dest).unwrap();
        file.write_all(b"new").unwrap();
        file.flush().unwrap();
        assert!(!dest.exists());
        let temp = names(&dir);
        assert_eq!(temp.len(), 1);
        assert!(
            temp[0].starts_with(TEMP_PREFIX) && temp[0].ends_with("-out.gif"),
            "{temp:?}"
        );
        assert_eq!(file.commit().unwrap(), dest);
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(names(&dir), ["out.gif"]);
        #[cfg(unix)]
        {
            // Readable as any other output, not owner-only as temporary files are.
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.join("plain");
            fs::write(&plain, b"").unwrap();
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&dest), mode(&plain));
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_given_up_leaves_nothing_and_keeps_the_old_file() {
        let dir = scratch("drop");
        let dest = dir.join("keep.gif");
        fs::write(&dest, b"old").unwrap();
        let mut file = AtomicFile::create(&dest).unwrap();
        file.write_all(&[7; 200_000]).unwrap();
        drop(file);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_eq!(names(&dir), ["keep.gif"]);
        // A missing directory: an error, and nothing created.
        let missing = dir.join("no/such/x.gif");
        let e = AtomicFile::create(&missing).err().unwrap();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert_eq!(names(&dir), ["keep.gif"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through_and_kept() {
        let dir = scratch("link");
        let real = dir.join("real.gif");
        fs::write(&real, b"old").unwrap();
        let link = dir.join("link.gif");
        std::os::unix::fs::symlink("real.gif", &link).unwrap();
        let mut file = AtomicFile::create(&link).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(file.commit().unwrap(), link);
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(names(&dir), ["link.gif", "real.gif"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
