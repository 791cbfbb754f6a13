// 工作日历: the administrator's corrections to the working-day calendar (a make-up working day, an extra
// holiday, or back to the national calendar). Deadlines count working days from these.
import { adminHeader, save } from "../admin-kit.js";
import { ApiError, getJson } from "../api.js";
import { busy, field, h, load, message } from "../ui.js";

const WEEKDAY = new Intl.DateTimeFormat("zh-CN", { weekday: "short", timeZone: "UTC" });
const weekday = (day) => WEEKDAY.format(new Date(`${day}T00:00:00Z`));

export async function render(root) {
  adminHeader(root, "#/admin/calendar", "工作日历", "签批时限按工作日计算，默认采用国家法定节假日和调休。这里登记例外：调休上班、临时放假。");
  const day = h("input", { id: "cal-day", type: "date", required: true });
  const kind = h("select", { id: "cal-kind" },
    h("option", { value: "false" }, "放假（不算工作日）"), h("option", { value: "true" }, "上班（算工作日）"), h("option", { value: "null" }, "取消调整，按国家日历"));
  const note = h("input", { id: "cal-note", type: "text", maxlength: 100, placeholder: "例如 镇里统一调休" });
  const button = h("button", { type: "submit", id: "cal-save" }, "保存");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "登记一天"),
    field("日期", day, { key: "day" }), field("这一天", kind, { key: "working" }), field("说明", note, { key: "note" }),
    h("div", { class: "actions" }, button), out);
  const list = h("section", { "aria-labelledby": "cal-h" }, h("h2", { id: "cal-h" }, "已登记的例外"));
  const box = h("div");
  list.append(box);
  root.append(form, list);

  const draw = async () => {
    box.replaceChildren();
    await load(box, {
      fetch: async () => {
        try {
          const data = await getJson("/v1/admin/calendar");
          return Array.isArray(data) ? data : data.items || data.days || [];
        } catch (error) {
          if (error instanceof ApiError && error.unsupported) return null;
          throw error;
        }
      },
      render: (area, days) => {
        if (days === null) { area.append(h("p", { class: "notice" }, "服务器暂不提供已登记的列表；登记仍然有效。")); return; }
        if (!days.length) { area.append(h("p", { class: "meta" }, "没有例外，全部按国家日历。")); return; }
        area.append(h("ul", { class: "list", id: "calendar-list" }, ...[...days].sort((a, b) => a.day.localeCompare(b.day)).map((d) => h("li", { class: "card" },
          h("p", { class: "row" }, h("strong", {}, `${d.day}（${weekday(d.day)}）`), h("span", { class: d.working ? "valid" : "invalid" }, d.working ? "上班" : "放假")),
          d.note ? h("p", { class: "meta" }, d.note) : null))));
      },
    });
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!day.value) { out.replaceChildren(message("error", "请选择日期。")); day.focus(); return; }
    const saved = await save({
      method: "PUT", path: `/v1/supervision/calendar/${day.value}`, body: { working: JSON.parse(kind.value), note: note.value.trim() },
      form, out, done: busy(button, "正在保存…"),
    });
    if (saved) {
      out.replaceChildren(message("success", `已登记 ${day.value}：${kind.selectedOptions[0].textContent}。`));
      await draw();
    }
  });
  await draw();
}
