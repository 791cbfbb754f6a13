// 人员: add a person, edit their name, roles, village and contact, deactivate (history kept). The list
// filters by village and name; each edit carries the version it was loaded at.
import { adminHeader, people, roleBoxes, save, statusChip } from "../admin-kit.js";
import { roles, villages } from "../town.js";
import { busy, field, h, load, message } from "../ui.js";

const TOWN = "__town__";

function villageSelect(id, list, selected, townName) {
  return h("select", { id },
    h("option", { value: TOWN, selected: !selected || null }, `${townName}（不属于任何村）`),
    ...list.map((v) => h("option", { value: v.id, selected: v.id === selected || null }, `${v.name}${v.active === false ? "（已停用）" : ""}`)));
}

function personFields(prefix, data, person = {}) {
  const name = h("input", { id: `${prefix}-name`, type: "text", required: true, maxlength: 40, value: person.name || "" });
  const village = villageSelect(`${prefix}-village`, data.villages, person.village_id, "镇机关");
  const roleSet = roleBoxes(`${prefix}-roles`, data.roles, person.roles || []);
  roleSet.dataset.key = "roles";
  const phone = h("input", { id: `${prefix}-phone`, type: "tel", maxlength: 20, autocomplete: "off", value: person.phone || "" });
  const email = h("input", { id: `${prefix}-email`, type: "email", maxlength: 100, autocomplete: "off", value: person.email || "" });
  const nodes = [
    field("姓名", name, { key: "name", hint: prefix === "p-new" ? "试点阶段按岗位称呼，例如 新河村报账员" : null }),
    field("所属", village, { key: "village_id" }),
    roleSet, h("p", { class: "field-error", id: `${prefix}-roles-err`, hidden: true }),
    field("手机", phone, { key: "phone" }),
    field("邮箱", email, { key: "email" }),
  ];
  const value = () => ({
    name: name.value.trim(), village_id: village.value === TOWN ? null : village.value, roles: roleSet.value(),
    phone: phone.value.trim() || null, email: email.value.trim() || null,
  });
  return { nodes, value, name };
}

function addForm(data, onAdded) {
  const id = h("input", { id: "p-new-id", type: "text", required: true, maxlength: 64, autocomplete: "off" });
  const fields = personFields("p-new", data);
  const button = h("button", { type: "submit", id: "p-new-submit" }, "新增人员");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field("人员编号", id, { key: "id", hint: "小写字母、数字、下划线或连字符，例如 xinhe-bookkeeper；登录和记录用，建好后不能改。" }),
    ...fields.nodes, h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id.value.trim())) { out.replaceChildren(message("error", "人员编号只能用小写字母、数字、下划线和连字符。")); id.focus(); return; }
    if (!fields.name.value.trim()) { out.replaceChildren(message("error", "请填写「姓名」。")); fields.name.focus(); return; }
    const created = await save({ method: "POST", path: "/v1/admin/people", body: { id: id.value.trim(), ...fields.value() }, form, out, done: busy(button, "正在新增…") });
    if (created) await onAdded(`已新增「${created.name}」。`);
  });
  return h("details", { class: "card", id: "person-new" }, h("summary", {}, "新增人员"), form);
}

