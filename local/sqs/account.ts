/** The account and default region in every local ARN: SQS's, EventBridge's and Lambda's alike. */
export const LOCAL_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
