"""The HTML pages of a graded class: one per student, and the class summary with its chart.

* ``students/<student>.html``: the student's points per function, then the ``dlparity check``
  report (:func:`dlparity.oracle.html.render`, repro snippets included), or why there is none.
* ``index.html``: per function, how many students fail it (their own FAIL / error), how many
  lack it or were not run, how many borrowed or tampered; the most common named diagnoses and
  failed checks; the gradebook with links; ``summary.png``, the bar chart of the first table.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dlparity.oracle.html import render

from .gradebook import Gradebook, Row, diagnosis_items, failed_checks

__all__ = ["function_counts", "named_diagnoses", "write_chart", "write_pages"]

_PAGE_STYLE = """\
body {font-family: system-ui, sans-serif; font-size: 14px; margin: 1.5em; max-width: 1200px}
table {border-collapse: collapse; margin: 0.5em 0}
th, td {border: 1px solid #ccc; padding: 2px 8px; text-align: left}
td.num {text-align: right; font-variant-numeric: tabular-nums}
.flag {color: #c62828; font-weight: 600}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_PAGE_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def function_counts(book: Gradebook) -> dict[str, dict[str, int]]:
    """Per graded function: students that fail it themselves (``fail``), lack it or were not
    run (``missing``), borrowed it or tampered (``integrity``), earn all its points (``full``)."""
    counts: dict[str, dict[str, int]] = {}
    for name in book.functions:
        c = {"fail": 0, "via": 0, "missing": 0, "integrity": 0, "full": 0, "graded": 0}
        for row in book.rows:
            g = row.functions.get(name)
            if g is None:
                continue
            c["graded"] += 1
            if g.category == "tampered" or g.status == "borrowed":
                c["integrity"] += 1
            elif g.status in ("FAIL", "error"):
                c["fail"] += 1
            elif g.status == "via":
                c["via"] += 1
            elif g.status in ("missing", "untested", "not run"):
                c["missing"] += 1
            if g.max_points and g.points >= g.max_points:
                c["full"] += 1
        counts[name] = c
    return counts


def write_chart(book: Gradebook, path: Path) -> bool:
    """The bar chart of :func:`function_counts` as a PNG; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    counts = function_counts(book)
    names = list(counts)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(names) + 2) + 2.5, 4.5))
    bottom = [0] * len(names)
    for key, label, color in (("fail", "fails (own FAIL / error)", "#c62828"),
                              ("missing", "missing / untested / not run", "#9e9e9e"),
                              ("integrity", "borrowed / tampered", "#8250df")):
        values = [counts[n][key] for n in names]
        ax.bar(range(len(names)), values, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        if total:
            ax.annotate(str(total), (x, total), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"students (of {len(book.rows)})")
    ax.set_ylim(0, max([*bottom, 1]) * 1.25 + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Students who fail, lack or borrow each function ({len(book.rows)} "
                 "submissions)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _student_page(row: Row) -> str:
    flags = f' <span class="flag">flags: {_e(", ".join(row.flags))}</span>' if row.flags else ""
    body = [f"<h1>{_e(row.student)}: {row.points:g} / {row.max_points:g} points{flags}</h1>",
            f"<p>Submission <code>{_e(row.entry)}</code>, outcome <b>{_e(row.outcome)}</b>"
            + (f", read as {_e(row.dialect)}" if row.dialect else "")
            + (f" ({_e(row.assignment)})" if row.assignment else "") + "</p>"]
    if row.reason:
        body.append(f"<pre>{_e(row.reason)}</pre>")
    body.append("<table><thead><tr><th>function</th><th>status</th><th>earned as</th>"
                "<th>points</th></tr></thead><tbody>")
    body += [f"<tr><td><code>{_e(n)}</code></td><td>{_e(g.label)}</td><td>{_e(g.category)}"
             f"</td><td class=\"num\">{g.points:g} / {g.max_points:g}</td></tr>"
             for n, g in row.functions.items()]
    body.append("</tbody></table>")
    if row.report is not None:
        body.append(render(row.report))
    body.append('<p><a href="../index.html">class summary</a></p>')
    return _page(f"{row.student}: dlparity grade", body)


def _top(items: list[str], limit: int = 15) -> list[tuple[str, int]]:
    return Counter(items).most_common(limit)


def named_diagnoses(book: Gradebook, limit: int = 15) -> list[tuple[str, tuple[int, list[str]]]]:
    """The named diagnoses of the class, most common first: each with the number of students
    whose report names it and the functions it was named on."""
    students: Counter[str] = Counter()
    where: dict[str, dict[str, None]] = {}
    for row in book.rows:
        items = diagnosis_items(row.report)
        for text in dict.fromkeys(t for _, t in items):
            students[text] += 1
        for fn, text in items:
            if fn:
                where.setdefault(text, {})[fn] = None
    return [(text, (k, list(where.get(text, {})))) for text, k in students.most_common(limit)]


def write_pages(book: Gradebook, out: Path, chart: bool = True) -> None:
    """``out/students/<student>.html``, ``out/index.html`` and ``out/summary.png``."""
    students = out / "students"
    students.mkdir(parents=True, exist_ok=True)
    for row in book.rows:
        (students / f"{row.student}.html").write_text(_student_page(row), encoding="utf-8")

    has_chart = chart and write_chart(book, out / "summary.png")
    counts = function_counts(book)
    n = len(book.rows)
    total = [r.points for r in book.rows]
    body = [f"<h1>dlparity grade: {n} submission(s)</h1>",
            f"<p>Oracle fingerprint <code>{_e(book.fingerprint)}</code>; rubric "
            f"{_e(book.rubric.source or 'default (one point per function)')}. Mean "
            f"{(sum(total) / n if n else 0):.2f} points; "
            f"{sum(r.outcome != 'checked' for r in book.rows)} submission(s) without a report; "
            f"{sum(bool(r.flags) for r in book.rows)} flagged.</p>"]
    if has_chart:
        body.append('<p><img src="summary.png" alt="students not earning each function"></p>')
    body.append("<h2>Per function</h2><table><thead><tr><th>function</th><th>fail (own)</th>"
                "<th>via</th><th>missing / not run</th><th>borrowed / tampered</th>"
                "<th>full marks</th></tr></thead><tbody>")
    for name, c in counts.items():
        body.append(f"<tr><td><code>{_e(name)}</code></td><td class=\"num\">{c['fail']}</td>"
                    f"<td class=\"num\">{c['via']}</td><td class=\"num\">{c['missing']}</td>"
                    f"<td class=\"num\">{c['integrity']}</td>"
                    f"<td class=\"num\">{c['full']} / {c['graded']}</td></tr>")
    body.append("</tbody></table>")
    named = named_diagnoses(book)
    body.append("<h2>Most common named diagnoses</h2>")
    body += (["<table><thead><tr><th>diagnosis</th><th>students</th><th>functions</th>"
              "</tr></thead><tbody>"]
             + [f"<tr><td>{_e(d)}</td><td class=\"num\">{k}</td><td>{_e(', '.join(f))}</td>"
                "</tr>" for d, (k, f) in named]
             + ["</tbody></table>"]) if named else ["<p>None named in this class's reports.</p>"]
    checks = _top([c for r in book.rows for c in failed_checks(r.report)])
    if checks:
        body.append("<h2>Most common failed checks</h2><table><thead><tr><th>function: check"
                    "</th><th>students</th></tr></thead><tbody>")
        body += [f"<tr><td>{_e(c)}</td><td class=\"num\">{k}</td></tr>" for c, k in checks]
        body.append("</tbody></table>")
    body.append("<h2>Gradebook</h2><table><thead><tr><th>student</th><th>points</th>"
                "<th>flags</th><th>outcome</th><th>read as</th></tr></thead><tbody>")
    for r in book.rows:
        read_as = (r.dialect or "") + (f" ({r.assignment})" if r.assignment else "")
        href = _e(f"students/{quote(r.student)}.html")
        body.append(f"<tr><td><a href=\"{href}\">{_e(r.student)}</a>"
                    f"</td><td class=\"num\">{r.points:g} / {r.max_points:g}</td>"
                    f"<td class=\"flag\">{_e(' '.join(r.flags))}</td><td>{_e(r.outcome)}</td>"
                    f"<td>{_e(read_as)}</td></tr>")
    body.append("</tbody></table>")
    (out / "index.html").write_text(_page("dlparity grade: class summary", body),
                                    encoding="utf-8")
