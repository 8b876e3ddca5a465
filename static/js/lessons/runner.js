// Runs one lesson on the live page: enters a step (sets its view through viewstate.js, pins its
// unit through the store's own `pinned`), fetches the numbers its text names (api.js: explain,
// gradient; the Lab's answer from the store), fills the text (lessons/engine.js) and watches
// the store until the student has done the step's task. Not a view: it draws nothing; it calls
// onChange(card) with everything the step card shows.
//
// createRunner({store, api, views, onChange, onDone}) ->
//   {open(lesson, index, override), go(index), close(), get card, get idle, get lesson}
// card = {lesson, index, step, parts, missing, done, notes, requests}
//   requests: [{name, kind, args, body, answer}] — what each shown number came from (tests
//   replay these against the API).

import { dataRequests, lessonContext, fillText, snapshot, taskDone, resolveUnit, lessonModels, missingModels, missingModelsText, inheritedView } from "./engine.js";

const REFRESH_MS = 120;   // after the drawing rests: numbers are refetched at most this often

export function createRunner({ store, api, views, onChange, onDone }) {
  let lesson = null, index = 0, start = null, done = false, notes = [];
  let answers = {}, requests = [], filled = { parts: [], missing: [] };
  let seq = 0, pending = 0, timer = null, scheduled = false, entering = false;
  const cache = new Map();   // one explain/gradient answer per (kind, body, args), for this step

  // "default" in a step is the lesson's own model (the one its texts were written for); a
  // lesson file without one runs on the server's default model.
  const defaultModel = () => lesson?.model ?? store.get().models?.find((m) => m.default)?.id ?? store.get().models?.[0]?.id ?? null;
  const dom = { expanded: (sel) => [...document.querySelectorAll(sel)].some((n) => n.getAttribute("aria-expanded") === "true") };
  const card = () => (lesson ? { lesson, index, step: lesson.steps[index], parts: filled.parts, missing: filled.missing, done, notes, requests, entering } : null);
  const emit = () => onChange(card());

  function stepView(step, override, base = null) {
    const v = { ...(base ?? step.view ?? {}) };
    if (v.model === "default") v.model = defaultModel();
    if (v.drawing === "yours") delete v.drawing;
    const pin = v.pin;
    delete v.pin;
    for (const k of ["tab", "fold", "lab", "drawing"]) if (override?.[k] !== undefined) v[k] = override[k];
    return { view: v, pin: override?.pin ?? pin };
  }

  // inherit: opened at this step directly (a link, a bookmark, a teacher's "step=3"), so every
  // view up to it applies (engine.js inheritedView); by Back / Next only the step's own view
  // does, and what the student just did stays.
  async function enter(i, override = null, inherit = false) {
    const my = ++seq;
    index = i;
    done = false;
    entering = true;
    answers = {};
    requests = [];
    filled = { parts: [], missing: [] };
    cache.clear();
    store.set({ lesson: { id: lesson.id, step: i + 1 } });
    emit();
    const step = lesson.steps[i];
    const { view, pin } = stepView(step, override, inherit ? inheritedView(lesson, i) : null);
    notes = await views.apply(view);
    if (my !== seq) return;
    if (pin !== undefined) {
      const s = store.get();
      const u = pin === null ? null : resolveUnit(pin.layer, pin.unit, { trace: s.trace, pinned: s.pinned });
      if (pin !== null && !u) notes.push(`no ${pin.layer} unit to pin`);
      store.set({ pinned: u, hover: u });
    }
    start = snapshot(store.get());
    entering = false;
    await refresh(my);
    check();
  }

  function body() { return store.get().trace?.body; }

  async function fetchOne(r) {
    if (r.kind === "lab") return store.get().labResult?.result;   // the Lab's own latest answer
    const b = body();
    const key = `${r.kind}:${JSON.stringify(r.args)}`;
    const hit = cache.get(key);
    if (hit && hit.body === b) return hit.answer;
    let answer;
    if (r.kind === "explain") answer = await api.explain(b, r.args.layer, r.args.unit);
    else answer = await api.gradient(b, { ...r.args, dense_weights: "outer" });
    cache.set(key, { body: b, answer });
    return answer;
  }

  async function refresh(my = seq) {
    if (!lesson || entering) return;
    const s = store.get();
    const step = lesson.steps[index];
    const plan = dataRequests(step, s);
    pending++;
    try {
      if (plan.waiting) {
        answers = {};
        requests = [];
      } else {
        const got = await Promise.all(plan.requests.map(fetchOne));
        if (my !== seq) return;
        answers = Object.fromEntries(plan.requests.map((r, k) => [r.name, got[k]]));
        const labBody = store.get().labResult?.body;
        const model = store.get().modelId ?? null;
        requests = plan.requests.map((r, k) => ({ ...r, model, body: r.kind === "lab" ? labBody : body(), answer: got[k] }));
      }
      filled = fillText(step.text, lessonContext(store.get(), answers));
    } catch (err) {
      if (my === seq) notes = [...notes, `numbers: ${err.message}`];
    } finally {
      pending--;
    }
    if (my === seq) emit();
  }

  function check() {
    if (!lesson || entering || done || !start) return;
    const step = lesson.steps[index];
    if (taskDone(step.task, start, store.get(), { dom, defaultModel: defaultModel() })) {
      done = true;
      onDone?.(lesson, index);
      emit();
    }
  }

  // Numbers follow the drawing, the pinned unit, the Learn tab and the Lab as they change.
  store.subscribe(() => {
    if (!lesson || entering) return;
    check();
    clearTimeout(timer);
    scheduled = true;
    timer = setTimeout(function again() {
      const s = store.get();
      if (s.trace && s.trace.body !== s.drawing) { timer = setTimeout(again, REFRESH_MS); return; }
      scheduled = false;
      refresh();
    }, REFRESH_MS);
  }, ["trace", "pinned", "hover", "learn", "labResult", "lab", "tab", "modelId", "model", "drawing"]);
  new MutationObserver(check).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-expanded"] });

  return {
    async open(l, i = 0, override = null) {
      const missing = missingModels(lessonModels(l), store.get().models);
      if (missing.length) throw new Error(missingModelsText(missing));
      lesson = l;
      await enter(Math.max(0, Math.min(i, l.steps.length - 1)), override, true);
    },
    go(i) { if (lesson && i >= 0 && i < lesson.steps.length) return enter(i); return Promise.resolve(); },
    close() { seq++; lesson = null; start = null; clearTimeout(timer); scheduled = false; store.set({ lesson: null }); emit(); },
    get card() { return card(); },
    // For tests: the step is entered and its numbers are those of the state on screen.
    get idle() { return !!lesson && !entering && pending === 0 && !scheduled; },
    get lesson() { return lesson; },
  };
}
