"""``dlparity grade``: a whole class checked, a gradebook, and an autograder.

    dlparity grade SUBMISSIONS_DIR [--rubric rubric.toml] [--jobs N] [--out DIR]
    dlparity grade --gradescope [--root /autograder]

Each entry of SUBMISSIONS_DIR (a folder, a ``.py``, a ``.ipynb``: one per student) is checked
by ``dlparity.check`` in a process of its own (:mod:`.runner`), scored by the rubric
(:mod:`.rubric`) into a gradebook (:mod:`.gradebook`: CSV and JSON), and written up as one
HTML page per student and a class summary with a chart (:mod:`.summary`). Results are cached
by content and oracle fingerprint. :mod:`.gradescope` is the same for one submission in
Gradescope's autograder layout. See docs/grading.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from .gradebook import Gradebook, build
from .rubric import DEFAULT_EARNS, Rubric, load_rubric, parse_rubric
from .runner import CheckOptions, Outcome, check_all
from .submissions import Submission, discover

__all__ = ["DEFAULT_EARNS", "CheckOptions", "Gradebook", "Outcome", "Rubric", "Submission",
           "default_jobs", "default_out", "discover", "grade", "load_rubric", "parse_rubric"]


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover -- not Linux
        return max(1, os.cpu_count() or 1)


def default_out(directory: str | Path) -> Path:
    """Where a class's outputs go by default: beside it, ``<name>_grades``."""
    d = Path(directory).resolve()
    return d.parent / f"{d.name}_grades"


def grade(directory: str | Path, *, rubric: Rubric | str | Path | None = None,
          out: str | Path | None = None, jobs: int | None = None,
          options: CheckOptions | None = None, cache: bool = True, progress: bool = False,
          chart: bool = True) -> Gradebook:
    """Grade every submission in ``directory``; write ``gradebook.csv``, ``gradebook.json``,
    ``students/*.html``, ``index.html`` and ``summary.png`` under ``out``; return the book.
    ``cache=False`` checks every submission again (the cache under ``out`` is rewritten)."""
    from dlparity.oracle.report import fingerprint

    from .summary import write_pages

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive integer; received {jobs!r}")
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    subs = discover(directory)
    out_dir = Path(out) if out is not None else default_out(directory)
    if out_dir.resolve() == Path(directory).resolve() or \
            Path(directory).resolve() in out_dir.resolve().parents:
        raise ValueError(f"out must not be inside SUBMISSIONS_DIR (it would be graded as a "
                         f"submission next time); received {str(out_dir)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = check_all(subs, options or CheckOptions(), jobs=jobs or default_jobs(),
                         cache_dir=out_dir / ".cache", reuse=cache, progress=progress)
    book = build(outcomes, rub, fingerprint())
    book.write_csv(out_dir / "gradebook.csv")
    book.write_json(out_dir / "gradebook.json")
    write_pages(book, out_dir, chart=chart)
    return book
