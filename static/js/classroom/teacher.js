// The teacher's dashboard (templates/teacher.html), made for a 1920×1080 projector: join code
// and QR, the live gallery with filters, spotlight, eyes up, rounds, the class's test set.
//
// Login: the printed address carries the token in its #fragment, which browsers never send to
// a server; this page posts it once to /api/class/teacher/login (HttpOnly cookie back) and
// removes it from the address bar and history. Every action below is checked by the server.

import * as classApi from "./classapi.js";
import { openStream } from "./stream.js";
import { decodeDigit, formatFocus, parseFocus } from "./digit.js";
import { filterGallery, shownName, upsertLatest } from "./filters.js";
import { drawDigit, el } from "./paint.js";
import { renderGallery, renderRound, renderTestSet } from "./tviews.js";

const $ = (id) => document.getElementById(id);
const T = { state: null, selected: null, anonymous: localStorage.getItem("convscope-anonymise") !== "off", status: "connecting", stream: null };
window.convscopeTeacher = T;   // for tests: read-only by convention

function message(text, error = false) {
  $("p-msg").textContent = text;
  $("p-msg").classList.toggle("class-error", error);
}
const fail = (err) => message(err.detail ?? err.message, true);

// --- rendering -----------------------------------------------------------------------------
function renderJoin() {
  const j = T.state.join;
  const code = el("div", { class: "t-code", "aria-label": "Join code", text: j.code ?? "—" });
  const qr = el("button", { type: "button", class: "t-qr", "aria-label": "Show the QR code large", onclick: () => document.body.classList.toggle("qr-big") });
  qr.innerHTML = j.qr_svg;   // the server's SVG of its own address (segno), no user input in it
  const where = el("div", { class: "t-where" }, el("span", { class: "t-muted", text: "Open" }),
    el("strong", { text: j.addresses[0] ?? "" }), el("span", { class: "t-muted", text: "and type the code, or scan" }));
  $("t-join").replaceChildren(where, code, qr);
}

function galleryItems() {
  const cls = $("f-class").value === "" ? null : Number($("f-class").value);
  return filterGallery(T.state.gallery, { cls, maxConfidence: Number($("f-conf").value) / 100, misread: $("f-misread").checked });
}

function renderAllGallery() {
  const items = galleryItems();
  $("f-shown").textContent = `${items.length} of ${T.state.gallery.length} shown`;
  renderGallery($("gallery"), items, {
    classes: T.state.classes, anonymous: T.anonymous, selectedId: T.selected?.submission ?? null,
    empty: T.state.gallery.length ? "No digit matches these filters." : "Waiting for students to press “Send to class”…",
    onSelect: (sub) => select({ submission: sub.id }, sub),
    onSpotlight: (sub) => { select({ submission: sub.id }, sub); spotlight(); },
    onRemove: (sub) => classApi.removeSubmission(sub.id).catch(fail),
    onOpen: openNetwork,
  });
}

function renderSelected() {
  const host = $("p-digit");
  if (!T.selected) { host.replaceChildren(el("p", { class: "t-muted", text: "Click a digit in the gallery, or use a test digit." })); return; }
  const canvas = drawDigit(el("canvas", { class: "t-digit-img big" }), T.selected.bytes);
  host.replaceChildren(canvas, el("span", { text: T.selected.caption }));
}

function renderRoundPanel() {
  renderRound($("round"), T.state.round, {
    classes: T.state.classes, students: T.state.students.length, anonymous: T.anonymous,
    onReveal: (r) => classApi.reveal(r.id).then((out) => { T.state.round = { ...T.state.round, ...out }; renderRoundPanel(); }, fail),
    onClose: () => classApi.closeRound().catch(fail),
    onOpen: openNetwork,
  });
}

function renderHeader() {
  const s = T.state.session;
  $("t-count").textContent = `${T.state.students.length} student${T.state.students.length === 1 ? "" : "s"}`;
  $("t-pause").setAttribute("aria-pressed", String(s.paused));
  $("t-pause").textContent = s.paused ? "Eyes up: on (release)" : "Eyes up";
  $("p-release").disabled = !s.spotlight;
  document.body.dataset.spotlight = s.spotlight ? "on" : "off";
}

function renderAll() {
  if (T.state.session.state === "closed") return renderEnded();
  $("t-main").hidden = false;
  $("t-login").hidden = true;
  renderJoin();
  renderHeader();
  renderAllGallery();
  renderSelected();
  renderRoundPanel();
  renderTestSet($("testset"), T.state.test_set, classApi.EXPORT_URL);
}

function renderEnded() {
  $("t-main").hidden = true;
  $("t-join").replaceChildren();
  const p = $("t-login");
  p.hidden = false;
  p.replaceChildren(el("span", { text: "The session has ended: every student, digit and answer is deleted. " }),
    el("button", { type: "button", class: "t-primary", text: "Start a new session", onclick: () => classApi.newSession().then(refresh, fail) }));
}

// --- actions -------------------------------------------------------------------------------
function select(digit, sub = null) {
  const classes = T.state.classes;
  if (sub) T.selected = { digit, submission: sub.id, bytes: decodeDigit(sub.image), caption: `${shownName(sub.student, T.anonymous)}: read ${classes[sub.prediction]}` };
  renderSelected();
  renderAllGallery();
}

async function pickSample() {
  const c = Number($("p-sample-class").value);
  const i = Number($("p-sample-index").value);
  const res = await fetchSample(c, i);
  T.selected = { digit: { sample: [c, i] }, submission: null, bytes: Uint8Array.from(res.pixels), caption: `test ${T.state.classes[c]} #${i}` };
  renderSelected();
  renderAllGallery();
}
// The class's model's test digits (state.model: the first served model that reads digits).
const fetchSample = (c, i) => import("../api.js").then((api) => api.sample(c, i, { model: T.state.model ?? undefined }));

