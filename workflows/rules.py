"""The rules as advisers read and test them: what the faces show, through the service layer."""

from __future__ import annotations

from datetime import date
from typing import Any

from country_rules.adviser import lint_rules, rules_overview, show_rules, suspensions_in_force
from country_rules.ruletests import RuleTestResult, run_rule_tests

__all__ = ["lint", "overview", "show", "suspensions", "test"]


def overview() -> list[dict[str, Any]]:
    """Every country, its procedures, their stages in order and the rules version."""
    return rules_overview()


def show(country: str, procedure: str | None = None, on: date | None = None) -> list[dict[str, Any]]:
    """The requirement texts (with sources and dates) of a country or one procedure, optionally on a date."""
    return show_rules(country, procedure, on=on)


def test(country: str | None = None) -> list[RuleTestResult]:
    """Run the YAML rule tests (all countries, or one)."""
    return run_rule_tests(country)


def lint() -> list[str]:
    """Every problem in the rules: unknown predicates, kinds, templates, variables, keys, tests."""
    return lint_rules()


def suspensions(country: str, procedure: str | None = None, on: date | None = None) -> list[dict[str, Any]]:
    """Procedures and stages suspended (on a date, or ever), with reason, source and exception."""
    return suspensions_in_force(country, procedure, on)
