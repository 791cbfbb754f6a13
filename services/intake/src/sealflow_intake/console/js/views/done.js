// 已办: what the signer has decided (approved, returned or rejected), newest first, page by page. The first
// page is kept for a slow or lost connection.
import { getJson } from "../api.js";
import { matterCards, pager } from "../matter-list.js";
import { h, load } from "../ui.js";

const PATH = "/v1/matters?decided_by=me&limit=30";

export async function render(root, ctx) {
  root.append(h("h1", {}, "已办"), h("p", { class: "meta" }, "您签批过（同意、退回或终止）的事项，最新的在前。"));
  // The village's secretary keeps its seal: the register of its uses is one tap away.
  if ((ctx.me?.roles || []).includes("secretary")) root.append(h("p", {}, h("a", { href: "#/seal-uses" }, "本村用印登记")));
  const box = h("div");
  root.append(box);
  await load(box, {
    key: `done.${ctx.me?.id}`,
    fetch: () => getJson(PATH),
    render: async (area, data) => {
      if (!data.items.length) { area.append(h("p", { class: "notice" }, "还没有签批过的事项。")); return; }
      const show = pager(area, PATH, (items, first) => matterCards(items, { me: ctx.me?.id, id: first ? "done-list" : null }));
      await show(data);
    },
  });
}
