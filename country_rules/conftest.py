"""Pytest collects the advisers' YAML rule tests: one test item per sentence, named by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from country_rules.loading import RULES_ROOT
from country_rules.ruletests import Fixtures, RuleTest, load_fixtures, load_tests, run_one


class RuleTestFailed(Exception):
    """A YAML rule test whose checklist differs from the expected output."""


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect country_rules/<country>/tests/*.yaml (fixtures.yaml holds base cases, not tests)."""
    if (
        file_path.suffix == ".yaml"
        and file_path.parent.name == "tests"
        and file_path.name != "fixtures.yaml"
        and (file_path.parent.parent / "country.yaml").is_file()
    ):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


class RuleTestFile(pytest.File):
    """One file of YAML rule tests."""

    def collect(self) -> Iterator[pytest.Item]:
        fixtures = load_fixtures(self.path.parent.parent, RULES_ROOT / "fixtures.yaml")
        for test in load_tests(self.path):
            yield RuleTestItem.from_parent(self, name=test.name, test=test, fixtures=fixtures)


class RuleTestItem(pytest.Item):
    """One YAML rule test (a sentence)."""

    def __init__(self, *, test: RuleTest, fixtures: Fixtures, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.fixtures = fixtures

    def runtest(self) -> None:
        result = run_one(self.test, self.fixtures)
        if not result.passed:
            raise RuleTestFailed("\n".join(result.failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RuleTestFailed):
            return f"{self.test.where}: {self.test.name}\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.test.line - 1, self.test.name
