//! Runs one of npoa's drift detectors over a one-column CSV of values and prints the indices
//! (from 0) of its `Drift` and `Warning` signals; `peers/river_drift.py` runs it beside River.
//!
//! ```sh
//! cargo run --release --example drift_detect -- values.csv adwin delta=0.002 clock=32
//! cargo run --release --example drift_detect -- errors.csv ddm warm_start=30 --time 20
//! ```
//!
//! Detectors and their parameters (River's names and defaults):
//! * `adwin`: `delta`, `clock`, `max_buckets`, `min_window_length`, `grace_period`,
//!   `warning_delta` (npoa's warning zone, off by default);
//! * `page_hinkley`: `min_instances`, `delta`, `threshold`, `alpha`, `mode` (`both`, `up`,
//!   `down`);
//! * `ddm`: `warm_start`, `warning_threshold`, `drift_threshold`;
//! * `eddm`: `warm_start`, `alpha`, `beta`.
//!
//! Output: one line `drift I` or `warning I` per signal (a warning only where it starts,
//! that is where the previous value's signal was not a warning), then `values N`,
//! `drifts D`, `warnings W` and `signals_fnv H`: the 64-bit FNV-1a hash (hexadecimal) of
//! the whole sequence of signals, one byte per value (`0` stable, `1` warning, `2` drift),
//! so that two runs can be compared value by value. With `--time R` it also runs the stream `R` more times on fresh
//! detectors and prints `ns_per_update X` (the mean over those runs). A header line that does
//! not parse as a number is skipped; an empty line or a value that does not parse is an error.

use npoa::control::drift::{
    AdwinConfig, AnyDetector, DdmConfig, Detector, DetectorConfig, EddmConfig, PageHinkleyConfig,
    PhMode, Signal,
};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("`{key}={v}`: not a valid value"))
}

fn config(name: &str, params: &[(String, String)]) -> Result<DetectorConfig, String> {
    let unknown = |k: &str| Err(format!("`{k}` is not a parameter of {name}"));
    match name {
        "adwin" => {
            let mut c = AdwinConfig::default();
            for (k, v) in params {
                match k.as_str() {
                    "delta" => c.delta = parse(k, v)?,
                    "clock" => c.clock = parse(k, v)?,
                    "max_buckets" => c.max_buckets = parse(k, v)?,
                    "min_window_length" => c.min_window_length = parse(k, v)?,
                    "grace_period" => c.grace_period = parse(k, v)?,
                    "warning_delta" => c.warning_delta = Some(parse(k, v)?),
                    _ => return unknown(k),
                }
            }
            Ok(DetectorConfig::Adwin(c))
        }
        "page_hinkley" => {
            let mut c = PageHinkleyConfig::default();
            for (k, v) in params {
                match k.as_str() {
                    "min_instances" => c.min_instances = parse(k, v)?,
                    "delta" => c.delta = parse(k, v)?,
                    "threshold" => c.threshold = parse(k, v)?,
                    "alpha" => c.alpha = parse(k, v)?,
                    "mode" => {
                        c.mode = match v.as_str() {
                            "both" => PhMode::Both,
                            "up" => PhMode::Up,
                            "down" => PhMode::Down,
                            _ => return Err(format!("mode `{v}`: both, up or down")),
                        }
                    }
                    _ => return unknown(k),
                }
            }
            Ok(DetectorConfig::PageHinkley(c))
        }
        "ddm" => {
            let mut c = DdmConfig::default();
            for (k, v) in params {
                match k.as_str() {
                    "warm_start" => c.warm_start = parse(k, v)?,
                    "warning_threshold" => c.warning_threshold = parse(k, v)?,
                    "drift_threshold" => c.drift_threshold = parse(k, v)?,
                    _ => return unknown(k),
                }
            }
            Ok(DetectorConfig::Ddm(c))
        }
        "eddm" => {
            let mut c = EddmConfig::default();
            for (k, v) in params {
                match k.as_str() {
                    "warm_start" => c.warm_start = parse(k, v)?,
                    "alpha" => c.alpha = parse(k, v)?,
                    "beta" => c.beta = parse(k, v)?,
                    _ => return unknown(k),
                }
            }
            Ok(DetectorConfig::Eddm(c))
        }
        _ => Err(format!(
            "unknown detector `{name}` (adwin, page_hinkley, ddm, eddm)"
        )),
    }
}

fn read_values(path: &str) -> Result<Vec<f32>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let field = line.split(',').next().unwrap_or("").trim();
        match field.parse::<f32>() {
            Ok(v) => values.push(v),
            Err(_) if i == 0 => {} // a header
            Err(_) => return Err(format!("{path}:{}: `{field}` is not a number", i + 1)),
        }
    }
    Ok(values)
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: drift_detect VALUES.csv DETECTOR [key=value ...] [--time R]";
    let (Some(path), Some(name)) = (args.first(), args.get(1)) else {
        return Err(usage.into());
    };
    let mut params = Vec::new();
    let mut repeats = 0usize;
    let mut rest = args.iter().skip(2);
    while let Some(a) = rest.next() {
        if a == "--time" {
            let r = rest.next().ok_or("--time needs a count")?;
            repeats = parse("--time", r)?;
        } else if let Some((k, v)) = a.split_once('=') {
            params.push((k.to_string(), v.to_string()));
        } else {
            return Err(format!("`{a}`: expected key=value\n{usage}"));
        }
    }
    let cfg = config(name, &params)?;
    let values = read_values(path)?;
    let mut det = AnyDetector::new(cfg).map_err(|e| e.to_string())?;
    let (mut drifts, mut warnings) = (0usize, 0usize);
    let mut out = String::new();
    let mut previous = Signal::Stable;
    let mut fnv: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &v) in values.iter().enumerate() {
        let s = det.update(v);
        let code = match s {
            Signal::Stable => 0u8,
            Signal::Warning => 1,
            Signal::Drift => 2,
        };
        fnv = (fnv ^ u64::from(code)).wrapping_mul(0x0000_0100_0000_01b3);
        match s {
            Signal::Drift => {
                drifts += 1;
                out.push_str(&format!("drift {i}\n"));
            }
            Signal::Warning if previous != Signal::Warning => {
                warnings += 1;
                out.push_str(&format!("warning {i}\n"));
            }
            _ => {}
        }
        previous = s;
    }
    print!("{out}");
    println!("values {}", values.len());
    println!("drifts {drifts}");
    println!("warnings {warnings}");
    println!("signals_fnv {fnv:016x}");
    if repeats > 0 && !values.is_empty() {
        let start = Instant::now();
        for _ in 0..repeats {
            let mut d = AnyDetector::new(cfg).map_err(|e| e.to_string())?;
            for &v in &values {
                black_box(d.update(black_box(v)));
            }
            black_box(&d);
        }
        let ns = start.elapsed().as_nanos() as f64 / (repeats * values.len()) as f64;
        println!("ns_per_update {ns:.2}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drift_detect: {e}");
            ExitCode::FAILURE
        }
    }
}
