"""The SPEC.md §2 catalogue: every public name, the module it lives in, and its kind.

Every implementation package (``dlparity.reference``, ``dlparity.torch_impl``,
``dlparity.tf_impl``) uses the same module names, and exports every name below from its
``__init__``. Tests read this table to check completeness, the parity registry reads it to
check coverage, and the oracle reads it to know what a third-party module may define.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    name: str
    module: str  # module inside an implementation package, e.g. "layers"
    kind: str  # layer | composite | loss | regularizer | info | optimizer | schedule |
    #            clip | init | preprocess | gradcheck | model


def _entries(module: str, kind: str, names: str) -> list[Entry]:
    return [Entry(n, module, kind) for n in names.split()]


CATALOGUE: tuple[Entry, ...] = tuple(
    _entries(
        "layers",
        "layer",
        """affine_forward affine_backward relu_forward relu_backward
           leaky_relu_forward leaky_relu_backward sigmoid_forward sigmoid_backward
           tanh_forward tanh_backward softmax_forward softmax_backward
           log_softmax_forward log_softmax_backward dropout_forward dropout_backward
           batchnorm_forward batchnorm_backward""",
    )
    + _entries(
        "layers",
        "composite",
        """affine_relu_forward affine_relu_backward
           affine_batchnorm_relu_forward affine_batchnorm_relu_backward""",
    )
    + _entries(
        "losses",
        "loss",
        "mse_loss softmax_loss nll_loss sigmoid_cross_entropy_loss svm_loss kl_div_loss",
    )
    + _entries("losses", "regularizer", "l2_regularization l1_regularization l0_norm")
    + _entries("info", "info", "entropy cross_entropy kl_divergence")
    + _entries("optim", "optimizer", "sgd sgd_momentum nesterov_momentum adagrad rmsprop adam")
    + _entries("optim", "clip", "clip_by_global_norm")
    + _entries(
        "schedules", "schedule", "time_based_decay exponential_decay inverse_sqrt_decay step_decay"
    )
    + _entries("init", "init", "he_normal xavier_normal truncated_normal")
    + _entries(
        "preprocess", "preprocess", "normalize_features running_mean_update covariance whiten"
    )
    + _entries(
        "gradcheck",
        "gradcheck",
        "eval_numerical_gradient eval_numerical_gradient_array rel_error grad_check_distance",
    )
    + _entries("models", "model", "FullyConnectedNet")
    + _entries("solver", "model", "Solver")
)

NAMES: tuple[str, ...] = tuple(e.name for e in CATALOGUE)
BY_NAME: dict[str, Entry] = {e.name: e for e in CATALOGUE}
MODULES: tuple[str, ...] = tuple(dict.fromkeys(e.module for e in CATALOGUE))


def names_in(module: str) -> list[str]:
    """The catalogue names of implementation module ``module``, in catalogue order: every
    implementation's ``<module>.py`` uses this as its ``__all__``."""
    return [e.name for e in CATALOGUE if e.module == module]


def names_of_kind(*kinds: str) -> tuple[str, ...]:
    """Catalogue names whose kind is one of ``kinds``."""
    return tuple(e.name for e in CATALOGUE if e.kind in kinds)
