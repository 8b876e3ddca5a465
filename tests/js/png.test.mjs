import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { crc32, upFiltered, whiteInk, inkPNG, inkDataURL, base64 } from "../../static/js/png.js";

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
