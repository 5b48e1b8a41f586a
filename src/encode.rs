//! Writes the scheduled frames: an animated GIF now; the output kinds share the renderer and the
//! schedule, and every file is written through [`atomic::AtomicFile`].

pub mod atomic;
pub mod gif;

use std::path::{Path, PathBuf};

/// Where frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One animated GIF.
    Gif(PathBuf),
}

impl Output {
    /// Picks the output kind from the path's extension.
    pub fn from_path(path: &Path) -> Result<Output, String> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "gif" => Ok(Output::Gif(path.to_path_buf())),
            Some(e) => Err(format!(
                "cannot tell what to write from the extension '.{e}' of {}: use a .gif file name",
                path.display()
            )),
            None => Err(format!(
                "{} has no extension: use a .gif file name",
                path.display()
            )),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Output::Gif(p) => p,
        }
    }
}
