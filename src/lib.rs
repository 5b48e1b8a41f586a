//! memanim: turns MicroPython heap dumps (`micropython.mem_info(1)`, with or without `@@@`
//! markers) into animated heap maps, reports and answers.
//!
//! The pipeline, one module per stage: [`capture`] (text → sessions of snapshots and log lines),
//! [`heap`] (the block model), [`timeline`] (which snapshot is shown when), [`render`](mod@render) (snapshot →
//! indexed pixels in a [`render::frame::Frame`]) and [`encode`] (frames → GIF, PNG, Y4M, HTML).
//! At the edges: [`record`] (a live board's serial output → a capture file), [`share`] (the speed
//! and settings that meet a play time and a file size) and [`analysis`] (`info`, `stats`, `diff`,
//! `plot`, `why`).
//!
//! The entry points: [`parse`] (or [`parse_path`]) reads a capture, [`render()`] turns it into
//! the [`Output`] that [`Output::choose`] picked, [`record::record`] records a live board, and
//! each analysis has its own in [`analysis`].

pub mod analysis;
pub mod cancel;
pub mod capture;
pub mod cli;
pub mod encode;
pub mod error;
pub mod heap;
pub mod options;
pub mod record;
pub mod render;
pub mod share;
pub mod timeline;
pub mod units;

use analysis::why;

pub use capture::{parse, parse_path, Capture, ParseOptions};
/// How many frames a batch holds (kept here for [`share`], which batches its estimates too).
pub(crate) use encode::batch_size;
pub use encode::{Format, Output, Target};
pub use error::{Error, Result, Warning, WarningKind, Warnings};
pub use options::RenderOptions;

/// The largest frame memanim renders (px): 64 M pixels is 64 MB per frame.
pub const MAX_FRAME_PIXELS: u64 = 64 << 20;

/// What [`render()`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderReport {
    /// What was written (a path, or "standard output").
    pub output: String,
    /// Frames in the schedule (after the window, the fps cap and merging).
    pub scheduled: usize,
    /// Frames (or files, or video frames) actually written.
    pub written: usize,
    /// The frame's width (px).
    pub width: u32,
    /// The frame's height (px).
    pub height: u32,
    /// How long the animation plays (ms): for a GIF, the sum of the delays written.
    pub duration_ms: f64,
    /// Bytes written: the file, the frames directory's files, or what went to standard output.
    pub bytes: u64,
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
    /// The speed played at (`--speed`, or the one `--duration` chose).
    pub speed: f64,
    /// The frame-rate cap the frames were scheduled at (`--fps`, or what `--max-size` chose).
    pub fps: f64,
    /// What `--max-size` chose, when it was given.
    pub fit: Option<share::FitReport>,
}

