//! `memanim plot`: used memory, free memory and the largest free block over time, as a chart with
//! real axes (PNG or SVG). Drawn with plotters, whose text goes through ab_glyph and the font
//! embedded in memanim, so no system font library is needed.
//!
//! [`write_plot`] takes a parsed capture, its [`Stats`] (for the leak line), the output path and
//! [`PlotOptions`]; it writes the chart atomically and gives how many snapshots it shows.
//!
//! The figures are the ones `memanim stats` prints (one row per snapshot). A long capture has far
//! more snapshots than the chart has pixel columns, so each series keeps, per column, its lowest
//! and highest point: a spike one snapshot wide still shows.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::coord::types::RangedCoordf64;
use plotters_backend::DrawingErrorKind;

use crate::analysis::stats::Stats;
use crate::analysis::{samples, Sample};
use crate::capture::Capture;
use crate::encode::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::timeline::TimePoint;

/// The family name the embedded font is registered under.
const FONT: &str = "DejaVu Sans Mono";

/// What `memanim plot` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// A PNG image (`.png`).
    Png,
    /// An SVG drawing (`.svg`).
    Svg,
}

impl PlotFormat {
    /// Reads the format off the output's extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(PlotFormat::Png),
            Some("svg") => Ok(PlotFormat::Svg),
            _ => Err(Error::Usage(format!(
                "-o {}: cannot tell what to write from its name: a chart is a .png or an .svg",
                path.display()
            ))),
        }
    }
}

/// Chart size and time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotOptions {
    /// Image width (px; for SVG, user units), kept within 200..=16000.
    pub width: u32,
    /// Image height, likewise, kept within 150..=16000.
    pub height: u32,
    /// Where the chart starts (None: at the capture's start).
    pub from: Option<TimePoint>,
    /// Where the chart ends (None: at the capture's end).
    pub to: Option<TimePoint>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            width: 1200,
            height: 600,
            from: None,
            to: None,
        }
    }
}

/// The `from`/`to` window: the snapshots in it (indices in file order) and its ends (s),
/// checked as the render command checks its window: a time outside the capture, or a window
/// without snapshots, is an error that says the capture's span.
fn window(
    capture: &Capture,
    opts: &PlotOptions,
) -> Result<(std::ops::RangeInclusive<usize>, f64, f64)> {
    let source = &capture.source;
    let times = crate::timeline::Times::new(capture, &Default::default());
    let range = crate::timeline::window(opts.from, opts.to, &times, source)?;
    let end = |p: Option<TimePoint>, what, default: i64| -> Result<f64> {
        Ok(match p {
            Some(p) => crate::timeline::locate(p, what, &times, source)?.0,
            None => default,
        } as f64
            / 1000.0)
    };
    let from = end(opts.from, "--from", 0)?;
    let to = end(opts.to, "--to", times.last().unwrap_or(0))?;
    Ok((range, from, to))
}

/// Colours: Okabe-Ito, as in the heap map.
const USED: RGBColor = RGBColor(0x56, 0xb4, 0xe9);
const LARGEST: RGBColor = RGBColor(0xe6, 0x9f, 0x00);
const FREE: RGBColor = RGBColor(0x00, 0x9e, 0x73);
const HEAP: RGBColor = RGBColor(0x44, 0x44, 0x44);
const LEAK: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
const REBOOT: RGBColor = RGBColor(0xcc, 0x79, 0xa7);
/// MemoryErrors: the heap map's warning red, darker than anything else on the chart.
const ERROR: RGBColor = RGBColor(0xb2, 0x00, 0x1e);

/// Draws the chart of `capture` to `path`, atomically, with the leak line of `stats` when it says
/// LEAK. Returns how many snapshots the chart shows. Every series is reduced while it is read
/// (the lowest and highest point of each pixel column), so the chart of a week of dumps takes
/// no more memory than that of a minute.
pub fn write_plot(
    stats: &Stats,
    capture: &Capture,
    path: &Path,
    opts: &PlotOptions,
) -> Result<usize> {
    let source = capture.source.as_str();
    let format = PlotFormat::from_path(path)?;
    if capture.snapshot_count() == 0 {
        return Err(Error::NoDumps {
            path: source.to_string(),
            lines: 0,
            detail: "nothing to plot".into(),
        });
    }
    let (w, h) = (
        opts.width.clamp(200, 16_000),
        opts.height.clamp(150, 16_000),
    );
    let view = View::read(capture, opts, columns(w), stats)?;
    register_font();
    let bytes = render(&view, format, (w, h), source).map_err(|message| Error::Encode {
        path: path.to_path_buf(),
        source: message.into(),
    })?;
    let mut file = AtomicFile::create(path)?;
    file.write_all(&bytes).map_err(|e| file.error(e))?;
    file.commit()?;
    Ok(view.count)
}

