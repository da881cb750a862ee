"""Which API a target is written in: ``cs231n`` (SPEC.md) or ``dlai`` (DIALECTS.md), and,
for ``dlai``, which assignment.

Read from the names a target defines and their parameter names alone (nothing runs).
Several dlai names recur with another meaning in another assignment (``compute_cost``,
``forward_propagation``, ``backward_propagation``, ``update_parameters``,
``initialize_parameters``); each assignment is told apart by the signatures of its own
functions and by its companion names in the same module or notebook.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ACTIVATIONS", "ASSIGNMENTS", "DLAI_NAMES", "Recognition", "recognise"]

#: The course helper's activations (``dnn_utils``): checked beside C1 W4.
ACTIVATIONS = "activations (dnn_utils)"

#: assignment -> function -> the parameter lists it is recognised by (the first few names,
#: in order; any of the alternatives).
ASSIGNMENTS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    ACTIVATIONS: {
        "sigmoid": (("Z",), ("z",)),
        "relu": (("Z",), ("z",)),
        "sigmoid_backward": (("dA", "cache"),),
        "relu_backward": (("dA", "cache"),),
    },
    "C1 W4 deep net": {
        "initialize_parameters_deep": (("layer_dims",), ("layers_dims",)),
        "linear_forward": (("A", "W", "b"),),
        "linear_activation_forward": (("A_prev", "W", "b", "activation"),),
        "L_model_forward": (("X", "parameters"),),
        "compute_cost": (("AL", "Y"),),
        "linear_backward": (("dZ", "cache"),),
        "linear_activation_backward": (("dA", "cache", "activation"),),
        "L_model_backward": (("AL", "Y", "caches"),),
        "update_parameters": (("parameters", "grads", "learning_rate"),
                              ("params", "grads", "learning_rate")),
    },
    "C1 W3 planar net": {
        "initialize_parameters": (("n_x", "n_h", "n_y"),),
        "forward_propagation": (("X", "parameters"),),
        "compute_cost": (("A2", "Y", "parameters"), ("A2", "Y")),
        "backward_propagation": (("parameters", "cache", "X", "Y"),),
        "update_parameters": (("parameters", "grads", "learning_rate"),),
    },
    "C2 W1 initialisation": {
        "initialize_parameters_zeros": (("layers_dims",), ("layer_dims",)),
        "initialize_parameters_random": (("layers_dims",), ("layer_dims",)),
        "initialize_parameters_he": (("layers_dims",), ("layer_dims",)),
    },
    "C2 W1 regularisation": {
        "compute_cost_with_regularization": (("A3", "Y", "parameters", "lambd"),),
        "backward_propagation_with_regularization": (("X", "Y", "cache", "lambd"),),
        "forward_propagation_with_dropout": (("X", "parameters", "keep_prob"),),
        "backward_propagation_with_dropout": (("X", "Y", "cache", "keep_prob"),),
    },
    "C2 W1 gradient checking": {
        "forward_propagation": (("x", "theta"),),
        "backward_propagation": (("x", "theta"),),
        "gradient_check": (("x", "theta", "epsilon"), ("x", "theta")),
        "forward_propagation_n": (("X", "Y", "parameters"),),
        "backward_propagation_n": (("X", "Y", "cache"),),
        "gradient_check_n": (("parameters", "gradients", "X", "Y"),),
    },
    "C2 W2 optimisation": {
        "update_parameters_with_gd": (("parameters", "grads", "learning_rate"),),
        "random_mini_batches": (("X", "Y", "mini_batch_size"),),
        "initialize_velocity": (("parameters",),),
        "update_parameters_with_momentum": (("parameters", "grads", "v", "beta"),),
        "initialize_adam": (("parameters",),),
        "update_parameters_with_adam": (("parameters", "grads", "v", "s", "t"),),
        "update_lr": (("learning_rate0", "epoch_num", "decay_rate"),),
        "schedule_lr_decay": (("learning_rate0", "epoch_num", "decay_rate"),),
    },
}

#: Every dlai name, in the order of DIALECTS.md §2.
DLAI_NAMES: tuple[str, ...] = tuple(dict.fromkeys(n for fns in ASSIGNMENTS.values()
                                                  for n in fns))
#: Names that recur with another meaning in another assignment.
SHARED = frozenset(n for n in DLAI_NAMES
                   if sum(n in fns for fns in ASSIGNMENTS.values()) > 1)


def _cs231n_names() -> tuple[str, ...]:
    from dlparity.catalogue import NAMES

    return NAMES


@dataclass
class Recognition:
    """What a target was read as."""

    dialect: str  # "cs231n" | "dlai" | "unknown"
    assignment: str | None = None  # the primary dlai assignment
    names: dict[str, list[str]] = field(default_factory=dict)  # assignment -> functions
    near_misses: dict[str, str] = field(default_factory=dict)  # defined name -> known name
    also: list[str] = field(default_factory=list)  # other assignments checked too

    @property
    def label(self) -> str:
        """``read as dlai course 1 week 4 deep net`` in one phrase."""
        if self.dialect != "dlai" or self.assignment is None:
            return self.dialect
        return " + ".join([self.assignment, *self.also])


def fits(assignment: str, name: str, params: Sequence[str] | None) -> bool:
    """Whether ``params`` (None: unknown) fit ``name`` as ``assignment`` reads it."""
    wanted = ASSIGNMENTS[assignment].get(name)
    if wanted is None:
        return False
    if params is None:
        return name not in SHARED
    plain = [p for p in params if not p.startswith("*")]
    for alt in wanted:
        if tuple(p.lower() for p in plain[: len(alt)]) == tuple(a.lower() for a in alt):
            if name == "compute_cost" and assignment == "C1 W3 planar net" and \
                    len(plain) >= 2 and plain[0] not in ("A2", "a2"):
                continue
            return True
    # a renamed first parameter is common (A vs A_prev, layer_dims vs layers_dims):
    # an unshared name matches on its parameter count alone
    counts = {len(alt) for alt in wanted}
    return name not in SHARED and len(plain) >= min(counts)


def _score(assignment: str, sigs: Mapping[str, Sequence[str] | None]) -> tuple[int, list[str]]:
    found = [n for n in ASSIGNMENTS[assignment] if n in sigs and fits(assignment, n, sigs[n])]
    score = sum(3 if n not in SHARED else 1 for n in found)
    return score, found


def recognise(signatures: Mapping[str, Sequence[str] | None],
              forced: str | None = None) -> Recognition:
    """Read ``signatures`` (defined name -> parameter names, or None where unknown).

    ``forced``: 'cs231n' or 'dlai' (``--dialect``), or a dlai assignment name."""
    if forced not in (None, "cs231n", "dlai") and forced not in ASSIGNMENTS:
        raise ValueError(f"dialect must be 'cs231n', 'dlai' or one of {sorted(ASSIGNMENTS)}; "
                         f"received {forced!r}")
    cs = [n for n in _cs231n_names() if n in signatures]
    scored = {a: _score(a, signatures) for a in ASSIGNMENTS}
    main = [a for a in ASSIGNMENTS if a != ACTIVATIONS]
    best = max(main, key=lambda a: (scored[a][0], -main.index(a)))
    if forced in ASSIGNMENTS:
        best = forced
    dlai_score = sum(s for s, _ in scored.values())
    if forced == "cs231n" or (forced is None and len(cs) * 3 > dlai_score and cs):
        return Recognition("cs231n", names={"cs231n": cs},
                           near_misses=_near(signatures, cs))
    if forced is None and dlai_score == 0:
        return Recognition("unknown", near_misses=_near(signatures, []))
    names: dict[str, list[str]] = {}
    if scored[best][1] or forced:
        names[best] = scored[best][1]
    also = []
    for a in ASSIGNMENTS:  # other assignments: only by their own (unshared) names
        own = [n for n in scored[a][1] if n not in SHARED]
        if a == best or not own:
            continue
        if a == ACTIVATIONS and best != "C1 W4 deep net" and \
                not {"relu_backward", "sigmoid_backward"} & set(own):
            continue  # Course 2 helpers' sigmoid(x) returns one array: not dnn_utils'
        names[a] = scored[a][1] if a == ACTIVATIONS else own
        also.append(a)
    if best == "C1 W4 deep net" and ACTIVATIONS in names and ACTIVATIONS not in also:
        also.append(ACTIVATIONS)
    checked = {n for fns in names.values() for n in fns}
    return Recognition("dlai", best, names, _near(signatures, sorted(checked)), also)


def _near(signatures: Mapping[str, object], known_defined: Sequence[str]) -> dict[str, str]:
    """Defined names close to a known name of either dialect that they are not."""
    known = set(DLAI_NAMES) | set(_cs231n_names())
    out = {}
    for name in signatures:
        if name in known or name in known_defined or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
        if close and close[0] not in signatures:
            out[name] = close[0]
    return out
