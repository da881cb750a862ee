"""The options of ``dlparity grade`` and the command itself."""

from __future__ import annotations

import argparse
import sys
import time

from dlparity.oracle.cli import _positive_float, _positive_int

DESCRIPTION = """\
Grade a class: check every submission in SUBMISSIONS_DIR (one entry per student: a folder,
a .py file or a .ipynb notebook, named by its file or folder) against the reference, each
in a process of its own with dlparity check's time and memory limits plus a wall-clock limit
for the whole submission, JOBS at a time. Scores each by the rubric (default: one point per
function of the recognised assignment; a function failing only via another earns it, a
float32-only failure half, borrowing and tampering nothing) and writes, under --out:
gradebook.csv, gradebook.json, students/<student>.html (the check report with repro
snippets), index.html (how many students fail each function, the most common diagnoses)
and summary.png. Unchanged submissions are read back from OUT/.cache. With --gradescope,
grades the one submission in Gradescope's layout (ROOT/submission/) and writes
ROOT/results/results.json. See docs/grading.md."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("submissions", metavar="SUBMISSIONS_DIR", nargs="?",
                        help="the class: one folder, .py or .ipynb per student")
    parser.add_argument("--rubric", metavar="TOML",
                        help="points per function and what each status earns "
                        "(default: one point per function of the recognised assignment; "
                        "see docs/grading.md)")
    parser.add_argument("--out", metavar="DIR",
                        help="where to write the gradebook and reports (default: "
                        "SUBMISSIONS_DIR_grades beside it)")
    parser.add_argument("-j", "--jobs", type=_positive_int, default=None,
                        help="submissions checked at once (default: the cores available)")
    parser.add_argument("--timeout", type=_positive_float, default=20.0,
                        help="seconds per function, as dlparity check --timeout (default 20)")
    parser.add_argument("--memory-mb", type=_positive_float, default=4096.0,
                        help="address space a submission may add, in MiB, as dlparity check "
                        "--memory-mb (default 4096)")
    parser.add_argument("--submission-timeout", type=_positive_float, default=600.0,
                        help="wall-clock seconds for one whole submission, after which it and "
                        "everything it started are killed and its row says so (default 600)")
    parser.add_argument("--dialect", choices=("auto", "cs231n", "dlai"), default="auto",
                        help="read every submission in this API (default auto: recognised "
                        "per submission)")
    parser.add_argument("--no-cache", action="store_true",
                        help="check every submission again (the cache is rewritten)")
    parser.add_argument("--gradescope", action="store_true",
                        help="grade ROOT/submission/ and write ROOT/results/results.json in "
                        "Gradescope's format (one test per function)")
    parser.add_argument("--root", metavar="DIR", default="/autograder",
                        help="Gradescope's autograder folder (default /autograder)")
    parser.add_argument("--visibility", default="visible",
                        choices=("visible", "after_due_date", "after_published", "hidden"),
                        help="--gradescope: when students see the tests (default visible)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no closing summary")


def run(args: argparse.Namespace) -> int:
    from . import default_jobs, default_out, grade
    from .gradescope import run_gradescope
    from .rubric import load_rubric
    from .runner import CheckOptions

    options = CheckOptions(timeout=args.timeout, memory_mb=args.memory_mb,
                           submission_timeout=args.submission_timeout,
                           dialect=None if args.dialect == "auto" else args.dialect)
    try:
        rubric = load_rubric(args.rubric)
        if args.gradescope:
            if args.submissions:
                raise ValueError("--gradescope reads ROOT/submission/; give --root, not "
                                 f"SUBMISSIONS_DIR (received {args.submissions!r})")
            results = run_gradescope(args.root, rubric, options, args.visibility)
            if not args.quiet:
                print(f"dlparity grade: {results['score']:g} points; wrote "
                      f"{args.root}/results/results.json")
            return 0
        if not args.submissions:
            raise ValueError("give SUBMISSIONS_DIR (or --gradescope)")
        start = time.perf_counter()
        out = args.out or default_out(args.submissions)
        book = grade(args.submissions, rubric=rubric, out=out,
                     jobs=args.jobs or default_jobs(), options=options,
                     cache=not args.no_cache, progress=not args.quiet)
    except (ValueError, TypeError) as exc:
        print(f"dlparity grade: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        n = len(book.rows)
        cached = sum(r.cached for r in book.rows)
        flagged = [r.student for r in book.rows if r.flags]
        no_report = [r.student for r in book.rows if r.outcome != "checked"]
        mean = sum(r.points for r in book.rows) / n if n else 0.0
        print(f"dlparity grade: {n} submission(s) ({cached} from the cache) in "
              f"{time.perf_counter() - start:.1f} s; mean {mean:.2f} points"
              + (f"; flagged: {', '.join(flagged)}" if flagged else "")
              + (f"; no report: {', '.join(no_report)}" if no_report else ""))
        print(f"  {out}/gradebook.csv, gradebook.json, index.html, students/")
    return 0
