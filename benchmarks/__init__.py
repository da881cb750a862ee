"""Benchmarks of the three implementations on the MNIST and CIFAR-10 FC models (skeleton)."""
