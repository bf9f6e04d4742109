// Binary masks in Labelgate's (COCO's) uncompressed RLE: run lengths over the column-major
// flattening of a height x width image, starting with a run of zeros. Decoded masks and their
// coloured overlays are cached per geometry object (geometries are never mutated).

const decoded = new WeakMap();
const overlays = new WeakMap();

/** The mask as a row-major Uint8Array (1 = inside). */
export function decode(g) {
  let out = decoded.get(g);
  if (out) return out;
  const { width: w, height: h, counts } = g;
  out = new Uint8Array(w * h);
  let k = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (i % 2) {
      for (let j = k; j < k + n; j++) out[(j % h) * w + Math.floor(j / h)] = 1;
    }
    k += n;
  }
  decoded.set(g, out);
  return out;
}

/** Encode a row-major predicate `inside(index)` over a height x width image. */
export function encode(width, height, inside) {
  const counts = [];
  let cur = 0, run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = inside(y * width + x) ? 1 : 0;
      if (v !== cur) {
        counts.push(run);
        run = 0;
        cur = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { type: "mask", height, width, counts };
}

export function maskContains(g, x, y) {
  const xi = Math.floor(x), yi = Math.floor(y);
  if (xi < 0 || yi < 0 || xi >= g.width || yi >= g.height) return false;
  return decode(g)[yi * g.width + xi] === 1;
}

export function maskBounds(g) {
  const m = decode(g), w = g.width;
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    const x = i % w, y = (i - x) / w;
    if (x < x1) x1 = x;
    if (x > x2) x2 = x;
    if (y < y1) y1 = y;
    if (y > y2) y2 = y;
  }
  return x1 === Infinity ? null : [x1, y1, x2 + 1, y2 + 1];
}

/** A canvas of the mask's size with the inside painted in `color` (hex) at `alpha`. */
export function overlay(g, color, alpha = 0.45) {
  const key = color + alpha;
  let per = overlays.get(g);
  if (per && per.has(key)) return per.get(key);
  const m = decode(g);
  const c = document.createElement("canvas");
  c.width = g.width;
  c.height = g.height;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(g.width, g.height);
  const r = parseInt(color.slice(1, 3), 16), gg = parseInt(color.slice(3, 5), 16), b = parseInt(color.slice(5, 7), 16);
  const a = Math.round(alpha * 255);
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    img.data[4 * i] = r;
    img.data[4 * i + 1] = gg;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = a;
  }
  ctx.putImageData(img, 0, 0);
  if (!per) overlays.set(g, (per = new Map()));
  per.set(key, c);
  return c;
}
