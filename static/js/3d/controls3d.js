// Mouse, touch and keyboard gestures on the 3D canvas, turned into camera intents.
//
// Pointer Events cover mouse, pen and touch alike. Mouse: drag rotates; right-, shift- or
// ctrl-drag pans; the wheel zooms; moving without a button hovers. Touch: one finger rotates,
// two fingers pinch to zoom and move together to pan; a tap (little movement) picks. Keyboard:
// arrows rotate, shift+arrows pan, + and − zoom. Double-click flies to the unit under the pointer. The handlers only report intents in CSS pixels;
// view3d.js turns them into camera changes, so this file holds no camera state.

const TAP_SLOP = 6; // px a press may wander and still count as a tap
const KEY_ORBIT = 24; // px-equivalents of drag per arrow press
const KEY_PAN = 30;

export function attachControls(canvas, h) {
  const pointers = new Map(); // pointerId -> {x, y, startX, startY, button, pan}
  let pinch = null; // {dist, mid} of the two touching fingers last frame
  let moved = false;
  let lastHover = null; // client position of the last hover move

  const local = (e) => {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const twoFingers = () => {
    const [a, b] = [...pointers.values()];
    return { dist: Math.hypot(a.x - b.x, a.y - b.y), mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  };

  function down(e) {
    const p = local(e);
    canvas.focus({ preventScroll: true });
    try { canvas.setPointerCapture(e.pointerId); } catch { /* synthetic pointer ids cannot be captured */ }
    const pan = e.button === 2 || e.shiftKey || e.ctrlKey;
    pointers.set(e.pointerId, { ...p, startX: p.x, startY: p.y, pan });
    moved = false;
    pinch = pointers.size === 2 ? twoFingers() : null;
    e.preventDefault();
  }

  function move(e) {
    const p = local(e);
    const ptr = pointers.get(e.pointerId);
    if (!ptr) {
      // Chromium re-sends a move at the resting position after layout changes (a tab switch
      // moving the canvas): the student did not move, so the hovered unit stays.
      const same = lastHover && lastHover.x === e.clientX && lastHover.y === e.clientY;
      lastHover = { x: e.clientX, y: e.clientY };
      if (e.pointerType === "mouse" && !same) h.hover(p.x, p.y);
      return;
    }
    const dx = p.x - ptr.x;
    const dy = p.y - ptr.y;
    ptr.x = p.x;
    ptr.y = p.y;
    if (Math.hypot(p.x - ptr.startX, p.y - ptr.startY) > TAP_SLOP) moved = true;
    if (pointers.size >= 2) {
      const now = twoFingers();
      if (pinch && pinch.dist > 0 && now.dist > 0) {
        h.zoom(pinch.dist / now.dist); // fingers apart -> factor < 1 -> closer
        h.pan(now.mid.x - pinch.mid.x, now.mid.y - pinch.mid.y);
      }
      pinch = now;
      moved = true;
    } else if (moved) {
      if (ptr.pan) h.pan(dx, dy);
      else h.orbit(dx, dy);
    }
    e.preventDefault();
  }

  function up(e) {
    const ptr = pointers.get(e.pointerId);
    if (!ptr) return;
    pointers.delete(e.pointerId);
    const wasTap = !moved && pointers.size === 0 && e.type === "pointerup";
    if (wasTap) h.tap(ptr.x, ptr.y, e.pointerType);
    pinch = pointers.size === 2 ? twoFingers() : null;
    if (!pointers.size) moved = false;
  }

  function wheel(e) {
    e.preventDefault();
    // deltaMode 1 is lines (Firefox); ~33 px per line keeps the step similar everywhere
    const delta = e.deltaY * (e.deltaMode === 1 ? 33 : 1);
    h.zoom(Math.exp(delta * 0.0015));
  }

  function key(e) {
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (arrows[e.key]) {
      const [x, y] = arrows[e.key];
      // an arrow press acts like a short drag that way
      if (e.shiftKey) h.pan(x * KEY_PAN, y * KEY_PAN);
      else h.orbit(x * KEY_ORBIT, y * KEY_ORBIT);
    } else if (e.key === "+" || e.key === "=") h.zoom(0.85);
    else if (e.key === "-" || e.key === "_") h.zoom(1 / 0.85);
    else if (e.key === "Escape") h.escape();
    else return;
    e.preventDefault();
  }

  const listeners = [
    ["pointerdown", down], ["pointermove", move], ["pointerup", up], ["pointercancel", up],
    ["pointerleave", (e) => { if (!pointers.size && e.pointerType === "mouse") h.leave(); }],
    ["wheel", wheel, { passive: false }], ["keydown", key],
    ["dblclick", (e) => { const p = local(e); h.fly(p.x, p.y); }],
    ["contextmenu", (e) => e.preventDefault()], // right-drag pans; no menu in the way
  ];
  for (const [type, fn, opts] of listeners) canvas.addEventListener(type, fn, opts);
  return () => { for (const [type, fn, opts] of listeners) canvas.removeEventListener(type, fn, opts); };
}
