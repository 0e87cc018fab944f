"""Run the benchmarks on demand: `make bench` (or `python -m bench [load|browser|analysis|apptest]`).

Each benchmark runs its baseline in the same process run and reports ratios of medians, so the
numbers compare like with like on whatever machine runs them. Results are recorded in README.md.
"""

import importlib
import json
import sys

BENCHES = {
    "load": "bench.bench_load",
    "browser": "bench.bench_browser",
    "analysis": "bench.bench_analysis",
    "engine": "bench.bench_engine",
    "apptest": "bench.bench_dashboard",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    results = {}
    for name in names:
        if name not in BENCHES:
            print(f"Unknown benchmark {name!r}; choose from {', '.join(BENCHES)}.", file=sys.stderr)
            return 2
        try:
            mod = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as e:
            print(f"{name}: not available ({e})", file=sys.stderr)
            continue
        print(f"== {name}")
        results[name] = mod.main()
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
