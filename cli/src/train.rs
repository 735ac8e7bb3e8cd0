//! Train a model on a CSV file.
//!
//! ```sh
//! npoa train DATA.csv                      # linear regression
//! npoa train DATA.csv --loss logistic --plot run.svg
//! npoa train DATA.csv --loss softmax --optimizer adam --save m.npoa
//! npoa train DATA.csv --loss softmax --remap-labels   # labels 1..3 become classes 0..2
//! npoa train DATA.csv --loss quantile --tau 0.9   # 0.9-quantile
//! npoa train COUNTS.csv --loss poisson            # log-linear counts
//! npoa train DATA.tsv --delimiter tab --no-header --target 0
//! npoa train DATA.csv --optimizer adam --checkpoint run.ck --checkpoint-every 5
//! npoa train DATA.csv --optimizer adam --checkpoint run.ck --resume run.ck  # after a crash
//! ```
//!
//! The CSV is read by [`crate::table`] (delimiter sniffed or `--delimiter`, `--no-header`,
//! quoted fields, a BOM dropped, errors at `file:line:col`, caps on bytes, line length and
//! cells). The target is the last column unless `--target` names another (by name or index
//! from 0). Every other column is a feature. The run can split off a validation set
//! (`--val-fraction`; the default 0 trains on everything), standardises the features and the
//! target (fitted on the training split and folded back into the model, so that everything
//! saved or printed works on raw features; `--no-standardize` opts out), trains with the
//! strategy the recipe picks (the full-batch solver by default, a mini-batch run under the
//! strategy controller with `--optimizer RULE`), and reports, with the optimality
//! certificate and a warning when the run did not converge.
//!
//! **Class labels** (`--loss softmax`, `--loss logistic`): softmax needs the integers
//! `0..K−1` with every class present (K ≤ 256); logistic the labels 0 and 1, both present.
//! Anything else is an error listing the labels found; `--remap-labels` maps the sorted
//! distinct labels to `0..K−1` (logistic: exactly two), prints the map and saves it in the
//! model card, and `predict` (and `--predictions`) then write the original labels.
//!
//! **Model card**: `--save M` also writes `M.json` ([`crate::meta`]).
//!
//! **History**: the epoch records kept for `--plot` and the JSON are bounded: every epoch
//! until [`HISTORY_CAP`] are kept, then every other one is dropped and only every 2nd (then
//! 4th, 8th …) epoch is kept, so that at most `HISTORY_CAP` records, evenly spaced from
//! epoch 1, plus the last epoch remain; of the controller's events the first and the last
//! [`EVENTS_CAP`]`/2` are kept (`events_dropped` counts the others). The last event is
//! always the stop (`Stopped(MaxEpochs)` and `Stopped(Observer)` are added when the epoch
//! budget or the time limit ended the run). `--time-limit SECS` stops
//! a run after that long (stop reason `observer`).
//!
//! **Checkpoints** (mini-batch runs): `--checkpoint FILE` writes the run's whole state (the
//! library's checkpoint of the model, the optimizer's state, the controller with its best
//! copy, the position in the epoch and its shuffle; see `npoa::recipe::Recipe::fit_until`)
//! to `FILE` every `--checkpoint-every N` epochs (default 10: a checkpoint costs two `fsync`s
//! and a rename, ≈ 10 ms on an ext4 virtual disk, against ≈ 0.5 ms for an epoch of 1200 rows
//! in batches of 2 in a release build; counted in steps,
//! N × ⌈training rows / batch⌉, so a checkpoint may fall inside an epoch), with the options
//! that shape the run, a digest of the data and the bounded history ([`crate::checkpoint`]).
//! Each write is atomic ([`crate::atomic`]): after a crash, a `kill -9` or a power cut the
//! file holds the previous checkpoint or the new one, whole. No checkpoint is written when
//! the run ends: the file keeps the last periodic one. `--resume FILE` continues from it
//! (with `--checkpoint FILE` too, it goes on writing them): the model file, the predictions,
//! the plot and the JSON (epochs, events, stop reason, metrics) are byte for byte those of
//! the same command never interrupted; a resume from a checkpoint of a run that had ended
//! repeats the run's tail to the same outputs. A resume with other data (the table's CRC-32,
//! rows and features), another value of an option that shapes the run (listed by name with
//! both values), or from a damaged file (CRC-32) is refused. The output paths, `--quiet`,
//! `--every`, `--json`, `--time-limit` and `--checkpoint-every` may differ (where the run
//! pauses does not change its bits). A run killed inside a checkpoint's write leaves a
//! temporary file `.FILE.XXXXXX.tmp` beside it, which can be deleted. The full-batch solver (the default for
//! smooth losses) converges in seconds and does not pause: `--checkpoint` and `--resume`
//! refuse it (name an `--optimizer`). Every other file (`--save` and its card,
//! `--predictions`, `--export-*`, `--plot`) is written atomically too.
//!
//! **JSON** (`--json`): the last line of stdout is one object with these keys (stable):
//!
//! | key | value |
//! |---|---|
//! | `loss` | the `--loss` name |
//! | `epochs` | epochs (solver iterations) run |
//! | `stop_reason` | `converged`, `max_epochs`, `early_stop`, `observer` … ([`npoa::train::Stop::name`]) |
//! | `converged` | `true` if the run ended on its certificate |
//! | `certificate` | `{"measure": name, "value": the last relative certificate}` |
//! | `standardized` | `{"features": bool, "target": bool}` |
//! | `strategy` | `solver`, or the mini-batch rule's name |
//! | `train`, `validation` | metrics `{"mse", "mae", "r2", "accuracy", "log_loss"}` (`null` where they do not apply); `validation` is `null` without a split |
//! | `model` | `{"weights": [..], "bias": b}` for one output; `{"weights": [[..] per class], "bias": [..]}` for softmax; in raw feature space |
//! | `events` | `[{"epoch": n, "event": "…"}]`, the controller's events kept (see History) |
//! | `events_dropped` | events not kept (0 unless the run had more than `EVENTS_CAP`) |
//! | `labels` | `null`, or the original labels of classes `0..K−1` (`--remap-labels`) |
//! | `delimiter` | the delimiter the file was read with |
//! | `card` | the model card's path (`--save`), else `null` |

