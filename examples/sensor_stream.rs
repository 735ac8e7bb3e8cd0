//! A sensor stream learned on the device: recursive least squares (no rate to tune) over a
//! fixed window, a statistical drift detector, and a warm restart when the sensor is swapped
//! halfway.
//!
//! ```sh
//! cargo run --release --example sensor_stream                 # RLS + ADWIN (default)
//! cargo run --release --example sensor_stream -- --gradient   # SGD + ADWIN instead of RLS
//! cargo run --release --example sensor_stream -- --heuristic  # SGD + the held-out heuristic
//! cargo run --release --example sensor_stream -- --no-drift   # without: the model stays stale
//! cargo run --release --example sensor_stream -- --plot       # the rolling error, in the terminal
//! cargo run --release --example sensor_stream -- --plot error.svg
//! ```
//!
//! The stream (`examples/shared/sensor.rs`): `y = w·x + b + noise` over 4 channels, with new `w`
//! and `b` from sample `len/2` on. Each sample is first predicted (its squared error is the
//! prequential error: the model has not seen it), then pushed into the learner's 64-sample
//! window (every 5th into the 16-sample held-out window): with RLS the push is the update, with
//! SGD one update runs per sample. ADWIN (`clock` 4, the learner's default detector) watches
//! whether each sample's loss exceeds 4× its running level; a confirmed rise restarts the
//! learner (RLS resets `P`). The heuristic instead restarts when the held-out error stays above
//! 3× its running level for 3 rounds while the controller has frozen the learner.

#[path = "shared/sensor.rs"]
mod sensor;

use npoa::control::EventKind;
use npoa::online::{Drift, OnlineConfig};
use std::fmt::Write as _;

/// Online learning of a drifting sensor, on a fixed window.
struct Args {
    /// Samples in the stream (the sensor changes at half): `--samples N`, default 4000.
    samples: usize,
    /// The generator's seed: `--seed N`, default 7.
    seed: u64,
    /// Turn drift handling off: `--no-drift`.
    no_drift: bool,
    /// SGD instead of RLS: `--gradient`.
    gradient: bool,
    /// SGD with the held-out heuristic instead of a detector: `--heuristic`.
    heuristic: bool,
    /// Draw the rolling error: `--plot` in the terminal, `--plot FILE` as an SVG file.
    plot: Option<String>,
}

