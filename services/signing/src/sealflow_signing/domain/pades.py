"""PAdES signatures on the approval form with pyHanko (facts checked in docs/library-facts.md): the platform
certifies first (DocMDP allowing form filling and signing), each approval and seal is an approval
signature in its own incremental update with a visible image stamp, and the route's last signature
locks the document. Validation reports each signature; what the PDF alone cannot show (a file cut back
to an earlier revision) is for the caller to compare with what signing stored."""

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

CERTIFICATION_FIELD = "SealflowCertification"
# Room for each CMS signature, so pyHanko need not make a throw-away signature first to size it (a third of
# the signing time, measured). Every key and certificate is ours (ECDSA P-256, leaf + town root: ~1,500
# bytes); a signature that outgrew this would fail loudly ("Final ByteRange payload larger than expected").
SIGNATURE_BYTES_RESERVED = 8192  # hex digits in the file: 4,096 bytes of CMS


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def make_signer(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, chain: list[x509.Certificate]) -> signers.SimpleSigner:
    """A pyHanko signer from a custodial key held in memory only for this signature."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in chain]),
    )


@dataclass(frozen=True)
class FieldPlan:
    """An empty signature field made before certification: new visible fields added after a
    certification are modifications DocMDP forbids, filling existing ones is allowed."""

    name: str
    page: int
    box: tuple[int, int, int, int] | None  # None: invisible
    lock: bool = False  # signing this field locks the document


def certify(pdf: bytes, signer: signers.SimpleSigner, plan: list[FieldPlan], *, reason: str, location: str) -> bytes:
    """Lay out every signature field, then certify: the platform's certification must be the first
    signature; it allows the planned fields to be signed (DocMDP 2) and nothing else."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for f in plan:
        spec = SigFieldSpec(f.name, on_page=f.page, box=f.box)
        if f.lock:
            spec = SigFieldSpec(
                f.name, on_page=f.page, box=f.box, field_mdp_spec=FieldMDPSpec(FieldMDPAction.ALL), doc_mdp_update_value=MDPPerm.NO_CHANGES
            )
        fields.append_signature_field(writer, spec)
    meta = signers.PdfSignatureMetadata(
        field_name=CERTIFICATION_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        reason=reason,
        location=location,
    )
    return _sign_pdf(signers.PdfSigner(meta, signer, new_field_spec=SigFieldSpec(CERTIFICATION_FIELD)), writer)


def sign(
    pdf: bytes, signer: signers.SimpleSigner, *, field_name: str, image: Image.Image | None, reason: str, location: str, name: str
) -> bytes:
    """One approval or seal signature into its planned field, with `image` in the box, as an
    incremental update. Whether it locks was fixed when the field was planned."""
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=SigSeedSubFilter.PADES, reason=reason, location=location, name=name
    )
    style = StaticStampStyle(background=PdfImage(image), border_width=0) if image is not None else None
    return _sign_pdf(
        signers.PdfSigner(meta, signer, stamp_style=style), IncrementalPdfFileWriter(io.BytesIO(pdf)), existing_fields_only=True
    )


def _sign_pdf(pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, **options) -> bytes:
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES_RESERVED, **options)
    return out.getvalue()


_CONTENTS = re.compile(rb"/Contents\s*<([0-9a-fA-F]{1000,})>")


def new_signature_contents(before: bytes, after: bytes) -> bytes:
    """The CMS blob (with its zero padding, as a reader decodes it) of the signature an incremental
    update added; found in the appended bytes instead of re-parsing the whole file (~0.1 s)."""
    found = _CONTENTS.findall(after[len(before) :])
    if len(found) != 1:
        raise ValueError(f"expected one new signature in the update, found {len(found)}")
    return bytes.fromhex(found[0].decode())


def signature_id(contents: bytes) -> str:
    """A signature's identity: the hash of its CMS blob, by which signing finds what it stored about it."""
    return hashlib.sha256(contents).hexdigest()


@dataclass
class SignatureReport:
    field_name: str
    signature_id: str
    signer: str
    signer_subject: str
    signed_at: str
    reason: str
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    modification_level: str
    docmdp_ok: bool
    certification: bool
    revision: int
    problem: str = ""


@dataclass
class DocumentReport:
    readable: bool
    revisions: int = 0
    signatures: list[SignatureReport] = field(default_factory=list)
    problem: str = ""


def validate(pdf: bytes, trust_roots: list[x509.Certificate]) -> DocumentReport:
    """Every embedded signature, validated against `trust_roots` only (nothing fetched from the network)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
        revisions = reader.xrefs.total_revisions
    except Exception as error:  # noqa: BLE001 - any parse failure means "not a PDF we can check"
        return DocumentReport(False, problem=f"not a readable PDF: {error}")
    report = DocumentReport(True, revisions=revisions)
    roots = [_asn1_cert(c) for c in trust_roots]
    for sig in embedded:
        contents = bytes(sig.pkcs7_content)
        try:
            signer_cert = sig.signer_cert
            subject = signer_cert.subject.human_friendly
            common_name = signer_cert.subject.native.get("common_name", subject)
        except Exception:  # noqa: BLE001
            subject, common_name = "", ""
        signed_at = ""
        if isinstance(sig.self_reported_timestamp, datetime):
            signed_at = sig.self_reported_timestamp.isoformat()
        entry = SignatureReport(
            field_name=sig.field_name,
            signature_id=signature_id(contents),
            signer=common_name,
            signer_subject=subject,
            signed_at=signed_at,
            reason=str(sig.sig_object.get("/Reason", "")),
            intact=False,
            valid=False,
            trusted=False,
            coverage="",
            modification_level="",
            docmdp_ok=False,
            certification=sig.sig_object.get("/Reference") is not None and _is_certification(sig),
            revision=sig.signed_revision,
        )
        try:
            status = validate_pdf_signature(sig, signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False))
            entry.intact, entry.valid, entry.trusted = bool(status.intact), bool(status.valid), bool(status.trusted)
            entry.coverage = status.coverage.name if status.coverage else ""
            entry.modification_level = status.modification_level.name if status.modification_level else ""
            entry.docmdp_ok = bool(status.docmdp_ok)
        except Exception as error:  # noqa: BLE001 - a malformed signature is reported, not raised
            entry.problem = f"signature could not be validated: {error}"
        report.signatures.append(entry)
    return report


def _is_certification(sig) -> bool:
    for ref in sig.sig_object.get("/Reference", []):
        if str(ref.get_object().get("/TransformMethod")) == "/DocMDP":
            return True
    return False
