#!/usr/bin/env node
// The CLI is TypeScript, run through tsx as the repository's scripts are: no build step.
require('tsx/cjs');
require('./main.ts').run(process.argv.slice(2));
