//! `npoa export --c`: the generated headers, compiled into C programs (two models in each
//! translation unit), predict the same bits as npoa on thousands of rows, extreme values
//! included.
//!
//! With `gcc` on the PATH (else the test prints a notice and passes): each program is built
//! with `gcc -std=c99 -O2 -ffp-contract=off -Wall -Wextra -Wpedantic -Werror`, and once more
//! in GNU mode with `-O3 -march=native` and no `-ffp-contract` (GCC's default there fuses
//! multiply-adds on an FPU with FMA; the header's own `#pragma` must prevent it). With
//! `NPOA_EXPORT_ARM=1` (CI, `scripts/ci-export.sh`), the same programs are compiled and linked
//! for a Cortex-M4F with `arm-none-eabi-gcc` and run under `qemu-arm` (semihosting), and
//! their outputs are checked the same way; missing tools then fail the test.

use npoa::loss::Loss;
use npoa::{DynLinearModel, DynModel, LinearClassifier, LinearModel};
use npoa_cli::export::c_header;
use npoa_cli::meta::Meta;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// SplitMix64: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[-1, 1)`.
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / 16_777_216.0) * 2.0 - 1.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A weight with an "odd" value: any mantissa, exponents spread over a wide range, now
    /// and then zero or subnormal.
    fn weight(&mut self) -> f32 {
        match self.below(16) {
            0 => 0.0,
            1 => f32::from_bits(1 + self.below(0x007f_ffff) as u32) * self.sign(),
            2 => self.unit() * 1e6,
            3 => self.unit() * 1e-6,
            _ => self.unit() * 3.0,
        }
    }
    fn sign(&mut self) -> f32 {
        if self.next() & 1 == 0 { 1.0 } else { -1.0 }
    }
    /// A feature value: mostly ordinary, with a tail of extreme ones (huge, tiny, subnormal,
    /// signed zeros, values that make the products overflow).
    fn feature(&mut self, scale: f32) -> f32 {
        match self.below(40) {
            0 => f32::from_bits(1 + self.below(0x007f_ffff) as u32) * self.sign(),
            1 => -0.0,
            2 => 0.0,
            3 => f32::MAX * self.unit(),
            4 => self.unit() * 1e30,
            5 => f32::MIN_POSITIVE * self.sign(),
            6 => self.unit() * 1e-30,
            7..=12 => self.unit() * scale * 30.0,
            _ => self.unit() * scale,
        }
    }
}

/// What the C program prints for one model, and how npoa computes it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// `predict`.
    Regression,
    /// `predict`, `predict_proba`, `predict_class`.
    Logistic,
    /// `predict`, `predict_mean`.
    Poisson,
    /// `logits` (K), `predict_class`, `predict_proba` (K).
    Softmax(usize),
}

/// One model under test: its header, and npoa's outputs for its rows.
struct Case {
    name: String,
    model: DynModel,
    d: usize,
    kind: Kind,
    /// Row-major, `d` per row.
    rows: Vec<f32>,
    /// npoa's outputs of each row, as the C program prints them (`%08x` words).
    expected: Vec<String>,
    /// How many outputs are NaN (compared as "both NaN", not by payload).
    nan_outputs: usize,
    /// Rows whose Poisson mean by the C library's `exp` (what `f64::exp` calls) differs.
    std_exp_differs: usize,
}

fn hex(v: f32) -> String {
    format!("{:08x}", v.to_bits())
}

/// npoa's Poisson mean `e^z` in `f64` with the `libm` crate, rounded once (the loss's
/// derivative at `y = 0` is exactly `libm::exp(z) − 0`).
fn poisson_mean(z: f32) -> f32 {
    Loss::Poisson.derivative64(f64::from(z), 0.0) as f32
}

