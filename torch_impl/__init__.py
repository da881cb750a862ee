"""PyTorch implementation of the SPEC.md catalogue (``dlparity.torch_impl``).

Skeleton: filled in by the parity-suite issue. Same module names as ``dlparity.reference``.
"""
