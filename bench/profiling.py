"""Where a WSGI app's time goes: cProfile over in-process requests, grouped by package.

    python -m bench.profiling marketplace.wsgi "/api/v1/products/?page_size=50" --host bench.local

Runs in its own process (the environment names the database and settings). Calls the WSGI
callable directly, no server, one request at a time: first unprofiled for the plain cost
per request, then under cProfile. Prints the self time per area (ORM, DRF, driver, ...),
the top functions, and, for a Django app, the SQL queries per request.
"""

import argparse
import cProfile
import importlib
import io
import json
import pstats
import sys
import time
from collections import defaultdict

#: (area, marker in a function's file or name), first match wins.
AREAS = [
    ("DRF serializers and fields", "rest_framework/serializers.py"),
    ("DRF serializers and fields", "rest_framework/fields.py"),
    ("DRF serializers and fields", "rest_framework/relations.py"),
    ("DRF serializers and fields", "rest_framework/utils/serializer_helpers.py"),
    ("JSON rendering", "rest_framework/renderers.py"),
    ("JSON rendering", "rest_framework/utils/encoders.py"),
    ("JSON rendering", "json/"),
    ("JSON rendering", "_json"),
    ("DRF request, views, pagination", "rest_framework/"),
    ("psycopg (driver, waiting for PostgreSQL)", "psycopg"),
    ("Django ORM: building models from rows", "django/db/models/base.py"),
    ("Django ORM: building models from rows", "django/db/models/query.py"),
    ("Django ORM: compiling SQL", "django/db/models/sql/"),
    ("Django ORM: other", "django/db/"),
    ("Django files and URLs (media URLs)", "django/core/files/"),
    ("Django files and URLs (media URLs)", "django/utils/encoding.py"),
    ("Django files and URLs (media URLs)", "urllib/parse.py"),
    ("Django files and URLs (media URLs)", "django/http/request.py"),
    ("Django dates and time zones", "django/utils/timezone.py"),
    ("Django dates and time zones", "zoneinfo"),
    ("Django dates and time zones", "datetime"),
    ("Django translation", "django/utils/translation/"),
    ("Django translation", "django/utils/functional.py"),
    ("Django request, middleware, URL routing", "django/"),
    ("app code (farms, marketplace)", "/farms/"),
    ("app code (farms, marketplace)", "/marketplace/"),
    ("bench", "/bench/"),
]


#: (phase, file suffix, function): cumulative time, the largest match (outermost call) counts.
DJANGO_PHASES = [
    ("whole request (Django's WSGI handler)", "django/core/handlers/wsgi.py", "__call__"),
    (
        "pagination: count, page query, prefetches, model instances",
        "rest_framework/pagination.py",
        "paginate_queryset",
    ),
    ("SQL sent and answered (cursor.execute)", "django/db/backends/utils.py", "_execute"),
    ("serializing to Python dicts (serializer.data)", "rest_framework/serializers.py", "data"),
    ("JSON rendering", "rest_framework/renderers.py", "render"),
]


def parse_phase(text: str) -> tuple[str, str, str]:
    """Parse `label=file/suffix.py:function`."""
    label, _, where = text.partition("=")
    filename, _, function = where.rpartition(":")
    if not (label and filename and function):
        raise argparse.ArgumentTypeError(f"expected label=path/to/file.py:function, got {text!r}")
    return label, filename, function


def area_of(filename: str, name: str) -> str:
    where = filename if filename != "~" else name
    for area, marker in AREAS:
        if marker in where:
            return area
    if filename == "~" and "decimal" in name.lower():
        return "decimals"
    if filename == "~":
        return "C built-ins (other)"
    return "Python (other)"


def _environ(path: str, host: str) -> dict:
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_ACCEPT": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _call(app, path: str, host: str) -> bytes:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    result = app(_environ(path, host), start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{path}: {statuses[0]}")
    return body


