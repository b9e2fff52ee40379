import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectEmulators, startEmulators, type Emulators, type S3Notification } from '../../../local/emulators';
import { localEnvironment, startLocalRuntime } from '../../../local/runtime';
import { loadConfig } from '../../../shared/config';

describe('startLocalRuntime with emulators started elsewhere (the benchmark)', () => {
  const env = { PATH: process.env.PATH, API_KEY: 'runtime-test-key' };
  const { region, tableName, bucketName } = loadConfig(localEnvironment(env));
  let dataDir: string;
  let elsewhere: Emulators;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'vectordb-catchup-runtime-'));
    elsewhere = await startEmulators({ dataDir, persist: false, region, tableName, bucketName, dynamoPort: 0, s3Port: 0 });
  });
  afterEach(async () => {
    await elsewhere.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses them instead of starting its own, subscribes to their notifications, and closes them on stop', async () => {
    const listeners: ((notification: S3Notification) => void)[] = [];
    const close = jest.fn(async () => undefined);
    const emulators = connectEmulators({
      dynamoEndpoint: elsewhere.dynamoEndpoint,
      s3Endpoint: elsewhere.s3Endpoint,
      region,
      onObjectCreated: (listener) => listeners.push(listener),
      close,
    });

    const runtime = await startLocalRuntime({ dataDir, env, emulators });
    try {
      expect(runtime.emulators).toBe(emulators);
      expect(runtime.dynamoEndpoint).toBe(elsewhere.dynamoEndpoint);
      expect(runtime.s3Endpoint).toBe(elsewhere.s3Endpoint);
      // The ingest consumer listens for CSV uploads on the given emulators.
      expect(listeners).toHaveLength(1);
      // Tasks are read from the given DynamoDB.
      const response = await fetch(`${runtime.apiUrl}/status?task_id=missing`, { headers: { 'x-api-key': env.API_KEY } });
      expect(response.status).toBe(404);
    } finally {
      await runtime.stop();
    }
    expect(close).toHaveBeenCalledTimes(1);
  });
});
