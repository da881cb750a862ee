"""Benchmarks of the three implementations on the MNIST and CIFAR-10 FC models.

- ``runner``: the variants (implementation x case x phase x device), the timing method,
  thread pinning and the GEMM peak;
- ``flops``: exact FLOP counts of the models (the counting rule is in its docstring);
- ``report``: the JSON schema, the markdown table and the PNG bar chart;
- ``cli``: ``dlparity bench`` (``add_arguments``, ``run``);
- ``bench_training.py`` + ``conftest.py``: the same variants as a pytest-benchmark suite,
  ``pytest benchmarks/ --benchmark-only``.

See docs/benchmarks.md.
"""
