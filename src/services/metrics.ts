import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from './context.js';
import { queueHealth } from './queue-health.js';

/**
 * Prometheus metrics of this process. Counters and histograms count the work this process does
 * (each worker process its deliveries, each API process its requests, halts and quorums); the queue
 * gauges are read from Redis when scraped, so any process shows the whole deployment's queues.
 */
export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

export const messagesSent = new Counter({
  name: 'countersign_messages_total',
  help: 'Messages handed to SMTP by this process, by outcome (sent, failed, unknown, retry: a temporary failure put back to queued)',
  labelNames: ['outcome'],
  registers,
});

export const haltDuration = new Histogram({
  name: 'countersign_halt_duration_seconds',
  help: 'Time from a halt request to the commit that stops every start',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers,
});

export const timeToQuorum = new Histogram({
  name: 'countersign_time_to_quorum_seconds',
  help: 'Time from submit to the approval that completed the quorum',
  buckets: [60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400, 172_800],
  registers,
});

export const httpDuration = new Histogram({
  name: 'countersign_http_request_duration_seconds',
  help: 'HTTP requests by route template, method and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers,
});

const queueJobs = new Gauge({
  name: 'countersign_queue_jobs',
  help: 'Jobs per queue and state, read from Redis at scrape',
  labelNames: ['queue', 'state'],
  registers,
});
const oldestWaiting = new Gauge({
  name: 'countersign_queue_oldest_waiting_seconds',
  help: 'Age of the oldest job waiting for a worker (0 when none waits), read from Redis at scrape',
  labelNames: ['queue'],
  registers,
});

/** The exposition text, with the queue gauges read now. */
export async function metricsText(ctx: Pick<AppContext, 'queues'>): Promise<{ contentType: string; body: string }> {
  for (const queue of await queueHealth(ctx)) {
    for (const [state, count] of Object.entries(queue.counts)) queueJobs.set({ queue: queue.name, state }, count);
    oldestWaiting.set({ queue: queue.name }, queue.oldestWaitingSeconds);
  }
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
