"""The submissions of a class: one entry per student, and what identifies its content.

An entry of SUBMISSIONS_DIR is a folder, a ``.py`` file or a ``.ipynb`` notebook; the
student is named by the file's stem or the folder's name. Hidden entries (``.x``) and
``__pycache__`` are not submissions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Submission", "content_hash", "discover", "resolve_target"]

SUFFIXES = (".py", ".ipynb")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Submission:
    student: str  # the name in the gradebook
    path: Path  # the entry itself (file or folder)
    target: Path  # what is checked (the entry, or the one notebook in a folder of none .py)


def _skipped(path: Path) -> bool:
    return path.name.startswith(".") or path.name in _SKIP_DIRS


def _files(folder: Path) -> list[Path]:
    """The folder's files that make its content, in a stable order."""
    found = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts):
            continue
        if p.is_file() and p.suffix != ".pyc":
            found.append(p)
    return found


def resolve_target(entry: Path) -> Path:
    """What to check for an entry: a folder with no ``.py`` but exactly one notebook is that
    notebook; anything else is the entry itself."""
    if entry.is_dir() and not any(entry.glob("*.py")):
        notebooks = [p for p in entry.glob("*.ipynb") if not _skipped(p)]
        if len(notebooks) == 1:
            return notebooks[0]
    return entry


def discover(directory: str | Path) -> list[Submission]:
    """Every submission in ``directory``, sorted by student name."""
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"dlparity grade: SUBMISSIONS_DIR must be a directory; received "
                         f"{str(directory)!r}")
    entries = [p for p in sorted(root.iterdir()) if not _skipped(p)
               and (p.is_dir() or p.suffix in SUFFIXES)]
    stems = [p.stem if p.is_file() else p.name for p in entries]
    found = []
    for p, stem in zip(entries, stems, strict=True):
        name = stem if stems.count(stem) == 1 else p.name  # alice.py beside alice/: full names
        found.append(Submission(name, p, resolve_target(p)))
    return sorted(found, key=lambda s: s.student)


def content_hash(entry: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's relative paths and file bytes."""
    digest = hashlib.sha256()
    if entry.is_file():
        digest.update(entry.read_bytes())
    else:
        for p in _files(entry):
            digest.update(p.relative_to(entry).as_posix().encode() + b"\0")
            digest.update(p.read_bytes() + b"\0")
    return digest.hexdigest()
