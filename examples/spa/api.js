// The API client. The access token lives in this module's memory only: never in
// localStorage, sessionStorage or a cookie a script can read. The refresh token is an
// HttpOnly cookie that only /auth/refresh and the two logout paths receive; scripts never see it. The CSRF value
// from the token answers is kept in sessionStorage so that a reload can refresh silently;
// on its own it grants nothing.
import { API_BASE } from "./config.js";

const CSRF_KEY = "myapi.csrf";
// Refresh this many seconds before the access token expires (or halfway for short tokens).
const REFRESH_MARGIN_SECONDS = 60;

let accessToken = null;
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.detail || `Request failed (${status})`);
    this.status = status;
    this.problem = problem;
    this.fieldErrors = problem.errors || {};
    this.retryAfter = retryAfter;
  }
}

/** Called with `true` when a session starts and `false` when it ends. */
export function onSessionChange(listener) {
  listeners.add(listener);
}

function notify(loggedIn) {
  for (const listener of listeners) listener(loggedIn);
}

export function isLoggedIn() {
  return accessToken !== null;
}

async function send(path, { method = "GET", body, headers = {}, credentials = "omit" } = {}) {
  const init = { method, headers: { ...headers }, credentials, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API_BASE + path, init);
  } catch {
    throw new ApiError(0, { detail: `Cannot reach the API at ${API_BASE}.` });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(response.status, data, retryAfter);
  }
  return data;
}

function startSession(tokens) {
  const wasLoggedIn = accessToken !== null;
  accessToken = tokens.access_token;
  sessionStorage.setItem(CSRF_KEY, tokens.csrf_token);
  clearTimeout(refreshTimer);
  const lifetime = tokens.expires_in;
  const delay = Math.max(5, lifetime > 2 * REFRESH_MARGIN_SECONDS ? lifetime - REFRESH_MARGIN_SECONDS : lifetime / 2);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay * 1000);
  if (!wasLoggedIn) notify(true);
}

function endSession() {
  const wasLoggedIn = accessToken !== null;
  accessToken = null;
  sessionStorage.removeItem(CSRF_KEY);
  clearTimeout(refreshTimer);
  if (wasLoggedIn) notify(false);
}

/** Cookie-mode headers: the API puts the refresh token into the cookie, not the body. */
const BROWSER_MODE = { "X-Token-Delivery": "cookie" };

export async function login(username, password) {
  const tokens = await send("/auth/login", {
    method: "POST",
    body: { username, password },
    headers: BROWSER_MODE,
    credentials: "include",
  });
  startSession(tokens);
}

export function register(username, email, password) {
  return send("/auth/register", { method: "POST", body: { username, email, password } });
}

/** Rotate the refresh cookie for a new access token; one refresh at a time. */
export function refresh() {
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (!csrf) return Promise.resolve(false);
  refreshing ??= send("/auth/refresh", {
    method: "POST",
    headers: { ...BROWSER_MODE, "X-CSRF-Token": csrf },
    credentials: "include",
  })
    .then((tokens) => {
      startSession(tokens);
      return true;
    })
    .catch((error) => {
      // The session is over (revoked, expired, logged out elsewhere); anything else,
      // such as the API being down, keeps the CSRF value for the next try.
      if (error.status === 401) endSession();
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Restore the session after a reload, through the refresh cookie; false if there is none. */
export async function resume() {
  try {
    return await refresh();
  } catch (error) {
    if (error.status === 401) return false;
    throw error;
  }
}

/** An authenticated call; on 401 it refreshes once and tries again. */
export async function call(path, options = {}) {
  const attempt = () =>
    send(path, { ...options, headers: { ...options.headers, Authorization: `Bearer ${accessToken}` } });
  try {
    return await attempt();
  } catch (error) {
    if (error.status !== 401) throw error;
    if (!(await refresh().catch(() => false))) {
      endSession();
      throw error;
    }
    return attempt();
  }
}

/**
 * End the session on the server with what the browser surely still holds: the refresh
 * cookie and the CSRF value, so an access token that expired while the laptop slept does
 * not matter. Resolves "done", or "already-ended" when the server no longer knew the session
 * (then this page was logged out anyway); rejects, keeping the session here, when the
 * logout could not be confirmed, so the user can try again.
 */
export async function logout({ everywhere = false } = {}) {
  const csrf = sessionStorage.getItem(CSRF_KEY);
  const proof = csrf ? { "X-CSRF-Token": csrf } : { Authorization: `Bearer ${accessToken}` };
  try {
    await send(everywhere ? "/auth/logout-all" : "/auth/logout", {
      method: "POST",
      headers: { ...BROWSER_MODE, ...proof },
      credentials: "include",
    });
  } catch (error) {
    if (error.status !== 401) throw error;
    endSession();
    return "already-ended";
  }
  endSession();
  return "done";
}

/** Forget the session locally, e.g. after revoking the current one from the sessions list. */
export function forget() {
  endSession();
}
