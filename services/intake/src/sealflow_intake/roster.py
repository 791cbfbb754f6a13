"""Reading a roster (人员名册) the town office keeps as a spreadsheet: `.xlsx` (openpyxl) or `.csv` (UTF-8, with
or without a BOM, or GB18030 as Chinese Excel saves it). Columns by header, in any order: id, name,
village_id, roles (separated by `;`), and optionally phone, email — or their Chinese names 编号, 姓名, 村,
角色, 电话, 邮箱. Rows are numbered as the spreadsheet shows them (the header is row 1).

Pure translation from bytes to rows: whether a row fits the directory is routing's to say.
"""

import csv
import io
import zipfile
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

HEADERS = {
    "id": "id", "编号": "id", "人员编号": "id",
    "name": "name", "姓名": "name",
    "village_id": "village_id", "village": "village_id", "村": "village_id", "村编号": "village_id", "所在村": "village_id",
    "roles": "roles", "role": "roles", "角色": "roles",
    "phone": "phone", "电话": "phone", "手机": "phone", "手机号": "phone",
    "email": "email", "邮箱": "email", "电子邮箱": "email",
}  # fmt: skip
REQUIRED = ("id", "name", "village_id", "roles")
MAX_ROWS = 5000


class RosterUnreadable(Exception):
    """The file is not a roster at all (wrong format, no header): nothing row by row to report."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into Excel comes back as 13800000000.0
    return str(value).strip()


def _table(filename: str, content: bytes) -> list[list[str]]:
    name = filename.lower()
    if name.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        try:
            # read_only streams rows; data_only gives formulas' cached values, not their text
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise RosterUnreadable(f"无法读取 Excel 文件：{error}") from error
        try:
            sheet = book.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1)]
        finally:
            book.close()
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterUnreadable("CSV 文件编码无法识别：请存为 UTF-8")
        return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text))]
    raise RosterUnreadable(f"只接受 .xlsx 或 .csv 文件，收到 {filename}")


def parse_roster(filename: str, content: bytes) -> list[dict[str, Any]]:
    """Rows as dicts (`row`, id, name, village_id, roles, phone, email, `errors`), blank rows skipped."""
    table = _table(filename, content)
    header_index = next((i for i, row in enumerate(table) if any(row)), None)
    if header_index is None:
        raise RosterUnreadable("文件是空的")
    columns: dict[str, int] = {}
    for index, title in enumerate(table[header_index]):
        key = HEADERS.get(title.strip().lower()) or HEADERS.get(title.strip())
        if key and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise RosterUnreadable(f"表头缺少列：{', '.join(missing)}（需要 id,name,village_id,roles，或 编号,姓名,村,角色）")
    rows = []
    for offset, values in enumerate(table[header_index + 1 :], start=header_index + 2):
        if not any(values):
            continue
        if len(rows) >= MAX_ROWS:
            raise RosterUnreadable(f"一次最多导入 {MAX_ROWS} 行")
        row: dict[str, Any] = {"row": offset, "errors": []}
        for key, index in columns.items():
            row[key] = values[index] if index < len(values) else ""
        rows.append(row)
    if not rows:
        raise RosterUnreadable("名册只有表头，没有人员行")
    return rows
