// Sign-in for local use: pick a pilot person (POST /v1/dev/token, enabled only with SEALFLOW_DEV_LOGIN).
// Without it (production) the gateway hands over a token, which can be pasted here.
import { ApiError, getJson, postJson, session } from "../api.js";
import { h, message, busy } from "../ui.js";

// The pilot directory's people (SPEC §6): the dev picker's choices.
const VILLAGE_PEOPLE = [
  ["bookkeeper", "报账员"], ["director", "村委会主任"], ["supervisor", "村监委会主任"], ["secretary", "村党组织书记"],
];
const VILLAGES = [["jiulian", "久联村"], ["changbei", "长北村"], ["sanwei", "三围村"]];
const TOWN_PEOPLE = [
  ["yinong-cadre-jiulian", "联村干部（久联村）"], ["yinong-cadre-changbei", "联村干部（长北村）"], ["yinong-cadre-sanwei", "联村干部（三围村）"],
  ["yinong-leader-a", "联村领导（久联村、长北村）"], ["yinong-leader-b", "联村领导（三围村）"],
  ["yinong-deputy-services", "分管领导（服务采购、资产发包）"], ["yinong-deputy-projects", "分管领导（村级工程）"],
  ["yinong-principal", "镇主要领导"], ["yinong-discipline", "镇纪委"], ["yinong-admin", "镇管理员"],
];

export async function render(root, ctx) {
  const select = h("select", { id: "person", name: "person" },
    ...VILLAGES.map(([v, vn]) => h("optgroup", { label: vn }, ...VILLAGE_PEOPLE.map(([r, rn]) => h("option", { value: `${v}-${r}` }, `${vn}${rn}`)))),
    h("optgroup", { label: "益农镇" }, ...TOWN_PEOPLE.map(([id, label]) => h("option", { value: id }, label))),
  );
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "登录");
  const form = h("form", { class: "card" },
    h("label", { for: "person" }, "试点人员"), select,
    h("p", { class: "hint" }, "开发环境：选择一位试点人员登录。正式环境由浙里办登录。"),
    h("div", { class: "actions" }, button),
  );
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
