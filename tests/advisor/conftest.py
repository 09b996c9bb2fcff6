"""The sample repositories under ``samples/`` are test inputs with their own tests: never collect them."""

import pytest

collect_ignore_glob = ["samples/*"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "repo_config(text): the .tsdev/advisor.yml of the test repository")
