// 请假委托: a signer going away (出差、培训、休假) names a stand-in for the dates. Stages that open while they are
// away go to the stand-in and both are told; tasks already in hand stay (转办 moves those one by one).
// Cancelling affects only stages that open from then on.
import { getJson, postJson, request } from "../api.js";
import { busy, h, load, message, nameOf } from "../ui.js";

const CHINA_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
const today = () => CHINA_DAY.format(new Date()); // YYYY-MM-DD in the town's calendar

function standInForm(candidates, onRegistered) {
  const start = h("input", { id: "starts_on", type: "date", required: true, value: today(), min: today() });
  const end = h("input", { id: "ends_on", type: "date", required: true, value: today(), min: today() });
  const who = h("select", { id: "stand_in", required: true }, ...candidates.map((p) => h("option", { value: p.id }, p.name)));
  const why = h("input", { id: "away_reason", type: "text", required: true, maxlength: 200, placeholder: "例如 到县里参加培训" });
  const button = h("button", { type: "submit", id: "register-absence" }, "登记请假");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "card" },
    h("label", { for: "stand_in" }, "代理人"), who,
    h("label", { for: "starts_on" }, "开始日期"), start,
    h("label", { for: "ends_on" }, "结束日期（含当天）"), end,
    h("label", { for: "away_reason" }, "事由"), why,
    h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!why.value.trim()) { out.replaceChildren(message("error", "请填写「事由」。")); why.focus(); return; }
    if (end.value < start.value) { out.replaceChildren(message("error", "结束日期不能早于开始日期。")); end.focus(); return; }
    const done = busy(button, "正在登记…");
    try {
      await postJson("/v1/absences", { stand_in_id: who.value, starts_on: start.value, ends_on: end.value, reason: why.value.trim() });
      out.replaceChildren(message("success", `已登记：${start.value} 至 ${end.value} 新到的签批事项由 ${who.selectedOptions[0].textContent} 代签。`));
      why.value = "";
      await onRegistered();
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  return form;
}

async function absenceCard(absence, me, onChanged) {
  const mine = absence.person_id === me.id;
  const [away, standIn] = [await nameOf(absence.person_id), await nameOf(absence.stand_in_id)];
  // Yours, one you stand in for, or (the administrator sees all) someone else's.
  const title = mine ? `由 ${standIn} 代签` : absence.stand_in_id === me.id ? `代 ${away} 签批` : `${away} 由 ${standIn} 代签`;
  const cancelled = Boolean(absence.cancelled_at);
  const over = absence.ends_on < today();
  const state = cancelled ? "已撤销" : over ? "已结束" : absence.starts_on > today() ? "未开始" : "生效中";
  const card = h("li", { class: "card" },
    h("h3", {}, title),
    h("p", { class: "meta" }, `${absence.starts_on} 至 ${absence.ends_on} · ${state}`),
    h("p", {}, `事由：${absence.reason}`));
  if ((mine || me.roles?.includes("admin")) && !cancelled && !over) {
    const cancel = h("button", { type: "button", class: "secondary" }, "撤销");
    cancel.addEventListener("click", async () => {
      const done = busy(cancel, "正在撤销…");
      try {
        await request("DELETE", `/v1/absences/${encodeURIComponent(absence.id)}`);
        await onChanged();
      } catch (error) {
        card.append(message("error", error.message));
        done();
      }
    });
    card.append(h("p", { class: "row" }, cancel));
  }
  return card;
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "请假委托"),
    h("p", { class: "meta" }, "外出期间新到的签批事项交给代理人办理，您和代理人都会收到通知；已在您手上的事项不变，可在事项页转办。"));
  const registered = h("div");
  const list = async () => {
    registered.replaceChildren();
    await load(registered, {
      fetch: () => getJson("/v1/absences"),
      render: async (area, data) => {
        if (!data.items.length) { area.append(h("p", { class: "meta" }, "没有请假委托。")); return; }
        const cards = [];
        for (const absence of data.items) cards.push(await absenceCard(absence, ctx.me, list));
        area.append(h("ul", { class: "list", id: "absence-list" }, ...cards));
      },
    });
  };
  const register = h("div");
  root.append(h("h2", {}, "登记请假"), register, h("h2", {}, "我的请假与代签"), registered);
  await load(register, {
    fetch: () => getJson("/v1/absences/stand-ins"),
    render: (area, data) => {
      if (!data.items.length) {
        area.append(h("p", { class: "notice" }, "名录中没有与您职务相同的人可以代签。请联系镇管理员在组织名录中添加副职，或在事项页逐项转办。"));
        return;
      }
      area.append(standInForm(data.items, list));
    },
  });
  await list();
}
