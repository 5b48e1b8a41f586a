//! memanim: turns MicroPython heap dumps (`micropython.mem_info(1)` between `@@@` markers) into
//! animated heap maps.
//!
//! The pipeline, one module per stage: [`capture`] (text → sessions of snapshots and log lines),
//! [`heap`] (the block model), [`timeline`] (which snapshot is shown when), [`render`] (snapshot →
//! indexed pixels) and [`encode`] (frames → GIF or PNGs). [`serial`] records a live board.

pub mod capture;
pub mod error;
pub mod heap;

pub use capture::{parse, Capture, ParseOptions};
pub use error::{Error, Result, Warning, WarningKind, Warnings};
