"""Where each data set is published, and the official size and digests of every file.

One :class:`Source` per downloadable data set. Its ``key`` is also the name of its folder in
the cache (``<data home>/mnist/train-images-idx3-ubyte.gz``), and its ``mirrors`` are tried
in order, as torchvision does.

Checksums. The MD5 values are the ones the publishers print (the CIFAR-10 page, the
Fashion-MNIST README) and that torchvision checks; the SHA-256 values are the ones Keras /
TensorFlow Datasets check. A file is accepted when its size, MD5 and SHA-256 all match.

``content_sha256`` is the SHA-256 of a ``.gz`` file's DECOMPRESSED bytes. It lets a loader
accept a copy that was recompressed or had its gzip header rewritten while holding exactly
the official data. Debian's ``dataset-fashion-mnist`` is such a copy: its packaging tool
(strip-nondeterminism) drops the file name and time stamp from each gzip header, so its
``.gz`` files are 23-24 bytes shorter and their digests differ from the official ones. The
deflate streams are untouched: putting the original header back (flag FNAME, the original
name, time stamp 1504176606 for the two ``train-*`` files and 1504176627 for the two
``t10k-*`` files) gives back files whose size, MD5 and SHA-256 are exactly the official
ones, for all four files. The ``content_sha256`` values below were computed from those
verified streams.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CIFAR10_BINARY", "CIFAR10_PYTHON", "FASHION_MNIST", "MNIST", "SOURCES",
           "FileSpec", "Source"]


@dataclass(frozen=True)
class FileSpec:
    """One published file: its name, size in bytes and official digests (hex)."""

    name: str
    size: int
    md5: str
    sha256: str
    content_sha256: str | None = None  # SHA-256 of the decompressed bytes (gzip files)


@dataclass(frozen=True)
class Source:
    """A downloadable data set: its files and the base URLs they are published under."""

    key: str  # folder name in the cache, e.g. "mnist"
    title: str  # e.g. "MNIST"
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]  # base URLs, each ending in "/"
    homepage: str
    license: str

    def file(self, name: str) -> FileSpec:
        """The :class:`FileSpec` called ``name``."""
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.title} has no file {name!r}; its files are "
                       f"{[f.name for f in self.files]}")

    def urls(self, name: str) -> tuple[str, ...]:
        """Every URL ``name`` can be downloaded from, in the order they are tried."""
        return tuple(base + name for base in self.mirrors)


MNIST = Source(
    key="mnist",
    title="MNIST",
    files=(
        FileSpec("train-images-idx3-ubyte.gz", 9_912_422,
                 "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        FileSpec("train-labels-idx1-ubyte.gz", 28_881,
                 "d53e105ee54ea40749a09fcbcd1e9432",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        FileSpec("t10k-images-idx3-ubyte.gz", 1_648_877,
                 "9fb629c4189551a2d022fa330f9573f3",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        FileSpec("t10k-labels-idx1-ubyte.gz", 4_542,
                 "ec29112dd5afa0611ce80d1b7f02629c",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    homepage="http://yann.lecun.com/exdb/mnist/",
    license="Yann LeCun, Corinna Cortes, Christopher J.C. Burges; often cited as CC BY-SA 3.0",
)

FASHION_MNIST = Source(
    key="fashion-mnist",
    title="Fashion-MNIST",
    files=(
        FileSpec("train-images-idx3-ubyte.gz", 26_421_880,
                 "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                 "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                 "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FileSpec("train-labels-idx1-ubyte.gz", 29_515,
                 "25c81989df183df01b3e8a0aad5dffbe",
                 "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        FileSpec("t10k-images-idx3-ubyte.gz", 4_422_102,
                 "bef4ecab320f06d8554ea6380940ec79",
                 "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FileSpec("t10k-labels-idx1-ubyte.gz", 5_148,
                 "bb300cfdad3c16e7a12a480ee83cd310",
                 "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license="Zalando SE; MIT",
)

CIFAR10_PYTHON = Source(
    key="cifar-10",
    title="CIFAR-10 (python version)",
    files=(
        FileSpec("cifar-10-python.tar.gz", 170_498_071,
                 "c58f30108f718f92721af3b95e74349a",
                 "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    ),
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="Alex Krizhevsky, Vinod Nair and Geoffrey Hinton; cite the tech report",
)

CIFAR10_BINARY = Source(
    key="cifar-10",
    title="CIFAR-10 (binary version)",
    files=(
        FileSpec("cifar-10-binary.tar.gz", 170_052_171,
                 "c32a1d4ab5d03f1284b67883e8d87530",
                 "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
    ),
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="Alex Krizhevsky, Vinod Nair and Geoffrey Hinton; cite the tech report",
)

SOURCES: dict[str, Source] = {
    "mnist": MNIST,
    "fashion-mnist": FASHION_MNIST,
    "cifar-10-python": CIFAR10_PYTHON,
    "cifar-10-binary": CIFAR10_BINARY,
}
