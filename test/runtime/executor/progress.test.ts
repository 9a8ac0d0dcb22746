// The progress clock (ETAs of the line and bar progress, node times, the run's total).
import { describe, expect, it } from 'vitest';
import { formatSeconds, lineProgress } from '../../../src/runtime/executor/progress.js';

/** Seconds back from a formatted time. */
function parse(t: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d)?)s)?$/.exec(t)!;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0);
}

describe('formatSeconds', () => {
  it('rounds before splitting: never 60 seconds or 60 minutes in a field', () => {
    expect(formatSeconds(119.6)).toBe('2m00s');
    expect(formatSeconds(59.6)).toBe('60s');
    expect(formatSeconds(89.6)).toBe('1m30s');
    expect(formatSeconds(9.96)).toBe('10s');
    expect(formatSeconds(9.94)).toBe('9.9s');
    expect(formatSeconds(5399.6)).toBe('1h30m');
    expect(formatSeconds(7199.9)).toBe('2h00m');
    expect(formatSeconds(NaN)).toBe('?');
    expect(formatSeconds(Infinity)).toBe('?');
  });

  it('every value from 0 to 6 hours: a well-formed time within half its last unit, never decreasing', () => {
    const bad: string[] = [];
    let last = -1;
    for (let s = 0; s < 6 * 3600; s += s < 200 ? 0.01 : 0.7) {
      const t = formatSeconds(s);
      const unit = t.endsWith('m') ? 60 : t.includes('.') ? 0.1 : 1;
      const back = /^(\d\.\ds|\d+s|[1-8]?\dm[0-5]\ds|\d+h[0-5]\dm)$/.test(t) ? parse(t) : NaN;
      if (!(Math.abs(back - s) <= unit / 2 + 1e-9 && back >= last)) bad.push(`${s} s shown as ${t}`);
      last = back;
    }
    expect(bad).toEqual([]);
  });

  it('line progress prints its ETA with it', () => {
    const lines: string[] = [];
    const node = lineProgress((l) => lines.push(l)).begin('lam e');
    node.update(1, 4);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ {2}lam e: 25% \(1\/4\), ETA (\d\.\ds|\d+s)$/);
  });
});
