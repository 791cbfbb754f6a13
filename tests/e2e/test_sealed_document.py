"""The sealed PDF end to end: the seed case completes, the downloaded document carries the platform's
certification, six approval signatures and the cooperative's seal, all valid under the town root (by
pyHanko and by poppler's pdfsig); tampered copies are reported invalid with the reason."""

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tests.e2e.test_seed_case import ROUTE, approve, get_matter, submit
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sealed(api: Api) -> dict:
    """One seed case run to completion, with its sealed PDF and the trust roots."""
    matter = submit(api, title="村级保洁服务招标呈报表（盖章测试）")
    for stage, people in ROUTE:
        for person in people:
            wait_for(lambda s=stage: get_matter(api, matter["id"])["current_stage"] == s, what=f"stage {stage} open")
            approve(api, person, matter, stage)
    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m, timeout=120, what="completion")

    def fetch():
        with api.as_("jiulian-bookkeeper") as bookkeeper:
            response = bookkeeper.get(f"/v1/matters/{matter['id']}/document")
        return response if response.status_code == 200 and response.headers["X-Sealflow-Sealed"] == "true" else None

    response = wait_for(fetch, timeout=180, what="the sealed document")
    assert response.headers["content-type"] == "application/pdf"
    with api.anonymous() as anyone:
        roots = anyone.get("/v1/trust/roots")
    assert roots.status_code == 200 and "BEGIN CERTIFICATE" in roots.text
    return {"matter": done, "pdf": response.content, "roots_pem": roots.text}


def verify_pdf(api: Api, pdf: bytes) -> dict:
    with api.anonymous() as anyone:
        response = anyone.post("/v1/verify", files={"file": ("document.pdf", pdf, "application/pdf")})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_sealed_pdf_validates_against_the_town_root(sealed: dict) -> None:
    roots = [asn1_x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(sealed["roots_pem"].encode(), multiple=True)]
    reader = PdfFileReader(io.BytesIO(sealed["pdf"]))
    signatures = reader.embedded_signatures
    assert len(signatures) == 9, "the certification, six approvals, the seal and the platform's closing signature"
    for sig in signatures:
        status = validate_pdf_signature(sig, signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False))
        assert status.intact and status.valid and status.trusted, (sig.field_name, status.summary())
        assert status.docmdp_ok, sig.field_name
    # The closing signature locks: it carries the approval number and the QR code, known only at the end.
    assert signatures[-1].field_name == "SealflowClose"
    final = validate_pdf_signature(signatures[-1], signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False))
    assert final.coverage.name == "ENTIRE_FILE"
    # Every approval and the seal shows in its box: a widget with an appearance and a real size.
    for sig in signatures[1:]:
        widget = sig.sig_field
        rect = [float(v) for v in widget["/Rect"]]
        assert rect[2] - rect[0] > 50 and rect[3] - rect[1] > 40, sig.field_name
        assert "/N" in widget["/AP"], sig.field_name
    names = [sig.signer_cert.subject.native["common_name"] for sig in signatures]
    assert names[3] == "久联村村党组织书记" and names[4] == "久联村经济联合社电子印章"


def test_verify_reports_every_signature_and_the_seal(api: Api, sealed: dict) -> None:
    result = verify_pdf(api, sealed["pdf"])
    assert result["valid"] is True, result
    assert result["latest"] is True and result["sealed"] is True and result["changed_after_last_signature"] is False
    assert result["matter_id"] == sealed["matter"]["id"]
    assert result["approval_number"] == sealed["matter"]["approval_number"]
    assert [s["kind"] for s in result["signatures"]] == ["certification"] + ["signature"] * 3 + ["seal"] + ["signature"] * 3 + ["close"]
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in result["signatures"])
    assert [s["role"] for s in result["signatures"]][1:4] == ["村两委会签", "村两委会签", "村党组织书记"]
    assert result["seals"] and result["seals"][0]["seal_id"] == "jiulian-coop"
    assert result["seals"][0]["within_validity"] and result["seals"][0]["maker_signature_valid"]


