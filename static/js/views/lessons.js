// Lessons: a "Lessons" button in the header opens the picker (seven questions, each with its
// progress); a lesson runs as a step card docked at the bottom of the page (a bottom sheet on a
// phone) with the step's sentence, its live numbers, what to do, and Back / Next. Next waits
// until the task is done. Lesson 1 also puts names on the maps they name (step.labels).
// Progress lives in localStorage; a first visit gets a hint that lessons exist.
//
// mountLessons(slot, {store, api, views, share, net}) -> {open(id, step), openFromUrl(), runner}
// Lesson texts are data (static/lessons/*.json, lessons/engine.js says their format).

import { createRunner } from "../lessons/runner.js";
import { PROGRESS_KEY, readProgress, recordStep, lessonStatus, checkLesson, missingModels, missingModelsText, KEEP_SHIPPED } from "../lessons/engine.js";
import { mapRect } from "../layout.js";
import { decodeHash } from "../urlstate.js";

const HINT_KEY = "convscope.lessons.hinted";

function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "text") n.textContent = v;
    else if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : v);
  }
  n.append(...children.flat().filter((c) => c != null));
  return n;
}

const storage = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode: progress is not kept */ } },
};

export function mountLessons(slot, { store, api, views, share, net }) {
  if (!document.querySelector('link[href$="/static/css/lessons.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/css/lessons.css" }));
  }
  let index = null;                 // [{id, file, number, title, question, steps}]
  const loaded = new Map();         // id -> lesson
  let progress = readProgress(storage.get(PROGRESS_KEY));

  const button = h("button", { id: "lessons-button", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "lessons-picker", text: "Lessons" });
  const picker = h("div", { id: "lessons-picker", class: "popover lessons-picker", role: "dialog", "aria-label": "Lessons: seven questions, answered on the live network", hidden: true });
  // The first-visit hint sits in the header beside the button (never over the views).
  const hint = h("span", { id: "lessons-hint", class: "lessons-hint", role: "note", hidden: true },
    h("button", { class: "lessons-hint-open", "aria-label": "New: guided lessons, on your own drawing", onclick: () => { dismissHint(); openPicker(true); } },
      h("span", { class: "long", text: "New: guided lessons, on your own drawing" }), h("span", { class: "short", text: "New" })),
    h("button", { class: "lessons-hint-close", "aria-label": "Dismiss the lessons hint", text: "×", onclick: () => dismissHint() }));
  slot.append(h("span", { class: "menu-wrap" }, button, picker, hint));

  const cardEl = h("section", { id: "lesson-card", class: "lesson-card", role: "region", "aria-label": "Lesson", hidden: true });
  document.body.append(cardEl);
  const labels = h("div", { class: "lesson-labels", "aria-hidden": "true" });
  document.getElementById("net-wrap")?.append(labels);

  const runner = createRunner({
    store, api, views,
    onChange: render,
    onDone(lesson, i) {
      progress = recordStep(progress, lesson.id, i, lesson.steps.length);
      storage.set(PROGRESS_KEY, JSON.stringify(progress));
    },
  });

  async function loadIndex() {
    if (!index) index = await api.lessonIndex();
    return index;
  }
  async function load(id) {
    if (!loaded.has(id)) {
      const entry = (await loadIndex()).find((l) => l.id === id);
      if (!entry) throw new Error(`no lesson ${id}`);
      const lesson = await api.lesson(entry.file);
      const errors = checkLesson(lesson);
      if (errors.length) throw new Error(`${entry.file}: ${errors.join("; ")}`);
      loaded.set(id, { ...lesson, number: entry.number });
    }
    return loaded.get(id);
  }

  // --- the picker ---------------------------------------------------------------------------
  function openPicker(on) {
    picker.hidden = !on;
    button.setAttribute("aria-expanded", String(on));
    if (!on) return;
    loadIndex().then((list) => {
      picker.replaceChildren(h("h2", { text: "Lessons" }), h("p", { class: "lessons-intro", text: "Each lesson answers one question on the live network, in a few steps: read, then do one thing." }),
        h("ol", { class: "lessons-list" }, list.map((l) => {
          const status = lessonStatus(progress, l.id, l.steps);
          // A lesson whose models this server does not serve stays listed (a student can read the
          // question) but says what it needs instead of opening on another net.
          const missing = missingModels(l.models, store.get().models);
          const why = missing.length ? missingModelsText(missing) : null;
          return h("li", {}, h("button", {
            class: why ? "lesson-pick unavailable" : "lesson-pick", "data-lesson": l.id,
            "aria-disabled": why ? "true" : null,
            "aria-label": `Lesson ${l.number}: ${l.question} (${why ? `unavailable: ${why}` : status === "new" ? "not started" : status})`,
            onclick: () => { if (why) return; openPicker(false); openNoting(l.id, 1); },
          }, h("span", { class: "lesson-q", text: l.question }),
          h("span", { class: `lesson-status ${status === "done" ? "done" : ""}`, text: why ? `needs ${missing.join(", ")}` : status === "new" ? `${l.steps} steps` : status === "done" ? "✓ done" : status })));
        }),
        missingNote(list)));
      picker.querySelector("button")?.focus();
    }, (err) => picker.replaceChildren(h("p", { role: "alert", text: `lessons: ${err.message}` })));
  }
  button.onclick = () => { dismissHint(); openPicker(picker.hidden); };
  picker.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { openPicker(false); button.focus(); return; }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const items = [...picker.querySelectorAll(".lesson-pick")];
    const i = items.indexOf(document.activeElement);
    e.preventDefault();
    items[(i + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length]?.focus();
  });
  document.addEventListener("pointerdown", (e) => { if (!picker.hidden && !slot.contains(e.target)) openPicker(false); });

  // One sentence under the list when some lessons cannot run on this server's models.
  function missingNote(list) {
    const missing = [...new Set(list.flatMap((l) => missingModels(l.models, store.get().models)))];
    if (!missing.length) return null;
    return h("p", { class: "lessons-missing", role: "note", text: `The lessons were written for the article's LeNet models, and this server does not serve ${missing.join(" or ")}. Start it with \`${KEEP_SHIPPED}\` to keep the shipped models beside your own.` });
  }

  function dismissHint() { hint.hidden = true; storage.set(HINT_KEY, "1"); }

  // --- the step card ------------------------------------------------------------------------
  function sentence(parts) {
    return parts.map((p) => (p.path
      ? h("span", { class: p.pending ? "lesson-n pending" : "lesson-n", "data-path": p.path, "data-value": p.pending ? null : String(p.value), text: p.text })
      : document.createTextNode(p.text)));
  }

  function render(card) {
    if (!card) { cardEl.hidden = true; labels.replaceChildren(); document.body.classList.remove("lesson-on", "lesson-folded"); return; }
    const { lesson, index: i, step, parts, done, notes, entering } = card;
    const n = lesson.steps.length;
    const key = `${lesson.id}:${i}`;
    const focusHeading = !entering && cardEl.dataset.focused !== key;   // once per step, when it is set up
    cardEl.dataset.key = key;
    cardEl.dataset.lesson = lesson.id;
    cardEl.dataset.step = String(i + 1);
    cardEl.dataset.done = String(done);
    cardEl.dataset.ready = String(!entering && !card.missing.length && parts.length > 0);
    cardEl.hidden = false;
    document.body.classList.add("lesson-on");
    const collapsed = cardEl.classList.contains("collapsed");
    document.body.classList.toggle("lesson-folded", collapsed);   // a phone gives its room back
    const heading = h("h2", { class: "lesson-title", tabindex: "-1" }, `Lesson ${lesson.number} · ${lesson.title}`);
    cardEl.replaceChildren(
      h("div", { class: "lesson-head" }, heading,
        h("button", { class: "lesson-min", "aria-expanded": String(!collapsed), "aria-label": collapsed ? "Show the lesson" : "Hide the lesson text", text: collapsed ? "▴" : "▾",
          onclick: () => { cardEl.classList.toggle("collapsed"); render(runner.card); } }),
        h("button", { class: "lesson-close", "aria-label": "Close the lesson", text: "×", onclick: () => runner.close() })),
      h("div", { class: "lesson-body" },
        i === 0 ? h("p", { class: "lesson-question", text: lesson.question }) : null,
        h("p", { class: "lesson-progress" }, `Step ${i + 1} of ${n}`, step.title ? ` · ${step.title}` : "",
          h("span", { class: "lesson-dots", "aria-hidden": "true" }, lesson.steps.map((_, k) => h("span", { class: k < i ? "dot past" : k === i ? "dot now" : "dot" })))),
        h("p", { class: "lesson-text", "aria-live": "polite" }, entering ? "Setting up the view…" : sentence(parts)),
        h("p", { class: `lesson-task ${done ? "done" : ""}`, "aria-live": "polite" }, h("strong", { text: done ? "✓ Done. " : "Your turn: " }), step.task.prompt),
        notes.length ? h("p", { class: "lesson-note", role: "status", text: notes.join("; ") }) : null),
      h("div", { class: "lesson-nav" },
        h("button", { class: "lesson-back", disabled: i === 0, text: "Back", onclick: () => runner.go(i - 1) }),
        h("button", { class: "lesson-link", text: "Copy link", title: "A link to this step, on this drawing", onclick: () => share.copyLink() }),
        i < n - 1
          ? h("button", { class: "lesson-next", disabled: !done, "aria-describedby": "lesson-why", text: "Next", onclick: () => runner.go(i + 1) })
          : h("button", { class: "lesson-next", disabled: !done, text: "Finish", onclick: () => { runner.close(); openPicker(true); } }),
        h("span", { id: "lesson-why", class: "sr-only", text: done ? "" : "Next unlocks when you have done the step." })));
    if (focusHeading) { cardEl.dataset.focused = key; heading.focus({ preventScroll: true }); }
    drawLabels(step.labels);
  }

  // Names on the maps they name ("convolved feature", "rectified map"): over each column.
  function drawLabels(names) {
    labels.replaceChildren();
    const layout = net?.layout;
    if (!names || !layout || store.get().tab !== "network") return;
    for (const [stage, text] of Object.entries(names)) {
      const col = layout.columns.find((c) => c.stages?.includes(stage) && c.shown === stage) ?? layout.columns.find((c) => c.shown === stage);
      if (!col || col.type !== "maps" || col.w < 36) continue;   // too narrow to carry words (a phone)
      const r = mapRect(col, 0);
      const tag = h("span", { class: "lesson-label", "data-stage": stage, text });
      // Through the CSSOM: the page's CSP refuses style attributes.
      Object.assign(tag.style, { left: `${Math.round(col.x)}px`, top: `${Math.max(0, Math.round(r.y) - 2)}px`, maxWidth: `${Math.max(90, Math.round(col.w + 40))}px` });
      labels.append(tag);
    }
  }
  store.subscribe(() => { const c = runner.card; if (c) drawLabels(c.step.labels); }, ["trace", "foldActivations", "tab"]);
  new ResizeObserver(() => { const c = runner.card; if (c) drawLabels(c.step.labels); }).observe(document.getElementById("net-wrap") ?? document.body);

  // Opens a lesson; what kept it from opening comes back as notes (the link's note shows them).
  async function open(id, step = 1, override = null) {
    hint.hidden = true;
    try {
      const lesson = await load(id);
      await runner.open(lesson, step - 1, override);
      return [];
    } catch (err) {
      return [`lesson ${id}: ${err.message}`];
    }
  }
  const openNoting = (id, step, override) => open(id, step, override).then((notes) => { if (notes.length) share.note(notes); });

  // A link's view; with a lesson in it, that lesson's step opens on the link's drawing and unit.
  async function openFromUrl() {
    const { view, notes } = await decodeHash(location.hash);
    let more = [];
    if (view.lesson) {
      const { lesson, ...rest } = view;
      more = await open(lesson.id, lesson.step, rest);
    } else {
      more = await views.apply(view);
    }
    share.note([...notes, ...more]);
    if (!storage.get(HINT_KEY) && !view.lesson && !runner.lesson) hint.hidden = false;
  }

  return { open: openNoting, openFromUrl, runner, openPicker };
}
