// Draws the extension icon (images/extension-icon.png, 128x128) and one icon per task
// (tasks/<Task>/icon.png, 64x64) as PNG, with nothing but node:zlib: shapes are described in unit
// coordinates (0..1), rasterised with 4x4 supersampling for smooth edges, and composited in order.
// Run once after changing a drawing (`node scripts/icons.mjs`) and commit the PNGs; packaging only
// checks that they exist.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------- PNG encoding

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes width x height RGBA pixels (Uint8Array, row-major) as an 8-bit RGBA PNG. */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------- shapes (unit coordinates)

const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r, w) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= w / 2;
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const union = (...shapes) => (x, y) => shapes.some((s) => s(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);
const intersect = (a, b) => (x, y) => a(x, y) && b(x, y);

function roundRect(x0, y0, x1, y1, r) {
  return (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const dx = x < x0 + r ? x0 + r - x : x > x1 - r ? x - (x1 - r) : 0;
    const dy = y < y0 + r ? y0 + r - y : y > y1 - r ? y - (y1 - r) : 0;
    return dx * dx + dy * dy <= r * r;
  };
}

/** A stroke of width w from a to b with round caps. */
function line(ax, ay, bx, by, w) {
  return (x, y) => {
    const vx = bx - ax;
    const vy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy || 1)));
    return Math.hypot(x - (ax + t * vx), y - (ay + t * vy)) <= w / 2;
  };
}

/** A stroke along a quadratic Bezier curve, as short round-capped segments. */
function curve(ax, ay, cx, cy, bx, by, w, steps = 24) {
  const points = Array.from({ length: steps + 1 }, (_, i) => {
    const t = i / steps;
    return [(1 - t) ** 2 * ax + 2 * (1 - t) * t * cx + t * t * bx, (1 - t) ** 2 * ay + 2 * (1 - t) * t * cy + t * t * by];
  });
  return union(...points.slice(1).map(([x, y], i) => line(points[i][0], points[i][1], x, y, w)));
}

/** A filled polygon (even-odd rule). */
function polygon(points) {
  return (x, y) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

// ---------------------------------------------------------------- colours and rasterising

function hex(value, alpha = 1) {
  const n = parseInt(value.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha];
}

/** A colour that varies from top to bottom. */
const vertical = (top, bottom) => (_x, y) => top.map((c, i) => c + (bottom[i] - c) * y);

/** Layers are [shape, colour] pairs, painted in order; a colour is [r, g, b, a] or (x, y) => [r, g, b, a]. */
export function render(size, layers, samples = 4) {
  const out = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let [r, g, b, a] = [0, 0, 0, 0]; // premultiplied
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          let [cr, cg, cb, ca] = [0, 0, 0, 0];
          for (const [shape, colour] of layers) {
            if (!shape(x, y)) continue;
            const [lr, lg, lb, la] = typeof colour === 'function' ? colour(x, y) : colour;
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = samples * samples;
      const i = (py * size + px) * 4;
      const alpha = a / n;
      out[i] = alpha ? Math.round(r / n / alpha) : 0;
      out[i + 1] = alpha ? Math.round(g / n / alpha) : 0;
      out[i + 2] = alpha ? Math.round(b / n / alpha) : 0;
      out[i + 3] = Math.round(alpha * 255);
    }
  }
  return out;
}

// ---------------------------------------------------------------- the drawings

const white = hex('#ffffff');
const rust = hex('#f46623');
const tile = roundRect(0.03, 0.03, 0.97, 0.97, 0.18);

/** A padlock: the "lock" in version lock. */
function padlock(cx, cy, s) {
  const shackle = intersect(ring(cx, cy - 0.2 * s, 0.22 * s, 0.09 * s), rect(0, 0, 1, cy - 0.05 * s));
  const legs = union(line(cx - 0.22 * s, cy - 0.2 * s, cx - 0.22 * s, cy, 0.09 * s), line(cx + 0.22 * s, cy - 0.2 * s, cx + 0.22 * s, cy, 0.09 * s));
  const body = roundRect(cx - 0.36 * s, cy - 0.04 * s, cx + 0.36 * s, cy + 0.42 * s, 0.07 * s);
  return { outline: union(shackle, legs), body, hole: union(circle(cx, cy + 0.14 * s, 0.07 * s), line(cx, cy + 0.14 * s, cx, cy + 0.28 * s, 0.06 * s)) };
}

function extensionIcon() {
  const bg = vertical(hex('#123f5c'), hex('#0b2a40'));
  const w = 0.075;
  const lock = padlock(0.72, 0.62, 0.42);
  return [
    [tile, bg],
    // A release line with a branch: the app repo's history, tagged and promoted.
    [line(0.3, 0.22, 0.3, 0.8, w), white],
    [curve(0.3, 0.6, 0.3, 0.38, 0.58, 0.32, w), white],
    [circle(0.3, 0.22, 0.085), white],
    [circle(0.3, 0.8, 0.085), white],
    [circle(0.6, 0.31, 0.085), rust],
    [circle(0.6, 0.31, 0.04), bg],
    // The lock: what runs where, changed only through pull requests.
    [union(lock.outline, lock.body), bg],
    [union(lock.outline, lock.body), rust],
    [lock.hole, bg],
  ];
}

