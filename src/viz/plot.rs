//! Line charts and scatter plots, written as PNG and SVG.
//!
//! Every figure is drawn by one function generic over the `plotters` backend, so the PNG
//! ([`BitMapBackend`]) and the SVG ([`SVGBackend`]) of a figure show the same thing. Files are
//! written atomically-ish: each is drawn to `<name>.partial.<ext>` in the destination folder and
//! renamed into place only once complete, so a failed or interrupted plot never leaves a file
//! that looks finished.
//!
//! Colours come from the Tableau 10 palette (designed to stay distinguishable for common forms
//! of colour blindness), extended by its ten lighter companions (Tableau 20) for scatter plots
//! with more than ten ids; ids past twenty cycle.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use ndarray::ArrayView2;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Size in pixels of a line chart.
const LINE_SIZE: (u32, u32) = (900, 560);
/// Size in pixels of a pair of scatter panels.
const PAIR_SIZE: (u32, u32) = (1300, 640);
/// Size in pixels of a single scatter panel with a legend.
const SINGLE_SIZE: (u32, u32) = (720, 640);
/// Size in pixels of a single scatter panel without a legend.
const SINGLE_SIZE_PLAIN: (u32, u32) = (640, 640);

/// Most entries a scatter legend lists; more ids are summarised as "+N more".
const MAX_LEGEND_IDS: usize = 20;

/// Above this many points, scatter dots shrink from radius 2 to 2×2 pixel squares.
const LARGE_SCATTER: usize = 10_000;

const FONT: &str = "sans-serif";

/// Tableau 10, then the lighter Tableau 20 companions in the same hue order.
const PALETTE: [RGBColor; 20] = [
    RGBColor(0x4E, 0x79, 0xA7), // blue
    RGBColor(0xF2, 0x8E, 0x2B), // orange
    RGBColor(0xE1, 0x57, 0x59), // red
    RGBColor(0x76, 0xB7, 0xB2), // teal
    RGBColor(0x59, 0xA1, 0x4F), // green
    RGBColor(0xED, 0xC9, 0x48), // yellow
    RGBColor(0xB0, 0x7A, 0xA1), // purple
    RGBColor(0xFF, 0x9D, 0xA7), // pink
    RGBColor(0x9C, 0x75, 0x5F), // brown
    RGBColor(0xBA, 0xB0, 0xAC), // grey
    RGBColor(0xA0, 0xCB, 0xE8), // light blue
    RGBColor(0xFF, 0xBE, 0x7D), // light orange
    RGBColor(0xFF, 0x9D, 0x9A), // light red
    RGBColor(0x86, 0xBC, 0xB6), // light teal
    RGBColor(0x8C, 0xD1, 0x7D), // light green
    RGBColor(0xF1, 0xCE, 0x63), // light yellow
    RGBColor(0xD4, 0xA6, 0xC8), // light purple
    RGBColor(0xFA, 0xBF, 0xD2), // light pink
    RGBColor(0xD7, 0xB5, 0xA6), // light brown
    RGBColor(0x79, 0x70, 0x6E), // dark grey
];

/// Colour of line `i` of a chart: Tableau 10, cycling.
fn line_colour(i: usize) -> RGBColor {
    PALETTE[i % 10]
}

/// Colour of scatter id `id`: Tableau 20 (Tableau 10 first), cycling.
fn id_colour(id: usize) -> RGBColor {
    PALETTE[id % PALETTE.len()]
}

/// What can go wrong while plotting.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// `plotters` failed while drawing or encoding the figure.
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// The file being written.
        path: PathBuf,
        /// What `plotters` reported.
        message: String,
    },
    /// Creating the folder, writing or renaming the file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// There is nothing to plot (no series, no points, or no finite value).
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// Lengths that must agree do not (x vs y, band vs x, colours vs points, columns ≠ 2).
    #[error("mismatched input: {0}")]
    Mismatch(String),
    /// The output path's extension is not a supported image format.
    #[error(
        "unsupported image format {extension:?} for {}: use .png or .svg",
        path.display()
    )]
    Format {
        /// The output path as given.
        path: PathBuf,
        /// Its extension (empty when it has none).
        extension: String,
    },
    /// An argument is out of its domain (e.g. an empty or non-finite y range).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// One line of a line chart, optionally with a band (e.g. min–max or mean ± std over seeds).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// x values, one per point.
    pub x: Vec<f64>,
    /// y values, one per point (non-finite values are not drawn).
    pub y: Vec<f64>,
    /// Lower and upper edge of a translucent band, one value each per point.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Draw the line dashed (e.g. a baseline or a reference run).
    pub dashed: bool,
}

