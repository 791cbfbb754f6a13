// 码上督: the overdue board (urge the holder, open the trail), on-time figures by village, office and
// person as CSS bars, and both as CSV downloads.
import { getJson, postJson, request } from "../api.js";
import { villageNames } from "../town.js";
import { busy, h, load, message, namesOf, when } from "../ui.js";
import { openAlerts } from "./alerts.js";

function urgeForm(item) {
  const id = `urge-${item.matter_id}-${item.stage}`;
  const text = h("input", { id, type: "text", value: "请尽快签批", maxlength: 500 });
  const button = h("button", { type: "submit" }, "督办");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "row urge" }, h("label", { for: id }, "督办内容"), text, button, out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = busy(button, "正在发送…");
    try {
      const sent = await postJson("/v1/supervision/urge", { matter_id: item.matter_id, stage: item.stage, message: text.value.trim() });
      out.replaceChildren(message("success", `已向 ${(await namesOf(sent.holders)).join("、")} 发出督办通知。`));
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  return form;
}

async function overdueBoard(area, data) {
  area.append(h("p", { class: "meta" }, `截至 ${when(data.as_of)}，共 ${data.items.length} 项超时未签。`));
  if (!data.items.length) return;
  const cards = [];
  const villages = await villageNames();
  for (const item of data.items) {
    const holders = (await namesOf(item.holders)).join("、");
    cards.push(h("li", { class: "card is-overdue" },
      h("h3", {}, item.title || item.matter_id),
      h("p", { class: "meta" }, `${villages[item.village_id] || ""} · 第${item.stage}环节「${item.office}」`),
      h("p", { class: "overdue" }, `${holders} 未签 · 截止 ${when(item.due_at)} · 超时 ${item.overdue_working_hours} 个工作小时${item.escalation_level ? ` · 已升级 ${item.escalation_level} 级` : ""}`),
      h("p", { class: "row" }, h("a", { href: `#/trail/${item.matter_id}` }, "留痕记录"), h("a", { href: `#/matter/${item.matter_id}` }, "查看事项")),
      urgeForm(item)));
  }
  area.append(h("ul", { class: "list", id: "overdue-list" }, ...cards));
}

const DIMENSIONS = [["village", "按村"], ["stage", "按岗位（环节）"], ["person", "按人员"]];

async function figures(area, data) {
  area.append(h("p", { class: "meta" }, `统计期：${when(data.period_from)} 至 ${when(data.period_to)}（按时签批数 / 已签批数）`));
  const villages = await villageNames();
  for (const [dim, label] of DIMENSIONS) {
    const rows = data.by[dim] || [];
    const names = dim === "person" ? await namesOf(rows.map((r) => r.person)) : rows.map((r) => (dim === "village" ? villages[r.village] || r.village : r[dim]));
    area.append(h("h3", {}, label));
    if (!rows.length) { area.append(h("p", { class: "meta" }, "暂无数据。")); continue; }
    area.append(h("ul", { class: "bars" }, ...rows.map((r, i) => {
      const pct = r.on_time_rate === null ? 0 : Math.round(r.on_time_rate * 100);
      return h("li", {},
        h("p", { class: "row" }, h("strong", {}, names[i]),
          h("span", { class: "meta" }, `${r.on_time}/${r.signed} 按时${r.on_time_rate === null ? "" : `（${pct}%）`}${r.open_overdue ? ` · 超时未签 ${r.open_overdue}` : ""}`)),
        h("div", { class: `bar${pct < 80 ? " low" : ""}`, role: "img", "aria-label": `${names[i]} 按时率 ${pct}%` }, h("span", { style: `width:${pct}%` })));
    })));
  }
}

function csvButton(label, path, filename, id) {
  const out = h("span", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary", id }, label);
  button.addEventListener("click", async () => {
    const done = busy(button, "正在导出…");
    try {
      const blob = await (await request("GET", path)).blob();
      const link = h("a", { href: URL.createObjectURL(blob), download: filename }, filename);
      document.body.append(link);
      link.click();
      link.remove();
      out.replaceChildren();
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  return [button, out];
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "督办"));
  if (!ctx.oversees) root.append(h("p", { class: "notice" }, "您只能看到本人的按时率。"));
  else root.append(h("nav", { class: "subnav", "aria-label": "监督" },
    h("a", { href: "#/alerts" }, "诚信预警"), h("a", { href: "#/search" }, "查询事项"), h("a", { href: "#/seal-uses" }, "用印登记"), h("a", { href: "#/accountability" }, "问责记录")));
  if (ctx.oversees) {
    const alerts = h("div");
    root.append(h("section", { "aria-labelledby": "alerts-h" }, h("h2", { id: "alerts-h" }, "诚信预警"), alerts));
    await openAlerts(alerts);
  }
  root.append(h("section", { "aria-labelledby": "overdue-h" }, h("h2", { id: "overdue-h" }, "超时未签")));
  const board = h("div");
  root.lastChild.append(board);
  await load(board, { key: `overdue.${ctx.me?.id}`, fetch: () => getJson("/v1/supervision/overdue"), render: (a, d) => overdueBoard(a, d) });

  root.append(h("section", { "aria-labelledby": "stats-h" }, h("h2", { id: "stats-h" }, "按时率")));
  const stats = h("div");
  root.lastChild.append(stats);
  await load(stats, { key: `stats.${ctx.me?.id}`, fetch: () => getJson("/v1/supervision/stats"), render: (a, d) => figures(a, d) });

  root.append(h("h2", {}, "导出"), h("div", { class: "actions" },
    ...csvButton("导出超时清单（CSV）", "/v1/supervision/overdue?format=csv", "overdue.csv", "csv-overdue"),
    ...csvButton("导出按时率（CSV）", "/v1/supervision/stats?format=csv", "stats.csv", "csv-stats")));
}
