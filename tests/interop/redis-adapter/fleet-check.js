'use strict';
// The mixed fleet check (issue 17, "Proof"): two `pushwire serve --redis` nodes (P1, P2) and
// one socket.io 4.8 + @socket.io/redis-adapter 8 node (N3, fleet-server.js) on one Redis,
// socket.io-client 4.8 clients on each, the chat protocol of crates/cli/src/siochat.rs.
//
// Usage: node fleet-check.js P1_URL P2_URL N3_URL REDIS_URL
// Prints one "ok  " / "FAIL" line per check and a SUMMARY line; exit code 1 when any failed.

const ioc = require('socket.io-client');
const { createClient } = require('redis');

const [P1, P2, N3, REDIS] = process.argv.slice(2);
if (!REDIS) {
  console.error('usage: node fleet-check.js P1_URL P2_URL N3_URL REDIS_URL');
  process.exit(2);
}
const NODES = { P1, P2, N3 };
// Room s has a non-ASCII name with a space: its Redis channel is socket.io#/#chat:<UTF-8>#.
const S = 'sé ü';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ACK_MS = 8000; // every ack: fleet requests time out after 5 s on either implementation
const DELIVERY_MS = 5000; // every expected delivery
const QUIET_MS = 400; // after the expected deliveries, to catch duplicates and strays

// Whole-run deadline: a hang fails the check instead of blocking CI.
setTimeout(() => {
  console.log('FAIL deadline: the check did not finish in 90 s');
  process.exit(1);
}, 90000).unref();

const results = [];
function report(name, ok, detail) {
  results.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
}

async function waitUntil(pred, ms) {
  const deadline = Date.now() + ms;
  while (!pred() && Date.now() < deadline) await sleep(10);
  return pred();
}

const sameSet = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

// Clients: on every node one room-r client over websocket, one over polling, one room-s
// client over websocket.
const SPECS = [];
for (const node of Object.keys(NODES)) {
  SPECS.push({ name: `${node}-r-ws`, node, room: 'r', transports: ['websocket'] });
  SPECS.push({ name: `${node}-r-poll`, node, room: 'r', transports: ['polling'] });
  SPECS.push({ name: `${node}-s-ws`, node, room: S, transports: ['websocket'] });
}

async function connect(spec) {
  const socket = ioc(NODES[spec.node], {
    transports: spec.transports,
    upgrade: false,
    forceNew: true,
    reconnection: false,
    auth: { name: spec.name },
  });
  const c = { ...spec, socket, chats: [], disconnectReason: null };
  socket.on('chat', (msg) => c.chats.push(msg));
  c.shouts = [];
  socket.on('shout', (msg) => c.shouts.push(msg));
  socket.on('q', (cb) => { if (typeof cb === 'function') cb(socket.id); });
  socket.on('disconnect', (reason) => { c.disconnectReason = reason; });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${spec.name}: no connect in 5 s`)), 5000);
    socket.once('connect', () => { clearTimeout(t); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(t); reject(new Error(`${spec.name}: ${e.message}`)); });
  });
  c.id = socket.id;
  return c;
}

const ask = (c, event, ...args) => c.socket.timeout(ACK_MS).emitWithAck(event, ...args);

// Every client in `targets` gets each of `sent` ({from, text}) exactly once; `others` get none.
async function checkChats(name, sent, room, targets, others) {
  const want = (c) => sent.filter((m) => m.from !== c.name);
  const got = (c) => c.chats.filter((m) => sent.some((s) => s.text === m.text));
  await waitUntil(() => targets.every((c) => got(c).length >= want(c).length), DELIVERY_MS);
  await sleep(QUIET_MS);
  const problems = [];
  for (const c of targets) {
    for (const m of want(c)) {
      const n = got(c).filter((x) => x.text === m.text && x.from === m.from && x.room === room).length;
      if (n !== 1) problems.push(`${c.name} got "${m.text}" ${n} times`);
    }
    const own = got(c).filter((x) => x.from === c.name).length;
    if (own) problems.push(`${c.name} got its own message ${own} times`);
  }
  for (const c of others) {
    const n = got(c).length;
    if (n) problems.push(`${c.name} (not a recipient) got ${n}: ${JSON.stringify(got(c))}`);
  }
  const total = targets.reduce((n, c) => n + want(c).length, 0);
  report(name, problems.length === 0, problems.length ? problems.join('; ') : `${total} deliveries, each once, none to others`);
}

// A `/ws/chat` member (node `ws`): the texts it receives.
async function wsChat(base) {
  const WebSocket = require('ws');
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws/chat');
  const m = { ws, texts: [] };
  ws.on('message', (data, binary) => { if (!binary) m.texts.push(data.toString()); });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return m;
}

// A `/sse/chat` reader: the data of each event it receives.
async function sseChat(base) {
  const http = require('http');
  const r = { texts: [], req: null };
  await new Promise((resolve, reject) => {
    r.req = http.get(base + '/sse/chat', { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`/sse/chat: ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const data = buf.slice(0, end).split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
          if (data.length) r.texts.push(data.join('\n'));
          buf = buf.slice(end + 2);
        }
      });
      resolve();
    });
    r.req.on('error', reject);
  });
  return r;
}

