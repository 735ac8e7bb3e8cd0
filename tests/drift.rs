//! The drift detectors (`npoa::control::drift`): River's decisions on fixed streams (known
//! answers from River 0.26), a naive `f64` reimplementation of each (River's code with
//! `Vec`s, unbounded), a window oracle for ADWIN, hostile values, reset, bounded memory, the
//! state bytes, and detection delays / false alarms on an abrupt shift and on 100,000
//! stationary samples (printed).

use npoa::Error;
use npoa::control::drift::{
    ADWIN_MAX_BUCKETS, ADWIN_ROWS, Adwin, AdwinConfig, AnyDetector, Ddm, DdmConfig, Detector,
    DetectorConfig, Eddm, EddmConfig, PageHinkley, PageHinkleyConfig, PhMode, Signal,
};

// ---------------------------------------------------------------- streams (as in River's run)

/// The LCG of the known answers (the same in `/tmp` Python that produced them): 24-bit
/// uniforms, exact in `f32`.
fn lcg(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f64 / (1u64 << 24) as f64
        })
        .collect()
}

/// Uniform [0, 1), +0.3 on [2000, 4000).
fn real_stream() -> Vec<f32> {
    lcg(7, 6000)
        .iter()
        .enumerate()
        .map(|(i, u)| (u + if (2000..4000).contains(&i) { 0.3 } else { 0.0 }) as f32)
        .collect()
}

/// Errors at 10 %, then 30 % from 3000 on.
fn bin_stream() -> Vec<f32> {
    lcg(11, 6000)
        .iter()
        .enumerate()
        .map(|(i, &u)| {
            let p = if i < 3000 { 0.1 } else { 0.3 };
            if u < p { 1.0 } else { 0.0 }
        })
        .collect()
}

/// Standard normal samples (Box-Muller on the LCG), as `f32`.
fn gaussian(seed: u64, n: usize) -> Vec<f32> {
    let u = lcg(seed, 2 * n);
    u.chunks(2)
        .map(|p| {
            let (a, b) = (1.0 - p[0], p[1]);
            ((-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()) as f32
        })
        .collect()
}

fn code(s: Signal) -> u8 {
    match s {
        Signal::Stable => 0,
        Signal::Warning => 1,
        Signal::Drift => 2,
    }
}

/// Drift indices and the FNV-1a hash of the whole signal sequence.
fn run(d: &mut impl Detector, xs: &[f32]) -> (Vec<usize>, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut drifts = Vec::new();
    for (i, &x) in xs.iter().enumerate() {
        let s = d.update(x);
        if s == Signal::Drift {
            drifts.push(i);
        }
        h = (h ^ u64::from(code(s))).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (drifts, h)
}

fn adwin(c: AdwinConfig) -> Adwin {
    Adwin::new(c).expect("valid")
}

// ----------------------------------------------------------------------- River known answers

/// Name, detector, stream, River's drift indices, River's hash of the signals.
type Case<'a> = (&'static str, AnyDetector, &'a [f32], &'static [usize], u64);

#[test]
fn river_known_answers() {
    let (r, b) = (real_stream(), bin_stream());
    let ad = AdwinConfig::default();
    let ph = PageHinkleyConfig::default();
    let cases: Vec<Case<'_>> = vec![
        (
            "adwin",
            AnyDetector::Adwin(adwin(ad)),
            &r,
            &[2079, 4063],
            0xe9d2c29f272b6de5,
        ),
        (
            "adwin clock 1",
            AnyDetector::Adwin(adwin(AdwinConfig { clock: 1, ..ad })),
            &r,
            &[2058, 4050],
            0xb75cd6c860957025,
        ),
        (
            "adwin custom",
            AnyDetector::Adwin(adwin(AdwinConfig {
                delta: 0.05,
                max_buckets: 2,
                min_window_length: 10,
                grace_period: 50,
                clock: 4,
                warning_delta: None,
            })),
            &r,
            &[2055, 4043],
            0x8082375c773da685,
        ),
        (
            "adwin binary",
            AnyDetector::Adwin(adwin(ad)),
            &b,
            &[3103],
            0xa7b2459fc3856cff,
        ),
        (
            "page-hinkley",
            AnyDetector::PageHinkley(PageHinkley::new(ph).unwrap()),
            &r,
            &[2149, 4147],
            0x6b9d2c8bda9c61d5,
        ),
        (
            "page-hinkley up",
            AnyDetector::PageHinkley(
                PageHinkley::new(PageHinkleyConfig {
                    threshold: 5.0,
                    mode: PhMode::Up,
                    ..ph
                })
                .unwrap(),
            ),
            &r,
            &[246, 686, 1201, 1422, 2014, 2154, 2790, 2909, 2978, 3188],
            0x731cd134d28caef5,
        ),
        (
            "page-hinkley down",
            AnyDetector::PageHinkley(
                PageHinkley::new(PageHinkleyConfig {
                    threshold: 5.0,
                    mode: PhMode::Down,
                    alpha: 0.999,
                    delta: 0.01,
                    min_instances: 10,
                })
                .unwrap(),
            ),
            &r,
            &[
                435, 958, 1264, 1989, 2470, 2603, 3730, 3806, 4020, 4275, 4830, 4889, 5873,
            ],
            0x433bb4c724d586d7,
        ),
        (
            "ddm",
            AnyDetector::Ddm(Ddm::new(DdmConfig::default()).unwrap()),
            &b,
            &[86, 3162],
            0x527d184d3ba8b81f,
        ),
        (
            "ddm custom",
            AnyDetector::Ddm(
                Ddm::new(DdmConfig {
                    warm_start: 100,
                    warning_threshold: 1.5,
                    drift_threshold: 2.5,
                })
                .unwrap(),
            ),
            &b,
            &[3078, 3468, 3751, 4095],
            0x79221e695a354505,
        ),
        (
            "eddm",
            AnyDetector::Eddm(Eddm::new(EddmConfig::default()).unwrap()),
            &b,
            &[
                287, 1452, 1712, 2002, 2284, 2618, 2955, 3088, 3426, 3510, 3688, 3768, 3876, 3998,
                4085, 5805, 5905,
            ],
            0x0d8d7ba1ead04c39,
        ),
        (
            "eddm custom",
            AnyDetector::Eddm(
                Eddm::new(EddmConfig {
                    warm_start: 50,
                    alpha: 0.9,
                    beta: 0.8,
                })
                .unwrap(),
            ),
            &b,
            &[461, 1208, 3467],
            0x1b86e01d0b3da823,
        ),
    ];
    for (name, mut d, xs, drifts, hash) in cases {
        let (got, h) = run(&mut d, xs);
        assert_eq!(got, drifts, "{name}: drift indices");
        assert_eq!(
            h, hash,
            "{name}: the sequence of signals (warnings included)"
        );
    }
}

