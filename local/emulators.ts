/**
 * The AWS storage services of local mode: dynalite (DynamoDB) and s3rver (S3), real HTTP APIs
 * that the same AWS SDK adapters talk to, persisted under the data directory when one is given.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ScanCommand,
  type AttributeValue,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { TASKS_TABLE_KEYS } from '../infra/tasksTable';

// Both emulators are CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3Notification) => void): void;
}

/** What s3rver emits per object write: the S3 notification event shape. */
export interface S3Notification {
  Records: {
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  }[];
}

const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface Emulators {
  dynamoEndpoint: string;
  s3Endpoint: string;
  dynamo: DynamoDBClient;
  s3: S3Client;
  onObjectCreated(listener: (notification: S3Notification) => void): void;
  close(): Promise<void>;
}

/** Emulators listening somewhere (in this process or another): what a process needs to use them. */
export interface EmulatorConnection {
  dynamoEndpoint: string;
  s3Endpoint: string;
  region: string;
  /** Where s3rver's notifications come from: its emitter in this process, messages from another. */
  onObjectCreated(listener: (notification: S3Notification) => void): void;
  /** Stops the emulators themselves; the clients are destroyed first. */
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Where data persists; in memory (DynamoDB) and a temp folder (S3) when absent. */
  dataDir: string;
  persist: boolean;
  region: string;
  tableName: string;
  bucketName: string;
  dynamoPort: number;
  s3Port: number;
}

export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const dynamoServer = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.persist ? { path: ensureDir(options.dataDir, 'dynamodb') } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    dynamoServer.once('error', reject);
    dynamoServer.listen(options.dynamoPort, '127.0.0.1', () => resolve());
  });
  const dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;

  const s3Server = new S3rver({
    address: '127.0.0.1',
    port: options.s3Port,
    silent: true,
    directory: ensureDir(options.dataDir, 's3'),
    configureBuckets: [{ name: options.bucketName }],
  });
  const s3Address = await s3Server.run();
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  const emulators = connectEmulators({
    dynamoEndpoint,
    s3Endpoint,
    region: options.region,
    onObjectCreated: (listener) => s3Server.on('event', listener),
    async close() {
      await s3Server.close();
      await new Promise<void>((resolve) => dynamoServer.close(() => resolve()));
    },
  });
  await createTable(emulators.dynamo, options.tableName);
  return emulators;
}

/** The DynamoDB and S3 clients for emulators at these endpoints, wherever they were started. */
export function connectEmulators(connection: EmulatorConnection): Emulators {
  const { dynamoEndpoint, s3Endpoint, region } = connection;
  const dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, region, credentials: LOCAL_CREDENTIALS });
  // s3rver stores aws-chunked bodies (the SDK's default for streamed uploads with checksums) as
  // they are, chunk headers included: send plain bodies.
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    dynamoEndpoint,
    s3Endpoint,
    dynamo,
    s3,
    onObjectCreated: (listener) => connection.onObjectCreated(listener),
    async close() {
      dynamo.destroy();
      s3.destroy();
      await connection.close();
    },
  };
}

/**
 * The table serverless.yml declares, with the same keys and index (infra/tasksTable.ts). A table
 * kept under .local/ from before the dataset index existed is rebuilt with it, its items copied
 * over: dynalite cannot add an index to a table (its UpdateTable ignores one).
 */
async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  // dynalite makes a table ACTIVE in the background, even with createTableMs 0: a write before then finds no table.
  const create = async () => {
    await client.send(new CreateTableCommand({ TableName: tableName, ...TASKS_TABLE_KEYS, BillingMode: 'PAY_PER_REQUEST' }));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  };
  try {
    await create();
    return;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const wanted = TASKS_TABLE_KEYS.GlobalSecondaryIndexes.map((index) => index.IndexName);
  if (wanted.every((name) => Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === name))) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  // dynalite deletes in the background, even with deleteTableMs 0.
  await waitUntilTableNotExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  await create();
  for (let i = 0; i < items.length; i += 25) {
    const requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
  }
}

function ensureDir(...parts: string[]): string {
  const dir = path.join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
