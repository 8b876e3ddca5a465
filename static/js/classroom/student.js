// The class session on a student's page (served with --classroom): join with the code, "Send
// to class", my digits, and what the teacher does to every screen: spotlight (the teacher's
// digit and unit on this page until released, then the student's own drawing back exactly as
// it was), "eyes up" (the pad frozen), a predict-then-reveal card, the fool-the-network prompt;
// and "reconnecting…" while the live link is cut.
//
// mountStudent({store, live, pad, side, switchModel}) is called by main.js with the page's
// store, live link, pad, the aside the bar goes in and its model switch. State of its own: this
// module's `cls` object only.
//
// The class reads digits with one model (the state's `model`: the first served model that
// reads digits; null when none does). A page on another model (a teacher's own colour model)
// offers to switch before Send to class, and a spotlight switches to it and back.

import * as classApi from "./classapi.js";
import { openStream } from "./stream.js";
import { decodeDigit, digitBody, formatFocus } from "./digit.js";
import { drawDigit, el } from "./paint.js";
import { renderRound } from "./roundcard.js";

export function mountStudent({ store, live, pad, side, switchModel = null }) {
  document.head.append(el("link", { rel: "stylesheet", href: "/static/css/classroom.css" }));
  const cls = { student: null, session: null, spotlight: null, round: null, submissions: [], status: "connecting", borrowed: null, stream: null, message: "" };
  const bar = el("section", { class: "class-bar", "aria-label": "Class session" });
  side.prepend(bar);
  const banner = el("div", { class: "class-banner", role: "status", hidden: true });
  const cardHost = el("section", { class: "class-round", role: "dialog", "aria-label": "Class round", hidden: true });
  document.body.append(banner, cardHost);
  const padWrap = pad.canvas.closest(".pad-wrap");
  const classes = () => cls.classes ?? store.get().model?.classes ?? [...Array(10).keys()].map(String);
  // undefined (an older server): whatever model the page shows; null: no served model reads digits.
  const onClassModel = () => cls.model === undefined || (cls.model !== null && (store.get().modelId ?? cls.model) === cls.model);
  const classModelLabel = () => store.get().models?.find((m) => m.id === cls.model)?.label ?? cls.model;
  const params = new URLSearchParams(location.search);
  // main.js sends the pad (or the blank pad) through the model once it has loaded: a digit put
  // on the pad before that answer would be overwritten by it, so wait for the first trace.
  const firstTrace = new Promise((resolve) => {
    if (store.get().trace) return resolve();
    const off = store.subscribe(() => { off(); resolve(); }, ["trace"]);
  });
  // The model selector moved: Send to class (or its "switch to the class's model") follows.
  store.subscribe(() => { if (cls.student) render(); }, ["modelId", "models"]);

  // --- the teacher opening one digit in the full network view (/?submission=ID) ---------
  if (params.has("submission")) {
    Promise.all([classApi.submission(Number(params.get("submission"))), firstTrace]).then(([sub]) => {
      const bytes = decodeDigit(sub.image);
      pad.loadPixels(bytes, 28, 28);
      live.submit(digitBody(bytes));
      bar.replaceChildren(el("p", { text: `Digit ${sub.id}: meant ${sub.label == null ? "?" : classes()[sub.label]}, read as ${classes()[sub.prediction]} (${(sub.confidence * 100).toFixed(0)}%)` }));
    }, (err) => bar.replaceChildren(el("p", { class: "class-error", text: err.detail ?? err.message })));
    return { cls };
  }

  function apply(state) {
    cls.model = state.model;
    cls.classes = state.classes;
    cls.student = state.student;
    cls.session = state.session;
    cls.submissions = state.submissions;
    cls.round = state.round;
    applySpotlight(state.spotlight);
    render();
  }

  function onEvent(kind, data) {
    if (kind === "snapshot") return apply(data);
    if (kind === "session") {
      cls.session = { state: data.state, paused: data.paused };
      if (data.state === "closed") { applySpotlight(null); cls.round = null; cls.submissions = []; cls.message = "The class session has ended."; }
    } else if (kind === "spotlight") applySpotlight(data);
    else if (kind === "round") {
      // A new round starts without my answer; a reveal keeps it.
      cls.round = data && { ...data, mine: data.id === cls.round?.id ? cls.round.mine : null };
    } else if (kind === "submission") cls.submissions = [...cls.submissions.filter((s) => s.id !== data.id), data];
    else if (kind === "removed") cls.submissions = cls.submissions.filter((s) => s.id !== data.id);
    render();
  }

  function connect() {
    cls.stream?.close();
    cls.stream = openStream(classApi.eventsUrl("student"), {
      onEvent,
      onStatus: (status) => { cls.status = status; renderStatus(); },
      // Refused: the session ended or this student is gone; find out which.
      onRefused: () => classApi.me().then((state) => { if (!state.student) { cls.stream.close(); cls.stream = null; apply(state); } }, () => {}),
    });
  }

  // --- spotlight: borrow the pad and the focus, give them back untouched ----------------
  function applySpotlight(light) {
    const s = store.get();
    // The teacher's digit is read by the class's model: switch to it first (and back after).
    if (light && !onClassModel() && cls.model && switchModel) {
      if (!cls.borrowed) cls.borrowed = { pad: pad.save(), drawing: s.drawing, tab: s.tab, pinned: s.pinned, hover: s.hover, modelId: s.modelId };
      cls.spotlight = light;
      switchModel(cls.model).then(() => { if (cls.spotlight === light) applySpotlight(light); });
      return;
    }
    if (!light && cls.borrowed?.modelId && cls.borrowed.modelId !== s.modelId && switchModel) {
      const b = cls.borrowed;
      cls.borrowed = null;
      cls.spotlight = null;
      document.body.dataset.spotlight = "off";
      store.set({ drawing: b.drawing });     // what loadModel sends through the model it returns to
      switchModel(b.modelId).then(() => {
        pad.restore(b.pad);
        store.set({ tab: b.tab, pinned: b.pinned, hover: b.hover });
        render();
      });
      return;
    }
    if (light) {
      if (!cls.borrowed) cls.borrowed = { pad: pad.save(), drawing: s.drawing, tab: s.tab, pinned: s.pinned, hover: s.hover, modelId: s.modelId };
      const bytes = decodeDigit(light.image);
      pad.loadPixels(bytes, 28, 28);
      live.submit(digitBody(bytes));
      store.set({ tab: light.tab, hover: null, pinned: light.focus ? { layer: light.focus.layer, unit: light.focus.unit } : null });
    } else if (cls.borrowed) {
      const b = cls.borrowed;
      cls.borrowed = null;
      pad.restore(b.pad);
      store.set({ tab: b.tab, pinned: b.pinned, hover: b.hover });
      if (b.drawing) live.submit({ ...b.drawing });   // a fresh object: nothing stale matches it
      else pad.body().then((body) => live.submit(body));
    }
    cls.spotlight = light;
    document.body.dataset.spotlight = light ? "on" : "off";
  }

  // --- rendering -------------------------------------------------------------------------
  function renderStatus() {
    const node = bar.querySelector(".class-status");
    if (!node) return;
    node.textContent = cls.status === "live" ? "● live" : "reconnecting…";
    node.dataset.status = cls.status;
  }

  function joinForm() {
    const code = el("input", { name: "code", "aria-label": "Class code", placeholder: "CODE", maxlength: "8", autocomplete: "off", value: params.get("code") ?? "" });
    const nick = el("input", { name: "nickname", "aria-label": "Nickname (optional)", placeholder: "nickname (optional)", maxlength: "24" });
    const note = el("p", { class: "class-error", role: "alert", text: cls.message });
    const form = el("form", { class: "class-join", onsubmit: (e) => { e.preventDefault(); doJoin(code.value, nick.value, note); } },
      el("label", { text: "Class code " }, code), nick, el("button", { type: "submit", text: "Join class" }), note);
    return form;
  }

  function doJoin(code, nickname, note) {
    classApi.join(code.trim(), nickname.trim()).then((state) => { cls.message = ""; apply(state); connect(); },
      (err) => { note.textContent = err.detail ?? err.message; });
  }

  function sendControls() {
    if (cls.model === null) {
      return [el("p", { class: "class-note", text: "Send to class is off: none of the models this server shows reads digits (the teacher can add one)." })];
    }
    if (!onClassModel()) {
      const label = classModelLabel();
      return [el("p", { class: "class-note", text: `The class collects digits on ${label}.` }),
        el("button", { type: "button", class: "class-switch", text: `Switch to ${label}`, onclick: () => switchModel?.(cls.model) })];
    }
    const rnd = cls.round?.kind === "fool" && cls.round.state === "open" ? cls.round : null;
    const select = el("select", { "aria-label": "The digit I meant", class: "class-label" },
      el("option", { value: "", text: rnd ? "I meant…" : "I meant: not saying" }),
      ...classes().map((c, i) => el("option", { value: String(i), text: `I meant ${c}` })));
    if (rnd?.prompt.target != null) select.value = String(rnd.prompt.target);
    const result = el("p", { class: "class-result", role: "status", text: cls.result ?? "", "data-sent": String(cls.sent ?? "") });
    const button = el("button", { type: "button", class: "class-send", text: "Send to class", onclick: async () => {
      if (pad.blank) { result.textContent = "Draw a digit first."; return; }
      button.disabled = true;
      cls.sent = null;
      try {
        const body = await pad.body();
        const label = select.value === "" ? null : Number(select.value);
        const sub = await classApi.submit(body, label);
        const read = `${classes()[sub.prediction]} (${(sub.confidence * 100).toFixed(0)}%)`;
        cls.sent = sub.id;
        cls.submissions = [...cls.submissions.filter((x) => x.id !== sub.id), sub];   // the event may come first
        cls.result = sub.round_id ? (sub.fooled ? `You fooled it! It reads your ${classes()[sub.label]} as ${read}.` : `Not fooled: it reads it as ${read}. Try again!`) : `Sent. The network reads it as ${read}.`;
      } catch (err) {
        cls.result = err.detail ?? err.message;
      }
      render();   // the bar may have been rebuilt meanwhile (an event): draw it afresh
    } });
    return [select, button, result];
  }

  function myDigits() {
    const list = cls.submissions.slice().reverse().map((s) => el("li", {},
      drawDigit(el("canvas", { class: "class-thumb", "aria-label": `digit ${s.id}` }), decodeDigit(s.image)),
      el("span", { text: `${s.label == null ? "" : `meant ${classes()[s.label]}, `}read ${classes()[s.prediction]} ${(s.confidence * 100).toFixed(0)}%` }),
      el("button", { type: "button", text: "Delete", "aria-label": `Delete digit ${s.id}`, onclick: () => classApi.removeSubmission(s.id).then(() => { cls.submissions = cls.submissions.filter((x) => x.id !== s.id); render(); }, (err) => { cls.result = err.detail; render(); }) })));
    return el("details", { class: "class-mine" }, el("summary", { text: `My digits (${cls.submissions.length})` }), el("ul", {}, ...list));
  }

  function render() {
    const s = cls.session;
    if (!cls.student) {
      bar.replaceChildren(el("h2", { text: "Class" }), joinForm());
    } else {
      const name = el("button", { type: "button", class: "class-name", title: "Change your nickname", "aria-expanded": String(Boolean(cls.renaming)), text: cls.student.name, onclick: () => { cls.renaming = !cls.renaming; render(); } });
      const input = el("input", { "aria-label": "New nickname", maxlength: "24", value: cls.student.name });
      const rename = cls.renaming && el("form", { class: "class-join", onsubmit: (e) => {
        e.preventDefault();
        classApi.rename(input.value.trim()).then((st) => { cls.student = st; cls.renaming = false; cls.result = ""; render(); }, (err) => { cls.result = err.detail ?? err.message; render(); });
      } }, input, el("button", { type: "submit", text: "Save" }));
      bar.replaceChildren(el("div", { class: "class-head" }, el("span", { text: "In class as " }), name, el("span", { class: "class-status", role: "status" })), ...(rename ? [rename] : []),
        ...(s?.state === "open" ? sendControls() : [el("p", { text: cls.message || "The class session has ended." })]), myDigits());
      renderStatus();
    }
    // What the teacher does to every screen.
    const frozen = Boolean(s?.paused || cls.spotlight);
    padWrap.classList.toggle("class-frozen", frozen);
    for (const b of document.querySelectorAll(".pad-tools button, .pad-tools input, .pad-tools select")) b.disabled = frozen;
    bar.querySelector(".class-send")?.toggleAttribute("disabled", Boolean(s?.paused || cls.spotlight));
    const lines = [];
    if (s?.paused) lines.push(el("strong", { text: "Eyes up: look at the projector." }));
    if (cls.spotlight) {
      const f = cls.spotlight.focus;
      lines.push(el("strong", { text: `Spotlight: ${cls.spotlight.title}` }),
        el("span", { text: f ? ` · ${formatFocus(f)} is pinned: its numbers are in the panel under the network.` : " · the teacher is showing this digit." }));
      if (cls.spotlight.note) lines.push(el("span", { class: "class-note", text: ` “${cls.spotlight.note}”` }));
      lines.push(el("span", { class: "class-note", text: " Your drawing comes back when the teacher releases it." }));
    }
    if (cls.round?.kind === "fool" && cls.round.state === "open") {
      const t = cls.round.prompt;
      lines.push(el("strong", { text: t.target == null ? "Fool the network: draw any digit it gets wrong, say which you meant, and Send to class." : `Fool the network: draw a ${t.name} that it reads as anything else, and Send to class.` }));
    }
    banner.replaceChildren(...lines);
    banner.hidden = lines.length === 0;
    banner.dataset.paused = String(Boolean(s?.paused));
    const predict = cls.round?.kind === "predict" ? cls.round : null;
    cardHost.hidden = !predict;
    if (predict) {
      renderRound(cardHost, predict, { classes: classes(), onAnswer: (given) => classApi.answer(predict.id, given).then(() => { predict.mine = given; }) });
    } else cardHost.replaceChildren();
  }

  Promise.all([classApi.me(), firstTrace]).then(([state]) => {
    apply(state);
    if (state.student) connect();
    else if (params.get("code") && state.session.state === "open") doJoin(params.get("code"), "", bar.querySelector(".class-error"));
  }, (err) => bar.replaceChildren(el("p", { class: "class-error", text: `class: ${err.detail ?? err.message}` })));

  return { cls };
}