/// The chart of `view`, `size` (w, h) pixels, as the bytes of a PNG or an SVG file.
fn render(
    view: &View,
    format: PlotFormat,
    (w, h): (u32, u32),
    source: &str,
) -> std::result::Result<Vec<u8>, String> {
    match format {
        PlotFormat::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let area =
                    EvenText(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
                draw(&area, view, source)?;
                area.present().map_err(chart_error)?;
            }
            encode_rgb_png(&rgb, w, h)
        }
        PlotFormat::Svg => {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                draw(&area, view, source)?;
                area.present().map_err(chart_error)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// A chart error in words. plotters prints its bitmap and font errors in their Debug form, so
/// only an I/O error's own text is passed on.
fn chart_error<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> String {
    match e {
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::FontError(_)) => {
            "the embedded font did not load for the chart's text".to_string()
        }
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::DrawingError(e)) => {
            match (&e as &dyn std::error::Error).downcast_ref::<std::io::Error>() {
                Some(io) => io.to_string(),
                None => "the chart's drawing backend failed".to_string(),
            }
        }
        DrawingAreaErrorKind::SharingError | DrawingAreaErrorKind::LayoutError => {
            "the chart could not be laid out; try a larger --width or --height".to_string()
        }
    }
}

/// Pixel columns of the plotting area of a chart `w` wide (the y labels and margins aside).
fn columns(w: u32) -> usize {
    w.saturating_sub(120).max(10) as usize
}

/// Registers the embedded font with plotters, once per process.
fn register_font() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // The font is embedded and known to parse (the renderer uses it too).
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            crate::render::text::FONT_BYTES,
        );
    });
}

/// An axis number without float noise: 2.6, not 2.5999999999999996.
fn tick(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    format!("{}", if r == 0.0 { 0.0 } else { r })
}

/// The time unit that keeps the axis numbers short: (divisor from seconds, name).
fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s > 3.0 * 3600.0 {
        (3600.0, "h")
    } else if span_s > 600.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

/// The byte unit for the y axis: (divisor, name).
fn byte_unit(max: u64) -> (f64, &'static str) {
    if max >= 10 << 20 {
        ((1u64 << 20) as f64, "MiB")
    } else if max >= 10 << 10 {
        (1024.0, "KiB")
    } else {
        (1.0, "bytes")
    }
}

/// A pixel column of an [`Envelope`]: its index, and its lowest and highest (time, value).
type Cell = (usize, (f64, u64), (f64, u64));

/// A series reduced as it is read: per pixel column, its lowest and highest point. Points come
/// in time order; each column keeps at most two, in time order, so a spike one snapshot wide
/// still shows, and a series with fewer points than columns is kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    t0: f64,
    span: f64,
    columns: usize,
    /// (column, lowest, highest) of each column with points, in order.
    cells: Vec<Cell>,
}

impl Envelope {
    /// An envelope of `columns` columns over the times `t0..=t1` (s).
    pub fn new(t0: f64, t1: f64, columns: usize) -> Self {
        Envelope {
            t0,
            span: (t1 - t0).max(1e-9),
            columns: columns.max(1),
            cells: Vec::new(),
        }
    }

    /// Adds value `v` at time `t` (s); points must come in time order.
    pub fn add(&mut self, t: f64, v: u64) {
        let col = (((t - self.t0) / self.span) * (self.columns - 1) as f64).max(0.0) as usize;
        match self.cells.last_mut() {
            Some(c) if c.0 == col => {
                if v < c.1 .1 {
                    c.1 = (t, v);
                }
                if v > c.2 .1 {
                    c.2 = (t, v);
                }
            }
            _ => self.cells.push((col, (t, v), (t, v))),
        }
    }

    /// The points to draw, in time order.
    pub fn points(&self) -> Vec<(f64, u64)> {
        let mut out = Vec::with_capacity(2 * self.cells.len());
        for &(_, lo, hi) in &self.cells {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            out.push(a);
            if b != a {
                out.push(b);
            }
        }
        out
    }
}

