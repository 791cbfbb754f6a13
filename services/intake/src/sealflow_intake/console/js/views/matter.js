// One matter: the route as a progress line (who holds it, until when), the form and attachments, the PDF,
// and what the caller may do now — sign (approve / return / reject with a comment), or as the applicant
// revise a returned matter or withdraw. Buttons appear only when the matter's state says they apply.
import { ApiError, blobUrl, getJson, postJson, request } from "../api.js";
import { showValue } from "../forms.js";
import { matterTypes, villageNames } from "../town.js";
import { DECISION, MODE, STAGE_STATUS, STATUS, busy, chip, h, load, message, namesOf, when, yuan } from "../ui.js";

const UNSUPPORTED = {
  return: "服务器暂不支持退回（该功能尚未上线），如需退回请联系申请人。",
};

// The stages where it is the caller's turn: open, undecided, and in a sequence the first undecided.
// Who holds an open stage is routing's answer (`waiting_on`: transfers, stand-ins and cancelled places
// counted); a matter stored before routing published it falls back to the undecided places.
function waitingOn(stage) {
  if (Array.isArray(stage.waiting_on)) return stage.waiting_on;
  const undecided = stage.assignees.filter((a) => a.decision === null && !a.cancelled_at).map((a) => a.person_id);
  return stage.mode === "sequence" ? undecided.slice(0, 1) : undecided;
}

function myOpenStage(matter, me) {
  if (matter.status !== "in_review") return null;
  return matter.stages.find((s) => s.status === "open" && waitingOn(s).includes(me.id)) || null;
}

async function holdersOf(stage) {
  return namesOf(waitingOn(stage));
}

async function routeLine(matter) {
  const items = [];
  for (const stage of matter.stages) {
    const names = await namesOf(stage.assignees.map((a) => a.person_id));
    const late = stage.status === "open" && stage.overdue;
    items.push(h("li", { class: `${stage.status}${late ? " late" : ""}`, "aria-current": stage.status === "open" ? "step" : null },
      h("h3", {}, `${stage.number}. ${stage.name} `, chip(stage.status, STAGE_STATUS[stage.status] || stage.status)),
      h("p", { class: late ? "meta overdue" : "meta" }, `${MODE[stage.mode] || stage.mode} · 截止 ${when(stage.deadline)}${late ? " · 已超时" : ""}${stage.seal_id ? " · 完成后盖章" : ""}`),
      h("ul", { class: "who-signs" }, ...stage.assignees.map((a, i) => h("li", {},
        `${names[i]}：`,
        a.decision ? h("span", { class: a.decision === "approve" ? "valid" : "invalid" }, DECISION[a.decision]) : h("span", { class: "meta" }, "待签"),
        a.decided_at ? h("span", { class: "meta" }, ` ${when(a.decided_at)}`) : null,
        a.comment ? h("span", { class: "meta" }, ` “${a.comment}”`) : null,
      ))),
    ));
  }
  return h("ol", { class: "route", "aria-label": "签批进度" }, ...items);
}

async function summary(matter) {
  const open = matter.stages.find((s) => s.status === "open");
  if (matter.status === "completed") return h("p", { class: "success" }, `已办结，审批编号 ${matter.approval_number || "（生成中）"}`);
  if (matter.status !== "in_review") return h("p", { class: "error" }, `${STATUS[matter.status]}`);
  if (!open) return h("p", { class: "notice" }, "正在流转到下一环节…");
  const who = (await holdersOf(open)).join("、");
  return h("p", { class: open.overdue ? "holder overdue" : "holder" }, `现在由 ${who} 签批（第${open.number}环节「${open.name}」），截止 ${when(open.deadline)}${open.overdue ? "，已超时" : ""}`);
}

