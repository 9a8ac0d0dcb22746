// A worker reads jobs as untrusted data: the checks before it computes, on a real compiled plan,
// and the URL parsing and masking (no Redis needed here).

import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileStudy, lviVersion } from '../../../src/compiler/index.js';
import type { Plan } from '../../../src/compiler/plan.js';
import { effectiveKeys } from '../../../src/runtime/executor/cache.js';
import { topologicalOrder } from '../../../src/runtime/executor/graph.js';
import { checkJob } from '../../../src/runtime/queue/check.js';
import { JOB_FORMAT, queuedKinds, subPlan, type JobData } from '../../../src/runtime/queue/jobs.js';
import { maskSecrets, maskUrl, redisTarget } from '../../../src/runtime/queue/url.js';
import { loadRunners, type RunnerLookup } from '../../../src/runtime/runners.js';
import { fixture } from '../../helpers/paths.js';
import { lamSweep } from './helpers.js';

let dir: string;
let plan: Plan;
let kernels: RunnerLookup;
let job: JobData;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvi-queue-check-'));
  copyFileSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), join(dir, 'fsrcnn.onnx'));
  copyFileSync(fixture('lam', 'chelsea_256.png'), join(dir, 'cat.png'));
  writeFileSync(join(dir, 's.lvi'), lamSweep('s', 2, 5));
  const compiled = compileStudy(join(dir, 's.lvi'));
  plan = compiled.plan!;
  kernels = await loadRunners(plan.nodes.map((n) => n.kind));
  const lam = plan.nodes.find((n) => n.kind === 'lam')!;
  const keys = effectiveKeys(topologicalOrder(plan), plan, kernels);
  job = {
    format: JOB_FORMAT,
    lviVersion: lviVersion(),
    nodeId: lam.id,
    key: keys.get(lam.id)!,
    title: lam.id,
    studyDir: plan.studyDir,
    cacheDir: join(plan.studyDir, '.lvi', 'cache'),
    plan: subPlan(plan, lam.id),
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deep copy of the job with one change. */
function edited(change: (j: JobData) => void): JobData {
  const j = JSON.parse(JSON.stringify(job)) as JobData;
  change(j);
  return j;
}

const check = (data: unknown, cacheDir?: string) => checkJob(data, { lviVersion: lviVersion(), kernels, cacheDir });

describe('a worker checks each job before it computes', () => {
  test('the job of a compiled sweep passes; the sub-plan holds the node and what it needs only', async () => {
    const ok = await check(job);
    expect(ok.cacheDir).toBe(job.cacheDir);
    expect(job.plan.nodes.map((n) => n.kind).sort()).toEqual(['derive-lr', 'image', 'lam', 'model']);
    expect(queuedKinds().has('lam')).toBe(true);
    expect(queuedKinds().has('table')).toBe(false);
    expect(queuedKinds().has('model')).toBe(false);
  });

  test('an input file that changed since the submit is refused', async () => {
    const j = edited((x) => {
      const model = x.plan.nodes.find((n) => n.kind === 'model')!;
      const file = Object.keys(model.files)[0];
      model.files[file] = '0'.repeat(64);
    });
    await expect(check(j)).rejects.toThrow(/input file .*fsrcnn\.onnx differs from the one submitted/);
  });

  test('an input outside the study folder is refused, even with the right hash', async () => {
    const outside = fixture('lam', 'fsrcnn_chelsea', 'model.onnx');
    const j = edited((x) => {
      const model = x.plan.nodes.find((n) => n.kind === 'model')!;
      const [file, hash] = Object.entries(model.files)[0];
      delete model.files[file];
      model.files[outside] = hash;
      model.params.file = outside;
    });
    await expect(check(j)).rejects.toThrow(/is outside the study's folder/);
  });

  test('a path parameter outside the study folder is refused', async () => {
    const j = edited((x) => {
      x.plan.nodes.find((n) => n.kind === 'lam')!.params.extra = '/etc/passwd';
    });
    await expect(check(j)).rejects.toThrow(/extra='\/etc\/passwd' is outside the study's folder/);
  });

  test('a job id (key) that does not follow from its node and its dependencies is refused', async () => {
    await expect(check(edited((x) => (x.key = 'f'.repeat(64))))).rejects.toThrow(/the job's key does not match/);
    // A dependency swapped for another node changes the derived key too.
    const j = edited((x) => {
      const model = x.plan.nodes.find((n) => n.kind === 'model')!;
      model.key = '0'.repeat(64);
    });
    await expect(check(j)).rejects.toThrow(/the job's key does not match/);
  });

  test('another lvi version, another job format, an unknown kind, a cache outside the study', async () => {
    await expect(check(edited((x) => (x.lviVersion = '0.0.1')))).rejects.toThrow(/submitted by lvi 0\.0\.1; this worker runs lvi/);
    await expect(check(edited((x) => (x.format = 99)))).rejects.toThrow(/not an lvi job of format/);
    await expect(check({ hello: 'world' })).rejects.toThrow(/not an lvi job/);
    await expect(check(edited((x) => (x.plan.nodes.find((n) => n.kind === 'lam')!.kind = 'shell')))).rejects.toThrow(/no runner for 'shell' nodes/);
    await expect(check(edited((x) => (x.cacheDir = '/tmp/elsewhere')))).rejects.toThrow(/start the worker with --cache DIR/);
    // A worker's own --cache is where results go, whatever the job says.
    expect((await check(edited((x) => (x.cacheDir = '/tmp/elsewhere')), join(dir, 'shared'))).cacheDir).toBe(join(dir, 'shared'));
  });
});

describe('queue URLs', () => {
  test('redis:// and rediss:// with user, password and database', () => {
    const t = redisTarget('rediss://lab:p%40ss@redis.example.org:6380/3');
    expect(t.options).toMatchObject({ host: 'redis.example.org', port: 6380, db: 3, username: 'lab', password: 'p@ss' });
    expect(t.options.tls).toEqual({ servername: 'redis.example.org' });
    expect(t.shown).toBe('rediss://lab:***@redis.example.org:6380/3');
    const plain = redisTarget('redis://127.0.0.1');
    expect(plain.options).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(plain.options.tls).toBeUndefined();
  });

  test('LVI_REDIS_URL when --queue has no value; a clear error when neither is there', () => {
    expect(redisTarget(undefined, { LVI_REDIS_URL: 'redis://:pw@h:1/2' }).shown).toBe('redis://:***@h:1/2');
    expect(() => redisTarget(undefined, {})).toThrow(/give --queue redis:\/\/HOST:PORT\/DB or set LVI_REDIS_URL/);
    expect(() => redisTarget('redis://:pw@h/abc', {})).toThrow("the queue URL 'redis://:***@h/abc': 'abc' is not a database number");
    expect(() => redisTarget('http://u:pw@h/', {})).toThrow("the queue URL 'http://u:***@h/' must start with redis:// or rediss://");
  });

  test('masking: passwords in URLs inside any message, and the password itself', () => {
    expect(maskUrl('redis://token@h:1/0')).toBe('redis://***@h:1/0');
    const t = redisTarget('redis://:hunter2@h:1/0');
    expect(maskSecrets('connect to redis://:hunter2@h:1/0 failed: WRONGPASS hunter2', t)).toBe('connect to redis://:***@h:1/0 failed: WRONGPASS ***');
  });
});
