//! `--plot`: the training curves as an SVG file.
//!
//! (Skeleton: still the hand-written SVG; `plotters` comes next.)

use crate::Res;
use npoa::control::{Event, EventKind};
use npoa::train::Epoch;
use std::fmt::Write as _;
use std::path::Path;

/// What the plot says beside the curves.
#[derive(Debug, Clone, Copy)]
pub struct PlotInfo<'a> {
    /// The loss's name (`squared`, `logistic`, `softmax` …), for the axis label.
    pub loss: &'a str,
    /// Whether the epochs carry a validation metric worth drawing.
    pub validation: bool,
}

/// Writes the plot of a run to `path`.
pub fn write(path: &Path, epochs: &[Epoch], events: &[Event], info: &PlotInfo) -> Res<()> {
    std::fs::write(path, plot_svg(epochs, events, info.validation))
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Training and validation loss per epoch on a log scale, the rate on a second (log) axis,
/// and the controller's rate changes, rollbacks and stop as vertical marks.
fn plot_svg(epochs: &[Epoch], events: &[Event], validation: bool) -> String {
    let (w, ht, l, r, t, bm) = (800.0f64, 450.0f64, 70.0, 70.0, 30.0, 50.0);
    let recs: &[Epoch] = epochs;
    let n = recs.len().max(1) as f64;
    let pos = |v: f32| v.is_finite() && v > 0.0;
    let logs = |f: &dyn Fn(&Epoch) -> f32| {
        recs.iter()
            .map(f)
            .filter(|v| pos(*v))
            .map(|v| f64::from(v).log10())
            .collect::<Vec<_>>()
    };
    let range = |v: &[f64]| {
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi.is_finite() {
            if hi - lo < 1e-9 {
                (lo - 0.5, hi + 0.5)
            } else {
                (lo, hi)
            }
        } else {
            (0.0, 1.0)
        }
    };
    let mut lv = logs(&|e| e.train_loss);
    lv.extend(logs(&|e| e.metric));
    let (ylo, yhi) = range(&lv);
    let (rlo, rhi) = range(&logs(&|e| e.learning_rate));
    let x = |epoch: u32| l + (f64::from(epoch) - 1.0) / (n - 1.0).max(1.0) * (w - l - r);
    let y = |v: f64, lo: f64, hi: f64| t + (hi - v) / (hi - lo) * (ht - t - bm);
    let path = |f: &dyn Fn(&Epoch) -> f32, lo: f64, hi: f64| {
        let mut p = String::new();
        for e in recs.iter().filter(|e| pos(f(e))) {
            let _ = write!(
                p,
                "{}{:.1},{:.1} ",
                if p.is_empty() { "M" } else { "L" },
                x(e.epoch),
                y(f64::from(f(e)).log10(), lo, hi)
            );
        }
        p
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        w - l - r,
        ht - t - bm
    );
    // Decades on the loss axis, the rate axis's ends.
    for dec in (ylo.floor() as i32)..=(yhi.ceil() as i32) {
        let v = f64::from(dec);
        if v < ylo || v > yhi {
            continue;
        }
        let yy = y(v, ylo, yhi);
        let _ = writeln!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">1e{dec}</text>"##,
            w - r,
            l - 5.0,
            yy + 4.0
        );
    }
    for (v, anchor) in [(rlo, rlo), (rhi, rhi)] {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" fill="green">{:.2e}</text>"#,
            w - r + 5.0,
            y(anchor, rlo, rhi) + 4.0,
            10f64.powf(v)
        );
    }
    for e in events {
        let (color, label) = match e.kind {
            EventKind::RateChanged { .. } => ("orange", "rate"),
            EventKind::RolledBack { .. } => ("red", "rollback"),
            EventKind::Stopped(_) => ("black", "stop"),
            EventKind::Restarted { .. } => ("green", "restart"),
            EventKind::Improved { .. } => continue,
        };
        let xx = x(e.epoch);
        let _ = writeln!(
            s,
            r#"<line x1="{xx:.1}" x2="{xx:.1}" y1="{t}" y2="{}" stroke="{color}" stroke-dasharray="4,3"><title>epoch {}: {label}</title></line>"#,
            ht - bm,
            e.epoch
        );
    }
    let _ = writeln!(
        s,
        r#"<path d="{}" fill="none" stroke="steelblue" stroke-width="1.5"/>"#,
        path(&|e| e.train_loss, ylo, yhi)
    );
    if validation {
        let _ = writeln!(
            s,
            r#"<path d="{}" fill="none" stroke="crimson" stroke-width="1.5"/>"#,
            path(&|e| e.metric, ylo, yhi)
        );
    }
    let _ = writeln!(
        s,
        r#"<path d="{}" fill="none" stroke="green" stroke-width="1" stroke-dasharray="2,2"/>"#,
        path(&|e| e.learning_rate, rlo, rhi)
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">epoch (1 … {})</text>"#,
        (l + w - r) / 2.0,
        ht - 15.0,
        recs.len()
    );
    let legend = if validation {
        "training loss (blue), validation loss (red), learning rate (green, right axis); dashed lines: rate changes (orange), rollbacks (red), stop (black)"
    } else {
        "training loss (blue), training metric (red), learning rate (green, right axis)"
    };
    let _ = writeln!(s, r#"<text x="{l}" y="18">{legend}</text>"#);
    let _ = writeln!(s, "</svg>");
    s
}
