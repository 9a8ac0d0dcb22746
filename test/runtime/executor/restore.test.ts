// A cached node still feeds its dependents: its runner rebuilds the value from the cached files
// (as a `mask` gives back its model, or `features` their arrays).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { executePlan } from '../../../src/runtime/executor/index.js';
import type { NodeRunner } from '../../../src/runtime/runner.js';
import { makePlan, removeTempStudies, tempStudy } from './helpers.js';

afterAll(removeTempStudies);

const maker: NodeRunner = {
  kind: 't-make',
  cache: true,
  async run({ runDir, node }) {
    writeFileSync(join(runDir, 'value.json'), JSON.stringify({ n: node.params.n }));
    return { value: { n: node.params.n as number }, summary: {}, files: ['value.json'] };
  },
  async restore(result) {
    return JSON.parse(readFileSync(join(result.dir!, 'value.json'), 'utf8')) as { n: number };
  },
};

const user: NodeRunner = {
  kind: 't-use',
  cache: true,
  async run({ deps, node }) {
    const v = deps.source.value as { n: number } | undefined;
    if (!v) throw new Error('no value from the source');
    return { summary: { doubled: v.n * 2, tag: node.params.tag }, files: [] };
  },
};

test('a cached runner with restore gives its value to a node that must rerun', async () => {
  const study = tempStudy('# restore\n');
  const kernels = (k: string) => ({ 't-make': maker, 't-use': user })[k];
  const plan = (tag: string) =>
    makePlan(study, [
      { id: 'make:a', kind: 't-make', statement: 'a', params: { n: 21 } },
      { id: 'use:b', kind: 't-use', statement: 'b', params: { tag }, deps: { source: 'make:a' } },
    ]);
  const first = await executePlan(plan('one'), { progress: 'none', kernels, lockFile: false });
  expect(first.nodes.map((n) => n.status)).toEqual(['ran', 'ran']);
  // The user changes; the maker comes from the cache and must still provide its value.
  const second = await executePlan(plan('two'), { progress: 'none', kernels, lockFile: false });
  expect(second.nodes.map((n) => [n.id, n.status])).toEqual([
    ['make:a', 'cached'],
    ['use:b', 'ran'],
  ]);
  expect(second.nodes[1].summary).toMatchObject({ doubled: 42, tag: 'two' });
});
