// 村庄: add a village (its cooperative seal is made with it), rename it, change its liaison cadre and
// leader (chosen by name), deactivate or reactivate it. Each change is sent with the version it was loaded at.
import { adminHeader, people, personSelect, save, statusChip } from "../admin-kit.js";
import { getJson } from "../api.js";
import { busy, field, h, load, message } from "../ui.js";

const ID_HINT = "拼音小写字母开头，可用小写字母、数字、下划线，例如 xinhe；建好后不能改，用于编号和印章。";

function addForm(everyone, onAdded) {
  const id = h("input", { id: "v-new-id", type: "text", required: true, maxlength: 40, autocomplete: "off", pattern: "[a-z0-9-]+" });
  const name = h("input", { id: "v-new-name", type: "text", required: true, maxlength: 40 });
  const cadre = personSelect("v-new-cadre", everyone, { role: "liaison_cadre", required: true });
  const leader = personSelect("v-new-leader", everyone, { role: "liaison_leader", required: true });
  const button = h("button", { type: "submit", id: "v-new-submit" }, "新增村");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field("村编号", id, { hint: ID_HINT, key: "id" }),
    field("村名", name, { hint: "例如 新河村", key: "name" }),
    field("联村干部", cadre, { key: "liaison_cadre" }),
    field("联村领导", leader, { key: "liaison_leader" }),
    h("div", { class: "actions" }, button), out);
  const panel = h("details", { class: "card", id: "village-new" }, h("summary", {}, "新增村"), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(id.value.trim())) { out.replaceChildren(message("error", `村编号：${ID_HINT}`)); id.focus(); return; }
    if (!name.value.trim()) { out.replaceChildren(message("error", "请填写「村名」。")); name.focus(); return; }
    if (!cadre.value || !leader.value) { out.replaceChildren(message("error", "请选择联村干部和联村领导。")); (cadre.value ? leader : cadre).focus(); return; }
    const created = await save({
      method: "POST", path: "/v1/admin/villages", form, out, done: busy(button, "正在新增…"),
      body: { id: id.value.trim(), name: name.value.trim(), liaison_cadre: cadre.value, liaison_leader: leader.value },
    });
    if (created) {
      await onAdded(`已新增「${created.name}」，村经济联合社电子印章已同时生成。下一步：导入该村人员名册。`);
    }
  });
  return panel;
}

function villageCard(village, everyone, names, reload) {
  const key = village.id;
  const name = h("input", { id: `v-${key}-name`, type: "text", required: true, maxlength: 40, value: village.name });
  const cadre = personSelect(`v-${key}-cadre`, everyone, { role: "liaison_cadre", selected: village.liaison_cadre, required: true });
  const leader = personSelect(`v-${key}-leader`, everyone, { role: "liaison_leader", selected: village.liaison_leader, required: true });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "保存修改");
  const form = h("form", { novalidate: true },
    field("村名", name, { key: "name" }), field("联村干部", cadre, { key: "liaison_cadre" }), field("联村领导", leader, { key: "liaison_leader" }),
    h("div", { class: "actions" }, button), out);
  const patch = async (body, trigger, text, flash) => {
    const saved = await save({ method: "PATCH", path: `/v1/admin/villages/${encodeURIComponent(key)}`, body, version: village.version, form, out, reload, done: busy(trigger, text) });
    if (saved) await reload(flash(saved), key);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!name.value.trim()) { out.replaceChildren(message("error", "请填写「村名」。")); name.focus(); return; }
    if (!cadre.value || !leader.value) { out.replaceChildren(message("error", "请选择联村干部和联村领导。")); return; }
    patch({ name: name.value.trim(), liaison_cadre: cadre.value, liaison_leader: leader.value }, button, "正在保存…", (v) => `已保存「${v.name}」。`);
  });
  const active = village.active !== false;
  const toggle = h("button", { type: "button", class: active ? "danger" : "secondary" }, active ? "停用此村" : "重新启用");
  toggle.addEventListener("click", () => {
    if (active && !confirm(`确定停用「${village.name}」吗？停用后不能再提交新的申请，历史记录保留。`)) return;
    patch({ active: !active }, toggle, "正在保存…", (v) => (active ? `已停用「${v.name}」。` : `已重新启用「${v.name}」。`));
  });
  return h("li", { class: "card village", "data-village": key },
    h("h3", {}, village.name, " ", statusChip(village.active)),
    h("p", { class: "meta" }, `联村干部：${names[village.liaison_cadre] || "未指定"} · 联村领导：${names[village.liaison_leader] || "未指定"}`),
    h("details", {}, h("summary", {}, `修改「${village.name}」`), form, h("div", { class: "actions" }, toggle)),
  );
}

export async function render(root) {
  adminHeader(root, "#/admin/villages", "村庄", "新增的村立即出现在登录、申请和签批路由中；停用不删除任何记录。");
  const flash = h("div", { "aria-live": "polite" });
  const body = h("div");
  root.append(flash, body);
  // After a change the list is drawn again; the message goes to the changed village's card, kept in view.
  const draw = async (text, changedId) => {
    body.replaceChildren();
    flash.replaceChildren(typeof text === "string" && !changedId ? message("success", text) : ""); // (a reload button passes its click)
    await load(body, {
      // Read fresh (inactive villages included): the version sent as If-Match is the one on the server now.
      fetch: async () => ({ villages: await getJson("/v1/villages"), people: await people() }),
      render: (area, data) => {
        const list = Array.isArray(data.villages) ? data.villages : data.villages.items || [];
        const names = Object.fromEntries(data.people.map((p) => [p.id, p.name]));
        area.append(addForm(data.people, draw),
          h("h2", {}, `全部村（${list.length}）`),
          list.length ? h("ul", { class: "list grid", id: "village-list" }, ...list.map((v) => villageCard(v, data.people, names, draw)))
            : h("p", { class: "notice" }, "还没有村。"));
      },
    });
    const card = changedId && body.querySelector(`[data-village="${CSS.escape(changedId)}"]`);
    if (card) { card.append(message("success", text)); card.scrollIntoView({ block: "center" }); }
  };
  await draw();
}
