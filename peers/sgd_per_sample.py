#!/usr/bin/env python3
"""Per-sample cost of single-sample SGD: npoa's `fit` in batches of one row (the single-sample
path and the block path) against scikit-learn's `SGDRegressor` (its Cython loop, one update per
sample), on the same 200,000 rows, side by side in one run.

    python3 -m venv /work/venv-sk && /work/venv-sk/bin/pip install numpy scikit-learn
    /work/venv-sk/bin/python peers/sgd_per_sample.py            # default build
    RUSTFLAGS="-C target-cpu=native" /work/venv-sk/bin/python peers/sgd_per_sample.py

Each figure is the median of 9 epochs, in ns per sample (one epoch of constant-rate SGD on
the squared error from zero weights, no penalty, no averaging, in order or shuffled).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import SGDRegressor

N = 200_000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def data(d, seed=20):
    g = np.random.default_rng(seed)
    x = g.uniform(-1, 1, size=(N, d)).astype(np.float32)
    w = g.uniform(-1, 1, size=d).astype(np.float32)
    y = (x @ w + 0.5 + 0.1 * g.standard_normal(N)).astype(np.float32)
    return x, y


def sklearn_ns(x, y, shuffle):
    x64, y64 = x.astype(np.float64), y.astype(np.float64)  # what sklearn converts to
    times = []
    for _ in range(9):
        m = SGDRegressor(max_iter=1, tol=None, shuffle=shuffle, learning_rate="constant",
                         eta0=0.01, penalty=None, average=False, random_state=0)
        t = time.perf_counter()
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "max_iter reached": one epoch is the point
            m.fit(x64, y64)
        times.append((time.perf_counter() - t) * 1e9 / len(y))
    return statistics.median(times)


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "npoa-bench", "--example",
                    "per_sample"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    exe = os.path.join(target, "release", "examples", "per_sample")
    flags = os.environ.get("RUSTFLAGS", "default flags")
    print(f"npoa built with: {flags}; {N} rows")
    print(f"{'d':>3} {'order':>8} {'npoa single':>12} {'npoa block':>11} {'sklearn':>8} "
          f"{'sklearn/single':>15}")
    for d in (4, 8, 32):
        x, y = data(d)
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
            f.write(x.tobytes() + y.tobytes())
            path = f.name
        out = subprocess.run([exe, path, str(d)], capture_output=True, text=True, check=True)
        os.unlink(path)
        got = {}
        for line in out.stdout.split("\n"):
            if line.strip():
                p, s, ns = line.split()
                got[(p, s == "true")] = float(ns)
        for shuffle in (False, True):
            sk = sklearn_ns(x, y, shuffle)
            one, block = got[("single", shuffle)], got[("block", shuffle)]
            order = "shuffled" if shuffle else "in order"
            print(f"{d:>3} {order:>8} {one:>12.1f} {block:>11.1f} {sk:>8.1f} {sk / one:>15.2f}")


if __name__ == "__main__":
    sys.exit(main())