impl Series {
    /// A solid line without a band.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            x,
            y,
            band: None,
            dashed: false,
        }
    }

    /// Adds a band from `lo` to `hi` (one value each per point).
    pub fn with_band(mut self, lo: Vec<f64>, hi: Vec<f64>) -> Self {
        self.band = Some((lo, hi));
        self
    }

    /// Draws the line dashed.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Points where both x and y are finite, split into runs at the non-finite ones.
    fn line_runs(&self) -> Vec<Vec<(f64, f64)>> {
        runs(
            self.x
                .iter()
                .zip(&self.y)
                .map(|(&x, &y)| (x.is_finite() && y.is_finite()).then_some((x, y))),
        )
    }

    /// Band outlines (x, lo, hi) where all three are finite, split into runs.
    fn band_runs(&self) -> Vec<Vec<(f64, f64, f64)>> {
        match &self.band {
            None => Vec::new(),
            Some((lo, hi)) => runs(self.x.iter().zip(lo).zip(hi).map(|((&x, &l), &h)| {
                (x.is_finite() && l.is_finite() && h.is_finite()).then_some((x, l, h))
            })),
        }
    }
}

/// Splits a sequence at its `None`s into maximal runs of `Some`s.
fn runs<T>(items: impl Iterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut current = Vec::new();
    for item in items {
        match item {
            Some(v) => current.push(v),
            None => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Titles and axis labels of a chart.
#[derive(Debug, Clone, Default)]
pub struct ChartText {
    /// Title above the chart (empty: none).
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
}

/// Writes `<stem>.png` and `<stem>.svg`: one line per series (colours from Tableau 10, cycling),
/// markers on the points, a translucent band where given, dashed lines drawn dashed, a legend to
/// the right of the plot, and grid lines.
///
/// The y range is that of the data (bands included) padded by 5 %, or `y_range` when given (e.g.
/// `Some((0.0, 1.0))` for NMI; values outside it are clamped to the frame). The x axis has integer
/// ticks when all x values are integers (epochs). Non-finite values are not drawn: a line breaks
/// where y (or a band edge) is not finite. `<stem>` gets `.png`/`.svg` appended (a dot in the stem
/// is kept), and its folder is created when missing. Returns the two paths written, PNG first.
pub fn line_chart(
    stem: &Path,
    text: &ChartText,
    series: &[Series],
    y_range: Option<(f64, f64)>,
) -> Result<Vec<PathBuf>, PlotError> {
    if series.is_empty() {
        return Err(PlotError::Empty("no series to plot".into()));
    }
    for s in series {
        if s.x.len() != s.y.len() {
            return Err(PlotError::Mismatch(format!(
                "series {:?} has {} x values but {} y values",
                s.label,
                s.x.len(),
                s.y.len()
            )));
        }
        if let Some((lo, hi)) = &s.band {
            if lo.len() != s.x.len() || hi.len() != s.x.len() {
                return Err(PlotError::Mismatch(format!(
                    "series {:?} has {} points but its band has {} lower and {} upper values",
                    s.label,
                    s.x.len(),
                    lo.len(),
                    hi.len()
                )));
            }
        }
    }
    if let Some((lo, hi)) = y_range {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(PlotError::Invalid(format!(
                "y range ({lo}, {hi}) must be finite with lower < upper"
            )));
        }
    }

    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in series {
        for run in s.line_runs() {
            for (x, y) in run {
                xs.push(x);
                ys.push(y);
            }
        }
        for run in s.band_runs() {
            for (x, l, h) in run {
                xs.push(x);
                ys.push(l);
                ys.push(h);
            }
        }
    }
    if xs.is_empty() {
        return Err(PlotError::Empty(
            "no series has a point with finite x and y".into(),
        ));
    }
    let integer_x = xs.iter().all(|x| x.fract() == 0.0 && x.abs() < 1e15);
    let (x_lo, x_hi) = min_max(&xs);
    let x_axis = if x_lo == x_hi {
        let pad = if integer_x {
            1.0
        } else {
            (x_lo.abs() * 0.05).max(0.5)
        };
        (x_lo - pad, x_hi + pad)
    } else {
        let pad = (x_hi - x_lo) * 0.02;
        (x_lo - pad, x_hi + pad)
    };
    let y_axis = match y_range {
        Some(r) => r,
        None => {
            let (lo, hi) = min_max(&ys);
            let pad = if lo == hi {
                (lo.abs() * 0.05).max(0.05)
            } else {
                (hi - lo) * 0.05
            };
            (lo - pad, hi + pad)
        }
    };

    let fig = Figure::Line(LineFigure {
        text,
        series,
        x_axis,
        y_axis,
        x_ticks: ticks(x_axis.0, x_axis.1, 10, integer_x),
        y_ticks: ticks(y_axis.0, y_axis.1, 8, false),
    });
    write_both(stem, LINE_SIZE, &fig)
}

/// Writes `<stem>.png` and `<stem>.svg` with two scatter panels side by side of the same 2-D
/// points (N×2): the left coloured by `left_colours`, the right by `right_colours` (small integer
/// ids such as cluster ids and true labels; Tableau 20 colours, cycling), each with its title,
/// a frame and a legend of the ids present (at most 20 entries, then "+N more"). This is the
/// t-SNE figure: left by cluster, right by true label. Points with a non-finite coordinate are
/// not drawn. Returns the two paths written, PNG first.
pub fn scatter_pair(
    stem: &Path,
    title: &str,
    points: ArrayView2<f32>,
    left_colours: &[usize],
    left_title: &str,
    right_colours: &[usize],
    right_title: &str,
) -> Result<Vec<PathBuf>, PlotError> {
    let pts = finite_points(points)?;
    check_colours(points.nrows(), left_colours, "left")?;
    check_colours(points.nrows(), right_colours, "right")?;
    let fig = Figure::Pair {
        title,
        left: Panel {
            title: left_title,
            points: &pts,
            colours: Some(left_colours),
        },
        right: Panel {
            title: right_title,
            points: &pts,
            colours: Some(right_colours),
        },
    };
    write_both(stem, PAIR_SIZE, &fig)
}

/// Writes one scatter panel of the 2-D points (N×2) to exactly `path`, as PNG or SVG according
/// to its extension (`.png` or `.svg`, any case; anything else is [`PlotError::Format`]).
/// `colours` gives each point a small integer id (with a legend); `None` draws all points in one
/// colour without a legend. For `deepclust tsne --out map.png`.
pub fn scatter(
    path: &Path,
    title: &str,
    points: ArrayView2<f32>,
    colours: Option<&[usize]>,
) -> Result<(), PlotError> {
    let format = Format::of(path)?;
    let pts = finite_points(points)?;
    if let Some(c) = colours {
        check_colours(points.nrows(), c, "colour")?;
    }
    let size = if colours.is_some() {
        SINGLE_SIZE
    } else {
        SINGLE_SIZE_PLAIN
    };
    let fig = Figure::Single {
        title,
        panel: Panel {
            title: "",
            points: &pts,
            colours,
        },
    };
    write_figure(path, format, size, &fig)
}

/// Checks the shape of `points` and returns `(index, x, y)` of its finite rows.
fn finite_points(points: ArrayView2<f32>) -> Result<Vec<(usize, f64, f64)>, PlotError> {
    if points.ncols() != 2 {
        return Err(PlotError::Mismatch(format!(
            "points must have 2 columns, got {}",
            points.ncols()
        )));
    }
    if points.nrows() == 0 {
        return Err(PlotError::Empty("no points".into()));
    }
    let pts: Vec<_> = points
        .outer_iter()
        .enumerate()
        .filter(|(_, r)| r[0].is_finite() && r[1].is_finite())
        .map(|(i, r)| (i, f64::from(r[0]), f64::from(r[1])))
        .collect();
    if pts.is_empty() {
        return Err(PlotError::Empty(format!(
            "none of the {} points is finite",
            points.nrows()
        )));
    }
    Ok(pts)
}

fn check_colours(n: usize, colours: &[usize], which: &str) -> Result<(), PlotError> {
    if colours.len() != n {
        return Err(PlotError::Mismatch(format!(
            "{which} colours have {} entries for {n} points",
            colours.len()
        )));
    }
    Ok(())
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Tick positions within `[lo, hi]` at a 1/2/5 × 10^k step giving about `target` ticks (a whole
/// step of at least 1 when `integer`), and the number of decimals their labels need.
fn ticks(lo: f64, hi: f64, target: usize, integer: bool) -> (Vec<f64>, usize) {
    let span = hi - lo;
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    let mut step = nice * mag;
    if integer {
        step = step.max(1.0).round();
    }
    let decimals = if integer {
        0
    } else {
        (-step.log10().floor()).max(0.0) as usize
    };
    let eps = step * 1e-9;
    let first = ((lo - eps) / step).ceil() as i64;
    let last = ((hi + eps) / step).floor() as i64;
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < eps {
                0.0
            } else {
                v
            }
        })
        .collect();
    (ticks, decimals)
}

/// Output format of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    fn of(path: &Path) -> Result<Self, PlotError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        match ext.to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            _ => Err(PlotError::Format {
                path: path.to_path_buf(),
                extension: ext,
            }),
        }
    }
}

