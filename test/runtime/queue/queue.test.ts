// lvi run --queue and lvi worker for real: a redis-server started here on a free port, workers
// as child processes running the built `lvi worker`, the submitter as `lvi run --queue`. Each
// test uses its own Redis database and cache folder in one study folder, so output paths (which
// di.json records) are the same as the local reference run's.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileStudy } from '../../../src/compiler/index.js';
import { ResultCache } from '../../../src/runtime/executor/cache.js';
import { formatQueueStatus, queueStatus, redisTarget } from '../../../src/runtime/queue/index.js';
import { QUEUE_NAME, QUEUE_PREFIX } from '../../../src/runtime/queue/jobs.js';
import { differences, lamSweep, removeStudyFolders, runLvi, snapshot, spawnLvi, startWorker, stopWorker, studyFolder, waitFor, type LviProcess } from './helpers.js';
import { startRedis, type RedisUnderTest } from './redis.js';

let redis: RedisUnderTest;
let dir: string;
const workers: LviProcess[] = [];
const reference = new Map<string, Map<string, string>>();

const db = (n: number) => redis.url.replace(/\/0$/, `/${n}`);
const ranLines = (text: string) => text.split('\n').filter((l) => l.startsWith('ran     lam'));
const outOf = (study: string) => join(dir, 'out', study);

async function worker(url: string, extra: string[] = []): Promise<LviProcess> {
  const w = await startWorker(url, dir, extra);
  workers.push(w);
  return w;
}

async function localReference(study: string): Promise<void> {
  const r = await runLvi(['run', `${study}.lvi`, '--cache', `cache-local-${study}`], { cwd: dir });
  expect(r.code, r.output).toBe(r.output.includes('failed:') ? 1 : 0);
  reference.set(study, snapshot(outOf(study)));
  rmSync(outOf(study), { recursive: true, force: true });
}

/** Every entry of a cache folder is complete; no worker's private folder or temp is left. */
async function expectCleanCache(cacheDir: string): Promise<void> {
  const cache = new ResultCache(cacheDir);
  for (const name of readdirSync(cacheDir)) {
    if (name === '.workers') expect(readdirSync(join(cacheDir, name))).toEqual([]);
    else if (name === '.tmp') expect(readdirSync(join(cacheDir, name))).toEqual([]);
    else expect(await cache.read(name), `entry ${name}`).toBeDefined();
  }
}

beforeAll(async () => {
  redis = await startRedis();
  dir = studyFolder({
    'sweep.lvi': lamSweep('sweep', 6, 40),
    'long.lvi': lamSweep('long', 1, 400),
    'ctrlc.lvi': lamSweep('ctrlc', 3, 150),
    'small.lvi': lamSweep('small', 2, 5),
    'fail.lvi': [
      'study "fail" out="out/fail"',
      'model good file="fsrcnn.onnx" scale=4 range=1',
      'model bad file="bad.onnx" scale=4 range=1',
      'image cat file="cat.png"',
      'lam eye model=[good, bad] image=cat window=(48,88,16,16) steps=10',
      'table di rows=eye',
      '',
    ].join('\n'),
  });
  // Not an ONNX file: the model loader fails, in a worker as in a local run.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'bad.onnx'), Buffer.from('this is not a protobuf model, it is text of forty-odd bytes'));
  await localReference('sweep');
  await localReference('long');
}, 240_000);

afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  await redis?.stop();
  removeStudyFolders();
});

