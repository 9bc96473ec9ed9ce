// The API client, one signed-in session shared by every tab of this origin.
//
// The access token lives in memory only: never in localStorage, sessionStorage or a cookie a
// script can read. Tabs hand it to each other over a BroadcastChannel (in memory, same origin
// only). The refresh token is an HttpOnly cookie that only /auth/refresh and the two logout
// paths receive; scripts never see it. The CSRF value from the token answers is kept in
// localStorage, so that every tab, and the browser after a restart, can refresh while the
// cookie lives: on its own it grants nothing (a request that carries it must also carry the
// cookie, which only this origin's preflighted requests can send), and a script that could
// read it already runs in this origin and could ask the API directly.
//
// Only one tab refreshes at a time (a Web Lock), and it tells the others the new token, so
// tabs never race each other's rotations; login and logout are told the same way.
import { API_BASE } from "./config.js";

const CSRF_KEY = "myapi.csrf";
const CHANNEL_NAME = "myapi.session";
const REFRESH_LOCK = "myapi.refresh";
// Held (shared) by every tab that holds a token, so a new tab knows whether to ask the others.
const HOLDER_LOCK = "myapi.holder";
// How long to wait for another tab's tokens when one is known to be coming.
const HANDOVER_MS = 2000;
// Refresh this many seconds before the access token expires (or halfway for short tokens).
const REFRESH_MARGIN_SECONDS = 60;

let accessToken = null;
let expiresAt = 0; // when the access token expires, in ms since the epoch
let generation = 0; // counts the tokens this tab has held, to notice another tab's refresh
let refreshTimer = null;
let refreshing = null;
let holding = false; // this tab holds (or has asked for) its share of HOLDER_LOCK
let releaseHolder = null;
const waiters = new Set(); // resolved at the next tokens this tab holds
const listeners = new Set();
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL_NAME) : null;

export class ApiError extends Error {
  /** `reason` is "network" or "origin" for a request that got no readable answer. */
  constructor(status, problem = {}, retryAfter = null, reason = null) {
    super(problem.detail || `Request failed (${status})`);
    this.status = status;
    this.problem = problem;
    this.fieldErrors = problem.errors || {};
    this.retryAfter = retryAfter;
    this.reason = reason;
  }

  /** The API wants a recent password login for this (a refresh cannot give one). */
  get needsFreshLogin() {
    return this.status === 401 && String(this.problem.type || "").endsWith(":fresh-login-required");
  }
}

/**
 * Called with `(true, how)` when this tab holds a session ("login", "resumed", "other-tab")
 * and `(false, why)` when it ends ("logout", "logout-all", "ended", "other-tab-logout",
 * "other-tab-logout-all", "other-tab-ended").
 */
export function onSessionChange(listener) {
  listeners.add(listener);
}

function notify(loggedIn, reason) {
  for (const listener of listeners) listener(loggedIn, reason);
}

export function isLoggedIn() {
  return accessToken !== null;
}

export const apiOrigin = new URL(API_BASE).origin;

/**
 * Why a fetch got no answer it may read: the API is down or unreachable ("network"), or it
 * answered but not to this origin ("origin": a CORS refusal, as when the page is opened on
 * localhost and CORS_ORIGINS lists 127.0.0.1). A no-cors request reaches a running API
 * whatever CORS_ORIGINS says, and its opaque answer is enough to tell the two apart.
 */
async function diagnose() {
  try {
    await fetch(API_BASE + "/healthz", { mode: "no-cors", credentials: "omit", cache: "no-store" });
    return "origin";
  } catch {
    return "network";
  }
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
    const reason = await diagnose();
    throw new ApiError(0, {}, null, reason);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(response.status, data, retryAfter);
  }
  return data;
}

function schedule() {
  clearTimeout(refreshTimer);
  const left = (expiresAt - Date.now()) / 1000;
  const lifetime = Math.max(left, 0);
  const delay = Math.max(5, lifetime > 2 * REFRESH_MARGIN_SECONDS ? lifetime - REFRESH_MARGIN_SECONDS : lifetime / 2);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay * 1000);
}

