"""The web console's static files are shipped and served, every module they load exists, and the
development sign-in stays off unless asked for."""

import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sealflow_intake.config import IntakeSettings
from sealflow_intake.entrypoints import console

ROOT = Path(str(console.CONSOLE_DIR))


def test_the_console_is_served_under_app() -> None:
    app = FastAPI()
    console.mount(app)
    client = TestClient(app)
    page = client.get("/app/")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text and 'name="viewport"' in page.text
    script = client.get("/app/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/app/app.css").status_code == 200
    assert client.get("/app/js/nope.js").status_code == 404


def test_every_view_and_import_exists() -> None:
    views = re.findall(r'\[/\^.*?\$/, "([a-z]+)"', (ROOT / "js" / "main.js").read_text())
    assert set(views) >= {"login", "verify", "mine", "submit", "tasks", "supervise", "matter", "trail"}
    for name in views:
        assert (ROOT / "js" / "views" / f"{name}.js").exists(), name
    for module in ROOT.rglob("*.js"):
        for target in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().exists(), (module.name, target)


def test_dev_login_is_off_by_default_and_needs_a_shared_secret() -> None:
    assert IntakeSettings(jwt_secret="s").dev_login is False
    with pytest.raises(ValidationError, match="SEALFLOW_DEV_LOGIN needs SEALFLOW_JWT_SECRET"):
        IntakeSettings(jwt_public_key="-----BEGIN PUBLIC KEY-----", dev_login=True)
    # The published contract is generated from a default build: no development route in it.
    paths = json.loads((Path(__file__).parents[2] / "contracts" / "openapi" / "intake.json").read_text())["paths"]
    assert "/v1/me" in paths and not [p for p in paths if p.startswith("/v1/dev")]
