// The tab bar: Network | 3D | Learn | Lab. Network is this page's built-in view; the others are
// modules written by their own engineers, loaded on first use.
//
// To add a view: set `enabled: true` on its entry below (a one-line edit) and write the module.
// It must export  mount(el, {store, api}) -> {show?(), hide?()}  where `el` is the tab's empty
// <section id="view-<id>"> and `store` is the shared store (state.js: model, trace, hover,
// pinned, drawing, ...). Disabled tabs stay hidden, so nothing 404s before the module exists.

export const TABS = [
  { id: "network", label: "Network", enabled: true, module: null },
  { id: "3d", label: "3D", enabled: true, module: "./3d/view.js" },
  { id: "learn", label: "Learn", enabled: true, module: "./views/learn.js" },
  { id: "lab", label: "Lab", enabled: true, module: "./views/lab.js" },
];

export function initTabs(store, api) {
  const mounted = new Map();
  const tabs = TABS.filter((t) => t.enabled);
  const button = (t) => document.getElementById(`tab-${t.id}`);
  const panel = (t) => document.getElementById(`view-${t.id}`);
  for (const t of TABS) if (button(t)) button(t).hidden = !t.enabled;

  async function show(id) {
    for (const t of tabs) {
      const on = t.id === id;
      button(t).setAttribute("aria-selected", String(on));
      button(t).tabIndex = on ? 0 : -1;
      panel(t).hidden = !on;
      const m = mounted.get(t.id);
      if (!on && m) m.hide?.();
    }
    const t = tabs.find((x) => x.id === id);
    if (!t?.module) return;
    if (!mounted.has(id)) {
      const mod = await import(t.module);
      mounted.set(id, mod.mount(panel(t), { store, api }) ?? {});
    }
    // Left while its module loaded (3D then Network at once): showing it now would take the
    // drawing side into a hidden tab.
    if ((store.get().tab ?? "network") !== id) return;
    mounted.get(id).show?.();
  }

  tabs.forEach((t, i) => {
    button(t).addEventListener("click", () => store.set({ tab: t.id }));
    button(t).addEventListener("keydown", (e) => {   // ARIA tabs: arrows move between tabs
      const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!d) return;
      const next = tabs[(i + d + tabs.length) % tabs.length];
      store.set({ tab: next.id });
      button(next).focus();
    });
  });
  store.subscribe((s) => show(s.tab).catch((err) => store.set({ error: `could not open ${s.tab}: ${err.message}` })), ["tab"]);
  show(store.get().tab ?? "network");
}
