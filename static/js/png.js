// A PNG encoder for the drawing pad's ink. Pure: bytes in, bytes out, no DOM.
//
// Why not canvas.toDataURL("image/png"): that writes RGBA (four bytes a pixel, three of them the
// same white everywhere) with Paeth filters, and the server spent ~1.1 ms of its ~2.5 ms per
// request decoding it (bench/api.py). The pad is white ink whose coverage is the alpha channel,
// so this writes 8-bit gray + alpha (colour type 4): gray 255 everywhere, alpha = ink. Still
// white ink on transparency, as the contract reads the pad (ink = brightness × alpha, never
// inverted, however much of the border is inked), at ~7 KB instead of ~11 KB on the wire and
// ~0.13 ms instead of ~1.0 ms for the server to read (app/padpng.py reads exactly this format).
// Rows use PNG filter 2 ("Up": each byte minus the one above, mod 256): the constant gray becomes
// zeros and a stroke's smooth edges mostly so. The pad sends inkBoxDataURL (below) per stroke
// update; inkPNG / inkDataURL encode a whole image and are the reference the tests hold it to.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

// CRC-32 (ISO 3309, as PNG and zlib use it) of `bytes`.
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Scanlines for IDAT: per row a filter-type byte (2 = Up) then row − row above (mod 256).
// bytes: Uint8Array of `rowBytes` × height (row-major, pixels' bytes interleaved).
export function upFiltered(bytes, rowBytes, height) {
  if (bytes.length !== rowBytes * height) throw new Error(`upFiltered: ${bytes.length} bytes for ${height} rows of ${rowBytes}`);
  const out = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (rowBytes + 1), r = y * rowBytes;
    out[o] = 2;
    if (y === 0) {
      out.set(bytes.subarray(0, rowBytes), o + 1);
    } else {
      for (let x = 0; x < rowBytes; x++) out[o + 1 + x] = bytes[r + x] - bytes[r - rowBytes + x];   // Uint8Array wraps mod 256
    }
  }
  return out;
}

// Ink (0–255, 255 = full ink; width × height) -> gray + alpha pixels: white, alpha = ink.
export function whiteInk(ink) {
  const la = new Uint8Array(ink.length * 2).fill(255);
  for (let i = 0; i < ink.length; i++) la[2 * i + 1] = ink[i];
  return la;
}

// zlib-wrapped deflate (RFC 1950), which is what a PNG's IDAT holds. CompressionStream is in
// every current browser and in Node 18+. Written straight to the stream's writer: through
// `new Blob([bytes]).stream()` the same deflate took 1.5 ms instead of 0.4 ms in Chromium.
export async function deflate(bytes) {
  const stream = new CompressionStream("deflate");
  const writer = stream.writable.getWriter();
  // A failure surfaces once, through the readable below; these promises would repeat it.
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  return new Uint8Array(await new Response(stream.readable).arrayBuffer());
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

// The PNG file around already-deflated gray + alpha scanlines: 8 bits a channel, colour type 4,
// no interlace.
export function pngFile(width, height, idat) {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 4, 0, 0, 0], 8);   // bit depth, colour type, compression, filter method, interlace
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// The pad's ink as a PNG: white, alpha = ink.
export async function inkPNG(ink, width, height) {
  if (ink.length !== width * height) throw new Error(`inkPNG: ${ink.length} values for ${width}×${height}`);
  return pngFile(width, height, await deflate(upFiltered(whiteInk(ink), 2 * width, height)));
}

// ---- The per-stroke path: only the ink's box is read, and the deflate is synchronous --------
//
// While a finger is drawing, the encode above cost the phone's main thread (at 4× CPU
// throttling, bench/phone.py) ~8 ms of work spread over ~30 ms of awaits: every one of the
// pad's 78 400 pixels was read, interleaved and filtered per update, and CompressionStream
// answers across several tasks, each waiting behind input and frames. The pad knows a box
// that holds all of its ink (views/pad.js), so the scanlines are built from that box alone
// (every byte outside it is known), and deflated here in one pass. Same PNG format and the
// same pixels, so the server's answer is the same (tests/js/png.test.mjs, test_page.py).

