"""Fleets of devices learning one model together: npoa on Flower (issue 21, second part).

Each simulated device holds a non-IID shard of a data set that ships with scikit-learn — breast
cancer (569 tumours, 30 features, logistic loss) or diabetes (442 patients, 10 features,
squared error) — a Dirichlet(alpha) split of each class (or target quartile) over the devices,
and trains locally with npoa's streaming learner (`OnlineLearner`, its divergence guard on)
from the global model it receives, its rate capped at the stable rate of its own shard. The
server averages the devices' models weighted by their sample counts (FedAvg) in a fixed order
(by device), so the aggregate is the same bits on every run, and stops a round in which a
device failed. The same federation runs with scikit-learn `SGDClassifier`/`SGDRegressor`
clients (the same bytes on the wire), and the table compares both with centralised training
(npoa's solver on the union of the shards).

    python -m npoa.fleet                            # both tasks, 100 devices, 60 rounds
    python -m npoa.fleet --devices 10 --rounds 3 --check   # the CI's small version
    python -m npoa.fleet --recompute OUT/cancer-npoa-1 --round 2 --device 7

It needs Flower with its simulation engine (`pip install "flwr[simulation]"`) and
scikit-learn; the functions of a device (`local_update`, `device_round`) and of the server
(`fedavg`) need neither Flower nor anything but npoa and numpy (and scikit-learn's data).

On the wire are npoa's round frames (`npoa.frame`/`npoa.unframe`, the Rust crate's
`model::round`): the model bytes with the round counter, the sender's role, an update's sample
count and a CRC-32 — the frames the firmware example takes and answers. `--out DIR` keeps every
frame: `TASK-LEARNER-RUN/round-R/global.bin` (the global model sent in round R; round R + 1's is
the aggregate of round R) and `round-R/device-K.bin` (device K's answer); `--recompute`
re-derives one device's update in this (separate) process from its shard and that round's
global frame and compares the bytes. `--check` runs each npoa federation twice and fails unless
the global frames of every round are identical and the recomputation of one device matches.

Preprocessing is agreed in advance: the features (and diabetes' target) are standardised with
the training rows' statistics before they are sharded (a fleet would ship the scaler with the
first model), so every learner runs with `standardize=False`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

import npoa

# ---- the data and the shards -------------------------------------------------------------


#: The tasks: scikit-learn's breast cancer (569 tumours, 30 features; logistic loss) and
#: diabetes (442 patients, 10 features; squared loss), both shipped with scikit-learn.
TASKS = {"cancer": "logistic", "diabetes": "squared"}


@lru_cache(maxsize=None)
def dataset(task: str, seed: int):
    """The task's data, a seeded 75/25 split stratified by [`strata`], standardised with the
    training rows' mean and population deviation (the diabetes target too); float32 as a
    device holds it: `(X, y, X_test, y_test)`."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: one of {sorted(TASKS)}")
    X, y = (load_breast_cancer if task == "cancer" else load_diabetes)(return_X_y=True)
    groups = strata(task, y)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(groups):
        idx = rng.permutation(np.flatnonzero(groups == c))
        test[idx[: round(0.25 * len(idx))]] = True
    mu, sd = X[~test].mean(axis=0), X[~test].std(axis=0)
    Z = ((X - mu) / sd).astype(np.float32)
    if task == "cancer":
        t = y.astype(np.int64)
    else:
        t = ((y - y[~test].mean()) / y[~test].std()).astype(np.float32)
    return Z[~test], t[~test], Z[test], t[test]


def strata(task: str, y):
    """What the split and the shards skew by: the class, or the target's quartile."""
    if task == "cancer":
        return np.asarray(y).astype(np.int64)
    return np.searchsorted(np.quantile(y, [0.25, 0.5, 0.75]), y, side="right")


