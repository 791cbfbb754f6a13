// Hash routes, each view a small module loaded on first use (a slow connection fetches only what it shows).
import { session } from "./api.js";
import { h } from "./ui.js";

const ROUTES = [
  [/^\/login$/, "login", { public: true }],
  [/^\/verify$/, "verify", { public: true }],
  // 村务公开: the page a sealed form's QR code opens — for anyone, never behind the sign-in.
  [/^\/public\/([^/?]+)$/, "public", { public: true }],
  [/^\/mine$/, "mine"],
  [/^\/new$/, "submit"],
  [/^\/tasks$/, "tasks"],
  [/^\/away$/, "away"],
  [/^\/supervise$/, "supervise"],
  [/^\/alerts$/, "alerts"],
  [/^\/alerts\/([^/?]+)$/, "alerts"], // an alert's id (rule:…) travels encoded
  [/^\/matter\/([\w-]+)$/, "matter"],
  [/^\/matters\/([\w-]+)$/, "matter"], // the link in every notice (inbox, e-mail, DingTalk, webhook)
  [/^\/done$/, "done"],
  [/^\/search$/, "search"],
  [/^\/seal-uses$/, "seal-uses"],
  [/^\/accountability$/, "accountability"],
  [/^\/trail\/([\w-]+)$/, "trail"],
  // The town office's administration (the administrator role); the server refuses everyone else.
  [/^\/admin$/, "admin", { admin: true }],
  [/^\/admin\/villages$/, "admin-villages", { admin: true }],
  [/^\/admin\/people$/, "admin-people", { admin: true }],
  [/^\/admin\/import$/, "admin-import", { admin: true }],
  [/^\/admin\/types$/, "admin-types", { admin: true }],
  [/^\/admin\/types\/([\w-]+)$/, "admin-type", { admin: true }],
  [/^\/admin\/policies$/, "admin-policies", { admin: true }],
  [/^\/admin\/policies\/([\w-]+)$/, "admin-policy", { admin: true }],
  [/^\/admin\/calendar$/, "admin-calendar", { admin: true }],
  [/^\/admin\/seals$/, "admin-seals", { admin: true }],
  [/^\/admin\/subscriptions$/, "admin-subscriptions", { admin: true }],
  [/^\/admin\/trail$/, "admin-trail", { admin: true }],
];

const roles = () => new Set(session.me?.roles || []);
const isApplicant = () => roles().has("bookkeeper");
const oversees = () => roles().has("discipline") || roles().has("admin");
const administers = () => roles().has("admin");

function home() {
  if (!session.token) return "#/login";
  if (isApplicant()) return "#/mine";
  if (administers()) return "#/admin";
  return oversees() ? "#/supervise" : "#/tasks";
}

function renderChrome(current) {
  const me = session.me;
  document.getElementById("who").textContent = me ? `${me.name}` : "未登录";
  const links = [];
  if (me && administers()) links.push(["#/admin", "管理"]);
  if (me && isApplicant()) links.push(["#/mine", "我的申请"], ["#/new", "新建申请"]);
  const signs = [...roles()].some((r) => r !== "bookkeeper" && r !== "admin"); // the administrator alone signs nothing
  if (me && !isApplicant() && signs) links.push(["#/tasks", "待办"], ["#/done", "已办"], ["#/away", "请假"]);
  if (me && oversees()) links.push(["#/supervise", "督办"], ["#/alerts", "预警"], ["#/search", "查询"]);
  links.push(["#/verify", "核验"]);
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...links.map(([href, label]) => h("a", { href, "aria-current": current === href ? "page" : null }, label)),
    me
      ? h("button", { type: "button", class: "secondary", onclick: () => { session.clear(); location.hash = "#/login"; } }, "退出")
      : h("a", { href: "#/login", "aria-current": current === "#/login" ? "page" : null }, "登录"),
  );
}

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  const found = ROUTES.map(([re, name, opts]) => [path.match(re), name, opts || {}]).find(([m]) => m);
  if (!found) { location.replace(home()); return; }
  const [match, name, opts] = found;
  if (!opts.public && !session.token) { location.replace("#/login"); return; }
  renderChrome(opts.admin ? "#/admin" : `#${path}`);
  // Administration lists and editors use the width of a desktop screen; the rest stays one phone column.
  document.getElementById("view").classList.toggle("wide", Boolean(opts.admin));
  // Each visit draws into its own box: a page still loading when the user moves on keeps drawing into
  // its box, now detached, never into the next page.
  const page = h("div", {}, h("p", { class: "loading", role: "status" }, "正在加载…"));
  document.getElementById("view").replaceChildren(page);
  try {
    const module = await import(`./views/${name}.js`);
    page.replaceChildren();
    await module.render(page, { id: match[1], params, home, oversees: oversees(), me: session.me });
  } catch (error) {
    page.replaceChildren(
      h("h1", {}, "页面加载失败"),
      h("p", { class: "error", role: "alert" }, `网络较慢或已断开：${error.message}`),
      h("button", { type: "button", onclick: route }, "重试"),
    );
  }
  // Screen readers and keyboards start at the new page's heading.
  const heading = page.isConnected ? page.querySelector("h1") : null;
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
}

window.addEventListener("hashchange", route);
route();
