"""The CPU-heavy PDF work (render, certify, sign), run in a separate worker process so that ~0.2-1 s of
pure-Python pyHanko per act never stalls the service's event loop (decisions' signatures, gRPC).

Inputs and outputs are plain bytes and dicts. Private keys cross to the worker as DER over the
executor's pipe: they stay inside the signing service's own processes and are never written out."""

import ctypes
import io
import os
import signal
from typing import Any

from cryptography.hazmat.primitives import serialization
from PIL import Image

from sealflow_signing.domain import form as form_layout
from sealflow_signing.domain import images, pades, pki

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


# The PDF work is background work (the approval and its chain are complete without it): at this niceness
# it yields the CPU to decisions and acts when the machine is busy, and catches up when it is not.
PDF_NICENESS = 10


def init_worker(signing_pid: int | None = None) -> None:
    """Pool initializer. A worker must not outlive its signing process: a SIGKILL (OOM, a crash, the chaos
    test) skips the pool's shutdown, and Linux would otherwise leave the worker running, orphaned.

    The death signal only covers a parent that dies after it is set: a worker still importing when its
    signing process was killed (a spawned worker takes a second or more to get here) is already orphaned,
    so it checks it still has the parent it was made for (the chaos test left dozens of such workers)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if signing_pid is not None and os.getppid() != signing_pid:
        os._exit(0)
    os.nice(PDF_NICENESS)


def _key(der: bytes):
    return serialization.load_der_private_key(der, password=None)


def _signer(key_der: bytes, cert_pem: str, chain_pems: list[str]):
    return pades.make_signer(_key(key_der), pki.load_pem(cert_pem), [pki.load_pem(p) for p in chain_pems])


def plan_fields(route: list[dict[str, Any]], layout: form_layout.Layout) -> tuple[list[dict[str, Any]], int]:
    """One signature field per signer slot and per seal, and how many acts complete the route. The last
    act locks: when the last stage needs one signature its fields carry the lock; otherwise a platform
    signature in an invisible closing field does, once every act is in."""
    plan: list[dict[str, Any]] = []
    expected = 0
    last = route[-1]
    single_last = last["mode"] == "any" or len(last["assignees"]) == 1
    for stage in route:
        expected += len(stage["assignees"]) if stage["mode"] in ("all", "sequence") else 1
        for i, slot in enumerate(stage["assignees"], start=1):
            box = layout.signer_boxes[form_layout.slot_key(stage["number"], slot["person_id"])]
            plan.append(
                {
                    "name": f"Stage{stage['number']}Signer{i}",
                    "slot": f"sig:{stage['number']}:{slot['person_id']}",
                    "page": box.page,
                    "box": list(box.as_tuple()),
                    "lock": stage is last and single_last and not stage.get("seal_id"),
                }
            )
        if stage.get("seal_id"):
            expected += 1
            box = layout.seal_boxes[form_layout.slot_key(stage["number"], stage["seal_id"])]
            plan.append(
                {
                    "name": f"Stage{stage['number']}Seal",
                    "slot": f"seal:{stage['number']}:{stage['seal_id']}",
                    "page": box.page,
                    "box": list(box.as_tuple()),
                    "lock": stage is last,
                }
            )
    if layout.close_box is not None:
        # The platform's closing signature locks, always: it carries the approval number and the QR code of
        # the public page into its box, which it can only do once the approval is registered.
        for f in plan:
            f["lock"] = False
        box = layout.close_box
        plan.append(
            {"name": "SealflowClose", "slot": "close", "page": box.page, "box": list(box.as_tuple()), "lock": True, "approval_stamp": True}
        )
    elif not any(f["lock"] for f in plan):
        plan.append({"name": "SealflowClose", "slot": "close", "page": 0, "box": None, "lock": True})
    return plan, expected


def certify_form(
    form: dict[str, Any],
    font: str,
    fallback_font: str | None,
    key_der: bytes,
    cert_pem: str,
    chain_pems: list[str],
    location: str,
    files: list[bytes] | None = None,
) -> tuple[bytes, list[dict[str, Any]], int, str]:
    pdf, layout = form_layout.render(form, font, fallback_font, files)
    plan, expected = plan_fields(form["route"], layout)
    certified = pades.certify(
        pdf,
        _signer(key_der, cert_pem, chain_pems),
        [pades.FieldPlan(f["name"], f["page"], tuple(f["box"]) if f["box"] else None, f["lock"]) for f in plan],
        # The form's identity in the certification (which the platform signs): the standalone verifier ties each
        # PDF to its revision in the trail with it (issue 15).
        reason=f"签批平台认证：表单内容与摘要一致 matter={form['matter_id']} revision={form['revision']} digest={form['digest']}",
        location=location,
    )
    return certified, plan, expected, pades.signature_id(pades.new_signature_contents(pdf, certified))


def sign_steps(pdf: bytes, steps: list[dict[str, Any]], chain_pems: list[str], location: str, cjk_font: str) -> tuple[bytes, list[str]]:
    """Apply each step (an act, or the closing lock) in order; returns the PDF and each signature's id."""
    ids = []
    for step in steps:
        if step.get("image_png"):
            image = Image.open(io.BytesIO(step["image_png"]))
        elif step.get("stamp_lines"):
            image = images.stamp_image(step["stamp_lines"], cjk_font, width=int(form_layout.STAMP_W), height=int(form_layout.STAMP_H))
        elif step.get("approval_stamp"):
            x1, y1, x2, y2 = step["box"]
            image = images.approval_stamp(
                step["approval_stamp"]["number"], step["approval_stamp"]["url"], cjk_font, width=x2 - x1, height=y2 - y1
            )
        else:
            image = None
        before = pdf
        pdf = pades.sign(
            pdf,
            _signer(step["key_der"], step["cert_pem"], chain_pems),
            field_name=step["field"],
            image=image,
            reason=step["reason"],
            location=location,
            name=step["name"],
        )
        ids.append(pades.signature_id(pades.new_signature_contents(before, pdf)))
    return pdf, ids