use crate::history::Bounded;
/// Re-exported from [`crate::history`], where the bounded history lives.
pub use crate::history::{EVENTS_CAP, HISTORY_CAP};
use crate::metrics as shared;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use npoa::DynModel;
use npoa::control::Event;
use npoa::control::EventKind;
use npoa::control::Schedule;
use npoa::data::{DynDataset, Standardizer};
use npoa::loss::{Loss, Objective};
use npoa::optim::{Regularization, Rule};
use npoa::recipe::{Outcome, Recipe};
use npoa::train::search::{Method, SearchConfig, search_by};
use npoa::train::{Decision, Epoch, Observer, TrainConfig};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScheduleArg {
    Constant,
    Cosine,
    Exponential,
    Step,
    Onecycle,
}

/// Train an npoa model on a CSV file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The CSV file (`-`: stdin).
    data: String,
    #[command(flatten)]
    csv: crate::table::CsvArgs,
    /// Classification: map the sorted distinct target labels to the classes 0..K−1 (printed,
    /// and saved in the model card) instead of requiring 0..K−1 (softmax) or 0/1 (logistic).
    #[arg(long)]
    remap_labels: bool,
    /// Stop the run after this many seconds (stop reason `observer`).
    #[arg(long)]
    time_limit: Option<f64>,
    /// Target column, by name or index from 0 (default: the last).
    #[arg(long)]
    target: Option<String>,
    /// The loss: a name of `Loss::ALL` (squared, huber, absolute, logistic, quantile,
    /// poisson) or softmax (classes are the target's integer values). Poisson models predict
    /// ln μ; `--predictions` writes μ.
    #[arg(long, default_value = "squared", value_parser = loss_names())]
    loss: String,
    /// Huber's threshold δ.
    #[arg(long, default_value_t = 1.0)]
    delta: f32,
    /// The quantile level τ of `--loss quantile`, in (0, 1) (0.5: the median).
    #[arg(long, default_value_t = 0.5)]
    tau: f32,
    /// The update rule: `auto` (the full-batch solver for smooth losses, which stops on the
    /// optimality certificate; SGD for absolute and quantile), or one of `Rule::EXAMPLES` by
    /// name for a mini-batch run, with its hyper-parameters there (FTRL takes `--l1`, `--l2`
    /// as its own).
    #[arg(long, default_value = "auto", value_parser = optimizer_names())]
    optimizer: String,
    /// Learning rate of a mini-batch run: `auto` (chosen for the rule from the data's
    /// curvature) or a number.
    #[arg(long, default_value = "auto")]
    lr: String,
    /// Rate schedule over the epochs.
    #[arg(long, value_enum, default_value = "constant")]
    schedule: ScheduleArg,
    /// Decay factor of the exponential / step schedules.
    #[arg(long, default_value_t = 0.5)]
    gamma: f32,
    /// Epochs (the solver's iterations); default 5000 for the solver, 200 for a mini-batch
    /// run.
    #[arg(long)]
    epochs: Option<u32>,
    /// The tolerance of the `converged` stop on the relative certificate (default: 1e-4, the
    /// duality gap's as scikit-learn's).
    #[arg(long)]
    tol: Option<f32>,
    /// Mini-batch size (mini-batch runs).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// L1 penalty λ1 (FTRL: its own, on the cumulative loss).
    #[arg(long, default_value_t = 0.0)]
    l1: f32,
    /// L2 penalty λ2 (AdamW: the decoupled weight decay; FTRL: its own).
    #[arg(long, default_value_t = 0.0)]
    l2: f32,
    /// Train on the raw features and targets (by default both are standardised on the
    /// training split and the scaling is folded back into the model).
    #[arg(long)]
    no_standardize: bool,
    /// Accepted for compatibility: standardisation is the default.
    #[arg(long, hide = true)]
    standardize: bool,
    /// Fraction of rows held out for validation (0, the default, trains on everything and the
    /// controller watches the training loss; with a validation split it keeps the model that
    /// is best on it).
    #[arg(long, default_value_t = 0.0)]
    val_fraction: f32,
    /// Stop after this many epochs without improvement of the validation loss.
    #[arg(long)]
    early_stop: Option<u32>,
    /// Seed of the split, the shuffling and the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Search the initial rate and its exponential decay with this many training runs.
    #[arg(long)]
    search: Option<u32>,
    /// Print a summary line every this many epochs.
    #[arg(long, default_value_t = 10)]
    every: u32,
    /// No progress bar, no per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Write the loss curves (log scale), the rate and the events as SVG.
    #[arg(long)]
    plot: Option<String>,
    /// Save the model bytes (npoa::model::bytes) to this file.
    #[arg(long)]
    save: Option<String>,
    /// Write `pub const` weights and bias as Rust source.
    #[arg(long)]
    export_rust: Option<String>,
    /// Write the weights and bias as a C header.
    #[arg(long)]
    export_c: Option<String>,
    /// Write the final model's predictions on every row of the file, one per line.
    #[arg(long)]
    predictions: Option<String>,
    /// The last line of stdout is a JSON object with the outcome.
    #[arg(long)]
    json: bool,
    /// Write the run's whole state to this file every `--checkpoint-every` epochs (atomically:
    /// the file always holds a whole checkpoint), so that `--resume FILE` can continue the run
    /// after a crash, a kill or a power cut. Mini-batch runs (name an `--optimizer`).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<String>,
    /// Epochs between checkpoints (counted in mini-batch steps: N × ⌈training rows / batch⌉).
    #[arg(long, value_name = "N", default_value_t = 10, requires = "checkpoint",
          value_parser = clap::value_parser!(u32).range(1..))]
    checkpoint_every: u32,
    /// Continue the run saved in this checkpoint (same data and options; the outputs, the
    /// history and the JSON are those of the run never interrupted). May be the
    /// `--checkpoint` file itself.
    #[arg(long, value_name = "FILE")]
    resume: Option<String>,
}

