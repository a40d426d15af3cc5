// Lisa's operator console: one page, hash routes (#/now, #/calls/<sid>, …), one server-sent-events stream.
// No token ever goes into a URL: sign-in posts it once in the body; the session is an HttpOnly cookie, and
// every write sends the session's CSRF token in the X-CSRF-Token header.

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const STATUSES = ["queued", "outside_business_hours", "calling", "in_progress", "waiting_for_callback", "booked", "failed", "canceled"];
const COUNTERS = [
  ["calls_in_progress", "calls in progress"], ["chats_active", "chats active"], ["requests_waiting", "requests waiting"],
  ["requests_calling", "requests calling"], ["requests_booked_today", "requests booked today"], ["bookings_today", "bookings today"],
];

let session = null;
let stream = null;
let route = { page: "now", id: null };
let counters = {};
const feed = [];
let current = null; // what the open page shows (a call, a request, a chat), for live updates
let pendingDemo = null; // the demo request being placed: its page opens when it exists

// --- time in the business's timezone -----------------------------------------------------------------
const fmt = (iso, opts = { dateStyle: "short", timeStyle: "medium" }) => {
  if (!iso) return "";
  try { return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: session?.timezone }).format(new Date(iso)); }
  catch { return iso; }
};
const timeEl = (iso, opts) => iso ? `<time datetime="${esc(iso)}">${esc(fmt(iso, opts))}</time>` : "";
const dayKey = (iso) => fmt(iso, { weekday: "short", year: "numeric", month: "2-digit", day: "2-digit" });
const todayIso = () => new Intl.DateTimeFormat("en-CA", { timeZone: session?.timezone }).format(new Date());
const duration = (from, to) => {
  if (!from) return "";
  const s = Math.max(0, Math.round(((to ? new Date(to) : new Date()) - new Date(from)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

// --- HTTP ------------------------------------------------------------------------------------------------
async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = session?.csrf || "";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== "/console/api/session") { showSignIn(); throw new Error("not signed in"); }
  if (!r.ok) { const e = new Error(typeof data.detail === "string" ? data.detail : `HTTP ${r.status}`); e.status = r.status; throw e; }
  return data;
}

function toast(text) {
  const t = $("#toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 3500);
}

async function act(path, body, done) {
  try { const r = await api(path, { method: "POST", body }); toast(done); return r; }
  catch (e) { toast(`Refused: ${e.message}`); return null; }
}

// --- session --------------------------------------------------------------------------------------------
function showSignIn(message = "") {
  session = null;
  if (stream) { stream.close(); stream = null; }
  $("#nav").hidden = true; $("#sign-out").hidden = true; $("#auth-badge").hidden = true;
  $("#operator").textContent = ""; $("#view").innerHTML = ""; $("#sign-in").hidden = false;
  $("#sign-in-error").textContent = message;
  setLive(false);
  $("#token").focus();
}

async function start(data) {
  session = data;
  $("#sign-in").hidden = true; $("#nav").hidden = false; $("#sign-out").hidden = data.auth === "off";
  $("#auth-badge").hidden = data.auth !== "off";
  $("#operator").textContent = data.auth === "off" ? "" : data.operator;
  $("#business").textContent = data.business || "";
  connect();
  await render();
}

$("#sign-in-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("#token").value.trim();
  const body = token ? { token } : { email: $("#email").value.trim(), password: $("#password").value };
  $("#token").value = ""; $("#password").value = "";
  const r = await fetch("/console/api/session", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { $("#sign-in-error").textContent = typeof data.detail === "string" ? data.detail : "sign-in refused"; return; }
  await start(data);
});

$("#sign-out").addEventListener("click", async () => {
  try { await api("/console/api/session", { method: "DELETE" }); } catch (e) { toast(e.message); }
  const r = await fetch("/console/api/session", { credentials: "same-origin" });
  if (r.ok) await start(await r.json()); else showSignIn("Signed out.");
});

// --- live -------------------------------------------------------------------------------------------------
function setLive(on) { const l = $("#live"); l.textContent = on ? "live" : "offline"; l.classList.toggle("on", on); }

function connect() {
  if (stream) stream.close();
  stream = new EventSource("/console/api/events");
  stream.onopen = () => setLive(true);
  stream.onerror = () => setLive(false);
  stream.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); } };
}

