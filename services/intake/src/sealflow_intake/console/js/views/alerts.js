// 诚信预警: what the integrity rules found in the event history, for the discipline office (the administrator
// reads them too). The board (#/alerts) lists each alert — its rule in Chinese, the village, the matters it
// concerns (title, amount, a link to each), its evidence in words, when it was raised and its status —
// filtered by rule, village and status (kept in the address, like 查询). One alert's page (#/alerts/<id>)
// takes the discipline office's disposition, 确认 or 排除 with a reason, which the server also writes into
// the trail of every matter the alert concerns.
import { getJson, postJson } from "../api.js";
import { typeNames, villageNames, villages as townVillages } from "../town.js";
import { STATUS, busy, chip, clearFieldErrors, field, h, load, markField, message, nameOf, when, yuan } from "../ui.js";

export const RULES = {
  split_procurement: "拆分规避",
  act_first: "先斩后奏",
  rubber_stamp: "走过场",
  counterparty_concentration: "交易对象集中",
};
const RULE_MEANS = {
  split_procurement: "同一村、同一类型、同一交易对象的事项在一段时间内分几次报批，每笔都低于审批线，合计超过审批线。",
  act_first: "服务或工程在提交申请之前就已经开始。",
  rubber_stamp: "同一签批人连续多次没有打开文件或附件，或收到任务后很快就同意。",
  counterparty_concentration: "一个交易对象占本村同类事项金额的比例过高。",
};
export const ALERT_STATUS = { open: "待处置", confirmed: "已确认", dismissed: "已排除" };
const VERDICT = { confirmed: "确认（问题属实）", dismissed: "排除（不构成问题）" };
const PAGE = 20; // alerts drawn at once; matters listed in one card
const IN_CARD = 5;

const DAY = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "long", day: "numeric" });
// "2020-01-01" (a China date) or an ISO instant, as 2020年1月1日.
function day(value) {
  if (!value) return "—";
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return plain ? `${Number(plain[1])}年${Number(plain[2])}月${Number(plain[3])}日` : DAY.format(new Date(value));
}
const percent = (share) => `${Math.round(share * 1000) / 10}%`;
function duration(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} 秒`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} 分钟`;
  return `${Math.round(seconds / 360) / 10} 小时`;
}
const alertHref = (id) => `#/alerts/${encodeURIComponent(id)}`;

/** The names an alert's page needs: villages, matter types, and its matters (each read once per page). */
function lookups() {
  const matters = new Map();
  return {
    villages: villageNames(),
    types: typeNames(),
    // A matter the caller cannot read (or a lost connection) is null: shown as such, never by its id.
    matter(id) {
      if (!matters.has(id)) matters.set(id, getJson(`/v1/matters/${encodeURIComponent(id)}`).catch(() => null));
      return matters.get(id);
    },
  };
}

async function villageOf(alert, look, shown) {
  const villages = await look.villages;
  if (alert.village_id) return villages[alert.village_id] || "（未知村）";
  // 走过场 is about a signer, not a village: the villages of the matters shown.
  const names = [...new Set(shown.filter(Boolean).map((m) => villages[m.village_id]).filter(Boolean))];
  return names.length ? names.join("、") : "—";
}

/** The evidence as sentences; `shown` are the matters read (in the order of alert.matter_ids). */
async function explain(alert, look, shown) {
  const e = alert.evidence || {};
  const types = await look.types;
  const typeName = types[e.matter_type] || "同类事项";
  const titleOf = (id) => {
    const i = alert.matter_ids.indexOf(id);
    return i >= 0 && i < shown.length && shown[i] ? `《${shown[i].title}》` : "一个事项";
  };
  switch (alert.rule) {
    case "split_procurement":
      return [h("p", { class: "evidence" },
        `同一交易对象「${e.counterparty || "—"}」的${typeName}在 ${e.window_days} 天内分 ${alert.matter_ids.length} 次报批`
        + `（${day(e.first_submitted_at) === day(e.last_submitted_at) ? `都在 ${day(e.first_submitted_at)}` : `${day(e.first_submitted_at)} 至 ${day(e.last_submitted_at)}`}），`
        + `每笔都低于 ${yuan(e.threshold_fen)} 的审批线，`
        + `合计 ${yuan(e.total_fen)}，超过审批线。`)];
    case "act_first":
      return [h("p", { class: "evidence" },
        `表单填写的服务开始日期是 ${day(e.service_start)}，而申请在 ${day(e.submitted_on)} 才提交，早了 ${e.days_before} 天：先开始，后报批。`)];
    case "rubber_stamp": {
      const who = await nameOf(e.person_id, "一位签批人");
      const approvals = e.approvals || [];
      return [
        h("p", { class: "evidence" }, `${who}连续 ${approvals.length} 次同意时没有认真审阅：没有打开文件或附件，或收到任务后很快就同意。`),
        // One line per matter shown (a card shows the first few, the alert's page more).
        h("ul", { class: "evidence-list" }, ...approvals.slice(0, Math.max(shown.length, 1)).map((a) => h("li", {},
          `${titleOf(a.matter_id)}：${a.viewed ? "打开过文件" : "没有打开文件或附件"}，收到任务后 ${duration(a.seconds_after_task)} 同意`))),
        approvals.length > Math.max(shown.length, 1) ? h("p", { class: "meta" }, `另有 ${approvals.length - Math.max(shown.length, 1)} 次，见所涉事项。`) : null,
      ];
    }
    case "counterparty_concentration":
      return [h("p", { class: "evidence" },
        `近 ${e.days} 天，「${e.counterparty || "—"}」承接了本村${typeName}金额的 ${percent(e.share)}`
        + `（${yuan(e.amount_fen)}，共 ${yuan(e.total_fen)}），超过 ${percent(e.limit)} 的上限。`)];
    default:
      return [h("p", { class: "evidence" }, "详见所涉事项。")];
  }
}

