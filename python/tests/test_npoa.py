"""The Python package against exact answers: scikit-learn's own estimator checks, the data sets
and reference results of the Rust tests (`tests/data/`), the CLI's model bytes, River's
streaming interface, and bad input."""

import json
import os
import pickle
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import npoa

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
REF = json.loads((DATA / "reference.json").read_text())


def load(name):
    """A CSV of `tests/data` (the target is the last column) as float32 X and y."""
    a = np.loadtxt(DATA / f"{name}.csv", delimiter=",", skiprows=1)
    return a[:, :-1].astype(np.float32), a[:, -1].astype(np.float32)


def line_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([2.0, -1.0, 0.5]) + 0.25 + 0.01 * rng.normal(size=n)).astype(np.float32)
    return X, y


# ---- scikit-learn's estimator checks -------------------------------------------------------

sklearn = pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks(
    [npoa.LinearRegressor(), npoa.LogisticClassifier(), npoa.SoftmaxClassifier()]
)
def test_sklearn_check_estimator(estimator, check):
    # Every check applies and passes; scikit-learn itself skips `check_array_api_input`
    # (it needs SCIPY_ARRAY_API=1 and array-api-strict: the estimators take numpy only).
    check(estimator)


# ---- exact answers ---------------------------------------------------------------------------


def test_least_squares_equals_numpy_lstsq():
    X, y = line_data()
    reg = npoa.LinearRegressor().fit(X, y)
    A = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    exact, *_ = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)
    assert reg.summary_["stop"] == "converged" and reg.summary_["solver"]
    np.testing.assert_allclose(reg.coef_, exact[:3], rtol=1e-5, atol=1e-6)
    assert abs(reg.intercept_ - exact[3]) < 1e-5
    assert reg.score(X, y) > 0.9999


def test_diabetes_lasso_matches_scikit_learn():
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load("diabetes")
    # npoa's squared loss is mean((z - y)^2), scikit-learn's Lasso halves it: l1 = 2 alpha.
    reg = npoa.LinearRegressor(l1=2.0).fit(X, y)
    sk = make_pipeline(StandardScaler(), Lasso(alpha=1.0, tol=1e-10, max_iter=100_000))
    sk.fit(X.astype(np.float64), y.astype(np.float64))
    ours = reg.coef_ * X.astype(np.float64).std(axis=0)  # on the standardised features
    theirs = sk[-1].coef_
    assert np.array_equal(ours != 0, theirs != 0), (ours, theirs)
    mse = float(np.mean((reg.predict(X).astype(np.float64) - y) ** 2))
    assert abs(mse / REF["diabetes"]["train_mse_exact"] - 1) < 1e-3


def test_breast_cancer_logistic_reaches_the_reference_optimum():
    X, y = load("breast_cancer")
    ref = REF["breast_cancer"]
    clf = npoa.LogisticClassifier(l2=ref["lambda2"]).fit(X, y.astype(int))
    assert clf.summary_["stop"] == "converged"
    # The objective of scikit-learn's LogisticRegression(C=1) divided by C n, in float64.
    mu, sd = X.astype(np.float64).mean(axis=0), X.astype(np.float64).std(axis=0)
    z = clf.decision_function(X).astype(np.float64)
    logloss = np.mean(np.logaddexp(0.0, z) - y * z)
    w_std = clf.coef_[0].astype(np.float64) * sd
    objective = logloss + 0.5 * ref["lambda2"] * float(w_std @ w_std)
    assert objective / ref["newton_objective"] - 1 < 1e-5, (objective, ref["newton_objective"])
    assert clf.score(X, y.astype(int)) >= ref["train_accuracy"] - 1e-9
    del mu


def test_wine_softmax_separates_like_scikit_learn():
    X, y = load("wine")
    labels = np.array(["barolo", "grignolino", "barbera"])[y.astype(int)]
    clf = npoa.SoftmaxClassifier().fit(X, labels)
    assert set(clf.classes_) == set(labels)
    assert clf.score(X, labels) == REF["wine"]["train_accuracy"] == 1.0
    p = clf.predict_proba(X)
    assert p.shape == (len(X), 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert clf.coef_.shape == (3, 13) and clf.intercept_.shape == (3,)


# ---- model bytes: the Rust crate's, the CLI's ------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: npoa.LinearRegressor(loss="huber", delta=0.5),
        lambda: npoa.LinearRegressor(loss="quantile", tau=0.8, max_iter=50),
        npoa.LogisticClassifier,
        npoa.SoftmaxClassifier,
    ],
)
def test_model_bytes_round_trip(make):
    X, y = line_data(120)
    est = make()
    if isinstance(est, npoa.LogisticClassifier):
        y = (y > 0).astype(int)
    elif isinstance(est, npoa.SoftmaxClassifier):
        y = np.digitize(y, [-1.0, 1.0])
    est.fit(X, y)
    data = est.to_bytes()
    again = type(est).from_bytes(data, **({"classes": est.classes_} if hasattr(est, "classes_") else {}))
    assert again.to_bytes() == data
    assert np.array_equal(again.predict(X), est.predict(X))
    copy = pickle.loads(pickle.dumps(est))
    assert copy.to_bytes() == data and copy.get_params() == est.get_params()
    import copy as copying

    assert pickle.loads(pickle.dumps(est.model_)) == est.model_  # through the model bytes
    assert copying.deepcopy(est.model_) == est.model_


