/**
 * Makes the local runtime's embedder behave, for pacing, like separate Lambda instances: each
 * concurrent invocation of the embedder queue runs in a "slot" (0..concurrency-1, the lowest free
 * one, as warm instances are reused) with a pacer of its own, sharing no state with the others, as
 * on AWS; at most `concurrency` run at once (the wiring's maximum concurrency may be more). Local
 * mode itself gives its in-process consumers one shared pacer (they share memory); the benchmark
 * measures the deployed arrangement instead.
 *
 * It also times what the embedder's invocations wait for, by category, for "where the time goes",
 * and the process's CPU time while any of them runs (with one consumer: the embedder's CPU).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LocalRuntime } from '../local/runtime';
import type { SqsHandler } from '../local/sqs';
import type { RequestPacer } from '../shared/ports';

const slot = new AsyncLocalStorage<number>();

export interface Timings {
  /** Invocations of the embedder and their summed duration (ms) across consumers. */
  invocations: number;
  handlerMs: number;
  /** Summed time embedder invocations spent awaiting each kind of call (ms). */
  awaitedMs: Record<string, number>;
  /** CPU time of the process (user + system, ms) while at least one embedder invocation ran. */
  busyCpuMs: number;
}

/** Replaces the embedder queue's handler with one that runs each invocation in a consumer slot. */
export function emulateSeparateConsumers(
  runtime: LocalRuntime,
  concurrency: number,
  pacers: RequestPacer[],
  queueName = 'embedder',
): Timings {
  const queue = runtime.queues.get(queueName)?.queue;
  if (!queue) throw new Error(`no local queue "${queueName}"`);
  const timings: Timings = { invocations: 0, handlerMs: 0, awaitedMs: {}, busyCpuMs: 0 };
  const busy = new Array<boolean>(concurrency).fill(false);
  const waiting: (() => void)[] = [];
  let cpuSince: NodeJS.CpuUsage | undefined;
  queue.wrapHandler((original): SqsHandler => async (event, context) => {
    while (!busy.includes(false)) await new Promise<void>((resolve) => waiting.push(resolve));
    const index = busy.indexOf(false);
    busy[index] = true;
    cpuSince ??= process.cpuUsage();
    const started = performance.now();
    try {
      return await slot.run(index, () => original(event, context));
    } finally {
      busy[index] = false;
      timings.invocations += 1;
      timings.handlerMs += performance.now() - started;
      if (!busy.includes(true) && cpuSince) {
        const cpu = process.cpuUsage(cpuSince);
        timings.busyCpuMs += (cpu.user + cpu.system) / 1000;
        cpuSince = undefined;
      }
      waiting.shift()?.();
    }
  });
  const pacerOfSlot = (): RequestPacer => pacers[Math.min(slot.getStore() ?? 0, pacers.length - 1)];
  runtime.deps.pacer = {
    acquire: (tokens) => timed(timings, 'pacer wait', () => pacerOfSlot().acquire(tokens)),
    observe: (outcome) => pacerOfSlot().observe?.(outcome),
    requestTokenLimit: () => pacerOfSlot().requestTokenLimit?.() ?? Infinity,
  };
  timeCalls(timings, runtime.deps.embedder, 'OpenAI', ['embed']);
  timeCalls(timings, runtime.deps.vectors, 'Pinecone', ['upsert']);
  timeCalls(timings, runtime.deps.objects, 'S3 (open)', ['read', 'head']);
  timeCalls(timings, runtime.deps.tasks, 'DynamoDB tasks');
  timeCalls(timings, (runtime.deps as unknown as Record<string, object | undefined>).hashes, 'DynamoDB hashes');
  timeCalls(timings, runtime.deps.events, 'events');
  return timings;
}

async function timed<T>(timings: Timings, category: string, call: () => Promise<T>): Promise<T> {
  if (slot.getStore() === undefined) return call();
  const started = performance.now();
  try {
    return await call();
  } finally {
    timings.awaitedMs[category] = (timings.awaitedMs[category] ?? 0) + performance.now() - started;
  }
}

/** Wraps the object's methods (all, or the named ones) in place to time the calls made by embedder invocations. */
function timeCalls(timings: Timings, target: object | undefined, category: string, names?: string[]): void {
  if (!target) return;
  const record = target as Record<string, unknown>;
  for (const name of names ?? Object.keys(record)) {
    const method = record[name];
    if (typeof method !== 'function') continue;
    record[name] = (...args: unknown[]) =>
      timed(timings, category, () => Promise.resolve((method as (...a: unknown[]) => unknown).apply(target, args)));
  }
}

/** The current consumer slot (for wrappers that pace per consumer, like the baseline's). */
export function currentSlot(): number {
  return slot.getStore() ?? 0;
}
