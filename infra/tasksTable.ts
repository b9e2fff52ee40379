/**
 * The tasks table's keys, defined once: serverless.yml declares the deployed table with them
 * (`${file(./infra/serverless-wiring.js):tasksTable.KeySchema}`, through infra/template/) and
 * local mode creates its table with them (local/emulators.ts). Task, chunk and content-hash items
 * all live in this one table under string keys pk (hash) and sk (range).
 */
import type { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb';

export const TASKS_TABLE_KEYS: { AttributeDefinitions: AttributeDefinition[]; KeySchema: KeySchemaElement[] } = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
};