async function demoChats() {
  let problems = [];
  let members = [];
  try {
    const a = await wsChat(P1);
    const b = await wsChat(P2);
    const sa = await sseChat(P1);
    const sb = await sseChat(P2);
    members = [a, b, sa, sb];
    // Both nodes have relayed the joins before anything is said.
    await sleep(300);
    const fromA = `fleet ws from P1 ${Math.random().toString(36).slice(2, 8)}`;
    const fromB = `fleet ws from P2 ${Math.random().toString(36).slice(2, 8)}`;
    a.ws.send(fromA);
    b.ws.send(fromB);
    const count = (m, t) => m.texts.filter((x) => x === t).length;
    // Everybody gets each text once, its sender included (the chat echoes to the sender,
    // from its own task; a copy back through Redis would be a second).
    const want = [a, b, sa, sb].flatMap((m) => [[m, fromA], [m, fromB]]);
    await waitUntil(() => want.every(([m, t]) => count(m, t) >= 1), DELIVERY_MS);
    await sleep(QUIET_MS);
    const names = new Map([[a, 'P1 ws'], [b, 'P2 ws'], [sa, 'P1 sse'], [sb, 'P2 sse']]);
    for (const [m, t] of want) {
      const n = count(m, t);
      if (n !== 1) problems.push(`${names.get(m)} got "${t}" ${n} times`);
    }
  } catch (e) {
    problems.push(e.message);
  }
  for (const m of members) {
    if (m.ws) m.ws.close();
    if (m.req) m.req.destroy();
  }
  report(
    'the demo\'s /ws/chat and /sse/chat across P1 and P2 (a text from each node\'s WebSocket reaches both WebSockets and both event streams, once)',
    problems.length === 0,
    problems.length ? problems.join('; ') : '8 deliveries, each once',
  );
}

