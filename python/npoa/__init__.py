"""npoa from Python: on-device training of small models, with scikit-learn's and River's
estimator interfaces, on the same Rust code and the same bits as the firmware.

>>> import numpy as np, npoa
>>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], dtype=np.float32)
>>> reg = npoa.LinearRegressor().fit(X, 2.0 * X[:, 0] - X[:, 1] + 1.0)
>>> model = npoa.LinearRegressor.from_bytes(reg.to_bytes())  # npoa's model bytes
>>> bool(np.array_equal(model.predict(X), reg.predict(X)))
True
"""

from ._core import (
    HOLDOUT,
    SIZES,
    WINDOW,
    Learner,
    Model,
    NpoaError,
    __version__,
    fit,
    frame,
    unframe,
)
from ._estimators import HAVE_SKLEARN, LinearRegressor, LogisticClassifier, SoftmaxClassifier

__all__ = [
    "LinearRegressor",
    "LogisticClassifier",
    "SoftmaxClassifier",
    "Model",
    "Learner",
    "NpoaError",
    "fit",
    "frame",
    "unframe",
    "WINDOW",
    "HOLDOUT",
    "SIZES",
    "HAVE_SKLEARN",
    "__version__",
]
