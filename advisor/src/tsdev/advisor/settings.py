"""The advisor's own settings, read from the variables declared in :mod:`tsdev.core.environment_variables`.

The advisor is usable as a library (the CLI runs it on the user's machine, the server on its own), so
it does not depend on the server's ``Settings``: each caller builds an :class:`AdvisorSettings` with
:meth:`AdvisorSettings.from_env` and overrides what its flags say. Secrets are kept out of ``repr`` so a
logged settings object never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tsdev.core import environment_variables as env

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_GITHUB_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class AdvisorSettings:
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_tokens: int = 8192
    context_chars: int = 60_000
    """Source characters sent to the model at most; whole functions are kept, files are cut."""
    timeout_s: float = 120.0
    max_retries: int = 3
    github_token: str | None = field(default=None, repr=False)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    tsdev_url: str = "http://127.0.0.1:8080"
    """Where PR bodies link example traces (``/api/v1/traces/{id}``)."""

    @property
    def model_enabled(self) -> bool:
        return bool(self.anthropic_api_key)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> AdvisorSettings:
        """Explicit overrides first (``None`` means "not given"), then the specific variable, then
        the general one, then the default."""
        e = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "anthropic_api_key": e.get(env.ANTHROPIC_API_KEY) or None,
            "anthropic_base_url": e.get(env.ANTHROPIC_BASE_URL) or None,
            "model": e.get(env.TSDEV_ADVISOR_MODEL) or DEFAULT_MODEL,
            "max_tokens": int(e.get(env.TSDEV_ADVISOR_MAX_TOKENS) or 8192),
            "context_chars": int(e.get(env.TSDEV_ADVISOR_CONTEXT_CHARS) or 60_000),
            "timeout_s": float(e.get(env.TSDEV_ADVISOR_TIMEOUT_S) or 120.0),
            "max_retries": int(e.get(env.TSDEV_ADVISOR_MAX_RETRIES) or 3),
            "github_token": e.get(env.TSDEV_GITHUB_TOKEN) or e.get(env.GITHUB_TOKEN) or None,
            "github_api_url": e.get(env.TSDEV_GITHUB_API_URL) or DEFAULT_GITHUB_API_URL,
            "tsdev_url": e.get(env.TSDEV_SERVER) or "http://127.0.0.1:8080",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> AdvisorSettings:
        return replace(self, **changes)