/// A linear model of `D` features for `loss`, its rows and npoa's outputs: the fixed-size
/// model's infallible `predict_one` on every row, and the run-time `DynModel`'s checked
/// predictions (which must agree wherever they succeed).
fn linear_case<const D: usize>(name: &str, loss: Loss, seed: u64, n: usize) -> Case {
    let mut rng = Rng(seed);
    let w: [f32; D] = std::array::from_fn(|_| rng.weight());
    let b = rng.weight();
    let fixed = LinearModel::from_parts(w, b, loss).unwrap();
    let dynm = DynLinearModel::new(w.to_vec(), b)
        .unwrap()
        .with_loss(loss)
        .unwrap();
    let kind = match loss {
        Loss::Logistic => Kind::Logistic,
        Loss::Poisson => Kind::Poisson,
        _ => Kind::Regression,
    };
    // Scale the features so that the outputs spread over the interesting range of the link.
    let wmax = w.iter().fold(0.0f32, |a, v| a.max(v.abs())).max(1e-3);
    let scale = match kind {
        Kind::Logistic => 4.0 / (wmax * D as f32),
        Kind::Poisson => 3.0 / (wmax * D as f32),
        _ => 10.0,
    };
    let mut case = Case {
        name: name.into(),
        model: DynModel::Linear(dynm.clone()),
        d: D,
        kind,
        rows: Vec::with_capacity(n * D),
        expected: Vec::with_capacity(n),
        nan_outputs: 0,
        std_exp_differs: 0,
    };
    for _ in 0..n {
        let x: [f32; D] = std::array::from_fn(|_| rng.feature(scale));
        case.rows.extend_from_slice(&x);
        let z = fixed.predict_one(&x);
        let mut out = [0.0f32];
        if dynm.predict_batch(&x, &mut out).is_ok() {
            assert_eq!(
                out[0].to_bits(),
                z.to_bits(),
                "{name}: DynModel vs LinearModel"
            );
        }
        if let Ok(p) = fixed.predict(&x) {
            assert_eq!(p.to_bits(), z.to_bits(), "{name}: predict vs predict_one");
        }
        let mut words = vec![z];
        match kind {
            Kind::Logistic => {
                let p = npoa::loss::sigmoid(z);
                if let Ok(q) = fixed.predict_proba(&x) {
                    assert_eq!(q.to_bits(), p.to_bits(), "{name}: predict_proba");
                }
                words.push(p);
                words.push(if z >= 0.0 { 1.0 } else { 0.0 });
            }
            Kind::Poisson => {
                let mu = poisson_mean(z);
                case.std_exp_differs +=
                    usize::from((f64::from(z).exp() as f32).to_bits() != mu.to_bits());
                words.push(mu);
            }
            _ => {}
        }
        push_expected(&mut case, &words, kind);
    }
    case
}

/// A softmax classifier of `D` features and `K` classes.
fn softmax_case<const D: usize, const K: usize>(name: &str, seed: u64, n: usize) -> Case {
    let mut rng = Rng(seed);
    let w: [[f32; D]; K] = std::array::from_fn(|_| std::array::from_fn(|_| rng.weight()));
    let b: [f32; K] = std::array::from_fn(|_| rng.weight());
    let fixed = LinearClassifier::new(w, b).unwrap();
    let mut buf = vec![0u8; npoa::model::bytes::encoded_len(D, K)];
    let len = fixed.to_bytes(&mut buf).unwrap();
    let model = DynModel::from_bytes(&buf[..len]).unwrap();
    let DynModel::Classifier(dynm) = model.clone() else {
        panic!("{name}: not a classifier")
    };
    let wmax = w
        .as_flattened()
        .iter()
        .fold(0.0f32, |a, v| a.max(v.abs()))
        .max(1e-3);
    let scale = 20.0 / (wmax * D as f32);
    let mut case = Case {
        name: name.into(),
        model,
        d: D,
        kind: Kind::Softmax(K),
        rows: Vec::with_capacity(n * D),
        expected: Vec::with_capacity(n),
        nan_outputs: 0,
        std_exp_differs: 0,
    };
    for _ in 0..n {
        let x: [f32; D] = std::array::from_fn(|_| rng.feature(scale));
        case.rows.extend_from_slice(&x);
        // The logits, `predict_class` and `predict_proba` of the fixed-size classifier where
        // its checks pass (every logit finite); otherwise the same formulas on the logits of
        // the row-by-row kernel, which the C program must follow as well.
        let z: [f32; K] = match fixed.logits(&x) {
            Ok(z) => z,
            Err(_) => {
                std::array::from_fn(|c| LinearModel::<D>::new(w[c], b[c]).unwrap().predict_one(&x))
            }
        };
        let (class, p) = match (fixed.predict_class(&x), fixed.predict_proba(&x)) {
            (Ok(c), Ok(p)) => {
                let mut dz = [0.0f32; K];
                dynm.logits(&x, &mut dz).unwrap();
                assert_eq!(
                    dz.map(f32::to_bits),
                    z.map(f32::to_bits),
                    "{name}: Dyn logits"
                );
                assert_eq!(dynm.predict_class(&x).unwrap(), c, "{name}: Dyn class");
                let mut dp = [0.0f32; K];
                dynm.predict_proba(&x, &mut dp).unwrap();
                assert_eq!(
                    dp.map(f32::to_bits),
                    p.map(f32::to_bits),
                    "{name}: Dyn proba"
                );
                (c, p)
            }
            _ => (argmax(&z), softmax_reference(&z)),
        };
        let mut words = z.to_vec();
        words.push(class as f32);
        words.extend_from_slice(&p);
        push_expected(&mut case, &words, Kind::Softmax(K));
    }
    case
}

