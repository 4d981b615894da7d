// A person's path through a running `pave serve`, in Debian's headless
// Chromium: pledge on a project page, pay on the test checkout, land on the
// thank-you page, go back to the project; send an offer of help. Each
// scenario runs with JavaScript on or off, on a desktop or a phone viewport.
// It reports what the person sees (texts, positions) as JSON on stdout, and
// takes screenshots into --shots; tests/browser_flow.rs asserts on them.
// The thank-you page is also checked with axe-core (WCAG 2.1 AA) where
// JavaScript is on.
//
//   node tests/web/flow.mjs --base http://127.0.0.1:8080 --shots <dir>
//   node tests/web/flow.mjs --unsubscribe <link of a news email> --shots <dir>
//
// The second opens the link without JavaScript, as from a mail client,
// reads the question, presses the button and reads the answer.
//
// Exit status: 0 once every scenario ran, 2 when the harness failed.

import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { PAGE_TIMEOUT_MS, HarnessError, launchChromium, load, requireChromium, runHarness, setupHint } from './browser.mjs';

const SETUP_HINT = setupHint();
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

function parse(argv) {
  const opts = { base: null, shots: null, unsubscribe: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new HarnessError(`${argv[i]} needs a value`);
      return argv[++i];
    };
    if (argv[i] === '--base') opts.base = value().replace(/\/$/, '');
    else if (argv[i] === '--shots') opts.shots = path.resolve(value());
    else if (argv[i] === '--unsubscribe') opts.unsubscribe = value();
    else throw new HarnessError(`unknown argument ${argv[i]}`);
  }
  if (!(opts.base || opts.unsubscribe) || !opts.shots) {
    throw new HarnessError('usage: flow.mjs --base <url> --shots <dir> | --unsubscribe <url> --shots <dir>');
  }
  return opts;
}

// What a person reads in the page's main content.
async function reading(page) {
  return {
    url: page.url(),
    title: await page.title(),
    h1: (await page.locator('h1').first().innerText()).trim(),
    main: (await page.locator('main').innerText()).trim(),
    lang: await page.locator('html').getAttribute('lang'),
  };
}

// The top of an element in the page, in CSS pixels (null when absent).
async function top(page, selector) {
  const box = await page.locator(selector).first().boundingBox().catch(() => null);
  return box ? Math.round(box.y + (await page.evaluate(() => window.scrollY))) : null;
}

