"""The README and the CLI agree both ways: every command or option it shows exists, every command is shown.

Only code (fenced blocks and `inline code`) counts: that is what a caseworker copies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import typer.main

import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])(?![\w-])")


def _code_lines() -> list[str]:
    lines: list[str] = []
    fenced = False
    for line in README.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(line.split(" #", 1)[0])
        else:
            lines += re.findall(r"`([^`]+)`", line)
    return lines


def _invocations() -> list[tuple[str, list[str], str]]:
    """(command words, options, the README text) for every `dossier ...` shown in code."""
    root = typer.main.get_command(cli.app)
    found: list[tuple[str, list[str], str]] = []
    for line in _code_lines():
        for m in re.finditer(r"(?:^|[\s/(])dossier((?: [a-z][\w-]*)+)(.*)", line):
            words = m.group(1).split()
            cmd: Any = root
            path: list[str] = []
            while words and getattr(cmd, "commands", None) and words[0] in cmd.commands:
                word = words.pop(0)
                cmd = cmd.commands[word]
                path.append(word)
            if not path:  # `dossier <word>` where <word> is no command: reported by the test below
                found.append((m.group(1).split()[0], [], line))
                continue
            rest = " ".join(words) + m.group(2)
            rest = re.split(r"\s(?:\||&&|;)\s", rest)[0]
            found.append((" ".join(path), _OPTION.findall(rest), line))
    return found


def _command(path: str) -> Any:
    cmd: Any = typer.main.get_command(cli.app)
    for word in path.split():
        cmd = cmd.commands.get(word) if getattr(cmd, "commands", None) else None
        if cmd is None:
            return None
    return cmd


def _leaf_commands() -> list[str]:
    names: list[str] = []

    def walk(prefix: str, cmd: Any) -> None:
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            names.append(prefix)

    walk("", typer.main.get_command(cli.app))
    return names


def test_every_command_and_option_the_readme_shows_exists() -> None:
    shown = _invocations()
    assert len(shown) > 30
    wrong = []
    for path, options, line in shown:
        cmd = _command(path)
        if cmd is None:
            wrong.append(f"no command `dossier {path}` ({line.strip()})")
            continue
        known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
        wrong += [f"`dossier {path}` has no option {o} ({line.strip()})" for o in options if o not in known]
    assert wrong == []


def test_every_command_has_a_readme_line() -> None:
    shown = {path for path, _, _ in _invocations()}
    assert [c for c in _leaf_commands() if c not in shown] == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_faces_reach_rules_packets_and_storage_only_through_workflows() -> None:
    faces = [REPO / "cli.py", *sorted((REPO / "web").rglob("*.py"))] if (REPO / "web").is_dir() else [REPO / "cli.py"]
    reaching = {str(f.relative_to(REPO)): _imports(f) & {"country_rules", "packets", "storage"} for f in faces}
    assert {f: sorted(names) for f, names in reaching.items() if names} == {}
