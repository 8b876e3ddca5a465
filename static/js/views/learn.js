// The Learn tab: one step of backpropagation on the student's own drawing, then the recorded
// training run (views/learnhistory.js). Every number comes from POST /api/gradient: the server
// starts from the served model each time and keeps no state, so "Step" asks for n + 1 steps.
// This module lays out and paints; learn/model.js slices; nothing here does network maths.
//
// mount(el, {store, api}) -> {show, hide}   (tabs.js)

import { latestWins } from "../schedule.js";
import { displayColumns, layoutNetwork, unitRect, mapRect } from "../layout.js";
import { lut } from "../color.js";
import { figure, nextSteps, maxAbs, gradientLayers, denseGradient, difference, filterGrid, channelNames, defaultTarget, trend, learningRates, defaultRate } from "../learn/model.js";
import { drawMap, sized, paintGrid, paintInput, paintHeatmap, paintBars, paintCurves, signedScale, BEFORE, AFTER, GRADIENT } from "../learn/paint.js";
import { learnWords, kernelTitle } from "../learn/words.js";
import { mountHistory } from "./learnhistory.js";

const CONV2_VIEWS = { gradient: "gradient", difference: "after − before", before: "before", after: "after" };

function template() {
  return `
  <div class="learn-wrap">
  <div class="learn-side" id="learn-side"></div>
  <div class="learn">
    <section class="learn-step" id="learn-step-section" aria-label="One step of gradient descent on your drawing">
      <h2 id="learn-title">One step of backpropagation on your drawing</h2>
      <p class="learn-hint"><span id="learn-prompt">Draw a digit on the pad</span>, then choose what your <span class="learn-noun">drawing</span> <em>should</em> be. The server computes the loss, its gradient with respect to every stage and every weight, and takes gradient-descent steps on a <strong>copy</strong> of the network: the served model never changes. Steps on one <span class="learn-noun">drawing</span> teach only that <span class="learn-noun">drawing</span> (a few large steps can make the copy forget others): real training averages the gradient over many examples, in small steps.</p>
      <div class="learn-controls">
        <figure class="learn-input"><canvas id="learn-input" aria-label="Your drawing as the network sees it"></canvas><figcaption id="learn-input-cap">your drawing</figcaption></figure>
        <fieldset class="learn-targets" id="learn-targets"><legend>Target class</legend></fieldset>
        <label class="learn-rate">Learning rate <input id="learn-lr" type="range" min="0" max="0" step="1" value="0"> <output id="learn-lr-value"></output></label>
        <div class="learn-buttons">
          <button id="learn-step" type="button">Step</button>
          <button id="learn-step5" type="button">Step ×5</button>
          <button id="learn-reset" type="button">Reset</button>
          <span id="learn-count" data-steps="0">0 steps</span>
        </div>
      </div>
      <div class="learn-figures">
        <table id="learn-table" class="learn-table" aria-label="Before and after the steps"></table>
        <figure><canvas id="learn-bars"></canvas><figcaption>Output probabilities: <span class="sw" data-swatch="before"></span> served model, <span class="sw" data-swatch="after"></span> after the steps; dashed box = target vector (1 for the target, 0 elsewhere)</figcaption></figure>
        <figure><canvas id="learn-progress"></canvas><figcaption>Each step: probability of the target and total error Σ½(target − output)²</figcaption></figure>
      </div>
      <p class="learn-note">The loss descended is the <strong>cross-entropy</strong> −log p(target); the article's <strong>total error</strong> Σ½(target − output)² is shown beside it. Gradients below are d(cross-entropy)/d(…) for the served model: <span class="sw" data-swatch="gradient"></span> negative (descent raises this value), <span class="sw" data-swatch="after"></span> positive (descent lowers it).</p>
      <h3>Gradient at every stage</h3>
      <canvas id="learn-stages" class="learn-stages" aria-label="Gradient of the loss with respect to every stage"></canvas>
      <p id="learn-stage-scales" class="learn-hint"></p>
      <h3 id="learn-conv1-title"></h3>
      <div class="learn-kernels" id="learn-conv1">
        <figure><canvas data-k="before"></canvas><figcaption>before</figcaption></figure>
        <figure><canvas data-k="gradient"></canvas><figcaption>gradient</figcaption></figure>
        <figure><canvas data-k="after"></canvas><figcaption>after the steps</figcaption></figure>
        <figure><canvas data-k="difference"></canvas><figcaption>after − before</figcaption></figure>
      </div>
      <h3 id="learn-conv2-head"><span id="learn-conv2-title"></span> <select id="learn-conv2-view" aria-label="conv2 kernels shown">${Object.entries(CONV2_VIEWS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></h3>
      <canvas id="learn-conv2" aria-label="The second conv's kernels: one column per filter, one row per input map"></canvas>
      <h3 id="learn-dense-title">Dense weight gradients (rows = units, columns = inputs)</h3>
      <div class="learn-dense" id="learn-dense"></div>
      <p id="learn-error" class="learn-error" role="alert"></p>
    </section>
    <section class="learn-history" id="learn-history" aria-label="Watch it train"></section>
  </div>
  </div>`;
}

