/**
 * monitoring/render_png.ts writes a PNG that decodes: signature, IHDR, CRCs, and pixels that
 * show each series in its palette colour where its points are.
 */
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { formatValue, PALETTE, renderPanelsPng } from "../../../monitoring/render_png.ts";

/** The chunks of a PNG, each CRC checked against node:zlib's crc32. */
function chunks(png: Uint8Array): Map<string, Uint8Array> {
  assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  const found = new Map<string, Uint8Array>();
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.slice(at + 4, at + 8));
    const crc = view.getUint32(at + 8 + length);
    assert.equal(crc, crc32(png.slice(at + 4, at + 8 + length)), `${type} CRC`);
    found.set(type, png.slice(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return found;
}

/** A bitwise CRC-32, independent of the renderer's table. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Width, height and the RGB rows (filter bytes removed) of an 8-bit RGB PNG. */
function decode(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const parts = chunks(png);
  const header = new DataView(parts.get("IHDR")!.buffer);
  const [width, height] = [header.getUint32(0), header.getUint32(4)];
  assert.deepEqual([...parts.get("IHDR")!.slice(8)], [8, 2, 0, 0, 0], "8-bit RGB");
  const raw = new Uint8Array(inflateSync(parts.get("IDAT")!));
  assert.equal(raw.length, (width * 3 + 1) * height);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 3 + 1)], 0, "filter type none");
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

/** How many pixels have colour `c`. */
function count(rgb: Uint8Array, c: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] === c[0] && rgb[i + 1] === c[1] && rgb[i + 2] === c[2]) n++;
  }
  return n;
}

Deno.test("render_png: two panels side by side, each series drawn in its colour", () => {
  const points = (v: (i: number) => number) =>
    Array.from({ length: 60 }, (_, i) => [1_700_000_000 + i, v(i)] as [number, number]);
  const png = renderPanelsPng([
    {
      title: "Memory against limit",
      unit: "bytes",
      series: [
        { name: "charged", points: points((i) => i * 2 ** 20) },
        { name: "limit", points: points(() => 64 * 2 ** 20) },
      ],
    },
    { title: "Nothing", unit: "s", series: [] },
  ]);
  const { width, height, rgb } = decode(png);
  assert.deepEqual([width, height], [2 * 640 + 3 * 8, 360 + 2 * 8]);
  // Both lines, and the legend swatches, in the first two colours; no third series.
  assert.ok(count(rgb, PALETTE[0]) > 200, "the rising line");
  assert.ok(count(rgb, PALETTE[1]) > 200, "the limit line");
  assert.equal(count(rgb, PALETTE[2]), 0);
  // The limit is flat: its pixels (legend swatch aside) lie on two rows.
  const rows = new Set<number>();
  for (let i = 0; i < rgb.length; i += 3) {
    const [x, y] = [(i / 3) % width, Math.floor(i / 3 / width)];
    if (x > 100 && x < 648 && rgb[i] === PALETTE[1][0] && rgb[i + 1] === PALETTE[1][1]) rows.add(y);
  }
  assert.equal(rows.size, 2, `rows ${[...rows]}`);
});

Deno.test("render_png: values are shown in the panel's unit", () => {
  assert.equal(formatValue(192 * 2 ** 20, "bytes"), "192 MiB");
  assert.equal(formatValue(1.5 * 2 ** 20, "Bps"), "1.5 MiB/s");
  assert.equal(formatValue(0.0012, "s"), "1.2 ms");
  assert.equal(formatValue(0.00005, "s"), "50 us");
  assert.equal(formatValue(420, "s"), "420 s");
  assert.equal(formatValue(87.5, "percent"), "87.5%");
  assert.equal(formatValue(0.25, "percentunit"), "25%");
  assert.equal(formatValue(3, "none"), "3");
});