function pdfSection(matter) {
  const area = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary", id: "show-pdf" }, matter.status === "completed" ? "查看盖章文件（PDF）" : "预览表单（PDF）");
  button.addEventListener("click", async () => {
    const done = busy(button, "正在下载…");
    try {
      const response = await request("GET", `/v1/matters/${matter.id}/document`);
      const sealed = response.headers.get("X-Sealflow-Sealed") === "true";
      const url = URL.createObjectURL(await response.blob());
      const name = `${matter.approval_number || matter.id}.pdf`;
      area.replaceChildren(
        h("p", { class: sealed ? "success" : "notice" }, sealed ? `已盖章 · ${response.headers.get("X-Sealflow-Signatures")} 个签名` : "尚未盖章（审批中的表单）"),
        h("p", { class: "row" }, h("a", { class: "button secondary", href: url, download: name, id: "download-pdf" }, "下载 PDF"),
          h("a", { href: url, target: "_blank", rel: "noopener" }, "在新窗口打开")),
        h("iframe", { class: "pdf", src: url, title: "表单 PDF 预览" }),
      );
    } catch (error) {
      area.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  return h("section", { "aria-labelledby": "pdf-h" }, h("h2", { id: "pdf-h" }, "文件"), button, area);
}

// Attachments: the API serves them only with the bearer token, so each is fetched and shown from a blob:
// URL — images as thumbnails (tap to enlarge), PDFs opened in a new tab (and previewed on a wide screen),
// anything else downloaded under its own name.
const IMAGE = /^image\/(png|jpeg|gif|webp)$/;
const size = (bytes) => (bytes < 1024 ? `${bytes} 字节` : bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

function enlarge(url, name) {
  const close = h("button", { type: "button", class: "secondary", id: "lightbox-close" }, "关闭");
  const dialog = h("dialog", { class: "lightbox", id: "lightbox", "aria-label": `附件图片：${name}` },
    h("img", { src: url, alt: name }), h("p", { class: "row" }, h("span", { class: "meta" }, name), close));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); }); // a tap beside the picture
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

function attachmentItem(matter, a, index) {
  const path = `/v1/matters/${encodeURIComponent(matter.id)}/attachments/${index}`;
  const out = h("div", { "aria-live": "polite" });
  const item = h("li", { class: "card attachment", id: `att-${index}` },
    h("p", {}, h("strong", {}, a.filename), h("span", { class: "meta" }, ` ${size(a.size)}`)));
  let fetched = null; // one download per page, whatever is tapped
  const get = () => (fetched ||= blobUrl(path).catch((error) => { fetched = null; throw error; }));
  if (IMAGE.test(a.content_type)) {
    const thumb = h("button", { type: "button", class: "thumb", "aria-label": `放大查看图片 ${a.filename}` }, h("span", { class: "meta" }, "正在加载图片…"));
    thumb.addEventListener("click", async () => {
      try { enlarge((await get())[0], a.filename); } catch (error) { out.replaceChildren(message("error", error.message)); }
    });
    get().then(([url]) => thumb.replaceChildren(h("img", { src: url, alt: a.filename })))
      .catch((error) => { thumb.replaceChildren(h("span", { class: "meta" }, "图片未能加载，点此重试")); out.replaceChildren(message("error", error.message)); });
    item.append(thumb, h("p", { class: "hint" }, "点图片放大"), out);
    return item;
  }
  const pdf = a.content_type === "application/pdf";
  const button = h("button", { type: "button", class: "secondary", id: `att-${index}-open` }, pdf ? "打开 PDF" : "下载");
  button.addEventListener("click", async () => {
    const done = busy(button, "正在下载…");
    try {
      const [url] = await get();
      if (pdf) {
        out.replaceChildren(
          h("p", { class: "row" }, h("a", { class: "button", href: url, target: "_blank", rel: "noopener", id: `att-${index}-tab` }, "在新窗口打开"),
            h("a", { class: "button secondary", href: url, download: a.filename }, "下载")),
          h("iframe", { class: "pdf", src: url, title: `附件 ${a.filename}` }));
      } else {
        const link = h("a", { href: url, download: a.filename, id: `att-${index}-file` }, `已下载：${a.filename}（如未自动保存，点此）`);
        out.replaceChildren(h("p", {}, link));
        link.click();
      }
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  item.append(h("p", { class: "row" }, button), out);
  return item;
}

function attachmentList(matter) {
  const list = matter.attachments || [];
  if (!list.length) return h("p", { class: "meta" }, "无附件");
  return h("ul", { class: "list attachments", id: "attachments" }, ...list.map((a, i) => attachmentItem(matter, a, i)));
}

function decisionForm(matter, stage, onDone) {
  const comment = h("textarea", { id: "comment", name: "comment", maxlength: 2000, "aria-describedby": "comment-hint" });
  const out = h("div", { "aria-live": "polite" });
  const decide = (decision) => async (event) => {
    const button = event.currentTarget;
    if (decision !== "approve" && !comment.value.trim()) {
      out.replaceChildren(message("error", `${DECISION[decision]}必须填写理由。`));
      comment.focus();
      return;
    }
    const done = busy(button, "正在提交…");
    try {
      const updated = await postJson(`/v1/matters/${matter.id}/decisions`, {
        stage: stage.number, decision, comment: comment.value.trim(), digest: matter.digest,
      });
      onDone(updated, `已${DECISION[decision]}，签名已提交。`);
    } catch (error) {
      const text = decision === "return" && error instanceof ApiError && error.unsupported ? UNSUPPORTED.return : error.message;
      out.replaceChildren(message("error", text));
      done();
    }
  };
  const buttons = [h("button", { type: "button", id: "approve", onclick: decide("approve") }, "同意")];
  buttons.push(h("button", { type: "button", id: "return", class: "secondary", onclick: decide("return") }, "退回"));
  buttons.push(h("button", { type: "button", id: "reject", class: "danger", onclick: decide("reject") }, "终止"));
  return h("section", { class: "card", "aria-labelledby": "sign-h" },
    h("h2", { id: "sign-h" }, `请您签批：第${stage.number}环节「${stage.name}」`),
    h("label", { for: "comment" }, "签批意见"), comment,
    h("p", { class: "hint", id: "comment-hint" }, "同意可不填；退回或终止须写明理由。"),
    h("div", { class: "actions" }, ...buttons), out);
}

// 转办: hand this task to someone holding the same office (a deputy), with a reason; both are told. The
// people offered are those who may stand in for the caller (GET /v1/absences/stand-ins), loaded when opened.
function transferForm(matter, stage, onDone) {
  const body = h("div");
  const panel = h("details", { class: "card", id: "transfer" }, h("summary", {}, "转办给他人"), body);
  let opened = false;
  panel.addEventListener("toggle", () => {
    if (!panel.open || opened) return;
    opened = true;
    load(body, {
      fetch: () => getJson("/v1/absences/stand-ins"),
      render: (area, data) => {
        if (!data.items.length) {
          area.append(h("p", { class: "notice" }, "名录中没有与您职务相同的人可以接办。请联系镇管理员。"));
          return;
        }
        const to = h("select", { id: "transfer-to" }, ...data.items.map((p) => h("option", { value: p.id }, p.name)));
        const reason = h("input", { id: "transfer-reason", type: "text", maxlength: 200, placeholder: "例如 出差一周" });
        const button = h("button", { type: "button", id: "transfer-submit", class: "secondary" }, "转办");
        const out = h("div", { "aria-live": "polite" });
        button.addEventListener("click", async () => {
          if (!reason.value.trim()) { out.replaceChildren(message("error", "转办必须填写理由。")); reason.focus(); return; }
          const done = busy(button, "正在转办…");
          try {
            const updated = await postJson(`/v1/matters/${matter.id}/transfers`, { stage: stage.number, to_person_id: to.value, reason: reason.value.trim() });
            onDone(updated, `已转办给 ${to.selectedOptions[0].textContent}，对方会收到通知。`);
          } catch (error) {
            out.replaceChildren(message("error", error.message));
            done();
          }
        });
        area.append(h("label", { for: "transfer-to" }, "接办人"), to, h("label", { for: "transfer-reason" }, "理由"), reason,
          h("div", { class: "actions" }, button), out);
      },
    });
  });
  return panel;
}

async function notYourTurn(matter, me) {
  const mine = matter.stages.filter((s) => s.assignees.some((a) => a.person_id === me.id));
  if (!mine.length || matter.status !== "in_review") return null;
  const decided = mine.every((s) => s.assignees.find((a) => a.person_id === me.id).decision);
  if (decided) return h("p", { class: "notice", id: "turn" }, "您已签批，无需再操作。");
  const open = matter.stages.find((s) => s.status === "open");
  const who = open ? (await holdersOf(open)).join("、") : "";
  const yours = mine.find((s) => s.status === "waiting") || mine[0];
  return h("p", { class: "notice", id: "turn" },
    `还没轮到您签批：您在第${yours.number}环节「${yours.name}」。${open ? `现在由 ${who} 签批第${open.number}环节「${open.name}」。` : ""}轮到您时会通知您。`);
}

function applicantActions(matter, rerender) {
  const out = h("div", { "aria-live": "polite" });
  const actions = h("div", { class: "actions" });
  if (matter.status === "returned") actions.append(h("a", { class: "button", href: `#/new?revise=${matter.id}`, id: "revise" }, "修改后重新提交"));
  if (matter.status === "in_review") {
    const withdraw = h("button", { type: "button", class: "danger", id: "withdraw" }, "撤回申请");
    withdraw.addEventListener("click", async () => {
      if (!confirm("确定撤回这份申请吗？撤回后签批终止。")) return;
      const done = busy(withdraw, "正在撤回…");
      try {
        rerender(await postJson(`/v1/matters/${matter.id}/withdraw`, {}), "已撤回。");
      } catch (error) {
        out.replaceChildren(message("error", error.message));
        done();
      }
    });
    actions.append(withdraw);
  }
  return actions.children.length ? h("section", {}, h("h2", {}, "申请人操作"), actions, out) : null;
}

async function draw(root, matter, ctx, flash) {
  const me = ctx.me;
  const rerender = (updated, text) => { root.replaceChildren(); draw(root, updated, ctx, text); };
  const stage = myOpenStage(matter, me);
  const fields = Object.entries(matter.fields || {});
  const [villages, types] = await Promise.all([villageNames(), matterTypes().catch(() => [])]);
  const type = types.find((t) => t.id === matter.matter_type);
  const order = matter.form?.fields || type?.form?.fields || [];
  const specs = Object.fromEntries(order.map((spec) => [spec.key, spec]));
  const rank = (key) => { const i = order.findIndex((spec) => spec.key === key); return i < 0 ? order.length : i; };
  fields.sort(([a], [b]) => rank(a) - rank(b)); // in the form's order
  root.append(h("div", {},
    h("h1", {}, matter.title),
    flash ? message("success", flash) : null,
    h("p", { class: "row" }, chip(matter.status, STATUS[matter.status] || matter.status),
      h("span", { class: "meta" }, `${villages[matter.village_id] || ""} · ${type?.name || "其他事项"} · ${yuan(matter.amount_fen)}`)),
    await summary(matter),
    stage ? decisionForm(matter, stage, rerender) : await notYourTurn(matter, me),
    stage ? transferForm(matter, stage, rerender) : null,
    matter.applicant_id === me.id ? applicantActions(matter, rerender) : null,
    h("h2", {}, "签批进度"), await routeLine(matter),
    h("h2", {}, "表单内容"),
    h("dl", { class: "fields card" }, ...fields.flatMap(([k, v]) => [h("dt", {}, specs[k]?.label || k), h("dd", {}, showValue(specs[k], v))]),
      h("dt", {}, "第几版"), h("dd", {}, String(matter.revision)),
      h("dt", {}, "文件摘要"), h("dd", { class: "mono" }, matter.digest)),
    h("h2", {}, "附件"),
    attachmentList(matter),
    pdfSection(matter),
    h("h2", {}, "更多"),
    h("p", { class: "row" },
      h("a", { href: `#/trail/${matter.id}` }, "查看留痕记录"),
      matter.approval_number ? h("a", { href: `#/verify?n=${encodeURIComponent(matter.approval_number)}&d=${matter.digest}`, id: "verify-link" }, "核验审批编号") : null,
      h("button", { type: "button", class: "secondary", onclick: () => rerenderFresh(root, matter.id, ctx) }, "刷新")),
  ));
}

async function rerenderFresh(root, id, ctx) {
  root.replaceChildren(h("p", { class: "loading", role: "status" }, "正在加载…"));
  try {
    const matter = await getJson(`/v1/matters/${encodeURIComponent(id)}`);
    root.replaceChildren();
    await draw(root, matter, ctx);
  } catch (error) {
    root.replaceChildren(h("h1", {}, "事项"), message("error", error.message),
      h("button", { type: "button", onclick: () => rerenderFresh(root, id, ctx) }, "重试"));
  }
}

export async function render(root, ctx) {
  await rerenderFresh(root, ctx.id, ctx);
}
