"""The estimators: scikit-learn's interface (``fit``, ``partial_fit``, ``predict``, ...) and
River's (``learn_one``, ``predict_one``) on npoa's Rust learners.

``fit`` runs npoa's recipe (the ``npoa train`` command's pipeline: the features standardised
and folded back, the full-batch solver that stops on the optimality certificate for the
smooth losses, or a controlled mini-batch run when an ``optimizer`` is named). ``partial_fit``
and ``learn_one`` feed npoa's streaming learner (``OnlineLearner``: a window, the strategy
controller over rounds, the divergence guard, ADWIN drift restarts, running standardisation),
which starts from the fitted model if there is one. ``to_bytes``/``from_bytes`` are npoa's
model bytes, the ones the Rust crate, the C API and the firmware read and write. A pickled
estimator keeps its model (through the model bytes); its streaming learner (window, controller,
the standardiser's 64-sample warm-up) starts afresh after unpickling.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from . import _core
from ._core import NpoaError

try:  # scikit-learn is optional: with it, these are scikit-learn estimators.
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised by the no-scikit-learn test
    HAVE_SKLEARN = False

    class BaseEstimator:  # type: ignore[no-redef]
        """``get_params``/``set_params`` as scikit-learn defines them (the ``__init__``
        parameters, stored under their own names)."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep=True):
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(f"invalid parameter {k!r} for {type(self).__name__}")
                setattr(self, k, v)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class RegressorMixin:  # type: ignore[no-redef]
        _estimator_type = "regressor"

        def score(self, X, y):
            """R² of the predictions."""
            y = np.asarray(y, dtype=np.float64)
            p = np.asarray(self.predict(X), dtype=np.float64)
            ss = float(((y - y.mean()) ** 2).sum())
            res = float(((y - p) ** 2).sum())
            return 1.0 - res / ss if ss > 0 else (1.0 if res == 0 else 0.0)

    class ClassifierMixin:  # type: ignore[no-redef]
        _estimator_type = "classifier"

        def score(self, X, y):
            """Accuracy of the predictions."""
            return float(np.mean(self.predict(X) == np.asarray(y)))

    class NotFittedError(ValueError, AttributeError):
        pass

    def check_is_fitted(estimator, attributes=None):
        if not hasattr(estimator, "model_"):
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet: call fit first"
            )

    def check_classification_targets(y):
        if np.asarray(y).dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous targets for a classifier")

    def validate_data(est, X, y="no_validation", reset=True, **_):
        def matrix(X):
            X = np.asarray(X, dtype=np.float32, order="C")
            if X.ndim != 2:
                raise ValueError(f"Expected a 2D array, got {X.ndim}D: reshape your data")
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"Found array with shape {X.shape}: no samples or features")
            if not np.isfinite(X).all():
                raise ValueError("Input X contains NaN or infinity")
            if reset:
                est.n_features_in_ = X.shape[1]
            elif X.shape[1] != est.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                    f"{est.n_features_in_} features as input"
                )
            return X

        if isinstance(y, str) and y == "no_validation":
            return matrix(X)
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        X = matrix(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1D with one value per row of X, got shape {y.shape}")
        return X, y


__all__ = [
    "LinearRegressor",
    "LogisticClassifier",
    "SoftmaxClassifier",
    "NpoaError",
    "HAVE_SKLEARN",
]


def _check_classes(classes, count=None):
    """Labels as an array: distinct, and ``count`` of them if given."""
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
        raise ValueError(f"classes must be distinct labels, got {classes.tolist()}")
    if count is not None and len(classes) != count:
        raise ValueError(f"the model has {count} classes, got {len(classes)} labels")
    return classes


def _f32(y):
    """A C-contiguous float32 vector (no copy if it is one already)."""
    return np.ascontiguousarray(y, dtype=np.float32)


class _Npoa(BaseEstimator):
    """What the three estimators share: the recipe's parameters, the model and its bytes,
    the streaming learner of ``partial_fit``/``learn_one``."""

    # The recipe's objective (set by the subclasses).
    _objective = "squared"

    def __init__(
        self,
        l1=0.0,
        l2=0.0,
        standardize=True,
        tol=None,
        max_iter=None,
        optimizer=None,
        learning_rate=None,
        batch_size=32,
        partial_batch=8,
        random_state=0,
    ):
        self.l1 = l1
        self.l2 = l2
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.partial_batch = partial_batch
        self.random_state = random_state

    def _fit_recipe(self, X, y, *, classes=2):
        """Runs npoa's recipe on validated float32 data and keeps its model."""
        model, summary = _core.fit(
            X,
            _f32(y),
            self._objective_name(),
            param=self._param(),
            classes=classes,
            l1=float(self.l1),
            l2=float(self.l2),
            standardize=bool(self.standardize),
            tol=None if self.tol is None else float(self.tol),
            max_iter=None if self.max_iter is None else int(self.max_iter),
            optimizer=self.optimizer,
            learning_rate=None if self.learning_rate is None else float(self.learning_rate),
            batch_size=int(self.batch_size),
            seed=int(self.random_state or 0),
        )
        self._set_model(model)
        self.summary_ = summary
        self.n_iter_ = max(int(summary["epochs"]), 1)
        self._learner = None
        self._stream_names = None
        return self

    def _objective_name(self):
        return self._objective

    def _param(self):
        return 0.0

    def _set_model(self, model):
        self.model_ = model
        self._stale = False

    def _current(self):
        """The model predictions use: the streaming learner's once it has trained."""
        check_is_fitted(self, "model_")
        if getattr(self, "_stale", False) and getattr(self, "_learner", None) is not None:
            self._set_model(self._learner.model())
        return self.model_

    # ---- the streaming learner ----

    def _stream_rate(self, d):
        """The streaming learner's rate: ``learning_rate``, else a stable rate for standardised
        features, 1/(d+1) (4/(d+1) for the logistic loss, whose curvature is at most 1/4)."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return (4.0 if self._objective == "logistic" else 1.0) / (d + 1)

    def _stream(self, d):
        """The streaming learner, made at the first call from the fitted model or zeros."""
        learner = getattr(self, "_learner", None)
        if learner is not None:
            self._expect(d, learner.features)
            return learner
        if hasattr(self, "model_"):
            self._expect(d, self.model_.features)
            start = self.model_
        else:
            start = _core.Model.linear([0.0] * d, 0.0, self._objective_name(), self._param())
        self._learner = _core.Learner(
            start,
            self._stream_rate(d),
            optimizer="sgd" if self.optimizer in (None, "auto") else self.optimizer,
            l1=float(self.l1),
            l2=float(self.l2),
            standardize=64 if self.standardize else None,
            seed=None,
        )
        self.n_features_in_ = d
        if not hasattr(self, "model_"):
            self._set_model(start)
        return self._learner

    def _expect(self, got, want):
        if got != want:
            raise ValueError(
                f"X has {got} features, but {type(self).__name__} is expecting "
                f"{want} features as input"
            )

    def _checked(self, X):
        """The fitted model and ``X`` validated against it (C-contiguous float32)."""
        model = self._current()
        return model, validate_data(self, X, dtype=np.float32, order="C", reset=False)

    def _partial(self, X, y):
        """Feeds the rows of ``(X, y)`` to the streaming learner, one update per block of
        ``partial_batch`` rows (npoa's ``OnlineLearner.partial_fit``)."""
        learner = self._stream(X.shape[1])
        y = _f32(y)
        b = max(1, min(int(self.partial_batch), _core.WINDOW))
        for i in range(0, len(y), b):
            learner.partial_fit(X[i : i + b], y[i : i + b])
        self._stale = True
        self.n_iter_ = getattr(self, "n_iter_", 0) + 1
        return self

    def _names(self, x):
        """The feature order of River samples: fixed by the first sample learnt (or by
        ``feature_names_in_`` after a fit on a DataFrame)."""
        names = getattr(self, "_stream_names", None)
        if names is None:
            fitted = getattr(self, "feature_names_in_", None)
            names = list(fitted) if fitted is not None else list(x)
        return names

    def _row(self, x, names, strict):
        """A River sample (a dict of feature values) as a float32 row in the order ``names``;
        a missing feature is 0; an unknown one is an error when learning (``strict``) and
        ignored when predicting, as River's linear models do."""
        if not names:
            raise ValueError("a sample needs at least one feature")
        if strict:
            known = set(names)
            unknown = [k for k in x if k not in known]
            if unknown:
                raise ValueError(
                    f"feature {unknown[0]!r} was not in the first sample (known: {names})"
                )
        return np.array([x.get(k, 0.0) for k in names], dtype=np.float32)

    def _predict_row(self, x):
        return self._row(x, self._names(x), strict=False)[None, :]

    def _learn(self, x, target):
        names = self._names(x)
        row = self._row(x, names, strict=True)
        learner = self._stream(len(row))
        learner.push(row, float(target))
        self._stream_names = names  # fixed once a sample was taken
        learner.step()
        self._stale = True

    # ---- model bytes, pickling ----

    def to_bytes(self):
        """npoa's model bytes of the current model (the Rust crate's ``DynModel::to_bytes``,
        what the firmware reads)."""
        return self._current().to_bytes()

    @classmethod
    def _from_model(cls, model, **params):
        est = cls(**params)
        est._set_model(model)
        est.n_features_in_ = model.features
        est.n_iter_ = 1
        return est

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__
        state = dict(state)
        if "model_" in state:
            state["model_"] = self._current().to_bytes()
        # The streaming learner's window and controller are not model bytes: a pickled
        # estimator keeps its model, and a later stream starts a fresh learner from it.
        state["_learner"] = None
        state["_stale"] = False
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "model_" in state:
            state["model_"] = _core.Model.from_bytes(state["model_"])
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)


_COMMON_DOC = """
    l1, l2 : float
        npoa's penalties on the weights of the standardised features (λ1·‖w‖₁ + λ2/2·‖w‖²
        added to the mean loss), the bias unpenalised.
    standardize : bool
        Standardise the features (and, for the losses that allow it, the target), folding the
        scaling back into the model, which predicts on raw features.
    tol : float or None
        Tolerance of the ``converged`` stop on the relative optimality certificate (None:
        npoa's default).
    max_iter : int or None
        Epochs (the solver's iterations); None: 5000 for the solver, 200 for mini-batches.
    optimizer : str or None
        None or "auto": the full-batch solver for the smooth losses; a rule's name ("sgd",
        "momentum", "nesterov", "adam", "adamw", "averaged", "ftrl", "adagrad"): mini-batches
        under npoa's strategy controller (also the streaming learner's rule; default SGD).
    learning_rate : float or None
        The rate of a mini-batch run or of the streaming learner (None: npoa's stable rate).
    batch_size : int
        Mini-batch size of a mini-batch ``fit``.
    partial_batch : int
        Rows per update in ``partial_fit`` (at most the learner's window, 64).
    random_state : int
        Seed of the mini-batch shuffling (the solver is deterministic).
"""


class LinearRegressor(RegressorMixin, _Npoa):
    __doc__ = (
        """A linear regression trained by npoa.

    Parameters
    ----------
    loss : str
        "squared" (least squares), "huber", "absolute", "quantile" or "poisson" (log link:
        ``predict`` returns the mean ``exp(X·w + b)``).
    delta : float
        Huber's threshold δ.
    tau : float
        The quantile level τ in (0, 1).
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    model_ : npoa._core.Model
    summary_ : dict
        npoa's run summary (stop reason, epochs, certificate, ...).

    Examples
    --------
    >>> import numpy as np, npoa
    >>> X = np.arange(20, dtype=np.float32).reshape(10, 2)
    >>> y = X @ np.array([1.5, -2.0], dtype=np.float32) + 0.5
    >>> reg = npoa.LinearRegressor().fit(X, y)
    >>> reg.summary_["stop"]
    'converged'
    >>> bool(np.allclose(reg.predict(X), y, atol=1e-3))
    True
    """
    )

    def __init__(
        self,
        loss="squared",
        delta=1.0,
        tau=0.5,
        l1=0.0,
        l2=0.0,
        standardize=True,
        tol=None,
        max_iter=None,
        optimizer=None,
        learning_rate=None,
        batch_size=32,
        partial_batch=8,
        random_state=0,
    ):
        self.loss = loss
        self.delta = delta
        self.tau = tau
        super().__init__(
            l1=l1,
            l2=l2,
            standardize=standardize,
            tol=tol,
            max_iter=max_iter,
            optimizer=optimizer,
            learning_rate=learning_rate,
            batch_size=batch_size,
            partial_batch=partial_batch,
            random_state=random_state,
        )

    @property
    def _objective(self):
        return self.loss

    def _param(self):
        return float({"huber": self.delta, "quantile": self.tau}.get(self.loss, 0.0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        return tags

    def _check_loss(self):
        if self.loss in ("logistic", "softmax"):
            raise ValueError(
                f"loss={self.loss!r} is a classifier's: use LogisticClassifier or SoftmaxClassifier"
            )

    def fit(self, X, y):
        """Trains a fresh model on ``X`` (n_samples × n_features) and ``y``."""
        self._check_loss()
        X, y = validate_data(self, X, y, dtype=np.float32, order="C", y_numeric=True)
        return self._fit_recipe(X, y)

    def partial_fit(self, X, y):
        """Updates the model on a batch with npoa's streaming learner (it starts from the
        fitted model, or from zeros)."""
        self._check_loss()
        first = not hasattr(self, "n_features_in_")
        X, y = validate_data(self, X, y, dtype=np.float32, order="C", y_numeric=True, reset=first)
        return self._partial(X, y)

    def predict(self, X):
        """The predictions (for the Poisson loss, the mean ``exp(X·w + b)``)."""
        model, X = self._checked(X)
        z = model.decision(X)[:, 0]
        return np.exp(z) if self.loss == "poisson" else z

    @property
    def coef_(self):
        return self._current().coef[0]

    @property
    def intercept_(self):
        return float(self._current().intercept[0])

    def learn_one(self, x, y):
        """River: one sample (a dict of feature values) into the streaming learner (push,
        then step)."""
        self._learn(x, y)

    def predict_one(self, x):
        """River: the prediction for one sample (a dict); 0 before anything is learnt."""
        if not hasattr(self, "model_"):
            return 0.0
        z = float(self._current().decision(self._predict_row(x))[0, 0])
        return math.exp(z) if self.loss == "poisson" else z

    @classmethod
    def from_bytes(cls, data, **params):
        """An estimator holding the linear model stored in ``data`` (npoa's model bytes)."""
        model = _core.Model.from_bytes(bytes(data))
        if model.outputs != 1 or model.loss in ("logistic", "softmax"):
            raise NpoaError(f"these bytes hold a {model.loss} model, not a regression")
        params.setdefault("loss", model.loss)
        if model.loss == "huber":
            params.setdefault("delta", model.param)
        if model.loss == "quantile":
            params.setdefault("tau", model.param)
        return cls._from_model(model, **params)


class _Classifier(ClassifierMixin, _Npoa):
    """Labels to class indices and back."""

    def _labels(self, y, classes=None):
        """``classes`` (sorted labels of ``y`` if None; else as given, in their order: the
        model's outputs) and ``y`` as class indices."""
        check_classification_targets(y)
        y = np.asarray(y)
        classes = np.unique(y) if classes is None else _check_classes(classes)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got 1 class"
            )
        order = np.argsort(classes, kind="stable")
        pos = np.clip(np.searchsorted(classes[order], y), 0, len(classes) - 1)
        idx = order[pos]
        if not np.all(classes[idx] == y):
            raise ValueError(f"y holds labels not in classes {classes.tolist()}")
        return classes, idx.astype(np.float32)

    @property
    def coef_(self):
        return self._current().coef

    @property
    def intercept_(self):
        return self._current().intercept

    def _prepare(self, X, y, classes, partial):
        first = not hasattr(self, "n_features_in_") or not partial
        X, y = validate_data(self, X, y, dtype=np.float32, order="C", reset=first)
        if partial and hasattr(self, "classes_"):
            if classes is not None and not np.array_equal(np.asarray(classes), self.classes_):
                raise ValueError("classes differ from those of the first partial_fit")
            classes = self.classes_
        elif partial and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        classes, idx = self._labels(y, classes)
        return X, classes, idx

    def predict(self, X):
        """The most likely class of each row."""
        best = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[best]


class LogisticClassifier(_Classifier):
    __doc__ = (
        """A binary logistic regression trained by npoa (for more classes: SoftmaxClassifier).

    Parameters
    ----------
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of the two labels (the second is the positive class)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    model_ : npoa._core.Model

    Examples
    --------
    >>> import numpy as np, npoa
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    >>> clf = npoa.LogisticClassifier().fit(X, ["no", "no", "yes", "yes"])
    >>> clf.predict(np.array([[0.2], [2.8]], dtype=np.float32)).tolist()
    ['no', 'yes']
    """
    )

    _objective = "logistic"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _labels(self, y, classes=None):
        classes, idx = super()._labels(y, classes)
        if len(classes) > 2:
            raise ValueError(
                f"Only binary classification is supported: y has {len(classes)} classes "
                "(SoftmaxClassifier takes more)"
            )
        return classes, idx

    def fit(self, X, y):
        """Trains a fresh model; ``y`` holds two labels."""
        X, self.classes_, t = self._prepare(X, y, None, partial=False)
        return self._fit_recipe(X, t)

    def partial_fit(self, X, y, classes=None):
        """Updates the model on a batch with npoa's streaming learner; ``classes`` (the two
        labels) is needed on the first call."""
        X, self.classes_, t = self._prepare(X, y, classes, partial=True)
        return self._partial(X, t)

    def decision_function(self, X):
        """The logit of the positive class (``classes_[1]``)."""
        model, X = self._checked(X)
        return model.decision(X)[:, 0]

    def predict_proba(self, X):
        """Probabilities of ``classes_[0]`` and ``classes_[1]``."""
        model, X = self._checked(X)
        p = model.proba(X)[:, 0].astype(np.float64)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """The label of each row: ``classes_[1]`` where the logit is positive."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def learn_one(self, x, y):
        """River: one labelled sample (a dict; ``y`` a label, by default False/True) into the
        streaming learner."""
        if not hasattr(self, "classes_"):
            self.classes_ = np.array([False, True])
        _, t = self._labels(np.array([y]), self.classes_)
        self._learn(x, t[0])

    def predict_proba_one(self, x):
        """River: ``{label: probability}`` for one sample (a dict)."""
        if not hasattr(self, "model_"):
            classes = getattr(self, "classes_", np.array([False, True]))
            return {c.item(): 0.5 for c in classes}
        p = float(self._current().proba(self._predict_row(x))[0, 0])
        return {self.classes_[0].item(): 1.0 - p, self.classes_[1].item(): p}

    def predict_one(self, x):
        """River: the most likely label of one sample (a dict)."""
        proba = self.predict_proba_one(x)
        return max(proba, key=proba.get)

    @classmethod
    def from_bytes(cls, data, classes=(False, True), **params):
        """An estimator holding the logistic model stored in ``data``, with these labels."""
        model = _core.Model.from_bytes(bytes(data))
        if model.loss != "logistic":
            raise NpoaError(f"these bytes hold a {model.loss} model, not a logistic one")
        est = cls._from_model(model, **params)
        est.classes_ = _check_classes(classes, 2)
        return est


class SoftmaxClassifier(_Classifier):
    __doc__ = (
        """A multinomial (softmax) logistic regression trained by npoa, 2 to 256 classes.

    ``partial_fit`` and ``learn_one`` are not offered: npoa's streaming learner trains
    one-output models.

    Parameters
    ----------
"""
        + _COMMON_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of the labels
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    model_ : npoa._core.Model

    Examples
    --------
    >>> import numpy as np, npoa
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1], [2.0], [2.1]], dtype=np.float32)
    >>> clf = npoa.SoftmaxClassifier(l2=1e-3).fit(X, [0, 0, 1, 1, 2, 2])
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    )

    _objective = "softmax"

    def fit(self, X, y):
        """Trains a fresh model; ``y`` holds the labels."""
        X, self.classes_, t = self._prepare(X, y, None, partial=False)
        return self._fit_recipe(X, t, classes=len(self.classes_))

    def decision_function(self, X):
        """The class logits (n_samples × n_classes); for two classes, scikit-learn's
        convention: the score of ``classes_[1]``, its logit minus the other's."""
        model, X = self._checked(X)
        z = model.decision(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        """The softmax probabilities of the classes."""
        model, X = self._checked(X)
        return model.proba(X).astype(np.float64)

    @classmethod
    def from_bytes(cls, data, classes=None, **params):
        """An estimator holding the softmax classifier stored in ``data`` (labels: ``classes``,
        by default ``0..k``)."""
        model = _core.Model.from_bytes(bytes(data))
        if model.loss != "softmax":
            raise NpoaError(f"these bytes hold a {model.loss} model, not a softmax classifier")
        est = cls._from_model(model, **params)
        est.classes_ = (
            np.arange(model.outputs) if classes is None else _check_classes(classes, model.outputs)
        )
        return est
