"""What the three implementations share by inheritance, not by validation alone.

``bases.models`` holds the base classes of ``FullyConnectedNet`` and ``RegressionNet``
(constructor checks, structure, state dicts), ``bases.solver`` the framework-neutral
``Solver`` loop and ``bases.training`` the base of the three idiomatic ``Trainer``s. The
per-function argument contract is ``dlparity.contract``; the arithmetic shared on purpose
is ``dlparity.formulas``.
"""
