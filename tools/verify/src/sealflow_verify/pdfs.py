"""Each sealed PDF with pyHanko against the given root only (nothing fetched): every signature intact, valid
and trusted; the platform's certification names the matter, revision and form digest it certified."""

import io
import re
from dataclasses import dataclass, field

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

IDENTITY = re.compile(r"matter=(\S+) revision=(\d+) digest=([0-9a-f]{64})")


@dataclass
class PdfFacts:
    signatures: int = 0
    identity: tuple[str, int, str] | None = None
    last_reason: str = ""
    last_locks: bool = False
    problems: list[str] = field(default_factory=list)


def check_pdf(name: str, pdf: bytes, roots: list[x509.Certificate]) -> PdfFacts:
    facts = PdfFacts()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as error:  # noqa: BLE001 - any parse failure: not a PDF that can be checked
        facts.problems.append(f"{name} 无法读取 / cannot be read as a PDF: {error}")
        return facts
    facts.signatures = len(embedded)
    if not embedded:
        facts.problems.append(f"{name} 没有签名 / has no signatures")
        return facts
    anchors = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in roots]
    for number, sig in enumerate(embedded, start=1):
        label = f"{name} 第 {number} 个签名 ({sig.field_name}) / signature {number} ({sig.field_name})"
        try:
            status = validate_pdf_signature(sig, signer_validation_context=ValidationContext(trust_roots=anchors, allow_fetching=False))
        except Exception as error:  # noqa: BLE001
            facts.problems.append(f"{label}: 无法验证 / could not be validated: {error}")
            continue
        if not status.intact:
            facts.problems.append(f"{label}: 签名后文件被改动 / not intact: the file was changed after it was signed")
        elif not status.valid:
            facts.problems.append(f"{label}: 签名无效 / the signature is not valid")
        if status.intact and status.valid and not status.trusted:
            facts.problems.append(f"{label}: 证书不在给定的根证书之下 / its certificate is not under the given root")
        if status.intact and not status.docmdp_ok:
            facts.problems.append(f"{label}: 签名后有不允许的修改 / changes not allowed after it were made")
    first = embedded[0].sig_object.get("/Reason", "")
    found = IDENTITY.search(str(first))
    if found:
        facts.identity = (found.group(1), int(found.group(2)), found.group(3))
    else:
        facts.problems.append(
            f"{name}: 第一个签名不是平台对表单摘要的认证 / the first signature is not the platform's certification of a form digest"
        )
    last = embedded[-1]
    facts.last_reason = str(last.sig_object.get("/Reason", ""))
    facts.last_locks = "文档锁定" in facts.last_reason
    return facts