// ------------------------------------------------------------- naive f64 reimplementations

/// River's `AdaptiveWindowing` with `Vec`s (unbounded rows), returns (drift, width, total,
/// variance) after each value.
struct NaiveAdwin {
    c: AdwinConfig,
    rows: Vec<Vec<(f64, f64)>>,
    total: f64,
    var: f64,
    width: f64,
    tick: u64,
    drift: bool,
}

impl NaiveAdwin {
    fn new(c: AdwinConfig) -> Self {
        Self {
            c,
            rows: vec![vec![]],
            total: 0.0,
            var: 0.0,
            width: 0.0,
            tick: 0,
            drift: false,
        }
    }
    fn delete(&mut self) {
        let last = self.rows.len() - 1;
        let n = 2f64.powi(last as i32);
        let (u, v) = self.rows[last][0];
        let mu = u / n;
        self.width -= n;
        self.total -= u;
        let mw = self.total / self.width;
        self.var -= v + n * self.width * (mu - mw) * (mu - mw) / (n + self.width);
        self.rows[last].remove(0);
        if self.rows[last].is_empty() {
            self.rows.pop();
        }
    }
    fn update(&mut self, x: f64) -> bool {
        if self.drift {
            *self = Self::new(self.c);
        }
        self.rows[0].push((x, 0.0));
        self.width += 1.0;
        if self.width > 1.0 {
            let d = x - self.total / (self.width - 1.0);
            self.var += (self.width - 1.0) * d * d / self.width;
        }
        self.total += x;
        let mb = self.c.max_buckets as usize;
        let mut i = 0;
        while self.rows[i].len() == mb + 1 {
            let n1 = 2f64.powi(i as i32);
            let ((t0, v0), (t1, v1)) = (self.rows[i][0], self.rows[i][1]);
            let (m1, m2) = (t0 / n1, t1 / n1);
            let merged = (t0 + t1, v0 + v1 + n1 * 0.5 * (m1 - m2) * (m1 - m2));
            if i + 1 == self.rows.len() {
                self.rows.push(vec![]);
            }
            self.rows[i + 1].push(merged);
            self.rows[i].drain(..2);
            if self.rows[i + 1].len() <= mb {
                break;
            }
            i += 1;
        }
        self.tick += 1;
        let mut change = false;
        let mwl = f64::from(self.c.min_window_length);
        if self.tick.is_multiple_of(u64::from(self.c.clock))
            && self.width > f64::from(self.c.grace_period)
        {
            let mut reduce = true;
            while reduce {
                reduce = false;
                let (mut n0, mut n1, mut u0, mut u1) = (0.0, self.width, 0.0, self.total);
                'scan: for idx in (0..self.rows.len()).rev() {
                    let bs = 2f64.powi(idx as i32);
                    for k in 0..self.rows[idx].len() {
                        n0 += bs;
                        n1 -= bs;
                        u0 += self.rows[idx][k].0;
                        u1 -= self.rows[idx][k].0;
                        if idx == 0 && k == self.rows[idx].len() - 1 {
                            break 'scan;
                        }
                        let dm: f64 = u0 / n0 - u1 / n1;
                        if n1 >= mwl && n0 >= mwl {
                            let dp = (2.0 * self.width.ln() / self.c.delta).ln();
                            let m = 1.0 / (n0 - mwl + 1.0) + 1.0 / (n1 - mwl + 1.0);
                            let eps = (2.0 * m * (self.var / self.width) * dp).sqrt()
                                + 2.0 / 3.0 * dp * m;
                            if dm.abs() > eps {
                                reduce = true;
                                change = true;
                                self.delete();
                                break 'scan;
                            }
                        }
                    }
                }
            }
        }
        self.drift = change;
        change
    }
}