describe('lvi run --queue with lvi workers', () => {
  test('a sweep on two workers gives the local run\'s results byte for byte; a resubmit finds it all cached', async () => {
    const url = db(1);
    const [w1, w2] = [await worker(url), await worker(url)];
    const r = await runLvi(['run', 'sweep.lvi', '--queue', url, '--cache', 'cache-a'], { cwd: dir });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('6 queued, 0 already in the queue, 0 cached');
    expect(ranLines(r.output)).toHaveLength(6);
    expect(differences(snapshot(outOf('sweep')), reference.get('sweep')!)).toEqual([]);
    expect(existsSync(join(dir, 'sweep.lock.yaml'))).toBe(true);
    // Both workers took part.
    expect(ranLines(w1.output()).length).toBeGreaterThan(0);
    expect(ranLines(w2.output()).length).toBeGreaterThan(0);
    expect(ranLines(w1.output()).length + ranLines(w2.output()).length).toBe(6);
    await expectCleanCache(join(dir, 'cache-a'));

    const again = await runLvi(['run', 'sweep.lvi', '--queue', url, '--cache', 'cache-a'], { cwd: dir });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('0 queued, 0 already in the queue, 6 cached');
    expect(ranLines(w1.output()).length + ranLines(w2.output()).length).toBe(6);
    await Promise.all([stopWorker(w1), stopWorker(w2)]);
  });

  test('SIGKILL of a worker in the middle of a LAM node: another worker takes the job over, the result equals a local run\'s, no partial entry', async () => {
    const url = db(2);
    // A short lock so the test need not wait 30 s; long enough for LAM's longest synchronous
    // stretch (building the gradient graph, about 3 s on this machine).
    const a = await worker(url, ['--stalled-seconds', '6']);
    const queue = new Queue(QUEUE_NAME, { connection: redisTarget(url).options, prefix: QUEUE_PREFIX });
    try {
      const submitter = await spawnLvi(['run', 'long.lvi', '--queue', url, '--cache', 'cache-b'], { cwd: dir });
      await waitFor(
        async () => (await queue.getJobs(['active'])).some((j) => ((j.progress as { done?: number }).done ?? 0) >= 20),
        60_000,
        () => `no job got to step 20:\n${submitter.output()}\n${a.output()}`,
        submitter,
      );
      // The killed worker leaves its private folder (an unfinished entry) behind.
      expect(readdirSync(join(dir, 'cache-b', '.workers')).some((n) => n.startsWith(`${hostname()}-${a.child.pid}-`))).toBe(true);
      a.child.kill('SIGKILL');
      await a.exited;
      const b = await worker(url, ['--stalled-seconds', '6']);
      const code = await submitter.exited;
      expect(code, submitter.output()).toBe(0);
      expect(ranLines(a.output())).toHaveLength(0);
      expect(ranLines(b.output())).toHaveLength(1);
      expect(submitter.output()).toContain(`lam eye (window=16-16-16-16) (`);
      expect(submitter.output()).toMatch(new RegExp(`^(ran|cached) +lam eye \\(window=16-16-16-16\\) \\(.* on ${hostname()}-${b.child.pid}\\)$`, 'm'));
      expect(differences(snapshot(outOf('long')), reference.get('long')!)).toEqual([]);
      await expectCleanCache(join(dir, 'cache-b'));
      expect(readdirSync(join(dir, '.lvi', 'worker-out')).filter((n) => n.startsWith(`${hostname()}-${a.child.pid}-`))).toEqual([]);
      await stopWorker(b);
    } finally {
      await queue.close();
    }
  });

  test('Redis restarts during a sweep: submitter and workers reconnect and the sweep finishes', async () => {
    rmSync(outOf('sweep'), { recursive: true, force: true });
    const url = db(3);
    const [w1, w2] = [await worker(url), await worker(url)];
    const submitter = await spawnLvi(['run', 'sweep.lvi', '--queue', url, '--cache', 'cache-c'], { cwd: dir });
    await waitFor(() => ranLines(submitter.output()).length >= 1, 60_000, () => submitter.output(), submitter);
    await redis.restart(1500);
    const code = await submitter.exited;
    expect(code, `${submitter.output()}\n${w1.output()}\n${w2.output()}`).toBe(0);
    expect(ranLines(submitter.output())).toHaveLength(6);
    expect(differences(snapshot(outOf('sweep')), reference.get('sweep')!)).toEqual([]);
    await expectCleanCache(join(dir, 'cache-c'));
    await Promise.all([stopWorker(w1), stopWorker(w2)]);
  });

  test('a failing node (a bad model) fails with the local run\'s message and leaves the rest of the sweep intact', async () => {
    const local = await runLvi(['run', 'fail.lvi', '--cache', 'cache-local-fail'], { cwd: dir });
    expect(local.code, local.output).toBe(1);
    const good = snapshot(join(outOf('fail'), 'eye', 'model=good'));
    rmSync(outOf('fail'), { recursive: true, force: true });
    const problems = (text: string) => text.split('\n').filter((l) => / error: |^skipped /.test(l));
    expect(problems(local.output).length).toBe(3);

    const url = db(4);
    const w = await worker(url);
    const r = await runLvi(['run', 'fail.lvi', '--queue', url, '--cache', 'cache-d'], { cwd: dir });
    expect(r.code, r.output).toBe(1);
    expect(problems(r.output)).toEqual(problems(local.output));
    // The worker failed the job with the loader's message.
    expect(r.output).toMatch(/failed {2}lam eye \(model=bad\) on the queue: model:bad failed: .*not a valid ONNX file/);
    expect(differences(snapshot(join(outOf('fail'), 'eye', 'model=good')), good!)).toEqual([]);
    await stopWorker(w);
  });

  test('Ctrl-C of the submitter leaves the queue consistent; a resubmit reuses everything done', async () => {
    const url = db(5);
    const w = await worker(url);
    const submitter = await spawnLvi(['run', 'ctrlc.lvi', '--queue', url, '--cache', 'cache-e'], { cwd: dir });
    await waitFor(() => ranLines(submitter.output()).length >= 1, 60_000, () => submitter.output(), submitter);
    submitter.child.kill('SIGINT');
    expect(await submitter.exited, submitter.output()).toBe(130);
    expect(submitter.output()).toContain('interrupted: 2 job(s) stay in the queue');
    const queue = new Queue(QUEUE_NAME, { connection: redisTarget(url).options, prefix: QUEUE_PREFIX });
    try {
      const counts = await queue.getJobCounts('completed', 'active', 'waiting', 'failed', 'delayed', 'waiting-children');
      expect(counts.failed).toBe(0);
      expect(counts.completed + counts.active + counts.waiting).toBe(3);
      expect(counts.completed).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.close();
    }
    const again = await runLvi(['run', 'ctrlc.lvi', '--queue', url, '--cache', 'cache-e'], { cwd: dir });
    expect(again.code, again.output).toBe(0);
    // Nothing was queued twice or computed twice.
    expect(again.output).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+\/5: 0 queued, [0-2] already in the queue, [1-3] cached/);
    expect(ranLines(w.output())).toHaveLength(3);
    expect(readdirSync(join(outOf('ctrlc'), 'eye')).length).toBe(3);
    await stopWorker(w);
  });

  test('--detach submits and returns; the queue state per node reads waiting, then cached (a shared cache outside the study)', async () => {
    const url = db(6);
    const shared = mkdtempSync(join(tmpdir(), 'lvi-queue-shared-'));
    const r = await runLvi(['run', 'small.lvi', '--queue', url, '--detach', '--cache', shared], { cwd: dir });
    expect(r.code, r.output).toBe(0);
    expect(r.output.split('\n').filter((l) => l.startsWith('queued  lam eye'))).toHaveLength(2);
    expect(r.output).toContain('no lvi worker is connected to');
    const { plan } = compileStudy(join(dir, 'small.lvi'));
    const before = await queueStatus(plan!, redisTarget(url), shared);
    expect(before.map((s) => s.state)).toEqual(['waiting', 'waiting']);
    expect(formatQueueStatus(before)[0]).toMatch(/^waiting +lam eye \(window=16-16-16-16\)$/);
    const status = await runLvi(['status', 'small.lvi', '--queue', url, '--cache', shared], { cwd: dir });
    expect(status.code, status.output).toBe(0);
    expect(status.output).toMatch(/^ {2}waiting +lam eye \(window=16-16-16-16\)$/m);
    const w = await worker(url, ['--cache', shared]);
    const done = await runLvi(['run', 'small.lvi', '--queue', url, '--cache', shared], { cwd: dir });
    expect(done.code, done.output).toBe(0);
    expect(ranLines(w.output())).toHaveLength(2);
    const after = await queueStatus(plan!, redisTarget(url), shared);
    expect(after.map((s) => s.state)).toEqual(['cached', 'cached']);
    await expectCleanCache(shared);
    expect(readdirSync(join(dir, '.lvi', 'worker-out'))).toEqual([]);
    await stopWorker(w);
    rmSync(shared, { recursive: true, force: true });
  });
});

