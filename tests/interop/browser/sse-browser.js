// Opens the pages served by `cargo run -p pushwire-sse --example browser_check -- PORT` in
// headless Chromium:
//  1. a real EventSource reads the stream written by pushwire-sse's encoder; every event
//     (type, data, lastEventId) must be what the standard says the browser reports;
//  2. a real EventSource reads hostile raw streams (split CRLF, split BOM, invalid UTF-8,
//     NUL in id, ...); its events must equal pushwire-sse's parse of the same bytes.
// Prints "N passed, N failed" (one per encoder event, one per raw stream); exits 1 on any
// difference.
//
// usage: node sse-browser.js PORT
'use strict';
const { chromium } = require('playwright-core');

const port = process.argv[2] || '8090';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function show(s) {
  return JSON.stringify(s.length > 80 ? s.slice(0, 60) + `…(${s.length} chars)` : s);
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  let passed = 0, failed = 0;
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.result || window.error, null, { timeout: 30000 });
    const { result, error } = await page.evaluate(() => ({ result: window.result, error: window.error }));
    if (!result) throw new Error(`page reported: ${error}`);
    const { expected, got } = result;
    const n = Math.max(expected.length, got.length);
    for (let i = 0; i < n; i++) {
      const e = expected[i], g = got[i];
      if (e && g && e.type === g.type && e.data === g.data && e.lastEventId === g.lastEventId) {
        passed++;
      } else {
        failed++;
        console.log(`event ${i}: expected ${e ? `${show(e.type)} ${show(e.data)} id=${show(e.lastEventId)}` : 'nothing'}`);
        console.log(`          got      ${g ? `${show(g.type)} ${show(g.data)} id=${show(g.lastEventId)}` : 'nothing'}`);
      }
    }
    console.log(`encoder check: ${got.length} events received, ${expected.length} expected`);

    // Parser differential: the browser's EventSource and pushwire-sse read the same raw bytes.
    await page.goto(`http://127.0.0.1:${port}/corpus`);
    await page.waitForFunction(() => window.corpusResult, null, { timeout: 120000 });
    const corpus = await page.evaluate(() => window.corpusResult);
    let events = 0;
    for (const { n, expected: exp, got: g, timeout } of corpus) {
      const same = !timeout && exp.length === g.length && exp.every((e, i) =>
        e.type === g[i].type && e.data === g[i].data && e.lastEventId === g[i].lastEventId);
      events += g.length;
      if (same) {
        passed++;
      } else {
        failed++;
        console.log(`corpus stream ${n}: browser and pushwire differ${timeout ? ' (timed out)' : ''}`);
        console.log(`  pushwire: ${JSON.stringify(exp)}`);
        console.log(`  browser:  ${JSON.stringify(g)}`);
      }
    }
    console.log(`parser differential: ${corpus.length} raw streams, ${events} browser events compared`);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
})().catch(e => { console.error(e); console.log('0 passed, 1 failed'); process.exit(1); });
