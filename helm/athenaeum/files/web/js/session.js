// Who is signed in. The access token lives only in this module's memory; the refresh token never reaches
// JavaScript at all: the edge keeps it in an HttpOnly, SameSite=Strict cookie scoped to /v1/auth (see
// services/support/mesh/web_session.lua), for requests that send "x-athenaeum-session: cookie".
// The token is refreshed a minute before it expires, and at once when the edge answers 401; tabs share
// fresh tokens over a BroadcastChannel and take turns to refresh (a refresh token is single-use).
// Only a definite refusal of the refresh (401/403: token refused, session revoked, account closed) signs
// out; when the edge cannot answer now (network, 429, 5xx) the session is kept and the refresh retried.

const CHANNEL = "athenaeum-session";
const LOCK = "athenaeum-refresh";
const SIGNED_IN_HINT = "athenaeum.signed-in"; // "there may be a session cookie": no secret, saves a 401
const REFRESH_MARGIN_MS = 60_000;
const RESTRICTED = ["USER_STATUS_BLOCKED", "USER_STATUS_EXPIRED"];
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** What a refresh came to: a new token, a refusal (signed out), or no answer yet (kept; retried later). */
export const REFRESHED = "refreshed";
export const REFUSED = "refused";
export const UNREACHABLE = "unreachable";

// reconnecting: the last refresh got no definite answer and another is scheduled.
// ended: the last session was ended by the server (expired, revoked), not by signing out.
const state = { user: null, accessToken: null, expiresAt: 0, generation: 0, ready: false, reconnecting: false, ended: false };
const listeners = new Set();
const channel = "BroadcastChannel" in globalThis ? new BroadcastChannel(CHANNEL) : null;
let refreshTimer = null;
let inflight = null;
let retryDelay = 0;

function emit() {
  listeners.forEach((listener) => listener({ ...state }));
}

/** Seconds the token lives by its own claims (exp - iat): immune to a skewed client clock. */
function lifetimeMs(accessToken) {
  try {
    const payload = JSON.parse(atob(accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return Math.max(0, (payload.exp - payload.iat) * 1000);
  } catch {
    return 0;
  }
}

function adopt({ accessToken, expiresAt, user }, { broadcast = true } = {}) {
  state.accessToken = accessToken;
  state.expiresAt = expiresAt;
  state.user = user;
  state.generation += 1;
  state.reconnecting = false;
  state.ended = false;
  retryDelay = 0;
  localStorage.setItem(SIGNED_IN_HINT, "1");
  clearTimeout(refreshTimer);
  const delay = Math.max(1_000, expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => refresh(), delay);
  if (broadcast) channel?.postMessage({ type: "tokens", accessToken, lifetime: expiresAt - Date.now(), user });
  emit();
}

function forget({ broadcast = true, ended = false } = {}) {
  clearTimeout(refreshTimer);
  state.accessToken = null;
  state.expiresAt = 0;
  state.user = null;
  state.generation += 1;
  state.reconnecting = false;
  state.ended = ended;
  retryDelay = 0;
  localStorage.removeItem(SIGNED_IN_HINT);
  if (broadcast) channel?.postMessage({ type: "signed-out" });
  emit();
}

/** No definite answer: keep the session as it is and try again later, waiting twice as long each time. */
function retryLater() {
  retryDelay = Math.min(RETRY_MAX_MS, retryDelay ? retryDelay * 2 : RETRY_FIRST_MS);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), retryDelay * (0.75 + Math.random() / 2)); // jitter: tabs, readers
  state.reconnecting = true;
  emit();
}

/** 401 (token refused, revoked, reused, no cookie) and 403 (account closed) end the session for good. */
const definiteRefusal = (status) => status === 401 || status === 403;

addEventListener("online", () => {
  if (state.reconnecting) refresh();
});

channel?.addEventListener("message", ({ data }) => {
  if (data?.type === "tokens") {
    adopt({ accessToken: data.accessToken, expiresAt: Date.now() + data.lifetime, user: data.user }, { broadcast: false });
  } else if (data?.type === "signed-out") {
    forget({ broadcast: false });
  }
});

/** POST to an auth route of the edge, asking it to keep the refresh token in the cookie. */
async function authCall(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-athenaeum-session": "cookie" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, data: { code: 14, message: "network" } };
  }
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text.slice(0, 200) };
  }
  return { ok: response.ok, status: response.status, data };
}

/** The signed-in user's resource, or the status that refused it (0: no answer). */
async function fetchMe(accessToken) {
  try {
    const response = await fetch("/v1/users/me", { headers: { authorization: `Bearer ${accessToken}` } });
    return response.ok ? { user: await response.json() } : { status: response.status };
  } catch {
    return { status: 0 };
  }
}