/// One session's series (a reset empties the heap: sessions are drawn apart).
struct Series {
    session: usize,
    used: Envelope,
    free: Envelope,
    largest: Envelope,
}

/// What one chart shows: each session's series in the window, where later sessions start (s),
/// the largest heap, how many snapshots, the window (s), and the leak line if any.
struct View {
    sessions: Vec<Series>,
    starts: Vec<f64>,
    heap: u64,
    count: usize,
    from: f64,
    to: f64,
    leak: Option<crate::analysis::stats::Leak>,
    /// Times of the MemoryErrors in the window (s).
    errors: Vec<f64>,
}

impl View {
    /// The snapshots of the `from`/`to` window of `opts`, each series reduced to `columns`
    /// pixel columns, with the MemoryErrors and the leak line of `stats` (when it says LEAK).
    fn read(capture: &Capture, opts: &PlotOptions, columns: usize, stats: &Stats) -> Result<View> {
        let (range, from, to) = window(capture, opts)?;
        let mut view = View {
            sessions: Vec::new(),
            starts: Vec::new(),
            heap: 0,
            count: 0,
            from,
            to,
            leak: stats.leak.filter(|l| l.is_leak()),
            errors: Vec::new(),
        };
        let at_error = error_dumps(capture);
        for (_, p) in samples(capture)
            .enumerate()
            .filter(|(k, _)| range.contains(k))
        {
            view.add(&p, &at_error, columns);
        }
        Ok(view)
    }

    /// One snapshot: a new session starts a new series (and, after the first, a reset mark).
    fn add(&mut self, p: &Sample, at_error: &[(usize, usize)], columns: usize) {
        let t = p.at.t_s();
        if self
            .sessions
            .last()
            .is_none_or(|s| s.session != p.at.session)
        {
            if self.count > 0 {
                self.starts.push(t);
            }
            let (from, to) = (self.from, self.to);
            let grid = || Envelope::new(from, to, columns);
            self.sessions.push(Series {
                session: p.at.session,
                used: grid(),
                free: grid(),
                largest: grid(),
            });
        }
        if at_error.binary_search(&(p.at.session, p.at.index)).is_ok() {
            self.errors.push(t);
        }
        let s = self.sessions.last_mut().expect("a series");
        if let Some(u) = p.used {
            s.used.add(t, u);
        }
        if let Some(f) = p.free {
            s.free.add(t, f);
        }
        if let Some(l) = p.largest_free {
            s.largest.add(t, l);
        }
        if let Some(h) = p.heap() {
            self.heap = self.heap.max(h);
        }
        self.count += 1;
    }
}

/// (session, snapshot index) of the dump each MemoryError is marked at: the last before it (the
/// first after, if none), sorted.
fn error_dumps(capture: &Capture) -> Vec<(usize, usize)> {
    let mut at: Vec<(usize, usize)> = crate::analysis::why::events(capture)
        .iter()
        .filter_map(|e| Some((e.session, e.marked_at()?)))
        .collect();
    at.sort_unstable();
    at
}

/// What a legend entry's swatch looks like: the way its series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Swatch {
    Fill(RGBColor),
    Line(RGBColor, u32),
    Dashed(RGBColor, u32),
}

/// The legend's entries, in the order the series are drawn.
fn legend_entries(view: &View, heap: u64, resets: bool) -> Vec<(String, Swatch)> {
    let mut items = vec![
        ("used".to_string(), Swatch::Fill(USED)),
        ("free".to_string(), Swatch::Line(FREE, 2)),
        ("largest free block".to_string(), Swatch::Line(LARGEST, 2)),
        (
            format!("heap ({})", crate::render::human_bytes(heap)),
            Swatch::Dashed(HEAP, 1),
        ),
    ];
    if resets {
        items.push(("board reset".into(), Swatch::Line(REBOOT, 2)));
    }
    if !view.errors.is_empty() {
        items.push((
            crate::units::count(view.errors.len() as u64, "MemoryError", "MemoryErrors"),
            Swatch::Dashed(ERROR, 2),
        ));
    }
    if let Some(leak) = view.leak {
        items.push((
            format!(
                "leak: +{}/min kept after collections",
                crate::render::human_bytes(leak.slope_per_min.max(0.0) as u64)
            ),
            Swatch::Dashed(LEAK, 2),
        ));
    }
    items
}

