"""Independent sequential awaits -> one ``asyncio.gather``.

::

    user = await load_user(user_id)            user, prefs = await asyncio.gather(
    prefs = await load_prefs(user_id)    ->        load_user(user_id), load_prefs(user_id)
                                               )

A run is a sequence of adjacent statements each of the form ``name = await call(...)`` or
``await call(...)``, where no call uses a name assigned earlier in the run (it would need that
result first). Every maximal run of two or more in the target function is rewritten, so a second
pass finds none and changes nothing. Results keep their order; the first exception still propagates
(``gather`` without ``return_exceptions``), which is what the sequential code did.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from tsdev.advisor.codemods._common import TargetTransformer, add_imports


def _awaited_call(statement: cst.BaseStatement) -> tuple[str | None, cst.Call] | None:
    """``(assigned name or None, the awaited call)`` when ``statement`` is a candidate."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        value = small.value
        if (
            isinstance(target, cst.Name)
            and isinstance(value, cst.Await)
            and isinstance(value.expression, cst.Call)
        ):
            return target.value, value.expression
    if (
        isinstance(small, cst.Expr)
        and isinstance(small.value, cst.Await)
        and isinstance(small.value.expression, cst.Call)
    ):
        return None, small.value.expression
    return None


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:  # noqa: N802 (libcst's names)
        self.names.add(node.value)


def _names_in(node: cst.CSTNode) -> set[str]:
    visitor = _Names()
    node.visit(visitor)
    return visitor.names


def _runs(body: Sequence[cst.BaseStatement]) -> list[tuple[int, int]]:
    """``[start, end)`` of each maximal independent run of length >= 2."""
    runs = []
    index = 0
    while index < len(body):
        start = index
        assigned: set[str] = set()
        while index < len(body):
            candidate = _awaited_call(body[index])
            if candidate is None or (_names_in(candidate[1]) & assigned):
                break
            name = candidate[0]
            if name is not None:
                if name in assigned:
                    break
                assigned.add(name)
            index += 1
        if index - start >= 2:
            runs.append((start, index))
        if index == start:
            index += 1
    return runs


def _gathered(statements: Sequence[cst.BaseStatement]) -> cst.SimpleStatementLine:
    parts = [_awaited_call(s) for s in statements]
    calls = [p[1] for p in parts if p is not None]
    names = [p[0] for p in parts if p is not None]
    gather = cst.Await(
        cst.Call(
            func=cst.Attribute(cst.Name("asyncio"), cst.Name("gather")),
            args=[cst.Arg(call) for call in calls],
        )
    )
    first = statements[0]
    leading = first.leading_lines if isinstance(first, cst.SimpleStatementLine) else ()
    if all(n is None for n in names):
        return cst.SimpleStatementLine([cst.Expr(gather)], leading_lines=leading)
    targets = cst.Tuple(
        [cst.Element(cst.Name(n or "_")) for n in names],
        lpar=[],
        rpar=[],
    )
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(targets)], gather)], leading_lines=leading)


class _Gather(TargetTransformer):
    def __init__(self, name: str, lines: tuple[int, int]) -> None:
        super().__init__(name, lines)
        self._depth = 0
        self.runs = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:  # noqa: N802 (libcst's names)
        if self._depth or self.is_target(node):
            if not self._depth:
                self.matched = True
            self._depth += 1
        return True

    def leave_FunctionDef(  # noqa: N802 (libcst's names)
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if self._depth:
            self._depth -= 1
        return updated_node

    def leave_IndentedBlock(  # noqa: N802 (libcst's names)
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not self._depth:
            return updated_node
        body = list(updated_node.body)
        runs = _runs(body)
        if not runs:
            return updated_node
        for start, end in reversed(runs):
            body[start:end] = [_gathered(body[start:end])]
        self.runs += len(runs)
        self.changed = True
        return updated_node.with_changes(body=body)


def gather_awaits(text: str, function: str, lines: tuple[int, int]) -> tuple[str, bool, int]:
    """``(new text, matched the function, runs rewritten)``."""
    transformer = _Gather(function, lines)
    module = MetadataWrapper(cst.parse_module(text)).visit(transformer)
    if not transformer.changed:
        return text, transformer.matched, 0
    return add_imports(module.code, [("asyncio", None)]), True, transformer.runs
