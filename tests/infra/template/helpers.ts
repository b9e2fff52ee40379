/**
 * What the template tests share: the packaged template (packaged once, see packaging.ts) and
 * expectations read from infra/wiring.yml directly, not through the compiler or its parser, so
 * that a compiler bug shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parse } from 'yaml';
import { packagedTemplate, ROOT, type Packaged, type StageParams } from './packaging';

export { CANARIES, ROOT, STAGE } from './packaging';

/**
 * A stage with every optional setting of the deployment's shape on (README › Deploying): a VPC
 * with its endpoints, no reserved concurrency, API limits of its own, catch-up schedules. The default stage has none.
 */
export const OPTIONAL_SETTINGS = {
  vpcSubnetIds: 'subnet-0a1b2c3d4e5f60718,subnet-0b1c2d3e4f5061728',
  vpcSecurityGroupIds: 'sg-0c1d2e3f405162738,sg-0d1e2f30415263748',
  vpcId: 'vpc-0e1f2031425364758',
  vpcRouteTableIds: 'rtb-0f10213243546576a,rtb-0a0b0c0d0e0f10111',
  reservedConcurrency: 'off',
  apiRateLimit: '7',
  apiBurstLimit: '9',
  apiQuotaLimit: '5000',
  apiQuotaPeriod: 'WEEK',
  catchupSchedule: 'cron(0 3 * * ? *)',
  catchupQuestionId: '42',
  catchupNamespace: 'crm',
  catchupSchedulesFile: 'tests/infra/template/fixtures/schedules.yml',
};
export const SERVICE = 'vectordb-catchup';

export const SECRET_SHAPES = [/\bsk-[A-Za-z0-9_-]{16,}/, /\bpcsk_[A-Za-z0-9_]{16,}/, /\bmb_[A-Za-z0-9_=+/-]{16,}/];

interface Trigger {
  events?: string[];
  internal?: boolean;
  s3?: { prefix: string; suffix: string };
  stateMachine?: string;
}
export interface FunctionWiring {
  handler: string;
  timeout: number;
  memorySize: number;
  permissions: string[];
}
interface ConsumerWiring extends FunctionWiring {
  trigger: Trigger;
  batchSize: number;
  reservedConcurrency: number;
  maximumConcurrency: number;
  maxReceiveCount: number;
}
interface HttpWiring extends FunctionWiring {
  routes: string[];
  apiKey?: boolean;
  files?: string[];
}
interface StateMachineWiring {
  definition: string;
  tasks: Record<string, FunctionWiring>;
}
interface Wiring {
  eventSource: string;
  consumers: Record<string, ConsumerWiring>;
  http: Record<string, HttpWiring>;
  stateMachines?: Record<string, StateMachineWiring>;
  scheduled?: Record<string, FunctionWiring & { schedule: string }>;
}

/** CloudFormation JSON is loosely typed by nature. */
export type Json = any;
export interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: string | string[];
}
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}
export interface Template {
  Resources: Record<string, Resource>;
}

export const wiring = parse(readFileSync(join(ROOT, 'infra/wiring.yml'), 'utf8')) as Wiring;
export const consumers = Object.entries(wiring.consumers);
export const httpFunctions = Object.entries(wiring.http);
export const stateMachines = Object.entries(wiring.stateMachines ?? {});
export const taskFunctions: [string, FunctionWiring][] = stateMachines.flatMap(([, machine]) => Object.entries(machine.tasks));
export const scheduledFunctions = Object.entries(wiring.scheduled ?? {});
export const allFunctions: [string, FunctionWiring][] = [...consumers, ...httpFunctions, ...taskFunctions, ...scheduledFunctions];

export const pascal = (name: string) => name[0].toUpperCase() + name.slice(1);
export const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

export type PackagedTemplate = Packaged & { template: Template };
let current: PackagedTemplate | undefined;

/**
 * In a test file's top level: loads the packaged template before its tests (packaging it if no
 * one has). Without params it is the default stage, which packaged() and the helpers below read;
 * with params, the returned function gives that stage's package.
 */
export function usePackagedTemplate(params: StageParams = {}): () => PackagedTemplate {
  let loaded: PackagedTemplate | undefined;
  beforeAll(async () => {
    const found = await packagedTemplate(params);
    loaded = { ...found, template: JSON.parse(found.templateText) };
    if (Object.keys(params).length === 0) current = loaded;
  }, 600_000);
  return () => {
    if (!loaded) throw new Error('the package is loaded in beforeAll: read it in a test');
    return loaded;
  };
}

/** The package of usePackagedTemplate: its directory, the template (parsed and as text) and the resolved state. */
export function packaged(): Packaged & { template: Template } {
  if (!current) throw new Error('call usePackagedTemplate() at the top of the test file');
  return current;
}

export const resource = (id: string, template: Template = packaged().template): Resource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in the template`);
  return found;
};
export const ofType = (type: string, template: Template = packaged().template) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);
export const roleStatements = (name: string): Statement[] =>
  resource(`${pascal(name)}ExecutionRole`).Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
export const actionsOf = (statements: Statement[]) => statements.flatMap((s) => asArray(s.Action));

/** Minimal reader for the zips serverless writes (stored or deflated entries). */
export function readZip(file: string): Map<string, string> {
  const zip = readFileSync(file);
  const entries = new Map<string, string>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const method = zip.readUInt16LE(offset + 10);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    entries.set(name, (method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