function matterItem(id, matter, villages) {
  if (!matter) return h("li", {}, "（无法读取该事项）", " ", h("a", { href: `#/matter/${encodeURIComponent(id)}` }, "打开事项"));
  return h("li", {},
    h("a", { href: `#/matter/${encodeURIComponent(id)}` }, matter.title),
    h("span", { class: "meta" }, ` · ${[Number.isInteger(matter.amount_fen) ? yuan(matter.amount_fen) : null, villages[matter.village_id], STATUS[matter.status]].filter(Boolean).join(" · ")}`));
}

async function dispositionLine(d) {
  if (!d) return null;
  const by = await nameOf(d.by, "镇纪委");
  return h("p", { class: d.status === "confirmed" ? "error disposition" : "success disposition" },
    `${ALERT_STATUS[d.status] || d.status}：${by}于 ${when(d.at)} 处置，理由：“${d.reason}”`);
}

async function card(alert, look) {
  const ids = alert.matter_ids.slice(0, IN_CARD);
  const shown = await Promise.all(ids.map((id) => look.matter(id)));
  const villages = await look.villages;
  const rule = RULES[alert.rule] || "其他预警";
  return h("li", { class: `card alert${alert.status === "open" ? " is-overdue" : ""}`, "data-alert": alert.id },
    h("h3", { class: "row" }, rule, chip(alert.status, ALERT_STATUS[alert.status] || alert.status)),
    h("p", { class: "meta" }, `${await villageOf(alert, look, shown)} · 发现于 ${when(alert.raised_at)}`),
    ...(await explain(alert, look, shown)),
    h("p", { class: "label" }, `所涉事项（${alert.matter_ids.length} 项）`),
    h("ul", { class: "alert-matters" }, ...ids.map((id, i) => matterItem(id, shown[i], villages))),
    alert.matter_ids.length > IN_CARD ? h("p", { class: "meta" }, `另有 ${alert.matter_ids.length - IN_CARD} 项，见详情。`) : null,
    await dispositionLine(alert.disposition),
    h("p", {}, h("a", { class: "button secondary small", href: alertHref(alert.id) },
      alert.status === "open" ? `查看并处置「${rule}」预警` : `查看「${rule}」预警详情`)),
  );
}

function select(id, all, options, value) {
  const el = h("select", { id, name: id }, all === null ? null : h("option", { value: "" }, all),
    ...options.map(([v, label]) => h("option", { value: v }, label)));
  el.value = value ?? "";
  return el;
}

function subnav(current) {
  return h("nav", { class: "subnav", "aria-label": "监督" },
    h("a", { href: "#/supervise" }, "督办"),
    h("a", { href: "#/alerts", "aria-current": current ? "page" : null }, "诚信预警"),
    h("a", { href: "#/search" }, "查询事项"),
    h("a", { href: "#/seal-uses" }, "用印登记"),
    h("a", { href: "#/accountability" }, "问责记录"));
}

