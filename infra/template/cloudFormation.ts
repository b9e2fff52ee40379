/** The little of CloudFormation's shape the compiler needs: resources, references and IAM statements. */

/** CloudFormation JSON is loosely typed by nature. */
export type Json = unknown;

export interface Resource {
  Type: string;
  Properties: Record<string, Json>;
}

/** Resources by logical ID. Insertion order is the order they appear in the template. */
export type Resources = Record<string, Resource>;

export interface Ref {
  Ref: string;
}

export interface GetAtt {
  'Fn::GetAtt': [string, string];
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

export const ref = (id: string): Ref => ({ Ref: id });

export const getAtt = (id: string, attribute: string): GetAtt => ({ 'Fn::GetAtt': [id, attribute] });
