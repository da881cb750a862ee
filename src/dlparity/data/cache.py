"""The data cache: where files live, how they are checked, and how they are downloaded.

Directory. ``data_home(data_dir)`` is, in order of precedence: the ``data_dir`` argument
(the CLI's ``--data-dir``), ``$DLPARITY_DATA``, ``$XDG_CACHE_HOME/dlparity``,
``~/.cache/dlparity``. Each data set has its own folder in it, named by its
:attr:`Source.key <dlparity.data.sources.Source.key>`: ``~/.cache/dlparity/mnist/``.

Downloads go to a hidden temporary name in that folder, are checked against the official
size, MD5 and SHA-256 while they stream in, and are renamed to their real name only once
they match: an interrupted or corrupt download never leaves a file under a real name.
Without a network (or with ``download=False``) the error lists every missing file, the
folder to put it in and the URL to get it from.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from dlparity.data.errors import ChecksumError, MissingDataError
from dlparity.data.sources import FileSpec, Source

__all__ = ["ENV_VAR", "check_checksums", "data_home", "dataset_dir", "download_file", "fetch",
           "locate"]

ENV_VAR = "DLPARITY_DATA"
CHUNK = 1 << 20  # bytes read per network call

#: ``opener(url)`` returns a response with ``read(n)`` (and optionally ``close()``).
Opener = Callable[[str], Any]


def data_home(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The root of the data cache (not created here).

    Inputs:
    - data_dir: a directory that overrides everything else, or None.

    Returns the ``Path`` of ``data_dir``, else ``$DLPARITY_DATA``, else
    ``$XDG_CACHE_HOME/dlparity``, else ``~/.cache/dlparity``.
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_home: data_dir must be a str or os.PathLike; received "
                            f"{type(data_dir).__name__} {data_dir!r}")
        if not os.fspath(data_dir):
            raise ValueError("data_home: data_dir must be a directory path; received ''")
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "dlparity"


def dataset_dir(source: Source, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of ``source`` in the cache: ``data_home(data_dir) / source.key``."""
    return data_home(data_dir) / source.key


def _digests(data: bytes) -> tuple[str, str]:
    """(SHA-256, MD5) of ``data``, as hex."""
    return (hashlib.sha256(data).hexdigest(),
            hashlib.md5(data, usedforsecurity=False).hexdigest())


def check_checksums(fn: str, path: Path, spec: FileSpec, raw: bytes,
                    content: bytes | None = None, url: str = "") -> str:
    """Check a file's bytes against its official size and digests.

    Inputs:
    - fn: the public function's name, for the error message.
    - path: where ``raw`` was read from (named in the message).
    - spec: the official size and digests.
    - raw: the file's bytes.
    - content: for a gzip file, its decompressed bytes; compared with
      ``spec.content_sha256`` when the file itself is not the official one (a copy with a
      rewritten gzip header, like Debian's).
    - url: where to get a good copy, quoted in the message.

    Returns a short note on how the file matched; raises :class:`ChecksumError` if not.
    """
    sha256, md5 = _digests(raw)
    if len(raw) == spec.size and sha256 == spec.sha256 and md5 == spec.md5:
        return "official size, MD5 and SHA-256 verified"
    if (spec.content_sha256 is not None and content is not None
            and hashlib.sha256(content).hexdigest() == spec.content_sha256):
        return ("recompressed copy: its decompressed bytes match the official file's "
                "(SHA-256 verified)")
    where = f" from {url}" if url else ""
    raise ChecksumError(
        f"{fn}: {path} does not match the official checksums of {spec.name}: expected "
        f"{spec.size:,} bytes with SHA-256 {spec.sha256}; received {len(raw):,} bytes with "
        f"SHA-256 {sha256}. The file is corrupt, truncated or another version: delete it and "
        f"get it again{where} (or pass verify=False to load it anyway)")


def locate(source: Source, data_dir: str | os.PathLike[str] | None = None,
           extra_dirs: Iterable[Path] = ()) -> Path | None:
    """The first folder holding every file of ``source``: its cache folder, then
    ``extra_dirs`` (e.g. a system-wide install); None if there is none."""
    for folder in (dataset_dir(source, data_dir), *extra_dirs):
        if all((Path(folder) / spec.name).is_file() for spec in source.files):
            return Path(folder)
    return None


def missing_message(fn: str, source: Source, folder: Path, missing: Sequence[FileSpec],
                    reason: str) -> str:
    """The error text that says which files to put where, and where to get them."""
    lines = [f"{fn}: {source.title} is not in {folder} and {reason}",
             f"Put these files, exactly as published, in {folder}/ :"]
    width = max(len(spec.name) for spec in missing)
    for spec in missing:
        lines.append(f"  {spec.name:<{width}}  {spec.size:>12,} bytes  MD5 {spec.md5}  "
                     f"from {source.urls(spec.name)[0]}")
    if len(source.mirrors) > 1:
        lines.append(f"  (other mirrors: {', '.join(source.mirrors[1:])}; "
                     f"home page {source.homepage})")
    lines.append(f"Or choose another data directory with data_dir=..., --data-dir or "
                 f"${ENV_VAR}: the files go in its '{source.key}' folder.")
    return "\n".join(lines)


