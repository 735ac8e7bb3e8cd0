#!/usr/bin/env python3
"""npoa's drift detectors beside River's, on the same streams (CI does not run this).

    python3 -m venv /work/venv-river && /work/venv-river/bin/pip install river numpy
    cargo build --release --example drift_detect
    /work/venv-river/bin/python peers/river_drift.py [--bin PATH] [--repeats R]

The streams (fixed seeds, numpy's PCG64) are written as f32 values to CSV files in a temporary
directory; every value is exactly an f32, written as the shortest decimal of that f64, so
River (f64) and npoa (f32 -> f64) read the same number. For each stream and detector the
script runs River's detector (River's defaults) and npoa's (the example
`examples/drift_detect.rs`, the same parameters), and prints the drift indices, the first
detection delay after the change, the false alarms (drifts before the change, or anywhere on a
stationary stream), whether the whole sequence of signals is identical (a hash of one byte per
value: stable, warning, drift), and the time per update of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from river import drift

FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


def streams() -> list[tuple[str, np.ndarray, int | None, bool]]:
    """(name, values as f32, index of the change or None, binary?)"""
    out = []
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 3000)
    x[1000:] += 1.0
    out.append(("abrupt N(0,1)->N(1,1) @1000", x, 1000, False))
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, 4000)
    x += np.clip((np.arange(4000) - 1000) / 1000.0, 0.0, 1.0)  # 0 -> 1 over [1000, 2000)
    out.append(("gradual 0->1 over 1000..2000", x, 1000, False))
    rng = np.random.default_rng(3)
    p = np.where(np.arange(4000) < 2000, 0.1, 0.4)  # a swapped sensor: 10 % -> 40 % errors
    out.append(("sensor swap errors 10%->40% @2000", (rng.random(4000) < p).astype(float), 2000, True))
    rng = np.random.default_rng(4)
    out.append(("stationary N(0,1) x100000", rng.normal(0.0, 1.0, 100_000), None, False))
    rng = np.random.default_rng(5)
    out.append(("stationary errors 10% x100000", (rng.random(100_000) < 0.1).astype(float), None, True))
    return [(n, v.astype(np.float32), c, b) for n, v, c, b in out]


def river_run(name: str, values: list[float]) -> tuple[list[int], list[int], int, float]:
    make = {
        "adwin": lambda: drift.ADWIN(),
        "page_hinkley": lambda: drift.PageHinkley(),
        "ddm": lambda: drift.binary.DDM(),
        "eddm": lambda: drift.binary.EDDM(),
    }[name]
    det = make()
    has_warning = name in ("ddm", "eddm")
    drifts, warnings, fnv, prev = [], [], FNV_OFFSET, 0
    for i, v in enumerate(values):
        det.update(v)
        code = 2 if det.drift_detected else (1 if has_warning and det.warning_detected else 0)
        if code == 2:
            drifts.append(i)
        elif code == 1 and prev != 1:
            warnings.append(i)
        prev = code
        fnv = ((fnv ^ code) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    # Timing: a fresh detector over the stream, updates only.
    det = make()
    t = time.perf_counter()
    for v in values:
        det.update(v)
    ns = (time.perf_counter() - t) / len(values) * 1e9
    return drifts, warnings, fnv, ns


def npoa_run(binary: str, path: str, name: str, repeats: int):
    out = subprocess.run(
        [binary, path, name, "--time", str(repeats)], check=True, capture_output=True, text=True
    ).stdout
    drifts, warnings, fnv, ns = [], [], None, float("nan")
    for line in out.splitlines():
        key, val = line.split()
        if key == "drift":
            drifts.append(int(val))
        elif key == "warning":
            warnings.append(int(val))
        elif key == "signals_fnv":
            fnv = int(val, 16)
        elif key == "ns_per_update":
            ns = float(val)
    return drifts, warnings, fnv, ns


def summary(drifts: list[int], change: int | None) -> tuple[str, str]:
    if change is None:
        return "-", str(len(drifts))
    after = [d for d in drifts if d >= change]
    delay = str(after[0] - change) if after else "missed"
    return delay, str(sum(1 for d in drifts if d < change))


def short(ix: list[int], k: int = 6) -> str:
    s = ",".join(map(str, ix[:k]))
    return s + (f",…({len(ix)})" if len(ix) > k else "") if ix else "none"


def main() -> int:
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    ap.add_argument("--bin", default=os.path.join(target, "release", "examples", "drift_detect"))
    ap.add_argument("--repeats", type=int, default=20, help="timing runs of npoa over each stream")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        print(f"{args.bin} not found: cargo build --release --example drift_detect", file=sys.stderr)
        return 1
    rows, all_same = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for si, (sname, vals, change, binary) in enumerate(streams()):
            path = os.path.join(tmp, f"stream{si}.csv")
            with open(path, "w") as f:
                f.write("value\n")
                f.writelines(repr(float(v)) + "\n" for v in vals)
            values = [float(v) for v in vals]
            dets = ["adwin", "page_hinkley"] + (["ddm", "eddm"] if binary else [])
            for d in dets:
                rd, rw, rf, rns = river_run(d, values)
                nd, nw, nf, nns = npoa_run(args.bin, path, d, args.repeats)
                same = rd == nd and rw == nw and rf == nf
                all_same &= same
                rdelay, rfa = summary(rd, change)
                ndelay, nfa = summary(nd, change)
                rows.append((sname, d, short(rd), rdelay, rfa, short(rw), "yes" if same else "NO",
                             f"{rns:.0f}", f"{nns:.1f}"))
                if not same:
                    rows.append(("", "  npoa", short(nd), ndelay, nfa, short(nw), "", "", ""))
    head = ("stream", "detector", "drift indices (River)", "delay", "false alarms",
            "warning onsets", "identical", "River ns", "npoa ns")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    print("all decisions identical" if all_same else "DECISIONS DIFFER (rows marked NO)")
    return 0 if all_same else 2


if __name__ == "__main__":
    sys.exit(main())
