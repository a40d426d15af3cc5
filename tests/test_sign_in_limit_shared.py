"""Sign-in budgets hold for the whole deployment on PostgreSQL (issue 11, "Limits shared across workers"): two
app instances on one database share one account's attempts, so a guesser gains nothing by spreading tries
over workers or instances. (The chat and request limits: tests/test_rate_limit_shared.py,
tests/test_requests_dial_policy.py.)"""

from __future__ import annotations

import httpx
import pytest
from team_chat_support import register, team_env  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("team_env")]


async def test_two_instances_share_an_accounts_sign_in_attempts(app_server, postgres_url, team_env):  # noqa: F811
    team_env.setenv("TEAM_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    one = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    two = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    async with httpx.AsyncClient(base_url=one.url) as first, httpx.AsyncClient(base_url=two.url) as second:
        anna = await register(first, "Anna")
        wrong = {"email": anna["email"], "password": "wrong-password"}
        codes = [(await (first, second)[i % 2].post("/auth/login", json=wrong)).status_code for i in range(4)]
        assert codes == [401, 401, 401, 429], "each instance counted its own attempts"
        right = {"email": anna["email"], "password": anna["password"]}
        answer = await first.post("/auth/login", json=right)
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
