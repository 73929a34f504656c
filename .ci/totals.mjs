// Sums the Vitest JSON reports of every tier into the one line CI reads.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "reports";
const firstLine = (text) =>
  String(text ?? "")
    .split("\n")[0]
    .slice(0, 300);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A suite that failed to load counts as a failure even though it ran no test.
  failed += report.testResults.filter(
    (r) => r.status === "failed" && r.assertionResults.length === 0,
  ).length;
  console.log(`${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
  // Name what failed, with the first line of its message: the totals are often all a CI record keeps.
  for (const suite of report.testResults) {
    const failures = suite.assertionResults.filter((a) => a.status === "failed");
    if (suite.status === "failed" && failures.length === 0) {
      console.log(`  FAILED to load ${suite.name}: ${firstLine(suite.message)}`);
    }
    for (const a of failures) {
      console.log(`  FAILED ${suite.name} > ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    }
    // A test that passed on its retry (the int tier allows one) still names its first failure.
    for (const a of suite.assertionResults) {
      if (a.status === "passed" && a.failureMessages?.length > 0)
        console.log(
          `  FLAKY (passed on retry) ${suite.name} > ${a.fullName}: ${firstLine(a.failureMessages[0])}`,
        );
    }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
