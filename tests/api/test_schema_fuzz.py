"""Schemathesis against a live server: every operation of the OpenAPI schema, with data the schema allows and
data it forbids, as a user (plain JSON), the superuser (Collection+JSON) and anonymously (plain JSON).
No answer may be a 5xx, and an error must come in the media type the client asked for.

Repeatable and bounded: Hypothesis is derandomized (the same examples every run, no example database) and
makes a fixed, small number of examples per operation, so the whole run stays well under a minute."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from tests.conftest import CJ, in_ci

JSON = "application/json"
# Each operation is tried with data the schema allows and, twice as often, with data it forbids (bad input
# is the point), each time as the next of three identities in turn: about 800 requests in all.
EXAMPLES = {"positive": 1, "negative": 2}
IDENTITIES = (("alice", JSON), ("chris", CJ), (None, JSON))

try:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.generation import GenerationMode
except ImportError as exc:  # pragma: no cover - requirements-dev.txt installs it
    if in_ci():
        raise
    pytest.skip(f"schemathesis is not installed: {exc}", allow_module_level=True)


slowest: list[tuple[float, str]] = []  # (seconds, request): printed, to see what the run's time goes to


def _run_operation(operation: Any, mode: Any, base_url: str, headers: dict[str, str], accept: str,
                   problems: list[str]) -> None:
    @settings(max_examples=EXAMPLES[mode.value], derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        started = time.monotonic()
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        slowest.append((time.monotonic() - started, f"{case.method} {case.formatted_path}"))
        where = f"{case.method} {case.formatted_path} ({mode.value}, Accept {accept}) -> {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.text[:200]}\n  {case.as_curl_command(headers=headers)}")
        elif response.status_code >= 400 and case.method != "HEAD":
            media_type = next((v[0] for k, v in response.headers.items() if k.lower() == "content-type"), "")
            if not media_type.startswith(accept):
                problems.append(f"{where}: error in {media_type!r}\n  {case.as_curl_command(headers=headers)}")

    run()


@pytest.fixture
def fuzz_server(transactional_db: Any, live_server: Any, system: Any, make_user: Any) -> Any:
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    tokens = {"alice": Token.objects.get_or_create(user=make_user("alice"))[0].key,
              "chris": Token.objects.get_or_create(user=system)[0].key}
    return live_server, tokens


def test_no_operation_answers_bad_input_with_a_5xx(fuzz_server: Any, caplog: Any) -> None:
    import requests

    live_server, tokens = fuzz_server
    spec = requests.get(f"{live_server.url}/schema/?format=json", timeout=30)
    assert spec.status_code == 200, spec.text[:200]
    schema = schemathesis.openapi.from_dict(spec.json())
    problems: list[str] = []
    started = time.monotonic()
    operations = 0
    turn = 0
    with caplog.at_level(logging.ERROR):
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                who, accept = IDENTITIES[turn % len(IDENTITIES)]
                turn += 1
                headers = {"Accept": accept}
                if who is not None:
                    headers["Authorization"] = f"Token {tokens[who]}"
                _run_operation(operation, mode, live_server.url, headers, accept, problems)
    crashes = [r.getMessage() for r in caplog.records if r.name in ("cube.api.errors", "django.request")]
    elapsed = time.monotonic() - started
    print(f"schema fuzz: {operations} operations in {elapsed:.1f} s; slowest requests:",
          ", ".join(f"{what} {seconds:.2f} s" for seconds, what in sorted(slowest, reverse=True)[:5]))
    assert operations > 200  # the whole schema, not a part of it that happened to load
    problems.sort(key=lambda line: " -> 5" not in line.split(":", 1)[0])  # the 5xx first
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:30])
    assert not crashes, "errors in the server log:\n" + "\n".join(crashes[:30])
