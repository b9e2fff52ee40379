/** The stage settings of the deployment's shape, checked when packaging: a wrong one fails there, naming the --param. */
import { readContext } from '../../../../infra/template/context';
import { readUsagePlan } from '../../../../infra/template/usagePlan';

const DEFAULTS: Record<string, string> = {
  'self:service': 'svc',
  'sls:stage': 'dev',
  'self:custom.bucketName': 'bucket',
  'self:custom.secretsId': 'svc/dev',
  'self:custom.reservedConcurrency': 'wiring',
  'self:custom.vpc.subnetIds': '',
  'self:custom.vpc.securityGroupIds': '',
  'self:custom.vpc.vpcId': '',
  'self:custom.vpc.routeTableIds': '',
  'self:custom.vpc.endpoints': 'create',
  'self:custom.apiLimits.rateLimit': '20',
  'self:custom.apiLimits.burstLimit': '40',
  'self:custom.apiLimits.quotaLimit': '100000',
  'self:custom.apiLimits.quotaPeriod': 'DAY',
};
const resolver = (settings: Record<string, string>) => async (variable: string) => ({ ...DEFAULTS, ...settings })[variable];
const context = (settings: Record<string, string> = {}) => readContext(resolver(settings));
const SUBNETS = 'subnet-0a1b2c3d4e5f60718, subnet-0b1c2d3e4f5061728';
const GROUPS = 'sg-0c1d2e3f405162738';
const inVpc = { 'self:custom.vpc.subnetIds': SUBNETS, 'self:custom.vpc.securityGroupIds': GROUPS };

describe('stage settings', () => {
  it('deploys outside a VPC, with the wired reservations, by default', async () => {
    expect(await context()).toMatchObject({ reservedConcurrency: 'wiring', vpc: undefined });
  });

  it('reads reservedConcurrency=off and refuses another value', async () => {
    expect((await context({ 'self:custom.reservedConcurrency': 'off' })).reservedConcurrency).toBe('off');
    await expect(context({ 'self:custom.reservedConcurrency': '0' })).rejects.toThrow(
      '--param reservedConcurrency must be one of wiring, off, got "0"',
    );
  });

  it('reads a VPC with its endpoints, or without them (vpcEndpoints=none)', async () => {
    const endpoints = { 'self:custom.vpc.vpcId': 'vpc-0e1f2031425364758', 'self:custom.vpc.routeTableIds': 'rtb-0f10213243546576a' };
    expect((await context({ ...inVpc, ...endpoints })).vpc).toEqual({
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1c2d3e4f5061728'],
      securityGroupIds: [GROUPS],
      endpoints: { vpcId: 'vpc-0e1f2031425364758', routeTableIds: ['rtb-0f10213243546576a'] },
    });
    expect((await context({ ...inVpc, 'self:custom.vpc.endpoints': 'none' })).vpc).toEqual({
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1c2d3e4f5061728'],
      securityGroupIds: [GROUPS],
    });
  });

  it.each([
    [{ 'self:custom.vpc.subnetIds': SUBNETS }, '--param vpcSecurityGroupIds: is required with vpcSubnetIds'],
    [{ 'self:custom.vpc.securityGroupIds': GROUPS }, '--param vpcSubnetIds: is required with vpcSecurityGroupIds'],
    [{ 'self:custom.vpc.vpcId': 'vpc-0e1f2031425364758' }, '--param vpcId: is for a VPC deployment'],
    [{ ...inVpc, 'self:custom.vpc.subnetIds': 'subnet-1' }, '--param vpcSubnetIds: "subnet-1" is not a subnet-… id'],
    [inVpc, '--param vpcId: the VPC of the subnets (vpc-…) is required to create its endpoints'],
    [{ ...inVpc, 'self:custom.vpc.vpcId': 'vpc-0e1f2031425364758' }, "--param vpcRouteTableIds: the subnets' route tables are required"],
    [{ ...inVpc, 'self:custom.vpc.endpoints': 'some' }, '--param vpcEndpoints: must be create or none, got "some"'],
    [
      { ...inVpc, 'self:custom.vpc.endpoints': 'none', 'self:custom.vpc.routeTableIds': 'rtb-0f10213243546576a' },
      '--param vpcRouteTableIds: is for the endpoints',
    ],
  ])('refuses an incomplete or malformed VPC: %j', async (settings, message) => {
    await expect(context(settings)).rejects.toThrow(message);
  });

  it('turns the API limits into numbers and refuses what API Gateway would', async () => {
    expect(await readUsagePlan(resolver({ 'self:custom.apiLimits.rateLimit': '0.5' }))).toEqual({
      throttle: { rateLimit: 0.5, burstLimit: 40 },
      quota: { limit: 100000, period: 'DAY' },
    });
    await expect(readUsagePlan(resolver({ 'self:custom.apiLimits.burstLimit': '1.5' }))).rejects.toThrow(
      '--param apiBurstLimit must be a whole number above 0',
    );
    await expect(readUsagePlan(resolver({ 'self:custom.apiLimits.quotaLimit': 'lots' }))).rejects.toThrow('--param apiQuotaLimit');
    await expect(readUsagePlan(resolver({ 'self:custom.apiLimits.quotaPeriod': 'YEAR' }))).rejects.toThrow('one of DAY, WEEK, MONTH');
  });
});