/// Legend geometry (px): swatch width, gap after it, gap between entries, row height.
const SWATCH_W: i32 = 22;
const SWATCH_GAP: i32 = 6;
const ENTRY_GAP: i32 = 22;
const LEGEND_ROW: i32 = 20;
const LEGEND_FONT: u32 = 13;
const CAPTION_FONT: u32 = 18;
const MARGIN: i32 = 12;
const Y_LABELS: i32 = 80;

/// Places the entries in rows from `x0`, wrapping before `right`: (entry, x, row).
fn legend_layout(widths: &[i32], x0: i32, right: i32) -> Vec<(i32, usize)> {
    let mut out = Vec::with_capacity(widths.len());
    let (mut x, mut row) = (x0, 0);
    for &w in widths {
        let need = SWATCH_W + SWATCH_GAP + w;
        if x > x0 && x + need > right {
            x = x0;
            row += 1;
        }
        out.push((x, row));
        x += need + ENTRY_GAP;
    }
    out
}

/// The chart's scales: time in the unit that keeps its numbers short, bytes likewise, and the
/// ends of both axes in those units.
struct Axes {
    /// Seconds per x unit, and the unit's name.
    tdiv: f64,
    tname: &'static str,
    /// Bytes per y unit, and the unit's name.
    bdiv: f64,
    bname: &'static str,
    x_start: f64,
    x_end: f64,
    y_end: f64,
}

impl Axes {
    /// The scales that fit `view`: its window, and its largest heap plus 5%.
    fn new(view: &View) -> Self {
        let (tdiv, tname) = time_unit(view.to);
        let (bdiv, bname) = byte_unit(view.heap);
        let x_start = view.from / tdiv;
        Axes {
            tdiv,
            tname,
            bdiv,
            bname,
            x_start,
            x_end: (view.to / tdiv).max(x_start + 1e-3),
            y_end: (view.heap as f64 / bdiv).max(1e-3) * 1.05,
        }
    }

    /// A time (s) on the x axis.
    fn x(&self, t: f64) -> f64 {
        t / self.tdiv
    }

    /// Bytes on the y axis.
    fn y(&self, b: u64) -> f64 {
        b as f64 / self.bdiv
    }
}

/// The plotting area's coordinates: time and bytes, both in [`Axes`] units.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the chart. The title and the legend sit in a band above the plotting area, so the
/// legend never covers data (inside the chart, any corner can hold a peak).
fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &View,
    source: &str,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(chart_error)?;
    let axes = Axes::new(view);
    let body = draw_band(area, view, source)?;
    let mut chart = ChartBuilder::on(&body)
        .margin(MARGIN as u32)
        .margin_top(0)
        .x_label_area_size(42)
        .y_label_area_size(Y_LABELS as u32)
        .build_cartesian_2d(axes.x_start..axes.x_end, 0.0..axes.y_end)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since the first dump ({})", axes.tname))
        .y_desc(axes.bname)
        .label_style((FONT, 13).into_font())
        .axis_desc_style((FONT, 14).into_font())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .max_light_lines(2)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xd0, 0xd0, 0xd0))
        .draw()
        .map_err(chart_error)?;
    let (w, _) = area.dim_in_pixel();
    draw_series(&mut chart, view, &axes, columns(w)).map_err(chart_error)?;
    draw_marks(&mut chart, view, &axes).map_err(chart_error)
}

/// The band above the chart: the title, then the legend in as many rows as the width needs.
/// Returns the area below it, for the chart.
fn draw_band<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &View,
    source: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let caption_style = TextStyle::from((FONT, CAPTION_FONT).into_font()).color(&BLACK);
    let label_style = TextStyle::from((FONT, LEGEND_FONT).into_font()).color(&BLACK);
    let entries = legend_entries(view, view.heap, !view.starts.is_empty());
    let widths: Vec<i32> = entries
        .iter()
        .map(|(t, _)| area.estimate_text_size(t, &label_style).map(|s| s.0 as i32))
        .collect::<std::result::Result<_, _>>()
        .map_err(chart_error)?;
    let places = legend_layout(&widths, MARGIN + Y_LABELS, w as i32 - MARGIN);
    let legend_rows = places.last().map_or(0, |p| p.1 + 1) as i32;
    let caption_h = CAPTION_FONT as i32 + 2 * MARGIN;
    let band = caption_h + legend_rows * LEGEND_ROW + MARGIN / 2;
    let (top, body) = area.split_vertically(band);
    let title = format!("{source}: heap use over time");
    let (tw, _) = top
        .estimate_text_size(&title, &caption_style)
        .map_err(chart_error)?;
    top.draw_text(&title, &caption_style, ((w as i32 - tw as i32) / 2, MARGIN))
        .map_err(chart_error)?;
    for ((label, swatch), &(lx, row)) in entries.iter().zip(&places) {
        let cy = caption_h + row as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        draw_swatch(&top, *swatch, lx, cy).map_err(chart_error)?;
        let th = LEGEND_FONT as i32;
        top.draw_text(
            label,
            &label_style,
            (lx + SWATCH_W + SWATCH_GAP, cy - th / 2 - 1),
        )
        .map_err(chart_error)?;
    }
    Ok(body)
}

