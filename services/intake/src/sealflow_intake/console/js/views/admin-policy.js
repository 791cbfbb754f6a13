// One matter type's routing policy: edited stage by stage (who signs, how, the seal, the deadline; amount
// thresholds that add stages) or as JSON; before saving, the difference from the version on the server is
// shown and must be confirmed; saved with If-Match as the next version; the version history below.
import { adminHeader, diffView, people, personSelect, save, stableJson, town } from "../admin-kit.js";
import { ApiError, getJson } from "../api.js";
import { matterTypes, roles } from "../town.js";
import { MODE, busy, fenToInput, field, h, load, message, nameOf, toFen, when } from "../ui.js";

const KINDS = {
  village_role: "本村职务", liaison_cadre: "联村干部", liaison_leader: "联村领导",
  domain_leader: "分管领导", principal: "镇主要领导", person: "指定人员",
};
const SEALS = { "": "不盖章", village_coop: "村经济联合社电子印章", town: "镇政府电子印章" };
const META = new Set(["version", "_id", "saved_at", "saved_by", "created_at", "updated_at", "recorded_at", "by", "at"]);
const strip = (policy) => Object.fromEntries(Object.entries(policy || {}).filter(([k]) => !META.has(k)));
const opened = new WeakSet(); // stages shown unfolded (a new one, or one the person opened), kept across redraws
const newStage = () => ({ name: "", mode: "any", selectors: [{ kind: "village_role", role: "secretary" }], seal: null, deadline_working_days: 1 });
let flashNext = "";

function selectorRow(selector, id, ctx, onRemove) {
  const kind = h("select", { id: `${id}-kind`, "aria-label": "签批人类别" }, ...Object.entries(KINDS).map(([k, v]) => h("option", { value: k, selected: k === selector.kind || null }, v)));
  const detail = h("span", { class: "selector-detail" });
  const drawDetail = () => {
    if (selector.kind === "village_role") {
      const role = h("select", { id: `${id}-role`, "aria-label": "本村的哪个职务" },
        ...ctx.roles.filter((r) => r.village || r.id === selector.role).map((r) => h("option", { value: r.id, selected: r.id === selector.role || null }, r.name)));
      if (!selector.role) selector.role = role.value;
      role.addEventListener("change", () => { selector.role = role.value; ctx.changed(); });
      detail.replaceChildren(role);
    } else if (selector.kind === "person") {
      const who = personSelect(`${id}-person`, ctx.people, { selected: selector.person_id });
      who.setAttribute("aria-label", "指定哪一位");
      who.addEventListener("change", () => { selector.person_id = who.value || null; ctx.changed(); });
      detail.replaceChildren(who);
    } else {
      detail.replaceChildren();
    }
  };
  kind.addEventListener("change", () => {
    selector.kind = kind.value;
    delete selector.role;
    delete selector.person_id;
    drawDetail();
    ctx.changed();
  });
  drawDetail();
  return h("li", { class: "row selector" }, kind, detail,
    h("button", { type: "button", class: "secondary small", "aria-label": "去掉这一签批人", onclick: onRemove }, "去掉"));
}

function describe(stage, ctx) {
  const who = (stage.selectors || []).map((s) => (s.kind === "village_role" ? ctx.roles.find((r) => r.id === s.role)?.name || "本村职务"
    : s.kind === "person" ? ctx.people.find((p) => p.id === s.person_id)?.name || "指定人员" : KINDS[s.kind] || "签批人")).join("、");
  return [stage.name || "（未命名）", MODE[stage.mode] || "", who, `${stage.deadline_working_days ?? "?"} 个工作日`, stage.seal ? SEALS[stage.seal] : ""].filter(Boolean).join(" · ");
}

