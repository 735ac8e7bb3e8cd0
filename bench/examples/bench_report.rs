//! Reads criterion's saved results and writes the benchmark report, or compares two baselines.
//!
//! `scripts/bench.sh` runs the suite and calls this; it can also be run on its own:
//!
//! ```sh
//! # A markdown report of baseline `base` with default flags (target/) and native (target-native/):
//! cargo run --release -p npoa-bench --example bench_report -- report --baseline base \
//!     --dir default=target/criterion --dir native=target-native/criterion > report.md
//! # Fails (exit code 1) if any benchmark of `new` is slower than in `base` beyond 20 %:
//! cargo run --release -p npoa-bench --example bench_report -- compare --dir target/criterion \
//!     --baseline base --current new --threshold 20
//! ```
//!
//! Criterion keeps each benchmark's results in `<dir>/<group>/<function>/<value>/<baseline>/`
//! (`benchmark.json`: ids and throughput; `estimates.json`: mean and median with 95 %
//! confidence intervals). The report uses the **median** time per iteration.
//!
//! **Report.** One table per family (the group name up to its first `/`: `fused`, `forward`,
//! `fused_logistic`, `update`, `epoch`, `peers`, `online` …), one row per group, parameter and
//! flag set, one column per function (`scalar`, `simd`, `two_pass`, `stream`, `faer` …).
//! Throughput is in GB/s (10⁹ bytes of `x` per second) or M elements/s as the benchmark declares
//! it, else the time per iteration. Ratio columns: `simd/scalar`, `simd/two_pass`, and the
//! fraction of the memory-stream baseline (`stream` of the `fused` groups over the same number
//! of bytes: a plain read of `x`); for the peers, npoa's SIMD kernel over each peer.
//!
//! **Compare.** Each benchmark's ratio of median times (current / baseline) is first divided
//! by the **machine factor**, the median of all the ratios of the comparison (1 with fewer
//! than 10 benchmarks): a machine that is busier or slower overall than when the baseline was
//! saved shifts every ratio alike, a regression moves one group. A benchmark regresses when
//! its ratio so corrected exceeds `1 + threshold` **and** the two medians' 95 % confidence
//! intervals (the current one also divided by the factor) do not overlap. `scripts/bench.sh`
//! then re-runs the benchmarks that regressed, and calls a regression only if it is confirmed
//! every time (`--only`, `--factor`: a transient burst of load does not hit the same
//! benchmarks twice).
//! Benchmarks present in only one of the two baselines are listed (new ones by name, missing
//! ones counted), not judged.
//!
//! **Counts.** The instruction counts of `benches/per_sample.rs` (gungraun's `summary.json`
//! files, `--save-summary=json`): a markdown table of instructions per update (the total over
//! the N updates of the id's `_n<N>` suffix, divided by N; the unit is the function name's
//! `_per_<unit>` suffix), with the change against the baseline the run was compared with.
//! With `--baseline NAME` a benchmark regresses when its count grew by more than the threshold
//! (default 1 %: counts repeat exactly, run after run) or gungraun reported a regression of its
//! own limits; exit code 1 then. `scripts/bench-counts.sh` runs the bench and calls this.

