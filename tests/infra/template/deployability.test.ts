/**
 * Whether the package deploys and runs: no circular dependency, one bundle per function, the status function run from its zip.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators } from '../../../local/emulators';
import { createDynamoTaskRepository } from '../../../shared/adapters/dynamodb/taskRepository';
import { readFileSync } from 'node:fs';
import {
  allFunctions,
  asArray,
  consumers,
  type Json,
  ofType,
  OPTIONAL_SETTINGS,
  packaged,
  pascal,
  readZip,
  ROOT,
  type Template,
  usePackagedTemplate,
} from './helpers';

usePackagedTemplate();
const withoutReservations = usePackagedTemplate(OPTIONAL_SETTINGS);

describe('deployability', () => {
  /** Logical IDs a value refers to through Ref, GetAtt or Sub. */
  const references = (value: Json, into: Set<string>): Set<string> => {
    if (Array.isArray(value)) value.forEach((item) => references(item, into));
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Ref' && typeof inner === 'string') into.add(inner);
        else if (key === 'Fn::GetAtt') into.add((inner as string[])[0]);
        else if (key === 'Fn::Sub') {
          for (const match of String(asArray(inner)[0]).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) into.add(match[1]);
          references(asArray(inner).slice(1), into);
        } else references(inner, into);
      }
    }
    return into;
  };

  it('has no circular dependency between resources', () => {
    const ids = new Set(Object.keys(packaged().template.Resources));
    const edges = new Map(
      Object.entries(packaged().template.Resources).map(([id, r]) => [
        id,
        [...references(r.Properties ?? {}, new Set(asArray(r.DependsOn ?? [])))].filter((dep) => ids.has(dep)),
      ]),
    );
    const done = new Set<string>();
    const visit = (id: string, path: string[]) => {
      if (done.has(id)) return;
      if (path.includes(id)) throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
      for (const dep of edges.get(id)!) visit(dep, [...path, id]);
      done.add(id);
    };
    for (const id of ids) visit(id, []);
  });

  it('bundles each function alone, without node_modules and without a static import of @lancedb/lancedb', () => {
    const zips = readdirSync(packaged().packageDir).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(allFunctions.map(([name]) => `${name}.zip`).sort());
    for (const zip of zips) {
      const entries = readZip(join(packaged().packageDir, zip));
      expect([...entries.keys()].filter((path) => path.includes('node_modules/'))).toEqual([]);
      const staticImports = [...entries]
        .filter(([path, content]) => path.endsWith('.js') && /require\(["']@lancedb\/lancedb["']\)/.test(content))
        .map(([path]) => `${zip}:${path}`);
      expect(staticImports).toEqual([]);
    }
  });
});

describe('reserved concurrency, a stage setting', () => {
  /** Lambda keeps this much of the account's concurrency unreserved: a deploy reserving more fails. */
  const UNRESERVED_MINIMUM = 100;
  const reservations = (template: Template) =>
    Object.fromEntries(
      ofType('AWS::Lambda::Function', template)
        .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
        .map(([id, fn]) => [id, fn.Properties.ReservedConcurrentExecutions]),
    );
  const pollerCaps = (template: Template) =>
    Object.fromEntries(
      ofType('AWS::Lambda::EventSourceMapping', template).map(([, m]) => [
        m.Properties.FunctionName['Fn::GetAtt'][0],
        m.Properties.ScalingConfig,
      ]),
    );
  const wiredSum = consumers.reduce((sum, [, c]) => sum + c.reservedConcurrency, 0);

  it("reserves each consumer's wired concurrency by default, and nothing for the other functions", () => {
    const expected = Object.fromEntries(consumers.map(([name, c]) => [`${pascal(name)}LambdaFunction`, c.reservedConcurrency]));
    expect(reservations(packaged().template)).toEqual(expected);
  });

  it('reserves nothing with reservedConcurrency=off, the pollers still capped at their wired maximum concurrency (at least 2)', () => {
    const { template } = withoutReservations();
    expect(reservations(template)).toEqual({});
    expect(pollerCaps(template)).toEqual(pollerCaps(packaged().template));
    for (const [name, c] of consumers) {
      expect(pollerCaps(template)[`${pascal(name)}LambdaFunction`]).toEqual({ MaximumConcurrency: c.maximumConcurrency });
      expect(c.maximumConcurrency).toBeGreaterThanOrEqual(2);
    }
  });

  it("README › Deploying names the account quota each setting needs: the wired reservations' sum + 100", () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const deploying = readme.slice(readme.indexOf('\n## Deploying'), readme.indexOf('\n## ', readme.indexOf('\n## Deploying') + 1));
    const sum = `${consumers.map(([, c]) => c.reservedConcurrency).join(' + ')} = ${wiredSum}`;
    expect(deploying).toContain(sum);
    expect(deploying).toContain(`at least **${wiredSum + UNRESERVED_MINIMUM}**`);
  });
});

describe('the packaged status function', () => {
  it('runs from its zip: middy, the AWS composition root and DynamoDB, against dynalite', async () => {
    const entries = readZip(join(packaged().packageDir, 'status.zip'));
    const bundleDir = mkdtempSync(join(tmpdir(), 'bundle-'));
    for (const [name, content] of entries) {
      mkdirSync(join(bundleDir, name, '..'), { recursive: true });
      writeFileSync(join(bundleDir, name), content);
    }
    const emulators = await startEmulators({
      dataDir: bundleDir,
      persist: false,
      region: 'us-east-1',
      tableName: 'bundle-tasks',
      bucketName: 'bundle-bucket',
      dynamoPort: 0,
      s3Port: 0,
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      DYNAMODB_TABLE_NAME: 'bundle-tasks',
      API_KEY: 'bundle-smoke-key-0123456789',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    delete process.env.SECRETS_ID;
    try {
      const request = { schemaVersion: 1 as const, taskId: 'bundled', source: { type: 's3_csv' as const, key: 'a.csv' } };
      await createDynamoTaskRepository(emulators.dynamo, 'bundle-tasks').create(
        { taskId: 'bundled', dataSource: 's3_csv', namespace: 'ns', request },
        new Date(),
      );
      // Node's own require: the bundle runs as Lambda would load it, outside jest's module system.
      const { handler } = createRequire(__filename)(join(bundleDir, 'services/api/status.js'));
      const invoke = (taskId: string, key?: string) =>
        handler(
          { httpMethod: 'GET', headers: key ? { 'x-api-key': key } : {}, queryStringParameters: { task_id: taskId }, body: null },
          { getRemainingTimeInMillis: () => 29000 },
        );
      const found = await invoke('bundled', 'bundle-smoke-key-0123456789');
      expect(found.statusCode).toBe(200);
      expect(JSON.parse(found.body)).toMatchObject({ task_id: 'bundled', status: 'PENDING', data_source: 's3_csv' });
      expect((await invoke('missing', 'bundle-smoke-key-0123456789')).statusCode).toBe(404);
      expect((await invoke('bundled')).statusCode).toBe(403);
    } finally {
      process.env = saved;
      await emulators.close();
      rmSync(bundleDir, { recursive: true, force: true });
    }
  });
});
