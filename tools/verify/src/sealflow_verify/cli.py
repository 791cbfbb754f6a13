"""`sealflow-verify evidence.zip --root town-root.pem [--previous-checkpoint old.note [--consistency proof.json]]`:
exit 0 listing what was checked, exit 1 naming each failure."""

import argparse
import base64
import json
import sys
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sealflow_verify import pdfs, tlog, trail

ENDINGS = {"matter.completed", "matter.rejected", "matter.withdrawn"}


class Report:
    def __init__(self) -> None:
        self.checked: list[str] = []
        self.failures: list[str] = []

    def ok(self, what: str) -> None:
        self.checked.append(what)

    def fail(self, what: str) -> None:
        self.failures.append(what)


def _issued_by_root(cert: x509.Certificate, roots: list[x509.Certificate]) -> bool:
    for root in roots:
        if cert.fingerprint(cert.signature_hash_algorithm) == root.fingerprint(cert.signature_hash_algorithm):
            return True
        try:
            cert.verify_directly_issued_by(root)
            return True
        except Exception:  # noqa: BLE001 - not this root
            continue
    return False


def verify(package: Path, roots: list[x509.Certificate], previous: str | None = None, consistency: bytes | None = None) -> Report:
    """Check the package against the root; with `previous` (an older checkpoint's note, as the auditor kept it)
    also that the package's checkpoint extends it, by `consistency` (a proof from GET /v1/trail/consistency) or
    else the package's own consistency-proof.json (the package fetched with ?since=)."""
    report = Report()
    try:
        zf = zipfile.ZipFile(package)
        files = {name: zf.read(name) for name in zf.namelist()}
    except (OSError, zipfile.BadZipFile) as error:
        report.fail(f"证据包无法打开 / the evidence package cannot be opened: {error}")
        return report
    needed = ["trail.json", "trail-head.note", "checkpoint.note", "inclusion-proof.json", "log.json", "certificates/log-key.pem"]
    absent = [n for n in needed if n not in files]
    if absent:
        report.fail(f"证据包缺少文件 / the package lacks: {', '.join(absent)}")
        return report

    # 1. the trail's hash chain
    trail_doc = json.loads(files["trail.json"])
    entries = trail_doc["entries"]
    matter_id = trail_doc["matter_id"]
    problems = trail.chain_problems(entries)
    for problem in problems:
        report.fail(problem)
    if not problems:
        report.ok(
            f"留痕哈希链完整：{len(entries)} 条，顺序、内容、链接均正确 / "
            f"trail hash chain intact: {len(entries)} entries in order, each hash recomputes and links"
        )

    # 2. the log's note key, certified by the root
    log = json.loads(files["log.json"])
    origin = log["origin"]
    key: Ed25519PublicKey | None = None
    try:
        log_cert = x509.load_pem_x509_certificate(files["certificates/log-key.pem"])
        public = log_cert.public_key()
        if not isinstance(public, Ed25519PublicKey):
            report.fail("日志密钥不是 Ed25519 / the log key is not an Ed25519 key")
        elif not _issued_by_root(log_cert, roots):
            report.fail("日志签名密钥的证书不在给定的根证书之下 / the log key's certificate is not under the given root")
        else:
            key = public
            report.ok(f"日志签名密钥（{origin}）由根证书签发 / the log's note key ({origin}) is certified by the root")
    except ValueError as error:
        report.fail(f"日志密钥证书无法读取 / the log key certificate cannot be read: {error}")

    # 3. the signed head
    head_body = None
    try:
        head = tlog.parse_note(files["trail-head.note"].decode("utf-8"))
        lines = head.body.splitlines()
        if len(lines) != 4 or lines[0] != f"{origin}/trail-head":
            raise ValueError("not a Sealflow trail head")
        head_body, head_matter, head_size, head_hash = head.body, lines[1], int(lines[2]), lines[3]
        if key is not None and not tlog.note_signed_by(head, origin, key):
            report.fail("留痕头的签名无效 / the trail head's signature does not verify")
        elif key is not None:
            report.ok(
                f"留痕头签名有效：共 {head_size} 条，末条哈希 {head_hash[:16]}… / "
                f"signed trail head verifies: {head_size} entries, head {head_hash[:16]}…"
            )
        if head_matter != matter_id:
            report.fail(f"留痕头属于另一事项 {head_matter} / the signed head is for another matter ({head_matter})")
        elif len(entries) < head_size:
            report.fail(
                f"留痕只有 {len(entries)} 条，签名时有 {head_size} 条：有条目被删除 / "
                f"the trail has {len(entries)} entries but {head_size} were signed: entries were removed"
            )
        elif entries[head_size - 1].get("hash") != head_hash:
            report.fail(
                f"留痕与签名的留痕头不符（第 {head_size} 条的哈希不同）：签名后被改写 / "
                f"the trail does not match its signed head (entry {head_size}'s hash differs): it was rewritten after it was signed"
            )
        else:
            report.ok("留痕与签名的留痕头一致 / the trail matches its signed head")
            if len(entries) > head_size:
                report.ok(
                    f"签名后又有 {len(entries) - head_size} 条留痕（不在签名范围内）/ "
                    f"{len(entries) - head_size} entries after the signed head (not covered)"
                )
    except (ValueError, UnicodeDecodeError) as error:
        report.fail(f"留痕头无法读取 / the trail head cannot be read: {error}")

    # 4. the checkpoint and the inclusion proof
    checkpoint_size: int | None = None
    checkpoint_root = b""
    try:
        checkpoint = tlog.parse_note(files["checkpoint.note"].decode("utf-8"))
        c_lines = checkpoint.body.splitlines()
        if len(c_lines) < 3 or c_lines[0] != origin:
            raise ValueError("not a checkpoint of this log")
        size, root_hash = int(c_lines[1]), base64.b64decode(c_lines[2], validate=True)
        if key is not None and not tlog.note_signed_by(checkpoint, origin, key):
            report.fail("检查点的签名无效 / the checkpoint's signature does not verify")
        elif key is not None:
            report.ok(f"检查点签名有效：{origin}，树大小 {size} / checkpoint signature verifies: {origin}, tree size {size}")
            checkpoint_size, checkpoint_root = size, root_hash
        proof = json.loads(files["inclusion-proof.json"])
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        if head_body is None:
            pass
        elif proof["tree_size"] != size:
            report.fail(
                f"包含证明针对大小 {proof['tree_size']} 的树，检查点是 {size} / "
                f"the inclusion proof is for tree size {proof['tree_size']}, the checkpoint's is {size}"
            )
        elif not tlog.verify_inclusion(tlog.leaf_hash(head_body.encode()), proof["leaf_index"], size, hashes, root_hash):
            report.fail("留痕头不在检查点中（包含证明不成立）/ the inclusion proof fails: the signed head is not in the checkpoint")
        else:
            report.ok(
                f"包含证明成立：留痕头是检查点中的第 {proof['leaf_index']} 个叶子 / "
                f"inclusion proof holds: the head is leaf {proof['leaf_index']} of the checkpoint"
            )
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        report.fail(f"检查点或包含证明无法读取 / the checkpoint or inclusion proof cannot be read: {error}")

    # 4b. an older checkpoint the auditor kept: the package's checkpoint must extend it
    if previous is not None and key is not None:
        _check_previous(report, previous, consistency or files.get("consistency-proof.json"), origin, key, checkpoint_size, checkpoint_root)

    # 5. the seal records: each seal's certificate under the root
    if "seals.json" in files:
        seals = json.loads(files["seals.json"]).get("seals", [])
        bad = []
        for seal in seals:
            try:
                if not _issued_by_root(x509.load_pem_x509_certificate(seal["certificate_pem"].encode()), roots):
                    bad.append(seal.get("seal_id", "?"))
            except (KeyError, ValueError):
                bad.append(seal.get("seal_id", "?"))
        if bad:
            report.fail(f"印章证书不在给定的根证书之下：{', '.join(bad)} / seal certificates not under the given root: {', '.join(bad)}")
        elif seals:
            report.ok(f"印章记录 {len(seals)} 枚，证书均由根证书签发 / {len(seals)} seal record(s), each certificate under the root")

    # 6. the PDFs: every signature against the root, each tied to its revision's digest, the last one complete
    revisions: dict[int, str] = {}
    for entry in entries:
        if entry.get("type") in ("matter.submitted", "matter.revised") and isinstance(entry.get("data"), dict):
            revisions[int(entry["data"].get("revision", 1))] = entry["data"].get("digest")
    ending = next((e for e in reversed(entries) if e.get("type") in ENDINGS), None)
    approval = next((e["data"].get("approval_number") for e in reversed(entries) if e.get("type") == "matter.completed"), None)
    documents = sorted(
        (int(n.removeprefix("documents/revision-").removesuffix(".pdf")), n)
        for n in files
        if n.startswith("documents/revision-") and n.endswith(".pdf")
    )
    given = [r for r, _ in documents]
    for missing in sorted(set(revisions) - set(given)):
        report.fail(f"缺少第 {missing} 版的文档 / the PDF of revision {missing} is missing")
    for extra in sorted(set(given) - set(revisions)):
        report.fail(f"documents/revision-{extra}.pdf 在留痕中没有对应的版本 / revision {extra} is not in the trail")
    last_revision = max(revisions, default=None)
    for revision, name in documents:
        facts = pdfs.check_pdf(name, files[name], roots)
        for problem in facts.problems:
            report.fail(problem)
        if facts.identity is None:
            continue
        doc_matter, doc_revision, doc_digest = facts.identity
        if doc_matter != matter_id:
            report.fail(f"{name} 属于另一事项 {doc_matter} / belongs to another matter ({doc_matter})")
        elif revision in revisions and (doc_revision != revision or doc_digest != revisions[revision]):
            report.fail(
                f"{name} 是第 {doc_revision} 版的表单（摘要 {doc_digest[:16]}…），与留痕中第 {revision} 版的摘要 "
                f"{str(revisions[revision])[:16]}… 不符 / "
                ""
                f"is the form of revision {doc_revision} (digest {doc_digest[:16]}…), "
                f"not the trail's revision {revision} (digest {str(revisions[revision])[:16]}…)"
            )
        elif not facts.problems:
            report.ok(
                f"{name}：{facts.signatures} 个签名完好、有效、可追溯到根证书，表单摘要与留痕第 {revision} 版一致 / "
                f"{facts.signatures} signatures intact, valid, under the root; form digest matches the trail's revision {revision}"
            )
        if revision == last_revision and ending is not None and ending["type"] == "matter.completed":
            if not facts.last_locks or (approval and approval not in facts.last_reason):
                report.fail(
                    f"{name} 不是办结锁定后的最后一版（最后一个签名：{facts.last_reason or '无'}）：文件被截回到较早的版本 / "
                    f"is not the final, locked document (its last signature: {facts.last_reason or 'none'}): "
                    "the file was cut back to an earlier revision"
                )
            else:
                report.ok(f"{name} 是最后一版，已锁定，审批编号 {approval} / is the last revision, locked with approval number {approval}")
    return report