def test_labels_keep_the_order_they_are_given_in():
    X, y = line_data(200)
    labels = np.where(y > 0, "yes", "no")
    clf = npoa.LogisticClassifier().fit(X, labels)
    assert clf.classes_.tolist() == ["no", "yes"]  # fit sorts, as scikit-learn does
    # The same model read with its labels named the other way round: "no" is now positive.
    flipped = npoa.LogisticClassifier.from_bytes(clf.to_bytes(), classes=["yes", "no"])
    assert (flipped.predict(X) == np.where(clf.predict(X) == "yes", "no", "yes")).all()
    flipped.partial_fit(X[:8], labels[:8])
    assert flipped.classes_.tolist() == ["yes", "no"]  # partial_fit keeps the order
    with pytest.raises(ValueError, match="distinct"):
        npoa.LogisticClassifier.from_bytes(clf.to_bytes(), classes=["a", "a"])
    with pytest.raises(ValueError, match="2 classes"):
        npoa.LogisticClassifier.from_bytes(clf.to_bytes(), classes=[0, 1, 2])


def _cli():
    path = os.environ.get("NPOA_CLI") or shutil.which("npoa")
    for cand in (ROOT / "target" / "release" / "npoa", ROOT / "target" / "debug" / "npoa"):
        if path is None and cand.exists():
            path = str(cand)
    if path is None:
        if os.environ.get("NPOA_REQUIRE_CLI"):
            pytest.fail("NPOA_REQUIRE_CLI is set but no npoa command was found")
        pytest.skip("no npoa command (cargo install --path cli, or set NPOA_CLI)")
    return path


M64 = (1 << 64) - 1


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


def cli_order(n, seed=0):
    """The row order of `npoa train` (`DynDataset::split`: Fisher-Yates with rand_xoshiro's
    Xoshiro256PlusPlus seeded through SplitMix64), so that the same rows reach the recipe in
    the same order."""
    x, s = seed, []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & M64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        s.append(z ^ (z >> 31))
    idx = list(range(n))
    for i in range(n - 1, 0, -1):
        r = (_rotl((s[0] + s[3]) & M64, 23) + s[0]) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        j = r % (i + 1)
        idx[i], idx[j] = idx[j], idx[i]
    return np.array(idx)


@pytest.mark.parametrize("loss", ["squared", "logistic", "poisson"])
def test_bytes_equal_the_cli_train_command(tmp_path, loss):
    X, y = line_data(300, seed=3)
    if loss == "logistic":
        y = (y > 0.3).astype(np.float32)
    if loss == "poisson":
        y = np.floor(np.exp(0.3 * X[:, 0])).astype(np.float32)
    csv = tmp_path / "data.csv"
    rows = np.column_stack([X, y])
    # float32 values written with 9 significant digits read back to the same float32.
    np.savetxt(csv, rows, delimiter=",", fmt="%.9g", header="a,b,c,y", comments="")
    out = tmp_path / "model.bin"
    subprocess.run(
        [_cli(), "train", str(csv), "--loss", loss, "--val-fraction", "0", "--save", str(out),
         "--quiet"],
        check=True,
    )
    est = npoa.LinearRegressor(loss=loss) if loss != "logistic" else npoa.LogisticClassifier()
    order = cli_order(len(y))
    X, y = X[order], y[order]
    est.fit(X, y if loss != "logistic" else y.astype(int))
    assert est.to_bytes() == out.read_bytes()


# ---- River's interface and partial_fit: the streaming learner --------------------------------


def test_learn_one_follows_a_stream():
    rng = np.random.default_rng(7)
    reg = npoa.LinearRegressor()
    assert reg.predict_one({"a": 1.0, "b": 2.0}) == 0.0
    for _ in range(3000):
        a, b = rng.normal(size=2)
        reg.learn_one({"a": a, "b": b}, 2.0 * a - b + 0.5)
    assert abs(reg.predict_one({"a": 1.0, "b": 1.0}) - 1.5) < 0.02
    assert abs(reg.predict_one({"a": 1.0}) - 2.5) < 0.02  # a missing feature is 0
    with pytest.raises(ValueError, match="'c'"):
        reg.learn_one({"a": 1.0, "c": 2.0}, 1.0)


