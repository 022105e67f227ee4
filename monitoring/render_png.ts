/**
 * Draws dashboard panels as line charts into a PNG, for the README: Grafana does not install
 * here, so tests/e2e/monitoring_e2e_test.ts draws the main panels from their own queries' results.
 * Plain pixels, a 5×7 bitmap font and node:zlib; no dependencies.
 * @module
 */
import { deflateSync } from "node:zlib";

/** One series of a panel: its legend and its (Unix seconds, value) points. */
export interface ChartSeries {
  name: string;
  points: [number, number][];
}

/** One panel to draw: its title, its Grafana unit and its series. */
export interface ChartPanel {
  title: string;
  /** A Grafana unit: `bytes`, `s`, `percent`, `percentunit`, `Bps` or `none`. */
  unit: string;
  series: ChartSeries[];
}

/** A colour. */
export type Rgb = readonly [number, number, number];

const PANEL_W = 640;
const PANEL_H = 360;
const COLUMNS = 2;
const GAP = 8;
const BACKGROUND: Rgb = [17, 18, 23];
const PANEL: Rgb = [24, 27, 31];
const GRID: Rgb = [44, 50, 53];
const TEXT: Rgb = [204, 204, 220];
const MUTED: Rgb = [142, 142, 160];
/** Grafana's classic palette: series colours, in order. */
export const PALETTE: readonly Rgb[] = [
  [115, 191, 105],
  [242, 204, 12],
  [138, 184, 255],
  [255, 120, 10],
  [242, 73, 92],
  [87, 148, 242],
  [184, 119, 217],
];

/** A 5×7 font: seven rows per glyph, the leftmost pixel the 16s bit. Letters in capitals. */
const FONT: Record<string, readonly number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [28, 18, 17, 17, 17, 18, 28],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  "0": [14, 17, 19, 21, 25, 17, 14],
  "1": [4, 12, 4, 4, 4, 4, 14],
  "2": [14, 17, 1, 2, 4, 8, 31],
  "3": [31, 2, 4, 2, 1, 17, 14],
  "4": [2, 6, 10, 18, 31, 2, 2],
  "5": [31, 16, 30, 1, 1, 17, 14],
  "6": [6, 8, 16, 30, 17, 17, 14],
  "7": [31, 1, 2, 4, 8, 8, 8],
  "8": [14, 17, 17, 14, 17, 17, 14],
  "9": [14, 17, 17, 15, 1, 2, 12],
  " ": [0, 0, 0, 0, 0, 0, 0],
  ".": [0, 0, 0, 0, 0, 12, 12],
  ",": [0, 0, 0, 0, 12, 4, 8],
  "%": [24, 25, 2, 4, 8, 19, 3],
  "/": [0, 1, 2, 4, 8, 16, 0],
  "-": [0, 0, 0, 31, 0, 0, 0],
  ":": [0, 12, 12, 0, 12, 12, 0],
  "(": [2, 4, 8, 8, 8, 4, 2],
  ")": [8, 4, 2, 2, 2, 4, 8],
  "+": [0, 4, 4, 31, 4, 4, 0],
  "_": [0, 0, 0, 0, 0, 0, 31],
  "=": [0, 0, 31, 0, 31, 0, 0],
  "@": [14, 17, 23, 21, 23, 16, 15],
};
/** Drawn for a character the font lacks. */
const UNKNOWN = [31, 17, 17, 17, 17, 17, 31];

/** An RGB image. */
class Canvas {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;

  constructor(width: number, height: number, fill: Rgb) {
    this.width = width;
    this.height = height;
    this.pixels = new Uint8Array(width * height * 3);
    this.rect(0, 0, width, height, fill);
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(c, (y * this.width + x) * 3);
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.set(i, j, c);
  }

  /** A line two pixels thick. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + (x1 - x0) * s / steps;
      const y = y0 + (y1 - y0) * s / steps;
      this.set(x, y, c);
      this.set(x, y + 1, c);
    }
  }

  /** Text at a scale of `scale` pixels per font pixel; returns the width drawn. */
  text(x: number, y: number, s: string, c: Rgb, scale = 1): number {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const rows = FONT[ch] ?? UNKNOWN;
      rows.forEach((bits, row) => {
        for (let col = 0; col < 5; col++) {
          if (bits & (16 >> col)) this.rect(cx + col * scale, y + row * scale, scale, scale, c);
        }
      });
      cx += 6 * scale;
    }
    return cx - x;
  }
}

/** `value` in the panel's unit, short. */
export function formatValue(value: number, unit: string): string {
  const fixed = (
    v: number,
  ) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1));
  switch (unit) {
    case "bytes":
      return `${fixed(value / 2 ** 20)} MiB`;
    case "Bps":
      return `${fixed(value / 2 ** 20)} MiB/s`;
    case "percent":
      return `${fixed(value)}%`;
    case "percentunit":
      return `${fixed(value * 100)}%`;
    case "s":
      if (value === 0) return "0";
      if (Math.abs(value) < 1e-3) return `${fixed(value * 1e6)} us`;
      if (Math.abs(value) < 1) return `${fixed(value * 1e3)} ms`;
      return `${fixed(value)} s`;
    default:
      return fixed(value);
  }
}