def test_pdfsig_accepts_every_signature_given_the_town_root(sealed: dict, tmp_path: Path) -> None:
    if not (shutil.which("pdfsig") and shutil.which("certutil")):
        pytest.fail("poppler-utils and libnss3-tools are required (see .ci/run)")
    pdf, root = tmp_path / "sealed.pdf", tmp_path / "root.pem"
    pdf.write_bytes(sealed["pdf"])
    root.write_text(sealed["roots_pem"])
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "town-root", "-t", "CT,C,C", "-i", str(root)], check=True, capture_output=True
    )
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 9, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 9, out


def test_page_one_renders_with_chinese_text_and_the_red_seal(sealed: dict, tmp_path: Path) -> None:
    """Saves page 1 as a PNG under the test's tmp dir (for a person to look at) and checks it has the
    seal's red ink; pdftotext checks the Chinese text is real text."""
    pdf = tmp_path / "sealed.pdf"
    pdf.write_bytes(sealed["pdf"])
    subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    pixels = Image.open(png).convert("RGB").getdata()
    red = sum(1 for r, g, b in pixels if r > 180 and g < 80 and b < 80)
    assert red > 500, f"no red seal on page 1 ({png})"
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    for expected in ("村级保洁服务招标呈报表", "久联村", "120,000.00 元", "招标公告.txt", "签批栏", "村党组织书记"):
        assert expected in text, expected
    print(f"page 1 rendered to {png}")


