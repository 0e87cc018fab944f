"""Regenerate README.md's engine table from the JSON `python -m bench engine` prints (issue 14: "the README
table is regenerated from it").

    python -m bench engine > engine.txt  &&  python -m bench.readme_table engine.txt
    python -m bench.bench_engine 20000000 >> engine.txt && python -m bench.readme_table engine.txt

The text may hold the per-size lines bench_engine prints, `python -m bench`'s final {"engine": {...}} block,
or both; a size measured twice keeps its last result. The table goes between the marker comments
<!-- bench:engine:start --> and <!-- bench:engine:end --> (nothing else in the README changes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- bench:engine:start -->", "<!-- bench:engine:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def _sizes(obj: Any) -> dict[str, dict]:
    if isinstance(obj, dict) and "engine" in obj and isinstance(obj["engine"], dict):
        obj = obj["engine"]
    if not isinstance(obj, dict):
        return {}
    return {k: v for k, v in obj.items() if k.isdigit() and isinstance(v, dict)}


def parse_results(text: str) -> dict[str, dict]:
    """{size: result} from every JSON object in the text (one-line objects and indented blocks)."""
    out: dict[str, dict] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("{"):
            if line == "{":  # an indented block: up to its closing brace at column 0
                j = next((k for k in range(i + 1, len(lines)) if lines[k].rstrip() == "}"), len(lines) - 1)
                chunk, i = "\n".join(lines[i : j + 1]), j
            else:
                chunk = line
            try:
                out.update(_sizes(json.loads(chunk)))
            except json.JSONDecodeError:
                pass
        i += 1
    return out


def _s(v: Any, unit: str = " s") -> str:
    return "–" if v is None else f"{v:,.2f}{unit}"


def engine_table(results: dict[str, dict]) -> str:
    """The markdown table, one row per size (ascending)."""
    head = (
        "| Order lines | hand query, full (CPU) | `prepare()` | `analyse()` | prepare + analyse | "
        "ratio to the hand query | `analyse()` / grouping-sets-only query | peak RSS: pipeline / hand query | "
        "counts differing (segments, pairs) | load average |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for key in sorted(results, key=int):
        r = results[key]
        pipe, hand = r.get("pipeline", {}), r.get("hand", {})
        lines = pipe.get("order_lines") or r.get("generate", {}).get("order_lines") or int(key)
        la = [r[k][0] for k in ("load_average_start", "load_average_end") if k in r]  # 1-minute averages
        load = "–".join(f"{v:.0f}" for v in la) or "–"
        failed = [
            f"{name} failed after stage '{step['failed']['last_stage']}' ({step['failed']['error'][:80]})"
            for name, step in (("generate", r.get("generate", {})), ("pipeline", pipe), ("hand query", hand))
            if isinstance(step, dict) and "failed" in step
        ]
        counts = r.get("counts")
        diff = (
            f"{counts['segments']['differences']} of {counts['segments']['rows']}, {counts['pairs']['differences']} of {counts['pairs']['rows']}"
            if counts
            else "–"
        )
        ratio = r.get("ratio_prepare_analyse_vs_hand_full")
        gs = r.get("ratio_analyse_vs_grouping_sets_only")
        peak = f"{_s(pipe.get('peak_rss_gb'), ' GB')} / {_s(hand.get('peak_rss_gb'), ' GB')}"
        cells = [
            f"{lines:,}",
            _s(hand.get("hand_full_cpu_s")),
            _s(pipe.get("prepare_cpu_s")),
            _s(pipe.get("analyse_cpu_s")),
            _s(pipe.get("prepare_analyse_cpu_s")),
            "–" if ratio is None else f"**{ratio:.2f}x**",
            "–" if gs is None else f"{gs:.1f}x ({_s(pipe.get('grouping_sets_only_cpu_s'))})",
            peak,
            diff,
            load,
        ]
        if failed:
            cells[-2] = "; ".join(failed)
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def update_readme(results: dict[str, dict], path: Path = README) -> str:
    """Replace the text between the markers in README.md with engine_table(results); returns the new text."""
    text = path.read_text(encoding="utf-8")
    a, b = text.find(START), text.find(END)
    if a < 0 or b < a:
        raise ValueError(f"{path} has no {START} ... {END} markers.")
    new = text[: a + len(START)] + "\n" + engine_table(results) + "\n" + text[b:]
    path.write_text(new, encoding="utf-8")
    return new


def main(argv: list[str]) -> int:
    text = Path(argv[0]).read_text(encoding="utf-8") if argv else sys.stdin.read()
    results = parse_results(text)
    if not results:
        print("No engine results found in the input.", file=sys.stderr)
        return 1
    update_readme(results)
    print(engine_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
