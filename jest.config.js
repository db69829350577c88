// Tests are compiled by tsc with the rest of the project and run from dist/, so worker
// threads and child processes load the same JavaScript the CLI ships.
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/dist'],
  testMatch: ['**/*.test.js'],
  testEnvironment: '<rootDir>/dist/tests/support/hostRealmEnvironment.js',
  testTimeout: 120000,
  maxWorkers: 2,
  // Every test file gets a fresh worker process (any heap exceeds this limit): native
  // modules keep process state a new module registry cannot reset, and GDAL datasets left
  // to the collector once their file's registry is gone crash the worker that runs the next
  // file. Test files leave 30-45 MB of heap, so a limit in megabytes replaced almost none.
  workerIdleMemoryLimit: '1KB',
};
