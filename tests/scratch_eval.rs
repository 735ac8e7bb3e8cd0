#![cfg(feature = "std")]
#[path = "../examples/shared/sensor.rs"]
mod sensor;
use npoa::control::drift::*;
use npoa::online::*;
use npoa::optim::RlsConfig;

fn short_recovery(errors: &[f32], swap: usize) -> usize {
    let r = |i: usize| errors[i - 9..=i].iter().sum::<f32>() / 10.0;
    let Some(up) = (swap..errors.len()).find(|&i| r(i) >= 0.01) else { return 0 };
    (up..errors.len()).find(|&i| r(i) < 0.01).map_or(usize::MAX, |i| i - swap)
}

#[test]
#[ignore]
fn eval() {
    let adwin = DetectorConfig::Adwin(AdwinConfig::default());
    let adwin4 = DetectorConfig::Adwin(AdwinConfig { clock: 4, ..AdwinConfig::default() });
    let adwinw = DetectorConfig::Adwin(AdwinConfig { clock: 4, warning_delta: Some(0.02), ..AdwinConfig::default() });
    let ph = DetectorConfig::PageHinkley(PageHinkleyConfig { mode: PhMode::Up, ..PageHinkleyConfig::default() });
    let rls1 = Some(RlsConfig { forgetting: 1.0, ..RlsConfig::default() });
    let rls999 = Some(RlsConfig { forgetting: 0.999, ..RlsConfig::default() });
    let base = sensor::config(Some(Drift::default()));
    let cases: Vec<(&str, OnlineConfig)> = vec![
        ("sgd heuristic", base),
        ("sgd adwin", OnlineConfig { drift: None, detector: Some(adwin), ..base }),
        ("sgd adwin4", OnlineConfig { drift: None, detector: Some(adwin4), ..base }),
        ("sgd ph", OnlineConfig { drift: None, detector: Some(ph), ..base }),
        ("rls1 heuristic", OnlineConfig { rls: rls1, ..base }),
        ("rls1 adwin", OnlineConfig { drift: None, detector: Some(adwin), rls: rls1, ..base }),
        ("rls1 adwin4", OnlineConfig { drift: None, detector: Some(adwin4), rls: rls1, ..base }),
        ("rls1 adwin4w", OnlineConfig { drift: None, detector: Some(adwinw), rls: rls1, ..base }),
        ("rls1 ph", OnlineConfig { drift: None, detector: Some(ph), rls: rls1, ..base }),
        ("rls999 ph", OnlineConfig { drift: None, detector: Some(ph), rls: rls999, ..base }),
        ("sgd ph+heur", OnlineConfig { detector: Some(ph), ..base }),
        ("rls1 ph+heur", OnlineConfig { detector: Some(ph), rls: rls1, ..base }),
        ("rls999 adwin4", OnlineConfig { drift: None, detector: Some(adwin4), rls: rls999, ..base }),
    ];
    for (name, cfg) in cases {
        let mut rec = vec![];
        let mut falses = vec![];
        for seed in [7u64, 8, 9] {
            let s = sensor::stream(4000, seed);
            let t = sensor::run_config(&s, cfg);
            rec.push(short_recovery(&t.errors, 2000));
            let s = sensor::stream(200_000, seed);
            let t = sensor::run_config(&s[..100_000], cfg);
            let e = &t.errors[99_000..];
            falses.push((t.learner.restarts(), e.iter().sum::<f32>() / e.len() as f32));
        }
        println!("{name:16} recovery {rec:?} stationary (restarts, mse) {falses:?}");
    }
}
