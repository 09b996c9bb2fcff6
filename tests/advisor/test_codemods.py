"""The deterministic codemods and the validation every patch passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.advisor.support import SAMPLES, sample_finding
from tsdev.advisor.codemods import NoCodemod, codemod_patch
from tsdev.advisor.codemods.gather import gather_awaits
from tsdev.advisor.config import RepoConfig
from tsdev.advisor.dependencies import detect_stack
from tsdev.advisor.locate import CodeHint, Location, locate
from tsdev.advisor.patch import Edit, Patch, PatchError, validate
from tsdev.advisor.source import LocalSource


def patched(sample: str) -> dict[str, str]:
    source = LocalSource(SAMPLES / sample)
    finding = sample_finding(sample)
    patch = codemod_patch(finding, locate(finding, source), source, detect_stack(source))
    return validate(patch, source, RepoConfig()).files


@pytest.mark.parametrize(
    ("sample", "path", "expected"),
    [
        ("rates_async", "rates_async/rates.py", "    stop=stop_after_attempt(5),\n"),
        ("rates_sync", "rates_sync/client.py", "retry=retry_if_exception_type((ConnectionError,))"),
        (
            "catalog_async",
            "catalog_async/catalog.py",
            "@alru_cache(maxsize=1024, ttl=300)\nasync def load_product",
        ),
        (
            "countries_sync",
            "countries_sync/countries.py",
            "@functools.lru_cache(maxsize=1024)\ndef get_country",
        ),
        ("profile_async", "profile_async/profile.py", "user, prefs, recs = await asyncio.gather("),
    ],
)
def test_codemods_patch_the_located_function_and_are_idempotent(
    sample: str, path: str, expected: str
) -> None:
    files = patched(sample)
    assert expected in files[path]
    compile(files[path], path, "exec")
    # A second run on the patched file changes nothing.
    source = LocalSource(SAMPLES / sample)
    finding = sample_finding(sample)
    location = locate(finding, source)[0]
    repatched = _Overlay(source, files)
    with pytest.raises(NoCodemod, match=r"already|no adjacent|nothing"):
        codemod_patch(finding, [_relocated(location, files[path])], repatched, detect_stack(repatched))


def test_missing_dependencies_are_declared_where_the_repository_declares_them() -> None:
    assert patched("rates_async")["requirements.txt"] == "pytest>=8\ntenacity>=8.0\n"
    assert "requirements.txt" not in patched("rates_sync")  # tenacity is already there


def test_a_writing_flaky_step_is_not_retried_blindly() -> None:
    finding = sample_finding("rates_async")
    writing = finding.model_copy(update={"evidence": {**finding.evidence, "idempotent": False}})
    source = LocalSource(SAMPLES / "rates_async")
    with pytest.raises(NoCodemod, match="idempotency key"):
        codemod_patch(writing, locate(writing, source), source, detect_stack(source))


def test_gather_keeps_dependent_awaits_in_order() -> None:
    text = (
        "async def f(a):\n"
        "    x = await one(a)\n"
        "    y = await two(x)\n"
        "    z = await three(a)\n"
        "    await four(a)\n"
        "    return x, y, z\n"
    )
    new, matched, runs = gather_awaits(text, "f", (1, 6))
    assert (matched, runs) == (True, 1)
    assert "    x = await one(a)\n    y, _ = await asyncio.gather(two(x), three(a))\n" not in new
    assert "    y, z, _ = await asyncio.gather(two(x), three(a), four(a))\n" in new
    assert gather_awaits(new, "f", (1, 8))[2] == 0


def test_code_location_hints_use_old_and_new_attribute_paths() -> None:
    source = LocalSource(SAMPLES / "orders_nplus1")
    finding = sample_finding("orders_nplus1")
    first = locate(finding, source)[0]
    assert (first.path, first.function, first.reason) == (
        "orders_nplus1/orders.py",
        "order_history",
        "code.* attributes of the spans",
    )
    by_line = locate(
        finding.model_copy(update={"evidence": {}}), source, [CodeHint(filepath="orders.py", lineno=17)]
    )
    assert by_line[0].function == "query"


STORE = """import sqlite3


