// The queue engine: `lvi run --queue` (submit.ts), `lvi worker` (worker.ts), queue state (status.ts).
export { maskSecrets, maskUrl, redisTarget, type RedisTarget } from './url.js';
export { runQueued, type QueueRunOptions, type QueueRunResult, type QueuedJob } from './submit.js';
export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { queueStatus, formatQueueStatus, type NodeQueueState } from './status.js';
export { QUEUE_NAME, QUEUE_PREFIX, queuedKinds, type JobData, type JobResult } from './jobs.js';