def fetch(source: Source, data_dir: str | os.PathLike[str] | None = None, *,
          download: bool = True, opener: Opener | None = None, progress: bool = True,
          extra_dirs: Iterable[Path] = (), fn: str = "fetch") -> dict[str, Path]:
    """The path of every file of ``source``, downloading the missing ones into the cache.

    Inputs:
    - source: the data set (:mod:`dlparity.data.sources`).
    - data_dir: overrides the cache root (see :func:`data_home`).
    - download: if False, never touch the network; missing files raise.
    - opener: ``opener(url)`` returns a readable response (default: ``urllib``); tests
      pass one that fails or serves their own bytes.
    - progress: show a tqdm progress bar while downloading (if tqdm is installed).
    - extra_dirs: folders searched after the cache that hold a complete, read-only copy
      (used in place, never copied).
    - fn: the public function's name, for messages.

    Returns ``{file name: Path}``. Raises :class:`MissingDataError` listing every missing
    file, its folder and URL when a file is absent and cannot be downloaded.
    """
    extra_dirs = tuple(extra_dirs)
    found = locate(source, data_dir, extra_dirs)
    if found is not None:
        return {spec.name: found / spec.name for spec in source.files}
    folder = dataset_dir(source, data_dir)
    missing = [spec for spec in source.files if not (folder / spec.name).is_file()]
    if not download:
        raise MissingDataError(missing_message(fn, source, folder, missing,
                                               "download=False was given;"))
    for i, spec in enumerate(missing):
        failures = _download_any_mirror(source, spec, folder, opener, progress, fn)
        if failures:
            reason = "could not be downloaded:\n" + "\n".join(f"  {f}" for f in failures)
            raise MissingDataError(missing_message(fn, source, folder, missing[i:], reason))
    return {spec.name: folder / spec.name for spec in source.files}


def _download_any_mirror(source: Source, spec: FileSpec, folder: Path, opener: Opener | None,
                         progress: bool, fn: str) -> list[str]:
    """Try every mirror in turn; return the failures (empty once one succeeded)."""
    failures = []
    for url in source.urls(spec.name):
        try:
            download_file(url, spec, folder, opener=opener, progress=progress, fn=fn)
            return []
        except ChecksumError as err:
            failures.append(f"{url}: {err}")
        except (OSError, http.client.HTTPException) as err:
            failures.append(f"{url}: {type(err).__name__}: {err}")
    return failures


def _default_opener(url: str) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "dlparity"})
    return urllib.request.urlopen(request, timeout=30)


def download_file(url: str, spec: FileSpec, folder: Path, *, opener: Opener | None = None,
                  progress: bool = True, fn: str = "download_file") -> Path:
    """Download ``url`` to ``folder / spec.name``, verified before it gets that name.

    The bytes stream into a hidden temporary file in ``folder`` while their size, MD5 and
    SHA-256 are computed; the file is renamed only if all three are the official ones, and
    removed on any failure (network error, wrong checksum, interrupt).

    Returns the final path. Raises :class:`ChecksumError` for a wrong file, ``OSError``
    (``urllib.error.URLError``, ...) for a network failure.
    """
    folder = Path(folder)
    response = (opener or _default_opener)(url)  # a network error raises before any disk use
    new_dirs = [d for d in (folder, *folder.parents) if not d.exists()]  # deepest first
    tmp: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        sha256 = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        with os.fdopen(fd, "wb") as out, _progress_bar(spec, progress) as bar:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
                if size > spec.size:  # a wrong file: stop before filling the disk
                    break
        if size != spec.size or sha256.hexdigest() != spec.sha256 or (
                md5.hexdigest() != spec.md5):
            raise ChecksumError(
                f"{fn}: the download of {spec.name} from {url} does not match the official "
                f"checksums: expected {spec.size:,} bytes with SHA-256 {spec.sha256}; "
                f"received {size:,}{'+' if size > spec.size else ''} bytes with SHA-256 "
                f"{sha256.hexdigest()}; nothing was saved")
        final = folder / spec.name
        os.replace(tmp, final)
        return final
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        for new_dir in new_dirs:  # leave no empty folder behind either
            with contextlib.suppress(OSError):  # not empty: another download's files
                new_dir.rmdir()
        raise
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()


class _NoBar:
    """Stands in for a tqdm bar when progress is off or tqdm is not installed."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _progress_bar(spec: FileSpec, enabled: bool) -> Any:
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return _NoBar()
        return tqdm(total=spec.size, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=spec.name)
    return _NoBar()
