// Opens the page of `pushwire serve` in headless Chromium and checks, with the browser's
// own EventSource, WebSocket and fetch:
//  - SSE events arrive; after the server drops the stream (`?drop=N`) the browser
//    reconnects with Last-Event-ID and the walk resumes from the last id it saw;
//  - /ws/echo roundtrips text and binary;
//  - /ws/chat reaches every connected page;
//  - the page's Engine.io client upgrades to websocket, and its chat reaches a second page
//    that stays on long-polling (and back).
// Saves a screenshot of the page. Prints "N passed, N failed"; exits 1 on any failure.
//
// usage: node demo-browser.js PORT [SCREENSHOT.png]
'use strict';
const { launch, checker } = require('./common');

const port = process.argv[2] || '8080';
const shot = process.argv[3];
const tally = checker();
const check = tally.check;

(async () => {
  const browser = await launch();
  try {
    // Chromium opens at most 6 connections per host: the second page uses another name.
    const a = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const b = await browser.newPage();
    await a.goto(`http://127.0.0.1:${port}/?drop=6`);
    await b.goto(`http://localhost:${port}/?upgrade=0`);

    // SSE: a drop after 6 events, the reconnect after `retry: 2000`, then more events.
    await a.waitForFunction(() => demo.sse.resumes.length >= 1 && demo.sse.ids.length >= demo.sse.resumes[0].after + 2,
      null, { timeout: 20000 }).catch(() => {});
    const sse = await a.evaluate(() => demo.sse);
    check('sse events arrive', sse.ids.length >= 6, `${sse.ids.length} events, ${sse.opens} opens`);
    const r = sse.resumes[0];
    const before = r ? sse.ids[r.after - 1] : undefined;
    const after = r ? sse.ids[r.after] : undefined;
    check('sse reconnect sends Last-Event-ID', r && r.from === before,
      r ? `server resumed from ${r.from}, last id before the drop ${before}` : 'no reconnect seen');
    const step = (p, q) => { const [x0, y0] = p.split(',').map(Number); const [x1, y1] = q.split(',').map(Number); return Math.abs(x1 - x0) <= 20 && Math.abs(y1 - y0) <= 20; };
    check('sse walk resumes where it left off', before && after && step(before, after), `${before} -> ${after}`);

    // WebSocket echo.
    await a.waitForFunction(() => demo.echo.text !== undefined && demo.echo.binary !== undefined, null, { timeout: 10000 }).catch(() => {});
    const echo = await a.evaluate(() => demo.echo);
    check('ws echo text', echo.text === 'hello, 世界 😀', JSON.stringify(echo.text));
    check('ws echo binary', echo.binary === '00 01 02 fd fe ff', echo.binary);
    const big = await a.evaluate(() => new Promise(res => {
      const ws = new WebSocket(`ws://${location.host}/ws/echo`); ws.binaryType = 'arraybuffer';
      const data = new Uint8Array(200000).map((_, i) => (i * 7) & 255);
      ws.onopen = () => ws.send(data);
      ws.onmessage = ev => { const g = new Uint8Array(ev.data); res(g.length === data.length && g.every((v, i) => v === data[i])); ws.close(); };
      ws.onerror = () => res(false);
    }));
    check('ws echo 200 kB binary', big);

    // WebSocket chat: a message from page a reaches both pages.
    await a.waitForFunction(() => document.getElementById('chat-state').textContent === 'open', null, { timeout: 10000 });
    await b.waitForFunction(() => document.getElementById('chat-state').textContent === 'open', null, { timeout: 10000 });
    await a.fill('#chat-input', 'hi from page a');
    await a.click('#chat-form button');
    const gotChat = async p => p.waitForFunction(() => demo.chat.includes('hi from page a'), null, { timeout: 5000 }).then(() => true, () => false);
    check('ws chat reaches the sender', await gotChat(a));
    check('ws chat reaches the other page', await gotChat(b));

    // Engine.io: page a upgrades, page b stays on polling; the chat crosses both ways.
    await a.waitForFunction(() => demo.eio.transports.includes('websocket'), null, { timeout: 10000 }).catch(() => {});
    const ta = await a.evaluate(() => demo.eio.transports);
    check('engine.io upgrades polling -> websocket', ta[0] === 'polling' && ta.includes('websocket'), ta.join(' -> '));
    await b.waitForFunction(() => demo.eio.transports.includes('polling'), null, { timeout: 10000 });
    await a.evaluate(() => eio.send('über websocket 😀'));
    await b.evaluate(() => eio.send('via polling 中文'));
    const eioGot = async (p, m) => p.waitForFunction(m => demo.eio.messages.includes(m), m, { timeout: 5000 }).then(() => true, () => false);
    check('engine.io websocket -> polling page', await eioGot(b, 'über websocket 😀'));
    check('engine.io polling -> websocket page', await eioGot(a, 'via polling 中文'));
    check('engine.io echo to the sender', await eioGot(a, 'über websocket 😀') && await eioGot(b, 'via polling 中文'));
    const tb = await b.evaluate(() => demo.eio.transports);
    check('engine.io polling-only page stayed on polling', !tb.includes('websocket') && tb.at(-1) === 'polling', tb.join(' -> '));

    if (shot) {
      await a.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot saved to ${shot}`);
    }
  } catch (e) {
    tally.failed++;
    console.log(`FAIL ${e.stack || e}`);
  } finally {
    await browser.close();
  }
  tally.finish();
})();
