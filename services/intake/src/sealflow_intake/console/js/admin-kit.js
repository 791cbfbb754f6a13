// What the administration screens share: their sub-navigation, saving with If-Match (a colleague's change
// in between is a 409, told in Chinese with a reload), 422s shown next to the field, the people and the
// town for pickers (chosen by name, never by id), and a line diff for "what will change".
import { ApiError, getJson, sendJson } from "./api.js";
import { forget, roles, villages } from "./town.js";
import { clearFieldErrors, fieldErrors, h, message, nameOf, when } from "./ui.js";

export const SECTIONS = [
  ["#/admin/villages", "村庄", "新增、改名、停用；联村干部和联村领导"],
  ["#/admin/people", "人员", "新增、修改职务和联系方式、停用"],
  ["#/admin/import", "导入名册", "从 Excel（.xlsx）或 CSV 名册批量导入人员"],
  ["#/admin/types", "事项类型与表单", "申请表要填写的内容"],
  ["#/admin/policies", "签批规则", "每类事项的签批环节、金额门槛和版本"],
  ["#/admin/calendar", "工作日历", "调休上班和放假"],
  ["#/admin/seals", "电子印章", "新建、续期、吊销"],
  ["#/admin/subscriptions", "通知渠道", "Webhook、邮件、钉钉机器人；发送测试"],
  ["#/admin/trail", "管理留痕", "谁在何时改了什么（改前 → 改后）"],
];

/** The page's heading and the row of links to the other administration screens. */
export function adminHeader(root, current, title, intro) {
  root.append(
    h("nav", { class: "subnav", "aria-label": "管理功能" },
      h("a", { href: "#/admin", "aria-current": current === "#/admin" ? "page" : null }, "管理首页"),
      ...SECTIONS.map(([href, label]) => h("a", { href, "aria-current": href === current ? "page" : null }, label))),
    h("h1", {}, title),
  );
  if (intro) root.append(h("p", { class: "meta" }, intro));
}

export const statusChip = (active) => h("span", { class: `chip ${active === false ? "st-cancelled" : "st-done"}` }, active === false ? "已停用" : "启用中");

/**
 * Send a change and tell the person what happened. `version` goes as If-Match; a 409 says a colleague
 * changed it and offers `reload`; a 422 is shown next to its field in `form`. Returns the answer or null.
 */
export async function save({ method, path, body, version, form, out, reload, done }) {
  if (form) clearFieldErrors(form);
  out.replaceChildren();
  try {
    const answer = await sendJson(method, path, body, version);
    forget(); // villages, types, roles: read again on the next page
    return answer;
  } catch (error) {
    showError(out, error, { form, reload });
    return null;
  } finally {
    done?.();
  }
}

export function showError(out, error, { form, reload } = {}) {
  if (error instanceof ApiError && error.status === 409 && ["conflict", "admin_conflict", "version_conflict"].includes(error.code)) {
    const who = h("span");
    out.replaceChildren(h("div", { class: "error conflict", role: "alert" },
      h("p", {}, "同事在您打开之后修改了这条记录", who, "，您的修改没有保存，以免覆盖对方的修改。"),
      h("p", {}, "请重新加载，看过最新内容后再改。"),
      reload ? h("button", { type: "button", class: "secondary", onclick: reload }, "重新加载") : null));
    // The server names who changed it last and when (by id, in UTC): shown by name, in the town's time.
    const last = /最后由 ([\w-]+) 于 (\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?) UTC/.exec(error.detail);
    if (last) nameOf(last[1], "").then((name) => { who.textContent = `（${name || "另一位管理员"}，${when(`${last[2].replace(" ", "T")}Z`)}）`; });
    return;
  }
  const shown = form ? fieldErrors(form, error) : false;
  out.replaceChildren(message("error", shown || error.message));
}

// --- people, villages and the town, for pickers -------------------------------------------------------

export async function people() {
  const data = await getJson("/v1/admin/people");
  return Array.isArray(data) ? data : data.items || data.people || [];
}