// axe-core's WCAG 2.1 AA violations on the page, by rule id.
async function axe(page, source) {
  await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

// The bottom of an element in the page, in CSS pixels (null when absent).
async function bottom(page, selector) {
  const box = await page.locator(selector).first().boundingBox().catch(() => null);
  return box ? Math.round(box.y + box.height + (await page.evaluate(() => window.scrollY))) : null;
}

// Pledges `amount` (with `reward` and `name`) on `project` (a path), pays
// on the test checkout, reads the thank-you page, goes back to the project.
async function pledge(browser, base, shots, s) {
  // bypassCSP: the injected axe is the only script (and runs with JavaScript off too).
  const context = await browser.newContext({ viewport: s.viewport, javaScriptEnabled: s.js, locale: s.lang, bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  try {
    await page.goto(base + s.project, { waitUntil: 'load' });
    const before = (await page.locator('.progress .amounts').first().innerText()).trim();
    await page.fill('#pledge-amount', s.amount);
    if (s.reward !== null) await page.check(`#reward-${s.reward}`);
    await page.fill('#pledge-name', s.name);
    await page.fill('#pledge-email', s.email);
    if (s.news) await page.check('#pledge-news');
    if (s.message) await page.fill('#pledge-message', s.message);
    await Promise.all([page.waitForURL(/\/api\/test-checkout\//), page.click('form.pledge button[type=submit]')]);
    await Promise.all([page.waitForURL(/\/merci/), page.click('form[action$="/pay"] button')]);
    const thanks = await reading(page);
    const thanks_axe = s.js ? await axe(page, s.axeSource) : null;
    await page.screenshot({ path: path.join(shots, `thanks-${s.name_of_shot}.png`), fullPage: true });
    await Promise.all([page.waitForURL((u) => u.pathname === new URL(base + s.project).pathname), page.click('main a.button')]);
    const after = {
      amounts: (await page.locator('.progress .amounts').first().innerText()).trim(),
      lead_bottom: await bottom(page, 'main .lead'),
      figures_top: await top(page, '.progress'),
      form_top: await top(page, 'form.pledge'),
      jump_top: await top(page, '.jump a'),
      jump_text: (await page.locator('.jump a').first().innerText().catch(() => '')).trim(),
      story_top: await top(page, '#story-title'),
      height: await page.evaluate(() => document.documentElement.scrollHeight),
    };
    await page.screenshot({ path: path.join(shots, `project-${s.name_of_shot}.png`) });
    return { name: s.name_of_shot, js: s.js, before, thanks, thanks_axe, after };
  } finally {
    await context.close();
  }
}

// Sends an offer of help on `project` and reads the confirmation.
async function offer(browser, base, shots, s) {
  const context = await browser.newContext({ viewport: s.viewport, javaScriptEnabled: s.js });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  try {
    await page.goto(base + s.project, { waitUntil: 'load' });
    await page.selectOption('#offer-need', s.need);
    await page.fill('#offer-name', s.name);
    await page.fill('#offer-contact', s.contact);
    await page.fill('#offer-message', s.message);
    await Promise.all([page.waitForURL(/\/api\/offers/), page.click('form.offer button[type=submit]')]);
    const confirmation = await reading(page);
    await page.screenshot({ path: path.join(shots, `offer-${s.name_of_shot}.png`), fullPage: true });
    return { name: s.name_of_shot, js: s.js, confirmation };
  } finally {
    await context.close();
  }
}

// Opens a news email's unsubscribe link (no JavaScript, a phone) and
// presses the button.
async function unsubscribe(browser, shots, url) {
  const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: false, locale: 'fr-FR' });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  try {
    await page.goto(url, { waitUntil: 'load' });
    const ask = await reading(page);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    const done = await reading(page);
    await page.screenshot({ path: path.join(shots, 'unsubscribed.png'), fullPage: true });
    return { ask, done };
  } finally {
    await context.close();
  }
}

async function main() {
  const opts = parse(process.argv.slice(2));
  mkdirSync(opts.shots, { recursive: true });
  requireChromium(SETUP_HINT);
  const { chromium } = await load('playwright-core', SETUP_HINT);
  const axeSource = (await load('axe-core', SETUP_HINT)).default.source;
  const browser = await launchChromium(chromium, SETUP_HINT);
  if (opts.unsubscribe) {
    try {
      console.log(JSON.stringify(await unsubscribe(browser, opts.shots, opts.unsubscribe), null, 2));
      return 0;
    } finally {
      await browser.close();
    }
  }
  try {
    const pledges = [];
    pledges.push(await pledge(browser, opts.base, opts.shots, {
      name_of_shot: 'desktop', js: true, viewport: DESKTOP, lang: 'fr-FR', axeSource,
      project: '/projets/toit-partage/', amount: '40', reward: 1, name: 'Camille', email: 'camille@example.org',
      news: true, message: 'Bravo pour ce réseau, je suis fière de Marseille !',
    }));
    pledges.push(await pledge(browser, opts.base, opts.shots, {
      name_of_shot: 'phone', js: false, viewport: PHONE, lang: 'en-GB',
      project: '/en/projets/toit-partage/', amount: '25', reward: null, name: 'Dominique', email: 'dominique@example.org',
    }));
    const offers = [await offer(browser, opts.base, opts.shots, {
      name_of_shot: 'nojs', js: false, viewport: PHONE,
      project: '/projets/cafe-du-coin/', need: '0', name: 'Zoé', contact: 'zoe@example.org',
      message: 'Je peux repeindre la façade\nle samedi matin.',
    })];
    console.log(JSON.stringify({ pledges, offers }, null, 2));
    return 0;
  } finally {
    await browser.close().catch(() => {});
  }
}

runHarness('flow', main);