/// A legend entry's swatch, from `lx`, centred on the row at `cy`.
fn draw_swatch<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    lx: i32,
    cy: i32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let line = |from: i32, to: i32, c: RGBColor, width: u32| {
        top.draw(&PathElement::new(
            [(lx + from, cy), (lx + to, cy)],
            c.stroke_width(width),
        ))
    };
    match swatch {
        Swatch::Fill(c) => top.draw(&Rectangle::new(
            [(lx, cy - 6), (lx + SWATCH_W, cy + 6)],
            c.mix(0.45).filled(),
        )),
        Swatch::Line(c, width) => line(0, SWATCH_W, c, width),
        Swatch::Dashed(c, width) => line(0, 8, c, width).and_then(|_| line(13, SWATCH_W, c, width)),
    }
}

/// Each session's used (filled), free and largest free block. A session is drawn on its own: a
/// reset empties the heap, so no line joins the last dump of one boot to the first of the next.
fn draw_series<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    view: &View,
    axes: &Axes,
    columns: usize,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for series in &view.sessions {
        let used = series.used.points();
        chart.draw_series(
            AreaSeries::new(
                used.iter().map(|&(t, b)| (axes.x(t), axes.y(b))),
                0.0,
                USED.mix(0.45),
            )
            .border_style(USED.stroke_width(1)),
        )?;
        for (colour, width, points) in [
            (FREE, 2, series.free.points()),
            (LARGEST, 2, series.largest.points()),
        ] {
            // plotters draws a line wider than 1 px as a polygon with mitred joins, and a dense
            // zigzag makes spikes that reach far outside the chart: dense series are 1 px wide.
            let width = if points.len() * 2 > columns { 1 } else { width };
            chart.draw_series(LineSeries::new(
                points.into_iter().map(|(t, b)| (axes.x(t), axes.y(b))),
                colour.stroke_width(width),
            ))?;
        }
    }
    Ok(())
}

