// Small DOM helpers and the Chinese labels shared by the views. Text is always set as text, never HTML.
import { cache, getJson } from "./api.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const STATUS = { in_review: "审批中", returned: "已退回", rejected: "已终止", withdrawn: "已撤回", completed: "已办结" };
export const STAGE_STATUS = { waiting: "未开始", open: "签批中", done: "已完成", cancelled: "已取消" };
export const MODE = { all: "会签", any: "或签", sequence: "依次签" };
export const DECISION = { approve: "同意", return: "退回", reject: "终止" };
export const VILLAGES = { jiulian: "久联村", changbei: "长北村", sanwei: "三围村" };
export const MATTER_TYPES = {
  service_procurement: "村级服务和物资采购",
  village_project: "村级工程项目",
  asset_contracting: "村集体资产资源发包",
  seal_use: "村级用印申请",
};

const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
});
export const when = (iso) => (iso ? TIME.format(new Date(iso)) : "—");
export const yuan = (fen) => `${(fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;
export const chip = (status, label) => h("span", { class: `chip st-${status}` }, label);

// Display names of people, fetched once and kept (the directory changes rarely).
const names = cache.get("names")?.data || {};
export async function nameOf(personId) {
  if (!names[personId]) {
    try {
      names[personId] = (await getJson(`/v1/people/${encodeURIComponent(personId)}`)).name;
      cache.put("names", names);
    } catch {
      return personId;
    }
  }
  return names[personId];
}
export async function namesOf(ids) {
  return Promise.all(ids.map(nameOf));
}

export function message(kind, text) {
  return h("p", { class: kind, role: kind === "error" ? "alert" : "status" }, text);
}

// Load, show a loading line, fall back to the last cached answer with its age, and offer a retry.
export async function load(root, { key, fetch, render }) {
  const cached = key ? cache.get(key) : null;
  const status = h("p", { class: "loading", role: "status" }, "正在加载…");
  const area = h("div");
  root.append(status, area);
  // Each answer draws into its own box, so a slow draw of the cached list never mixes with the fresh one.
  const show = (data) => { const box = h("div"); area.replaceChildren(box); return render(box, data); };
  if (cached) show(cached.data);
  try {
    const data = await fetch();
    if (key) cache.put(key, data);
    await show(data);
    status.remove();
  } catch (error) {
    const retry = h("button", { class: "secondary", type: "button", onclick: () => { root.replaceChildren(); load(root, { key, fetch, render }); } }, "重试");
    const age = cached ? `（下面是 ${when(new Date(cached.at).toISOString())} 的离线数据）` : "";
    status.replaceWith(h("div", { class: "error", role: "alert" }, `${error.message}${age} `, retry));
  }
}

export function busy(button, text) {
  const original = button.textContent;
  button.disabled = true;
  button.textContent = text;
  return () => { button.disabled = false; button.textContent = original; };
}
