//! `--plot`: the training curves as an SVG or PNG file (chosen by the extension), drawn with
//! `plotters`.
//!
//! What is drawn: the training loss and (with a validation split) the validation loss per
//! epoch on a log axis, the learning rate on a second log axis at the right, and the
//! controller's rate changes, rollbacks, restarts and stop as dashed vertical lines; the legend
//! sits inside the frame, in the corner with the fewest points, and names exactly the series
//! drawn. The x axis is the epoch number (the records may be decimated and, after rollbacks,
//! the epochs go on counting past the number of records).
//!
//! Values that a log axis cannot show (zero, negative, NaN, infinite) are left out, each curve
//! breaks where they were, and a note under the plot counts them. A loss that takes negative
//! values (the Poisson loss `e^z − y·z` can) gets a linear axis instead, said on the axis.
//! Zero epochs give a valid plot with an empty frame that says so.

use crate::Res;
use npoa::control::{Event, EventKind};
use npoa::train::Epoch;
use plotters::coord::ranged1d::{
    KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// What the plot says beside the curves.
#[derive(Debug, Clone, Copy)]
pub struct PlotInfo<'a> {
    /// The loss's name (`squared`, `logistic`, `softmax` …), for the axis label.
    pub loss: &'a str,
    /// Whether the epochs carry a validation metric worth drawing.
    pub validation: bool,
}

/// The image's size in pixels (the SVG's too).
const SIZE: (u32, u32) = (960, 540);

/// The bundled font (see `cli/assets/README.md`): plotters measures every text with it, and
/// draws with it in a PNG.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// Series colours, one each, so that a curve and its legend entry share one colour.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALID: RGBColor = RGBColor(214, 39, 40);
const RATE: RGBColor = RGBColor(44, 160, 44);
const RATE_CHANGE: RGBColor = RGBColor(255, 127, 14);
const ROLLBACK: RGBColor = RGBColor(148, 103, 189);
const RESTART: RGBColor = RGBColor(140, 86, 75);
// Not black: black is the axes' and the frame's colour.
const STOP: RGBColor = RGBColor(64, 64, 64);

/// The image formats `write` knows, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