use clap::{Parser, Subcommand};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Criterion results: markdown report, baseline comparison; instruction counts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the markdown report of one baseline to stdout.
    Report {
        /// `label=path` of a criterion directory (e.g. `default=target/criterion`); repeat for
        /// each flag set. A bare path is labelled `default`.
        #[arg(long = "dir", required = true)]
        dirs: Vec<String>,
        /// The saved baseline to report (`new` is criterion's latest unsaved run).
        #[arg(long, default_value = "new")]
        baseline: String,
        /// A line stating the machine and toolchain, printed under the title.
        #[arg(long)]
        machine: Option<String>,
        /// The README's selection: no title, only the families of [`SUMMARY`], and of the
        /// data sizes only 256 KiB (in L2) and 64 MiB (from memory).
        #[arg(long)]
        summary: bool,
    },
    /// Compares two baselines; exits with code 1 if a benchmark regressed.
    Compare {
        /// The criterion directory.
        #[arg(long, default_value = "target/criterion")]
        dir: PathBuf,
        /// The reference baseline.
        #[arg(long)]
        baseline: String,
        /// The baseline under test.
        #[arg(long, default_value = "new")]
        current: String,
        /// Slowdown in per cent beyond which a benchmark regresses.
        #[arg(long, default_value_t = 20.0)]
        threshold: f64,
        /// Judge only the benchmark ids listed in this file (one per line).
        #[arg(long)]
        only: Option<PathBuf>,
        /// The machine factor (else the median ratio current/baseline of this comparison).
        #[arg(long)]
        factor: Option<f64>,
        /// Write the ids that regressed to this file.
        #[arg(long)]
        regressed_out: Option<PathBuf>,
        /// Write the machine factor used to this file.
        #[arg(long)]
        factor_out: Option<PathBuf>,
    },
    /// Instructions per update from gungraun's summaries; with `--baseline`, exits with code 1
    /// if a count regressed.
    Counts {
        /// The directory searched for `summary.json` files (gungraun's output directory).
        #[arg(long, default_value = "target/gungraun")]
        dir: PathBuf,
        /// The saved baseline the run was compared with (`--baseline NAME` of the bench);
        /// without it, the change is against the previous run and nothing is judged.
        #[arg(long)]
        baseline: Option<String>,
        /// Growth in per cent of the instruction count beyond which a benchmark regresses.
        #[arg(long, default_value_t = 1.0)]
        threshold: f64,
        /// Only the counts, no comparison column (the table of BENCHMARKS.md).
        #[arg(long, conflicts_with = "baseline")]
        plain: bool,
    },
}

/// One benchmark's saved result.
#[derive(Clone, Debug)]
struct Bench {
    group: String,
    function: String,
    value: String,
    /// Bytes or elements per iteration, if declared.
    throughput: Option<(Unit, f64)>,
    /// Median time per iteration and its 95 % interval, in ns.
    median: f64,
    lower: f64,
    upper: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Bytes,
    Elements,
}

impl Bench {
    /// The benchmark's id, as criterion prints it.
    fn id(&self) -> String {
        if self.value.is_empty() {
            format!("{}/{}", self.group, self.function)
        } else {
            format!("{}/{}/{}", self.group, self.function, self.value)
        }
    }

