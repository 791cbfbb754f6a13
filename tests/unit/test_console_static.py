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
from sealflow_routing.domain.directory import ROLE_NAMES

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
    views = re.findall(r'\[/\^.*?\$/, "([a-z-]+)"', (ROOT / "js" / "main.js").read_text())
    assert set(views) >= {"login", "verify", "mine", "submit", "tasks", "supervise", "matter", "trail"}
    assert {"public", "done", "search", "seal-uses", "accountability"} <= set(views)  # issue 14's screens
    # The QR code's page (村务公开) opens without signing in.
    assert '"public", { public: true }' in (ROOT / "js" / "main.js").read_text()
    assert {
        "admin",
        "admin-villages",
        "admin-people",
        "admin-import",
        "admin-types",
        "admin-type",
        "admin-policies",
        "admin-policy",
        "admin-calendar",
        "admin-seals",
        "admin-subscriptions",
        "admin-trail",
    } <= set(views)
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


def test_the_console_holds_no_list_of_the_towns_villages_types_or_people() -> None:
    """The town is data (docs/rules.md §7): villages, matter types, forms and people come from the API, never from code.
    No id of the pilot's town, villages, people or matter types appears in the console, nor any of their
    names as a string of its own (a sentence such as "请联系镇管理员" is prose, not a list)."""
    seed = Path(__file__).parents[2] / "services" / "routing" / "src" / "sealflow_routing" / "seed" / "pilot.json"
    pilot = json.loads(seed.read_text())
    forms = pilot.get("matter_types", [])
    ids = {pilot["town"]["id"]} | {v["id"] for v in pilot["villages"]} | {p["id"] for p in pilot["people"]}
    ids |= {p["matter_type"] for p in pilot["policies"]} | {t["id"] for t in forms}
    places = {pilot["town"]["name"]} | {v["name"] for v in pilot["villages"]}
    names = {p["name"] for p in pilot["people"]} | {p["title"] for p in pilot["policies"]}
    names |= {t["name"] for t in forms} | {f["label"] for t in forms for f in t["form"]["fields"]}
    names -= set(ROLE_NAMES.values())  # the system's fixed role vocabulary ("镇纪委" is a pilot person's name and a role's)
    for path in [*ROOT.rglob("*.js"), ROOT / "index.html"]:
        text = path.read_text()
        found = sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
        found += sorted(p for p in places if p in text)
        found += sorted(n for n in names if re.search(rf"[\"'`]{re.escape(n)}[\"'`（(]", text))
        assert not found, f"{path.relative_to(ROOT)} names the town's data: {found}"
