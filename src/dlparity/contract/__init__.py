"""The argument contract of every catalogue function, shared by all implementations.

``dlparity.contract.<module>.<name>`` validates the arguments of the public function
``<name>`` of implementation module ``<module>`` (``layers``, ``losses``, ``info``,
``optim``, ``schedules``, ``init``, ``preprocess``) and returns them normalised (filled
defaults, floats for hyper-parameters). The reference, torch_impl and tf_impl all call it
first, so bad input raises the same error, worded the same way, in every implementation,
and defaults are written down once.
"""
