//! memanim: turns MicroPython heap dumps (`micropython.mem_info(1)` between `@@@` markers) into
//! animated heap maps.
//!
//! The pipeline, one module per stage: [`capture`] (text → sessions of snapshots and log lines),
//! [`heap`] (the block model), [`timeline`] (which snapshot is shown when), [`render`] (snapshot →
//! indexed pixels) and [`encode`] (frames → GIF). [`info`] summarises a capture.

pub mod capture;
pub mod cli;
pub mod diff;
pub mod encode;
pub mod error;
pub mod heap;
pub mod info;
pub mod interrupt;
pub mod options;
pub mod plot;
pub mod progress;
pub mod render;
pub mod serial;
pub mod stats;
pub mod timeline;
pub mod units;
pub mod why;

pub use capture::{parse, parse_path, Capture, ParseOptions};
pub use encode::{Format, Output, Target};
pub use error::{Error, Result, Warning, WarningKind, Warnings};
pub use options::RenderOptions;

/// The largest frame memanim renders (px): 64 M pixels is 64 MB per frame.
pub const MAX_FRAME_PIXELS: u64 = 64 << 20;

/// Memory the frames of one batch may take (bytes). Two batches are in memory at a time (one
/// being written while the next is rendered).
pub const FRAME_MEMORY: u64 = 16 << 20;

/// What [`render`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderReport {
    /// What was written (a path, or "standard output").
    pub output: String,
    /// Frames in the schedule (after the window, the fps cap and merging).
    pub scheduled: usize,
    /// Frames (or files, or video frames) actually written.
    pub written: usize,
    pub width: u32,
    pub height: u32,
    pub duration_ms: f64,
    /// For a still: which snapshot it shows (1-based, as `#N` counts), of how many in the
    /// capture, and its time since the first snapshot (ms).
    pub still: Option<(usize, usize, i64)>,
    /// Snapshots that share a frame with a later one because they came faster than the frame
    /// rate (see [`timeline::MAX_LAG_MS`]).
    pub merged: usize,
    /// Frames shown for just one frame interval because their snapshot came sooner than that
    /// after the one before (dumps taken in a burst).
    pub late: usize,
    /// Snapshots in the window (or the capture).
    pub snapshots: usize,
}