function expiryOf(accessToken) {
  return Date.now() + lifetimeMs(accessToken);
}

/** One refresh at a time, across tabs; a tab that waited may find another tab's fresh token instead.
 * Resolves to REFRESHED, REFUSED (signed out) or UNREACHABLE (the session is kept; a retry is scheduled). */
function refresh() {
  inflight ??= withLock(async (generationBefore) => {
    const fresh = state.generation !== generationBefore && state.expiresAt - Date.now() > REFRESH_MARGIN_MS;
    if (fresh) return REFRESHED;
    const { ok, status, data } = await authCall("/v1/auth/refresh", {});
    if (!ok) return settle(status);
    const accessToken = data.tokens.access_token;
    let user = state.user;
    if (!user) {
      const me = await fetchMe(accessToken);
      if (!me.user) return settle(me.status);
      user = me.user;
    }
    adopt({ accessToken, expiresAt: expiryOf(accessToken), user });
    return REFRESHED;
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** A refresh without a new token: signed out on a definite refusal, else kept and retried later. */
function settle(status) {
  const hadSession = Boolean(state.accessToken || localStorage.getItem(SIGNED_IN_HINT));
  if (definiteRefusal(status) || !hadSession) {
    if (hadSession) forget({ ended: Boolean(state.user) });
    return REFUSED;
  }
  retryLater();
  return UNREACHABLE;
}

/** After a sign-in or registration: fill in the account's missing language and time zone, then adopt it. */
async function welcome({ ok, status, data }, settings) {
  if (!ok) return { ok, status, data };
  const accessToken = data.tokens.access_token;
  const user = await fillSettings(data.user, accessToken, settings);
  adopt({ accessToken, expiresAt: expiryOf(accessToken), user });
  return { ok, status, data };
}

/** Sends the settings (locale, time_zone) the account has none of; best effort: the user as it is now. */
async function fillSettings(user, accessToken, settings) {
  const missing = Object.entries(settings).filter(([field, value]) => value && !user[field]);
  while (missing.length) {
    const fields = Object.fromEntries(missing);
    try {
      const response = await fetch(`/v1/${user.name}?update_mask=${Object.keys(fields).join(",")}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ ...fields, etag: user.etag }),
      });
      if (response.ok) return await response.json();
      if (response.status !== 400) return user;
    } catch {
      return user;
    }
    missing.pop(); // refused as invalid (a zone the server does not know): keep the language at least
  }
  return user;
}

async function withLock(work) {
  const generation = state.generation;
  if (navigator.locks?.request) return navigator.locks.request(LOCK, () => work(generation));
  return work(generation);
}

export const session = {
  get user() {
    return state.user;
  },
  get ready() {
    return state.ready;
  },
  /** The session is kept but could not be renewed yet (the library's server did not answer); retrying. */
  get reconnecting() {
    return state.reconnecting;
  },
  /** Signed out by the server (the session expired or was revoked), not by the user. */
  get ended() {
    return state.ended;
  },
  /** A blocked or expired account: signed in to read its own loans, holds and fines, nothing more (its
   * token carries a reader's role whatever the account's own, so staff pages would be refused). */
  isRestricted() {
    return RESTRICTED.includes(state.user?.status);
  },
  isStaff() {
    return ["USER_ROLE_LIBRARIAN", "USER_ROLE_ADMIN"].includes(state.user?.role) && !this.isRestricted();
  },
  isAdmin() {
    return state.user?.role === "USER_ROLE_ADMIN" && !this.isRestricted();
  },
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },

  /** On page load: resume the session the cookie may hold (only if this browser signed in before). */
  async start() {
    if (localStorage.getItem(SIGNED_IN_HINT)) await refresh();
    state.ready = true;
    emit();
  },

  /** `settings`: the reader's {locale, time_zone}, given to an account that has none of them yet. */
  async signIn(email, password, settings = {}) {
    return welcome(await authCall("/v1/auth/login", { email, password }), settings);
  },

  async register(fields, settings = {}) {
    return welcome(await authCall("/v1/auth/register", fields), settings);
  },

  /** Revokes the session at the users service (the edge clears the cookie), then forgets the token. */
  async signOut() {
    await authCall("/v1/auth/logout", {});
    forget();
  },

  /** The access token to send now, refreshed first if it expires within the margin; null when signed out.
   * While the edge cannot renew it the old token is sent: still valid, or answered 401 and retried. */
  async freshToken() {
    if (!state.accessToken) return null;
    if (state.expiresAt - Date.now() < REFRESH_MARGIN_MS / 2) await refresh();
    return state.accessToken;
  },

  refresh,

  /** After the user changed their own account (preferences), keep the copy shown everywhere current. */
  updateUser(user) {
    state.user = user;
    emit();
  },
};
