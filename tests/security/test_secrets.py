"""No real secret is kept in the repository: keys come from the environment (README, settings).

The scan reads every file git tracks plus the untracked ones it does not ignore (a key pasted into
a new file fails here before it is ever committed) and looks for: Stripe secret, restricted and
webhook keys, AWS keys, private key blocks, GitHub and Slack tokens, and in Python and config files
a literal given to a secret-sounding name: any literal for a name ending in SECRET_KEY, a random-
looking one for the others (`API_TOKEN = "…"`). The Stripe stand-in's fakes (`sk_test_standin`,
`whsec_test_standin`, …) are short plain words, plainly not keys, and match no pattern. ALLOWED
lists the two exceptions, each with its file, name, exact text and reason: the development
profile's fixed key and one made-up revoked key. A planted secret of each kind (made at run time,
so this file holds none) shows the scan can fail.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "Stripe secret or restricted key": re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{20,}"),
    "Stripe webhook secret": re.compile(r"\bwhsec_[0-9A-Za-z+/=]{20,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\W{0,5}[:=]\s*[\"']?[0-9A-Za-z/+]{40}(?![0-9A-Za-z/+])"
    ),
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{36,}|github_pat_[0-9A-Za-z_]{60,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}"),
    "Slack webhook": re.compile(r"https://hooks\.slack\.com/services/T[0-9A-Z]+/B[0-9A-Z]+/[0-9A-Za-z]+"),
}
# `NAME = "literal"` (or `NAME: str = "…"`, `NAME="…"` in a call) where the name sounds secret.
NAME_PATTERN = (
    r"[A-Za-z0-9_.]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|HASH_KEY)[A-Za-z0-9_]*"
)
ASSIGNMENT = re.compile(
    rf"(?i)(?P<name>\b{NAME_PATTERN})\s*(?::\s*str\s*)?=\s*[rbuf]?"
    r"(?P<quote>[\"'])(?P<value>[^\"'\s]{20,})(?P=quote)"
)
# A signing key (Django's SECRET_KEY and the like) is a secret however readable its text: anyone who
# has it signs sessions and reset links. Other names need a literal that looks random.
SIGNING_KEY_NAME = re.compile(r"(?i)SECRET_KEY$")
ASSIGNMENT_SUFFIXES = {".py", ".env", ".ini", ".cfg", ".toml"}

# (path, name, value, reason): a literal the scan may find in that file, under that name, written
# exactly so (a regular expression), and that does not look random. Keep it short.
ALLOWED = [
    (
        "marketplace/settings.py",
        "_DEV_SECRET_KEY",
        r"dev-only-insecure-key-[a-z-]+-0123456789",
        "The local profile's fixed key, dev-only and insecure in its own words, so `make run` keeps "
        "sessions across restarts; production refuses to start without SECRET_KEY from the "
        "environment (tests/marketplace/test_deploy_check.py).",
    ),
    (
        "tests/orders/test_stripe.py",
        "settings.STRIPE_SECRET_KEY",
        r"rk_revoked_[0-9]+",
        "A made-up revoked key the local Stripe stand-in refuses with a 401; a real restricted key "
        "(rk_live_/rk_test_ and 20+ random characters) would still be found by its own pattern.",
    ),
]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    name: str  # the assigned name, for assignments
    excerpt: str
    value: str = field(default="", repr=False)  # the whole literal, for the allow-list; never printed

    def __str__(self):
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


def looks_random(value: str) -> bool:
    """A key, not words: the kind of character (lower, upper, digit, other) changes often.

    Words and numbers joined by dashes (`mangcut-phong-dien-2026`) change kind about once in four
    characters; a random key over letters and digits about every other one, hex about one in two.
    """

    def kind(c: str) -> str:
        groups = (("l", string.ascii_lowercase), ("u", string.ascii_uppercase), ("d", string.digits))
        return next((name for name, group in groups if c in group), "o")

    kinds = [kind(c) for c in value]
    changes = sum(a != b for a, b in itertools.pairwise(kinds)) / (len(value) - 1)
    return len(set(kinds) - {"o"}) >= 2 and changes >= 0.35


def _mask(text: str) -> str:
    """Show where a secret is without printing it whole into a CI log."""
    return text[:12] + "…" if len(text) > 12 else text


def scan_text(path: str, text: str) -> list[Finding]:
    findings = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(line):
                findings.append(Finding(path, number, kind, "", _mask(match.group(0))))
    if Path(path).suffix in ASSIGNMENT_SUFFIXES or Path(path).name.startswith(".env"):
        for number, line in enumerate(lines, start=1):
            for match in ASSIGNMENT.finditer(line):
                name = match.group("name")
                if SIGNING_KEY_NAME.search(name) or looks_random(match.group("value")):
                    excerpt = f"{name} = {_mask(match.group('value'))}"
                    findings.append(
                        Finding(path, number, "secret-looking literal", name, excerpt, match.group("value"))
                    )
    return findings


def scan_file(root: Path, relative: str) -> list[Finding]:
    data = (root / relative).read_bytes()
    if b"\0" in data[:8192]:
        return []  # binary (compiled catalogues, pictures): no text to leak from
    return scan_text(relative, data.decode("utf-8", errors="replace"))


def repository_files(root: Path) -> list[str]:
    """Files git tracks, and the untracked ones it does not ignore (about to be added)."""
    files = []
    for extra in ([], ["--others", "--exclude-standard"]):
        result = subprocess.run(
            ["git", "ls-files", "-z", *extra], cwd=root, capture_output=True, check=True, timeout=60
        )
        files += [name for name in result.stdout.decode().split("\0") if name]
    return sorted({name for name in files if (root / name).is_file()})


def is_allowed(finding: Finding) -> bool:
    return any(
        finding.path == path
        and finding.name == name
        and re.fullmatch(value, finding.value)
        and not looks_random(finding.value)
        for path, name, value, _reason in ALLOWED
    )


def scan(root: Path) -> tuple[list[Finding], list[Finding]]:
    """Return (findings to fix, findings the allow-list explains)."""
    found = [finding for name in repository_files(root) for finding in scan_file(root, name)]
    return [f for f in found if not is_allowed(f)], [f for f in found if is_allowed(f)]


# --- The repository ------------------------------------------------------------------------------


def test_the_repository_holds_no_secret():
    files = repository_files(PROJECT_ROOT)
    assert "marketplace/settings.py" in files and len(files) > 100
    problems, explained = scan(PROJECT_ROOT)
    assert not problems, "secrets in the repository (move them to the environment):\n" + "\n".join(
        map(str, problems)
    )
    # Every exception is still needed: an entry that explains nothing is removed, not kept "just in case".
    for path, name, _value, _reason in ALLOWED:
        used = any(f.path == path and f.name == name for f in explained)
        assert used, f"unused allow-list entry {path} {name}"


def test_the_test_fakes_are_plainly_fake():
    """The Stripe stand-in's keys and secrets are words, not keys: the scan passes them by."""
    fakes = ["sk_test_standin", "whsec_test_standin", "whsec_standin", "sk_live_real_money", "whsec_other"]
    text = "\n".join(f'KEY = "{fake}"' for fake in fakes)
    assert scan_text("tests/orders/conftest.py", text) == []
    assert scan_text("tests/example.py", 'settings.STRIPE_WEBHOOK_SECRET = "whsec_test_standin"') == []


