"""The engine: run registry records on an implementation and compare with the reference.

For each case, the protocol's observation stream (``protocols.py``) is run on the
reference (plain calls, float64, on the case's values in the dtype under test) and on the
implementation (guarded calls, ``calls.py``), and compared observation by observation:
type, shape, dtype, then values within the one tolerance table. The findings per function
and case, the cases where a function's output failed or passed only loosely, and the
calls each function made feed the attribution (``attribution.py``).

Used by the oracle (``run.py``: one record per request; the target's functions may be
proxies into the target's own process, ``isolation.py``) and by the parity suite, which
holds dlparity's own torch/TF twins to the reference through :func:`check_case` and
:func:`bad_input_problems`, exactly as it holds a third party.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dlparity.reference as ref

from .attribution import is_own_kind, is_state_check
from .calls import (
    Calls,
    Failure,
    Session,
    describe,
    observe_calls,
    param_names,
    short,
    timeouts_available,
)
from .compare import compare_array
from .protocols import Obs
from .registry import RECORDS, Case, OpRecord
from .report import ERROR, FAIL, NOTE, PASS, Finding
from .statistics import compare_draw
from .tolerances import Tol, tolerance

__all__ = ["Checker", "Collected", "bad_input_problems", "check_case", "run_record_job"]

# Checks whose failure is an "error" (the target cannot be compared) rather than a "FAIL".
ERROR_KINDS = ("raised", "timeout", "return type", "oracle", "crashed", "borrowed")

#: A passing output whose error exceeds this fraction of the tolerance matched only loosely.
NEAR_MISS = 0.01


def near_miss(err: float, tol: Tol, dtype: np.dtype) -> bool:
    """Whether an output that passed did so only loosely: its error is above NEAR_MISS of
    the tolerance, in a dtype whose tolerance leaves that room above rounding (float64:
    1e-10 against an eps of 2e-16; float32's 2e-5 is only ~170 eps, and a correct float32
    output may use 1 % of it)."""
    room = tol.rtol / float(np.finfo(dtype).eps)
    return room >= 1e4 and err > NEAR_MISS * tol.rtol


_REFERENCE_CACHE: dict[tuple, tuple[list[Obs], list[dict[str, np.dtype | None]], Any]] = {}


class Checker:
    """Runs records on one implementation in one dtype; collects findings per function."""

    def __init__(self, target: Any, dtype: str, seed: int = 0, steps: int | None = None,
                 timeout: float = 20.0, strict_state: bool = False):
        self.target = target
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.steps = steps
        self.session = Session(timeout)
        self.session.strict_state = strict_state
        self.findings: dict[str, list[Finding]] = {}
        self.worst: dict[str, float] = {}
        self.cases: dict[str, dict[str, str]] = {}
        self.tols: dict[str, Tol] = {}
        # function -> cases where its OUTPUT failed (not only the state it stores): a
        # backward failing in such a case may be explained by its forward (attribution).
        self.output_failed: dict[str, set[str]] = {}
        # function -> cases where its output passed, but loosely: see near_miss.
        self.near_miss: dict[str, set[str]] = {}

    # -------------------------------------------------------------- the reference

    def _reference(self, record: OpRecord, case: Case):
        """The reference's observations in float64 on the target-dtype values, the expected
        output dtypes (from a run in the target dtype), and the upstream gradient."""
        key = (id(record), case.name, self.dtype.name, self.seed, self.steps,
               self.target.framework)
        if key not in _REFERENCE_CACHE:
            with np.errstate(all="ignore"):  # whatever a target set globally at import
                _REFERENCE_CACHE[key] = self._run_reference(record, case)
        return _REFERENCE_CACHE[key]

    def _run_reference(self, record: OpRecord, case: Case) -> tuple:
        want, args, dout = record.reference(case, self.dtype, self.seed, self.steps,
                                            self.target.framework)
        typed = want
        if self.dtype != np.float64:  # the output dtypes of a run in the target dtype
            typed = list(record.observe(Calls(ref, None), case, args, lambda out: dout,
                                        self.seed))
        dtypes = [{k: (np.asarray(v).dtype if kind_of(v) == "array"
                       and np.asarray(v).dtype.kind == "f" else None)
                   for k, v in outs.items()} for _, outs in typed]
        return want, dtypes, dout

    # -------------------------------------------------------------- running a case

    def _find(self, failure: Failure, case: Case) -> None:
        if case.beyond:  # beyond SPEC.md's contract: a note, never a failure
            self.session.note(failure.owner, f"beyond SPEC.md's contract, case {case.name!r} "
                              f"({case.beyond}): {failure.kind}: {short(failure.message, 160)}")
            self.cases.setdefault(failure.owner, {})[case.name] = NOTE
            return
        if not is_state_check(failure.kind):
            self.output_failed.setdefault(failure.owner, set()).add(case.name)
        status = ERROR if failure.kind in ERROR_KINDS else FAIL
        self.cases.setdefault(failure.owner, {})[case.name] = status
        found = self.findings.setdefault(failure.owner, [])
        earlier = [f.check for f in found if f.case == case.name]
        if earlier and (earlier != ["mutation"] or failure.kind == "mutation"):
            return  # the first failed check of a case is the informative one (after a write
            #         into an input, the first check of the call's result too)
        found.append(Finding(failure.owner, failure.kind, case.name, failure.message,
                             failure.rel_error, status, raised_in=failure.raised_in))

    def _passed(self, owner: str, case: Case, err: float) -> None:
        self.worst[owner] = max(self.worst.get(owner, 0.0), err)
        self.cases.setdefault(owner, {}).setdefault(case.name, PASS)

    def run_case(self, record: OpRecord, case: Case) -> None:
        self.session.case = case.name
        if record.protocol == "random":  # initialisers: statistics, no tolerance entry
            self._run_random(record, case)
            return
        for name in record.functions:
            self.tols[name] = tolerance(record.name, self.dtype.name)
        try:
            want, dtypes, dout = self._reference(record, case)
        except Exception as exc:  # noqa: BLE001 -- an in-process twin that patched NumPy
            self._find(Failure(record.name, "oracle", f"the reference itself failed on this "
                               f"case ({type(exc).__name__}: {short(str(exc))})"), case)
            return
        tol = tolerance(record.name, self.dtype.name, case.name)
        calls = Calls(self.target, self.session)
        args = record.inputs(case, self.dtype, self.seed, self.steps, self.target.framework)
        stream = record.observe(calls, case, args, lambda out: dout.astype(self.dtype),
                                self.seed)
        index = 0
        self.session.pending = []
        try:
            for owner, outs in stream:
                self._flush(case)  # a write into an input, then the values of the same call
                if index >= len(want):
                    raise Failure(owner, "oracle", "more observations than the reference")
                w_owner, w_outs = want[index]
                expected_dtypes = dtypes[index]
                index += 1
                if owner != w_owner:
                    raise Failure(owner, "oracle", f"observed {owner}, expected {w_owner}")
                self._compare_outputs(owner, case, outs, w_outs, expected_dtypes, tol, record)
        except Failure as failure:
            self._flush(case)
            self._find(failure, case)
        except Exception as exc:  # noqa: BLE001 -- never crash on a strange target
            self._flush(case)
            self._find(Failure(record.name, "oracle", f"could not be checked: "
                               f"{type(exc).__name__}: {short(str(exc))}"), case)
        finally:
            self._flush(case)
            self.session.pending = None

    def _flush(self, case: Case) -> None:
        """Record the writes into inputs that the calls so far collected."""
        pending = self.session.pending or []
        while pending:
            self._find(pending.pop(0), case)

    def _compare_outputs(self, owner: str, case: Case, got: Any, want: dict[str, Any],
                         dtypes: dict[str, np.dtype | None], tol: Tol,
                         record: OpRecord) -> None:
        if not isinstance(got, dict) or set(got) != set(want):
            shape = (short(", ".join(sorted(got)), 80) if isinstance(got, dict)
                     else describe(got))
            raise Failure(owner, "return type", f"{owner} returned the outputs {shape}; the "
                           f"reference returns {', '.join(sorted(want))} (see "
                           "registry.flatten: out, out0, out0.1, ...)")
        if record.align is not None:
            got = record.align(got, want)
        worst = 0.0
        failure = None
        for label, ref_value in want.items():
            f, err = compare_one(owner, label, got[label], ref_value, dtypes.get(label), tol)
            if f is not None:
                if f.kind == "return type":
                    raise f
                # a shape or dtype failure is reported before a value failure: it is
                # always the function's own (attribution), a value may be inherited
                if failure is None or (is_own_kind(f.kind) and not is_own_kind(failure.kind)):
                    failure = f
                continue
            if math.isfinite(err) and err <= tol.rtol:  # not an output passing on atol only
                worst = max(worst, err)
        if failure is not None:
            self._find(failure, case)  # a value mismatch: later observations still run
        else:
            self._passed(owner, case, worst)
            outputs = [label for label in want if not is_state_check(label)]
            if outputs and near_miss(worst, tol, self.dtype):
                self.near_miss.setdefault(owner, set()).add(case.name)

    def _run_random(self, record: OpRecord, case: Case) -> None:
        name = record.name
        key = (id(record), case.name, "random", self.seed)
        if key not in _REFERENCE_CACHE:
            _REFERENCE_CACHE[key] = ([], [], getattr(ref, name)(*record.args(case,
                                                                              self.seed)))
        want = _REFERENCE_CACHE[key][2]
        args = record.args(case, self.seed)
        rng = next((a for a in args if isinstance(a, np.random.Generator)), None)
        state = copy.deepcopy(rng.bit_generator.state) if rng is not None else None
        calls = Calls(self.target, self.session)
        try:
            got = calls(name, calls.fn(name), *args, watch=[])
        except Failure as failure:
            self._find(failure, case)
            return
        if rng is not None and rng.bit_generator.state == state:
            self.session.note(name, f"did not draw from the given rng [{case.name}]: "
                                    "results are not reproducible from a seed")
        if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.dtype != want.dtype:
            self.session.note(name, f"returns {got.dtype}; the reference returns {want.dtype}")
        failure, err = statistics(name, got, want)
        if failure is not None:
            self._find(failure, case)
        else:
            self._passed(name, case, err)

    def probe_bad_inputs(self, record: OpRecord) -> None:
        """SPEC's errors on bad input, as NOTES: where the reference raises, does the target
        raise the same exception class?"""
        case = next((c for c in record.cases if c.oracle), None)
        if case is None or record.protocol not in ("layer", "loss", "value", "optimizer"):
            return
        name = record.name
        base = record.args(case, self.seed, self.steps, np.float64)
        if record.protocol == "optimizer":
            base = (base[0], base[1][0], dict(base[2], learning_rate=0.1))
        for what, args in bad_inputs(name, base):
            try:
                getattr(ref, name)(*copy.deepcopy(args))
                continue  # the reference accepts it: not a bad input after all
            except (ValueError, TypeError) as exc:
                expected = ValueError if isinstance(exc, ValueError) else TypeError
            except Exception:  # noqa: BLE001
                continue
            calls = Calls(self.target, self.session)
            self.session.case = f"bad input: {what}"
            self.session.collect_warnings = False
            try:
                calls(name, calls.fn(name), *copy.deepcopy(args), watch=[])
            except Failure as failure:
                if failure.exc_type is not None and issubclass(failure.exc_type, expected):
                    continue
                got = (f"raised {failure.exc_type.__name__}" if failure.exc_type
                       else failure.kind)
                self.session.bad_input.setdefault(name, []).append(
                    f"{what}: {got}, SPEC.md asks for a {expected.__name__}")
                continue
            finally:
                self.session.collect_warnings = True
            self.session.bad_input.setdefault(name, []).append(
                f"{what}: accepted, SPEC.md asks for a {expected.__name__}")


def bad_inputs(name: str, args: tuple) -> list[tuple[str, tuple]]:
    """A few inputs SPEC.md calls bad, derived from a valid call."""
    out: list[tuple[str, tuple]] = []
    params = param_names(name)
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    if arrays:
        i = arrays[0]
        out.append((f"{params[i] if i < len(params) else 'x'} given as a nested list",
                    args[:i] + (args[i].tolist(),) + args[i + 1:]))
        if args[i].ndim >= 1:
            out.append((f"{params[i] if i < len(params) else 'x'} with integer dtype",
                        args[:i] + (args[i].astype(np.int64),) + args[i + 1:]))
    if len(arrays) >= 2 and args[arrays[1]].ndim >= 1 and args[arrays[1]].shape[-1] > 1:
        j = arrays[1]
        out.append((f"{params[j] if j < len(params) else 'argument'} of a mismatched shape",
                    args[:j] + (args[j][..., :-1],) + args[j + 1:]))
    for j, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype.kind == "i" and j > 0 and arrays:
            bad = a.copy()
            bad[0] = args[arrays[0]].shape[-1]
            out.append(("a label out of range", args[:j] + (bad,) + args[j + 1:]))
        if isinstance(a, dict) and "p" in a:
            out.append(("dropout p = 1", args[:j] + ({**a, "p": 1.0},) + args[j + 1:]))
        if isinstance(a, dict) and "mode" in a:
            out.append(("an unknown mode", args[:j] + ({**a, "mode": "bogus"},) + args[j + 1:]))
        if isinstance(a, dict) and "learning_rate" in a:
            out.append(("a negative learning rate",
                        args[:j] + ({**a, "learning_rate": -1.0},) + args[j + 1:]))
    return out


# ============================================================================ comparison




def kind_of(value: Any) -> str | None:
    """'array' for NumPy arrays/scalars, 'number' for Python numbers, None otherwise."""
    if isinstance(value, np.ndarray | np.generic):
        return "array"
    if isinstance(value, bool | int | float):
        return "number"
    return None


def compare_one(owner: str, label: str, got: Any, want: Any, want_dtype: np.dtype | None,
             tol: Tol) -> tuple[Failure | None, float]:
    """One output against the reference: type, shape, dtype, then values."""
    kind = kind_of(got)
    if kind is None or (kind == "array" and np.asarray(got).dtype.kind not in "biuf"):
        return Failure(owner, "return type", f"{label}: expected a NumPy array or number, "
                        f"received {describe(got)}"), np.inf
    if isinstance(want, np.ndarray) and want.ndim > 0 and not isinstance(got, np.ndarray):
        return Failure(owner, "return type", f"{label}: expected a NumPy array, received "
                        f"{describe(got)}"), np.inf
    got_arr, want_arr = np.asarray(got), np.asarray(want)
    if got_arr.shape != want_arr.shape:
        return Failure(owner, f"shape: {label}", f"{label} has shape {got_arr.shape}; the "
                        f"reference's is {want_arr.shape}"), np.inf
    if want_dtype is not None and got_arr.dtype != want_dtype:
        return Failure(owner, f"dtype: {label}", f"{label} has dtype {got_arr.dtype}; "
                        f"expected {want_dtype} (output dtype follows input dtype)"), np.inf
    mismatch, err = compare_array(label, got_arr, want_arr, tol, check_dtype=False)
    if mismatch is None:
        return None, err
    a64 = got_arr.astype(np.float64)
    nonfinite = bool(np.any(~np.isfinite(a64) & np.isfinite(want_arr.astype(np.float64))))
    check = f"non-finite: {label}" if nonfinite else label
    return Failure(owner, check, str(mismatch), err), err


def statistics(owner: str, got: Any, want: np.ndarray) -> tuple[Failure | None, float]:
    """An initialiser's draw against the reference's (``statistics.compare_draw``, the one
    check the parity suite uses too)."""
    mismatch, err = compare_draw(got, want)
    if mismatch is None:
        return None, err
    return Failure(owner, mismatch.check, mismatch.message, mismatch.rel_error), err


# ============================================================================ one record




def run_record_job(target: Any, record_index: int, options: dict[str, Any],
                   progress: Callable[[str, str], None] | None) -> dict[str, Any]:
    """Run registry record ``RECORDS[record_index]`` on a loaded ``target``: every case
    the oracle runs and the bad-input probes. Returns the findings as
    plain data (merged by ``Collected.add``)."""
    record = RECORDS[record_index]
    checker = Checker(target, options["dtype"], options["seed"], options["steps"],
                       options["timeout"])
    session = checker.session
    session.progress = progress
    session.skip = set(options.get("skip", ()))
    if record.name in session.skip:
        return Collected().as_part()
    with session.alarms(), observe_calls(target, session) as observable:
        for case in record.cases:
            if case.oracle:
                checker.run_case(record, case)
        if options["probes"]:
            checker.probe_bad_inputs(record)
    remote = getattr(target, "remote", False)  # timed in its own process and from here
    return Collected(checker.findings, checker.cases, checker.worst, checker.tols,
                     session.notes, session.bad_input, session.observed,
                     checker.output_failed, checker.near_miss, observable,
                     remote or timeouts_available(), session.borrowed).as_part()


@dataclass
class Collected:
    """The merged results of every record run for one dtype."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    cases: dict[str, dict[str, str]] = field(default_factory=dict)
    worst: dict[str, float] = field(default_factory=dict)
    tols: dict[str, Tol] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    bad_input: dict[str, list[str]] = field(default_factory=dict)
    observed: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    output_failed: dict[str, set[str]] = field(default_factory=dict)
    near_miss: dict[str, set[str]] = field(default_factory=dict)
    observable: int = 0
    timeouts: bool = True
    borrowed: dict[str, set[str]] = field(default_factory=dict)  # name -> dlparity's

    def add(self, part: dict[str, Any]) -> None:
        for name, found in part["findings"].items():
            self.findings.setdefault(name, []).extend(found)
        for name, cases in part["cases"].items():
            self.cases.setdefault(name, {}).update(cases)
        for name, err in part["worst"].items():
            self.worst[name] = max(self.worst.get(name, 0.0), err)
        self.tols.update(part["tols"])
        for name, notes in part["notes"].items():
            mine = self.notes.setdefault(name, [])
            mine += [n for n in notes if n not in mine]
        for name, bad in part["bad_input"].items():
            self.bad_input.setdefault(name, []).extend(bad)
        for key in ("observed", "output_failed", "near_miss", "borrowed"):
            for name, names in part[key].items():
                getattr(self, key).setdefault(name, set()).update(names)
        self.observable = max(self.observable, part["observable"])
        self.timeouts = self.timeouts and part["timeouts"]

    def as_part(self) -> dict[str, Any]:
        """As plain data, what :func:`run_record_job` returns (and :meth:`add` takes)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def crashed(self, record: OpRecord, crash: Any) -> str:
        """The record's run died (isolation.Crash): an error for the function running."""
        owner = crash.owner if crash.owner in record.functions else record.name
        case = crash.case or "(loading)"
        self.findings.setdefault(owner, []).append(
            Finding(owner, crash.kind, case, crash.message, None, ERROR))
        self.cases.setdefault(owner, {})[case] = ERROR
        self.output_failed.setdefault(owner, set()).add(case)
        return owner


# ============================================================================ the parity suite


def check_case(target: Any, record: OpRecord, case: Case, dtype: str, *, seed: int = 0,
               steps: int | None = None, timeout: float = 600.0) -> tuple[list[Finding], dict]:
    """Run one registry case on ``target`` exactly as the oracle does, holding dlparity's
    own implementations to more than a third party owes: a case beyond the contract is a
    failure too, and optimizer state arrays must be replaced, never written in place.
    Returns (the findings, the notes by function)."""
    plain = dataclasses.replace(case, beyond="")  # held to it: a failure, not a note
    checker = Checker(target, dtype, seed, steps, timeout, strict_state=True)
    with checker.session.alarms():
        checker.run_case(record, plain)
    found = [f for name in record.functions for f in checker.findings.get(name, [])]
    return found, checker.session.notes


def bad_input_problems(target: Any, record: OpRecord) -> list[str]:
    """The bad inputs where ``target`` does not raise SPEC.md's ValueError/TypeError (the
    oracle's probes; for dlparity's own implementations a failure, not a note)."""
    checker = Checker(target, "float64")
    checker.probe_bad_inputs(record)
    return [f"{name}: {p}" for name, problems in checker.session.bad_input.items()
            for p in problems]