/// Writes the plot of a run to `path`: SVG for `.svg`, PNG for `.png` (any other extension is
/// an error, before anything is written).
pub fn write(path: &Path, epochs: &[Epoch], events: &[Event], info: &PlotInfo) -> Res<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("svg") => Format::Svg,
        Some("png") => Format::Png,
        other => {
            return Err(format!(
                "{}: the plot's format follows the file's extension, which must be .svg or .png (not {})",
                path.display(),
                other.map_or_else(|| "none".to_string(), |e| format!(".{e}"))
            )
            .into());
        }
    };
    register_font()?;
    let plot = Plot::new(epochs, events, info);
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                plot.draw(&root).map_err(|e| fail(&e))?;
                root.present().map_err(|e| fail(&e))?;
            }
            crate::atomic::write(path, svg)?;
        }
        Format::Png => {
            let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                plot.draw(&root).map_err(|e| fail(&e))?;
                root.present().map_err(|e| fail(&e))?;
            }
            crate::atomic::write_with(path, |file| {
                let mut encoder = png::Encoder::new(file, SIZE.0, SIZE.1);
                encoder.set_color(png::ColorType::Rgb);
                encoder.set_depth(png::BitDepth::Eight);
                let mut writer = encoder.write_header()?;
                writer.write_image_data(&rgb)?;
                writer.finish()?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Registers the bundled font as plotters' `sans-serif` (once per process).
fn register_font() -> Res<()> {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the plot's bundled font (DejaVu Sans) could not be read".into())
    }
}

/// The loss's name as the axis and title say it.
fn loss_label(name: &str) -> String {
    match name {
        "squared" => "squared error".into(),
        "huber" => "Huber loss".into(),
        "absolute" => "absolute error".into(),
        "logistic" => "logistic cross-entropy".into(),
        "quantile" => "quantile (pinball) loss".into(),
        "poisson" => "Poisson loss".into(),
        "softmax" => "softmax cross-entropy".into(),
        other => format!("{other} loss"),
    }
}

/// One curve: its points (`None` where the value cannot be drawn), colour and name.
struct Curve {
    name: &'static str,
    color: RGBColor,
    points: Vec<Option<(f64, f64)>>,
    /// Values left out (non-finite, or not positive on a log axis).
    skipped: usize,
    /// Values a log axis could not show but a linear one could (finite, ≤ 0).
    non_positive: usize,
}

impl Curve {
    fn new(name: &'static str, color: RGBColor, epochs: &[Epoch], f: fn(&Epoch) -> f32) -> Self {
        let mut c = Curve {
            name,
            color,
            points: Vec::with_capacity(epochs.len()),
            skipped: 0,
            non_positive: 0,
        };
        for e in epochs {
            let v = f64::from(f(e));
            if v.is_finite() {
                c.non_positive += usize::from(v <= 0.0);
                c.points.push(Some((f64::from(e.epoch), v)));
            } else {
                c.skipped += 1;
                c.points.push(None);
            }
        }
        c
    }

    /// Leaves out the values ≤ 0 (for a log axis).
    fn positive_only(mut self) -> Self {
        for p in &mut self.points {
            if p.is_some_and(|(_, v)| v <= 0.0) {
                *p = None;
                self.skipped += 1;
            }
        }
        self
    }

    fn values(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points.iter().flatten().copied()
    }

    fn is_drawn(&self) -> bool {
        self.values().next().is_some()
    }

    /// The runs of consecutive drawable points: the curve breaks where a value was left out.
    fn segments(&self) -> Vec<Vec<(f64, f64)>> {
        self.points
            .split(Option::is_none)
            .filter(|s| !s.is_empty())
            .map(|s| s.iter().flatten().copied().collect())
            .collect()
    }
}

/// A kind of event mark, its epochs and its legend name.
struct Marks {
    name: String,
    color: RGBColor,
    epochs: Vec<f64>,
}

/// Everything the drawing needs, computed once for either backend.
struct Plot {
    loss: String,
    curves: Vec<Curve>,
    rate: Curve,
    marks: Vec<Marks>,
    x: Axis,
    y: Axis,
    y2: Axis,
    empty: bool,
}

impl Plot {
    fn new(epochs: &[Epoch], events: &[Event], info: &PlotInfo) -> Self {
        let mut curves = vec![Curve::new("training loss", TRAIN, epochs, |e| e.train_loss)];
        if info.validation {
            curves.push(Curve::new("validation loss", VALID, epochs, |e| e.metric));
        }
        // A log axis unless a loss is negative somewhere (zeros alone are left out).
        let negative = curves.iter().any(|c| c.values().any(|(_, v)| v < 0.0));
        if !negative {
            curves = curves.into_iter().map(Curve::positive_only).collect();
        }
        let rate = Curve::new("learning rate (right axis)", RATE, epochs, |e| {
            e.learning_rate
        })
        .positive_only();

        let mut marks: Vec<Marks> = Vec::new();
        for e in events {
            let (name, color) = match e.kind {
                EventKind::Improved { .. } => continue,
                EventKind::RateChanged { .. } => ("rate change".to_string(), RATE_CHANGE),
                EventKind::RolledBack { .. } => ("rollback".to_string(), ROLLBACK),
                EventKind::Restarted { .. } => ("warm restart".to_string(), RESTART),
                EventKind::Stopped(stop) => (format!("stop ({})", stop.name()), STOP),
            };
            match marks.iter_mut().find(|m| m.name == name) {
                Some(m) => m.epochs.push(f64::from(e.epoch)),
                None => marks.push(Marks {
                    name,
                    color,
                    epochs: vec![f64::from(e.epoch)],
                }),
            }
        }
        for m in &mut marks {
            if m.epochs.len() > 1 && !m.name.starts_with("stop") {
                m.name = format!("{} ({}×)", m.name, m.epochs.len());
            }
        }

        // The x axis spans the epoch numbers of the records and of the events.
        let xs = epochs
            .iter()
            .map(|e| f64::from(e.epoch))
            .chain(marks.iter().flat_map(|m| m.epochs.iter().copied()));
        let (lo, hi) = min_max(xs).unwrap_or((1.0, 1.0));
        // A little room at both ends, so that a mark at the first or last epoch (the stop)
        // is not hidden by the axis.
        let (lo, hi) = if hi > lo {
            let pad = (hi - lo) * 0.01;
            (lo - pad, hi + pad)
        } else {
            (lo - 1.0, hi + 1.0)
        };
        let x = Axis {
            lo,
            hi,
            log: false,
            whole: true,
        };

        let loss_values = curves.iter().flat_map(Curve::values).map(|(_, v)| v);
        let y = Axis::fit(loss_values, !negative);
        let y2 = Axis::fit(rate.values().map(|(_, v)| v), true);
        Plot {
            loss: loss_label(info.loss),
            curves,
            rate,
            marks,
            x,
            y,
            y2,
            empty: epochs.is_empty(),
        }
    }

    /// The legend's corner: the one whose box (about a third of the frame each way) covers
    /// the fewest points of the curves.
    fn legend_corner(&self) -> SeriesLabelPosition {
        let fx = |x: f64| self.x.fraction(x);
        let mut pts: Vec<(f64, f64)> = Vec::new();
        for c in &self.curves {
            pts.extend(c.values().map(|(x, v)| (fx(x), self.y.fraction(v))));
        }
        pts.extend(
            self.rate
                .values()
                .map(|(x, v)| (fx(x), self.y2.fraction(v))),
        );
        let count = |right: bool, top: bool| {
            pts.iter()
                .filter(|(x, y)| {
                    (if right { *x > 0.6 } else { *x < 0.4 })
                        && (if top { *y > 0.6 } else { *y < 0.4 })
                })
                .count()
        };
        [
            (count(true, true), SeriesLabelPosition::UpperRight),
            (count(false, true), SeriesLabelPosition::UpperLeft),
            (count(true, false), SeriesLabelPosition::LowerRight),
            (count(false, false), SeriesLabelPosition::LowerLeft),
        ]
        .into_iter()
        .min_by_key(|(n, _)| *n)
        .map_or(SeriesLabelPosition::UpperRight, |(_, p)| p)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Res<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let skipped: Vec<String> = self
            .curves
            .iter()
            .chain([&self.rate])
            .filter(|c| c.skipped > 0)
            .map(|c| format!("{} {}", c.skipped, c.name.trim_end_matches(" (right axis)")))
            .collect();
        let (main, note) = if skipped.is_empty() {
            (root.clone(), None)
        } else {
            let (m, n) = root.split_vertically(SIZE.1 - 22);
            (m, Some(n))
        };
        let scale = if self.y.log {
            "log scale"
        } else {
            "linear scale"
        };
        let mut chart = ChartBuilder::on(&main)
            .caption(
                format!("Training curves: {}", self.loss),
                ("sans-serif", 24),
            )
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .right_y_label_area_size(75)
            .build_cartesian_2d(self.x.clone(), self.y.clone())?
            .set_secondary_coord(self.x.clone(), self.y2.clone());
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(format!("{} ({scale})", self.loss))
            // No numbers on the axes of an empty plot: they would describe nothing.
            .x_labels(if self.empty { 0 } else { 10 })
            .y_labels(if self.empty { 0 } else { 10 })
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(205, 205, 205))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("learning rate (log scale)")
            .y_labels(if self.empty { 0 } else { 10 })
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()?;

        // The frame: the plotting area's border (the axes draw only its left, bottom and right).
        let (xr, yr) = (self.x.range(), self.y.range());
        chart.draw_series(std::iter::once(Rectangle::new(
            [(xr.start, yr.end), (xr.end, yr.start)],
            BLACK.stroke_width(1),
        )))?;

        // The marks first, under the curves; their legend entries come after the curves'.
        for m in &self.marks {
            for &e in &m.epochs {
                chart.draw_series(DashedLineSeries::new(
                    [(e, yr.start), (e, yr.end)],
                    6,
                    4,
                    m.color.stroke_width(1),
                ))?;
            }
        }
        for c in &self.curves {
            if !c.is_drawn() {
                continue;
            }
            let style = c.color.stroke_width(2);
            let segments = c.segments();
            chart
                .draw_series(
                    segments
                        .iter()
                        .filter(|s| s.len() > 1)
                        .map(|s| PathElement::new(s.clone(), style)),
                )?
                .label(c.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            // A point alone between gaps (or a single epoch) as a dot.
            chart.draw_series(
                segments
                    .iter()
                    .filter(|s| s.len() == 1)
                    .map(|s| Circle::new(s[0], 3, style.filled())),
            )?;
        }
        if self.rate.is_drawn() {
            // Drawn in the primary coordinates (the secondary axis only labels them), so the
            // rate's points land on the same pixels as the losses' (plotters' secondary
            // mapping can differ by a pixel at the right edge).
            let style = self.rate.color.stroke_width(1);
            let to_primary = |(x, v): (f64, f64)| (x, self.y.at_fraction(self.y2.fraction(v)));
            let segments: Vec<Vec<(f64, f64)>> = self
                .rate
                .segments()
                .into_iter()
                .map(|s| s.into_iter().map(to_primary).collect())
                .collect();
            chart
                .draw_series(
                    segments
                        .iter()
                        .filter(|s| s.len() > 1)
                        .map(|s| PathElement::new(s.clone(), style)),
                )?
                .label(self.rate.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            chart.draw_series(
                segments
                    .iter()
                    .filter(|s| s.len() == 1)
                    .map(|s| Circle::new(s[0], 3, style.filled())),
            )?;
        }
        for m in &self.marks {
            let style = m.color.stroke_width(1);
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(m.name.clone())
                .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 5, 3, style));
        }
        if self.empty {
            let middle = (
                (self.x.lo + self.x.hi) / 2.0,
                if self.y.log {
                    (self.y.lo * self.y.hi).sqrt()
                } else {
                    (self.y.lo + self.y.hi) / 2.0
                },
            );
            let centred = plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            );
            chart.draw_series(std::iter::once(Text::new(
                "no epochs recorded",
                middle,
                ("sans-serif", 22).into_font().color(&BLACK).pos(centred),
            )))?;
        } else {
            chart
                .configure_series_labels()
                .position(self.legend_corner())
                .margin(8)
                .legend_area_size(26)
                .label_font(("sans-serif", 16))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(120, 120, 120))
                .draw()?;
        }
        if let Some(note) = note {
            note.draw(&Text::new(
                format!(
                    "not drawn (zero, negative or not finite): {}",
                    skipped.join(", ")
                ),
                (12, 2),
                ("sans-serif", 16).into_font().color(&RGBColor(90, 90, 90)),
            ))?;
        }
        Ok(())
    }
}

