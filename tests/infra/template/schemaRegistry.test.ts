/**
 * The event schema registry: every published contract, as Draft 4.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ofType, ROOT, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('event schema registry', () => {
  it('registers every published contract, as Draft 4 with the same constraints', () => {
    const schemas = ofType('AWS::EventSchemas::Schema');
    const files = readdirSync(join(ROOT, 'events-schema')).filter((name) => name.endsWith('.v1.json'));
    expect(schemas.map(([, r]) => r.Properties.SchemaName).sort()).toEqual(
      files.map((name) => `vectordb-catchup@${name.split('.')[0]}`).sort(),
    );
    for (const [, schema] of schemas) {
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const content = JSON.parse(schema.Properties.Content);
      expect(content.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(content.properties.schemaVersion).toEqual({ enum: [1] });
      expect(JSON.stringify(content)).not.toContain('"const"');
      expect(content.additionalProperties).toBe(false);
    }
    expect(ofType('AWS::EventSchemas::Registry')).toHaveLength(1);
  });
});
