/**
 * A VPC deployment's endpoints (README › Deploying › VPC): functions in private subnets reach the
 * AWS services their code calls through VPC endpoints, one per service their roles name (the
 * statements Lambda itself uses on their behalf aside), so that a permission for a new service
 * brings its endpoint. S3 and DynamoDB get gateway endpoints (free, on the subnets' route
 * tables); the others interface endpoints with private DNS, behind a security group open on 443
 * to the functions' security groups. OpenAI, Pinecone and Metabase are not AWS services: the
 * subnets need a NAT (or Metabase inside the VPC) for them.
 */
import type { Json, Resource, Resources, Statement } from './cloudFormation';
import { ref } from './cloudFormation';
import { physicalName, type Context } from './context';
import { LAMBDA_SERVICE_STATEMENTS } from './iam';
import { vpcEndpointIds } from './ids';

/** The services with gateway endpoints; every other one gets an interface endpoint. */
const GATEWAY_SERVICES = ['s3', 'dynamodb'];

export function vpcEndpoints(ctx: Context, resources: Resources): Resources {
  const endpoints = ctx.vpc?.endpoints;
  if (!ctx.vpc || !endpoints) return {};
  const services = [...calledServices(resources)].sort();
  const out: Resources = {};
  const interfaceServices = services.filter((service) => !GATEWAY_SERVICES.includes(service));
  if (interfaceServices.length > 0) {
    out[vpcEndpointIds.securityGroup] = {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `${physicalName(ctx, 'endpoints')}: HTTPS from the functions to the AWS service endpoints`,
        VpcId: endpoints.vpcId,
        SecurityGroupIngress: ctx.vpc.securityGroupIds.map((group) => ({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: group,
          Description: `HTTPS from the functions' security group ${group}`,
        })),
      },
    };
  }
  for (const service of services) {
    const gateway = GATEWAY_SERVICES.includes(service);
    const properties: Record<string, Json> = {
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      VpcId: endpoints.vpcId,
      VpcEndpointType: gateway ? 'Gateway' : 'Interface',
      ...(gateway
        ? { RouteTableIds: endpoints.routeTableIds }
        : { SubnetIds: ctx.vpc.subnetIds, SecurityGroupIds: [ref(vpcEndpointIds.securityGroup)], PrivateDnsEnabled: true }),
    };
    out[vpcEndpointIds.endpoint(service)] = { Type: 'AWS::EC2::VPCEndpoint', Properties: properties };
  }
  return out;
}

/** The AWS services the functions' code calls: the service prefixes of their roles' actions. */
function calledServices(resources: Resources): Set<string> {
  const services = new Set<string>();
  for (const role of Object.values(resources).filter(isLambdaRole)) {
    for (const policy of role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) {
      for (const statement of policy.PolicyDocument.Statement) {
        if (statement.Sid && LAMBDA_SERVICE_STATEMENTS.includes(statement.Sid)) continue;
        for (const action of [statement.Action].flat()) services.add(action.split(':')[0]);
      }
    }
  }
  return services;
}

const isLambdaRole = (resource: Resource): boolean =>
  resource.Type === 'AWS::IAM::Role' && JSON.stringify(resource.Properties.AssumeRolePolicyDocument).includes('"lambda.amazonaws.com"');
