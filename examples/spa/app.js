// The page: log in or register (or reset a forgotten password), then notes, sessions,
// personal access tokens, connected apps, the email address and the password; and, at
// /reset-password and /verify-email, the pages the emailed links open. Everything the API returns is put on the page with textContent, never as HTML.
import * as api from "./api.js";
import { API_BASE } from "./config.js";

document.body.dataset.starting = "1";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const NOTES_PER_PAGE = 20;

// The emailed links open /reset-password#token=... and /verify-email#token=... (serve.py
// answers both paths with this page); anything else is the app itself.
let PAGE = location.pathname.endsWith("/reset-password") ? "reset" : location.pathname.endsWith("/verify-email") ? "verify" : "app";
const APP_HOME = location.pathname.replace(/[^/]*$/, "");
// Tells the other tabs of this origin that the account changed (an email address verified).
const accountChannel = typeof BroadcastChannel === "function" ? new BroadcastChannel("myapi.account") : null;
const VIEWS = { notes: "Your notes", sessions: "Sessions", tokens: "Personal access tokens", apps: "Connected apps", email: "Email address", password: "Change password" };

// --- Messages ----------------------------------------------------------------------------
// Two regions that are always in the page (so screen readers announce what appears in them):
// errors in role=alert, confirmations in role=status. A message stays until it is replaced
// or dismissed, and the regions float over the page instead of pushing it down.

function showMessage(text, kind = "error") {
  const box = kind === "error" ? $("#alert") : $("#status");
  const other = kind === "error" ? $("#status") : $("#alert");
  setMessage(other, "");
  setMessage(box, text);
}

function setMessage(box, text) {
  $(".message-text", box).textContent = text;
  $(".dismiss", box).hidden = !text;
  box.classList.toggle("shown", Boolean(text));
}

function clearMessages() {
  setMessage($("#alert"), "");
  setMessage($("#status"), "");
}

for (const box of [$("#alert"), $("#status")]) {
  $(".dismiss", box).addEventListener("click", () => setMessage(box, ""));
}

// --- Explaining errors ---------------------------------------------------------------------

const PAGE_ORIGIN = location.origin;

const MESSAGES = {
  401: "Your session has ended. Please log in again.",
  403: "You are not allowed to do that with this account.",
  404: "That item no longer exists.",
  409: "That username or email is already taken.",
  413: "That is too long to save.",
  422: "Please correct the highlighted fields.",
  429: "Too many requests.",
  503: "The service is briefly unavailable. Please try again in a moment.",
};

/** "Try again in 59 minutes": seconds under two minutes, then minutes, then hours. */
function waitText(seconds) {
  if (seconds < 120) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} hours`;
}

function explain(error) {
  if (error.reason === "network") {
    return `Cannot reach the API at ${API_BASE}. It may be stopped or at another address (examples/spa/config.js names it).`;
  }
  if (error.reason === "origin") {
    return (
      `The API at ${API_BASE} refused this page's origin, ${PAGE_ORIGIN}. ` +
      `Add ${PAGE_ORIGIN} to the API's CORS_ORIGINS setting, or open this page at an origin it lists ` +
      "(an exact match: localhost and 127.0.0.1 are different origins)."
    );
  }
  if (error.status === 429) {
    const wait = error.retryAfter ? ` Try again in ${waitText(error.retryAfter)}.` : " Try again shortly.";
    return MESSAGES[429] + wait;
  }
  return MESSAGES[error.status] || "Something went wrong. Please try again.";
}

/** The site (scheme and registrable domain) of a URL, as SameSite compares them. */
function siteOf(url) {
  const { protocol, hostname } = new URL(url);
  // An IP address or a single-label name is its own site. For a domain this takes the last
  // two labels, which is right for example.com but not for a public suffix such as co.uk:
  // enough for a warning, which is all this is.
  const isAddress = /^[\d.]+$/.test(hostname) || hostname.includes(":") || !hostname.includes(".");
  const site = isAddress ? hostname : hostname.split(".").slice(-2).join(".");
  return `${protocol}//${site}`;
}

function warnAboutConfiguration() {
  const pageSite = siteOf(location.href);
  const apiSite = siteOf(API_BASE);
  if (pageSite === apiSite) return;
  const box = $("#config-warning");
  box.textContent =
    `This page (${PAGE_ORIGIN}) and the API (${api.apiOrigin}) are on different sites, so the browser ` +
    "will not send the API's SameSite=Strict refresh cookie: every reload would log you out. " +
    "Serve both from one site (open the page at the same host name as the API, such as 127.0.0.1), " +
    "or, over HTTPS only, set REFRESH_COOKIE_SAMESITE=None on the API.";
  box.hidden = false;
}

