// Restoration quality as the FAIG code and BasicSR measure it, on planar RGB images (C x H x W,
// values 0..1): PSNR on the clamped float output with a border cut, SSIM (Wang et al. 2004,
// BasicSR's calculate_ssim: 8-bit values, 11x11 Gaussian sigma 1.5, valid region, mean over the
// channels) and the FAIG authors' gradient metric.

export interface Planar {
  width: number;
  height: number;
  /** C x H x W, 0..1. */
  data: ArrayLike<number>;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

function sameSize(a: Planar, b: Planar, what: string): number {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) {
    throw new Error(`${what}: a ${a.width}x${a.height} image against a ${b.width}x${b.height} one`);
  }
  return a.data.length / (a.width * a.height);
}

/** 10 log10(1 / MSE): `output` clamped to [0, 1], every channel, `border` pixels cut from each side. */
export function psnrBorder(output: Planar, truth: Planar, border: number): number {
  const channels = sameSize(output, truth, 'psnr');
  const { width: w, height: h } = output;
  if (2 * border >= w || 2 * border >= h) throw new Error(`psnr: a border of ${border} leaves nothing of a ${w}x${h} image`);
  let se = 0;
  let n = 0;
  for (let c = 0; c < channels; c++) {
    for (let y = border; y < h - border; y++) {
      for (let x = border; x < w - border; x++) {
        const i = (c * h + y) * w + x;
        const d = clamp01(output.data[i]!) - (truth.data[i] as number);
        se += d * d;
        n++;
      }
    }
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/** numpy's round (half to even) of v * 255 after clamping: an 8-bit level. */
export function byteLevel(v: number): number {
  const x = clamp01(v) * 255;
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

function gaussian11(): Float64Array {
  const k = new Float64Array(11);
  let s = 0;
  for (let i = 0; i < 11; i++) s += k[i] = Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5));
  return k.map((v) => v / s);
}

/** SSIM of one 8-bit plane against another (valid 11x11 Gaussian windows), mean over the map. */
function ssimPlane(a: Float64Array, b: Float64Array, w: number, h: number): number {
  const g = gaussian11();
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  // Separable filtering of the five moments, valid region only.
  const filter = (src: Float64Array) => {
    const rows = new Float64Array((w - 10) * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w - 10; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += g[k]! * src[y * w + x + k]!;
      rows[y * (w - 10) + x] = s;
    }
    const out = new Float64Array((w - 10) * (h - 10));
    for (let y = 0; y < h - 10; y++) for (let x = 0; x < w - 10; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += g[k]! * rows[(y + k) * (w - 10) + x]!;
      out[y * (w - 10) + x] = s;
    }
    return out;
  };
  const mul = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]!);
  const mu1 = filter(a);
  const mu2 = filter(b);
  const s11 = filter(mul(a, a));
  const s22 = filter(mul(b, b));
  const s12 = filter(mul(a, b));
  let sum = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i]!;
    const m2 = mu2[i]!;
    const v1 = s11[i]! - m1 * m1;
    const v2 = s22[i]! - m2 * m2;
    const cov = s12[i]! - m1 * m2;
    sum += ((2 * m1 * m2 + c1) * (2 * cov + c2)) / ((m1 * m1 + m2 * m2 + c1) * (v1 + v2 + c2));
  }
  return sum / mu1.length;
}

/** SSIM on 8-bit levels, `border` cut, mean over the channels (BasicSR's calculate_ssim on RGB). */
export function ssim(output: Planar, truth: Planar, border: number): number {
  const channels = sameSize(output, truth, 'ssim');
  const w = output.width - 2 * border;
  const h = output.height - 2 * border;
  if (w < 11 || h < 11) throw new Error(`ssim: ${w}x${h} pixels after the border are fewer than its 11x11 window`);
  let total = 0;
  for (let c = 0; c < channels; c++) {
    const pa = new Float64Array(w * h);
    const pb = new Float64Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = (c * output.height + y + border) * output.width + x + border;
      pa[y * w + x] = byteLevel(output.data[i]!);
      pb[y * w + x] = byteLevel(truth.data[i]!);
    }
    total += ssimPlane(pa, pb, w, h);
  }
  return total / channels;
}

/**
 * The FAIG authors' gradient metric of an output against a reference output: on 8-bit levels
 * scaled to 0..1, g = sqrt(v^2 + h^2 + 1e-6) with central differences v = x[r+1,c] - x[r-1,c],
 * h = x[r,c+1] - x[r,c-1] (zero padding), then mean((g_a - g_b)^2) x 1000. Their script reads the
 * images with OpenCV and takes channel 0, which is BLUE: `channel` 2 of RGB by default.
 */
export function gradientMetric(output: Planar, reference: Planar, channel = 2): number {
  sameSize(output, reference, 'gradient metric');
  const { width: w, height: h } = output;
  const grad = (img: Planar) => {
    const at = (y: number, x: number) => (y < 0 || y >= h || x < 0 || x >= w ? 0 : byteLevel(img.data[(channel * h + y) * w + x]!) / 255);
    const g = new Float64Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = at(y + 1, x) - at(y - 1, x);
      const hh = at(y, x + 1) - at(y, x - 1);
      g[y * w + x] = Math.sqrt(v * v + hh * hh + 1e-6);
    }
    return g;
  };
  const ga = grad(output);
  const gb = grad(reference);
  let s = 0;
  for (let i = 0; i < ga.length; i++) s += (ga[i]! - gb[i]!) ** 2;
  return (s / ga.length) * 1000;
}