use crate::Res;

/// The values of `--loss`: every loss of the registry, then softmax.
fn loss_names() -> clap::builder::PossibleValuesParser {
    let names = Loss::ALL.iter().map(Loss::name).chain(["softmax"]);
    clap::builder::PossibleValuesParser::new(names)
}

/// The values of `--optimizer`: auto, then every example rule.
fn optimizer_names() -> clap::builder::PossibleValuesParser {
    let names = ["auto"].into_iter().chain(Rule::EXAMPLES.map(|r| r.name()));
    clap::builder::PossibleValuesParser::new(names)
}

/// The loss named by `--loss` with its parameter from the option of that name (`--delta`,
/// `--tau`); `None` for softmax.
fn loss_of(args: &Args) -> Option<Loss> {
    let loss = Loss::from_name(&args.loss, 0.0)?;
    Some(match loss.param_name() {
        Some("delta") => loss.with_param(args.delta),
        Some("tau") => loss.with_param(args.tau),
        _ => loss,
    })
}

/// The rule named by `--optimizer` (`None` for auto).
fn rule_of(args: &Args) -> Option<Rule> {
    // The parser admits only auto and the examples' names.
    let rule = Rule::EXAMPLES
        .into_iter()
        .find(|r| r.name() == args.optimizer)?;
    Some(match rule {
        Rule::Ftrl { beta, .. } => Rule::Ftrl {
            beta,
            l1: args.l1,
            l2: args.l2,
        },
        r => r,
    })
}

