// One matter type and its form editor: name, active, and the fields (label, key, type, required, options,
// meaning, help), reordered with buttons; a preview as the applicant sees it; saved as a new version with
// If-Match; the version history with what changed from one version to the next.
import { adminHeader, diffView, save, stableJson } from "../admin-kit.js";
import { ApiError, getJson } from "../api.js";
import { FIELD_TYPES, MEANINGS, fieldInput } from "../forms.js";
import { busy, clearFieldErrors, field, h, load, markField, message, nameOf, when } from "../ui.js";

const KEY = /^[a-z][a-z0-9_]*$/;
let flashNext = ""; // shown once on the page a save moved to
const opened = new WeakSet(); // fields shown unfolded, kept across redraws

const describe = (spec, index) => `字段 ${index + 1}：${[spec.label || "（未命名）", FIELD_TYPES[spec.type] || "", spec.required ? "必填" : "选填", spec.meaning ? MEANINGS[spec.meaning] : ""].filter(Boolean).join(" · ")}`;

function fieldEditor(spec, index, count, onChange, onMove) {
  const id = (name) => `ft-${index}-${name}`;
  const label = h("input", { id: id("label"), type: "text", required: true, maxlength: 60, value: spec.label || "" });
  const key = h("input", { id: id("key"), type: "text", required: true, maxlength: 60, autocomplete: "off", value: spec.key || "", "data-key": spec.key || "" });
  const type = h("select", { id: id("type") }, ...Object.entries(FIELD_TYPES).map(([k, v]) => h("option", { value: k, selected: k === (spec.type || "text") || null }, v)));
  const required = h("input", { id: id("required"), type: "checkbox", checked: spec.required || null });
  const options = h("textarea", { id: id("options"), rows: 4 });
  options.value = (spec.options || []).join("\n");
  const meaning = h("select", { id: id("meaning") }, h("option", { value: "" }, "（无）"),
    ...Object.entries(MEANINGS).map(([k, v]) => h("option", { value: k, selected: k === spec.meaning || null }, v)));
  const help = h("input", { id: id("help"), type: "text", maxlength: 200, value: spec.help || "" });
  const optionsField = field("选项（每行一个）", options, { hint: "仅用于“下拉选择”" });
  const showOptions = () => { optionsField.hidden = type.value !== "select"; };
  showOptions();
  const update = () => {
    spec.label = label.value.trim();
    spec.key = key.value.trim();
    key.dataset.key = spec.key;
    spec.type = type.value;
    spec.required = required.checked;
    if (type.value === "select") spec.options = options.value.split("\n").map((o) => o.trim()).filter(Boolean);
    else delete spec.options;
    if (meaning.value) spec.meaning = meaning.value; else delete spec.meaning;
    if (help.value.trim()) spec.help = help.value.trim(); else delete spec.help;
    showOptions();
    summary.textContent = describe(spec, index);
    onChange();
  };
  for (const el of [label, key, type, required, options, meaning, help]) el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input", update);
  const name = () => spec.label || `第 ${index + 1} 项`;
  const summary = h("summary", {}, describe(spec, index));
  const move = (by, text) => h("button", { type: "button", class: "secondary small", disabled: (by < 0 ? index === 0 : index === count - 1) || null,
    "aria-label": `${text}「${name()}」`, onclick: () => onMove(index, by) }, text);
  const box = h("details", { class: "card form-field", "data-index": index, open: opened.has(spec) || null }, summary,
    field("显示名称", label, { hint: "申请人看到的名称，例如 采购方式" }),
    field("字段键", key, { hint: "英文小写字母、数字、下划线，例如 procurement_method；已有事项用它保存内容，保存后尽量不要改" }),
    field("类型", type),
    h("label", { class: "check", for: required.id }, required, " 必填"),
    optionsField,
    field("含义", meaning, { hint: "系统据此识别承包方/供应商和开始日期（用于纪委的预警规则）" }),
    field("填写说明", help),
    h("div", { class: "actions" }, move(-1, "上移"), move(1, "下移"),
      h("button", { type: "button", class: "danger small", "aria-label": `删除「${name()}」`, onclick: () => onMove(index, 0) }, "删除")));
  box.addEventListener("toggle", () => (box.open ? opened.add(spec) : opened.delete(spec)));
  return box;
}

