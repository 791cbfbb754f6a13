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

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

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


def slot_key(stage: int, who: str) -> str:
    return f"{stage}:{who}"


def yuan(amount_fen: int) -> str:
    return f"{amount_fen // 100:,}.{amount_fen % 100:02d} 元"


def render(form: dict[str, Any], font_path: str, fallback_font_path: str | None = None) -> tuple[bytes, Layout]:
    """`form` is what signing stores for a matter's revision (see handlers.on_request_document).
    `fallback_font_path` serves the characters `font_path` lacks."""
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
        width, 14, f"{form['town_name']}　{form['village_name']}　{form['matter_type_title']}", align="C",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )
    pdf.ln(6)

    rows: list[tuple[str, str]] = [
        ("事项编号", f"{form['matter_id']}（第 {form['revision']} 版）"),
        ("村", form["village_name"]),
        ("申请人", form["applicant_name"]),
        ("提交时间", form["submitted_at"][:19].replace("T", " ")),
        ("金额", yuan(form["amount_fen"])),
    ]
    for key, value in form["fields"].items():
        rows.append((str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
    label_w = 90.0
    pdf.set_font("cjk", size=10)
    for label, value in rows:
        _row(pdf, label, value, label_w, width)

    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 18, "附件（SHA-256）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
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

    qr_size = 72.0
    if pdf.get_y() + qr_size + 12 > PAGE_H - MARGIN:
        pdf.add_page()
    pdf.ln(10)
    top = pdf.get_y()
    qr = io.BytesIO()
    segno.make(form["verify_uri"], error="m").save(qr, kind="png", scale=6, border=1)
    pdf.image(io.BytesIO(qr.getvalue()), x=MARGIN, y=top, w=qr_size, h=qr_size)
    pdf.set_font("cjk", size=9)
    pdf.set_xy(MARGIN + qr_size + 10, top + 6)
    pdf.multi_cell(
        width - qr_size - 10,
        13,
        f"核验码 {form['short_code']}\n"
        "本表由签批平台认证，每个签批和印章都是 PAdES 电子签名，最后一个签名锁定文档。\n"
        "核验：POST /v1/verify 上传本 PDF，或用 pdfsig 与 GET /v1/trust/roots 的根证书核验。",
    )
    return bytes(pdf.output()), layout


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
