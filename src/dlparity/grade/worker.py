"""One submission's check, in a process of its own: ``python -m dlparity.grade.worker``.

``dlparity grade`` starts one of these per submission (in a session of its own, so that a
wall-clock limit kills it and everything it started). It calls ``dlparity.check`` (which runs
the target in a further child with the time and memory limits of ``dlparity check``) and
writes the outcome as JSON: ``{"outcome": "checked", "report": ...}`` or
``{"outcome": "import error", "reason": ...}``. Anything else it raises is the oracle's
failure: printed to stderr, no file written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m dlparity.grade.worker TARGET OUT.json OPTIONS_JSON",
              file=sys.stderr)
        return 2
    target, out, options = argv[0], Path(argv[1]), json.loads(argv[2])
    import dlparity
    from dlparity.oracle import TargetError

    try:
        report = dlparity.check(target, **options)
        result = {"outcome": "checked", "report": report.to_json(), "reason": ""}
    except TargetError as exc:
        result = {"outcome": "import error", "reason": str(exc), "report": None}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
