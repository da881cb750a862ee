"""Benchmarks of the implementations on the MNIST and CIFAR-10 FC models.

- ``runner``: the variants (implementation x case x phase x device) and the timing method;
- ``machine``: the CPU (model, ISA, kernels), thread pinning and its check, load, versions;
- ``peaks``: the square GEMM peak and the per-shape limit of a step's own products;
- ``flops``: exact FLOP counts of the models and their GEMM shapes (the rule is in its
  docstring);
- ``fast_numpy``: ``numpy.fast``, the fast NumPy step (parity-tested against the reference);
- ``breakdown`` (+ ``profile_torch``, ``profile_tf``): ``--profile``, where a step's time goes;
- ``attempts``: ``--attempts``, what users would try to close the gap, before and after;
- ``report``: the JSON schema, the markdown table and the PNG bar chart;
- ``docs_tables``: the measured tables of docs/benchmarks.md and README.md, from the
  committed reports in ``results/``;
- ``cli``: ``dlparity bench`` (``add_arguments``, ``run``);
- ``gpu_check`` (+ ``gpu_check.sh``): every CUDA path in one go, with a record;
- ``bench_training.py`` + ``conftest.py``: the same variants as a pytest-benchmark suite,
  ``pytest benchmarks/ --benchmark-only``.

See docs/benchmarks.md.
"""