describe('passwords are never printed', () => {
  const secret = 'pw-s3cret-9';
  let locked: RedisUnderTest;
  beforeAll(async () => {
    locked = await startRedis({ password: secret });
  });
  afterAll(async () => {
    await locked?.stop();
  });

  test('worker and submitter (password in LVI_REDIS_URL) show the URL with *** only', async () => {
    const w = await worker(locked.url);
    expect(w.output()).toContain(`redis://:***@127.0.0.1:${locked.port}/0`);
    const r = await runLvi(['run', 'small.lvi', '--queue', '--cache', 'cache-pw'], { cwd: dir, env: { LVI_REDIS_URL: locked.url } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(':***@');
    await stopWorker(w);
    expect(w.output()).not.toContain(secret);
    expect(r.output).not.toContain(secret);
  });

  test('a bad URL is refused with the password masked', async () => {
    const r = await runLvi(['run', 'small.lvi', '--queue', `redis://:${secret}@127.0.0.1:${locked.port}/x`], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`'redis://:***@127.0.0.1:${locked.port}/x'`);
    expect(r.output).not.toContain(secret);
    const w = await runLvi(['worker', '--queue', `http://:${secret}@127.0.0.1/`], { cwd: dir });
    expect(w.code).toBe(1);
    expect(w.output).toContain('must start with redis:// or rediss://');
    expect(w.output).not.toContain(secret);
  });
});