impl Args {
    /// Reads the options by hand (this example keeps the crate's dev-dependencies small).
    fn parse() -> Result<Self, String> {
        let mut args = Args {
            samples: 4000,
            seed: 7,
            no_drift: false,
            gradient: false,
            heuristic: false,
            plot: None,
        };
        let mut it = std::env::args().skip(1).peekable();
        while let Some(a) = it.next() {
            let mut number = |name: &str| -> Result<u64, String> {
                let v = it.next().ok_or(format!("{name} needs a value"))?;
                v.parse().map_err(|e| format!("{name} {v}: {e}"))
            };
            match a.as_str() {
                "--samples" => {
                    let n = number("--samples")?;
                    args.samples = usize::try_from(n).map_err(|e| format!("--samples {n}: {e}"))?;
                }
                "--seed" => args.seed = number("--seed")?,
                "--no-drift" => args.no_drift = true,
                "--gradient" => args.gradient = true,
                "--heuristic" => args.heuristic = true,
                "--plot" => {
                    let file = it.next_if(|v| !v.starts_with("--"));
                    args.plot = Some(file.unwrap_or_else(|| "-".into()));
                }
                "-h" | "--help" => {
                    return Err("usage: sensor_stream [--samples N] [--seed N] [--gradient | --heuristic] [--no-drift] [--plot [FILE.svg]]".into());
                }
                other => return Err(format!("unknown option {other} (see --help)")),
            }
        }
        Ok(args)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    if args.samples < 2 * sensor::ROLLING {
        return Err(format!("--samples must be at least {}", 2 * sensor::ROLLING).into());
    }
    let samples = sensor::stream(args.samples, args.seed);
    let detector = (!args.no_drift).then(sensor::default_detector).flatten();
    let (config, what) = if args.heuristic {
        let drift = (!args.no_drift).then(Drift::default);
        (sensor::config(drift), "SGD, held-out heuristic")
    } else if args.gradient {
        (
            OnlineConfig {
                detector,
                ..sensor::config(None)
            },
            "SGD, ADWIN",
        )
    } else {
        (sensor::rls_config(detector), "RLS, ADWIN")
    };
    let trace = sensor::run_config(&samples, config);
    let half = args.samples / 2;

    println!(
        "{} samples, sensor swapped at {half}; {what}; drift handling {}",
        args.samples,
        if args.no_drift { "off" } else { "on" }
    );
    println!("\nevents (sample: what):");
    for (i, e) in &trace.events {
        let what = match e.kind {
            EventKind::RateChanged { from, to, cause } => {
                format!("rate {from:.3e} -> {to:.3e} ({cause:?})")
            }
            EventKind::RolledBack { cause, retry } => format!("rolled back ({cause:?}, #{retry})"),
            EventKind::Stopped(c) => format!("stopped ({c:?})"),
            EventKind::Restarted {
                metric,
                previous_best,
            } => format!("WARM RESTART: error {metric:.4} vs best held-out {previous_best:.4}"),
            EventKind::Improved { metric } => format!("improved {metric:.4}"),
        };
        println!("  {i:>6}: round {:>4}: {what}", e.epoch);
    }
    println!(
        "\nrolling error (mean squared error of the last {} predictions):",
        sensor::ROLLING
    );
    let step = (args.samples / 20).max(1);
    for i in (step - 1..args.samples).step_by(step) {
        println!("  {i:>6}: {:.5}", trace.rolling[i]);
    }
    let bound = 0.01;
    match sensor::recovered(&trace, half, bound) {
        Some(i) => println!(
            "\nafter the swap the rolling error is below {bound} again at sample {i} ({} samples later)",
            i - half
        ),
        None => println!("\nafter the swap the rolling error never gets below {bound} again"),
    }
    match sensor::recovery(&trace, half, bound) {
        Some(n) => println!(
            "the error of the last {} predictions is below {bound} again {n} samples after the swap",
            sensor::SHORT
        ),
        None => println!(
            "the error of the last {} predictions stays above {bound}",
            sensor::SHORT
        ),
    }
    let m = trace.learner.model();
    println!(
        "final model: w = {:?}, b = {:.3} (sensor after the swap: w = {:?}, b = {})",
        m.weights(),
        m.bias(),
        sensor::AFTER.0,
        sensor::AFTER.1
    );
    println!(
        "learner: {} updates, {} rounds, {} warm restarts, stopped: {:?}; {} bytes of state",
        trace.learner.updates(),
        trace.learner.rounds(),
        trace.learner.restarts(),
        trace.learner.stopped(),
        std::mem::size_of::<sensor::Learner>()
    );
    match args.plot.as_deref() {
        None => {}
        Some("-") => print!("\n{}", ascii_plot(&trace.rolling, half)),
        Some(path) => {
            std::fs::write(path, svg_plot(&trace, half))?;
            println!("wrote {path}");
        }
    }
    Ok(())
}

/// log10 of the error, clamped to the plot's range.
fn level(e: f32) -> f32 {
    e.max(1e-4).log10()
}

/// A 72 × 16 character chart of the rolling error (log scale), the swap marked by `|`.
fn ascii_plot(rolling: &[f32], half: usize) -> String {
    const W: usize = 72;
    const H: usize = 16;
    let (lo, hi) = (
        -4.0f32,
        level(rolling.iter().fold(1e-4f32, |m, &v| m.max(v))).ceil(),
    );
    let mut grid = vec![[' '; W]; H];
    let col = |i: usize| i * W / rolling.len();
    for line in grid.iter_mut() {
        line[col(half).min(W - 1)] = '|';
    }
    // The row of each column: the largest rolling error among the samples it covers.
    let rows = (0..W).map(|c| {
        let from = c * rolling.len() / W;
        let to = ((c + 1) * rolling.len() / W).max(from + 1);
        let v = rolling[from..to].iter().fold(0.0f32, |m, &e| m.max(e));
        (((hi - level(v)) / (hi - lo) * (H - 1) as f32).round() as usize).min(H - 1)
    });
    for (c, r) in rows.enumerate() {
        grid[r][c] = '*';
    }
    let mut s = String::new();
    for (r, line) in grid.iter().enumerate() {
        let label = hi - (hi - lo) * r as f32 / (H - 1) as f32;
        let _ = writeln!(
            s,
            "{:>8.1e} {}",
            10f32.powf(label),
            line.iter().collect::<String>()
        );
    }
    let _ = writeln!(
        s,
        "         sample 0 … {} (| = sensor swapped); rolling MSE, log scale",
        rolling.len()
    );
    s
}

/// An SVG line chart of the rolling error (log scale), with the swap and the events marked.
fn svg_plot(trace: &sensor::Trace, half: usize) -> String {
    let (w, h, l, t) = (800.0f32, 360.0f32, 60.0f32, 20.0f32);
    let (pw, ph) = (w - l - 20.0, h - t - 40.0);
    let n = trace.rolling.len().max(2) as f32;
    let hi = level(trace.rolling.iter().fold(1e-4f32, |m, &v| m.max(v))).ceil();
    let lo = -4.0f32;
    let x = |i: usize| l + pw * i as f32 / (n - 1.0);
    let y = |e: f32| t + ph * (hi - level(e)) / (hi - lo);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
"#
    );
    let mut dec = lo as i32;
    while dec as f32 <= hi {
        let yy = y(10f32.powi(dec));
        let _ = writeln!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">1e{dec}</text>"##,
            l + pw,
            l - 6.0,
            yy + 4.0
        );
        dec += 1;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{0:.1}" x2="{0:.1}" y1="{t}" y2="{1}" stroke="#888" stroke-dasharray="4 3"/><text x="{0:.1}" y="{2}" text-anchor="middle">sensor swapped</text>"##,
        x(half),
        t + ph,
        t + ph + 16.0
    );
    for (i, e) in &trace.events {
        let colour = match e.kind {
            EventKind::Restarted { .. } => "green",
            EventKind::RolledBack { .. } => "red",
            EventKind::Stopped(_) => "black",
            _ => "orange",
        };
        let _ = writeln!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
            x(*i),
            t + ph - 4.0
        );
    }
    let pts: Vec<String> = trace
        .rolling
        .iter()
        .enumerate()
        .map(|(i, &e)| format!("{:.1},{:.1}", x(i), y(e)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{}"/>"##,
        pts.join(" ")
    );
    let _ = writeln!(
        s,
        r#"<text x="{l}" y="{}">rolling MSE of the last {} predictions (log); dots: rate change (orange), rollback (red), stop (black), warm restart (green)</text>"#,
        h - 6.0,
        sensor::ROLLING
    );
    s.push_str("</svg>\n");
    s
}
