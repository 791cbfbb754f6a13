// A page of matters as cards (已办, 查询): title, village, type, amount, status, submission date, and —
// when `me` is given — what that person decided in it. Names only: villages and types from the town reader.
import { getJson } from "./api.js";
import { typeNames, villageNames } from "./town.js";
import { DECISION, STATUS, chip, h, when, yuan } from "./ui.js";

function myDecisions(matter, me) {
  const mine = [];
  for (const stage of matter.stages || []) {
    for (const a of stage.assignees || []) {
      if (a.person_id === me && a.decision) mine.push(`第${stage.number}环节「${stage.name}」${DECISION[a.decision] || a.decision} ${when(a.decided_at)}`);
    }
  }
  return mine;
}

export async function matterCards(matters, { me = null, id = "matter-list" } = {}) {
  const [villages, types] = await Promise.all([villageNames(), typeNames()]);
  return h("ul", { class: "list", id }, ...matters.map((m) => {
    const open = (m.stages || []).find((s) => s.status === "open");
    const decided = me ? myDecisions(m, me) : [];
    return h("li", {}, h("a", { class: `card${open?.overdue ? " is-overdue" : ""}`, href: `#/matter/${m.id}` },
      h("h3", {}, m.title),
      h("p", { class: "row" }, chip(m.status, STATUS[m.status] || m.status),
        h("span", { class: "meta" }, [villages[m.village_id], types[m.matter_type] || "其他事项", Number.isInteger(m.amount_fen) ? yuan(m.amount_fen) : null].filter(Boolean).join(" · "))),
      h("p", { class: "meta" }, `提交于 ${when(m.created_at || m.submitted_at)}${m.approval_number ? ` · 审批编号 ${m.approval_number}` : ""}`),
      me ? h("p", { class: "meta" }, decided.length ? `我的决定：${decided.join("；")}` : "我在此前的版本中作过决定") : null,
    ));
  }));
}

/** Draw the first page (the returned function, given the answer) into `area`, and the next pages of `path`
 * on 加载更多; `draw(items, first)` makes one page's element. */
export function pager(area, path, draw) {
  const list = h("div");
  const more = h("button", { type: "button", class: "secondary", id: "more", hidden: true }, "加载更多");
  const out = h("div", { "aria-live": "polite" });
  area.append(list, h("div", { class: "actions" }, more), out);
  let next = null;
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const sep = path.includes("?") ? "&" : "?";
      const data = await getJson(`${path}${sep}offset=${next}`);
      list.append(await draw(data.items, false));
      next = data.next_offset ?? null;
      more.hidden = next === null;
      out.replaceChildren();
    } catch (error) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    } finally {
      more.disabled = false;
    }
  });
  return async (data) => {
    list.replaceChildren(await draw(data.items, true));
    next = data.next_offset ?? null;
    more.hidden = next === null;
  };
}
