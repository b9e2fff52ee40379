/** Tests are TypeScript transformed by SWC (fast, no type-check: `tsc --noEmit` runs first in `npm test`).
 * middy ships ES modules only, so it is transformed too. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  // middy's exports map offers only an `import` entry, which jest's CommonJS resolver skips.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/tests/helpers/summaryReporter.js'],
};