function wakeWaiters(gotTokens) {
  for (const wake of waiters) wake(gotTokens);
  waiters.clear();
}

/** Take this tab's share of HOLDER_LOCK (kept until the session ends here or the tab closes). */
function shareHolderLock() {
  if (holding || !navigator.locks) return;
  holding = true;
  navigator.locks.request(HOLDER_LOCK, { mode: "shared" }, () =>
    new Promise((release) => {
      releaseHolder = release;
      if (!holding) release(); // the session ended before the lock was granted
    }),
  );
}

function leaveHolderLock() {
  holding = false;
  releaseHolder?.();
  releaseHolder = null;
}

/** Hold these tokens in this tab; `how` says where they came from. */
function hold(tokens, how) {
  const wasLoggedIn = accessToken !== null;
  accessToken = tokens.access_token;
  expiresAt = tokens.expires_at;
  generation += 1;
  schedule();
  wakeWaiters(true);
  shareHolderLock();
  // A login (here or in another tab) may be another account: the page starts over.
  if (!wasLoggedIn || how === "login" || how === "other-tab-login") notify(true, how);
}

/** New tokens from the API: keep the CSRF value for every tab and tell the others. */
function startSession(answer, how) {
  localStorage.setItem(CSRF_KEY, answer.csrf_token);
  const tokens = {
    access_token: answer.access_token,
    expires_at: Date.now() + answer.expires_in * 1000,
  };
  hold(tokens, how);
  channel?.postMessage({ type: how === "login" ? "login" : "tokens", tokens });
}

function endSession(reason, { tell = true } = {}) {
  const wasLoggedIn = accessToken !== null;
  accessToken = null;
  expiresAt = 0;
  generation += 1;
  clearTimeout(refreshTimer);
  leaveHolderLock();
  wakeWaiters(false);
  if (tell) {
    localStorage.removeItem(CSRF_KEY);
    channel?.postMessage({ type: "ended", reason });
  }
  if (wasLoggedIn || tell) notify(false, reason);
}

channel?.addEventListener("message", ({ data }) => {
  if (data?.type === "login") hold(data.tokens, "other-tab-login");
  else if (data?.type === "tokens") hold(data.tokens, "other-tab");
  else if (data?.type === "ended" && accessToken !== null) endSession(`other-tab-${data.reason}`, { tell: false });
  else if (data?.type === "hello" && accessToken !== null) {
    channel.postMessage({ type: "tokens", tokens: { access_token: accessToken, expires_at: expiresAt } });
  }
});

/** Cookie-mode headers: the API puts the refresh token into the cookie, not the body. */
const BROWSER_MODE = { "X-Token-Delivery": "cookie" };

/** `how` is "login", or "reauth" when the same user proves the password again. */
export async function login(username, password, how = "login") {
  const tokens = await send("/auth/login", {
    method: "POST",
    body: { username, password },
    headers: BROWSER_MODE,
    credentials: "include",
  });
  startSession(tokens, how);
}

export function register(username, email, password) {
  return send("/auth/register", { method: "POST", body: { username, email, password } });
}

/** Ask for a password reset link; the API answers the same whether or not an account has `email`. */
export function forgotPassword(email) {
  return send("/auth/password/forgot", { method: "POST", body: { email } });
}

/** Set a new password with the token from a reset link (every session of the account ends). */
export function resetPassword(token, newPassword) {
  return send("/auth/password/reset", { method: "POST", body: { token, new_password: newPassword } });
}

/** Verify an email address with the token from a verification link. */
export function verifyEmail(token) {
  return send("/auth/email/verify", { method: "POST", body: { token } });
}

/**
 * Resolves true when this tab next holds tokens (another tab's, arriving by message), or
 * false after `ms`. The message, not the timer, is what normally ends the wait, so a
 * throttled background tab is not slowed down by it.
 */
function nextTokens(ms) {
  return new Promise((resolve) => {
    waiters.add(resolve);
    setTimeout(() => {
      waiters.delete(resolve);
      resolve(false);
    }, ms);
  });
}