/// `<stem>.<ext>`, keeping any dot already in the stem.
fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s = OsString::from(stem.as_os_str());
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The temporary sibling of `path`: `dir/name.ext` → `dir/name.partial.ext`.
fn partial_path(path: &Path, format: Format) -> PathBuf {
    let ext = path
        .extension()
        .map(OsString::from)
        .unwrap_or_else(|| format.extension().into());
    let mut name = path.file_stem().map(OsString::from).unwrap_or_default();
    name.push(".partial.");
    name.push(ext);
    path.with_file_name(name)
}

fn write_both(stem: &Path, size: (u32, u32), fig: &Figure) -> Result<Vec<PathBuf>, PlotError> {
    let mut written = Vec::with_capacity(2);
    for format in [Format::Png, Format::Svg] {
        let path = with_suffix(stem, format.extension());
        write_figure(&path, format, size, fig)?;
        written.push(path);
    }
    Ok(written)
}

/// Draws `fig` into `path.partial` and renames it to `path`.
fn write_figure(
    path: &Path,
    format: Format,
    size: (u32, u32),
    fig: &Figure,
) -> Result<(), PlotError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| PlotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let partial = partial_path(path, format);
    let drawn = match format {
        Format::Png => {
            // The backend writes the file on `present` (the format follows the `.png` extension);
            // it is dropped at the end of this block, before any cleanup below.
            let root = BitMapBackend::new(&partial, size).into_drawing_area();
            fig.draw(root).map_err(|e| e.to_string())
        }
        Format::Svg => {
            // Draw into memory and write the file ourselves, so write errors are not lost in the
            // backend's buffered writer.
            let mut svg = String::new();
            let drawn = {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                fig.draw(root).map_err(|e| e.to_string())
            };
            if drawn.is_ok() {
                fs::write(&partial, svg.as_bytes()).map_err(|source| {
                    let _ = fs::remove_file(&partial);
                    PlotError::Io {
                        path: partial.clone(),
                        source,
                    }
                })?;
            }
            drawn
        }
    };
    if let Err(message) = drawn {
        let _ = fs::remove_file(&partial);
        return Err(PlotError::Draw {
            path: path.to_path_buf(),
            message,
        });
    }
    fs::rename(&partial, path).map_err(|source| {
        let _ = fs::remove_file(&partial);
        PlotError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// A validated figure, drawable on any backend.
enum Figure<'a> {
    Line(LineFigure<'a>),
    Pair {
        title: &'a str,
        left: Panel<'a>,
        right: Panel<'a>,
    },
    Single {
        title: &'a str,
        panel: Panel<'a>,
    },
}

impl Figure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        match self {
            Figure::Line(f) => draw_line_chart(&root, f)?,
            Figure::Pair { title, left, right } => draw_scatter_pair(&root, title, left, right)?,
            Figure::Single { title, panel } => draw_scatter(&root, title, panel)?,
        }
        root.present()
    }
}