#[test]
fn adwin_equals_the_naive_reimplementation_bit_for_bit() {
    let streams = [real_stream(), bin_stream(), gaussian(3, 5000)];
    for mb in [2u32, 5, 8] {
        for clock in [1u32, 32] {
            for (mwl, grace) in [(5u32, 10u32), (1, 0), (30, 100)] {
                let c = AdwinConfig {
                    max_buckets: mb,
                    clock,
                    min_window_length: mwl,
                    grace_period: grace,
                    ..AdwinConfig::default()
                };
                for xs in &streams {
                    let (mut a, mut n) = (adwin(c), NaiveAdwin::new(c));
                    for (i, &x) in xs.iter().enumerate() {
                        let s = a.update(x);
                        let d = n.update(f64::from(x));
                        assert_eq!(s == Signal::Drift, d, "{c:?} at {i}");
                        assert_eq!(a.width() as f64, n.width, "{c:?} at {i}");
                        assert_eq!(a.total().to_bits(), n.total.to_bits(), "{c:?} at {i}");
                        let v = if n.width > 0.0 { n.var / n.width } else { 0.0 };
                        assert_eq!(a.variance().to_bits(), v.to_bits(), "{c:?} at {i}");
                        let buckets: usize = n.rows.iter().map(Vec::len).sum();
                        assert_eq!(a.buckets(), buckets);
                    }
                }
            }
        }
    }
}

/// An oracle independent of the histogram: the window is the last `width` values since the
/// window (re)started; its total and variance are those values' (to rounding).
#[test]
fn adwin_window_matches_the_values_it_summarises() {
    let xs = gaussian(5, 8000)
        .iter()
        .enumerate()
        .map(|(i, &x)| x + if i >= 5000 { 2.0 } else { 0.0 })
        .collect::<Vec<_>>();
    window_oracle(AdwinConfig::default(), &xs);
    // One bucket per row (where River 0.26 raises after a cut, see `Adwin`'s docs): rows
    // can be empty between full ones.
    let xs = gaussian(6, 3000)
        .iter()
        .enumerate()
        .map(|(i, &x)| x + if i >= 700 { 9.0 } else { 0.0 })
        .collect::<Vec<_>>();
    let one = AdwinConfig {
        max_buckets: 1,
        clock: 3,
        min_window_length: 1,
        grace_period: 0,
        ..AdwinConfig::default()
    };
    window_oracle(one, &xs);
}

fn window_oracle(c: AdwinConfig, xs: &[f32]) {
    let mut a = adwin(c);
    let mut since: Vec<f64> = Vec::new();
    let mut drifts = 0;
    let mut restart = false;
    for &x in xs {
        // River restarts the window at the value after a drift.
        let before = if restart { 0 } else { a.width() };
        let s = a.update(x);
        if a.width() == 1 {
            since.clear();
        }
        since.push(f64::from(x));
        let w = a.width() as usize;
        let win = &since[since.len() - w..];
        let total: f64 = win.iter().sum();
        let mean = total / w as f64;
        let var = win.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / w as f64;
        let scale: f64 = win.iter().map(|v| v.abs()).sum::<f64>() + 1.0;
        assert!((a.total() - total).abs() <= 1e-9 * scale, "total");
        assert!((a.mean() - mean).abs() <= 1e-9 * scale / w as f64 + 1e-12);
        assert!(
            (a.variance() - var).abs() <= 1e-7 * (var + 1.0),
            "variance {} {var}",
            a.variance()
        );
        restart = s == Signal::Drift;
        if s == Signal::Drift {
            drifts += 1;
            assert!(a.width() < before + 1, "a drift shrinks the window");
        } else {
            assert_eq!(a.width(), before + 1, "no drift: the window grows by one");
        }
    }
    assert!(drifts >= 1);
}

