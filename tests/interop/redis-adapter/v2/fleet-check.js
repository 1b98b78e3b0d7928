'use strict';
// The mixed fleet check, socket.io 2 side (issue 17, "Proof"): two `pushwire serve --redis URL
// --redis-wire socket.io-redis-5` nodes (P1, P2) and one socket.io 2.5 + socket.io-redis 5.4
// node (N3, v2/fleet-server.js) on one Redis, socket.io-client 2.5 clients on each.
// (The chat protocol carries no binary argument, so no binary case here.)
//
// Usage: node v2/fleet-check.js P1_URL P2_URL N3_URL REDIS_URL
// Prints one "ok  " / "FAIL" line per check and a SUMMARY line; exit code 1 when any failed.

const ioc = require('socket.io-client');
const redis = require('redis');

const [P1, P2, N3, REDIS] = process.argv.slice(2);
if (!REDIS) {
  console.error('usage: node v2/fleet-check.js P1_URL P2_URL N3_URL REDIS_URL');
  process.exit(2);
}
const NODES = { P1, P2, N3 };
// Room s has a non-ASCII name with a space: its Redis channel is socket.io#/#chat:<UTF-8>#.
const S = 'sé ü';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ACK_MS = 8000; // every ack: fleet requests time out after 5 s on either implementation
const DELIVERY_MS = 5000;
const QUIET_MS = 400;

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

