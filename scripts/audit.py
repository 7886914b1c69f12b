"""Report dependencies with published vulnerabilities (pip-audit against PyPI's advisory data).

Audits the pinned requirement files as written (`--no-deps --disable-pip`: no throwaway virtual
environment, so it takes seconds) and everything installed in the running virtual environment,
which adds the pins' own dependencies. Prints what it found: the vulnerable releases with the
versions that fix them, and the packages it could not audit (service unreachable, or a release
the service does not know).

Report only: exits 0 whatever it finds, so an advisory published overnight never blocks a
build, unless `--strict` is given (then 1 when a vulnerability is found). Usage:
    python scripts/audit.py [--strict] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]
# The virtual environment's own pip-audit (PIP_AUDIT names another, e.g. a stand-in in the tests).
PIP_AUDIT = Path(os.environ.get("PIP_AUDIT") or Path(sys.executable).parent / "pip-audit")


def run_pip_audit(args: list[str], *, timeout: int) -> tuple[list[dict], str]:
    """Run pip-audit with JSON output; return (dependencies, error text; empty when it answered)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        command = [
            str(PIP_AUDIT),
            *args,
            "--format", "json",
            "--output", output.name,
            "--progress-spinner", "off",
            "--timeout", "15",
        ]
        try:
            result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
        except FileNotFoundError:
            return [], f"{PIP_AUDIT} not found: install requirements-dev.txt (make .venv/.dev-installed)"
        except subprocess.TimeoutExpired:
            return [], f"no answer within {timeout} s"
        text = Path(output.name).read_text() if Path(output.name).stat().st_size else ""
    # pip-audit exits 1 when it finds a vulnerability; anything without a report is a failure to run.
    if not text:
        return [], (result.stderr or result.stdout).strip()[-2000:] or f"pip-audit exited {result.returncode}"
    try:
        return json.loads(text)["dependencies"], ""
    except (ValueError, KeyError):
        return [], f"unreadable report: {text[:200]!r}"


def report(strict: bool, timeout: int) -> int:
    runs = {
        "pinned in " + " and ".join(REQUIREMENTS): [
            arg for name in REQUIREMENTS for arg in ("-r", name)
        ] + ["--no-deps", "--disable-pip"],
        f"installed in {Path(sys.prefix).name}/ (with their dependencies)": [],
    }
    vulnerable: dict[tuple[str, str], list[dict]] = {}
    skipped: dict[str, dict[str, str]] = {}  # reason -> {package: "name (version)"}
    print("Dependency audit (pip-audit, PyPI advisory data): a report, it never fails the build.")
    answered = 0
    for label, args in runs.items():
        dependencies, error = run_pip_audit(args, timeout=timeout)
        if error:
            print(f"  {label}: NOT AUDITED: {error}")
            continue
        answered += 1
        found = [d for d in dependencies if d.get("vulns")]
        not_audited = [d for d in dependencies if "skip_reason" in d]
        print(
            f"  {label}: {len(dependencies)} packages, {len(found)} with known vulnerabilities, "
            f"{len(not_audited)} not audited"
        )
        for dependency in found:
            vulnerable[(dependency["name"], dependency["version"])] = dependency["vulns"]
        for dependency in not_audited:
            reason, _, which = dependency["skip_reason"].partition(": ")
            skipped.setdefault(reason, {})[dependency["name"]] = which or dependency["name"]
    if vulnerable:
        print("\nKNOWN VULNERABILITIES (upgrade the pin to a fixed version, run the tests):")
        for (name, version), vulns in sorted(vulnerable.items()):
            for vuln in vulns:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
                aliases = f" ({', '.join(vuln['aliases'])})" if vuln.get("aliases") else ""
                print(f"  {name} {version}: {vuln['id']}{aliases}, fixed in {fixed}")
    for reason, packages in sorted(skipped.items()):
        print(f"\nNOT AUDITED, {len(packages)} packages: {reason}")
        print("  (the advisory service could not be reached, or does not know these releases)")
        names = ", ".join(sorted(packages.values()))
        print(textwrap.indent(textwrap.fill(names, width=98, break_on_hyphens=False), "  "))
    if answered == len(runs) and not vulnerable and not skipped:
        print("No known vulnerabilities.")
    return 1 if strict and vulnerable else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a vulnerability is found")
    parser.add_argument("--timeout", type=int, default=60, help="seconds each of the two runs may take")
    options = parser.parse_args()
    return report(options.strict, options.timeout)


if __name__ == "__main__":
    sys.exit(main())
