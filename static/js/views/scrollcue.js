// A visible "more below" cue for a scrolling panel: at 1280×720 the explain panel's last lines
// (the Σ line, the activation) can sit below its edge, and a scrollbar that only appears on
// hover (or not at all on touch screens) does not tell anyone. The cue is a sibling placed over
// the panel's bottom edge; it shows while there is more to scroll to, and a click scrolls there.
//
// attachScrollCue(el) -> {update()}; follows the panel's size, content and scroll by itself.

export function attachScrollCue(el, { label = "more below" } = {}) {
  const cue = document.createElement("button");
  cue.type = "button";
  cue.className = "scroll-cue";
  cue.hidden = true;
  cue.setAttribute("aria-label", `Scroll the panel: ${label}`);
  cue.append(document.createTextNode(`▾ ${label}`));
  el.after(cue);
  cue.addEventListener("click", () => el.scrollBy({ top: el.clientHeight * 0.8, behavior: "smooth" }));

  let queued = false;
  function update() {
    queued = false;
    const more = el.scrollHeight - el.clientHeight - el.scrollTop > 2;
    cue.hidden = !more;
    el.classList.toggle("has-more", more);
  }
  const later = () => { if (!queued) { queued = true; requestAnimationFrame(update); } };
  el.addEventListener("scroll", later, { passive: true });
  new ResizeObserver(later).observe(el);
  new MutationObserver(later).observe(el, { childList: true, subtree: true, characterData: true });
  update();
  return { update, cue };
}
