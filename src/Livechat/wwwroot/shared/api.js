// The one way the pages talk to the API: fetch with the token and tenant, the envelope unwrapped.
const KEY = "livechat.auth";

/** The signed-in user ({token, tenantId, userId, roles, isAgent}) from this tab's storage, or null. */
export function loadAuth() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return saved?.token && saved?.tenantId ? describe(saved.token, saved.tenantId) : null;
  } catch {
    return null;
  }
}

export function saveAuth(token, tenantId) {
  const auth = describe(token.trim(), String(tenantId).trim());
  sessionStorage.setItem(KEY, JSON.stringify({ token: auth.token, tenantId: auth.tenantId }));
  return auth;
}

export function clearAuth() {
  sessionStorage.removeItem(KEY);
}

/** Reads the user id and roles from the token's payload (the server still checks everything). */
function describe(token, tenantId) {
  const part = token.split(".")[1];
  if (!part) throw new Error("This is not a JWT: it needs three parts separated by dots.");
  let payload;
  try {
    payload = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw new Error("The token's payload could not be read.");
  }
  const roles = [].concat(payload.role ?? []);
  return { token, tenantId: String(tenantId), userId: Number(payload.sub), roles, isAgent: roles.includes("SUPPORT_AGENT") };
}

/** An envelope with success=false, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, message, errors = null, meta = null) {
    super(message);
    this.status = status;
    this.errors = errors;
    this.meta = meta;
  }
}

/** Calls the API and returns the envelope ({data, meta, message}), or null for a 204; throws ApiError on failure. */
export async function api(auth, method, path, body) {
  const headers = { Accept: "application/json" };
  if (auth) {
    headers.Authorization = `Bearer ${auth.token}`;
    headers["X-Tenant-ID"] = auth.tenantId;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "The service cannot be reached. Check your connection; the page retries by itself.");
  }
  if (response.status === 204) return null; // a DELETE's answer: nothing to read
  let envelope;
  try {
    envelope = await response.json();
  } catch {
    throw new ApiError(response.status, `The service answered ${response.status} without a readable body.`);
  }
  if (!envelope.success) throw new ApiError(response.status, envelope.message, envelope.errors, envelope.meta);
  return envelope;
}

/**
 * Downloads a file the API answers with (a transcript): fetched with the token, then saved under the name its
 * Content-Disposition gives. A failure is the envelope, thrown as ApiError. Returns the file name and its bytes' size.
 */
export async function download(auth, path) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${auth.token}`, "X-Tenant-ID": auth.tenantId } });
  } catch {
    throw new ApiError(0, "The service cannot be reached. Check your connection and try again.");
  }
  if (!response.ok) {
    const envelope = await response.json().catch(() => null);
    throw new ApiError(response.status, envelope?.message ?? `The service answered ${response.status}.`, envelope?.errors, envelope?.meta);
  }
  const name = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "download";
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}

/** Follows next_cursor through a list endpoint (path with its query, without cursor). */
export async function* pages(auth, path) {
  let cursor = null;
  for (;;) {
    const page = await api(auth, "GET", cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
    yield page.data;
    const pagination = page.meta.pagination;
    if (!pagination?.has_next || !pagination.next_cursor) return;
    cursor = pagination.next_cursor;
  }
}