/**
 * Run `task(waited)` under the refresh lock. `waited` is true when another tab held the lock
 * when this one asked: that tab was refreshing, and its tokens are on their way.
 * Web Locks need a secure context (https, or http on loopback); elsewhere tabs may refresh
 * together, which the API's grace window answers with one and the same pair.
 */
function withRefreshLock(task) {
  if (!navigator.locks) return task(false);
  return navigator.locks.request(REFRESH_LOCK, { ifAvailable: true }, (lock) =>
    lock ? task(false) : navigator.locks.request(REFRESH_LOCK, () => task(true)),
  );
}

/**
 * Rotate the refresh cookie for a new access token: one refresh at a time across every tab.
 * When another tab refreshed while this one waited for the lock, its tokens are used: no
 * second rotation. Resolves true when this tab holds a token, false when there is no session.
 */
export function refresh() {
  const asked = generation;
  refreshing ??= withRefreshLock(async (waited) => {
    if (waited && generation === asked) await nextTokens(HANDOVER_MS);
    if (generation !== asked && accessToken !== null) return true;
    const csrf = localStorage.getItem(CSRF_KEY);
    if (!csrf) return false;
    try {
      const tokens = await send("/auth/refresh", {
        method: "POST",
        headers: { ...BROWSER_MODE, "X-CSRF-Token": csrf },
        credentials: "include",
      });
      startSession(tokens, accessToken === null ? "resumed" : "refreshed");
      return true;
    } catch (error) {
      // The session is over (revoked, expired, idle, logged out elsewhere): every tab is
      // told. Anything else, such as the API being down, keeps the CSRF value for next time.
      if (error.status === 401) endSession("ended");
      throw error;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Whether another tab of this origin holds a token now (it holds HOLDER_LOCK). */
async function anotherTabHoldsTokens() {
  if (!navigator.locks) return true; // cannot tell: ask, and wait a little
  const { held } = await navigator.locks.query();
  return held.some((lock) => lock.name === HOLDER_LOCK);
}

/**
 * Restore the session when the page loads: from another open tab if there is one (no
 * rotation), else through the refresh cookie. False if there is no session.
 */
export async function resume() {
  if (!localStorage.getItem(CSRF_KEY)) return false;
  if (channel && (await anotherTabHoldsTokens())) {
    const answer = nextTokens(navigator.locks ? HANDOVER_MS : 150);
    channel.postMessage({ type: "hello" });
    if ((await answer) && accessToken !== null) return true;
  }
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
    if (error.status !== 401 || error.needsFreshLogin) throw error;
    if (!(await refresh().catch(() => false))) {
      if (accessToken !== null) endSession("ended");
      throw error;
    }
    return attempt();
  }
}

/**
 * Prove the password again for an operation that needs a recent password login (changing
 * the password, making a personal access token): a new session replaces this one, in every
 * tab, and the old session is revoked so that no orphan is left in the sessions list.
 */
export async function confirmPassword(username, password) {
  const before = await call("/auth/token-info");
  await login(username, password, "reauth");
  if (before.sid) {
    await call(`/auth/sessions/${before.sid}`, { method: "DELETE" }).catch((error) => {
      if (error.status !== 404) throw error;
    });
  }
}

/**
 * End the session on the server with what the browser surely still holds: the refresh
 * cookie and the CSRF value, so an access token that expired while the laptop slept does
 * not matter. Resolves "done", or "already-ended" when the server no longer knew the session
 * (then this page was logged out anyway); rejects, keeping the session here, when the
 * logout could not be confirmed, so the user can try again. Every tab is told.
 */
export async function logout({ everywhere = false } = {}) {
  const csrf = localStorage.getItem(CSRF_KEY);
  const proof = csrf ? { "X-CSRF-Token": csrf } : { Authorization: `Bearer ${accessToken}` };
  const reason = everywhere ? "logout-all" : "logout";
  try {
    await send(everywhere ? "/auth/logout-all" : "/auth/logout", {
      method: "POST",
      headers: { ...BROWSER_MODE, ...proof },
      credentials: "include",
    });
  } catch (error) {
    if (error.status !== 401) throw error;
    endSession("ended");
    return "already-ended";
  }
  endSession(reason);
  return "done";
}
