// A matter's audit trail (留痕), in order, with the server's re-check of the hash chain. Each entry shows the
// server's Chinese `label` (who did what, by name); the type's short name heads it.
import { getJson } from "../api.js";
import { h, load, namesOf, when } from "../ui.js";

const TYPES = {
  "matter.submitted": "提交申请",
  "stage.opened": "环节开始",
  "stage.completed": "环节完成",
  "decision.approve": "同意",
  "decision.return": "退回",
  "decision.reject": "终止",
  "seal.requested": "请求盖章",
  "approval.requested": "申请审批编号",
  "deadline.set": "设定时限",
  "signature.applied": "电子签名",
  "seal.applied": "加盖电子印章",
  "seal.refused": "拒绝盖章",
  "matter.completed": "办结",
  "approval.registered": "登记审批编号",
  "sla.reminder": "签批提醒",
  "sla.overdue": "超时",
  "sla.escalated": "升级督办",
  "supervision.urged": "纪委督办",
  "alert.disposed": "处置诚信预警",
};

export async function render(root, ctx) {
  root.append(h("h1", {}, "留痕记录"), h("p", {}, h("a", { href: `#/matter/${ctx.id}` }, "返回事项")));
  const box = h("div");
  root.append(box);
  await load(box, {
    fetch: () => getJson(`/v1/matters/${encodeURIComponent(ctx.id)}/trail`),
    render: async (area, trail) => {
      const actors = await namesOf([...new Set(trail.entries.map((e) => e.actor_id).filter(Boolean))]);
      const byId = Object.fromEntries([...new Set(trail.entries.map((e) => e.actor_id).filter(Boolean))].map((id, i) => [id, actors[i]]));
      area.append(
        trail.chain_valid
          ? h("p", { class: "success", id: "chain" }, h("span", { class: "valid" }, "✓ 链完整"), `：${trail.entries.length} 条记录的哈希链校验通过，未被篡改。`)
          : h("p", { class: "error", id: "chain" }, h("span", { class: "invalid" }, "✗ 链校验失败"), "：记录可能被篡改，请报告镇纪委。"),
        h("ol", { class: "trail" }, ...trail.entries.map((e) => h("li", {},
          h("p", { class: "row" }, h("strong", {}, `${e.seq}. ${TYPES[e.type] || "记录"}`), h("span", { class: "meta" }, when(e.at))),
          e.label ? h("p", { class: "trail-label" }, e.label) : null, // the server's sentence, with names
          e.actor_id && !(e.label || "").includes(byId[e.actor_id]) ? h("p", { class: "meta" }, byId[e.actor_id]) : null,
          h("p", { class: "mono" }, `hash ${e.hash.slice(0, 16)}… ← ${e.prev_hash ? `${e.prev_hash.slice(0, 16)}…` : "（首条）"}`),
        ))),
      );
    },
  });
}