// --- Forms ---------------------------------------------------------------------------------

let uniqueId = 0;

/** Link each field to its error (and hint) with aria-describedby; ids for template copies. */
function wireForm(form) {
  for (const slot of $$(".field-error", form)) {
    const field = form.elements[slot.dataset.for];
    slot.id ||= `error-${++uniqueId}`;
    const target = field instanceof RadioNodeList ? null : field;
    if (!target) continue;
    target.id ||= `field-${++uniqueId}`;
    const described = new Set((target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
    described.add(slot.id);
    target.setAttribute("aria-describedby", [...described].join(" "));
  }
  for (const label of $$("label[data-for-field]", form)) {
    label.htmlFor = form.elements[label.dataset.forField].id;
  }
}

function clearErrors(form) {
  for (const p of $$(".field-error", form)) p.textContent = "";
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
}

function markInvalid(form, field, text) {
  const slot = $(`.field-error[data-for="${CSS.escape(field)}"]`, form);
  if (!slot) return false;
  slot.textContent = text;
  const input = form.elements[field];
  if (input && !(input instanceof RadioNodeList)) input.setAttribute("aria-invalid", "true");
  return true;
}

function focusFirstInvalid(form) {
  $('[aria-invalid="true"]', form)?.focus();
}

/** Empty required fields, in plain words, before anything is sent. */
function checkRequired(form) {
  let missing = false;
  for (const input of $$("[required]", form)) {
    if (input.value.trim() === "") {
      markInvalid(form, input.name, input.dataset.empty || "This field is required.");
      missing = true;
    }
  }
  return !missing;
}

/** Show an API error: field messages next to their inputs, and a message in the alert region. */
function report(error, form) {
  if (form && error.status === 422) {
    let placed = false;
    for (const [field, messages] of Object.entries(error.fieldErrors)) {
      const input = form.elements[field];
      const plain = input?.value === "" && input.dataset?.empty;
      placed = markInvalid(form, field, plain || messages.join(" ")) || placed;
    }
    if (placed) {
      focusFirstInvalid(form);
      return showMessage(MESSAGES[422]);
    }
    return showMessage(error.problem.detail || MESSAGES[422]);
  }
  showMessage(explain(error));
}

/** An error already shown on the page: nothing more to report. */
class Handled extends Error {}

function busy(form, on) {
  for (const button of $$("button", form)) button.disabled = on;
  form.setAttribute("aria-busy", String(on));
}

/** Run a form submission: check empty fields, disable buttons, report failures. */
function handle(form, action, { messageFor } = {}) {
  wireForm(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    clearMessages();
    if (!checkRequired(form)) {
      focusFirstInvalid(form);
      showMessage(MESSAGES[422]);
      return;
    }
    busy(form, true);
    try {
      await action(new FormData(form));
    } catch (error) {
      if (error instanceof Handled) return;
      if (!(error instanceof api.ApiError)) throw error;
      const custom = messageFor?.(error);
      custom ? showMessage(custom) : report(error, form);
    } finally {
      busy(form, false);
    }
  });
}

/** A confirmation in a modal dialog; Escape or Cancel answer false. */
function confirmAction(text, okLabel) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener?.isConnected) opener.focus();
        resolve(dialog.returnValue === "ok");
      },
      { once: true },
    );
  });
}

/** After removing `item` from a list, focus its neighbour (or `fallback` when it was the last). */
function focusAfterRemoval(item, fallback) {
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  (next ? $("button", next) || next : fallback).focus();
}

// --- Logged out: log in and register (a tabs pattern) ------------------------------------

const TABS = ["login", "register"];

function showTab(name, { focus = "field" } = {}) {
  $("#forgot-panel").hidden = true;
  $(".tabs").hidden = false;
  for (const tab of TABS) {
    const selected = tab === name;
    const button = $(`#tab-${tab}`);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`#${tab}-panel`).hidden = !selected;
  }
  if (focus === "tab") $(`#tab-${name}`).focus();
  else if (focus === "field") $(`#${name}-form`).elements[0].focus();
}

