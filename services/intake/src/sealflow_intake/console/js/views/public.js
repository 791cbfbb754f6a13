// 村务公开: the page a sealed form's QR code opens (#/public/<approval number>). Anyone may read it, signed
// in or not: village, matter type, title, amount, completion time, each stage's office and when it signed,
// the seals, and whether the approval checks out. The server gives no names, ids, comments or attachments.
import { ApiError, request } from "../api.js";
import { h, message, yuan } from "../ui.js";

const FULL = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
});
const at = (iso) => (iso ? FULL.format(new Date(iso)) : "—");

function verdict(page) {
  return page.valid
    ? h("p", { class: "success public-verdict", id: "public-verdict" }, h("span", { class: "valid" }, "✓ 真实有效"),
      "：这份审批已全部签批完成并盖章，记录未被改动。")
    : h("p", { class: "error public-verdict", id: "public-verdict" }, h("span", { class: "invalid" }, "✗ 核验未通过"),
      `：${page.reason || "这份审批的记录与签批平台不一致。"}请向镇纪委反映。`);
}

function show(root, page) {
  root.append(
    verdict(page),
    h("dl", { class: "fields card public", id: "public-facts" },
      h("dt", {}, "审批编号"), h("dd", {}, page.approval_number),
      h("dt", {}, "村"), h("dd", {}, page.village_name || "—"),
      h("dt", {}, "事项类型"), h("dd", {}, page.matter_type_name || "—"),
      h("dt", {}, "事项"), h("dd", {}, page.title),
      h("dt", {}, "金额"), h("dd", {}, Number.isInteger(page.amount_fen) ? yuan(page.amount_fen) : "—"),
      h("dt", {}, "办结时间"), h("dd", {}, at(page.completed_at))),
    h("h2", {}, "签批过程"),
    h("ol", { class: "stamps", id: "public-stages" }, ...(page.stages || []).map((s) => h("li", {},
      h("strong", {}, `第${s.number}环节 ${s.office}`), h("br"), h("span", { class: "meta" }, `签批完成：${at(s.signed_at)}`)))),
    h("h2", {}, "加盖的印章"),
    (page.seals || []).length
      ? h("ul", { class: "stamps", id: "public-seals" }, ...page.seals.map((s) => h("li", {},
        h("strong", {}, s.name), h("br"), h("span", { class: "meta" }, `第${s.stage}环节完成后加盖 · ${at(s.applied_at)}`))))
      : h("p", { class: "meta" }, "无印章记录。"),
    h("p", { class: "meta" }, "本页只公开事项和签批环节，不公开个人信息、意见和附件。时间为北京时间。"),
  );
}

async function fetchPage(root, number) {
  const status = h("p", { class: "loading", role: "status" }, "正在核验…");
  const box = h("div");
  root.append(status, box);
  try {
    // No token even when signed in: the page shows only what the public sees.
    const response = await request("GET", `/v1/public/approvals/${encodeURIComponent(number)}`, { auth: false });
    status.remove();
    show(box, await response.json());
  } catch (error) {
    status.remove();
    const retry = h("button", { type: "button", class: "secondary", onclick: () => { root.replaceChildren(); render(root, { id: encodeURIComponent(number) }); } }, "重试");
    let text = error.message;
    if (error instanceof ApiError && error.status === 404) {
      text = `查无审批编号 ${number}：请核对编号；只有全部签批完成并盖章的事项才能在这里查到。`;
    } else if (error instanceof ApiError && error.status === 429) {
      text = `查询太频繁，请 ${error.retryAfter || 60} 秒后再试。`;
    }
    box.append(message("error", text), h("div", { class: "actions" }, retry));
  }
}

export async function render(root, ctx) {
  let number = "";
  try { number = decodeURIComponent(ctx.id || "").trim(); } catch { number = ctx.id || ""; }
  root.append(h("h1", {}, "村务公开 · 审批核验"), h("p", { class: "meta" }, `审批编号 ${number}`));
  await fetchPage(root, number);
  root.append(h("p", {}, h("a", { href: "#/verify" }, "手上有盖章的 PDF？上传核验")));
}
