"""The argument contract of every catalogue function, shared by all implementations.

``dlparity.contract.<module>.<name>`` validates the arguments of the public function
``<name>`` of implementation module ``<module>`` (``layers``, ``losses``, ``info``,
``optim``, ``schedules``, ``init``, ``preprocess``, ``gradcheck``) and returns them
normalised (filled defaults, floats for hyper-parameters). The reference, torch_impl and
tf_impl all call it first, so bad input raises the same error, worded the same way, in
every implementation, and defaults are written down once (the update rules' defaults in
their catalogue records). This package validates and nothing else: the base classes of the
models, the Solver loop and the Trainers' base are ``dlparity.bases``; arithmetic the
implementations share on purpose (the fans of a weight shape, the finite-difference walk,
the seeded starting weights and dropout masks) is ``dlparity.formulas``.
"""