/// The smallest and largest of some values.
fn min_max(v: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    v.fold(None, |acc, x| match acc {
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    })
}

/// A value axis, logarithmic or linear, with round ticks that plotters' own log axis does not
/// give on a range narrower than a decade.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Ticks at whole numbers only (the epoch axis).
    whole: bool,
}

impl Axis {
    /// The axis over some values, with a little room at both ends (values > 0 on a log axis).
    fn fit(values: impl Iterator<Item = f64>, log: bool) -> Self {
        let Some((lo, hi)) = min_max(values) else {
            return Axis {
                lo: if log { 0.1 } else { 0.0 },
                hi: 1.0,
                log,
                whole: false,
            };
        };
        if log {
            let (a, b) = (lo.log10(), hi.log10());
            let pad = if b - a < 1e-9 { 0.2 } else { (b - a) * 0.06 };
            Axis {
                lo: 10f64.powf(a - pad),
                hi: 10f64.powf(b + pad),
                log,
                whole: false,
            }
        } else {
            let pad = if hi - lo < 1e-12 * hi.abs().max(1.0) {
                0.1 * hi.abs().max(1.0)
            } else {
                (hi - lo) * 0.06
            };
            Axis {
                lo: lo - pad,
                hi: hi + pad,
                log,
                whole: false,
            }
        }
    }

