// A two-node plan for the kill test: `first` finishes; `hang` writes part of its files and then
// waits forever when LVI_TEST_HANG is set (the test kills that process), else finishes.
// Run as a script (through vite-node) it executes the plan in the study folder given.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../../src/compiler/plan.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import type { NodeRunner } from '../../../src/runtime/runner.js';
import { makePlan } from './helpers.js';

export const killKernels: NodeRunner[] = [
  {
    kind: 't-first',
    cache: true,
    async run({ runDir }) {
      writeFileSync(join(runDir, 'first.txt'), 'first\n');
      return { summary: { done: true }, files: ['first.txt'] };
    },
  },
  {
    kind: 't-hang',
    cache: true,
    async run({ plan, runDir }) {
      writeFileSync(join(runDir, 'part.txt'), 'half written');
      if (process.env.LVI_TEST_HANG) {
        writeFileSync(join(plan.studyDir, 'hang-started'), String(process.pid));
        await new Promise(() => undefined);
      }
      writeFileSync(join(runDir, 'part.txt'), 'whole');
      return { summary: { done: true }, files: ['part.txt'] };
    },
  },
];

export function killPlan(dir: string): Plan {
  return makePlan({ dir, file: join(dir, 'study.lvi') }, [
    { id: 'first', kind: 't-first', statement: 'first', line: 1 },
    { id: 'hang', kind: 't-hang', statement: 'hang', line: 2 },
  ]);
}

export function killKernel(kind: string): NodeRunner | undefined {
  return killKernels.find((k) => k.kind === kind);
}

if (process.argv[2] && process.env.LVI_TEST_HANG) {
  await executePlan(killPlan(process.argv[2]), { progress: 'none', kernels: killKernel });
}
