// 签批规则: one routing policy per matter type — its current version, and the types still without one.
import { adminHeader } from "../admin-kit.js";
import { getJson } from "../api.js";
import { matterTypes } from "../town.js";
import { h, load } from "../ui.js";

export async function render(root) {
  adminHeader(root, "#/admin/policies", "签批规则", "每类事项经过哪些环节、谁签、何时盖章、时限多长。每次保存是一个新版本；已提交的事项按提交时的版本流转。");
  const box = h("div");
  root.append(box);
  await load(box, {
    fetch: async () => {
      const [types, data] = await Promise.all([matterTypes(), getJson("/v1/admin/policies")]);
      return { types, policies: data.policies || [] };
    },
    render: (area, { types, policies }) => {
      const byType = Object.fromEntries(policies.map((p) => [p.matter_type, p]));
      const known = new Set(types.map((t) => t.id));
      const rows = [...types.map((t) => [t.id, t.name, byType[t.id]]), ...policies.filter((p) => !known.has(p.matter_type)).map((p) => [p.matter_type, p.title, p])];
      area.append(h("ul", { class: "list grid", id: "policy-list" }, ...rows.map(([id, name, policy]) => h("li", {},
        h("a", { class: "card", href: `#/admin/policies/${encodeURIComponent(id)}` },
          h("h2", {}, name),
          h("p", { class: policy ? "meta" : "meta overdue" }, policy
            ? `第 ${policy.version} 版 · ${policy.stages.length} 个环节${policy.thresholds?.length ? ` · ${policy.thresholds.length} 个金额门槛` : ""}${Object.keys(policy.village_variants || policy.variants || {}).length ? " · 有分村规则" : ""}`
            : "尚未设置签批规则：这类事项还不能提交"))))));
    },
  });
}
