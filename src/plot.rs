//! `memanim plot`: used memory, free memory and the largest free block over time, as a chart with
//! real axes (PNG or SVG). Drawn with plotters, whose text goes through ab_glyph and the font
//! embedded in memanim, so no system font library is needed.
//!
//! The figures are the ones `memanim stats` prints (one row per snapshot). A long capture has far
//! more snapshots than the chart has pixel columns, so each series keeps, per column, its lowest
//! and highest point: a spike one snapshot wide still shows.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::encode::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::stats::{Row, Stats};
use crate::timeline::TimePoint;

/// The family name the embedded font is registered under.
const FONT: &str = "DejaVu Sans Mono";

/// What `memanim plot` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
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
                "cannot tell what to write from the name of {}: a chart is a .png or an .svg",
                path.display()
            ))),
        }
    }
}

/// Chart size and time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotOptions {
    /// Image size (px; for SVG, user units).
    pub width: u32,
    pub height: u32,
    /// The part of the capture to chart (None: from its start, to its end).
    pub from: Option<TimePoint>,
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

/// The rows in the `from`/`to` window and the window's ends (s), checked as the render command
/// checks its window: a time outside the capture, or a window without snapshots, is an error
/// that says the capture's span.
fn window<'r>(rows: &'r [Row], opts: &PlotOptions, source: &str) -> Result<(&'r [Row], f64, f64)> {
    // One row per snapshot, in file order: the times `#N` and the window count in.
    let times: Vec<i64> = rows
        .iter()
        .map(|r| (r.t_s * 1000.0).round() as i64)
        .collect();
    let range = crate::timeline::window(opts.from, opts.to, &times, source)?;
    let end = |p: Option<TimePoint>, what, default: i64| -> Result<f64> {
        Ok(match p {
            Some(p) => crate::timeline::locate(p, what, &times, source)?.0,
            None => default,
        } as f64
            / 1000.0)
    };
    let from = end(opts.from, "--from", 0)?;
    let to = end(opts.to, "--to", times[times.len() - 1])?;
    Ok((&rows[range], from, to))
}

/// Colours: Okabe-Ito, as in the heap map.
const USED: RGBColor = RGBColor(0x56, 0xb4, 0xe9);
const LARGEST: RGBColor = RGBColor(0xe6, 0x9f, 0x00);
const FREE: RGBColor = RGBColor(0x00, 0x9e, 0x73);
const HEAP: RGBColor = RGBColor(0x44, 0x44, 0x44);
const LEAK: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
const REBOOT: RGBColor = RGBColor(0xcc, 0x79, 0xa7);

/// Draws the chart of `stats` (rows of the capture called `source`) to `path`, atomically.
/// Returns how many snapshots the chart shows.
pub fn write_plot(stats: &Stats, source: &str, path: &Path, opts: &PlotOptions) -> Result<usize> {
    let format = PlotFormat::from_path(path)?;
    if stats.rows.is_empty() {
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
    let (rows, from, to) = window(&stats.rows, opts, source)?;
    let view = View {
        rows,
        from,
        to,
        leak: stats.leak.filter(|l| l.is_leak()),
    };
    register_font();
    let fail = |message: String| Error::Encode {
        path: path.to_path_buf(),
        message,
    };
    let bytes = match format {
        PlotFormat::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let area =
                    EvenText(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
                draw(&area, &view, source).map_err(fail)?;
                area.present().map_err(|e| fail(e.to_string()))?;
            }
            encode_rgb_png(&rgb, w, h).map_err(fail)?
        }
        PlotFormat::Svg => {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                draw(&area, &view, source).map_err(fail)?;
                area.present().map_err(|e| fail(e.to_string()))?;
            }
            svg.into_bytes()
        }
    };
    let mut file = AtomicFile::create(path)?;
    file.write_all(&bytes).map_err(|e| file.error(e))?;
    file.commit()?;
    Ok(rows.len())
}

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

/// Per pixel column, the lowest and the highest point of `value` in time order.
pub fn envelope(
    rows: &[Row],
    columns: usize,
    value: impl Fn(&Row) -> Option<u64>,
) -> Vec<(f64, u64)> {
    // Dumps that do not say the value (cut off, no GC line) are left out, not drawn as 0.
    let points: Vec<(f64, u64)> = rows
        .iter()
        .filter_map(|r| Some((r.t_s, value(r)?)))
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    if points.len() <= 2 * columns.max(1) {
        return points;
    }
    let span = (last.0 - first.0).max(1e-9);
    let col = |t: f64| (((t - first.0) / span) * (columns - 1) as f64) as usize;
    let mut out = Vec::with_capacity(2 * columns);
    let mut i = 0;
    while i < points.len() {
        let c = col(points[i].0);
        let mut j = i;
        let (mut lo, mut hi) = (i, i);
        while j < points.len() && col(points[j].0) == c {
            if points[j].1 < points[lo].1 {
                lo = j;
            }
            if points[j].1 > points[hi].1 {
                hi = j;
            }
            j += 1;
        }
        for k in if lo <= hi { [lo, hi] } else { [hi, lo] } {
            out.push(points[k]);
        }
        i = j;
    }
    out.dedup();
    out
}

