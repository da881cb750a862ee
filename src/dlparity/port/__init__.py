"""dlparity port: move a model between PyTorch, Keras and the reference, verify it layer by
layer and over a training trajectory, and name the convention behind a difference.

    from dlparity import port

    side = port.read(torch_model, optimizer=opt)            # a Side: spec + training setup
    out = port.convert(torch_model, "keras", optimizer=opt) # out.model, out.optimizer
    port.port_file("model.pt", "model.keras")               # `dlparity port`
    a, b = port.load_model("model.pt"), port.load_model("model.keras")
    report = port.diff_models(a, b, x)                      # layer by layer, float64/float32
    traj = port.trajectory_diff(a, b, x, y, steps=100)      # N optimizer steps
    port.explain(a, b, diff=report, traj=traj)              # which convention, fix, re-run

``import dlparity.port`` needs NumPy only; torch and TensorFlow are imported by the
functions that use them. Files, conventions and decisions: docs/porting.md.
"""

from __future__ import annotations

from typing import Any

from .convert import Converted, convert, port_file, read
from .diff import DiffReport, Side, diff_models, format_report
from .explain import CONVENTIONS, explain, find_differences, format_explanation
from .io import load_model, save_model
from .reference_side import fcnet_from_spec
from .spec import LayerSpec, LossSpec, ModelSpec, OptimizerSpec, TrainingSetup
from .trajectory import TrajectoryReport, format_trajectory, plot_divergence, trajectory_diff

__all__ = [
    "CONVENTIONS", "Converted", "DiffReport", "LayerSpec", "LossSpec", "ModelSpec",
    "OptimizerSpec", "Side", "TextbookAdam", "TrainingSetup", "TrajectoryReport", "convert",
    "diff_models", "explain", "fcnet_from_spec", "find_differences", "format_explanation",
    "format_report", "format_trajectory", "load_model", "plot_divergence", "port_file", "read",
    "save_model", "trajectory_diff",
]


def __getattr__(name: str) -> Any:
    """``TextbookAdam`` imports Keras, so it is loaded on first use only."""
    if name == "TextbookAdam":
        from .keras_adam import TextbookAdam

        return TextbookAdam
    raise AttributeError(f"module 'dlparity.port' has no attribute {name!r}")
