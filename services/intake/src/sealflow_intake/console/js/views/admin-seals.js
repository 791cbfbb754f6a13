// 电子印章: every seal with its holder, who may trigger it, its validity and status; create one, renew it
// (a new end date), or revoke it with a reason (refused for new acts; documents sealed before still verify).
import { adminHeader, roleBoxes, save, town } from "../admin-kit.js";
import { getJson } from "../api.js";
import { roles, villages } from "../town.js";
import { busy, field, h, load, message } from "../ui.js";

const STATUS = { active: ["有效", "st-done"], revoked: ["已吊销", "st-rejected"], expired: ["已过期", "st-cancelled"], not_yet_valid: ["未生效", "st-waiting"] };
const DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
const day = (iso) => (iso ? DAY.format(new Date(iso)) : "—");
const startOf = (d) => `${d}T00:00:00+08:00`;
const endOf = (d) => `${d}T23:59:59+08:00`;

function createForm(data, onCreated) {
  const id = h("input", { id: "seal-new-id", type: "text", required: true, maxlength: 64, autocomplete: "off" });
  const name = h("input", { id: "seal-new-name", type: "text", required: true, maxlength: 60 });
  const holder = h("select", { id: "seal-new-holder" },
    data.town.id ? h("option", { value: data.town.id }, data.town.name) : null,
    ...data.villages.map((v) => h("option", { value: v.id }, v.name)));
  const allowed = roleBoxes("seal-new-roles", data.roles, [], "哪些职务签批完成后可以触发用印");
  allowed.dataset.key = "allowed_roles";
  const from = h("input", { id: "seal-new-from", type: "date" });
  const to = h("input", { id: "seal-new-to", type: "date" });
  const button = h("button", { type: "submit", id: "seal-new-submit" }, "新建印章");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field("印章编号", id, { key: "id", hint: "小写字母、数字或连字符，例如 xinhe-finance" }),
    field("印章名称", name, { key: "name", hint: "例如 新河村经济联合社电子印章" }),
    field("持有单位", holder, { key: "holder" }),
    allowed, h("p", { class: "field-error", id: "seal-new-roles-err", hidden: true }),
    field("生效日期", from, { key: "valid_from", hint: "不填为今天" }),
    field("到期日期", to, { key: "valid_to", hint: "不填由系统按默认期限" }),
    h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id.value.trim())) { out.replaceChildren(message("error", "印章编号只能用小写字母、数字、下划线和连字符。")); id.focus(); return; }
    if (!name.value.trim()) { out.replaceChildren(message("error", "请填写「印章名称」。")); name.focus(); return; }
    if (!allowed.value().length) { out.replaceChildren(message("error", "请至少选择一个可以触发用印的职务。")); return; }
    const body = { id: id.value.trim(), name: name.value.trim(), holder: holder.value, allowed_roles: allowed.value() };
    if (from.value) body.valid_from = startOf(from.value);
    if (to.value) body.valid_to = endOf(to.value);
    const created = await save({ method: "POST", path: "/v1/admin/seals", body, form, out, done: busy(button, "正在生成…") });
    if (created) await onCreated(`已新建「${created.name}」，证书由镇根证书签发。`);
  });
  return h("details", { class: "card", id: "seal-new" }, h("summary", {}, "新建印章"), form);
}

