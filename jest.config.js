// Tests are compiled by tsc with the rest of the project and run from dist/, so worker
// threads and child processes load the same JavaScript the CLI ships.
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/dist'],
  testMatch: ['**/*.test.js'],
  testEnvironment: '<rootDir>/dist/tests/support/hostRealmEnvironment.js',
  testTimeout: 120000,
  maxWorkers: 2,
};
