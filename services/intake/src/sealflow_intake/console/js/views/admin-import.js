// 导入名册: the town office's own spreadsheet (.xlsx or .csv) → a dry run that marks each bad row with its
// errors and writes nothing → import, which the server also refuses whole while any row is bad.
import { adminHeader } from "../admin-kit.js";
import { ApiError, request } from "../api.js";
import { forget, roles } from "../town.js";
import { busy, field, h, load, message } from "../ui.js";

const COLUMNS = [
  ["id", "编号", "人员编号：小写字母、数字或连字符，例如 xinhe-bookkeeper（已有编号的行会更新此人）"],
  ["name", "姓名", "姓名（试点阶段按岗位称呼）"],
  ["village_id", "村", "所属村的编号，例如 xinhe；镇机关人员留空"],
  ["roles", "角色", "职务编号，多个用英文分号 ; 隔开，例如 director;secretary"],
  ["phone", "电话", "手机（可不填）"],
  ["email", "邮箱", "邮箱（可不填）"],
];
const ACTION = { create: "新增", update: "更新", unchanged: "不变" };

function template() {
  const csv = `\ufeff${COLUMNS.map(([key]) => key).join(",")}\n`;
  return URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
}

const unchanged = (rows) => { const n = rows.filter((r) => r.action === "unchanged").length; return n ? `，${n} 人不变` : ""; };

function rowsView(result) {
  const rows = result.rows || [];
  const bad = rows.filter((r) => !r.ok);
  const summary = bad.length
    ? h("p", { class: "error", role: "alert", id: "roster-summary" }, `共 ${rows.length} 行，其中 ${bad.length} 行有错误：没有写入任何数据。请在表格中改正标出的行，再重新选择文件预检。`)
    : h("p", { class: "success", role: "status", id: "roster-summary" }, result.dry_run === false
      ? `已导入：新增 ${result.created} 人，更新 ${result.updated} 人${unchanged(rows)}。`
      : `共 ${rows.length} 行全部无误（预检未写入）：导入后将新增 ${rows.filter((r) => r.action === "create").length} 人，更新 ${rows.filter((r) => r.action === "update").length} 人${unchanged(rows)}。`);
  return h("div", {}, summary,
    h("ol", { class: "list roster", id: "roster-rows", "aria-label": "各行预检结果" }, ...rows.map((r) => h("li", { class: `card${r.ok ? "" : " row-bad"}`, "data-row": r.row },
      h("p", { class: "row" },
        h("strong", {}, `第 ${r.row} 行`),
        h("span", {}, r.name || r.id || ""),
        r.ok ? h("span", { class: "valid" }, `✓ ${ACTION[r.action] || "无误"}`) : h("span", { class: "invalid" }, "✗ 有错误")),
      r.errors?.length ? h("ul", { class: "row-errors" }, ...r.errors.map((e) => h("li", {}, e))) : null))));
}

export async function render(root) {
  adminHeader(root, "#/admin/import", "导入名册", "先预检：每一行都核对，有错误的行会标出原因，预检不写入任何数据。全部无误后才能导入；导入时只要有一行出错，也不会写入任何一行。");
  const help = h("section", { class: "card", "aria-labelledby": "format-h" }, h("h2", { id: "format-h" }, "名册格式"));
  root.append(help);
  await load(help, {
    fetch: roles,
    render: (area, list) => {
      area.append(
        h("p", {}, "Excel（.xlsx，读第一个工作表）或 CSV（UTF-8），第一行是表头，英文或中文表头都可以："),
        h("dl", { class: "fields" }, ...COLUMNS.flatMap(([key, zh, hint]) => [h("dt", {}, `${key} / ${zh}`), h("dd", {}, hint)])),
        h("p", {}, "职务编号："),
        h("ul", { class: "inline" }, ...list.map((r) => h("li", {}, `${r.id}（${r.name}）`))),
        h("p", {}, h("a", { href: template(), download: "名册模板.csv", id: "roster-template" }, "下载 CSV 模板")),
      );
    },
  });

  const file = h("input", { id: "roster-file", type: "file", accept: ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv" });
  const check = h("button", { type: "submit", id: "roster-check" }, "预检（不写入）");
  const go = h("button", { type: "button", id: "roster-import", class: "secondary", disabled: true }, "导入");
  const out = h("div", { "aria-live": "polite", id: "roster-result" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "上传名册"),
    field("名册文件", file, { hint: "每次导入一个文件；改正错误后重新选择文件再预检。" }),
    h("div", { class: "actions" }, check, go), out);
  root.append(form);

  let checked = null; // the file whose dry run passed: only that one may be imported
  file.addEventListener("change", () => { checked = null; go.disabled = true; out.replaceChildren(); });
  const send = async (dryRun) => {
    const body = new FormData();
    body.append("file", file.files[0]);
    try {
      return await (await request("POST", `/v1/admin/people/import?dry_run=${dryRun}`, { form: body })).json();
    } catch (error) {
      // A refused import (422 invalid_roster) carries the rows, like a dry run.
      const rows = error instanceof ApiError ? error.body?.rows || error.body?.error?.rows : null;
      if (rows) return { rows, created: 0, updated: 0, dry_run: dryRun, refused: true };
      throw error;
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) { out.replaceChildren(message("error", "请先选择名册文件（.xlsx 或 .csv）。")); file.focus(); return; }
    const done = busy(check, "正在预检…");
    go.disabled = true;
    try {
      const result = await send(true);
      out.replaceChildren(rowsView({ ...result, dry_run: true }));
      const clean = (result.rows || []).length > 0 && result.rows.every((r) => r.ok);
      checked = clean ? file.files[0] : null;
      go.disabled = !clean;
      if (clean) go.className = "";
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  go.addEventListener("click", async () => {
    if (!checked || file.files[0] !== checked) { out.replaceChildren(message("error", "请先预检这个文件。")); return; }
    const done = busy(go, "正在导入…");
    try {
      const result = await send(false);
      out.replaceChildren(rowsView({ ...result, dry_run: result.refused ? true : false }));
      forget();
      if (!result.refused) {
        checked = null;
        out.append(h("p", {}, h("a", { href: "#/admin/people" }, "查看人员名录")));
      }
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
      go.disabled = !checked;
    }
  });
}