function personCard(person, data, reload) {
  const prefix = `p-${person.id}`;
  const fields = personFields(prefix, data, person);
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "保存修改");
  const form = h("form", { novalidate: true }, ...fields.nodes, h("div", { class: "actions" }, button), out);
  const patch = async (body, trigger, flash) => {
    const saved = await save({ method: "PATCH", path: `/v1/admin/people/${encodeURIComponent(person.id)}`, body, version: person.version, form, out, reload, done: busy(trigger, "正在保存…") });
    if (saved) await reload(flash(saved), person.id);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!fields.name.value.trim()) { out.replaceChildren(message("error", "请填写「姓名」。")); fields.name.focus(); return; }
    patch(fields.value(), button, (p) => `已保存「${p.name}」。`);
  });
  const active = person.active !== false;
  const toggle = h("button", { type: "button", class: active ? "danger" : "secondary" }, active ? "停用此人" : "重新启用");
  toggle.addEventListener("click", () => {
    if (active && !confirm(`确定停用「${person.name}」吗？停用后不能登录和签批，历史记录保留。`)) return;
    patch({ active: !active }, toggle, (p) => (active ? `已停用「${p.name}」。` : `已重新启用「${p.name}」。`));
  });
  const roleText = (person.roles || []).map((r) => data.roleName[r] || "其他职务").join("、") || "无职务";
  const contact = [person.phone, person.email].filter(Boolean).join(" · ");
  return h("li", { class: "card person", "data-person": person.id },
    h("h3", {}, person.name, " ", statusChip(person.active)),
    h("p", { class: "meta" }, `${data.villageName[person.village_id] || "镇机关"} · ${roleText}`),
    contact ? h("p", { class: "meta" }, contact) : null,
    h("details", {}, h("summary", {}, `修改「${person.name}」`), form, h("div", { class: "actions" }, toggle)));
}

export async function render(root, ctx) {
  adminHeader(root, "#/admin/people", "人员", "停用的人不能登录和签批，记录保留。批量添加请用");
  root.querySelector(".meta").append(h("a", { href: "#/admin/import" }, "导入名册"), "。");
  const flash = h("div", { "aria-live": "polite" });
  const body = h("div");
  root.append(flash, body);
  const filter = { village: ctx.params.get("village") || "", text: "", inactive: false };
  // After a change the list is drawn again; the message goes to the changed person's card, kept in view.
  const draw = async (text, changedId) => {
    body.replaceChildren();
    flash.replaceChildren(typeof text === "string" && !changedId ? message("success", text) : "");
    await load(body, {
      fetch: async () => {
        const [vs, ps, rs] = await Promise.all([villages(), people(), roles()]);
        return { villages: vs, people: ps, roles: rs };
      },
      render: (area, raw) => {
        const data = { ...raw, villageName: Object.fromEntries(raw.villages.map((v) => [v.id, v.name])), roleName: Object.fromEntries(raw.roles.map((r) => [r.id, r.name])) };
        const which = h("select", { id: "people-village" },
          h("option", { value: "" }, "全部"), h("option", { value: TOWN }, "镇机关"),
          ...raw.villages.map((v) => h("option", { value: v.id, selected: v.id === filter.village || null }, v.name)));
        const search = h("input", { id: "people-search", type: "search", placeholder: "输入姓名查找", value: filter.text });
        const inactive = h("input", { id: "people-inactive", type: "checkbox", checked: filter.inactive || null });
        const list = h("ul", { class: "list grid", id: "people-list" });
        const count = h("p", { class: "meta", role: "status" });
        const refill = () => {
          Object.assign(filter, { village: which.value, text: search.value.trim(), inactive: inactive.checked });
          const shown = raw.people.filter((p) => (filter.inactive || p.active !== false)
            && (!filter.village || (filter.village === TOWN ? !p.village_id : p.village_id === filter.village))
            && (!filter.text || p.name.includes(filter.text)));
          count.textContent = `共 ${shown.length} 人`;
          list.replaceChildren(...shown.slice(0, 200).map((p) => personCard(p, data, draw)));
        };
        which.addEventListener("change", refill);
        search.addEventListener("input", refill);
        inactive.addEventListener("change", refill);
        area.append(addForm(data, draw),
          h("h2", {}, "名录"),
          h("div", { class: "filters" }, field("所属", which), field("查找", search),
            h("label", { class: "check", for: "people-inactive" }, inactive, " 显示已停用的人")),
          count, list);
        refill();
      },
    });
    const card = changedId && body.querySelector(`[data-person="${CSS.escape(changedId)}"]`);
    if (card) { card.append(message("success", text)); card.scrollIntoView({ block: "center" }); }
    else if (changedId && typeof text === "string") flash.replaceChildren(message("success", text));
  };
  await draw();
}
