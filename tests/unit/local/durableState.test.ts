/** The durable state file of local mode: where it is, how it syncs, and one bus call as one transaction. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openDurableState, type DurableState } from '../../../local/durableState';
import { LocalEventBus } from '../../../local/eventBus';
import { LocalQueue } from '../../../local/sqs';

let dataDir: string;
let state: DurableState;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-durable-'));
  state = openDurableState(path.join(dataDir, 'nested'));
});
afterEach(() => {
  state.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('is one SQLite file in write-ahead-log mode under the data directory', () => {
  expect(state.file).toBe(path.join(dataDir, 'nested', 'runtime.sqlite'));
  const reader = new DatabaseSync(state.file, { readOnly: true });
  try {
    expect(reader.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
  } finally {
    reader.close();
  }
});

it('delivers a bus call to every target or, should one fail, to none', async () => {
  const bus = new LocalEventBus({ atomically: state.atomically });
  const queues = ['first', 'second'].map(
    (name) => new LocalQueue({ name, messageStore: (onVisible) => state.messageStore(name, onVisible) }),
  );
  bus.addRule('to-first', { 'detail-type': ['Ping'] }, queues[0]);
  bus.addRule('to-second', { 'detail-type': ['Ping'] }, queues[1]);
  let failing = true;
  bus.addRule(
    'flaky',
    { 'detail-type': ['Ping'] },
    {
      send: () => {
        if (failing) throw new Error('disk full');
      },
    },
  );

  const ping = (n: number) => ({ source: 'test', detailType: 'Ping', detail: { n } });
  await expect(bus.publish([ping(1), ping(2)])).rejects.toThrow('disk full');
  expect(queues.map((queue) => queue.messages().length)).toEqual([0, 0]);

  failing = false;
  await bus.publish([ping(1), ping(2)]);
  expect(queues.map((queue) => queue.messages().map((m) => JSON.parse(m.body).detail.n))).toEqual([
    [1, 2],
    [1, 2],
  ]);
});
