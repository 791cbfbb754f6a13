// A matter type's form as data (GET /v1/matter-types: `form.fields`), drawn as inputs and read back in the
// types the server checks: money typed in 元 and sent in fen, numbers as numbers, dates as YYYY-MM-DD.
import { field, fenToInput, h, showFieldError, toFen, yuan } from "./ui.js";

export const FIELD_TYPES = { text: "单行文字", textarea: "多行文字", money: "金额（元）", date: "日期", select: "下拉选择", number: "数字" };
export const MEANINGS = { counterparty: "承包方 / 供应商", service_start: "开始日期（服务或工程）" };

const inputId = (spec) => `f-${spec.key}`;

/** The input for one field, labelled, with its hint and error line; `value` as stored (fen for money). */
export function fieldInput(spec, value) {
  const id = inputId(spec);
  const attrs = { id, name: spec.key, required: spec.required || null };
  let input;
  switch (spec.type) {
    case "select":
      input = h("select", attrs,
        h("option", { value: "" }, spec.required ? "请选择" : "（不填）"),
        ...(spec.options || []).map((o) => h("option", { value: o, selected: o === value || null }, o)));
      break;
    case "textarea":
      input = h("textarea", { ...attrs, maxlength: 2000 });
      input.value = value ?? "";
      break;
    case "date":
      input = h("input", { ...attrs, type: "date" });
      input.value = value ?? "";
      break;
    case "money":
      input = h("input", { ...attrs, type: "text", inputmode: "decimal", autocomplete: "off" });
      input.value = typeof value === "number" ? fenToInput(value) : value ?? "";
      break;
    case "number":
      input = h("input", { ...attrs, type: "text", inputmode: "decimal", autocomplete: "off" });
      input.value = value ?? "";
      break;
    default:
      input = h("input", { ...attrs, type: "text", maxlength: 500 });
      input.value = value ?? "";
  }
  const hint = spec.help || (spec.type === "money" ? "单位：元，例如 120000.00" : spec.type === "date" ? "年-月-日" : null);
  return field(spec.type === "money" && !spec.label.includes("元") ? `${spec.label}（元）` : spec.label, input, { hint, key: spec.key });
}

/** The values of `specs` in `root`, or null after marking the first field in error next to it. */
export function readFields(root, specs) {
  const values = {};
  for (const spec of specs) {
    const input = root.querySelector(`#${CSS.escape(inputId(spec))}`);
    const text = (input?.value || "").trim();
    if (!text) {
      if (spec.required) { showFieldError(root, spec.key, `请填写「${spec.label}」。`); return null; }
      continue;
    }
    if (spec.type === "money") {
      const fen = toFen(text);
      if (fen === null) { showFieldError(root, spec.key, `「${spec.label}」请填金额，例如 120000.00（最多两位小数）。`); return null; }
      values[spec.key] = fen;
    } else if (spec.type === "number") {
      const number = Number(text);
      if (!Number.isFinite(number)) { showFieldError(root, spec.key, `「${spec.label}」请填数字。`); return null; }
      values[spec.key] = number;
    } else if (spec.type === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      showFieldError(root, spec.key, `「${spec.label}」请填日期，例如 2027-01-01。`);
      return null;
    } else {
      values[spec.key] = text;
    }
  }
  return values;
}

/** A stored value as a person reads it (money in 元). */
export function showValue(spec, value) {
  if (spec?.type === "money" && typeof value === "number") return yuan(value);
  return String(value);
}
