"""The federation's pieces without Flower: the shards, a device's update, the server's FedAvg
over model bytes (against an f64 oracle), all deterministic to the bit."""

import numpy as np
import pytest

import npoa

pytest.importorskip("sklearn")
from npoa import fleet  # noqa: E402

CFG = {"learner": "npoa", "epochs": 3, "lr": 0.1, "batch": 1, "l2": 1e-3, "seed": 0}


@pytest.mark.parametrize("task, d, n", [("cancer", 30, 569), ("diabetes", 10, 442)])
def test_shards_cover_the_training_rows_once_and_are_not_iid(task, d, n):
    X, y, Xt, yt = fleet.dataset(task, 0)
    assert X.shape[1] == d and len(X) + len(Xt) == n
    parts = fleet.shards(task, 100, 0.5, 0)
    rows = sorted(r for p in parts for r in p)
    assert rows == list(range(len(X)))
    assert min(len(p) for p in parts) >= 1
    groups = fleet.strata(task, y)
    share = [np.mean(groups[list(p)]) for p in parts if len(p) >= 4]
    assert max(share) - min(share) > 0.5  # skew: some devices hold nearly one class/quartile


def test_a_device_update_is_a_function_of_its_inputs():
    X, y = fleet.shard("cancer", 3, 10, 0.5, 0)
    start = npoa.Model.linear([0.0] * 30, 0.0, "logistic").to_bytes()
    a = fleet.local_update(CFG, start, X, y)
    assert a == fleet.local_update(CFG, start, X, y) and a != start
    assert len(a) == len(start) and npoa.Model.from_bytes(a).loss == "logistic"
    b = fleet.local_update(dict(CFG, learner="sklearn"), start, X, y)
    assert npoa.Model.from_bytes(b).features == 30
    with pytest.raises(ValueError, match="unknown learner"):
        fleet.local_update(dict(CFG, learner="torch"), start, X, y)


def test_fedavg_is_the_sample_weighted_mean():
    rng = np.random.default_rng(5)
    updates, ws, bs, ns = [], [], [], [3, 1, 7]
    for k, n in enumerate(ns):
        w = rng.normal(size=4).astype(np.float32)
        b = np.float32(rng.normal())
        ws.append(w.astype(np.float64))
        bs.append(float(b))
        updates.append((k, npoa.Model.linear(w.tolist(), float(b), "logistic").to_bytes(), n))
    got = npoa.Model.from_bytes(fleet.fedavg(list(reversed(updates))))  # any arrival order
    total = sum(ns)
    want_w = sum(w * (n / total) for w, n in zip(ws, ns)).astype(np.float32)
    want_b = np.float32(sum(b * (n / total) for b, n in zip(bs, ns)))
    assert np.array_equal(got.coef[0], want_w) and got.intercept[0] == want_b
    with pytest.raises(RuntimeError, match="no device"):
        fleet.fedavg([])


def test_a_device_round_checks_the_frame_and_answers_with_one():
    X, y = fleet.shard("cancer", 2, 10, 0.5, 0)
    zero = npoa.Model.linear([0.0] * 30, 0.0, "logistic").to_bytes()
    wire = npoa.frame("global", 4, 0, zero)
    cfg = dict(CFG, **{"server-round": 4})
    out = fleet.device_round(cfg, wire, X, y)
    role, rnd, samples, model = npoa.unframe(out)
    assert (role, rnd, samples) == ("update", 4, len(y))
    assert model == fleet.local_update(cfg, zero, X, y)
    with pytest.raises(ValueError, match="round 5"):
        fleet.device_round(dict(cfg, **{"server-round": 5}), wire, X, y)  # a stale frame
    with pytest.raises(ValueError, match="global"):
        fleet.device_round(cfg, out, X, y)  # an update is not a global model
    bad = bytearray(wire)
    bad[30] ^= 1
    with pytest.raises(npoa.NpoaError, match="checksum"):
        fleet.device_round(cfg, bytes(bad), X, y)


def test_the_stable_rate_keeps_a_one_row_device_from_diverging():
    # Diabetes has devices with one unusual row: at the fleet's rate of 0.5 (or even 0.05) its
    # weights would grow several-fold a step; capped at its stable rate they stay bounded.
    task = "diabetes"
    sizes = [len(p) for p in fleet.shards(task, 100, 0.5, 0)]
    zero = npoa.Model.linear([0.0] * 10, 0.0, "squared").to_bytes()
    cfg = dict(CFG, task=task, lr=0.5, batch=64)
    worst = 0.0
    for k, n in enumerate(sizes):
        X, y = fleet.shard(task, k, 100, 0.5, 0)
        rate = fleet.stable_rate("squared", X)
        assert rate > 0
        m = npoa.Model.from_bytes(fleet.local_update(cfg, zero, X, y))
        worst = max(worst, float(np.abs(m.coef).max()))
    assert worst < 5.0, worst
