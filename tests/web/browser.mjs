// What the web harnesses of tests/web (check.mjs, xss.mjs) share: Debian's
// headless Chromium and how it is started, the npm packages of
// tests/web/node_modules, the command line (--root <dir> and the rest), the
// .html files of a site, a tiny static server on 127.0.0.1, a pool of pages
// checked side by side, and the exit status (2 for a failure of the harness).
//
// Not a script: each harness imports it.

import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

export const CHROMIUM = process.env.PAVE_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const PAGE_TIMEOUT_MS = 30_000; // loading one page
export const PAGES_AT_ONCE = 2; // pages checked side by side (the machines have 2 cores)

// A failure of the harness itself, as opposed to a finding about the site.
export class HarnessError extends Error {}

// What to do when a tool is missing, for a harness that needs Chromium, the
// npm packages and `also` (e.g. 'a Java runtime').
export function setupHint(...also) {
  return `run scripts/setup-web (it installs ${['Debian chromium', ...also].join(', ')} and tests/web/node_modules)`;
}

// Parses `--root <dir>` (required, an existing directory, made absolute),
// the repeatable URL-path options of `lists` ({flag: key}, each giving an
// array of paths that start with "/") and the switches of `switches`
// ({flag: key}, each false unless given).
export function parseArgs(argv, { usage, lists = {}, switches = {} }) {
  const opts = { root: null };
  for (const key of Object.values(lists)) opts[key] = [];
  for (const key of Object.values(switches)) opts[key] = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new HarnessError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--root') opts.root = path.resolve(value());
    else if (Object.hasOwn(lists, arg)) opts[lists[arg]].push(value());
    else if (Object.hasOwn(switches, arg)) opts[switches[arg]] = true;
    else throw new HarnessError(`unknown argument ${arg}\nusage: ${usage}`);
  }
  if (!opts.root) throw new HarnessError('--root <dir> is required');
  if (!existsSync(opts.root) || !statSync(opts.root).isDirectory()) {
    throw new HarnessError(`--root ${opts.root} is not a directory`);
  }
  for (const [flag, key] of Object.entries(lists)) {
    for (const p of opts[key]) {
      if (!p.startsWith('/')) throw new HarnessError(`${flag} path must start with "/": ${p}`);
    }
  }
  return opts;
}

// Runs a harness: main() resolves to the exit status (0 or 1); a failure of
// the harness itself is printed as such and exits 2.
export function runHarness(name, main) {
  main().then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`${name}: harness failure: ${e instanceof HarnessError ? e.message : e.stack}`);
      process.exitCode = 2;
    },
  );
}

// Prints the readable report on stdout, or with --json the report on stderr
// and only the JSON on stdout.
export function printReport(json, text, data) {
  if (json) {
    console.error(text);
    console.log(JSON.stringify(data, null, 2));
  } else {
    console.log(text);
  }
}

// Loads an npm package from tests/web/node_modules, with a clear error if absent.
export async function load(name, hint) {
  try {
    return await import(name);
  } catch (e) {
    throw new HarnessError(`npm package ${name} is missing (${e.code || e.message}): ${hint}`);
  }
}

// Every .html file under dir, as paths.
export function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.html'))
    .map((d) => path.join(d.parentPath ?? d.path, d.name));
}

// ------------------------------------------------------------ Chromium

// Fails with a HarnessError unless Chromium is at CHROMIUM.
export function requireChromium(hint) {
  if (!existsSync(CHROMIUM)) {
    throw new HarnessError(`Chromium not found at ${CHROMIUM}: ${hint} ` +
      '(or: apt-get install -y --no-install-recommends chromium)');
  }
}

// Starts CHROMIUM with playwright-core's `chromium`. launch() gives Chromium a
// fresh, empty --user-data-dir of its own.
export async function launchChromium(chromium, hint) {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: PAGE_TIMEOUT_MS });
  } catch (e) {
    throw new HarnessError(`cannot start ${CHROMIUM}: ${e.message.split('\n')[0]}: ${hint}`);
  }
}

// Calls `await fn(item)` for each item, `n` at a time, taking the items in
// their order; resolves once all are done.
export async function inPool(items, n, fn) {
  const queue = [...items];
  const worker = async () => {
    for (let item; (item = queue.shift()) !== undefined; ) await fn(item);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

// ---------------------------------------------------------- static server

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
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
    rel = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.join(root, path.normalize(rel));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

// Serves the files under root on 127.0.0.1 (a free port: server.address().port)
// and resolves to the server. A directory redirects to its path with a "/",
// which serves its index.html; what is not there is a 404. Only
// Content-Type and Content-Length go with a file, and `headers`; `types`
// adds content types ({'.gif': 'image/gif'}) to the common ones (any other
// file is application/octet-stream). `onRequest(req, res)` sees every request
// first and returns true when it has answered it.
export function serveStatic(root, { types = {}, headers = {}, onRequest = () => false } = {}) {
  const contentTypes = { ...CONTENT_TYPES, ...types };
  const server = createServer((req, res) => {
    if (onRequest(req, res)) return;
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
    const type = contentTypes[path.extname(file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, ...headers });
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// Stops a server of serveStatic, open connections included.
export async function stopServer(server) {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}
