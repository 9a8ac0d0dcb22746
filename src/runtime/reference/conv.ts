// Direct (loop) float64 convolution, transposed convolution and pooling on NCHW tensors.
// Written for clarity and exactness; the inner loop runs along a contiguous output row.

import type { WindowGeometry } from '../graph/attrs.js';
import type { F64 } from './tensor.js';

export function conv2d(x: F64, w: F64, b: F64 | undefined, g: WindowGeometry, group: number): F64 {
  const [n, c, h, wd] = x.dims as [number, number, number, number];
  const [m, cg, kh, kw] = w.dims as [number, number, number, number];
  const [oh, ow] = g.out as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [pt, pl] = g.pads as [number, number];
  if (cg * group !== c) throw new Error(`Conv: input has ${c} channels, weight expects ${cg} x ${group} groups`);
  const mg = m / group;
  const out = new Float64Array(n * m * oh * ow);
  const X = x.data;
  const W = w.data;
  for (let bi = 0; bi < n; bi++) {
    for (let j = 0; j < group; j++) {
      for (let mo = 0; mo < mg; mo++) {
        const co = j * mg + mo;
        const obase = (bi * m + co) * oh * ow;
        if (b) out.fill(b.data[co]!, obase, obase + oh * ow);
        for (let ci = 0; ci < cg; ci++) {
          const xbase = (bi * c + j * cg + ci) * h * wd;
          const wbase = (co * cg + ci) * kh * kw;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const wv = W[wbase + ky * kw + kx]!;
              if (wv === 0) continue;
              const offx = kx * dw - pl;
              // ox range with 0 <= ox*sw + offx < wd
              const ox0 = Math.max(0, Math.ceil(-offx / sw));
              const ox1 = Math.min(ow, Math.floor((wd - 1 - offx) / sw) + 1);
              for (let oy = 0; oy < oh; oy++) {
                const iy = oy * sh + ky * dh - pt;
                if (iy < 0 || iy >= h) continue;
                const orow = obase + oy * ow;
                const irow = xbase + iy * wd + offx;
                if (sw === 1) for (let ox = ox0; ox < ox1; ox++) out[orow + ox]! += wv * X[irow + ox]!;
                else for (let ox = ox0; ox < ox1; ox++) out[orow + ox]! += wv * X[irow + ox * sw]!;
              }
            }
          }
        }
      }
    }
  }
  return { dtype: x.dtype, dims: [n, m, oh, ow], data: out };
}

export function convTranspose2d(x: F64, w: F64, b: F64 | undefined, g: WindowGeometry, group: number): F64 {
  const [n, c, h, wd] = x.dims as [number, number, number, number];
  const [, mg, kh, kw] = w.dims as [number, number, number, number];
  const m = mg * group;
  const cg = c / group;
  const [oh, ow] = g.out as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [pt, pl] = g.pads as [number, number];
  const out = new Float64Array(n * m * oh * ow);
  const X = x.data;
  const W = w.data;
  for (let bi = 0; bi < n; bi++) {
    if (b) for (let co = 0; co < m; co++) out.fill(b.data[co]!, (bi * m + co) * oh * ow, (bi * m + co + 1) * oh * ow);
    for (let j = 0; j < group; j++) {
      for (let ci = 0; ci < cg; ci++) {
        const cin = j * cg + ci;
        const xbase = (bi * c + cin) * h * wd;
        for (let mo = 0; mo < mg; mo++) {
          const co = j * mg + mo;
          const obase = (bi * m + co) * oh * ow;
          const wbase = (cin * mg + mo) * kh * kw;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const wv = W[wbase + ky * kw + kx]!;
              if (wv === 0) continue;
              for (let iy = 0; iy < h; iy++) {
                const oy = iy * sh + ky * dh - pt;
                if (oy < 0 || oy >= oh) continue;
                for (let ix = 0; ix < wd; ix++) {
                  const ox = ix * sw + kx * dw - pl;
                  if (ox < 0 || ox >= ow) continue;
                  out[obase + oy * ow + ox]! += wv * X[xbase + iy * wd + ix]!;
                }
              }
            }
          }
        }
      }
    }
  }
  return { dtype: x.dtype, dims: [n, m, oh, ow], data: out };
}

export function pool2d(x: F64, g: WindowGeometry, kind: 'max' | 'avg', countIncludePad: boolean): F64 {
  const [n, c, h, wd] = x.dims as [number, number, number, number];
  const [oh, ow] = g.out as [number, number];
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [pt, pl, pb, pr] = g.pads as [number, number, number, number];
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    const base = p * h * wd;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let cnt = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
            if (inside) {
              const v = x.data[base + iy * wd + ix]!;
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              cnt++;
            } else if (countIncludePad && iy >= -pt && iy < h + pb && ix >= -pl && ix < wd + pr) cnt++;
          }
        }
        out[(p * oh + oy) * ow + ox] = kind === 'max' ? acc : acc / cnt;
      }
    }
  }
  return { dtype: x.dtype, dims: [n, c, oh, ow], data: out };
}