async function board(root, ctx) {
  root.append(h("h1", {}, "诚信预警"), subnav(true),
    h("p", { class: "meta" }, "系统按规则从签批记录中自动发现可疑情况，由镇纪委核实后确认或排除；处置结论写入所涉事项的留痕记录。"));
  const p = ctx.params;
  const towns = await townVillages().catch(() => []);
  const rule = select("alert-rule", "全部规则", Object.entries(RULES), p.get("rule"));
  const village = select("alert-village", "全部村", towns.map((v) => [v.id, v.name]), p.get("village_id"));
  const state = select("alert-status", null, [["open", "待处置"], ["confirmed", "已确认"], ["dismissed", "已排除"], ["", "全部状态"]], p.get("status") ?? "open");
  const form = h("form", { class: "card filters", role: "search", "aria-label": "筛选预警" },
    field("规则", rule), field("村", village), field("状态", state));
  const box = h("section", { "aria-labelledby": "alerts-h" });
  root.append(form, box);

  const show = () => {
    const query = new URLSearchParams();
    if (rule.value) query.set("rule", rule.value);
    if (village.value) query.set("village_id", village.value);
    const address = new URLSearchParams(query);
    address.set("status", state.value); // (empty: every status; absent: the default, 待处置)
    if (state.value) query.set("status", state.value);
    history.replaceState(null, "", `#/alerts?${address}`);
    box.replaceChildren(h("h2", { id: "alerts-h" }, "预警列表"));
    const area = h("div", { "aria-live": "polite" });
    box.append(area);
    return load(area, {
      fetch: () => getJson(`/v1/supervision/alerts?${query}`),
      render: async (out, data) => {
        if (!data.items.length) { out.append(h("p", { class: "notice", id: "no-alerts" }, "没有符合条件的预警。")); return; }
        out.append(h("p", { class: "meta", id: "alerts-count" }, `共 ${data.items.length} 条预警（最新的在前）。`));
        const look = lookups();
        const list = h("ul", { class: "list", id: "alert-list" });
        const more = h("button", { type: "button", class: "secondary", id: "alerts-more" }, "显示更多");
        out.append(list, h("div", { class: "actions" }, more));
        let drawn = 0;
        const next = async () => {
          const page = data.items.slice(drawn, drawn + PAGE);
          drawn += page.length;
          list.append(...(await Promise.all(page.map((a) => card(a, look)))));
          more.hidden = drawn >= data.items.length;
        };
        more.addEventListener("click", async () => { const done = busy(more, "正在加载…"); try { await next(); } finally { done(); } });
        await next();
      },
    });
  };
  for (const el of [rule, village, state]) el.addEventListener("change", show);
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  await show();
}

function dispositionForm(alert, onDone) {
  const choices = Object.entries(VERDICT).map(([value, label]) =>
    h("label", { class: "check" }, h("input", { type: "radio", name: "disp-status", value, id: `disp-${value}`, required: true }), label));
  const verdictErr = h("p", { class: "field-error", id: "disp-status-err", hidden: true });
  const verdict = h("fieldset", { id: "disp-status", "aria-describedby": "disp-status-err" },
    h("legend", {}, "处置结论", h("span", { class: "req", "aria-hidden": "true" }, " *")), ...choices, verdictErr);
  const reason = h("textarea", { id: "disp-reason", maxlength: 2000, required: true });
  const button = h("button", { type: "submit", id: "disp-submit" }, "提交处置");
  const out = h("div", { id: "disp-result", "aria-live": "polite" });
  const form = h("form", { class: "card", id: "disposition-form", "aria-labelledby": "disp-h", novalidate: true },
    verdict, field("处置理由", reason, { hint: "核实了什么、为何确认或排除。将写入所涉每个事项的留痕记录，不能删除。" }),
    h("div", { class: "actions" }, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    out.replaceChildren();
    const chosen = form.querySelector("input[name=disp-status]:checked");
    if (!chosen) {
      verdictErr.textContent = "请选择确认或排除。";
      verdictErr.hidden = false;
      choices[0].querySelector("input").focus();
      return;
    }
    if (!reason.value.trim()) { markField(reason, "请填写处置理由。"); return; }
    const done = busy(button, "正在提交…");
    try {
      const changed = await postJson(`/v1/supervision/alerts/${encodeURIComponent(alert.id)}/disposition`,
        { status: chosen.value, reason: reason.value.trim() });
      await onDone(changed);
    } catch (error) {
      let text = error.message;
      if (error.status === 409) text = "这条预警已由他人处置（可能同事刚刚处置过），您的处置没有保存。请刷新页面，看过最新结论后再决定。";
      else if (error.status === 422 && /reason/.test(error.detail)) {
        text = "处置理由不符合要求（不能为空，最多 2000 字），没有保存。";
        markField(reason, text);
      } else if (error.status === 404) text = "找不到这条预警，没有保存。";
      out.replaceChildren(h("div", { class: "error", role: "alert" }, `处置未成功（${error.status || "网络"}）：${text}`));
      done();
    }
  });
  return form;
}