/// River's PageHinkley, DDM and EDDM transcribed naively.
#[test]
fn page_hinkley_ddm_eddm_equal_naive_transcriptions() {
    // Page-Hinkley.
    for (xs, mode) in [
        (real_stream(), PhMode::Both),
        (gaussian(9, 20_000), PhMode::Up),
        (gaussian(10, 20_000), PhMode::Down),
    ] {
        let c = PageHinkleyConfig {
            threshold: 8.0,
            mode,
            ..PageHinkleyConfig::default()
        };
        let mut ph = PageHinkley::new(c).unwrap();
        let (mut n, mut mean, mut si, mut sd, mut mi, mut md) =
            (0.0f64, 0.0f64, 0.0f64, 0.0f64, f64::INFINITY, -1.0f64);
        let mut drift = false;
        for &x in &xs {
            if drift {
                (n, mean, si, sd, mi, md, drift) = (0.0, 0.0, 0.0, 0.0, f64::INFINITY, -1.0, false);
            }
            let x = f64::from(x);
            n += 1.0;
            mean += (1.0 / n) * (x - mean);
            let dev = x - mean;
            si = c.alpha * si + dev - c.delta;
            sd = c.alpha * sd + dev + c.delta;
            mi = mi.min(si);
            md = md.max(sd);
            if n >= 30.0 {
                let (up, down) = (si - mi, md - sd);
                drift = match mode {
                    PhMode::Both => up > 8.0 || down > 8.0,
                    PhMode::Up => up > 8.0,
                    PhMode::Down => down > 8.0,
                };
            }
            let s = ph.update(x as f32);
            assert_eq!(s == Signal::Drift, drift);
            assert_eq!(ph.statistics().0.to_bits(), (si - mi).to_bits());
        }
    }
    // DDM.
    let b = bin_stream();
    let mut ddm = Ddm::new(DdmConfig::default()).unwrap();
    let (mut n, mut p, mut pmin, mut smin, mut psmin) = (0.0f64, 0.0f64, 0.0, 0.0, f64::INFINITY);
    let (mut warn, mut drift) = (false, false);
    for &x in &b {
        if drift {
            (n, p, pmin, smin, psmin, warn, drift) =
                (0.0, 0.0, 0.0, 0.0, f64::INFINITY, false, false);
        }
        n += 1.0;
        p += (1.0 / n) * (f64::from(x) - p);
        let s = (p * (1.0 - p) / n).sqrt();
        if n > 30.0 {
            if p + s <= psmin {
                (pmin, smin) = (p, s);
                psmin = pmin + smin;
            }
            warn = p + s > pmin + 2.0 * smin;
            if p + s > pmin + 3.0 * smin {
                drift = true;
                warn = false;
            }
        }
        let want = if drift {
            Signal::Drift
        } else if warn {
            Signal::Warning
        } else {
            Signal::Stable
        };
        assert_eq!(ddm.update(x), want);
    }
    // EDDM.
    let mut eddm = Eddm::new(EddmConfig::default()).unwrap();
    let fresh = (
        0u64, 0u64, 0u64, 0.0f64, 0.0f64, 0.0f64, -1.0f64, false, false,
    );
    let (mut n, mut last, mut errs, mut dn, mut dm, mut m2, mut max, mut warn, mut drift) = fresh;
    for &x in &b {
        if drift {
            (n, last, errs, dn, dm, m2, max, warn, drift) = fresh;
        }
        n += 1;
        if x == 1.0 {
            errs += 1;
            let d = (n - last) as f64;
            let old = dm;
            dn += 1.0;
            dm += (1.0 / dn) * (d - dm);
            m2 += (d - old) * (d - dm);
            if n > 30 {
                let var = if dn > 1.0 { m2 / (dn - 1.0) } else { 0.0 };
                let p2s = dm + 2.0 * var.sqrt();
                if p2s > max {
                    max = p2s;
                } else if errs > 30 {
                    let level = p2s / max;
                    if level < 0.9 {
                        drift = true;
                    } else {
                        warn = level < 0.95;
                    }
                }
            }
            last = n;
        }
        let want = if drift {
            Signal::Drift
        } else if warn {
            Signal::Warning
        } else {
            Signal::Stable
        };
        assert_eq!(eddm.update(x), want);
    }
}

// ------------------------------------------------------------------------ hostile, reset

fn all_four() -> Vec<AnyDetector> {
    vec![
        AnyDetector::new(DetectorConfig::Adwin(AdwinConfig {
            clock: 1,
            warning_delta: Some(0.05),
            ..AdwinConfig::default()
        }))
        .unwrap(),
        AnyDetector::new(DetectorConfig::PageHinkley(PageHinkleyConfig::default())).unwrap(),
        AnyDetector::new(DetectorConfig::Ddm(DdmConfig::default())).unwrap(),
        AnyDetector::new(DetectorConfig::Eddm(EddmConfig::default())).unwrap(),
    ]
}