def test_logistic_learn_one_and_proba_one():
    rng = np.random.default_rng(8)
    clf = npoa.LogisticClassifier()
    for _ in range(3000):
        a, b = rng.normal(size=2)
        clf.learn_one({"a": a, "b": b}, bool(a + b > 0))
    right = 0
    for _ in range(500):
        a, b = rng.normal(size=2)
        right += clf.predict_one({"a": a, "b": b}) == bool(a + b > 0)
    assert right >= 475
    p = clf.predict_proba_one({"a": 2.0, "b": 2.0})
    assert set(p) == {False, True} and p[True] > 0.9 and abs(sum(p.values()) - 1) < 1e-6


def test_partial_fit_trains_and_continues_from_fit():
    X, y = line_data(4000, seed=1)
    reg = npoa.LinearRegressor()
    for i in range(0, len(X), 200):
        reg.partial_fit(X[i : i + 200], y[i : i + 200])
    assert reg.score(X, y) > 0.999
    fitted = npoa.LinearRegressor().fit(X[:100], y[:100])
    before = fitted.to_bytes()
    fitted.partial_fit(X[100:108], y[100:108])  # the standardiser's warm-up (64 rows) ...
    assert fitted.to_bytes() == before
    fitted.partial_fit(X[108:300], y[108:300])  # ... then updates
    assert fitted.to_bytes() != before  # the learner started from the fitted model ...
    assert fitted.score(X, y) > 0.999  # ... and kept it
    with pytest.raises(ValueError, match="features"):
        fitted.partial_fit(X[:8, :2], y[:8])


def test_a_padded_learner_keeps_the_model_size():
    # 17 features run in the learner of 20 (SIZES): the bytes hold 17, the padding stays 0.
    rng = np.random.default_rng(2)
    w = rng.normal(size=17).astype(np.float32)
    X = rng.normal(size=(2000, 17)).astype(np.float32)
    reg = npoa.LinearRegressor()
    for i in range(0, len(X), 64):
        reg.partial_fit(X[i : i + 64], X[i : i + 64] @ w)
    assert reg.coef_.shape == (17,)
    assert npoa.Model.from_bytes(reg.to_bytes()).features == 17
    assert reg.score(X, X @ w) > 0.99


# ---- bad input -------------------------------------------------------------------------------


def test_bad_input_raises_npoa_messages():
    X, y = line_data(50)
    with pytest.raises(npoa.NpoaError, match="NaN or infinite"):
        npoa.fit(np.where(X > 2, np.nan, X).astype(np.float32), y, "squared")
    with pytest.raises(npoa.NpoaError, match="unknown loss"):
        npoa.LinearRegressor(loss="cubic").fit(X, y)
    with pytest.raises(npoa.NpoaError, match="unknown optimizer"):
        npoa.LinearRegressor(optimizer="lion").fit(X, y)
    with pytest.raises(npoa.NpoaError):
        npoa.LinearRegressor(loss="huber", delta=-1.0).fit(X, y)
    with pytest.raises(npoa.NpoaError):
        npoa.Model.from_bytes(b"\x00" * 40)
    with pytest.raises(npoa.NpoaError, match="not a logistic"):
        npoa.LogisticClassifier.from_bytes(npoa.LinearRegressor().fit(X, y).to_bytes())
    with pytest.raises(ValueError, match="binary"):
        npoa.LogisticClassifier().fit(X, np.digitize(y, [-1, 1]))
    with pytest.raises(npoa.NpoaError, match="NaN or infinite"):
        npoa.LogisticClassifier().learn_one({"a": float("nan")}, True)
    for d in (3, 17):  # 17 runs padded in the learner of 20
        Xd = np.ascontiguousarray(np.tile(X[:9], (1, 6))[:, :d])
        learner = npoa.Learner(npoa.Model.linear([0.0] * d, 0.0), 0.1, standardize=None)
        for short in (1, 7, 9):
            with pytest.raises(npoa.NpoaError, match="rows"):
                learner.partial_fit(Xd[:8], y[:short])
        assert learner.partial_fit(Xd[:8], y[:8])["updates"] == 1
    learner = npoa.Learner(npoa.Model.linear([0.0] * 3, 0.0), 0.1, standardize=None)
    with pytest.raises(npoa.NpoaError, match="features"):
        learner.partial_fit(np.ascontiguousarray(X[:8, :2]), y[:8])
    with pytest.raises(npoa.NpoaError, match="at most 64|1 to 64"):
        npoa.Learner(npoa.Model.linear([0.0] * 65, 0.0), 0.1)
    with pytest.raises(npoa.NpoaError, match="role"):
        npoa.frame("gossip", 1, 0, npoa.Model.linear([1.0], 0.0).to_bytes())
    assert issubclass(npoa.NpoaError, ValueError)


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