// Up-filtered gray + alpha scanlines of the whole width × height pad whose ink is zero outside
// `box` [x0, y0, x1, y1] (half-open; null: no ink) and `boxInk` inside it (row-major, (x1 - x0)
// × (y1 - y0)): byte for byte upFiltered(whiteInk(ink), 2 * width, height).
export function upFilteredBox(boxInk, box, width, height) {
  const row = 2 * width + 1;
  const out = new Uint8Array(row * height);   // zeros: every Up difference of blank against blank
  for (let y = 0; y < height; y++) out[y * row] = 2;
  for (let x = 0; x < width; x++) out[1 + 2 * x] = 255;   // row 0 has no row above: gray is 255
  if (!box) return out;
  const [x0, y0, x1, y1] = box;
  const w = x1 - x0;
  if (boxInk.length !== w * (y1 - y0)) throw new Error(`upFilteredBox: ${boxInk.length} values for a ${w}×${y1 - y0} box`);
  // Rows y0 .. y1 (the first blank row under the box differs from the box's last row).
  for (let y = y0; y <= Math.min(y1, height - 1); y++) {
    const cur = y < y1 ? (y - y0) * w : -1, prev = y > y0 ? (y - 1 - y0) * w : -1;
    const o = y * row + 2 + 2 * x0;   // the alpha byte of pixel x0
    for (let x = 0; x < w; x++) {
      const a = cur < 0 ? 0 : boxInk[cur + x];
      out[o + 2 * x] = y === 0 ? a : a - (prev < 0 ? 0 : boxInk[prev + x]);   // mod 256
    }
  }
  return out;
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
// match length 3..258 -> its length code (symbol 257 + code)
const LENGTH_CODE = (() => {
  const t = new Uint8Array(259);
  for (let k = 0; k < 28; k++) for (let len = LENGTH_BASE[k]; len < LENGTH_BASE[k + 1]; len++) t[len] = k;
  t[258] = 28;
  return t;
})();
// The order the code-length code's own lengths are written in (RFC 1951 3.2.7).
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

// The Adler-32 of `bytes` (RFC 1950), as zlib writes it after the deflate stream.
export function adler32(bytes) {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length;) {
    const end = Math.min(bytes.length, i + 5552);   // the most bytes before b can overflow 2^32
    for (; i < end; i++) { a += bytes[i]; b += a; }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// Huffman code lengths (at most maxBits) for symbol counts; unused symbols get 0. A tree too
// deep is rebuilt from halved counts (rare: it needs near-Fibonacci counts).
export function codeLengths(counts, maxBits) {
  let freq = Array.from(counts);
  for (;;) {
    const lengths = new Uint8Array(freq.length);
    const used = freq.map((f, s) => [f, s]).filter(([f]) => f > 0).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    if (used.length === 1) lengths[used[0][1]] = 1;
    if (used.length <= 1) return lengths;
    // Two queues (leaves by count, then merged nodes in the order made) give the Huffman tree.
    const weight = used.map(([f]) => f), parent = new Int32Array(2 * used.length - 1);
    let leaf = 0, node = used.length;
    const take = () => (leaf < used.length && (node >= weight.length || weight[leaf] <= weight[node]) ? leaf++ : node++);
    for (let made = used.length; made < 2 * used.length - 1; made++) {
      const x = take(), y = take();
      weight.push(weight[x] + weight[y]);
      parent[x] = parent[y] = made;
    }
    const depth = new Uint8Array(weight.length);
    for (let i = weight.length - 2; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
    let deepest = 0;
    used.forEach(([, s], i) => { lengths[s] = depth[i]; deepest = Math.max(deepest, depth[i]); });
    if (deepest <= maxBits) return lengths;
    freq = freq.map((f) => (f ? Math.max(1, f >> 1) : 0));
  }
}

// Canonical codes for code lengths (RFC 1951 3.2.2), bit-reversed for the LSB-first stream.
function canonical(lengths) {
  const count = new Uint16Array(16), next = new Uint16Array(16), codes = new Uint16Array(lengths.length);
  for (const l of lengths) if (l) count[l]++;
  for (let bits = 1, code = 0; bits < 16; bits++) { code = (code + count[bits - 1]) << 1; next[bits] = code; }
  lengths.forEach((l, s) => {
    if (!l) return;
    let c = next[l]++, r = 0;
    for (let i = 0; i < l; i++) { r = (r << 1) | (c & 1); c >>= 1; }
    codes[s] = r;
  });
  return codes;
}

// The code lengths as code-length symbols: [symbol, extra value, extra bits] (16 repeats the
// previous length 3–6 times, 17 and 18 write runs of zeros).
function lengthSymbols(lengths) {
  const out = [];
  for (let i = 0; i < lengths.length;) {
    const v = lengths[i];
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === v) run++;
    i += run;
    if (v === 0) {
      while (run >= 11) { const n = Math.min(run, 138); out.push([18, n - 11, 7]); run -= n; }
      if (run >= 3) { out.push([17, run - 3, 3]); run = 0; }
    } else {
      out.push([v, 0, 0]);
      run--;
      while (run >= 3) { const n = Math.min(run, 6); out.push([16, n - 3, 2]); run -= n; }
    }
    while (run-- > 0) out.push([v, 0, 0]);
  }
  return out;
}

// zlib-wrapped deflate (RFC 1950/1951) of `bytes`, synchronously: one dynamic-Huffman block
// whose only matches are runs of one byte (distance 1), zlib's Z_RLE strategy. Filtered ink is
// long runs of zeros, so this is one pass (the Adler-32 summed along, a run at a time) for about
// zlib's own size (7 KB for a digit).
export function deflateRuns(bytes) {
  const length = bytes.length;
  // Pass 1: tokens (a literal byte, or a run's length code with its extra bits) and counts.
  const tokens = new Uint32Array(length + 1);
  const counts = new Uint32Array(286);
  let t = 0, a = 1, b = 0;
  for (let i = 0; i < length;) {
    const v = bytes[i++];
    tokens[t++] = v;
    counts[v]++;
    a = (a + v) % 65521;
    b = (b + a) % 65521;
    let run = 0;
    while (run < 258 && i + run < length && bytes[i + run] === v) run++;
    if (run < 3) continue;
    const k = LENGTH_CODE[run];
    tokens[t++] = 257 + k | ((run - LENGTH_BASE[k]) << 9);
    counts[257 + k]++;
    b = (b + run * a + (v * run * (run + 1)) / 2) % 65521;
    a = (a + v * run) % 65521;
    i += run;
  }
  tokens[t++] = 256;
  counts[256]++;
  const litLengths = codeLengths(counts, 15);
  let hlit = 286;
  while (hlit > 257 && !litLengths[hlit - 1]) hlit--;
  const header = lengthSymbols([...litLengths.subarray(0, hlit), 1]);   // one distance code (1), 1 bit
  const clCounts = new Uint32Array(19);
  for (const [s] of header) clCounts[s]++;
  const clLengths = codeLengths(clCounts, 7);
  let hclen = 19;
  while (hclen > 4 && !clLengths[CL_ORDER[hclen - 1]]) hclen--;
  const litCodes = canonical(litLengths), clCodes = canonical(clLengths);

  // Pass 2: the bits, LSB first.
  const out = new Uint8Array(64 + 40 * 3 + Math.ceil((t * 21) / 8));
  out[0] = 0x78; out[1] = 0x01;   // zlib header: deflate, 32 K window, no dictionary
  let at = 2, acc = 0, n = 0;
  const put = (value, bits) => {
    acc |= value << n;
    n += bits;
    while (n >= 8) { out[at++] = acc & 255; acc >>>= 8; n -= 8; }
  };
  put(1, 1); put(2, 2);   // BFINAL, BTYPE = 10 (dynamic Huffman)
  put(hlit - 257, 5); put(0, 5); put(hclen - 4, 4);
  for (let i = 0; i < hclen; i++) put(clLengths[CL_ORDER[i]], 3);
  for (const [s, extra, bits] of header) { put(clCodes[s], clLengths[s]); if (bits) put(extra, bits); }
  for (let i = 0; i < t; i++) {
    const tok = tokens[i], s = tok & 511;
    put(litCodes[s], litLengths[s]);
    if (s > 256) {
      const k = s - 257;
      if (LENGTH_EXTRA[k]) put(tok >>> 9, LENGTH_EXTRA[k]);
      put(0, 1);   // distance code 0 (distance 1): the one distance code, one bit
    }
  }
  if (n > 0) put(0, 8 - n);
  const adler = ((b << 16) | a) >>> 0;
  out[at++] = adler >>> 24; out[at++] = (adler >>> 16) & 255; out[at++] = (adler >>> 8) & 255; out[at++] = adler & 255;
  return out.subarray(0, at);
}

// The pad's ink, known to be zero outside `box`, as "data:image/png;base64,..." (white, alpha
// = ink): the pixels inkDataURL writes for the whole pad, without reading the blank part.
export function inkBoxDataURL(boxInk, box, width, height) {
  return `data:image/png;base64,${base64(pngFile(width, height, deflateRuns(upFilteredBox(boxInk, box, width, height))))}`;
}

export function base64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// ink (0–255, 255 = ink) -> "data:image/png;base64,...".
export async function inkDataURL(ink, width, height) {
  return `data:image/png;base64,${base64(await inkPNG(ink, width, height))}`;
}