function stageEditor(stage, id, index, count, outer, onMove) {
  const summary = h("summary", {}, `第 ${index + 1} 环节：${describe(stage, outer)}`);
  // Every change redraws this stage's one-line summary, then tells the editor.
  const ctx = { ...outer, changed: () => { summary.textContent = `第 ${index + 1} 环节：${describe(stage, outer)}`; outer.changed(); } };
  const name = h("input", { id: `${id}-name`, type: "text", required: true, maxlength: 40, value: stage.name || "" });
  const mode = h("select", { id: `${id}-mode` }, ...Object.entries(MODE).map(([k, v]) => h("option", { value: k, selected: k === stage.mode || null }, v)));
  const seal = h("select", { id: `${id}-seal` }, ...Object.entries(SEALS).map(([k, v]) => h("option", { value: k, selected: k === (stage.seal || "") || null }, v)));
  const days = h("input", { id: `${id}-days`, type: "number", min: 1, max: 60, required: true, value: stage.deadline_working_days ?? 1 });
  name.addEventListener("input", () => { stage.name = name.value.trim(); ctx.changed(); });
  mode.addEventListener("change", () => { stage.mode = mode.value; ctx.changed(); });
  seal.addEventListener("change", () => { stage.seal = seal.value || null; ctx.changed(); });
  days.addEventListener("input", () => { stage.deadline_working_days = Number(days.value); ctx.changed(); });
  const selectors = h("ul", { class: "list selectors", "aria-label": "签批人" });
  const drawSelectors = () => selectors.replaceChildren(...stage.selectors.map((s, k) => selectorRow(s, `${id}-sel-${k}`, ctx, () => {
    stage.selectors.splice(k, 1);
    drawSelectors();
    ctx.changed();
  })));
  drawSelectors();
  const addSelector = h("button", { type: "button", class: "secondary small" }, "添加签批人");
  addSelector.addEventListener("click", () => { stage.selectors.push({ kind: "liaison_cadre" }); drawSelectors(); ctx.changed(); });
  const label = () => stage.name || `第 ${index + 1} 环节`;
  const move = (by, text) => h("button", { type: "button", class: "secondary small", disabled: (by < 0 ? index === 0 : index === count - 1) || null,
    "aria-label": `${text}「${label()}」`, onclick: () => onMove(index, by) }, text);
  const box = h("details", { class: "card stage", "data-stage": id, open: opened.has(stage) || null }, summary,
    field("环节名称", name, { hint: "例如 村两委会签" }),
    field("签批方式", mode, { hint: "会签：每人都签；或签：一人签即可；依次签：按顺序每人签" }),
    h("p", { class: "label" }, "签批人"), selectors, h("div", { class: "actions" }, addSelector),
    field("本环节完成后盖章", seal),
    field("时限（工作日）", days),
    h("div", { class: "actions" }, move(-1, "上移"), move(1, "下移"),
      h("button", { type: "button", class: "danger small", "aria-label": `删除「${label()}」`, onclick: () => onMove(index, 0) }, "删除环节")));
  box.addEventListener("toggle", () => (box.open ? opened.add(stage) : opened.delete(stage)));
  return box;
}

function stagesEditor(stages, prefix, ctx) {
  const box = h("div", { class: "stages" });
  const draw = () => {
    box.replaceChildren(...stages.map((stage, i) => stageEditor(stage, `${prefix}${i}`, i, stages.length, ctx, (index, by) => {
      if (by === 0) stages.splice(index, 1);
      else [stages[index], stages[index + by]] = [stages[index + by], stages[index]];
      draw();
      ctx.changed();
    })));
    const add = h("button", { type: "button", class: "secondary", id: `${prefix}add` }, "添加环节");
    add.addEventListener("click", () => {
      const stage = newStage();
      opened.add(stage);
      stages.push(stage);
      draw();
      ctx.changed();
      box.querySelector(`#${prefix}${stages.length - 1}-name`).focus();
    });
    box.append(h("div", { class: "actions" }, add));
  };
  draw();
  return box;
}

function thresholdsEditor(policy, ctx) {
  const box = h("div", { id: "thresholds" });
  const draw = () => {
    policy.thresholds = policy.thresholds || [];
    box.replaceChildren(...policy.thresholds.map((t, i) => {
      const above = h("input", { id: `th-${i}-above`, type: "text", inputmode: "decimal", required: true, value: fenToInput(t.above_fen) });
      above.addEventListener("input", () => { const fen = toFen(above.value); if (fen !== null) t.above_fen = fen; ctx.changed(); });
      t.add_stages = t.add_stages || [];
      return h("fieldset", { class: "card threshold" }, h("legend", {}, `金额门槛 ${i + 1}`),
        field("金额超过（元）时", above, { hint: "例如 500000.00；超过时在最后追加下面的环节" }),
        stagesEditor(t.add_stages, `th-${i}-s-`, ctx),
        h("div", { class: "actions" }, h("button", { type: "button", class: "danger small", onclick: () => { policy.thresholds.splice(i, 1); draw(); ctx.changed(); } }, `删除金额门槛 ${i + 1}`)));
    }));
    const add = h("button", { type: "button", class: "secondary", id: "threshold-add" }, "添加金额门槛");
    add.addEventListener("click", () => { policy.thresholds.push({ above_fen: 50000000, add_stages: [newStage()] }); draw(); ctx.changed(); });
    box.append(h("div", { class: "actions" }, add));
  };
  draw();
  return box;
}

