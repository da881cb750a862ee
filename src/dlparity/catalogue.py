"""The catalogue: ONE record per public function (SPEC.md §2, and dlparity's documented
extensions), holding everything the project knows about it beside its code.

Every implementation package (``dlparity.reference``, ``dlparity.torch_impl``,
``dlparity.tf_impl``) uses the same module names and exports every name below from its
``__init__``. From these records follow: each module's ``__all__``; the argument contract
of the update rules (``dlparity.contract.optim``: defaults, state, ranges); the parity
registry's optimizer trajectories; the oracle's fallback dependency table
(``dlparity.oracle.attribution.DEPENDS_ON``); the SPEC section the test vectors cite; the
update rules the Trainers and ``dlparity train --optimizer`` accept, and the stock torch
optimizer each one builds; the conventions page's probes of stock framework optimizers.

Adding an update rule: its reference function, its torch and tf functions (the tf one with
a tensor-level ``<name>_update`` when no stock Keras optimizer computes it), ONE record
here, its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Where SPEC.md defines each kind of function (the test vectors' ``spec`` field).
KIND_SPEC: Mapping[str, str] = MappingProxyType({
    "layer": "SPEC.md §2 Layers; §4",
    "composite": "SPEC.md §2 Layers (composites); §4 Composites",
    "loss": "SPEC.md §2 Losses; §4 Loss values",
    "regularizer": "SPEC.md §2 Losses (regularisers)",
    "info": "SPEC.md §2 Losses (information measures); §4 Information measures",
    "optimizer": "SPEC.md §2 Optimizers; §4 Optimizer config",
    "clip": "SPEC.md §2 Optimizers (gradient clipping); §4 clip_by_global_norm",
    "schedule": "SPEC.md §2 Optimizers (learning-rate schedules); §4 Schedules",
    "init": "SPEC.md §2 Initialisation; §4 Initialisers",
    "preprocess": "SPEC.md §2 Initialisation, preprocessing; §4 Preprocessing",
    "gradcheck": "SPEC.md §2 Gradient checking; §4 Gradient checking",
    "model": "SPEC.md §2 Models",
})


def _frozen(mapping: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Entry:
    """One catalogue function."""

    name: str
    module: str  # module inside an implementation package, e.g. "layers"
    kind: str  # layer | composite | loss | regularizer | info | optimizer | schedule |
    #            clip | init | preprocess | gradcheck | model
    spec: str = ""  # where it is defined (default: its kind's SPEC.md section)
    # Not in SPEC.md: dlparity's documented extension (docs/api.md). A third party owes it
    # nothing: the oracle checks it when defined, and --strict does not count it missing.
    extension: bool = False
    # What it may be built from (the oracle's attribution where calls cannot be observed).
    depends_on: tuple[str, ...] = ()
    # ---- update rules only
    hyper: Mapping[str, float | bool] = field(default_factory=_frozen)  # and their defaults
    state: tuple[str, ...] = ()  # state arrays kept in the config (w's shape)
    counter: str = ""  # a step count kept in the config ('t'), or ""
    ranges: Mapping[str, Mapping[str, Any]] = field(default_factory=_frozen)  # extra ranges
    test_lr: float | None = None  # the parity registry's trajectories use this lr
    # The Trainers run it (``dlparity train --optimizer``); torch's with this stock optimizer
    # and constructor mapping (a str: the config key; a tuple: a tuple of config keys;
    # anything else: a constant). Keras's Trainer uses ``keras.optimizers.SGD`` for
    # ``keras_sgd`` rules, else ``tf_impl.optim.<name>_update``.
    trainer: bool = False
    torch_optimizer: tuple[str, Mapping[str, Any]] | None = None
    keras_sgd: bool = False
    # Stock optimizers run with THEIR defaults for the conventions page (class names in
    # torch.optim / keras.optimizers), when no hand-written probe covers the rule.
    stock: Mapping[str, str] = field(default_factory=_frozen)

    @property
    def section(self) -> str:
        return self.spec or KIND_SPEC[self.kind]


def _entries(module: str, kind: str, names: str, **extra: Any) -> list[Entry]:
    return [Entry(n, module, kind, **extra) for n in names.split()]


_LR_MU = {"learning_rate": 1e-2, "momentum": 0.9}
_ADAM = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
_TORCH_ADAM = {"lr": "learning_rate", "betas": ("beta1", "beta2"), "eps": "epsilon"}

CATALOGUE: tuple[Entry, ...] = tuple(
    _entries(
        "layers",
        "layer",
        """affine_forward affine_backward relu_forward relu_backward
           leaky_relu_forward leaky_relu_backward sigmoid_forward sigmoid_backward
           tanh_forward tanh_backward softmax_forward softmax_backward""",
    )
    # log-softmax as the log of the softmax (the reverse, rarer, is not assumed: a cycle
    # could not say which of the two is broken)
    + _entries("layers", "layer", "log_softmax_forward log_softmax_backward",
               depends_on=("softmax_forward",))
    + _entries("layers", "layer", """dropout_forward dropout_backward
                                     batchnorm_forward batchnorm_backward""")
    # the composites (SPEC.md §2, §4): the documents build them from the layers
    + [
        Entry("affine_relu_forward", "layers", "composite",
              depends_on=("affine_forward", "relu_forward")),
        Entry("affine_relu_backward", "layers", "composite",
              depends_on=("affine_backward", "relu_backward")),
        Entry("affine_batchnorm_relu_forward", "layers", "composite",
              depends_on=("affine_forward", "batchnorm_forward", "relu_forward")),
        Entry("affine_batchnorm_relu_backward", "layers", "composite",
              depends_on=("affine_backward", "batchnorm_backward", "relu_backward")),
    ]
    + _entries("losses", "loss", "mse_loss")
    + [
        Entry("softmax_loss", "losses", "loss",
              depends_on=("log_softmax_forward", "log_softmax_backward", "softmax_forward",
                          "softmax_backward", "nll_loss")),
        Entry("nll_loss", "losses", "loss"),
        Entry("sigmoid_cross_entropy_loss", "losses", "loss", depends_on=("sigmoid_forward",)),
    ]
    + _entries("losses", "loss", "svm_loss kl_div_loss")
    + _entries("losses", "regularizer", "l2_regularization l1_regularization l0_norm")
    # information measures: H(p) = H(p, p); KL = cross-entropy - entropy
    + [
        Entry("entropy", "info", "info", depends_on=("cross_entropy",)),
        Entry("cross_entropy", "info", "info"),
        Entry("kl_divergence", "info", "info", depends_on=("entropy", "cross_entropy")),
    ]
    + [
        Entry("sgd", "optim", "optimizer", hyper=_frozen({"learning_rate": 1e-2}),
              test_lr=0.1, trainer=True, keras_sgd=True,
              torch_optimizer=("SGD", _frozen({"lr": "learning_rate"}))),
        Entry("sgd_momentum", "optim", "optimizer", hyper=_frozen(_LR_MU), state=("velocity",),
              test_lr=0.05, trainer=True, keras_sgd=True,
              torch_optimizer=("SGD", _frozen({"lr": "learning_rate",
                                               "momentum": "momentum"}))),
        Entry("nesterov_momentum", "optim", "optimizer", hyper=_frozen(_LR_MU),
              state=("velocity",), test_lr=0.05, trainer=True, keras_sgd=True,
              torch_optimizer=("SGD", _frozen({"lr": "learning_rate", "momentum": "momentum",
                                               "nesterov": True}))),
        Entry("adagrad", "optim", "optimizer",
              hyper=_frozen({"learning_rate": 1e-2, "epsilon": 1e-7}), state=("cache",),
              test_lr=0.1),
        Entry("rmsprop", "optim", "optimizer",
              hyper=_frozen({"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}),
              state=("cache",), test_lr=0.01),
        Entry("adam", "optim", "optimizer", hyper=_frozen({**_ADAM, "bias_correction": True}),
              state=("m", "v"), counter="t", test_lr=0.01, trainer=True,
              torch_optimizer=("Adam", _frozen(_TORCH_ADAM))),
        # Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW:
        # dlparity's extension, defined in docs/api.md (not in SPEC.md).
        Entry("adamw", "optim", "optimizer", extension=True,
              spec="docs/api.md Optimizers: adamw (dlparity's extension)",
              hyper=_frozen({**_ADAM, "weight_decay": 1e-2}), state=("m", "v"), counter="t",
              ranges=_frozen({"weight_decay": {"low": 0.0}}), test_lr=0.01, trainer=True,
              torch_optimizer=("AdamW", _frozen({**_TORCH_ADAM,
                                                 "weight_decay": "weight_decay"})),
              stock=_frozen({"torch": "AdamW", "tf": "AdamW"})),
    ]
    + _entries("optim", "clip", "clip_by_global_norm")
    + _entries("schedules", "schedule", "time_based_decay exponential_decay inverse_sqrt_decay")
    # a staircase as an exponential decay of the step count
    + _entries("schedules", "schedule", "step_decay", depends_on=("exponential_decay",))
    + _entries("init", "init", "he_normal xavier_normal truncated_normal")
    + _entries("preprocess", "preprocess", "normalize_features running_mean_update covariance")
    + _entries("preprocess", "preprocess", "whiten", depends_on=("covariance",))
    + _entries(
        "gradcheck",
        "gradcheck",
        "eval_numerical_gradient eval_numerical_gradient_array rel_error grad_check_distance",
    )
    # the model: its layers and losses
    + [Entry("FullyConnectedNet", "models", "model",
             depends_on=("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                         "affine_relu_forward", "affine_relu_backward", "batchnorm_forward",
                         "batchnorm_backward", "affine_batchnorm_relu_forward",
                         "affine_batchnorm_relu_backward", "dropout_forward",
                         "dropout_backward", "softmax_loss", "l2_regularization")),
       # the Solver is run on the REFERENCE model (so the target's model is no part of it)
       # with the update rule its registry case names
       Entry("Solver", "solver", "model", depends_on=("sgd_momentum",))]
)

NAMES: tuple[str, ...] = tuple(e.name for e in CATALOGUE)
BY_NAME: dict[str, Entry] = {e.name: e for e in CATALOGUE}
MODULES: tuple[str, ...] = tuple(dict.fromkeys(e.module for e in CATALOGUE))
#: The update rules, in catalogue order.
OPTIMIZERS: tuple[Entry, ...] = tuple(e for e in CATALOGUE if e.kind == "optimizer")
#: The update rules the Trainers (and ``dlparity train --optimizer``) run.
TRAINER_RULES: tuple[str, ...] = tuple(e.name for e in OPTIMIZERS if e.trainer)


def names_in(module: str) -> list[str]:
    """The catalogue names of implementation module ``module``, in catalogue order: every
    implementation's ``<module>.py`` uses this as its ``__all__``."""
    return [e.name for e in CATALOGUE if e.module == module]


def names_of_kind(*kinds: str) -> tuple[str, ...]:
    """Catalogue names whose kind is one of ``kinds``."""
    return tuple(e.name for e in CATALOGUE if e.kind in kinds)