@lru_cache(maxsize=None)
def shards(task: str, devices: int, alpha: float, seed: int):
    """Row indices of each device: each stratum (class, or target quartile) split over the
    devices by Dirichlet(alpha) proportions (label skew), then every empty device given one
    row of the largest."""
    _, y, _, _ = dataset(task, seed)
    groups = strata(task, y)
    rng = np.random.default_rng(seed + 1)
    parts = [[] for _ in range(devices)]
    for c in np.unique(groups):
        idx = rng.permutation(np.flatnonzero(groups == c))
        cuts = (np.cumsum(rng.dirichlet(alpha * np.ones(devices))) * len(idx)).astype(int)
        for k, piece in enumerate(np.split(idx, cuts[:-1])):
            parts[k].extend(piece.tolist())
    for k in range(devices):
        if not parts[k]:
            big = max(range(devices), key=lambda j: (len(parts[j]), -j))
            parts[k].append(parts[big].pop())
    return tuple(tuple(sorted(p)) for p in parts)


def shard(task: str, device: int, devices: int, alpha: float, seed: int):
    """Device `device`'s rows of the training set."""
    X, y, _, _ = dataset(task, seed)
    rows = np.array(shards(task, devices, alpha, seed)[device])
    return X[rows], y[rows]


# ---- local training: one function of (global bytes, shard, config) -> update bytes -------


def stable_rate(loss: str, X) -> float:
    """The largest rate at which gradient steps on this shard's mean loss cannot diverge:
    1/L, with L the loss's curvature bound times the largest eigenvalue of the shard's
    second-moment matrix (bias column included): 2·λ for the squared loss, λ/4 for the
    logistic. A device with one unusual row (‖x‖² ≈ 100 in diabetes) would otherwise grow
    ninefold a step at the fleet's rate."""
    A = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    lam = float(np.linalg.eigvalsh(A.T @ A / len(X))[-1])
    return 1.0 / ((2.0 if loss == "squared" else 0.25) * lam)


def local_update(cfg: dict, global_bytes: bytes, X, y) -> bytes:
    """A device's update: its model bytes after `epochs` local passes from the global model
    (`cfg["task"]`, by default the breast cancer one)."""
    regression = cfg.get("task", "cancer") == "diabetes"
    if cfg["learner"] == "npoa":
        rate = min(cfg["lr"], stable_rate(TASKS[cfg.get("task", "cancer")], X))
        common = dict(standardize=False, l2=cfg["l2"], learning_rate=rate, partial_batch=cfg["batch"])
        if regression:
            est = npoa.LinearRegressor.from_bytes(global_bytes, **common)
        else:
            est = npoa.LogisticClassifier.from_bytes(global_bytes, classes=[0, 1], **common)
        for _ in range(cfg["epochs"]):
            est.partial_fit(X, y)
        return est.to_bytes()
    if cfg["learner"] == "sklearn":
        from sklearn.linear_model import SGDClassifier, SGDRegressor

        start = npoa.Model.from_bytes(global_bytes)
        common = dict(learning_rate="constant", eta0=cfg["lr"], shuffle=False, random_state=0)
        if regression:
            # npoa's squared loss is mean((z - y)^2), SGDRegressor's half of it: alpha = l2 / 2
            # is the same objective, halved.
            sk = SGDRegressor(loss="squared_error", alpha=cfg["l2"] / 2, **common)
        else:
            sk = SGDClassifier(loss="log_loss", alpha=cfg["l2"], **common)
        sk.coef_ = start.coef[0].astype(np.float64) if regression else start.coef.astype(np.float64)
        sk.intercept_ = start.intercept.astype(np.float64)
        X64 = X.astype(np.float64)  # its own dtype: the float64 the coefficients hold
        for _ in range(cfg["epochs"]):
            if regression:
                sk.partial_fit(X64, y.astype(np.float64))
            else:
                sk.partial_fit(X64, y, classes=[0, 1])
        coef = np.ravel(sk.coef_).astype(np.float32).tolist()
        return npoa.Model.linear(coef, float(np.ravel(sk.intercept_)[0]), start.loss).to_bytes()
    raise ValueError(f"unknown learner {cfg['learner']!r}")


def device_round(cfg: dict, wire: bytes, X, y) -> bytes:
    """What a device does with a round: check the global frame (its CRCs, its role, that its
    round is the server's), train from its model, answer with an update frame of that round and
    the shard's sample count."""
    role, rnd, _, model = npoa.unframe(wire)
    if role != "global" or rnd != int(cfg["server-round"]):
        raise ValueError(f"expected the global model of round {cfg['server-round']}, got {role} {rnd}")
    return npoa.frame("update", rnd, len(y), local_update(cfg, model, X, y))


