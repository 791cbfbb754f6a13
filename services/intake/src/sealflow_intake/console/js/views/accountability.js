// 问责记录: a stage still unsigned one working day after its deadline opens a record (sla-monitor). The
// discipline office records a disposition (免责 / 提醒谈话 / 批评教育 / 移交处理, with a note); the
// administrator reads them.
import { getJson, postJson } from "../api.js";
import { villageNames } from "../town.js";
import { busy, h, load, message, nameOf, namesOf, when } from "../ui.js";

const OUTCOME = { excused: "免责", reminded: "提醒谈话", criticized: "批评教育", referred: "移交处理" };
const STATE = { open: "待处理", disposed: "已处理" };

function dispositionForm(record, onDone) {
  const id = `disp-${record.id.replace(/[^\w-]/g, "_")}`;
  const outcome = h("select", { id: `${id}-outcome` }, ...Object.entries(OUTCOME).map(([v, label]) => h("option", { value: v }, label)));
  const note = h("textarea", { id: `${id}-note`, maxlength: 2000, required: true });
  const button = h("button", { type: "submit" }, "记录处理结果");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "disposition" },
    h("label", { for: outcome.id }, "处理结果"), outcome,
    h("label", { for: note.id }, "说明", h("span", { class: "req", "aria-hidden": "true" }, " *")), note,
    h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!note.value.trim()) { out.replaceChildren(message("error", "请填写处理说明。")); note.focus(); return; }
    const done = busy(button, "正在保存…");
    try {
      onDone(await postJson(`/v1/supervision/accountability/${encodeURIComponent(record.id)}/disposition`, { outcome: outcome.value, note: note.value.trim() }));
    } catch (error) {
      out.replaceChildren(message("error", error.status === 409 ? "这条记录已有处理结果（可能同事刚刚记录过），请刷新查看。" : error.message));
      done();
    }
  });
  return h("details", { class: "card" }, h("summary", {}, "记录处理结果"), form);
}

async function card(record, villages, canDispose) {
  const holders = (await namesOf(record.holders || [])).join("、");
  const box = h("li", { class: `card${record.status === "open" ? " is-overdue" : ""}` });
  const fill = async (r) => {
    const d = r.disposition;
    box.replaceChildren(
      h("h3", {}, r.title || "（无标题）"),
      h("p", { class: "meta" }, `${villages[r.village_id] || ""} · 第${r.stage}环节「${r.stage_name || ""}」 · ${STATE[r.status] || r.status}`),
      h("p", {}, `未按时签批：${holders || "—"}`),
      h("p", { class: "meta" }, `截止 ${when(r.due_at)} · 立案 ${when(r.opened_at)}`),
      d ? h("p", { class: "success" }, `处理结果：${OUTCOME[d.outcome] || d.outcome}（${await nameOf(d.by, "镇纪委")}，${when(d.at)}）“${d.note}”`) : null,
      h("p", { class: "row" }, h("a", { href: `#/matter/${r.matter_id}` }, "查看事项"), h("a", { href: `#/trail/${r.matter_id}` }, "留痕记录")),
      !d && canDispose ? dispositionForm(r, fill) : null,
    );
  };
  await fill(record);
  return box;
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "问责记录"));
  root.append(h("nav", { class: "subnav", "aria-label": "监督" },
    h("a", { href: "#/search" }, "查询事项"), h("a", { href: "#/seal-uses" }, "用印登记"), h("a", { href: "#/accountability", "aria-current": "page" }, "问责记录")));
  const canDispose = (ctx.me?.roles || []).includes("discipline");
  const state = h("select", { id: "acc-status" }, h("option", { value: "open" }, "待处理"), h("option", { value: "disposed" }, "已处理"), h("option", { value: "" }, "全部"));
  state.value = ctx.params.get("status") ?? "open";
  root.append(h("div", { class: "card" }, h("label", { for: "acc-status" }, "状态"), state),
    h("p", { class: "meta" }, "签批环节超过截止时间一个工作日仍未签批时自动立案。"));
  const box = h("div");
  root.append(box);
  const show = () => {
    box.replaceChildren();
    return load(box, {
      fetch: () => getJson(`/v1/supervision/accountability?limit=200${state.value ? `&status=${state.value}` : ""}`),
      render: async (area, data) => {
        if (!data.items.length) { area.append(h("p", { class: "notice" }, "没有问责记录。")); return; }
        const villages = await villageNames();
        area.append(h("ul", { class: "list", id: "accountability-list" }, ...(await Promise.all(data.items.map((r) => card(r, villages, canDispose))))));
      },
    });
  };
  state.addEventListener("change", show);
  await show();
}