#[test]
fn non_finite_and_out_of_range_values_are_ignored() {
    let b = bin_stream();
    for mut d in all_four() {
        for &x in &b[..500] {
            d.update(x);
        }
        let before = d.clone();
        let binary = matches!(d, AnyDetector::Ddm(_) | AnyDetector::Eddm(_));
        let mut hostile = vec![f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        if binary {
            hostile.extend([-0.1, 1.0001, 2.0, -f32::MIN_POSITIVE, f32::MAX, -1e-45]);
        }
        for x in hostile {
            assert_eq!(d.update(x), Signal::Stable, "{x}");
            assert_eq!(d, before, "{x} changed the state");
        }
    }
}

#[test]
fn extreme_finite_values_keep_every_statistic_finite() {
    let values = [
        f32::MAX,
        -f32::MAX,
        f32::MIN_POSITIVE,
        1e-45,
        -0.0,
        0.0,
        3e38,
        -3e38,
    ];
    let mut a = adwin(AdwinConfig {
        clock: 1,
        grace_period: 0,
        min_window_length: 1,
        ..AdwinConfig::default()
    });
    let mut ph = PageHinkley::new(PageHinkleyConfig {
        alpha: 1.0,
        ..PageHinkleyConfig::default()
    })
    .unwrap();
    for i in 0..20_000 {
        let x = values[i % values.len()];
        a.update(x);
        ph.update(x);
        assert!(a.total().is_finite() && a.variance().is_finite() && a.mean().is_finite());
        let (u, d) = ph.statistics();
        assert!(u.is_finite() && d.is_finite() && ph.mean().is_finite());
    }
    // Subnormal and signed-zero error values for the binary detectors are "no error".
    let mut ddm = Ddm::new(DdmConfig::default()).unwrap();
    let mut eddm = Eddm::new(EddmConfig::default()).unwrap();
    for x in [1e-45f32, -0.0, 0.0, 1.0] {
        ddm.update(x);
        eddm.update(x);
    }
    assert_eq!((ddm.count(), eddm.count(), eddm.errors()), (4, 4, 1));
}

#[test]
fn reset_gives_a_fresh_detector() {
    let r = real_stream();
    for (mut d, fresh) in all_four().into_iter().zip(all_four()) {
        for &x in &r {
            d.update(x);
        }
        assert_ne!(d, fresh);
        d.reset();
        assert_eq!(d, fresh);
    }
}

#[test]
fn constructors_refuse_bad_parameters() {
    // The constructor and `DetectorConfig::validate` (which builds no detector) agree.
    let bad = |c: DetectorConfig, want: &str| {
        match AnyDetector::new(c) {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, want),
            other => panic!("{want}: {other:?}"),
        }
        match c.validate() {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, want),
            other => panic!("validate, {want}: {other:?}"),
        }
    };
    let a = AdwinConfig::default();
    for (c, name) in [
        (AdwinConfig { delta: 0.0, ..a }, "delta"),
        (AdwinConfig { delta: 1.0, ..a }, "delta"),
        (
            AdwinConfig {
                delta: f64::NAN,
                ..a
            },
            "delta",
        ),
        (AdwinConfig { clock: 0, ..a }, "clock"),
        (
            AdwinConfig {
                max_buckets: 0,
                ..a
            },
            "max_buckets",
        ),
        (
            AdwinConfig {
                max_buckets: ADWIN_MAX_BUCKETS as u32 + 1,
                ..a
            },
            "max_buckets",
        ),
        (
            AdwinConfig {
                min_window_length: 0,
                ..a
            },
            "min_window_length",
        ),
        (
            AdwinConfig {
                warning_delta: Some(0.001),
                ..a
            },
            "warning_delta",
        ),
        (
            AdwinConfig {
                warning_delta: Some(f64::INFINITY),
                ..a
            },
            "warning_delta",
        ),
    ] {
        bad(DetectorConfig::Adwin(c), name);
    }
    let p = PageHinkleyConfig::default();
    for (c, name) in [
        (PageHinkleyConfig { delta: -1.0, ..p }, "delta"),
        (
            PageHinkleyConfig {
                threshold: 0.0,
                ..p
            },
            "threshold",
        ),
        (
            PageHinkleyConfig {
                threshold: f64::INFINITY,
                ..p
            },
            "threshold",
        ),
        (PageHinkleyConfig { alpha: 0.0, ..p }, "alpha"),
        (PageHinkleyConfig { alpha: 1.5, ..p }, "alpha"),
        (
            PageHinkleyConfig {
                alpha: f64::NAN,
                ..p
            },
            "alpha",
        ),
    ] {
        bad(DetectorConfig::PageHinkley(c), name);
    }
    let d = DdmConfig::default();
    for (c, name) in [
        (
            DdmConfig {
                warning_threshold: -1.0,
                ..d
            },
            "warning_threshold",
        ),
        (
            DdmConfig {
                drift_threshold: 1.0,
                ..d
            },
            "drift_threshold",
        ),
        (
            DdmConfig {
                drift_threshold: f64::NAN,
                ..d
            },
            "drift_threshold",
        ),
    ] {
        bad(DetectorConfig::Ddm(c), name);
    }
    let e = EddmConfig::default();
    for (c, name) in [
        (EddmConfig { beta: 0.0, ..e }, "beta"),
        (EddmConfig { alpha: 0.5, ..e }, "alpha"),
        (EddmConfig { alpha: 1.5, ..e }, "alpha"),
        (
            EddmConfig {
                beta: f64::NAN,
                ..e
            },
            "beta",
        ),
    ] {
        bad(DetectorConfig::Eddm(c), name);
    }
    assert!(Adwin::with_warning(0.01).is_ok());
    assert!(Adwin::with_warning(0.001).is_err());
}