/// The options that shape a run, by their command-line names: a checkpoint stores them and a
/// resume must give the same (the outputs' paths, `--quiet`, `--every`, `--json`,
/// `--time-limit` and the checkpoint's own options may differ).
fn run_options(args: &Args) -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "target": args.target,
        "remap-labels": args.remap_labels,
        "loss": args.loss,
        "delta": args.delta,
        "tau": args.tau,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "schedule": format!("{:?}", args.schedule).to_ascii_lowercase(),
        "gamma": args.gamma,
        "epochs": args.epochs,
        "tol": args.tol,
        "batch": args.batch,
        "l1": args.l1,
        "l2": args.l2,
        "no-standardize": args.no_standardize,
        "val-fraction": args.val_fraction,
        "early-stop": args.early_stop,
        "seed": args.seed,
        "search": args.search,
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn schedule_of(args: &Args) -> Schedule {
    match args.schedule {
        ScheduleArg::Constant => Schedule::Constant,
        ScheduleArg::Cosine => Schedule::Cosine {
            t_max: args.epochs.unwrap_or(200).max(1),
            eta_min: 0.0,
        },
        ScheduleArg::Exponential => Schedule::Exponential { gamma: args.gamma },
        ScheduleArg::Step => Schedule::Step {
            step_size: (args.epochs.unwrap_or(200) / 4).max(1),
            gamma: args.gamma,
        },
        ScheduleArg::Onecycle => Schedule::OneCycle {
            total_steps: args.epochs.unwrap_or(200).max(2),
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            anneal: npoa::control::Anneal::Cos,
        },
    }
}

