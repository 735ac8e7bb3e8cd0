//! Strategy search: budget respected, seeded and reproducible, better than a poor fixed rate,
//! and settings checked.

use npoa::LinearModel;
use npoa::train::search::{Candidate, Method, SearchConfig, search};
use npoa::train::{Dataset, TrainConfig};

fn problem() -> (Vec<f32>, Vec<f32>) {
    let n = 240;
    let x: Vec<f32> = (0..n * 3)
        .map(|i| ((i * 7919 % 1000) as f32) / 250.0 - 2.0)
        .collect();
    let y: Vec<f32> = x
        .chunks_exact(3)
        .map(|r| 0.7 * r[0] - 1.3 * r[1] + 0.2 * r[2] + 0.5)
        .collect();
    (x, y)
}

fn cfg(method: Method, seed: u64) -> SearchConfig {
    SearchConfig {
        lr: (1e-4, 1.0),
        gamma: (0.9, 1.0),
        method,
        budget: 12,
        seed,
        train: TrainConfig {
            epochs: 30,
            batch_size: 16,
            seed: 1,
            ..TrainConfig::default()
        },
    }
}

#[test]
fn random_and_annealing_search() {
    let (x, y) = problem();
    let (tx, vx) = x.split_at(180 * 3);
    let (ty, vy) = y.split_at(180);
    let train = Dataset::new(tx, ty, 3).unwrap();
    let val = Dataset::new(vx, vy, 3).unwrap();
    let anneal = Method::Annealing {
        t0: 1.0,
        cooling: 0.8,
        step: 0.2,
    };
    for method in [Method::Random, anneal] {
        let mut trials: Vec<Candidate> = vec![];
        let (best, model) =
            search::<LinearModel<3>>(&train, &val, &cfg(method, 42), &mut |c| trials.push(*c))
                .unwrap();
        assert_eq!(trials.len(), 12, "{method:?}");
        assert!(
            trials
                .iter()
                .all(|c| (1e-4..=1.0).contains(&c.lr) && (0.9..=1.0).contains(&c.gamma))
        );
        let min = trials.iter().map(|c| c.score).fold(f32::INFINITY, f32::min);
        assert_eq!(best.score, min);
        assert_eq!(model.loss(vx, vy).unwrap(), best.score);
        // Reproducible: the same seed gives the same trials, bit for bit.
        let mut again = vec![];
        search::<LinearModel<3>>(&train, &val, &cfg(method, 42), &mut |c| again.push(*c)).unwrap();
        assert_eq!(trials, again);
        // And it beats the smallest rate of the range, fixed, on the same budget per run.
        let (slow, _) = search::<LinearModel<3>>(
            &train,
            &val,
            &SearchConfig {
                lr: (1e-4, 1e-4),
                gamma: (1.0, 1.0),
                budget: 1,
                ..cfg(method, 1)
            },
            &mut |_| {},
        )
        .unwrap();
        assert!(
            best.score < 0.01 * slow.score,
            "{method:?}: {} vs {}",
            best.score,
            slow.score
        );
    }
    // Another seed explores other points.
    let mut a = vec![];
    let mut b = vec![];
    search::<LinearModel<3>>(&train, &val, &cfg(Method::Random, 1), &mut |c| a.push(*c)).unwrap();
    search::<LinearModel<3>>(&train, &val, &cfg(Method::Random, 2), &mut |c| b.push(*c)).unwrap();
    assert_ne!(a, b);
}

#[test]
fn bad_settings() {
    let (x, y) = problem();
    let d = Dataset::new(&x, &y, 3).unwrap();
    let bad = [
        SearchConfig {
            lr: (0.0, 1.0),
            ..cfg(Method::Random, 0)
        },
        SearchConfig {
            lr: (1.0, 0.1),
            ..cfg(Method::Random, 0)
        },
        SearchConfig {
            gamma: (0.5, 1.5),
            ..cfg(Method::Random, 0)
        },
        SearchConfig {
            budget: 0,
            ..cfg(Method::Random, 0)
        },
        cfg(
            Method::Annealing {
                t0: 0.0,
                cooling: 0.5,
                step: 0.1,
            },
            0,
        ),
        cfg(
            Method::Annealing {
                t0: 1.0,
                cooling: 1.0,
                step: 0.1,
            },
            0,
        ),
        cfg(
            Method::Annealing {
                t0: 1.0,
                cooling: 0.5,
                step: 0.0,
            },
            0,
        ),
    ];
    for c in bad {
        assert!(
            matches!(
                search::<LinearModel<3>>(&d, &d, &c, &mut |_| {}),
                Err(npoa::Error::InvalidParameter { .. })
            ),
            "{c:?}"
        );
    }
}
