"""Patches from the Messages API through the real ``anthropic`` SDK against a local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.advisor.anthropic_server import API_KEY, FakeAnthropic, error_reply, rate_limited, tool_reply
from tests.advisor.support import SAMPLES, sample_finding
from tsdev.advisor import AdvisorSettings, advise

PROFILE = SAMPLES / "profile_async"
OLD = "    user = await load_user(user_id)\n    prefs = await load_prefs(user_id)\n"
NEW = "    user, prefs = await asyncio.gather(load_user(user_id), load_prefs(user_id))\n"


def patch_input(old: str = OLD, path: str = "profile_async/profile.py") -> dict[str, object]:
    return {
        "title": "Load user and prefs concurrently",
        "rationale": "They are independent.",
        "risks": "None known; revert to roll back.",
        "verification": "pytest",
        "edits": [{"path": path, "old_text": old, "new_text": NEW}],
    }


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


def settings(fake: FakeAnthropic, **changes: object) -> AdvisorSettings:
    return AdvisorSettings.from_env(
        {}, anthropic_api_key=API_KEY, anthropic_base_url=fake.url, max_retries=2, timeout_s=10.0, **changes
    )


def test_a_tool_use_answer_becomes_the_validated_patch(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.script.append(tool_reply(patch_input()))
    result = advise(
        sample_finding("profile_async"),
        repo_path=PROFILE,
        settings=settings(fake),
        dry_run=True,
        out_dir=tmp_path,
    )
    assert (result.status, result.engine) == ("dry_run", "model")
    assert "+    user, prefs = await asyncio.gather(load_user(user_id), load_prefs(user_id))" in result.diff
    assert result.usage == {
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 900,
    }
    headers, body = fake.requests[0]
    assert API_KEY in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))
    assert body["tool_choice"] == {"type": "tool", "name": "propose_patch"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["model"] == "claude-sonnet-4-6" and body["max_tokens"] == 8192
    prompt = body["messages"][0]["content"]
    assert "async def get_profile" in prompt and "v1:0123456789abcdef" not in json.dumps(body["system"])


def test_429_is_retried_after_retry_after(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.script.extend([rate_limited(), tool_reply(patch_input())])
    result = advise(
        sample_finding("profile_async"),
        repo_path=PROFILE,
        settings=settings(fake),
        dry_run=True,
        out_dir=tmp_path,
    )
    assert (result.status, result.engine) == ("dry_run", "model")
    assert len(fake.requests) == 2


def test_both_key_headers_are_accepted(fake: FakeAnthropic) -> None:
    import anthropic
    import httpx

    fake.script.append(tool_reply(patch_input()))
    client = anthropic.Anthropic(api_key=None, auth_token=API_KEY, base_url=fake.url, max_retries=0)
    message = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert message.content[0].type == "tool_use"
    assert fake.requests[0][0]["authorization"] == f"Bearer {API_KEY}"
    fake.script.append(tool_reply(patch_input()))
    raw = httpx.post(f"{fake.url}/v1/messages", json={"model": "m"}, headers={"x-api-key": API_KEY})
    assert raw.status_code == 200
    assert httpx.post(f"{fake.url}/v1/messages", json={}, headers={"x-api-key": "wrong"}).status_code == 401


@pytest.mark.parametrize(
    "replies",
    [
        [tool_reply({"title": "no edits"}), tool_reply("not an object")],
        [
            tool_reply(patch_input(old="    this text is not in the file\n")),
            tool_reply(patch_input(path="../x.py")),
        ],
        [error_reply(400, "invalid_request_error")],
    ],
    ids=["malformed-input", "anchor-and-path-refused", "api-error"],
)
def test_refused_model_patches_fall_back_to_the_codemod(
    fake: FakeAnthropic, tmp_path: Path, replies: list[dict[str, object]]
) -> None:
    fake.script.extend(replies)
    result = advise(
        sample_finding("profile_async"),
        repo_path=PROFILE,
        settings=settings(fake),
        dry_run=True,
        out_dir=tmp_path,
    )
    assert (result.status, result.engine) == ("dry_run", "codemod")
    assert result.attempts and all(a.startswith("model: ") for a in result.attempts)
    assert len(fake.requests) == len(replies)
    if len(replies) == 2:
        # The second request carries the refusal of the first as feedback.
        assert "previous_attempt_refused" in fake.requests[1][1]["messages"][0]["content"]


def test_secrets_in_the_repository_never_reach_the_prompt(fake: FakeAnthropic, tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(PROFILE, repo)
    module = repo / "profile_async" / "profile.py"
    module.write_text(module.read_text() + '\nAPI_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n')
    fake.script.append(tool_reply(patch_input()))
    advise(
        sample_finding("profile_async"),
        repo_path=repo,
        settings=settings(fake),
        dry_run=True,
        out_dir=tmp_path / "out",
    )
    sent = json.dumps(fake.requests[0][1])
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in sent
    assert API_KEY not in sent
    assert "<redacted>" in sent