// ------------------------------------------------------------------------ bounded memory

#[test]
fn sizes_are_bounded() {
    use std::mem::size_of;
    let sizes = [
        ("Adwin", size_of::<Adwin>(), 3000),
        ("PageHinkley", size_of::<PageHinkley>(), 96),
        ("Ddm", size_of::<Ddm>(), 80),
        ("Eddm", size_of::<Eddm>(), 96),
        ("AnyDetector", size_of::<AnyDetector>(), 3008),
    ];
    for (name, size, bound) in sizes {
        println!("size_of::<{name}>() = {size} bytes (documented bound {bound})");
        assert!(size <= bound, "{name}: {size} > {bound}");
    }
}

/// With one bucket per row the window is bounded at 2^20 − 1 samples; past that the oldest
/// bucket is forgotten (a constant stream: no change, no signal), and what remains is the
/// newest values.
#[test]
fn adwin_window_is_bounded() {
    let mut a = adwin(AdwinConfig {
        max_buckets: 1,
        clock: u32::MAX,
        ..AdwinConfig::default()
    });
    let bound = (1u64 << ADWIN_ROWS) - 1;
    let mut widest = 0;
    for _ in 0..(bound + 50_000) {
        assert_eq!(a.update(1.0), Signal::Stable);
        widest = widest.max(a.width());
        assert!(a.buckets() <= ADWIN_ROWS);
    }
    println!("ADWIN max_buckets=1: widest window {widest} (bound {bound})");
    assert!(widest <= bound);
    assert!(a.width() > bound / 2);
    assert_eq!(a.total(), a.width() as f64);
}

// ------------------------------------------------------------------------------ state bytes

fn reseal(buf: &mut [u8]) {
    let n = buf.len() - 4;
    let c = npoa::model::bytes::crc32(&buf[..n]);
    buf[n..].copy_from_slice(&c.to_le_bytes());
}

fn encode(d: &AnyDetector) -> Vec<u8> {
    let mut buf = vec![0u8; AnyDetector::ENCODED_LEN];
    assert_eq!(d.encode(&mut buf).unwrap(), AnyDetector::ENCODED_LEN);
    buf
}

#[test]
fn encoded_lengths() {
    assert_eq!(Adwin::ENCODED_LEN, 2989);
    assert_eq!(PageHinkley::ENCODED_LEN, 91);
    assert_eq!(Ddm::ENCODED_LEN, 75);
    assert_eq!(Eddm::ENCODED_LEN, 91);
    assert_eq!(AnyDetector::ENCODED_LEN, 2989);
}

#[test]
fn round_trip_at_every_stage_and_resume_bit_exactly() {
    let (r, b) = (real_stream(), bin_stream());
    for proto in all_four() {
        let xs = if matches!(proto, AnyDetector::Ddm(_) | AnyDetector::Eddm(_)) {
            &b
        } else {
            &r
        };
        let mut d = proto.clone();
        for (i, &x) in xs.iter().enumerate() {
            let s = d.update(x);
            if i % 499 == 0 || s == Signal::Drift {
                let bytes = encode(&d);
                let back = AnyDetector::decode(&bytes).expect("decodes");
                assert_eq!(back, d, "at {i}");
                assert_eq!(encode(&back), bytes, "re-encodes to the same bytes");
                // Resume: the decoded copy makes the same decisions on the rest.
                let (mut x1, mut x2) = (d.clone(), back);
                for &y in &xs[i + 1..(i + 200).min(xs.len())] {
                    assert_eq!(x1.update(y), x2.update(y));
                }
            }
        }
        // Each type's own encoding too.
        let mut own = vec![0u8; 4096];
        match &d {
            AnyDetector::Adwin(a) => {
                let n = a.encode(&mut own).unwrap();
                assert_eq!(Adwin::decode(&own[..n]).unwrap(), *a);
                assert!(PageHinkley::decode(&own[..n]).is_err());
            }
            AnyDetector::PageHinkley(a) => {
                let n = a.encode(&mut own).unwrap();
                assert_eq!(PageHinkley::decode(&own[..n]).unwrap(), *a);
                // Same length as an EDDM's: refused by its tag.
                assert!(Eddm::decode(&own[..n]).is_err());
            }
            AnyDetector::Ddm(a) => {
                let n = a.encode(&mut own).unwrap();
                assert_eq!(Ddm::decode(&own[..n]).unwrap(), *a);
            }
            AnyDetector::Eddm(a) => {
                let n = a.encode(&mut own).unwrap();
                assert_eq!(Eddm::decode(&own[..n]).unwrap(), *a);
                assert!(PageHinkley::decode(&own[..n]).is_err());
            }
        }
    }
}