/// Runs `npoa train`.
///
/// # Errors
/// Every problem of the file, the options or the run, as a message.
pub fn run(args: &Args) -> Res<()> {
    let mut table = crate::table::read(&args.data, &args.csv, |header| {
        Ok(Some(match &args.target {
            Some(t) => crate::table::column(header, t).ok_or_else(|| {
                format!(
                    "{}: no column {t:?} in the header ({})",
                    args.data,
                    header.join(", ")
                )
            })?,
            None => header.len() - 1,
        }))
    })?;
    let objective = loss_of(args).map_or(Objective::Softmax, Objective::Single);
    let (classes, labels) = match objective {
        Objective::Softmax => {
            crate::table::classes(&mut table.y, false, args.remap_labels, &args.data)?
        }
        Objective::Single(Loss::Logistic) => {
            crate::table::classes(&mut table.y, true, args.remap_labels, &args.data)?
        }
        _ if args.remap_labels => {
            return Err("--remap-labels applies to --loss softmax and logistic only".into());
        }
        _ => (2, None),
    };
    if let Some(l) = &labels {
        let map: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{v} -> {k}"))
            .collect();
        crate::say!("labels: {}", map.join(", "));
    }
    let names = table.feature_names();
    let target_name = table
        .target
        .map(|t| table.header[t].clone())
        .unwrap_or_default();
    let delimiter = table.delimiter;
    let d = table.features();
    let digest =
        crate::checkpoint::DataDigest::of(&table.x, &table.y, d, &table.header, labels.as_deref());
    let resume = match &args.resume {
        Some(path) => {
            let ck = crate::checkpoint::Checkpoint::read(path)?;
            ck.check(&run_options(args), &digest)
                .map_err(|e| format!("--resume {path}: {e}"))?;
            Some(ck)
        }
        None => None,
    };
    let all = DynDataset::new(
        std::mem::take(&mut table.x),
        std::mem::take(&mut table.y),
        d,
    )
    .map_err(|e| format!("{}: {e}", args.data))?;
    let n = all.len();
    let split = all.split(args.val_fraction, 0.0, args.seed)?;
    let lr = if args.lr == "auto" {
        None
    } else {
        Some(
            args.lr
                .parse::<f32>()
                .map_err(|_| format!("--lr: not a number or auto: {:?}", args.lr))?,
        )
    };
    let mut recipe = Recipe {
        objective,
        classes,
        optimizer: rule_of(args),
        learning_rate: lr,
        schedule: schedule_of(args),
        epochs: args.epochs,
        batch_size: args.batch,
        regularization: if matches!(rule_of(args), Some(Rule::Ftrl { .. })) {
            Regularization::NONE
        } else {
            Regularization {
                l1: args.l1,
                l2: args.l2,
                ..Regularization::NONE
            }
        },
        standardize: !args.no_standardize,
        early_stop: args.early_stop,
        seed: args.seed,
        tol: args.tol,
        ..Recipe::default()
    };
    let (tr, va) = (&split.train, split.validation.as_ref());
    if let Some(budget) = args.search {
        let Some(va) = va else {
            return Err("--search needs a validation split (--val-fraction > 0)".into());
        };
        // A rate search tunes a mini-batch run: SGD unless a rule is named.
        recipe.optimizer = Some(recipe.optimizer.unwrap_or(Rule::Sgd));
        // The rate the recipe would pick, on the data it would train on.
        let scaled = if recipe.standardize {
            Standardizer::fit(tr).apply(tr)?
        } else {
            tr.clone()
        };
        let auto = recipe.rate_for(&scaled)?;
        let cfg = SearchConfig {
            lr: (auto / 30.0, auto * 3.0),
            gamma: (0.9, 1.0),
            method: Method::Random,
            budget,
            seed: args.seed,
            train: TrainConfig::default(),
        };
        let best = search_by(
            &cfg,
            &mut |lr, gamma| {
                let r = Recipe {
                    learning_rate: Some(lr),
                    schedule: Schedule::Exponential { gamma },
                    ..recipe
                };
                Ok(r.fit(tr, Some(va), &mut ())
                    .map_or(f32::INFINITY, |(_, s)| s.best_metric))
            },
            &mut |c| {
                if !args.quiet {
                    eprintln!(
                        "search: lr {:.5} gamma {:.4} -> validation loss {:.6}",
                        c.lr, c.gamma, c.score
                    );
                }
            },
        )?;
        crate::say!(
            "search: best lr {:.5}, gamma {:.4} (validation loss {:.6})",
            best.lr,
            best.gamma,
            best.score
        );
        recipe.learning_rate = Some(best.lr);
        recipe.schedule = Schedule::Exponential { gamma: best.gamma };
    }
    let plan = recipe.plan();
    if plan.solver && (args.checkpoint.is_some() || args.resume.is_some()) {
        return Err(
            "--checkpoint and --resume apply to mini-batch runs: this one runs the full-batch solver (which converges in seconds); name an --optimizer to train by mini-batches"
                .into(),
        );
    }
    crate::say!(
        "{}: {n} rows, {d} features; training on {}, validating on {}; loss {}, optimizer {}",
        args.data,
        tr.len(),
        va.map_or(0, DynDataset::len),
        args.loss,
        args.optimizer
    );
    crate::say!(
        "strategy: {}; {} (fitted on the {} training rows, folded back into the model){}",
        if plan.solver {
            match (objective, args.l1 > 0.0) {
                (Objective::Single(Loss::Squared), false) => {
                    "full-batch conjugate gradients, stop on the gradient certificate".to_string()
                }
                (Objective::Single(Loss::Squared), true) => {
                    "full-batch FISTA with restart, stop on the duality gap".to_string()
                }
                (_, false) => {
                    "full-batch truncated Newton, stop on the gradient certificate".to_string()
                }
                (_, true) => {
                    "full-batch FISTA with restart, stop on the proximal-mapping certificate"
                        .to_string()
                }
            }
        } else {
            format!("mini-batches of {} with {}", args.batch, plan.rule.name())
        },
        match (plan.features_standardized, plan.target_standardized) {
            (true, true) => "standardised features and target",
            (true, false) => "standardised features",
            _ => "raw features (--no-standardize)",
        },
        tr.len(),
        if plan.features_standardized {
            ""
        } else {
            "; expect slow convergence on features of different scales"
        },
    );
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(
            Some(u64::from(plan.epochs)),
            ProgressDrawTarget::stderr(),
        );
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} epochs {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let mut watch = Watch {
        bar: &bar,
        every: args.every.max(1),
        quiet: args.quiet,
        validation: va.is_some(),
        history: Bounded::default(),
        deadline: args
            .time_limit
            .map(|s| {
                if s.is_finite() && s >= 0.0 {
                    Ok(std::time::Instant::now() + std::time::Duration::from_secs_f64(s.min(1e9)))
                } else {
                    Err(format!("--time-limit: {s} is not a number of seconds"))
                }
            })
            .transpose()?,
    };
    let (model, summary) = if args.checkpoint.is_some() || resume.is_some() {
        // Paused every `--checkpoint-every` epochs' worth of steps, the state written, then
        // continued: the library makes the pieces the same bits as one call.
        let budget = args.checkpoint.as_ref().map(|_| {
            u64::from(args.checkpoint_every)
                .saturating_mul(tr.len().div_ceil(args.batch.max(1)).max(1) as u64)
        });
        let mut outcome = match &resume {
            Some(ck) => {
                watch.history = Bounded::from_bytes(&ck.history)?;
                recipe.resume(&ck.state, tr, va, &mut watch, budget)
            }
            None => recipe.fit_until(tr, va, &mut watch, budget),
        }
        .map_err(|e| match &args.resume {
            Some(p) => format!("--resume {p}: {e}"),
            None => e.to_string(),
        })?;
        loop {
            match outcome {
                Outcome::Finished(model, summary) => break (model, summary),
                Outcome::Paused { checkpoint, .. } => {
                    let ck = crate::checkpoint::Checkpoint {
                        options: run_options(args),
                        data: digest,
                        history: watch.history.to_bytes(),
                        state: checkpoint,
                    };
                    if let Some(path) = &args.checkpoint {
                        ck.write(path)?;
                    }
                    outcome = recipe.resume(&ck.state, tr, va, &mut watch, budget)?;
                }
            }
        }
    } else {
        recipe.fit(tr, va, &mut watch)?
    };
    // Every run's history ends with its stop, also when the epoch budget or the time limit
    // ended it (the controller has no event for those), so the plot marks it.
    if !watch.history.stopped {
        watch.history.on_event(&Event {
            epoch: summary.epochs,
            kind: EventKind::Stopped(summary.stop),
        });
    }
    let history = watch.history.finish();
    bar.finish_and_clear();
    let (_, train_metrics) = shared::predict(&model, tr)?;
    let val_metrics = match va {
        Some(v) => Some(shared::predict(&model, v)?.1),
        None => None,
    };
    let stop = summary.stop.name();
    let converged = summary.stop == npoa::train::Stop::Converged;
    let measure = npoa::control::certificate::measure(objective, &recipe.regularization);
    crate::say!(
        "done: {} epochs, {} steps, stop: {stop}, certificate ({}) {:.3e}, best loss {:.6e}, rollbacks {}",
        summary.epochs,
        summary.steps,
        measure.name(),
        summary.certificate,
        summary.best_metric,
        summary.rollbacks
    );
    if !converged {
        eprintln!(
            "warning: not converged ({stop}): the last certificate ({}) is {:.3e}{}",
            measure.name(),
            summary.certificate,
            if plan.solver {
                "; raise --epochs or --tol"
            } else if matches!(
                objective,
                Objective::Single(Loss::Absolute | Loss::Quantile { .. })
            ) {
                "; the absolute and quantile losses are not smooth, their subgradient need not vanish at the optimum: judge the fit by its loss"
            } else {
                "; a mini-batch run stops on its budget, try --optimizer auto"
            }
        );
    }
    crate::say!("train: {}", train_metrics.line());
    if let Some(v) = &val_metrics {
        crate::say!("validation: {}", v.line());
    }
    let bytes = model.to_bytes();
    let card = crate::meta::Meta {
        features: names,
        target: target_name,
        labels: labels.clone(),
        standardized: (plan.features_standardized, plan.target_standardized),
        loss: args.loss.clone(),
        model_crc32: crate::meta::stored_crc(&bytes),
        model_bytes: bytes.len() as u64,
        delimiter,
    };
    let mut card_path = None;
    if let Some(path) = &args.save {
        crate::atomic::write(path, &bytes)?;
        let c = card.save(path)?;
        crate::say!(
            "saved {} bytes to {path}, the model card to {c}",
            bytes.len()
        );
        card_path = Some(c);
    }
    let (weights, biases, kk) = match &model {
        DynModel::Linear(m) => (m.weights().to_vec(), vec![m.bias()], 1),
        DynModel::Classifier(c) => (c.weights().to_vec(), c.biases().to_vec(), c.classes()),
    };
    if let Some(path) = &args.export_rust {
        crate::atomic::write(path, crate::export::rust_module(&model, &card, "model")?)?;
    }
    if let Some(path) = &args.export_c {
        crate::atomic::write(path, crate::export::c_header(&model, &card, "model")?)?;
    }
    if let Some(path) = &args.predictions {
        let (p, _) = shared::predict(&model, &all)?;
        let text = shared::lines(
            &p,
            labels.as_deref(),
            matches!(model, DynModel::Classifier(_)),
        );
        crate::atomic::write(path, text)?;
    }
    if let Some(path) = &args.plot {
        let info = crate::plot::PlotInfo {
            loss: &args.loss,
            validation: va.is_some(),
        };
        crate::plot::write(
            std::path::Path::new(path),
            &history.epochs,
            &history.events,
            &info,
        )?;
    }
    if args.json {
        let loss = args.loss.clone();
        let model_json = if kk == 1 {
            serde_json::json!({"weights": weights, "bias": biases[0]})
        } else {
            let rows: Vec<Vec<f32>> = weights.chunks(d).map(<[f32]>::to_vec).collect();
            serde_json::json!({"weights": rows, "bias": biases})
        };
        let events: Vec<serde_json::Value> = history
            .events
            .iter()
            .map(|e| serde_json::json!({"epoch": e.epoch, "event": format!("{:?}", e.kind)}))
            .collect();
        let out = serde_json::json!({
            "loss": loss,
            "epochs": summary.epochs,
            "stop_reason": stop,
            "converged": converged,
            "certificate": {"measure": measure.name(), "value": summary.certificate},
            "standardized": {"features": plan.features_standardized, "target": plan.target_standardized},
            "strategy": if plan.solver { "solver" } else { plan.rule.name() },
            "train": train_metrics.json(),
            "validation": val_metrics.map(|m| m.json()),
            "model": model_json,
            "events": events,
            "events_dropped": history.events_dropped,
            "labels": labels,
            "delimiter": char::from(delimiter).to_string(),
            "card": card_path,
        });
        crate::say!("{out}");
    }
    Ok(())
}

