#!/usr/bin/env python3
"""End to end, from a CSV file on disk to a fitted linear model: the `npoa train` command
against scikit-learn (pandas' `read_csv`, then `LinearRegression`, `SGDRegressor()` or
`LogisticRegression`), on the same 200,000 x 32 files, side by side in one run (issue 20, item 4).

    python3 -m venv /work/venv-sk && /work/venv-sk/bin/pip install numpy pandas scikit-learn
    cargo build --release -p npoa-cli
    /work/venv-sk/bin/python peers/train_vs_sklearn.py [path/to/npoa] [--rows N] [--runs R]

Each time is the median of R runs (default 5) of the whole thing: a fresh `npoa train` process
(reading the file, standardising, the full-batch solver to its certificate), and for
scikit-learn `pd.read_csv` plus `fit` in this process (its import not counted). `npoa read` is
`npoa train --epochs 1` (the file read and one solver iteration). The quality column is the
model's mean squared error (log loss for the classifier) on the file, relative to the least
squares solution (the best of scikit-learn's fits for the classifier): the target is within 1 %.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


def write(path, n, d, kind, seed=20):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, d)).astype(np.float32)
    w = g.standard_normal(d)
    z = x @ w + 0.5
    if kind == "reg":
        y = z + 0.1 * g.standard_normal(n)
    else:
        y = (g.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    hdr = ",".join([f"x{j}" for j in range(d)] + ["y"])
    np.savetxt(path, np.column_stack([x, y]), fmt="%.7g", delimiter=",", header=hdr, comments="")


def median_time(f, runs):
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def npoa(binary, path, loss, extra=()):
    cmd = [binary, "train", path, "--loss", loss, "--quiet", "--json", *extra]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    binary = next((a for a in sys.argv[1:] if not a.startswith("--") and os.path.exists(a)),
                  os.path.join(ROOT, "target", "release", "npoa"))
    n, runs = arg("--rows", 200_000), arg("--runs", 5)
    d = 32
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reg, log = os.path.join(tmp, "reg.csv"), os.path.join(tmp, "log.csv")
        write(reg, n, d, "reg")
        write(log, n, d, "log")
        df = pd.read_csv(reg)
        x, y = df.iloc[:, :-1].to_numpy(np.float64), df.iloc[:, -1].to_numpy(np.float64)
        ols = LinearRegression().fit(x, y)
        best = float(np.mean((ols.predict(x) - y) ** 2))

        t_read, _ = median_time(lambda: npoa(binary, reg, "squared", ["--epochs", "1"]), runs)
        rows.append(("npoa read (train --epochs 1)", t_read, "", ""))
        t, out = median_time(lambda: npoa(binary, reg, "squared"), runs)
        rows.append(("npoa train (squared)", t, out["train"]["mse"] / best,
                     f'{out["epochs"]} iterations, {out["stop_reason"]}'))

        def sk(model):
            def run():
                f = pd.read_csv(reg)
                xs, ys = f.iloc[:, :-1].to_numpy(np.float32), f.iloc[:, -1].to_numpy()
                m = model().fit(xs, ys)
                return float(np.mean((m.predict(xs) - ys) ** 2))
            return run

        t_pd, _ = median_time(lambda: pd.read_csv(reg), runs)
        rows.append(("pandas read_csv", t_pd, "", ""))
        t, mse = median_time(sk(LinearRegression), runs)
        rows.append(("read_csv + LinearRegression", t, mse / best, ""))
        t, mse = median_time(sk(lambda: SGDRegressor(random_state=0)), runs)
        rows.append(("read_csv + SGDRegressor()", t, mse / best, ""))

        dl = pd.read_csv(log)
        xl, yl = dl.iloc[:, :-1].to_numpy(np.float64), dl.iloc[:, -1].to_numpy()
        ref = LogisticRegression(C=1e6, max_iter=1000).fit(xl, yl)
        p = np.clip(ref.predict_proba(xl)[:, 1], 1e-15, 1 - 1e-15)
        best_log = float(-np.mean(yl * np.log(p) + (1 - yl) * np.log(1 - p)))
        t, out = median_time(lambda: npoa(binary, log, "logistic"), runs)
        rows.append(("npoa train (logistic)", t, out["train"]["log_loss"] / best_log,
                     f'{out["epochs"]} iterations, {out["stop_reason"]}'))

        def sk_log():
            f = pd.read_csv(log)
            xs, ys = f.iloc[:, :-1].to_numpy(np.float32), f.iloc[:, -1].to_numpy(np.float64)
            m = LogisticRegression().fit(xs, ys)
            q = np.clip(m.predict_proba(xs)[:, 1].astype(np.float64), 1e-15, 1 - 1e-15)
            return float(-np.mean(ys * np.log(q) + (1 - ys) * np.log(1 - q)))

        t, ll = median_time(sk_log, runs)
        rows.append(("read_csv + LogisticRegression", t, ll / best_log, ""))

    print(f"{n} x {d} CSV (%.7g), median of {runs} runs, npoa: {binary}")
    print("| path | seconds | loss / best | note |")
    print("|---|--:|--:|---|")
    for name, t, q, note in rows:
        qs = f"{q:.5f}" if q != "" else ""
        print(f"| {name} | {t:.3f} | {qs} | {note} |")


if __name__ == "__main__":
    main()
