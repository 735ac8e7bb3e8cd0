"""Recursive least squares side by side: River and npoa on the same streams.

Three streams of D = 8 Gaussian features, y = w·x + b + N(0, 0.1²) (seeded numpy):
  stationary  100_000 samples, one teacher;
  abrupt      100_000 samples, a new teacher from sample 50_000 on;
  drift       100_000 samples, every weight and the bias drift linearly by 1e-4 per sample.

Learners, each prequential (predict, score the squared error, then learn):
  river.linear_model.LinearRegression()  the released River (SGD, lr 0.01, its defaults);
  RLS (River main)     River's `linear_model.RLS` is only on its main branch (not in the
                       released 0.26.1): the same equations (P = δ·I, gain Pφ/(λ + φᵀPφ),
                       P ← (P − g·φᵀP)/λ, λ = 0.99, δ = 1e6) written here in numpy, with φ the
                       features and a constant 1, as River's class would be fed;
  npoa Rls             examples/rls_stream.rs on the same CSV (λ = 0.99, δ = 1e6 and λ = 1);
  npoa NLMS            examples/rls_stream.rs ... nlms 0.5 (Rule::Nlms, one `fit` per sample).

Usage (not run by CI):
  python3 -m venv /work/venv-rls && /work/venv-rls/bin/pip install river numpy scikit-learn
  cargo build --release --example rls_stream
  /work/venv-rls/bin/python peers/river_rls.py [--samples N] [--target-dir DIR]
Prints a Markdown table: prequential MSE (all samples, second half) and µs per sample.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

np.seterr(all="ignore")  # the unsymmetrised RLS may overflow: its MSE is then reported as nan/inf
from river import linear_model

D = 8
NOISE = 0.1


def stream(kind, n, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, D))
    w0 = g.uniform(-1, 1, D)
    b0 = 0.5
    if kind == "stationary":
        w = np.tile(w0, (n, 1))
        b = np.full(n, b0)
    elif kind == "abrupt":
        w1 = g.uniform(-1, 1, D)
        w = np.where(np.arange(n)[:, None] < n // 2, w0, w1)
        b = np.where(np.arange(n) < n // 2, b0, -b0)
    else:
        t = np.arange(n)[:, None] * 1e-4
        w = w0 + t
        b = b0 + t[:, 0]
    y = (x * w).sum(axis=1) + b + NOISE * g.standard_normal(n)
    return x.astype(np.float32), y.astype(np.float32)


def rls_numpy(x, y, lam=0.99, delta=1e6):
    n = len(y)
    p = np.identity(D + 1) * delta
    th = np.zeros(D + 1)
    sq = np.empty(n)
    t0 = time.perf_counter()
    for i in range(n):
        phi = np.append(x[i].astype(np.float64), 1.0)
        e = float(y[i]) - phi @ th
        sq[i] = e * e
        pphi = p @ phi
        g = pphi / (lam + phi @ pphi)
        th = th + g * e
        # River's order: P − g·(φᵀP), not symmetrised.
        p = (p - np.outer(g, phi @ p)) / lam
    return sq, (time.perf_counter() - t0) / n


def river_lr(x, y):
    m = linear_model.LinearRegression()
    names = [f"x{j}" for j in range(D)]
    n = len(y)
    sq = np.empty(n)
    t0 = time.perf_counter()
    for i in range(n):
        xi = dict(zip(names, x[i].tolist()))
        e = float(y[i]) - m.predict_one(xi)
        sq[i] = e * e
        m.learn_one(xi, float(y[i]))
    return sq, (time.perf_counter() - t0) / n


def npoa(csv, exe, *extra):
    out = subprocess.run([exe, csv, *extra], check=True, capture_output=True, text=True).stdout
    # "...: N samples, prequential MSE A, second half B, C ns/sample"
    m = re.search(r"prequential MSE (\S+), second half (\S+), (\S+) ns/sample", out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3)) * 1e-9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    a = ap.parse_args()
    exe = os.path.join(a.target_dir, "release", "examples", "rls_stream")
    if not os.path.exists(exe):
        sys.exit(f"{exe} missing: cargo build --release --example rls_stream")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ["stationary", "abrupt", "drift"]:
            x, y = stream(kind, a.samples)
            csv = os.path.join(tmp, f"{kind}.csv")
            np.savetxt(csv, np.column_stack([x, y]), delimiter=",", fmt="%.9g")
            half = a.samples // 2
            for name, (sq, sec) in [
                ("River LinearRegression (SGD 0.01)", river_lr(x, y)),
                ("RLS, River main's equations in numpy (λ 0.99, δ 1e6)", rls_numpy(x, y)),
            ]:
                rows.append((kind, name, sq.mean(), sq[half:].mean(), sec))
            for name, extra in [
                ("npoa Rls (λ 0.99, δ 1e6)", ["0.99", "1e6"]),
                ("npoa Rls (λ 1, δ 1e6)", ["1.0", "1e6"]),
                ("npoa NLMS (μ 0.5, fit per sample)", ["0.99", "1e6", "nlms", "0.5"]),
            ]:
                mse, late, sec = npoa(csv, exe, *extra)
                rows.append((kind, name, mse, late, sec))
    print(f"noise variance {NOISE**2:.4f}; {a.samples} samples per stream, D = {D}")
    print("| stream | learner | prequential MSE | MSE, 2nd half | µs/sample |")
    print("|---|---|---:|---:|---:|")
    for kind, name, mse, late, sec in rows:
        print(f"| {kind} | {name} | {mse:.5f} | {late:.5f} | {sec * 1e6:.3f} |")


if __name__ == "__main__":
    main()
