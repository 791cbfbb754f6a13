"""The town runs it itself (docs/rules.md §7, issue 13), over HTTP with the real services: a village added with its
cooperative seal, its people imported from a spreadsheet (a bad row writes nothing), a matter type with its
form, a matter of that type submitted and approved through to a sealed PDF that verifies; lost updates
refused; fields checked against the form; a revoked seal refused for new acts while what it sealed before
still verifies; `sealflow token` and sign-in following the directory as it stands."""

import io
import os
import subprocess
import sys

import pytest
from openpyxl import Workbook

from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e

ADMIN = "yinong-admin"
ROLES = ("bookkeeper", "director", "supervisor", "secretary")


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def roster_rows(village: str) -> list[list[object]]:
    names = {"bookkeeper": "报账员", "director": "村委会主任", "supervisor": "村监委会主任", "secretary": "村党组织书记"}
    return [["编号", "姓名", "村", "角色", "电话"]] + [
        [f"{village}-{role}", f"新村{names[role]}", village, role, "13800000000"] for role in ROLES
    ]


def add_village(api: Api, village: str) -> dict:
    with api.as_(ADMIN) as admin:
        response = admin.post(
            "/v1/admin/villages",
            json={
                "id": village,
                "name": f"新村{village[-4:]}",
                "liaison_cadre": "yinong-cadre-sanwei",
                "liaison_leader": "yinong-leader-b",
            },
        )
    assert response.status_code == 201, response.text
    return response.json()


def seal_of(api: Api, seal_id: str) -> dict | None:
    with api.as_(ADMIN) as admin:
        return next((s for s in admin.get("/v1/admin/seals").json() if s["id"] == seal_id), None)


def form_type(api: Api, type_id: str) -> dict:
    """A new kind of matter with its own form, and a three-stage route ending with the village's seal then the liaison cadre."""
    form = {
        "fields": [
            {"key": "activity", "label": "活动名称", "type": "text", "required": True},
            {"key": "method", "label": "组织方式", "type": "select", "required": True, "options": ["自办", "委托"]},
            {"key": "budget_fen", "label": "预算金额", "type": "money", "required": True},
            {"key": "starts_on", "label": "开始日期", "type": "date", "required": True, "meaning": "service_start"},
            {"key": "counterparty", "label": "承办方", "type": "text", "meaning": "counterparty"},
            {"key": "people", "label": "参加人数", "type": "number"},
        ]
    }
    policy = {
        "title": "村级文体活动呈报表",
        "domain": "services",
        "stages": [
            {
                "name": "村两委会签",
                "mode": "all",
                "deadline_working_days": 1,
                "seal": None,
                "selectors": [{"kind": "village_role", "role": "director"}, {"kind": "village_role", "role": "supervisor"}],
            },
            {
                "name": "村党组织书记",
                "mode": "any",
                "deadline_working_days": 1,
                "seal": "village_coop",
                "selectors": [{"kind": "village_role", "role": "secretary"}],
            },
            {"name": "联村干部", "mode": "any", "deadline_working_days": 1, "seal": None, "selectors": [{"kind": "liaison_cadre"}]},
        ],
    }
    with api.as_(ADMIN) as admin:
        created = admin.put(f"/v1/admin/matter-types/{type_id}", json={"name": "村级文体活动呈报表", "form": form})
        assert created.status_code == 200 and created.json()["version"] == 1, created.text
        assert admin.put(f"/v1/admin/policies/{type_id}", json=policy).status_code == 200
    return created.json()


def submission(village: str, type_id: str, title: str, **fields) -> dict:
    return {
        "village_id": village,
        "matter_type": type_id,
        "title": title,
        "amount_fen": 300_000,
        "fields": {"activity": "重阳节敬老活动", "method": "自办", "budget_fen": 300_000, "starts_on": "2027-10-09", **fields},
        "attachments": [],
    }


def matter_of(api: Api, matter_id: str, person: str) -> dict:
    with api.as_(person) as client:
        response = client.get(f"/v1/matters/{matter_id}")
    assert response.status_code == 200, response.text
    return response.json()


