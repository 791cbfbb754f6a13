"""The approval form as a PDF (fpdf2): the form's Chinese text, its attachments with their hashes, a
signature table with one box per signer and one per seal, and a QR code for verification.

Returns the PDF and where each box is (page, PDF user-space rectangle), so signatures land in them.
Text uses WenQuanYi Micro Hei (Debian fonts-wqy-microhei, Apache-2.0 or GPL-3+ with the font
embedding exception); fpdf2 embeds only the glyphs the form uses.
"""

import io
import json
from dataclasses import dataclass, field
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from sealflow_signing.domain.images import QR_HINT

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN = 40.0
STAMP_W, STAMP_H = 150.0, 52.0
SEAL_SIZE = 96.0
MODE_LABEL = {"all": "会签", "any": "或签", "sequence": "依次"}


@dataclass
class Box:
    page: int  # 0-based
    x1: float
    y1: float
    x2: float
    y2: float

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (round(self.x1), round(self.y1), round(self.x2), round(self.y2))


@dataclass
class Layout:
    signer_boxes: dict[str, Box] = field(default_factory=dict)  # "stage:person_id" → box
    seal_boxes: dict[str, Box] = field(default_factory=dict)  # "stage:seal_id" → box
    close_box: Box | None = None  # the closing stamp: approval number and QR code


def slot_key(stage: int, who: str) -> str:
    return f"{stage}:{who}"


def yuan(amount_fen: int) -> str:
    return f"{amount_fen // 100:,}.{amount_fen % 100:02d} 元"


