"""Patches from a model: the Messages API with the ``propose_patch`` tool forced.

Forcing the tool (``tool_choice``) means the answer is always structured input, never prose to
parse. The SDK does the transport work: timeouts, retries with backoff on 429, 5xx and connection
errors, honouring ``retry-after``. What it cannot check (the tool input's shape) is validated here,
and any failure is a :class:`~tsdev.advisor.patch.PatchError`, so the caller falls back to codemods.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from pydantic import ValidationError

from tsdev.advisor.context import Context
from tsdev.advisor.patch import Edit, Patch, PatchError
from tsdev.advisor.prompts import SYSTEM_PROMPT, TOOL, TOOL_NAME
from tsdev.advisor.settings import AdvisorSettings

logger = logging.getLogger(__name__)


def model_patch(context: Context, settings: AdvisorSettings, feedback: str = "") -> Patch:
    """One request; ``feedback`` is the validation error of a previous attempt, when retrying."""
    import anthropic

    if not settings.anthropic_api_key:
        raise PatchError("no model configured")
    client = anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
    )
    from anthropic.types import MessageParam, TextBlockParam, ToolChoiceToolParam, ToolParam

    system: list[TextBlockParam] = [
        {"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
    ]
    tools: list[ToolParam] = [cast("ToolParam", {**TOOL, "cache_control": {"type": "ephemeral"}})]
    tool_choice: ToolChoiceToolParam = {"type": "tool", "name": TOOL_NAME}
    content = context.render()
    if feedback:
        content += f"\n<previous_attempt_refused>{feedback}</previous_attempt_refused>"
    messages: list[MessageParam] = [{"role": "user", "content": content}]
    try:
        response = client.messages.create(
            model=settings.model,
            max_tokens=settings.max_tokens,
            system=system,
            tools=tools,
            tool_choice=tool_choice,
            messages=messages,
        )
    except anthropic.APIError as exc:
        logger.warning("model request failed: %s", type(exc).__name__)
        raise PatchError(f"model request failed: {type(exc).__name__}: {_short(exc)}") from exc
    finally:
        client.close()
    usage = _usage(response.usage)
    logger.info("model patch usage: %s", usage)
    for block in response.content:
        if block.type == "tool_use" and block.name == TOOL_NAME:
            return _parse(block.input, settings.model, usage)
    raise PatchError(f"the model answered without calling {TOOL_NAME} (stop reason {response.stop_reason})")


def _parse(raw: object, model: str, usage: dict[str, int]) -> Patch:
    if not isinstance(raw, dict):
        raise PatchError("malformed tool input: not an object")
    try:
        edits = tuple(Edit.model_validate(e) for e in raw.get("edits") or ())
        return Patch(
            title=str(raw.get("title", "")).strip()[:200],
            rationale=str(raw.get("rationale", "")),
            risks=str(raw.get("risks", "")),
            verification=str(raw.get("verification", "")),
            edits=edits,
            engine="model",
            model=model,
            usage=usage,
        )
    except (ValidationError, TypeError, AttributeError) as exc:
        raise PatchError(f"malformed tool input: {_short(exc)}") from exc


def _usage(usage: Any) -> dict[str, int]:
    fields = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    return {name: int(getattr(usage, name, 0) or 0) for name in fields}


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
