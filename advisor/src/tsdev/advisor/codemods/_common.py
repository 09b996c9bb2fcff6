"""What the codemods share: finding the target function by name and line, and adding imports."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider


def decorator_names(node: cst.FunctionDef) -> set[str]:
    """Last name segment of each decorator: ``@tenacity.retry(...)`` and ``@retry`` are both ``retry``."""
    names = set()
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        if isinstance(expression, cst.Attribute):
            names.add(expression.attr.value)
        elif isinstance(expression, cst.Name):
            names.add(expression.value)
    return names


class TargetTransformer(cst.CSTTransformer):
    """Transforms the function named ``name`` whose span covers ``line`` (the line that
    :mod:`tsdev.advisor.locate` reported), so a same-named function elsewhere is left alone."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, name: str, lines: tuple[int, int]) -> None:
        super().__init__()
        self.name = name
        self.lines = lines
        self.changed = False
        self.matched = False

    def is_target(self, node: cst.FunctionDef) -> bool:
        if node.name.value != self.name:
            return False
        position = self.get_metadata(PositionProvider, node)
        first, last = self.lines
        return first <= position.start.line <= last or position.start.line <= first <= position.end.line


def transform(
    text: str, transformer: TargetTransformer, imports: Sequence[tuple[str, str | None]]
) -> tuple[str, TargetTransformer]:
    """Run ``transformer``; when it changed something, add ``imports`` (module, name or None for
    ``import module``) unless already there. Returns the new text (equal to ``text`` when nothing changed)."""
    module = MetadataWrapper(cst.parse_module(text)).visit(transformer)
    if not transformer.changed:
        return text, transformer
    return add_imports(module.code, imports), transformer


def add_imports(text: str, imports: Sequence[tuple[str, str | None]]) -> str:
    """``text`` with the imports added where missing, after the module's docstring and ``__future__``."""
    context = CodemodContext()
    for module_name, obj in imports:
        AddImportsVisitor.add_needed_import(context, module_name, obj)
    return AddImportsVisitor(context).transform_module(cst.parse_module(text)).code
