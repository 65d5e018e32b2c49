// The REST edge, as every other client sees it: JSON in and out, google.rpc.Status errors, Bearer tokens.
import { REFRESHED, UNREACHABLE, session } from "./session.js";

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";
const UNIMPLEMENTED = 12;
const ABORTED = 10;
const UNAVAILABLE = 14;
// Answers that say nothing final about the call: it may be tried again as it is (with the same request_id).
const RETRYABLE_STATUS = new Set([0, 408, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set([2, 4, 8, ABORTED, 13, UNAVAILABLE]);

/** A refused or failed call: HTTP status, gRPC code, ErrorInfo reason and metadata, bad fields. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 0;
    const details = Array.isArray(body?.details) ? body.details : [];
    const info = details.find((detail) => detail["@type"] === ERROR_INFO);
    this.reason = info?.reason || "";
    this.metadata = info?.metadata || {};
    const badRequest = details.find((detail) => detail["@type"] === BAD_REQUEST);
    this.fields = Object.fromEntries(
      (badRequest?.field_violations || []).map((violation) => [violation.field, violation.description]),
    );
    this.unimplemented = status === 501 || this.code === UNIMPLEMENTED;
  }

  /** No final answer (no connection, busy, restarting, a race): the same call may be tried again as it is. */
  get retryable() {
    if (this.unimplemented) return false;
    return RETRYABLE_STATUS.has(this.status) || RETRYABLE_CODES.has(this.code);
  }
}

/** The call carried an expired token and the session could not be renewed now: signed in still, try again. */
function sessionNotRenewed() {
  return new ApiError(503, {
    code: UNAVAILABLE,
    message: "the session could not be renewed now",
    details: [{ "@type": ERROR_INFO, reason: "SESSION_NOT_RENEWED" }],
  });
}

/** `?a=1&b=x&b=y`: arrays repeat their key; empty, null, undefined and false values are left out. */
export function queryString(query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || item === "" || item === false) continue;
      params.append(key, String(item));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * Calls the edge. `auth` sends the access token when signed in (refreshing it first when it is about
 * to expire); a 401 on a call that carried one refreshes the session once and retries; a read the edge refused
 * for a moment is asked again (below).
 */
export async function api(path, { method = "GET", query, body, auth = true, retried = false, shed = 0 } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = auth ? await session.freshToken() : null;
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, { code: 14, message: "network" });
  }
  if (response.status === 401 && token && !retried) {
    const refreshed = await session.refresh();
    if (refreshed === REFRESHED) return api(path, { method, query, body, auth, retried: true });
    if (refreshed === UNREACHABLE) throw sessionNotRenewed();
  }
  if (method === "GET" && READ_AGAIN_STATUS.has(response.status) && shed < READ_AGAIN_TIMES) {
    await sleep(readAgainAfterMs(response, shed));
    return api(path, { method, query, body, auth, retried, shed: shed + 1 });
  }
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A read refused for a moment (a busy service sheds calls with 429 and Retry-After; a restarting one, 502-504)
// is asked again by itself, a little later and twice at most, before the page says it could not load: on a busy
// evening a reader saw "could not be loaded" where waiting a second would have shown the page. Changes (POST,
// PATCH, DELETE) are never repeated here: the person decides, and the page keeps their request_id.
const READ_AGAIN_STATUS = new Set([429, 502, 503, 504]);
const READ_AGAIN_TIMES = 2;
const READ_AGAIN_MOST_MS = 2000;

function readAgainAfterMs(response, shed) {
  const told = Number(response.headers.get("retry-after"));
  const backoff = 500 * 2 ** shed;
  return Math.min(Number.isFinite(told) && told > 0 ? told * 1000 : backoff, READ_AGAIN_MOST_MS);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(response) {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** A request_id for a mutation the user may retry (works outside secure contexts too). */
export function newRequestId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The trailing id of a resource name: "books/5b1e…" → "5b1e…". */
export function idOf(name) {
  return (name || "").split("/").pop();
}
