//! memanim: turns MicroPython heap dumps (`micropython.mem_info(1)`, with or without `@@@`
//! markers) into animated heap maps, reports and answers.
//!
//! The pipeline, one module per stage: [`capture`] (text → sessions of snapshots and log lines),
//! [`heap`] (the block model), [`timeline`] (which snapshot is shown when), [`render`] (snapshot →
//! indexed pixels in a [`render::frame::Frame`]) and [`encode`] (frames → GIF, PNG, Y4M, HTML).
//! At the edges: [`record`] (a live board's serial output → a capture file), [`share`] (the speed
//! and settings that meet a play time and a file size) and [`analysis`] (`info`, `stats`, `diff`,
//! `plot`, `why`).

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
                message: format!("cannot start {n} worker threads: {e}"),
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

/// Frames per batch: `options.batch`, but few enough that a batch stays under [`FRAME_MEMORY`].
pub(crate) fn batch_size(options: &RenderOptions, layout: &render::Layout) -> usize {
    let px = (layout.width as u64 * layout.height as u64).max(1);
    options.batch.clamp(1, (FRAME_MEMORY / px).max(1) as usize)
}

/// [`render`] on the current pool. `correction` scales the size estimates of the first pass
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
    if still != matches!(output, Output::Still(..)) {
        return Err(Error::Usage(if still {
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
    // The dumps around each MemoryError keep frames of their own: its notice starts on one, and
    // the page's `#s=N` and `--at oom` point at them.
    options.timing.keep = marks
        .iter()
        .flat_map(|m| {
            [Some(m.before), m.after]
                .into_iter()
                .flatten()
                .map(|i| (m.session, i))
        })
        .collect();
    options.timing.keep.sort_unstable();
    options.timing.keep.dedup();
    if let (Some(d), false) = (options.share.duration_ms, still) {
        options.timing = share::play_in(capture, &options.timing, &options.selection, d)?;
    }
    let limit = match output {
        Output::Gif(_) => options.share.max_size,
        _ => None,
    };
    let Some(limit) = limit else {
        return write_pass(capture, &options, output, &marks, &outline, None, progress);
    };
    let path = std::path::PathBuf::from(output.describe());
    let fit = share::fit(capture, &options, &marks, limit, correction, &path)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = |d: usize, total: usize| {
        done.store(d, std::sync::atomic::Ordering::Relaxed);
        progress(d, total)
    };
    let first = write_pass(
        capture,
        &fit.options,
        output,
        &marks,
        &[],
        Some(limit),
        &tick,
    );
    let finish = |mut report: RenderReport, fit: share::Fit, passes: u32| {
        report.fit = Some(share::FitReport {
            passes,
            size: report.bytes,
            ..fit.report
        });
        report
    };
    match first {
        Ok(report) => Ok(finish(report, fit, 1)),
        Err(e) if encode::budget::over_budget(&e).is_some() => {
            // The estimate was low. What the first pass wrote before it was stopped says by how
            // much: estimate again with every frame's size scaled by that.
            let frames_done = done.load(std::sync::atomic::Ordering::Relaxed);
            let correction = share::corrected(&fit, frames_done);
            let second = share::fit(capture, &options, &marks, limit, correction, &path)?;
            match write_pass(
                capture,
                &second.options,
                output,
                &marks,
                &[],
                Some(limit),
                progress,
            ) {
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
    let (w, h) = (renderer.layout.width as u64, renderer.layout.height as u64);
    if w * h > MAX_FRAME_PIXELS || w > 65_535 || h > 65_535 {
        return Err(Error::Usage(format!(
            "a frame would be {w}x{h} px, too large to render; use a smaller --cell or more --columns"
        )));
    }
    let delays: Vec<u16> = schedule.frames.iter().map(|f| f.delay_cs).collect();
    let video_frames = match output {
        Output::Y4m { fps, .. } => encode::y4m::repeats(&delays, *fps).iter().sum(),
        // A still writes one frame, whatever its schedule holds for the strip.
        Output::Still(..) => 1,
        _ => schedule.frames.len(),
    };
    if video_frames > options.max_frames {
        return Err(Error::Usage(format!(
            "this would write {video_frames} frames, more than --max-frames {}: nobody watches that many. \
             Merge snapshots with --fps 5, pick a window with --from/--to, or play faster with --speed \
             or --duration; or raise --max-frames",
            options.max_frames
        )));
    }
    encode::check_space(
        output,
        limit.unwrap_or(encode::estimate_bytes(
            output,
            schedule.frames.len(),
            video_frames,
            w as u32,
            h as u32,
        )),
    )?;
    let batch = batch_size(options, &renderer.layout);
    let total = schedule.frames.len();
    let report = |written: usize, bytes: u64, duration_ms: f64| RenderReport {
        output: output.describe(),
        scheduled: total,
        written,
        width: renderer.layout.width,
        height: renderer.layout.height,
        duration_ms,
        bytes,
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
        speed: options.timing.speed,
        fps: options.timing.fps,
        fit: None,
    };
    let tick = |done: usize| progress(done, total);
    match output {
        Output::Gif(target) => {
            let settings = encode::gif::GifSettings {
                loop_count: options.loop_count,
                batch,
            };
            let played = |stats: &encode::gif::GifStats| stats.play_cs as f64 * 10.0;
            match target {
                encode::Target::File(path) => {
                    // A device or a FIFO is written in place, where a pass stopped at the limit
                    // could not be taken back: with a limit, hold the GIF until it fits.
                    let in_place = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
                    if limit.is_some() && in_place {
                        let buf = encode::budget::Limited::new(Vec::new(), limit);
                        let (buf, stats) =
                            encode::gif::write_gif(buf, &renderer, &delays, settings, path, &tick)?;
                        let buf = buf.into_inner();
                        let mut file = encode::atomic::AtomicFile::create(path)?;
                        std::io::Write::write_all(&mut file, &buf).map_err(|e| file.error(e))?;
                        file.commit()?;
                        return Ok(report(stats.frames, buf.len() as u64, played(&stats)));
                    }
                    let file = encode::budget::Limited::new(
                        encode::atomic::AtomicFile::create(path)?,
                        limit,
                    );
                    let (file, stats) =
                        encode::gif::write_gif(file, &renderer, &delays, settings, path, &tick)?;
                    let bytes = file.written();
                    file.into_inner().commit()?;
                    Ok(report(stats.frames, bytes, played(&stats)))
                }
                encode::Target::Stdout => {
                    let name = std::path::Path::new("standard output");
                    if limit.is_some() {
                        // Held until it is known to fit: a second pass must not follow a first
                        // that already went out.
                        let buf = encode::budget::Limited::new(Vec::new(), limit);
                        let (buf, stats) =
                            encode::gif::write_gif(buf, &renderer, &delays, settings, name, &tick)?;
                        let buf = buf.into_inner();
                        let mut out = std::io::stdout().lock();
                        std::io::Write::write_all(&mut out, &buf)
                            .and_then(|_| std::io::Write::flush(&mut out))
                            .map_err(stdout_error)?;
                        return Ok(report(stats.frames, buf.len() as u64, played(&stats)));
                    }
                    let out = encode::budget::Limited::new(
                        std::io::BufWriter::new(std::io::stdout().lock()),
                        None,
                    );
                    let (mut out, stats) =
                        encode::gif::write_gif(out, &renderer, &delays, settings, name, &tick)?;
                    std::io::Write::flush(&mut out).map_err(stdout_error)?;
                    Ok(report(stats.frames, out.written(), played(&stats)))
                }
            }
        }
        Output::Still(path, format) => {
            let written = encode::still::write_still(&renderer, still.unwrap_or(0), path, *format)?;
            tick(1);
            let bytes = std::fs::metadata(&written).map_or(0, |m| m.len());
            Ok(report(1, bytes, schedule.duration_ms))
        }
        Output::Html(target) => {
            let page = encode::html::Report::new(capture, &schedule, &renderer, &tick)?;
            let bytes = match target {
                encode::Target::File(path) => {
                    let mut file = encode::atomic::AtomicFile::create(path)?;
                    let mut counted = encode::budget::Limited::new(&mut file, None);
                    let written = page.write(&mut counted);
                    let bytes = counted.written();
                    written.map_err(|e| file.error(e))?;
                    file.commit()?;
                    bytes
                }
                encode::Target::Stdout => {
                    let mut out = encode::budget::Limited::new(
                        std::io::BufWriter::new(std::io::stdout().lock()),
                        None,
                    );
                    page.write(&mut out)
                        .and_then(|_| std::io::Write::flush(&mut out))
                        .map_err(stdout_error)?;
                    out.written()
                }
            };
            Ok(report(total, bytes, schedule.duration_ms))
        }
        Output::PngSequence { dir, force } => {
            encode::png::write_sequence(&renderer, &delays, dir, *force, batch, &tick)?;
            let bytes = (1..=total)
                .map(encode::png::frame_name)
                .chain([encode::png::CONCAT_FILE.to_string()])
                .filter_map(|n| std::fs::metadata(dir.join(n)).ok())
                .map(|m| m.len())
                .sum();
            Ok(report(total, bytes, schedule.duration_ms))
        }
        Output::Y4m { target, fps } => {
            let (n, bytes) = match target {
                encode::Target::File(path) => {
                    let mut file = encode::atomic::AtomicFile::create(path)?;
                    let mut counted = encode::budget::Limited::new(&mut file, None);
                    let written = encode::y4m::write_y4m(
                        &mut counted,
                        &renderer,
                        &delays,
                        *fps,
                        batch,
                        &tick,
                    );
                    let bytes = counted.written();
                    let n = written.map_err(|e| file.error(e))?;
                    file.commit()?;
                    (n, bytes)
                }
                encode::Target::Stdout => {
                    let mut out = encode::budget::Limited::new(
                        std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock()),
                        None,
                    );
                    let n =
                        encode::y4m::write_y4m(&mut out, &renderer, &delays, *fps, batch, &tick)
                            .map_err(stdout_error)?;
                    (n, out.written())
                }
            };
            Ok(report(n, bytes, schedule.duration_ms))
        }
    }
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
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
