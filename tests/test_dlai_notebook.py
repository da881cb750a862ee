"""A real notebook, executed through a Jupyter kernel: cells define dlai functions (one
buggy), a cell checks ``globals()``; the displayed HTML names every function and status."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

CELLS = [
    "import numpy as np\n%matplotlib inline",
    "def linear_forward(A, W, b):\n    Z = np.dot(W, A) + b\n    return Z, (A, W, b)",
    "def linear_backward(dZ, cache):\n    A_prev, W, b = cache\n    m = A_prev.shape[1]\n"
    "    dW = np.dot(dZ, A_prev.T) / m\n    db = np.sum(dZ, axis=1) / m\n"
    "    return np.dot(W.T, dZ), dW, db",
    "print(linear_forward(np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))))",
    "import dlparity\ndlparity.check(globals())",
]


def test_notebook_check_of_globals_shows_html() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[-1].outputs
    html = next((o["data"].get("text/html") for o in outputs if "data" in o), None)
    text = next((o["data"].get("text/plain") for o in outputs if "data" in o), "")
    assert html is not None, text[:500]
    assert "linear_forward" in html and "linear_backward" in html
    assert "PASS" in html and "FAIL" in html