def fedavg(updates):
    """Sample-weighted mean of `(device, bytes, samples)` updates, summed in float64 in the
    order of the devices, rounded once to float32: the global model's bytes."""
    if not updates:
        raise RuntimeError("no device sent an update this round")
    total = sum(n for _, _, n in updates)
    w, b, loss = None, 0.0, None
    for _, data, n in sorted(updates):
        m = npoa.Model.from_bytes(data)
        loss = loss or m.loss
        part = m.coef[0].astype(np.float64) * (n / total)
        w = part if w is None else w + part
        b += float(m.intercept[0]) * (n / total)
    return npoa.Model.linear(w.astype(np.float32).tolist(), float(np.float32(b)), loss).to_bytes()


def held_out_loss(task: str, model_bytes: bytes, seed: int) -> float:
    """A model's mean loss on the held-out rows (log-loss, or the squared error in the
    standardised target's unit), in float64 from its float32 outputs."""
    _, _, Xt, yt = dataset(task, seed)
    z = npoa.Model.from_bytes(model_bytes).decision(Xt)[:, 0].astype(np.float64)
    if TASKS[task] == "logistic":
        return float(np.mean(np.logaddexp(0.0, z) - yt * z))
    return float(np.mean((z - yt) ** 2))


# ---- Flower: the ClientApp, the strategy, the ServerApp ----------------------------------


def run_federation(cfg: dict, out: Path) -> dict:
    """One federation on Flower's simulation engine; every round's models go to `out`."""
    from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg
    from flwr.simulation import run_simulation

    def to_record(data: bytes) -> ArrayRecord:
        return ArrayRecord([np.frombuffer(data, dtype=np.uint8).copy()])

    def of_record(rec: ArrayRecord) -> bytes:
        return rec.to_numpy_ndarrays()[0].tobytes()

    client = ClientApp()

    @client.train()
    def train(msg: Message, context: Context) -> Message:
        c = dict(msg.content["config"])
        device = int(context.node_config["partition-id"])
        X, y = shard(c["task"], device, int(c["devices"]), float(c["alpha"]), int(c["seed"]))
        update = device_round(c, of_record(msg.content["arrays"]), X, y)
        metrics = MetricRecord({"num-examples": len(y), "device": device})
        return Message(RecordDict({"arrays": to_record(update), "metrics": metrics}), reply_to=msg)

    class BytesFedAvg(FedAvg):
        """FedAvg over npoa model bytes, in the order of the devices."""

        def aggregate_train(self, server_round, replies):
            valid, failed = self._check_and_log_replies(replies, is_train=True)
            if failed or len(valid) != cfg["devices"]:
                # FedAvg over whoever answered would hide a broken device: stop the run.
                raise RuntimeError(
                    f"round {server_round}: {len(valid)} of {cfg['devices']} devices answered"
                    + (f" ({failed[0].error.reason})" if failed else "")
                )
            folder = out / f"round-{server_round}"
            updates = []
            for m in valid:
                device = int(m.content["metrics"]["device"])
                wire = of_record(m.content["arrays"])
                role, rnd, samples, model = npoa.unframe(wire)  # both CRCs checked
                if (role, rnd, samples) != ("update", server_round, m.content["metrics"]["num-examples"]):
                    raise ValueError(f"device {device} answered {role} {rnd} ({samples} samples)")
                (folder / f"device-{device}.bin").write_bytes(wire)
                updates.append((device, model, samples))
            new = npoa.frame("global", server_round + 1, 0, fedavg(updates))
            (out / f"round-{server_round + 1}").mkdir(parents=True, exist_ok=True)
            (out / f"round-{server_round + 1}" / "global.bin").write_bytes(new)
            return to_record(new), MetricRecord({"devices": len(updates)})

    server = ServerApp()

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        d = dataset(cfg["task"], cfg["seed"])[0].shape[1]
        zero = npoa.Model.linear([0.0] * d, 0.0, TASKS[cfg["task"]]).to_bytes()
        start = npoa.frame("global", 1, 0, zero)
        (out / "round-1").mkdir(parents=True, exist_ok=True)
        (out / "round-1" / "global.bin").write_bytes(start)
        history = []

        def evaluate(server_round, arrays):
            loss = held_out_loss(cfg["task"], npoa.unframe(of_record(arrays))[3], cfg["seed"])
            history.append((server_round, loss))
            return MetricRecord({"held-out-loss": loss})

        strategy = BytesFedAvg(
            fraction_train=1.0,
            fraction_evaluate=0.0,
            min_train_nodes=cfg["devices"],
            min_available_nodes=cfg["devices"],
        )
        strategy.start(
            grid=grid,
            initial_arrays=to_record(start),
            num_rounds=cfg["rounds"],
            train_config=ConfigRecord({k: v for k, v in cfg.items() if k != "rounds"}),
            evaluate_fn=evaluate,
        )
        (out / "history.json").write_text(json.dumps({"loss": history, "bytes-down": len(start)}))

    logging.getLogger("flwr").setLevel(logging.WARNING)
    run_simulation(
        server_app=server,
        client_app=client,
        num_supernodes=cfg["devices"],
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"num_cpus": min(os.cpu_count() or 1, 4), "include_dashboard": False},
        },
    )
    return json.loads((out / "history.json").read_text())


