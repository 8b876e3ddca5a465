// "Watch it train": the recorded training run (GET /api/history), scrubbed with a slider or
// played: conv1's filters forming out of noise, the current drawing's feature maps and
// prediction at that moment (POST /api/history/forward answers every snapshot at once, so a
// scrub repaints from memory), and the loss/accuracy curves with a cursor. Then the two seeds:
// "filters differ because they start different".
//
// A model with no recorded run (`history: false` in /api/model: every imported model) gets one
// sentence saying why, and no request; one with a single run gets one sentence for the seeds.
// A model switch in place starts over: what is shown is always the current model's run.
//
// mountHistory(el, {store, api}) -> {show, hide, seek(k), frames}

import { latestWins } from "../schedule.js";
import { maxAbs, snapshotSlice, nextSnapshot, epochAxis, epochTicks, filterGrid, channelNames } from "../learn/model.js";
import { paintTiles, paintGrid, paintBars, paintCurves, signedScale, BEFORE, AFTER, GRADIENT } from "../learn/paint.js";
import { learnWords, noHistory, kernelTitle, NO_SEEDS } from "../learn/words.js";

const PLAY_MS = 350;   // per snapshot while playing: ~10 s for a couple of dozen moments

function template() {
  return `
    <h2>Watch it train</h2>
    <p id="learn-h-none" class="learn-hint" hidden></p>
    <div id="learn-h-run">
    <p class="learn-hint">A real training run of this network, recorded as it learned: drag the slider (or press play) from random initialisation to the end. Your <span class="learn-noun">drawing</span> is run through the network as it was at each moment.</p>
    <p id="learn-h-missing" class="learn-error" hidden></p>
    <div class="learn-h-controls" id="learn-h-controls">
      <button id="learn-h-play" type="button" aria-pressed="false">▶ play</button>
      <input id="learn-h-slider" type="range" min="0" max="0" step="1" value="0" aria-label="Training moment">
      <output id="learn-h-label" aria-live="polite"></output>
    </div>
    <div class="learn-h-row">
      <figure><canvas id="learn-h-kernels"></canvas><figcaption id="learn-h-kcap"></figcaption></figure>
      <figure><canvas id="learn-h-map0"></canvas><figcaption id="learn-h-cap0"></figcaption></figure>
      <figure><canvas id="learn-h-map1"></canvas><figcaption id="learn-h-cap1"></figcaption></figure>
    </div>
    <div class="learn-h-row">
      <figure><canvas id="learn-h-bars"></canvas><figcaption id="learn-h-pred"></figcaption></figure>
      <figure><canvas id="learn-h-loss"></canvas></figure>
      <figure><canvas id="learn-h-acc"></canvas></figure>
    </div>
    <h3 id="learn-h-seeds-head">Filters differ because they start different</h3>
    <p class="learn-hint" id="learn-h-seeds-hint"></p>
    <div id="learn-h-seeds" class="learn-seeds"></div>
    </div>`;
}

