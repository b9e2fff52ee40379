'use strict';
/**
 * What serverless.yml includes from the wiring (`${file(./infra/serverless-wiring.js):functions}`
 * and the like). Serverless v3 loads `${file(...)}` sources with plain Node and reads only .js
 * files as code, so this shim loads the TypeScript compiler, infra/template/index.ts, through
 * tsx: its scoped CommonJS API compiles TypeScript for this require only (its hooks are
 * namespaced; nothing else serverless loads goes through them). tsx is a devDependency, as
 * serverless itself is.
 */
const template = require('tsx/cjs/api').require('./template/index.ts', __filename);

module.exports = {
  functions: template.functions,
  resources: template.resources,
  bucketNotification: template.bucketNotification,
  bucketDependsOn: template.bucketDependsOn,
  tasksTable: template.tasksTable,
  environment: template.environment,
  usagePlan: template.usagePlan,
};
