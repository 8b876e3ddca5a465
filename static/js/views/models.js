// The model selector in the header (issue 7): which of GET /api/models the page shows.
//
// The choice lives in the page URL (?model=lenet-harley): a shared link or a reload keeps it,
// and api.js adds it to every request, so every tab talks to the same model. The default model
// keeps a clean URL.
//
// renderModels(el, state, {onSelect(id)})   state.models: the /api/models listing, state.modelId
//                                           the choice, state.modelNote why the URL's was not used
// modelUrl(href, id, listing) -> href with ?model= set (or removed for the default)
// chosenModel(search, listing) -> {id, unknown}  (an unknown id falls back to the default)

export function chosenModel(search, listing) {
  const asked = new URLSearchParams(search).get("model");
  const fallback = listing.find((m) => m.default)?.id ?? listing[0]?.id ?? null;
  if (asked === null) return { id: fallback, unknown: null };
  return listing.some((m) => m.id === asked) ? { id: asked, unknown: null } : { id: fallback, unknown: asked };
}

export function modelUrl(href, id, listing) {
  const url = new URL(href);
  if (listing.find((m) => m.id === id)?.default) url.searchParams.delete("model");
  else url.searchParams.set("model", id);
  return url.toString();
}

const pct = (m) => (m.accuracy?.test == null ? "" : ` · ${(m.accuracy.test * 100).toFixed(1)}% test`);

export function renderModels(el, state, { onSelect }) {
  const listing = state.models;
  if (!listing?.length) { el.replaceChildren(); return; }
  let select = el.querySelector("select");
  const key = listing.map((m) => m.id).join(",");
  if (!select || select.dataset.key !== key) {
    const label = document.createElement("label");
    label.className = "model-pick";
    label.append("Model ");
    select = document.createElement("select");
    select.id = "model-select";
    select.dataset.key = key;
    for (const m of listing) {
      const o = document.createElement("option");
      o.value = m.id;
      o.textContent = `${m.label}${pct(m)}`;
      o.title = m.description;
      select.append(o);
    }
    select.addEventListener("change", () => onSelect(select.value));
    label.append(select);
    const note = document.createElement("span");
    note.className = "model-note";
    note.setAttribute("role", "status");
    el.replaceChildren(label, note);
  }
  // Why the URL's choice was not honoured (an unknown id), until the next switch.
  el.querySelector(".model-note").textContent = state.modelNote ?? "";
  const current = listing.find((m) => m.id === state.modelId) ?? listing.find((m) => m.default);
  if (current) {
    select.value = current.id;
    select.title = current.description;
  }
  // Disabled while the chosen model's record is on its way, so two switches cannot cross.
  select.disabled = !state.model || state.model.modelId !== current?.id;
}