def approve_route(api: Api, matter: dict, route: list[tuple[int, list[str]]]) -> None:
    applicant = matter["applicant_id"]
    for stage, people in route:
        for person in people:
            wait_for(lambda s=stage: matter_of(api, matter["id"], applicant)["current_stage"] == s, what=f"stage {stage} open")
            with api.as_(person) as client:
                response = client.post(
                    f"/v1/matters/{matter['id']}/decisions",
                    json={"stage": stage, "decision": "approve", "comment": "同意", "digest": matter["digest"]},
                )
            assert response.status_code == 200, response.text


def sealed_pdf(api: Api, matter_id: str, person: str) -> bytes:
    def fetch():
        with api.as_(person) as client:
            response = client.get(f"/v1/matters/{matter_id}/document")
        return response if response.status_code == 200 and response.headers.get("X-Sealflow-Sealed") == "true" else None

    return wait_for(fetch, timeout=180, what="the sealed document").content


def verify(api: Api, pdf: bytes) -> dict:
    with api.anonymous() as anyone:
        response = anyone.post("/v1/verify", files={"file": ("sealed.pdf", pdf, "application/pdf")})
    assert response.status_code == 200, response.text
    return response.json()


def token_cli(stack, person_id: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEALFLOW_JWT_SECRET": stack.jwt_secret}
    return subprocess.run(
        [sys.executable, "-m", "sealflow_cli.main", "token", person_id, "--url", stack.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_a_new_village_with_imported_people_and_its_own_form_seals_and_verifies(api: Api, stack, unique: str) -> None:
    village = f"v{unique}"
    type_id = f"activity_{unique}"
    with api.as_("jiulian-director") as director:
        refused(
            director.post(
                "/v1/admin/villages",
                json={"id": village, "name": "x", "liaison_cadre": "yinong-cadre-sanwei", "liaison_leader": "yinong-leader-b"},
            ),
            403,
            "forbidden",
        )
    created = add_village(api, village)
    assert created["coop_seal"] == f"{village}-coop" and created["version"] == 1 and created["active"] is True
    with api.as_(ADMIN) as admin:
        refused(
            admin.post(
                "/v1/admin/villages",
                json={"id": village, "name": "重复", "liaison_cadre": "yinong-cadre-sanwei", "liaison_leader": "yinong-leader-b"},
            ),
            409,
            "already_exists",
        )
        body = refused(
            admin.post(
                "/v1/admin/villages",
                json={"id": f"w{unique}", "name": "无干部村", "liaison_cadre": "nobody", "liaison_leader": "yinong-leader-b"},
            ),
            422,
            "invalid_field",
        )
        assert "liaison_cadre" in body["error"]["message"]
    # signing makes the village's cooperative seal, with its certificate and the maker's signature.
    seal = wait_for(
        lambda: (s := seal_of(api, f"{village}-coop")) and s["has_certificate"] and s["maker_signed"] and s,
        timeout=60,
        what="the new village's seal",
    )
    assert seal["holder"] == village and seal["allowed_roles"] == ["secretary"] and seal["status"] == "active"
    assert seal["name"] == f"{created['name']}经济联合社电子印章"
    # Everyone signed in sees it at once.
    with api.as_("sanwei-bookkeeper") as someone:
        assert village in [v["id"] for v in someone.get("/v1/villages").json()]

    # Its four people from the town office's spreadsheet: first with a bad row — a dry run shows it, and
    # neither the dry run nor the real import writes anything while a row is bad.
    bad = roster_rows(village) + [[f"{village}-clerk", "文书", village, "wizard", ""]]
    with api.as_(ADMIN) as admin:
        preview = admin.post(
            "/v1/admin/people/import", params={"dry_run": "true"}, files={"file": ("名册.xlsx", xlsx(bad), "application/octet-stream")}
        )
        assert preview.status_code == 200, preview.text
        rows = preview.json()["rows"]
        assert [r["ok"] for r in rows] == [True, True, True, True, False] and rows[4]["row"] == 6 and "wizard" in rows[4]["errors"][0]
        assert preview.json()["created"] == 0 and preview.json()["would_create"] == 4 and preview.json()["dry_run"] is True
        real = admin.post("/v1/admin/people/import", files={"file": ("名册.xlsx", xlsx(bad), "application/octet-stream")})
        body = refused(real, 422, "invalid_roster")
        assert [r["ok"] for r in body["rows"]] == [True, True, True, True, False] and body["created"] == 0
        assert admin.get("/v1/admin/people", params={"village_id": village}).json()["items"] == []
        imported = admin.post(
            "/v1/admin/people/import", files={"file": ("名册.xlsx", xlsx(roster_rows(village)), "application/octet-stream")}
        )
        assert imported.status_code == 200 and imported.json()["created"] == 4, imported.text
        people = admin.get("/v1/admin/people", params={"village_id": village}).json()["items"]
        assert sorted(p["id"] for p in people) == sorted(f"{village}-{r}" for r in ROLES)

        # Its own liaison cadre: a new town cadre, then assigned to the village (at the version seen).
        cadre = f"yinong-cadre-{village}"
        assert (
            admin.post(
                "/v1/admin/people", json={"id": cadre, "name": "新村联村干部", "village_id": None, "roles": ["liaison_cadre"]}
            ).status_code
            == 201
        )
        assigned = admin.patch(f"/v1/admin/villages/{village}", json={"liaison_cadre": cadre}, headers={"If-Match": "1"})
        assert assigned.status_code == 200 and assigned.json()["liaison_cadre"] == cadre and assigned.json()["version"] == 2, assigned.text
        refused(admin.patch(f"/v1/admin/villages/{village}", json={"name": "改名"}, headers={"If-Match": "1"}), 409, "conflict")
    with api.as_(ADMIN) as admin:
        dev_people = [p["id"] for p in admin.get("/v1/dev/people").json()]
    assert f"{village}-bookkeeper" in dev_people and cadre in dev_people

    # A matter type with its form, and its route.
    form_type(api, type_id)
    bookkeeper = f"{village}-bookkeeper"
    with api.as_(bookkeeper) as client:
        listed = {t["id"]: t for t in client.get("/v1/matter-types").json()}
        assert listed[type_id]["has_policy"] and [f["key"] for f in listed[type_id]["form"]["fields"]][:2] == ["activity", "method"]
        # The form is checked: a required field missing, a wrong type, an option not offered, an unknown key.
        incomplete = submission(village, type_id, f"文体活动 {unique}")
        del incomplete["fields"]["method"]
        assert "method" in refused(client.post("/v1/matters", json=incomplete), 422, "invalid_field")["error"]["message"]
        wrong = submission(village, type_id, f"文体活动 {unique}", budget_fen="三千元")
        assert "budget_fen" in refused(client.post("/v1/matters", json=wrong), 422, "invalid_field")["error"]["message"]
        assert (
            "method"
            in refused(client.post("/v1/matters", json=submission(village, type_id, "x", method="外包")), 422, "invalid_field")["error"][
                "message"
            ]
        )
        assert (
            "采购方式"
            in refused(client.post("/v1/matters", json=submission(village, type_id, "x", 采购方式="公开招标")), 422, "invalid_field")[
                "error"
            ]["message"]
        )
        response = client.post("/v1/matters", json=submission(village, type_id, f"文体活动 {unique}", counterparty="村文体队", people=60))
    assert response.status_code == 201, response.text
    matter = response.json()
    assert matter["form_version"] == 1 and matter["policy_version"] == 1
    assert [[a["person_id"] for a in s["assignees"]] for s in matter["stages"]] == [
        [f"{village}-director", f"{village}-supervisor"],
        [f"{village}-secretary"],
        [cadre],
    ]

    approve_route(api, matter, [(1, [f"{village}-director", f"{village}-supervisor"]), (2, [f"{village}-secretary"]), (3, [cadre])])
    done = wait_for(lambda: (x := matter_of(api, matter["id"], bookkeeper))["status"] == "completed" and x, timeout=120, what="completion")
    assert [(s["seal_id"], s["stage"]) for s in done["seals"]] == [(f"{village}-coop", 2)]
    result = verify(api, sealed_pdf(api, matter["id"], bookkeeper))
    assert result["valid"] is True, result
    assert [s["seal_id"] for s in result["seals"]] == [f"{village}-coop"] and result["seals"][0]["maker_signature_valid"]

    # `sealflow token` knows the people the administrator added; a deactivated person is refused there and
    # at sign-in, straight away.
    minted = token_cli(stack, bookkeeper)
    assert minted.returncode == 0 and minted.stdout.count(".") == 2, minted.stderr
    assert token_cli(stack, f"nobody-{unique}").returncode == 2
    supervisor = f"{village}-supervisor"
    with api.as_(ADMIN) as admin:
        before = next(p for p in admin.get("/v1/admin/people", params={"village_id": village}).json()["items"] if p["id"] == supervisor)
    with api.as_(supervisor) as client:
        assert client.get("/v1/me").status_code == 200
        with api.as_(ADMIN) as admin:
            off = admin.patch(f"/v1/admin/people/{supervisor}", json={"active": False}, headers={"If-Match": str(before["version"])})
        assert off.status_code == 200 and off.json()["active"] is False, off.text
        refused(client.get("/v1/me"), 401, "person_inactive")
    gone = token_cli(stack, supervisor)
    assert gone.returncode == 2 and "已停用" in gone.stderr and "deactivated" in gone.stderr
    with api.anonymous() as anyone:
        refused(anyone.post("/v1/dev/token", json={"person_id": supervisor}), 401, "person_inactive")
    # Nobody is given a task they cannot take: the supervisor's slot is now vacant.
    with api.as_(bookkeeper) as client:
        refused(client.post("/v1/matters", json=submission(village, type_id, f"空缺 {unique}")), 422, "route_unresolved")
    # Every change is in the administration trail, before → after, and the chains hold.
    with api.as_(ADMIN) as admin:
        trail = admin.get("/v1/admin/trail").json()
    assert trail["chain_valid"] is True
    deactivated = [e for e in trail["entries"] if e["type"] == "person.deactivated" and e["data"]["id"] == supervisor]
    assert deactivated and deactivated[0]["data"]["before"]["active"] is True and deactivated[0]["data"]["after"]["active"] is False
    assert any(e["type"] == "village.added" and e["data"]["id"] == village for e in trail["entries"])
    assert any(e["type"] == "seal.created" and e["data"]["id"] == f"{village}-coop" and e["source"] == "seals" for e in trail["entries"])
    assert sum(e["type"] == "person.added" and e["data"]["id"].startswith(village) for e in trail["entries"]) == 4


def test_lost_updates_are_refused(api: Api, unique: str) -> None:
    person = f"jiulian-clerk-{unique}"
    with api.as_(ADMIN) as admin:
        created = admin.post(
            "/v1/admin/people",
            json={"id": person, "name": "久联村文书", "village_id": "jiulian", "roles": ["bookkeeper"], "phone": "13900000000"},
        )
        assert created.status_code == 201 and created.json()["version"] == 1, created.text
        refused(
            admin.post("/v1/admin/people", json={"id": person, "name": "again", "village_id": "jiulian", "roles": ["bookkeeper"]}),
            409,
            "already_exists",
        )
        assert (
            "roles"
            in refused(
                admin.post("/v1/admin/people", json={"id": f"x-{unique}", "name": "x", "village_id": "jiulian", "roles": ["wizard"]}),
                422,
                "invalid_field",
            )["error"]["message"]
        )
        assert (
            "village_id"
            in refused(
                admin.post("/v1/admin/people", json={"id": f"x-{unique}", "name": "x", "village_id": None, "roles": ["director"]}),
                422,
                "invalid_field",
            )["error"]["message"]
        )
        refused(admin.patch(f"/v1/admin/people/{person}", json={"name": "无版本"}), 428, "precondition_required")
        # Two administrators read version 1; the first saves, the second is refused and told who changed it.
        first = admin.patch(f"/v1/admin/people/{person}", json={"email": "clerk@jiulian.example"}, headers={"If-Match": "1"})
        assert first.status_code == 200 and first.json()["version"] == 2, first.text
        lost = refused(
            admin.patch(f"/v1/admin/people/{person}", json={"phone": "13700000000"}, headers={"If-Match": '"1"'}), 409, "conflict"
        )
        assert ADMIN in lost["error"]["message"]
        assert admin.patch(f"/v1/admin/people/{person}", json={"phone": "13700000000"}, headers={"If-Match": "2"}).json()["version"] == 3

        # A policy: the second of two edits made from version 1 is refused.
        policy = admin.get("/v1/admin/policies/seal_use").json()["versions"][-1]
        seen = policy["version"]
        edited = {k: v for k, v in policy.items() if k not in ("version", "matter_type", "_id")}
        saved = admin.put("/v1/admin/policies/seal_use", json={**edited, "title": "村级用印申请表"}, headers={"If-Match": str(seen)})
        assert saved.status_code == 200 and saved.json()["version"] == seen + 1, saved.text
        refused(admin.put("/v1/admin/policies/seal_use", json={**edited, "title": "改"}, headers={"If-Match": str(seen)}), 409, "conflict")

        # A matter type: creating one that exists (no If-Match) or saving from an old version is refused.
        tender = admin.get("/v1/admin/matter-types/service_procurement/versions").json()["versions"][-1]
        refused(
            admin.put("/v1/admin/matter-types/service_procurement", json={"name": tender["name"], "form": tender["form"]}), 409, "conflict"
        )
        refused(
            admin.put(
                "/v1/admin/matter-types/service_procurement",
                json={"name": tender["name"], "form": tender["form"]},
                headers={"If-Match": str(tender["version"] + 5)},
            ),
            409,
            "conflict",
        )
        bad_form = {"name": "坏表单", "form": {"fields": [{"key": "a", "label": "甲", "type": "select"}]}}
        refused(admin.put(f"/v1/admin/matter-types/bad_{unique}", json=bad_form), 422, "invalid_field")

        # The whole directory, checked the same way.
        directory = admin.get("/v1/admin/directory").json()
        stale = directory["version"] - 1
        refused(admin.put("/v1/admin/directory", json=directory, headers={"If-Match": str(stale)}), 409, "conflict")
        without_clerk = {**directory, "people": [p for p in directory["people"] if p["id"] != person]}
        refused(
            admin.put("/v1/admin/directory", json=without_clerk, headers={"If-Match": str(directory["version"])}), 422, "invalid_directory"
        )

        trail = admin.get("/v1/admin/trail").json()
    changed = [e for e in trail["entries"] if e["type"] == "person.changed" and e["data"]["id"] == person]
    assert [(e["data"]["before"]["version"], e["data"]["after"]["version"]) for e in changed] == [(1, 2), (2, 3)]
    assert changed[0]["data"]["after"]["email"] == "clerk@jiulian.example" and changed[0]["data"]["before"]["email"] is None


def test_a_revoked_seal_is_refused_for_new_matters_and_what_it_sealed_still_verifies(api: Api, unique: str) -> None:
    village = f"r{unique}"
    type_id = f"activity_{unique}"
    add_village(api, village)
    with api.as_(ADMIN) as admin:
        for role in ROLES:
            response = admin.post(
                "/v1/admin/people", json={"id": f"{village}-{role}", "name": f"新村{role}", "village_id": village, "roles": [role]}
            )
            assert response.status_code == 201, response.text
    form_type(api, type_id)
    seal_id = f"{village}-coop"
    wait_for(lambda: (s := seal_of(api, seal_id)) and s["maker_signed"], timeout=60, what="the village's seal")
    bookkeeper = f"{village}-bookkeeper"
    route = [(1, [f"{village}-director", f"{village}-supervisor"]), (2, [f"{village}-secretary"]), (3, ["yinong-cadre-sanwei"])]

    with api.as_(bookkeeper) as client:
        old = client.post("/v1/matters", json=submission(village, type_id, f"吊销前 {unique}")).json()
    approve_route(api, old, route)
    wait_for(lambda: matter_of(api, old["id"], bookkeeper)["status"] == "completed", timeout=120, what="the first matter's completion")
    old_pdf = sealed_pdf(api, old["id"], bookkeeper)

    with api.as_(ADMIN) as admin:
        refused(admin.post(f"/v1/admin/seals/{seal_id}/revoke", json={"reason": ""}), 422, "invalid_field")
        with api.as_("jiulian-director") as director:
            refused(director.post(f"/v1/admin/seals/{seal_id}/revoke", json={"reason": "x"}), 403, "forbidden")
        revoked = admin.post(f"/v1/admin/seals/{seal_id}/revoke", json={"reason": "印章管理人员变更，旧章停用"})
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"], revoked.text
        refused(admin.post(f"/v1/admin/seals/{seal_id}/renew", json={"valid_to": "2040-01-01T00:00:00+08:00"}), 422, "invalid_seal")
        refused(admin.post("/v1/admin/seals/nope/revoke", json={"reason": "x"}), 404, "seal_not_found")

    with api.as_(bookkeeper) as client:
        new = client.post("/v1/matters", json=submission(village, type_id, f"吊销后 {unique}")).json()
    approve_route(api, new, route[:2])

    def refusal_in_trail():
        with api.as_(bookkeeper) as client:
            entries = client.get(f"/v1/matters/{new['id']}/trail").json()["entries"]
        return [e for e in entries if e["type"] == "seal.refused"]

    refusals = wait_for(refusal_in_trail, timeout=90, what="seal.refused in the new matter's trail")
    assert seal_id in str(refusals[0]["data"]) and "吊销" in str(refusals[0]["data"])
    assert matter_of(api, new["id"], bookkeeper)["seals"] == []

    # Sealed while the seal was good: still valid.
    result = verify(api, old_pdf)
    assert result["valid"] is True, result
    assert (
        result["seals"][0]["seal_id"] == seal_id and result["seals"][0]["revoked_at"] and result["seals"][0]["revoked_before_use"] is False
    )
    with api.as_(ADMIN) as admin:
        trail = admin.get("/v1/admin/trail").json()
    assert any(e["type"] == "seal.revoked" and e["data"]["id"] == seal_id for e in trail["entries"]) and trail["chain_valid"]


def test_seals_are_created_and_renewed_by_the_administrator(api: Api, unique: str) -> None:
    seal_id = f"test-{unique}"
    with api.as_(ADMIN) as admin:
        refused(
            admin.post("/v1/admin/seals", json={"id": seal_id, "name": "测试章", "holder": "yinong", "allowed_roles": []}),
            422,
            "invalid_field",
        )
        created = admin.post(
            "/v1/admin/seals",
            json={
                "id": seal_id,
                "name": "益农镇测试专用章",
                "holder": "yinong",
                "allowed_roles": ["principal"],
                "valid_to": "2030-01-01T00:00:00+08:00",
            },
        )
        assert created.status_code == 201 and created.json()["has_certificate"] and created.json()["maker_signed"], created.text
        refused(
            admin.post("/v1/admin/seals", json={"id": seal_id, "name": "重复", "holder": "yinong", "allowed_roles": ["principal"]}),
            409,
            "already_exists",
        )
        refused(admin.post(f"/v1/admin/seals/{seal_id}/renew", json={"valid_to": "2029-01-01T00:00:00+08:00"}), 422, "invalid_field")
        renewed = admin.post(f"/v1/admin/seals/{seal_id}/renew", json={"valid_to": "2032-01-01T00:00:00+08:00"})
        assert renewed.status_code == 200 and renewed.json()["valid_to"].startswith("2032-01-01") and renewed.json()["version"] == 2, (
            renewed.text
        )
        entries = admin.get("/v1/admin/trail").json()["entries"]
    renewal = next(e for e in entries if e["type"] == "seal.renewed" and e["data"]["id"] == seal_id)
    assert renewal["data"]["before"]["valid_to"].startswith("2030-01-01") and renewal["data"]["after"]["valid_to"].startswith("2032-01-01")


def test_subscriptions_are_listed_and_tested(api: Api, unique: str) -> None:
    with api.as_(ADMIN) as admin:
        put = admin.put(
            f"/v1/subscriptions/sub-{unique}",
            json={"subscriber": "jiulian-director", "channel": "webhook", "target": "http://127.0.0.1:9/hook", "secret": "s3cret"},
        )
        assert put.status_code == 200, put.text
        listed = admin.get("/v1/admin/subscriptions", params={"subscriber": "jiulian-director"}).json()["items"]
        mine = next(s for s in listed if s["id"] == f"sub-{unique}")
        assert "secret" not in mine and mine["target"] == "http://127.0.0.1:9/hook"
        tried = admin.post(f"/v1/admin/subscriptions/sub-{unique}/test")
        assert tried.status_code == 200 and tried.json()["delivered"] is False and tried.json()["detail"], tried.text
        refused(admin.post(f"/v1/admin/subscriptions/none-{unique}/test"), 404, "subscription_not_found")
    with api.as_("jiulian-director") as director:
        refused(director.get("/v1/admin/subscriptions"), 403, "forbidden")


def test_calendar_overrides_are_listed_for_the_administrator(api: Api) -> None:
    with api.as_(ADMIN) as admin:
        assert admin.put("/v1/supervision/calendar/2030-10-08", json={"working": False, "note": "国庆调休（测试）"}).status_code == 200
        days = admin.get("/v1/admin/calendar").json()
        assert {"day": "2030-10-08", "working": False, "note": "国庆调休（测试）", "set_by": ADMIN} in days
        assert admin.put("/v1/supervision/calendar/2030-10-08", json={"working": None}).status_code == 200
    with api.as_("jiulian-director") as director:
        refused(director.get("/v1/admin/calendar"), 403, "forbidden")


def test_a_village_variant_routes_that_village_its_own_way(api: Api, unique: str) -> None:
    """One matter type, two routes: 三围村 (a variant) signs its committee in sequence and goes straight to its
    liaison leader; 久联村 keeps the policy's route. A variant naming a village not in the directory is refused."""
    type_id = f"variant_{unique}"
    form_type(api, type_id)
    with api.as_(ADMIN) as admin:
        versions = admin.get(f"/v1/admin/policies/{type_id}").json()["versions"]
        policy = {k: v for k, v in versions[-1].items() if k not in ("version", "matter_type")}
        variant = {
            "villages": ["sanwei"],
            "note": "三围村试点：两委依次签，直接报联村领导",
            "stages": [
                {"name": "村两委依次签", "mode": "sequence", "deadline_working_days": 1,
                 "selectors": [{"kind": "village_role", "role": "director"}, {"kind": "village_role", "role": "supervisor"}]},
                {"name": "联村领导", "mode": "any", "deadline_working_days": 2, "selectors": [{"kind": "liaison_leader"}]},
            ],
        }  # fmt: skip
        refused(
            admin.put(
                f"/v1/admin/policies/{type_id}",
                json={**policy, "variants": [{**variant, "villages": ["nowhere"]}]},
                headers={"If-Match": "1"},
            ),
            422,
            "invalid_policy",
        )
        saved = admin.put(f"/v1/admin/policies/{type_id}", json={**policy, "variants": [variant]}, headers={"If-Match": "1"})
        assert saved.status_code == 200 and saved.json()["version"] == 2, saved.text
    routes = {}
    for village in ("sanwei", "jiulian"):
        with api.as_(f"{village}-bookkeeper") as bookkeeper:
            response = bookkeeper.post("/v1/matters", json=submission(village, type_id, f"变体路由 {unique}"))
        assert response.status_code == 201, response.text
        matter = response.json()
        assert matter["policy_version"] == 2
        routes[village] = [(s["name"], s["mode"], [a["person_id"] for a in s["assignees"]]) for s in matter["stages"]]
    assert routes["sanwei"] == [
        ("村两委依次签", "sequence", ["sanwei-director", "sanwei-supervisor"]),
        ("联村领导", "any", ["yinong-leader-b"]),
    ]
    assert [name for name, _, _ in routes["jiulian"]] == ["村两委会签", "村党组织书记", "联村干部"]
