"""Every benchmark, one table (issue #10): each figure beside the baseline measured in the same run.

    python -m bench.all [--quick] [--skip stats] [--only checkout,webhook] [--<part>-args "..."]

Runs, one after the other and each in a process of its own, `bench.catalogue` (the catalogue
list against its raw-SQL floor), `bench.checkout` (orders/s without contention and for a crowd
on the last units), `bench.webhook` (Stripe webhook acknowledgement against a plain-WSGI
floor), `bench.photos` (a phone photo's processing against plain Pillow) and `bench.stats`
(the sales rollups against raw SQL, stats API and dashboard latency at 10 thousand and 1
million order lines: about 13 minutes on 2 CPUs). Each writes var/bench/<part>.json; this one
reads them back and prints the machine, then one Markdown table (measure | figure | baseline |
ratio | goal; the ratio is figure / baseline), and writes var/bench/all.json. A part that fails
shows as FAILED and makes the exit status non-zero; the others still report.

`--quick` shortens every part (a smoke run: figures are not comparable with a full run's);
`--<part>-args` passes options to one part (`--stats-args "--sizes 10000"`); `--report` runs
nothing and prints the table of the parts' last results (after `make bench-stats`, say), with
the machine the first of them ran on.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench import harness

PARTS = ["catalogue", "checkout", "webhook", "photos", "stats"]
QUICK = {
    "catalogue": ["--seconds", "5", "--warmup", "1"],
    "checkout": ["--buyers", "100", "--warmup", "16"],
    "webhook": ["--requests", "300", "--warmup", "20"],
    "photos": ["--images", "2", "--rounds", "1"],
    "stats": ["--sizes", "10000", "--requests", "10", "--page-requests", "5", "--warmup", "2"],
}
#: Goals set in the issues; "–" where none was set.
GOALS = {
    "stats_p95": "< 200 ms, ≤ 1.5× the smallest size's",
    "crowd": "exactly the stock sold, the rest 409",
}


def results_folder() -> Path:
    return Path(os.environ.get("VAR_DIR") or harness.ROOT / "var") / "bench"


def run_part(name: str, extra: list[str]) -> tuple[dict | None, str | None, float]:
    """Run `python -m bench.<name>`; return its fresh JSON (or None) and why it failed (or None)."""
    target = results_folder() / f"{name}.json"
    began = time.time()
    print(f"\n=== bench.{name} {' '.join(extra)}".rstrip(), flush=True)
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=harness.ROOT)
    seconds = time.time() - began
    data = None
    if target.exists() and target.stat().st_mtime >= began:
        data = json.loads(target.read_text())
    if done.returncode != 0:
        reason = (data or {}).get("failed") or f"exit status {done.returncode}"
        return data, reason, seconds
    if data is None:
        return None, f"no fresh {target.name}", seconds
    return data, None, seconds


def last_results(name: str) -> tuple[dict | None, str | None, float]:
    """Return a part's last JSON, as `run_part` would have (for --report)."""
    target = results_folder() / f"{name}.json"
    if not target.exists():
        return None, f"no {target.name}: run it first", 0.0
    data = json.loads(target.read_text())
    return data, data.get("failed"), 0.0


# --- Rows -------------------------------------------------------------------------------------


