#!/usr/bin/env node
// Cross-site scripting harness for Pavé's generated site.
//
//   node tests/web/xss.mjs --root <dir> [--page <url-path> ...] [--json]
//
// Serves <root> on 127.0.0.1 with a tiny static server that sends NO
// Content-Security-Policy (so what is proven is that the sanitiser and the
// templates' escaping hold on their own; the CSP is tested elsewhere), opens
// each --page (by default every .html file under <root>) in Debian's headless
// Chromium and looks for anything a hostile text could have made run:
//
// - dialogs (alert, confirm, prompt), also from sandboxed frames where
//   Chromium ignores them: the calls themselves are recorded;
// - console messages carrying the marker PAVE-XSS;
// - assignments to window.__pwned (in any frame, or to the top window);
// - requests to /pwned... (the beacon), from the page or any of its frames;
// - uncaught script errors (the site ships no JavaScript, so any error means
//   some script ran).
//
// After the load it waits, scrolls to the bottom, and in every frame
// dispatches mouseover, mouseenter and focus on every element, and click on
// every element that is neither a link nor a form control nor inside one
// (nothing is navigated or submitted), so that onmouseover / onfocus /
// onclick payloads fire if they survived.
//
// It also reports, as "latent", active content that did not run by itself
// but would on a visitor's click or in another browser: script elements,
// on* attributes, javascript: / vbscript: / data: URLs in links, forms,
// frames and embeds, iframes / objects / embeds / base / meta refresh
// elements, srcdoc, and javascript: or expression() in style attributes.
//
// Exit status: 0 when nothing executed and nothing latent was found, 1 when
// something was, 2 when the harness itself cannot run (run scripts/setup-web
// first) or a page could not be loaded. With --json, stdout holds only
// {"pages": {path: {"executed": [...], "latent": [...]}}, "checked": N,
//  "unattributed": [...]} and the readable report goes to stderr.

import path from 'node:path';

import {
  PAGE_TIMEOUT_MS, PAGES_AT_ONCE, htmlFiles, inPool, launchChromium, load, parseArgs, printReport,
  requireChromium, runHarness, serveStatic, setupHint, stopServer,
} from './browser.mjs';

const SETTLE_MS = 500; // waiting after the load, and after the interactions
const MARKER = 'PAVE-XSS';
const BEACON = '/pwned';
const PAGE_HEADER = 'x-pave-xss-page'; // tells the server which page a beacon hit came from
const SETUP_HINT = setupHint();
const USAGE = 'xss.mjs --root <dir> [--page <url-path> ...] [--json]';

// The command line; without --page, every page under --root. Each page once.
function options(argv) {
  const opts = parseArgs(argv, { usage: USAGE, lists: { '--page': 'pages' }, switches: { '--json': 'json' } });
  if (opts.pages.length === 0) opts.pages = allPages(opts.root);
  opts.pages = [...new Set(opts.pages)];
  return opts;
}

// Every .html file under root, as URL paths (/x/index.html as /x/).
function allPages(root) {
  return htmlFiles(root)
    .map((f) => '/' + path.relative(root, f).split(path.sep).join('/'))
    .map((p) => p.replace(/(^|\/)index\.html$/, '$1'))
    .sort();
}

// ---------------------------------------------------------- static server

// The server: files under root (no CSP, no other security header), and the
// beacon, which records every request to /pwned... with the page it came from.
function startServer(root, hits) {
  return serveStatic(root, {
    types: { '.gif': 'image/gif', '.pdf': 'application/pdf' },
    headers: { 'Cache-Control': 'no-store' },
    onRequest: (req, res) => {
      if (!req.url.split('?')[0].startsWith(BEACON)) return false;
      hits.push({ url: req.url, page: req.headers[PAGE_HEADER] ?? null, referer: req.headers.referer ?? null });
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return true;
    },
  });
}

// ------------------------------------------------------ in-page probes

// Runs in every frame before any of its scripts: records dialogs (even the
// ones a sandboxed frame may not show), the marker in the console and
// assignments to window.__pwned, reporting each at once through the binding
// (so a page that navigates away afterwards loses nothing).
const INIT_SCRIPT = `(() => {
  const report = (kind, detail) => {
    try { window.__paveXssReport(kind, String(detail)); } catch (e) {}
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    const original = window[name];
    try {
      Object.defineProperty(window, name, {
        configurable: true, writable: true,
        value: function (...args) {
          report('dialog-call', name + '(' + args.map(String).join(', ') + ')');
          return original ? original.apply(this, args) : undefined;
        },
      });
    } catch (e) {}
  }
  let pwned;
  try {
    Object.defineProperty(window, '__pwned', {
      configurable: false,
      get() { return pwned; },
      set(v) { pwned = v; report('window.__pwned', v); },
    });
  } catch (e) {}
})();`;

