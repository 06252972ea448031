"""Every command explains itself with an example (as sqlite-utils does), and the README names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(cli.app)
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, cmd))

    walk("", root)
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands()
    assert len(commands) >= 20
    missing = [name for name, cmd in commands if "Example" not in (cmd.help or "")]
    assert missing == []


def test_contract_commands_exist() -> None:
    names = {name for name, _ in _commands()}
    contract = {
        "init",
        "case import",
        "case list",
        "case show",
        "case shred",
        "check",
        "build",
        "advance",
        "packet get",
        "audit log",
        "audit verify",
        "audit checkpoint",
        "rules list",
        "rules show",
        "rules test",
        "rules lint",
        "demo",
        "deadlines",
        "serve",
    }
    assert contract <= names, contract - names


def test_readme_mentions_every_top_level_command() -> None:
    for name, _ in _commands():
        assert f"dossier {name.split()[0]}" in README, name
