"""The model presets of the source documents, each written down once as data (SPEC.md §2).

``PRESETS`` maps a name to a frozen ``ModelPreset``: layer sizes, loss, optimizer and its
hyper-parameters, batch size, training length, initialisation, the result the document
reports, and where in which document each number comes from (``source``: file and lines
in ``shared/seeds/``). The benchmarks, the parity tests and the torch/Keras twins read
these records; nothing else repeats the numbers.

``build_model(preset)`` turns a preset into a reference model (``FullyConnectedNet`` or
``RegressionNet``); ``solver_config(preset)`` gives the matching ``Solver`` arguments;
``dating_data(n, rng)`` draws the dating example's samples as the document does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from dlparity import validate as v

from .init import truncated_normal
from .models import FullyConnectedNet, RegressionNet

__all__ = [
    "ModelPreset",
    "PRESETS",
    "DATING_NET_START",
    "build_model",
    "solver_config",
    "dating_data",
    "dating_dates",
]

INITS = ("normal", "he_truncated_normal", "torch_default", "fixed")
# normal:              weight_scale * N(0, 1), zero biases (FullyConnectedNet, CS231n)
# he_truncated_normal: truncated normal (2 std) with std sqrt(2 / fan_in), zero biases (TF doc)
# torch_default:       nn.Linear's default, W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
# fixed:               the document's written-out starting parameters (initial_params)


@dataclass(frozen=True)
class ModelPreset:
    """One model of the documents, as data.

    - name: key in PRESETS.
    - task: 'classification' (softmax cross-entropy) or 'regression' (mean square error).
    - layer_dims: (input_dim, hidden..., output_dim).
    - activation: of the hidden layers ('relu').
    - loss: 'softmax_loss' or 'mse_loss' (the reference's function names).
    - reg: L2 strength, the loss adds 0.5 * reg * sum(W**2) over the weights.
    - dropout: DROP probability of every hidden layer (0: none).
    - update_rule, learning_rate: the optimizer (a rule of reference/optim.py).
    - batch_size: None means the whole training set (full-batch gradient descent).
    - num_epochs / num_iterations: the training length the document uses (one of them).
    - init, weight_scale: how the parameters start (see INITS); weight_scale for 'normal'.
    - initial_params: for init='fixed', the starting parameters as nested tuples, keyed
      W1, b1, ...; ``initial_arrays()`` returns them as arrays.
    - data_noise: the dating examples' relative noise (``dating_data``'s ``noise``).
    - dataset, framework: what the document trains on, and with which library.
    - reported_test_accuracy: the document's test accuracy, where it reports one.
    - source: document file and line numbers of every number above.
    - notes: what the document leaves open and how the preset fills it.
    """

    name: str
    task: str
    layer_dims: tuple[int, ...]
    activation: str
    loss: str
    reg: float
    dropout: float
    update_rule: str
    learning_rate: float
    batch_size: int | None
    num_epochs: int | None
    num_iterations: int | None
    init: str
    weight_scale: float | None
    initial_params: tuple[tuple[str, tuple], ...] | None
    data_noise: float | None
    dataset: str
    framework: str
    reported_test_accuracy: float | None
    source: str
    notes: str = ""

    @property
    def input_dim(self) -> int:
        return self.layer_dims[0]

    @property
    def hidden_dims(self) -> tuple[int, ...]:
        return self.layer_dims[1:-1]

    @property
    def output_dim(self) -> int:
        return self.layer_dims[-1]

    def initial_arrays(self, dtype: Any = np.float64) -> dict[str, np.ndarray]:
        """The fixed starting parameters as NEW arrays (init='fixed' only)."""
        if self.initial_params is None:
            raise ValueError(f"ModelPreset {self.name!r} has no fixed initial_params")
        return {k: np.array(value, dtype=dtype) for k, value in self.initial_params}


def _rows(*rows: tuple[float, ...]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(r) for r in rows)


# The 4-layer dating net's starting point, exactly as 003_acdea5ffa2933ff8.txt lines
# 617-624 (and 000_2fa3ea79f48607a4.txt line 971 on) write it: W[0] ... W[3], b[0] ... b[3]
# of the document are W1 ... W4, b1 ... b4 here.
_DATING_K_BY_K = _rows(
    (0.7, 0.05, 0.0, 0.2, 0.1),
    (0.3, 0.01, 0.01, 0.3, 0.1),
    (0.3, 0.01, 0.01, 0.3, 0.1),
    (0.07, 0.04, 0.01, 0.1, 0.1),
    (0.1, 0.1, 0.01, 0.02, 0.03),
)
DATING_NET_START: tuple[tuple[str, tuple], ...] = (
    ("W1", _rows((0.7, 0.05, 0.0, 0.2, 0.2), (0.3, 0.01, 0.01, 0.3, 0.2))),  # (2, K)
    ("b1", (0.8, 0.2, 1.0, 0.2, 0.1)),
    ("W2", _DATING_K_BY_K),  # (K, K)
    ("b2", (0.8, 0.2, 1.0, 0.2, 0.1)),
    ("W3", _DATING_K_BY_K),  # (K, K), the document repeats W[1]'s values
    ("b3", (0.8, 0.2, 1.0, 0.2, 0.1)),
    ("W4", _rows((0.8,), (0.5,), (0.05,), (0.05,), (0.1,))),  # (K, 1)
    ("b4", (0.2,)),
)

# The linear model's starting point: W = np.array([0.1, 0.1]), b = 0 (003 lines 307-308),
# as a (2, 1) weight and a (1,) bias.
DATING_LINEAR_START: tuple[tuple[str, tuple], ...] = (
    ("W1", _rows((0.1,), (0.1,))),
    ("b1", (0.0,)),
)

_PRESETS = (
    ModelPreset(
        name="mnist_fc_tf",
        task="classification",
        layer_dims=(784, 256, 100, 10),
        activation="relu",
        loss="softmax_loss",
        reg=5e-5,
        dropout=0.0,
        update_rule="adam",
        learning_rate=1e-3,
        batch_size=100,
        num_epochs=None,
        num_iterations=10_000,
        init="he_truncated_normal",
        weight_scale=None,
        initial_params=None,
        data_noise=None,
        dataset="MNIST",
        framework="tensorflow",
        reported_test_accuracy=0.9816,
        source=(
            "002_33ef150fd287d63e.txt:622-626 (layers, truncated_normal std sqrt(2/fan_in)), "
            "645-650 (softmax CE + lmbda * sum tf.nn.l2_loss(W), Adam 0.001), "
            "662-664 (10000 iterations, next_batch(100), lmbda 5e-5), 738 (# 0.9816)"
        ),
        notes=(
            "lmbda * tf.nn.l2_loss(W) = 0.5 * 5e-5 * sum(W**2): the reference's reg = 5e-5. "
            "TF1's AdamOptimizer uses epsilon 1e-8, as the reference's adam."
        ),
    ),
    ModelPreset(
        name="cifar10_fc",
        task="classification",
        layer_dims=(3072, 100, 50, 25, 10),
        activation="relu",
        loss="softmax_loss",
        reg=0.0,
        dropout=0.0,
        update_rule="adam",
        learning_rate=1e-3,
        batch_size=200,
        num_epochs=10,
        num_iterations=None,
        init="normal",
        weight_scale=5e-2,
        initial_params=None,
        data_noise=None,
        dataset="CIFAR-10",
        framework="numpy",
        reported_test_accuracy=None,
        source=(
            "002_33ef150fd287d63e.txt:533 (FullyConnectedNet([100, 50, 25], weight_scale=5e-2, "
            "dtype=np.float64)), 519-520 (input_dim 3*32*32, num_classes 10, reg 0.0), "
            "582-590 (Solver: num_epochs=10, batch_size=200, update_rule='adam')"
        ),
        notes=(
            "The document passes optim_config={'learning_rate': learning_rate} without giving "
            "the value; the preset uses Adam's default 1e-3 (SPEC.md §2). It builds the model "
            "in float64 and reports no accuracy."
        ),
    ),
    ModelPreset(
        name="mnist_fc_torch_128_64",
        task="classification",
        layer_dims=(784, 128, 64, 10),
        activation="relu",
        loss="softmax_loss",
        reg=0.0,
        dropout=0.0,
        update_rule="sgd",
        learning_rate=1e-3,
        batch_size=64,
        num_epochs=3,
        num_iterations=None,
        init="torch_default",
        weight_scale=None,
        initial_params=None,
        data_noise=None,
        dataset="MNIST",
        framework="pytorch",
        reported_test_accuracy=None,
        source=(
            "001_4092689f42daa161.txt:1358-1377 (nn.Linear 784-128, 128-64, 64-10, ReLU, "
            "logits), 1335 (batch_size=64), 1472-1486 (nn.CrossEntropyLoss, optim.SGD "
            "lr=0.001), 1556 (epochs = 3)"
        ),
        notes=(
            "The document gives the optimizer and the loop for its generic `model`; this net "
            "takes them with the plain training loop's 3 epochs (no dropout in this class). "
            "The MNIST transform normalises pixels to [-1, 1] (Normalize(0.5, 0.5))."
        ),
    ),
    ModelPreset(
        name="mnist_fc_torch_516_256_dropout",
        task="classification",
        layer_dims=(784, 516, 256, 10),
        activation="relu",
        loss="softmax_loss",
        reg=0.0,
        dropout=0.5,
        update_rule="sgd",
        learning_rate=1e-3,
        batch_size=64,
        num_epochs=2,
        num_iterations=None,
        init="torch_default",
        weight_scale=None,
        initial_params=None,
        data_noise=None,
        dataset="MNIST",
        framework="pytorch",
        reported_test_accuracy=None,
        source=(
            "001_4092689f42daa161.txt:1483 (Network(784, 10, [516, 256], drop_p=0.5)), "
            "1388-1424 (ReLU then dropout per hidden layer, log_softmax output), 1484-1486 "
            "(nn.CrossEntropyLoss, optim.SGD lr=0.001), 1335 (batch_size=64), 1596 (epochs = 2)"
        ),
        notes=(
            "CrossEntropyLoss applied to log_softmax outputs equals softmax_loss of the "
            "logits (log_softmax is idempotent). Epochs from the train-and-validate loop, the "
            "one that switches dropout off for evaluation (model.eval())."
        ),
    ),
    ModelPreset(
        name="dating_linear",
        task="regression",
        layer_dims=(2, 1),
        activation="none",
        loss="mse_loss",
        reg=0.0,
        dropout=0.0,
        update_rule="sgd",
        learning_rate=1e-4,
        batch_size=None,
        num_epochs=None,
        num_iterations=90_000,
        init="fixed",
        weight_scale=None,
        initial_params=DATING_LINEAR_START,
        data_noise=0.01,
        dataset="dating (synthetic, N = 100)",
        framework="numpy",
        reported_test_accuracy=None,
        source=(
            "003_acdea5ffa2933ff8.txt:254-256 (N = 100), 263-270 (noise dates * 0.01 * randn), "
            "302 (education randint(26)), 307-308 (W = [0.1, 0.1], b = 0), 384-388 (income "
            "rescaled to randint(10), dates = 0.8 e + 0.3 i + 2), 392-407 (90K iterations, "
            "W = [0.80088848 0.29941657], b = 1.9795590414763997)"
        ),
        notes=(
            "The listing's learning_rate is 1e-6 before rescaling; after it the printed first "
            "step (W1 0.1 -> 0.1624 with dW1 = -624.5) implies 1e-4. Full-batch gradient "
            "descent on all N samples every iteration."
        ),
    ),
    ModelPreset(
        name="dating_fc_2_5_5_5_1",
        task="regression",
        layer_dims=(2, 5, 5, 5, 1),
        activation="relu",
        loss="mse_loss",
        reg=0.0,
        dropout=0.0,
        update_rule="sgd",
        learning_rate=1e-4,
        batch_size=None,
        num_epochs=None,
        num_iterations=100_000,
        init="fixed",
        weight_scale=None,
        initial_params=DATING_NET_START,
        data_noise=0.15,
        dataset="dating (synthetic, N = 100)",
        framework="numpy",
        reported_test_accuracy=None,
        source=(
            "003_acdea5ffa2933ff8.txt:548-550 (iteration = 100000, learning_rate = 1e-4, "
            "N = 100), 584-613 (3 affine-ReLU layers, affine output, mean square loss), "
            "615-624 (fixed W[0..3], b[0..3]), 626-630 (full-batch SGD), 663-666 (noise "
            "dates * 0.15 * randn)"
        ),
        notes=(
            "Its starting point is fixed, so every implementation follows the same trajectory: "
            "the first whole-model parity case (SPEC.md §2)."
        ),
    ),
)

PRESETS: Mapping[str, ModelPreset] = MappingProxyType({p.name: p for p in _PRESETS})


# ---------------------------------------------------------------------------- helpers


def _get(preset: str | ModelPreset, fn: str) -> ModelPreset:
    if isinstance(preset, ModelPreset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"{fn}: preset must be one of {tuple(PRESETS)}; received {preset!r}")
    return PRESETS[preset]


def build_model(
    preset: str | ModelPreset, *, dtype: Any = np.float64, seed: int | None = None
) -> FullyConnectedNet | RegressionNet:
    """A reference model with the preset's architecture and starting parameters.

    Inputs:
    - preset: a name in PRESETS or a ModelPreset.
    - dtype: floating dtype of the parameters.
    - seed: seeds numpy.random.default_rng for the random initialisations (ignored by
      init='fixed'); with dropout it also fixes the dropout mask (see FullyConnectedNet).

    Returns:
    - a FullyConnectedNet (classification presets) or a RegressionNet (regression presets;
      its params are fresh copies of the document's starting values).
    """
    p = _get(preset, "build_model")
    if p.task == "regression":
        return RegressionNet(p.initial_arrays(), dtype=dtype)
    model = FullyConnectedNet(
        list(p.hidden_dims),
        p.input_dim,
        p.output_dim,
        reg=p.reg,
        weight_scale=p.weight_scale if p.init == "normal" else 1.0,
        dtype=dtype,
        dropout=p.dropout,
        seed=seed,
    )
    if p.init in ("he_truncated_normal", "torch_default"):
        rng = np.random.default_rng(seed)
        for i in range(1, model.num_layers + 1):
            fan_in, fan_out = model.layer_dims[i - 1], model.layer_dims[i]
            if p.init == "he_truncated_normal":
                w = truncated_normal((fan_in, fan_out), rng, std=math.sqrt(2.0 / fan_in))
                b = np.zeros(fan_out)  # (fan_out,)
            else:
                bound = 1.0 / math.sqrt(fan_in)
                w = rng.uniform(-bound, bound, size=(fan_in, fan_out))  # (fan_in, fan_out)
                b = rng.uniform(-bound, bound, size=fan_out)  # (fan_out,)
            model.params[f"W{i}"] = w.astype(model.dtype)
            model.params[f"b{i}"] = b.astype(model.dtype)
    return model


def solver_config(preset: str | ModelPreset, num_train: int | None = None) -> dict[str, Any]:
    """Keyword arguments of ``Solver`` for the preset's training run.

    Inputs:
    - preset: a name in PRESETS or a ModelPreset.
    - num_train: training-set size; needed only for full-batch presets (batch_size None).

    Returns:
    - dict with update_rule, optim_config, batch_size and num_epochs or num_iterations
      (full-batch presets also get shuffle=False: the documents' plain loop).
    """
    p = _get(preset, "solver_config")
    config: dict[str, Any] = {
        "update_rule": p.update_rule,
        "optim_config": {"learning_rate": p.learning_rate},
    }
    if p.batch_size is None:
        if num_train is None:
            raise ValueError(
                f"solver_config: preset {p.name!r} is full-batch; pass num_train, the number "
                "of training samples"
            )
        config["batch_size"] = v.check_int("solver_config", "num_train", num_train, low=1)
        config["shuffle"] = False
    else:
        config["batch_size"] = p.batch_size
    if p.num_iterations is not None:
        config["num_iterations"] = p.num_iterations
    else:
        config["num_epochs"] = p.num_epochs
    return config


def dating_dates(X: np.ndarray) -> np.ndarray:
    """The dating example's oracle: dates = 0.8 * education + 0.3 * income + 2.

    Inputs:
    - X: (N, 2) float array, columns education (years) and income (in 1K).

    Returns:
    - dates: (N,) of X's dtype.
    """
    X = v.as_float_array("dating_dates", "X", X, ndim=2, shape_hint="(N, 2)")
    v.check_shape("dating_dates", "X", X, (X.shape[0], 2), "(education, income)")
    return X @ np.array([0.8, 0.3], dtype=X.dtype) + X.dtype.type(2)  # (N,)


def dating_data(
    n: int, rng: np.random.Generator, noise: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the dating example as the document draws them (003_*.txt, 263-309, 388).

    education ~ integer in [0, 25], income ~ integer in [0, 9] (in 1K), drawn in that
    order; dates = 0.8 * education + 0.3 * income + 2; y = dates + dates * noise * N(0, 1).
    The document uses noise 0.01 for the linear model and 0.15 for the 4-layer net.

    Inputs:
    - n: number of samples, >= 1.
    - rng: numpy.random.Generator (never the global NumPy RNG).
    - noise: relative noise, >= 0.

    Returns:
    - X: (n, 2) float64, columns education and income.
    - y: (n,) float64, the noisy number of dates.
    """
    fn = "dating_data"
    n = v.check_int(fn, "n", n, low=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{fn}: rng must be a numpy.random.Generator; received {type(rng).__name__}"
        )
    noise = v.check_scalar(fn, "noise", noise, low=0.0)
    education = rng.integers(0, 26, size=n)  # (n,), years in [0, 25]
    income = rng.integers(0, 10, size=n)  # (n,), in 1K, [0, 9]
    X = np.stack([education, income], axis=1).astype(np.float64)  # (n, 2)
    dates = dating_dates(X)  # (n,)
    y = dates + dates * noise * rng.standard_normal(n)  # (n,)
    return X, y