/// The lines over the series: the heap's size, board resets, MemoryErrors and the leak line.
fn draw_marks<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    view: &View,
    axes: &Axes,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (heap, y_end) = (axes.y(view.heap), axes.y_end);
    chart.draw_series(DashedLineSeries::new(
        [(axes.x_start, heap), (axes.x_end, heap)],
        6,
        4,
        HEAP.stroke_width(1),
    ))?;
    // A reboot empties the heap: each later session's start is marked.
    if !view.starts.is_empty() {
        chart.draw_series(view.starts.iter().map(|&t| {
            let x = axes.x(t);
            PathElement::new([(x, 0.0), (x, y_end)], REBOOT.stroke_width(2))
        }))?;
    }
    // MemoryErrors: dashed, so a reset at the same time still shows.
    for &t in &view.errors {
        let x = axes.x(t);
        chart.draw_series(DashedLineSeries::new(
            [(x, 0.0), (x, y_end)],
            5,
            3,
            ERROR.stroke_width(2),
        ))?;
    }
    if let Some([(t0, b0), (t1, b1)]) = leak_line(view) {
        chart.draw_series(DashedLineSeries::new(
            [(axes.x(t0), b0 / axes.bdiv), (axes.x(t1), b1 / axes.bdiv)],
            8,
            4,
            LEAK.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// The fitted leak line, cut to the window: its ends as (s, bytes).
fn leak_line(view: &View) -> Option<[(f64, f64); 2]> {
    let [(t0, b0), (t1, b1)] = view.leak?.line;
    let at = |t: f64| b0 + (b1 - b0) * (t - t0) / (t1 - t0).max(1e-9);
    let (c0, c1) = (t0.max(view.from), t1.min(view.to));
    (c0 < c1).then_some([(c0, at(c0)), (c1, at(c1))])
}

/// Chart text with even glyph spacing.
mod even_text {
    use plotters_backend::{
        text_anchor, BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend,
        DrawingErrorKind,
    };

    /// The bitmap backend with its text drawn by `render::text::draw_string`, which places each
    /// glyph at its bearing: plotters' ab_glyph text drops the bearing and spaces glyphs unevenly.
    /// Everything else is the wrapped backend's own.
    pub struct EvenText<B>(pub B);

    impl<B: DrawingBackend> DrawingBackend for EvenText<B> {
        type ErrorType = B::ErrorType;

        fn get_size(&self) -> (u32, u32) {
            self.0.get_size()
        }
        fn ensure_prepared(&mut self) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.ensure_prepared()
        }
        fn present(&mut self) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.present()
        }
        fn draw_pixel(
            &mut self,
            point: BackendCoord,
            color: BackendColor,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.draw_pixel(point, color)
        }
        fn draw_line<S: BackendStyle>(
            &mut self,
            from: BackendCoord,
            to: BackendCoord,
            style: &S,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.draw_line(from, to, style)
        }
        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: BackendCoord,
            bottom_right: BackendCoord,
            style: &S,
            fill: bool,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.draw_rect(upper_left, bottom_right, style, fill)
        }
        fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            path: I,
            style: &S,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.draw_path(path, style)
        }
        fn draw_circle<S: BackendStyle>(
            &mut self,
            center: BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.draw_circle(center, radius, style, fill)
        }
        fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            vert: I,
            style: &S,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.fill_polygon(vert, style)
        }
        fn blit_bitmap(
            &mut self,
            pos: BackendCoord,
            size: (u32, u32),
            src: &[u8],
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            self.0.blit_bitmap(pos, size, src)
        }
        fn estimate_text_size<T: BackendTextStyle>(
            &self,
            text: &str,
            style: &T,
        ) -> std::result::Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
            Ok(crate::render::text::string_size(style.size() as f32, text))
        }
        fn draw_text<T: BackendTextStyle>(
            &mut self,
            text: &str,
            style: &T,
            pos: BackendCoord,
        ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
            let color = style.color();
            if color.alpha == 0.0 {
                return Ok(());
            }
            let size = style.size() as f32;
            let (tw, th) = crate::render::text::string_size(size, text);
            let (tw, th) = (tw as i32, th as i32);
            let anchor = style.anchor();
            let dx = match anchor.h_pos {
                text_anchor::HPos::Left => 0,
                text_anchor::HPos::Center => -tw / 2,
                text_anchor::HPos::Right => -tw,
            };
            let dy = match anchor.v_pos {
                text_anchor::VPos::Top => 0,
                text_anchor::VPos::Center => -th / 2,
                text_anchor::VPos::Bottom => -th,
            };
            let transform = style.transform();
            let (w, h) = self.get_size();
            let mut result = Ok(());
            crate::render::text::draw_string(size, text, |x, y, coverage| {
                let (x, y) = transform.transform(x + dx, y + dy);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if result.is_ok() && x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                    result = self.0.draw_pixel(
                        (x, y),
                        BackendColor {
                            alpha: color.alpha * coverage.clamp(0.0, 1.0) as f64,
                            rgb: color.rgb,
                        },
                    );
                }
            });
            result
        }
    }
}
use even_text::EvenText;

/// RGB pixels, `w` by `h`, as a PNG file's bytes.
fn encode_rgb_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_numbers_carry_no_float_noise() {
        assert_eq!(tick(2.5999999999999996), "2.6");
        assert_eq!(tick(1.2 + 0.1), "1.3");
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(120.0), "120");
    }

    #[test]
    fn the_envelope_keeps_spikes_and_time_order() {
        // 1000 points into 10 columns: a one-point spike survives, points stay in time order.
        let value = |i: u64| if i == 555 { 900 } else { 100 + (i % 7) };
        let mut e = Envelope::new(0.0, 999.0, 10);
        for i in 0..1000u64 {
            e.add(i as f64, value(i));
        }
        let p = e.points();
        assert!(p.len() <= 20, "{}", p.len());
        assert!(p.contains(&(555.0, 900)));
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(p.iter().map(|x| x.1).min(), Some(100));
        // Fewer points than columns are kept as they are.
        let mut few = Envelope::new(0.0, 14.0, 100);
        for i in 0..15u64 {
            few.add(i as f64, value(i));
        }
        assert_eq!(few.points().len(), 15);
    }
}
