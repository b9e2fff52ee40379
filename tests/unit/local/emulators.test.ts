/** Local mode's DynamoDB: a table kept under .local/ from before the dataset index is rebuilt with it, nothing lost. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { TASKS_TABLE_KEYS } from '../../../infra/tasksTable';
import { startEmulators, type EmulatorOptions } from '../../../local/emulators';

describe('startEmulators: the persisted task table', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'emulators-test-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const options = (): EmulatorOptions => ({
    dataDir,
    persist: true,
    region: 'us-east-1',
    tableName: 'old-tasks',
    bucketName: 'bucket-test',
    dynamoPort: 0,
    s3Port: 0,
  });

  it('rebuilds a table that lacks the dataset index, keeping every item', async () => {
    const first = await startEmulators(options());
    // The table as an older version created it: keys only.
    await first.dynamo.send(new DeleteTableCommand({ TableName: 'old-tasks' }));
    await waitUntilTableNotExists({ client: first.dynamo, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: 'old-tasks' });
    await first.dynamo.send(
      new CreateTableCommand({
        TableName: 'old-tasks',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilTableExists({ client: first.dynamo, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: 'old-tasks' });
    for (let i = 0; i < 60; i += 1) {
      await first.dynamo.send(
        new PutItemCommand({ TableName: 'old-tasks', Item: { pk: { S: `TASK#${i}` }, sk: { S: 'TASK' }, n: { N: String(i) } } }),
      );
    }
    await first.close();

    const second = await startEmulators(options());
    try {
      const { Table } = await second.dynamo.send(new DescribeTableCommand({ TableName: 'old-tasks' }));
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(
        TASKS_TABLE_KEYS.GlobalSecondaryIndexes.map((index) => index.IndexName).sort(),
      );
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toContain('dataset');
      const { Items } = await second.dynamo.send(new ScanCommand({ TableName: 'old-tasks' }));
      expect(Items?.map((item) => Number(item.n.N)).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    } finally {
      await second.close();
    }
  });
});
