// The "Join" popover: the classroom address and its QR code (GET /api/join), shown only when
// the server runs with --classroom and so has addresses to give.
// renderJoin(button, popover, join) with join = {urls: [...], qr_svg: "..."} or null.

// Loopback addresses are left out: no other device can open them.
const LOOPBACK = /^https?:\/\/(localhost|127\.[\d.]+|\[::1\])(:\d+)?(\/|$)/i;

export function renderJoin(button, popover, join) {
  const urls = (join?.urls ?? []).filter((u) => !LOOPBACK.test(u));
  button.hidden = urls.length === 0;
  if (!urls.length) return;
  const title = document.createElement("p");
  title.textContent = "Open this on your phone or tablet:";
  const links = urls.map((u) => {
    const a = document.createElement("a");
    a.href = u;
    a.textContent = u;
    const p = document.createElement("p");
    p.append(a);
    return p;
  });
  const qr = document.createElement("div");
  // The server's SVG (segno) is generated from its own addresses, not from user input.
  qr.innerHTML = urls[0] === join.urls[0] ? join.qr_svg ?? "" : "";   // the QR encodes urls[0]
  popover.replaceChildren(title, ...links, qr);
  button.onclick = () => {
    const open = popover.hidden;
    popover.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !popover.hidden) { popover.hidden = true; button.setAttribute("aria-expanded", "false"); button.focus(); }
  });
}
