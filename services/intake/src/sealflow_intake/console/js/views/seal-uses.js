// 用印登记: every use of an electronic seal — when, which seal, which village, for which matter and stage,
// who triggered it — for the discipline office and the administrator (a village's secretary sees the
// village's own). Read from the register's CSV, which carries names rather than ids, and offered as a download.
import { request } from "../api.js";
import { villages } from "../town.js";
import { busy, field, h, message, when } from "../ui.js";

/** RFC 4180 rows (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function download(blob, filename) {
  const link = h("a", { href: URL.createObjectURL(blob), download: filename }, filename);
  document.body.append(link);
  link.click();
  link.remove();
}

export async function render(root, ctx) {
  root.append(h("h1", {}, "用印登记"));
  if (ctx.oversees) {
    root.append(h("nav", { class: "subnav", "aria-label": "监督" },
      h("a", { href: "#/search" }, "查询事项"), h("a", { href: "#/seal-uses", "aria-current": "page" }, "用印登记"), h("a", { href: "#/accountability" }, "问责记录")));
  }
  const towns = await villages().catch(() => []);
  const village = h("select", { id: "su-village" }, h("option", { value: "" }, ctx.oversees ? "全部村" : "本村"),
    ...(ctx.oversees ? towns.map((v) => h("option", { value: v.id }, v.name)) : []));
  const from = h("input", { id: "su-from", type: "date" });
  const to = h("input", { id: "su-to", type: "date" });
  const show = h("button", { type: "submit", id: "su-show" }, "查看");
  const csv = h("button", { type: "button", class: "secondary", id: "su-csv" }, "下载 CSV");
  const out = h("section", { "aria-live": "polite", "aria-label": "用印记录" });
  const form = h("form", { class: "card" }, field("村", village),
    h("div", { class: "row" }, h("div", { style: "flex:1 1 9em" }, field("用印日期从", from)), h("div", { style: "flex:1 1 9em" }, field("到", to))),
    h("div", { class: "actions" }, show, csv));
  root.append(form, out);

  const path = () => {
    const q = new URLSearchParams({ format: "csv", limit: "1000" });
    if (village.value) q.set("village_id", village.value);
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    return `/v1/seal-uses?${q}`;
  };
  const fetchCsv = async () => (await request("GET", path())).blob();
  const run = async () => {
    const done = busy(show, "正在加载…");
    try {
      const blob = await fetchCsv();
      const [header, ...rows] = parseCsv((await blob.text()).replace(/^\uFEFF/, "")).filter((r) => r.some(Boolean));
      if (!rows.length) { out.replaceChildren(h("p", { class: "notice" }, "这段时间没有用印记录。")); return; }
      const col = (name) => header.indexOf(name);
      const [t, seal, vil, matter, stage, who] = ["用印时间", "印章", "村", "事项编号", "步骤", "触发人"].map(col);
      out.replaceChildren(h("p", { class: "meta" }, `共 ${rows.length} 次用印。`),
        h("ul", { class: "list", id: "seal-use-list" }, ...rows.map((r) => h("li", { class: "card" },
          h("h3", {}, r[seal]),
          h("p", { class: "meta" }, `${when(r[t])} · ${r[vil]} · 第${r[stage]}环节完成后加盖`),
          h("p", {}, `触发人：${r[who] || "—"}`),
          r[matter] ? h("p", {}, h("a", { href: `#/matter/${encodeURIComponent(r[matter])}` }, "查看事项")) : null))));
    } catch (error) {
      out.replaceChildren(message("error", error.message));
    } finally {
      done();
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  csv.addEventListener("click", async () => {
    const done = busy(csv, "正在导出…");
    try { download(await fetchCsv(), "seal-uses.csv"); } catch (error) { out.replaceChildren(message("error", error.message)); } finally { done(); }
  });
  await run();
}
