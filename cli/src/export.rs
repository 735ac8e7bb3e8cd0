//! `npoa export MODEL --c model.h --rust model.rs --name NAME`: a saved model as a
//! self-contained C header or a Rust module, both predicting the same bits as npoa.
//!
//! # The C header
//! One header per model, every symbol prefixed from `NAME` (a C identifier: `name_predict`,
//! `NAME_FEATURES`, include guard `NAME_NPOA_MODEL_<hash>_H` with a hash of the model's bytes:
//! one header included twice is included once, two different models exported under the same
//! `NAME` fail to compile instead of one silently hiding the other), so that several models live in one
//! firmware. It holds the weights (the standardisation already folded in: the functions take
//! raw feature values), the loss kind (`NAME_LOSS_LOGISTIC` …), the feature names (a comment
//! and `NAME_FEATURE_NAMES`), and `static inline` predictions written in npoa's order of `f32`
//! operations (the contract in `src/kernel/mod.rs`): for `d < 8` a sequential dot product from
//! `+0`, for `d ≥ 8` eight lanes (the last `d mod 8` features in the last lanes) reduced by the
//! fixed tree `((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7))`, then `+ b`. The probabilities and the
//! Poisson mean use a port of the `libm` crate's `exp` (FreeBSD's `e_exp.c`, in `double`),
//! which npoa uses, rather than the C library's `exp`, whose bits differ between C libraries.
//!
//! The bits hold when `float` and `double` arithmetic is IEEE with each operation rounded
//! (`FLT_EVAL_METHOD` 0, or 16 or 32, which only widen the narrower `_FloatN` types: GCC 12
//! reports 16 under `-march=native` on a CPU with AVX512-FP16; not x87) and the compiler contracts nothing: compile with
//! `-ffp-contract=off` (GCC contracts `a*b + c` into a fused multiply-add by default in its GNU
//! modes, on any FPU that has one: Cortex-M4F, x86 with FMA). The header sets that for GCC and
//! Clang itself (`#pragma GCC optimize`, `#pragma STDC FP_CONTRACT OFF`) and refuses
//! `-ffast-math` and excess precision with `#error`.
//!
//! # The Rust module
//! `pub static NAME: LinearModel<D>` (or `LinearClassifier<D, K>`) built by the checked `const`
//! constructors ([`npoa::LinearModel::from_parts`], [`npoa::LinearClassifier::new`]: an invalid
//! model fails to compile), `FEATURES: [&str; D]`, `TARGET` and, for a classifier with a
//! label map, `LABELS: [&str; K]`. Its predictions are npoa's own.

use crate::Res;
use crate::meta::Meta;
use npoa::DynModel;
use npoa::loss::Loss;
use std::fmt::Write as _;

/// Write a saved model as a self-contained C header (`--c`) and/or a Rust module (`--rust`).
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("output").required(true).multiple(true).args(["c", "rust"])))]
pub struct Args {
    /// The model file (npoa model bytes, as `npoa train --save` writes).
    pub model: String,
    /// Write a C header here.
    #[arg(long, value_name = "FILE")]
    pub c: Option<String>,
    /// Write a Rust module here.
    #[arg(long, value_name = "FILE")]
    pub rust: Option<String>,
    /// The symbols' prefix: a C identifier (letters, digits, `_`; starting with a letter).
    /// Functions take it as given (`NAME_predict`), macros uppercased (`NAME_FEATURES`).
    #[arg(long, default_value = "model")]
    pub name: String,
    /// The feature names, comma-separated, in the model's order (default: the model card
    /// `MODEL.json` beside the model, else `x0, x1, …`).
    #[arg(long, value_delimiter = ',', value_name = "A,B,…")]
    pub features: Option<Vec<String>>,
}