    /// Where `v` lies between the ends: 0 at `lo`, 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The value at `f` between the ends (the inverse of [`Axis::fraction`]).
    fn at_fraction(&self, f: f64) -> f64 {
        if self.log {
            10f64.powf(self.lo.log10() + f * (self.hi.log10() - self.lo.log10()))
        } else {
            self.lo + f * (self.hi - self.lo)
        }
    }

    /// Round ticks inside the axis, at most `max` of them (at least 2 where the range allows).
    fn ticks(&self, max: usize) -> Vec<f64> {
        let max = max.max(2);
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let sets: [(&[f64], usize); 4] = [
                (&[1.0], 3),
                (&[1.0, 2.0, 5.0], 3),
                (&[1.0, 2.0, 3.0, 5.0, 7.0], 4),
                (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 3),
            ];
            for (mantissas, enough) in sets {
                let mut t = Vec::new();
                for k in a..=b {
                    for m in mantissas {
                        let v = m * 10f64.powi(k);
                        if v >= self.lo && v <= self.hi {
                            t.push(v);
                        }
                    }
                }
                if t.len() > max {
                    // Many decades: every n-th decade.
                    let n = t.len().div_ceil(max);
                    return t.into_iter().step_by(n).collect();
                }
                if t.len() >= enough {
                    return t;
                }
            }
        }
        let mut t = linear_ticks(self.lo, self.hi, max.min(7), self.whole);
        if self.whole {
            // Epochs count from 1: no tick at 0 in the room left before the first.
            t.retain(|v| *v >= 1.0);
        }
        t
    }
}

