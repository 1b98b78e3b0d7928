#!/usr/bin/env node
// Bad networks with real third-party clients: the unmodified engine.io-client 6.6 (EIO=4)
// and socket.io-client 4.8 (Socket.IO protocol 5) against a server of the reference apps
// (`pushwire serve --reference-apps`: the Engine.io v4 test-suite echo at /engine.io/ and the
// Socket.IO interop app of APP.md at /socket.io/, pingInterval 300, pingTimeout 200),
// through a TCP relay on 127.0.0.1 in this process (one relay per case, ephemeral port).
//
//   node bad-path.js http://127.0.0.1:3000
//
// The kernel here has no netem, so the relay makes what TCP shows of a bad path: latency
// (every chunk held DELAY ms each way, order kept), refusal (a connection whose request line
// has `transport=websocket` closed as soon as that line is seen), silence (a partition that
// never heals: nothing more forwarded either way, neither end told) and cuts (both ends of
// the websocket's connections destroyed). Polling requests always pass (engine.io-client
// polls with `agent: false`, one connection per request; `ws` opens one connection per
// websocket). The relay reads the client's websocket frames, so "after the upgrade" means
// "once the client's upgrade packet `5` has been forwarded to the server".
//
// Cases (each with a hard deadline: a hang fails the case, never blocks the run):
//   eio-delay            engine.io-client, polling + websocket, 40 ms each way: the upgrade
//                        completes; 5 messages before it and 20 after, each echoed once, in order
//   eio-ws-refused       websocket refused: the probe fails (`upgradeError`), the session stays
//                        on polling, 10 echoes at once and 10 after 1.2 s of heartbeats, no close
//   eio-silent-upgraded  silent right after the upgrade packet: the client closes with
//                        `ping timeout`, pingInterval + pingTimeout (500 ms) after its last
//                        ping (or the handshake: the first ping goes to the silent websocket)
//   eio-silent-later     the same partition later, after an echo and 2 pings over the
//                        websocket: `ping timeout` 500 ms after the last ping
//   sio-cut-upgraded     socket.io-client, both ends of the websocket destroyed after the
//                        upgrade: `disconnect` with `transport close`/`transport error`, then it
//                        reconnects by itself (reconnectionDelay 100 ms) and acks again
//   sio-delay-acks       socket.io-client, 40 ms each way: acks both ways (client → server
//                        `message-with-ack`, server → client `question`/`answer-was`) over
//                        polling and, after the upgrade, over websocket (each `answer-was`
//                        once; their order is the server app's, printed, not required)
//
// One `PASS <case> (<seconds> s) …` or `FAIL <case> (<seconds> s): …` line per case; exit
// status 1 if any failed, 2 on bad usage.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { EventEmitter } = require('events');

const url = process.argv[2];
if (!url || !/^http:\/\/[^/]+/.test(url)) {
  console.error('usage: node bad-path.js http://HOST:PORT');
  process.exit(2);
}
const target = new URL(url);
const TARGET = { host: target.hostname, port: Number(target.port || 80) };

// socket.io-client 4.8 (a dependency of this folder) and the engine.io-client it runs on (its
// own dependency, pinned by package-lock.json): the same code in both kinds of case.
const sio = require('socket.io-client');
const eioMain = require.resolve('engine.io-client', { paths: [path.dirname(require.resolve('socket.io-client'))] });
const eio = require(eioMain);
const versionOf = (main, name) => {
  const dir = main.slice(0, main.lastIndexOf(`${path.sep}${name}${path.sep}`) + name.length + 2);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
};
const SIO_VERSION = versionOf(require.resolve('socket.io-client'), 'socket.io-client');
const EIO_VERSION = versionOf(eioMain, 'engine.io-client');

// ---------------------------------------------------------------------------------------
// The relay.

// Reads websocket frames (client → server, masked) and finds the end of the client's
// Engine.io upgrade packet: a text frame whose payload is `5`.
class FrameReader {
  constructor() {
    this.inHead = true;
    this.buf = Buffer.alloc(0);
    this.offset = 0; // stream offset of buf[0]
  }

