"""A check report as HTML: what Jupyter shows for a ``Report`` and what ``dlparity grade``
writes per student.

:func:`render` reads the report's JSON form (``Report.to_json()``, the schema
``dlparity-oracle-report/1``) and returns a self-contained fragment (a ``<div>`` with its own
``<style>``): a header (target, dialect and assignment, oracle fingerprint), one table row per
function (name, status, worst relative error, tolerance, failed check [case]), each failing
function's first failure with its message and repro snippet, the notes and the summary counts.
Every string that comes from the report is escaped (a target's name or message is data).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

__all__ = ["render", "STYLE"]

#: The fragment's styles, scoped to ``.dlparity-report`` so that a page or a notebook that
#: embeds it keeps its own look.
STYLE = """\
.dlparity-report {font-family: system-ui, sans-serif; font-size: 14px; line-height: 1.4}
.dlparity-report table {border-collapse: collapse; margin: 0.5em 0}
.dlparity-report th, .dlparity-report td {border: 1px solid #ccc; padding: 2px 8px;
  text-align: left; vertical-align: top}
.dlparity-report td.num {text-align: right; font-variant-numeric: tabular-nums}
.dlparity-report pre {background: #f6f6f6; padding: 6px; overflow-x: auto; margin: 0.3em 0}
.dlparity-report .s-PASS {color: #1a7f37; font-weight: 600}
.dlparity-report .s-FAIL, .dlparity-report .s-error {color: #c62828; font-weight: 600}
.dlparity-report .s-via {color: #9a6700}
.dlparity-report .s-borrowed {color: #8250df; font-weight: 600}
.dlparity-report .s-missing, .dlparity-report .s-untested {color: #777}
.dlparity-report .meta {color: #555}
"""

_FAILING = ("FAIL", "error")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _float(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # "nan" / "inf" in the JSON form
        return value
    return f"{value:.2g}"


def _status(fn: Mapping[str, Any]) -> str:
    status = str(fn.get("status", ""))
    text = status
    if status in ("via", "borrowed") and fn.get("via"):
        text += " " + ", ".join(map(str, fn["via"]))
    if fn.get("status_from_dtype"):
        text += f" ({fn['status_from_dtype']})"
    return f'<span class="s-{_e(status)}">{_e(text)}</span>'


def _what(fn: Mapping[str, Any]) -> str:
    if fn.get("status") == "untested" and fn.get("notes"):
        what = str(fn["notes"][0])
    elif fn.get("check"):
        what = f"{fn['check']} [{fn.get('case') or ''}]"
    else:
        what = ""
    if fn.get("dependency_only"):
        what += " (a dependency of a selected function)"
    return _e(what)


def _first_finding(fn: Mapping[str, Any]) -> Mapping[str, Any] | None:
    findings = fn.get("findings") or []
    same = [f for f in findings if f.get("status") == fn.get("status")]
    return same[0] if same else (findings[0] if findings else None)


def render(report_json: Mapping[str, Any], *, show_missing: bool = False) -> str:
    """An HTML fragment of one check report (``Report.to_json()``); ``show_missing`` also
    lists the catalogue functions the target does not define (hidden by default: a cs231n
    report lists the whole catalogue)."""
    if not isinstance(report_json, Mapping):
        raise TypeError(f"render: report_json must be the dict of Report.to_json(); received "
                        f"{type(report_json).__name__}")
    if "functions" not in report_json:
        raise ValueError("render: report_json has no 'functions' key (expected the dict of "
                         f"Report.to_json()); received keys {sorted(report_json)}")
    functions = list(report_json.get("functions") or [])
    dialect = report_json.get("dialect") or "cs231n"
    assignment = report_json.get("assignment")
    read_as = dialect + (f" ({assignment})" if assignment else "")
    options = report_json.get("options") or {}
    out = [f"<div class=\"dlparity-report\"><style>{STYLE}</style>",
           f"<h3>dlparity check: {_e(report_json.get('target'))}</h3>",
           f"<p class=\"meta\">read as {_e(read_as)}; oracle "
           f"{_e(report_json.get('dlparity_version'))}, fingerprint "
           f"<code>{_e(report_json.get('oracle_fingerprint'))}</code>; dtype "
           f"{_e(options.get('dtype'))}, seed {_e(options.get('seed'))}</p>"]

    shown = [fn for fn in functions if show_missing or fn.get("status") != "missing"]
    hidden = len(functions) - len(shown)
    out.append("<table><thead><tr><th>function</th><th>status</th><th>worst rel. error</th>"
               "<th>tolerance</th><th>failed check [case]</th></tr></thead><tbody>")
    for fn in shown:
        tol = fn.get("tolerance") or {}
        tol_text = "" if fn.get("status") in ("missing", "untested") else \
            _float(tol.get("rtol"))
        out.append(f"<tr><td><code>{_e(fn.get('name'))}</code></td><td>{_status(fn)}</td>"
                   f"<td class=\"num\">{_e(_float(fn.get('worst_rel_error')))}</td>"
                   f"<td class=\"num\">{_e(tol_text)}</td><td>{_what(fn)}</td></tr>")
    out.append("</tbody></table>")
    if hidden:
        out.append(f"<p class=\"meta\">{hidden} catalogue function(s) not defined by the "
                   "target are not listed.</p>")

    failing = [fn for fn in functions if fn.get("status") in _FAILING]
    if failing:
        out.append("<h4>Failures</h4><p class=\"meta\">Each failing function's first failed "
                   "check; <code>via</code> lines fail only through these.</p>")
        for fn in failing:
            first = _first_finding(fn)
            if first is None:
                continue
            out.append(f"<p><code>{_e(fn.get('name'))}</code>: {_e(first.get('status'))} in "
                       f"check <code>{_e(first.get('check'))}</code>, case "
                       f"<code>{_e(first.get('case'))}</code>, {_e(first.get('dtype'))}</p>")
            out.append(f"<pre>{_e(first.get('message'))}</pre>")
            if first.get("repro"):
                out.append(f"<p>Repro:</p><pre>{_e(first['repro'])}</pre>")

    notes = [_e(n) for n in report_json.get("notes") or []]
    notes += [f"<code>{_e(fn.get('name'))}</code>: {_e(n)}" for fn in functions
              if fn.get("status") != "untested" for n in fn.get("notes") or []]
    if notes:
        out.append("<h4>Notes (not failures)</h4><ul>")
        out += [f"<li>{n}</li>" for n in notes]
        out.append("</ul>")

    counts = report_json.get("summary") or {}
    parts = [f"{_e(v)} {_e(k)}" for k, v in counts.items() if v]
    verdict = {0: "matches the reference", 1: "does NOT match the reference",
               2: "nothing was checked"}.get(report_json.get("exit_status"), "")
    out.append(f"<p><b>Summary:</b> {', '.join(parts)}"
               + (f" &mdash; {_e(verdict)}" if verdict else "") + "</p></div>")
    return "\n".join(out)
