// 管理留痕: every administration change, newest first — who, when, what, and before → after — with the
// server's re-check of the hash chain.
import { adminHeader, stableJson, townData } from "../admin-kit.js";
import { getJson } from "../api.js";
import { h, load, when } from "../ui.js";

const TYPES = {
  "village.added": "新增村", "village.changed": "修改村", "village.deactivated": "停用村", "village.reactivated": "重新启用村",
  "person.added": "新增人员", "person.changed": "修改人员", "person.deactivated": "停用人员", "person.reactivated": "重新启用人员",
  "matter_type.added": "新建事项类型", "matter_type.changed": "修改事项类型",
  "policy.replaced": "保存签批规则", "directory.replaced": "整体替换组织名录",
  "seal.created": "新建印章", "seal.renewed": "印章续期", "seal.revoked": "吊销印章",
};
const PAGE = 30;
const FIELDS = {
  name: "名称", title: "标题", active: "状态", liaison_cadre: "联村干部", liaison_leader: "联村领导", village_id: "所属",
  roles: "职务", phone: "手机", email: "邮箱", form: "表单", stages: "签批环节", thresholds: "金额门槛", domain: "分管领域",
  holder: "持有单位", allowed_roles: "触发用印职务", valid_from: "生效", valid_to: "到期", status: "状态", revoked_reason: "吊销理由",
  working: "这一天", note: "说明", subscriber: "通知谁", channel: "渠道", target: "地址", kinds: "通知种类", coop_seal: "印章",
  reason: "理由", revoked_at: "吊销时间", allow_same_person_in_two_slots: "一人占两个位置",
};
const DAY = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
const SEAL_STATUS = { active: "有效", revoked: "已吊销", expired: "已过期", not_yet_valid: "未生效" };
const PEOPLE_FIELDS = new Set(["liaison_cadre", "liaison_leader", "subscriber", "person_id", "principal"]);

/** A stored value as a person reads it: names for people, villages and roles, 是/否 for flags. */
function show(key, value, town) {
  if (value === null || value === undefined || value === "") return "（空）";
  if (PEOPLE_FIELDS.has(key)) return town.personName[value] || "（名录外人员）";
  if (key === "village_id" || key === "holder") return town.villageName[value] || (key === "village_id" ? "（未知的村）" : "镇");
  if (key === "roles" || key === "allowed_roles") return (value || []).map((r) => town.roleName[r] || "其他职务").join("、") || "（无）";
  if (key === "valid_from" || key === "valid_to" || key === "revoked_at") return DAY.format(new Date(value));
  if (key === "status") return SEAL_STATUS[value] || "其他状态";
  if (key === "active") return value ? "启用" : "停用";
  if (key === "working") return value ? "上班" : "放假";
  if (typeof value === "boolean") return value ? "是" : "否";
  if (key === "form") return `${value.fields?.length ?? 0} 个字段：${(value.fields || []).map((f) => f.label).join("、")}`;
  if (key === "stages") return `${value.length} 个环节：${value.map((st) => st.name).join(" → ")}`;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** before → after as the fields that changed (one line each); a creation lists what it set. */
function change(data, town) {
  const before = data?.before, after = data?.after;
  const obj = (v) => v && typeof v === "object" && !Array.isArray(v);
  if (obj(after) || obj(before)) {
    const b = obj(before) ? before : {}, a = obj(after) ? after : {};
    const changed = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => stableJson(b[k]) !== stableJson(a[k]));
    // What a person reads; keys, certificates and the like are counted, not shown.
    const keys = changed.filter((k) => FIELDS[k]);
    const other = changed.filter((k) => !FIELDS[k] && !["version", "id", "_id"].includes(k)).length;
    if (!keys.length) return h("p", { class: "meta" }, other ? `其他 ${other} 项内容有变化。` : "内容没有变化。");
    return h("dl", { class: "fields change" }, ...keys.flatMap((k) => {
      const [was, now] = [show(k, b[k], town), show(k, a[k], town)];
      return [h("dt", {}, FIELDS[k] || k), h("dd", {}, obj(before) ? h("del", {}, was) : null, obj(before) ? " → " : null, h("ins", {}, now),
        obj(before) && was === now ? "（其中的设置有改动）" : null)];
    }),
      other ? [h("dt", {}, "其他"), h("dd", {}, `${other} 项`)] : []);
  }
  return h("details", {}, h("summary", {}, "记录内容"), h("pre", { class: "mono wrap" }, stableJson(data || {})));
}

export async function render(root) {
  adminHeader(root, "#/admin/trail", "管理留痕", "每一次管理修改都记在这条哈希链上：谁、何时、改了什么（改前 → 改后），不能删除或改写。");
  const box = h("div");
  root.append(box);
  await load(box, {
    fetch: async () => ({ trail: await getJson("/v1/admin/trail"), town: await townData() }),
    render: async (area, { trail, town }) => {
      const entries = [...(trail.entries || [])].reverse();
      const names = town.personName;
      area.append(trail.chain_valid
        ? h("p", { class: "success", id: "admin-chain" }, h("span", { class: "valid" }, "✓ 链完整"), `：${entries.length} 条管理记录的哈希链校验通过。`)
        : h("p", { class: "error", id: "admin-chain" }, h("span", { class: "invalid" }, "✗ 链校验失败"), "：管理记录可能被篡改，请报告镇纪委。"));
      const list = h("ol", { class: "list trail", id: "admin-trail" });
      const more = h("button", { type: "button", class: "secondary" }, "显示更早的记录");
      let shown = 0;
      const next = () => {
        for (const e of entries.slice(shown, shown + PAGE)) {
          const what = e.data?.summary || e.data?.after?.name || e.data?.before?.name || e.data?.name || e.data?.after?.title || e.data?.title || "";
          list.append(h("li", { class: "card" },
            h("p", { class: "row" }, h("strong", {}, TYPES[e.type] || "其他管理操作"), what ? h("span", {}, `「${what}」`) : null),
            h("p", { class: "meta" }, `${when(e.at)} · ${names[e.actor_id] || "系统"}`),
            change(e.data, town)));
        }
        shown += PAGE;
        more.hidden = shown >= entries.length;
      };
      more.addEventListener("click", next);
      next();
      area.append(list, more);
    },
  });
}
