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
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = process.env.PAVE_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const PAGE_TIMEOUT_MS = 30_000; // loading one page
const AXE_TIMEOUT_MS = 60_000; // running axe on one page
const VNU_TIMEOUT_MS = 600_000; // the whole vnu run
const PAGES_AT_ONCE = 2; // pages checked side by side (the machines have 2 cores)
const SETUP_HINT = 'run scripts/setup-web (it installs Debian chromium, a Java runtime and tests/web/node_modules)';

// A failure of the harness itself, as opposed to a finding about the site.
class HarnessError extends Error {}

function parseArgs(argv) {
  const opts = { root: null, axe: [], json: false, bestPractice: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new HarnessError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--root') opts.root = path.resolve(value());
    else if (arg === '--axe') opts.axe.push(value());
    else if (arg === '--json') opts.json = true;
    else if (arg === '--best-practice') opts.bestPractice = true;
    else throw new HarnessError(`unknown argument ${arg}\nusage: check.mjs --root <dir> [--axe <url-path> ...] [--best-practice] [--json]`);
  }
  if (!opts.root) throw new HarnessError('--root <dir> is required');
  if (!existsSync(opts.root) || !statSync(opts.root).isDirectory()) {
    throw new HarnessError(`--root ${opts.root} is not a directory`);
  }
  for (const p of opts.axe) {
    if (!p.startsWith('/')) throw new HarnessError(`--axe path must start with "/": ${p}`);
  }
  return opts;
}

// Loads an npm package from tests/web/node_modules, with a clear error if absent.
async function load(name) {
  try {
    return await import(name);
  } catch (e) {
    throw new HarnessError(`npm package ${name} is missing (${e.code || e.message}): ${SETUP_HINT}`);
  }
}

function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.html'))
    .map((d) => path.join(d.parentPath ?? d.path, d.name));
}

// ---------------------------------------------------------------- vnu

async function runVnu(root) {
  const vnuJar = String((await load('vnu-jar')).default);
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

// ---------------------------------------------------------- static server

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff2': 'font/woff2',
};

// Maps a URL path to a file under root: /x/ -> /x/index.html. Null if outside root.
function resolveFile(root, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.join(root, path.normalize(rel));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function startServer(root) {
  const server = createServer((req, res) => {
    const file = resolveFile(root, req.url);
    let stat = null;
    try {
      stat = file && statSync(file);
    } catch {}
    if (stat && stat.isDirectory()) {
      res.writeHead(301, { Location: req.url.split('?')[0] + '/' });
      return res.end();
    }
    if (!stat) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('not found');
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size });
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ----------------------------------------------------------------- axe

async function runAxe(root, paths, bestPractice) {
  const results = {};
  if (paths.length === 0) return results;
  if (!existsSync(CHROMIUM)) {
    throw new HarnessError(`Chromium not found at ${CHROMIUM}: ${SETUP_HINT} ` +
      '(or: apt-get install -y --no-install-recommends chromium)');
  }
  const { chromium } = await load('playwright-core');
  const axeSource = (await load('axe-core')).default.source;
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  if (bestPractice) tags.push('best-practice');

  let server = null;
  let browser = null;
  try {
    server = await startServer(root);
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      // launch() gives Chromium a fresh, empty --user-data-dir of its own.
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: PAGE_TIMEOUT_MS });
    } catch (e) {
      throw new HarnessError(`cannot start ${CHROMIUM}: ${e.message.split('\n')[0]}: ${SETUP_HINT}`);
    }
    // bypassCSP: the site's Content-Security-Policy must not block the injected axe.
    const context = await browser.newContext({ bypassCSP: true });
    for (const p of paths) results[p] = []; // keep the order of the arguments
    const queue = [...new Set(paths)];
    const worker = async () => {
      for (let p; (p = queue.shift()) !== undefined; ) {
        results[p] = await checkPage(context, base + p, axeSource, tags);
      }
    };
    await Promise.all(Array.from({ length: PAGES_AT_ONCE }, worker));
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
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
  const opts = parseArgs(process.argv.slice(2));
  // vnu (a Java process) and the browser run side by side.
  const [vnuErrors, axe] = await Promise.all([runVnu(opts.root), runAxe(opts.root, opts.axe, opts.bestPractice)]);
  const { text, ok } = report(opts.root, htmlFiles(opts.root).length, vnuErrors, axe, (Date.now() - started) / 1000);
  if (opts.json) {
    console.error(text);
    console.log(JSON.stringify({ vnu_errors: vnuErrors, axe }, null, 2));
  } else {
    console.log(text);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`check.mjs: harness failure: ${e instanceof HarnessError ? e.message : e.stack}`);
    process.exitCode = 2;
  },
);
