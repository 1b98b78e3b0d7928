// Opens `pushwire serve --self-signed` over HTTPS in headless Chromium and checks what the
// browser negotiated and whether its WebSockets work there:
//  - the page arrives over HTTP/2 (`nextHopProtocol` "h2", chosen by ALPN);
//  - wss://…/ws/echo echoes text and binary, and agrees on permessage-deflate;
//  - an EventSource on /sse/box delivers events over the same origin.
// Whether Chromium opened the WebSocket with an HTTP/2 extended CONNECT (RFC 8441) or with a
// separate HTTP/1.1 upgrade is in the server's log; the caller (cargo xtask interop
// h2-browser) reads it. Prints "N passed, N failed"; exits 1 on any failure.
//
// usage: node h2-browser.js PORT
'use strict';
const { launch, checker } = require('./common');

const port = process.argv[2] || '8443';
const tally = checker();
const check = tally.check;

(async () => {
  const browser = await launch(['--ignore-certificate-errors']);
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // The page itself opens an EventSource and websockets; `upgrade=0` keeps its Engine.io
    // client quiet on polling.
    await page.goto(`https://127.0.0.1:${port}/?upgrade=0`);
    const proto = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    check('page over HTTP/2 (ALPN h2)', proto === 'h2', proto);

    const ws = await page.evaluate(async (port) => {
      const out = {};
      const sock = new WebSocket(`wss://127.0.0.1:${port}/ws/echo`);
      sock.binaryType = 'arraybuffer';
      await new Promise((ok, fail) => { sock.onopen = ok; sock.onerror = () => fail(new Error('ws error')); });
      out.extensions = sock.extensions;
      const next = () => new Promise((ok) => { sock.onmessage = (e) => ok(e.data); });
      sock.send('hello over h2');
      out.text = await next();
      sock.send(new Uint8Array([1, 2, 3, 250]).buffer);
      out.binary = Array.from(new Uint8Array(await next()));
      const big = 'x'.repeat(200000);
      sock.send(big);
      out.bigOk = (await next()) === big;
      sock.close(1000);
      return out;
    }, port).catch((e) => ({ error: String(e) }));
    check('wss echo text', ws.text === 'hello over h2', JSON.stringify(ws.text || ws.error));
    check('wss echo binary', JSON.stringify(ws.binary) === '[1,2,3,250]', JSON.stringify(ws.binary));
    check('wss echo 200 kB', ws.bigOk === true);
    check('wss permessage-deflate agreed', (ws.extensions || '').startsWith('permessage-deflate'), JSON.stringify(ws.extensions));

    const sse = await page.evaluate(async (port) => {
      const es = new EventSource(`https://127.0.0.1:${port}/sse/box`);
      const ids = [];
      await new Promise((ok) => { es.onmessage = (e) => { ids.push(e.lastEventId); if (ids.length >= 2) ok(); }; setTimeout(ok, 5000); });
      es.close();
      return ids;
    }, port);
    check('EventSource over h2', sse.length >= 2, `${sse.length} events`);
  } catch (e) {
    check('run', false, e.stack || String(e));
  } finally {
    await browser.close();
  }
  tally.finish();
})();
