// Real-peer check: headless Chromium's WebSocket (it offers `permessage-deflate;
// client_max_window_bits`) against pushwire-ws's server role with permessage-deflate
// (crates/ws/examples/deflate_peer.rs serve). In the page: the negotiated extension
// (`ws.extensions`), text and binary roundtrips (JSON, incompressible, short, non-ASCII,
// large — echoed with send_fragmented — and streamed — echoed with send_fragment), then the
// server's `pushwire:stats` answer shows that the browser's messages arrived with RSV1 and
// that ours went out with it. Prints one line per check and "N passed, N failed"; exits 1 on
// any failure.
//
// usage: node ws-deflate-browser.js PORT
'use strict';
const { launch, checker } = require('./common');

const port = process.argv[2] || '9002';
const tally = checker();
const check = tally.check;

(async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const r = await page.evaluate(async (url) => {
      const out = { results: [] };
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      const queue = [];
      let waiting = null;
      ws.onmessage = e => { if (waiting) { const w = waiting; waiting = null; w(e.data); } else queue.push(e.data); };
      const next = () => queue.length ? Promise.resolve(queue.shift()) : new Promise(r => { waiting = r; });
      await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('error')); });
      out.extensions = ws.extensions;
      const same = (a, b) => {
        if (typeof a === 'string') return a === b;
        const x = new Uint8Array(a), y = new Uint8Array(b);
        return x.length === y.length && x.every((v, i) => v === y[i]);
      };
      const ticks = JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ seq: i, event: 'tick', price: `${100 + i * 7}.${String(i).padStart(2, '0')}` })));
      let seed = 12345;
      const noise = new Uint8Array(3000).map(() => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; }).buffer;
      const msgs = [
        ['JSON text #0', ticks], ['JSON text #1', ticks], ['JSON text #2', ticks],
        ['incompressible binary (3,000 bytes)', noise], ['JSON text after it', ticks],
        ['short text', 'hi'], ['non-ASCII text', '😀 astral 🎉 中文字 '.repeat(200)],
        ['large text (echoed with send_fragmented)', ticks.repeat(60)],
        ['text echoed with send_fragment (3 fragments)', 'stream:' + ticks.repeat(3)],
        ['binary 200,000 bytes', new Uint8Array(200000).fill(90).buffer],
      ];
      for (const [name, m] of msgs) {
        ws.send(m);
        const got = await next();
        out.results.push([name, same(m, got), typeof got === 'string' ? got.length : got.byteLength]);
      }
      ws.send('pushwire:stats');
      out.stats = JSON.parse(await next());
      const closed = new Promise(r => { ws.onclose = e => r(e.code); });
      ws.close(1000, 'done');
      out.close = await closed;
      return out;
    }, `ws://127.0.0.1:${port}/`);
    check('Chromium negotiated permessage-deflate (ws.extensions)', r.extensions.startsWith('permessage-deflate'), `'${r.extensions}'`);
    for (const [name, ok, len] of r.results) check(name, ok, ok ? undefined : `${len} back`);
    check('server received the browser\'s messages compressed (RSV1)', r.stats.in_compressed >= 9, JSON.stringify(r.stats));
    check('server sent compressed messages (RSV1), the noise and "hi" uncompressed',
      r.stats.out_compressed >= 8 && r.stats.out_plain === 2, `${r.stats.out_compressed} compressed, ${r.stats.out_plain} uncompressed`);
    check('close 1000', r.close === 1000, String(r.close));
  } catch (e) {
    check('browser session', false, e.message);
  } finally {
    await browser.close();
  }
  tally.finish();
})();