function sealCard(seal, data, reload) {
  const [label, css] = STATUS[seal.status] || [seal.status ? "状态未知" : "有效", "st-waiting"];
  const holder = data.holderName[seal.holder] || "（未知单位）";
  const who = (seal.allowed_roles || []).map((r) => data.roleName[r] || "其他职务").join("、") || "—";
  const card = h("li", { class: "card seal", "data-seal": seal.id },
    h("h3", {}, seal.name, " ", h("span", { class: `chip ${css}` }, label)),
    h("p", { class: "meta" }, `持有：${holder} · 触发用印：${who}`),
    h("p", { class: "meta" }, `有效期：${day(seal.valid_from)} 至 ${day(seal.valid_to)}`),
    seal.status === "revoked" ? h("p", { class: "invalid" }, `吊销于 ${day(seal.revoked_at)}：${seal.revoked_reason || ""}`) : null);
  if (seal.status === "revoked") {
    card.append(h("p", { class: "meta" }, "吊销后不能再用于新的事项；吊销前盖章的文件仍可核验为签署时有效。"));
    return card;
  }
  const until = h("input", { id: `seal-${seal.id}-to`, type: "date", required: true });
  const renewOut = h("div", { "aria-live": "polite" });
  const renew = h("button", { type: "submit" }, "续期");
  const renewForm = h("form", { novalidate: true }, field("新的到期日期", until, { key: "valid_to" }), h("div", { class: "actions" }, renew), renewOut);
  renewForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!until.value) { renewOut.replaceChildren(message("error", "请选择新的到期日期。")); until.focus(); return; }
    const saved = await save({ method: "POST", path: `/v1/admin/seals/${encodeURIComponent(seal.id)}/renew`, body: { valid_to: endOf(until.value) },
      version: seal.version, form: renewForm, out: renewOut, reload, done: busy(renew, "正在续期…") });
    if (saved) await reload(`「${seal.name}」已续期至 ${day(saved.valid_to)}。`);
  });
  const reason = h("textarea", { id: `seal-${seal.id}-reason`, required: true, maxlength: 500, rows: 2 });
  const revokeOut = h("div", { "aria-live": "polite" });
  const revoke = h("button", { type: "submit", class: "danger" }, "吊销");
  const revokeForm = h("form", { novalidate: true }, field("吊销理由", reason, { key: "reason", hint: "例如 印章管理人员变更，重新制章" }), h("div", { class: "actions" }, revoke), revokeOut);
  revokeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { revokeOut.replaceChildren(message("error", "吊销必须填写理由。")); reason.focus(); return; }
    if (!confirm(`确定吊销「${seal.name}」吗？吊销后不能再用于新的事项，不能撤销。`)) return;
    const saved = await save({ method: "POST", path: `/v1/admin/seals/${encodeURIComponent(seal.id)}/revoke`, body: { reason: reason.value.trim() },
      version: seal.version, form: revokeForm, out: revokeOut, reload, done: busy(revoke, "正在吊销…") });
    if (saved) await reload(`已吊销「${seal.name}」。`);
  });
  card.append(h("details", {}, h("summary", {}, `续期「${seal.name}」`), renewForm),
    h("details", {}, h("summary", {}, `吊销「${seal.name}」`), revokeForm));
  return card;
}

export async function render(root) {
  adminHeader(root, "#/admin/seals", "电子印章", "印章由系统在签批完成后自动加盖，人不能直接用印。新建村时，村经济联合社电子印章已自动生成。");
  const flash = h("div", { "aria-live": "polite" });
  const body = h("div");
  root.append(flash, body);
  const draw = async (text) => {
    body.replaceChildren();
    flash.replaceChildren(typeof text === "string" ? message("success", text) : "");
    await load(body, {
      fetch: async () => {
        const [seals, vs, rs, theTown] = await Promise.all([getJson("/v1/admin/seals"), villages(), roles(), town()]);
        return { seals: Array.isArray(seals) ? seals : seals.items || seals.seals || [], villages: vs, roles: rs, town: theTown };
      },
      render: (area, raw) => {
        const data = {
          ...raw,
          holderName: { ...(raw.town.id ? { [raw.town.id]: raw.town.name } : {}), ...Object.fromEntries(raw.villages.map((v) => [v.id, v.name])) },
          roleName: Object.fromEntries(raw.roles.map((r) => [r.id, r.name])),
        };
        area.append(createForm(data, draw), h("h2", {}, `全部印章（${raw.seals.length}）`),
          h("ul", { class: "list grid", id: "seal-list" }, ...raw.seals.map((s) => sealCard(s, data, draw))));
      },
    });
  };
  await draw();
}