export async function town() {
  try {
    const directory = await getJson("/v1/admin/directory");
    return { id: directory.town?.id, name: directory.town?.name || "镇", domainLeaders: directory.domain_leaders || {}, principal: directory.principal };
  } catch {
    return { id: null, name: "镇", domainLeaders: {}, principal: null };
  }
}

export async function townData() {
  const [vs, ps, rs] = await Promise.all([villages(), people(), roles()]);
  return {
    villages: vs,
    people: ps,
    roles: rs,
    villageName: Object.fromEntries(vs.map((v) => [v.id, v.name])),
    personName: Object.fromEntries(ps.map((p) => [p.id, p.name])),
    roleName: Object.fromEntries(rs.map((r) => [r.id, r.name])),
  };
}

/** A select of people by name (those holding `role` first; the current choice always kept). */
export function personSelect(id, everyone, { role, selected, none = "（请选择）", required = false } = {}) {
  const fit = everyone.filter((p) => p.active !== false && (!role || (p.roles || []).includes(role)));
  const chosen = everyone.find((p) => p.id === selected);
  if (chosen && !fit.includes(chosen)) fit.unshift(chosen);
  return h("select", { id, required: required || null },
    h("option", { value: "" }, none),
    ...fit.map((p) => h("option", { value: p.id, selected: p.id === selected || null }, `${p.name}${p.active === false ? "（已停用）" : ""}`)));
}

/** Checkboxes for roles in a fieldset; `.value()` gives the checked ids. */
export function roleBoxes(idPrefix, allRoles, checked = [], legend = "职务") {
  const boxes = allRoles.map((r) => {
    const box = h("input", { type: "checkbox", id: `${idPrefix}-${r.id}`, value: r.id, checked: checked.includes(r.id) || null });
    return h("label", { class: "check", for: box.id }, box, ` ${r.name}`);
  });
  const set = h("fieldset", { class: "checks", id: idPrefix }, h("legend", {}, legend), ...boxes);
  set.value = () => [...set.querySelectorAll("input:checked")].map((b) => b.value);
  return set;
}

// --- a line diff (longest common subsequence), for "what will change" ---------------------------------

/** JSON with keys in a fixed order, so two versions compare line by line. */
export function stableJson(value) {
  const sort = (v) => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value), null, 2);
}

export function lineDiff(before, after) {
  const lines = (text) => (text === "" ? [] : text.split("\n"));
  const a = lines(before), b = lines(after);
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push([" ", a[i]]); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  while (i < n) out.push(["-", a[i++]]);
  while (j < m) out.push(["+", b[j++]]);
  return out;
}

/** The changed lines with two lines of context, as a block a person can read (− removed, + added). */
export function diffView(before, after, { id, label = "改动" } = {}) {
  const lines = lineDiff(before, after);
  const changed = lines.map(([op]) => op !== " ");
  if (!changed.some(Boolean)) return h("p", { class: "notice", id }, "与上一版相比没有改动。");
  const keep = lines.map((_, k) => changed.slice(Math.max(0, k - 2), k + 3).some(Boolean));
  const rows = [];
  lines.forEach(([op, text], k) => {
    if (!keep[k]) { if (rows.at(-1) !== "…") rows.push("…"); return; }
    rows.push(op === "+" ? h("ins", {}, `+ ${text}`) : op === "-" ? h("del", {}, `- ${text}`) : h("span", {}, `  ${text}`));
  });
  const added = lines.filter(([op]) => op === "+").length, removed = lines.filter(([op]) => op === "-").length;
  return h("figure", { class: "diff", id },
    h("figcaption", {}, `${label}：增加 ${added} 行，删除 ${removed} 行（+ 为新增，- 为删除）`),
    // (ins and del are blocks, one a line; the other lines end with a newline)
    h("pre", {}, ...rows.flatMap((r) => (r === "…" ? [h("span", { class: "meta" }, "  …"), "\n"] : r.tagName === "SPAN" ? [r, "\n"] : [r]))));
}