/// The first index of the largest value (npoa's rule), for rows npoa's checked API refuses.
fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// npoa's softmax formula (`LinearClassifier::predict_proba`), for rows its checks refuse.
fn softmax_reference<const K: usize>(z: &[f32; K]) -> [f32; K] {
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
    let e: Vec<f64> = z
        .iter()
        .map(|&v| Loss::Poisson.derivative64(f64::from(v) - m, 0.0))
        .collect();
    let s: f64 = e.iter().fold(0.0, |a, v| a + v);
    std::array::from_fn(|c| (e[c] / s) as f32)
}

fn push_expected(case: &mut Case, words: &[f32], kind: Kind) {
    case.nan_outputs += words.iter().filter(|v| v.is_nan()).count();
    // Classes print as integers, the rest as float bits.
    let class_at = match kind {
        Kind::Logistic => Some(2),
        Kind::Softmax(k) => Some(k),
        _ => None,
    };
    let line: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if Some(i) == class_at {
                format!("{}", v as u32)
            } else {
                hex(v)
            }
        })
        .collect();
    case.expected.push(line.join(" "));
}

/// The C code that reads one model's rows from stdin and prints its outputs.
fn c_block(case: &Case) -> String {
    let (n, m) = (&case.name, case.name.to_ascii_uppercase());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    {{\n        float x[{m}_FEATURES];\n        long rows, r;\n        int j;\n        if (!read_count(&rows)) return 2;\n        for (r = 0; r < rows; r++) {{\n            for (j = 0; j < {m}_FEATURES; j++) {{\n                unsigned long u;\n                if (!read_word(&u)) return 3;\n                x[j] = from_bits((uint32_t)u);\n            }}"
    );
    match case.kind {
        Kind::Regression => {
            let _ = writeln!(s, "            printf(\"%08lx\\n\", bits({n}_predict(x)));");
        }
        Kind::Logistic => {
            let _ = writeln!(
                s,
                "            printf(\"%08lx %08lx %d\\n\", bits({n}_predict(x)), bits({n}_predict_proba(x)), {n}_predict_class(x));"
            );
        }
        Kind::Poisson => {
            let _ = writeln!(
                s,
                "            printf(\"%08lx %08lx\\n\", bits({n}_predict(x)), bits({n}_predict_mean(x)));"
            );
        }
        Kind::Softmax(_) => {
            let _ = writeln!(
                s,
                "            float z[{m}_CLASSES], p[{m}_CLASSES];\n            int c;\n            {n}_logits(x, z);\n            {n}_predict_proba(x, p);\n            for (c = 0; c < {m}_CLASSES; c++) printf(\"%08lx \", bits(z[c]));\n            printf(\"%d\", {n}_predict_class(x));\n            for (c = 0; c < {m}_CLASSES; c++) printf(\" %08lx\", bits(p[c]));\n            printf(\"\\n\");"
            );
        }
    }
    s.push_str("        }\n    }\n");
    s
}

/// A program including the headers of `cases` (one translation unit).
fn c_program(cases: &[&Case]) -> String {
    let mut s = String::new();
    for c in cases {
        let _ = writeln!(s, "#include \"{}.h\"", c.name);
    }
    s.push_str(
        "#include <stdio.h>\n#include <stdint.h>\n\nstatic float from_bits(uint32_t u) {\n    union { uint32_t u; float f; } v;\n    v.u = u;\n    return v.f;\n}\n\nstatic unsigned long bits(float f) {\n    union { float f; uint32_t u; } v;\n    v.f = f;\n    return (unsigned long)v.u;\n}\n\n#ifdef NPOA_TEST_EMBEDDED\n/* The rows compiled in (for a target without stdin): input_words[], input_len. */\n#include NPOA_TEST_EMBEDDED\nstatic unsigned long pos_;\nstatic int read_count(long *v) {\n    if (pos_ >= input_len) return 0;\n    *v = (long)input_words[pos_++];\n    return 1;\n}\nstatic int read_word(unsigned long *u) {\n    if (pos_ >= input_len) return 0;\n    *u = (unsigned long)input_words[pos_++];\n    return 1;\n}\n#else\nstatic int read_count(long *v) {\n    return scanf(\"%ld\", v) == 1;\n}\nstatic int read_word(unsigned long *u) {\n    return scanf(\"%lx\", u) == 1;\n}\n#endif\n\nint main(void) {\n",
    );
    for c in cases {
        s.push_str(&c_block(c));
    }
    s.push_str("    return 0;\n}\n");
    s
}

/// The same input as [`c_input`], as a C array (`input_words`, `input_len`).
fn c_input_array(cases: &[&Case]) -> String {
    let mut words = Vec::new();
    for c in cases {
        words.push(format!("{}u", c.rows.len() / c.d));
        words.extend(c.rows.iter().map(|v| format!("0x{:08x}u", v.to_bits())));
    }
    let mut s = String::from("static const uint32_t input_words[] = {\n");
    for chunk in words.chunks(8) {
        let _ = writeln!(s, "    {},", chunk.join(", "));
    }
    let _ = writeln!(
        s,
        "}};\nstatic const unsigned long input_len = {}ul;",
        words.len()
    );
    s
}

fn c_input(cases: &[&Case]) -> String {
    let mut s = String::new();
    for c in cases {
        let _ = writeln!(s, "{}", c.rows.len() / c.d);
        for row in c.rows.chunks(c.d) {
            let line: Vec<String> = row.iter().map(|&v| hex(v)).collect();
            let _ = writeln!(s, "{}", line.join(" "));
        }
    }
    s
}

/// Compares a program's output with npoa's, line by line; returns the rows compared.
fn compare(label: &str, cases: &[&Case], out: &str) -> usize {
    let mut lines = out.lines();
    let mut rows = 0;
    for c in cases {
        for (r, want) in c.expected.iter().enumerate() {
            let got = lines
                .next()
                .unwrap_or_else(|| panic!("{label}: {}: output ends at row {r}", c.name));
            let same = got
                .split(' ')
                .zip(want.split(' '))
                .all(|(g, w)| g == w || (is_nan_word(g) && is_nan_word(w)))
                && got.split(' ').count() == want.split(' ').count();
            assert!(
                same,
                "{label}: {} row {r}: C printed {got:?}, npoa {want:?}; row {:?}",
                c.name,
                &c.rows[r * c.d..(r + 1) * c.d]
            );
            rows += 1;
        }
    }
    assert_eq!(lines.next(), None, "{label}: extra output");
    rows
}

fn is_nan_word(w: &str) -> bool {
    w.len() == 8 && u32::from_str_radix(w, 16).is_ok_and(|u| f32::from_bits(u).is_nan())
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command, input: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let text = input.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cases() -> Vec<Case> {
    const N: usize = 3000;
    vec![
        linear_case::<1>("reg1", Loss::Squared, 1, N),
        linear_case::<3>("reg3", Loss::Huber { delta: 1.5 }, 2, N),
        linear_case::<8>("reg8", Loss::Squared, 3, N),
        linear_case::<13>("reg13", Loss::Absolute, 4, N),
        linear_case::<17>("reg17", Loss::Quantile { tau: 0.25 }, 5, N),
        linear_case::<40>("reg40", Loss::Squared, 6, N),
        linear_case::<5>("logit5", Loss::Logistic, 7, N),
        linear_case::<11>("logit11", Loss::Logistic, 8, N),
        linear_case::<4>("pois4", Loss::Poisson, 9, N),
        linear_case::<9>("pois9", Loss::Poisson, 10, N),
        softmax_case::<6, 3>("soft3", 11, N),
        softmax_case::<20, 5>("soft5", 12, N),
    ]
}

fn write_headers(dir: &Path, cases: &[Case]) {
    for c in cases {
        let meta = Meta {
            features: (0..c.d).map(|j| format!("{}_f{j}", c.name)).collect(),
            target: "y".into(),
            ..Meta::default()
        };
        let h = c_header(&c.model, &meta, &c.name).unwrap();
        std::fs::write(dir.join(format!("{}.h", c.name)), h).unwrap();
    }
}

#[test]
fn c_headers_predict_npoas_bits() {
    let t0 = Instant::now();
    let all = cases();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export_c");
    std::fs::create_dir_all(&dir).unwrap();
    write_headers(&dir, &all);
    let pairs: Vec<Vec<&Case>> = all.chunks(2).map(|p| p.iter().collect()).collect();
    let mut programs = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        let src = dir.join(format!("prog{i}.c"));
        std::fs::write(&src, c_program(p)).unwrap();
        let input = dir.join(format!("prog{i}.in"));
        std::fs::write(&input, c_input(p)).unwrap();
        programs.push((src, input));
    }
    let t_gen = t0.elapsed();
    let models = all.len();
    let nan: usize = all.iter().map(|c| c.nan_outputs).sum();
    let std_exp: usize = all.iter().map(|c| c.std_exp_differs).sum();
    println!(
        "export_c: {models} models, {} rows each, written to {} in {t_gen:.2?} ({nan} NaN outputs compared as NaN; {std_exp} Poisson means differ when computed with the C library's exp instead of libm)",
        all[0].expected.len(),
        dir.display()
    );

    if !have("gcc") {
        println!("export_c: SKIPPED the C compilation: gcc is not on the PATH");
    } else {
        let variants: [(&str, &[&str]); 2] = [
            (
                "gcc -std=c99 -O2 -ffp-contract=off",
                &["-std=c99", "-O2", "-ffp-contract=off", "-Wpedantic"],
            ),
            // GNU mode contracts by default: the header's pragma must keep the bits.
            (
                "gcc -std=gnu11 -O3 -march=native",
                &["-std=gnu11", "-O3", "-march=native"],
            ),
        ];
        for (label, flags) in variants {
            let (t, mut rows) = (Instant::now(), 0);
            for (i, (src, input)) in programs.iter().enumerate() {
                let exe = dir.join(format!("prog{i}-{}", label.len()));
                run(
                    Command::new("gcc")
                        .args(flags)
                        .args(["-Wall", "-Wextra", "-Werror", "-I"])
                        .arg(&dir)
                        .arg(src)
                        .arg("-o")
                        .arg(&exe),
                    None,
                );
                let input = std::fs::read_to_string(input).unwrap();
                let out = run(&mut Command::new(&exe), Some(&input));
                rows += compare(label, &pairs[i], &out);
            }
            println!(
                "export_c: {label}: {rows} rows of {models} models bit-equal to npoa ({} programs, compiled and run in {:.2?})",
                programs.len(),
                t.elapsed()
            );
        }
    }

    if std::env::var_os("NPOA_EXPORT_ARM").is_some_and(|v| v == "1") {
        arm(&dir, &programs, &pairs, models);
    }
}

/// The same programs for a Cortex-M4F (see [`arm_run`]), their rows compiled in; without
/// `qemu-system-arm` they are only built.
fn arm(dir: &Path, programs: &[(PathBuf, PathBuf)], pairs: &[Vec<&Case>], models: usize) {
    let (t, mut rows) = (Instant::now(), 0);
    for (i, (src, _)) in programs.iter().enumerate() {
        let rows_h = format!("prog{i}-rows.h");
        std::fs::write(dir.join(&rows_h), c_input_array(&pairs[i])).unwrap();
        let out = arm_run(dir, src, &rows_h, &format!("prog{i}"));
        if let Some(out) = out {
            rows += compare("cortex-m4f (qemu-system-arm mps2-an386)", &pairs[i], &out);
        }
    }
    if have("qemu-system-arm") {
        println!(
            "export_c: arm-none-eabi-gcc {}, linked with --specs=rdimon.specs, run on qemu-system-arm -M mps2-an386: {rows} rows of {models} models bit-equal to npoa ({:.2?})",
            ARM_FLAGS.join(" "),
            t.elapsed()
        );
    } else {
        println!(
            "export_c: arm-none-eabi-gcc: {} programs compiled and linked with --specs=rdimon.specs ({:.2?}); qemu-system-arm missing, not run",
            programs.len(),
            t.elapsed()
        );
    }
}

const ARM_FLAGS: [&str; 10] = [
    "-mcpu=cortex-m4",
    "-mthumb",
    "-mfloat-abi=hard",
    "-mfpu=fpv4-sp-d16",
    "-std=c99",
    "-O2",
    "-ffp-contract=off",
    "-Wall",
    "-Wextra",
    "-Werror",
];

/// Builds `src` for a Cortex-M4F with `arm-none-eabi-gcc` (hard float, `fpv4-sp-d16`) with
/// its input compiled in (`-DNPOA_TEST_EMBEDDED="rows_h"`), links it with newlib's
/// semihosting library (`--specs=rdimon.specs -nostartfiles`, the start-up and linker script
/// of `tests/c/`), and runs it on QEMU's MPS2 AN386 board (`qemu-system-arm -M mps2-an386
/// -cpu cortex-m4`); its output, or `None` without QEMU.
fn arm_run(dir: &Path, src: &Path, rows_h: &str, stem: &str) -> Option<String> {
    assert!(
        have("arm-none-eabi-gcc"),
        "NPOA_EXPORT_ARM=1 but no arm-none-eabi-gcc"
    );
    let c_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let obj = dir.join(format!("{stem}-m4.o"));
    let elf = dir.join(format!("{stem}-m4.elf"));
    run(
        Command::new("arm-none-eabi-gcc")
            .args(ARM_FLAGS)
            .arg(format!("-DNPOA_TEST_EMBEDDED=\"{rows_h}\""))
            .arg("-I")
            .arg(dir)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(&obj),
        None,
    );
    run(
        Command::new("arm-none-eabi-gcc")
            .args(ARM_FLAGS)
            .args(["--specs=rdimon.specs", "-nostartfiles", "-T"])
            .arg(c_dir.join("mps2-an386.ld"))
            .arg(c_dir.join("m4f-start.c"))
            .arg(&obj)
            .arg("-o")
            .arg(&elf),
        None,
    );
    if !have("qemu-system-arm") {
        return None;
    }
    Some(run(
        Command::new("timeout")
            .args([
                "600",
                "qemu-system-arm",
                "-M",
                "mps2-an386",
                "-cpu",
                "cortex-m4",
            ])
            .args(["-nographic", "-monitor", "none", "-serial", "none"])
            .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
            .arg(&elf),
        None,
    ))
}

/// The header's `exp` port against the `libm` crate's `exp`, in `double` bits, on arguments
/// over its whole range (the `f32` outputs above hide most of its last bits).
#[test]
fn c_exp_port_equals_libm_in_double() {
    if !have("gcc") {
        println!("export_c: SKIPPED the exp check: gcc is not on the PATH");
        return;
    }
    let t = Instant::now();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export_c_exp");
    std::fs::create_dir_all(&dir).unwrap();
    let model = DynModel::Linear(
        DynLinearModel::new(vec![1.0], 0.0)
            .unwrap()
            .with_loss(Loss::Logistic)
            .unwrap(),
    );
    let h = c_header(&model, &Meta::default(), "e").unwrap();
    std::fs::write(dir.join("e.h"), h).unwrap();
    std::fs::write(
        dir.join("exp.c"),
        r#"#include "e.h"
#include <stdio.h>
#include <string.h>

#ifdef NPOA_TEST_EMBEDDED
#include NPOA_TEST_EMBEDDED
static unsigned long pos_;
static int next_(unsigned long long *u) {
    if (pos_ >= input_len) return 0;
    *u = input_words[pos_++];
    return 1;
}
#else
static int next_(unsigned long long *u) {
    return scanf("%llx", u) == 1;
}
#endif

int main(void) {
    unsigned long long u;
    while (next_(&u)) {
        double x;
        memcpy(&x, &u, sizeof x);
        x = e_exp_(x);
        memcpy(&u, &x, sizeof u);
        printf("%016llx\n", u);
    }
    return 0;
}
"#,
    )
    .unwrap();
    let mut rng = Rng(99);
    let thresholds = [
        0.0,
        f64::from_bits(0x3e30_0000_0000_0000), // 2^-28
        0.5 * std::f64::consts::LN_2,
        1.5 * std::f64::consts::LN_2,
        708.396_418_532_264_1,
        709.782_712_893_384,
        745.133_219_101_941_1,
    ];
    let mut xs = Vec::new();
    for _ in 0..200_000 {
        let x = match rng.below(6) {
            0 => f64::from_bits(rng.next()),
            1 => f64::from(rng.unit()) * 750.0,
            2 => f64::from(rng.unit()) * 2.0,
            3 => f64::from(rng.unit()) * 1e-8,
            _ => {
                let t = thresholds[rng.below(thresholds.len() as u64) as usize];
                let x = f64::from_bits(t.to_bits().wrapping_add(rng.below(64)).wrapping_sub(32));
                if rng.next() & 1 == 0 { x } else { -x }
            }
        };
        xs.push(x);
    }
    let input: String = xs
        .iter()
        .map(|x| format!("{:016x}\n", x.to_bits()))
        .collect();
    let exe = dir.join("exp");
    run(
        Command::new("gcc")
            .args([
                "-std=c99",
                "-O2",
                "-ffp-contract=off",
                "-Wall",
                "-Wextra",
                "-Werror",
            ])
            .arg(dir.join("exp.c"))
            .arg("-o")
            .arg(&exe),
        None,
    );
    let out = run(&mut Command::new(&exe), Some(&input));
    let mut n = 0;
    for (x, line) in xs.iter().zip(out.lines()) {
        let got = f64::from_bits(u64::from_str_radix(line, 16).unwrap());
        // `derivative64(z, 0)` of the Poisson loss is `libm::exp(z) − 0`, exactly.
        let want = Loss::Poisson.derivative64(*x, 0.0);
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "exp({x:e}): C {got:e} ({:016x}), libm {want:e} ({:016x})",
            got.to_bits(),
            want.to_bits()
        );
        n += 1;
    }
    assert_eq!(n, xs.len());
    println!(
        "export_c: the header's exp equals libm's in double bits on {n} arguments ({:.2?})",
        t.elapsed()
    );

    if std::env::var_os("NPOA_EXPORT_ARM").is_some_and(|v| v == "1") {
        // On the Cortex-M4F `double` is software (libgcc): the same bits, on fewer arguments
        // (each line is a semihosting call).
        let t = Instant::now();
        let xs = &xs[..20_000];
        let mut arr = String::from("static const uint64_t input_words[] = {\n");
        for x in xs {
            let _ = writeln!(arr, "    0x{:016x}ull,", x.to_bits());
        }
        let _ = writeln!(
            arr,
            "}};\nstatic const unsigned long input_len = {}ul;",
            xs.len()
        );
        std::fs::write(dir.join("exp-rows.h"), arr).unwrap();
        let Some(out) = arm_run(&dir, &dir.join("exp.c"), "exp-rows.h", "exp") else {
            println!("export_c: exp for the Cortex-M4F built; qemu-system-arm missing, not run");
            return;
        };
        // Measured, not asserted bit-equal: on QEMU's Cortex-M4F, libgcc's Thumb-2 soft double
        // (`__aeabi_dadd`) rounds some sums differently from IEEE (1 + (-0x1.14d9000be96d4p-33)
        // gives 0x1.fffffffeeb26fp-1, not ...270; the Cortex-M0 build of libgcc gets it right),
        // so the port can differ from libm by one unit in the last place of a double there,
        // which the f32 outputs above round away. More than one is a failure.
        let (mut n, mut off) = (0, 0);
        let mut first = None;
        for (x, line) in xs.iter().zip(out.lines()) {
            let got = f64::from_bits(u64::from_str_radix(line, 16).unwrap());
            let want = Loss::Poisson.derivative64(*x, 0.0);
            n += 1;
            if got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()) {
                continue;
            }
            let ulps = (got.to_bits() as i64)
                .wrapping_sub(want.to_bits() as i64)
                .unsigned_abs();
            assert!(
                ulps <= 1 && got.is_sign_positive() == want.is_sign_positive(),
                "cortex-m4f: exp({x:e}): C {got:e}, libm {want:e} ({ulps} units apart)"
            );
            off += 1;
            first.get_or_insert((*x, got, want));
        }
        assert_eq!(n, xs.len(), "cortex-m4f: exp: output ends early");
        println!(
            "export_c: cortex-m4f (qemu-system-arm mps2-an386): the header's exp equals libm's in double bits on {} of {n} arguments, {off} one unit apart{} ({:.2?})",
            n - off,
            first.map_or(String::new(), |(x, g, w)| format!(
                ", e.g. exp({x:e}) = {g:e} for libm's {w:e}"
            )),
            t.elapsed()
        );
    }
}

/// One header included twice compiles; two different models exported under one name in one
/// translation unit do not (the guard carries the model's hash, so neither hides the other).
#[test]
fn same_name_models_collide_loudly() {
    if !have("gcc") {
        println!("export_c: SKIPPED the guard check: gcc is not on the PATH");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export_c_guard");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, w) in [("a.h", 1.0f32), ("b.h", 2.0)] {
        let m = DynModel::Linear(DynLinearModel::new(vec![w, 0.5], 0.0).unwrap());
        std::fs::write(dir.join(file), c_header(&m, &Meta::default(), "m").unwrap()).unwrap();
    }
    let build = |includes: &str| {
        let src = dir.join("t.c");
        std::fs::write(
            &src,
            format!("{includes}\nint main(void) {{\n    const float x[2] = {{1.0f, 2.0f}};\n    return m_predict(x) == 2.0f ? 0 : 1;\n}}\n"),
        )
        .unwrap();
        Command::new("gcc")
            .args([
                "-std=c99",
                "-O2",
                "-ffp-contract=off",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-c",
            ])
            .arg(&src)
            .arg("-o")
            .arg(dir.join("t.o"))
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(
        build("#include \"a.h\"\n#include \"a.h\""),
        "the same header twice"
    );
    assert!(
        !build("#include \"a.h\"\n#include \"b.h\""),
        "two models named m"
    );
}

/// The header's evaluation-method gate: accepted where `float` and `double` are evaluated
/// as themselves (`FLT_EVAL_METHOD` 0, and 16 under `-mavx512fp16` in GNU mode, which GCC 12
/// reports there and `-march=native` gives on a CPU with AVX512-FP16), refused with the
/// header's message where arithmetic goes through x87 extended precision (`-m32
/// -mfpmath=387`, checked when a 32-bit libc is installed). Compile only: nothing runs.
#[test]
fn the_evaluation_method_gate() {
    if !have("gcc") {
        println!("export_c: SKIPPED the evaluation-method gate: gcc is not on the PATH");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export_c_gate");
    std::fs::create_dir_all(&dir).unwrap();
    let case = linear_case::<3>("gate", Loss::Squared, 21, 4);
    write_headers(&dir, std::slice::from_ref(&case));
    let src = dir.join("gate.c");
    std::fs::write(&src, "#include \"gate.h\"\nint main(void) { return 0; }\n").unwrap();
    let compile = |flags: &[&str]| {
        Command::new("gcc")
            .args(flags)
            .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
            .arg(&dir)
            .arg(&src)
            .output()
            .unwrap()
    };
    for flags in [
        &["-std=c99"][..],
        &["-std=gnu11"][..],
        &["-std=gnu11", "-mavx512fp16"][..],
        &["-std=c11", "-mavx512fp16"][..],
    ] {
        let out = compile(flags);
        assert!(
            out.status.success(),
            "gcc {flags:?} refused the header:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Does this gcc have a 32-bit libc at all (gcc-multilib)?
    let probe = dir.join("probe.c");
    std::fs::write(
        &probe,
        "#include <stdint.h>\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let multilib = Command::new("gcc")
        .args(["-m32", "-fsyntax-only"])
        .arg(&probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if multilib {
        let out = compile(&["-std=c99", "-m32", "-mfpmath=387"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "x87 was accepted");
        assert!(
            err.contains(
                "gate: npoa's bit-exact predictions need float and double evaluated as themselves"
            ),
            "{err}"
        );
    } else {
        println!("export_c: the x87 refusal is not checked: no 32-bit libc (gcc-multilib)");
    }
}
