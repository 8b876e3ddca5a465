// "Share" in the header: Copy link (the view state in the URL, viewstate.js), Download PNG of the
// tab on screen, and Export this unit's computation as CSV (unitcsv.js, from the explain answer
// on screen). Also shows what a link could not reopen ("ignored pin=…"), visibly, until closed.
//
// mountShare(slot, {store, views, pad, net}) -> {note(lines), copyLink()}

import { unitCsv, csvName } from "../unitcsv.js";
import { focusUnit, sameUnit } from "../state.js";
import { fixed } from "../numbers.js";

function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") n.textContent = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v);
  }
  n.append(...children);
  return n;
}

function save(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// Every visible canvas of the tab on screen, drawn where it sits, under a caption line.
function viewPng(panel, caption) {
  const box = panel.getBoundingClientRect();
  const canvases = [...panel.querySelectorAll("canvas")].filter((c) => c.width && c.height && c.getClientRects().length && c.checkVisibility?.() !== false);
  const head = 28;
  const out = document.createElement("canvas");
  out.width = Math.max(320, Math.ceil(box.width));
  out.height = Math.ceil(box.height) + head;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, out.width, out.height);
  for (const c of canvases) {
    const r = c.getBoundingClientRect();
    if (r.bottom < box.top || r.top > box.bottom) continue;
    ctx.drawImage(c, r.left - box.left, r.top - box.top + head, r.width, r.height);
  }
  ctx.fillStyle = "#111";
  ctx.font = "14px system-ui, sans-serif";
  ctx.fillText(caption, 8, 19);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

export function mountShare(slot, { store, views, pad }) {
  const menu = h("div", { id: "share-menu", class: "popover share-menu", role: "menu", "aria-label": "Share this view", hidden: "" });
  const button = h("button", { id: "share-button", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": "share-menu", text: "Share" });
  const status = h("p", { id: "share-status", class: "share-status", role: "status" });
  const item = (id, text, onclick) => h("button", { id, role: "menuitem", text, onclick });
  const copy = item("share-copy", "Copy link", () => copyLink());
  const png = item("share-png", "Download PNG", () => downloadPng());
  const csv = item("share-csv", "Export this unit's computation (CSV)", () => exportCsv());
  menu.append(copy, png, csv, status);
  slot.append(h("span", { class: "menu-wrap" }, button, menu));

  // What a link could not reopen: a visible note under the header, closed by the student.
  const banner = h("div", { id: "link-note", class: "link-note", role: "alert", hidden: "" });
  document.querySelector(".app-header").after(banner);

  const open = (on) => {
    menu.hidden = !on;
    button.setAttribute("aria-expanded", String(on));
    if (on) { refresh(); copy.focus(); }
  };
  button.onclick = () => open(menu.hidden);
  menu.addEventListener("keydown", (e) => {
    const items = [copy, png, csv].filter((b) => !b.disabled);
    const i = items.indexOf(document.activeElement);
    if (e.key === "Escape") { open(false); button.focus(); }
    else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      items[(i + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length]?.focus();
    }
  });
  document.addEventListener("pointerdown", (e) => { if (!menu.hidden && !slot.contains(e.target)) open(false); });

  // The CSV is the explain answer of the focused unit on the drawing shown: nothing else.
  function explanation() {
    const s = store.get();
    const f = focusUnit(s);
    const e = s.explanation;
    return f && e && sameUnit(e, f) && e.body === s.trace?.body ? e : null;
  }
  function refresh() {
    const e = explanation();
    csv.disabled = !e;
    csv.title = e ? `${e.layer}[${e.unit.join(", ")}]` : "Pin a unit first (click it, or Enter)";
  }
  store.subscribe(refresh, ["explanation", "pinned", "hover"]);

  async function copyLink() {
    status.textContent = "Making the link…";
    const s = store.get();
    const picture = views.pictureOnPad(s);
    const fromPad = !!s.drawing && !views.origin(s.drawing) && !pad.blank && !picture;
    const href = await views.linkNow();
    let copied = false;
    try { await navigator.clipboard.writeText(href); copied = true; } catch { /* no clipboard permission: show it */ }
    const carries = picture ? ". It opens this view, model and unit, but not your picture (a link cannot carry a photo): whoever opens it picks their own image."
      : fromPad ? ". It carries your drawing at 56×56 in 16 shades, and the page now shows that copy, so whoever opens it sees these numbers." : ".";
    status.textContent = `${copied ? "Link copied" : "Your link (select and copy)"}${carries}`;
    let field = menu.querySelector("input.share-link");
    if (!field) { field = h("input", { class: "share-link", readonly: "", "aria-label": "Link to this view" }); menu.append(field); }
    field.value = href;
    if (!copied) field.select();
    store.set({ linkCopied: href });
    return href;
  }

  async function downloadPng() {
    const s = store.get();
    const panel = document.getElementById(`view-${s.tab ?? "network"}`);
    const f = focusUnit(s);
    const v = f && s.trace?.byName.get(f.layer);
    const p = s.trace?.prediction;
    const caption = [
      "ConvScope", s.model?.name ?? s.modelId ?? "", s.tab ?? "network",
      p == null ? "" : `prediction ${s.model?.classes?.[p] ?? p} ${(s.trace.probabilities[p] * 100).toFixed(1)}%`,
      v ? `${f.layer}[${f.unit.join(", ")}] = ${fixed(v.values[v.shape.reduce((o, n, i) => o * n + f.unit[i], 0)], 3)}` : "",
    ].filter(Boolean).join(" · ");
    const blob = await viewPng(panel, caption);
    save(blob, `convscope-${s.tab ?? "network"}.png`);
    status.textContent = "PNG saved.";
  }

  function exportCsv() {
    const e = explanation();
    if (!e) { status.textContent = "Pin a unit first (click it, or Enter)."; return; }
    const s = store.get();
    save(new Blob([unitCsv(e, { model: s.modelId ?? s.model?.name ?? "", classes: s.model?.classes })], { type: "text/csv" }), csvName(e));
    status.textContent = `${csvName(e)} saved.`;
  }

  // Each link opened replaces the note: one that reopened everything closes an older one.
  function note(lines) {
    if (!lines?.length) { banner.hidden = true; return; }
    banner.replaceChildren(h("span", { text: `This link could not reopen everything: ${lines.join("; ")}.` }),
      h("button", { "aria-label": "Close the note", text: "×", onclick: () => { banner.hidden = true; } }));
    banner.hidden = false;
  }
  return { note, copyLink, exportCsv, downloadPng };
}