def _n(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(figure, baseline, digits: int = 2) -> str:
    if figure is None or not baseline:
        return "–"
    return f"{figure / baseline:.{digits}f}"


def _versus(label: str, figure, baseline, goal: str = "–") -> list[str]:
    """A row: the figure, its baseline measured in the same run, their ratio, the goal."""
    return [label, _n(figure), _n(baseline), _ratio(figure, baseline), goal]


def catalogue_rows(data: dict) -> list[list[str]]:
    app, floor = data["app"], data["floor"]
    listings = data.get("seed", {}).get("listings_active")
    where = f"{data['options']['concurrency']} in flight" + (f", {listings:,} listings" if listings else "")
    return [
        _versus(
            f"Catalogue `GET /api/v1/products/?page_size=50`, requests/s ({where}); baseline: raw-SQL floor",
            app["rate"],
            floor["rate"],
        ),
        _versus("Catalogue p99 ms; baseline: raw-SQL floor", app["p99_ms"], floor["p99_ms"]),
    ]


def checkout_rows(data: dict) -> list[list[str]]:
    plain, crowd = data["plain"], data["crowd"]
    units, buyers = data["options"]["units"], data["options"]["crowd"]
    # The last order's answer (all start together); up to 100 orders the nearest-rank p99 is the last.
    sold_out = crowd.get("sold_out_after_s") or crowd["p99_ms_placed"] / 1000
    until_sold_out = units / sold_out
    return [
        [
            f"Checkout API, cash on delivery, no contention: orders/s ({plain['concurrency']} in flight, "
            f"{plain['requests']:,} orders)",
            _n(plain["orders_per_second"]),
            "–",
            "–",
            "–",
        ],
        [
            "Checkout, no contention: p50 / p99 ms",
            f"{_n(plain['p50_ms'])} / {_n(plain['p99_ms'])}",
            "–",
            "–",
            "–",
        ],
        [
            f"Checkout, {buyers} buyers at once for {units} units: orders/s until sold out "
            f"({units} orders in {sold_out:.2f} s); baseline: no contention",
            _n(until_sold_out),
            _n(plain["orders_per_second"]),
            _ratio(until_sold_out, plain["orders_per_second"]),
            "–",
        ],
        [
            "Checkout, the crowd: answers/s (orders and refusals); baseline: no contention",
            _n(crowd["rate"]),
            _n(plain["rate"]),
            _ratio(crowd["rate"], plain["rate"]),
            "–",
        ],
        [
            "Checkout, the crowd: p50 / p99 ms of all answers; baseline: no contention",
            f"{_n(crowd['p50_ms'])} / {_n(crowd['p99_ms'])}",
            f"{_n(plain['p50_ms'])} / {_n(plain['p99_ms'])}",
            f"{_ratio(crowd['p50_ms'], plain['p50_ms'])} / {_ratio(crowd['p99_ms'], plain['p99_ms'])}",
            "–",
        ],
        [
            "Checkout, the crowd: orders placed, refused (409), stock left",
            f"{crowd['orders']}, {crowd['refused']}, {crowd['stock_left']}",
            f"{units}, {buyers - units}, 0",
            "",
            GOALS["crowd"],
        ],
    ]


def webhook_rows(data: dict) -> list[list[str]]:
    app, floor = data["app"], data["floor"]
    return [
        _versus(
            f"Stripe webhook acknowledgement p95 ms ({data['options']['concurrency']} in flight); "
            "baseline: plain-WSGI floor",
            app["p95_ms"],
            floor["p95_ms"],
        ),
        _versus("Stripe webhook acknowledgements/s; baseline: plain-WSGI floor", app["rate"], floor["rate"]),
    ]


def photos_rows(data: dict) -> list[list[str]]:
    options, app, plain = data["options"], data["app"], data["pillow"]
    sizes = ", ".join(f"{side}" for side in data["image_sizes"].values())
    return [
        [
            f"Photo processing, ms per {options['width']}×{options['height']} photo (original "
            f"≤{data['original_max_side']} px JPEG, {sizes} px WebP); baseline: plain Pillow",
            _n(app["median_ms"]),
            _n(plain["median_ms"]),
            _ratio(app["median_ms"], plain["median_ms"]),
            "–",
        ]
    ]


def _size(lines: int) -> str:
    if lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}M"
    return f"{lines // 1000}k" if lines % 1000 == 0 else f"{lines:,}"


