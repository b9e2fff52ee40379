/**
 * The benchmark's DynamoDB and S3 (dynalite, s3rver), in a child process of their own. dynalite
 * keeps every item in memory (a content hash per record: a million at a million rows), which on
 * AWS is no part of the pipeline's memory; in the pipeline's process it would count in its RSS.
 *
 * Started with fork(); its options come as JSON in argv[2]. Messages:
 *   → { type: 'ready', dynamoEndpoint, s3Endpoint }      once listening, the table and bucket made
 *   → { type: 'objectCreated', notification }            each s3rver notification, as it comes
 *   ← { type: 'stats' }  → { type: 'stats', stats }       this process's CPU and memory (EmulatorStats)
 *   ← { type: 'close' }, or the parent gone → exits once both are closed (S3's temp folder removed)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulators } from '../local/emulators';

export interface EmulatorProcessOptions {
  region: string;
  tableName: string;
  bucketName: string;
}

export interface EmulatorStats {
  /** This process's CPU time (user + system) in seconds, and its resident memory. */
  cpuSeconds: number;
  rssBytes: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorProcessOptions;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-bench-emulators-'));
  // However this process ends (closed, orphaned, failing to start), S3's folder goes with it.
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const emulators = await startEmulators({ ...options, dataDir, persist: false, dynamoPort: 0, s3Port: 0 });
  emulators.onObjectCreated((notification) => process.send?.({ type: 'objectCreated', notification }));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await emulators.close();
      process.exit(0);
    })());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      const cpu = process.cpuUsage();
      const stats: EmulatorStats = { cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() };
      process.send?.({ type: 'stats', stats });
    }
    if (message.type === 'close') void close();
  });
  process.on('disconnect', () => void close());
  process.send?.({ type: 'ready', dynamoEndpoint: emulators.dynamoEndpoint, s3Endpoint: emulators.s3Endpoint });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