export function mountHistory(el, { store, api }) {
  el.innerHTML = template();
  const $ = (id) => el.querySelector(`#${id}`);
  const st = { visible: false, model: null, history: null, loading: null, body: null, forward: null, k: 0, playing: null, frames: 0 };
  // style.display as well as `hidden`: the rows are CSS flex boxes, which win over `hidden`.
  const show = (id, on) => { $(id).hidden = !on; $(id).style.display = on ? "" : "none"; };

  const fetchForward = latestWins((j, signal) => api.historyForward(j.body, {}, { signal }), {
    mode: "abort",
    onResult(result, j) {
      if (j.model !== st.model) return;   // asked of the model before a switch
      st.forward = { ...result, body: j.body };
      paint();
    },
    onError: (err, j) => {
      if (j && j.model !== st.model) return;
      $("learn-h-missing").hidden = false;
      $("learn-h-missing").textContent = `history: ${err.message}`;
    },
  });

  // The current model's run, or the one sentence saying why it has none (and no request). A
  // model switched in place drops the last one's run: nothing of it may stay on screen.
  function useModel() {
    const model = store.get().model;
    if (!model || model === st.model) return;
    setPlaying(false);
    Object.assign(st, { model, history: null, loading: null, body: null, forward: null, k: 0 });
    const why = noHistory(model);
    $("learn-h-none").textContent = why ?? "";
    show("learn-h-none", !!why);
    show("learn-h-run", !why);
    show("learn-h-controls", true);
    $("learn-h-missing").hidden = true;
    for (const span of el.querySelectorAll(".learn-noun")) span.textContent = learnWords(model).noun;
    for (const id of ["learn-h-kcap", "learn-h-cap0", "learn-h-cap1", "learn-h-pred", "learn-h-label", "learn-h-seeds-hint"]) $(id).textContent = "";
    $("learn-h-seeds").replaceChildren();
    for (const canvas of el.querySelectorAll("#learn-h-run canvas")) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    if (st.visible) load().then(follow);
  }

  function load() {
    // Not before the model's record: it says whether there is a run to ask for.
    if (!st.model || noHistory(st.model)) return Promise.resolve();
    if (st.loading) return st.loading;
    const model = st.model;
    st.loading = api.history().then((h) => {
      if (model !== st.model) return;
      st.history = h;
      const slider = $("learn-h-slider");
      slider.max = String(h.snapshots.length - 1);
      st.k = h.snapshots.length - 1;
      slider.value = String(st.k);
      st.kernelScale = signedScale(h.kernels.values);   // one scale for all moments: growth shows
      st.channelNames = channelNames(model.layers, h.kernels.layer);
      const [, F, C] = h.kernels.shape;   // the first conv by kind, [snapshots, F, C, k, k]
      $("learn-h-kcap").textContent = kernelTitle(h.kernels.layer, F, C, st.channelNames);
      paintSeeds(h);
      follow();
      paint();
    }, (err) => {
      if (model !== st.model) return;
      $("learn-h-missing").hidden = false;
      $("learn-h-missing").textContent = err.status === 404 ? `No training history for this model: ${err.detail}` : `history: ${err.message}`;
      show("learn-h-controls", false);
    });
    return st.loading;
  }

  function follow() {
    const body = store.get().trace?.body;
    if (!st.history || !body || body === st.body) return;
    st.body = body;
    fetchForward.submit({ body, model: st.model });
  }

  // One frame: everything that depends on the snapshot. Marked for bench/learn.py (fps).
  function paint() {
    const h = st.history;
    if (!h) return;
    performance.mark("learn-scrub-start");
    const k = st.k;
    const snap = h.snapshots[k];
    $("learn-h-label").textContent = `${snap.label} · accuracy ${(snap.test_accuracy * 100).toFixed(1)}% on the probe`;
    $("learn-h-label").dataset.snapshot = String(k);
    const kshape = h.kernels.shape;
    const conv1 = snapshotSlice(h.kernels.values, kshape, k);
    paintGrid($("learn-h-kernels"), filterGrid(conv1, kshape.slice(1), st.channelNames), kshape[3], kshape[4], st.kernelScale, { cell: 7, gap: 4 });
    const f = st.forward?.snapshots.find((s) => s.index === k);
    if (f) {
      f.layers.slice(0, 2).forEach((layer, i) => {
        const [C, H, W] = layer.shape;
        const tiles = Array.from({ length: C }, (_, c) => ({ values: layer.values.subarray(c * H * W, (c + 1) * H * W) }));
        const max = maxAbs(layer.values);
        paintTiles($(`learn-h-map${i}`), tiles, H, W, signedScale(layer.values, max), { cols: C > 8 ? 8 : C, cell: C > 8 ? 3 : 2, gap: 2 });
        $(`learn-h-cap${i}`).textContent = `${layer.name} on your drawing (|max| ${max.toFixed(2)})`;
      });
      const classes = store.get().model?.classes ?? [...Array(f.probabilities.length).keys()].map(String);
      paintBars($("learn-h-bars"), classes, [{ values: f.probabilities, color: AFTER }], null, { width: 240, height: 130 });
      $("learn-h-pred").innerHTML = `prediction <strong data-prediction="${f.prediction}">${classes[f.prediction]}</strong> ${(f.probabilities[f.prediction] * 100).toFixed(1)}%`;
    }
    paintCurvesAt(h, snap.epoch);
    performance.measure("learn-scrub-paint", "learn-scrub-start");
    st.frames += 1;
  }

  function paintCurvesAt(h, epoch) {
    const c = h.curves;
    const ep = c.epoch.map(epochAxis);
    const steps = h.step_curves.step.map((s) => epochAxis(s / h.steps_per_epoch));
    const last = c.epoch[c.epoch.length - 1];
    const axis = { xlo: 0, xhi: epochAxis(last), cursor: epochAxis(epoch), xticks: epochTicks(last) };
    paintCurves($("learn-h-loss"), [
      { xs: steps, ys: Array.from(h.step_curves.loss), color: "#c9c9c9", label: "batch loss" },
      { xs: ep, ys: c.train_loss, color: BEFORE, label: "train loss" },
      { xs: ep, ys: c.test_loss, color: GRADIENT, label: "test loss" },
    ], { width: 340, height: 150, ylo: 0, ...axis, title: "loss (∛ epochs)" });
    paintCurves($("learn-h-acc"), [
      { xs: ep, ys: c.train_accuracy, color: BEFORE, label: "train" },
      { xs: ep, ys: c.test_accuracy, color: AFTER, label: "test" },
      { xs: h.snapshots.map((s) => epochAxis(s.epoch)), ys: h.snapshots.map((s) => s.test_accuracy), color: "#555", label: "probe", dots: true },
    ], { width: 340, height: 150, ylo: 0, yhi: 1, ...axis, title: "accuracy (∛ epochs)" });
  }

  // What the runs share is read from the server's comparison of their recordings (each other
  // run's `differs`), never assumed: a shortened run is called one.
  function seedsHint(seeds) {
    const differs = [...new Set(seeds.slice(1).flatMap((s) => s.differs ?? []))];
    const why = "each filter grows from its own random start, so different runs learn different (but equally useful) filters, in a different order.";
    if (seeds.length < 2) return "";
    if (!differs.length) return `Runs of the same network on the same data with the same recipe, differing only in the random seed of their initial weights: ${why}`;
    return `Runs differing in the random seed of their initial weights, and also in: ${differs.join("; ")}. The seed is why the filters differ: ${why}`;
  }

  function paintSeeds(h) {
    const box = $("learn-h-seeds");
    const one = h.seeds.length < 2;   // nothing to compare: one sentence, no heading or figures
    show("learn-h-seeds-head", !one);
    show("learn-h-seeds", !one);
    $("learn-h-seeds-hint").textContent = one ? NO_SEEDS : seedsHint(h.seeds);
    if (one) { box.replaceChildren(); return; }
    box.innerHTML = h.seeds.map((s, i) => `
      <div class="learn-seed"><p><strong>${s.label}</strong>${s.test_accuracy != null ? ` · ${s.epochs} epoch${s.epochs === 1 ? "" : "s"}, test accuracy ${(s.test_accuracy * 100).toFixed(1)}%` : ""}</p>
      <figure><canvas data-seed="${i}" data-when="init"></canvas><figcaption>at random init</figcaption></figure>
      <figure><canvas data-seed="${i}" data-when="final"></canvas><figcaption>after training</figcaption></figure></div>`).join("");
    for (const canvas of box.querySelectorAll("canvas")) {
      const s = h.seeds[Number(canvas.dataset.seed)];
      const values = s[canvas.dataset.when];
      paintGrid(canvas, filterGrid(values, s.shape, st.channelNames), s.shape[2], s.shape[3], signedScale(values), { cell: 7, gap: 4 });
    }
  }

  function seek(k) {
    st.k = Math.max(0, Math.min(k, (st.history?.snapshots.length ?? 1) - 1));
    $("learn-h-slider").value = String(st.k);
    paint();
  }

  function setPlaying(on) {
    const button = $("learn-h-play");
    clearInterval(st.playing);
    st.playing = null;
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "❚❚ pause" : "▶ play";
    if (!on || !st.history) return;
    if (st.k === st.history.snapshots.length - 1) seek(0);    // play from the start
    st.playing = setInterval(() => {
      const next = nextSnapshot(st.k, st.history.snapshots.length);
      seek(next);
      if (next === st.history.snapshots.length - 1) setPlaying(false);
    }, PLAY_MS);
  }

  $("learn-h-slider").addEventListener("input", (e) => { setPlaying(false); seek(Number(e.target.value)); });
  $("learn-h-play").onclick = () => setPlaying(!st.playing);
  store.subscribe(() => { if (st.visible) follow(); }, ["trace"]);
  store.subscribe(useModel, ["model"]);

  return {
    show() { st.visible = true; useModel(); load().then(follow); },
    hide() { st.visible = false; setPlaying(false); },
    seek,
    get frames() { return st.frames; },
    get ready() { return !!st.history && !!st.forward && st.forward.body === store.get().trace?.body; },
  };
}
