// Pictures as the LAM authors draw them: matplotlib's `seismic` colormap, nearest-neighbour
// upscaling, 50/50 blends truncated to 8 bits, cv2-style rectangles, side-by-side figures.
// Everything works on interleaved 8-bit RGB buffers (what PNG files hold).

/** An interleaved 8-bit RGB picture. */
export interface Rgb {
  width: number;
  height: number;
  data: Uint8Array;
}

// matplotlib's _seismic_data: five colours evenly spaced on 0..1.
const SEISMIC: [number, number, number][] = [
  [0.0, 0.0, 0.3],
  [0.0, 0.0, 1.0],
  [1.0, 1.0, 1.0],
  [1.0, 0.0, 0.0],
  [0.5, 0.0, 0.0],
];

let seismicLut: Float64Array | undefined;

/**
 * The 256-entry lookup table matplotlib builds for `seismic` (LinearSegmentedColormap.from_list
 * with N=256 and its _create_lookup_table), RGB per entry, float64 as matplotlib holds it.
 */
export function seismicTable(): Float64Array {
  if (seismicLut) return seismicLut;
  const n = 256;
  const stops = SEISMIC.length;
  // matplotlib >= 3.5 works in index units: stops at x * (N - 1), entries at (N - 1) * linspace.
  const xs = SEISMIC.map((_, i) => i * (1 / (stops - 1)) * (n - 1));
  const lut = new Float64Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const ys = SEISMIC.map((s) => s[c]);
    lut[c] = ys[0];
    lut[(n - 1) * 3 + c] = ys[stops - 1];
    for (let i = 1; i < n - 1; i++) {
      const x = (n - 1) * (i * (1 / (n - 1))); // (N - 1) * np.linspace(0, 1, N)
      // np.searchsorted(xs, x) (side='left'): first index with xs[j] >= x
      let j = 0;
      while (xs[j] < x) j++;
      const distance = (x - xs[j - 1]) / (xs[j] - xs[j - 1]);
      const v = distance * (ys[j] - ys[j - 1]) + ys[j - 1];
      lut[i * 3 + c] = Math.min(1, Math.max(0, v));
    }
  }
  seismicLut = lut;
  return lut;
}

/**
 * Colours a map in -1..1 as the LAM code does: `(255 * seismic(map * 0.5 + 0.5)).astype(uint8)`,
 * with matplotlib's float32 index arithmetic (floor(v * 256), clipped to the table).
 */
export function seismic(map: ArrayLike<number>, width: number, height: number): Rgb {
  if (map.length !== width * height) throw new Error(`seismic: ${map.length} values for ${width}x${height}`);
  const lut = seismicTable();
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < map.length; i++) {
    const v = Math.fround(Math.fround(map[i] * 0.5) + 0.5);
    let idx: number;
    if (Number.isNaN(v)) {
      data.fill(0, i * 3, i * 3 + 3); // matplotlib's 'bad' colour is transparent black
      continue;
    }
    idx = Math.floor(v * 256);
    if (idx >= 256) idx = 255;
    if (idx < 0) idx = 0;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.trunc(255 * lut[idx * 3 + c]);
  }
  return { width, height, data };
}

/** Nearest-neighbour upscaling by an integer factor (each pixel becomes a factor x factor block). */
export function upscaleNearest(img: Rgb, factor: number): Rgb {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upscaleNearest: factor ${factor}`);
  const width = img.width * factor;
  const height = img.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < width; x++) {
      const s = (sy * img.width + Math.floor(x / factor)) * 3;
      const d = (y * width + x) * 3;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data };
}

/** (1 - alpha) * a + alpha * b, truncated to 8 bits as the authors' `astype(np.uint8)` does. */
export function blend(a: Rgb, b: Rgb, alpha = 0.5): Rgb {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`blend: ${a.width}x${a.height} against ${b.width}x${b.height}`);
  }
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.trunc(a.data[i] * (1 - alpha) + b.data[i] * alpha);
  return { width: a.width, height: a.height, data };
}

/**
 * Outlines the window (x, y, w, h) as the authors' `cv2.rectangle((x, y), (x + w, y + h),
 * thickness=2)` does: a 2-pixel ring covering columns x-1, x, x+w, x+w+1 (and the same rows),
 * clipped to the picture. Draws in place and returns the picture.
 */
export function outline(img: Rgb, x: number, y: number, w: number, h: number, color: [number, number, number] = [255, 0, 0]): Rgb {
  const x0 = x - 1;
  const x1 = x + w + 1;
  const y0 = y - 1;
  const y1 = y + h + 1;
  for (let r = Math.max(0, y0); r <= Math.min(img.height - 1, y1); r++) {
    for (let q = Math.max(0, x0); q <= Math.min(img.width - 1, x1); q++) {
      const inner = r > y && r < y + h && q > x && q < x + w;
      if (inner) continue;
      const d = (r * img.width + q) * 3;
      img.data[d] = color[0];
      img.data[d + 1] = color[1];
      img.data[d + 2] = color[2];
    }
  }
  return img;
}

/** Pictures side by side, tops aligned, separated by `gap` pixels of `background`. */
export function sideBySide(pictures: Rgb[], gap = 0, background = 255): Rgb {
  if (pictures.length === 0) throw new Error('sideBySide: no pictures');
  const height = Math.max(...pictures.map((p) => p.height));
  const width = pictures.reduce((s, p) => s + p.width, 0) + gap * (pictures.length - 1);
  const data = new Uint8Array(width * height * 3).fill(background);
  let left = 0;
  for (const p of pictures) {
    for (let r = 0; r < p.height; r++) {
      data.set(p.data.subarray(r * p.width * 3, (r + 1) * p.width * 3), (r * width + left) * 3);
    }
    left += p.width + gap;
  }
  return { width, height, data };
}

/** A copy of a picture. */
export function clonePicture(img: Rgb): Rgb {
  return { width: img.width, height: img.height, data: img.data.slice() };
}
