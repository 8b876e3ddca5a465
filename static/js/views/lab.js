// The Lab tab: the current drawing convolved with one kernel, then an activation (ReLU by
// default) and pooling, and step
// mode (Figure 5 of the ConvNet primers, on the student's own digit). Every number shown comes
// from POST /api/convolve; this module lays out, paints and animates, and computes nothing.
//
// mount(el, {store, api}) -> {show, hide}   (tabs.js)

import { latestWins } from "../schedule.js";
import { diverging, sequential } from "../color.js";
import { fixed } from "../numbers.js";
import { ACTIVATION_LABELS, labChoices, choiceKey, parseChoiceKey, learnedChoices, fitLearned, resize, parseCell, convolveBody, short } from "../lab/kernel.js";
import { labSources, findSource, sourceMap, inputRange, colourWords } from "../lab/source.js";
import { createStepView } from "./labstep.js";
import { isPicture } from "./modelinput.js";
import { labSettings, fromSettings, sameSettings, fitSettings } from "../lab/settings.js";

// Screen px per map cell, the same for every map of one answer so shrinking shows: 8 up to the
// 32×32 digit, smaller for a larger input so a 64×64 picture's map is still ~256 px (a phone's width).
const CELL = 8, MAP_PX = 256;
const cellFor = (side) => (side <= MAP_PX / CELL ? CELL : Math.max(2, Math.floor(MAP_PX / side)));
const RING = "rgba(60,110,200,0.45)";

const options = (choices) => choices.map((c) => `<option value="${c.value}">${c.label}</option>`).join("");
// Each select and its list in labChoices(): the choices are the engine's (model.limits.lab).
const CONTROLS = { "lab-size": "size", "lab-stride": "stride", "lab-padding": "padding", "lab-activation": "activation", "lab-pool-op": "poolOp", "lab-pool-window": "poolWindow" };

function template() {
  return `
  <div class="lab">
    <p class="lab-hint"><span id="lab-hint-what">Your drawing from the Network tab, convolved with one kernel.</span> Every number here is computed by the server's engine. <span id="lab-colours"></span></p>
    <div class="lab-controls" role="group" aria-label="Convolution settings">
      <label>Map <select id="lab-source"></select></label>
      <label>Kernel <select id="lab-kernel" aria-label="Kernel"></select></label>
      <label>Size <select id="lab-size"></select></label>
      <label>Stride <select id="lab-stride"></select></label>
      <label>Padding <select id="lab-padding"></select></label>
      <label title="Applied to every output cell before pooling: ReLU sets negatives to zero; tanh and sigmoid squash into (−1, 1) and (0, 1)">Activation <select id="lab-activation"></select></label>
      <label>Pool <select id="lab-pool-op"></select></label>
      <label>window <select id="lab-pool-window"></select></label>
    </div>
    <div class="lab-kernel-row">
      <div id="lab-grid" class="lab-grid" role="grid" aria-label="Kernel values: type a number (0.5, -1, 1/9)"></div>
      <p id="lab-kernel-note" class="lab-note"></p>
    </div>
    <p class="lab-formula">Output size <span id="lab-formula" data-testid="lab-formula"></span></p>
    <p class="lab-formula lab-pool-formula">After pooling <span id="lab-pool-formula"></span></p>
    <div class="lab-maps">
      <figure><canvas id="lab-padded"></canvas><figcaption id="lab-cap-padded"></figcaption></figure>
      <figure><canvas id="lab-output"></canvas><figcaption id="lab-cap-output"></figcaption></figure>
      <figure><canvas id="lab-relu"></canvas><figcaption id="lab-cap-relu"></figcaption></figure>
      <figure><canvas id="lab-pooled"></canvas><figcaption id="lab-cap-pooled"></figcaption></figure>
    </div>
    <section class="lab-step" aria-label="Step mode: the window slides one position at a time"></section>
    <p id="lab-error" class="lab-error" role="alert"></p>
  </div>`;
}

