/**
 * What the compiler takes from serverless.yml rather than from the wiring, so that each is
 * defined in one place: the service, the stage, the bucket name and the secret's name, and the
 * stage settings of the deployment's shape (README › Deploying): reserved concurrency and an
 * optional VPC, checked here so that a wrong one fails `serverless package`, not the deploy.
 */

/** Serverless v3 passes this to a `${file(...)}` function: it resolves any variable of serverless.yml. */
export type ResolveVariable = (variable: string) => Promise<unknown>;

/**
 * `wiring`: each consumer reserves its wired reservedConcurrency. `off`: none reserves any, for
 * accounts whose concurrency quota cannot spare them; each poller's maximumConcurrency still caps it.
 */
export const RESERVED_CONCURRENCY = ['wiring', 'off'] as const;
export type ReservedConcurrency = (typeof RESERVED_CONCURRENCY)[number];

export interface VpcSettings {
  subnetIds: string[];
  securityGroupIds: string[];
  /** Where to create the endpoints of the AWS services the functions call; undefined: the VPC reaches them already. */
  endpoints?: { vpcId: string; routeTableIds: string[] };
}

export interface Context {
  service: string;
  stage: string;
  /** A name, or the CloudFormation expression serverless.yml builds one with. */
  bucketName: unknown;
  secretsId: string;
  reservedConcurrency: ReservedConcurrency;
  /** Undefined: the functions run outside any VPC (the default). */
  vpc?: VpcSettings;
}

export async function readContext(resolveVariable: ResolveVariable): Promise<Context> {
  const variables = [
    'self:service',
    'sls:stage',
    'self:custom.bucketName',
    'self:custom.secretsId',
    'self:custom.reservedConcurrency',
    ...VPC_SETTINGS.map((setting) => `self:custom.vpc.${setting}`),
  ];
  const [service, stage, bucketName, secretsId, reservedConcurrency, ...vpc] = await Promise.all(variables.map(resolveVariable));
  return {
    service: String(service),
    stage: String(stage),
    bucketName,
    secretsId: String(secretsId),
    reservedConcurrency: reservedConcurrencyOf(String(reservedConcurrency)),
    vpc: vpcSettings(Object.fromEntries(VPC_SETTINGS.map((setting, i) => [setting, String(vpc[i] ?? '')])) as RawVpcSettings),
  };
}

function reservedConcurrencyOf(value: string): ReservedConcurrency {
  if (!(RESERVED_CONCURRENCY as readonly string[]).includes(value))
    throw new Error(`--param reservedConcurrency must be one of ${RESERVED_CONCURRENCY.join(', ')}, got "${value}"`);
  return value as ReservedConcurrency;
}

/** serverless.yml's custom.vpc, each from the --param of the same name (README › Deploying). */
const VPC_SETTINGS = ['subnetIds', 'securityGroupIds', 'vpcId', 'routeTableIds', 'endpoints'] as const;
type RawVpcSettings = Record<(typeof VPC_SETTINGS)[number], string>;
const PARAM_OF: RawVpcSettings = {
  subnetIds: 'vpcSubnetIds',
  securityGroupIds: 'vpcSecurityGroupIds',
  vpcId: 'vpcId',
  routeTableIds: 'vpcRouteTableIds',
  endpoints: 'vpcEndpoints',
};

/** Off unless both subnets and security groups are given; then the endpoints need the VPC and its route tables, unless `none`. */
export function vpcSettings(raw: RawVpcSettings): VpcSettings | undefined {
  const fail = (setting: keyof RawVpcSettings, problem: string): never => {
    throw new Error(`--param ${PARAM_OF[setting]}: ${problem} (README › Deploying › VPC)`);
  };
  const ids = (setting: keyof RawVpcSettings, prefix: string): string[] => {
    const list = raw[setting]
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    for (const id of list) if (!new RegExp(`^${prefix}-[0-9a-f]{8,17}$`).test(id)) fail(setting, `"${id}" is not a ${prefix}-… id`);
    return list;
  };
  const subnetIds = ids('subnetIds', 'subnet');
  const securityGroupIds = ids('securityGroupIds', 'sg');
  const routeTableIds = ids('routeTableIds', 'rtb');
  const vpcId = raw.vpcId.trim();
  if (subnetIds.length === 0 && securityGroupIds.length === 0) {
    for (const setting of ['vpcId', 'routeTableIds'] as const)
      if (raw[setting].trim()) fail(setting, 'is for a VPC deployment: give vpcSubnetIds and vpcSecurityGroupIds too');
    return undefined;
  }
  if (subnetIds.length === 0) fail('subnetIds', 'is required with vpcSecurityGroupIds');
  if (securityGroupIds.length === 0) fail('securityGroupIds', 'is required with vpcSubnetIds');
  if (raw.endpoints === 'none') {
    for (const setting of ['vpcId', 'routeTableIds'] as const)
      if (raw[setting].trim()) fail(setting, 'is for the endpoints: leave it unset with vpcEndpoints=none');
    return { subnetIds, securityGroupIds };
  }
  if (raw.endpoints !== 'create') fail('endpoints', `must be create or none, got "${raw.endpoints}"`);
  if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId))
    fail('vpcId', `the VPC of the subnets (vpc-…) is required to create its endpoints, got "${vpcId}"`);
  if (routeTableIds.length === 0) fail('routeTableIds', "the subnets' route tables are required for the S3 and DynamoDB gateway endpoints");
  return { subnetIds, securityGroupIds, endpoints: { vpcId, routeTableIds } };
}

/** `vectordb-catchup-dev-planner`: the deployed name of a function, and of its queue, rule, alarms and machine. */
export const physicalName = (ctx: Context, name: string): string => `${ctx.service}-${ctx.stage}-${name}`;
