"""Small models and batches shared by the dlparity.port tests (no tests here).

Every model is built in code and every file written into the test's tmp_path: no binary
fixture is committed. Torch and Keras are imported inside the helpers, so a module that
only needs NumPy does not pay for them.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

D_IN, HIDDEN, D_OUT, N = 6, 8, 3, 16


def seeded(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def batch(name: str = "batch", n: int = N, d: int = D_IN) -> np.ndarray:
    """A seeded (n, d) float64 batch."""
    return seeded(name).standard_normal((n, d))


def labels(name: str = "labels", n: int = N, k: int = D_OUT) -> np.ndarray:
    return seeded(name).integers(0, k, n)


def torch_mlp(*, bn: bool = False, act: Any = None, dropout: float = 0.0, seed: int = 0,
              bn_eps: float = 1e-5) -> Any:
    """nn.Sequential: Linear(6, 8) [BatchNorm1d] act [Dropout] Linear(8, 5) Tanh Linear(5, 3),
    float64, seeded; act defaults to ReLU; batch norm statistics made non-trivial."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(D_IN, HIDDEN)]
    if bn:
        layers.append(nn.BatchNorm1d(HIDDEN, eps=bn_eps))
    layers.append(act if act is not None else nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(HIDDEN, 5), nn.Tanh(), nn.Linear(5, D_OUT)]
    model = nn.Sequential(*layers).double()
    if bn:
        with torch.no_grad():
            model[1].running_mean.copy_(torch.linspace(-0.5, 0.5, HIDDEN))
            model[1].running_var.copy_(torch.linspace(0.5, 2.0, HIDDEN))
            model[1].weight.copy_(torch.linspace(0.5, 1.5, HIDDEN))
            model[1].bias.copy_(torch.linspace(-0.2, 0.2, HIDDEN))
    return model


def train_torch(model: Any, optimizer: Any, steps: int, name: str = "warmup") -> None:
    """A few steps of softmax cross-entropy so the optimizer has state."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(batch(name))
    y = torch.from_numpy(labels(name))
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def kl(name: str, *args: Any, **kwargs: Any) -> Any:
    """keras.layers.<name>(*args, **kwargs) in float64, as a user writes a float64 model."""
    import keras

    return getattr(keras.layers, name)(*args, dtype="float64", **kwargs)


def keras_mlp(spec_layers: list[Any], d_in: int = D_IN, dtype: str = "float64") -> Any:
    """A keras.Sequential of the given (already made) layers on a float64 input."""
    import keras

    return keras.Sequential([keras.Input((d_in,), dtype=dtype), *spec_layers])


def keras_copy_weights(keras_model: Any, torch_model: Any) -> None:
    """Copy a torch_mlp's weights into a Keras model with the same layer order."""
    from torch import nn

    dense = [m for m in torch_model if isinstance(m, nn.Linear)]
    norms = [m for m in torch_model if isinstance(m, nn.BatchNorm1d)]
    k_dense = [la for la in keras_model.layers if type(la).__name__ == "Dense"]
    k_norms = [la for la in keras_model.layers if type(la).__name__ == "BatchNormalization"]
    for kd, td in zip(k_dense, dense, strict=True):
        kd.kernel.assign(td.weight.detach().numpy().T)
        kd.bias.assign(td.bias.detach().numpy())
    for kn, tn in zip(k_norms, norms, strict=True):
        kn.gamma.assign(tn.weight.detach().numpy())
        kn.beta.assign(tn.bias.detach().numpy())
        kn.moving_mean.assign(tn.running_mean.numpy())
        kn.moving_variance.assign(tn.running_var.numpy())


def files_in(path: Any) -> list[str]:
    """Names in a folder (to assert that a failed conversion wrote nothing)."""
    return sorted(os.listdir(path))
