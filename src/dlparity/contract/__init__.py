"""The argument contract of every catalogue function, shared by all implementations.

``dlparity.contract.<module>.<name>`` validates the arguments of the public function
``<name>`` of implementation module ``<module>`` (``layers``, ``losses``, ``info``,
``optim``, ``schedules``, ``init``, ``preprocess``, ``gradcheck``) and returns them
normalised (filled defaults, floats for hyper-parameters). ``contract.models`` holds the
base classes of ``FullyConnectedNet`` and ``RegressionNet`` (argument checks, structure,
state dicts) and
``contract.solver`` the framework-neutral ``Solver`` loop, ``contract.training`` the
base of the three idiomatic ``Trainer``s, each package's ``Solver`` naming
the module its update rules come from. The reference, torch_impl and tf_impl all call it
first, so bad input raises the same error, worded the same way, in every implementation,
and defaults are written down once. Arithmetic the implementations share on purpose (the
fans of a weight shape, the finite-difference walk, the seeded starting weights and
dropout masks) is not here but in ``dlparity.formulas``.
"""