# ---- the report ----------------------------------------------------------------------------


def centralised(cfg: dict) -> float:
    """Held-out loss of npoa's solver on all training rows (the union of the shards)."""
    X, y, _, _ = dataset(cfg["task"], cfg["seed"])
    if TASKS[cfg["task"]] == "logistic":
        est = npoa.LogisticClassifier(l2=cfg["l2"], standardize=False).fit(X, y)
    else:
        est = npoa.LinearRegressor(l2=cfg["l2"], standardize=False).fit(X, y)
    return held_out_loss(cfg["task"], est.to_bytes(), cfg["seed"])


def rounds_to(history, target):
    return next((r for r, loss in history if r > 0 and loss <= target), None)


def recompute(out: Path, server_round: int, device: int) -> bool:
    cfg = json.loads((out / "config.json").read_text())
    X, y = shard(cfg["task"], device, cfg["devices"], cfg["alpha"], cfg["seed"])
    start = (out / f"round-{server_round}" / "global.bin").read_bytes()
    cfg["server-round"] = server_round
    mine = device_round(cfg, start, X, y)
    theirs = (out / f"round-{server_round}" / f"device-{device}.bin").read_bytes()
    same = mine == theirs
    print(
        f"recompute round {server_round} device {device} in process {os.getpid()}: "
        f"{len(mine)} bytes, {'identical' if same else 'DIFFERENT'} to the federation's"
    )
    return same


#: Default rates by task: npoa's (each device caps it at its shard's stable rate) and
#: SGDClassifier's / SGDRegressor's `eta0` (per sample).
RATES = {"cancer": (0.5, 0.1), "diabetes": (0.03, 0.01)}


def same_rounds(a: Path, b: Path, rounds: int) -> bool:
    """Whether two runs sent the same global frame in every round (and ended on the same)."""
    return all(
        (a / f"round-{r}" / "global.bin").read_bytes() == (b / f"round-{r}" / "global.bin").read_bytes()
        for r in range(1, rounds + 2)
    )