function describe(e) {
  switch (e.kind) {
    case "call": return e.state === "ended"
      ? `Call ${e.call_sid.slice(0, 10)} ended by ${e.ended_by} (${e.reason || "—"})${e.outcome ? `: ${e.outcome}` : ""}`
      : `Call ${e.call_sid.slice(0, 10)} started (${e.direction}${e.to_masked ? ` to ${e.to_masked}` : ""})`;
    case "call_status": return `Call ${e.call_sid.slice(0, 10)}: ${e.status}`;
    case "call_event": return `Call ${e.call_sid.slice(0, 10)}: ${e.type} ${e.message || ""}`;
    case "request": return `Request “${e.title}”: ${e.status}`;
    case "chat": {
      const p = e.event || {};
      if (p.event === "message" && p.message) return `Chat ${String(p.message.chatId).slice(0, 8)} · ${p.message.userName || p.message.sender}: ${p.message.content.slice(0, 80)}`;
      return `Chat ${String(p.chat_id || p.session?.session_id || p.session?.id || "").slice(0, 8)}: ${p.event}`;
    }
    default: return null;
  }
}

function link(e) {
  if (e.kind.startsWith("call")) return `#/calls/${encodeURIComponent(e.call_sid)}`;
  if (e.kind === "request") return `#/requests/${encodeURIComponent(e.request_id)}`;
  if (e.kind === "chat") { const p = e.event || {}; const id = p.message?.chatId || p.chat_id || p.session?.session_id; return id ? `#/chats/${encodeURIComponent(id)}` : "#/chats"; }
  return "#/now";
}

function onEvent(e) {
  if (e.kind === "counters") { counters = e.counters; renderCounters(); return; }
  if (e.kind === "signed_out") { showSignIn("Your session ended."); return; }
  if (e.kind === "resync") { render(); return; }
  if (e.kind === "request" && e.request_id === pendingDemo) {
    pendingDemo = null;
    location.hash = `#/requests/${encodeURIComponent(e.request_id)}`;
  }
  const text = describe(e);
  if (text) {
    feed.unshift({ at: e.at, text, href: link(e) });
    feed.length = Math.min(feed.length, 100);
    if (route.page === "now") renderFeed();
  }
  live[route.page]?.(e);
}

// per page: what a live event changes on it
const live = {
  calls(e) {
    if (!e.kind.startsWith("call")) return;
    if (route.id) {
      if (!current || e.call_sid !== route.id) return;
      if (e.kind === "call_live") applyLines(e);
      else if (e.kind === "call" && e.state === "ended") showCall(route.id);
      else if (e.kind === "call_event") { current.events = [...(current.events || []), e]; renderCallEvents(); }
    } else if (e.kind === "call_live") {
      const cell = $(`tr[data-sid="${CSS.escape(e.call_sid)}"] .step`);
      if (cell) cell.textContent = e.step;
    } else if (e.kind === "call") showCalls();
  },
  requests(e) {
    if (e.kind === "request") {
      if (route.id) { if (e.request_id === route.id) showRequest(route.id); return; }
      const row = $(`tr[data-id="${CSS.escape(e.request_id)}"]`);
      if (row) { const b = $(".badge", row); b.className = `badge ${e.status}`; b.textContent = e.status; row.dataset.status = e.status; }
      else showRequests();
    }
  },
  chats(e) {
    if (e.kind !== "chat") return;
    const p = e.event || {};
    if (route.id && p.event === "message" && p.message?.chatId === route.id) {
      $("#messages")?.insertAdjacentHTML("beforeend", messageLine(p.message));
      $("#messages")?.lastElementChild?.scrollIntoView({ block: "nearest" });
    }
    refreshChatList(route.id);
    if (route.id && (p.event === "takeover" || p.event === "released" || p.event === "session_ended")) showChatState(route.id);
  },
};

