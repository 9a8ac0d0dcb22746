// Progress of a run: one bar per running node with an ETA on a terminal (cli-progress), and
// one plain line per milestone elsewhere (logs, CI, --json), so piped output stays readable.

import cliProgress from 'cli-progress';

export interface NodeProgress {
  update(done: number, total: number, label?: string): void;
  /** The node's last line: its status, time and any note (the error for a failure). */
  end(line: string): void;
}

export interface ProgressSink {
  begin(title: string): NodeProgress;
  log(line: string): void;
  close(): void;
}

/** Plain lines: one as the work passes each quarter (with an ETA), one at the end. */
export function lineProgress(log: (line: string) => void): ProgressSink {
  return {
    log,
    begin(title) {
      const started = Date.now();
      let lastQuarter = 0;
      return {
        update(done, total, label) {
          if (!(total > 0)) return;
          const quarter = Math.floor((4 * Math.min(done, total)) / total);
          if (quarter <= lastQuarter || quarter >= 4) return;
          lastQuarter = quarter;
          const elapsed = (Date.now() - started) / 1000;
          const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
          log(`  ${title}: ${Math.floor((100 * done) / total)}% (${done}/${total}${label ? ` ${label}` : ''}), ETA ${formatSeconds(eta)}`);
        },
        end: log,
      };
    },
    close() {},
  };
}

/** Bars on a terminal stream; bars appear on a node's first progress report, so loaders stay quiet. */
export function barProgress(stream: NodeJS.WriteStream): ProgressSink {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: ' {bar} {percentage}% | ETA {eta_formatted} | {title} {label}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
      fps: 5,
      // cli-progress's own clock rounds the seconds after splitting off the minutes ("1m60s").
      formatTime: (t: number) => formatSeconds(t),
    },
    cliProgress.Presets.shades_classic,
  );
  let bars = 0;
  // cli-progress buffers log lines until its next redraw: flush at once, and write directly
  // (with the bars stopped, so the cursor comes back) when no bar is running.
  const log = (line: string) => {
    if (multi.isActive) {
      multi.log(line + '\n');
      multi.update();
    } else stream.write(line + '\n');
  };
  return {
    log,
    begin(title) {
      let bar: cliProgress.SingleBar | undefined;
      return {
        update(done, total, label) {
          if (!(total > 0)) return;
          if (!bar) {
            bar = multi.create(total, 0, { title, label: '' });
            bars++;
          }
          bar.setTotal(total);
          bar.update(Math.min(done, total), { title, label: label ?? '' });
        },
        end(line) {
          if (bar) {
            multi.remove(bar);
            bars--;
          }
          log(line);
          if (bars === 0 && multi.isActive) multi.stop();
        },
      };
    },
    close: () => {
      if (multi.isActive) multi.stop();
    },
  };
}

/** Seconds for people: 4.2s, 42s, 3m05s, 2h10m; '?' when unknown. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  // Rounded once, to the unit shown, before it is split: 119.6 s is 2m00s, never 1m60s.
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  if (whole < 90) return `${whole}s`;
  if (whole < 90 * 60) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