for (const tab of TABS) {
  $(`#tab-${tab}`).addEventListener("click", () => showTab(tab));
}
$(".tabs").addEventListener("keydown", (event) => {
  const current = TABS.indexOf(document.activeElement?.id.replace("tab-", ""));
  if (current < 0) return;
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  showTab(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: "tab" });
});

// --- Logged out: a forgotten password ------------------------------------------------------

const FORGOT_SENT =
  "If an account has that address, a link to choose a new password is on its way to it. " +
  "Check your email (and its spam folder); the link works for a short while.";

function showForgot() {
  const typed = $("#login-username").value.trim();
  $(".tabs").hidden = true;
  for (const tab of TABS) $(`#${tab}-panel`).hidden = true;
  $("#forgot-panel").hidden = false;
  if (typed.includes("@") && !$("#forgot-email").value) $("#forgot-email").value = typed;
  $("#forgot-email").focus();
}

$("#forgot-open").addEventListener("click", () => {
  clearMessages();
  showForgot();
});
$("#forgot-close").addEventListener("click", () => showTab("login"));

handle(
  $("#forgot-form"),
  async (data) => {
    await api.forgotPassword(data.get("email").trim());
    showMessage(FORGOT_SENT, "success");
  },
  { messageFor: (error) => (error.status === 404 ? "This server does not send password reset emails: ask its administrator." : null) },
);

// --- The pages the emailed links open ---------------------------------------------------------

/** The token from the link's fragment; it leaves the address bar (and the history) at once. */
function takeToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  history.replaceState(null, "", location.pathname);
  return token;
}

/** From a link's page to the login screen of the app, without loading the page again. */
function leaveLinkPage() {
  PAGE = "app";
  history.replaceState(null, "", APP_HOME);
  $("#reset").hidden = true;
  $("#verify").hidden = true;
  document.title = "myapi notes";
  leaveWorkspace();
}

let resetToken = null;

function showReset(token) {
  setLoading("");
  document.body.dataset.state = "reset";
  document.title = "Choose a new password · myapi notes";
  $("#reset").hidden = false;
  resetToken = token;
  if (token) $("#reset-title").focus();
  else resetLinkDead("This page needs the link from the password reset email. Ask for a new one.");
}

function resetLinkDead(text) {
  $("#reset-form").hidden = true;
  $("#reset-dead").hidden = false;
  showMessage(text);
  $("#reset-ask-again").focus();
}

$("#reset-ask-again").addEventListener("click", () => {
  leaveLinkPage();
  showForgot();
});

handle($("#reset-form"), async (data) => {
  const form = $("#reset-form");
  const password = data.get("new_password");
  if (password !== data.get("new_password_again")) {
    markInvalid(form, "new_password_again", "The two passwords differ: enter the same new password twice.");
    focusFirstInvalid(form);
    showMessage(MESSAGES[422]);
    return;
  }
  try {
    await api.resetPassword(resetToken, password);
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 400) {
      resetLinkDead("This link does not work any more: it was used, a newer one was asked for, or it expired. Ask for a new one.");
      throw new Handled();
    }
    throw error;
  }
  leaveLinkPage();
  showMessage("Your new password is set, and every session of your account has ended. Log in with it.", "success");
});

// A second link opened in the same tab changes only the fragment: no new page load.
window.addEventListener("hashchange", () => {
  if (PAGE === "app" || !new URLSearchParams(location.hash.slice(1)).has("token")) return;
  clearMessages();
  if (PAGE === "reset") {
    $("#reset-form").hidden = false;
    $("#reset-dead").hidden = true;
    showReset(takeToken());
  } else {
    showVerify(takeToken());
  }
});

async function showVerify(token) {
  setLoading("");
  document.body.dataset.state = "verify";
  $("#verify").hidden = false;
  $("#verify-title").textContent = "Verifying your email address…";
  $("#verify-text").textContent = "";
  $("#verify-continue").href = APP_HOME;
  let title = "This link does not work";
  let text;
  if (!token) {
    text = "This page needs the link from the verification email.";
  } else {
    try {
      await api.verifyEmail(token);
      title = "Email address verified";
      text = "Your email address is verified. Thank you!";
      accountChannel?.postMessage({ type: "email-verified" });
    } catch (error) {
      if (error.status === 400) {
        text = "It was used already, a newer one was sent, it expired, or your address changed since. Log in to send yourself a new link.";
      } else if (error.status === 409) {
        text = "Another account has taken that address since you asked for it. Log in and choose another address.";
      } else {
        text = explain(error);
      }
    }
  }
  document.title = `${title} · myapi notes`;
  $("#verify-title").textContent = title;
  $("#verify-text").textContent = text;
  $("#verify-title").focus();
}

