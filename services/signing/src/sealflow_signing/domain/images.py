"""Pictures drawn with Pillow: the round red seal (from the organisation's name) and the stamp shown in an
approval's signature box. Stamps are pre-rendered images because pyHanko's text stamps cost ~5x the CPU
(docs/library-facts.md) and need a per-text font subset."""

import io
import math

from PIL import Image, ImageDraw, ImageFont

SEAL_RED = (220, 20, 30, 255)
SEAL_PX = 600


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=0)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def seal_image(name: str, font_path: str, *, bottom: str = "") -> Image.Image:
    """A round red seal: the name along the upper arc, a star in the middle, `bottom` straight below it.
    Transparent outside the ink, so the form shows through as on paper."""
    size = SEAL_PX
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    draw.ellipse((12, 12, size - 12, size - 12), outline=SEAL_RED, width=18)
    _star(draw, c, c, size * 0.16)
    text = name.removesuffix("电子印章") or name
    n = len(text)
    char_px = int(size * (0.13 if n <= 10 else 0.10))
    font = _font(font_path, char_px)
    span = min(250.0, 22.0 * n)  # degrees of arc the name covers, centred on the top
    radius = c - 40 - char_px / 2
    for i, ch in enumerate(text):
        angle = -span / 2 + (span * (i + 0.5) / n)  # 0 = straight up, clockwise positive
        glyph = Image.new("RGBA", (char_px * 2, char_px * 2), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text((char_px, char_px), ch, font=font, fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        rad = math.radians(angle)
        x = c + radius * math.sin(rad)
        y = c - radius * math.cos(rad)
        img.alpha_composite(glyph, (int(x - char_px), int(y - char_px)))
    if bottom:
        small = _font(font_path, int(size * 0.075))
        draw.text((c, c + size * 0.28), bottom, font=small, fill=SEAL_RED, anchor="mm")
    return img


def stamp_image(lines: list[str], font_path: str, *, width: int, height: int) -> Image.Image:
    """An approval stamp for a signature box (role, opinion, time), drawn at 4x the box size for print."""
    scale = 4
    img = Image.new("RGB", (width * scale, height * scale), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((1, 1, width * scale - 2, height * scale - 2), outline=(30, 60, 160), width=scale)
    px = max(8, int(height * scale / (len(lines) + 1.2)))
    font = _font(font_path, min(px, 11 * scale))
    y = scale * 3
    for line in lines:
        while draw.textlength(line, font=font) > width * scale - 6 * scale and len(line) > 1:
            line = line[:-2] + "…"
        draw.text((scale * 3, y), line, font=font, fill=(30, 60, 160))
        y += font.size + scale
    return img


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# What a villager reads beside the QR code (docs/rules.md §8): what scanning it does, in plain words.
QR_HINT = "用手机扫描二维码，可查看本审批的村务公开信息，并核验它是否真实有效。"


def approval_stamp(approval_number: str, url: str, font_path: str, *, width: int, height: int) -> Image.Image:
    """The closing stamp of a sealed form: a QR code of `url` (the public verification page) and the
    approval number, drawn at 4x the box size so that a photo or a 150 dpi scan still decodes."""
    import segno  # the form's QR library (pinned by signing)

    scale = 4
    img = Image.new("RGB", (width * scale, height * scale), (255, 255, 255))
    side = height * scale
    qr = io.BytesIO()
    # error level M: a smudged print still decodes; a quiet zone of 2 modules inside the box.
    segno.make(url, error="m").save(qr, kind="png", scale=16, border=2)
    code = Image.open(qr).convert("RGB").resize((side, side), Image.Resampling.NEAREST)
    img.paste(code, (0, 0))
    draw = ImageDraw.Draw(img)
    big, small = _font(font_path, 13 * scale), _font(font_path, 9 * scale)
    x = side + 6 * scale
    draw.text((x, 8 * scale), "审批编号", font=small, fill=(0, 0, 0))
    draw.text((x, 22 * scale), approval_number, font=big, fill=(0, 0, 0))
    draw.text((x, 44 * scale), "扫码查看并核验本审批", font=small, fill=(0, 0, 0))
    return img
