//! Plateau, adaptive and early-stopping state machines on scripted metric sequences, and
//! against transliterations of the PyTorch / scikit-learn / Keras code on random sequences
//! (including NaN, ±∞ and huge values).

use npoa::Error;
use npoa::control::{
    Adaptive, AdaptiveStep, EarlyStep, EarlyStop, EarlyStopping, Mode, Plateau, ReduceOnPlateau,
    Threshold,
};
use proptest::prelude::*;

/// PyTorch `ReduceLROnPlateau.step`, `is_better` and `_reduce_lr`, line by line (in f64, as
/// Python floats).
struct TorchPlateau {
    mode_min: bool,
    rel: bool,
    factor: f64,
    patience: u32,
    threshold: f64,
    cooldown: u32,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: u32,
    cooldown_counter: u32,
    lr: f64,
}

impl TorchPlateau {
    fn new(c: &Plateau, lr: f32) -> Self {
        let mode_min = c.mode == Mode::Min;
        Self {
            mode_min,
            rel: c.threshold_mode == Threshold::Rel,
            factor: f64::from(c.factor),
            patience: c.patience,
            threshold: f64::from(c.threshold),
            cooldown: c.cooldown,
            min_lr: f64::from(c.min_lr),
            eps: f64::from(c.eps),
            best: if mode_min {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            },
            num_bad_epochs: 0,
            cooldown_counter: 0,
            lr: f64::from(lr),
        }
    }
    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode_min, self.rel) {
            (true, true) => a < best * (1.0 - self.threshold),
            (true, false) => a < best - self.threshold,
            (false, true) => a > best * (self.threshold + 1.0),
            (false, false) => a > best + self.threshold,
        }
    }
    fn step(&mut self, current: f64) -> bool {
        if self.is_better(current, self.best) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let old = self.lr;
            let new = (old * self.factor).max(self.min_lr);
            let changed = old - new > self.eps;
            if changed {
                self.lr = new;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
            return changed;
        }
        false
    }
}

fn run_plateau(cfg: Plateau, lr0: f32, metrics: &[f32]) -> Vec<(usize, f32)> {
    let mut p = ReduceOnPlateau::new(cfg).unwrap();
    let mut lr = lr0;
    let mut out = vec![];
    for (i, &m) in metrics.iter().enumerate() {
        if let Some(new) = p.step(m, lr) {
            lr = new;
            out.push((i + 1, lr));
        }
    }
    out
}

#[test]
fn plateau_patience_and_cooldown() {
    let flat = [1.0f32; 12];
    let base = Plateau {
        patience: 2,
        factor: 0.5,
        threshold: 0.0,
        ..Plateau::default()
    };
    // Epoch 1 sets the best; epochs 2, 3, 4 are bad; the third (> patience 2) reduces.
    assert_eq!(
        run_plateau(base, 1.0, &flat),
        vec![(4, 0.5), (7, 0.25), (10, 0.125)]
    );
    // Cooldown 2: the two epochs after a reduction do not count.
    let cd = Plateau {
        cooldown: 2,
        ..base
    };
    assert_eq!(run_plateau(cd, 1.0, &flat), vec![(4, 0.5), (9, 0.25)]);
}

#[test]
fn plateau_thresholds_and_modes() {
    // Relative 0.1: 0.95 is not better than 1.0 (needs < 0.9), 0.85 is.
    let rel = Plateau {
        patience: 0,
        threshold: 0.1,
        ..Plateau::default()
    };
    assert_eq!(run_plateau(rel, 1.0, &[1.0, 0.95]), vec![(2, 0.1)]);
    assert_eq!(run_plateau(rel, 1.0, &[1.0, 0.85]), vec![]);
    // Absolute 0.1: 0.91 is not below 1.0 − 0.1.
    let abs = Plateau {
        threshold_mode: Threshold::Abs,
        ..rel
    };
    assert_eq!(run_plateau(abs, 1.0, &[1.0, 0.91]), vec![(2, 0.1)]);
    assert_eq!(run_plateau(abs, 1.0, &[1.0, 0.89]), vec![]);
    // Max mode: larger is better.
    let max = Plateau {
        mode: Mode::Max,
        ..rel
    };
    assert_eq!(run_plateau(max, 1.0, &[0.5, 0.56]), vec![]);
    assert_eq!(run_plateau(max, 1.0, &[0.5, 0.54]), vec![(2, 0.1)]);
}

#[test]
fn plateau_min_lr_eps_and_nan() {
    // At min_lr the reduction is below eps: no new rate.
    let c = Plateau {
        patience: 0,
        min_lr: 1e-3,
        ..Plateau::default()
    };
    assert_eq!(run_plateau(c, 1e-2, &[1.0, 1.0, 1.0]), vec![(2, 1e-3)]);
    // A NaN metric is a bad epoch.
    assert_eq!(run_plateau(c, 1.0, &[1.0, f32::NAN]), vec![(2, 0.1)]);
    let mut p = ReduceOnPlateau::new(c).unwrap();
    assert_eq!(p.step(f32::NAN, 1.0), Some(0.1));
    assert_eq!(p.best(), f32::INFINITY);
}

