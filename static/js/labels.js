// Where the network view's column labels go so that no two overlap. Pure: no DOM (text widths
// are passed in, measured by the caller).
//
// Each column's labels are centred on it and may spill into the gaps beside it, up to the
// middle of each gap (less a small margin): that is the column's room. A label wider than its
// room is shrunk (down to `minScale` of its size); one that still does not fit, such as the
// "±10" under fc2 and the "±20" under fc3 on a projector, drops to a second row when its
// neighbour on the first row would touch it.

const MARGIN = 2;   // px kept clear between neighbouring labels

// columns: [{x, w}] left to right -> [{cx, room}] with room the widest a centred label can be.
// `width`: the canvas's; the end columns' labels stop at its edges (a narrow first column, a
// 64×64 photo's input at 56 px, had its "3×64×64" cut by the left edge on a projector).
export function labelRooms(columns, width = Infinity) {
  return columns.map((c, i) => {
    const cx = c.x + c.w / 2;
    const prev = columns[i - 1];
    const next = columns[i + 1];
    const left = prev ? (prev.x + prev.w + c.x) / 2 + MARGIN : Number.isFinite(width) ? Math.min(c.x, 0) : -Infinity;
    const right = next ? (c.x + c.w + next.x) / 2 - MARGIN : Math.max(c.x + c.w, width);
    const half = Math.min(cx - left, right - cx);
    return { cx, room: Math.max(c.w, 2 * half) };
  });
}

// One line of centred labels: items [{cx, width}] left to right (width at full size). Returns
// [{row, scale}]: row 0 or 1, scale the font factor (1, or less when both rows are blocked; 0
// means there is no room at all and the label is left out rather than drawn over another).
// Greedy: the first row whose last label it clears; else shrunk on the row with more room.
export function placeLine(items, { gap = 3, minScale = 0.5 } = {}) {
  const end = [-Infinity, -Infinity];   // right edge of the last label on each row
  return items.map(({ cx, width }) => {
    for (const row of [0, 1]) {
      if (cx - width / 2 >= end[row] + gap) { end[row] = cx + width / 2; return { row, scale: 1 }; }
    }
    const row = end[0] <= end[1] ? 0 : 1;
    const scale = Math.min(1, (2 * (cx - end[row] - gap)) / width);
    if (scale < minScale) return { row, scale: 0 };
    end[row] = cx + (width * scale) / 2;
    return { row, scale };
  });
}
