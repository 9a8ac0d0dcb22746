// Issue 9: a clone is the whole project. Nothing the repository runs (sources, tests, the
// benchmark, scripts, examples, CI) reads the development checkout's ../shared or an absolute
// path outside the clone; the data they need is under test/fixtures (each folder in its README's
// table, read through fixture()) or examples/. CI clones into a folder with no ../shared beside
// it only by accident of where it runs, so this is checked on the text itself.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

const CODE = /\.(ts|js|mjs|cjs|sh|lvi)$/;
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && f !== 'test/architecture/own-data.test.ts' && fs.existsSync(path.join(repoRoot, f)))
  .filter((f) => (CODE.test(f) && !f.startsWith('test/fixtures/')) || f === '.ci/run' || f === 'package.json');

/** The text without comments (a comment may say "never ../shared"), lines kept in place. */
function code(file: string, text: string): string {
  if (/\.(sh|lvi)$/.test(file) || file === '.ci/run') return text.replace(/(^|\s)#.*$/gm, '$1');
  if (file.endsWith('.json')) return text;
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

function offending(pattern: RegExp): string[] {
  const hits: string[] = [];
  for (const file of tracked) {
    const lines = code(file, fs.readFileSync(path.join(repoRoot, file), 'utf8')).split('\n');
    lines.forEach((l, i) => {
      if (pattern.test(l)) hits.push(`${file}:${i + 1}: ${l.trim()}`);
    });
  }
  return hits;
}

describe('the repository reads only its own files', () => {
  it('covers the code it should (sources, tests, bench, scripts, examples, CI)', () => {
    for (const must of ['src/cli/main.ts', 'test/helpers/paths.ts', 'bench/index.ts', 'scripts/ci-redis.sh', 'examples/quickstart.lvi', '.ci/run']) {
      expect(tracked).toContain(must);
    }
  });

  it('no path into ../shared (the development checkout\'s reference data)', () => {
    expect(offending(/(\.\.\/)+shared\b|\bshared\/(reference|data|reviews)\b|\/work\/shared\b|['"`]shared['"`]\s*,\s*['"`](reference|data)['"`]/)).toEqual([]);
  });

  it('no absolute path to data outside the clone', () => {
    expect(offending(/['"`]\/(work|home|data|mnt|srv|Users)\//)).toEqual([]);
  });

  it('every fixture folder is in test/fixtures/README.md with its source and licence', () => {
    const readme = fs.readFileSync(path.join(fixturesDir, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const entry of fs.readdirSync(fixturesDir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const row = rows.find((r) => r.startsWith(`| \`${entry.name}/\``));
      expect(row, `test/fixtures/${entry.name}/ has no row in test/fixtures/README.md`).toBeDefined();
      expect(row!.split('|').filter((c) => c.trim()).length, `${entry.name}: what, source, licence`).toBeGreaterThanOrEqual(4);
    }
  });
});
