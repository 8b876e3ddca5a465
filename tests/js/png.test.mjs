import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { crc32, upFiltered, whiteInk, inkPNG, inkDataURL, base64, upFilteredBox, deflateRuns, codeLengths, adler32, inkBoxDataURL } from "../../static/js/png.js";

// An independent reader: walk the chunks, check each CRC with Node's zlib, inflate IDAT with
// Node's zlib and undo every PNG filter type (the spec's reference unfiltering).
function readPNG(bytes) {
  const buf = Buffer.from(bytes);
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks = [];
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at), type = buf.toString("latin1", at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    assert.equal(buf.readUInt32BE(at + 8 + len), zlib.crc32(buf.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    chunks.push({ type, data });
    at += 12 + len;
  }
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0), height = ihdr.readUInt32BE(4);
  assert.deepEqual([...ihdr.subarray(8)], [8, 4, 0, 0, 0], "8-bit gray + alpha, no interlace");
  const raw = zlib.inflateSync(chunks[1].data);
  const bpp = 2, row = width * bpp;
  assert.equal(raw.length, (row + 1) * height);
  const out = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (row + 1)];
    for (let x = 0; x < row; x++) {
      const v = raw[y * (row + 1) + 1 + x];
      const a = x >= bpp ? out[y * row + x - bpp] : 0, b = y ? out[(y - 1) * row + x] : 0;
      const c = x >= bpp && y ? out[(y - 1) * row + x - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      assert.ok(pred !== undefined, `filter type ${f}`);
      out[y * row + x] = (v + pred) & 255;
    }
  }
  const gray = out.filter((_, i) => i % 2 === 0), alpha = out.filter((_, i) => i % 2 === 1);
  return { width, height, gray, alpha };
}

function strokeImage(width, height) {
  // A soft diagonal stroke with full-ink core and anti-aliased edges, like the pad's.
  const g = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const d = Math.abs(x - y * (width / height)) - 3;
    g[y * width + x] = d <= 0 ? 255 : d < 2 ? Math.round(255 * (1 - d / 2)) : 0;
  }
  return g;
}

test("crc32 matches zlib's on known and random bytes", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);   // the standard check value
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 255);
  assert.equal(crc32(bytes), zlib.crc32(Buffer.from(bytes)));
});

test("Up filter: first row as is, then differences mod 256 with filter byte 2", () => {
  const f = upFiltered(Uint8Array.of(10, 250, 5, 0), 2, 2);
  assert.deepEqual([...f], [2, 10, 250, 2, 251, 6]);
  assert.throws(() => upFiltered(new Uint8Array(3), 2, 2), /3 bytes for 2 rows of 2/);
});

test("white ink: gray 255 beside every ink value", () => {
  assert.deepEqual([...whiteInk(Uint8Array.of(0, 7, 255))], [255, 0, 255, 7, 255, 255]);
});

test("inkPNG round-trips exactly through an independent decoder: white, alpha = ink", async () => {
  for (const [w, h] of [[1, 1], [3, 5], [280, 280], [17, 9]]) {
    const ink = w === 280 ? strokeImage(w, h) : Uint8Array.from({ length: w * h }, (_, i) => (i * 97 + 13) & 255);
    const png = readPNG(await inkPNG(ink, w, h));
    assert.equal(png.width, w);
    assert.equal(png.height, h);
    assert.deepEqual(png.alpha, ink);
    assert.ok(png.gray.every((g) => g === 255));
  }
  await assert.rejects(inkPNG(new Uint8Array(5), 2, 2), /5 values for 2×2/);
});

test("a pad stroke compresses well below the RGBA toDataURL size", async () => {
  const bytes = await inkPNG(strokeImage(280, 280), 280, 280);
  assert.ok(bytes.length < 6000, `${bytes.length} bytes`);
});