export function mount(el, { store, api }) {
  el.innerHTML = template();
  // Swatch colours through CSSOM, not style="" markup: the page's CSP forbids inline styles.
  const swatches = { before: BEFORE, after: AFTER, gradient: GRADIENT };
  for (const sw of el.querySelectorAll(".sw[data-swatch]")) sw.style.background = swatches[sw.dataset.swatch];
  if (!document.querySelector('link[href$="/static/css/learn.css"]')) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/css/learn.css";
    document.head.appendChild(link);
  }
  const $ = (id) => el.querySelector(`#${id}`);
  const ui = { visible: false, body: null, target: null, rate: null, steps: 0, result: null, stale: true };
  const history = mountHistory($("learn-history"), { store, api });

  const job = latestWins((j, signal) => api.gradient(j.body, { target: j.target, learning_rate: j.rate, steps: Math.max(1, j.steps) }, { signal }), {
    mode: "queue",
    onResult(result, j) {
      if (j.model !== ui.model) return;   // asked of the model before a switch
      ui.result = { ...result, shownSteps: j.steps };
      $("learn-error").textContent = "";
      render();
    },
    onError: (err, j) => { if (j?.model === ui.model) $("learn-error").textContent = `gradient: ${err.message}`; },
  });
  // The server's bounds (model.limits.learn): the slider's stops and the step cap.
  const limits = () => store.get().model?.limits?.learn;
  let rates = [];
  function fillRates() {
    const next = learningRates(limits());
    if (next.join() === rates.join()) return;
    rates = next;
    if (!rates.includes(ui.rate)) ui.rate = defaultRate(rates);
    $("learn-lr").max = String(Math.max(0, rates.length - 1));
    $("learn-lr").value = String(Math.max(0, rates.indexOf(ui.rate)));
    $("learn-lr-value").textContent = ui.rate == null ? "" : String(ui.rate);
  }
  fillRates();
  const request = () => {
    if (!ui.body || ui.target == null || ui.rate == null) return;
    job.submit({ body: ui.body, target: ui.target, rate: ui.rate, steps: ui.steps, model: ui.model });
  };

  function classes() {
    const s = store.get();
    const n = s.trace?.layers.at(-1).shape[0] ?? 0;   // a server without class names: numbers
    return s.model?.classes ?? Array.from({ length: n }, (_, i) => String(i));
  }

  function renderTargets() {
    const box = $("learn-targets");
    const names = classes();
    if (box.querySelectorAll("input").length !== names.length) {
      box.innerHTML = "<legend>Target class</legend>" + names.map((c, k) => `<label><input type="radio" name="learn-target" value="${k}"> ${c}</label>`).join("");
    }
    for (const input of box.querySelectorAll("input")) input.checked = Number(input.value) === ui.target;
  }

  // A new drawing or model (or the first show): start over from the served model, target =
  // prediction. The model counts: the same drawing sent to another model is another answer.
  function follow() {
    const s = store.get();
    if (!s.trace || (s.trace.body === ui.body && s.model === ui.model)) return;
    ui.body = s.trace.body;
    ui.model = s.model;
    ui.target = defaultTarget(s.trace);
    ui.steps = 0;
    ui.result = null;
    if (pending) { take(pending); pending = null; }
    showInput(s.trace);
    renderTargets();
    request();
  }

  // The input stage by kind, as the network reads it (colour and normalisation undone for the
  // eye), ~130 px whatever its side.
  function showInput(trace) {
    const input = trace.layers.find((l) => l.kind === "input");
    if (!input) return;
    const cell = Math.max(1, Math.floor(144 / Math.max(...input.shape.slice(1))));
    paintInput($("learn-input"), input, store.get().model, cell);
  }

  // The words and titles that follow the model, not each answer: what the student gave it
  // (learn/words.js) and the conv stages' kernels, by kind, from the record.
  function renderModel() {
    const model = store.get().model;
    const w = learnWords(model);
    $("learn-title").textContent = w.title;
    $("learn-step-section").setAttribute("aria-label", w.title);
    $("learn-prompt").textContent = w.prompt;
    for (const span of el.querySelectorAll(".learn-noun")) span.textContent = w.noun;
    $("learn-input-cap").textContent = w.caption;
    $("learn-input").setAttribute("aria-label", w.inputLabel);
    const convs = (model?.layers ?? []).filter((l) => l.kind === "conv");
    const [c1, c2] = convs;
    // style.display as well as `hidden`: the kernels' row is a CSS flex box, which wins over it.
    const show = (id, on) => { $(id).hidden = !on; $(id).style.display = on ? "" : "none"; };
    for (const id of ["learn-conv1-title", "learn-conv1"]) show(id, !!c1);
    for (const id of ["learn-conv2-head", "learn-conv2"]) show(id, !!c2);
    if (c1) $("learn-conv1-title").textContent = kernelTitle(c1.name, c1.filters, c1.in_channels, channelNames(model.layers, c1.name));
    if (c2) $("learn-conv2-title").textContent = kernelTitle(c2.name, c2.filters, c2.in_channels, channelNames(model.layers, c2.name));
    show("learn-dense-title", (model?.layers ?? []).some((l) => l.kind === "dense"));
  }

  function render() {
    const r = ui.result;
    // What the student chose, for lessons (lesson 6 follows the target, rate and step count).
    const shared = store.get().learn;
    if (shared?.target !== ui.target || shared?.rate !== ui.rate || shared?.steps !== ui.steps) store.set({ learn: { target: ui.target, rate: ui.rate, steps: ui.steps } });
    $("learn-count").textContent = `${ui.steps} step${ui.steps === 1 ? "" : "s"}`;
    $("learn-count").dataset.steps = String(ui.steps);
    const maxSteps = limits()?.max_steps ?? 0;
    $("learn-step").disabled = ui.steps >= maxSteps;
    $("learn-step5").disabled = ui.steps >= maxSteps;
    if (!r) return;
    const n = r.shownSteps;   // the answer on screen may be one request behind the counter
    renderTable(r, n);
    const names = classes();
    paintBars($("learn-bars"), names, [{ values: r.before.probabilities, color: BEFORE }, { values: n ? r.after.probabilities : null, color: AFTER }], r.target_vector, { width: 340, height: 130 });
    const hist = n ? r.history : r.history.slice(0, 1);
    paintCurves($("learn-progress"), [
      { xs: hist.map((h) => h.step), ys: hist.map((h) => h.probability), color: AFTER, label: `p(${names[r.target]})`, dots: true },
      { xs: hist.map((h) => h.step), ys: hist.map((h) => h.total_error), color: GRADIENT, label: "total error", dots: true },
    ], { width: 300, height: 130, ylo: 0, yhi: 1, xlo: 0, xhi: Math.max(1, n), title: "step" });
    renderStages(r);
    renderKernels(r, n);
    renderDense(r);
  }

  function renderTable(r, n) {
    const names = classes();
    const t = r.target;
    const after = n ? r.after : null;
    const cell = (f, get) => (f ? get(f) : "–");
    const row = (label, get, cls = "") => `<tr class="${cls}"><th>${label}</th><td>${cell(r.before, get)}</td><td>${cell(after, get)}</td></tr>`;
    const tr = trend(n ? r.history : r.history.slice(0, 1));
    $("learn-table").innerHTML = `<thead><tr><th></th><th>served model</th><th>after ${n} step${n === 1 ? "" : "s"}</th></tr></thead><tbody>
      ${row(`p(target = ${names[t]})`, (f) => `<span data-field="probability">${(f.probabilities[t] * 100).toFixed(2)}%</span>`, "learn-p")}
      ${row("total error Σ½(t − p)²", (f) => `<span data-field="total_error">${figure(f.total_error)}</span>`)}
      ${row("cross-entropy −log p", (f) => figure(f.cross_entropy))}
      ${row("prediction", (f) => `${names[f.prediction]} (${(f.probabilities[f.prediction] * 100).toFixed(1)}%)`)}
      </tbody><caption>${n ? (tr.rising && tr.falling ? "The target's probability rose and the error fell at every step." : "Not every step helped: try a smaller learning rate.") : "Press Step to take a gradient-descent step."} lr = ${r.learning_rate}</caption>`;
  }

  // Stage gradients in the Network tab's own node-link layout (layout.js), one signed colour
  // scale per stage: magnitudes differ by orders between stages.
  function renderStages(r) {
    const s = store.get();
    const stages = s.model?.layers ?? s.trace?.layers;
    if (!stages) return;
    const layers = gradientLayers(r.stage_gradients, stages);
    const canvas = $("learn-stages");
    const width = Math.max(600, Math.min(1200, el.querySelector(".learn").clientWidth - 40));
    const height = 300;
    const columns = displayColumns(layers, { foldActivations: s.foldActivations !== false });
    const layout = layoutNetwork(columns, { width, height });
    const ctx = sized(canvas, width, height);
    const byName = new Map(layers.map((l) => [l.name, l]));
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "left";
    const maxima = [];
    layout.columns.forEach((col, i) => {
      const layer = byName.get(col.shown);
      const max = maxAbs(layer.values);
      const scale = signedScale(layer.values, max);
      // Kept inside the canvas: the last stage (fc2 of a model with no softmax) sits at its edge.
      const at = (text) => Math.max(0, Math.min(col.x, width - ctx.measureText(text).width - 1));
      ctx.fillStyle = "#222";
      ctx.fillText(col.label, at(col.label), 12);
      ctx.fillStyle = "#666";
      ctx.fillText(col.sublabel || "", at(col.sublabel || ""), 25);
      maxima.push(`${col.shown} ${max.toExponential(1)}`);
      if (col.type === "maps") {
        const [C, H, W] = col.shape;
        const table = lut(scale);
        for (let c = 0; c < C; c++) {
          const m = mapRect(col, c);
          drawMap(ctx, layer.values.subarray(c * H * W, (c + 1) * H * W), H, W, scale, m.x, m.y, col.cell, table);
        }
      } else {
        for (let u = 0; u < col.shape[0]; u++) {
          const rect = unitRect(col, [u]);
          ctx.fillStyle = `rgb(${scale.color(layer.values[u]).join(",")})`;
          ctx.fillRect(rect.x, rect.y, rect.w - (col.type === "bars" ? 0 : 1), rect.h - 1);
        }
      }
      const next = layout.columns[i + 1];
      if (next) {   // Harley's links, faint: where the gradient flows back from
        ctx.strokeStyle = "rgba(0,0,0,0.12)";
        ctx.beginPath();
        ctx.moveTo(next.x, next.y + next.h / 2);
        ctx.lineTo(col.x + col.w, col.y + col.h / 2);
        ctx.stroke();
      }
    });
    $("learn-stage-scales").textContent = `Each stage has its own colour scale, ±|largest gradient|: ${maxima.join(" · ")}`;
  }

  function renderKernels(r, n) {
    // The first two conv layers by kind (the response lists every conv layer in order), each
    // as filterGrid's columns (filters) × rows (input channels, R G B for a colour input).
    const [c1, c2] = Object.keys(r.kernels);
    if (!c1) return;
    const stages = store.get().model?.layers;
    const k1 = r.kernels[c1];
    const [F1, C1, kh, kw] = k1.shape;
    const g1 = r.parameter_gradients[c1].weight;
    const names1 = channelNames(stages, c1);
    $("learn-conv1-title").textContent = kernelTitle(c1, F1, C1, names1);
    const after1 = n ? k1.after : k1.before;
    const d1 = difference(after1, k1.before);
    const wScale = signedScale(null, Math.max(maxAbs(k1.before), maxAbs(after1)));
    const sets = { before: [k1.before, wScale], after: [after1, wScale], gradient: [g1, signedScale(g1)], difference: [d1, signedScale(d1)] };
    for (const canvas of el.querySelectorAll("#learn-conv1 canvas")) {
      const [values, scale] = sets[canvas.dataset.k];
      paintGrid(canvas, filterGrid(values, k1.shape, names1), kh, kw, scale, { cell: 8, gap: 4 });
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${kernelTitle(c1, F1, C1, names1)}: ${canvas.nextElementSibling.textContent}`);
    }
    if (!c2) return;
    const k2 = r.kernels[c2];
    const [F2, C2, h2, w2] = k2.shape;
    $("learn-conv2-title").textContent = kernelTitle(c2, F2, C2, channelNames(stages, c2));
    const after2 = n ? k2.after : k2.before;
    const view = $("learn-conv2-view").value;
    const v2 = { gradient: r.parameter_gradients[c2].weight, before: k2.before, after: after2, difference: difference(after2, k2.before) }[view];
    const same = view === "before" || view === "after";
    const scale2 = same ? signedScale(null, Math.max(maxAbs(k2.before), maxAbs(after2))) : signedScale(v2);
    paintGrid($("learn-conv2"), filterGrid(v2, k2.shape, channelNames(stages, c2)), h2, w2, scale2, { cell: 5, gap: 3 });
  }

  function renderDense(r) {
    const box = $("learn-dense");
    const dense = Object.entries(r.parameter_gradients).filter(([, p]) => p.weight_shape.length === 2);
    if (box.children.length !== dense.length) {
      box.innerHTML = dense.map(([name]) => `<figure><canvas data-layer="${name}"></canvas><figcaption></figcaption></figure>`).join("");
    }
    dense.forEach(([name, p], i) => {
      const [units, inputs] = p.weight_shape;
      const values = denseGradient(p);
      const fig = box.children[i];
      // About a pixel per input, within the panel (a 1,690-input layer is drawn narrower).
      const room = Math.max(200, el.querySelector(".learn").clientWidth - 40);
      paintHeatmap(fig.querySelector("canvas"), values, units, inputs, signedScale(values), Math.min(room, 800, Math.max(200, inputs)));
      fig.querySelector("figcaption").textContent = `${name}: ${units} × ${inputs}${p.outer ? " — for one image it is (d loss/d output) ⊗ (input): every row is the input, scaled" : ""}`;
    });
  }

  // Controls.
  $("learn-targets").addEventListener("change", (e) => {
    ui.target = Number(e.target.value);
    ui.steps = 0;
    request();
    render();
  });
  $("learn-lr").addEventListener("input", (e) => {
    ui.rate = rates[Number(e.target.value)];
    $("learn-lr-value").textContent = String(ui.rate);
    request();
  });
  const step = (k) => () => { ui.steps = nextSteps(ui.steps, k, limits()?.max_steps ?? 0); render(); request(); };
  $("learn-step").onclick = step(1);
  $("learn-step5").onclick = step(5);
  $("learn-reset").onclick = () => { ui.steps = 0; render(); request(); };
  $("learn-conv2-view").onchange = () => ui.result && renderKernels(ui.result, ui.result.shownSteps);

  // A link or a lesson step sets the target, rate and step count through store.learn (as the
  // Lab adopts store.lab); render() writes the student's own choices back there. Set before
  // this lazy tab mounted or while it is hidden, it waits for the next drawing the tab follows,
  // so that drawing's default target does not undo it.
  let pending = store.get().learn ?? null;
  function take(l) {
    if (Number.isInteger(l.target) && l.target >= 0 && l.target < classes().length) ui.target = l.target;
    if (rates.includes(l.rate)) ui.rate = l.rate;
    if (Number.isInteger(l.steps)) ui.steps = nextSteps(0, l.steps, limits()?.max_steps ?? 0);
    $("learn-lr").value = String(Math.max(0, rates.indexOf(ui.rate)));
    $("learn-lr-value").textContent = String(ui.rate);
  }
  function adopt(s) {
    const l = s.learn;
    if (!l || (l.target === ui.target && l.rate === ui.rate && l.steps === ui.steps)) return;
    if (!ui.visible) { pending = l; return; }
    follow();
    take(l);
    renderTargets();
    render();
    request();
  }
  store.subscribe(adopt, ["learn"]);
  store.subscribe(() => { if (ui.visible) follow(); }, ["trace"]);
  store.subscribe(() => { if (ui.visible && ui.result) render(); }, ["foldActivations"]);
  // Another model: the last answer's numbers, stages and classes are not its own (painting them
  // over its record threw on a stage it lacks). Clear them; its first trace starts over.
  function forget() {
    Object.assign(ui, { body: null, model: null, result: null, steps: 0 });
    const caption = document.createElement("caption");
    caption.textContent = `${learnWords(store.get().model).prompt} to begin.`;
    $("learn-table").replaceChildren(caption);
    for (const canvas of el.querySelectorAll(".learn-step canvas")) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    $("learn-dense").replaceChildren();
    $("learn-stage-scales").textContent = "";
    $("learn-error").textContent = "";
    $("learn-count").textContent = "0 steps";
    $("learn-count").dataset.steps = "0";
  }
  store.subscribe(() => { forget(); renderModel(); if (ui.visible) follow(); }, ["model"]);
  renderModel();
  store.subscribe(() => { const had = ui.rate; fillRates(); if (had == null && ui.rate != null) request(); }, ["model"]);

  // While open, the tab borrows the Network tab's drawing side (pad, tools), as the 3D tab
  // does: the same element, so the drawing survives and steps restart as the student draws.
  let borrowed = null;
  const handle = {
    show() {
      ui.visible = true;
      const node = document.querySelector("#view-network > .side");
      if (node && !borrowed) {
        const placeholder = document.createComment("drawing side: borrowed by the Learn tab");
        node.before(placeholder);
        $("learn-side").append(node);
        borrowed = { node, placeholder };
      }
      follow();
      history.show();
    },
    hide() {
      ui.visible = false;
      if (borrowed) {
        borrowed.placeholder.replaceWith(borrowed.node);
        borrowed = null;
      }
      history.hide();
    },
    history,
    // For tests: true when no gradient request is in flight or waiting.
    get idle() { return !job.busy && !job.hasPending; },
  };
  if (window.convscope) window.convscope.learn = handle;   // for tests and bench/learn.py
  return handle;
}
