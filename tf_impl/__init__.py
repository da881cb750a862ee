"""TensorFlow implementation of the SPEC.md catalogue (``dlparity.tf_impl``).

Skeleton: filled in by the parity-suite issue. Same module names as ``dlparity.reference``.
"""