/// Renders a parsed capture to `output`. `progress` is called with (frames done, frames total).
///
/// The selection in `options` is applied before anything is rendered. Files appear only once
/// complete: on any error nothing is left behind and an existing file of that name is untouched.
/// A closed standard output (`| head`) is reported as [`Error::Write`] with kind `BrokenPipe`
/// ([`Error::is_broken_pipe`]).
pub fn render(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderReport> {
    // `--at oom:N`: the still of the dump `why` reads the Nth MemoryError from (the one before,
    // unless that still counted garbage), its pinning objects outlined.
    let mut selection = options.selection;
    let mut outline = Vec::new();
    if let Some(units::TimePoint::MemoryError(n)) = selection.at {
        let (number, pins) = memory_error_still(capture, n)?;
        selection.at = Some(units::TimePoint::Snapshot(number));
        outline = pins;
    }
    let (schedule, still) = timeline::resolve_selection(capture, &options.timing, &selection)?;
    if still.is_some() != matches!(output, Output::Still(..)) {
        return Err(Error::Usage(if still.is_some() {
            "--at and --frame write one image: use -o NAME.png (or .webp, .jpg)".into()
        } else {
            "a .png file holds one frame: add --at TIME or --frame N".into()
        }));
    }
    if capture
        .sessions
        .iter()
        .all(|s| (0..s.snapshots.len()).all(|i| s.snapshots.area_sizes(i).next().is_none()))
    {
        return Err(Error::NoLayout {
            path: capture.source.clone(),
            snapshots: capture.snapshot_count(),
        });
    }
    let marks = error_marks(capture);
    let renderer =
        render::Renderer::with_marks(capture, &schedule, &options.style, marks).outline(outline);
    let (w, h) = (renderer.layout.width as u64, renderer.layout.height as u64);
    if w * h > MAX_FRAME_PIXELS || w > 65_535 || h > 65_535 {
        return Err(Error::Usage(format!(
            "a frame would be {w}x{h} px, too large to render; use a smaller --cell or more --columns"
        )));
    }
    let delays: Vec<u16> = schedule.frames.iter().map(|f| f.delay_cs).collect();
    let video_frames = match output {
        Output::Y4m { fps, .. } => encode::y4m::repeats(&delays, *fps).iter().sum(),
        _ => schedule.frames.len(),
    };
    if video_frames > options.max_frames {
        return Err(Error::Usage(format!(
            "this would write {video_frames} frames, more than --max-frames {}: nobody watches that many. \
             Merge snapshots with --fps 5, pick a window with --from/--to, or play faster with --speed; \
             or raise --max-frames",
            options.max_frames
        )));
    }
    encode::check_space(
        output,
        encode::estimate_bytes(
            output,
            schedule.frames.len(),
            video_frames,
            w as u32,
            h as u32,
        ),
    )?;
    // Frames of one batch are all in memory at once: keep a batch under FRAME_MEMORY bytes.
    let batch = options
        .batch
        .clamp(1, (FRAME_MEMORY / (w * h)).max(1) as usize);
    let total = schedule.frames.len();
    let report = |written: usize| RenderReport {
        output: output.describe(),
        scheduled: total,
        written,
        width: renderer.layout.width,
        height: renderer.layout.height,
        duration_ms: schedule.duration_ms,
        still: still.map(|k| {
            let f = &schedule.frames[k];
            (
                timeline::snapshot_number(capture, f.snap),
                capture.snapshot_count(),
                f.elapsed_ms,
            )
        }),
        merged: schedule.merged,
        late: schedule.late,
        snapshots: schedule.merged + schedule.unchanged + total,
    };
    let tick = |done: usize| progress(done, total);
    let run = || -> Result<RenderReport> {
        match output {
            Output::Gif(target) => {
                let settings = encode::gif::GifSettings {
                    loop_count: options.loop_count,
                    batch,
                };
                match target {
                    encode::Target::File(path) => {
                        let file = encode::atomic::AtomicFile::create(path)?;
                        let (file, stats) = encode::gif::write_gif(
                            file, &renderer, &delays, settings, path, &tick,
                        )?;
                        file.commit()?;
                        Ok(report(stats.frames))
                    }
                    encode::Target::Stdout => {
                        let out = std::io::BufWriter::new(std::io::stdout().lock());
                        let name = std::path::Path::new("standard output");
                        let (mut out, stats) =
                            encode::gif::write_gif(out, &renderer, &delays, settings, name, &tick)?;
                        std::io::Write::flush(&mut out).map_err(stdout_error)?;
                        Ok(report(stats.frames))
                    }
                }
            }
            Output::Still(path, format) => {
                encode::still::write_still(&renderer, still.unwrap_or(0), path, *format)?;
                tick(1);
                Ok(report(1))
            }
            Output::Html(target) => {
                let page = encode::html::Report::new(capture, &schedule, &renderer, &tick)?;
                match target {
                    encode::Target::File(path) => {
                        let mut file = encode::atomic::AtomicFile::create(path)?;
                        page.write(&mut file).map_err(|e| file.error(e))?;
                        file.commit()?;
                    }
                    encode::Target::Stdout => {
                        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                        page.write(&mut out)
                            .and_then(|_| std::io::Write::flush(&mut out))
                            .map_err(stdout_error)?;
                    }
                }
                Ok(report(total))
            }
            Output::PngSequence { dir, force } => {
                encode::png::write_sequence(&renderer, &delays, dir, *force, batch, &tick)?;
                Ok(report(total))
            }
            Output::Y4m { target, fps } => {
                let n = match target {
                    encode::Target::File(path) => {
                        let mut file = encode::atomic::AtomicFile::create(path)?;
                        let n = encode::y4m::write_y4m(
                            &mut file, &renderer, &delays, *fps, batch, &tick,
                        )
                        .map_err(|e| file.error(e))?;
                        file.commit()?;
                        n
                    }
                    encode::Target::Stdout => {
                        let mut out =
                            std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                        encode::y4m::write_y4m(&mut out, &renderer, &delays, *fps, batch, &tick)
                            .map_err(stdout_error)?
                    }
                };
                Ok(report(n))
            }
        }
    };
    match options.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::Encode {
                path: output.describe().into(),
                message: format!("cannot start {n} worker threads: {e}"),
            })?
            .install(run),
        None => run(),
    }
}

/// The MemoryErrors of the capture as the frames show them (a mark on the strip, a notice with
/// the verdict): every output draws them, so a page or a test that wants the same picture as
/// the GIF builds its renderer with these.
pub fn error_marks(capture: &Capture) -> Vec<render::ErrorMark> {
    why::events(capture)
        .iter()
        .filter_map(|e| {
            Some(render::ErrorMark {
                session: e.session,
                before: e.before.or(e.after)?,
                after: e.after,
                text: e.headline(),
            })
        })
        .collect()
}

/// The snapshot number of the dump the `n`th MemoryError is judged by, and the objects to outline:
/// the first pinning objects `memanim why` lists for it.
fn memory_error_still(capture: &Capture, n: usize) -> Result<(usize, render::Outline)> {
    let events = why::events(capture);
    let e = events.get(n - 1).ok_or_else(|| {
        Error::Usage(format!(
            "--at oom:{n}: {} has {}",
            capture.source,
            units::count(events.len() as u64, "MemoryError", "MemoryErrors")
        ))
    })?;
    let at = e.judged_by().ok_or_else(|| {
        Error::Usage(format!(
            "--at oom:{n}: no complete dump in its session shows the heap (line {})",
            e.line
        ))
    })?;
    let snap = timeline::SnapRef {
        session: e.session,
        index: at,
    };
    let x = why::explain(capture, e, why::TOP);
    let pins = x
        .pins
        .iter()
        .take(why::TOP)
        .map(|p| (e.session, p.area, p.block, p.blocks))
        .collect();
    Ok((timeline::snapshot_number(capture, snap), pins))
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}