/** HH:MM:SS of a Unix time, UTC. */
function clock(t: number): string {
  return new Date(t * 1000).toISOString().slice(11, 19);
}

/** A legend of at most `max` characters: the start and the end of a longer one. */
function shorten(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.floor((max - 2) / 3);
  return `${s.slice(0, head)}..${s.slice(s.length - (max - 2 - head))}`;
}

/** Draws one panel with its top-left corner at (x0, y0). */
function drawPanel(
  canvas: Canvas,
  x0: number,
  y0: number,
  panel: ChartPanel,
  range: readonly [number, number] | undefined,
): void {
  canvas.rect(x0, y0, PANEL_W, PANEL_H, PANEL);
  canvas.text(x0 + 12, y0 + 10, panel.title, TEXT, 2);
  const points = panel.series.flatMap((s) => s.points).filter(([, v]) => Number.isFinite(v));
  const legendRows = Math.min(panel.series.length, 4);
  const plot = { x: x0 + 84, y: y0 + 40, w: PANEL_W - 100, h: PANEL_H - 76 - legendRows * 12 };
  if (points.length === 0) {
    canvas.text(plot.x, plot.y + plot.h / 2, "No data", MUTED, 2);
    return;
  }
  const tMin = range?.[0] ?? Math.min(...points.map(([t]) => t));
  const tMax = Math.max(tMin + 1, range?.[1] ?? Math.max(...points.map(([t]) => t)));
  const vMin = Math.min(0, ...points.map(([, v]) => v));
  const vMax = Math.max(vMin + 1e-9, ...points.map(([, v]) => v)) * 1.05;
  const px = (t: number) => plot.x + (t - tMin) / (tMax - tMin) * plot.w;
  const py = (v: number) => plot.y + plot.h - (v - vMin) / (vMax - vMin) * plot.h;
  for (let i = 0; i <= 4; i++) {
    const v = vMin + (vMax - vMin) * i / 4;
    const y = Math.round(py(v));
    canvas.rect(plot.x, y, plot.w, 1, GRID);
    const label = formatValue(v, panel.unit);
    canvas.text(plot.x - 8 - label.length * 6, y - 3, label, MUTED);
  }
  for (let i = 0; i <= 3; i++) {
    const t = tMin + (tMax - tMin) * i / 3;
    canvas.text(Math.min(px(t) - 24, plot.x + plot.w - 48), plot.y + plot.h + 8, clock(t), MUTED);
  }
  panel.series.forEach((series, i) => {
    const color = PALETTE[i % PALETTE.length];
    let previous: [number, number] | undefined;
    let previousT = -Infinity;
    for (const [t, v] of series.points) {
      if (!Number.isFinite(v)) continue;
      const p: [number, number] = [px(t), py(v)];
      // A gap of more than 2 steps is a gap in the data, as Grafana draws it.
      if (previous && t - previousT <= 2) canvas.line(previous[0], previous[1], p[0], p[1], color);
      else canvas.set(p[0], p[1], color);
      previous = p;
      previousT = t;
    }
    if (i < legendRows) {
      const y = plot.y + plot.h + 24 + i * 12;
      canvas.rect(x0 + 16, y, 10, 7, color);
      const more = i === legendRows - 1 && panel.series.length > legendRows
        ? ` (+${panel.series.length - legendRows} more)`
        : "";
      canvas.text(x0 + 32, y, shorten(series.name, 90 - more.length) + more, TEXT);
    }
  });
}

/** The CRC-32 of PNG chunks. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A canvas as PNG bytes: 8-bit RGB, no filtering. */
function encodePng(canvas: Canvas): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, canvas.width);
  view.setUint32(4, canvas.height);
  header.set([8, 2, 0, 0, 0], 8);
  const stride = canvas.width * 3;
  const raw = new Uint8Array((stride + 1) * canvas.height);
  for (let y = 0; y < canvas.height; y++) {
    raw.set(canvas.pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw, { level: 9 }))),
    chunk("IEND", new Uint8Array()),
  ];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    png.set(p, at);
    at += p.length;
  }
  return png;
}

/**
 * The panels, two abreast, as a PNG; all over the time `range` (Unix seconds) when given, as on
 * a dashboard, or else each over the span of its own points.
 */
export function renderPanelsPng(
  panels: readonly ChartPanel[],
  range?: readonly [number, number],
): Uint8Array {
  const rows = Math.ceil(panels.length / COLUMNS);
  const canvas = new Canvas(
    COLUMNS * PANEL_W + (COLUMNS + 1) * GAP,
    rows * PANEL_H + (rows + 1) * GAP,
    BACKGROUND,
  );
  panels.forEach((panel, i) => {
    const x = GAP + (i % COLUMNS) * (PANEL_W + GAP);
    const y = GAP + Math.floor(i / COLUMNS) * (PANEL_H + GAP);
    drawPanel(canvas, x, y, panel, range);
  });
  return encodePng(canvas);
}
