// A PNG encoder for the drawing pad's ink. Pure: bytes in, bytes out, no DOM.
//
// Why not canvas.toDataURL("image/png"): that writes RGBA (four bytes a pixel, three of them the
// same white everywhere) with Paeth filters, and the server spent ~1.1 ms of its ~2.5 ms per
// request decoding it (bench/api.py). The pad is white ink whose coverage is the alpha channel,
// so this writes 8-bit gray + alpha (colour type 4): gray 255 everywhere, alpha = ink. Still
// white ink on transparency, as the contract reads the pad (ink = brightness × alpha, never
// inverted, however much of the border is inked), at ~7 KB instead of ~11 KB on the wire and
// ~0.13 ms instead of ~1.0 ms for the server to read (app/padpng.py reads exactly this format). Rows use PNG filter 2 ("Up": each byte minus the one
// above, mod 256): the constant gray becomes zeros and a stroke's smooth edges mostly so.

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

export function base64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// ink (0–255, 255 = ink) -> "data:image/png;base64,...".
export async function inkDataURL(ink, width, height) {
  return `data:image/png;base64,${base64(await inkPNG(ink, width, height))}`;
}
