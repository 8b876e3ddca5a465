// Small DOM helpers for the class views: a digit on a canvas (white ink on black, as the pad
// shows it), elements built with text only (names typed by students are never HTML), and a
// grid of numbers for a round's source window and weights.

export function drawDigit(canvas, bytes, side = 28) {
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) img.data.set([bytes[i], bytes[i], bytes[i], 255], i * 4);
  ctx.putImageData(img, 0, 0);
  return canvas;
}

// el("p", {class: "x", text: "…"}, child, …): textContent only, so no string becomes markup.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c != null && c !== false));
  return node;
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

// values (flat) of `shape` [c, h, w] or [n]: one small table per channel; `onPick(i)` makes
// every cell a button (the pool round: which cell wins), `picked` marks one.
export function numberGrid(values, shape, { onPick = null, picked = null, label = "" } = {}) {
  const [c, h, w] = shape.length === 3 ? shape : [1, 1, shape[0]];
  const cols = shape.length === 3 ? w : Math.min(12, w);
  const rows = shape.length === 3 ? h : Math.ceil(w / cols);
  const wrap = el("div", { class: "num-grids", "aria-label": label });
  for (let ch = 0; ch < c; ch++) {
    const table = el("table", { class: "num-grid" });
    for (let y = 0; y < rows; y++) {
      const tr = el("tr");
      for (let x = 0; x < cols; x++) {
        const i = ch * h * w + y * cols + x;
        if (shape.length !== 3 && y * cols + x >= w) { tr.append(el("td")); continue; }
        const text = fmt(values[i]);
        const td = el("td", { class: picked === i ? "picked" : null });
        if (onPick) td.append(el("button", { type: "button", text, "aria-pressed": String(picked === i), onclick: () => onPick(i) }));
        else td.textContent = text;
        tr.append(td);
      }
      table.append(tr);
    }
    wrap.append(table);
  }
  return wrap;
}