/// Runs `npoa export`: prints each file written with its size and its symbols.
///
/// # Errors
/// The model cannot be read, `--name` is not an identifier, `--features` has the wrong
/// count, or a file cannot be written.
pub fn run(args: &Args) -> Res<()> {
    check_name(&args.name)?;
    let model = DynModel::load(&args.model).map_err(|e| format!("{}: {e}", args.model))?;
    let mut meta = load_card(&args.model)?.unwrap_or_default();
    if let Some(f) = &args.features {
        meta.features = f.iter().map(|s| s.trim().to_string()).collect();
    }
    if let Some(path) = &args.c {
        let text = c_header(&model, &meta, &args.name)?;
        write(path, &text, "C header", &c_symbols(&model, &args.name))?;
    }
    if let Some(path) = &args.rust {
        let text = rust_module(&model, &meta, &args.name)?;
        write(
            path,
            &text,
            "Rust module",
            &rust_symbols(&model, &args.name, &meta),
        )?;
    }
    Ok(())
}

fn write(path: &str, text: &str, what: &str, symbols: &[String]) -> Res<()> {
    crate::atomic::write(path, text)?;
    println!(
        "wrote {path} ({} bytes): {what}, symbols {}",
        text.len(),
        symbols.join(", ")
    );
    Ok(())
}

/// The model card beside the model (`MODEL.json`), when it belongs to these model bytes (a
/// stale card, left from another model, is ignored with a notice).
fn load_card(model_path: &str) -> Res<Option<Meta>> {
    let bytes = std::fs::read(model_path).map_err(|e| format!("{model_path}: {e}"))?;
    let card = Meta::load_for(model_path, &bytes)?;
    if card.is_none() && Meta::load(model_path)?.is_some() {
        eprintln!("note: {model_path}.json belongs to another model; ignored");
    }
    Ok(card)
}

/// What the exporters need of a model.
struct Parts {
    /// Weights, output by output (`k` rows of `d`).
    w: Vec<f32>,
    b: Vec<f32>,
    d: usize,
    k: usize,
    /// `None` for the softmax classifier.
    loss: Option<Loss>,
}

fn parts(model: &DynModel) -> Res<Parts> {
    let p = match model {
        DynModel::Linear(m) => Parts {
            w: m.weights().to_vec(),
            b: vec![m.bias()],
            d: m.weights().len(),
            k: 1,
            loss: Some(m.loss_kind()),
        },
        DynModel::Classifier(c) => Parts {
            w: c.weights().to_vec(),
            b: c.biases().to_vec(),
            d: c.features(),
            k: c.classes(),
            loss: None,
        },
    };
    if p.d == 0 || p.k == 0 || p.w.len() != p.d * p.k || p.b.len() != p.k {
        return Err(format!("the model has an invalid shape (d = {}, k = {})", p.d, p.k).into());
    }
    if let Some(i) = p.w.iter().chain(&p.b).position(|v| !v.is_finite()) {
        return Err(format!("the model holds a non-finite value (parameter {i})").into());
    }
    Ok(p)
}

/// Checks `NAME`: a C and Rust identifier (ASCII letter first, then letters, digits and `_`;
/// at most 48 characters, so that every prefixed symbol stays within C99's 63 significant
/// characters).
fn check_name(name: &str) -> Res<()> {
    let ok = name.len() <= 48
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--name {name:?}: not a C identifier (an ASCII letter, then letters, digits or _, at most 48)"
        )
        .into())
    }
}

/// The feature names: the card's, or `x0, x1, …` if it has none.
fn feature_names(meta: &Meta, d: usize) -> Res<Vec<String>> {
    if meta.features.is_empty() {
        return Ok((0..d).map(|j| format!("x{j}")).collect());
    }
    if meta.features.len() != d {
        return Err(format!(
            "{} feature names for a model of {d} features",
            meta.features.len()
        )
        .into());
    }
    Ok(meta.features.clone())
}

fn labels(meta: &Meta, k: usize) -> Res<Option<Vec<String>>> {
    match &meta.labels {
        Some(l) if k > 1 && l.len() != k => {
            Err(format!("{} class labels for a model of {k} classes", l.len()).into())
        }
        Some(l) if k > 1 => Ok(Some(l.clone())),
        _ => Ok(None),
    }
}

fn loss_name(loss: Option<Loss>) -> String {
    match loss {
        None => "softmax cross-entropy".into(),
        Some(l) => match l.param_name() {
            Some(p) => format!("{} ({p} = {:?})", l.name(), l.param()),
            None => l.name().into(),
        },
    }
}