/** The first problem of the form as typed, marked on its input; null when all is well. */
function check(root, state) {
  clearFieldErrors(root);
  const seen = new Set();
  for (const [i, spec] of state.form.fields.entries()) {
    const at = (name) => root.querySelector(`#ft-${i}-${name}`);
    if (!spec.label) { markField(at("label"), "请填写显示名称。"); return `字段 ${i + 1}：请填写显示名称。`; }
    if (!KEY.test(spec.key || "")) { markField(at("key"), "字段键只能用英文小写字母、数字和下划线，且以字母开头。"); return `字段 ${i + 1}「${spec.label}」：字段键格式不对。`; }
    if (seen.has(spec.key)) { markField(at("key"), "与前面的字段键重复。"); return `字段 ${i + 1}「${spec.label}」：字段键重复。`; }
    seen.add(spec.key);
    if (spec.type === "select" && !(spec.options || []).length) { markField(at("options"), "下拉选择至少要有一个选项。"); return `字段 ${i + 1}「${spec.label}」：请填写选项。`; }
  }
  return null;
}

const content = (t) => ({ name: t.name, active: t.active !== false, form: { fields: t.form?.fields || [] } });

async function history(area, id) {
  let data;
  try {
    data = await getJson(`/v1/admin/matter-types/${encodeURIComponent(id)}/versions`);
  } catch (error) {
    area.append(message(error instanceof ApiError && error.unsupported ? "notice" : "error", error instanceof ApiError && error.unsupported ? "服务器暂不提供版本记录。" : error.message));
    return;
  }
  const versions = data.versions || [];
  const items = [];
  for (let i = versions.length - 1; i >= 0; i--) {
    const v = versions[i];
    const by = v.saved_by || v.updated_by || v.by;
    items.push(h("li", { class: "card" },
      h("h3", {}, `第 ${v.version ?? i + 1} 版`),
      h("p", { class: "meta" }, [v.saved_at || v.updated_at || v.at ? when(v.saved_at || v.updated_at || v.at) : "", by ? await nameOf(by) : ""].filter(Boolean).join(" · ") || "—"),
      i > 0 ? h("details", {}, h("summary", {}, "与上一版的差别"), diffView(stableJson(content(versions[i - 1])), stableJson(content(v))))
        : h("p", { class: "meta" }, "最初的版本")));
  }
  area.append(items.length ? h("ol", { class: "list", id: "type-versions" }, ...items) : h("p", { class: "meta" }, "还没有版本记录。"));
}