struct LineFigure<'a> {
    text: &'a ChartText,
    series: &'a [Series],
    x_axis: (f64, f64),
    y_axis: (f64, f64),
    x_ticks: (Vec<f64>, usize),
    y_ticks: (Vec<f64>, usize),
}

/// One scatter panel: finite points `(row, x, y)` and optional ids indexed by row.
struct Panel<'a> {
    title: &'a str,
    points: &'a [(usize, f64, f64)],
    colours: Option<&'a [usize]>,
}

/// A linear f64 axis whose grid lines and labels sit exactly at precomputed ticks (no light
/// grid lines). `plotters`' own `WithKeyPoints` over f64 lacks a label formatter in 0.3.
struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new((lo, hi): (f64, f64), ticks: Vec<f64>) -> Self {
        Self {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn format_tick(v: f64, decimals: usize) -> String {
    format!("{:.*}", decimals, v)
}

fn text_style(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).pos(Pos::new(h, v))
}

/// Draws `title` at the top of `area` (when non-empty) and returns the area below it.
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: f64,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    if title.is_empty() {
        Ok(area.clone())
    } else {
        area.titled(title, (FONT, size))
    }
}

fn draw_line_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &LineFigure,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let body = titled(root, &fig.text.title, 24.0)?;

    // Legend column on the right, as wide as the longest label needs (within limits).
    let legend_style = TextStyle::from((FONT, 15).into_font());
    let mut label_w = 0;
    for s in fig.series {
        label_w = label_w.max(body.estimate_text_size(&s.label, &legend_style)?.0);
    }
    let (w, _) = body.dim_in_pixel();
    let legend_w = (label_w + 64).clamp(110, w * 2 / 5);
    let (chart_area, legend_area) = body.split_horizontally(w - legend_w);

    let (x_ticks, x_dec) = fig.x_ticks.clone();
    let (y_ticks, y_dec) = fig.y_ticks.clone();
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(68)
        .build_cartesian_2d(
            TickedAxis::new(fig.x_axis, x_ticks),
            TickedAxis::new(fig.y_axis, y_ticks),
        )?;
    let x_fmt = move |v: &f64| format_tick(*v, x_dec);
    let y_fmt = move |v: &f64| format_tick(*v, y_dec);
    chart
        .configure_mesh()
        .x_desc(fig.text.x_label.as_str())
        .y_desc(fig.text.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.mix(0.7))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()?;

    // Bands first, so that no band covers another series' line.
    for (i, s) in fig.series.iter().enumerate() {
        let colour = line_colour(i);
        for run in s.band_runs() {
            let outline: Vec<(f64, f64)> = run
                .iter()
                .map(|&(x, _, h)| (x, h))
                .chain(run.iter().rev().map(|&(x, l, _)| (x, l)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                colour.mix(0.2).filled(),
            )))?;
        }
    }
    for (i, s) in fig.series.iter().enumerate() {
        let colour = line_colour(i);
        let style = colour.stroke_width(2);
        let runs = s.line_runs();
        let n: usize = runs.iter().map(Vec::len).sum();
        let radius = if n <= 60 { 3 } else { 2 };
        for run in runs {
            if s.dashed {
                chart.draw_series(DashedLineSeries::new(run.clone(), 9, 6, style))?;
            } else {
                chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
            }
            chart.draw_series(run.iter().map(|&p| Circle::new(p, radius, colour.filled())))?;
        }
    }

    // Legend: band swatch, line sample (dashed or solid), marker, label.
    let row_h = 24;
    let top = 12 + row_h / 2;
    for (i, s) in fig.series.iter().enumerate() {
        let colour = line_colour(i);
        let y = top + row_h * i as i32;
        let (x0, x1) = (6, 40);
        if s.band.is_some() {
            legend_area.draw(&Rectangle::new(
                [(x0, y - 7), (x1, y + 7)],
                colour.mix(0.2).filled(),
            ))?;
        }
        let style = colour.stroke_width(2);
        if s.dashed {
            for (a, b) in [(x0, x0 + 9), (x0 + 14, x0 + 22), (x0 + 27, x1)] {
                legend_area.draw(&PathElement::new(vec![(a, y), (b, y)], style))?;
            }
        } else {
            legend_area.draw(&PathElement::new(vec![(x0, y), (x1, y)], style))?;
        }
        legend_area.draw(&Circle::new(((x0 + x1) / 2, y), 3, colour.filled()))?;
        legend_area.draw(&Text::new(
            s.label.clone(),
            (x1 + 8, y),
            text_style(15.0, HPos::Left, VPos::Center),
        ))?;
    }
    Ok(())
}

