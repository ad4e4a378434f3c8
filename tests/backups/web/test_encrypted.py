"""Encrypted backups on the web: the age identity is pasted, used in memory, never stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import export
from tests.backups.web.conftest import api, wait_operation


@pytest.fixture
def identity(pruvon_config: Any, pruvon_web_app: Any) -> Any:
    """Encryption on: ``backup.encryption.recipients`` names this identity's recipient."""
    key = pyrage.x25519.Identity.generate()
    pruvon_config.write(pruvon_config.path.read_text() + "  encryption:\n    recipients:\n"
                        f"      - {key.to_public()}\n")
    return key


def test_verify_and_restore_need_the_pasted_identity(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any,
        identity: Any, host: Path, imported: Path, pruvon_config: Any) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    assert record.encrypted
    token = pruvon_web_login("admin")
    path = f"/api/v1/backups/{record.id}"
    plain = api(pruvon_web_client, token, "POST", f"{path}/verify", json={}).get_json()
    assert plain["ok"] and not plain["decrypted"]
    wrong = str(pyrage.x25519.Identity.generate())
    refused = api(pruvon_web_client, token, "POST", f"{path}/verify",
                  json={"identity": wrong}).get_json()
    assert refused["ok"] is False and refused["problem"]
    secret = f"# my key\n{identity}\n"
    checked = api(pruvon_web_client, token, "POST", f"{path}/verify",
                  json={"identity": secret}).get_json()
    assert checked["ok"] and checked["decrypted"]
    no_key = api(pruvon_web_client, token, "POST", f"{path}/restore",
                 json={"confirm": "blog-db", "into": "copy"})
    assert no_key.status_code == 400 and "encrypted" in no_key.get_json()["error"]
    started = api(pruvon_web_client, token, "POST", f"{path}/restore",
                  json={"confirm": "blog-db", "into": "copy", "identity": secret})
    assert started.status_code == 202
    done = wait_operation(pruvon_web_client, started.get_json()["id"], token)
    assert done["status"] == "succeeded", done
    assert imported.read_bytes() == export(host, "postgres", "blog-db")
    # the secret reached no file: operations, audit log, catalogue
    key_text = str(identity)
    for file in pruvon_config.state_dir.rglob("*"):
        if file.is_file():
            assert key_text.encode() not in file.read_bytes(), file
