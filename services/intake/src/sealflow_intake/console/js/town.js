// The town as the API describes it — villages, matter types and their forms, role names — never a list
// in code. Each read is kept for half a minute within the page (a village the administrator adds shows on
// everyone's next page after that, at once in the administrator's own console) and the last good answer
// is kept in localStorage for a slow or lost connection.
import { cache, getJson, session } from "./api.js";

const TTL_MS = 30_000;
const memo = new Map();

function read(key, path) {
  const hit = memo.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.promise;
  const promise = getJson(path)
    .then((data) => { cache.put(`town.${key}`, data); return data; })
    .catch((error) => {
      memo.delete(key);
      const last = cache.get(`town.${key}`);
      if (last) return last.data;
      throw error;
    });
  memo.set(key, { at: Date.now(), promise });
  return promise;
}

/** Forget what was read (after the administrator changed it). */
export function forget(...keys) {
  if (!keys.length) memo.clear();
  for (const key of keys) memo.delete(key);
}

const asList = (data, field) => (Array.isArray(data) ? data : data?.[field] || data?.items || []);

export const villages = async () => asList(await read("villages", "/v1/villages"), "villages");
export const matterTypes = async () => asList(await read("types", "/v1/matter-types"), "matter_types");

export async function villageNames() {
  return Object.fromEntries((await villages().catch(() => [])).map((v) => [v.id, v.name]));
}
export async function typeNames() {
  return Object.fromEntries((await matterTypes().catch(() => [])).map((t) => [t.id, t.name]));
}
export async function matterType(id) {
  return (await matterTypes()).find((t) => t.id === id) || null;
}

// The system's fixed vocabulary of roles (not town data): the administrator's console reads the names
// from GET /v1/admin/roles; these are the fallback where that read is not open to the caller.
const ROLE_NAMES = {
  bookkeeper: "报账员", director: "村委会主任", supervisor: "村监委会主任", secretary: "村党组织书记",
  liaison_cadre: "联村干部", liaison_leader: "联村领导", domain_leader: "分管领导", principal: "镇主要领导",
  discipline: "镇纪委", admin: "管理员",
};

// Roles held within one village (the rest are the town's).
const VILLAGE_ROLES = new Set(["bookkeeper", "director", "supervisor", "secretary"]);

/** [{id, name, village}] of every role, in the system's order. */
export async function roles() {
  let list = [];
  if (session.me?.roles?.includes("admin")) {
    try {
      list = asList(await read("roles", "/v1/admin/roles"), "roles");
    } catch { /* an older server: the fixed vocabulary below */ }
  }
  if (!list.length) list = Object.entries(ROLE_NAMES).map(([id, name]) => ({ id, name }));
  return list.map((r) => ({ ...r, village: r.village ?? (r.scope ? r.scope === "village" : VILLAGE_ROLES.has(r.id)) }));
}
export async function roleNames() {
  return Object.fromEntries((await roles()).map((r) => [r.id, r.name]));
}
