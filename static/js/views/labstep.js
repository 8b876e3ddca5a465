// Step mode of the Lab tab: the window slides one output position at a time (play, pause,
// step, scrub) showing the window values, the kernel, their element-wise products and the sum
// written into the output cell. Values are slices of the server's answer (lab/step.js). It
// starts at the first window that reads ink, or on a photo at the first position (lab/step.js
// startOf; until the student moves it), and a click on an output cell or a padded-input cell
// jumps there.
//
// createStepView(section, {paint: {padded, output, cell}, onOpen})
//   -> {open, update(r, {picture, background}), pause()}

import { count, frame, tick, step, seek, startOf, positionOfOutput, positionOfPadded } from "../lab/step.js";
import { fixed, rounding } from "../numbers.js";

const RATES = [1, 2, 5, 15, 30, 60];      // positions per second

function grid(k, cls) {
  return `<div class="lab-mini ${cls}">${"<span></span>".repeat(k * k)}</div>`;
}

export function createStepView(section, { paint, onOpen }) {
  section.innerHTML = `
    <button type="button" class="lab-step-toggle" aria-expanded="false">Step through the convolution</button>
    <div class="lab-step-body" hidden>
      <div class="lab-step-bar" role="toolbar" aria-label="Step mode">
        <button type="button" data-act="back" aria-label="Step back">◀ step</button>
        <button type="button" data-act="play" aria-label="Play">▶ play</button>
        <button type="button" data-act="fwd" aria-label="Step forward">step ▶</button>
        <input type="range" class="lab-scrub" min="0" max="0" value="0" aria-label="Window position">
        <label>speed <select class="lab-rate">${RATES.map((r) => `<option value="${r}"${r === 5 ? " selected" : ""}>${r}/s</option>`).join("")}</select></label>
      </div>
      <p class="lab-step-hint">The purple window slides over the padded input; each position writes one output cell (cells not yet written are veiled). <span class="lab-step-start">It starts at the first window that reads ink</span>; click any output or input cell to jump there.</p>
      <p class="lab-step-where" aria-live="off"></p>
      <div class="lab-step-math"></div>
      <p class="lab-step-sum"></p>
    </div>`;
  const q = (s) => section.querySelector(s);
  const body = q(".lab-step-body"), toggle = q(".lab-step-toggle"), scrub = q(".lab-scrub");
  let player = { index: 0, playing: false, rate: 5, last: null };
  let moved = false;   // the student has stepped, scrubbed, played or clicked since opening
  let r = null, base = null, k = 0, raf = 0, shown = -1;
  const view = { open: false };

  // Snapshots of the painted maps, so a frame is two drawImage calls and a few rectangles.
  function snapshot() {
    base = {};
    for (const key of ["padded", "output"]) {
      const c = paint[key];
      base[key] = new OffscreenCanvas(c.width || 1, c.height || 1);
      base[key].getContext("2d").drawImage(c, 0, 0);
    }
  }

  function draw() {
    if (!r || !view.open) return;
    const t0 = performance.now();
    const n = count(r.output.shape);
    const f = frame(r, player.index);
    const C = paint.cell;
    const pc = paint.padded.getContext("2d"), oc = paint.output.getContext("2d");
    pc.drawImage(base.padded, 0, 0);
    oc.drawImage(base.output, 0, 0);
    pc.lineWidth = 2;
    pc.strokeStyle = "#7b2cbf";
    pc.strokeRect(f.rect.x0 * C + 1, f.rect.y0 * C + 1, f.k * C - 2, f.k * C - 2);
    // Cells not yet written are veiled: the output fills in as the window slides (Figure 5).
    const [oh, ow] = r.output.shape;
    oc.fillStyle = "rgba(255,255,255,0.85)";
    oc.fillRect((f.x + 1) * C, f.y * C, (ow - f.x - 1) * C, C);
    oc.fillRect(0, (f.y + 1) * C, ow * C, (oh - f.y - 1) * C);
    oc.lineWidth = 2;
    oc.strokeStyle = "#7b2cbf";
    oc.strokeRect(f.x * C + 1, f.y * C + 1, C - 2, C - 2);

    if (k !== f.k) {
      k = f.k;
      q(".lab-step-math").innerHTML = `<figure>${grid(k, "win")}<figcaption>window</figcaption></figure><span class="op">×</span>`
        + `<figure>${grid(k, "ker")}<figcaption>kernel</figcaption></figure><span class="op">=</span>`
        + `<figure>${grid(k, "prod")}<figcaption>products</figcaption></figure>`;
      // k columns set through CSSOM, not style="" markup: the page's CSP forbids inline styles.
      for (const g of q(".lab-step-math").querySelectorAll(".lab-mini")) g.style.gridTemplateColumns = `repeat(${k}, auto)`;
    }
    const cells = (cls) => q(`.lab-mini.${cls}`).children;
    const win = cells("win"), ker = cells("ker"), prod = cells("prod");
    for (let i = 0; i < k * k; i++) {
      win[i].textContent = fixed(f.window[i], 2);
      win[i].className = f.border[i] ? "pad-zero" : "";
      ker[i].textContent = fixed(f.kernel[i], 2);
      prod[i].textContent = f.products ? fixed(f.products[i], 2) : "…";
    }
    q(".lab-step-where").textContent = `position ${f.index + 1} of ${n} · output cell (row ${f.y}, col ${f.x}) · window rows ${f.rect.y0}–${f.rect.y1 - 1}, cols ${f.rect.x0}–${f.rect.x1 - 1} of the padded map (stride ${r.stride})`;
    // The shown products are rounded to 2 decimals; when they do not add up to the engine's sum
    // at that precision, say so rather than let a student with a calculator doubt the sum.
    const off = f.products ? rounding(Array.from(f.products), f.value - f.bias, 2) : null;
    const note = off ? ` <span class="lab-rounding">(the rounded products add to ${fixed(off.shown, 2)}; unrounded they give the sum)</span>` : "";
    q(".lab-step-sum").innerHTML = `Σ products + bias ${fixed(f.bias, 3)} = <strong>${fixed(f.value, 3)}</strong> → written into output (${f.y}, ${f.x})${note}`;
    scrub.value = String(f.index);
    performance.measure("lab-step-draw", { start: t0 });   // bench/lab.py: the cost of a frame
    performance.mark("lab-step-frame");
  }

  function loop(now) {
    raf = 0;
    if (!player.playing || !r) return;
    player = tick(player, now, count(r.output.shape));
    if (player.index !== shown) { shown = player.index; draw(); }
    raf = requestAnimationFrame(loop);
  }

  function setPlaying(on) {
    player = { ...player, playing: on, last: null };
    const b = q('[data-act="play"]');
    b.textContent = on ? "❚❚ pause" : "▶ play";
    b.setAttribute("aria-label", on ? "Pause" : "Play");
    if (on && !raf) raf = requestAnimationFrame(loop);
  }

  toggle.onclick = () => {
    view.open = !view.open;
    moved = false;
    for (const c of [paint.padded, paint.output]) c.style.cursor = view.open ? "pointer" : "";
    toggle.setAttribute("aria-expanded", String(view.open));
    body.hidden = !view.open;
    if (!view.open) { setPlaying(false); if (base) { paint.padded.getContext("2d").drawImage(base.padded, 0, 0); paint.output.getContext("2d").drawImage(base.output, 0, 0); } }
    onOpen();
  };
  section.addEventListener("click", (e) => {
    const act = e.target.closest("[data-act]")?.dataset.act;
    if (!act || !r) return;
    const n = count(r.output.shape);
    moved = true;
    if (act === "play") setPlaying(!player.playing);
    else { player = step(player, act === "fwd" ? 1 : -1, n); setPlaying(false); draw(); }
  });
  scrub.oninput = () => { if (!r) return; moved = true; player = seek(player, Number(scrub.value), count(r.output.shape)); setPlaying(false); draw(); };
  // A click on a map cell jumps there: the output cell itself, or the window over an input cell.
  const cellAt = (canvas, e) => {
    const b = canvas.getBoundingClientRect();
    const sx = canvas.width / (b.width || 1), sy = canvas.height / (b.height || 1);
    return [Math.floor(((e.clientY - b.top) * sy) / paint.cell), Math.floor(((e.clientX - b.left) * sx) / paint.cell)];
  };
  const jump = (toPosition) => (e) => {
    if (!r || !view.open) return;
    moved = true;
    player = seek(player, toPosition(cellAt(e.currentTarget, e)), count(r.output.shape));
    setPlaying(false);
    draw();
  };
  paint.output.addEventListener("click", jump((cell) => positionOfOutput(cell, r.output.shape)));
  paint.padded.addEventListener("click", jump((cell) => positionOfPadded(cell, r)));
  q(".lab-rate").onchange = (e) => { player = { ...player, rate: Number(e.target.value), last: null }; };

  return {
    get open() { return view.open; },
    // `picture`: the map is a photo's channel; `background`: a drawing's blank-paper value.
    update(result, where = {}) {
      r = result;
      snapshot();
      const n = count(r.output.shape);
      scrub.max = String(n - 1);
      const start = startOf(r, where);
      q(".lab-step-start").textContent = start.words;
      player = seek(player, moved ? player.index : start.index, n);
      shown = -1;
      draw();
    },
    pause() { setPlaying(false); },
  };
}
