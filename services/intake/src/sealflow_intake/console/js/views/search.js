// 查询 (the discipline office and the administrator): any matter by a fragment of its title, village, type,
// status and submission dates (China dates, inclusive). The filters stay in the address (#/search?q=…), so
// a search can be reloaded, shared or returned to with the back button.
import { getJson } from "../api.js";
import { matterCards, pager } from "../matter-list.js";
import { matterTypes, villages } from "../town.js";
import { STATUS, busy, field, h, message } from "../ui.js";

const KEYS = ["q", "village_id", "matter_type", "status", "from", "to"];

function select(id, all, options, value) {
  const el = h("select", { id, name: id }, h("option", { value: "" }, all), ...options.map(([v, label]) => h("option", { value: v }, label)));
  el.value = value || "";
  return el;
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "查询事项"));
  if (ctx.oversees) {
    root.append(h("nav", { class: "subnav", "aria-label": "监督" },
      h("a", { href: "#/search", "aria-current": "page" }, "查询事项"), h("a", { href: "#/seal-uses" }, "用印登记"), h("a", { href: "#/accountability" }, "问责记录")));
  }
  const [towns, types] = await Promise.all([villages().catch(() => []), matterTypes().catch(() => [])]);
  const p = ctx.params;
  const q = h("input", { id: "q", name: "q", type: "search", maxlength: 100, autocomplete: "off" });
  q.value = p.get("q") || "";
  const village = select("village_id", "全部村", towns.map((v) => [v.id, v.name]), p.get("village_id"));
  const type = select("matter_type", "全部类型", types.map((t) => [t.id, t.name]), p.get("matter_type"));
  const status = select("status", "全部状态", Object.entries(STATUS), p.get("status"));
  const from = h("input", { id: "from", name: "from", type: "date" });
  from.value = p.get("from") || "";
  const to = h("input", { id: "to", name: "to", type: "date" });
  to.value = p.get("to") || "";
  const button = h("button", { type: "submit", id: "search-submit" }, "查询");
  const form = h("form", { class: "card", role: "search", "aria-label": "查询条件" },
    field("标题包含", q, { hint: "标题中的一段文字，区分大小写" }), field("村", village), field("事项类型", type), field("状态", status),
    h("div", { class: "row" }, h("div", { style: "flex:1 1 9em" }, field("提交日期从", from)), h("div", { style: "flex:1 1 9em" }, field("到", to))),
    h("div", { class: "actions" }, button,
      h("button", { type: "reset", class: "secondary", onclick: () => setTimeout(() => { history.replaceState(null, "", "#/search"); results.replaceChildren(); }) }, "清空")));
  const results = h("section", { "aria-labelledby": "results-h", "aria-live": "polite" });
  root.append(form, results);

  const run = async () => {
    const query = new URLSearchParams();
    for (const [key, el] of [["q", q], ["village_id", village], ["matter_type", type], ["status", status], ["from", from], ["to", to]]) {
      if (el.value.trim()) query.set(key, el.value.trim());
    }
    if (from.value && to.value && to.value < from.value) {
      results.replaceChildren(message("error", "结束日期不能早于开始日期。"));
      return;
    }
    const qs = query.toString(); // (URLSearchParams.size is too new for some village phones)
    history.replaceState(null, "", `#/search${qs ? `?${qs}` : ""}`);
    const path = `/v1/matters?${qs}${qs ? "&" : ""}limit=30`;
    const done = busy(button, "正在查询…");
    results.replaceChildren(h("p", { class: "loading", role: "status" }, "正在查询…"));
    try {
      const data = await getJson(path);
      const heading = h("h2", { id: "results-h" }, data.items.length ? `查询结果${data.next_offset === null ? `（${data.items.length} 项）` : ""}` : "查询结果");
      results.replaceChildren(heading);
      if (!data.items.length) { results.append(h("p", { class: "notice", id: "no-results" }, "没有符合条件的事项。")); return; }
      await pager(results, path, (items, first) => matterCards(items, { id: first ? "search-results" : null }))(data);
    } catch (error) {
      results.replaceChildren(h("h2", { id: "results-h" }, "查询结果"), message("error", error.message));
    } finally {
      done();
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  if (KEYS.some((k) => p.get(k))) await run();
}