def stats_rows(data: dict) -> list[list[str]]:
    runs = data["runs"]
    rows = []
    for run in runs:
        app, raw = run["rebuild"], run["raw"]
        rows.append(
            [
                f"Sales rollups rebuild s @{_size(run['lines'])} order lines; baseline: raw SQL of the facts",
                _n(app["seconds"], 2),
                _n(raw["seconds"], 2),
                _ratio(app["seconds"], raw["seconds"]),
                "–",
            ]
        )
    first, last = runs[0], runs[-1]
    for kind, prefix in (("stats API", "API"), ("dashboard", "dashboard")):
        labels = [label for label in last["latency"] if label.startswith(prefix)]
        if not labels:
            continue
        worst = max(labels, key=lambda label: last["latency"][label]["p95_ms"])
        figure = last["latency"][worst]["p95_ms"]
        baseline = first["latency"].get(worst, {}).get("p95_ms") if len(runs) > 1 else None
        rows.append(
            [
                f"Sales {kind}, slowest p95 ms @{_size(last['lines'])} ({worst.removeprefix(prefix).strip()})"
                + (f"; baseline: @{_size(first['lines'])}" if baseline else ""),
                _n(figure),
                _n(baseline),
                _ratio(figure, baseline),
                GOALS["stats_p95"],
            ]
        )
    return rows


ROWS = {
    "catalogue": catalogue_rows,
    "checkout": checkout_rows,
    "webhook": webhook_rows,
    "photos": photos_rows,
    "stats": stats_rows,
}
HEADER = ["measure", "figure", "baseline", "ratio", "goal"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorten every part (a smoke run)")
    parser.add_argument("--skip", default="", help=f"parts to leave out, comma-separated ({','.join(PARTS)})")
    parser.add_argument("--only", default="", help="run only these parts, comma-separated")
    parser.add_argument(
        "--report", action="store_true", help="run nothing: make the table of the parts' last results"
    )
    for part in PARTS:
        parser.add_argument(f"--{part}-args", default="", metavar="ARGS", help=f"options for bench.{part}")
    args = parser.parse_args(argv)
    chosen = [p for p in args.only.split(",") if p] or PARTS
    skipped = {p for p in args.skip.split(",") if p}
    unknown = (set(chosen) | skipped) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
    parts = [p for p in PARTS if p in chosen and p not in skipped]

    url = os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL
    info = None if args.report else harness.checked_machine(url, workers=harness.default_workers())
    if info is None and not args.report:
        return 2
    began = time.time()
    rows, outcomes = [], {}
    for part in parts:
        extra = (QUICK[part] if args.quick else []) + shlex.split(getattr(args, f"{part}_args"))
        if args.report:
            data, failure, seconds = last_results(part)
            info = info or (data or {}).get("machine")
        else:
            data, failure, seconds = run_part(part, extra)
        outcomes[part] = {"seconds": round(seconds, 1), "failed": failure, "args": extra}
        if failure:
            rows.append([f"bench.{part}", "**FAILED**", "", "", failure[:200].replace("|", "/")])
            continue
        rows.extend(ROWS[part](data))

    table = harness.markdown_table(HEADER, rows)
    print()
    if info:
        print(f"Machine: {harness.machine_line(info)}.")
    if args.report:
        print("From the last results in " + os.path.relpath(results_folder(), harness.ROOT) + ".")
    else:
        took = ", ".join(f"{part} ({outcomes[part]['seconds']:.0f} s)" for part in parts)
        print(
            f"Parts: {took}"
            + ("; --quick (smoke run, not comparable)" if args.quick else "")
            + f"; {time.strftime('%Y-%m-%d %H:%M', time.localtime(began))}."
        )
    print()
    print(table)
    if args.report:
        return 1 if any(o["failed"] for o in outcomes.values()) else 0
    target = harness.write_results(
        "all",
        {
            "benchmark": "all",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(began)),
            "machine": info,
            "machine_line": harness.machine_line(info) if info else None,
            "quick": args.quick,
            "parts": outcomes,
            "rows": rows,
            "table": table,
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    return 1 if any(o["failed"] for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
