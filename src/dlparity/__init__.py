"""dlparity: a framework-parity reference suite for deep learning.

Implementations of one specification (SPEC.md), under the same function names:

* ``dlparity.reference``  -- hand-written NumPy, every backward gradient-checked in float64;
* ``dlparity.torch_impl`` -- the same functions with PyTorch ops and autograd;
* ``dlparity.tf_impl``    -- the same functions with TensorFlow ops and autograd.

``dlparity.catalogue`` lists the names; ``dlparity.validate`` holds the shared input checks.
"""

__version__ = "0.1.0"
