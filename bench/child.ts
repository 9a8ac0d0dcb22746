// Runs one measurement in its own process: argv[2] is {moduleUrl, fn, args}; the result goes
// back over IPC with the process's peak resident memory.

const job = JSON.parse(process.argv[2]) as { moduleUrl: string; fn: string; args: unknown };
try {
  const mod = (await import(job.moduleUrl)) as Record<string, (args: unknown) => Promise<object>>;
  const value = await mod[job.fn](job.args);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.send!({ ok: true, value: { ...value, peakRssBytes } }, () => process.exit(0));
} catch (e) {
  process.send!({ ok: false, error: (e as Error).stack ?? String(e) }, () => process.exit(1));
}
