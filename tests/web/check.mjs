#!/usr/bin/env node
// Web quality harness for Pavé's generated site.
//
//   node tests/web/check.mjs --root <dir> [--axe <url-path> ...] [--best-practice] [--json]
//
// 1. Runs the Nu Html Checker (vnu.jar) over every .html file under <root>.
// 2. Serves <root> on 127.0.0.1, opens each --axe path in Debian's headless
//    Chromium and runs axe-core with the WCAG 2.0/2.1 A and AA rules
//    (--best-practice adds axe's best-practice rules: region, landmarks, h1).
//
// Exit status: 0 when there is no finding, 1 when there are findings,
// 2 when the harness itself cannot run (run scripts/setup-web first).
// With --json, stdout holds only {"vnu_errors": [...], "axe": {path: [...]}}
// and the readable report goes to stderr.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  PAGE_TIMEOUT_MS, PAGES_AT_ONCE, HarnessError, htmlFiles, inPool, launchChromium, load, parseArgs,
  printReport, requireChromium, runHarness, serveStatic, setupHint, stopServer,
} from './browser.mjs';

const AXE_TIMEOUT_MS = 60_000; // running axe on one page
const VNU_TIMEOUT_MS = 600_000; // the whole vnu run
const SETUP_HINT = setupHint('a Java runtime');
const USAGE = 'check.mjs --root <dir> [--axe <url-path> ...] [--best-practice] [--json]';

// ---------------------------------------------------------------- vnu

async function runVnu(root) {
  const vnuJar = String((await load('vnu-jar', SETUP_HINT)).default);
  const args = ['-jar', vnuJar, '--errors-only', '--format', 'json', '--stdout', '--skip-non-html', root];
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), VNU_TIMEOUT_MS);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new HarnessError(`cannot run java (${e.code || e.message}): ${SETUP_HINT}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new HarnessError(`vnu stopped by ${signal} (timeout ${VNU_TIMEOUT_MS / 1000} s?)`));
      else resolve({ code, stdout: out, stderr: err });
    });
  });
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new HarnessError(`vnu exited ${code} without a JSON report:\n${stderr}${stdout}`);
  }
  // --errors-only leaves errors, fatal errors and non-document errors (I/O).
  return report.messages
    .filter((m) => m.type !== 'info')
    .map((m) => ({
      file: m.url ? path.relative(root, fileURLToPath(m.url)) : null,
      line: m.lastLine ?? m.firstLine ?? null,
      column: m.firstColumn ?? m.lastColumn ?? null,
      message: m.message,
      extract: m.extract ?? null,
    }));
}

// ----------------------------------------------------------------- axe

async function runAxe(root, paths, bestPractice) {
  const results = {};
  if (paths.length === 0) return results;
  requireChromium(SETUP_HINT);
  const { chromium } = await load('playwright-core', SETUP_HINT);
  const axeSource = (await load('axe-core', SETUP_HINT)).default.source;
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  if (bestPractice) tags.push('best-practice');

  let server = null;
  let browser = null;
  try {
    server = await serveStatic(root, { types: { '.mjs': 'text/javascript; charset=utf-8' } });
    const base = `http://127.0.0.1:${server.address().port}`;
    browser = await launchChromium(chromium, SETUP_HINT);
    // bypassCSP: the site's Content-Security-Policy must not block the injected axe.
    const context = await browser.newContext({ bypassCSP: true });
    for (const p of paths) results[p] = []; // keep the order of the arguments
    await inPool(new Set(paths), PAGES_AT_ONCE, async (p) => {
      results[p] = await checkPage(context, base + p, axeSource, tags);
    });
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await stopServer(server);
  }
  return results;
}

// Loads one page and returns its axe violations. Load problems (HTTP errors,
// timeouts, missing stylesheets or images) are reported as violations too,
// with ids starting with "harness-", since they make the page unusable or the
// contrast checks meaningless.
async function checkPage(context, url, axeSource, tags) {
  const page = await context.newPage();
  const found = [];
  const problem = (id, help, targets = []) =>
    found.push({ id, impact: 'critical', help, nodes: targets.map((t) => [t]) });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.status() >= 400 && r.url() !== url && u.pathname !== '/favicon.ico') {
      problem('harness-broken-resource', `HTTP ${r.status()} for a resource of the page`, [u.pathname]);
    }
  });
  try {
    const response = await page.goto(url, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
    if (!response || !response.ok()) {
      problem('harness-page-load', `HTTP ${response ? response.status() : 'no response'} for the page`);
      return found;
    }
    await page.evaluate(axeSource);
    const run = page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      tags,
    );
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`axe took more than ${AXE_TIMEOUT_MS / 1000} s`)), AXE_TIMEOUT_MS);
    });
    const result = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
    for (const v of result.violations) {
      found.push({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) });
    }
  } catch (e) {
    problem('harness-page-load', e.message.split('\n')[0]);
  } finally {
    await page.close().catch(() => {});
  }
  return found;
}

// -------------------------------------------------------------- report

function report(root, fileCount, vnuErrors, axe, secs) {
  const lines = [];
  lines.push(`vnu: ${fileCount} HTML file(s) under ${root}, ${vnuErrors.length} error(s)`);
  for (const e of vnuErrors) lines.push(`  ${e.file ?? '?'}:${e.line ?? '?'}:${e.column ?? '?'}: ${e.message}`);
  const paths = Object.keys(axe);
  const total = paths.reduce((n, p) => n + axe[p].length, 0);
  lines.push(`axe: ${paths.length} page(s), ${total} violation(s)`);
  for (const p of paths) {
    if (axe[p].length === 0) continue;
    lines.push(`  ${p}`);
    for (const v of axe[p]) {
      const targets = v.nodes.map((t) => t.join(' ')).slice(0, 5).join(', ');
      const more = v.nodes.length > 5 ? ` and ${v.nodes.length - 5} more` : '';
      lines.push(`    [${v.impact}] ${v.id}: ${v.help}${targets ? ` (${targets}${more})` : ''}`);
    }
  }
  const ok = vnuErrors.length === 0 && total === 0;
  lines.push(`${ok ? 'PASS' : 'FAIL'} in ${secs.toFixed(1)} s`);
  return { text: lines.join('\n'), ok };
}

async function main() {
  const started = Date.now();
  const opts = parseArgs(process.argv.slice(2), {
    usage: USAGE,
    lists: { '--axe': 'axe' },
    switches: { '--json': 'json', '--best-practice': 'bestPractice' },
  });
  // vnu (a Java process) and the browser run side by side.
  const [vnuErrors, axe] = await Promise.all([runVnu(opts.root), runAxe(opts.root, opts.axe, opts.bestPractice)]);
  const { text, ok } = report(opts.root, htmlFiles(opts.root).length, vnuErrors, axe, (Date.now() - started) / 1000);
  printReport(opts.json, text, { vnu_errors: vnuErrors, axe });
  return ok ? 0 : 1;
}

runHarness('check.mjs', main);