#[test]
fn plateau_rejects_absurd_settings() {
    for (cfg, name) in [
        (
            Plateau {
                factor: 1.0,
                ..Plateau::default()
            },
            "factor",
        ),
        (
            Plateau {
                factor: 0.0,
                ..Plateau::default()
            },
            "factor",
        ),
        (
            Plateau {
                factor: f32::NAN,
                ..Plateau::default()
            },
            "factor",
        ),
        (
            Plateau {
                threshold: -1.0,
                ..Plateau::default()
            },
            "threshold",
        ),
        (
            Plateau {
                min_lr: f32::INFINITY,
                ..Plateau::default()
            },
            "min_lr",
        ),
        (
            Plateau {
                eps: f32::NAN,
                ..Plateau::default()
            },
            "eps",
        ),
    ] {
        assert!(
            matches!(ReduceOnPlateau::new(cfg), Err(Error::InvalidParameter { name: n, .. }) if n == name),
            "{name}"
        );
    }
}

/// scikit-learn `_plain_sgd`'s end-of-epoch logic on a mean loss.
fn sklearn_adaptive(
    tol: f64,
    n: u32,
    eta0: f64,
    losses: &[f32],
) -> (Vec<(usize, f64)>, Option<usize>) {
    let (mut best, mut count, mut eta) = (f64::INFINITY, 0u32, eta0);
    let mut out = vec![];
    for (i, &l) in losses.iter().enumerate() {
        let l = f64::from(l);
        // `if tol > -INFINITY and sumloss > best_loss - tol * train_count` (NaN: see below).
        if l.is_nan() || l > best - tol {
            count += 1;
        } else {
            count = 0;
        }
        if l < best {
            best = l;
        }
        if count >= n {
            if eta > 1e-6 {
                eta /= 5.0;
                count = 0;
                out.push((i + 1, eta));
            } else {
                return (out, Some(i + 1));
            }
        }
    }
    (out, None)
}

#[test]
fn adaptive_divides_by_five_then_stops() {
    let mut a = Adaptive::new(1e-3, 2).unwrap();
    let mut lr = 1e-5f32;
    let mut log = vec![];
    for (i, l) in [1.0f32, 0.5, 0.4999, 0.4999, 0.4999, 0.4999, 0.4999]
        .iter()
        .enumerate()
    {
        match a.step(*l, lr) {
            AdaptiveStep::Keep => {}
            AdaptiveStep::Reduce(n) => {
                lr = n;
                log.push((i + 1, "reduce"));
            }
            AdaptiveStep::Stop => {
                log.push((i + 1, "stop"));
                break;
            }
        }
    }
    // Epochs 3, 4 fail to improve by 1e-3: ÷5 (1e-5 → 2e-6); 5, 6 again: ÷5 → 4e-7;
    // 7 is the first of two more, so no stop yet. With 4e-7 ≤ 1e-6 the next pair stops.
    assert_eq!(log, vec![(4, "reduce"), (6, "reduce")]);
    assert!((lr - 4e-7).abs() < 1e-12);
    assert_eq!(a.step(0.4999, lr), AdaptiveStep::Stop);
    assert!(Adaptive::new(f32::NAN, 5).is_err());
    assert!(Adaptive::new(1e-3, 0).is_err());
}

/// Keras 3 `EarlyStopping.on_epoch_end` (min mode), with NaN never becoming the best.
fn keras_early(
    min_delta: f64,
    patience: u32,
    baseline: Option<f64>,
    metrics: &[f32],
) -> (Vec<usize>, Option<usize>) {
    let (mut best, mut wait) = (None::<f64>, 0u32);
    let mut improved = vec![];
    for (i, &m) in metrics.iter().enumerate() {
        let m = f64::from(m);
        wait += 1;
        // Keras negates min_delta in min mode: `(m - (-δ)) < r`.
        let better = |r: f64| m + min_delta < r;
        let imp = match best {
            None => !m.is_nan(),
            Some(b) => better(b),
        };
        if imp {
            best = Some(m);
            improved.push(i + 1);
            if baseline.is_none_or(better) {
                wait = 0;
            }
            continue;
        }
        if wait >= patience {
            return (improved, Some(i + 1));
        }
    }
    (improved, None)
}

fn run_early(cfg: EarlyStop, metrics: &[f32]) -> (Vec<usize>, Option<usize>) {
    let mut e = EarlyStopping::new(cfg).unwrap();
    let mut improved = vec![];
    for (i, &m) in metrics.iter().enumerate() {
        match e.step(i as u32 + 1, m) {
            EarlyStep::Improved => improved.push(i + 1),
            EarlyStep::Continue => {}
            EarlyStep::Stop => return (improved, Some(i + 1)),
        }
    }
    (improved, None)
}