/** What is wrong with the draft, in Chinese, or null. */
function problems(policy) {
  if (!policy.title?.trim()) return "请填写规则标题。";
  if (!policy.stages?.length) return "至少要有一个环节。";
  const all = [...policy.stages.map((s, i) => [s, `第 ${i + 1} 环节`]), ...(policy.thresholds || []).flatMap((t, k) => t.add_stages.map((s, i) => [s, `金额门槛 ${k + 1} 的第 ${i + 1} 个追加环节`]))];
  for (const [s, where] of all) {
    if (!s.name?.trim()) return `${where}：请填写环节名称。`;
    if (!s.selectors?.length) return `${where}「${s.name}」：至少要有一位签批人。`;
    if (s.selectors.some((x) => x.kind === "person" && !x.person_id)) return `${where}「${s.name}」：请选择指定人员。`;
    if (!(s.deadline_working_days >= 1 && s.deadline_working_days <= 60)) return `${where}「${s.name}」：时限应为 1 到 60 个工作日。`;
  }
  return null;
}

async function history(area, versions) {
  const items = [];
  for (let i = versions.length - 1; i >= 0; i--) {
    const v = versions[i];
    const by = v.saved_by || v.by;
    const at = v.saved_at || v.at;
    items.push(h("li", { class: "card" },
      h("h3", {}, `第 ${v.version} 版${i === versions.length - 1 ? "（当前）" : ""}`),
      h("p", { class: "meta" }, [at ? when(at) : "", by ? await nameOf(by) : "", `${v.stages.length} 个环节`].filter(Boolean).join(" · ")),
      i > 0 ? h("details", {}, h("summary", {}, `第 ${v.version} 版改了什么`), diffView(stableJson(strip(versions[i - 1])), stableJson(strip(v)), { label: `第 ${versions[i - 1].version} 版 → 第 ${v.version} 版` }))
        : h("p", { class: "meta" }, "最初的版本")));
  }
  area.append(h("ol", { class: "list", id: "policy-versions" }, ...items));
}

