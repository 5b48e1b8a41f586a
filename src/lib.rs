//! memanim: turns MicroPython heap dumps (`micropython.mem_info(1)` between `@@@` markers) into
//! animated heap maps.
//!
//! The pipeline, one module per stage: [`capture`] (text → sessions of snapshots and log lines),
//! [`heap`] (the block model), [`timeline`] (which snapshot is shown when), [`render`] (snapshot →
//! indexed pixels) and [`encode`] (frames → GIF). [`info`] summarises a capture.

pub mod capture;
pub mod cli;
pub mod encode;
pub mod error;
pub mod heap;
pub mod info;
pub mod options;
pub mod progress;
pub mod render;
pub mod timeline;

use std::path::PathBuf;

pub use capture::{parse, Capture, ParseOptions};
pub use encode::Output;
pub use error::{Error, Result, Warning, WarningKind, Warnings};
pub use options::RenderOptions;

/// The largest frame memanim renders (px): 64 M pixels is 64 MB per frame.
pub const MAX_FRAME_PIXELS: u64 = 64 << 20;

/// Memory the frames of one batch may take (bytes).
pub const FRAME_MEMORY: u64 = 256 << 20;

/// What [`render`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderReport {
    pub path: PathBuf,
    /// Frames in the schedule (after the fps cap).
    pub scheduled: usize,
    /// Frames actually written (after identical frames were merged).
    pub written: usize,
    pub width: u32,
    pub height: u32,
    pub duration_ms: f64,
}

/// Renders a parsed capture to `output`. `progress` is called with (frames done, frames total).
///
/// The output appears only once it is complete; on any error nothing is left behind and an existing
/// file of that name is untouched.
pub fn render(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderReport> {
    let schedule = timeline::resolve(capture, &options.timing);
    if schedule.frames.is_empty() {
        return Err(Error::Options(
            "nothing to render: no snapshot was selected".into(),
        ));
    }
    let renderer = render::Renderer::new(capture, &schedule, &options.style);
    let (w, h) = (renderer.layout.width as u64, renderer.layout.height as u64);
    if w * h > MAX_FRAME_PIXELS || w > 65_535 || h > 65_535 {
        return Err(Error::Options(format!(
            "a frame would be {w}x{h} px, too large to render; use a smaller --cell or more --columns"
        )));
    }
    // Frames of one batch are all in memory at once: keep a batch under FRAME_MEMORY bytes.
    let batch = options
        .batch
        .clamp(1, (FRAME_MEMORY / (w * h)).max(1) as usize);
    let total = schedule.frames.len();
    let run = || -> Result<RenderReport> {
        match output {
            Output::Gif(path) => {
                let mut file = encode::atomic::AtomicFile::create(path)?;
                let delays: Vec<u16> = schedule.frames.iter().map(|f| f.delay_cs).collect();
                let settings = encode::gif::GifSettings {
                    loop_count: options.loop_count,
                    batch,
                };
                let (_, stats) =
                    encode::gif::write_gif(&mut file, &renderer, &delays, settings, &|done| {
                        progress(done, total)
                    })
                    .map_err(|e| e.into_error(path))?;
                let path = file.commit()?;
                Ok(RenderReport {
                    path,
                    scheduled: total,
                    written: stats.frames,
                    width: renderer.layout.width,
                    height: renderer.layout.height,
                    duration_ms: schedule.duration_ms,
                })
            }
        }
    };
    match options.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::Options(format!("cannot start {n} worker threads: {e}")))?
            .install(run),
        None => run(),
    }
}