export async function render(root, ctx) {
  const isNew = ctx.id === "new";
  adminHeader(root, "#/admin/types", isNew ? "新建事项类型" : "事项类型与表单");
  const flash = flashNext;
  flashNext = "";
  const body = h("div");
  root.append(body);
  const draw = async () => {
    body.replaceChildren();
    await load(body, {
      fetch: async () => {
        if (isNew) return null;
        // Read fresh (deactivated types included): the version sent as If-Match is the one on the server now.
        const data = await getJson("/v1/admin/matter-types");
        return (Array.isArray(data) ? data : data.items || []).find((t) => t.id === ctx.id) || null;
      },
      render: (area, loaded) => {
        if (!isNew && !loaded) { area.append(message("error", "找不到这个事项类型。"), h("a", { href: "#/admin/types" }, "返回事项类型")); return; }
        const state = structuredClone(loaded || { id: "", name: "", active: true, form: { fields: [] } });
        state.form = { fields: [], ...(state.form || {}) };
        const id = h("input", { id: "type-id", type: "text", required: true, maxlength: 64, autocomplete: "off" });
        const name = h("input", { id: "type-name", type: "text", required: true, maxlength: 60, value: state.name });
        const active = h("input", { id: "type-active", type: "checkbox", checked: state.active !== false || null });
        name.addEventListener("input", () => { state.name = name.value.trim(); });
        active.addEventListener("change", () => { state.active = active.checked; });
        const fields = h("div", { id: "form-fields" });
        const preview = h("div", { class: "preview", id: "type-preview" });
        const drawPreview = () => {
          const keys = new Set();
          const ok = state.form.fields.filter((f) => f.key && f.label && !keys.has(f.key) && keys.add(f.key));
          preview.replaceChildren(...(ok.length ? ok.map((spec) => fieldInput({ ...spec, key: `preview-${spec.key}` })) : [h("p", { class: "meta" }, "还没有字段。")]));
          for (const el of preview.querySelectorAll("input, select, textarea")) el.disabled = true;
        };
        const drawFields = () => {
          const list = state.form.fields;
          fields.replaceChildren(...list.map((spec, i) => fieldEditor(spec, i, list.length, drawPreview, (index, by) => {
            if (by === 0) list.splice(index, 1);
            else [list[index], list[index + by]] = [list[index + by], list[index]];
            drawFields();
            fields.querySelector(`[data-index="${Math.min(index + by, list.length - 1)}"] input`)?.focus();
          })));
          if (!list.length) fields.append(h("p", { class: "meta" }, "还没有字段：点“添加字段”。"));
          drawPreview();
        };
        drawFields();
        const add = h("button", { type: "button", class: "secondary", id: "field-add" }, "添加字段");
        add.addEventListener("click", () => {
          const spec = { key: "", label: "", type: "text", required: false };
          opened.add(spec);
          state.form.fields.push(spec);
          drawFields();
          fields.querySelector(`#ft-${state.form.fields.length - 1}-label`).focus();
        });
        const button = h("button", { type: "submit", id: "type-save" }, isNew ? "创建" : "保存为新版本");
        const out = h("div", { "aria-live": "polite" }, flash ? message("success", flash) : "");
        const form = h("form", { novalidate: true, id: "type-form" },
          h("section", { class: "card" },
            isNew ? field("类型编号", id, { key: "id", hint: "英文小写字母、数字、下划线，例如 road_repair；建好后不能改" }) : h("p", { class: "meta" }, `第 ${state.version ?? 1} 版`),
            field("名称", name, { key: "name", hint: "例如 村级道路维修" }),
            h("label", { class: "check", for: "type-active" }, active, " 可以申请（取消勾选即停用）")),
          h("h2", {}, "表单字段"), fields, h("div", { class: "actions" }, add),
          h("details", { class: "card" }, h("summary", {}, "预览：申请人看到的表单"), preview),
          h("div", { class: "actions" }, button, isNew ? null : h("a", { class: "button secondary", href: `#/admin/policies/${encodeURIComponent(state.id)}` }, "签批规则")),
          out);
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          const typeId = isNew ? id.value.trim() : state.id;
          clearFieldErrors(form);
          if (isNew && !KEY.test(typeId)) { markField(id, "类型编号只能用英文小写字母、数字和下划线，且以字母开头。"); out.replaceChildren(message("error", "类型编号格式不对。")); return; }
          if (!state.name) { markField(name, "请填写名称。"); out.replaceChildren(message("error", "请填写「名称」。")); return; }
          const problem = check(fields, state);
          if (problem) { out.replaceChildren(message("error", problem)); return; }
          const saved = await save({
            method: "PUT", path: `/v1/admin/matter-types/${encodeURIComponent(typeId)}`, body: content(state),
            version: isNew ? null : state.version, form, out, reload: draw, done: busy(button, "正在保存…"),
          });
          if (!saved) return;
          flashNext = `已保存「${saved.name}」第 ${saved.version ?? ""} 版。${isNew ? "下一步：为它设置签批规则。" : ""}`;
          if (isNew) location.hash = `#/admin/types/${encodeURIComponent(typeId)}`;
          else { const text = flashNext; flashNext = ""; await draw(); body.querySelector("#type-form [aria-live]")?.replaceChildren(message("success", text)); }
        });
        area.append(form);
        if (!isNew) {
          const versions = h("section", { "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, "版本记录"));
          area.append(versions);
          history(versions, state.id).catch((error) => versions.append(message("error", error.message)));
        }
      },
    });
  };
  await draw();
}
