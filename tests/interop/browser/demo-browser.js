// Opens the page of `pushwire serve` in headless Chromium and checks, with the browser's
// own EventSource, WebSocket and fetch:
//  - SSE events arrive; after the server drops the stream (`?drop=N`) the browser
//    reconnects with Last-Event-ID and the walk resumes from the last id it saw;
//  - /ws/echo roundtrips text and binary;
//  - /ws/chat reaches every connected page;
//  - the page's Engine.io client upgrades to websocket, and its chat reaches a second page
//    that stays on long-polling (and back);
//  - the page's Socket.IO chat (its own compact client, Engine.io v4): pages a and b in
//    room "lobby", page c in another room; a's message reaches b exactly once, neither a
//    (the server leaves the sender out) nor c; a gets the ack ("delivered"); a upgrades to
//    websocket, b stays on polling (`?sio-upgrade=0`); refusals come back as error acks;
//    after a's websocket drops, it reconnects, rejoins its room and receives again;
//  - the box over the Comet fallbacks (`?transport=longpoll`, `?transport=iframe`): the
//    steps arrive, long-polling resumes from the id it sends, and the forever frame is
//    reloaded from its last id after the server ends it.
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
    await a.goto(`http://127.0.0.1:${port}/?drop=6&name=alice`);
    await b.goto(`http://localhost:${port}/?upgrade=0&sio-upgrade=0&name=bob`);

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

    // Socket.IO chat with rooms. Page c is a third context (its own connection pool).
    const c = await browser.newPage();
    await c.goto(`http://127.0.0.1:${port}/?name=carol`);
    const connected = p => p.waitForFunction(() => demo.sio.state === 'connected', null, { timeout: 10000 }).then(() => true, () => false);
    check('socket.io pages connect', await connected(a) && await connected(b) && await connected(c));
    await a.waitForFunction(() => demo.sio.transports.includes('websocket'), null, { timeout: 10000 }).catch(() => {});
    const sa = await a.evaluate(() => demo.sio.transports);
    check('socket.io upgrades polling -> websocket', sa[0] === 'polling' && sa.at(-1) === 'websocket', sa.join(' -> '));
    const ja = await a.evaluate(() => sioChat.join('lobby'));
    const jb = await b.evaluate(() => sioChat.join('lobby'));
    const jc = await c.evaluate(() => sioChat.join('elsewhere'));
    check('socket.io join acks with the rooms', ja.ok && jb.ok && jc.ok && JSON.stringify(ja.rooms) === '["lobby"]' && JSON.stringify(jc.rooms) === '["elsewhere"]',
      JSON.stringify([ja, jb, jc]));
    const listed = await c.waitForFunction(() => {
      const m = Object.fromEntries(demo.sio.all.map(r => [r.name, r.members]));
      return m.lobby === 2 && m.elsewhere === 1;
    }, null, { timeout: 5000 }).then(() => true, () => false);
    check('socket.io rooms event lists rooms and members', listed, JSON.stringify(await c.evaluate(() => demo.sio.all)));

    const text = 'hello lobby 😀 ' + Date.now();
    const sent = await a.evaluate(t => sioChat.send('lobby', t), text);
    check('socket.io chat ack: "delivered" to the one other member', sent.status === 'delivered' && sent.delivered === 1, JSON.stringify(sent));
    const shown = await a.evaluate(t => [...document.querySelectorAll('#sio-log div')].some(d => d.textContent.includes(t) && d.textContent.includes('delivered')), text);
    check('socket.io page shows "delivered"', shown);
    await b.waitForFunction(t => demo.sio.received.some(m => m.text === t), text, { timeout: 5000 }).catch(() => {});
    await new Promise(r => setTimeout(r, 700)); // room for a duplicate or a stray delivery to show up
    const count = async (p, t) => p.evaluate(t => demo.sio.received.filter(m => m.text === t), t);
    const gotB = await count(b, text);
    check('socket.io room message reaches the other member exactly once (websocket -> polling)',
      gotB.length === 1 && gotB[0].room === 'lobby' && gotB[0].from === 'alice', JSON.stringify(gotB));
    check('socket.io room message skips the other room', (await count(c, text)).length === 0);
    check('socket.io room message skips the sender', (await count(a, text)).length === 0);
    const back = 'back from polling 中文';
    const sentB = await b.evaluate(t => sioChat.send('lobby', t), back);
    const gotA = await a.waitForFunction(t => demo.sio.received.some(m => m.text === t && m.from === 'bob'), back, { timeout: 5000 }).then(() => true, () => false);
    check('socket.io polling -> websocket member', sentB.status === 'delivered' && gotA, JSON.stringify(sentB));
    const tb2 = await b.evaluate(() => demo.sio.transports);
    check('socket.io polling-only page stayed on polling', !tb2.includes('websocket') && tb2.at(-1) === 'polling', tb2.join(' -> '));

    // Refusals are error acks.
    const notIn = await a.evaluate(() => sioChat.send('elsewhere', 'intruder'));
    const tooLong = await a.evaluate(() => sioChat.send('lobby', 'x'.repeat(501)));
    const badRoom = await a.evaluate(() => sioChat.join('a:b'));
    check('socket.io refusals: not in room, text too long, bad room name',
      notIn.status === 'refused: not in that room' && tooLong.status.startsWith('refused: bad text') && badRoom.ok === false,
      JSON.stringify([notIn.status, tooLong.status, badRoom]));
    check('socket.io refused messages reach nobody', (await count(c, 'intruder')).length === 0 && (await count(b, 'x'.repeat(501))).length === 0);
    const left = await c.evaluate(() => sioChat.leave('elsewhere'));
    const gone = await a.waitForFunction(() => !demo.sio.all.some(r => r.name === 'elsewhere'), null, { timeout: 5000 }).then(() => true, () => false);
    check('socket.io leave acks and the room list follows', left.ok && left.rooms.length === 0 && gone, JSON.stringify(left));

    // Reconnection: a's websocket drops; a reconnects (backoff), rejoins "lobby", receives again.
    await a.evaluate(() => sio.engine.ws.close());
    const again = await a.waitForFunction(() => demo.sio.connects >= 2 && demo.sio.state === 'connected', null, { timeout: 10000 }).then(() => true, () => false);
    await a.waitForFunction(() => demo.sio.rooms.includes('lobby'), null, { timeout: 5000 }).catch(() => {});
    const ra = await a.evaluate(() => ({ connects: demo.sio.connects, rooms: demo.sio.rooms, state: demo.sio.state }));
    check('socket.io reconnects and rejoins its room', again && ra.rooms.includes('lobby'), JSON.stringify(ra));
    await b.waitForFunction(() => (demo.sio.all.find(r => r.name === 'lobby') || {}).members === 2, null, { timeout: 5000 }).catch(() => {});
    const afterText = 'after the reconnect';
    const sentAfter = await b.evaluate(t => sioChat.send('lobby', t), afterText);
    const gotAfter = await a.waitForFunction(t => demo.sio.received.some(m => m.text === t), afterText, { timeout: 5000 }).then(() => true, () => false);
    check('socket.io delivers after the reconnect', sentAfter.delivered === 1 && gotAfter, JSON.stringify(sentAfter));

    if (shot) {
      await a.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot saved to ${shot}`);
    }

    // The Comet fallbacks (seed 002), one page each once a and b are gone: long-polling
    // resumed from a given position, and the forever frame ended after 4 steps and
    // reloaded from its last id.
    await a.close();
    await b.close();
    const lp = await browser.newPage();
    const ff = await browser.newPage();
    await lp.goto(`http://127.0.0.1:${port}/?transport=longpoll&from=700,500`);
    await ff.goto(`http://localhost:${port}/?transport=iframe&drop=4`);
    await lp.waitForFunction(() => demo.sse.ids.length >= 6, null, { timeout: 20000 }).catch(() => {});
    const poll = await lp.evaluate(() => demo.sse);
    check('long-poll steps arrive', poll.ids.length >= 6 && poll.opens >= 6, `${poll.ids.length} steps, ${poll.opens} requests`);
    const walk = ['700,500'].concat(poll.ids);
    const jumps = walk.slice(1).filter((id, i) => !step(walk[i], id));
    check('long-poll resumes from the lastEventId it sends (700,500 first)', poll.ids.length > 0 && jumps.length === 0,
      `${walk.slice(0, 8).join(' → ')}${jumps.length ? `; jumps at ${jumps.join(', ')}` : ''}`);
    await ff.waitForFunction(() => demo.sse.resumes.length >= 1 && demo.sse.ids.length >= demo.sse.resumes[0].after + 2,
      null, { timeout: 20000 }).catch(() => {});
    const frame = await ff.evaluate(() => demo.sse);
    check('forever frame steps arrive', frame.ids.length >= 4, `${frame.ids.length} steps, ${frame.opens} frames`);
    const fr = frame.resumes[0];
    const fBefore = fr ? frame.ids[fr.after - 1] : undefined;
    const fAfter = fr ? frame.ids[fr.after] : undefined;
    check('forever frame reloads with its last id', fr && fr.from === fBefore,
      fr ? `server resumed from ${fr.from}, last id before the end ${fBefore}` : 'no reload seen');
    check('forever frame walk resumes where it left off', fBefore && fAfter && step(fBefore, fAfter), `${fBefore} -> ${fAfter}`);
  } catch (e) {
    tally.failed++;
    console.log(`FAIL ${e.stack || e}`);
  } finally {
    await browser.close();
  }
  tally.finish();
})();