/// Round (1, 2, 5 × 10^k) linear ticks inside `[lo, hi]`, about `n` of them (`whole`: steps
/// of at least 1).
fn linear_ticks(lo: f64, hi: f64, n: usize, whole: bool) -> Vec<f64> {
    let raw = (hi - lo) / n as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = if whole { step.max(1.0) } else { step };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick label: up to six significant digits, trailing zeros cut, exponent form outside
/// `[0.001, 100000)` (`2e-5`); always a number that parses back.
fn tick_label(v: f64) -> String {
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        let digits = (5 - a.log10().floor() as i32).max(0) as usize;
        trim(&format!("{v:.digits$}"))
    } else {
        let s = format!("{v:.5e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{e}", trim(m))
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = self.fraction(*value);
        (f64::from(limit.0) + f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            return Vec::new();
        }
        let major = self.ticks(hint.max_num_points().min(10));
        if self.log && matches!(hint.weight(), KeyPointWeight::Any) {
            // Light grid lines: every 1..9 × 10^k, if they fit.
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let minor: Vec<f64> = (a..=b)
                .flat_map(|k| (1..10).map(move |m| f64::from(m) * 10f64.powi(k)))
                .filter(|v| *v >= self.lo && *v <= self.hi)
                .collect();
            if minor.len() <= hint.max_num_points() && minor.len() > major.len() {
                return minor;
            }
        }
        major
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        tick_label(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_parse_back() {
        for v in [0.35, 2e-5, 1250.0, 1.0, 0.001, 3e7, -0.5, 0.1 + 0.2] {
            let s = tick_label(v);
            let back: f64 = s.parse().unwrap();
            assert!((back - v).abs() <= 1e-5 * v.abs(), "{v} → {s}");
        }
        assert_eq!(tick_label(2.0 * 10f64.powi(-5)), "2e-5");
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
    }

    #[test]
    fn a_narrow_log_range_still_has_ticks() {
        // A softmax run's loss often stays within one decade (0.3 … 0.9).
        let axis = Axis::fit([0.31, 0.88].into_iter(), true);
        let t = axis.ticks(10);
        assert!(t.len() >= 3, "{t:?}");
        assert!(t.iter().all(|v| *v >= axis.lo && *v <= axis.hi));
        // Within a factor of 1.1: linear ticks.
        let axis = Axis::fit([0.50, 0.52].into_iter(), true);
        assert!(axis.ticks(10).len() >= 2, "{:?}", axis.ticks(10));
    }

    #[test]
    fn many_decades_are_thinned() {
        let axis = Axis::fit([1e-12, 1e6].into_iter(), true);
        let t = axis.ticks(6);
        assert!(t.len() >= 2 && t.len() <= 6, "{t:?}");
    }
}
