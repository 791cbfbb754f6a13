// The applicant's form: a matter type's fields, attachments, submit. One Idempotency-Key per draft, kept
// until the server has answered, so a double tap or a retry after a lost reply never makes two matters.
// With ?revise=<id> the same form resubmits a returned matter as a new revision.
import { ApiError, getJson, newKey, request } from "../api.js";
import { fieldInput, readFields } from "../forms.js";
import { matterTypes, villageNames } from "../town.js";
import { busy, clearFieldErrors, field, fieldErrors, h, message, showFieldError, toFen } from "../ui.js";

const MAX_BYTES = 10 * 1024 * 1024;
const DRAFT_KEY = "sf.draft-key";

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export async function render(root, ctx) {
  const reviseId = ctx.params.get("revise");
  let earlier = null;
  if (reviseId) earlier = await getJson(`/v1/matters/${encodeURIComponent(reviseId)}`);
  root.append(h("h1", {}, earlier ? "修改后重新提交" : "新建申请"));
  if (earlier) root.append(h("p", { class: "notice" }, `「${earlier.title}」已退回。修改后重新提交，将从第一环节重新签批。附件需重新上传。`));

  const village = earlier?.village_id || ctx.me?.village_id || "";
  const [types, villages] = await Promise.all([matterTypes(), villageNames()]);
  const offered = types.filter((t) => t.active !== false || t.id === earlier?.matter_type);
  if (!offered.length) { root.append(message("notice", "还没有可申请的事项类型，请联系镇管理员。")); return; }
  const specsOf = (typeId) => offered.find((t) => t.id === typeId)?.form?.fields || [];
  const type = h("select", { id: "matter_type", name: "matter_type", disabled: earlier ? true : null },
    ...offered.map((t) => h("option", { value: t.id, selected: t.id === earlier?.matter_type || null }, t.name)));
  const title = h("input", { id: "title", name: "title", type: "text", required: true, maxlength: 200 });
  title.value = earlier?.title || "";
  const amount = h("input", { id: "amount", name: "amount", type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  amount.value = earlier ? (earlier.amount_fen / 100).toFixed(2) : "";
  const fields = h("fieldset", { class: "card" });
  const drawFields = () => {
    const specs = specsOf(type.value);
    fields.replaceChildren(h("legend", {}, "表单内容"),
      ...(specs.length ? specs.map((spec) => fieldInput(spec, earlier?.matter_type === type.value ? earlier?.fields?.[spec.key] : undefined))
        : [h("p", { class: "meta" }, "这个事项类型没有其他要填写的内容。")]));
  };
  type.addEventListener("change", drawFields);
  drawFields();
  const files = h("input", { id: "files", name: "files", type: "file", multiple: true });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "submit" }, earlier ? "重新提交" : "提交");

  const form = h("form", { novalidate: true },
    h("p", { class: "meta" }, `村：${villages[village] || (village ? "（未知的村）" : "—")}`),
    h("label", { for: "matter_type" }, "事项类型"), type,
    field("标题", title, { key: "title" }),
    field("金额（元）", amount, { hint: "例如 120000.00", key: "amount_fen" }),
    fields,
    field("附件", files, { hint: "每个文件不超过 10 MB" }),
    h("p", { class: "hint" }, "带 * 的为必填项。"),
    h("div", { class: "actions" }, button),
  );
  root.append(form, out);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return; // a second tap while the first is in flight
    clearFieldErrors(form);
    out.replaceChildren();
    const amountFen = toFen(amount.value);
    const stop = (text) => out.replaceChildren(message("error", text));
    if (!title.value.trim()) { showAndStop(form, "title", "请填写「标题」。", stop); return; }
    if (amountFen === null) { showAndStop(form, "amount_fen", "金额格式不对，例如 120000.00。", stop); return; }
    const values = readFields(fields, specsOf(type.value));
    if (!values) { stop("请按提示修改标红的内容。"); return; }
    const big = [...files.files].find((f) => f.size > MAX_BYTES);
    if (big) { out.replaceChildren(message("error", `附件「${big.name}」超过 10 MB。`)); return; }

    const done = busy(button, "正在提交…");
    out.replaceChildren(message("loading", "正在提交，请勿关闭页面…"));
    try {
      const body = {
        title: title.value.trim(),
        amount_fen: amountFen,
        fields: values,
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
      // The server answered with a refusal (a 4xx): no matter was made, so the corrected form goes with a new
      // key. Only a lost reply (no answer, a timeout, a 5xx) keeps it, so that trying again makes one matter.
      if (error.status >= 400 && error.status < 500) sessionStorage.removeItem(DRAFT_KEY);
      const text = earlier && error instanceof ApiError && error.unsupported
        ? "服务器暂不支持修改重提（该功能尚未上线）。请联系镇管理员。"
        : `${error.message}${error.detail && error.code === "invalid_request" ? `（${error.detail}）` : ""}`;
      fieldErrors(form, error); // a 422 naming a field is shown next to it as well
      out.replaceChildren(message("error", `${text}${error.status === 0 ? " 可直接再点一次提交，不会重复提交。" : ""}`));
    } finally {
      done();
    }
  });
}

function showAndStop(form, key, text, stop) {
  showFieldError(form, key, text);
  stop(text);
}
