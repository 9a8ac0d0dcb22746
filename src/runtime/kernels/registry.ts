// One registry of node kernels keyed by plan-node kind. Kernels register from
// src/runtime/kernels/index.ts; tests may register their own kinds.

import type { NodeRunner } from '../runner.js';

const kernels = new Map<string, NodeRunner>();

/** Adds a kernel; a second kernel for the same kind replaces the first (tests rely on it). */
export function registerKernel(kernel: NodeRunner): void {
  kernels.set(kernel.kind, kernel);
}

export function getKernel(kind: string): NodeRunner | undefined {
  return kernels.get(kind);
}

/** Registered kinds, sorted. */
export function kernelKinds(): string[] {
  return [...kernels.keys()].sort();
}
