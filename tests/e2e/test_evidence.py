"""Signed trail heads, checkpoints and the evidence package end to end (issue 15): a matter returned
once and then completed gets a signed head in a public checkpoint; its evidence package verifies with
`sealflow-verify` in a fresh virtual environment holding only that package (no Sealflow code, no server
contacted; test_evidence_offline.py stops its servers first); every tampering the issue names exits 1 with its
reason; so does a trail rewritten in MongoDB after the checkpoint. A checkpoint kept from the first package is
shown to be extended by a later one (RFC 6962 consistency proof, in the package or from the public endpoint)."""

import base64
import hashlib
import io
import json
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pymongo import MongoClient
from sealflow_contracts.chain import trail_entry_hash
from sealflow_verify import cli as verifier
from sealflow_verify import tlog as verifier_tlog

from tests.e2e.test_seed_case import ROUTE, approve, get_matter, submit
from tests.support import verify_venv
from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e


def fetch_evidence(api: Api, matter_id: str, since: int | None = None) -> bytes:
    def ready():
        with api.as_("yinong-discipline") as client:
            response = client.get(f"/v1/matters/{matter_id}/evidence", params={"since": since} if since else None)
        if response.status_code == 409:
            return None
        assert response.status_code == 200, response.text
        return response.content

    return wait_for(ready, timeout=240, what="the evidence package")


