// Prints one closing line for both suites, and fails when either ran no test.
const fs = require('node:fs');

const [jestJson, pytestXml] = process.argv.slice(2);

function readJest(file) {
  if (!fs.existsSync(file)) return null;
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests + r.numRuntimeErrorTestSuites, skipped: r.numPendingTests + r.numTodoTests };
}

function readPytest(file) {
  if (!fs.existsSync(file)) return null;
  const xml = fs.readFileSync(file, 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const skipped = attr('skipped');
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - skipped - failed, failed, skipped };
}

const suites = { jest: readJest(jestJson), pytest: readPytest(pytestXml) };
let ok = true;
const total = { passed: 0, failed: 0, skipped: 0 };
for (const [name, s] of Object.entries(suites)) {
  if (!s || s.passed + s.failed === 0) {
    console.error(`${name} ran no test`);
    ok = false;
    continue;
  }
  console.log(`${name}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  for (const k of Object.keys(total)) total[k] += s[k];
  if (s.failed > 0) ok = false;
}
console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