# --- The scan can fail ---------------------------------------------------------------------------


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


def planted() -> dict[str, str]:
    """One realistic secret of each kind, made now (this file must not hold any)."""
    begin, end = "-----BEGIN " + "RSA PRIVATE KEY-----", "-----END " + "RSA PRIVATE KEY-----"
    pem = f"{begin}\nMIIEowIBAAKCAQEA{_random(ALNUM, 40)}\n{end}"
    return {
        "Stripe secret or restricted key": 'stripe.api_key = "sk_' + "live_51" + _random(ALNUM, 40) + '"',
        "Stripe webhook secret": "STRIPE_WEBHOOK=" + "whsec_" + _random(ALNUM, 32),
        "AWS access key id": "aws_access_key_id = AK" + "IA" + _random(UPPER_DIGITS, 16),
        "AWS secret access key": "aws_secret_access_key = " + _random(ALNUM + "/+", 40),
        "private key": pem,
        "GitHub token": "token: " + "ghp_" + _random(ALNUM, 36),
        "Slack token": "SLACK=" + "xoxb-" + _random(string.digits, 12) + "-" + _random(ALNUM, 24),
        "secret-looking literal": 'SECRET_KEY = "' + _random(ALNUM + "!@#%^*-_", 50) + '"',
    }


@pytest.mark.parametrize("kind", list(planted()))
def test_a_planted_secret_is_found(tmp_path, kind):
    sample = planted()[kind]
    (tmp_path / "leak.py").write_text(f"# a file someone is about to commit\n{sample}\n", encoding="utf-8")
    findings = scan_file(tmp_path, "leak.py")
    assert [f.kind for f in findings if f.kind == kind] == [kind], findings
    assert findings[0].line == 2


def test_the_scan_covers_untracked_files_git_does_not_ignore(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "ignored").mkdir()
    key = 'SECRET_KEY = "' + _random(ALNUM, 50) + '"\n'
    (tmp_path / "ignored" / "local.py").write_text(key)
    (tmp_path / "new_settings.py").write_text(key)
    problems, _explained = scan(tmp_path)
    assert [f.path for f in problems] == ["new_settings.py"]


def test_the_allow_list_is_narrow(tmp_path):
    """The development key passes in settings.py, under its name, written as it is; nothing else does."""
    dev = "dev-only-insecure-key-for-cho-noi-never-use-in-production-0123456789"
    real = _random(ALNUM, 50)
    settings_dir = tmp_path / "marketplace"
    settings_dir.mkdir()
    forged = "dev-only-insecure-key-" + real
    lines = [f'_DEV_SECRET_KEY = "{dev}"', f'SECRET_KEY = "{dev}"', f'_DEV_SECRET_KEY = "{forged}"']
    (settings_dir / "settings.py").write_text("\n".join(lines) + "\n")
    (tmp_path / "other.py").write_text(f'_DEV_SECRET_KEY = "{dev}"\n')
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    problems, explained = scan(tmp_path)
    assert [(f.path, f.line) for f in explained] == [("marketplace/settings.py", 1)]
    assert sorted((f.path, f.line) for f in problems) == [
        ("marketplace/settings.py", 2),  # the same text under Django's own name
        ("marketplace/settings.py", 3),  # a random key behind the allowed prefix
        ("other.py", 1),  # the allowed name in another file
    ]


@pytest.mark.parametrize(
    ("value", "random"),
    [
        ("mangcut-phong-dien-2026", False),
        ("an-honest-test-password", False),
        ("dev-only-insecure-key-for-cho-noi-never-use-in-production-0123456789", False),
        ("rk_revoked_1234567890", False),
        ("django-insecure-k3#v9z!q2m@x7p4w(l8n)b5c1r6t0y$u-e+h=j&s%f^g*d", True),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", True),
        ("Xk4pQ9zL2mN7vB1cR8tY5wE3", True),
    ],
)
def test_looks_random_tells_keys_from_words(value, random):
    assert looks_random(value) is random
