"""Flaky step -> a tenacity ``@retry`` with the policy the detector sized from observed failures.

The decorator goes innermost (right above ``def``), so a framework decorator above it (a route, a
task) registers the retrying function. ``wait_random_exponential`` is exponential backoff with full
jitter: the first wait is at most the initial backoff, each later one at most double, capped. Only
the exception types seen in failures are retried when they are builtins the module can name;
otherwise every exception is, and the risks say so.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import libcst as cst

from tsdev.advisor.codemods._common import TargetTransformer, decorator_names, transform

RETRY_NAMES = {"retry", "retrying", "backoff", "on_exception", "retry_async"}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    initial_backoff_s: float
    max_backoff_s: float
    exception_types: tuple[str, ...]

    @classmethod
    def from_evidence(cls, evidence: dict[str, Any]) -> RetryPolicy:
        policy = evidence.get("retry_policy") or {}
        attempts = max(2, int(policy.get("attempts", 3)))
        initial = float(policy.get("initial_backoff_ms", 100.0)) / 1000.0
        ceiling = max(initial, float(policy.get("max_backoff_ms", initial * 1000 * 4)) / 1000.0)
        seen = [
            str(s.get("signature", "")) for s in evidence.get("error_signatures") or [] if isinstance(s, dict)
        ]
        types = tuple(dict.fromkeys(name for name in seen if _builtin_exception(name)))
        # Retrying only some of the observed failures would leave the rest failing: all or nothing.
        if len(types) != len(seen):
            types = ()
        return cls(attempts, round(initial, 3), round(ceiling, 3), types)

    def decorator(self) -> str:
        arguments = [
            f"stop=stop_after_attempt({self.attempts})",
            "wait=wait_random_exponential("
            f"multiplier={self.initial_backoff_s:g}, max={self.max_backoff_s:g})",
        ]
        if self.exception_types:
            inner = ", ".join(self.exception_types)
            inner = inner + "," if len(self.exception_types) == 1 else inner
            arguments.append(f"retry=retry_if_exception_type(({inner}))")
        arguments.append("reraise=True")
        # One argument per line, as formatters would lay it out: the one-line form is too long.
        return "retry(\n" + "".join(f"    {a},\n" for a in arguments) + ")"

    def imports(self) -> list[tuple[str, str | None]]:
        names = ["retry", "stop_after_attempt", "wait_random_exponential"]
        if self.exception_types:
            names.append("retry_if_exception_type")
        return [("tenacity", n) for n in names]


def _builtin_exception(name: str) -> bool:
    value = getattr(builtins, name, None)
    return isinstance(value, type) and issubclass(value, Exception)


class _AddRetry(TargetTransformer):
    def __init__(self, name: str, lines: tuple[int, int], policy: RetryPolicy) -> None:
        super().__init__(name, lines)
        self.policy = policy
        self.already = False

    def leave_FunctionDef(  # noqa: N802 (libcst's names)
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if not self.is_target(original_node):
            return updated_node
        self.matched = True
        if decorator_names(original_node) & RETRY_NAMES:
            self.already = True
            return updated_node
        self.changed = True
        decorator = cst.Decorator(cst.parse_expression(self.policy.decorator()))
        return updated_node.with_changes(decorators=(*updated_node.decorators, decorator))


def add_retry(
    text: str, function: str, lines: tuple[int, int], policy: RetryPolicy
) -> tuple[str, bool, bool]:
    """``(new text, matched the function, was already retried)``."""
    new_text, transformer = transform(text, _AddRetry(function, lines, policy), policy.imports())
    return new_text, transformer.matched, isinstance(transformer, _AddRetry) and transformer.already
