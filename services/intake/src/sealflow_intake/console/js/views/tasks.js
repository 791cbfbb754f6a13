// The signer's inbox of tasks, soonest deadline first, overdue in red; below, unread notifications
// (reminders, 督办 notices) that can be marked read.
import { getJson, postJson } from "../api.js";
import { villageNames } from "../town.js";
import { busy, h, load, message, when } from "../ui.js";

export async function render(root, ctx) {
  root.append(h("h1", {}, "待办"), h("h2", {}, "待我签批（按截止时间）"));
  const tasks = h("div");
  root.append(tasks);
  await load(tasks, {
    key: `tasks.${ctx.me?.id}`,
    fetch: () => getJson("/v1/tasks"),
    render: async (area, data) => {
      const villages = await villageNames();
      const items = [...data.items].sort((a, b) => (a.deadline || "9").localeCompare(b.deadline || "9"));
      if (!items.length) { area.append(h("p", { class: "notice" }, "没有待签的事项。")); return; }
      area.append(h("ul", { class: "list", id: "task-list" }, ...items.map((t) => h("li", {},
        h("a", { class: `card${t.overdue ? " is-overdue" : ""}`, href: `#/matter/${t.matter_id}` },
          h("h3", {}, t.title),
          h("p", { class: "meta" }, `${villages[t.village_id] || ""} · 第${t.stage}环节「${t.stage_name || ""}」`),
          h("p", { class: t.overdue ? "overdue" : "meta" }, `截止 ${when(t.deadline)}${t.overdue ? " · 已超时" : ""}`),
        )))));
    },
  });

  root.append(h("h2", {}, "未读通知"));
  const notes = h("div");
  root.append(notes);
  await load(notes, {
    fetch: () => getJson("/v1/inbox?unread_only=true&limit=20"),
    render: (area, data) => {
      if (!data.items.length) { area.append(h("p", { class: "meta" }, "没有未读通知。")); return; }
      area.append(h("ul", { class: "list" }, ...data.items.map((n) => {
        const read = h("button", { type: "button", class: "secondary" }, "标为已读");
        const item = h("li", { class: "card" }, h("p", {}, n.text || n.kind), h("p", { class: "meta" }, when(n.created_at || n.at)),
          h("p", { class: "row" }, n.matter_id ? h("a", { href: `#/matter/${n.matter_id}` }, "查看事项") : null, read));
        read.addEventListener("click", async () => {
          const done = busy(read, "…");
          try { await postJson(`/v1/inbox/${encodeURIComponent(n.id)}/read`, {}); item.remove(); }
          catch (error) { item.append(message("error", error.message)); done(); }
        });
        return item;
      })));
    },
  });
}