fn draw_scatter_pair<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    left: &Panel,
    right: &Panel,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let body = titled(root, title, 24.0)?;
    let (w, _) = body.dim_in_pixel();
    let (l, r) = body.split_horizontally(w / 2);
    draw_panel(&l, left)?;
    draw_panel(&r, right)
}

fn draw_scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panel: &Panel,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let body = titled(root, title, 22.0)?;
    draw_panel(&body, panel)
}

/// One framed scatter panel with its title and, when coloured, a legend column on the right.
fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult<DB> {
    let area = titled(area, panel.title, 18.0)?;
    let (w, _) = area.dim_in_pixel();
    let legend_w = 78;
    let (plot_area, legend_area) = match panel.colours {
        Some(_) => {
            let (p, l) = area.split_horizontally(w.saturating_sub(legend_w));
            (p, Some(l))
        }
        None => (area.clone(), None),
    };
    let plot_area = plot_area.margin(4, 10, 10, 4);

    // Equal spans on both axes: t-SNE distances are isotropic.
    let xs: Vec<f64> = panel.points.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = panel.points.iter().map(|p| p.2).collect();
    let (x_lo, x_hi) = min_max(&xs);
    let (y_lo, y_hi) = min_max(&ys);
    let half = ((x_hi - x_lo).max(y_hi - y_lo) * 0.52).max(1e-6);
    let (cx, cy) = ((x_lo + x_hi) / 2.0, (y_lo + y_hi) / 2.0);

    let (pw, ph) = plot_area.dim_in_pixel();
    plot_area.draw(&Rectangle::new(
        [(0, 0), (pw as i32 - 1, ph as i32 - 1)],
        BLACK.mix(0.6).stroke_width(1),
    ))?;
    let inner = plot_area.margin(2, 2, 2, 2);
    let mut chart =
        ChartBuilder::on(&inner).build_cartesian_2d(cx - half..cx + half, cy - half..cy + half)?;

    let n = panel.points.len();
    let colour_of = |i: usize| match panel.colours {
        Some(ids) => id_colour(ids[i]).mix(0.85),
        None => PALETTE[0].mix(0.8),
    };
    if n <= LARGE_SCATTER {
        // Dots of radius 2 px.
        chart.draw_series(
            panel
                .points
                .iter()
                .map(|&(i, x, y)| Circle::new((x, y), 2, colour_of(i).filled())),
        )?;
    } else {
        // Many points: 2×2 px squares (a radius-1 circle rasterises as a thin cross).
        chart.draw_series(panel.points.iter().map(|&(i, x, y)| {
            EmptyElement::at((x, y)) + Rectangle::new([(0, 0), (1, 1)], colour_of(i).filled())
        }))?;
    }

    if let (Some(ids), Some(legend_area)) = (panel.colours, legend_area) {
        let mut present: BTreeMap<usize, usize> = BTreeMap::new();
        for &(i, _, _) in panel.points {
            *present.entry(ids[i]).or_default() += 1;
        }
        let shown = if present.len() > MAX_LEGEND_IDS {
            MAX_LEGEND_IDS - 1
        } else {
            present.len()
        };
        let (_, lh) = legend_area.dim_in_pixel();
        let row_h = (lh as i32 / (shown as i32 + 1)).clamp(12, 22);
        let mut y = 10 + row_h / 2;
        for &id in present.keys().take(shown) {
            legend_area.draw(&Circle::new((12, y), 5, id_colour(id).filled()))?;
            legend_area.draw(&Text::new(
                id.to_string(),
                (24, y),
                text_style(14.0, HPos::Left, VPos::Center),
            ))?;
            y += row_h;
        }
        if present.len() > shown {
            legend_area.draw(&Text::new(
                format!("+{} more", present.len() - shown),
                (6, y),
                text_style(13.0, HPos::Left, VPos::Center),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// Checks the PNG signature and IHDR chunk, returns (width, height).
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = fs::read(path).unwrap();
        assert!(
            bytes.len() > 33,
            "{} is too short to be a PNG",
            path.display()
        );
        assert_eq!(bytes[..8], PNG_SIGNATURE, "{} is not a PNG", path.display());
        assert_eq!(&bytes[12..16], b"IHDR");
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        (w, h)
    }

    fn no_partials(dir: &Path) {
        for entry in fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name();
            assert!(
                !name.to_string_lossy().contains(".partial"),
                "left behind: {name:?}"
            );
        }
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn epochs(n: usize) -> Vec<f64> {
        (0..n).map(|e| e as f64).collect()
    }

    fn demo_series() -> Vec<Series> {
        let x = epochs(30);
        let nmi: Vec<f64> = x.iter().map(|&e| 0.9 - 0.5 * (-e / 8.0).exp()).collect();
        let lo = nmi.iter().map(|v| v - 0.04).collect();
        let hi = nmi.iter().map(|v| v + 0.04).collect();
        let mut base: Vec<f64> = x.iter().map(|&e| 0.55 + 0.004 * e).collect();
        base[7] = f64::NAN; // skipped, must not break the chart
        vec![
            Series::new("PCK-means 1%", x.clone(), nmi).with_band(lo, hi),
            Series::new("k-means baseline", x, base).dashed(),
        ]
    }

    /// The contents of the SVG's `<text>` elements, trimmed.
    fn svg_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .map(|t| {
                let body = &t[t.find('>').unwrap() + 1..];
                body[..body.find("</text>").unwrap()].trim().to_string()
            })
            .collect()
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn line_chart_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("nmi");
        let text = ChartText {
            title: "NMI per epoch".into(),
            x_label: "epoch".into(),
            y_label: "NMI".into(),
        };
        let written = line_chart(&stem, &text, &demo_series(), Some((0.0, 1.0))).unwrap();
        assert_eq!(
            written,
            vec![dir.path().join("nmi.png"), dir.path().join("nmi.svg")]
        );
        assert_eq!(file_names(dir.path()), ["nmi.png", "nmi.svg"]);
        assert_eq!(png_size(&written[0]), LINE_SIZE);
        // A blank 900×560 PNG compresses to a few kB; a drawn chart is far larger.
        assert!(fs::metadata(&written[0]).unwrap().len() > 15_000);
        let svg = fs::read_to_string(&written[1]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
        let texts = svg_texts(&svg);
        for needle in [
            "NMI per epoch",
            "PCK-means 1%",
            "k-means baseline",
            "epoch",
            "NMI",
        ] {
            assert!(
                texts.iter().any(|t| t == needle),
                "SVG lacks {needle:?}: {texts:?}"
            );
        }
        let numbers: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
        // Epochs 0–29 are integers: x ticks are whole numbers at a nice step.
        let x_ticks: Vec<&str> = numbers
            .iter()
            .filter(|t| !t.contains('.'))
            .map(|t| t.as_str())
            .collect();
        let want: Vec<String> = (0..=25).step_by(5).map(|e| e.to_string()).collect();
        assert_eq!(x_ticks, want);
        // y range (0, 1) given: ticks 0.0, 0.1, …, 1.0.
        let y_ticks: Vec<&str> = numbers
            .iter()
            .filter(|t| t.contains('.'))
            .map(|t| t.as_str())
            .collect();
        let want: Vec<String> = (0..=10)
            .map(|k| format!("{:.1}", k as f64 / 10.0))
            .collect();
        assert_eq!(y_ticks, want);
        // The band is a filled polygon.
        assert!(svg.contains("<polygon"));
        no_partials(dir.path());
    }

    #[test]
    fn dashed_series_is_drawn_in_pieces_and_bands_only_when_given() {
        let dir = tempfile::tempdir().unwrap();
        let x = epochs(20);
        let y: Vec<f64> = x.iter().map(|v| v * v).collect();
        let text = ChartText::default();
        let solid = line_chart(
            &dir.path().join("solid"),
            &text,
            &[Series::new("s", x.clone(), y.clone())],
            None,
        )
        .unwrap();
        let dashed = line_chart(
            &dir.path().join("dashed"),
            &text,
            &[Series::new("s", x, y).dashed()],
            None,
        )
        .unwrap();
        let solid = fs::read_to_string(&solid[1]).unwrap();
        let dashed = fs::read_to_string(&dashed[1]).unwrap();
        let (ns, nd) = (count(&solid, "<polyline"), count(&dashed, "<polyline"));
        assert!(nd > ns + 10, "dashed {nd} polylines vs solid {ns}");
        assert!(!solid.contains("<polygon"));
    }

    #[test]
    fn stem_with_a_dot_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let written = line_chart(
            &dir.path().join("sub/run.v2"),
            &ChartText::default(),
            &[Series::new("a", vec![0.5, 1.5], vec![1.0, 2.0])],
            None,
        )
        .unwrap();
        assert_eq!(written[0], dir.path().join("sub/run.v2.png"));
        assert_eq!(written[1], dir.path().join("sub/run.v2.svg"));
        assert!(written.iter().all(|p| p.is_file()));
        no_partials(&dir.path().join("sub"));
    }

    #[test]
    fn line_chart_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let text = ChartText::default();
        let err = line_chart(&stem, &text, &[], None).unwrap_err();
        assert!(matches!(err, PlotError::Empty(_)), "{err:?}");

        let s = Series::new("short", vec![0.0, 1.0, 2.0], vec![1.0, 2.0]);
        let err = line_chart(&stem, &text, &[s], None).unwrap_err();
        assert!(
            matches!(&err, PlotError::Mismatch(m) if m.contains("short")),
            "{err:?}"
        );

        let s = Series::new("band", vec![0.0, 1.0], vec![1.0, 2.0])
            .with_band(vec![0.0], vec![3.0, 3.0]);
        let err = line_chart(&stem, &text, &[s], None).unwrap_err();
        assert!(matches!(err, PlotError::Mismatch(_)), "{err:?}");

        let s = Series::new("nan", vec![0.0, 1.0], vec![f64::NAN, f64::INFINITY]);
        let err = line_chart(&stem, &text, &[s], None).unwrap_err();
        assert!(matches!(err, PlotError::Empty(_)), "{err:?}");

        let s = Series::new("ok", vec![0.0, 1.0], vec![1.0, 2.0]);
        for r in [(1.0, 1.0), (1.0, 0.0), (0.0, f64::NAN)] {
            let err = line_chart(&stem, &text, std::slice::from_ref(&s), Some(r)).unwrap_err();
            assert!(matches!(err, PlotError::Invalid(_)), "{r:?}: {err:?}");
        }
        assert!(
            file_names(dir.path()).is_empty(),
            "{:?}",
            file_names(dir.path())
        );
    }

    #[test]
    fn unwritable_destination_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a_file");
        fs::write(&file, b"x").unwrap();
        let err = line_chart(
            &file.join("chart"),
            &ChartText::default(),
            &[Series::new("a", vec![0.0, 1.0], vec![1.0, 2.0])],
            None,
        )
        .unwrap_err();
        assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
    }

    fn blobs(n: usize) -> (Array2<f32>, Vec<usize>, Vec<usize>) {
        // Three blobs laid out deterministically; the "cluster" of each point mostly
        // matches its blob, the "label" is the blob itself.
        let mut pts = Array2::zeros((n, 2));
        let mut label = Vec::with_capacity(n);
        let mut cluster = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % 3;
            let t = i as f32 * 0.618;
            let r = (i as f32 * 0.37).sin().abs() * 3.0;
            pts[[i, 0]] = c as f32 * 10.0 + r * t.cos();
            pts[[i, 1]] = (c as f32 * 7.0) % 12.0 + r * t.sin();
            label.push(c);
            cluster.push(if i % 17 == 0 { (c + 1) % 3 } else { c } + 3);
        }
        (pts, cluster, label)
    }

    #[test]
    fn scatter_pair_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("tsne");
        let (pts, cluster, label) = blobs(600);
        let written = scatter_pair(
            &stem,
            "t-SNE of the final features",
            pts.view(),
            &cluster,
            "by cluster",
            &label,
            "by true label",
        )
        .unwrap();
        assert_eq!(
            written,
            vec![dir.path().join("tsne.png"), dir.path().join("tsne.svg")]
        );
        assert_eq!(png_size(&written[0]), PAIR_SIZE);
        assert!(fs::metadata(&written[0]).unwrap().len() > 15_000);
        let svg = fs::read_to_string(&written[1]).unwrap();
        for needle in ["t-SNE of the final features", "by cluster", "by true label"] {
            assert!(svg.contains(needle), "SVG lacks {needle:?}");
        }
        // One dot per point in each panel, plus legend dots (3 per panel).
        assert_eq!(count(&svg, "<circle"), 2 * 600 + 3 + 3);
        // Legends list the ids present: clusters 3–5 on the left, labels 0–2 on the right.
        let texts = svg_texts(&svg);
        assert_eq!(
            texts,
            [
                "t-SNE of the final features",
                "by cluster",
                "3",
                "4",
                "5",
                "by true label",
                "0",
                "1",
                "2"
            ]
        );
        no_partials(dir.path());
    }

    #[test]
    fn scatter_pair_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let (pts, cluster, label) = blobs(30);
        let err = scatter_pair(&stem, "", pts.view(), &cluster[..29], "", &label, "").unwrap_err();
        assert!(matches!(err, PlotError::Mismatch(_)), "{err:?}");
        let err = scatter_pair(&stem, "", pts.view(), &cluster, "", &label[1..], "").unwrap_err();
        assert!(matches!(err, PlotError::Mismatch(_)), "{err:?}");
        let three = Array2::<f32>::zeros((30, 3));
        let err = scatter_pair(&stem, "", three.view(), &cluster, "", &label, "").unwrap_err();
        assert!(matches!(err, PlotError::Mismatch(_)), "{err:?}");
        let none = Array2::<f32>::zeros((0, 2));
        let err = scatter_pair(&stem, "", none.view(), &[], "", &[], "").unwrap_err();
        assert!(matches!(err, PlotError::Empty(_)), "{err:?}");
        let nan = Array2::<f32>::from_elem((4, 2), f32::NAN);
        let err = scatter_pair(&stem, "", nan.view(), &[0; 4], "", &[0; 4], "").unwrap_err();
        assert!(matches!(err, PlotError::Empty(_)), "{err:?}");
        assert!(file_names(dir.path()).is_empty());
    }

    #[test]
    fn scatter_follows_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let (pts, _, label) = blobs(200);

        let jpg = dir.path().join("map.jpg");
        let err = scatter(&jpg, "map", pts.view(), Some(&label)).unwrap_err();
        assert!(
            matches!(&err, PlotError::Format { extension, .. } if extension == "jpg"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("jpg") && msg.contains(".png") && msg.contains(".svg"),
            "{msg}"
        );
        let err = scatter(&dir.path().join("map"), "map", pts.view(), None).unwrap_err();
        assert!(matches!(err, PlotError::Format { .. }), "{err:?}");
        assert!(file_names(dir.path()).is_empty());

        let svg = dir.path().join("map.svg");
        scatter(&svg, "t-SNE map", pts.view(), Some(&label)).unwrap();
        let text = fs::read_to_string(&svg).unwrap();
        assert!(text.contains("t-SNE map"));
        assert_eq!(count(&text, "<circle"), 200 + 3);

        let png = dir.path().join("map.png");
        scatter(&png, "t-SNE map", pts.view(), None).unwrap();
        assert_eq!(png_size(&png), SINGLE_SIZE_PLAIN);

        let upper = dir.path().join("MAP.PNG");
        scatter(&upper, "", pts.view(), Some(&label)).unwrap();
        assert_eq!(png_size(&upper), SINGLE_SIZE);

        assert_eq!(file_names(dir.path()), ["MAP.PNG", "map.png", "map.svg"]);
    }

    #[test]
    fn scatter_legend_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let n = 100;
        let pts = Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1)) as f32);
        let ids: Vec<usize> = (0..n).map(|i| i % 50).collect();
        let svg = dir.path().join("many.svg");
        scatter(&svg, "", pts.view(), Some(&ids)).unwrap();
        let text = fs::read_to_string(&svg).unwrap();
        let texts = svg_texts(&text);
        let want: Vec<String> = (0..19)
            .map(|id| id.to_string())
            .chain(["+31 more".to_string()])
            .collect();
        assert_eq!(texts, want);
        assert_eq!(count(&text, "<circle"), n + MAX_LEGEND_IDS - 1);
    }

    #[test]
    fn large_scatter_uses_small_squares() {
        let dir = tempfile::tempdir().unwrap();
        let n = LARGE_SCATTER + 1;
        let pts = Array2::from_shape_fn((n, 2), |(i, j)| ((i * (7 + j)) % 101) as f32);
        let svg = dir.path().join("large.svg");
        scatter(&svg, "", pts.view(), None).unwrap();
        let text = fs::read_to_string(&svg).unwrap();
        assert_eq!(count(&text, "<circle"), 0);
        // One square per point, plus the white background and the frame.
        assert_eq!(count(&text, "<rect"), n + 2);
    }

    #[test]
    fn ticks_are_nice() {
        let (t, d) = ticks(-1.0, 51.0, 10, true);
        assert_eq!(d, 0);
        assert_eq!(t, (0..=10).map(|k| k as f64 * 5.0).collect::<Vec<_>>());
        let (t, d) = ticks(-0.2, 3.2, 10, true);
        assert_eq!((t, d), (vec![0.0, 1.0, 2.0, 3.0], 0));
        let (t, d) = ticks(0.0, 1.0, 8, false);
        assert_eq!(d, 1);
        assert_eq!(t.len(), 11);
        assert!((t[3] - 0.3).abs() < 1e-12 && t[0] == 0.0 && t[10] == 1.0);
        let (t, d) = ticks(-0.05, 1.45, 8, false);
        assert_eq!(d, 1);
        assert_eq!(t.first(), Some(&0.0));
        assert!((t[1] - 0.2).abs() < 1e-12 && (t.last().unwrap() - 1.4).abs() < 1e-12);
        let (t, d) = ticks(0.3312, 0.3391, 8, false);
        assert_eq!(d, 3);
        assert!(t.iter().all(|v| (0.3312..=0.3391).contains(v)) && t.len() >= 4);
        assert_eq!(format_tick(-0.0 + 0.0, 0), "0");
    }

    #[test]
    fn partial_paths() {
        assert_eq!(
            partial_path(Path::new("/a/b/c.v1.png"), Format::Png),
            Path::new("/a/b/c.v1.partial.png")
        );
        assert_eq!(
            with_suffix(Path::new("/a/b/c.v1"), "svg"),
            Path::new("/a/b/c.v1.svg")
        );
    }
}
