// The applicant's form: a matter type's fields, attachments, submit. One Idempotency-Key per draft, kept
// until the server has answered, so a double tap or a retry after a lost reply never makes two matters.
// With ?revise=<id> the same form resubmits a returned matter as a new revision.
import { ApiError, getJson, newKey, request } from "../api.js";
import { FORMS } from "../forms.js";
import { MATTER_TYPES, VILLAGES, busy, h, message } from "../ui.js";

const MAX_BYTES = 10 * 1024 * 1024;
const DRAFT_KEY = "sf.draft-key";

function toFen(text) {
  const match = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function fieldInput(spec, value) {
  const id = `f-${spec.key}`;
  const attrs = { id, name: spec.key, required: spec.required || null, inputmode: spec.inputmode || null };
  let input;
  if (spec.options) input = h("select", attrs, ...spec.options.map((o) => h("option", { value: o, selected: o === value || null }, o)));
  else if (spec.multiline) { input = h("textarea", attrs); input.value = value || ""; }
  else { input = h("input", { ...attrs, type: "text" }); input.value = value || ""; }
  return [h("label", { for: id }, spec.key), input];
}

export async function render(root, ctx) {
  const reviseId = ctx.params.get("revise");
  let earlier = null;
  if (reviseId) earlier = await getJson(`/v1/matters/${encodeURIComponent(reviseId)}`);
  root.append(h("h1", {}, earlier ? "修改后重新提交" : "新建申请"));
  if (earlier) root.append(h("p", { class: "notice" }, `「${earlier.title}」已退回。修改后重新提交，将从第一环节重新签批。附件需重新上传。`));

  const village = earlier?.village_id || ctx.me?.village_id || "";
  const type = h("select", { id: "matter_type", name: "matter_type", disabled: earlier ? true : null },
    ...Object.entries(MATTER_TYPES).map(([k, v]) => h("option", { value: k, selected: k === earlier?.matter_type || null }, v)));
  const title = h("input", { id: "title", name: "title", type: "text", required: true, maxlength: 200 });
  title.value = earlier?.title || "";
  const amount = h("input", { id: "amount", name: "amount", type: "text", inputmode: "decimal", required: true, "aria-describedby": "amount-hint" });
  amount.value = earlier ? (earlier.amount_fen / 100).toFixed(2) : "";
  const fields = h("fieldset", { class: "card" });
  const drawFields = () => {
    fields.replaceChildren(h("legend", {}, `${MATTER_TYPES[type.value]}表单`),
      ...FORMS[type.value].flatMap((spec) => fieldInput(spec, earlier?.fields?.[spec.key])));
  };
  type.addEventListener("change", drawFields);
  drawFields();
  const files = h("input", { id: "files", name: "files", type: "file", multiple: true, "aria-describedby": "files-hint" });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "submit" }, earlier ? "重新提交" : "提交");

  const form = h("form", { novalidate: true },
    h("p", { class: "meta" }, `村：${VILLAGES[village] || village || "—"}`),
    h("label", { for: "matter_type" }, "事项类型"), type,
    h("label", { for: "title" }, "标题"), title,
    h("label", { for: "amount" }, "金额（元）"), amount, h("p", { class: "hint", id: "amount-hint" }, "例如 120000.00"),
    fields,
    h("label", { for: "files" }, "附件"), files, h("p", { class: "hint", id: "files-hint" }, "每个文件不超过 10 MB"),
    h("div", { class: "actions" }, button),
  );
  root.append(form, out);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return; // a second tap while the first is in flight
    const amountFen = toFen(amount.value);
    const missing = [...form.querySelectorAll("[required]")].find((el) => !el.value.trim());
    if (missing) { out.replaceChildren(message("error", `请填写「${form.querySelector(`label[for="${missing.id}"]`).textContent}」。`)); missing.focus(); return; }
    if (amountFen === null) { out.replaceChildren(message("error", "金额格式不对，例如 120000.00。")); amount.focus(); return; }
    const big = [...files.files].find((f) => f.size > MAX_BYTES);
    if (big) { out.replaceChildren(message("error", `附件「${big.name}」超过 10 MB。`)); return; }

    const done = busy(button, "正在提交…");
    out.replaceChildren(message("loading", "正在提交，请勿关闭页面…"));
    try {
      const body = {
        title: title.value.trim(),
        amount_fen: amountFen,
        fields: Object.fromEntries(FORMS[type.value].map((spec) => [spec.key, form.elements[spec.key].value.trim()])),
        attachments: await Promise.all([...files.files].map(async (f) => ({
          filename: f.name, content_type: f.type || "application/octet-stream", content_base64: await readBase64(f),
        }))),
      };
      let response;
      if (earlier) {
        response = await request("POST", `/v1/matters/${earlier.id}/revisions`, { json: body });
      } else {
        const key = sessionStorage.getItem(DRAFT_KEY) || newKey();
        sessionStorage.setItem(DRAFT_KEY, key);
        response = await request("POST", "/v1/matters", {
          json: { ...body, village_id: village, matter_type: type.value }, headers: { "Idempotency-Key": key },
        });
        sessionStorage.removeItem(DRAFT_KEY);
      }
      const matter = await response.json();
      location.hash = `#/matter/${matter.id}`;
    } catch (error) {
      if (error.code === "idempotency_key_reused") sessionStorage.removeItem(DRAFT_KEY);
      const text = earlier && error instanceof ApiError && error.unsupported
        ? "服务器暂不支持修改重提（该功能尚未上线）。请联系镇管理员。"
        : `${error.message}${error.detail && error.code === "invalid_request" ? `（${error.detail}）` : ""}`;
      out.replaceChildren(message("error", `${text}${error.status === 0 ? " 可直接再点一次提交，不会重复提交。" : ""}`));
    } finally {
      done();
    }
  });
}