function focus() {
  try {
    return { ok: true, focus: parseFocus($("p-focus").value) };
  } catch (err) {
    message(err.message, true);
    return { ok: false };
  }
}

function spotlight() {
  if (!T.selected) return message("Pick a digit first: click one in the gallery or use a test digit.", true);
  const f = focus();
  if (!f.ok) return;
  classApi.spotlight({ digit: T.selected.digit, focus: f.focus, tab: $("p-tab").value, anonymous: T.anonymous, note: $("p-note").value.trim() || null })
    .then((light) => message(`Spotlight on every screen: ${light.title}${f.focus ? ` · ${formatFocus(f.focus)}` : ""}`), fail);
}

function predictRound() {
  if (!T.selected) return message("Pick a digit first: click one in the gallery or use a test digit.", true);
  const f = focus();
  if (!f.ok) return;
  if (!f.focus) return message("A predict round needs a unit, e.g. conv1[0, 14, 14], pool1[2, 5, 7] or softmax[0].", true);
  classApi.startRound({ kind: "predict", digit: T.selected.digit, focus: f.focus }).then(() => message(`Predict round started on ${formatFocus(f.focus)}`), fail);
}

function openNetwork(sub) {
  const model = T.state.model ? `&model=${encodeURIComponent(T.state.model)}` : "";   // the class's model
  window.open(`/?submission=${sub.id}${model}`, "_blank", "noopener");
}

// --- live updates --------------------------------------------------------------------------
let refreshTimer = null;
let statsTimer = null;
function refreshSoon(ms = 120) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, ms);
}
function refresh() {
  return classApi.teacherState().then((state) => { T.state = state; renderAll(); }, fail);
}
function statsSoon() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    classApi.testSet().then((t) => { T.state.test_set = t; renderTestSet($("testset"), t, classApi.EXPORT_URL); }, () => {});
  }, 800);
}

function onEvent(kind, data) {
  if (kind === "snapshot") { T.state = data; renderAll(); return; }
  if (!T.state) return;
  if (kind === "submission") {
    T.state.gallery = upsertLatest(T.state.gallery, data);
    renderAllGallery();
    if (data.round_id && data.fooled && T.state.round?.id === data.round_id) {
      T.state.round.board = [...(T.state.round.board ?? []), data];
      renderRoundPanel();
    }
    if (data.label != null) statsSoon();
  } else if (kind === "student") {
    T.state.students = [...T.state.students.filter((s) => s.id !== data.id), data];
    renderHeader();
    renderRoundPanel();
  } else if (kind === "answered") {
    if (T.state.round?.id === data.round_id) { T.state.round.answered = data.answered; renderRoundPanel(); }
  } else if (kind === "spotlight") {
    T.state.session.spotlight = data;
    renderHeader();
  } else {
    refreshSoon();   // session, round, removed, cleared: the whole state again (rare events)
  }
}

function connect() {
  T.stream = openStream(classApi.eventsUrl("teacher"), {
    onEvent,
    onStatus: (status) => {
      T.status = status;
      $("t-status").textContent = status === "live" ? "● live" : "reconnecting…";
      $("t-status").dataset.status = status;
    },
  });
}

function wire() {
  for (const [i, name] of T.state.classes.entries()) {
    $("f-class").append(el("option", { value: String(i), text: name }));
    $("p-sample-class").append(el("option", { value: String(i), text: name }));
    $("r-target").append(el("option", { value: String(i), text: `a ${name} it reads as anything else` }));
  }
  for (const id of ["f-class", "f-misread"]) $(id).onchange = renderAllGallery;
  $("f-conf").oninput = () => { $("f-conf-out").textContent = `${$("f-conf").value}%`; renderAllGallery(); };
  $("t-anon").checked = T.anonymous;
  $("t-anon").onchange = (e) => {
    T.anonymous = e.target.checked;
    localStorage.setItem("convscope-anonymise", T.anonymous ? "on" : "off");
    renderAll();
  };
  $("t-pause").onclick = () => classApi.pause(!T.state.session.paused).catch(fail);
  $("t-end").onclick = () => {
    if (!confirm("End the session? Every student, digit and answer is deleted; this cannot be undone.")) return;
    classApi.endSession().then(refresh, fail);
  };
  $("g-clear").onclick = () => classApi.clearGallery().catch(fail);
  $("p-sample-pick").onclick = () => pickSample().catch(fail);
  $("p-spotlight").onclick = spotlight;
  $("p-release").onclick = () => classApi.release().then(() => message("Released: students have their own drawings back."), fail);
  $("p-predict").onclick = predictRound;
  $("r-fool").onclick = () => {
    const v = $("r-target").value;
    classApi.startRound({ kind: "fool", target: v === "" ? null : Number(v) }).catch(fail);
  };
}

async function boot() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    history.replaceState(null, "", location.pathname);   // out of the address bar and history
    try { await classApi.login(token); } catch (err) { showLogin(err.detail ?? err.message); return; }
  }
  try {
    T.state = await classApi.teacherState();
  } catch (err) {
    showLogin(err.status === 403 ? "" : err.detail ?? err.message);
    return;
  }
  wire();
  renderAll();
  connect();
}

function showLogin(problem) {
  const p = $("t-login");
  p.hidden = false;
  p.replaceChildren(el("strong", { text: "This is the teacher's page. " }),
    el("span", { text: "Open the teacher address that `convscope serve --classroom` printed (it ends in #token=…)." }),
    problem ? el("span", { class: "class-error", text: ` ${problem}` }) : null);
}

boot();