async function detail(root, ctx) {
  let id;
  try { id = decodeURIComponent(ctx.id); } catch { id = ctx.id; }
  const rule = id.split(":")[0];
  root.append(h("h1", {}, RULES[rule] ? `「${RULES[rule]}」预警` : "诚信预警"), subnav(false),
    h("p", {}, h("a", { href: "#/alerts" }, "返回预警列表")));
  const box = h("div");
  root.append(box);
  const mayDispose = (ctx.me?.roles || []).includes("discipline");
  await load(box, {
    fetch: async () => {
      const data = await getJson(`/v1/supervision/alerts${RULES[rule] ? `?rule=${rule}` : ""}`);
      return data.items.find((a) => a.id === id) || null;
    },
    render: async (area, alert) => {
      if (!alert) { area.append(h("p", { class: "error", role: "alert", id: "no-alert" }, "找不到这条预警，可能链接不完整。")); return; }
      const draw = async (current, notice) => {
        const look = lookups();
        const first = await Promise.all(current.matter_ids.slice(0, PAGE).map((m) => look.matter(m)));
        const villages = await look.villages;
        const matters = h("ul", { class: "alert-matters", id: "alert-matters" },
          ...current.matter_ids.slice(0, PAGE).map((m, i) => matterItem(m, first[i], villages)));
        const more = h("button", { type: "button", class: "secondary", id: "alert-matters-more", hidden: current.matter_ids.length <= PAGE }, "显示更多事项");
        let drawn = Math.min(PAGE, current.matter_ids.length);
        more.addEventListener("click", async () => {
          const done = busy(more, "正在加载…");
          const ids = current.matter_ids.slice(drawn, drawn + PAGE);
          const read = await Promise.all(ids.map((m) => look.matter(m)));
          matters.append(...ids.map((m, i) => matterItem(m, read[i], villages)));
          drawn += ids.length;
          done();
          more.hidden = drawn >= current.matter_ids.length;
        });
        const sections = [
          notice,
          h("div", { class: "card", "data-alert": current.id },
            h("p", { class: "row" }, h("strong", {}, "状态"), chip(current.status, ALERT_STATUS[current.status] || current.status)),
            h("dl", { class: "fields" },
              h("dt", {}, "规则"), h("dd", {}, RULES[current.rule] || "其他预警"),
              h("dt", {}, "村"), h("dd", {}, await villageOf(current, look, first)),
              h("dt", {}, "发现于"), h("dd", {}, when(current.raised_at))),
            h("p", { class: "hint" }, RULE_MEANS[current.rule] || "")),
          h("section", { "aria-labelledby": "evidence-h" }, h("h2", { id: "evidence-h" }, "依据"), ...(await explain(current, look, first))),
          h("section", { "aria-labelledby": "matters-h" }, h("h2", { id: "matters-h" }, `所涉事项（${current.matter_ids.length} 项）`),
            matters, h("div", { class: "actions" }, more)),
          h("section", { "aria-labelledby": "disp-h" }, h("h2", { id: "disp-h" }, "处置"),
            (await dispositionLine(current.disposition)) || h("p", { class: "meta" }, "尚未处置。"),
            current.status === "open" && mayDispose
              ? dispositionForm(current, async (changed) => draw(changed, h("p", { class: "success", role: "status", id: "disp-done" },
                `已${changed.status === "confirmed" ? "确认" : "排除"}这条预警，处置理由已写入 ${changed.matter_ids.length} 个事项的留痕记录。`)))
              : null,
            current.status === "open" && !mayDispose ? h("p", { class: "notice" }, "由镇纪委核实处置；您可以查看。") : null),
        ];
        area.replaceChildren(...sections.filter(Boolean));
      };
      await draw(alert, null);
    },
  });
}

/** The supervision board's line about alerts: how many wait for a disposition, by rule, and the way there. */
export async function openAlerts(area) {
  await load(area, {
    fetch: () => getJson("/v1/supervision/alerts?status=open"),
    render: (out, data) => {
      const counts = {};
      for (const a of data.items) counts[a.rule] = (counts[a.rule] || 0) + 1;
      const parts = Object.entries(counts).map(([r, n]) => `${RULES[r] || "其他"} ${n} 条`);
      out.append(
        h("p", { class: data.items.length ? "holder" : "meta", id: "open-alerts" },
          data.items.length ? `待处置的诚信预警 ${data.items.length} 条：${parts.join("，")}。` : "没有待处置的诚信预警。"),
        h("p", {}, h("a", { href: "#/alerts" }, "查看诚信预警")));
    },
  });
}

export async function render(root, ctx) {
  if (ctx.id) await detail(root, ctx);
  else await board(root, ctx);
}