def _check_previous(
    report: Report, previous: str, proof_json: bytes | None, origin: str, key: Ed25519PublicKey, size: int | None, root_hash: bytes
) -> None:
    """The older checkpoint is this log's, signed by its key; the two checkpoints are the same tree, or the larger
    one extends the smaller (RFC 6962 consistency proof): no trail head signed before was rewritten or removed."""
    try:
        old = tlog.parse_note(previous)
        lines = old.body.splitlines()
        if len(lines) < 3 or lines[0] != origin:
            raise ValueError(f"not a checkpoint of {origin}")
        old_size, old_root = int(lines[1]), base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        report.fail(f"旧检查点无法读取 / the previous checkpoint cannot be read: {error}")
        return
    if not tlog.note_signed_by(old, origin, key):
        report.fail("旧检查点的签名无效（不是本日志的密钥签名的）/ the previous checkpoint's signature does not verify under the log's key")
        return
    if size is None:
        return  # the package's own checkpoint failed already
    if old_size == size:
        if old_root == root_hash:
            report.ok(f"旧检查点与本包的检查点相同（树大小 {size}）/ the previous checkpoint is the package's own (tree size {size})")
        else:
            report.fail(
                f"两个检查点的树大小都是 {size}，根哈希却不同：日志被改写（分叉）/ "
                f"two checkpoints of tree size {size} with different roots: the log was rewritten (a fork)"
            )
        return
    first, second = min(old_size, size), max(old_size, size)
    first_root, second_root = (old_root, root_hash) if old_size < size else (root_hash, old_root)
    try:
        proof = json.loads(proof_json) if proof_json is not None else None
        if proof is None or (proof.get("first"), proof.get("second")) != (first, second):
            report.fail(
                f"没有从树大小 {first} 到 {second} 的一致性证明：下载证据包时加 ?since={old_size}，或用 --consistency 给出 "
                f"GET /v1/trail/consistency?first={first}&second={second} 的结果 / "
                f"no consistency proof from tree size {first} to {second}: fetch the package with ?since={old_size}, or give "
                f"GET /v1/trail/consistency?first={first}&second={second} with --consistency"
            )
            return
        hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        report.fail(f"一致性证明无法读取 / the consistency proof cannot be read: {error}")
        return
    if tlog.verify_consistency(first, second, hashes, first_root, second_root):
        report.ok(
            f"一致性证明成立：树大小 {second} 的检查点延续了树大小 {first} 的检查点，此前签名的留痕头没有被改写或删除 / "
            f"consistency proof holds: the checkpoint of tree size {second} extends the one of tree size {first}; "
            "no trail head signed before was rewritten or removed"
        )
    else:
        report.fail(
            f"一致性证明不成立：树大小 {second} 的检查点不是树大小 {first} 的延续，日志被改写或删除过留痕头 / "
            f"the consistency proof fails: the checkpoint of tree size {second} does not extend the one of tree size {first}; "
            "the log was rewritten"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sealflow-verify", description="Verify a Sealflow evidence package offline.")
    parser.add_argument("package", type=Path, help="evidence.zip from GET /v1/matters/{id}/evidence")
    parser.add_argument("--root", type=Path, required=True, help="the town root certificate(s), PEM (GET /v1/trust/roots)")
    parser.add_argument(
        "--previous-checkpoint",
        type=Path,
        help="a checkpoint kept earlier (the note from GET /v1/trail/checkpoints/latest): check the package's checkpoint extends it",
    )
    parser.add_argument(
        "--consistency",
        type=Path,
        help="the consistency proof from GET /v1/trail/consistency?first=&second= (else the package's, fetched with ?since=)",
    )
    args = parser.parse_args(argv)
    if args.consistency and not args.previous_checkpoint:
        parser.error("--consistency needs --previous-checkpoint")
    try:
        roots = x509.load_pem_x509_certificates(args.root.read_bytes())
    except (OSError, ValueError) as error:
        print(f"失败 FAIL: 根证书无法读取 / the root certificate cannot be read: {error}")
        return 1
    try:
        previous = args.previous_checkpoint.read_text("utf-8") if args.previous_checkpoint else None
        consistency = args.consistency.read_bytes() if args.consistency else None
    except (OSError, UnicodeDecodeError) as error:
        print(f"失败 FAIL: 文件无法读取 / a file cannot be read: {error}")
        return 1
    report = verify(args.package, roots, previous, consistency)
    for line in report.checked:
        print(f"通过 OK   {line}")
    for line in report.failures:
        print(f"失败 FAIL {line}")
    if report.failures:
        print(f"验证失败：{len(report.failures)} 项 / verification FAILED: {len(report.failures)} problem(s)")
        return 1
    print(f"验证通过：{len(report.checked)} 项检查 / verification passed: {len(report.checked)} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