// --- Logged in: the email address --------------------------------------------------------------

// False once the API said it sends no account emails (ACCOUNT_EMAILS off: a 404), which it
// has no other way of saying: then the banner is not shown again in this page.
let accountEmails = true;
const NO_ACCOUNT_EMAILS = "This server sends no account emails, so email addresses cannot be verified or changed here.";

function updateAccount() {
  $("#verify-banner").hidden = !accountEmails || account?.email_verified !== false;
  $("#verify-banner-email").textContent = account?.email ?? "";
  $("#email-current").textContent = account?.email ?? "";
}

accountChannel?.addEventListener("message", ({ data }) => {
  if (data?.type !== "email-verified" || !api.isLoggedIn()) return;
  api
    .call("/auth/me")
    .then((me) => {
      account = me;
      updateAccount();
    })
    .catch(() => {});
});

$("#verify-resend").addEventListener("click", async () => {
  const button = $("#verify-resend");
  button.disabled = true;
  try {
    await api.call("/auth/email/resend", { method: "POST" });
    showMessage(`A new link is on its way to ${account.email}; earlier links no longer work.`, "success");
  } catch (error) {
    if (error.status === 409) {
      account = await api.call("/auth/me").catch(() => account);
      updateAccount();
      showMessage("Your email address is verified already.", "success");
    } else if (error.status === 404) {
      accountEmails = false;
      updateAccount();
      $("#view-title").focus();
      showMessage(NO_ACCOUNT_EMAILS);
    } else {
      report(error);
    }
  } finally {
    button.disabled = false;
  }
});

handle(
  $("#email-form"),
  async (data) => {
    const form = $("#email-form");
    const email = data.get("email").trim();
    const password = data.get("password");
    const change = () => api.call("/auth/email", { method: "PUT", body: { email } });
    const askForPassword = () => {
      markInvalid(form, "password", "Enter your password: changing the email address needs a recent password login.");
      focusFirstInvalid(form);
      showMessage("Please confirm your password to change the email address.");
    };
    // The change is limited per account, refused attempts included: confirm the password
    // first when the login is not recent, instead of spending an attempt on a refusal.
    const { fresh } = await api.call("/auth/token-info");
    if (!fresh) {
      if (!password) return askForPassword();
      await confirmPassword(password, form);
    }
    try {
      await change();
    } catch (error) {
      if (!(error instanceof api.ApiError && error.needsFreshLogin)) throw error;
      if (!password) return askForPassword();
      await confirmPassword(password, form);
      await change();
    }
    form.reset();
    showMessage(`A link is on its way to ${email}. Your account moves to that address when you follow the link; until then it stays ${account.email}.`, "success");
  },
  {
    messageFor: (error) => {
      if (error.status === 404) return NO_ACCOUNT_EMAILS;
      if (error.status !== 409) return null;
      markInvalid($("#email-form"), "email", error.problem.detail || "That address cannot be used.");
      focusFirstInvalid($("#email-form"));
      return MESSAGES[422];
    },
  },
);

handle(
  $("#login-form"),
  async (data) => {
    await api.login(data.get("username").trim(), data.get("password"));
    $("#login-form").reset();
  },
  { messageFor: (error) => (error.status === 401 ? "The username or password is incorrect." : null) },
);

handle(
  $("#register-form"),
  async (data) => {
    const password = data.get("password");
    const account = await api.register(data.get("username").trim(), data.get("email").trim(), password);
    // The name as the server stores it (lower case, one normal form), which is what logs in.
    await api.login(account.username, password);
    $("#register-form").reset();
    showMessage(`Welcome, ${account.username}! Your account is ready.`, "success");
  },
  {
    messageFor: (error) => {
      if (error.status !== 409) return null;
      const form = $("#register-form");
      const fields = Object.keys(error.fieldErrors);
      for (const field of fields) markInvalid(form, field, error.fieldErrors[field].join(" "));
      focusFirstInvalid(form);
      if (fields.length === 1) return `That ${fields[0] === "email" ? "email" : "username"} is already taken.`;
      return fields.length ? "That username and that email are both taken." : MESSAGES[409];
    },
  },
);

// --- Logged in: switching views ------------------------------------------------------------

let account = null;