const sameSet = (a, b) => Array.isArray(a) && a.length === b.length && [...a].sort().join() === [...b].sort().join();

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
  });
  const c = { ...spec, socket, chats: [], disconnectReason: null };
  socket.on('chat', (msg) => c.chats.push(msg));
  c.shouts = [];
  socket.on('shout', (msg) => c.shouts.push(msg));
  socket.on('disconnect', (reason) => { c.disconnectReason = reason; });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${spec.name}: no connect in 5 s`)), 5000);
    socket.once('connect', () => { clearTimeout(t); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(t); reject(new Error(`${spec.name}: ${e.message || e}`)); });
  });
  c.id = socket.id;
  // A socket.io 2 client sends no CONNECT payload: both implementations name it this way.
  c.from = 'guest-' + socket.id.slice(0, 6);
  return c;
}

// socket.io-client 2 has no emitWithAck nor timeout(): an ack or an error after ACK_MS.
const ask = (c, event, ...args) => new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`${c.name}: no ack to ${event} in ${ACK_MS} ms`)), ACK_MS);
  c.socket.emit(event, ...args, (answer) => { clearTimeout(t); resolve(answer); });
});

async function checkChats(name, sent, room, targets, others) {
  const want = (c) => sent.filter((m) => m.from !== c.from);
  const got = (c) => c.chats.filter((m) => sent.some((s) => s.text === m.text));
  await waitUntil(() => targets.every((c) => got(c).length >= want(c).length), DELIVERY_MS);
  await sleep(QUIET_MS);
  const problems = [];
  for (const c of targets) {
    for (const m of want(c)) {
      const n = got(c).filter((x) => x.text === m.text && x.from === m.from && x.room === room).length;
      if (n !== 1) problems.push(`${c.name} got "${m.text}" ${n} times`);
    }
    const own = got(c).filter((x) => x.from === c.from).length;
    if (own) problems.push(`${c.name} got its own message ${own} times`);
  }
  for (const c of others) {
    const n = got(c).length;
    if (n) problems.push(`${c.name} (not a recipient) got ${n}: ${JSON.stringify(got(c))}`);
  }
  const total = targets.reduce((n, c) => n + want(c).length, 0);
  report(name, problems.length === 0, problems.length ? problems.join('; ') : `${total} deliveries, each once, none to others`);
}

async function numsub(url) {
  const c = redis.createClient(url);
  c.on('error', () => {});
  const ch = 'socket.io-request#/#';
  const get = () => new Promise((resolve, reject) => c.send_command('pubsub', ['numsub', ch], (e, r) => (e ? reject(e) : resolve(Number(r[1])))));
  let n = 0;
  for (const deadline = Date.now() + 10000; Date.now() < deadline; await sleep(50)) {
    n = await get();
    if (n >= 3) break;
  }
  c.quit();
  return n;
}

async function main() {
  const subscribed = await numsub(REDIS);
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
  report('connect and join', true, `${clients.length} socket.io-client 2.5 clients (${clients.map((c) => c.name).join(' ')})`);

  // 1. chats cross the fleet: every other room-r client on every node, exactly once.
  {
    const sent = [];
    const acks = [];
    for (const c of inR) {
      const text = `hello from ${c.name} ${Math.random().toString(36).slice(2, 8)}`;
      sent.push({ from: c.from, text });
      acks.push(ask(c, 'chat', { room: 'r', text }));
    }
    const bad = (await Promise.all(acks)).filter((a) => !a || !a.ok);
    if (bad.length) report('chat r: acks', false, JSON.stringify(bad));
    await checkChats('chat r from every node (ws + polling) to room r on every node', sent, 'r', inR, inS);
  }
  {
    const sent = [];
    for (const c of inS) {
      const text = `s-side ${c.name} ${Math.random().toString(36).slice(2, 8)}`;
      sent.push({ from: c.from, text });
      await ask(c, 'chat', { room: S, text });
    }
    await checkChats(`chat in room "${S}" from every node to that room only`, sent, S, inS, inR);
  }

  // 2. clients("r") on N3 (socket.io-redis 5 `clients` request): the pushwire nodes' sockets too.
  const rIds = inR.map((c) => c.id);
  try {
    const a = await ask(byName['N3-s-ws'], 'clients', 'r');
    const ok = a && a.ok && sameSet(a.sockets, rIds);
    report('clients("r") on N3 (adapter.clients across the fleet)', !!ok, ok ? `${rIds.length} ids, as the clients see them` : `got ${JSON.stringify(a)}, want ${JSON.stringify(rIds)}`);
  } catch (e) {
    report('clients("r") on N3 (adapter.clients across the fleet)', false, e.message);
  }

  // 2b. roomsof(sid) on N3 (clientRooms, answered by the owner) for a socket on P1 and on P2.
  for (const name of ['P1-r-ws', 'P2-r-poll']) {
    const c = byName[name];
    try {
      const a = await ask(byName['N3-s-ws'], 'roomsof', c.id);
      const ok = a && a.ok && sameSet(a.rooms, [c.id, 'chat:r']);
      report(`roomsof(${name}) on N3 (clientRooms from the owner)`, !!ok, ok ? JSON.stringify(a.rooms) : `got ${JSON.stringify(a)}, want ${JSON.stringify([c.id, 'chat:r'])}`);
    } catch (e) {
      report(`roomsof(${name}) on N3 (clientRooms from the owner)`, false, e.message);
    }
  }

  // 2c. allrooms() on N3 (allRooms): every node's rooms, the socket id rooms included.
  try {
    const a = await ask(byName['N3-s-ws'], 'allrooms');
    const want = ['chat:r', 'chat:' + S, ...clients.map((c) => c.id)];
    const missing = a && a.ok && Array.isArray(a.rooms) ? want.filter((r) => !a.rooms.includes(r)) : want;
    const extra = a && a.ok && Array.isArray(a.rooms) ? a.rooms.filter((r) => !want.includes(r)) : [];
    const ok = missing.length === 0 && extra.length === 0;
    report('allrooms() on N3 (allRooms across the fleet)', ok, ok ? `${want.length} rooms` : `missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`);
  } catch (e) {
    report('allrooms() on N3 (allRooms across the fleet)', false, e.message);
  }

  // 2d. shout on N3 — io.emit to everyone — reaches every client on every node exactly once.
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

  // 3. who("r") on P1: on a socket.io-redis 5 fleet, this node's sockets only, `local: true`
  // (crates/cli/src/siofleet.rs).
  try {
    const want = inR.filter((c) => c.node === 'P1').map((c) => c.id);
    const a = await ask(byName['P1-s-ws'], 'who', 'r');
    const ok = a && a.ok && a.local === true && sameSet(a.sockets, want);
    report('who("r") on P1 (local only on this wire, as documented)', !!ok, ok ? `${want.length} ids, local: true` : `got ${JSON.stringify(a)}, want ${JSON.stringify(want)}`);
  } catch (e) {
    report('who("r") on P1 (local only on this wire, as documented)', false, e.message);
  }

  // 4. custom() on N3 (customRequest): every server answers, the requester included; the
  // pushwire nodes answer null.
  try {
    const a = await ask(byName['N3-s-ws'], 'custom', { hello: 'fleet' });
    const replies = a && a.ok && Array.isArray(a.replies) ? a.replies : null;
    const ok = replies && replies.length === 3 &&
      replies.filter((x) => x === null).length === 2 &&
      replies.filter((x) => x && x.node === 'node').length === 1;
    report('custom() on N3 (customRequest: N3 itself + null from each pushwire node)', !!ok, `replies ${JSON.stringify(a && a.replies)}`);
  } catch (e) {
    report('custom() on N3 (customRequest: N3 itself + null from each pushwire node)', false, e.message);
  }

  // 5. remotejoin of pushwire-node sockets into "t", then a chat to "t" from N3 reaches exactly them.
  {
    const joinedRemote = [byName['P1-r-ws'], byName['P2-r-poll']];
    const sender = byName['N3-r-ws'];
    const problems = [];
    try {
      for (const c of joinedRemote) {
        const a = await ask(byName['N3-s-ws'], 'remotejoin', { sid: c.id, to: 't' });
        if (!a || !a.ok) problems.push(`remotejoin ${c.name}: ${JSON.stringify(a)}`);
      }
      const j = await ask(sender, 'join', 't');
      if (!j || !j.ok) problems.push(`join t: ${JSON.stringify(j)}`);
      const want = [sender, ...joinedRemote].map((c) => c.id);
      const a = await ask(byName['N3-s-ws'], 'clients', 't');
      if (!a || !a.ok || !sameSet(a.sockets, want)) problems.push(`clients("t") ${JSON.stringify(a)}, want ${JSON.stringify(want)}`);
    } catch (e) {
      problems.push(e.message);
    }
    report('remotejoin of P1/P2 sockets into "t" from N3 (acked by the owner; clients("t") lists them)', problems.length === 0, problems.join('; ') || 'P1-r-ws, P2-r-poll joined');
    const text = `to t ${Math.random().toString(36).slice(2, 8)}`;
    const a = await ask(sender, 'chat', { room: 't', text }).catch((e) => ({ ok: false, error: e.message }));
    if (!a || !a.ok) report('chat t from N3: ack', false, JSON.stringify(a));
    await checkChats('chat t from N3 reaches exactly the remote-joined P1/P2 sockets', [{ from: sender.from, text }], 't',
      joinedRemote, clients.filter((c) => c !== sender && !joinedRemote.includes(c)));
    // "The sender must be in the room": a socket remote-joined to "t" is in chat:t on its
    // node, so its chat to "t" is accepted there (as N3 does for its own sockets).
    const p1 = byName['P1-r-ws'];
    const text2 = `to t from P1 ${Math.random().toString(36).slice(2, 8)}`;
    const a2 = await ask(p1, 'chat', { room: 't', text: text2 }).catch((e) => ({ ok: false, error: e.message }));
    if (!a2 || !a2.ok) {
      report('chat t from P1-r-ws (remote-joined to "t" by N3): accepted', false, `ack ${JSON.stringify(a2)}`);
    } else {
      const inT = [sender, ...joinedRemote];
      await checkChats('chat t from P1-r-ws (remote-joined to "t" by N3) reaches the others in "t"', [{ from: p1.from, text: text2 }], 't',
        inT, clients.filter((c) => !inT.includes(c)));
    }
  }

  // 6. remotekick (remoteDisconnect with close) of the room-s sockets on P1 and P2.
  {
    const victims = [byName['P1-s-ws'], byName['P2-s-ws']];
    const problems = [];
    for (const c of victims) {
      const a = await ask(byName['N3-r-ws'], 'remotekick', { sid: c.id }).catch((e) => ({ ok: false, error: e.message }));
      if (!a || !a.ok) problems.push(`remotekick ${c.name}: ${JSON.stringify(a)}`);
    }
    await waitUntil(() => victims.every((c) => c.disconnectReason), DELIVERY_MS);
    await sleep(QUIET_MS);
    for (const c of victims) {
      if (c.disconnectReason !== 'io server disconnect') problems.push(`${c.name}: ${c.disconnectReason || 'still connected'}`);
    }
    for (const c of clients.filter((x) => !victims.includes(x))) {
      if (c.disconnectReason) problems.push(`${c.name} disconnected too: ${c.disconnectReason}`);
    }
    report('remotekick of P1/P2 sockets from N3 (remoteDisconnect)', problems.length === 0, problems.join('; ') || '2 sockets got "io server disconnect", the others stayed');
  }

  for (const c of clients) c.socket.close();
  const passed = results.filter(Boolean).length;
  console.log(`SUMMARY ${passed}/${results.length} checks passed`);
  process.exit(passed === results.length ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL exception: ${e && e.stack}`);
  process.exit(1);
});