def seed(connection: sqlite3.Connection) -> None:
    connection.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO products (id, name) VALUES (?, ?)", [(1, "a"), (2, "b")])


def rename(connection: sqlite3.Connection, name: str) -> None:
    connection.execute("UPDATE products SET name = ? WHERE id = 1", (name,))


def read_catalog(connection: sqlite3.Connection) -> list[tuple[int, str]]:
    return list(connection.execute("SELECT id, name FROM products ORDER BY id"))


def first_product(connection: sqlite3.Connection) -> tuple[int, str]:
    return connection.execute("SELECT id, name FROM products WHERE id = 1").fetchone()
"""


def test_a_repeated_select_is_located_at_the_select_not_at_the_insert_filling_its_table(
    tmp_path: Path,
) -> None:
    (tmp_path / "store.py").write_text(STORE)
    source = LocalSource(tmp_path)
    statement = "SELECT id, name FROM products ORDER BY id"
    finding = sample_finding("countries_sync").model_copy(
        update={"parent_operation": "*", "operations": [statement], "evidence": {"reads": 50}}
    )

    found = [(loc.function, loc.reason) for loc in locate(finding, source)]

    assert found[0] == ("read_catalog", "the SQL statement")
    assert ("first_product", "SQL on products") in found  # reads the same table: a weaker candidate
    assert not {"seed", "rename"} & {function for function, _ in found}
    patch = codemod_patch(finding, locate(finding, source), source, detect_stack(source))
    assert "@functools.lru_cache(maxsize=1024)\ndef read_catalog" in patch.edits[0].new_text


def _edit(old: str, new: str, path: str = "profile_async/profile.py") -> Patch:
    return Patch(
        title="t",
        rationale="r",
        risks="k",
        verification="v",
        edits=(Edit(path=path, old_text=old, new_text=new),),
    )


@pytest.mark.parametrize(
    ("patch", "config", "message"),
    [
        (_edit("    return", "    retur"), RepoConfig(), "occurs 4 times"),
        (_edit("absent text", "x"), RepoConfig(), "occurs 0 times"),
        (_edit('    return {"user"', '    return {{"user"'), RepoConfig(), "does not compile"),
        (_edit("from typing import Any\n", "from typing import Any\n"), RepoConfig(), "changes nothing"),
        (_edit("x", "y", path=".github/workflows/ci.yml"), RepoConfig(), "outside the allowed paths"),
        (
            _edit("from typing import Any\n", "from typing import Any\n" * 3),
            RepoConfig(max_diff_lines=1),
            "over the limit",
        ),
        (
            _edit("import asyncio\n", "import asyncio\nimport os\n"),
            RepoConfig(allowed_paths=("src/**",)),
            "outside",
        ),
    ],
)
def test_validation_refuses(patch: Patch, config: RepoConfig, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        validate(patch, LocalSource(SAMPLES / "profile_async"), config)


def test_repository_config_is_read_leniently() -> None:
    config = RepoConfig.parse("enabled_kinds: [cacheable, bogus]\nlabels: [perf]\ndraft: yes\nunknown: 1\n")
    assert config.enabled_kinds == ("cacheable",)
    assert config.labels == ("tsdev-advisor", "perf")
    assert config.draft is True
    assert config.path_allowed("src/app.py") and not config.path_allowed("../etc/passwd")


class _Overlay:
    """A source with some files replaced, for running a codemod on its own output."""

    def __init__(self, base: LocalSource, files: dict[str, str]) -> None:
        self.base, self.files = base, files

    def list_files(self) -> list[str]:
        return self.base.list_files()

    def read(self, path: str) -> str | None:
        return self.files.get(path, self.base.read(path))


def _relocated(location: Location, text: str) -> Location:
    from dataclasses import replace

    from tsdev.advisor.locate import functions

    for name, start, end, is_async in functions(text):
        if name == location.function:
            return replace(location, start_line=start, end_line=end, is_async=is_async)
    raise AssertionError(location)


_ = Path