function currentView() {
  const name = location.hash.slice(1);
  return name in VIEWS ? name : "notes";
}

function showView(name, { focus = true } = {}) {
  for (const view of Object.keys(VIEWS)) {
    $(`#view-${view}`).hidden = view !== name;
    const link = $(`.views a[data-view="${view}"]`);
    if (view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("#view-title").textContent = VIEWS[name];
  document.title = `${VIEWS[name]} · myapi notes`;
  if (name === "sessions") loadSessions().catch(report);
  if (name === "tokens") loadTokens().catch(report);
  if (name === "apps") loadApps().catch(report);
  if (focus) $("#view-title").focus();
}

window.addEventListener("hashchange", () => {
  // Only the screens' own links switch screens (not the skip link's #main).
  if (api.isLoggedIn() && location.hash.slice(1) in VIEWS) showView(currentView());
});

// --- Logged in: notes ------------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function closeEdit(item) {
  const form = $("form.edit", item);
  clearErrors(form);
  form.hidden = true;
  $(".view", item).hidden = false;
  $('[data-action="edit"]', item).focus();
}

function renderNote(note) {
  const item = $("#note-template").content.firstElementChild.cloneNode(true);
  item.dataset.id = note.id;
  const form = $("form.edit", item);
  fillNote(item, note);
  $('[data-action="edit"]', item).addEventListener("click", () => {
    form.elements.title.value = note.title;
    form.elements.body.value = note.body ?? "";
    $(".view", item).hidden = true;
    form.hidden = false;
    form.elements.title.focus();
  });
  $('[data-action="cancel"]', item).addEventListener("click", () => closeEdit(item));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeEdit(item);
    }
  });
  $('[data-action="delete"]', item).addEventListener("click", async () => {
    if (!(await confirmAction(`Delete the note “${note.title}”? This cannot be undone.`, "Delete note"))) return;
    try {
      await api.call(`/api/v1/notes/${note.id}`, { method: "DELETE" });
      focusAfterRemoval(item, $("#compose-note-title"));
      noteTotal -= 1;
      updateCount();
      showMessage(`Note “${note.title}” deleted.`, "success");
      if ($("#notes").children.length === 0 && notePage > 1) await loadNotes(notePage - 1);
    } catch (error) {
      report(error);
    }
  });
  handle(form, async (data) => {
    const changed = await api.call(`/api/v1/notes/${note.id}`, {
      method: "PATCH",
      body: { title: data.get("title").trim(), body: data.get("body") },
    });
    Object.assign(note, changed);
    fillNote(item, note);
    closeEdit(item);
  });
  return item;
}

function fillNote(item, note) {
  $(".note-title", item).textContent = note.title;
  $(".note-body", item).textContent = note.body ?? "";
  $(".note-body", item).hidden = !note.body;
  $('[data-action="edit"] .visually-hidden', item).textContent = ` note: ${note.title}`;
  $('[data-action="delete"] .visually-hidden', item).textContent = ` note: ${note.title}`;
  const time = $(".note-time", item);
  const stamp = note.updated_at || note.created_at;
  time.dateTime = stamp;
  time.textContent = stamp ? dateFormat.format(new Date(stamp)) : "";
}

let noteTotal = 0;
let notePage = 1;
let notePages = 1;

function updateCount() {
  $("#note-count").textContent = noteTotal === 1 ? "1 note" : `${noteTotal} notes`;
  $("#notes-empty").hidden = noteTotal > 0;
  $("#pager").hidden = notePages <= 1;
  $("#page-label").textContent = `Page ${notePage} of ${notePages}`;
  $("#page-prev").disabled = notePage <= 1;
  $("#page-next").disabled = notePage >= notePages;
}

async function loadNotes(page = 1) {
  const answer = await api.call(`/api/v1/notes?page=${page}&per_page=${NOTES_PER_PAGE}`);
  $("#notes").replaceChildren(...answer.items.map(renderNote));
  noteTotal = answer.total;
  notePage = answer.page;
  notePages = Math.max(1, answer.pages);
  updateCount();
}

for (const [button, step] of [
  ["#page-prev", -1],
  ["#page-next", 1],
]) {
  $(button).addEventListener("click", () => {
    loadNotes(notePage + step)
      .then(() => $("#notes-title").scrollIntoView({ block: "nearest" }))
      .then(() => ($("#notes").firstElementChild || $("#compose-note-title")).focus())
      .catch(report);
  });
}