    /// GB/s or M elements/s at the median, if a throughput is declared.
    fn rate(&self) -> Option<f64> {
        self.throughput.map(|(u, amount)| match u {
            Unit::Bytes => amount / self.median,
            Unit::Elements => amount / self.median * 1e3,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = match cli.command {
        Command::Report {
            dirs,
            baseline,
            machine,
            summary,
        } => report(&dirs, &baseline, machine.as_deref(), summary).map(|text| {
            print!("{text}");
            true
        }),
        Command::Compare {
            dir,
            baseline,
            current,
            threshold,
            only,
            factor,
            regressed_out,
            factor_out,
        } => only
            .map(|p| {
                fs::read_to_string(&p)
                    .map(|t| t.lines().map(str::to_string).collect::<BTreeSet<_>>())
                    .map_err(|e| format!("{}: {e}", p.display()))
            })
            .transpose()
            .and_then(|only| {
                compare(&CompareArgs {
                    dir: &dir,
                    baseline: &baseline,
                    current: &current,
                    threshold,
                    only,
                    factor,
                    regressed_out: regressed_out.as_deref(),
                    factor_out: factor_out.as_deref(),
                })
            }),
        Command::Counts {
            dir,
            baseline,
            threshold,
            plain,
        } => counts(&dir, baseline.as_deref(), threshold, plain).map(|(text, ok)| {
            print!("{text}");
            ok
        }),
    };
    match out {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("bench_report: {e}");
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading criterion's files
// ---------------------------------------------------------------------------------------------

/// Every benchmark under `dir` with results saved as `baseline`.
fn load(dir: &Path, baseline: &str) -> Result<Vec<Bench>, String> {
    let mut found = Vec::new();
    walk(dir, baseline, &mut found).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    found.sort_by_key(Bench::id);
    Ok(found)
}

fn walk(dir: &Path, baseline: &str, found: &mut Vec<Bench>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| e.to_string())?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_dir() || path.file_name().is_some_and(|n| n == "report") {
            continue;
        }
        // A directory named like the baseline is one only if it holds results (a baseline
        // may share its name with a group, a function or a parameter).
        if path.file_name().is_some_and(|n| n == baseline) && path.join("benchmark.json").is_file()
        {
            found.push(read_bench(&path)?);
        } else {
            walk(&path, baseline, found)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_bench(path: &Path) -> Result<Bench, String> {
    let meta = read_json(&path.join("benchmark.json"))?;
    let est = read_json(&path.join("estimates.json"))?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let num = |v: &Value, what: &str| {
        v.as_f64()
            .ok_or_else(|| format!("{}: no {what}", path.display()))
    };
    let throughput = match &meta["throughput"] {
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            let unit = match k.as_str() {
                "Bytes" | "BytesDecimal" => Unit::Bytes,
                "Elements" => Unit::Elements,
                _ => return None,
            };
            v.as_f64().map(|a| (unit, a))
        }),
        _ => None,
    };
    let m = &est["median"];
    Ok(Bench {
        group: text(&meta["group_id"]),
        function: text(&meta["function_id"]),
        value: text(&meta["value_str"]),
        throughput,
        median: num(&m["point_estimate"], "median")?,
        lower: num(&m["confidence_interval"]["lower_bound"], "lower bound")?,
        upper: num(&m["confidence_interval"]["upper_bound"], "upper bound")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Instruction counts (gungraun)
// ---------------------------------------------------------------------------------------------

/// One benchmark's count from a gungraun `summary.json`.
#[derive(Debug)]
struct Count {
    /// `function/id`.
    name: String,
    /// Updates in the benchmark's loop (the id's `_n<N>` suffix).
    n: u64,
    /// What one update is (the function name's `_per_<unit>` suffix).
    unit: String,
    /// Instructions of the whole loop.
    ir: u64,
    /// The same in the run compared with (a baseline or the previous run), if any.
    old: Option<u64>,
    /// The baseline compared with (`None`: the previous run).
    against: Option<String>,
    /// Regressions gungraun reported against its own limits.
    flagged: bool,
}

fn summaries(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            summaries(&path, found)?;
        } else if path.file_name().is_some_and(|n| n == "summary.json") {
            found.push(path);
        }
    }
    Ok(())
}

fn read_count(path: &Path) -> Result<Count, String> {
    let v = read_json(path)?;
    let bad = |what: &str| format!("{}: {what}", path.display());
    let function = v["function_name"]
        .as_str()
        .ok_or_else(|| bad("no function_name"))?;
    let id = v["id"].as_str().ok_or_else(|| bad("no id"))?;
    let n = id
        .rsplit_once("_n")
        .and_then(|(_, n)| n.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            bad(&format!(
                "the id `{id}` does not end in _n<N>, the loop's count"
            ))
        })?;
    let unit = function
        .rsplit_once("_per_")
        .map(|(_, u)| u.to_string())
        .ok_or_else(|| bad(&format!("`{function}` does not end in _per_<unit>")))?;
    let profile = v["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["tool"] == "Callgrind"))
        .ok_or_else(|| bad("no Callgrind profile"))?;
    let total = &profile["data"]["total"];
    let ir = &total["metrics"]["Ir"]["values"];
    Ok(Count {
        name: format!("{function}/{id}"),
        n,
        unit,
        ir: ir["new"]
            .as_u64()
            .ok_or_else(|| bad("no instruction count"))?,
        old: ir["old"].as_u64(),
        against: v["baselines"][1].as_str().map(str::to_string),
        flagged: total["regressions"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
    })
}

/// The table of instructions per update, and whether nothing regressed against `baseline`.
fn counts(
    dir: &Path,
    baseline: Option<&str>,
    threshold: f64,
    plain: bool,
) -> Result<(String, bool), String> {
    let mut paths = Vec::new();
    summaries(dir, &mut paths)?;
    let mut found = paths
        .iter()
        .map(|p| read_count(p))
        .collect::<Result<Vec<_>, _>>()?;
    if found.is_empty() {
        return Err(format!(
            "no summary.json under {} (run the bench with --save-summary=json)",
            dir.display()
        ));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let against = baseline.map_or("previous run".to_string(), |b| format!("baseline `{b}`"));
    let mut out = String::new();
    if plain {
        let _ = writeln!(out, "| benchmark | N | instructions | per update | unit |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        for c in &found {
            let per = c.ir as f64 / c.n as f64;
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {per:.1} | {} |",
                c.name, c.n, c.ir, c.unit
            );
        }
        return Ok((out, true));
    }
    let _ = writeln!(
        out,
        "| benchmark | N | instructions | per update | unit | {against} | change |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---:|");
    let mut regressed = Vec::new();
    let mut missing = Vec::new();
    for c in &found {
        let per = c.ir as f64 / c.n as f64;
        // Judged only against the baseline named (a run compared with another, or with none,
        // says nothing about it).
        let old = c
            .old
            .filter(|_| baseline.is_none() || c.against.as_deref() == baseline);
        let (base, change) = match old {
            Some(o) if o > 0 => {
                let pct = (c.ir as f64 / o as f64 - 1.0) * 100.0;
                let worse = baseline.is_some() && (pct > threshold || c.flagged);
                if worse {
                    regressed.push(c.name.clone());
                }
                (
                    format!("{:.1}", o as f64 / c.n as f64),
                    format!("{pct:+.2} %{}", if worse { " REGRESSED" } else { "" }),
                )
            }
            _ => {
                if baseline.is_some() {
                    missing.push(c.name.clone());
                }
                ("—".to_string(), "—".to_string())
            }
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {per:.1} | {} | {base} | {change} |",
            c.name, c.n, c.ir, c.unit
        );
    }
    if let Some(b) = baseline {
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "\nNot in baseline `{b}` (not judged): {}",
                missing.join(", ")
            );
        }
        if regressed.is_empty() {
            let _ = writeln!(
                out,
                "\nNo instruction count grew by more than {threshold} % against `{b}`."
            );
        } else {
            let _ = writeln!(
                out,
                "\nREGRESSED (instructions up by more than {threshold} % against `{b}`): {}",
                regressed.join(" ")
            );
        }
    }
    Ok((out, regressed.is_empty()))
}

// ---------------------------------------------------------------------------------------------
// Compare
// ---------------------------------------------------------------------------------------------

/// What `compare` is asked.
struct CompareArgs<'a> {
    dir: &'a Path,
    baseline: &'a str,
    current: &'a str,
    threshold: f64,
    /// Judge only these ids (a confirmation run).
    only: Option<BTreeSet<String>>,
    /// The machine factor to use (else the median ratio of this comparison).
    factor: Option<f64>,
    /// Where to write the ids that regressed, and the factor used.
    regressed_out: Option<&'a Path>,
    factor_out: Option<&'a Path>,
}

/// Benchmarks needed for the median ratio to stand for the machine (fewer: factor 1).
const MIN_FOR_FACTOR: usize = 10;

fn compare(args: &CompareArgs<'_>) -> Result<bool, String> {
    let (dir, baseline, current, threshold) =
        (args.dir, args.baseline, args.current, args.threshold);
    let base: BTreeMap<String, Bench> = load(dir, baseline)?
        .into_iter()
        .map(|b| (b.id(), b))
        .collect();
    let mut cur = load(dir, current)?;
    if let Some(only) = &args.only {
        cur.retain(|c| only.contains(&c.id()));
    }
    let run: BTreeSet<String> = cur.iter().map(Bench::id).collect();
    let not_run = base.keys().filter(|id| !run.contains(*id)).count();
    if base.is_empty() {
        return Err(format!(
            "no benchmark has a baseline `{baseline}` in {}",
            dir.display()
        ));
    }
    if cur.is_empty() {
        return Err(format!(
            "no benchmark has results `{current}` in {}",
            dir.display()
        ));
    }
    // The machine factor: how much slower this run is overall (the median ratio), so that a
    // busy or throttled machine does not make every benchmark a regression.
    let mut ratios: Vec<f64> = cur
        .iter()
        .filter_map(|c| base.get(&c.id()).map(|b| c.median / b.median))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let factor = match args.factor {
        Some(f) => f,
        None if ratios.len() >= MIN_FOR_FACTOR => ratios[ratios.len() / 2],
        None => 1.0,
    };
    if !(factor.is_finite() && factor > 0.0) {
        return Err(format!("bad machine factor {factor}"));
    }
    let limit = 1.0 + threshold / 100.0;
    let (mut regressed, mut improved, mut same, mut unmatched) = (vec![], vec![], 0usize, vec![]);
    let mut regressed_ids = vec![];
    for c in &cur {
        let Some(b) = base.get(&c.id()) else {
            unmatched.push(c.id());
            continue;
        };
        let ratio = c.median / b.median / factor;
        let line = format!(
            "| `{}` | {} | {} | {:+.1} % |",
            c.id(),
            time(b.median),
            time(c.median),
            (ratio - 1.0) * 100.0
        );
        if ratio > limit && c.lower / factor > b.upper {
            regressed.push(line);
            regressed_ids.push(c.id());
        } else if ratio < 1.0 / limit && c.upper / factor < b.lower {
            improved.push(line);
        } else {
            same += 1;
        }
    }
    println!(
        "compare `{current}` with `{baseline}` in {} (threshold {threshold} %, machine factor {factor:.3}): {} regressed, {} improved, {same} within the threshold or the noise, {} without a baseline",
        dir.display(),
        regressed.len(),
        improved.len(),
        unmatched.len()
    );
    for (title, lines) in [("Regressed", &regressed), ("Improved", &improved)] {
        if !lines.is_empty() {
            println!(
                "\n{title} (change after the machine factor):\n\n| benchmark | {baseline} | {current} | change |"
            );
            println!("|---|---:|---:|---:|");
            for l in lines {
                println!("{l}");
            }
        }
    }
    if !unmatched.is_empty() {
        println!("\nNo baseline `{baseline}`: {}", unmatched.join(", "));
    }
    if not_run > 0 && args.only.is_none() {
        println!(
            "\n{not_run} benchmarks of `{baseline}` were not in this run (filtered out, renamed or removed)"
        );
    }
    let write = |path: Option<&Path>, text: String| {
        path.map_or(Ok(()), |p| {
            fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
        })
    };
    write(args.regressed_out, regressed_ids.join("\n"))?;
    write(args.factor_out, format!("{factor}"))?;
    Ok(regressed.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// Column order of the functions; others follow alphabetically.
const ORDER: [&str; 16] = [
    "scalar",
    "simd",
    "step",
    "step_scalar",
    "push",
    "push_step",
    "two_pass",
    "stream",
    "npoa_scalar",
    "npoa_simd",
    "faer",
    "ndarray",
    "fit",
    "fit_controlled",
    "encode",
    "decode",
];

/// Ratio columns: (numerator, denominator, heading). `stream` is looked up by bytes.
const RATIOS: [(&str, &str, &str); 5] = [
    ("simd", "scalar", "simd/scalar"),
    ("simd", "two_pass", "simd/two_pass"),
    ("npoa_simd", "npoa_scalar", "npoa simd/scalar"),
    ("npoa_simd", "faer", "npoa/faer"),
    ("npoa_simd", "ndarray", "npoa/ndarray"),
];

/// The order of the families in the full report (others follow alphabetically).
const FAMILIES: [&str; 17] = [
    "fused",
    "forward",
    "loss",
    "gradient",
    "peers",
    "fused_logistic",
    "fused_huber",
    "fused_softmax",
    "subnormal",
    "update",
    "epoch",
    "epoch_rule",
    "controlled",
    "evaluate",
    "model_bytes",
    "online",
    "controller",
];

/// The families of the README's summary, in its order.
const SUMMARY: [&str; 10] = [
    "fused",
    "peers",
    "fused_logistic",
    "fused_huber",
    "fused_softmax",
    "update",
    "epoch",
    "epoch_rule",
    "controlled",
    "online",
];

/// The data sizes of the summary's kernel rows (families `fused*`, `peers`): in L2, and from
/// memory.
const SUMMARY_BYTES: [u64; 2] = [256 << 10, 64 << 20];

/// The parameter of the summary's `update` rows (the largest size).
const SUMMARY_UPDATE: &str = "4096";

/// Whether the summary keeps a benchmark.
fn in_summary(family: &str, bytes: Option<u64>, value: &str) -> bool {
    if !SUMMARY.contains(&family) {
        return false;
    }
    if family.starts_with("fused") || family == "peers" {
        return bytes.is_none_or(|n| SUMMARY_BYTES.contains(&n));
    }
    family != "update" || value == SUMMARY_UPDATE
}

fn report(
    dirs: &[String],
    baseline: &str,
    machine: Option<&str>,
    summary: bool,
) -> Result<String, String> {
    let mut sets = Vec::new();
    for spec in dirs {
        let (label, path) = spec.split_once('=').unwrap_or(("default", spec));
        let benches = load(Path::new(path), baseline)?;
        if benches.is_empty() {
            return Err(format!("no results `{baseline}` in {path}"));
        }
        sets.push((label.to_string(), benches));
    }
    let mut out = String::new();
    let labels: Vec<&str> = sets.iter().map(|(l, _)| l.as_str()).collect();
    if !summary {
        let _ = writeln!(out, "# npoa benchmark report\n");
    }
    if let Some(m) = machine {
        let _ = writeln!(out, "{m}\n");
    }
    let _ = writeln!(
        out,
        "Baseline `{baseline}`, flag sets: {}. Medians; GB/s = 10⁹ bytes of `x` per second, \
         M/s = 10⁶ elements per second, else time per iteration. `simd/stream` is the fraction of \
         a plain read of the same bytes (the memory-stream baseline).\n",
        labels.join(", ")
    );
    // family -> group -> value -> label -> function -> bench
    type Cells<'a> = BTreeMap<String, BTreeMap<&'a str, &'a Bench>>;
    /// The group's name without its numbers, its numbers, the parameter's numbers, the
    /// parameter: rows sort by name, then by size.
    type RowKey = ((String, Vec<u64>), String, Vec<u64>, String);
    let mut families: BTreeMap<String, BTreeMap<RowKey, Cells<'_>>> = BTreeMap::new();
    // (label, bytes) -> stream rate
    let mut stream: BTreeMap<(&str, u64), f64> = BTreeMap::new();
    for (label, benches) in &sets {
        for b in benches {
            if b.function == "stream"
                && let (Some((Unit::Bytes, bytes)), Some(r)) = (b.throughput, b.rate())
            {
                stream.insert((label.as_str(), bytes as u64), r);
            }
            let family = b.group.split('/').next().unwrap_or_default().to_string();
            let bytes = match b.throughput {
                Some((Unit::Bytes, n)) => Some(n as u64),
                _ => None,
            };
            if summary && !in_summary(&family, bytes, &b.value) {
                continue;
            }
            let key = (
                (letters(&b.group), numbers(&b.group)),
                b.group.clone(),
                numbers(&b.value),
                b.value.clone(),
            );
            families
                .entry(family)
                .or_default()
                .entry(key)
                .or_default()
                .entry(label.clone())
                .or_default()
                .insert(b.function.as_str(), b);
        }
    }
    let mut order: Vec<&String> = families.keys().collect();
    let list: &[&str] = if summary { &SUMMARY } else { &FAMILIES };
    order.sort_by_key(|f| list.iter().position(|s| s == f).unwrap_or(list.len()));
    for family in order {
        let rows = &families[family];
        let functions: BTreeSet<&str> = rows
            .values()
            .flat_map(|by_label| by_label.values().flat_map(|f| f.keys().copied()))
            .collect();
        let mut cols: Vec<&str> = ORDER
            .iter()
            .copied()
            .filter(|f| functions.contains(f))
            .collect();
        cols.extend(functions.iter().copied().filter(|f| !ORDER.contains(f)));
        let ratios: Vec<_> = RATIOS
            .iter()
            .filter(|(a, b, _)| functions.contains(a) && functions.contains(b))
            .collect();
        let any_bytes = rows.values().any(|l| {
            l.values()
                .flat_map(|f| f.values())
                .any(|b| matches!(b.throughput, Some((Unit::Bytes, _))))
        });
        let stream_of = |label: &str, f: &BTreeMap<&str, &Bench>| {
            f.get("simd").and_then(|b| match (b.throughput, b.rate()) {
                (Some((Unit::Bytes, n)), Some(r)) => stream.get(&(label, n as u64)).map(|s| r / s),
                _ => None,
            })
        };
        let with_stream = rows.values().any(|by_label| {
            by_label
                .iter()
                .any(|(label, f)| stream_of(label.as_str(), f).is_some())
        });
        let _ = writeln!(out, "{} `{family}`\n", if summary { "####" } else { "##" });
        let mut head = String::from("| group | param |");
        let mut rule = String::from("|---|---:|");
        if any_bytes {
            head.push_str(" x |");
            rule.push_str("---:|");
        }
        if sets.len() > 1 {
            head.push_str(" flags |");
            rule.push_str("---|");
        }
        for c in &cols {
            let _ = write!(head, " {c} |");
            rule.push_str("---:|");
        }
        for (_, _, h) in &ratios {
            let _ = write!(head, " {h} |");
            rule.push_str("---:|");
        }
        if with_stream {
            head.push_str(" simd/stream |");
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{head}\n{rule}");
        for ((_, group, _, value), by_label) in rows {
            for (label, _) in &sets {
                let Some(f) = by_label.get(label) else {
                    continue;
                };
                let mut line = format!("| `{group}` | {value} |");
                if any_bytes {
                    let bytes = f.values().find_map(|b| match b.throughput {
                        Some((Unit::Bytes, n)) => Some(n),
                        _ => None,
                    });
                    let _ = write!(line, " {} |", bytes.map(size).unwrap_or_default());
                }
                if sets.len() > 1 {
                    let _ = write!(line, " {label} |");
                }
                for c in &cols {
                    let _ = write!(line, " {} |", f.get(c).map(|b| cell(b)).unwrap_or_default());
                }
                for (a, b, _) in &ratios {
                    let r = f.get(a).zip(f.get(b)).map(|(a, b)| b.median / a.median);
                    let _ = write!(line, " {} |", r.map(ratio).unwrap_or_default());
                }
                if with_stream {
                    let r = f.get("simd").and_then(|b| match (b.throughput, b.rate()) {
                        (Some((Unit::Bytes, n)), Some(r)) => {
                            stream.get(&(label.as_str(), n as u64)).map(|s| r / s)
                        }
                        _ => None,
                    });
                    let _ = write!(
                        line,
                        " {} |",
                        r.map(|r| format!("{r:.2}")).unwrap_or_default()
                    );
                }
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = writeln!(out);
    }
    Ok(out)
}

/// A name without its digits (`update/sgd_l1/d4096` → `update/sgd_l/d`).
fn letters(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// The numbers in a name, in order (`k3_d128` → [3, 128], `2048` → [2048]), so that rows sort
/// by size, not as text.
fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap_or(u64::MAX))
        .collect()
}

fn cell(b: &Bench) -> String {
    match (b.throughput, b.rate()) {
        (Some((Unit::Bytes, _)), Some(r)) => format!("{} GB/s", sig(r)),
        (Some((Unit::Elements, _)), Some(r)) => format!("{} M/s", sig(r)),
        _ => time(b.median),
    }
}

/// Three significant digits, no exponent.
fn sig(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn ratio(r: f64) -> String {
    format!("{}×", sig(r))
}

fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{} s", sig(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{} ms", sig(ns / 1e6))
    } else if ns >= 1e3 {
        format!("{} µs", sig(ns / 1e3))
    } else {
        format!("{} ns", sig(ns))
    }
}

fn size(bytes: f64) -> String {
    let b = bytes as u64;
    if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{} MiB", b >> 20)
    } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
        format!("{} KiB", b >> 10)
    } else {
        format!("{b} B")
    }
}