def _query_counter():
    """Return (context manager counting the SQL queries of a Django app, the count list)."""
    try:
        from django.db import connection
    except ImportError:
        return None, []
    counts = [0]

    def wrapper(execute, sql, params, many, context):
        counts[0] += 1
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper), counts


def profile(app_path: str, path: str, *, host: str, requests: int, top: int, phases=()) -> dict:
    module, _, name = app_path.partition(":")
    app = getattr(importlib.import_module(module), name or "application")
    for _ in range(20):  # warm: connections, URL resolver, translations
        _call(app, path, host)

    began = time.perf_counter()
    for _ in range(requests):
        _call(app, path, host)
    plain_ms = (time.perf_counter() - began) * 1000 / requests

    counter, counts = _query_counter()
    queries = None
    if counter is not None:
        with counter:
            _call(app, path, host)
        queries = counts[0]

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        _call(app, path, host)
    profiler.disable()

    stats = pstats.Stats(profiler)
    total = stats.total_tt
    areas: dict[str, float] = defaultdict(float)
    functions = []
    for (filename, line, name), (_cc, calls, self_time, _cumulative, _callers) in stats.stats.items():
        areas[area_of(filename, name)] += self_time
        functions.append((self_time, calls, f"{filename.split('site-packages/')[-1]}:{line}({name})"))
    functions.sort(reverse=True)
    cumulative = []
    for label, suffix, function in [*DJANGO_PHASES, *phases]:
        times = [
            values[3]
            for (filename, _line, name), values in stats.stats.items()
            if name == function and filename.endswith(suffix)
        ]
        if times:
            cumulative.append(
                {
                    "phase": label,
                    "share": round(max(times) / total, 3),
                    "ms_per_request": round(max(times) * 1000 / requests, 2),
                }
            )
    return {
        "app": app_path,
        "path": path,
        "requests": requests,
        "ms_per_request": round(plain_ms, 2),
        "ms_per_request_profiled": round(total * 1000 / requests, 2),
        "sql_queries_per_request": queries,
        "phases": cumulative,
        "areas": [
            {
                "area": area,
                "share": round(seconds / total, 3),
                "ms_per_request": round(seconds * 1000 / requests, 2),
            }
            for area, seconds in sorted(areas.items(), key=lambda item: -item[1])
        ],
        "top_functions": [
            {"function": where, "calls_per_request": round(calls / requests, 1), "share": round(t / total, 3)}
            for t, calls, where in functions[:top]
        ],
    }


def report(data: dict) -> str:
    lines = [
        f"{data['app']} {data['path']}: {data['ms_per_request']} ms per request in process "
        f"({data['ms_per_request_profiled']} ms under cProfile), "
        f"{data['sql_queries_per_request']} SQL queries per request",
        "",
        "| phase (time including what it calls, under cProfile) | share | ms/request |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {p['phase']} | {p['share']:.0%} | {p['ms_per_request']} |" for p in data["phases"]]
    lines += ["", "| area (self time under cProfile) | share | ms/request |", "| --- | --- | --- |"]
    lines += [
        f"| {a['area']} | {a['share']:.0%} | {a['ms_per_request']} |"
        for a in data["areas"]
        if a["share"] >= 0.01
    ]
    lines += ["", "| function | calls/request | share |", "| --- | --- | --- |"]
    lines += [
        f"| `{f['function']}` | {f['calls_per_request']:g} | {f['share']:.1%} |"
        for f in data["top_functions"]
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="module[:callable], e.g. marketplace.wsgi")
    parser.add_argument("path", help="path and query string")
    parser.add_argument("--host", default="bench.local")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--phase",
        type=parse_phase,
        action="append",
        default=[],
        help="also report the time under a function: label=path/to/file.py:function",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args(argv)
    data = profile(
        args.app, args.path, host=args.host, requests=args.requests, top=args.top, phases=args.phase
    )
    print(json.dumps(data) if args.json else report(data))


if __name__ == "__main__":
    main()
