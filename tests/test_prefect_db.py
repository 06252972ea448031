"""A new PREFECT_HOME gets Prefect's migrated empty database from the template, never replacing one."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import prefect_db


def test_new_home_gets_the_template_and_an_existing_database_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("PREFECT_API_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(key, raising=False)
    template = prefect_db.ensure_template()  # made by `make setup`; made here if missing (about 10 s)
    home = tmp_path / "prefect"
    line = prefect_db.prepare(home)
    assert line.startswith("prefect: created database")
    db = home / prefect_db.DB_NAME
    assert db.read_bytes() == template.read_bytes()
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"
    db.write_bytes(b"SQLite format 3\x00 runs of this home")
    assert prefect_db.prepare(home).startswith("prefect: kept database")
    assert db.read_bytes() == b"SQLite format 3\x00 runs of this home"
    assert [p.name for p in home.iterdir()] == [prefect_db.DB_NAME]  # no partial copy left


def test_nothing_is_prepared_when_prefect_uses_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert "configured elsewhere" in prefect_db.prepare(tmp_path / "prefect")
    assert not (tmp_path / "prefect").exists()