#[test]
fn truncated_flipped_and_short_buffers_are_refused() {
    let (r, b) = (real_stream(), bin_stream());
    for mut d in all_four() {
        let xs = if matches!(d, AnyDetector::Ddm(_) | AnyDetector::Eddm(_)) {
            &b
        } else {
            &r
        };
        for &x in &xs[..1500] {
            d.update(x);
        }
        let bytes = encode(&d);
        assert!(matches!(
            AnyDetector::decode(&bytes[..bytes.len() - 1]),
            Err(Error::LengthMismatch { .. })
        ));
        let mut short = vec![0u8; AnyDetector::ENCODED_LEN - 1];
        assert!(matches!(
            d.encode(&mut short),
            Err(Error::LengthMismatch { .. })
        ));
        // Every byte of the small ones, every third of ADWIN's (a CRC-32 catches any
        // single-bit error; this checks that the decoder looks at it).
        let step = if bytes.len() > 1000 { 3 } else { 1 };
        for i in (0..bytes.len()).step_by(step) {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << (i % 8);
            assert!(AnyDetector::decode(&bad).is_err(), "flip in byte {i}");
        }
    }
}

#[test]
fn impossible_states_are_refused_even_with_a_valid_checksum() {
    let refuses = |bytes: &[u8], what: &str| {
        let mut v = bytes.to_vec();
        reseal(&mut v);
        match AnyDetector::decode(&v) {
            Err(Error::InvalidBytes { .. } | Error::InvalidParameter { .. }) => {}
            other => panic!("{what}: {other:?}"),
        }
    };
    let put_f64 =
        |v: &mut Vec<u8>, at: usize, x: f64| v[at..at + 8].copy_from_slice(&x.to_le_bytes());
    // ADWIN, after 1000 values (raw at 9: config 33, state at 42).
    let mut a = all_four().remove(0);
    for &x in &real_stream()[..1000] {
        a.update(x);
    }
    let good = encode(&a);
    let mut v = good.clone();
    assert!(AnyDetector::decode(&v).is_ok());
    v[8] = 9;
    refuses(&v, "unknown tag");
    let bucket = |row: usize, k: usize| 105 + (row * (ADWIN_MAX_BUCKETS + 1) + k) * 16;
    let mut v = good.clone();
    put_f64(&mut v, bucket(1, 0) + 8, -1.0);
    refuses(&v, "negative bucket variance");
    let mut v = good.clone();
    put_f64(&mut v, bucket(0, 0) + 8, 0.5);
    refuses(&v, "variance in a one-sample bucket");
    let mut v = good.clone();
    put_f64(&mut v, 58, 999.0);
    refuses(&v, "width differs from the buckets");
    let mut v = good.clone();
    v[85] = 7;
    refuses(&v, "row holds more than max_buckets");
    let mut v = good.clone();
    put_f64(&mut v, bucket(ADWIN_ROWS - 1, ADWIN_MAX_BUCKETS), 1.0);
    refuses(&v, "unused slot not zero");
    let mut v = good.clone();
    put_f64(&mut v, 42, f64::NAN);
    refuses(&v, "non-finite total");
    let mut v = good.clone();
    v[82] = 0;
    refuses(&v, "zero rows");
    let mut v = good.clone();
    v[9..17].copy_from_slice(&2.0f64.to_le_bytes());
    refuses(&v, "delta out of range");
    // Page-Hinkley (state at 38: n, mean, sum+, sum-, min+, max-, drift).
    let mut p = all_four().remove(1);
    for &x in &real_stream()[..500] {
        p.update(x);
    }
    let good = encode(&p);
    let mut v = good.clone();
    put_f64(&mut v, 38, 1.5);
    refuses(&v, "fractional count");
    let mut v = good.clone();
    put_f64(&mut v, 70, 1e9);
    refuses(&v, "min above its sum");
    let mut v = good.clone();
    v[8 + 1 + PAGE_HINKLEY_RAW_LEN_FOR_TEST] = 1;
    refuses(&v, "padding not zero");
    // DDM (state at 29: n, p, p_min, s_min, ps_min, warning, drift).
    let mut d = all_four().remove(2);
    for &x in &bin_stream()[..500] {
        d.update(x);
    }
    let good = encode(&d);
    let mut v = good.clone();
    put_f64(&mut v, 37, 1.5);
    refuses(&v, "error rate above 1");
    let mut v = good.clone();
    put_f64(&mut v, 61, 0.0);
    refuses(&v, "ps_min not the sum of its terms");
    // EDDM (state at 29: n, last error, errors).
    let mut e = all_four().remove(3);
    for &x in &bin_stream()[..500] {
        e.update(x);
    }
    let good = encode(&e);
    let mut v = good.clone();
    v[45..53].copy_from_slice(&10_000u64.to_le_bytes());
    refuses(&v, "more errors than values");
}

