// The administrator's start page: every administration screen, and how the town stands at a glance.
import { SECTIONS, adminHeader } from "../admin-kit.js";
import { matterTypes, villages } from "../town.js";
import { h, load } from "../ui.js";

export async function render(root) {
  adminHeader(root, "#/admin", "镇里自己管", "村庄、人员、事项类型、签批规则、日历、印章和通知都是数据：在这里修改，立即生效，每次修改都留痕。");
  const glance = h("div");
  root.append(glance, h("ul", { class: "list grid", id: "admin-sections" }, ...SECTIONS.map(([href, label, hint]) =>
    h("li", {}, h("a", { class: "card", href }, h("h2", {}, label), h("p", { class: "meta" }, hint))))));
  await load(glance, {
    fetch: async () => ({ villages: await villages(), types: await matterTypes() }),
    render: (area, data) => {
      const active = data.villages.filter((v) => v.active !== false).length;
      area.append(h("p", { class: "notice" }, `目前 ${active} 个村在用，${data.types.filter((t) => t.active !== false).length} 类事项可以申请。`));
    },
  });
}
