"""signing's certificate hierarchy, seal rules, field plan and PAdES checks — real cryptography and pyHanko."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sealflow_signing.adapters.fonts import FormFonts
from sealflow_signing.domain import crypto, pades, pki, seals
from sealflow_signing.domain.form import Box, Layout, slot_key
from sealflow_signing.pdfwork import plan_fields

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SEAL = {
    "_id": "jiulian-coop",
    "allowed_roles": ["secretary"],
    "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
    "valid_to": datetime(2031, 12, 31, tzinfo=UTC),
}


def test_leaf_certificates_chain_to_the_town_root_and_not_to_another() -> None:
    root_key = crypto.generate_key()
    root = pki.root_certificate(root_key, "益农镇", NOW)
    leaf_key = crypto.generate_key()
    leaf = pki.issue(root_key, root, leaf_key.public_key(), pki.Subject("person", "久联村村委会主任", "益农镇", "jiulian-director"), NOW)
    assert pki.is_issued_by(leaf, root)
    assert not pki.is_issued_by(leaf, pki.root_certificate(crypto.generate_key(), "益农镇", NOW))
    assert leaf.not_valid_after_utc <= root.not_valid_after_utc
    assert pki.load_pem(pki.pem(leaf)) == leaf


def test_a_seal_is_refused_outside_its_window_or_for_a_role_it_does_not_allow() -> None:
    assert seals.refusal(SEAL, ["secretary"], NOW) is None
    assert "outside its validity window" in seals.refusal(SEAL, ["secretary"], datetime(2032, 1, 1, tzinfo=UTC))
    assert "outside its validity window" in seals.refusal(SEAL, ["secretary"], datetime(2025, 12, 31, tzinfo=UTC))
    wrong = seals.refusal(SEAL, ["director"], NOW)
    assert "['secretary']" in wrong and "director" in wrong
    assert "without a role" in seals.refusal(SEAL, [], NOW)


def _layout(route: list[dict]) -> Layout:
    layout = Layout()
    for stage in route:
        for p in stage["assignees"]:
            layout.signer_boxes[slot_key(stage["number"], p["person_id"])] = Box(0, 10, 10, 160, 62)
        if stage.get("seal_id"):
            layout.seal_boxes[slot_key(stage["number"], stage["seal_id"])] = Box(0, 400, 10, 496, 106)
    return layout


def test_the_last_single_signature_locks_and_a_last_all_of_stage_gets_a_closing_lock() -> None:
    route = [
        {"number": 1, "name": "村两委会签", "mode": "all", "assignees": [{"person_id": "d"}, {"person_id": "s"}]},
        {"number": 2, "name": "村党组织书记", "mode": "any", "seal_id": "coop", "assignees": [{"person_id": "sec"}]},
        {"number": 3, "name": "分管领导", "mode": "any", "assignees": [{"person_id": "lead"}]},
    ]
    plan, expected = plan_fields(route, _layout(route))
    assert expected == 5  # two, one, the seal, one
    assert [f["name"] for f in plan if f["lock"]] == ["Stage3Signer1"]
    route[-1] = {"number": 3, "name": "会签", "mode": "all", "assignees": [{"person_id": "a"}, {"person_id": "b"}]}
    plan, expected = plan_fields(route, _layout(route))
    assert expected == 6
    assert [f["name"] for f in plan if f["lock"]] == ["SealflowClose"]


def test_form_font_subset_covers_everyday_chinese_and_falls_back_for_rare_characters(tmp_path: Path) -> None:
    fonts = FormFonts(FONT, str(tmp_path))
    assert not fonts.needs_full("村级保洁服务招标呈报表 120,000.00 元")
    assert fonts.needs_full("𠮷")  # outside GB 2312


@pytest.fixture(scope="module")
def hierarchy():
    now = datetime.now(UTC)  # signatures are validated at the current time
    root_key = crypto.generate_key()
    root = pki.root_certificate(root_key, "益农镇", now - timedelta(days=1))

    def signer(name: str):
        key = crypto.generate_key()
        return pades.make_signer(key, pki.issue(root_key, root, key.public_key(), pki.Subject("person", name, "益农镇"), now), [root])

    return root, signer


def _blank_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(200, 20, "approval form")
    return bytes(pdf.output())


def test_certify_sign_lock_validates_and_a_flipped_byte_does_not(hierarchy) -> None:
    root, signer = hierarchy
    plan = [pades.FieldPlan("A", 0, (40, 600, 190, 652)), pades.FieldPlan("B", 0, (200, 600, 350, 652), lock=True)]
    pdf = pades.certify(_blank_pdf(), signer("platform"), plan, reason="certify", location="益农镇")
    certified = pdf
    pdf = pades.sign(pdf, signer("a"), field_name="A", image=None, reason="ok", location="", name="a")
    # The id signing records for a signature is the one verification computes from the file.
    assert pades.signature_id(pades.new_signature_contents(certified, pdf)) == pades.validate(pdf, [root]).signatures[-1].signature_id
    pdf = pades.sign(pdf, signer("b"), field_name="B", image=None, reason="ok", location="", name="b")
    report = pades.validate(pdf, [root])
    assert [s.field_name for s in report.signatures] == ["SealflowCertification", "A", "B"]
    assert all(s.intact and s.valid and s.trusted and s.docmdp_ok for s in report.signatures)
    assert report.signatures[0].certification and report.signatures[-1].coverage == "ENTIRE_FILE"
    at = len(pdf) // 10
    broken = pades.validate(pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :], [root])
    assert not broken.readable or not all(s.intact for s in broken.signatures)
    foreign = pades.validate(pdf, [pki.root_certificate(crypto.generate_key(), "别的镇", NOW)])
    assert not any(s.trusted for s in foreign.signatures)


def test_a_refused_seal_is_recorded_in_the_matters_trail() -> None:
    from sealflow_contracts import messages as m
    from sealflow_routing.domain import matter as wf
    from sealflow_routing.domain.directory import ResolvedStage

    matter, _ = wf.open_matter(
        matter_id="m1", applicant_id="b", village_id="jiulian", matter_type="service_procurement", title="t", amount_fen=1,
        digest="ab" * 32, policy_version=1, now=NOW, stand_ins={},
        route=[ResolvedStage(number=1, name="书记", mode="any", assignees=["sec"], seal_id="jiulian-coop", deadline_working_days=1)],
    )  # fmt: skip
    reason = seals.refusal(SEAL, ["director"], NOW)
    effects = wf.on_seal_refused(matter, m.SealRefused(matter_id="m1", revision=1, stage=1, seal_id="jiulian-coop", reason=reason))
    assert effects.trail[-1]["type"] == "seal.refused" and effects.trail[-1]["data"]["reason"] == reason
    assert effects.trail[-1]["prev_hash"] != effects.trail[-1]["hash"]


def test_a_configured_ca_replaces_the_self_managed_root(tmp_path: Path) -> None:
    """A real CA's issuing certificate and key, given as PEM files, issue the certificates instead."""
    import asyncio
    from types import SimpleNamespace

    from cryptography.hazmat.primitives import serialization
    from sealflow_signing.adapters import store

    ca_key = crypto.generate_key()
    ca_cert = pki.root_certificate(ca_key, "某省电子认证中心", NOW)
    (tmp_path / "ca.pem").write_text(pki.pem(ca_cert))
    (tmp_path / "ca.key").write_bytes(
        ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw"))
    )
    settings = SimpleNamespace(
        ca_cert_file=str(tmp_path / "ca.pem"), ca_key_file=str(tmp_path / "ca.key"),
        ca_key_password="pw", trust_roots_file=None,
    )  # fmt: skip
    authority = asyncio.run(store.authority(None, settings))  # configured: no database involved
    assert authority.cert == ca_cert and authority.trust_roots == [ca_cert]
    leaf_key = crypto.generate_key()
    leaf = pki.issue(authority.key, authority.cert, leaf_key.public_key(), pki.Subject("person", "x", "益农镇"), NOW)
    assert pki.is_issued_by(leaf, ca_cert)
