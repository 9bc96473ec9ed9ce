// The page: log in or register, then notes and sessions. Everything the API returns is
// put on the page with textContent, never as HTML.
import * as api from "./api.js";

const $ = (selector, root = document) => root.querySelector(selector);

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

function explain(error) {
  if (error.status === 429) {
    const wait = error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : " Try again shortly.";
    return MESSAGES[429] + wait;
  }
  if (error.status === 0) return error.message;
  return MESSAGES[error.status] || "Something went wrong. Please try again.";
}

let messageTimer = null;
function showMessage(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => (box.hidden = true), kind === "error" ? 8000 : 4000);
}

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Show an API error: field messages next to their inputs, and a banner. */
function report(error, form) {
  if (form && error.status === 422) {
    let placed = false;
    for (const [field, messages] of Object.entries(error.fieldErrors)) {
      const slot = form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`);
      if (slot) {
        slot.textContent = messages.join(" ");
        form.elements[field]?.setAttribute("aria-invalid", "true");
        placed = true;
      }
    }
    if (!placed) return showMessage(error.problem.detail || MESSAGES[422]);
  }
  showMessage(explain(error));
}

function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

/** Run a form submission: clear old errors, disable buttons, report failures. */
function handle(form, action, { messageFor } = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    $("#message").hidden = true;
    busy(form, true);
    try {
      await action(new FormData(form));
    } catch (error) {
      if (!(error instanceof api.ApiError)) throw error;
      const custom = messageFor?.(error);
      custom ? showMessage(custom) : report(error, form);
    } finally {
      busy(form, false);
    }
  });
}

// --- Logged out: log in and register -------------------------------------------------

function showTab(name) {
  const login = name === "login";
  $("#tab-login").setAttribute("aria-selected", String(login));
  $("#tab-register").setAttribute("aria-selected", String(!login));
  $("#login-form").hidden = !login;
  $("#register-form").hidden = login;
  (login ? $("#login-form") : $("#register-form")).elements[0].focus();
}

$("#tab-login").addEventListener("click", () => showTab("login"));
$("#tab-register").addEventListener("click", () => showTab("register"));

handle(
  $("#login-form"),
  async (data) => {
    await api.login(data.get("username").trim(), data.get("password"));
    $("#login-form").reset();
  },
  { messageFor: (error) => (error.status === 401 ? "The username or password is incorrect." : null) },
);

handle($("#register-form"), async (data) => {
  const username = data.get("username").trim();
  const password = data.get("password");
  await api.register(username, data.get("email").trim(), password);
  await api.login(username, password);
  $("#register-form").reset();
  showMessage(`Welcome, ${username}! Your account is ready.`, "success");
});

// --- Logged in: notes ------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function renderNote(note) {
  const item = $("#note-template").content.firstElementChild.cloneNode(true);
  item.dataset.id = note.id;
  fillNote(item, note);
  const form = $("form.edit", item);
  $('[data-action="edit"]', item).addEventListener("click", () => {
    form.elements.title.value = note.title;
    form.elements.body.value = note.body ?? "";
    $(".view", item).hidden = true;
    form.hidden = false;
    form.elements.title.focus();
  });
  $('[data-action="cancel"]', item).addEventListener("click", () => {
    clearErrors(form);
    form.hidden = true;
    $(".view", item).hidden = false;
  });
  $('[data-action="delete"]', item).addEventListener("click", async () => {
    if (!confirm(`Delete “${note.title}”?`)) return;
    try {
      await api.call(`/api/v1/notes/${note.id}`, { method: "DELETE" });
      item.remove();
      updateCount(-1);
      showMessage("Note deleted.", "success");
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
    form.hidden = true;
    $(".view", item).hidden = false;
  });
  return item;
}

function fillNote(item, note) {
  $(".note-title", item).textContent = note.title;
  $(".note-body", item).textContent = note.body ?? "";
  $(".note-body", item).hidden = !note.body;
  const time = $(".note-time", item);
  const stamp = note.updated_at || note.created_at;
  time.dateTime = stamp;
  time.textContent = stamp ? dateFormat.format(new Date(stamp)) : "";
}

let noteTotal = 0;
function updateCount(delta = 0) {
  noteTotal += delta;
  $("#note-count").textContent = noteTotal === 1 ? "1 note" : `${noteTotal} notes`;
  $("#notes-empty").hidden = noteTotal > 0;
}

async function loadNotes() {
  const page = await api.call("/api/v1/notes?per_page=100");
  $("#notes").replaceChildren(...page.items.map(renderNote));
  noteTotal = page.total;
  updateCount();
}

handle($("#note-form"), async (data) => {
  const note = await api.call("/api/v1/notes", {
    method: "POST",
    body: { title: data.get("title").trim(), body: data.get("body") },
  });
  $("#notes").prepend(renderNote(note));
  updateCount(1);
  $("#note-form").reset();
});

// --- Logged in: sessions ----------------------------------------------------------------

function describeAgent(agent) {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chrome" : /Firefox\//.test(agent) ? "Firefox" : /Safari\//.test(agent) ? "Safari" : /curl\//.test(agent) ? "curl" : "Client";
  const system = /Windows/.test(agent) ? "Windows" : /Mac OS X/.test(agent) ? "macOS" : /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Linux/.test(agent) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

async function loadSessions() {
  const sessions = await api.call("/auth/sessions");
  const items = sessions.map((session) => {
    const item = document.createElement("li");
    const text = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = describeAgent(session.user_agent);
    const address = document.createElement("span");
    address.className = "hint";
    address.textContent = session.ip || "unknown address";
    const active = document.createElement("span");
    active.className = "hint";
    active.textContent = `Last active ${dateFormat.format(new Date(session.last_used_at))}`;
    text.append(name, address, active);
    item.append(text);
    if (session.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "This device";
      item.append(badge);
    } else {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "ghost small danger";
      revoke.textContent = "Revoke";
      revoke.addEventListener("click", async () => {
        try {
          await api.call(`/auth/sessions/${session.id}`, { method: "DELETE" });
          item.remove();
          showMessage("Session revoked.", "success");
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
$("#logout-all").addEventListener("click", () => logout(true));

// --- Switching between the two views ------------------------------------------------------

async function enterWorkspace() {
  const me = await api.call("/auth/me");
  $("#who").textContent = me.username;
  await Promise.all([loadNotes(), loadSessions()]);
  $("#auth").hidden = true;
  $("#workspace").hidden = false;
  $("#account").hidden = false;
  document.body.dataset.state = "in";
}

function leaveWorkspace() {
  $("#workspace").hidden = true;
  $("#account").hidden = true;
  $("#notes").replaceChildren();
  $("#sessions").replaceChildren();
  $("#auth").hidden = false;
  document.body.dataset.state = "out";
  showTab("login");
}

api.onSessionChange((loggedIn) => {
  if (loggedIn) enterWorkspace().catch(report);
  else leaveWorkspace();
});

async function start() {
  try {
    if (!(await api.resume())) leaveWorkspace();
  } catch (error) {
    leaveWorkspace();
    report(error);
  } finally {
    $("#loading").hidden = true;
  }
}

start();
