// Issue 8.9: a SIGKILLed run's .lvi/cache/.tmp/ folder is removed by a later run, even when its
// pid now belongs to another process (in a container the next lvi run often gets the same pid);
// a folder whose owner still runs is left alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROCESS_STARTED } from '../../../src/runtime/executor/cache.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { ownerMayRun, sweepStaleTemps } from '../../../src/runtime/executor/temps.js';
import { makePlan, removeTempStudies, tempStudy } from './helpers.js';

afterAll(removeTempStudies);

describe('temporary folders of killed runs', () => {
  it('a folder with this process\'s pid but another start time (a killed run whose pid was reused) is removed by the next run', async () => {
    const study = tempStudy('');
    const tmp = join(study.dir, '.lvi', 'cache', '.tmp');
    const killed = join(tmp, `abcdef0123456789-${process.pid}-${PROCESS_STARTED - 60_000}-0`);
    const live = join(tmp, `abcdef0123456789-${process.pid}-${PROCESS_STARTED}-7`);
    mkdirSync(join(killed, 'files'), { recursive: true });
    mkdirSync(join(live, 'files'), { recursive: true });
    await executePlan(makePlan(study, []), { progress: 'none' });
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(live)).toBe(true); // this process's own (a run in progress here)
  });

  it('a live process\'s folder stays; a dead pid\'s goes; a live pid that started after the folder was made is another process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const pid = child.pid!;
      const startedAt = Date.now() - 300;
      expect(ownerMayRun(`0123456789abcdef-${pid}-${startedAt}-0`, { pid: process.pid, started: PROCESS_STARTED })).toBe(true);
      expect(ownerMayRun(`0123456789abcdef-${pid}-${startedAt - 3_600_000}-0`, { pid: process.pid, started: PROCESS_STARTED })).toBe(false);
      expect(ownerMayRun('0123456789abcdef-999999999-1-0')).toBe(false);
      expect(ownerMayRun('not-a-temp-name')).toBe(true); // not lvi's: left alone
      const study = tempStudy('');
      const root = join(study.dir, 'cache');
      mkdirSync(join(root, '.tmp', `0123456789abcdef-${pid}-${startedAt}-0`), { recursive: true });
      mkdirSync(join(root, '.tmp', '0123456789abcdef-999999999-1-0'), { recursive: true });
      expect(await sweepStaleTemps(root)).toEqual(['0123456789abcdef-999999999-1-0']);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
