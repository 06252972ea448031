"""Case-desk accounts through the CLI and the service layer: argon2id, lock-out, idle timeout, disabling, TOTP."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pyotp
import pytest

from tests.clirun import dossier, grep_tree
from tests.conftest import DOSSIER, REPO

PASSWORD = "a long enough passphrase"


@pytest.fixture
def desk_home(home: Path) -> Path:
    from workflows import office

    office.init()
    return home


def _store_files(home: Path) -> list[Path]:
    return [p for p in (home / "store").rglob("*") if p.is_file()]


def test_user_commands_add_list_disable_with_exit_codes(tmp_path: Path) -> None:
    env = {"DOSSIER_HOME": str(tmp_path / "h"), "DOSSIER_ACTOR": "installer"}
    assert dossier("init", env=env).code == 0

    def add(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
        return subprocess.run(
            [str(DOSSIER), "user", "add", *args, "--password-stdin"],
            input=password + "\n",
            env=full,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )

    made = add("anna.k", "--role", "caseworker")
    assert made.returncode == 0 and "account anna.k added with role caseworker" in made.stdout
    assert add("anna.k", "--role", "adviser").returncode == 2  # exists
    bad_role = add("bob", "--role", "boss")
    assert bad_role.returncode == 2 and "caseworker, adviser, auditor, admin" in bad_role.stderr
    assert add("Bad Name", "--role", "admin").returncode == 2
    assert add("shorty", "--role", "admin", password="short").returncode == 2
    listed = json.loads(dossier("user", "list", "--json", env=env).stdout)
    assert listed == [{"username": "anna.k", "role": "caseworker", "disabled": False, "totp": False}]
    disabled = dossier("user", "disable", "anna.k", env=env)
    assert disabled.code == 0 and "disabled" in disabled.stdout
    assert json.loads(dossier("user", "list", "--json", env=env).stdout)[0]["disabled"] is True
    assert dossier("user", "disable", "nobody", env=env).code == 2
    log = json.loads(dossier("audit", "log", "--json", env=env).stdout)
    actions = [(e["action"], e["actor"]) for e in (log if isinstance(log, list) else log["entries"])]
    assert ("add-account", "installer") in actions and ("disable-account", "installer") in actions
    assert dossier("audit", "verify", env=env).code == 0  # the account objects match their recorded hashes


def test_passwords_are_argon2id_hashes_and_never_stored(desk_home: Path) -> None:
    from workflows import accounts

    accounts.add_user("carla", "caseworker", PASSWORD, "admin")
    (account_file,) = [p for p in _store_files(desk_home) if "/accounts/users/" in str(p)]
    stored = json.loads(account_file.read_text())
    assert stored["hash"].startswith("$argon2id$")
    assert "carla" not in account_file.name  # the key is a hash
    assert grep_tree(desk_home, [PASSWORD]) == []
    token, sess = accounts.sign_in("carla", PASSWORD)
    assert sess.role == "caseworker" and accounts.session(token) == sess
    assert grep_tree(desk_home, [token]) == []  # the store keeps only the token's hash


def test_failed_sign_ins_are_slowed_then_locked(desk_home: Path) -> None:
    from workflows import accounts

    accounts.add_user("carla", "caseworker", PASSWORD, "admin")
    started = time.monotonic()
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in("carla", "wrong password!")
    assert time.monotonic() - started >= 0.2 + 0.4 + 0.8 + 1.6  # each failure waits longer
    with pytest.raises(accounts.SignInRefused, match="locked"):
        accounts.sign_in("carla", PASSWORD)  # the right password no longer helps
    from workflows import audit

    assert ("lock-account", "carla") in [(e["action"], e["actor"]) for e in audit.entries()]
    with pytest.raises(accounts.SignInRefused, match="wrong username"):
        accounts.sign_in("nobody.here", PASSWORD)  # unknown users get the same answer


def test_sessions_end_when_idle_disabled_or_signed_out(desk_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflows import accounts

    accounts.add_user("carla", "caseworker", PASSWORD, "admin")
    token, sess = accounts.sign_in("carla", PASSWORD)
    monkeypatch.setenv("DOSSIER_WEB_IDLE_MINUTES", "0.005")  # 0.3 s
    time.sleep(0.5)
    assert accounts.session(token) is None
    assert accounts.session(token) is None  # and it stays ended once the idle time is undone
    monkeypatch.delenv("DOSSIER_WEB_IDLE_MINUTES")
    token, sess = accounts.sign_in("carla", PASSWORD)
    accounts.sign_out(sess)
    assert accounts.session(token) is None
    token, _ = accounts.sign_in("carla", PASSWORD)
    assert accounts.disable_user("carla", "admin") is True
    assert accounts.session(token) is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in("carla", PASSWORD)


def test_totp_second_factor(desk_home: Path) -> None:
    from workflows import accounts

    account, uri = accounts.add_user("tina", "auditor", PASSWORD, "admin", totp=True)
    assert account.totp and uri is not None and uri.startswith("otpauth://totp/")
    secret = pyotp.parse_uri(uri).secret
    assert grep_tree(desk_home, [secret]) == []  # kept age-encrypted to the organisation
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in("tina", PASSWORD)  # no code
    _token, sess = accounts.sign_in("tina", PASSWORD, pyotp.TOTP(secret).now())
    assert sess.role == "auditor"
