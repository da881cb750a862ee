"""The dlai reference's backward passes against central differences (float64), and the
loader's reading of notebooks and exports."""

from __future__ import annotations

import numpy as np

from dlparity.oracle.dlai import reference as R
from dlparity.oracle.sources import definitions_only, signatures


def _numeric(f, x, dout, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = np.sum(f(x) * dout)
        x[i] = old - h
        minus = np.sum(f(x) * dout)
        x[i] = old
        g[i] = (plus - minus) / (2 * h)
    return g


def test_linear_activation_backward_matches_central_differences() -> None:
    rng = np.random.default_rng(1)
    A, W, b = rng.standard_normal((4, 5)), rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    for act in ("relu", "sigmoid"):
        out, cache = R.linear_activation_forward(A, W, b, act)
        dA = rng.standard_normal(out.shape)
        dA_prev, dW, db = R.linear_activation_backward(dA, cache, act)
        # the 1/m of the course: the gradient of the MEAN over columns
        m = A.shape[1]
        np.testing.assert_allclose(dW * m, _numeric(
            lambda w, act=act: R.linear_activation_forward(A, w, b, act)[0], W.copy(), dA),
            rtol=1e-6)
        np.testing.assert_allclose(db * m, _numeric(
            lambda c, act=act: R.linear_activation_forward(A, W, c, act)[0], b.copy(), dA),
            rtol=1e-6)
        np.testing.assert_allclose(dA_prev, _numeric(
            lambda a, act=act: R.linear_activation_forward(a, W, b, act)[0], A.copy(), dA),
            rtol=1e-6)


def test_L_model_backward_is_the_gradient_of_the_cost() -> None:
    rng = np.random.default_rng(2)
    dims, m = [3, 4, 2, 1], 5
    X = rng.standard_normal((3, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    params = {f"{p}{l}": rng.standard_normal((dims[l], dims[l - 1] if p == "W" else 1))
              for l in range(1, 4) for p in "Wb"}
    AL, caches = R.L_model_forward(X, params)
    grads = R.L_model_backward(AL, Y, caches)
    for key in ("W1", "b2", "W3"):
        def cost(v, key=key):
            return R.compute_cost(R.L_model_forward(X, {**params, key: v})[0], Y)
        np.testing.assert_allclose(grads["d" + key], _numeric(cost, params[key].copy(), 1.0),
                                   rtol=1e-5, atol=1e-9)


def test_3layer_backward_with_l2_is_the_gradient_of_the_regularised_cost() -> None:
    rng = np.random.default_rng(3)
    dims, m, lambd = [2, 4, 3, 1], 6, 0.7
    X = rng.standard_normal((2, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    params = {f"{p}{l}": rng.standard_normal((dims[l], dims[l - 1] if p == "W" else 1))
              for l in range(1, 4) for p in "Wb"}
    grads = R.backward_propagation_with_regularization(X, Y, R.forward_3layer(X, params)[1],
                                                       lambd)
    for key in ("W1", "b1", "W3"):
        def cost(v, key=key):
            p = {**params, key: v}
            return R.compute_cost_with_regularization(R.forward_3layer(X, p)[0], Y, p, lambd)
        np.testing.assert_allclose(grads["d" + key], _numeric(cost, params[key].copy(), 1.0),
                                   rtol=1e-5, atol=1e-9)


def test_adam_first_step_by_hand() -> None:
    p, g = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}, \
        {"dW1": np.array([[0.5]]), "db1": np.array([[-2.0]])}
    zeros = {"dW1": np.zeros((1, 1)), "db1": np.zeros((1, 1))}
    new, *_ = R.update_parameters_with_adam(p, g, zeros, zeros, 1, 0.1, 0.9, 0.999, 1e-8)
    # t = 1: v̂ = g, ŝ = g², the step is lr·g/(|g| + ε) = ±0.1
    np.testing.assert_allclose(new["W1"], [[0.9]], rtol=1e-7)
    np.testing.assert_allclose(new["b1"], [[0.1]], rtol=1e-7)


def test_definitions_only_keeps_definitions_and_line_numbers() -> None:
    src = "import numpy as np\nX = load()\nK = 3\ndef f(x):\n    return np.abs(x)\nprint(f(1))\n"
    out, dropped = definitions_only(src)
    assert out.count("\n") == src.count("\n")
    assert out.splitlines()[3] == "def f(x):"
    assert [d.split(":")[0] for d in dropped] == ["line 2", "line 6"]
    assert signatures(src) == {"f": ["x"]}


def test_definitions_only_leaves_out_imports_no_definition_reads() -> None:
    """matplotlib / sklearn imported for the experiments only: left out (seconds of import
    for nothing); an import a def, a class or a kept constant reads stays."""
    src = ("import numpy as np\nimport matplotlib.pyplot as plt\nimport sklearn.datasets\n"
           "import math, h5py\nfrom dnn_utils import *\nC = math.pi\n"
           "def f(x):\n    return np.abs(x) * C\n")
    out, dropped = definitions_only(src)
    assert [d.split(":")[0] for d in dropped] == ["line 2", "line 3"]
    assert all("not used by the definitions" in d for d in dropped)
    kept = out.splitlines()
    assert "import numpy as np" in kept[0] and "import math, h5py" in kept[3]
    assert "from dnn_utils import *" in kept[4]