def report(task: str, a, base: Path) -> tuple[list, bool]:
    """Runs the task's federations (npoa twice with `--check`) and returns the table's rows."""
    X, _, _, _ = dataset(task, a.seed)
    npoa_lr, sk_lr = RATES[task]
    common = {
        "task": task,
        "devices": a.devices,
        "rounds": a.rounds,
        "alpha": a.alpha,
        "epochs": a.epochs,
        "batch": a.batch,
        "seed": a.seed,
        "l2": 1.0 / len(X),  # LogisticRegression(C=1), per sample; the same ridge for diabetes
    }
    best = centralised(common)
    sizes = [len(s) for s in shards(task, a.devices, a.alpha, a.seed)]
    unit = "log-loss" if TASKS[task] == "logistic" else "squared error (standardised target)"
    print(
        f"{task}: {a.devices} devices, {len(X)} training rows (shards of {min(sizes)} to "
        f"{max(sizes)}, Dirichlet alpha {a.alpha}), {a.epochs} local epochs; centralised "
        f"held-out {unit} {best:.6f}"
    )
    rows, ok = [], True
    for learner in a.learners.split(","):
        lr = (a.lr or npoa_lr) if learner == "npoa" else (a.sk_lr or sk_lr)
        cfg = dict(common, learner=learner, lr=lr)
        runs = 2 if (a.check and learner == "npoa") else 1
        for run in range(runs):
            out = base / f"{task}-{learner}-{run + 1}"
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text(json.dumps(cfg))
            hist = run_federation(cfg, out)
        if runs == 2:
            one, two = base / f"{task}-npoa-1", base / f"{task}-npoa-2"
            same = same_rounds(one, two, a.rounds)
            print(f"{task} npoa: two runs, global frames of every round {'identical' if same else 'DIFFERENT'}")
            ok &= same
            dev = min(a.devices - 1, 7)
            r = subprocess.run(
                [sys.executable, "-m", "npoa.fleet", "--recompute", str(one),
                 "--round", str(a.rounds), "--device", str(dev)],
                check=False,
            )
            ok &= r.returncode == 0
        losses = hist["loss"]
        up = len((out / "round-1" / "device-0.bin").read_bytes())
        reached = rounds_to(losses, 1.01 * best)
        per_update = 1 if learner == "sklearn" else min(a.batch, npoa.WINDOW)
        updates = a.epochs * sum(-(-n // per_update) for n in sizes) / a.devices
        sk = "SGDClassifier" if TASKS[task] == "logistic" else "SGDRegressor"
        name = {
            "npoa": f"npoa OnlineLearner (blocks of {per_update}, rate ≤ {lr})",
            "sklearn": f"scikit-learn {sk} (per sample, eta0 {lr})",
        }[learner]
        rows.append((task, name, reached, losses[-1][1], hist["bytes-down"], up, updates))
    rows.append((task, "centralised (npoa solver, all rows)", "-", best, None, None, None))
    return rows, ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="all", help="cancer, diabetes or all")
    p.add_argument("--devices", type=int, default=100)
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--alpha", type=float, default=0.5, help="Dirichlet label skew (smaller: less IID)")
    p.add_argument("--epochs", type=int, default=10, help="local passes over a shard per round")
    p.add_argument("--lr", type=float, default=None, help="npoa's rate (default: by task)")
    p.add_argument("--sk-lr", type=float, default=None, help="scikit-learn's eta0 (default: by task)")
    p.add_argument(
        "--batch", type=int, default=64, help="rows per npoa update (at most 64: a shard's blocks)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learners", default="npoa,sklearn")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--check", action="store_true", help="run npoa twice and recompute a device")
    p.add_argument("--recompute", type=Path, default=None, metavar="OUT")
    p.add_argument("--round", type=int, default=1)
    p.add_argument("--device", type=int, default=0)
    a = p.parse_args(argv)
    if a.recompute:
        return 0 if recompute(a.recompute, a.round, a.device) else 1

    base = a.out or Path(tempfile.mkdtemp(prefix="npoa-fleet-"))
    tasks = sorted(TASKS) if a.task == "all" else [a.task]
    rows, ok = [], True
    for task in tasks:
        r, good = report(task, a, base)
        rows += r
        ok &= good
    print()
    print(
        "| task | clients | rounds to held-out loss ≤ 1.01 × centralised | held-out loss after "
        f"{a.rounds} | bytes per device per round (down + up) | local updates per device per "
        "round (mean) |"
    )
    print("|---|---|--:|--:|--:|--:|")
    for task, name, reached, final, down, up, updates in rows:
        got = reached if reached is not None else f"not in {a.rounds}"
        wire = "-" if down is None else f"{down} + {up}"
        per = "-" if updates is None else f"{updates:.1f}"
        print(f"| {task} | {name} | {got} | {final:.6f} | {wire} | {per} |")
    print(f"\nframes of every round under {base}")
    return 0 if ok else 1


if __name__ == "__main__":
    # Through the imported module, not `__main__`: the simulation's workers unpickle the
    # client's functions by reference to `npoa.fleet`.
    from npoa.fleet import main as fleet_main

    sys.exit(fleet_main())
