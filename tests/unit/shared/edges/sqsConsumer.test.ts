/**
 * The SQS consumer edge's logs, through the real logger: every line of a message's handling, the
 * use case's included, names its message, event, task and chunk, even while the records of one
 * batch are handled at once; a failure SQS will retry is one WARN line without a stack, the last
 * attempt's an ERROR with it.
 */
import type { SQSEvent } from 'aws-lambda';
import { createEventConsumer } from '../../../../shared/edges/eventConsumer';
import { createLogger } from '../../../../shared/logger';
import type { ConsumerContext, Dependencies } from '../../../../shared/ports';
import { aChunkPlan } from '../../../helpers/fakes';

const MAX_RECEIVES = 3;

function chunkPlanned(messageId: string, eventId: string, chunkIndex: number, receiveCount = 1) {
  const detail = aChunkPlan({ chunkIndex, recordCount: 10, firstRecordNumber: 1, namespace: 'crm', dataSource: 'inline' });
  const body = JSON.stringify({ id: eventId, source: 'test', 'detail-type': 'ChunkPlanned', detail });
  return { messageId, body, attributes: { ApproximateReceiveCount: String(receiveCount) } };
}

/** The JSON lines the logger writes (info to stdout, warn and error to stderr) while `work` runs. */
async function capturedLines(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    written.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await work();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return written.flatMap((text) => text.split('\n').filter(Boolean)).map((line) => JSON.parse(line));
}

function consumerLoggingTwice(fail: (chunkIndex: number) => boolean) {
  const previous = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const logger = createLogger();
  process.env.POWERTOOLS_LOG_LEVEL = previous;
  const provide = async (): Promise<ConsumerContext> => ({
    deps: { logger } as unknown as Dependencies,
    maxReceiveCount: MAX_RECEIVES,
    deadLetters: { send: async () => undefined },
  });
  return createEventConsumer(
    {
      eventName: 'ChunkPlanned',
      handle: async (chunk, deps) => {
        deps.logger.info('chunk started');
        // The other record of the batch logs in between.
        await new Promise((resolve) => setImmediate(resolve));
        if (fail(chunk.chunkIndex)) throw new Error(`chunk ${chunk.chunkIndex} failed`);
        deps.logger.info('chunk done', { records: 10 });
      },
    },
    provide,
  );
}

describe('createSqsConsumer: log lines', () => {
  it('carry the message id, event id, task id and chunk index of the record they are about', async () => {
    const handler = consumerLoggingTwice(() => false);
    const event = { Records: [chunkPlanned('m-0', 'e-0', 0), chunkPlanned('m-1', 'e-1', 1)] } as unknown as SQSEvent;
    const lines = await capturedLines(() => handler(event, {} as never));

    expect(lines.map((line) => [line.message, line.chunk_index])).toEqual([
      ['chunk started', 0],
      ['chunk started', 1],
      ['chunk done', 0],
      ['chunk done', 1],
    ]);
    for (const line of lines) {
      const index = line.chunk_index as number;
      expect(line).toMatchObject({ task_id: 'task-1', message_id: `m-${index}`, event_id: `e-${index}` });
    }
    expect(lines[2].records).toBe(10);
  });

  it('are one WARN without a stack for a failure SQS will retry, an ERROR with it on the last attempt', async () => {
    const handler = consumerLoggingTwice(() => true);
    const event = { Records: [chunkPlanned('m-0', 'e-0', 0, 1), chunkPlanned('m-1', 'e-1', 1, MAX_RECEIVES)] } as unknown as SQSEvent;
    const lines = await capturedLines(() => handler(event, {} as never));

    const failures = lines.filter((line) => line.level !== 'INFO');
    expect(failures).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'message failed; SQS will retry it',
        chunk_index: 0,
        message_id: 'm-0',
        attempt: 1,
      }),
      expect.objectContaining({ level: 'ERROR', message: 'message failed on its last attempt', chunk_index: 1, message_id: 'm-1' }),
    ]);
    expect(failures[0].error).toBe('chunk 0 failed');
    expect(JSON.stringify(failures[0])).not.toMatch(/\n\s+at |stack/);
    expect(failures[1].error).toMatchObject({ message: 'chunk 1 failed', stack: expect.stringContaining('chunk 1 failed') });
  });

  it('name only the message id when its body is invalid, and no keys are left behind afterwards', async () => {
    const handler = consumerLoggingTwice(() => false);
    const event = { Records: [{ messageId: 'm-bad', body: 'not json', attributes: {} }] } as unknown as SQSEvent;
    const lines = await capturedLines(() => handler(event, {} as never));
    expect(lines).toEqual([expect.objectContaining({ level: 'ERROR', message_id: 'm-bad' })]);
    expect(lines[0]).not.toHaveProperty('task_id');

    const after = await capturedLines(async () => createLogger().error('outside any message'));
    expect(after).toHaveLength(1);
    expect(after[0]).not.toHaveProperty('message_id');
  });
});