  // Feeds a chunk starting at stream offset `at`; returns the offset inside the chunk just
  // after the upgrade packet's frame, or -1.
  feed(chunk, at) {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.inHead) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return -1;
      this.inHead = false;
      this.offset += end + 4;
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return -1;
      let len = b[1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (b.length < 4) return -1;
        len = b.readUInt16BE(2);
        hdr = 4;
      } else if (len === 127) {
        if (b.length < 10) return -1;
        len = Number(b.readBigUInt64BE(2));
        hdr = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const keyAt = hdr;
      if (masked) hdr += 4;
      if (b.length < hdr + len) return -1;
      const payload = Buffer.from(b.subarray(hdr, hdr + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[keyAt + (i % 4)];
      const opcode = b[0] & 0x0f;
      const compressed = (b[0] & 0x40) !== 0;
      this.buf = b.subarray(hdr + len);
      this.offset += hdr + len;
      if (opcode === 1 && !compressed && payload.toString('utf8') === '5') return this.offset - at;
    }
  }
}

// A relay to TARGET, listening on 127.0.0.1 (ephemeral port). `delay`: ms each chunk is
// held, each way. `ws`: what happens to the connections whose request line has
// `transport=websocket` — 'pass', 'refuse', or 'silent-after-upgrade'. `cutWebsockets()`
// destroys both ends of every websocket connection still passing.
function startRelay({ delay = 0, ws = 'pass' } = {}) {
  const stats = { connections: 0, websockets: 0, refused: 0, upgrades: 0, silenced: 0, cut: 0, letGo: 0 };
  const events = new EventEmitter();
  const conns = new Set();
  const later = (fn) => setTimeout(fn, delay); // one duration: the timers fire in order

  const server = net.createServer((down) => {
    stats.connections++;
    const c = { down, up: null, ws: false, state: 'flowing' };
    conns.add(c);
    down.on('error', () => {});
    let head = Buffer.alloc(0);
    const onHead = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const eol = head.indexOf('\r\n');
      if (eol < 0) {
        if (head.length > 64 * 1024) down.destroy();
        return;
      }
      down.off('data', onHead);
      c.ws = head.subarray(0, eol).toString('latin1').includes('transport=websocket');
      if (c.ws) stats.websockets++;
      if (c.ws && ws === 'refuse') {
        stats.refused++;
        down.destroy();
        return;
      }
      const up = net.connect(TARGET.port, TARGET.host);
      c.up = up;
      up.on('error', () => {});
      const reader = c.ws ? new FrameReader() : null;
      let upOffset = 0;
      const upward = (data) => {
        if (c.state !== 'flowing') return;
        let chunk = data;
        let upgradeEnd = -1;
        if (reader) {
          upgradeEnd = reader.feed(data, upOffset);
          upOffset += data.length;
          // Silent after the upgrade: what the client sent after its `5` is lost.
          if (upgradeEnd >= 0 && ws === 'silent-after-upgrade') chunk = data.subarray(0, upgradeEnd);
        }
        later(() => {
          if (c.state !== 'flowing') return;
          up.write(chunk);
          if (upgradeEnd >= 0) {
            stats.upgrades++;
            if (ws === 'silent-after-upgrade') {
              c.state = 'silent';
              stats.silenced++;
            }
            events.emit('upgrade', c);
          }
        });
      };
      const downward = (data) => {
        if (c.state !== 'flowing') return;
        later(() => {
          if (c.state === 'flowing') down.write(data);
        });
      };
      const ends = (from, to, isClient) => {
        from.on('end', () => {
          if (c.state === 'silent' && isClient) stats.letGo++;
          if (c.state === 'flowing') later(() => c.state === 'flowing' && to.end());
        });
        from.on('close', (hadError) => {
          if (c.state === 'flowing') later(() => (hadError ? to.destroy() : to.end()));
        });
      };
      down.on('data', upward);
      up.on('data', downward);
      ends(down, up, true);
      ends(up, down, false);
      upward(head);
    };
    down.on('data', onHead);
  });