// A 2-D map as one small ImageData, drawn scaled with smoothing off (one fill per map).
function paintMap(canvas, map, scale, { padding = 0, cell = CELL } = {}) {
  const [h, w] = map.shape;
  const small = new OffscreenCanvas(Math.max(w, 1), Math.max(h, 1));
  const img = small.getContext("2d").createImageData(Math.max(w, 1), Math.max(h, 1));
  for (let i = 0; i < h * w; i++) img.data.set([...scale.color(map.values[i]), 255], i * 4);
  small.getContext("2d").putImageData(img, 0, 0);
  canvas.width = w * cell;
  canvas.height = h * cell;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, w * cell, h * cell);
  if (padding) {          // the zero ring: tinted cells and a dashed edge around the real image
    ctx.fillStyle = RING;
    ctx.fillRect(0, 0, w * cell, padding * cell);
    ctx.fillRect(0, (h - padding) * cell, w * cell, padding * cell);
    ctx.fillRect(0, padding * cell, padding * cell, (h - 2 * padding) * cell);
    ctx.fillRect((w - padding) * cell, padding * cell, padding * cell, (h - 2 * padding) * cell);
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = "#3c6ec8";
    ctx.strokeRect(padding * cell + 0.5, padding * cell + 0.5, (w - 2 * padding) * cell - 1, (h - 2 * padding) * cell - 1);
    ctx.setLineDash([]);
  }
}

