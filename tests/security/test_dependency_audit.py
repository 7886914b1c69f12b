"""`scripts/audit.py` (CI's audit tier): reports what pip-audit finds and never fails the build for it.

PyPI's advisory data cannot be reached from every machine (nor does it hold an advisory on demand),
so pip-audit is replaced here by a small stand-in that writes the JSON report pip-audit 2.x writes;
the script's own work (running it twice, reading, reporting, the exit code) is what is tested. The
real pip-audit runs in `make audit`.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

REPORT = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.1",
            "vulns": [
                {
                    "id": "GHSA-7xr5-9hcq-chf9",
                    "fix_versions": ["4.2.22", "5.1.10", "5.2.2"],
                    "aliases": ["CVE-2025-48432"],
                    "description": "Log injection.",
                }
            ],
        },
        {"name": "stripe", "version": "16.1.0", "vulns": []},
        {
            "name": "pyroaring",
            "skip_reason": "Dependency not found on PyPI and could not be audited: pyroaring (1.2.0)",
        },
    ],
    "fixes": [],
}


def stand_in(tmp_path: Path, behaviour: str) -> Path:
    """A pip-audit that answers with REPORT (exit 1, as pip-audit does on a finding), fails, or hangs."""
    script = tmp_path / "pip-audit"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, sys, time
            args = sys.argv[1:]
            with open({str(tmp_path / "calls.jsonl")!r}, "a") as calls:
                calls.write(json.dumps(args) + "\\n")
            behaviour = {behaviour!r}
            if behaviour == "unreachable":
                sys.exit("ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded")
            if behaviour == "hang":
                time.sleep(60)
            with open(args[args.index("--output") + 1], "w") as out:
                json.dump({json.dumps(REPORT)}, out)
            sys.exit(1)
            """
        )
    )
    script.chmod(0o755)
    return script


def run_audit(tmp_path, behaviour, *args):
    env = {**os.environ, "PIP_AUDIT": str(stand_in(tmp_path, behaviour))}
    return subprocess.run(
        [sys.executable, "scripts/audit.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def calls(tmp_path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_a_vulnerability_is_reported_and_the_build_goes_on(tmp_path):
    result = run_audit(tmp_path, "report")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "KNOWN VULNERABILITIES" in out
    assert "django 5.2.1: GHSA-7xr5-9hcq-chf9 (CVE-2025-48432), fixed in 4.2.22, 5.1.10, 5.2.2" in out
    assert "NOT AUDITED, 1 packages: Dependency not found on PyPI" in out and "pyroaring (1.2.0)" in out
    # Both files as pinned, without building a throwaway environment; then the installed packages.
    pinned, installed = calls(tmp_path)
    assert pinned[:4] == ["-r", "requirements.txt", "-r", "requirements-dev.txt"]
    assert "--no-deps" in pinned and "--disable-pip" in pinned
    assert "-r" not in installed


def test_strict_fails_on_a_vulnerability(tmp_path):
    assert run_audit(tmp_path, "report", "--strict").returncode == 1


@pytest.mark.parametrize(
    ("behaviour", "says"),
    [("unreachable", "NOT AUDITED: ConnectionError"), ("hang", "NOT AUDITED: no answer within 2 s")],
)
def test_an_unreachable_service_is_reported_and_the_build_goes_on(tmp_path, behaviour, says):
    result = run_audit(tmp_path, behaviour, "--timeout", "2", "--strict")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(says) == 2, result.stdout
    assert "No known vulnerabilities" not in result.stdout