// Runs in one frame after the load: scrolls to the bottom, fires the events
// an inline handler could wait for, and lists latent active content.
function probeFrame() {
  const latent = [];
  const describe = (el) => {
    const html = el.outerHTML || String(el);
    return html.length > 300 ? html.slice(0, 300) + '…' : html;
  };
  const scroller = document.scrollingElement || document.documentElement;
  if (scroller) scroller.scrollTop = scroller.scrollHeight;
  window.scrollTo(0, 1e9);

  const all = Array.from(document.querySelectorAll('*'));
  const badScheme = (value) => {
    if (value == null) return null;
    // What the URL parser would see: control characters and spaces trimmed,
    // tabs and newlines removed, entities already decoded by the HTML parser.
    const cleaned = String(value).replace(/[\u0000-\u0020]+/g, '').toLowerCase();
    for (const scheme of ['javascript:', 'vbscript:', 'data:', 'livescript:']) {
      if (cleaned.startsWith(scheme)) return scheme;
    }
    try {
      const protocol = new URL(value, document.baseURI).protocol;
      if (['javascript:', 'vbscript:', 'data:'].includes(protocol)) return protocol;
    } catch (e) {}
    return null;
  };
  const URL_ATTRS = ['href', 'xlink:href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'poster', 'background', 'codebase', 'cite'];
  const ACTIVE_ELEMENTS = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'fencedframe']);
  for (const el of all) {
    const tag = el.localName.toLowerCase();
    if (ACTIVE_ELEMENTS.has(tag)) latent.push(`<${tag}> element: ${describe(el)}`);
    if (tag === 'meta' && /refresh/i.test(el.getAttribute('http-equiv') || '')) {
      latent.push(`meta refresh: ${describe(el)}`);
    }
    if ((tag === 'animate' || tag === 'set' || tag === 'animatetransform') &&
        /href/i.test(el.getAttribute('attributeName') || '')) {
      latent.push(`SVG animation of a link: ${describe(el)}`);
    }
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) latent.push(`event handler ${name}: ${describe(el)}`);
      else if (name === 'srcdoc') latent.push(`srcdoc: ${describe(el)}`);
      else if (URL_ATTRS.includes(name) || name.endsWith(':href')) {
        const scheme = badScheme(attr.value);
        // An image runs no script, whatever its format (SVG included); every
        // other data: URL (text/html above all) may.
        const inertImage = scheme === 'data:' && (tag === 'img' || tag === 'source') && name === 'src' &&
          /^\s*data:image\//i.test(attr.value);
        if (scheme && !inertImage) latent.push(`${scheme} URL in ${name}: ${describe(el)}`);
      } else if (name === 'style' && /javascript:|vbscript:|expression\s*\(|behavior\s*:|-moz-binding/i.test(attr.value)) {
        latent.push(`active style: ${describe(el)}`);
      }
    }
  }
  // Styles inside the body come from content, never from the theme.
  for (const el of Array.from(document.querySelectorAll('body style'))) latent.push(`<style> in body: ${describe(el)}`);

  // Fire what inline handlers wait for. Links and form controls, and what is
  // inside them, are not clicked (that would navigate or submit).
  const NOT_CLICKED = 'a, area, button, input, select, textarea, label, form, option, summary, details, iframe, object, embed';
  for (const el of all) {
    for (const type of ['mouseover', 'mouseenter', 'mousemove']) {
      try { el.dispatchEvent(new MouseEvent(type, { bubbles: type !== 'mouseenter', cancelable: true, view: window })); } catch (e) {}
    }
    try { el.dispatchEvent(new FocusEvent('focus')); } catch (e) {}
    try { el.dispatchEvent(new FocusEvent('focusin', { bubbles: true })); } catch (e) {}
    let skip = false;
    try { skip = !!el.closest(NOT_CLICKED); } catch (e) {}
    if (!skip) {
      try { el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window })); } catch (e) {}
    }
  }
  return { latent, elements: all.length };
}

// ------------------------------------------------------------- the check

