/**
 * The tasks table's keys, defined once: serverless.yml declares the deployed table with them
 * (`${file(./infra/serverless-wiring.js):tasksTable.KeySchema}`, through infra/template/) and
 * local mode creates its table with them (local/emulators.ts). Task, chunk and content-hash items
 * all live in this one table under string keys pk (hash) and sk (range). The `dataset` index
 * lists each dataset's fingerprints in id order (its keys are named by the adapter that writes
 * them), so that a full sync pages through a dataset without holding its ids; only fingerprint
 * items carry its keys, so nothing else is in it. The `byCreated` index lists task items newest
 * first (only they carry its keys), with what a task list shows.
 */
import type { AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { DATASET_INDEX } from '../shared/adapters/dynamodb/contentHashStore';
import { CREATED_INDEX } from '../shared/adapters/dynamodb/taskQueries';

export const TASKS_TABLE_KEYS: {
  AttributeDefinitions: AttributeDefinition[];
  KeySchema: KeySchemaElement[];
  GlobalSecondaryIndexes: GlobalSecondaryIndex[];
} = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: DATASET_INDEX.partitionKey, AttributeType: 'S' },
    { AttributeName: DATASET_INDEX.sortKey, AttributeType: 'S' },
    { AttributeName: CREATED_INDEX.partitionKey, AttributeType: 'S' },
    { AttributeName: CREATED_INDEX.sortKey, AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: DATASET_INDEX.name,
      KeySchema: [
        { AttributeName: DATASET_INDEX.partitionKey, KeyType: 'HASH' },
        { AttributeName: DATASET_INDEX.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DATASET_INDEX.projected] },
    },
    {
      IndexName: CREATED_INDEX.name,
      KeySchema: [
        { AttributeName: CREATED_INDEX.partitionKey, KeyType: 'HASH' },
        { AttributeName: CREATED_INDEX.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...CREATED_INDEX.projected] },
    },
  ],
};