handle($("#note-form"), async (data) => {
  const note = await api.call("/api/v1/notes", {
    method: "POST",
    body: { title: data.get("title").trim(), body: data.get("body") },
  });
  $("#note-form").reset();
  await loadNotes(1); // the newest note is first on page 1
  showMessage(`Note “${note.title}” added.`, "success");
});

// --- Logged in: sessions ------------------------------------------------------------------------

function describeAgent(agent) {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chrome" : /Firefox\//.test(agent) ? "Firefox" : /Safari\//.test(agent) ? "Safari" : /curl\//.test(agent) ? "curl" : "Client";
  const system = /Windows/.test(agent) ? "Windows" : /Mac OS X/.test(agent) ? "macOS" : /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Linux/.test(agent) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

function line(text, className = "hint") {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

async function loadSessions() {
  const sessions = await api.call("/auth/sessions");
  const items = sessions.map((session) => {
    const item = document.createElement("li");
    item.tabIndex = -1;
    const text = document.createElement("div");
    const device = describeAgent(session.user_agent);
    const signedIn = new Date(session.created_at);
    text.append(
      line(device, "name"),
      line(`Signed in ${dateFormat.format(signedIn)}`),
      line(`Last active ${dateFormat.format(new Date(session.last_used_at))}`),
      line(session.ip || "unknown address"),
    );
    item.append(text);
    if (session.current) {
      item.append(line("This device", "badge"));
      item.classList.add("current");
    } else {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "ghost small danger";
      const label = `${device}, signed in ${dateFormat.format(signedIn)}`;
      revoke.append("Revoke", line(` session: ${label}`, "visually-hidden"));
      revoke.addEventListener("click", async () => {
        if (!(await confirmAction(`Revoke the session ${label}? That browser or device is logged out at once.`, "Revoke session"))) return;
        try {
          await api.call(`/auth/sessions/${session.id}`, { method: "DELETE" });
          focusAfterRemoval(item, $("#sessions-reload"));
          showMessage(`Session revoked: ${label}.`, "success");
        } catch (error) {
          report(error);
        }
      });
      item.append(revoke);
    }
    return item;
  });
  $("#sessions").replaceChildren(...items);
}

$("#sessions-reload").addEventListener("click", () => {
  loadSessions()
    .then(() => showMessage("Sessions list refreshed.", "success"))
    .catch(report);
});

// --- Logged in: personal access tokens ---------------------------------------------------------

async function loadTokens() {
  const [tokens, info] = await Promise.all([api.call("/auth/tokens"), api.call("/auth/token-info")]);
  renderScopeChoices(info.scope.split(" ").filter(Boolean));
  const items = tokens.map((token) => {
    const item = document.createElement("li");
    item.tabIndex = -1;
    const text = document.createElement("div");
    text.append(
      line(token.name, "name"),
      line(`May: ${token.scope}`),
      line(`Made ${dateFormat.format(new Date(token.created_at))}, expires ${dateFormat.format(new Date(token.expires_at))}`),
      line(token.last_used_at ? `Last used ${dateFormat.format(new Date(token.last_used_at))}` : "Never used"),
    );
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "ghost small danger";
    revoke.append("Revoke", line(` token: ${token.name}`, "visually-hidden"));
    revoke.addEventListener("click", async () => {
      if (!(await confirmAction(`Revoke the token “${token.name}”? Scripts using it stop working at once.`, "Revoke token"))) return;
      try {
        await api.call(`/auth/tokens/${token.id}`, { method: "DELETE" });
        focusAfterRemoval(item, $("#token-name"));
        $("#tokens-empty").hidden = $("#tokens").children.length > 0;
        showMessage(`Token “${token.name}” revoked.`, "success");
      } catch (error) {
        report(error);
      }
    });
    item.append(text, revoke);
    return item;
  });
  $("#tokens").replaceChildren(...items);
  $("#tokens-empty").hidden = tokens.length > 0;
}

function renderScopeChoices(scopes) {
  const box = $("#token-scope-choices");
  const checked = new Set($$("input:checked", box).map((input) => input.value));
  box.replaceChildren(
    ...scopes.map((scope) => {
      const label = document.createElement("label");
      label.className = "choice";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "scope";
      input.value = scope;
      input.checked = checked.size ? checked.has(scope) : scope.endsWith(":read");
      label.append(input, ` ${scope}`);
      return label;
    }),
  );
}

handle($("#token-form"), async (data) => {
  const scope = data.getAll("scope").join(" ");
  if (!scope) {
    markInvalid($("#token-form"), "scope", "Choose at least one thing the token may do.");
    $("#token-scope-choices input")?.focus();
    showMessage(MESSAGES[422]);
    return;
  }
  const body = { name: data.get("name").trim(), scope, expires_in_days: Number(data.get("expires_in_days")) };
  const make = () => api.call("/auth/tokens", { method: "POST", body });
  let made;
  try {
    made = await make();
  } catch (error) {
    if (!(error instanceof api.ApiError && error.needsFreshLogin)) throw error;
    const password = data.get("password");
    if (!password) {
      markInvalid($("#token-form"), "password", "Enter your password: making a token needs a recent password login.");
      focusFirstInvalid($("#token-form"));
      showMessage("Please confirm your password to make a token.");
      return;
    }
    await confirmPassword(password, $("#token-form"));
    made = await make();
  }
  $("#token-form").reset();
  $("#token-value").value = made.token;
  $("#token-made").hidden = false;
  $("#token-made-title").focus();
  await loadTokens();
});

/** A recent password login for an operation that needs one; a wrong password is a field error. */
async function confirmPassword(password, form, field = "password") {
  try {
    await api.confirmPassword(account.username, password);
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) {
      const wrong = new api.ApiError(422, { errors: { [field]: ["That password is not right."] } });
      report(wrong, form);
      throw new Handled();
    }
    throw error;
  }
}

$("#token-copy").addEventListener("click", async () => {
  const value = $("#token-value").value;
  try {
    await navigator.clipboard.writeText(value);
    showMessage("Token copied to the clipboard.", "success");
  } catch {
    $("#token-value").select();
    showMessage("Copying was not allowed here: the token is selected, press Ctrl+C (or ⌘C) to copy it.");
  }
});

$("#token-done").addEventListener("click", () => {
  $("#token-value").value = "";
  $("#token-made").hidden = true;
  $("#token-name").focus();
});

// --- Logged in: connected apps ------------------------------------------------------------------

// What each scope lets an app do, in the words of the API's consent page (myapi/oauth/authorize.py).
const SCOPE_WORDS = {
  openid: "Know who you are on myapi (sign you in)",
  profile: "See your username",
  email: "See your email address",
  "notes:read": "Read your notes",
  "notes:write": "Create, change and delete your notes",
  "users:read": "See every account on myapi (you are an administrator)",
  "users:write": "Change, disable and delete accounts on myapi (you are an administrator)",
};

async function loadApps() {
  const apps = await api.call("/auth/grants");
  const items = apps.map((app) => {
    const item = document.createElement("li");
    item.tabIndex = -1;
    const text = document.createElement("div");
    const scopes = document.createElement("ul");
    scopes.className = "scopes";
    scopes.setAttribute("aria-label", `What ${app.name} may do`);
    const order = Object.keys(SCOPE_WORDS);
    const rank = (scope) => (order.includes(scope) ? order.indexOf(scope) : order.length);
    for (const scope of app.scope.split(" ").filter(Boolean).sort((a, b) => rank(a) - rank(b))) {
      const entry = document.createElement("li");
      entry.textContent = SCOPE_WORDS[scope] || scope;
      scopes.append(entry);
    }
    text.append(
      line(app.name, "name"),
      scopes,
      line(`Allowed ${dateFormat.format(new Date(app.granted_at))}`),
      line(app.last_used_at ? `Last used ${dateFormat.format(new Date(app.last_used_at))}` : "Not used yet"),
    );
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "ghost small danger";
    revoke.textContent = "Revoke access";
    revoke.setAttribute("aria-label", `Revoke access: ${app.name}`);
    revoke.addEventListener("click", async () => {
      if (!(await confirmAction(`Revoke the access of “${app.name}”? It can no longer use your account, at once, until you allow it again.`, "Revoke access"))) return;
      try {
        await api.call(`/auth/grants/${encodeURIComponent(app.client_id)}`, { method: "DELETE" });
        focusAfterRemoval(item, $("#view-title"));
        $("#apps-empty").hidden = $("#apps").children.length > 0;
        showMessage(`Access revoked: ${app.name}.`, "success");
      } catch (error) {
        report(error);
      }
    });
    item.append(text, revoke);
    return item;
  });
  $("#apps").replaceChildren(...items);
  $("#apps-empty").hidden = apps.length > 0;
}

// --- Logged in: password -------------------------------------------------------------------------

handle($("#password-form"), async (data) => {
  const body = { current_password: data.get("current_password"), new_password: data.get("new_password") };
  const change = () => api.call("/auth/password", { method: "PUT", body });
  try {
    await change();
  } catch (error) {
    if (!(error instanceof api.ApiError && error.needsFreshLogin)) throw error;
    await confirmPassword(body.current_password, $("#password-form"), "current_password");
    await change();
  }
  $("#password-form").reset();
  showMessage("Password changed. Every other session and every personal access token has ended.", "success");
});

// --- Logging out ---------------------------------------------------------------------------------

const LOGGED_OUT = {
  done: { false: "Logged out.", true: "Logged out on every device." },
  "already-ended": {
    false: "Your session had already ended.",
    true: "This session had already ended, so other devices could not be logged out from here. Log in and try again.",
  },
};

async function logout(everywhere) {
  try {
    const outcome = await api.logout({ everywhere });
    showMessage(LOGGED_OUT[outcome][everywhere], outcome === "done" ? "success" : "error");
  } catch (error) {
    showMessage(`The logout could not be confirmed: ${explain(error)} You are still logged in.`);
  }
}

$("#logout").addEventListener("click", () => logout(false));
$("#logout-all").addEventListener("click", async () => {
  const sure = await confirmAction(
    "Log out everywhere? Every session, on every browser and device, ends, and so does every personal access token.",
    "Log out everywhere",
  );
  if (sure) await logout(true);
});

// What a tab says when its session ends without a click in it. A logout here says its own.
const SIGNED_OUT = {
  ended: "Your session has ended (it expired, was revoked, or was not used for a while). Please log in again.",
  "other-tab-logout": "You logged out in another tab.",
  "other-tab-logout-all": "You logged out everywhere from another tab.",
  "other-tab-ended": "Your session has ended (it expired, was revoked, or was not used for a while). Please log in again.",
};

// --- Switching between the two states ---------------------------------------------------------------

function setLoading(text) {
  $("#loading").classList.remove("failed");
  $("#loading").hidden = !text;
  $("#loading-text").textContent = text || "";
}

async function enterWorkspace(how) {
  setLoading("Loading your notes…");
  $("#auth").hidden = true;
  try {
    account = await api.call("/auth/me");
    $("#who").textContent = account.username;
    updateAccount();
    await loadNotes(1);
  } finally {
    setLoading("");
  }
  $("#workspace").hidden = false;
  $("#account").hidden = false;
  document.body.dataset.state = "in";
  showView(currentView(), { focus: how === "login" || how === "other-tab-login" });
  if (how === "other-tab-login") showMessage("You logged in in another tab.", "success");
}

function leaveWorkspace(reason) {
  account = null;
  updateAccount();
  $("#workspace").hidden = true;
  $("#account").hidden = true;
  $("#notes").replaceChildren();
  $("#sessions").replaceChildren();
  $("#tokens").replaceChildren();
  $("#apps").replaceChildren();
  $("#token-value").value = "";
  $("#token-made").hidden = true;
  for (const form of $$("form")) form.reset();
  setLoading("");
  $("#auth").hidden = false;
  const wasIn = document.body.dataset.state === "in";
  document.body.dataset.state = "out";
  showTab("login", { focus: "none" });
  if (SIGNED_OUT[reason]) showMessage(SIGNED_OUT[reason]);
  $(wasIn ? "#auth-title" : "#login-username").focus();
}

api.onSessionChange((loggedIn, how) => {
  if (PAGE !== "app") return; // a link's page stays as it is; the app starts when it is left
  if (loggedIn) {
    enterWorkspace(how).catch((error) => {
      report(error);
      $("#loading").hidden = false;
      $("#loading").classList.add("failed");
      $("#loading-text").textContent = "Your notes could not be loaded. Reload the page to try again.";
    });
  } else {
    $("#loading").classList.remove("failed");
    leaveWorkspace(how);
  }
});

for (const form of $$("form")) if (!form.closest("template")) wireForm(form);

async function start() {
  warnAboutConfiguration();
  if (PAGE === "reset") return showReset(takeToken());
  if (PAGE === "verify") return showVerify(takeToken());
  try {
    if (!(await api.resume())) leaveWorkspace();
  } catch (error) {
    leaveWorkspace();
    report(error);
  }
}

start();
