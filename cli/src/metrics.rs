//! Metrics of a run-time sized model on a dataset, shared by `npoa train` and `npoa predict`.

use npoa::data::DynDataset;
use npoa::loss::Loss;
use npoa::model::metrics::RegressionAcc;
use npoa::{DynModel, Error};

/// The metrics the examples report; those that do not apply to the model's loss are `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics {
    pub mse: Option<f64>,
    pub mae: Option<f64>,
    pub r2: Option<f64>,
    pub accuracy: Option<f64>,
    pub log_loss: Option<f64>,
}

impl Metrics {
    #[allow(dead_code)] // used by `train` only
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "mse": self.mse, "mae": self.mae, "r2": self.r2,
            "accuracy": self.accuracy, "log_loss": self.log_loss,
        })
    }

    pub fn line(&self) -> String {
        let f = |name: &str, v: Option<f64>| v.map(|v| format!("{name} {v:.6}"));
        [
            f("mse", self.mse),
            f("mae", self.mae),
            f("r2", self.r2),
            f("accuracy", self.accuracy),
            f("log_loss", self.log_loss),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// One prediction per sample: the output for a linear model (a logit for the logistic loss;
/// for the Poisson loss the mean count `μ = e^z`, by `libm::exp` in `f64` rounded to `f32` (the
/// same bits on every platform, and those of the exported C header's port), not the model's
/// `z = ln μ`), the class for a classifier; and the model's metrics on the data.
pub fn predict(model: &DynModel, data: &DynDataset) -> Result<(Vec<f32>, Metrics), Error> {
    let (x, y) = (data.x(), data.y());
    match model {
        DynModel::Linear(m) => {
            let mut p = vec![0.0f32; y.len()];
            m.predict_batch(x, &mut p)?;
            if m.loss_kind() == Loss::Poisson {
                p.iter_mut()
                    .for_each(|v| *v = libm::exp(f64::from(*v)) as f32);
            }
            let metrics = if m.loss_kind() == Loss::Logistic {
                let mut correct = 0usize;
                let mut ll = 0.0f64;
                for (&z, &t) in p.iter().zip(y) {
                    correct += usize::from((z >= 0.0) == (t >= 0.5));
                    ll += Loss::Logistic.value64(f64::from(z), f64::from(t));
                }
                let n = y.len() as f64;
                Metrics {
                    accuracy: Some(correct as f64 / n),
                    log_loss: Some(ll / n),
                    ..Metrics::default()
                }
            } else {
                let mut acc = RegressionAcc::default();
                acc.add(&p, y);
                let r = acc.finish()?;
                Metrics {
                    mse: Some(r.mse),
                    mae: Some(r.mae),
                    r2: Some(r.r2),
                    ..Metrics::default()
                }
            };
            Ok((p, metrics))
        }
        DynModel::Classifier(c) => {
            let k = c.classes();
            let mut z = vec![0.0f32; k];
            let mut classes = Vec::with_capacity(y.len());
            let (mut correct, mut ll) = (0usize, 0.0f64);
            for (row, &t) in x.chunks_exact(data.features()).zip(y) {
                c.logits(row, &mut z)?;
                let best = z
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                classes.push(best.0 as f32);
                correct += usize::from(best.0 as f32 == t);
                let m = f64::from(best.1);
                let s: f64 = z.iter().map(|&v| (f64::from(v) - m).exp()).sum();
                let zt = z.get(t as usize).map_or(f64::NAN, |&v| f64::from(v));
                ll += m + s.ln() - zt;
            }
            let n = y.len() as f64;
            Ok((
                classes,
                Metrics {
                    accuracy: Some(correct as f64 / n),
                    log_loss: Some(ll / n),
                    ..Metrics::default()
                },
            ))
        }
    }
}

/// Predictions as written by `--predictions` and `predict`: one a line, the shortest decimal
/// that reads back to the same `f32`; for a classifier with a label map (`--remap-labels`),
/// the original label of the class.
pub fn lines(p: &[f32], labels: Option<&[String]>, classifier: bool) -> String {
    let mut s = String::with_capacity(p.len() * 8);
    for v in p {
        match labels.filter(|_| classifier) {
            Some(l) => {
                // A class is an index below the map's length (checked by the card's reader).
                let k = *v as usize;
                s.push_str(l.get(k).map_or("?", String::as_str));
            }
            None => s.push_str(&format!("{v:?}")),
        }
        s.push('\n');
    }
    s
}