async function main() {
  // Every node subscribed to the request channel before anything is asked.
  const redis = createClient({ url: REDIS });
  redis.on('error', () => {});
  await redis.connect();
  const subscribed = await (async () => {
    for (const deadline = Date.now() + 10000; Date.now() < deadline; await sleep(50)) {
      const n = await redis.pubSubNumSub(['socket.io-request#/#']);
      if (n['socket.io-request#/#'] >= 3) return n['socket.io-request#/#'];
    }
    return (await redis.pubSubNumSub(['socket.io-request#/#']))['socket.io-request#/#'];
  })();
  await redis.quit();
  report('fleet: 3 nodes subscribed to socket.io-request#/#', subscribed === 3, `NUMSUB ${subscribed}`);

  const clients = [];
  for (const spec of SPECS) clients.push(await connect(spec));
  const byName = Object.fromEntries(clients.map((c) => [c.name, c]));
  const inR = clients.filter((c) => c.room === 'r');
  const inS = clients.filter((c) => c.room === S);
  for (const c of clients) {
    const a = await ask(c, 'join', c.room);
    if (!a || !a.ok) throw new Error(`${c.name}: join ${c.room}: ${JSON.stringify(a)}`);
  }
  report('connect and join', true, `${clients.length} clients (${clients.map((c) => c.name).join(' ')})`);

  // 1. a chat from a room-r client on each node (and from the polling ones) reaches every
  // other room-r client on every node exactly once, and no room-s client.
  {
    const sent = [];
    const acks = [];
    for (const c of inR) {
      const text = `hello from ${c.name} ${Math.random().toString(36).slice(2, 8)}`;
      sent.push({ from: c.name, text });
      acks.push(ask(c, 'chat', { room: 'r', text }));
    }
    const answers = await Promise.all(acks);
    const bad = answers.filter((a) => !a || !a.ok);
    if (bad.length) report('chat r: acks', false, JSON.stringify(bad));
    await checkChats('chat r from every node (ws + polling) to room r on every node', sent, 'r', inR, inS);
  }
  {
    const sent = [];
    for (const c of inS) {
      const text = `s-side ${c.name} ${Math.random().toString(36).slice(2, 8)}`;
      sent.push({ from: c.name, text });
      await ask(c, 'chat', { room: S, text });
    }
    await checkChats(`chat in room "${S}" from every node to that room only`, sent, S, inS, inR);
  }

  // 2. who("r") — fetchSockets across the mix — equals the ids the clients were given.
  const rIds = inR.map((c) => c.id);
  for (const node of ['P1', 'P2', 'N3']) {
    const asker = byName[`${node}-s-ws`];
    try {
      const a = await ask(asker, 'who', 'r');
      const ok = a && a.ok && Array.isArray(a.sockets) && a.sockets.length === rIds.length && sameSet(a.sockets, rIds);
      report(`who("r") asked on ${node} (fetchSockets)`, ok, ok ? `${a.sockets.length} ids, as the clients see them` : `got ${JSON.stringify(a)}, want ${JSON.stringify(rIds)}`);
    } catch (e) {
      report(`who("r") asked on ${node} (fetchSockets)`, false, e.message);
    }
  }

  // 3. ssping — serverSideEmitWithAck("ping") — one answer per other server.
  const expectedPings = { P1: ['node', 'pushwire'], P2: ['node', 'pushwire'], N3: ['pushwire', 'pushwire'] };
  for (const node of ['P1', 'P2', 'N3']) {
    const asker = byName[`${node}-r-ws`];
    try {
      const a = await ask(asker, 'ssping');
      const kinds = a && a.ok && Array.isArray(a.answers) ? a.answers.map((x) => x && x.node) : null;
      let ok = kinds && sameSet(kinds, expectedPings[node]);
      if (ok && node === 'N3') {
        const uids = a.answers.map((x) => x.uid);
        ok = uids.every((u) => typeof u === 'string') && new Set(uids).size === 2;
      }
      report(`ssping on ${node} (serverSideEmitWithAck)`, !!ok, `answers ${JSON.stringify(a && a.answers)}${ok ? '' : `, want nodes ${expectedPings[node]}`}`);
    } catch (e) {
      report(`ssping on ${node} (serverSideEmitWithAck)`, false, e.message);
    }
  }

  // 4. askall("r") on N3 — broadcast with acks — one ack per room-r client, fleet-wide.
  try {
    const a = await ask(byName['N3-s-ws'], 'askall', 'r');
    const ok = a && a.ok && Array.isArray(a.answers) && a.answers.length === rIds.length && sameSet(a.answers, rIds);
    report('askall("r") on N3 (emitWithAck to a room, acks from pushwire clients)', !!ok, ok ? `${a.answers.length} acks, one per room-r client` : `got ${JSON.stringify(a)}, want ${JSON.stringify(rIds)}`);
  } catch (e) {
    report('askall("r") on N3 (emitWithAck to a room, acks from pushwire clients)', false, e.message);
  }

  // 4b. askall("r") on P1 and P2 — pushwire starts the broadcast with acks: its own
  // clients answer, and N3 and the other pushwire node relay their clients' acks.
  for (const node of ['P1', 'P2']) {
    const label = `askall("r") on ${node} (pushwire's emit_with_ack across the fleet)`;
    try {
      const a = await ask(byName[`${node}-s-ws`], 'askall', 'r');
      const ok = a && a.ok && Array.isArray(a.answers) && a.answers.length === rIds.length && sameSet(a.answers, rIds);
      report(label, !!ok, ok ? `${a.answers.length} acks, one per room-r client` : `got ${JSON.stringify(a)}, want ${JSON.stringify(rIds)}`);
    } catch (e) {
      report(label, false, e.message);
    }
  }

  // 4a. allrooms() on N3 (allRooms): every node's rooms, the socket id rooms included.
  try {
    const a = await ask(byName['N3-s-ws'], 'allrooms');
    const want = ['chat:r', 'chat:' + S, ...clients.map((c) => c.id)];
    const got = a && a.ok && Array.isArray(a.rooms) ? a.rooms : [];
    const missing = want.filter((r) => !got.includes(r));
    const extra = got.filter((r) => !want.includes(r));
    const ok = a && a.ok && missing.length === 0 && extra.length === 0;
    report('allrooms() on N3 (allRooms across the fleet)', !!ok, ok ? `${want.length} rooms` : `missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)} (${JSON.stringify(a)})`);
  } catch (e) {
    report('allrooms() on N3 (allRooms across the fleet)', false, e.message);
  }

  // 4b. fetchSockets from N3 describes the pushwire nodes' sockets as socket.io describes its
  // own: `rooms` (own id room included), `handshake.query`, `handshake.auth` (the CONNECT
  // payload, here {name}), and the handshake fields socket.io 4 has (compared with what N3
  // gives for its own sockets, not a hard-coded list).
  try {
    const a = await ask(byName['N3-s-ws'], 'whois', 'r');
    if (!a || !a.ok || !Array.isArray(a.sockets)) throw new Error(`whois: ${JSON.stringify(a)}`);
    const byId = new Map(a.sockets.map((s) => [s.id, s]));
    const remote = inR.filter((c) => c.node !== 'N3');
    const nodeKeys = Object.keys((byId.get(byName['N3-r-ws'].id) || {}).handshake || {}).sort();
    const p1 = [];
    const p2 = [];
    const p3 = [];
    for (const c of remote) {
      const s = byId.get(c.id);
      if (!s) { p1.push(`${c.name} missing`); continue; }
      const hs = s.handshake || {};
      if (!sameSet(s.rooms, [c.id, 'chat:r'])) p1.push(`${c.name} rooms ${JSON.stringify(s.rooms)}`);
      const q = hs.query || {};
      if (q.EIO !== '4' || q.transport !== c.transports[0]) p1.push(`${c.name} query ${JSON.stringify(q)}`);
      if (!hs.auth || hs.auth.name !== c.name) p2.push(`${c.name} handshake.auth ${JSON.stringify(hs.auth)}, want {"name":"${c.name}"}`);
      const missing = nodeKeys.filter((k) => !(k in hs));
      if (missing.length) p3.push(`${c.name} lacks ${missing.join(',')}`);
    }
    report('fetchSockets from N3: pushwire sockets\' rooms and handshake.query', p1.length === 0, p1.join('; ') || `${remote.length} sockets`);
    report('fetchSockets from N3: pushwire sockets\' handshake.auth is the CONNECT payload', p2.length === 0, p2.join('; ') || `${remote.length} sockets`);
    report(`fetchSockets from N3: pushwire sockets' handshake has socket.io's fields (${nodeKeys.join(',')})`, p3.length === 0, p3.join('; ') || `${remote.length} sockets`);
  } catch (e) {
    report('fetchSockets from N3 (whois)', false, e.message);
  }

  // 4c. shout on N3 — io.emit to everyone — reaches every client on every node exactly once.
  {
    const text = `shout ${Math.random().toString(36).slice(2, 8)}`;
    const a = await ask(byName['N3-s-ws'], 'shout', text).catch((e) => ({ ok: false, error: e.message }));
    const count = (c) => c.shouts.filter((m) => m && m.text === text).length;
    await waitUntil(() => clients.every((c) => count(c) >= 1), DELIVERY_MS);
    await sleep(QUIET_MS);
    const problems = clients.filter((c) => count(c) !== 1).map((c) => `${c.name} got it ${count(c)} times`);
    if (!a || !a.ok) problems.unshift(`ack ${JSON.stringify(a)}`);
    report('shout on N3 (io.emit to all) reaches every client on every node once', problems.length === 0, problems.join('; ') || `${clients.length} clients`);
  }

  // 5. joinall({room: "r", to: "t"}) on N3 — socketsJoin, applied by every node — then a chat
  // to "t" from N3 reaches the room-r clients everywhere.
  {
    let ok = true;
    let detail = '';
    try {
      const a = await ask(byName['N3-s-ws'], 'joinall', { room: 'r', to: 't' });
      if (!a || !a.ok) throw new Error(`joinall: ${JSON.stringify(a)}`);
      let last;
      const joined = await (async () => {
        for (const deadline = Date.now() + DELIVERY_MS; Date.now() < deadline; await sleep(100)) {
          last = await ask(byName['N3-s-ws'], 'who', 't');
          if (last && last.ok && sameSet(last.sockets, rIds)) return true;
        }
        return false;
      })();
      if (!joined) {
        ok = false;
        detail = `who("t") after joinall: ${JSON.stringify(last)}, want ${JSON.stringify(rIds)}`;
      } else {
        detail = `who("t") lists the ${rIds.length} room-r clients`;
      }
    } catch (e) {
      ok = false;
      detail = e.message;
    }
    report('joinall({room: "r", to: "t"}) on N3 (socketsJoin on every node)', ok, detail);
    const sender = byName['N3-r-ws'];
    const text = `to t ${Math.random().toString(36).slice(2, 8)}`;
    const a = await ask(sender, 'chat', { room: 't', text }).catch((e) => ({ ok: false, error: e.message }));
    if (!a || !a.ok) report('chat t from N3: ack', false, JSON.stringify(a));
    await checkChats('chat t from N3 reaches the remote-joined room-r clients on P1/P2', [{ from: sender.name, text }], 't', inR, inS);

    // The chat protocol: "the sender must be in the room" — a socket joined to "t" by
    // socketsJoin is in the socket.io room chat:t on its node, so its chat to "t" is accepted
    // and delivered there too (as N3 does for its own sockets).
    const p1 = byName['P1-r-ws'];
    const text2 = `to t from P1 ${Math.random().toString(36).slice(2, 8)}`;
    const a2 = await ask(p1, 'chat', { room: 't', text: text2 }).catch((e) => ({ ok: false, error: e.message }));
    if (!a2 || !a2.ok) {
      report('chat t from P1-r-ws (remote-joined to "t" by N3): accepted', false, `ack ${JSON.stringify(a2)}`);
    } else {
      await checkChats('chat t from P1-r-ws (remote-joined to "t" by N3) reaches the others in "t"', [{ from: p1.name, text: text2 }], 't', inR, inS);
    }
  }

  // 5b. leaveall({room: "r", from: "t"}) on N3 — socketsLeave on every node — empties "t".
  {
    let last;
    let ok = false;
    try {
      const a = await ask(byName['N3-s-ws'], 'leaveall', { room: 'r', from: 't' });
      if (!a || !a.ok) throw new Error(`leaveall: ${JSON.stringify(a)}`);
      for (const deadline = Date.now() + DELIVERY_MS; Date.now() < deadline; await sleep(100)) {
        last = await ask(byName['N3-s-ws'], 'who', 't');
        if (last && last.ok && Array.isArray(last.sockets) && last.sockets.length === 0) { ok = true; break; }
      }
    } catch (e) {
      last = e.message;
    }
    report('leaveall({room: "r", from: "t"}) on N3 (socketsLeave on every node)', ok, ok ? 'who("t") is empty' : `who("t"): ${JSON.stringify(last)}`);
  }

  // 6. kick("s") on N3 — disconnectSockets — disconnects the room-s clients on every node.
  {
    const a = await ask(byName['N3-r-ws'], 'kick', S).catch((e) => ({ ok: false, error: e.message }));
    await waitUntil(() => inS.every((c) => c.disconnectReason), DELIVERY_MS);
    await sleep(QUIET_MS);
    const problems = [];
    if (!a || !a.ok) problems.push(`kick ack ${JSON.stringify(a)}`);
    for (const c of inS) {
      if (c.disconnectReason !== 'io server disconnect') problems.push(`${c.name}: ${c.disconnectReason || 'still connected'}`);
    }
    for (const c of inR) {
      if (c.disconnectReason) problems.push(`${c.name} (room r) disconnected too: ${c.disconnectReason}`);
    }
    report(`kick("${S}") on N3 (disconnectSockets on every node)`, problems.length === 0, problems.length ? problems.join('; ') : `${inS.length} room-s clients got "io server disconnect", room-r clients stayed`);
  }

  // 7. The demo's plain WebSocket and SSE chats are fleet-wide too (pushwire nodes only:
  // `/ws/chat` and `/sse/chat` are the demo's, relayed on an application channel).
  await demoChats();

  for (const c of clients) c.socket.close();
  const passed = results.filter(Boolean).length;
  console.log(`SUMMARY ${passed}/${results.length} checks passed`);
  process.exit(passed === results.length ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL exception: ${e && e.stack}`);
  process.exit(1);
});
