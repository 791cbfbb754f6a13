// The one way the console talks to intake: bearer token, a timeout, retries for reads, and the API's
// error codes turned into Chinese messages a villager can act on.

const TIMEOUT_MS = 30000; // village connections can be slow; a hung request still ends
const TOKEN = "sf.token";
const ME = "sf.me";

const MESSAGES = {
  not_your_turn: "还没轮到您签批：请等前一环节完成后再签。",
  not_assignee: "您不是这一环节的签批人，不能签批。",
  stale_digest: "表单内容已更新，请刷新页面看过最新内容后再签。",
  already_decided: "您已在这一环节作出决定，不能重复签批。",
  self_approval: "申请人不能签批自己的事项。",
  matter_not_found: "找不到该事项，或您无权查看。",
  matter_closed: "该事项已经结束，不能再操作。",
  stage_not_open: "该环节当前没有在签批中。",
  reason_required: "退回或终止必须填写理由。",
  unauthenticated: "请先登录。",
  invalid_token: "登录已过期，请重新登录。",
  unknown_person: "该人员不在组织名录中。",
  person_inactive: "该人员已停用，不能登录或签批。如有疑问请联系镇管理员。",
  forbidden: "您没有权限进行此操作。",
  not_applicant: "只有申请人可以进行此操作。",
  idempotency_key_reused: "表单在上次提交后被修改过，请再点一次提交。",
  payload_too_large: "附件太大，请压缩后再上传。",
  unknown_matter_type: "不支持的事项类型。",
  unknown_village: "不存在的村。",
  route_unresolved: "无法确定签批路由（可能有岗位空缺），请联系镇管理员。",
  document_not_ready: "文档正在生成，请稍后再试。",
  service_unavailable: "服务暂时不可用，请稍后重试。",
  invalid_request: "填写的内容有误，请检查后再提交。",
  route_conflict: "此人已在这份事项的签批路线上：一人不能占两个签批位置。",
  not_same_authority: "接办人或代理人必须在同一村（或镇）担任您的全部职务。",
  invalid_absence: "日期或代理人不对：结束日期不能早于开始日期，最长一年，不能委托给自己。",
  absence_not_found: "找不到这条请假委托，可能已被撤销。",
  conflict: "同事刚刚修改了这条记录，您的修改没有保存。请重新加载，看过最新内容后再改。",
  admin_conflict: "同事同时在修改管理数据，请重新加载后再试。",
  invalid_field: "填写的内容有误，请按提示修改。",
  invalid_roster: "名册有错误的行，没有导入任何人。请按提示改正后重新上传。",
  invalid_policy: "签批规则有误，请按提示修改。",
  invalid_directory: "组织名录有误，请按提示修改。",
  not_found: "找不到该记录。",
  approval_not_found: "查无此审批编号：请核对编号是否抄写正确。只有全部签批完成的事项才有审批编号。",
  rate_limited: "查询太频繁，请稍后再试。",
  network: "网络连接失败，请检查网络后重试。",
  timeout: "网络较慢，请求超时，请重试。",
};

// Codes whose server message says more than the general line (which field, which row): shown as given.
const SPECIFIC = new Set(["invalid_field", "invalid_policy", "invalid_directory", "invalid_roster", "invalid_seal", "invalid_subscription"]);
const hasChinese = (text) => /[\u4e00-\u9fff]/.test(text || "");

export class ApiError extends Error {
  constructor(status, code, detail, body = null) {
    super(SPECIFIC.has(code) && hasChinese(detail)
      ? detail.replace(/\s*[（(][a-z][a-z0-9_.]*[）)]/g, "") // "字段「采购方式」(procurement_method)": the label says it
      : MESSAGES[code] || (hasChinese(detail) ? detail : `请求失败（${status}）${detail ? `：${detail}` : ""}`));
    this.status = status;
    this.code = code;
    this.detail = detail || "";
    this.body = body; // the whole error answer (e.g. a roster's rows)
  }
  // The endpoint itself is not there (an older server): 404 without a domain code, or 405.
  get unsupported() {
    return this.status === 405 || (this.status === 404 && (this.code === "not_found" || this.code === "method_not_allowed"));
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  get me() { try { return JSON.parse(localStorage.getItem(ME)); } catch { return null; } },
  save(token, me) { localStorage.setItem(TOKEN, token); localStorage.setItem(ME, JSON.stringify(me)); },
  clear() { localStorage.removeItem(TOKEN); localStorage.removeItem(ME); },
};

async function once(method, path, { json, form, headers = {}, auth = true }) {
  const init = { method, headers: { ...headers } };
  if (auth && session.token) init.headers.Authorization = `Bearer ${session.token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  init.signal = abort.signal;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, error.name === "AbortError" ? "timeout" : "network");
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    let code = "", detail = "", body = null;
    try {
      body = await response.json();
      code = body.error?.code || "";
      detail = body.error?.message || (typeof body.detail === "string" ? body.detail : "");
    } catch { /* not the API's error shape */ }
    const error = new ApiError(response.status, code, detail, body);
    error.retryAfter = Number(response.headers.get("Retry-After")) || null; // seconds, on a 429
    throw error;
  }
  return response;
}

// Reads are retried on a lost connection or a busy service; writes are retried only by the caller
// (a submission carries an Idempotency-Key, so a retry never makes a second matter).
export async function request(method, path, options = {}) {
  const attempts = method === "GET" ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(method, path, options);
    } catch (error) {
      const transient = error.status === 0 || error.status === 503;
      if (!transient || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 800 * attempt));
    }
  }
}

export const getJson = async (path, options) => (await request("GET", path, options)).json();
export const postJson = async (path, json, options = {}) => (await request("POST", path, { ...options, json })).json();
// A change to something loaded at `version`: If-Match makes a colleague's change in between a 409, never lost.
export const sendJson = async (method, path, json, version) =>
  (await request(method, path, { json, headers: version === undefined || version === null ? {} : { "If-Match": String(version) } })).json();

/** A file the API serves only with the bearer token (an attachment, a PDF), as a blob: URL the page can
 * show, open or download; [url, contentType]. */
export async function blobUrl(path) {
  const blob = await (await request("GET", path)).blob();
  return [URL.createObjectURL(blob), blob.type];
}

// The last good answer of a list, shown at once on the next visit (and when offline).
export const cache = {
  get(key) { try { return JSON.parse(localStorage.getItem(`sf.cache.${key}`)); } catch { return null; } },
  put(key, data) {
    try { localStorage.setItem(`sf.cache.${key}`, JSON.stringify({ at: Date.now(), data })); } catch { /* storage full: skip */ }
  },
};

export function newKey() {
  // crypto.randomUUID needs a secure context; a village LAN address over http is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
