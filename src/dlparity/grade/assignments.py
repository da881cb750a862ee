"""The functions of each recognised assignment: what a grade counts by default.

A dlai report names its assignment (``report["assignment"]``, DIALECTS.md §2); its functions
are the rows of that table. A cs231n report names none (SPEC.md's catalogue is one API, not
one assignment): its assignment is, per class, the catalogue functions that the class's
cs231n submissions define (see :func:`dlparity.grade.rubric.Rubric.functions_for`).
"""

from __future__ import annotations

#: The cs231n dialect's group name (rubric ``[points.cs231n]``).
CS231N = "cs231n"

#: DIALECTS.md §2, in the table's order.
DLAI_ASSIGNMENTS: dict[str, tuple[str, ...]] = {
    "activations": ("sigmoid", "relu", "sigmoid_backward", "relu_backward"),
    "C1 W4 deep net": (
        "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
        "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward",
        "L_model_backward", "update_parameters"),
    "C1 W3 planar net": (
        "initialize_parameters", "forward_propagation", "compute_cost",
        "backward_propagation", "update_parameters"),
    "C2 W1 initialisation": (
        "initialize_parameters_zeros", "initialize_parameters_random",
        "initialize_parameters_he"),
    "C2 W1 regularisation": (
        "compute_cost_with_regularization", "backward_propagation_with_regularization",
        "forward_propagation_with_dropout", "backward_propagation_with_dropout"),
    "C2 W1 gradient checking": ("gradient_check", "gradient_check_n", "backward_propagation_n"),
    "C2 W2 optimisation": (
        "update_parameters_with_gd", "random_mini_batches", "initialize_velocity",
        "initialize_adam", "update_parameters_with_momentum", "update_parameters_with_adam",
        "update_lr", "schedule_lr_decay"),
}

DLAI_NAMES = frozenset(n for names in DLAI_ASSIGNMENTS.values() for n in names)


def normalise(name: str) -> str:
    """An assignment's key for matching: case and spacing do not matter."""
    return " ".join(str(name).lower().replace("_", " ").split())


def dlai_functions(assignment: str | None) -> tuple[str, ...] | None:
    """The functions of a recognised dlai assignment, or None when the name is not known."""
    if not assignment:
        return None
    key = normalise(assignment)
    for name, functions in DLAI_ASSIGNMENTS.items():
        if normalise(name) == key:
            return functions
    return None


def known_group(name: str) -> bool:
    """Whether ``name`` names a group a rubric may give points for."""
    return normalise(name) == CS231N or dlai_functions(name) is not None
