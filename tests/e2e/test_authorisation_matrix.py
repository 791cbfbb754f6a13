"""Every endpoint × every kind of caller: only the allowed pairs succeed. Supervisors read everything
and change nothing but urge notices; nobody decides on someone else's task; bad tokens get 401."""

import httpx
import pytest
from sealflow_intake.auth import mint_token

from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e

APPLICANT = "jiulian-bookkeeper"
OTHER_APPLICANT = "changbei-bookkeeper"
STAGE_ONE = ["jiulian-director", "jiulian-supervisor"]
LATER_SIGNERS = ["jiulian-secretary", "yinong-cadre-jiulian", "yinong-leader-a", "yinong-deputy-services"]
OUTSIDE_SIGNER = "changbei-director"
DISCIPLINE, ADMIN = "yinong-discipline", "yinong-admin"
PEOPLE = [APPLICANT, OTHER_APPLICANT, *STAGE_ONE, *LATER_SIGNERS, OUTSIDE_SIGNER, DISCIPLINE, ADMIN]
BAD_TOKENS = ["no token", "expired token", "token signed with another key"]
CALLERS = PEOPLE + BAD_TOKENS
READERS = {APPLICANT, *STAGE_ONE, *LATER_SIGNERS, DISCIPLINE, ADMIN}


class Caller:
    def __init__(self, api: Api, secret: str) -> None:
        self.api, self.secret = api, secret

    def headers(self, who: str) -> dict[str, str]:
        token = {
            "no token": None,
            "expired token": mint_token(APPLICANT, self.secret, hours=-1),
            "token signed with another key": mint_token(ADMIN, "not-the-gateway's-key"),
        }.get(who, mint_token(who, self.secret) if who in PEOPLE else None)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self, who: str, method: str, path: str, **kwargs) -> httpx.Response:
        with httpx.Client(base_url=self.api.base_url, timeout=30) as client:
            return client.request(method, path, headers=self.headers(who), **kwargs)


@pytest.fixture(scope="module")
def call(api: Api, stack) -> Caller:
    return Caller(api, stack.jwt_secret)


@pytest.fixture(scope="module")
def matter(call: Caller) -> dict:
    response = call(APPLICANT, "POST", "/v1/matters", json=seed_submission(title="权限矩阵"))
    assert response.status_code == 201
    return response.json()


def expect(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    if status >= 400:
        assert set(response.json()) == {"error"} and response.json()["error"]["message"]
        if code:
            assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("who", CALLERS)
def test_reading_a_matter_its_trail_and_its_document(call: Caller, matter: dict, who: str) -> None:
    for path in (f"/v1/matters/{matter['id']}", f"/v1/matters/{matter['id']}/trail"):
        response = call(who, "GET", path)
        if who in BAD_TOKENS:
            expect(response, 401)
        elif who in READERS:
            expect(response, 200)
        else:
            expect(response, 404, "matter_not_found")  # not yours looks like not there
    document = call(who, "GET", f"/v1/matters/{matter['id']}/document")
    if who in BAD_TOKENS:
        expect(document, 401)
    elif who not in READERS:
        expect(document, 404, "matter_not_found")
    else:
        assert document.status_code in (200, 404) and (
            document.status_code == 200 or document.json()["error"]["code"] == "document_not_ready"
        )


@pytest.mark.parametrize("who", CALLERS)
def test_submitting_for_a_village(call: Caller, who: str) -> None:
    response = call(who, "POST", "/v1/matters", json=seed_submission(title=f"代报 {who}"))
    if who in BAD_TOKENS:
        expect(response, 401)
    elif who == APPLICANT:
        expect(response, 201)
    else:
        expect(response, 403, "not_applicant")  # only this village's bookkeeper applies for it


def test_deciding_only_on_your_own_open_task(call: Caller, matter: dict) -> None:
    def decide(who: str) -> httpx.Response:
        body = {"stage": 1, "decision": "approve", "comment": "同意", "digest": matter["digest"]}
        return call(who, "POST", f"/v1/matters/{matter['id']}/decisions", json=body)

    for who in BAD_TOKENS:
        expect(decide(who), 401)
    expect(decide(APPLICANT), 403, "self_approval")
    for who in (OTHER_APPLICANT, OUTSIDE_SIGNER, DISCIPLINE, ADMIN, *LATER_SIGNERS):
        expect(decide(who), 403, "not_assignee")  # stage 1 is not theirs, whatever they claim
    for who in LATER_SIGNERS[:1]:
        body = {"stage": 2, "decision": "approve", "comment": "", "digest": matter["digest"]}
        expect(call(who, "POST", f"/v1/matters/{matter['id']}/decisions", json=body), 409, "not_your_turn")
    untouched = call(DISCIPLINE, "GET", f"/v1/matters/{matter['id']}").json()
    assert all(a["decision"] is None for s in untouched["stages"] for a in s["assignees"])
    for who in STAGE_ONE:
        expect(decide(who), 200)


@pytest.mark.parametrize("who", CALLERS)
def test_own_lists_for_everyone(call: Caller, who: str) -> None:
    for path in ("/v1/tasks", "/v1/inbox"):
        expect(call(who, "GET", path), 401 if who in BAD_TOKENS else 200)


@pytest.mark.parametrize("who", CALLERS)
def test_supervision_views_and_urge_notices(call: Caller, matter: dict, who: str) -> None:
    for path in ("/v1/supervision/overdue", "/v1/supervision/stats"):
        if who in BAD_TOKENS:
            expect(call(who, "GET", path), 401)
            continue
        expect(call(who, "GET", path), 200)  # oversight: everyone's figures; anyone else: their own
        someone_else = call(who, "GET", path, params={"person_id": "jiulian-secretary" if who != "jiulian-secretary" else APPLICANT})
        expect(someone_else, 200 if who in (DISCIPLINE, ADMIN) else 403)
    wait_for(lambda: call(DISCIPLINE, "GET", f"/v1/matters/{matter['id']}").json()["current_stage"], what="an open stage")
    urge = call(who, "POST", "/v1/supervision/urge", json={"matter_id": matter["id"], "message": "请尽快签批"})
    if who in BAD_TOKENS:
        expect(urge, 401)
    elif who in (DISCIPLINE, ADMIN):
        expect(urge, 202)
    else:
        expect(urge, 403, "forbidden")


@pytest.mark.parametrize("who", CALLERS)
def test_administration_is_for_the_administrator(call: Caller, who: str) -> None:
    # 2030-01-01 is a holiday anyway: the override changes no deadline other tests rely on.
    response = call(who, "PUT", "/v1/supervision/calendar/2030-01-01", json={"working": False, "note": "元旦"})
    expect(response, 401 if who in BAD_TOKENS else 200 if who == ADMIN else 403)
    seal_uses = call(who, "GET", "/v1/seal-uses", params={"village_id": "jiulian"})
    allowed = who in (DISCIPLINE, ADMIN, "jiulian-secretary")  # and the village's own seal custodian
    expect(seal_uses, 401 if who in BAD_TOKENS else 200 if allowed else 403)


@pytest.mark.parametrize("who", CALLERS)
def test_verification_and_trust_roots_are_public(call: Caller, who: str) -> None:
    expect(call(who, "GET", "/v1/trust/roots"), 200)
    verified = call(who, "POST", "/v1/verify", json={"approval_number": "YN-1999-000001", "digest": "0" * 64})
    expect(verified, 200)
    assert verified.json()["valid"] is False
