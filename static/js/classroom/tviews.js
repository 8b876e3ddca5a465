// The teacher dashboard's views: gallery cards, the round panel (answers, distribution,
// fooling board), the class's test set. Each takes (element, data, handlers) and draws; none
// fetches (teacher.js does, through classapi.js). Names are text nodes, never HTML.

import { decodeDigit, formatFocus, histogram } from "./digit.js";
import { shownName } from "./filters.js";
import { drawDigit, el } from "./paint.js";

const pct = (p) => `${(p * 100).toFixed(0)}%`;

function card(sub, { classes, anonymous, selected, onSelect, onSpotlight, onRemove, onOpen }) {
  const misread = sub.label != null && sub.label !== sub.prediction;
  const digit = drawDigit(el("canvas", { class: "t-digit-img", "aria-hidden": "true" }), decodeDigit(sub.image));
  return el("article", { class: `t-card${misread ? " misread" : ""}${selected ? " selected" : ""}`, "data-id": String(sub.id), "data-student": String(sub.student.id), tabindex: "0",
    "aria-label": `${shownName(sub.student, anonymous)}: read as ${classes[sub.prediction]} ${pct(sub.confidence)}`,
    onclick: () => onSelect(sub), onkeydown: (e) => { if (e.key === "Enter") onSelect(sub); } },
  digit,
  el("div", { class: "t-card-read" }, el("strong", { class: "t-pred", "data-prediction": String(sub.prediction), text: classes[sub.prediction] }), el("span", { class: "t-conf", text: pct(sub.confidence) })),
  el("div", { class: "t-card-who", text: shownName(sub.student, anonymous) }),
  sub.label != null ? el("div", { class: "t-card-meant", text: misread ? `meant ${classes[sub.label]} ✗` : `meant ${classes[sub.label]} ✓` }) : null,
  el("div", { class: "t-card-tools" },
    el("button", { type: "button", text: "Spotlight", onclick: (e) => { e.stopPropagation(); onSpotlight(sub); } }),
    onOpen ? el("button", { type: "button", text: "Network", title: "Open in the full network view", onclick: (e) => { e.stopPropagation(); onOpen(sub); } }) : null,
    el("button", { type: "button", class: "t-remove", text: "Remove", "aria-label": `Remove digit ${sub.id}`, onclick: (e) => { e.stopPropagation(); onRemove(sub); } })));
}

export function renderGallery(host, items, opts) {
  if (!items.length) {
    host.replaceChildren(el("p", { class: "t-empty", text: opts.empty }));
    return;
  }
  host.replaceChildren(...items.map((s) => card(s, { ...opts, selected: opts.selectedId === s.id })));
}

function bars(labels, counts, truthIndex, caption) {
  const max = Math.max(1, ...counts);
  const chart = el("div", { class: "t-bars", role: "img", "aria-label": caption });
  counts.forEach((n, i) => {
    const bar = el("div", { class: "t-bar-fill" });
    bar.style.height = `${(100 * n) / max}%`;   // CSSOM, allowed under a strict style-src
    chart.append(el("div", { class: `t-bar${i === truthIndex ? " truth" : ""}`, "data-count": String(n) },
      el("span", { class: "t-bar-n", text: String(n) }), el("div", { class: "t-bar-track" }, bar), el("span", { class: "t-bar-label", text: labels[i] })));
  });
  return el("figure", { class: "t-dist" }, chart, el("figcaption", { text: caption }));
}

export function distributionChart(d, classes) {
  if (d.answer === "value") {
    if (!d.values.length) return el("p", { text: `Nobody answered. The network computed ${d.truth.toFixed(4)}.` });
    const h = histogram(d.values, d.truth);
    const labels = h.counts.map((_, i) => h.edges[i].toFixed(2));
    return bars(labels, h.counts, h.truthBin, `${d.count} answers; the network computed ${d.truth.toFixed(4)} (highlighted bin)`);
  }
  const labels = d.counts.map((_, i) => (d.answer === "class" ? classes[i] : `cell ${i + 1}`));
  return bars(labels, d.counts, d.truth, `${d.count} answers, ${d.correct} right; the answer is ${labels[d.truth]}`);
}

export function renderRound(host, round, { classes, students, anonymous, onReveal, onClose, onOpen }) {
  if (!round) {
    host.replaceChildren(el("p", { class: "t-muted", text: "No round running. Pick a digit and a unit above for a predict round, or start fool the network." }));
    return;
  }
  const parts = [];
  if (round.kind === "predict") {
    const p = round.prompt;
    parts.push(el("p", { class: "t-round-title", text: `Predict ${formatFocus(p)} (${p.kind}, answer: ${p.answer}) on ${p.origin}` }),
      el("p", { class: "t-answered", "data-answered": String(round.answered), text: `${round.answered} of ${students} answered` }));
    if (round.state === "open") parts.push(el("button", { type: "button", class: "t-primary", text: "Reveal", onclick: () => onReveal(round) }));
    if (round.distribution) parts.push(distributionChart(round.distribution, classes));
  } else {
    const t = round.prompt;
    const board = round.board ?? [];
    parts.push(el("p", { class: "t-round-title", text: t.target == null ? "Fool the network: any digit it gets wrong" : `Fool the network: a ${t.name} it reads as anything else` }),
      el("p", { class: "t-answered", "data-fooled": String(board.length), text: `${board.length} fooled it` }),
      el("div", { class: "t-board" }, ...board.map((s) => el("button", { type: "button", class: "t-board-item", "data-id": String(s.id), title: "Open in the full network view", onclick: () => onOpen(s) },
        drawDigit(el("canvas", { class: "t-digit-img" }), decodeDigit(s.image)),
        el("span", { text: `${classes[s.label]} → ${classes[s.prediction]} ${pct(s.confidence)}` }),
        el("span", { class: "t-muted", text: shownName(s.student, anonymous) })))));
  }
  parts.push(el("button", { type: "button", text: "End round", onclick: onClose }));
  host.replaceChildren(...parts);
}

export function renderTestSet(host, t, exportUrl) {
  const rec = t.recorded == null ? "" : ` · on MNIST's test set it scored ${(t.recorded * 100).toFixed(2)}%`;
  const head = t.count
    ? el("p", { class: "t-acc", "data-accuracy": String(t.accuracy), text: `${t.count} labelled digits · the network reads ${t.correct} right: ${(t.accuracy * 100).toFixed(1)}%${rec}` })
    : el("p", { class: "t-muted", text: `No labelled digits yet: a digit counts when its student says which digit they meant${rec}.` });
  const max = Math.max(1, ...t.confusion.flat());
  const table = el("table", { class: "t-confusion", "aria-label": "Confusion matrix: rows the digit meant, columns what the network read" },
    el("tr", {}, el("th", { text: "meant \\ read" }), ...t.classes.map((c) => el("th", { text: c }))),
    ...t.confusion.map((row, i) => el("tr", {}, el("th", { text: t.classes[i] }), ...row.map((n, j) => {
      const td = el("td", { text: n ? String(n) : "", class: i === j ? "diag" : n ? "off" : null });
      if (n) td.style.setProperty("--heat", String(0.15 + (0.85 * n) / max));
      return td;
    }))));
  const link = el("a", { href: exportUrl, download: "class-digits.zip", class: "t-export", text: "Download as MNIST IDX + CSV (zip)" });
  host.replaceChildren(head, table, el("p", {}, link, el("span", { class: "t-muted", text: " · unzip, then convscope evaluate --data <folder>" })));
}