#[test]
fn early_stopping_scripted() {
    let cfg = EarlyStop {
        patience: 2,
        min_delta: 0.01,
        ..EarlyStop::default()
    };
    // 0.995 does not beat 1.0 by 0.01; two such epochs stop at epoch 3.
    assert_eq!(
        run_early(cfg, &[1.0, 0.995, 0.999, 0.5]),
        (vec![1], Some(3))
    );
    assert_eq!(
        run_early(cfg, &[1.0, 0.9, 0.8, 0.85, 0.7]),
        (vec![1, 2, 3, 5], None)
    );
    // A baseline of 0.5: improvements above it are recorded but do not reset the patience
    let base = EarlyStop {
        baseline: Some(0.5),
        ..cfg
    };
    // (an improvement returns before the patience check, as in Keras).
    assert_eq!(
        run_early(base, &[1.0, 0.9, 0.9, 0.9]),
        (vec![1, 2], Some(3))
    );
    assert_eq!(run_early(cfg, &[1.0, 0.9, 0.9, 0.9]), (vec![1, 2], Some(4)));
    // NaN never becomes the best; start_epoch ignores the first epochs.
    assert_eq!(
        run_early(cfg, &[f32::NAN, f32::NAN, 1.0]),
        (vec![], Some(2))
    );
    let late = EarlyStop {
        start_epoch: 3,
        ..cfg
    };
    assert_eq!(
        run_early(late, &[5.0, 5.0, 1.0, 1.0, 1.0]),
        (vec![3], Some(5))
    );
    assert!(
        EarlyStopping::new(EarlyStop {
            min_delta: -1.0,
            ..cfg
        })
        .is_err()
    );
    assert!(
        EarlyStopping::new(EarlyStop {
            baseline: Some(f32::NAN),
            ..cfg
        })
        .is_err()
    );
}

fn metric() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => 0.0f32..2.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(3e38f32),
        1 => Just(1.0f32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Our plateau state machine takes the same decisions as PyTorch's code, and its rate never
    /// drops below `min_lr` (nor rises).
    #[test]
    fn plateau_matches_pytorch(
        metrics in prop::collection::vec(metric(), 0..60),
        patience in 0u32..5,
        cooldown in 0u32..4,
        factor in 0.05f32..0.95,
        threshold in prop_oneof![Just(0.0f32), 1e-4f32..0.2],
        abs in any::<bool>(),
        max in any::<bool>(),
        min_lr in prop_oneof![Just(0.0f32), 1e-4f32..1e-2],
    ) {
        let cfg = Plateau {
            mode: if max { Mode::Max } else { Mode::Min },
            factor,
            patience,
            threshold,
            threshold_mode: if abs { Threshold::Abs } else { Threshold::Rel },
            cooldown,
            min_lr,
            eps: 1e-8,
        };
        let mut ours = ReduceOnPlateau::new(cfg).unwrap();
        let mut torch = TorchPlateau::new(&cfg, 0.1);
        let mut lr = 0.1f32;
        for (i, &m) in metrics.iter().enumerate() {
            let changed = torch.step(f64::from(m));
            let got = ours.step(m, lr);
            prop_assert_eq!(got.is_some(), changed, "epoch {}", i + 1);
            if let Some(n) = got {
                prop_assert!(n >= min_lr && n < lr);
                lr = n;
            }
        }
    }

    #[test]
    fn adaptive_matches_sklearn(losses in prop::collection::vec(metric(), 0..60), n in 1u32..5) {
        let (want, want_stop) = sklearn_adaptive(1e-3, n, 1e-4, &losses);
        let mut a = Adaptive::new(1e-3, n).unwrap();
        let mut lr = 1e-4f32;
        let mut got = vec![];
        let mut stop = None;
        for (i, &l) in losses.iter().enumerate() {
            match a.step(l, lr) {
                AdaptiveStep::Keep => {}
                AdaptiveStep::Reduce(r) => { lr = r; got.push(i + 1); }
                AdaptiveStep::Stop => { stop = Some(i + 1); break; }
            }
        }
        prop_assert_eq!(got, want.iter().map(|w| w.0).collect::<Vec<_>>());
        prop_assert_eq!(stop, want_stop);
    }

    #[test]
    fn early_stopping_matches_keras(
        metrics in prop::collection::vec(metric(), 0..60),
        patience in 0u32..5,
        min_delta in prop_oneof![Just(0.0f32), 1e-3f32..0.1],
        baseline in prop::option::of(0.0f32..2.0),
    ) {
        let cfg = EarlyStop { patience, min_delta, baseline, ..EarlyStop::default() };
        let want = keras_early(f64::from(min_delta), patience, baseline.map(f64::from), &metrics);
        prop_assert_eq!(run_early(cfg, &metrics), want);
    }
}