function tagIcon() {
  const bg = vertical(hex('#e08a0b'), hex('#b45309'));
  // A luggage tag pointing up-left, with its eyelet.
  const tag = polygon([
    [0.2, 0.2], [0.52, 0.2], [0.82, 0.5], [0.5, 0.82], [0.2, 0.52],
  ]);
  return [
    [tile, bg],
    [tag, white],
    [circle(0.34, 0.34, 0.065), bg],
    [line(0.48, 0.56, 0.6, 0.44, 0.06), bg],
    [line(0.55, 0.63, 0.67, 0.51, 0.06), bg],
  ];
}

function containerIcon() {
  const bg = vertical(hex('#2f6fe4'), hex('#1d4fb8'));
  // An isometric box: three faces in different shades of white.
  const top = polygon([[0.5, 0.16], [0.82, 0.32], [0.5, 0.48], [0.18, 0.32]]);
  const left = polygon([[0.18, 0.32], [0.5, 0.48], [0.5, 0.86], [0.18, 0.7]]);
  const right = polygon([[0.5, 0.48], [0.82, 0.32], [0.82, 0.7], [0.5, 0.86]]);
  return [
    [tile, bg],
    [top, white],
    [left, hex('#ffffff', 0.82)],
    [right, hex('#ffffff', 0.62)],
    [line(0.27, 0.47, 0.27, 0.67, 0.04), bg],
    [line(0.38, 0.52, 0.38, 0.73, 0.04), bg],
  ];
}

function versionsIcon() {
  const bg = vertical(hex('#10a37f'), hex('#047857'));
  // versions.yaml: a page of entries, one of them bumped.
  const page = minus(roundRect(0.2, 0.14, 0.74, 0.86, 0.05), polygon([[0.6, 0.13], [0.75, 0.13], [0.75, 0.28]]));
  return [
    [tile, bg],
    [page, white],
    [polygon([[0.6, 0.14], [0.74, 0.28], [0.6, 0.28]]), hex('#d1fae5')],
    [line(0.3, 0.36, 0.5, 0.36, 0.05), bg],
    [line(0.3, 0.48, 0.58, 0.48, 0.05), bg],
    [line(0.3, 0.6, 0.44, 0.6, 0.05), bg],
    [circle(0.7, 0.7, 0.2), hex('#065f46')],
    [polygon([[0.7, 0.57], [0.8, 0.69], [0.74, 0.69], [0.74, 0.8], [0.66, 0.8], [0.66, 0.69], [0.6, 0.69]]), white],
  ];
}

function pullRequestIcon() {
  const bg = vertical(hex('#8b4ff0'), hex('#6325c9'));
  const w = 0.075;
  // The pull request: a branch whose change flows back into the target.
  return [
    [tile, bg],
    [line(0.32, 0.26, 0.32, 0.74, w), white],
    [ring(0.32, 0.24, 0.085, w), white],
    [ring(0.32, 0.76, 0.085, w), white],
    [line(0.68, 0.66, 0.68, 0.38, w), white],
    [curve(0.68, 0.4, 0.68, 0.26, 0.54, 0.26, w), white],
    [polygon([[0.46, 0.26], [0.58, 0.16], [0.58, 0.36]]), white],
    [ring(0.68, 0.76, 0.085, w), white],
  ];
}

function validateIcon() {
  const bg = vertical(hex('#0ea5b7'), hex('#0e7490'));
  // A shield with a check mark: the required check on the GitOps repository's pull requests.
  const shield = polygon([
    [0.5, 0.14], [0.8, 0.25], [0.78, 0.52], [0.68, 0.7], [0.5, 0.86], [0.32, 0.7], [0.22, 0.52], [0.2, 0.25],
  ]);
  return [
    [tile, bg],
    [shield, white],
    [union(line(0.36, 0.5, 0.46, 0.61, 0.08), line(0.46, 0.61, 0.65, 0.38, 0.08)), hex('#0e7490')],
  ];
}

export const taskIcons = {
  TagComponents: tagIcon,
  BuildRustContainers: containerIcon,
  UpdateGitOpsVersions: versionsIcon,
  CreateEnvPR: pullRequestIcon,
  ValidateGitOps: validateIcon,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = (file, size, layers) => {
    mkdirSync(path.dirname(file), { recursive: true });
    const png = encodePng(size, size, render(size, layers));
    writeFileSync(file, png);
    console.log(`${path.relative(root, file)}: ${size}x${size}, ${png.length} bytes`);
  };
  write(path.join(root, 'images', 'extension-icon.png'), 128, extensionIcon());
  for (const [task, draw] of Object.entries(taskIcons)) write(path.join(root, 'tasks', task, 'icon.png'), 64, draw());
}