/// Renders a parsed capture to `output`. `progress` is called with (frames done, frames total).
///
/// The selection in `options` is applied before anything is rendered. Files appear only once
/// complete: on any error nothing is left behind and an existing file of that name is untouched.
/// A closed standard output (`| head`) is reported as [`Error::Write`] with kind `BrokenPipe`
/// ([`Error::is_broken_pipe`]).
///
/// `options.share` shapes the result first (see [`share`]): `duration_ms` sets the speed, and a
/// GIF with `max_size` is written at settings chosen from estimates, in at most two passes (the
/// second only when the first went over the limit, which stops it at once). A limit that cannot
/// be met is [`Error::TooLarge`], before anything is written. With `max_size`, a GIF for standard
/// output is held in memory (at most `max_size` bytes) until it is known to fit.
pub fn render(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderReport> {
    with_jobs(options.jobs, &output.describe(), || {
        render_all(capture, options, output, progress, 1.0)
    })
}

/// Runs `f` on a pool of `jobs` worker threads, or on the global pool (one per core).
pub(crate) fn with_jobs<T: Send>(
    jobs: Option<usize>,
    what: &str,
    f: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    match jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::Encode {
                path: what.into(),
                source: format!("cannot start {n} worker threads: {e}").into(),
            })?
            .install(f),
        None => f(),
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
                before: e.marked_at()?,
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
        Error::Usage(if events.is_empty() {
            format!(
                "--at oom: {} has no MemoryError (no log line says MemoryError or `memory \
                 allocation failed`); pick a snapshot with --at TIME or --snapshot N",
                capture.source
            )
        } else {
            format!(
                "--at oom:{n}: {} has {} (oom:1 to oom:{}; `memanim why` lists them)",
                capture.source,
                units::count(events.len() as u64, "MemoryError", "MemoryErrors"),
                events.len()
            )
        })
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

/// [`render()`] on the current pool. `correction` scales the size estimates of the first pass
/// (1; tests pass less to make an estimate come out low).
fn render_all(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    progress: &(dyn Fn(usize, usize) + Sync),
    correction: f64,
) -> Result<RenderReport> {
    let mut options = options.clone();
    // `--at oom:N`: the still of the dump `why` reads the Nth MemoryError from (the one before,
    // unless that still counted garbage), its pinning objects outlined.
    let mut outline = Vec::new();
    if let Some(units::TimePoint::MemoryError(n)) = options.selection.at {
        let (number, pins) = memory_error_still(capture, n)?;
        options.selection.at = Some(units::TimePoint::Snapshot(number));
        outline = pins;
    }
    // A still or the report is looked at closely: one cell per block, whatever the heap's size.
    if matches!(output, Output::Still(..) | Output::Html(_)) {
        options.style.exact = true;
    }
    let still = options.selection.is_still();
    check_still_output(still, output)?;
    check_layout(capture)?;
    let marks = error_marks(capture);
    options.timing.keep = dumps_kept(&marks);
    if let (Some(d), false) = (options.share.duration_ms, still) {
        options.timing = share::play_in(capture, &options.timing, &options.selection, d)?;
    }
    match (output, options.share.max_size) {
        (Output::Gif(_), Some(limit)) => write_to_fit(
            capture, &options, output, &marks, limit, correction, progress,
        ),
        _ => write_pass(capture, &options, output, &marks, &outline, None, progress),
    }
}

/// Refuses a still (`--at`, `--frame`) to anything but an image, and an image without one.
fn check_still_output(still: bool, output: &Output) -> Result<()> {
    if still == matches!(output, Output::Still(..)) {
        return Ok(());
    }
    Err(Error::Usage(if still {
        "--at and --frame write one image: use -o NAME.png (or .webp, .jpg)".into()
    } else {
        "a .png file holds one frame: add --at TIME or --frame N".into()
    }))
}

/// Refuses a capture in which no snapshot has a layout table: there is no map to draw.
fn check_layout(capture: &Capture) -> Result<()> {
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
    Ok(())
}

/// The dumps around each MemoryError, as (session, index), sorted and deduplicated: they keep
/// frames of their own, since its notice starts on one and the page's `#s=N` and `--at oom`
/// point at them.
fn dumps_kept(marks: &[render::ErrorMark]) -> Vec<(usize, usize)> {
    let mut keep: Vec<(usize, usize)> = marks
        .iter()
        .flat_map(|m| {
            [Some(m.before), m.after]
                .into_iter()
                .flatten()
                .map(|i| (m.session, i))
        })
        .collect();
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// A GIF of at most `limit` bytes (`--max-size`), at settings [`share::fit`] chooses from
/// estimates. When the estimate was low the first pass stops at the limit, and a second pass
/// runs at settings estimated again with what the first one wrote; a second overrun is
/// [`Error::TooLarge`].
fn write_to_fit(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    marks: &[render::ErrorMark],
    limit: u64,
    correction: f64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderReport> {
    let path = std::path::PathBuf::from(output.describe());
    let fit = share::fit(capture, options, marks, limit, correction, &path)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = |d: usize, total: usize| {
        done.store(d, std::sync::atomic::Ordering::Relaxed);
        progress(d, total)
    };
    let pass = |fit: &share::Fit, progress: &(dyn Fn(usize, usize) + Sync)| {
        write_pass(
            capture,
            &fit.options,
            output,
            marks,
            &[],
            Some(limit),
            progress,
        )
    };
    let finish = |mut report: RenderReport, fit: share::Fit, passes: u32| {
        report.fit = Some(share::FitReport {
            passes,
            size: report.bytes,
            ..fit.report
        });
        report
    };
    match pass(&fit, &tick) {
        Ok(report) => Ok(finish(report, fit, 1)),
        Err(e) if encode::budget::over_budget(&e).is_some() => {
            // The estimate was low. What the first pass wrote before it was stopped says by how
            // much: estimate again with every frame's size scaled by that.
            let frames_done = done.load(std::sync::atomic::Ordering::Relaxed);
            let correction = share::corrected(&fit, frames_done);
            let second = share::fit(capture, options, marks, limit, correction, &path)?;
            match pass(&second, progress) {
                Ok(report) => Ok(finish(report, second, 2)),
                Err(e) if encode::budget::over_budget(&e).is_some() => Err(Error::TooLarge {
                    path,
                    limit,
                    message: format!(
                        "two passes went over it (the second at an estimated {}); give a larger \
                         --max-size or a shorter --duration",
                        units::size(second.report.estimate)
                    ),
                }),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// One rendering and encoding pass with `options` as they are. A GIF is written through a
/// [`encode::budget::Limited`] writer that stops at `limit` bytes.
fn write_pass(
    capture: &Capture,
    options: &RenderOptions,
    output: &Output,
    marks: &[render::ErrorMark],
    outline: &[(usize, u64, usize, usize)],
    limit: Option<u64>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderReport> {
    let (schedule, still) =
        timeline::resolve_selection(capture, &options.timing, &options.selection)?;
    let renderer = render::Renderer::with_marks(capture, &schedule, &options.style, marks.to_vec())
        .outline(outline.to_vec())
        .cancel_on(options.cancel.clone());
    let layout = &renderer.layout;
    check_frame_size(layout)?;
    let video_frames = output.frame_count(&schedule);
    check_frame_count(video_frames, options.max_frames)?;
    let total = schedule.frames.len();
    let estimate = encode::estimate_bytes(output, total, video_frames, layout.width, layout.height);
    encode::check_space(output, limit.unwrap_or(estimate))?;
    let settings = encode::WriteSettings {
        loop_count: options.loop_count,
        batch: encode::batch_size(options, layout),
        limit,
    };
    let tick = |done: usize| progress(done, total);
    let written = output.write(
        capture,
        &schedule,
        &renderer,
        still.unwrap_or(0),
        settings,
        &tick,
    )?;
    Ok(RenderReport {
        output: output.describe(),
        scheduled: total,
        written: written.frames,
        width: layout.width,
        height: layout.height,
        duration_ms: written.played_ms.unwrap_or(schedule.duration_ms),
        bytes: written.bytes,
        still: still.map(|k| still_shown(capture, &schedule.frames[k])),
        merged: schedule.merged,
        late: schedule.late,
        snapshots: schedule.merged + schedule.unchanged + total,
        speed: options.timing.speed,
        fps: options.timing.fps,
        fit: None,
    })
}

/// What [`RenderReport::still`] says of the frame a still shows: its snapshot's number, of how
/// many, and its time.
fn still_shown(capture: &Capture, frame: &timeline::FrameSpec) -> (usize, usize, i64) {
    (
        timeline::snapshot_number(capture, frame.snap),
        capture.snapshot_count(),
        frame.elapsed_ms,
    )
}

/// Refuses a frame larger than memanim renders ([`MAX_FRAME_PIXELS`], or a side a GIF cannot
/// hold).
fn check_frame_size(layout: &render::Layout) -> Result<()> {
    let (w, h) = (layout.width as u64, layout.height as u64);
    if w * h > MAX_FRAME_PIXELS || w > 65_535 || h > 65_535 {
        return Err(Error::Usage(format!(
            "--cell/--columns: a frame would be {w}x{h} px, too large to render; use a smaller --cell or more --columns"
        )));
    }
    Ok(())
}

/// Refuses to write more than `max_frames` frames (`--max-frames`).
fn check_frame_count(frames: usize, max_frames: usize) -> Result<()> {
    if frames > max_frames {
        return Err(Error::Usage(format!(
            "--max-frames {max_frames}: this would write {frames} frames, more than that: nobody watches that many. \
             Merge snapshots with --fps 5, pick a window with --from/--to, or play faster with --speed \
             or --duration; or raise --max-frames"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Capture {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/long_run.log");
        let f = std::fs::File::open(path).unwrap();
        parse(
            std::io::BufReader::new(f),
            "long_run.log",
            &Default::default(),
        )
        .unwrap()
        .0
    }

    /// An estimate that comes out far too low makes the first pass go over the limit: it is
    /// stopped there, and the second pass, corrected by what the first one wrote, fits. The file
    /// appears once, under the limit.
    #[test]
    fn a_low_estimate_costs_one_more_pass_never_a_larger_file() {
        let capture = sample();
        let dir = std::env::temp_dir().join(format!("memanim-two-passes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("heap.gif");
        let limit = 400_000;
        let options = RenderOptions {
            share: options::ShareOptions {
                max_size: Some(limit),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = Output::Gif(Target::File(path.clone()));
        let report = render_all(&capture, &options, &out, &|_, _| {}, 0.3).unwrap();
        let fit = report.fit.unwrap();
        assert_eq!(fit.passes, 2, "{fit:?}");
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(size, report.bytes);
        assert!(size <= limit, "{size}");
        // Nothing else is left in the directory: the first pass's file was removed.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // At the right estimate, one pass does it.
        std::fs::remove_file(&path).unwrap();
        let report = render(&capture, &options, &out, &|_, _| {}).unwrap();
        assert_eq!(report.fit.unwrap().passes, 1);
        assert!(report.bytes <= limit);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
