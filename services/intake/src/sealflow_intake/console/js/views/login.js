// Sign-in for local use: pick a person of the directory (POST /v1/dev/token, enabled only with SEALFLOW_DEV_LOGIN).
// Without it (production) the gateway hands over a token, which can be pasted here.
import { ApiError, getJson, postJson, session } from "../api.js";
import { h, message, busy } from "../ui.js";

// The people to pick from come from the directory as it stands (GET /v1/dev/people, open only where the
// development sign-in is): grouped by village, town people last.
async function picker() {
  let people;
  try {
    people = await getJson("/v1/dev/people", { auth: false });
  } catch (error) {
    if (error instanceof ApiError && (error.unsupported || error.status === 403)) return null; // no dev sign-in here
    throw error;
  }
  people = Array.isArray(people) ? people : people.items || people.people || [];
  const groups = new Map();
  for (const p of people) {
    const group = p.village_id ? p.village_name || "其他村" : "镇机关";
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(p);
  }
  const order = [...groups.keys()].sort((a, b) => (a === "镇机关") - (b === "镇机关"));
  const label = (p) => {
    const roles = (p.role_names || []).filter((r) => !p.name.includes(r));
    return roles.length ? `${p.name}（${roles.join("、")}）` : p.name;
  };
  return h("select", { id: "person", name: "person" },
    ...order.map((g) => h("optgroup", { label: g }, ...groups.get(g).map((p) => h("option", { value: p.id }, label(p))))));
}

export async function render(root, ctx) {
  const select = await picker();
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "登录");
  const form = select ? h("form", { class: "card" },
    h("label", { for: "person" }, "人员"), select,
    h("p", { class: "hint", id: "person-hint" }, "开发环境：选择组织名录中的一位人员登录。正式环境由浙里办登录。"),
    h("div", { class: "actions" }, button),
  ) : h("p", { class: "notice" }, "本服务器未开启开发登录。请从浙里办进入，或在下方粘贴浙里办签发的令牌。");
  select?.setAttribute("aria-describedby", "person-hint");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = busy(button, "正在登录…");
    try {
      const answer = await postJson("/v1/dev/token", { person_id: select.value }, { auth: false });
      session.save(answer.token, answer.person);
      location.hash = ctx.home();
    } catch (error) {
      out.replaceChildren(message("error", error instanceof ApiError && error.unsupported
        ? "本服务器未开启开发登录。请从浙里办进入，或在下方粘贴浙里办签发的令牌。" : error.message));
    } finally {
      done();
    }
  });

  const token = h("textarea", { id: "token", name: "token", rows: 3 });
  const tokenButton = h("button", { type: "submit", class: "secondary" }, "使用令牌登录");
  const tokenForm = h("form", { class: "card" }, h("label", { for: "token" }, "浙里办令牌"), token, h("div", { class: "actions" }, tokenButton));
  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = busy(tokenButton, "正在登录…");
    try {
      session.save(token.value.trim(), null);
      session.save(token.value.trim(), await getJson("/v1/me"));
      location.hash = ctx.home();
    } catch (error) {
      session.clear();
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  root.append(h("h1", {}, "登录"), form, out, h("h2", {}, "已有令牌"), tokenForm);
}
