// Anyone: check a sealed document — by approval number + document digest (typed, or from a link such as
// a QR code: #/verify?n=...&d=...), or by uploading the PDF. No sign-in needed.
import { request } from "../api.js";
import { busy, h, message, nameOf, when } from "../ui.js";

function verdict(result) {
  return result.valid
    ? h("p", { class: "success", id: "verdict" }, h("span", { class: "valid" }, "✓ 真实有效"), result.approval_number ? `：审批编号 ${result.approval_number}` : "")
    : h("p", { class: "error", id: "verdict" }, h("span", { class: "invalid" }, "✗ 无效"), `：${result.reason || "未通过核验"}`);
}

async function numberResult(result) {
  // Signed in, the signers' names; for anyone else (a public check) only what was done at which stage.
  const who = await Promise.all((result.acts || []).map((a) => (a.kind === "seal" ? "" : nameOf(a.actor_id, ""))));
  return h("div", {}, verdict(result),
    result.acts?.length ? h("ol", {}, ...result.acts.map((a, i) => h("li", {},
      [a.kind === "seal" ? "加盖印章" : "电子签名", `第${a.stage}环节`, who[i], when(a.signed_at)].filter(Boolean).join(" · ")))) : null);
}

function pdfResult(result) {
  return h("div", {}, verdict(result),
    h("p", { class: "meta" }, `${result.sealed ? "已盖章" : "未盖章"} · ${result.latest ? "最新版本" : "不是最新版本"}${result.changed_after_last_signature ? " · 最后签名后被修改过" : ""}`),
    h("ol", {}, ...(result.signatures || []).map((s) => h("li", {},
      `${s.role || (s.kind === "certification" ? "平台认证" : s.kind)} · ${s.signer || s.signer_subject} · `,
      h("span", { class: s.valid && s.intact && s.trusted ? "valid" : "invalid" }, s.valid && s.intact && s.trusted ? "有效" : "无效")))),
    ...(result.seals || []).map((s) => h("p", {}, `印章：${s.name}（${s.within_validity ? "在有效期内" : "不在有效期内"}）`)),
    h("p", {}, h("a", { href: "/v1/trust/roots", download: "sealflow-roots.pem" }, "下载根证书（用其他 PDF 阅读器核验）")));
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "核验盖章文件"));

  const number = h("input", { id: "approval", name: "approval", type: "text", required: true, autocomplete: "off" });
  number.value = ctx.params.get("n") || "";
  const digest = h("input", { id: "digest", name: "digest", type: "text", required: true, autocomplete: "off", "aria-describedby": "digest-hint" });
  digest.value = ctx.params.get("d") || "";
  const out1 = h("div", { "aria-live": "polite" });
  const b1 = h("button", { type: "submit", id: "verify-number" }, "核验");
  const byNumber = h("form", { class: "card" }, h("h2", {}, "按审批编号"),
    h("label", { for: "approval" }, "审批编号"), number,
    h("label", { for: "digest" }, "文件摘要（SHA-256）"), digest, h("p", { class: "hint", id: "digest-hint" }, "64 位十六进制，印在文件上或由二维码带入"),
    h("div", { class: "actions" }, b1), out1);
  byNumber.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!/^[0-9a-fA-F]{64}$/.test(digest.value.trim())) { out1.replaceChildren(message("error", "文件摘要应为 64 位十六进制。")); return; }
    const done = busy(b1, "正在核验…");
    try {
      const response = await request("POST", "/v1/verify", { json: { approval_number: number.value.trim(), digest: digest.value.trim() }, auth: false });
      out1.replaceChildren(await numberResult(await response.json()));
    } catch (error) {
      out1.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });

  const file = h("input", { id: "pdf", name: "file", type: "file", accept: "application/pdf,.pdf", required: true });
  const out2 = h("div", { "aria-live": "polite" });
  const b2 = h("button", { type: "submit", id: "verify-pdf" }, "上传并核验");
  const byPdf = h("form", { class: "card" }, h("h2", {}, "上传 PDF"), h("label", { for: "pdf" }, "盖章的 PDF 文件"), file,
    h("div", { class: "actions" }, b2), out2);
  byPdf.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) { out2.replaceChildren(message("error", "请先选择 PDF 文件。")); return; }
    const done = busy(b2, "正在核验…");
    try {
      const form = new FormData();
      form.append("file", file.files[0]);
      const response = await request("POST", "/v1/verify", { form, auth: false });
      out2.replaceChildren(pdfResult(await response.json()));
    } catch (error) {
      out2.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  });
  root.append(byNumber, byPdf);
}