@pytest.fixture(scope="module")
def ended(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A matter returned at stage 3, revised, then approved to completion: two revisions, two PDFs."""
    matter = submit(api, title="村级保洁服务招标呈报表（证据包测试）")
    for stage, people in ROUTE[:2]:
        for person in people:
            wait_for(lambda s=stage: get_matter(api, matter["id"])["current_stage"] == s, what=f"stage {stage} open")
            approve(api, person, matter, stage)
    wait_for(lambda: get_matter(api, matter["id"])["current_stage"] == 3, what="stage 3 open")
    with api.as_("yinong-cadre-jiulian") as cadre:
        returned = cadre.post(
            f"/v1/matters/{matter['id']}/decisions",
            json={"stage": 3, "decision": "return", "comment": "请补充预算明细", "digest": matter["digest"]},
        )
    assert returned.status_code == 200, returned.text
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        revised = bookkeeper.post(
            f"/v1/matters/{matter['id']}/revisions", json=seed_submission(title="村级保洁服务招标呈报表（证据包测试，补充预算）")
        )
    assert revised.status_code in (200, 201), revised.text
    matter = revised.json()
    for stage, people in ROUTE:
        for person in people:
            wait_for(lambda s=stage: get_matter(api, matter["id"])["current_stage"] == s, what=f"stage {stage} open")
            approve(api, person, matter, stage)
    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m, timeout=120, what="completion")
    package = fetch_evidence(api, matter["id"])
    with api.anonymous() as anyone:
        roots = anyone.get("/v1/trust/roots")
    assert roots.status_code == 200
    work = tmp_path_factory.mktemp("evidence")
    (work / "evidence.zip").write_bytes(package)
    (work / "town-root.pem").write_text(roots.text)
    return {"matter": done, "package": package, "dir": work, "root": work / "town-root.pem"}


def run_verifier(package: bytes, root: Path, tmp: Path, *more: str | Path) -> tuple[int, str]:
    path = tmp / f"pkg-{hashlib.sha256(package).hexdigest()[:12]}.zip"
    path.write_bytes(package)
    out = io.StringIO()
    sys_stdout, sys.stdout = sys.stdout, out
    try:
        code = verifier.main([str(path), "--root", str(root), *map(str, more)])
    finally:
        sys.stdout = sys_stdout
    return code, out.getvalue()


def public_get(api: Api, path: str, **params) -> httpx.Response:
    """An anonymous GET, waiting out the public routes' rate limit (other tests share the address) when it bites."""
    with api.anonymous() as anyone:
        for _ in range(3):
            response = anyone.get(path, params=params)
            if response.status_code != 429:
                return response
            time.sleep(int(response.headers.get("Retry-After", "2")))
    return response


def checkpoint_of(package: bytes) -> tuple[str, int]:
    """The package's checkpoint note and its tree size."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        note = zf.read("checkpoint.note").decode()
    return note, int(note.splitlines()[1])


def rezip(package: bytes, change) -> bytes:
    files = {}
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        for name in zf.namelist():
            files[name] = zf.read(name)
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def with_trail(change):
    def apply(files: dict) -> None:
        trail = json.loads(files["trail.json"])
        change(trail["entries"])
        files["trail.json"] = json.dumps(trail, ensure_ascii=False).encode()

    return apply


def test_checkpoints_are_public_c2sp_signed_notes(api: Api, ended: dict) -> None:
    with api.anonymous() as anyone:
        listed = anyone.get("/v1/trail/checkpoints")
        latest = anyone.get("/v1/trail/checkpoints/latest")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    origin, items = body["origin"], body["items"]
    assert items and latest.status_code == 200 and latest.headers["content-type"].startswith("text/plain")
    note = verifier_tlog.parse_note(latest.text)
    lines = note.body.splitlines()
    assert (
        lines[0] == origin
        and int(lines[1]) == items[0]["tree_size"]
        and base64.b64decode(lines[2])
        and len(base64.b64decode(lines[2])) == 32
    )
    # The verifier key as note tools take it: <name>+<hex key hash>+<base64(0x01 ‖ Ed25519 key)>.
    name, _, encoded = body["verifier_key"].split("+", 2)
    raw = base64.b64decode(encoded)
    assert name == origin and raw[0] == 1
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    assert verifier_tlog.note_signed_by(note, origin, Ed25519PublicKey.from_public_bytes(raw[1:]))
    # The matter's own proof: its head in the latest checkpoint.
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        proof = bookkeeper.get(f"/v1/matters/{ended['matter']['id']}/trail/proof")
    assert proof.status_code == 200, proof.text
    assert proof.json()["head"]["status"] == "completed" and proof.json()["inclusion_proof"] is not None
    with api.as_("changbei-bookkeeper") as stranger:
        assert stranger.get(f"/v1/matters/{ended['matter']['id']}/evidence").status_code == 404


def test_the_package_holds_what_an_auditor_needs(ended: dict) -> None:
    with zipfile.ZipFile(io.BytesIO(ended["package"])) as zf:
        names = set(zf.namelist())
        readme = zf.read("README.txt").decode()
    assert {
        "documents/revision-1.pdf",
        "documents/revision-2.pdf",
        "trail.json",
        "trail-head.note",
        "checkpoint.note",
        "inclusion-proof.json",
        "seals.json",
        "certificates/chain.pem",
        "certificates/log-key.pem",
    } <= names
    assert "证据包" in readme and "sealflow-verify" in readme


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with only tools/verify (and its dependencies) installed: none of Sealflow's packages."""
    return verify_venv.fresh_venv(tmp_path_factory.mktemp("verify-wheel"))


def test_the_package_verifies_in_a_fresh_venv_without_sealflow(ended: dict, fresh_venv: Path) -> None:
    done = verify_venv.run_verifier(fresh_venv, ended["dir"] / "evidence.zip", "--root", ended["root"])
    assert done.returncode == 0, done.stdout + done.stderr
    for checked in (
        "trail hash chain intact",
        "signed trail head verifies",
        "inclusion proof holds",
        "checkpoint signature verifies",
        "revision-1.pdf",
        "is the last revision, locked",
    ):
        assert checked in done.stdout, done.stdout
    assert "留痕哈希链完整" in done.stdout


def other_root(tmp: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another Root")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256())
    )  # fmt: skip
    path = tmp / "other-root.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_each_tampering_exits_1_with_its_reason(ended: dict) -> None:
    package, root, tmp = ended["package"], ended["root"], ended["dir"]

    def swap(entries):
        entries[2], entries[3] = entries[3], entries[2]

    def change_entry(entries):
        entries[4]["data"]["comment"] = "改过的意见"

    def flip_pdf_byte(files):
        pdf = bytearray(files["documents/revision-2.pdf"])
        pdf[len(pdf) // 3] ^= 0x01
        files["documents/revision-2.pdf"] = bytes(pdf)

    def cut_to_first_update(files):
        pdf = files["documents/revision-2.pdf"]
        ends = [i for i in range(len(pdf)) if pdf.startswith(b"%%EOF", i)]
        files["documents/revision-2.pdf"] = pdf[: ends[len(ends) // 2] + 6]

    def revision_one_as_last(files):
        files["documents/revision-2.pdf"] = files["documents/revision-1.pdf"]

    cases = {
        "trail entry changed": (with_trail(change_entry), "was changed"),
        "trail entry removed": (with_trail(lambda entries: entries.pop(5)), "were removed"),
        "trail entries reordered": (with_trail(swap), "were reordered"),
        "PDF byte changed": (flip_pdf_byte, "revision-2.pdf"),
        "PDF cut back to an earlier revision": (cut_to_first_update, "cut back to an earlier revision"),
        "PDF of revision 1 given as the last": (revision_one_as_last, "is the form of revision 1"),
    }
    code, out = run_verifier(package, root, tmp)
    assert code == 0, out
    for case, (change, reason) in cases.items():
        code, out = run_verifier(rezip(package, change), root, tmp)
        assert code == 1, f"{case}: {out}"
        assert reason in out, f"{case}: {out}"
    code, out = run_verifier(package, other_root(tmp), tmp)
    assert code == 1 and "not under the given root" in out, out


def test_a_trail_rewritten_in_mongodb_after_the_checkpoint_is_reported(api: Api, stack, ended: dict) -> None:
    """Someone holding the database rewrites a covered trail consistently (every later hash recomputed, in both
    services' copies): the server's chain still looks valid, the evidence package does not verify."""
    matter_id = ended["matter"]["id"]
    client = MongoClient(stack.mongo_uri)
    try:
        for db in (client.sealflow_routing, client.sealflow_intake):
            entries = list(db.trail.find({"matter_id": matter_id}).sort("seq", 1))
            target = next(e for e in entries if e["type"].startswith("decision."))
            target["data"] = {**target["data"], "comment": "事后改写的意见"}
            prev = None
            for entry in entries:
                if entry["seq"] >= target["seq"]:
                    if prev is not None:
                        entry["prev_hash"] = prev
                    if entry["seq"] == target["seq"]:
                        entry["data"] = target["data"]
                    entry["hash"] = trail_entry_hash(entry)
                    db.trail.replace_one({"_id": entry["_id"]}, entry)
                prev = entry["hash"]
    finally:
        client.close()
    with api.as_("yinong-discipline") as client_:
        trail = client_.get(f"/v1/matters/{matter_id}/trail").json()
    assert trail["chain_valid"], "a consistent rewrite fools the hash chain alone"
    code, out = run_verifier(fetch_evidence(api, matter_id), ended["root"], ended["dir"])
    assert code == 1, out
    assert "does not match its signed head" in out, out


@pytest.fixture(scope="module")
def withdrawn(api: Api, ended: dict) -> dict:
    """A second matter, withdrawn after stage 1's first signature. Its package is fetched with `?since=` the tree
    size of the first package's checkpoint — the checkpoint an auditor kept from then."""
    matter = submit(api, title="村级保洁服务招标呈报表（撤回的证据包）")
    wait_for(lambda: get_matter(api, matter["id"])["current_stage"] == 1, what="stage 1 open")
    approve(api, "jiulian-director", matter, 1)
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        assert bookkeeper.get(f"/v1/matters/{matter['id']}/evidence").json()["error"]["code"] == "evidence_not_ready"
        withdrawn = bookkeeper.post(f"/v1/matters/{matter['id']}/withdraw", json={"reason": "预算调整"})
    assert withdrawn.status_code == 200, withdrawn.text
    kept_note, kept_size = checkpoint_of(ended["package"])
    kept = ended["dir"] / "kept-checkpoint.note"
    kept.write_text(kept_note)
    package = fetch_evidence(api, matter["id"], since=kept_size)
    return {"matter": matter, "package": package, "kept": kept, "kept_size": kept_size}


def test_a_withdrawn_matter_gets_a_signed_head_and_a_package_that_verifies(api: Api, ended: dict, withdrawn: dict) -> None:
    matter = withdrawn["matter"]
    code, out = run_verifier(withdrawn["package"], ended["root"], ended["dir"])
    assert code == 0, out
    assert "signed trail head verifies" in out and "inclusion proof holds" in out and "revision-1.pdf" in out
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        head = bookkeeper.get(f"/v1/matters/{matter['id']}/trail/proof").json()["head"]
    assert head["status"] == "withdrawn"


def test_a_kept_checkpoint_is_shown_to_be_extended_by_the_later_one(api: Api, ended: dict, withdrawn: dict, fresh_venv: Path) -> None:
    """An auditor kept the first package's checkpoint. The later package, fetched with ?since=, carries the RFC 6962
    consistency proof; the public GET /v1/trail/consistency gives the same proof for an older package. A proof with
    one hash changed (a log that rewrote or dropped a head), a kept checkpoint altered, or no proof: exit 1."""
    tmp, root, kept, kept_size = ended["dir"], ended["root"], withdrawn["kept"], withdrawn["kept_size"]
    later_note, later_size = checkpoint_of(withdrawn["package"])
    assert later_size > kept_size
    later_zip = tmp / "later.zip"
    later_zip.write_bytes(withdrawn["package"])
    with zipfile.ZipFile(later_zip) as zf:
        carried = json.loads(zf.read("consistency-proof.json"))
        assert "consistency-proof.json" in zf.read("README.txt").decode()
    assert (carried["first"], carried["second"]) == (kept_size, later_size)

    # The proof carried in the package, checked by the verifier in its own venv with no Sealflow code.
    done = verify_venv.run_verifier(fresh_venv, later_zip, "--root", root, "--previous-checkpoint", kept)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "consistency proof holds" in done.stdout and "一致性证明成立" in done.stdout, done.stdout

    # The public endpoint: the same proof, with both checkpoints; the first package checked against the later
    # checkpoint the auditor now keeps (the proof given with --consistency: that package carries none).
    answer = public_get(api, "/v1/trail/consistency", first=kept_size, second=later_size)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["hashes"] == carried["hashes"] and body["second_checkpoint"]["note"] == later_note
    assert body["first_checkpoint"]["note"] == kept.read_text() and body["verifier_key"].startswith(body["origin"] + "+")
    (tmp / "proof.json").write_text(answer.text)
    (tmp / "later-checkpoint.note").write_text(later_note)
    code, out = run_verifier(
        ended["package"], root, tmp, "--previous-checkpoint", tmp / "later-checkpoint.note", "--consistency", tmp / "proof.json"
    )
    assert code == 0 and "consistency proof holds" in out, out

    # Without a proof for those sizes: exit 1, saying where to get one.
    code, out = run_verifier(ended["package"], root, tmp, "--previous-checkpoint", tmp / "later-checkpoint.note")
    assert code == 1 and f"no consistency proof from tree size {kept_size} to {later_size}" in out, out

    # A log that rewrote or dropped a head cannot produce a proof: one hash changed stands for it.
    bad = bytearray(base64.b64decode(body["hashes"][0]))
    bad[0] ^= 1
    (tmp / "bad-proof.json").write_text(json.dumps({**body, "hashes": [base64.b64encode(bytes(bad)).decode(), *body["hashes"][1:]]}))
    code, out = run_verifier(withdrawn["package"], root, tmp, "--previous-checkpoint", kept, "--consistency", tmp / "bad-proof.json")
    assert code == 1 and "does not extend" in out, out

    # A kept checkpoint that is not the log's (its size changed: the signature no longer holds).
    lines = kept.read_text().split("\n")
    lines[1] = str(kept_size + 1)
    (tmp / "forged.note").write_text("\n".join(lines))
    code, out = run_verifier(withdrawn["package"], root, tmp, "--previous-checkpoint", tmp / "forged.note")
    assert code == 1 and "previous checkpoint's signature does not verify" in out, out


def test_bad_sizes_get_clear_errors_in_chinese(api: Api, ended: dict) -> None:
    _, size = checkpoint_of(ended["package"])
    for params, status, words in (
        ({}, 422, "缺少参数 first"),
        ({"first": "0"}, 422, "正整数"),
        ({"first": "三"}, 422, "正整数"),
        ({"first": str(size + 1), "second": str(size)}, 422, "大于"),
        ({"first": "1", "second": str(10**12)}, 404, "没有树大小为"),
        ({"first": str(10**12)}, 422, "不能大于"),
    ):
        answer = public_get(api, "/v1/trail/consistency", **params)
        assert answer.status_code == status, (params, answer.text)
        error = answer.json()["error"]
        assert error["code"] in ("invalid_request", "not_found") and words in error["message"], answer.text
    with api.as_("yinong-discipline") as client:
        for since in ("abc", str(10**12)):
            answer = client.get(f"/v1/matters/{ended['matter']['id']}/evidence", params={"since": since})
            assert answer.status_code == 422 and "since" in answer.json()["error"]["message"], answer.text
