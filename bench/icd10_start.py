"""First ICD-10-CM lookup in a fresh process: Handbill's index against the package itself.

    .venv/bin/python bench/icd10_start.py [--runs 5] [--cache-dir DIR]

Each variant runs in a new interpreter, started from a small wrapper process so that
``getrusage(RUSAGE_CHILDREN)`` in the wrapper reports that one interpreter's peak RSS. Prints
wall time (median and best of the runs) and peak RSS for: a bare interpreter, Handbill's first
lookup (index already built), and ``import simple_icd_10_cm`` plus the same lookups; then the
ratios. A measurement, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CODES = ["M54.50", "S13.4XXA", "M54.5"]

VARIANTS = {
    "python (bare interpreter)": "pass",
    "handbill icd10.lookup": (
        "from handbill.core.codes.icd10 import lookup\n"
        f"answers = [lookup(c) for c in {CODES!r}]\n"
        "assert answers[0].billable and answers[1].billable and not answers[2].billable\n"
        "import sys; assert 'simple_icd_10_cm' not in sys.modules\n"
    ),
    "simple_icd_10_cm import": (
        "import simple_icd_10_cm as cm\n"
        f"answers = [cm.is_category_or_subcategory(c) and cm.is_leaf(c) for c in {CODES!r}]\n"
        "assert answers == [True, True, False]\n"
    ),
}

# Runs one child and reports its wall time and peak RSS (kilobytes on Linux).
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "rss_kb": peak}))
"""


def measure(code: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, code], check=True, capture_output=True, text=True,
        env=env,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()

    from handbill.core.codes import icd10_index

    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="handbill-icd10-bench-"))
    env = dict(os.environ, HANDBILL_VAR_DIR=str(cache_dir))
    if icd10_index.index_is_current(cache_dir):
        print(f"index: already built in {cache_dir}")
    else:
        # The build itself, measured the same way: a fresh interpreter, its own peak RSS.
        build = measure(
            "from handbill.core.codes.icd10_index import build_index\n"
            f"build_index(cache_dir=__import__('pathlib').Path({str(cache_dir)!r}))\n",
            env,
        )
        print(f"index build: {build['wall']:.2f} s wall, peak RSS {build['rss_kb'] / 1024:.0f} MB")
    for path in sorted(cache_dir.glob("icd10cm-*.sqlite3")):
        print(f"index file: {path.name}, {path.stat().st_size / 1e6:.2f} MB")

    results: dict[str, tuple[float, float, float]] = {}
    for name, code in VARIANTS.items():
        runs = [measure(code, env) for _ in range(args.runs)]
        walls = [r["wall"] for r in runs]
        rss = max(r["rss_kb"] for r in runs) / 1024
        results[name] = (statistics.median(walls), min(walls), rss)
        print(
            f"{name:28s} median {statistics.median(walls) * 1000:7.1f} ms   "
            f"best {min(walls) * 1000:7.1f} ms   peak RSS {rss:6.1f} MB"
        )
    ours = results["handbill icd10.lookup"]
    theirs = results["simple_icd_10_cm import"]
    print(
        f"ratio (package / handbill): time {theirs[0] / ours[0]:.1f}x, "
        f"memory {theirs[2] / ours[2]:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
