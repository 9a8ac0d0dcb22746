// The zoo's entries as plain data (no imports), so the language's catalogue can offer and check
// zoo ids without loading the importers. Resolution and conversion live in zoo.ts.

export interface ZooEntry {
  id: string;
  /** npm package that holds the model files. */
  package: string;
  /** model.json inside the package. */
  file: string;
  scale: number;
  /** The value range the network was trained on (its graph here is always 0..1). */
  range: 1 | 255;
  /** Whether the output is clipped to the range, as the network's own package does. */
  clip: boolean;
  description: string;
}

// Ranges: the UpscalerJS packages declare 0..255 for their 'rdn' architecture (esrgan-slim,
// -medium, default-model) and 0..1 for 'rrdn' (esrgan-thick). The idealo ISR models in
// @upscalerjs/models (RDN on DIV2K, psnr-small, the RRDN GAN) are fed x/255 by ISR, whose
// predict clips the output to 0..1. Measured (test/runtime/tfjs/zoo-range.test.ts, PSNR of
// the output against HR on natural-image crops, declared range vs the other one): rdn/x4
// 24.50 vs 21.48 dB, rdn/x3 26.16 vs 23.70, rrdn/x4 26.53 vs 21.68, rdn-psnr-small/x2 31.45
// vs 30.35, so these are 0..1 whatever their JS wrapper feeds them. The ESRGANs are nearly
// range-invariant (|difference| < 0.5 dB, ReLU nets with tiny biases) and keep the
// package's declaration; rdn/x2 is image-dependent and follows its x3/x4 siblings.
const ESRGAN: { name: string; range: 1 | 255; arch: string }[] = [
  { name: 'esrgan-slim', range: 255, arch: 'RDN C1 D2 G4 G0 64' },
  { name: 'esrgan-medium', range: 255, arch: 'RDN C1 D10 G64 G0 64' },
  { name: 'esrgan-thick', range: 1, arch: 'RRDN C4 D3 G32 G0 64' },
];

export const ZOO: ZooEntry[] = [
  ...ESRGAN.flatMap(({ name, range, arch }) =>
    [2, 3, 4, 8].map((scale) => ({
      id: `${name}/x${scale}`,
      package: `@upscalerjs/${name}`,
      file: `models/x${scale}/model.json`,
      scale,
      range,
      clip: false,
      description: `UpscalerJS ESRGAN ${name.slice(7)} x${scale} (${arch}, DIV2K)`,
    })),
  ),
  {
    id: 'default-model',
    package: '@upscalerjs/default-model',
    file: 'models/model.json',
    scale: 2,
    range: 255,
    clip: false,
    description: "UpscalerJS's default model, x2 (the same weights as esrgan-slim/x2)",
  },
  ...(
    [
      [2, '005-2x'],
      [3, '019-3x'],
      [4, '017-4x'],
    ] as const
  ).map(([scale, dir]) => ({
    id: `rdn/x${scale}`,
    package: '@upscalerjs/models',
    file: `models/div2k/${dir}/model.json`,
    scale,
    range: 1 as const,
    clip: true,
    description: `idealo ISR RDN x${scale} trained on DIV2K (C3 D10 G64 G0 64, uint8-quantized)`,
  })),
  {
    id: 'rdn-psnr-small/x2',
    package: '@upscalerjs/models',
    file: 'models/idealo/psnr-small-quant-uint8/model.json',
    scale: 2,
    range: 1,
    clip: true,
    description: "idealo ISR's pretrained RDN 'psnr-small' x2 (uint8-quantized)",
  },
  {
    id: 'rrdn/x4',
    package: '@upscalerjs/models',
    file: 'models/idealo/gans/model.json',
    scale: 4,
    range: 1,
    clip: true,
    description: "idealo ISR's RRDN GAN x4 (perceptual, uint8-quantized)",
  },
];

/** A zoo id's entry, or undefined. */
export function findZooEntry(id: string): ZooEntry | undefined {
  return ZOO.find((e) => e.id === id);
}

/** A zoo model's scale: its entry's, else the id's `/xN` suffix ('rdn/x4' -> 4). */
export function zooScale(id: string): number | undefined {
  const entry = findZooEntry(id);
  if (entry) return entry.scale;
  const m = /\/x([0-9]+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}
