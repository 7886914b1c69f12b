"""A rate limit holds across processes: two gunicorn processes, one limit.

An outside test found the login limit first refusing at attempt 42 of a "30 a minute" with two
gunicorn workers: the counters were in each process's memory. Production now refuses such a cache
(tests/marketplace/test_deploy_check.py). Here two real gunicorn processes run the production profile
on the test database and one Redis cache (a key prefix of its own on the shared server); wrong
passwords sent to each in turn are refused at exactly the limit plus one, by both. The same attempts
against two processes with a cache each (the local profile, which production refuses) get through.
"""

import json
import uuid

import pytest
from django.db import connection

from tests.production import deployable_environment
from tests.services import Gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "/api/v1/auth/token/"
# Each wrong password costs a real password hash (~0.5 s on a small machine), so the limit is small;
# which limit is configured changes nothing in how it is counted.
LIMIT = 8
HEADERS = {
    "Content-Type": "application/json",
    "Host": "127.0.0.1",
    "X-Forwarded-Proto": "https",  # the proxy ended TLS (production redirects plain HTTP)
}


def two_servers(tmp_path, env):
    return (
        Gunicorn(connection=connection, directory=tmp_path / "a", env=env),
        Gunicorn(connection=connection, directory=tmp_path / "b", env=env),
    )


def attempt(server, number: int):
    """A wrong password for a phone number of its own (no account lockout, only the address limit)."""
    body = json.dumps({"phone": f"0913{number:06d}", "password": "not-the-password-123"})
    status, headers, content = server.request("POST", TOKEN, body=body, headers=HEADERS)
    return status, headers, json.loads(content or b"{}")


def production_env():
    return {
        **deployable_environment(),
        "DJANGO_ENV": "production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # the helper's readiness probe asks /healthz over plain HTTP
        "RATE_LIMIT_LOGIN": f"{LIMIT}/min",
        "LOG_LEVEL": "WARNING",
    }


def test_two_processes_share_one_login_limit(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    env = production_env()
    assert "key_prefix=prod-" in env["CACHE_URL"]  # its own keys on the shared Redis
    first, second = two_servers(tmp_path, env)
    with first, second:
        assert first.process.pid != second.process.pid
        answers = [attempt((first, second)[n % 2], n) for n in range(LIMIT + 1)]
        allowed, refused = answers[:LIMIT], answers[LIMIT]
        assert [status for status, _h, _b in allowed] == [400] * LIMIT, (allowed, first.log(), second.log())
        assert all("non_field_errors" in body for _s, _h, body in allowed)  # checked, and wrong
        status, headers, body = refused
        assert status == 429 and body["code"] == "throttled", (refused, first.log(), second.log())
        assert 1 <= int(headers["Retry-After"]) <= 60
        # Both refuse now, whichever the next attempt reaches.
        for server in (first, second):
            status, _headers, body = attempt(server, 1000 + server.port % 1000)
            assert status == 429 and body["code"] == "throttled"


def test_with_a_cache_in_each_process_the_same_attempts_get_through(tmp_path):
    """What production now refuses to start with: each process counts alone."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    env = {
        "DJANGO_ENV": "development",
        "CACHE_URL": f"locmemcache://{uuid.uuid4().hex}",
        "RATE_LIMIT_LOGIN": f"{LIMIT}/min",
        "LOG_LEVEL": "WARNING",
    }
    first, second = two_servers(tmp_path, env)
    with first, second:
        statuses = [attempt((first, second)[n % 2], n)[0] for n in range(LIMIT + 1)]
    assert statuses == [400] * (LIMIT + 1)
