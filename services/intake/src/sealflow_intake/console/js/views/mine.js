// The applicant's matters: status and who holds each one now. The last list is cached for slow links.
import { getJson } from "../api.js";
import { typeNames } from "../town.js";
import { STATUS, chip, h, load, when } from "../ui.js";

export function holderLine(matter) {
  const stage = (matter.stages || []).find((s) => s.status === "open");
  if (matter.status !== "in_review" || !stage) return STATUS[matter.status] || matter.status;
  const late = stage.overdue ? "（已超时）" : "";
  return `第${stage.number}环节「${stage.name}」签批中，截止 ${when(stage.deadline)}${late}`;
}

export async function render(root, ctx) {
  root.append(
    h("h1", {}, "我的申请"),
    h("div", { class: "actions" }, h("a", { class: "button", href: "#/new" }, "新建申请")),
    h("h2", {}, "申请列表"),
  );
  const box = h("div");
  root.append(box);
  await load(box, {
    key: `mine.${ctx.me?.id}`,
    fetch: () => getJson("/v1/matters?mine=true&limit=50"),
    render: async (area, data) => {
      const types = await typeNames();
      if (!data.items.length) { area.append(h("p", { class: "notice" }, "还没有申请。")); return; }
      area.append(h("ul", { class: "list" }, ...data.items.map((m) => {
        const open = (m.stages || []).find((s) => s.status === "open");
        return h("li", {}, h("a", { class: `card${open?.overdue ? " is-overdue" : ""}`, href: `#/matter/${m.id}` },
          h("h3", {}, m.title),
          h("p", { class: "row" }, chip(m.status, STATUS[m.status] || m.status), h("span", { class: "meta" }, types[m.matter_type] || "其他事项")),
          h("p", { class: open?.overdue ? "meta overdue" : "meta" }, holderLine(m)),
        ));
      })));
    },
  });
}