  const relay = {
    stats,
    events,
    url: null,
    cutWebsockets() {
      for (const c of conns) {
        if (c.ws && c.up && c.state === 'flowing') {
          c.state = 'cut';
          stats.cut++;
          c.down.destroy();
          c.up.destroy();
        }
      }
    },
    silenceWebsockets() {
      for (const c of conns) {
        if (c.ws && c.up && c.state === 'flowing') {
          c.state = 'silent';
          stats.silenced++;
        }
      }
    },
    close() {
      server.close();
      for (const c of conns) {
        c.state = 'closed';
        c.down.destroy();
        if (c.up) c.up.destroy();
      }
    },
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      relay.url = `http://127.0.0.1:${server.address().port}`;
      resolve(relay);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Cases.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One case's context: what to clean up, and a fatal event (an unexpected close, …) that
// fails the pending wait at once.
class Ctx {
  constructor() {
    this.cleanups = [];
    this.fatal = null;
    this.over = false;
  }

  async relay(opts) {
    const r = await startRelay(opts);
    this.cleanups.push(() => r.close());
    return r;
  }

  fail(why) {
    if (!this.fatal) this.fatal = new Error(why);
  }

  // Waits until `pred()` holds; checks every 5 ms.
  async until(pred, what) {
    for (;;) {
      if (this.fatal) throw this.fatal;
      if (this.over) throw new Error(`gave up waiting for ${what}`);
      if (pred()) return;
      await sleep(5);
    }
  }

  // Waits `ms`, failing at once on a fatal event.
  async hold(ms) {
    const end = Date.now() + ms;
    await this.until(() => Date.now() >= end, `${ms} ms to pass`);
  }

  cleanup() {
    this.over = true;
    for (const f of this.cleanups.reverse()) {
      try {
        f();
      } catch (e) {
        // best effort
      }
    }
  }
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const fmt = (list) => JSON.stringify(list.length > 8 ? [...list.slice(0, 4), '…', ...list.slice(-3)] : list);

function eioSocket(ctx, relay, opts) {
  const socket = new eio.Socket(relay.url, Object.assign({ transports: ['polling', 'websocket'] }, opts));
  const s = { socket, got: [], pings: [], closed: null, openAt: null, upgradedAt: null, upgradeErrors: [] };
  socket.on('message', (m) => s.got.push(m));
  socket.on('ping', () => s.pings.push(Date.now()));
  socket.on('open', () => { s.openAt = Date.now(); });
  socket.on('upgrade', () => { s.upgradedAt = Date.now(); });
  socket.on('upgradeError', (e) => s.upgradeErrors.push(String(e && e.message)));
  socket.on('close', (reason, desc) => {
    s.closed = { reason, at: Date.now(), desc: desc && (desc.description || desc.message || String(desc)) };
  });
  socket.on('error', () => {});
  ctx.cleanups.push(() => socket.close());
  return s;
}

// 1. 40 ms each way: the upgrade completes; 5 messages before it and 20 after are echoed once
//    and in order.
async function eioDelay(ctx) {
  const relay = await ctx.relay({ delay: 40 });
  const s = eioSocket(ctx, relay);
  s.socket.on('close', (r) => ctx.fail(`closed: ${r}`));
  await ctx.until(() => s.socket.readyState === 'open', 'open');
  const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
  before.forEach((m) => s.socket.send(m));
  await ctx.until(() => s.upgradedAt, 'the upgrade');
  if (s.socket.transport.name !== 'websocket') throw new Error(`upgraded to ${s.socket.transport.name}`);
  const after = Array.from({ length: 20 }, (_, i) => `after-${i}`);
  after.forEach((m) => s.socket.send(m));
  const all = before.concat(after);
  await ctx.until(() => s.got.length >= all.length, `${all.length} echoes (have ${s.got.length})`);
  await ctx.hold(200); // a duplicate would arrive within this
  if (!same(s.got, all)) throw new Error(`echoes ${fmt(s.got)}, want ${fmt(all)}`);
  if (s.socket.transport.name !== 'websocket') throw new Error(`transport ${s.socket.transport.name} at the end`);
  return `upgraded to websocket, ${all.length} echoes once and in order, ${relay.stats.connections} connections through the relay`;
}

// 2. The websocket refused: the probe fails and the session stays on polling, through
//    several heartbeats, echoing, with no close.
async function eioWsRefused(ctx) {
  const relay = await ctx.relay({ ws: 'refuse' });
  const s = eioSocket(ctx, relay);
  s.socket.on('close', (r) => ctx.fail(`closed: ${r}`));
  s.socket.on('upgrade', () => ctx.fail('upgraded through a path that refuses websockets'));
  await ctx.until(() => s.socket.readyState === 'open', 'open');
  const first = Array.from({ length: 10 }, (_, i) => `first-${i}`);
  const second = Array.from({ length: 10 }, (_, i) => `second-${i}`);
  first.forEach((m) => s.socket.send(m));
  await ctx.until(() => s.got.length >= first.length, 'the first 10 echoes');
  const pingsBefore = s.pings.length;
  await ctx.hold(1200);
  second.forEach((m) => s.socket.send(m));
  await ctx.until(() => s.got.length >= 20, 'the second 10 echoes');
  await ctx.hold(200);
  const all = first.concat(second);
  if (!same(s.got, all)) throw new Error(`echoes ${fmt(s.got)}, want ${fmt(all)}`);
  if (relay.stats.refused < 1) throw new Error('the client never tried the websocket');
  if (s.upgradeErrors.length < 1) throw new Error('no upgradeError');
  if (s.socket.transport.name !== 'polling') throw new Error(`transport ${s.socket.transport.name}`);
  const heartbeats = s.pings.length - pingsBefore;
  if (heartbeats < 3) throw new Error(`only ${heartbeats} pings in 1.2 s`);
  return `stayed on polling (${relay.stats.refused} websocket refused, upgradeError "${s.upgradeErrors[0]}"), ` +
    `20 echoes once and in order, ${heartbeats} pings answered over 1.2 s, no close`;
}

// 3. Silent right after the upgrade packet: the client must end with `ping timeout`.
async function eioSilentUpgraded(ctx) {
  const relay = await ctx.relay({ ws: 'silent-after-upgrade' });
  let silentAt = null;
  relay.events.on('upgrade', () => { silentAt = Date.now(); });
  const s = eioSocket(ctx, relay);
  await ctx.until(() => s.socket.readyState === 'open', 'open');
  await ctx.until(() => s.upgradedAt && silentAt, 'the upgrade');
  s.socket.send('lost'); // over the silent websocket: never echoed
  await ctx.until(() => s.closed, 'the close (engine.io-client has no bound but its heartbeat)');
  if (s.closed.reason !== 'ping timeout') throw new Error(`closed with "${s.closed.reason}" (${s.closed.desc}), want "ping timeout"`);
  if (s.got.length) throw new Error(`echoed over a silent path: ${fmt(s.got)}`);
  // The heartbeat: pingInterval + pingTimeout (500 ms) after the last ping, or after the
  // handshake when no ping came before the path went silent.
  const lastPing = s.pings.length ? s.pings[s.pings.length - 1] : null;
  const since = Math.max(s.openAt, lastPing || 0);
  const sinceSilent = s.closed.at - silentAt;
  if (s.closed.at - since < 480) throw new Error(`closed ${s.closed.at - since} ms after the last ping or the handshake, before pingInterval + pingTimeout`);
  return `"ping timeout" ${sinceSilent} ms after the path went silent, ${s.closed.at - since} ms after the ` +
    `${lastPing ? 'last ping' : 'handshake (no ping before the silence)'}; ` +
    `the path went silent right after the upgrade packet; the client ${relay.stats.letGo ? 'let go of' : 'still holds'} ` +
    'the silent connection (ws waits 30 s for the Close it sent)';
}

// 3b. The same partition later: after an echo and 2 pings over the websocket, nothing more
//     passes either way. `ping timeout` again, pingInterval + pingTimeout after the last ping.
async function eioSilentLater(ctx) {
  const relay = await ctx.relay({});
  const s = eioSocket(ctx, relay);
  await ctx.until(() => s.socket.readyState === 'open', 'open');
  await ctx.until(() => s.upgradedAt, 'the upgrade');
  s.socket.send('over websocket');
  await ctx.until(() => s.got.length === 1, 'the echo over websocket');
  if (s.closed) throw new Error(`closed: ${s.closed.reason}`);
  let silentAt = null;
  const pingsThen = s.pings.length;
  s.socket.on('ping', () => {
    if (!silentAt && s.pings.length >= pingsThen + 2) {
      relay.silenceWebsockets(); // right after the ping (its pong is lost)
      silentAt = Date.now();
      s.socket.send('lost');
    }
  });
  await ctx.until(() => s.closed, 'the close');
  if (!silentAt) throw new Error(`closed with "${s.closed.reason}" before the path went silent`);
  if (s.closed.reason !== 'ping timeout') throw new Error(`closed with "${s.closed.reason}" (${s.closed.desc}), want "ping timeout"`);
  if (s.got.length !== 1) throw new Error(`echoes ${fmt(s.got)}`);
  const lastPing = s.pings[s.pings.length - 1];
  if (s.closed.at - lastPing < 480) throw new Error(`closed ${s.closed.at - lastPing} ms after the last ping, before pingInterval + pingTimeout`);
  return `echo and ${s.pings.length - pingsThen} pings over websocket, then silent: "ping timeout" ` +
    `${s.closed.at - silentAt} ms later (${s.closed.at - lastPing} ms after the last ping)`;
}

function sioSocket(ctx, relay, opts) {
  const socket = sio.io(relay.url, Object.assign({
    forceNew: true,
    transports: ['polling', 'websocket'],
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    randomizationFactor: 0,
    timeout: 5000,
  }, opts));
  const s = { socket, connects: 0, disconnects: [], auths: 0, back: [], connectErrors: [] };
  socket.on('connect', () => { s.connects++; });
  socket.on('auth', () => { s.auths++; });
  socket.on('message-back', (...args) => s.back.push(args));
  socket.on('disconnect', (reason, desc) => {
    s.disconnects.push({ reason, at: Date.now(), desc: desc && (desc.description || desc.message || String(desc)) });
  });
  socket.on('connect_error', (e) => s.connectErrors.push(String(e && e.message)));
  ctx.cleanups.push(() => socket.disconnect());
  return s;
}

function ackOf(ctx, socket, event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, (...back) => resolve(back)));
}

// 4. socket.io-client, the websocket cut after the upgrade: `disconnect` with `transport
//    close` or `transport error`, a reconnection by itself, and acks after it.
async function sioCutUpgraded(ctx) {
  const relay = await ctx.relay({});
  const s = sioSocket(ctx, relay);
  const engine = () => s.socket.io.engine;
  await ctx.until(() => s.connects === 1 && s.auths === 1, 'connect and auth');
  const firstId = s.socket.id;
  await ctx.until(() => engine() && engine().transport && engine().transport.name === 'websocket' && relay.stats.upgrades >= 1, 'the upgrade');
  s.socket.emit('message', 'before the cut', { n: 1 });
  await ctx.until(() => s.back.length >= 1, 'message-back before the cut');
  const want = JSON.stringify(['before the cut', { n: 1 }]);
  if (JSON.stringify(s.back[0]) !== want) throw new Error(`message-back ${JSON.stringify(s.back[0])}, want ${want}`);
  const cutAt = Date.now();
  relay.cutWebsockets();
  await ctx.until(() => s.disconnects.length >= 1, 'the disconnect');
  const d = s.disconnects[0];
  if (!['transport close', 'transport error'].includes(d.reason)) throw new Error(`disconnect "${d.reason}" (${d.desc})`);
  await ctx.until(() => s.connects >= 2 && s.auths >= 2, 'the reconnection');
  const reconnectedAt = Date.now();
  const args = ['after the cut', { n: 2, list: [1, 'two'] }];
  const t0 = Date.now();
  let back = null;
  ackOf(ctx, s.socket, 'message-with-ack', ...args).then((b) => { back = b; });
  await ctx.until(() => back, 'the ack after the reconnection');
  if (JSON.stringify(back) !== JSON.stringify(args)) throw new Error(`ack ${JSON.stringify(back)}, want ${JSON.stringify(args)}`);
  await ctx.hold(100);
  if (s.back.length !== 1) throw new Error(`message-back ${s.back.length} times`);
  if (s.disconnects.length !== 1) throw new Error(`${s.disconnects.length} disconnects: ${JSON.stringify(s.disconnects)}`);
  if (s.socket.id === firstId) throw new Error('the same socket id after the reconnection');
  return `message-back over websocket; cut → disconnect "${d.reason}" after ${d.at - cutAt} ms → connected again ` +
    `${reconnectedAt - d.at} ms later (new id, transport ${engine().transport.name}), ack in ${Date.now() - t0} ms; ` +
    `${relay.stats.cut} websocket cut, ${relay.stats.websockets} websockets in all`;
}

// 5. socket.io-client, 40 ms each way: acks both ways over polling and, after the upgrade,
//    over websocket; message-back too.
async function sioDelayAcks(ctx) {
  const relay = await ctx.relay({ delay: 40 });
  const s = sioSocket(ctx, relay);
  s.socket.on('disconnect', (r) => ctx.fail(`disconnected: ${r}`));
  const answers = [];
  const questions = [];
  s.socket.on('question', (payload, ack) => {
    questions.push(payload && payload.q);
    ack('answer', payload);
  });
  s.socket.on('answer-was', (...args) => answers.push(args));
  const engine = () => s.socket.io.engine;
  await ctx.until(() => s.connects === 1, 'connect');
  // Over polling (the probe is still on its way).
  const polling = engine().transport.name;
  const ackPolling = await Promise.race([ackOf(ctx, s.socket, 'message-with-ack', 'polling', 0),
    ctx.until(() => false, 'the ack over polling')]);
  if (JSON.stringify(ackPolling) !== JSON.stringify(['polling', 0])) throw new Error(`ack ${JSON.stringify(ackPolling)}`);
  await ctx.until(() => engine().transport.name === 'websocket', 'the upgrade');
  const n = 10;
  const acks = [];
  const order = [];
  for (let i = 0; i < n; i++) {
    ackOf(ctx, s.socket, 'message-with-ack', 'ws', i, { i }).then((b) => { acks[i] = b; order.push(i); });
    s.socket.emit('ask-client', { q: i });
    s.socket.emit('message', 'm', i);
  }
  await ctx.until(() => order.length === n && answers.length >= n && s.back.length >= n,
    `${n} acks, answers and echoes (have ${order.length}, ${answers.length}, ${s.back.length})`);
  await ctx.hold(200);
  for (let i = 0; i < n; i++) {
    if (JSON.stringify(acks[i]) !== JSON.stringify(['ws', i, { i }])) throw new Error(`ack ${i}: ${JSON.stringify(acks[i])}`);
    if (JSON.stringify(s.back[i]) !== JSON.stringify(['m', i])) throw new Error(`message-back ${i}: ${JSON.stringify(s.back[i])}`);
  }
  if (answers.length !== n || s.back.length !== n) throw new Error(`${answers.length} answers, ${s.back.length} echoes`);
  const inOrder = (list) => same(list, Array.from({ length: n }, (_, i) => i));
  if (!inOrder(order)) throw new Error(`acks out of order: ${order}`);
  if (!inOrder(questions)) throw new Error(`questions out of order: ${questions}`);
  // Each answer came back once, with what the client acked. (Their order is the server app's:
  // pushwire serve awaits each answer in a task of its own, so answers acked together may be
  // re-emitted in any order; node's socket.io runs ack callbacks in the order the ACKs come.)
  const answered = answers.map((a) => (a[0] === 'answer' && a.length === 2 && a[1] ? a[1].q : NaN));
  if (!inOrder(answered.slice().sort((a, b) => a - b))) throw new Error(`answer-was ${JSON.stringify(answers)}`);
  return `ack over ${polling}; upgraded; ${n} client→server acks and ${n} message-back in order, ${n} questions ` +
    `acked by the client in order, each answer-was once (${inOrder(answered) ? 'in order' : `order ${answered.join(',')}`})`;
}

const CASES = [
  ['eio-delay', 5000, eioDelay],
  ['eio-ws-refused', 6000, eioWsRefused],
  ['eio-silent-upgraded', 5000, eioSilentUpgraded],
  ['eio-silent-later', 5000, eioSilentLater],
  ['sio-cut-upgraded', 6000, sioCutUpgraded],
  ['sio-delay-acks', 5000, sioDelayAcks],
];

async function main() {
  console.log(`engine.io-client ${EIO_VERSION}, socket.io-client ${SIO_VERSION} -> ${url} through a relay on 127.0.0.1`);
  const started = Date.now();
  let failed = 0;
  for (const [name, deadline, run] of CASES) {
    const ctx = new Ctx();
    const t0 = Date.now();
    let timer;
    const overdue = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within the deadline of ${deadline / 1000} s`)), deadline);
    });
    const caseRun = run(ctx);
    caseRun.catch(() => {}); // after the deadline its rejection is expected
    let line;
    try {
      const detail = await Promise.race([caseRun, overdue]);
      line = `PASS ${name} (${((Date.now() - t0) / 1000).toFixed(2)} s): ${detail}`;
    } catch (e) {
      failed++;
      line = `FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(2)} s): ${e.message}`;
    }
    clearTimeout(timer);
    ctx.cleanup();
    console.log(line);
    await sleep(50);
  }
  console.log(`SUMMARY ${CASES.length - failed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Whatever a client still holds (a websocket closing over a silent path waits 30 s for the
  // peer's Close) must not keep the run.
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
