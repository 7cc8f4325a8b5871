"""The last table of `make bench`: every target, what this run measured, and the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import RESULTS, read_verdicts


def main() -> int:
    from tabulate import tabulate

    lines = list(read_verdicts())
    if not lines:
        print(f"no results in {RESULTS}: run the benches first (make bench)")
        return 1
    print("\nTargets, measured in this run (medians; ranges in the tables above):")
    print(tabulate([[v["bench"], v["what"], v["target"], v["measured"], v["verdict"]] for v in lines],
                   headers=["bench", "what", "target", "measured", "verdict"], tablefmt="github",
                   disable_numparse=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