test("data URL: standard base64 of the PNG bytes", async () => {
  const ink = strokeImage(40, 30);
  const url = await inkDataURL(ink, 40, 30);
  assert.match(url, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(readPNG(Buffer.from(url.split(",")[1], "base64")).alpha, ink);
  const big = Uint8Array.from({ length: 70000 }, (_, i) => (i * 31) & 255);   // spans base64's 32 KB slices
  assert.equal(base64(big), Buffer.from(big).toString("base64"));
});

// ---- the per-stroke path: the ink's box, a synchronous deflate -------------------------------

// The part of a width-wide ink image inside box [x0, y0, x1, y1].
function crop(ink, width, [x0, y0, x1, y1]) {
  const out = new Uint8Array((x1 - x0) * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(ink.subarray(y * width + x0, y * width + x1), (y - y0) * (x1 - x0));
  return out;
}
// Ink only inside `box` (anything else zero), with full-ink and soft pixels along its edges.
function inkIn(width, height, [x0, y0, x1, y1]) {
  const ink = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * width + x] = (x * 37 + y * 11) % 3 ? 255 : (x * 13 + y * 7) & 255;
  return ink;
}

test("upFilteredBox writes upFiltered(whiteInk(ink)) byte for byte from the ink's box alone", () => {
  const [w, h] = [23, 17];
  // Boxes inside, against every edge, one pixel, the whole image; the ink may not fill its box.
  for (const box of [[5, 4, 12, 9], [0, 0, 6, 3], [15, 10, 23, 17], [0, 5, 23, 6], [7, 0, 8, 17], [3, 3, 4, 4], [0, 0, 23, 17]]) {
    const ink = inkIn(w, h, box);
    assert.deepEqual(upFilteredBox(crop(ink, w, box), box, w, h), upFiltered(whiteInk(ink), 2 * w, h), `box ${box}`);
    const loose = [Math.max(0, box[0] - 2), Math.max(0, box[1] - 1), Math.min(w, box[2] + 3), Math.min(h, box[3] + 2)];
    assert.deepEqual(upFilteredBox(crop(ink, w, loose), loose, w, h), upFiltered(whiteInk(ink), 2 * w, h), `loose box ${loose}`);
  }
  const blank = new Uint8Array(w * h);
  assert.deepEqual(upFilteredBox(new Uint8Array(0), null, w, h), upFiltered(whiteInk(blank), 2 * w, h));
  const stroke = strokeImage(280, 280);
  assert.deepEqual(upFilteredBox(crop(stroke, 280, [0, 0, 280, 280]), [0, 0, 280, 280], 280, 280), upFiltered(whiteInk(stroke), 560, 280));
  assert.throws(() => upFilteredBox(new Uint8Array(5), [0, 0, 2, 2], w, h), /5 values for a 2×2 box/);
});

test("deflateRuns is a zlib stream Node's zlib inflates to the same bytes (Adler-32 checked)", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const runs = [];
  while (runs.length < 60000) { const v = (rnd() * 4 | 0) * 60, n = rnd() * 700 | 0; for (let i = 0; i < n; i++) runs.push(v); }
  const cases = {
    empty: new Uint8Array(0),
    one: Uint8Array.of(7),
    "short runs": Uint8Array.of(1, 1, 2, 2, 2, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    zeros: new Uint8Array(100000),
    "every length": Uint8Array.from({ length: 40000 }, (_, i) => Math.floor(Math.sqrt(i)) & 1),   // runs of 1..399
    random: Uint8Array.from({ length: 5000 }, () => rnd() * 256 | 0),
    runs: Uint8Array.from(runs),
    stroke: upFiltered(whiteInk(strokeImage(280, 280)), 560, 280),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const z = deflateRuns(bytes);
    assert.deepEqual(new Uint8Array(zlib.inflateSync(z)), bytes, name);
    assert.equal(Buffer.from(z).readUInt32BE(z.length - 4), adler32(bytes), name);
  }
  assert.equal(adler32(new TextEncoder().encode("Wikipedia")), 0x11e60398);   // the article's example
  // Near zlib's own size on filtered ink (a digit on a classroom's Wi-Fi): a ring (a "0", the
  // most ink) within a quarter; a straight slanted stroke, which only zlib's row-to-row matches
  // catch, within 2× of its small size.
  const ring = new Uint8Array(280 * 280);
  for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++) {
    const d = Math.abs(Math.hypot(x - 140, (y - 140) * 0.7) - 70) - 7;
    ring[y * 280 + x] = d <= 0 ? 255 : d < 2 ? Math.round(255 * (1 - d / 2)) : 0;
  }
  for (const [name, ink, bound] of [["ring", ring, 1.25], ["slanted stroke", strokeImage(280, 280), 2]]) {
    const bytes = upFiltered(whiteInk(ink), 560, 280);
    const ours = deflateRuns(bytes).length, theirs = zlib.deflateSync(bytes).length;
    assert.ok(ours < bound * theirs, `${name}: ${ours} vs zlib's ${theirs} bytes`);
  }
});

test("codeLengths: a complete prefix code within the bit limit, even for Fibonacci counts", () => {
  const fib = [1, 1];
  while (fib.length < 30) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);   // depth 29 unlimited
  for (const [counts, max] of [[fib, 15], [fib.slice(0, 19), 7], [[5, 0, 3, 0, 0, 9], 15], [Array(286).fill(1), 15]]) {
    const lengths = codeLengths(counts, max);
    counts.forEach((c, s) => assert.equal(lengths[s] > 0, c > 0));
    assert.ok(Math.max(...lengths) <= max, `${Math.max(...lengths)} bits`);
    const kraft = [...lengths].reduce((sum, l) => sum + (l ? 2 ** -l : 0), 0);
    assert.equal(kraft, 1, "complete: every code word used");
  }
  assert.deepEqual([...codeLengths([0, 4, 0], 15)], [0, 1, 0], "one symbol: one 1-bit code");
});

test("inkBoxDataURL: the same pixels as the whole pad's inkDataURL", async () => {
  const stroke = strokeImage(280, 280);
  for (let i = 0; i < 280 * 40; i++) stroke[i] = 0;   // ink from row 40 down, as after a stroke
  const box = [0, 40, 280, 280];
  const url = inkBoxDataURL(crop(stroke, 280, box), box, 280, 280);
  assert.match(url, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  const png = readPNG(Buffer.from(url.split(",")[1], "base64"));
  const whole = readPNG(Buffer.from((await inkDataURL(stroke, 280, 280)).split(",")[1], "base64"));
  assert.deepEqual([png.width, png.height], [280, 280]);
  assert.deepEqual(png.alpha, whole.alpha);
  assert.deepEqual(png.gray, whole.gray);
  assert.deepEqual(readPNG(Buffer.from(inkBoxDataURL(new Uint8Array(0), null, 4, 3).split(",")[1], "base64")).alpha, new Uint8Array(12));
});
