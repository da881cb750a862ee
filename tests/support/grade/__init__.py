"""Fixture classes for ``dlparity grade``: small submissions written for its tests.

``cs231n_class/``: alice (correct, .py), bob (buggy folder of plain modules: affine_backward's
db wrong, relu_forward float32-only), carol (crashes in relu_forward), dave (hangs at import),
eve (wrong relu_forward that tampers with NumPy and dlparity.reference at import), frank
(package folder whose relu_forward borrows dlparity.reference's), mallory (kills the process
that imports it). ``dlai_class/``: heidi (correct C1 W4 deep net notebook), ivan (folder with
a buggy C1 W4 deep net: db without 1/m), judy (notebook whose linear_forward forgets b).
"""
