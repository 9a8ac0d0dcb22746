// Redis URLs for the queue: redis://[user:password@]host[:port][/db] and rediss:// (TLS).
// A password may come in the URL or in LVI_REDIS_URL; it is never printed: every message that
// names a URL goes through maskUrl, and errors from the client go through maskSecrets.

import type { RedisOptions } from 'bullmq';

export interface RedisTarget {
  /** The URL as given, for connecting only; never print it (use `shown`). */
  url: string;
  /** The URL with any password replaced by ***. */
  shown: string;
  options: RedisOptions;
}

/** The queue's URL: the --queue value, else LVI_REDIS_URL; a clear error when neither is set. */
export function redisTarget(given: string | undefined, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  const raw = given && given !== 'env' ? given : env.LVI_REDIS_URL;
  if (!raw) throw new Error('no queue URL: give --queue redis://HOST:PORT/DB or set LVI_REDIS_URL');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`the queue URL '${maskUrl(raw)}' is not a URL (expected redis://HOST:PORT/DB or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`the queue URL '${maskUrl(raw)}' must start with redis:// or rediss:// (TLS)`);
  }
  if (!u.hostname) throw new Error(`the queue URL '${maskUrl(raw)}' names no host`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`the queue URL '${maskUrl(raw)}': '${dbText}' is not a database number`);
  const port = u.port ? Number(u.port) : 6379;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    // BullMQ's workers block on Redis: they need retries forever, not a per-command limit.
    maxRetriesPerRequest: null,
    // Reconnect with a short back-off (a restarted Redis is back within seconds).
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
    tls: u.protocol === 'rediss:' ? { servername: host } : undefined,
  };
  return { url: raw, shown: maskUrl(raw), options };
}

/** redis://user:***@host:port/db — the password (or a lone user token) hidden, whatever the scheme. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon >= 0 ? `${scheme}${auth.slice(0, colon)}:***@` : `${scheme}***@`;
  });
}

/** A message with every redis URL's password and the given secrets replaced by ***. */
export function maskSecrets(text: string, target?: RedisTarget): string {
  let out = text.replace(/rediss?:\/\/[^\s'"]*/gi, (m) => maskUrl(m));
  const secret = target?.options.password;
  if (secret && secret.length >= 1) out = out.split(secret).join('***');
  return out;
}