def _flip_byte(pdf: bytes) -> bytes:
    at = len(pdf) // 10  # inside the original form, covered by every signature
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def _add_annotation(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (100, 100, 120, 120)]),
            generic.NameObject("/Contents"): generic.TextStringObject("金额改为 200,000 元"),
        }
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(writer.add_object(annot))
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _append_unsigned_page(pdf: bytes) -> bytes:
    """An incremental update adding a page nobody signed (say, a 'corrected' amount)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    content = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (Amount: 200,000.00) Tj ET"))
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595, 842)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _foreign_signer(common_name: str) -> signers.SimpleSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore(),
    )


def _sign_with(pdf: bytes, signer: signers.SimpleSigner, field: str) -> bytes:
    out = io.BytesIO()
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES)
    signers.PdfSigner(meta, signer, new_field_spec=SigFieldSpec(field, box=(40, 40, 140, 80))).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out
    )
    return out.getvalue()


def _cut_to_revision(pdf: bytes, revisions: int) -> bytes:
    """The file as it was after its first `revisions` revisions (each ends with %%EOF)."""
    end = 0
    for _ in range(revisions):
        end = pdf.index(b"%%EOF", end) + len(b"%%EOF")
    return pdf[:end] + b"\n"


def test_tampered_copies_are_reported_invalid_with_the_reason(api: Api, sealed: dict) -> None:
    pdf = sealed["pdf"]
    flipped = verify_pdf(api, _flip_byte(pdf))
    assert flipped["valid"] is False and flipped["reason_code"] in ("altered", "unreadable") and flipped["reason"], flipped

    annotated = verify_pdf(api, _add_annotation(pdf))
    assert annotated["valid"] is False and annotated["changed_after_last_signature"] is True, annotated
    assert annotated["reason_code"] in ("changed_after_signing", "content_after_last_signature"), annotated

    with_page = _append_unsigned_page(pdf)
    assert len(PdfFileReader(io.BytesIO(with_page)).root["/Pages"]["/Kids"]) > len(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"])
    appended = verify_pdf(api, with_page)
    assert appended["valid"] is False and appended["changed_after_last_signature"] is True, appended
    assert appended["reason_code"] in ("changed_after_signing", "content_after_last_signature"), appended

    resigned = verify_pdf(api, _sign_with(pdf, _foreign_signer("someone after the lock"), "LateSignature"))
    assert resigned["valid"] is False and resigned["reason"], resigned

    earlier = _cut_to_revision(pdf, 5)  # the form, its certification and three approvals: before the seal
    assert len(PdfFileReader(io.BytesIO(earlier)).embedded_signatures) == 4
    cut = verify_pdf(api, earlier)
    assert (
        cut["valid"] is False and cut["latest"] is False and cut["reason_code"] == "earlier_revision" and "较早的版本" in cut["reason"]
    ), cut
    assert all(s["intact"] and s["trusted"] for s in cut["signatures"]), (
        "each signature holds; only the comparison with signing shows the cut"
    )

    form = FPDF()
    form.add_page()
    form.set_font("helvetica", size=14)
    form.cell(100, 10, "Approval form (forged)")
    forged = verify_pdf(api, _sign_with(bytes(form.output()), _foreign_signer("Sealflow"), "Forged"))
    assert forged["valid"] is False and forged["reason_code"] == "untrusted_signer" and "信任根" in forged["reason"], forged


def test_verify_refuses_what_is_not_a_pdf(api: Api) -> None:
    with api.anonymous() as anyone:
        not_pdf = anyone.post("/v1/verify", files={"file": ("x.pdf", b"hello", "application/pdf")})
        assert not_pdf.status_code == 422 and not_pdf.json()["error"]["code"] == "invalid_request"
        no_file = anyone.post("/v1/verify", files={"other": ("x.pdf", b"%PDF-1.7", "application/pdf")})
        assert no_file.status_code == 422
        wrong_type = anyone.post("/v1/verify", content=b"x", headers={"Content-Type": "text/plain"})
        assert wrong_type.status_code == 415 and wrong_type.json()["error"]["code"] == "unsupported_media_type"


def test_only_readers_of_the_matter_get_its_document(api: Api, sealed: dict) -> None:
    matter_id = sealed["matter"]["id"]
    with api.as_("changbei-bookkeeper") as outsider:
        response = outsider.get(f"/v1/matters/{matter_id}/document")
        assert response.status_code == 404 and response.json()["error"]["code"] == "matter_not_found"
    with api.anonymous() as anyone:
        assert anyone.get(f"/v1/matters/{matter_id}/document").status_code == 401
    with api.as_("yinong-discipline") as inspector:
        assert inspector.get(f"/v1/matters/{matter_id}/document").status_code == 200


def test_the_seal_use_register_lists_the_cooperative_seal_by_seal_village_and_period(api: Api, sealed: dict) -> None:
    matter_id = sealed["matter"]["id"]
    with api.as_("yinong-discipline") as inspector:
        uses = inspector.get("/v1/seal-uses", params={"seal_id": "jiulian-coop", "village_id": "jiulian"}).json()["items"]
        mine = [u for u in uses if u["matter_id"] == matter_id]
        assert len(mine) == 1 and mine[0]["stage"] == 2
        assert mine[0]["triggered_by"] == ["jiulian-secretary"] and mine[0]["triggered_by_roles"] == ["secretary"]
        used_at = mine[0]["used_at"]
        window = inspector.get("/v1/seal-uses", params={"from": used_at, "to": "2999-01-01T00:00:00+00:00"}).json()["items"]
        assert matter_id in [u["matter_id"] for u in window]
        later = inspector.get("/v1/seal-uses", params={"from": "2999-01-01T00:00:00+00:00"}).json()["items"]
        assert later == []
        bad = inspector.get("/v1/seal-uses", params={"from": "yesterday"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    with api.as_("jiulian-secretary") as custodian:
        assert matter_id in [u["matter_id"] for u in custodian.get("/v1/seal-uses").json()["items"]]
    with api.as_("changbei-secretary") as other:
        assert other.get("/v1/seal-uses", params={"village_id": "jiulian"}).status_code == 403
        assert matter_id not in [u["matter_id"] for u in other.get("/v1/seal-uses").json()["items"]]
    with api.as_("jiulian-director") as director:
        assert director.get("/v1/seal-uses").status_code == 403