// --- pages ----------------------------------------------------------------------------------------------
function parseRoute() {
  const [, page = "now", id = null] = location.hash.replace(/^#/, "").split("/");
  return { page: ["now", "calls", "requests", "chats", "bookings"].includes(page) ? page : "now", id: id ? decodeURIComponent(id) : null };
}

async function render() {
  if (!session) return;
  route = parseRoute();
  current = null;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === route.page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    if (route.page === "now") await showNow();
    else if (route.page === "calls") await (route.id ? showCall(route.id) : showCalls());
    else if (route.page === "requests") await (route.id ? showRequest(route.id) : showRequests());
    else if (route.page === "chats") await showChats(route.id);
    else if (route.page === "bookings") await showBookings();
  } catch (e) {
    if (session) $("#view").innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
}
window.addEventListener("hashchange", () => { render(); $("#main").focus(); });

// Now
async function showNow() {
  counters = await api("/console/api/counters");
  $("#view").innerHTML = `<h1>Now</h1>${session.demo_calls ? `<div class="actions"><button id="demo-call" type="button">Place demo call</button>
    <span class="muted">the demo's booking request, answered by a scripted receptionist on the loopback carrier</span></div>` : ""}
    <div class="counters" id="counters"></div>
    <div class="card"><h2>Live</h2><ul class="feed" id="feed"></ul></div>`;
  renderCounters(); renderFeed();
  $("#demo-call")?.addEventListener("click", async (ev) => {
    ev.target.disabled = true;
    const r = await act("/console/api/demo-call", undefined, "Placing the demo call…");
    ev.target.disabled = false;
    if (r?.request_id) pendingDemo = r.request_id;  // opened once it exists (its first live event)
  });
}
function renderCounters() {
  const box = $("#counters");
  if (!box) return;
  box.innerHTML = COUNTERS.map(([k, label]) => `<div class="counter" data-counter="${k}"><b>${esc(counters[k] ?? 0)}</b><span>${label}</span></div>`).join("");
}
function renderFeed() {
  const list = $("#feed");
  if (!list) return;
  list.innerHTML = feed.length ? feed.map((f) => `<li>${timeEl(f.at, { timeStyle: "medium" })} <a href="${esc(f.href)}">${esc(f.text)}</a></li>`).join("")
    : `<li class="muted">Nothing yet: calls, requests and chats appear here as they happen.</li>`;
}

// Calls
async function showCalls() {
  const { calls } = await api("/console/api/calls");
  if (route.page !== "calls" || route.id) return;
  $("#view").innerHTML = `<h1>Calls</h1><div class="card"><table><thead><tr><th>Started</th><th>Direction</th>
    <th class="wide">From</th><th>To</th><th>State</th><th>Duration</th><th>Lisa</th></tr></thead><tbody>
    ${calls.map((c) => `<tr data-sid="${esc(c.call_sid)}" data-state="${esc(c.state)}">
      <td><a href="#/calls/${encodeURIComponent(c.call_sid)}">${timeEl(c.started_at)}</a></td><td>${esc(c.direction)}</td>
      <td class="wide">${esc(c.from_masked)}</td><td>${esc(c.to_masked)}</td>
      <td><span class="badge ${c.state === "ended" ? "ended" : "in_progress"}">${esc(c.state === "ended" ? (c.outcome || "ended") : "in progress")}</span></td>
      <td class="duration" data-from="${esc(c.started_at)}" data-to="${esc(c.ended_at || "")}">${duration(c.started_at, c.ended_at)}</td>
      <td class="step">${esc(c.step || "")}</td></tr>`).join("") || `<tr><td colspan="7" class="muted">No calls yet.</td></tr>`}
    </tbody></table></div>`;
}
setInterval(() => { // running durations tick locally (no request to the server)
  for (const td of document.querySelectorAll("td.duration[data-to='']")) td.textContent = duration(td.dataset.from);
}, 1000);

function lineHtml(l) {
  return `<li data-speaker="${esc(l.speaker)}" class="${l.interrupted ? "interrupted" : ""}"><b>${esc(l.speaker === "lisa" ? "Lisa" : l.speaker)}</b>${esc(l.text)}</li>`;
}
function applyLines(e) {
  const lines = current.transcript || [];
  lines.splice(e.from, lines.length - e.from, ...e.lines);
  current.transcript = lines;
  const list = $("#transcript");
  if (list) {
    while (list.children.length > e.from) list.lastElementChild.remove();
    list.insertAdjacentHTML("beforeend", e.lines.map(lineHtml).join(""));
  }
  const step = $("#step");
  if (step) step.textContent = e.step;
}
function renderCallEvents() {
  const box = $("#call-events");
  const events = current.events || current.outcome?.events || [];
  if (box) box.innerHTML = events.map((ev) => `<li>${timeEl(ev.at, { timeStyle: "medium" })} <b>${esc(ev.type)}</b> ${esc(ev.message || "")}</li>`).join("")
    || `<li class="muted">No events${current.state === "ended" ? "" : " yet"}.</li>`;
}

function latencyChart(sid, turns) {
  // the chart is drawn on the server (matplotlib SVG); the figures stay here as text
  const rows = turns.filter((t) => t.user_end_ms != null);
  if (!rows.length) return `<p class="muted">No turn timing recorded.</p>`;
  const span = (a, b) => (a != null && b != null ? `${Math.round(b - a)}` : "—");
  const figures = rows.map((t, i) => `<li data-turn="${i + 1}">turn ${i + 1}: <b>${t.latency_ms != null ? `${Math.round(t.latency_ms)} ms` : "—"}</b>
    <span class="muted">STT ${span(t.user_end_ms, t.stt_final_ms)} · first token ${span(t.stt_final_ms, t.llm_first_ms)} · first audio ${span(t.llm_first_ms, t.tts_first_ms)} · sent ${span(t.tts_first_ms, t.first_audio_out_ms)} ms</span></li>`).join("");
  return `<img id="latency-chart" class="chart" src="${esc(`/console/api/calls/${encodeURIComponent(sid)}/timeline.svg`)}"
    alt="Latency per turn: end of speech → STT → first token → first audio → sent, one stacked bar per turn">
    <ul class="figures" id="latency">${figures}</ul>`;
}

async function showCall(sid) {
  const c = await api(`/console/api/calls/${encodeURIComponent(sid)}`);
  if (route.page !== "calls" || route.id !== sid) return;
  current = c;
  const running = c.state !== "ended";
  $("#view").innerHTML = `<p><a href="#/calls">← Calls</a></p><h1>Call ${esc(sid.slice(0, 14))}</h1>
    <div class="card"><dl class="facts"><dt>Direction</dt><dd>${esc(c.direction)}</dd><dt>From / to</dt><dd>${esc(c.from_masked)} → ${esc(c.to_masked)}</dd>
    <dt>Started</dt><dd>${timeEl(c.started_at)}</dd>
    ${c.request_id ? `<dt>Request</dt><dd><a href="#/requests/${encodeURIComponent(c.request_id)}">${esc(c.request_id)}</a></dd>` : ""}
    <dt>State</dt><dd id="call-state">${running ? `in progress · <span id="step">${esc(c.step || "")}</span>` : `ended ${timeEl(c.ended_at)}`}</dd>
    ${running ? "" : `<dt>Outcome</dt><dd id="outcome"><span class="badge">${esc(c.outcome?.status || "")}</span> ${esc(c.outcome?.appointment || "")}</dd>
      <dt>Ended by</dt><dd id="ended-by">${esc(c.ended_by)}</dd><dt>Reason</dt><dd>${esc(c.reason)}</dd>`}</dl>
    ${running ? `<div class="actions"><button id="hang-up" class="danger" type="button">Hang up</button>
      <button id="transfer" type="button" ${session.can_transfer ? "" : "disabled"}>Transfer to the business</button></div>` : ""}</div>
    <div class="split"><div class="card"><h2>Transcript</h2><ul class="transcript" id="transcript">${(c.transcript || []).map(lineHtml).join("")}</ul></div>
    <div><div class="card"><h2>Events</h2><ul class="timeline" id="call-events"></ul></div>
    ${running ? "" : `<div class="card"><h2>Latency per turn</h2>${latencyChart(sid, c.turns || [])}</div>`}
    ${!running && c.recording_url ? `<div class="card"><h2>Recording</h2><audio id="recording" controls preload="none" src="${esc(c.recording_url)}"></audio>
      <p class="muted">Stereo: caller left, Lisa right.</p></div>` : ""}</div></div>`;
  current.events = running ? [] : (c.outcome?.events || []);
  renderCallEvents();
  $("#hang-up")?.addEventListener("click", () => act(`/console/api/calls/${encodeURIComponent(sid)}/hang-up`, undefined, "Hanging up…"));
  $("#transfer")?.addEventListener("click", () => act(`/console/api/calls/${encodeURIComponent(sid)}/transfer`, undefined, "Transferring…"));
}

// Requests
async function showRequests() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const status = $("#f-status")?.value ?? q.get("status") ?? "";
  const day = $("#f-day")?.value ?? "";
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (day) params.set("day", day);
  const { requests } = await api(`/console/api/requests?${params}`);
  if (route.page !== "requests" || route.id) return;
  $("#view").innerHTML = `<h1>Requests</h1><form class="filters" id="filters"><label>Status <select id="f-status"><option value="">all</option>
    ${STATUSES.map((s) => `<option ${s === status ? "selected" : ""}>${s}</option>`).join("")}</select></label>
    <label>Created on <input id="f-day" type="date" value="${esc(day)}"></label><button type="submit">Filter</button></form>
    <div class="card"><table><thead><tr><th>Created</th><th>Title</th><th>Status</th><th class="wide">Number</th><th>Attempts</th><th class="wide">Appointment</th></tr></thead>
    <tbody>${requests.map((r) => `<tr data-id="${esc(r.id)}" data-status="${esc(r.status)}"><td>${timeEl(r.created_at)}</td>
      <td><a href="#/requests/${encodeURIComponent(r.id)}">${esc(r.title)}</a></td><td><span class="badge ${esc(r.status)}">${esc(r.status)}</span></td>
      <td class="wide">${esc(r.number_to_call)}</td><td>${esc(r.attempts)}</td><td class="wide">${esc(r.appointment || "")}</td></tr>`).join("")
      || `<tr><td colspan="6" class="muted">No requests.</td></tr>`}</tbody></table></div>`;
  $("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); showRequests(); });
}

async function showRequest(id) {
  const r = await api(`/console/api/requests/${encodeURIComponent(id)}`);
  if (route.page !== "requests" || route.id !== id) return;
  current = r;
  const waiting = ["queued", "outside_business_hours", "waiting_for_callback"].includes(r.status);
  const final = ["booked", "failed", "canceled"].includes(r.status);
  $("#view").innerHTML = `<p><a href="#/requests">← Requests</a></p><h1>${esc(r.title)}</h1>
    <div class="card"><dl class="facts"><dt>Status</dt><dd><span id="request-status" class="badge ${esc(r.status)}">${esc(r.status)}</span></dd>
    <dt>Number</dt><dd>${esc(r.number_to_call)}</dd><dt>Attempts</dt><dd>${esc(r.attempts)}</dd>
    ${r.next_attempt_at ? `<dt>Next call</dt><dd>${timeEl(r.next_attempt_at)}</dd>` : ""}
    <dt>Summary</dt><dd>${esc(r.summary || "")}</dd><dt>Appointment</dt><dd>${esc(r.appointment || "")}</dd></dl>
    <div class="actions"><button id="cancel" class="danger" type="button" ${final ? "disabled" : ""}>Cancel</button>
    <button id="call-now" type="button" ${waiting ? "" : "disabled"}>Call now</button>
    <button id="retry" type="button" ${r.status === "failed" ? "" : "disabled"}>Retry</button></div></div>
    <div class="split"><div class="card"><h2>Events</h2><ul class="timeline" id="request-events">${r.events.map((e) => `<li>${timeEl(e.created_at)} <b>${esc(e.type)}</b> ${esc(e.message)}</li>`).join("")}</ul></div>
    <div class="card"><h2>Calls</h2><ul class="timeline" id="request-calls">${r.calls.map((c) => `<li><a href="#/calls/${encodeURIComponent(c.call_sid)}">${timeEl(c.started_at)}</a>
      ${c.ended_at ? `ended by ${esc(c.ended_by)} (${esc(c.reason)})` : `<span class="badge in_progress">in progress</span>`}</li>`).join("") || `<li class="muted">No call yet.</li>`}</ul></div></div>`;
  const base = `/console/api/requests/${encodeURIComponent(id)}`;
  $("#cancel").addEventListener("click", () => act(`${base}/cancel`, undefined, "Request canceled"));
  $("#call-now").addEventListener("click", () => act(`${base}/call-now`, undefined, "Calling now"));
  $("#retry").addEventListener("click", () => act(`${base}/retry`, undefined, "Retry scheduled"));
}

// Chats
function messageLine(m) {
  return `<li data-speaker="${esc(m.sender)}"><b>${esc(m.userName || m.sender)} ${timeEl(m.createdAt, { timeStyle: "short" })}</b>${esc(m.content)}</li>`;
}
async function refreshChatList(selected) {
  const box = $("#chat-list");
  if (!box) return;
  const { chats } = await api("/console/api/chats");
  box.innerHTML = chats.map((c) => `<tr data-id="${esc(c.session_id)}" data-status="${esc(c.status)}"><td><a href="#/chats/${encodeURIComponent(c.session_id)}" ${c.session_id === selected ? 'aria-current="true"' : ""}>${esc(c.session_id.slice(0, 8))}</a>
    <div class="muted">${esc(c.channel)} · ${esc(c.language)}</div></td><td><span class="badge ${c.status === "active" ? "ok" : "ended"}">${esc(c.status)}</span>
    ${c.taken_over_by ? `<span class="badge warn">${esc(c.taken_over_by)}</span>` : ""}</td><td>${esc((c.lastMessage || "").slice(0, 60))}</td></tr>`).join("")
    || `<tr><td colspan="3" class="muted">No chats yet.</td></tr>`;
}
async function showChatState(id) {
  const c = await api(`/console/api/chats/${encodeURIComponent(id)}/messages`);
  const active = c.status === "active";
  for (const el of ["#chat-text", "#chat-send", "#chat-takeover", "#chat-release"]) { const x = $(el); if (x) x.disabled = !active; }
  const who = $("#chat-who");
  if (who) who.textContent = c.taken_over_by ? `taken over by ${c.taken_over_by}` : active ? "Lisa answers" : "ended";
  return c;
}
async function showChats(id) {
  const { groups, available } = await api("/console/api/groups");
  $("#view").innerHTML = `<h1>Chats</h1><div class="split"><div class="card"><table><thead><tr><th>Chat</th><th>Status</th><th>Last message</th></tr></thead>
    <tbody id="chat-list"></tbody></table>${available ? `<h2>Team groups</h2><ul class="timeline">${groups.map((g) => `<li>${esc(g.name || g.id)}</li>`).join("") || `<li class="muted">No groups.</li>`}</ul>` : ""}</div>
    <div class="card" id="chat-pane">${id ? `<h2>Chat ${esc(id.slice(0, 8))} <span class="muted" id="chat-who"></span></h2><ul class="transcript" id="messages"></ul>
      <form class="compose" id="compose"><label class="skip" for="chat-text">Message</label><input id="chat-text" placeholder="Write as manager (takes the chat over)" autocomplete="off">
      <button id="chat-send" class="primary" type="submit">Send</button><button id="chat-takeover" type="button">Take over</button>
      <button id="chat-release" type="button">Release to Lisa</button></form>` : `<p class="muted">Select a chat.</p>`}</div></div>`;
  await refreshChatList(id);
  if (!id) return;
  const c = await showChatState(id);
  $("#messages").innerHTML = c.messages.map(messageLine).join("");
  const base = `/console/api/chats/${encodeURIComponent(id)}`;
  $("#compose").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const content = $("#chat-text").value.trim();
    if (!content) return;
    if (await act(`${base}/send`, { content }, "Sent")) $("#chat-text").value = "";
  });
  $("#chat-takeover").addEventListener("click", () => act(`${base}/takeover`, undefined, "Taken over"));
  $("#chat-release").addEventListener("click", () => act(`${base}/release`, undefined, "Released to Lisa"));
}

// Bookings
async function showBookings() {
  const day = $("#b-day")?.value || todayIso();
  const days = Number($("#b-range")?.value || 1);
  const data = await api(`/console/api/bookings?day=${encodeURIComponent(day)}&days=${days}`);
  if (route.page !== "bookings") return;
  const byDay = new Map();
  for (const b of data.bookings) { const k = dayKey(b.start_at); byDay.set(k, [...(byDay.get(k) || []), b]); }
  $("#view").innerHTML = `<h1>Bookings</h1><form class="filters" id="b-form"><label>From <input id="b-day" type="date" value="${esc(day)}"></label>
    <label>Show <select id="b-range"><option value="1" ${days === 1 ? "selected" : ""}>day</option><option value="7" ${days === 7 ? "selected" : ""}>week</option></select></label>
    <button type="submit">Show</button></form>
    ${[...byDay].map(([k, list]) => `<div class="card"><h2>${esc(k)}</h2><table><tbody>${list.map((b) => `<tr data-booking="${esc(b.id)}"><td>${timeEl(b.start_at, { timeStyle: "short" })}${b.end_at ? `–${timeEl(b.end_at, { timeStyle: "short" })}` : ""}</td>
      <td>${b.request_id ? `<a href="#/requests/${encodeURIComponent(b.request_id)}">${esc(b.name)}</a>` : esc(b.name)}</td><td>${esc(b.service)}</td><td class="wide">${esc(b.phone || "")}</td></tr>`).join("")}</tbody></table></div>`).join("")
      || `<div class="card muted" id="no-bookings">No bookings ${days === 1 ? "on this day" : "in this week"}.</div>`}`;
  $("#b-form").addEventListener("submit", (ev) => { ev.preventDefault(); showBookings(); });
}

// --- start ------------------------------------------------------------------------------------------------
(async () => {
  const r = await fetch("/console/api/session", { credentials: "same-origin" });
  if (r.ok) await start(await r.json()); else showSignIn();
})();