/// Prints the epochs and events as they come (a progress bar, a line every `every` epochs),
/// keeps a bounded history of them for the plot and the JSON, and stops at the deadline.
struct Watch<'b> {
    bar: &'b ProgressBar,
    every: u32,
    quiet: bool,
    validation: bool,
    history: Bounded,
    deadline: Option<std::time::Instant>,
}

impl Observer for Watch<'_> {
    fn on_epoch(&mut self, r: &Epoch) -> Decision {
        self.bar.set_position(u64::from(r.epoch));
        self.bar.set_message(format!("loss {:.4e}", r.metric));
        if !self.quiet && r.epoch.is_multiple_of(self.every) {
            self.bar.suspend(|| {
                crate::say!(
                    "epoch {:5}  train {:.6e}  {} {:.6e}  lr {:.3e}  zeros {}  cert {:.3e}",
                    r.epoch,
                    r.train_loss,
                    if self.validation { "val" } else { "metric" },
                    r.metric,
                    r.learning_rate,
                    r.zeros,
                    r.certificate
                )
            });
        }
        self.history.on_epoch(r);
        match self.deadline {
            Some(t) if std::time::Instant::now() >= t => Decision::Stop,
            _ => Decision::Continue,
        }
    }
    fn on_event(&mut self, e: &Event) {
        if !self.quiet && !matches!(e.kind, EventKind::Improved { .. }) {
            self.bar
                .suspend(|| crate::say!("epoch {:5}  event: {:?}", e.epoch, e.kind));
        }
        self.history.on_event(e);
    }
}