export function mount(el, { store, api }) {
  el.innerHTML = template();
  const $ = (id) => el.querySelector(`#${id}`);
  const classic = new Map();        // name -> {name, label, note, shape, values}
  const DEFAULT = { type: "classic", name: "edge_all" };
  const ui = { choice: DEFAULT, custom: { k: 3, values: [0, 0, 0, 0, 1, 0, 0, 0, 0] }, result: null, visible: false, stale: true };
  const sentFrom = new WeakMap();   // body -> the map (source) it carried: how to colour its answer
  let stepMode = null;

  if (!document.querySelector('link[href$="/static/css/lab.css"]')) {
    document.head.insertAdjacentHTML("beforeend", '<link rel="stylesheet" href="/static/css/lab.css">');
  }

  const convolve = latestWins((body, signal) => api.convolve(body, { signal, model: store.get().modelId }), {
    mode: "queue",
    onResult(result, body) {
      ui.result = result;
      $("lab-error").textContent = "";
      render(result, sentFrom.get(body));
      store.set({ labResult: { result, body } });   // lessons read its numbers (and replay the body)
    },
    onError(err) { $("lab-error").textContent = `convolve: ${err.message}`; },
  });

  function controls() {
    return {
      stride: Number($("lab-stride").value), padding: Number($("lab-padding").value),
      pool: { op: $("lab-pool-op").value, window: Number($("lab-pool-window").value) },
      activation: $("lab-activation").value,
      products: stepMode?.open ?? false,
    };
  }

  // The Map choices are the model's own (lab/source.js): its input, or each of its channels,
  // and the centred digit when its preprocessing made one.
  let sources = [];
  const source = () => findSource(sources, $("lab-source").value) ?? sources[0] ?? null;
  function fillSources() {
    const s = store.get();
    const next = labSources(s.model, s.trace);
    const was = $("lab-source").value;
    const key = (xs) => xs.map((x) => x.value + x.label).join("|");
    if (key(next) !== key(sources)) {
      sources = next;
      $("lab-source").innerHTML = options(sources);
    }
    const keep = findSource(sources, was);
    if (keep) $("lab-source").value = keep.value;
    describeSource();
  }
  function describeSource() {
    const src = source(), model = store.get().model;
    $("lab-hint-what").textContent = `Your ${src?.channels > 1 ? "picture" : "drawing"} from the Network tab, convolved with one kernel.`;
    $("lab-colours").textContent = src ? colourWords(model, src) : "";
  }

  function request() {
    const src = source();
    const input = sourceMap(store.get().trace, src);
    if (!ui.visible || !input) { ui.stale = true; return; }
    ui.stale = false;
    const choice = ui.choice.type === "custom" ? { type: "custom", ...ui.custom } : ui.choice;
    const body = convolveBody(input, choice, controls());
    sentFrom.set(body, src);
    convolve.submit(body);
    // The settings shared with links and lessons (urlstate.js): published, never read back here.
    const shared = labSettings(ui.choice, ui.custom, controls(), $("lab-source").value);
    if (!sameSettings(shared, store.get().lab)) store.set({ lab: shared });
  }

  function fillKernelSelect() {
    const model = store.get().model, channel = source()?.channel ?? 0;
    // A learned filter follows the map: the slice that reads its channel (or, on a model
    // without that filter, back to the default classic kernel).
    if (ui.choice.type === "learned" && model) ui.choice = fitLearned(ui.choice, model, channel) ?? DEFAULT;
    const learned = learnedChoices(model, channel);
    const group = (label, xs) => `<optgroup label="${label}">${xs.map((c) => `<option value="${choiceKey(c)}">${c.label}</option>`).join("")}</optgroup>`;
    $("lab-kernel").innerHTML = group("Classic", [...classic.values()].map((k) => ({ type: "classic", name: k.name, label: k.label })))
      + (learned.length ? group("Learned by the network", learned) : "")
      + '<optgroup label="Yours"><option value="custom">Custom (type in the grid)</option></optgroup>';
    $("lab-kernel").value = choiceKey(ui.choice);
  }

  // The grid shows the kernel the server used (or, for custom, what the student typed).
  function renderGrid(k, values, editable) {
    const grid = $("lab-grid");
    grid.style.gridTemplateColumns = `repeat(${k}, 4.8em)`;
    grid.innerHTML = Array.from(values, (v, i) =>
      `<input class="lab-cell" data-i="${i}" inputmode="decimal" aria-label="kernel row ${Math.floor(i / k) + 1} column ${(i % k) + 1}" value="${short(v)}"${editable ? "" : ' title="edit to make your own copy"'}>`).join("");
    $("lab-size").value = String(k);
  }

  function onCellEdit(e) {
    const cell = e.target.closest(".lab-cell");
    if (!cell) return;
    const parsed = parseCell(cell.value, store.get().model?.limits?.lab.max_abs_weight ?? Infinity);
    cell.classList.toggle("bad", !parsed.ok);
    cell.title = parsed.ok ? "" : parsed.error;
    if (!parsed.ok) { $("lab-error").textContent = parsed.error; return; }
    if (ui.choice.type !== "custom") {          // editing a classic/learned kernel copies it
      const shown = ui.result?.kernel;
      if (shown) ui.custom = { k: shown.shape[0], values: Array.from(shown.values) };
      ui.choice = { type: "custom" };
      $("lab-kernel").value = "custom";
    }
    ui.custom.values[Number(cell.dataset.i)] = parsed.value;
    $("lab-error").textContent = "";
    request();
  }

  function render(r, src = source()) {
    const conv = r.sizes.conv, pool = r.sizes.pool;
    const same = conv.height.text === conv.width.text;
    $("lab-formula").textContent = same ? conv.width.text : `height ${conv.height.text}; width ${conv.width.text}`;
    $("lab-formula").dataset.output = r.output.shape.join("x");
    $("lab-pool-formula").textContent = `${r.pool.op} ${r.pool.window}×${r.pool.window}, stride ${r.pool.stride}: ${pool.width.text}`;
    // A plain input is grey from 0 (black) to its brightest cell; a normalised channel spans its
    // own range, no colour (black) to full colour (white), so its padding zeros are the mean's grey.
    const range = inputRange(store.get().model, src);
    const inScale = range.normalised ? sequential(range.lo, range.hi) : sequential(0, Math.max(1e-6, ...r.padded.values));
    const outMax = Math.max(1e-6, ...r.output.values.map(Math.abs));
    const cell = paint.cell = cellFor(Math.max(...r.input_shape));
    paintMap($("lab-padded"), r.padded, inScale, { padding: r.padding, cell });
    paintMap($("lab-output"), r.output, diverging(outMax), { cell });
    paintMap($("lab-relu"), r.relu, diverging(outMax), { cell });
    paintMap($("lab-pooled"), r.pooled, diverging(Math.max(1e-6, ...r.pooled.values.map(Math.abs))), { cell });
    const shape = (m) => m.shape.join("×");
    $("lab-cap-padded").textContent = `${src?.short ?? "input"} ${r.input_shape.join("×")} padded by ${r.padding} → ${shape(r.padded)}${r.padding ? " (blue ring = zeros)" : ""}`;
    $("lab-cap-output").textContent = `output ${shape(r.output)} (bias ${fixed(r.kernel.bias, 3)})`;
    $("lab-cap-relu").textContent = r.activation === "none" ? `no activation ${shape(r.relu)}` : `after ${ACTIVATION_LABELS[r.activation] ?? r.activation} ${shape(r.relu)}`;
    $("lab-cap-pooled").textContent = `${r.pool.op} pooled ${shape(r.pooled)}`;
    $("lab-kernel-note").textContent = `${r.kernel.label}${r.kernel.note ? ": " + r.kernel.note : ""}`;
    const k = r.kernel.shape[0];
    if (!(document.activeElement?.classList.contains("lab-cell") && el.contains(document.activeElement))) {
      renderGrid(k, ui.choice.type === "custom" ? ui.custom.values : r.kernel.values, ui.choice.type === "custom");
    }
    el.dataset.ready = "true";
    // A photo's channel starts at the first position; a drawing where its ink begins (blank
    // paper is 0, or (0 − mean) / std for a normalised map: the range's low end).
    stepMode?.update(r, { picture: isPicture(store.get().model), background: range.normalised ? range.lo : 0 });
  }

  $("lab-kernel").onchange = (e) => {
    ui.choice = parseChoiceKey(e.target.value, ui.custom);
    if (ui.choice.type === "custom") renderGrid(ui.custom.k, ui.custom.values, true);
    request();
  };
  $("lab-size").onchange = (e) => {
    const n = Number(e.target.value);
    const shown = ui.choice.type === "custom" ? ui.custom : ui.result ? { k: ui.result.kernel.shape[0], values: Array.from(ui.result.kernel.values) } : ui.custom;
    ui.custom = { k: n, values: resize(shown.values, shown.k, n) };
    ui.choice = { type: "custom" };
    $("lab-kernel").value = "custom";
    renderGrid(n, ui.custom.values, true);
    request();
  };
  $("lab-grid").addEventListener("change", onCellEdit);
  // The controls' options from the model record's limits (they arrive with the model, perhaps
  // after this tab mounts): refilled when they change, keeping what was chosen where it still is.
  let shownLimits = null;
  function fillControls() {
    const limits = store.get().model?.limits?.lab;
    const key = JSON.stringify(limits ?? null);
    if (key === shownLimits) return;
    const first = shownLimits === null || shownLimits === "null";
    shownLimits = key;
    const choices = labChoices(limits);
    for (const [id, name] of Object.entries(CONTROLS)) {
      const was = $(id).value;
      $(id).innerHTML = options(choices[name]);
      if (choices[name].some((c) => c.value === was)) $(id).value = was;
    }
    if (first && choices.poolWindow.some((c) => c.value === "2")) $("lab-pool-window").value = "2";   // the network's own pools are 2×2, stride 2
    const k = ui.choice.type === "custom" ? ui.custom.k : ui.result?.kernel.shape[0];
    if (k) $("lab-size").value = String(k);
  }
  fillControls();
  fillSources();
  $("lab-source").onchange = () => { describeSource(); fillKernelSelect(); request(); };
  for (const id of ["lab-stride", "lab-padding", "lab-activation", "lab-pool-op", "lab-pool-window"]) $(id).onchange = request;

  const paint = { padded: $("lab-padded"), output: $("lab-output"), cell: CELL };   // cell: render's
  stepMode = createStepView(el.querySelector(".lab-step"), {
    paint,
    onOpen: request,          // step mode asks the server for the per-position products
  });

  api.kernels().then((list) => {
    for (const k of list) classic.set(k.name, k);
    fillKernelSelect();
    request();
  }, (err) => { $("lab-error").textContent = `kernels: ${err.message}`; });
  store.subscribe(() => { fillControls(); fillSources(); fillKernelSelect(); adopt(store.get()); request(); }, ["model"]);
  store.subscribe(() => { fillSources(); fillKernelSelect(); request(); }, ["trace"]);
  // A link or a lesson step sets the Lab's controls through store.lab.
  function adopt(s) {
    if (!s.lab || sameSettings(s.lab, labSettings(ui.choice, ui.custom, controls(), $("lab-source").value))) return;
    // Settings another model's Lab published (the store keeps them across a switch) are fitted
    // to this one, or ignored when it lacks their map or filter (viewstate.js notes a link's).
    const fit = fitSettings(s.lab, s.model, s.trace);
    if (!fit.lab) return;
    const next = fromSettings(fit.lab);
    ui.choice = next.choice;
    if (next.custom) ui.custom = next.custom;
    $("lab-stride").value = String(next.controls.stride);
    $("lab-padding").value = String(next.controls.padding);
    $("lab-activation").value = next.controls.activation;
    $("lab-pool-op").value = next.controls.pool.op;
    $("lab-pool-window").value = String(next.controls.pool.window);
    $("lab-source").value = next.source;
    describeSource();
    fillKernelSelect();
    if (ui.choice.type === "custom") renderGrid(ui.custom.k, ui.custom.values, true);
    request();
  }
  store.subscribe(adopt, ["lab"]);
  adopt(store.get());

  return {
    show() { ui.visible = true; if (ui.stale) request(); },
    hide() { ui.visible = false; stepMode?.pause(); },
  };
}
