// The table of backward rules, one per ONNX operator, assembled from one file per family.
// Each rule is tested against float64 finite differences (test/runtime/autodiff/ops.test.ts,
// and rules.test.ts checks that none lacks a case).

import { type Rule } from './common.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { indexingRules } from './indexing.js';
import { layoutRules } from './layout.js';
import { linalgRules } from './linalg.js';
import { poolRules } from './pool.js';
import { reduceRules } from './reduce.js';
import { resizeRules } from './resize.js';

export { GradientRuleError, type Grad, type Rule } from './common.js';

const families: Record<string, Record<string, Rule>> = {
  elementwise: elementwiseRules,
  conv: convRules,
  pool: poolRules,
  linalg: linalgRules,
  layout: layoutRules,
  indexing: indexingRules,
  resize: resizeRules,
  reduce: reduceRules,
};

function assemble(): Record<string, Rule> {
  const table: Record<string, Rule> = {};
  const owner = new Map<string, string>();
  for (const [family, rules] of Object.entries(families)) {
    for (const [op, rule] of Object.entries(rules)) {
      if (owner.has(op)) throw new Error(`gradient rule for ${op} defined twice (${owner.get(op)} and ${family})`);
      owner.set(op, family);
      table[op] = rule;
    }
  }
  return table;
}

export const rules: Record<string, Rule> = assemble();