def render(
    form: dict[str, Any], font_path: str, fallback_font_path: str | None = None, files: list[bytes] | None = None
) -> tuple[bytes, Layout]:
    """`form` is what signing stores for a matter's revision (see handlers.on_request_document).
    `fallback_font_path` serves the characters `font_path` lacks. `files` are the attachments' contents
    (in `form["attachments"]` order, each already checked against its SHA-256): embedded in the PDF, and
    images also drawn on a page of their own, so that the certification and every signature cover them."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font("cjk", fname=font_path, collection_font_number=0)
    if fallback_font_path:
        pdf.add_font("cjkfull", fname=fallback_font_path, collection_font_number=0)
        pdf.set_fallback_fonts(["cjkfull"])
    pdf.set_title(form["title"])
    pdf.set_subject(f"Sealflow matter {form['matter_id']} revision {form['revision']}")
    pdf.set_creator("Sealflow signing")
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN
    layout = Layout()

    pdf.set_font("cjk", size=18)
    pdf.cell(width, 28, form["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=9)
    pdf.cell(
        width,
        14,
        f"{form['town_name']}　{form['village_name']}　{form['matter_type_title']}",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(6)

    rows: list[tuple[str, str]] = [
        ("事项编号", f"{form['matter_id']}（第 {form['revision']} 版）"),
        ("村", form["village_name"]),
        ("申请人", form["applicant_name"]),
        ("提交时间", form["submitted_at"][:19].replace("T", " ")),
        ("金额", yuan(form["amount_fen"])),
    ]
    labels, types = form.get("field_labels") or {}, form.get("field_types") or {}
    for key, value in form["fields"].items():
        # People read the form's labels; money fields are whole fen, shown in 元 like the amount.
        if types.get(key) == "money" and isinstance(value, int) and not isinstance(value, bool):
            shown = yuan(value)
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((labels.get(key, str(key)), shown))
    label_w = 90.0
    pdf.set_font("cjk", size=10)
    for label, value in rows:
        _row(pdf, label, value, label_w, width)

    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 18, "附件（原文件嵌入本 PDF，随签名一同受保护；右栏为其 SHA-256 指纹）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=8)
    if not form["attachments"]:
        pdf.cell(width, 14, "（无附件）", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for a in form["attachments"]:
        _row(pdf, a["filename"], f"{a['sha256']}  {a['size']} 字节", 150.0, width)
    pdf.set_font("cjk", size=8)
    pdf.cell(width, 14, f"表单摘要 {form['digest']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 18, "签批栏", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    stage_w = 110.0
    for stage in form["route"]:
        slots = stage["assignees"]
        per_row = 2
        lines = (len(slots) + per_row - 1) // per_row
        height = lines * (STAMP_H + 6) + 6
        if stage.get("seal_id"):
            height = max(height, SEAL_SIZE + 8)
        if pdf.get_y() + height > PAGE_H - MARGIN:
            pdf.add_page()
        top = pdf.get_y()
        page = pdf.page_no() - 1
        pdf.set_font("cjk", size=9)
        pdf.rect(MARGIN, top, stage_w, height)
        pdf.rect(MARGIN + stage_w, top, width - stage_w, height)
        pdf.set_xy(MARGIN + 4, top + 4)
        pdf.multi_cell(stage_w - 8, 12, f"{stage['number']}. {stage['name']}\n（{MODE_LABEL.get(stage['mode'], stage['mode'])}）")
        for i, slot in enumerate(slots):
            col, line = i % per_row, i // per_row
            x = MARGIN + stage_w + 6 + col * (STAMP_W + 8)
            y = top + 6 + line * (STAMP_H + 6)
            pdf.set_draw_color(190, 190, 190)
            pdf.rect(x, y, STAMP_W, STAMP_H)
            pdf.set_draw_color(0, 0, 0)
            layout.signer_boxes[slot_key(stage["number"], slot["person_id"])] = _box(page, x, y, STAMP_W, STAMP_H)
        if stage.get("seal_id"):
            x = PAGE_W - MARGIN - SEAL_SIZE - 4
            y = top + 4
            layout.seal_boxes[slot_key(stage["number"], stage["seal_id"])] = _box(page, x, y, SEAL_SIZE, SEAL_SIZE)
        pdf.set_xy(MARGIN, top + height)

    # The approval number and its QR code do not exist yet (the form is certified at submission): the
    # platform's closing signature stamps them into this box once the approval is registered.
    close_w, close_h = 300.0, 84.0
    if pdf.get_y() + close_h + 40 > PAGE_H - MARGIN:
        pdf.add_page()
    pdf.ln(10)
    pdf.set_font("cjk", size=9)
    pdf.cell(width, 14, "审批编号与核验二维码（全部签批完成后由签批平台加盖）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y()
    pdf.set_draw_color(190, 190, 190)
    pdf.rect(MARGIN, top, close_w, close_h)
    pdf.set_draw_color(0, 0, 0)
    layout.close_box = _box(pdf.page_no() - 1, MARGIN, top, close_w, close_h)
    pdf.set_xy(MARGIN + close_w + 10, top + 4)
    pdf.multi_cell(
        width - close_w - 10,
        13,
        f"核验码 {form['short_code']}\n本表由签批平台认证，每一个签批和印章都是电子签名，办结时锁定，之后任何改动都会被发现。\n{QR_HINT}",
    )
    for attachment, content in zip(form["attachments"], files or [], strict=False):
        # Embedded files are part of the certified original: a later change to one breaks every signature.
        pdf.embed_file(bytes=content, basename=attachment["filename"], desc=f"附件 SHA-256 {attachment['sha256']}", compress=True)
        if attachment["content_type"].lower() in IMAGE_PAGE_TYPES:
            _image_page(pdf, attachment["filename"], content, width)
    return bytes(pdf.output()), layout


# Images a reader of the printed form should see without opening the attachment.
IMAGE_PAGE_TYPES = ("image/png", "image/jpeg")


def _image_page(pdf: FPDF, filename: str, content: bytes, width: float) -> None:
    pdf.add_page()
    pdf.set_font("cjk", size=10)
    pdf.cell(width, 16, f"附件：{filename}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    try:
        pdf.image(io.BytesIO(content), x=MARGIN, y=pdf.get_y() + 4, w=width, keep_aspect_ratio=True, h=PAGE_H - 2 * MARGIN - 30)
    except Exception:  # noqa: BLE001 — a picture fpdf2 cannot draw is still embedded above; say so on the page
        pdf.cell(width, 16, "（该图片无法显示，原文件已嵌入本 PDF）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _row(pdf: FPDF, label: str, value: str, label_w: float, width: float) -> None:
    top = pdf.get_y()
    pdf.set_xy(MARGIN + label_w, top)
    pdf.multi_cell(width - label_w, 15, value, border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    bottom = pdf.get_y()
    if bottom < top:  # the value broke onto a new page: its label goes with the first line there
        top = MARGIN
    pdf.set_xy(MARGIN, top)
    pdf.cell(label_w, bottom - top, label, border=1)
    pdf.set_xy(MARGIN, bottom)


def _box(page: int, x: float, y_top: float, w: float, h: float) -> Box:
    """fpdf2 measures from the top of the page; PDF user space from the bottom."""
    return Box(page, x, PAGE_H - y_top - h, x + w, PAGE_H - y_top)