export async function render(root, ctx) {
  const typeId = ctx.id;
  adminHeader(root, "#/admin/policies", "签批规则");
  const body = h("div");
  root.append(body);
  const draw = async () => {
    body.replaceChildren();
    const flash = flashNext;
    flashNext = "";
    await load(body, {
      fetch: async () => {
        const [types, all, everyone, roleList, theTown] = await Promise.all([
          matterTypes(), getJson("/v1/admin/policies"), people(), roles(), town()]);
        let versions = [];
        try {
          versions = (await getJson(`/v1/admin/policies/${encodeURIComponent(typeId)}`)).versions || [];
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error; // 404: no policy yet
        }
        return { type: types.find((t) => t.id === typeId), others: all.policies || [], versions, people: everyone, roles: roleList, town: theTown };
      },
      render: (area, data) => {
        const latest = data.versions.at(-1) || null;
        const typeName = data.type?.name || latest?.title || "（未知事项类型）";
        area.append(h("h2", { class: "sub" }, typeName), flash ? message("success", flash) : "");
        const domains = Object.entries(data.town.domainLeaders);
        const draft = structuredClone(strip(latest) || {});
        Object.assign(draft, { matter_type: typeId, title: draft.title || typeName, domain: draft.domain || domains[0]?.[0] || "", stages: draft.stages || [], thresholds: draft.thresholds || [] });
        const editor = h("div");
        const confirmArea = h("div", { "aria-live": "polite", id: "policy-diff" });
        const json = h("textarea", { id: "policy-json", rows: 18, spellcheck: "false", class: "mono" });
        const ectx = { people: data.people, roles: data.roles, changed: () => { confirmArea.replaceChildren(); json.value = JSON.stringify(draft, null, 2); } };
        const drawEditor = () => {
          const title = h("input", { id: "policy-title", type: "text", required: true, maxlength: 80, value: draft.title });
          title.addEventListener("input", () => { draft.title = title.value.trim(); ectx.changed(); });
          const domain = h("select", { id: "policy-domain" },
            ...domains.map(([k, leader]) => h("option", { value: k, selected: k === draft.domain || null }, data.people.find((p) => p.id === leader)?.name || "分管领导")),
            domains.some(([k]) => k === draft.domain) || !draft.domain ? null : h("option", { value: draft.domain, selected: true }, "（名录中没有的领域）"));
          domain.addEventListener("change", () => { draft.domain = domain.value; ectx.changed(); });
          const twice = h("input", { id: "policy-twice", type: "checkbox", checked: draft.allow_same_person_in_two_slots || null });
          twice.addEventListener("change", () => { draft.allow_same_person_in_two_slots = twice.checked; ectx.changed(); });
          editor.replaceChildren(
            h("section", { class: "card" },
              field("规则标题", title, { hint: "印在表单上，例如 村级道路维修呈报表" }),
              field("分管领导（“分管领导”环节由谁签）", domain),
              h("label", { class: "check", for: "policy-twice" }, twice, " 允许同一人在一个事项中占两个签批位置")),
            h("h3", {}, "签批环节（按顺序）"), stagesEditor(draft.stages, "st-", ectx),
            h("h3", {}, "金额门槛"), thresholdsEditor(draft, ectx));
          json.value = JSON.stringify(draft, null, 2);
        };
        drawEditor();

        if (!latest) {
          const others = data.others.filter((p) => p.matter_type !== typeId);
          const from = h("select", { id: "policy-template" }, ...others.map((p) => h("option", { value: p.matter_type }, p.title)));
          const copy = h("button", { type: "button", class: "secondary", id: "policy-copy" }, "复制这套环节");
          copy.addEventListener("click", () => {
            const source = strip(others.find((p) => p.matter_type === from.value));
            Object.assign(draft, structuredClone({ stages: source.stages, thresholds: source.thresholds || [], domain: source.domain, allow_same_person_in_two_slots: source.allow_same_person_in_two_slots || false }));
            drawEditor();
            ectx.changed();
          });
          area.append(h("p", { class: "notice" }, "这类事项还没有签批规则，提交会被拒绝。可以从已有规则复制环节，再修改。"),
            others.length ? h("div", { class: "card" }, field("以哪套规则为模板", from), h("div", { class: "actions" }, copy)) : null);
        } else {
          area.append(h("p", { class: "meta" }, `当前是第 ${latest.version} 版。保存后成为第 ${latest.version + 1} 版，新提交的事项使用新版本。`));
        }

        const apply = h("button", { type: "button", class: "secondary", id: "policy-json-apply" }, "应用 JSON");
        const jsonOut = h("div", { "aria-live": "polite" });
        apply.addEventListener("click", () => {
          try {
            const parsed = JSON.parse(json.value);
            if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("不是一个 JSON 对象");
            for (const k of Object.keys(draft)) delete draft[k];
            Object.assign(draft, strip(parsed), { matter_type: typeId });
            draft.stages = draft.stages || [];
            draft.thresholds = draft.thresholds || [];
            drawEditor();
            confirmArea.replaceChildren();
            jsonOut.replaceChildren(message("success", "已应用到上面的环节。"));
          } catch (error) {
            jsonOut.replaceChildren(message("error", `JSON 格式有误：${error.message}`));
          }
        });

        const preview = h("button", { type: "button", id: "policy-preview" }, "检查改动");
        preview.addEventListener("click", () => {
          const problem = problems(draft);
          if (problem) { confirmArea.replaceChildren(message("error", problem)); return; }
          const before = latest ? stableJson(strip(latest)) : "";
          const after = stableJson(draft);
          if (latest && before === after) { confirmArea.replaceChildren(message("notice", "与当前版本相比没有改动，无需保存。")); return; }
          const confirm = h("button", { type: "button", id: "policy-save" }, latest ? `确认保存为第 ${latest.version + 1} 版` : "确认保存");
          const out = h("div", { "aria-live": "polite" });
          confirm.addEventListener("click", async () => {
            const saved = await save({
              method: "PUT", path: `/v1/admin/policies/${encodeURIComponent(typeId)}`, body: draft,
              version: latest?.version ?? null, out, reload: draw, done: busy(confirm, "正在保存…"),
            });
            if (saved) { flashNext = `已保存「${saved.title || typeName}」第 ${saved.version} 版。`; await draw(); }
          });
          confirmArea.replaceChildren(h("section", { class: "card", "aria-labelledby": "diff-h" },
            h("h3", { id: "diff-h" }, latest ? `与第 ${latest.version} 版相比` : "新规则的全部内容"),
            diffView(before, after, { label: latest ? `第 ${latest.version} 版 → 新版本` : "新规则" }),
            h("div", { class: "actions" }, confirm), out));
          confirm.focus();
        });

        area.append(editor,
          h("details", { class: "card", id: "policy-json-box" }, h("summary", {}, "直接编辑 JSON"),
            field("规则 JSON", json, { hint: "高级：可编辑上面没有的项目（如分村规则）。改完点“应用 JSON”。" }), h("div", { class: "actions" }, apply), jsonOut),
          h("div", { class: "actions" }, preview), confirmArea);
        if (data.versions.length) {
          const versions = h("section", { "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, "版本记录"));
          area.append(versions);
          history(versions, data.versions).catch((error) => versions.append(message("error", error.message)));
        }
      },
    });
  };
  await draw();
}
