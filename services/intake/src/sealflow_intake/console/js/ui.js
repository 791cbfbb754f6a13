// Small DOM helpers and the Chinese labels shared by the views. Text is always set as text, never HTML.
import { cache, getJson, session } from "./api.js";

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
const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
});
export const when = (iso) => (iso ? TIME.format(new Date(iso)) : "—");
export const yuan = (fen) => `${(fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;
export const chip = (status, label) => h("span", { class: `chip st-${status}` }, label);

// Money is typed in 元 and sent in fen (integers), never through floating point.
export function toFen(text) {
  const match = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(String(text ?? "").replaceAll(",", ""));
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}
export const fenToInput = (fen) => (Number.isInteger(fen) ? `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, "0")}` : "");

// A labelled input with its own hint and error line, tied together for screen readers. A 422 that names
// the field's key (`data-key`) is shown on that line (see `fieldErrors`).
export function field(label, input, { hint, key } = {}) {
  const id = input.id;
  const err = h("p", { class: "field-error", id: `${id}-err`, hidden: true });
  const described = [hint ? `${id}-hint` : null, `${id}-err`].filter(Boolean).join(" ");
  input.setAttribute("aria-describedby", described);
  if (key) input.dataset.key = key;
  const required = input.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
  return h("div", { class: "field" }, h("label", { for: id }, label, required), input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null, err);
}

export function clearFieldErrors(root) {
  for (const el of root.querySelectorAll(".field-error")) { el.hidden = true; el.textContent = ""; }
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Show `text` next to the input for `key` in `root`; true when such a field is there. */
export function showFieldError(root, key, text) {
  const input = [...root.querySelectorAll("[data-key]")].find((el) => el.dataset.key === key);
  if (!input) return false;
  markField(input, text);
  return true;
}

/** Mark one input as wrong, with `text` on its error line (made by `field`). */
export function markField(input, text) {
  const folded = input.closest("details");
  if (folded) folded.open = true;
  input.setAttribute("aria-invalid", "true");
  const err = document.getElementById(`${input.id}-err`);
  if (err) { err.textContent = text; err.hidden = false; }
  input.focus();
}

const bareWord = (text, word) => text.split(/[^\w]+/).includes(word);

/** A 422 names the field's key (`(key)`, `「label」` or the bare key): put it next to that field, and return
 * the message as shown there (without "字段 <key>：", the field's label says which), or false. */
export function fieldErrors(root, error) {
  if (error?.status !== 422) return false;
  const text = error.message;
  const keys = [...root.querySelectorAll("[data-key]")].map((el) => el.dataset.key);
  const byLabel = [...root.querySelectorAll("[data-key]")].map((el) => [el.dataset.key, root.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.firstChild?.textContent?.trim()]);
  const raw = `${error.detail} ${text}`;
  const key = keys.find((k) => raw.includes(`(${k})`) || raw.includes(`（${k}）`) || raw.includes(`'${k}'`) || raw.includes(`"${k}"`))
    || byLabel.find(([, label]) => label && raw.includes(`「${label}」`))?.[0]
    || keys.find((k) => bareWord(raw, k));
  if (!key) return false;
  const shown = text.replace(`字段 ${key}：`, "").replace(`字段 ${key}:`, "");
  return showFieldError(root, key, shown) ? shown : false;
}

// Display names of people, fetched once and kept (the directory changes rarely).
const names = cache.get("names")?.data || {};
// Never an id on screen: someone the directory cannot name (or an unreachable server) reads as `fallback`.
export async function nameOf(personId, fallback = "（未能读取姓名）") {
  if (!personId) return fallback;
  if (!names[personId]) {
    if (!session.token) return fallback;
    try {
      names[personId] = (await getJson(`/v1/people/${encodeURIComponent(personId)}`)).name;
      cache.put("names", names);
    } catch {
      return fallback;
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
