// 事项类型与表单: every matter type, with how many fields its form has and whether it has a routing policy.
import { adminHeader, statusChip } from "../admin-kit.js";
import { getJson } from "../api.js";
import { h, load } from "../ui.js";

export async function render(root) {
  adminHeader(root, "#/admin/types", "事项类型与表单", "申请人看到的表单由这里的字段生成；每次保存是一个新版本，已提交的事项保留提交时的版本。");
  root.append(h("div", { class: "actions" }, h("a", { class: "button", href: "#/admin/types/new", id: "type-new" }, "新建事项类型")));
  const box = h("div");
  root.append(box);
  await load(box, {
    fetch: async () => {
      // The administrator's list has deactivated types too.
      const [types, policies] = await Promise.all([getJson("/v1/admin/matter-types"), getJson("/v1/admin/policies").catch(() => ({ policies: [] }))]);
      return { types: Array.isArray(types) ? types : types.items || [], policies: policies.policies || [] };
    },
    render: (area, { types, policies }) => {
      const ruled = new Set(policies.map((p) => p.matter_type));
      area.append(h("ul", { class: "list grid", id: "type-list" }, ...types.map((t) => h("li", {},
        h("a", { class: "card", href: `#/admin/types/${encodeURIComponent(t.id)}` },
          h("h2", {}, t.name, " ", statusChip(t.active)),
          h("p", { class: "meta" }, `表单 ${t.form?.fields?.length || 0} 项 · 第 ${t.version ?? 1} 版 · ${ruled.has(t.id) ? "已有签批规则" : "尚无签批规则"}`))))));
    },
  });
}