async function checkPages(root, paths) {
  requireChromium(SETUP_HINT);
  const { chromium } = await load('playwright-core', SETUP_HINT);
  const hits = [];
  const results = {};
  const errors = {};
  let server = null;
  let browser = null;
  try {
    server = await startServer(root, hits);
    const base = `http://127.0.0.1:${server.address().port}`;
    browser = await launchChromium(chromium, SETUP_HINT);
    for (const p of paths) results[p] = { executed: [], latent: [] }; // keep the order of the arguments
    await inPool(paths, PAGES_AT_ONCE, async (p) => {
      try {
        await checkPage(browser, base, p, results[p]);
      } catch (e) {
        errors[p] = e.message.split('\n')[0];
      }
    });
    // Beacon hits, by the page they came from (the header every request of
    // that page's context carries).
    const unattributed = [];
    for (const hit of hits) {
      if (hit.page && results[hit.page]) results[hit.page].executed.push(`beacon ${hit.url}`);
      else unattributed.push(`beacon ${hit.url} (referer ${hit.referer ?? 'none'})`);
    }
    return { results, errors, unattributed };
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await stopServer(server);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Checks one page in a context of its own; findings go into `result`.
async function checkPage(browser, base, urlPath, result) {
  const url = base + urlPath;
  const context = await browser.newContext({ extraHTTPHeaders: { [PAGE_HEADER]: urlPath } });
  const executed = result.executed;
  const seen = new Set();
  const record = (line) => {
    if (!seen.has(line)) {
      seen.add(line);
      executed.push(line);
    }
  };
  try {
    await context.exposeBinding('__paveXssReport', (source, kind, detail) => {
      const where = source.frame && source.frame.url() !== url ? ` [frame ${source.frame.url().slice(0, 120)}]` : '';
      record(`${kind}: ${detail}${where}`);
    });
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();
    page.on('dialog', (d) => {
      record(`dialog ${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('console', (m) => {
      if (m.text().includes(MARKER)) record(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => record(`script error (some script ran): ${String(e.message || e).split('\n')[0]}`));
    const navigations = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url());
    });

    let response;
    try {
      response = await page.goto(url, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
    } catch (e) {
      throw new Error(`cannot load ${urlPath}: ${e.message.split('\n')[0]}`);
    }
    if (!response || !response.ok()) {
      throw new Error(`HTTP ${response ? response.status() : 'no response'} for ${urlPath}`);
    }
    await sleep(SETTLE_MS);
    let elements = 0;
    for (const frame of page.frames()) {
      try {
        const { latent, elements: n } = await frame.evaluate(probeFrame);
        elements += n;
        const where = frame === page.mainFrame() ? '' : ` [frame ${frame.url().slice(0, 120)}]`;
        for (const l of latent) result.latent.push(l + where);
      } catch (e) {
        // A frame that navigated or went away while probed: that itself is worth a look.
        result.latent.push(`frame could not be probed (${e.message.split('\n')[0]}): ${frame.url().slice(0, 120)}`);
      }
    }
    await sleep(SETTLE_MS);
    // A last look at __pwned in every frame (for a setter that was bypassed).
    for (const frame of page.frames()) {
      try {
        const v = await frame.evaluate(() => (Object.prototype.hasOwnProperty.call(window, '__pwned') ? window.__pwned : undefined));
        if (v !== undefined && v !== null) record(`window.__pwned: ${String(v)}`);
      } catch (e) {}
    }
    const moved = navigations.filter((u) => u !== url);
    for (const u of moved) result.latent.push(`the page navigated by itself to ${u.slice(0, 200)}`);
    result.elements = elements;
  } finally {
    await context.close().catch(() => {});
  }
}

// -------------------------------------------------------------- report

function report(root, results, errors, unattributed, secs) {
  const lines = [];
  const paths = Object.keys(results);
  const checked = paths.filter((p) => !(p in errors)).length;
  lines.push(`xss: ${checked} of ${paths.length} page(s) under ${root} checked in Chromium, no CSP`);
  let executed = 0;
  let latent = 0;
  for (const p of paths) {
    const r = results[p];
    executed += r.executed.length;
    latent += r.latent.length;
    const status = p in errors ? `NOT CHECKED: ${errors[p]}` :
      r.executed.length || r.latent.length ? `${r.executed.length} executed, ${r.latent.length} latent` :
      `clean (${r.elements ?? '?'} elements probed)`;
    lines.push(`  ${p}: ${status}`);
    for (const e of r.executed) lines.push(`    EXECUTED ${e}`);
    for (const l of r.latent) lines.push(`    latent   ${l}`);
  }
  for (const u of unattributed) lines.push(`  EXECUTED (page unknown) ${u}`);
  executed += unattributed.length;
  const ok = executed === 0 && latent === 0;
  const harmed = Object.keys(errors).length > 0;
  lines.push(`${harmed ? 'HARNESS FAILURE' : ok ? 'PASS' : 'FAIL'}: ${executed} executed, ${latent} latent, in ${secs.toFixed(1)} s`);
  return { text: lines.join('\n'), ok, checked, harmed };
}

async function main() {
  const started = Date.now();
  const opts = options(process.argv.slice(2));
  const { results, errors, unattributed } = await checkPages(opts.root, opts.pages);
  const { text, ok, checked, harmed } = report(opts.root, results, errors, unattributed, (Date.now() - started) / 1000);
  const pages = {};
  for (const [p, r] of Object.entries(results)) {
    pages[p] = { executed: r.executed, latent: r.latent };
    if (p in errors) pages[p].error = errors[p];
  }
  printReport(opts.json, text, { pages, checked, unattributed });
  if (!ok) return 1; // a finding matters more than a page that could not be loaded
  return harmed ? 2 : 0;
}

runHarness('xss.mjs', main);
