// Presenter mode for the teacher's projector: one key ("P") or the header's Projector box turns
// it on and off, and the URL's ?present=1 opens the page in it (a bookmark for the classroom PC).
// What it changes is CSS (body.projector, static/css/screens.css) plus the network labels'
// size (views/network.js reads `projector`).
//
// initPresenter(store, checkbox)

const TYPING = /^(INPUT|TEXTAREA|SELECT)$/;

export function initPresenter(store, checkbox) {
  const set = (on) => { checkbox.checked = on; store.set({ projector: on }); };
  document.addEventListener("keydown", (e) => {
    if (e.key !== "p" && e.key !== "P") return;
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    const t = e.target;
    if (t && (TYPING.test(t.tagName) && t.type !== "checkbox" || t.isContentEditable)) return;   // typing, not a command
    e.preventDefault();
    set(!store.get().projector);
  });
  // After boot, once every view has subscribed to `projector`.
  if (/^(1|true|on)$/.test(new URLSearchParams(location.search).get("present") ?? "")) queueMicrotask(() => set(true));
}
