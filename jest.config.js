// Tests are compiled by tsc with the rest of the project and run from dist/, so worker
// threads and child processes load the same JavaScript the CLI ships.
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/dist'],
  testMatch: ['**/*.test.js'],
  testEnvironment: '<rootDir>/dist/tests/support/hostRealmEnvironment.js',
  testTimeout: 120000,
  maxWorkers: 2,
  // A worker is replaced after any test file that leaves it this large, in practice after
  // each: native modules keep process state a new module registry cannot reset, and GDAL
  // datasets left to the collector once their file's registry is gone crash the worker.
  workerIdleMemoryLimit: '256MB',
};
