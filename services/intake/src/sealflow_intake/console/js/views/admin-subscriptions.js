// 通知渠道: who gets which notices through a webhook (signed), e-mail or a DingTalk robot; set one up or
// change it, and send a test to see it arrive.
import { adminHeader, people, personSelect, save } from "../admin-kit.js";
import { ApiError, getJson, postJson } from "../api.js";
import { busy, field, h, load, message } from "../ui.js";

const CHANNELS = { webhook: "Webhook（签名的 HTTP 回调）", email: "电子邮件", dingtalk: "钉钉机器人" };
const KINDS = { task: "待签事项", completed: "办结", reminder: "到期提醒", overdue: "超时", escalation: "升级督办", urge: "纪委督办", alert: "廉政预警" };

function testButton(sub) {
  const out = h("span", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary small", "aria-label": `向「${sub.label}」发送测试通知` }, "发送测试");
  button.addEventListener("click", async () => {
    const done = busy(button, "正在发送…");
    out.replaceChildren();
    try {
      const result = await postJson(`/v1/admin/subscriptions/${encodeURIComponent(sub.id)}/test`, {});
      out.replaceChildren(result.delivered
        ? message("success", "测试通知已送达。")
        : message("error", `未送达：${result.detail || "对方没有确认收到"}`));
    } catch (error) {
      out.replaceChildren(message("error", error instanceof ApiError && error.unsupported ? "服务器暂不支持发送测试。" : error.message));
    } finally {
      done();
    }
  });
  return [button, out];
}

function subscriptionForm(everyone, sub, onSaved) {
  const p = sub ? `sub-${sub.id}` : "sub-new";
  const id = h("input", { id: `${p}-id`, type: "text", required: true, maxlength: 64, autocomplete: "off", value: sub?.id || "" });
  const who = personSelect(`${p}-who`, everyone, { selected: sub?.subscriber, none: "（请选择）" });
  const channel = h("select", { id: `${p}-channel` }, ...Object.entries(CHANNELS).map(([k, v]) => h("option", { value: k, selected: k === sub?.channel || null }, v)));
  const target = h("input", { id: `${p}-target`, type: "text", required: true, maxlength: 500, autocomplete: "off", value: sub?.target || "" });
  const secret = h("input", { id: `${p}-secret`, type: "password", maxlength: 200, autocomplete: "new-password" });
  const kinds = Object.entries(KINDS).map(([k, v]) => {
    const box = h("input", { type: "checkbox", id: `${p}-kind-${k}`, value: k, checked: sub?.kinds?.includes(k) || null });
    return h("label", { class: "check", for: box.id }, box, ` ${v}`);
  });
  const kindSet = h("fieldset", { class: "checks" }, h("legend", {}, "哪些通知（都不选 = 全部）"), ...kinds);
  const active = h("input", { id: `${p}-active`, type: "checkbox", checked: sub ? sub.active !== false || null : true });
  const button = h("button", { type: "submit" }, sub ? "保存修改" : "保存");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    sub ? null : field("渠道编号", id, { key: "id", hint: "小写字母、数字或连字符，例如 xinhe-dingtalk" }),
    field("通知谁", who, { key: "subscriber" }), field("渠道", channel, { key: "channel" }),
    field("地址", target, { key: "target", hint: "Webhook 或钉钉机器人的 https 地址，或邮箱" }),
    field("签名密钥", secret, { key: "secret", hint: sub ? "密钥不显示；保存修改时请重新填写（邮件不需要）" : "Webhook 用它签名，钉钉机器人的加签密钥（邮件不需要）" }),
    kindSet, h("label", { class: "check", for: active.id }, active, " 启用"),
    h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const subId = sub?.id || id.value.trim();
    if (!/^[a-z0-9][a-z0-9-]*$/.test(subId)) { out.replaceChildren(message("error", "渠道编号只能用小写字母、数字和连字符。")); id.focus(); return; }
    if (!who.value) { out.replaceChildren(message("error", "请选择通知谁。")); who.focus(); return; }
    if (target.value.trim().length < 3) { out.replaceChildren(message("error", "请填写地址。")); target.focus(); return; }
    if (channel.value === "email" ? !target.value.includes("@") : !/^https?:\/\//.test(target.value.trim())) {
      out.replaceChildren(message("error", channel.value === "email" ? "请填写邮箱地址。" : "请填写以 https:// 开头的地址。"));
      target.focus();
      return;
    }
    if (channel.value !== "email" && !secret.value) { out.replaceChildren(message("error", "Webhook 和钉钉机器人需要签名密钥。")); secret.focus(); return; }
    const body = { subscriber: who.value, channel: channel.value, target: target.value.trim(), kinds: [...kindSet.querySelectorAll("input:checked")].map((b) => b.value), active: active.checked, secret: secret.value };
    const saved = await save({ method: "PUT", path: `/v1/subscriptions/${encodeURIComponent(subId)}`, body, version: sub?.version, form, out, done: busy(button, "正在保存…") });
    if (saved) await onSaved({ id: subId, ...body, ...saved });
  });
  return form;
}

export async function render(root) {
  adminHeader(root, "#/admin/subscriptions", "通知渠道", "站内通知总会发送；这里为个人或外部系统另加 Webhook、邮件或钉钉机器人。");
  const flash = h("div", { "aria-live": "polite" });
  const body = h("div");
  root.append(flash, body);
  const draw = async (text, justSaved) => {
    body.replaceChildren();
    flash.replaceChildren(typeof text === "string" ? message("success", text) : "");
    await load(body, {
      fetch: async () => {
        let subs = null;
        try {
          const data = await getJson("/v1/admin/subscriptions");
          subs = Array.isArray(data) ? data : data.items || data.subscriptions || [];
        } catch (error) {
          if (!(error instanceof ApiError && error.unsupported)) throw error;
        }
        return { subs, people: await people() };
      },
      render: (area, data) => {
        const names = Object.fromEntries(data.people.map((p) => [p.id, p.name]));
        const saved = async (sub) => draw(`已保存「${names[sub.subscriber] || ""}」的${CHANNELS[sub.channel]}。可点“发送测试”确认能收到。`, sub);
        area.append(h("details", { class: "card", id: "sub-new" }, h("summary", {}, "新增通知渠道"), subscriptionForm(data.people, null, saved)));
        let subs = data.subs;
        if (subs === null) {
          area.append(h("p", { class: "notice" }, "服务器暂不提供渠道列表；下面只列出本次保存的渠道。"));
          subs = justSaved ? [justSaved] : [];
        } else if (justSaved && !subs.some((s) => s.id === justSaved.id)) {
          subs = [justSaved, ...subs];
        }
        area.append(h("h2", {}, `渠道（${subs.length}）`), h("ul", { class: "list grid", id: "sub-list" }, ...subs.map((s) => {
          const sub = { ...s, label: `${names[s.subscriber] || "外部系统"} · ${CHANNELS[s.channel] || "其他渠道"}` };
          const kinds = (s.kinds || []).map((k) => KINDS[k] || "其他").join("、") || "全部通知";
          return h("li", { class: "card", "data-sub": s.id },
            h("h3", {}, sub.label, " ", s.active === false ? h("span", { class: "chip st-cancelled" }, "已停用") : null),
            h("p", { class: "meta mono" }, s.target),
            h("p", { class: "meta" }, kinds),
            h("p", { class: "row" }, ...testButton(sub)),
            h("details", {}, h("summary", {}, "修改"), subscriptionForm(data.people, s, saved)));
        })));
      },
    });
  };
  await draw();
}
