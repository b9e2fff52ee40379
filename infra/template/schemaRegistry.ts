/** The published event contracts (events-schema/), in a registry of their own, so subscribers can find and bind them. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getAtt, type Resources } from './cloudFormation';
import type { Context } from './context';

const SCHEMA_DIR = path.resolve(__dirname, '../../events-schema');

/**
 * The EventBridge schema registry takes OpenAPI 3 or JSON Schema Draft 4; our contracts are
 * draft-07, and the only draft-07 keyword they use is `const`, which Draft 4 spells as a
 * one-value `enum`.
 */
export function toDraft4(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDraft4);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$id') continue;
    if (key === '$schema') out.$schema = 'http://json-schema.org/draft-04/schema#';
    else if (key === 'const') out.enum = [inner];
    else out[key] = toDraft4(inner);
  }
  return out;
}

export function schemaRegistry(ctx: Context): Resources {
  const registry = 'EventSchemaRegistry';
  const resources: Resources = {
    [registry]: {
      Type: 'AWS::EventSchemas::Registry',
      Properties: {
        RegistryName: `${ctx.service}-${ctx.stage}`,
        Description: 'Events of vectordb-catchup (events-schema/ in its repository)',
      },
    },
  };
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((name) => /^[A-Za-z]+\.v\d+\.json$/.test(name))
    .sort()) {
    const [eventName, version] = file.split('.');
    resources[`${eventName}${version.toUpperCase()}Schema`] = {
      Type: 'AWS::EventSchemas::Schema',
      Properties: {
        RegistryName: getAtt(registry, 'RegistryName'),
        SchemaName: `${ctx.service}@${eventName}`,
        Type: 'JSONSchemaDraft4',
        Description: `${eventName} ${version}`,
        Content: JSON.stringify(toDraft4(JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')))),
      },
    };
  }
  return resources;
}