/// Page-Hinkley's raw bytes (the padding after them must be zero in an AnyDetector).
const PAGE_HINKLEY_RAW_LEN_FOR_TEST: usize = npoa::state::PAGE_HINKLEY_RAW_LEN;

// ------------------------------------------------------------- delays and false alarms

#[test]
fn abrupt_shift_delay_and_stationary_false_alarms() {
    // N(0, 1), mean 1 from sample 1000 on.
    let change = 1000;
    let xs: Vec<f32> = gaussian(21, 3000)
        .iter()
        .enumerate()
        .map(|(i, &x)| x + if i >= change { 1.0 } else { 0.0 })
        .collect();
    let stationary = gaussian(22, 100_000);
    let errors: Vec<f32> = lcg(23, 4000)
        .iter()
        .enumerate()
        .map(|(i, &u)| {
            if u < if i < 2000 { 0.1 } else { 0.4 } {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let stationary_errors: Vec<f32> = lcg(24, 100_000)
        .iter()
        .map(|&u| if u < 0.1 { 1.0 } else { 0.0 })
        .collect();
    let report = |name: &str, d: AnyDetector, shift: &[f32], at: usize, calm: &[f32]| {
        let (drifts, _) = run(&mut d.clone(), shift);
        let first = drifts.iter().find(|&&i| i >= at).map(|&i| i - at);
        let early = drifts.iter().filter(|&&i| i < at).count();
        let (calm_drifts, _) = run(&mut d.clone(), calm);
        println!(
            "{name:12}: delay {first:?} after the change at {at} ({early} false alarms \
             before it); {} false alarms in {} stationary samples",
            calm_drifts.len(),
            calm.len()
        );
        (first, early, calm_drifts.len())
    };
    let [a, p, d, e]: [AnyDetector; 4] = [
        AnyDetector::new(DetectorConfig::Adwin(AdwinConfig::default())).unwrap(),
        AnyDetector::new(DetectorConfig::PageHinkley(PageHinkleyConfig::default())).unwrap(),
        AnyDetector::new(DetectorConfig::Ddm(DdmConfig::default())).unwrap(),
        AnyDetector::new(DetectorConfig::Eddm(EddmConfig::default())).unwrap(),
    ];
    let (delay, early, calm) = report("ADWIN", a, &xs, change, &stationary);
    assert!(delay.is_some_and(|d| d <= 200) && early == 0 && calm <= 2);
    let (delay, _, _) = report("PageHinkley", p, &xs, change, &stationary);
    assert!(delay.is_some_and(|d| d <= 200));
    let (delay, early, calm) = report("DDM", d, &errors, 2000, &stationary_errors);
    assert!(delay.is_some_and(|d| d <= 300) && early <= 1 && calm <= 2);
    let (delay, _, _) = report("EDDM", e, &errors, 2000, &stationary_errors);
    assert!(delay.is_some());
}

#[test]
fn adwin_warning_zone_does_not_change_drifts() {
    let xs: Vec<f32> = gaussian(31, 6000)
        .iter()
        .enumerate()
        .map(|(i, &x)| x + ((i as f32 - 2000.0) / 2000.0).clamp(0.0, 1.0))
        .collect();
    let plain = run(&mut adwin(AdwinConfig::default()), &xs).0;
    let mut w = Adwin::with_warning(0.1).unwrap();
    let mut drifts = Vec::new();
    let mut first_warning = None;
    for (i, &x) in xs.iter().enumerate() {
        match w.update(x) {
            Signal::Drift => drifts.push(i),
            Signal::Warning => {
                first_warning.get_or_insert(i);
            }
            Signal::Stable => {}
        }
    }
    println!(
        "ADWIN on a gradual shift from 2000: drifts {drifts:?}, first warning {first_warning:?}"
    );
    assert_eq!(drifts, plain);
    assert!(first_warning.is_some_and(|w| drifts.first().is_none_or(|&d| w < d)));
}
