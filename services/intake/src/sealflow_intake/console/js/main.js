// Hash routes, each view a small module loaded on first use (a slow connection fetches only what it shows).
import { session } from "./api.js";
import { h } from "./ui.js";

const ROUTES = [
  [/^\/login$/, "login", { public: true }],
  [/^\/verify$/, "verify", { public: true }],
  [/^\/mine$/, "mine"],
  [/^\/new$/, "submit"],
  [/^\/tasks$/, "tasks"],
  [/^\/away$/, "away"],
  [/^\/supervise$/, "supervise"],
  [/^\/matter\/([\w-]+)$/, "matter"],
  [/^\/trail\/([\w-]+)$/, "trail"],
];

const roles = () => new Set(session.me?.roles || []);
const isApplicant = () => roles().has("bookkeeper");
const oversees = () => roles().has("discipline") || roles().has("admin");

function home() {
  if (!session.token) return "#/login";
  if (isApplicant()) return "#/mine";
  return oversees() ? "#/supervise" : "#/tasks";
}

function renderChrome(current) {
  const me = session.me;
  document.getElementById("who").textContent = me ? `${me.name}` : "未登录";
  const links = [];
  if (me && isApplicant()) links.push(["#/mine", "我的申请"], ["#/new", "新建申请"]);
  if (me && !isApplicant()) links.push(["#/tasks", "待办"], ["#/away", "请假"]);
  if (me && oversees()) links.push(["#/supervise", "督办"]);
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
  renderChrome(`#${path}`);
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
