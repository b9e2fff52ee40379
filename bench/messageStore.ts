/**
 * What a durable queue costs per message: SendMessage, receive and delete on local mode's SQLite
 * store (WAL; synchronous FULL as npm start runs it, and NORMAL for comparison) beside the
 * in-memory one, with ChunkPlanned-sized bodies, sent, received and deleted one by one and in
 * batches of 10 (a PutEvents call of 10 events is one transaction; the embedder receives 1 at a
 * time, the aggregator 10). The database lives in BENCH_DIR
 * (default: the system's temp folder; put it on the disk .local/ is on).
 * `npx tsx bench/messageStore.ts` (MESSAGES=2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDurableState } from '../local/durableState';
import { newMessage } from '../local/sqs/message';
import { MemoryMessageStore, type MessageStore } from '../local/sqs/messageStore';

const MESSAGES = Number(process.env.MESSAGES ?? 2000);
const BODY = JSON.stringify({ detail: { taskId: 'bench', chunkIndex: 1, header: 'x'.repeat(400) } });

function perMessage(store: MessageStore, batch: number): { add_us: number; receive_us: number; delete_us: number } {
  const time = (run: () => void) => {
    const started = process.hrtime.bigint();
    run();
    return Number(process.hrtime.bigint() - started) / 1000 / MESSAGES;
  };
  const add_us = time(() => {
    for (let i = 0; i < MESSAGES; i += batch)
      store.atomically(() => {
        for (let j = i; j < Math.min(i + batch, MESSAGES); j += 1) store.add(newMessage('bench', BODY, { n: String(j) }));
      });
  });
  const received: ReturnType<MessageStore['receive']>[] = [];
  const receive_us = time(() => {
    while (store.waiting > 0) received.push(store.receive(batch, Date.now()));
  });
  const delete_us = time(() => received.forEach((messages) => store.delete(messages)));
  return { add_us: round(add_us), receive_us: round(receive_us), delete_us: round(delete_us) };
}

const round = (us: number) => Number(us.toFixed(us < 10 ? 2 : 0));

function main(): void {
  const results: Record<string, unknown>[] = [];
  for (const batch of [1, 10]) {
    results.push({ store: 'memory', batch, ...perMessage(new MemoryMessageStore(() => undefined), batch) });
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'queue-bench-'));
      const state = openDurableState(dir, { synchronous });
      try {
        results.push({
          store: `sqlite WAL synchronous=${synchronous}`,
          batch,
          ...perMessage(
            state.messageStore('bench', () => undefined),
            batch,
          ),
        });
      } finally {
        state.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`${MESSAGES} messages of ${Buffer.byteLength(BODY)} bytes, µs per message:`);
  console.table(results);
}

main();