/// A series drawn as a line: label, colour, stroke width, value.
type LineSpec = (&'static str, RGBColor, u32, fn(&Row) -> Option<u64>);

/// What one chart shows: the rows in its window, the window (s), and the leak line if any.
struct View<'a> {
    rows: &'a [Row],
    from: f64,
    to: f64,
    leak: Option<crate::stats::Leak>,
}

/// What a legend entry's swatch looks like: the way its series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Swatch {
    Fill(RGBColor),
    Line(RGBColor, u32),
    Dashed(RGBColor, u32),
}

/// The legend's entries, in the order the series are drawn.
fn legend_entries(view: &View<'_>, heap: u64, resets: bool) -> Vec<(String, Swatch)> {
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

/// Draws the chart. The title and the legend sit in a band above the plotting area, so the
/// legend never covers data (inside the chart, any corner can hold a peak).
fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &View<'_>,
    source: &str,
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let rows = view.rows;
    let heap = rows
        .iter()
        .filter_map(|r| Some(r.used? + r.free?))
        .max()
        .unwrap_or(0);
    let (tdiv, tname) = time_unit(view.to);
    let (bdiv, bname) = byte_unit(heap);
    let x = |t: f64| t / tdiv;
    let y = |b: u64| b as f64 / bdiv;
    let x_start = x(view.from);
    let x_end = x(view.to).max(x_start + 1e-3);
    let y_end = y(heap).max(1e-3) * 1.05;
    let (w, _) = area.dim_in_pixel();
    let columns = w.saturating_sub(120).max(10) as usize;
    // A reboot empties the heap: each later session's start is marked.
    let starts: Vec<f64> = rows
        .windows(2)
        .filter(|p| p[1].session != p[0].session)
        .map(|p| x(p[1].t_s))
        .collect();

    // The band above the chart: the title, then the legend in as many rows as the width needs.
    let caption_style = TextStyle::from((FONT, CAPTION_FONT).into_font()).color(&BLACK);
    let label_style = TextStyle::from((FONT, LEGEND_FONT).into_font()).color(&BLACK);
    let entries = legend_entries(view, heap, !starts.is_empty());
    let widths: Vec<i32> = entries
        .iter()
        .map(|(t, _)| area.estimate_text_size(t, &label_style).map(|s| s.0 as i32))
        .collect::<std::result::Result<_, _>>()
        .map_err(err)?;
    let legend_x = MARGIN + Y_LABELS;
    let places = legend_layout(&widths, legend_x, w as i32 - MARGIN);
    let legend_rows = places.last().map_or(0, |p| p.1 + 1) as i32;
    let caption_h = CAPTION_FONT as i32 + 2 * MARGIN;
    let band = caption_h + legend_rows * LEGEND_ROW + MARGIN / 2;
    let (top, body) = area.split_vertically(band);
    let title = format!("{source}: heap use over time");
    let (tw, _) = top
        .estimate_text_size(&title, &caption_style)
        .map_err(err)?;
    top.draw_text(&title, &caption_style, ((w as i32 - tw as i32) / 2, MARGIN))
        .map_err(err)?;
    for ((label, swatch), &(lx, row)) in entries.iter().zip(&places) {
        let cy = caption_h + row as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        match *swatch {
            Swatch::Fill(c) => top.draw(&Rectangle::new(
                [(lx, cy - 6), (lx + SWATCH_W, cy + 6)],
                c.mix(0.45).filled(),
            )),
            Swatch::Line(c, width) => top.draw(&PathElement::new(
                [(lx, cy), (lx + SWATCH_W, cy)],
                c.stroke_width(width),
            )),
            Swatch::Dashed(c, width) => top
                .draw(&PathElement::new(
                    [(lx, cy), (lx + 8, cy)],
                    c.stroke_width(width),
                ))
                .and_then(|_| {
                    top.draw(&PathElement::new(
                        [(lx + 13, cy), (lx + SWATCH_W, cy)],
                        c.stroke_width(width),
                    ))
                }),
        }
        .map_err(err)?;
        let th = LEGEND_FONT as i32;
        top.draw_text(
            label,
            &label_style,
            (lx + SWATCH_W + SWATCH_GAP, cy - th / 2 - 1),
        )
        .map_err(err)?;
    }

    let mut chart = ChartBuilder::on(&body)
        .margin(MARGIN as u32)
        .margin_top(0)
        .x_label_area_size(42)
        .y_label_area_size(Y_LABELS as u32)
        .build_cartesian_2d(x_start..x_end, 0.0..y_end)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since the first dump ({tname})"))
        .y_desc(bname)
        .label_style((FONT, 13).into_font())
        .axis_desc_style((FONT, 14).into_font())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .max_light_lines(2)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xd0, 0xd0, 0xd0))
        .draw()
        .map_err(err)?;

    // Each session is drawn on its own: a reset empties the heap, so no line joins the last
    // dump of one boot to the first of the next.
    for rows in rows.chunk_by(|a, b| a.session == b.session) {
        let share = (columns * rows.len() / view.rows.len().max(1)).max(1);
        let used = envelope(rows, share, |r| r.used);
        chart
            .draw_series(
                AreaSeries::new(used.iter().map(|&(t, b)| (x(t), y(b))), 0.0, USED.mix(0.45))
                    .border_style(USED.stroke_width(1)),
            )
            .map_err(err)?;
        let lines: [LineSpec; 2] = [
            ("free", FREE, 2, |r| r.free),
            ("largest free block", LARGEST, 2, |r| r.largest_free),
        ];
        for (_, colour, width, value) in lines {
            let points = envelope(rows, share, value);
            // plotters draws a line wider than 1 px as a polygon with mitred joins, and a dense
            // zigzag makes spikes that reach far outside the chart: dense series are 1 px wide.
            let width = if points.len() * 2 > share { 1 } else { width };
            chart
                .draw_series(LineSeries::new(
                    points.into_iter().map(|(t, b)| (x(t), y(b))),
                    colour.stroke_width(width),
                ))
                .map_err(err)?;
        }
    }
    chart
        .draw_series(DashedLineSeries::new(
            [(x_start, y(heap)), (x_end, y(heap))],
            6,
            4,
            HEAP.stroke_width(1),
        ))
        .map_err(err)?;
    if !starts.is_empty() {
        chart
            .draw_series(
                starts
                    .iter()
                    .map(|&t| PathElement::new([(t, 0.0), (t, y_end)], REBOOT.stroke_width(2))),
            )
            .map_err(err)?;
    }
    // The fitted leak line, cut to the window.
    let leak = view.leak.and_then(|leak| {
        let [(t0, b0), (t1, b1)] = leak.line;
        let at = |t: f64| b0 + (b1 - b0) * (t - t0) / (t1 - t0).max(1e-9);
        let (c0, c1) = (t0.max(view.from), t1.min(view.to));
        (c0 < c1).then_some([(c0, at(c0)), (c1, at(c1))])
    });
    if let Some([(t0, b0), (t1, b1)]) = leak {
        chart
            .draw_series(DashedLineSeries::new(
                [(x(t0), b0 / bdiv), (x(t1), b1 / bdiv)],
                8,
                4,
                LEAK.stroke_width(2),
            ))
            .map_err(err)?;
    }
    Ok(())
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

    fn row(t_s: f64, used: u64) -> Row {
        Row {
            session: 0,
            line: 1,
            t_s,
            used: Some(used),
            free: Some(1000 - used),
            largest_free: Some(10),
            fragmentation: Some(0.0),
            free_runs: Some(1),
            kinds: Some([(0, 0); 10]),
            cut_off: false,
        }
    }

    #[test]
    fn axis_numbers_carry_no_float_noise() {
        assert_eq!(tick(2.5999999999999996), "2.6");
        assert_eq!(tick(1.2 + 0.1), "1.3");
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(120.0), "120");
    }

    #[test]
    fn the_envelope_keeps_spikes_and_time_order() {
        // 1000 rows into 10 columns: a one-row spike survives, points stay in time order.
        let rows: Vec<Row> = (0..1000)
            .map(|i| row(i as f64, if i == 555 { 900 } else { 100 + (i % 7) }))
            .collect();
        let e = envelope(&rows, 10, |r| r.used);
        assert!(e.len() <= 20, "{}", e.len());
        assert!(e.contains(&(555.0, 900)));
        assert!(e.windows(2).all(|p| p[0].0 <= p[1].0));
        assert_eq!(e.iter().map(|p| p.1).min(), Some(100));
        // Few rows are kept as they are.
        assert_eq!(envelope(&rows[..15], 10, |r| r.used).len(), 15);
        // Rows that do not say the value are left out, not drawn as 0.
        let mut gaps = rows[..15].to_vec();
        gaps[3].used = None;
        let e = envelope(&gaps, 10, |r| r.used);
        assert_eq!(e.len(), 14);
        assert!(e.iter().all(|p| p.1 >= 100));
    }
}