fn standardisation_line(meta: &Meta) -> &'static str {
    match meta.standardized {
        (true, false) => {
            "Trained on standardised features, folded into these weights: pass raw feature values."
        }
        (true, true) => {
            "Trained on standardised features and target, both folded into these weights: pass raw feature values, get raw target values."
        }
        _ => {
            "The weights work on raw feature values (npoa folds any standardisation used in training into the saved weights)."
        }
    }
}

// ---------------------------------------------------------------------------------------------
// C

/// FNV-1a, 32 bits: the model's fingerprint in the include guard.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The `f32` as a C literal that parses back to the same bits (shortest round-trip decimal;
/// C compilers round decimal literals correctly).
fn c_float(x: f32) -> String {
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) {
        format!("{s}f")
    } else {
        format!("{s}.0f")
    }
}

/// Text safe inside a C block comment: no `*/`, no trigraph, printable ASCII only.
fn c_comment(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_graphic() || c == ' ' {
            c
        } else {
            '?'
        };
        if (c == '/' && out.ends_with('*')) || (c == '?' && out.ends_with('?')) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A C string literal of `s` (UTF-8 bytes; others as three-digit octal escapes).
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for &b in s.as_bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

fn c_symbols(model: &DynModel, name: &str) -> Vec<String> {
    let (m, n) = (name.to_ascii_uppercase(), name);
    let mut v = vec![
        format!("{m}_FEATURES"),
        format!("{m}_OUTPUTS"),
        format!("{n}_weights"),
        format!("{n}_biases"),
    ];
    match model {
        DynModel::Linear(l) => {
            v.push(format!("{n}_predict"));
            match l.loss_kind() {
                Loss::Logistic => {
                    v.push(format!("{n}_predict_proba"));
                    v.push(format!("{n}_predict_class"));
                }
                Loss::Poisson => v.push(format!("{n}_predict_mean")),
                _ => {}
            }
        }
        DynModel::Classifier(_) => {
            v.insert(1, format!("{m}_CLASSES"));
            v.push(format!("{n}_logits"));
            v.push(format!("{n}_predict_class"));
            v.push(format!("{n}_predict_proba"));
        }
    }
    v
}

/// The dot product `w·x` of one output, in npoa's order (see the module docs), as C
/// statements that leave it in `s`.
fn c_dot(d: usize) -> String {
    let mut s = String::new();
    if d < 8 {
        s.push_str("    float s = 0.0f;\n    int j;\n");
        s.push_str("    for (j = 0; j < FEATURES_; j++) {\n        s = s + x[j] * w[j];\n    }\n");
    } else {
        let t = d % 8;
        s.push_str("    float a[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};\n");
        s.push_str("    float s;\n    int c, k;\n");
        s.push_str(
            "    for (c = 0; c + 8 <= FEATURES_; c += 8) {\n        for (k = 0; k < 8; k++) {\n            a[k] = a[k] + x[c + k] * w[c + k];\n        }\n    }\n",
        );
        if t != 0 {
            let _ = write!(
                s,
                "    /* The last {t} features go to the last {t} lanes, through the row's last eight\n       features with the first {} weights zeroed, as npoa does. */\n",
                8 - t
            );
            let _ = writeln!(
                s,
                "    for (k = 0; k < 8; k++) {{\n        a[k] = a[k] + x[FEATURES_ - 8 + k] * (k >= {} ? w[FEATURES_ - 8 + k] : 0.0f);\n    }}",
                8 - t
            );
        }
        s.push_str("    s = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));\n");
    }
    s
}

/// The `libm` crate's `exp` (FreeBSD `e_exp.c`) and `scalbn` in C, prefixed `p`.
fn c_exp64(p: &str) -> String {
    let t = r#"/* exp(x) in double: the libm crate's exp (FreeBSD msun e_exp.c, Sun Microsystems 2004,
   "Permission to use, copy, modify, and distribute this software is freely granted, provided
   that this notice is preserved."), operation for operation, so that its bits are npoa's on
   every C library. */
static inline double P_f64_from_bits_(uint64_t u) {
    union { uint64_t u; double f; } v;
    v.u = u;
    return v.f;
}

static inline uint64_t P_f64_to_bits_(double f) {
    union { double f; uint64_t u; } v;
    v.f = f;
    return v.u;
}

static inline double P_scalbn_(double x, int n) {
    const double mul = 0x1p-1022 * 0x1p53; /* 2^-969, exact */
    if (n > 1023) {
        x *= 0x1p1023;
        n -= 1023;
        if (n > 1023) {
            x *= 0x1p1023;
            n -= 1023;
            if (n > 1023) {
                n = 1023;
            }
        }
    } else if (n < -1022) {
        x *= mul;
        n += 969;
        if (n < -1022) {
            x *= mul;
            n += 969;
            if (n < -1022) {
                n = -1022;
            }
        }
    }
    return x * P_f64_from_bits_((uint64_t)(0x3ff + n) << 52);
}

static inline double P_exp_(double x) {
    const double ln2hi = 6.93147180369123816490e-01;
    const double ln2lo = 1.90821492927058770002e-10;
    const double invln2 = 1.44269504088896338700e+00;
    const double p1 = 1.66666666666666019037e-01;
    const double p2 = -2.77777777770155933842e-03;
    const double p3 = 6.61375632143793436117e-05;
    const double p4 = -1.65339022054652515390e-06;
    const double p5 = 4.13813679705723846039e-08;
    double hi, lo, c, xx, y;
    int k, sign;
    uint32_t hx = (uint32_t)(P_f64_to_bits_(x) >> 32);
    sign = (int)(hx >> 31);
    hx &= 0x7fffffffu;
    if (hx >= 0x4086232bu) { /* |x| >= 708.39... */
        if (x != x) {
            return x;
        }
        if (x > 709.782712893383973096) {
            return x * 0x1p1023; /* overflow: +inf */
        }
        if (x < -708.39641853226410622 && x < -745.13321910194110842) {
            return 0.0;
        }
    }
    if (hx > 0x3fd62e42u) { /* |x| > 0.5 ln2 */
        if (hx >= 0x3ff0a2b2u) { /* |x| >= 1.5 ln2 */
            k = (int)(invln2 * x + (sign ? -0.5 : 0.5));
        } else {
            k = 1 - sign - sign;
        }
        hi = x - (double)k * ln2hi; /* exact */
        lo = (double)k * ln2lo;
        x = hi - lo;
    } else if (hx > 0x3e300000u) { /* |x| > 2^-28 */
        k = 0;
        hi = x;
        lo = 0.0;
    } else {
        return 1.0 + x;
    }
    xx = x * x;
    c = x - xx * (p1 + xx * (p2 + xx * (p3 + xx * (p4 + xx * p5))));
    y = 1.0 + (x * c / (2.0 - c) - lo + hi);
    return k == 0 ? y : P_scalbn_(y, k);
}
"#;
    t.replace("P_", &format!("{p}_"))
}

/// A self-contained C header for the model (see the module docs). `name` prefixes every
/// symbol (validated as a C identifier).
///
/// # Errors
/// An invalid `name`, feature names or labels of the wrong count, a model with a non-finite
/// value.
pub fn c_header(model: &DynModel, meta: &Meta, name: &str) -> Res<String> {
    check_name(name)?;
    let p = parts(model)?;
    let features = feature_names(meta, p.d)?;
    let labels = labels(meta, p.k)?;
    let (n, m) = (name, name.to_ascii_uppercase());
    let guard = format!("{m}_NPOA_MODEL_{:08X}_H", fnv1a(&model.to_bytes()));
    let mut s = String::new();
    let kind = match p.loss {
        None => format!("softmax classifier, {} classes", p.k),
        Some(Loss::Logistic) => "binary classifier (logistic loss: the output is a logit)".into(),
        Some(Loss::Poisson) => "Poisson regression (the output is ln of the mean count)".into(),
        Some(_) => "linear regression".into(),
    };
    let _ = writeln!(
        s,
        "/* {n}: an npoa model, generated by `npoa export` (npoa {}). Do not edit.\n *",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        s,
        " * Model: {kind}; loss {}; {} features.",
        c_comment(&loss_name(p.loss)),
        p.d
    );
    let _ = writeln!(s, " * {}", standardisation_line(meta));
    s.push_str(" * Features, in the order of x[]:\n");
    for (j, f) in features.iter().enumerate() {
        let _ = writeln!(s, " *   x[{j}] = {}", c_comment(f));
    }
    if !meta.target.is_empty() {
        let _ = writeln!(s, " * Target: {}", c_comment(&meta.target));
    }
    if let Some(l) = &labels {
        s.push_str(" * Class labels:\n");
        for (c, v) in l.iter().enumerate() {
            let _ = writeln!(s, " *   class {c} = {}", c_comment(v));
        }
    }
    let _ = write!(
        s,
        r#" *
 * The predictions are bit for bit npoa's: the same IEEE-754 single-precision operations in
 * the same order (no fused multiply-add), exp in double as npoa's libm. That needs
 *   - COMPILE WITH -ffp-contract=off (GCC fuses a*b + c into an FMA by default in its GNU
 *     modes wherever the FPU has one: Cortex-M4F, x86 with -mfma; this header also asks GCC and
 *     Clang for it, but a compiler that ignores the request changes the last bits);
 *   - no -ffast-math (refused below), float and double evaluated as themselves:
 *     FLT_EVAL_METHOD 0, or 16 / 32 (ISO/IEC TS 18661-3: only narrower _FloatN types are
 *     widened; GCC says 16 in GNU modes where AVX512-FP16 is on); anything else (x87) is refused;
 *   - an FPU that keeps subnormals (Cortex-M: FPSCR.FZ = 0, the reset value).
 * Inputs are raw feature values; a NaN or infinite input gives a NaN or infinite output.
 */
#ifndef {guard}
#define {guard}

#include <float.h>
#include <stdint.h>

#if defined(__FAST_MATH__)
#error "{n}: npoa's bit-exact predictions need IEEE arithmetic: compile without -ffast-math"
#endif
#if !defined(FLT_EVAL_METHOD) || (FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != 16 && FLT_EVAL_METHOD != 32)
#error "{n}: npoa's bit-exact predictions need float and double evaluated as themselves (FLT_EVAL_METHOD 0, 16 or 32); x87 rounds through extended precision: use SSE2"
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

"#
    );
    let _ = writeln!(
        s,
        "/** Features (the length of x[]). */\n#define {m}_FEATURES {}",
        p.d
    );
    let _ = writeln!(
        s,
        "/** Outputs (rows of {n}_weights). */\n#define {m}_OUTPUTS {}",
        p.k
    );
    match p.loss {
        None => {
            let _ = writeln!(
                s,
                "/** Classes. */\n#define {m}_CLASSES {}\n/** The model kind. */\n#define {m}_LOSS_SOFTMAX 1",
                p.k
            );
        }
        Some(l) => {
            let _ = writeln!(
                s,
                "/** The loss the model was trained for. */\n#define {m}_LOSS_{} 1",
                l.name().to_ascii_uppercase()
            );
            if let Some(pn) = l.param_name() {
                let _ = writeln!(
                    s,
                    "/** The loss's parameter {pn}. */\n#define {m}_LOSS_{} {}",
                    pn.to_ascii_uppercase(),
                    c_float(l.param())
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "/** The loss's name. */\n#define {m}_LOSS {}",
        c_string(match p.loss {
            Some(l) => l.name(),
            None => "softmax",
        })
    );
    let names: Vec<String> = features.iter().map(|f| c_string(f)).collect();
    let _ = writeln!(
        s,
        "/** The feature names, an initialiser: static const char *const names[] = {m}_FEATURE_NAMES; */\n#define {m}_FEATURE_NAMES {{ {} }}",
        names.join(", ")
    );
    if !meta.target.is_empty() {
        let _ = writeln!(
            s,
            "/** The target's name. */\n#define {m}_TARGET {}",
            c_string(&meta.target)
        );
    }
    if let Some(l) = &labels {
        let l: Vec<String> = l.iter().map(|v| c_string(v)).collect();
        let _ = writeln!(
            s,
            "/** The class labels, an initialiser (class c at c). */\n#define {m}_LABELS {{ {} }}",
            l.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\n/** Weights: one row of {m}_FEATURES per output. */\nstatic const float {n}_weights[{m}_OUTPUTS][{m}_FEATURES] = {{"
    );
    for row in p.w.chunks(p.d) {
        let _ = writeln!(
            s,
            "    {{{}}},",
            row.iter()
                .map(|&v| c_float(v))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        s,
        "}};\n/** Biases, one per output. */\nstatic const float {n}_biases[{m}_OUTPUTS] = {{{}}};\n",
        p.b.iter()
            .map(|&v| c_float(v))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dot = c_dot(p.d).replace("FEATURES_", &format!("{m}_FEATURES"));
    let _ = write!(
        s,
        "/* w·x + b for one output, in npoa's order. */\nstatic inline float {n}_output_(const float w[{m}_FEATURES], float b, const float x[{m}_FEATURES]) {{\n{dot}    return s + b;\n}}\n\n"
    );
    match p.loss {
        Some(loss) => {
            let what = match loss {
                Loss::Logistic => "The logit z = w·x + b (P(y = 1) = sigmoid(z))",
                Loss::Poisson => "The model's output z = w·x + b = ln(mean count)",
                _ => "The prediction w·x + b",
            };
            let _ = write!(
                s,
                "/** {what}: npoa's `predict`. */\nstatic inline float {n}_predict(const float x[{m}_FEATURES]) {{\n    return {n}_output_({n}_weights[0], {n}_biases[0], x);\n}}\n\n"
            );
            if matches!(loss, Loss::Logistic | Loss::Poisson) {
                s.push_str(&c_exp64(n));
                s.push('\n');
            }
            if loss == Loss::Logistic {
                let _ = write!(
                    s,
                    r"/** P(y = 1 | x) = sigmoid(z) in double, rounded once: npoa's `predict_proba`. */
static inline float {n}_predict_proba(const float x[{m}_FEATURES]) {{
    double z = (double){n}_predict(x);
    if (z >= 0.0) {{
        return (float)(1.0 / (1.0 + {n}_exp_(-z)));
    }} else {{
        double e = {n}_exp_(z);
        return (float)(e / (1.0 + e));
    }}
}}

/** The class: 1 if the logit is >= 0 (P >= 1/2), else 0: npoa's `predict_class`. */
static inline int {n}_predict_class(const float x[{m}_FEATURES]) {{
    return {n}_predict(x) >= 0.0f;
}}

"
                );
            }
            if loss == Loss::Poisson {
                let _ = write!(
                    s,
                    r"/** The mean count e^z, in double rounded once (+inf beyond z = 88.72): what `npoa predict` prints. */
static inline float {n}_predict_mean(const float x[{m}_FEATURES]) {{
    return (float){n}_exp_((double){n}_predict(x));
}}

"
                );
            }
        }
        None => {
            s.push_str(&c_exp64(n));
            let _ = write!(
                s,
                r"
/** The {m}_CLASSES logits z[c] = w_c·x + b_c. */
static inline void {n}_logits(const float x[{m}_FEATURES], float z[{m}_CLASSES]) {{
    int c;
    for (c = 0; c < {m}_CLASSES; c++) {{
        z[c] = {n}_output_({n}_weights[c], {n}_biases[c], x);
    }}
}}

/** The most likely class (the first of equal logits): npoa's `predict_class`. */
static inline int {n}_predict_class(const float x[{m}_FEATURES]) {{
    float z[{m}_CLASSES];
    int c, best = 0;
    {n}_logits(x, z);
    for (c = 1; c < {m}_CLASSES; c++) {{
        if (z[c] > z[best]) {{
            best = c;
        }}
    }}
    return best;
}}

/** Class probabilities softmax(z) into p (in double with the largest logit subtracted,
    each rounded once): npoa's `predict_proba`. */
static inline void {n}_predict_proba(const float x[{m}_FEATURES], float p[{m}_CLASSES]) {{
    float z[{m}_CLASSES];
    double e[{m}_CLASSES];
    double mx = -{n}_f64_from_bits_(UINT64_C(0x7ff0000000000000)), sum = 0.0;
    int c;
    {n}_logits(x, z);
    for (c = 0; c < {m}_CLASSES; c++) {{
        if ((double)z[c] > mx) {{
            mx = (double)z[c];
        }}
    }}
    for (c = 0; c < {m}_CLASSES; c++) {{
        e[c] = {n}_exp_((double)z[c] - mx);
        sum += e[c];
    }}
    for (c = 0; c < {m}_CLASSES; c++) {{
        p[c] = (float)(e[c] / sum);
    }}
}}

"
            );
        }
    }
    let _ = writeln!(
        s,
        "#if !defined(__clang__) && defined(__GNUC__)\n#pragma GCC pop_options\n#endif\n\n#endif /* {guard} */"
    );
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Rust

fn rust_symbols(model: &DynModel, name: &str, meta: &Meta) -> Vec<String> {
    let mut v = vec![name.to_ascii_uppercase(), "FEATURES".into()];
    if !meta.target.is_empty() {
        v.push("TARGET".into());
    }
    if matches!(model, DynModel::Classifier(c) if c.classes() > 1) && meta.labels.is_some() {
        v.push("LABELS".into());
    }
    v
}

fn rust_list(v: &[f32]) -> String {
    v.iter()
        .map(|x| format!("{x:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Rust module for the model: `pub static NAME` (uppercased) built by npoa's checked
/// `const` constructors, `FEATURES`, `TARGET` and `LABELS` (see the module docs). `{:?}`
/// prints each weight as the shortest literal that parses back to the same `f32`.
///
/// # Errors
/// As [`c_header`].
pub fn rust_module(model: &DynModel, meta: &Meta, name: &str) -> Res<String> {
    check_name(name)?;
    let p = parts(model)?;
    let features = feature_names(meta, p.d)?;
    let labels = labels(meta, p.k)?;
    let upper = name.to_ascii_uppercase();
    let (d, k) = (p.d, p.k);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! `{upper}`: an npoa model, generated by `npoa export` (npoa {}). Do not edit.",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        s,
        "//!\n//! Loss {}; {d} features. {}\n//! Its predictions are npoa's own (the same kernels, the same bits).\n",
        loss_name(p.loss),
        standardisation_line(meta)
    );
    let _ = writeln!(
        s,
        "/// The feature names, in the order of the model's input.\npub const FEATURES: [&str; {d}] = [{}];",
        features
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !meta.target.is_empty() {
        let _ = writeln!(
            s,
            "/// The target's name.\npub const TARGET: &str = {:?};",
            meta.target
        );
    }
    if let Some(l) = &labels {
        let _ = writeln!(
            s,
            "/// The class labels (class `c` at `c`).\npub const LABELS: [&str; {k}] = [{}];",
            l.iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match p.loss {
        Some(loss) => {
            let loss_expr = match loss {
                Loss::Squared => "Squared".to_string(),
                Loss::Absolute => "Absolute".into(),
                Loss::Logistic => "Logistic".into(),
                Loss::Poisson => "Poisson".into(),
                Loss::Huber { delta } => format!("Huber {{ delta: {delta:?} }}"),
                Loss::Quantile { tau } => format!("Quantile {{ tau: {tau:?} }}"),
            };
            let _ = writeln!(
                s,
                "/// The model (checked at compile time).\npub static {upper}: npoa::LinearModel<{d}> = match npoa::LinearModel::from_parts(\n    [{}],\n    {:?},\n    npoa::loss::Loss::{loss_expr},\n) {{\n    Ok(m) => m,\n    Err(_) => panic!(\"invalid npoa model\"),\n}};",
                rust_list(&p.w),
                p.b[0]
            );
        }
        None => {
            let mut rows = String::new();
            for row in p.w.chunks(d) {
                let _ = writeln!(rows, "        [{}],", rust_list(row));
            }
            let _ = writeln!(
                s,
                "/// The classifier (checked at compile time).\npub static {upper}: npoa::LinearClassifier<{d}, {k}> = match npoa::LinearClassifier::new(\n    [\n{rows}    ],\n    [{}],\n) {{\n    Ok(m) => m,\n    Err(_) => panic!(\"invalid npoa model\"),\n}};",
                rust_list(&p.b)
            );
        }
    }
    Ok(s)
}
