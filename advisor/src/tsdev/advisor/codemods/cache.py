"""Cacheable read -> a caching decorator on the function that makes it.

``async def`` gets ``async_lru.alru_cache(maxsize, ttl)``: ``functools.lru_cache`` and
``cachetools.cached`` on a coroutine function cache the coroutine object, which can be awaited once,
so the second caller crashes. Plain functions get ``cachetools.func.ttl_cache`` when a TTL matters
(the data is written to in the window), else ``functools.lru_cache``, which needs no dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from tsdev.advisor.codemods._common import TargetTransformer, add_imports, decorator_names

CACHE_NAMES = {"alru_cache", "lru_cache", "cache", "ttl_cache", "cached", "memoize", "cached_property"}
DEFAULT_MAXSIZE = 1024


@dataclass(frozen=True)
class CachePolicy:
    ttl_s: float | None
    maxsize: int = DEFAULT_MAXSIZE

    @classmethod
    def from_evidence(cls, evidence: dict[str, Any]) -> CachePolicy:
        ttl = evidence.get("recommended_ttl_s")
        writes = int(evidence.get("writes_seen") or 0)
        if ttl is None:
            # A per-request repeat: a short TTL keeps it a memo of about one request's length.
            ttl = 30.0 if writes else None
        return cls(float(ttl) if ttl is not None else None)

    def decorator(self, is_async: bool) -> tuple[str, list[tuple[str, str | None]], str]:
        """``(decorator, imports, dependency the repository needs or "")``."""
        if is_async:
            ttl = f", ttl={self.ttl_s:g}" if self.ttl_s else ""
            return f"alru_cache(maxsize={self.maxsize}{ttl})", [("async_lru", "alru_cache")], "async-lru>=2.0"
        if self.ttl_s:
            return (
                f"ttl_cache(maxsize={self.maxsize}, ttl={self.ttl_s:g})",
                [("cachetools.func", "ttl_cache")],
                "cachetools>=5.0",
            )
        return f"functools.lru_cache(maxsize={self.maxsize})", [("functools", None)], ""


class _AddCache(TargetTransformer):
    def __init__(self, name: str, lines: tuple[int, int], policy: CachePolicy) -> None:
        super().__init__(name, lines)
        self.policy = policy
        self.imports: list[tuple[str, str | None]] = []
        self.dependency = ""
        self.already = False

    def leave_FunctionDef(  # noqa: N802 (libcst's names)
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if not self.is_target(original_node):
            return updated_node
        self.matched = True
        if decorator_names(original_node) & CACHE_NAMES:
            self.already = True
            return updated_node
        decorator, self.imports, self.dependency = self.policy.decorator(
            original_node.asynchronous is not None
        )
        self.changed = True
        return updated_node.with_changes(
            decorators=(*updated_node.decorators, cst.Decorator(cst.parse_expression(decorator)))
        )


def add_cache(text: str, function: str, lines: tuple[int, int], policy: CachePolicy) -> tuple[str, bool, str]:
    """``(new text, matched the function, dependency to declare or "")``."""
    transformer = _AddCache(function, lines, policy)
    module = MetadataWrapper(cst.parse_module(text)).visit(transformer)
    if not transformer.changed:
        return text, transformer.matched, ""
    return add_imports(module.code, transformer.imports), True, transformer.dependency
