'use strict';
// Redis stopped and restarted under traffic in the mixed fleet (issue 17, "Faults"): the
// fleet of fleet-check.js (P1, P2: `pushwire serve --redis`; N3: socket.io 4.8 +
// @socket.io/redis-adapter 8, fleet-server.js), two socket.io-client 4.8 clients per node in
// room "o": a sender that emits a numbered chat every 40 ms, and a receiver.
//
//   before   1.5 s of traffic: every chat reaches every other client of the fleet once
//   outage   SHUTDOWN NOSAVE, 4.5 s of traffic (longer than the Redis clients' own quick
//            retries): every node keeps serving its local clients (no client disconnected,
//            every same-node chat delivered once, a new client can connect and join)
//   after    Redis restarted on the same port (this script starts it, with the command after
//            `--`): cross-node delivery resumes on all six ordered node pairs
//
// Checked: the above, no chat delivered twice anywhere, every node still serving at the end.
// Reported, not judged: how many of the chats sent during the outage reached the other
// nodes, per sender. Delivery across nodes is at most once for both implementations: a
// node keeps what it could not publish (node-redis's offline queue; pushwire's
// `offline_hold`) and publishes it when Redis is back, and what arrives before a node has
// re-subscribed is lost for that node. node-redis sends what it kept at once, pushwire
// once the fleet has as many nodes subscribed as before (docs/socketio.md); for node's
// side it is a race, so the count may vary from run to run.
//
// Usage: node fleet-outage.js P1_URL P2_URL N3_URL REDIS_URL -- REDIS_COMMAND ARGS...
// Prints one "ok  " / "FAIL" line per check and a SUMMARY line; exit code 1 when any failed.

const { spawn } = require('child_process');
const net = require('net');
// socket.io-client 4.8 here; v2/fleet-outage.js runs this script with its 2.5 (the calls
// below are those both have: emit with a callback, connect / connect_error / disconnect).
const ioc = require(process.env.SIO_CLIENT || 'socket.io-client');
const { createClient } = require('redis');

const dash = process.argv.indexOf('--');
const [P1, P2, N3, REDIS] = process.argv.slice(2, dash < 0 ? undefined : dash);
const restartCmd = dash < 0 ? [] : process.argv.slice(dash + 1);
if (!REDIS || restartCmd.length === 0) {
  console.error('usage: node fleet-outage.js P1_URL P2_URL N3_URL REDIS_URL -- REDIS_COMMAND ARGS...');
  process.exit(2);
}
const NODES = { P1, P2, N3 };
const NAMES = Object.keys(NODES);
const ROOM = 'o';
const EVERY_MS = 40;
const BEFORE_MS = 1500;
const OUTAGE_MS = 4500;
const RESUME_MS = 15000; // every pair must resume within this after Redis is back
const QUIET_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redisChild = null;
function cleanup() {
  if (redisChild && redisChild.exitCode === null) redisChild.kill('SIGKILL');
}
process.on('exit', cleanup);
setTimeout(() => {
  console.log('FAIL deadline: the outage check did not finish in 60 s');
  process.exit(1);
}, 60000).unref();

const results = [];
function report(name, ok, detail) {
  results.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
}

// Emits `event` with `arg` and waits (at most 5 s) for the ack.
function ask(socket, event, arg) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${event}: no ack in 5 s`)), 5000);
    socket.emit(event, arg, (a) => { clearTimeout(t); resolve(a); });
  });
}

async function connect(node, name) {
  const socket = ioc(NODES[node], {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: { name },
    query: { name },
  });
  const c = { node, name, socket, got: new Map(), disconnected: null };
  socket.on('chat', (msg) => {
    const m = /^(P1|P2|N3) #(\d+)$/.exec(msg && msg.text);
    if (!m) return;
    const key = `${m[1]}#${m[2]}`;
    c.got.set(key, (c.got.get(key) || 0) + 1);
  });
  socket.on('disconnect', (reason) => { c.disconnected = reason; });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name}: no connect in 5 s`)), 5000);
    socket.once('connect', () => { clearTimeout(t); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(t); reject(new Error(`${name}: ${e.message}`)); });
  });
  const a = await ask(socket, 'join', ROOM);
  if (!a || !a.ok) throw new Error(`${name}: join: ${JSON.stringify(a)}`);
  return c;
}

// The nodes where a new client (named `<node>-<suffix>`) connects and joins; the others'
// errors are passed to `failed`.
async function accepting(suffix, failed) {
  const ok = [];
  for (const node of NAMES) {
    try {
      const c = await connect(node, `${node}-${suffix}`);
      ok.push(node);
      c.socket.close();
    } catch (e) {
      failed(node, e);
    }
  }
  return ok;
}

function portOpen(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function main() {
  const clients = [];
  for (const node of NAMES) {
    clients.push(await connect(node, `${node}-send`));
    clients.push(await connect(node, `${node}-recv`));
  }
  const senders = clients.filter((c) => c.name.endsWith('-send'));
  // Sent chats: node -> [{seq, at, phase}].
  const sent = Object.fromEntries(NAMES.map((n) => [n, []]));
  let phase = 'before';
  let seq = 0;
  const ticker = setInterval(() => {
    seq += 1;
    for (const s of senders) {
      s.socket.emit('chat', { room: ROOM, text: `${s.node} #${seq}` });
      sent[s.node].push({ seq, at: Date.now(), phase });
    }
  }, EVERY_MS);

  await sleep(BEFORE_MS);
  // Redis goes away.
  const admin = createClient({ url: REDIS });
  admin.on('error', () => {});
  await admin.connect();
  await admin.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => {});
  await admin.disconnect().catch(() => {});
  phase = 'outage';
  const downAt = Date.now();
  let down = false;
  for (let i = 0; i < 50 && !down; i++) {
    down = !(await portOpen(REDIS));
    if (!down) await sleep(20);
  }
  report('Redis stopped (SHUTDOWN NOSAVE)', down, down ? '' : 'still accepting connections');

  // While it is away: a new client can connect and join on every node.
  await sleep(OUTAGE_MS / 2);
  const fresh = await accepting('new', (node, e) =>
    report(`${node}: a new client connects and joins while Redis is down`, false, e.message),
  );
  report('every node accepts a new client while Redis is down', fresh.length === NAMES.length, fresh.join(' '));
  await sleep(OUTAGE_MS / 2);

  // Redis comes back on the same port.
  phase = 'after';
  const upAt = Date.now();
  redisChild = spawn(restartCmd[0], restartCmd.slice(1), { stdio: 'ignore' });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await portOpen(REDIS);
    if (!up) await sleep(50);
  }
  report('Redis restarted', up, `after an outage of ${((upAt - downAt) / 1000).toFixed(1)} s`);

  // Until every ordered pair has a chat sent after the restart, or RESUME_MS.
  const recvOf = (node) => clients.find((c) => c.name === `${node}-recv`);
  const resumedAt = {};
  const deadline = Date.now() + RESUME_MS;
  while (Date.now() < deadline) {
    for (const from of NAMES) {
      for (const to of NAMES) {
        if (from === to || resumedAt[`${from}>${to}`]) continue;
        const r = recvOf(to);
        const firstAfter = sent[from].find((m) => m.phase === 'after');
        if (!firstAfter) continue;
        const hit = sent[from].find((m) => m.phase === 'after' && r.got.has(`${from}#${m.seq}`));
        if (hit) resumedAt[`${from}>${to}`] = hit.at - upAt;
      }
    }
    if (Object.keys(resumedAt).length === 6) break;
    await sleep(20);
  }
  await sleep(500);
  clearInterval(ticker);
  await sleep(QUIET_MS);

  const pairs = [];
  for (const from of NAMES) for (const to of NAMES) if (from !== to) pairs.push([from, to]);
  const missing = pairs.filter(([f, t]) => resumedAt[`${f}>${t}`] === undefined);
  report(
    `cross-node delivery resumes on all 6 node pairs within ${RESUME_MS / 1000} s of the restart (first chat sent after it that arrived)`,
    missing.length === 0,
    missing.length
      ? `not resumed: ${missing.map(([f, t]) => `${f}→${t}`).join(' ')}`
      : pairs.map(([f, t]) => `${f}→${t} sent at +${(resumedAt[`${f}>${t}`] / 1000).toFixed(2)} s`).join(', '),
  );

  // Before the outage: every chat everywhere, once.
  {
    const problems = [];
    for (const c of clients) {
      for (const from of NAMES) {
        if (c.name === `${from}-send`) continue;
        // The last chats before SHUTDOWN may have been in flight: judge those sent 300 ms
        // before it.
        for (const m of sent[from].filter((x) => x.phase === 'before' && x.at < downAt - 300)) {
          const n = c.got.get(`${from}#${m.seq}`) || 0;
          if (n !== 1) problems.push(`${c.name} got ${from} #${m.seq} ${n} times`);
        }
      }
    }
    report('before the outage: every chat reaches every other client once', problems.length === 0, problems.slice(0, 5).join('; '));
  }

  // During the outage: every same-node chat delivered once.
  {
    const problems = [];
    let n = 0;
    for (const node of NAMES) {
      const r = recvOf(node);
      for (const m of sent[node].filter((x) => x.phase === 'outage')) {
        n += 1;
        const k = r.got.get(`${node}#${m.seq}`) || 0;
        if (k !== 1) problems.push(`${r.name} got ${node} #${m.seq} ${k} times`);
      }
    }
    report('during the outage: every node delivers its own chats to its own clients, once', problems.length === 0, problems.length ? problems.slice(0, 5).join('; ') : `${n} same-node deliveries`);
  }

  // Never twice, anywhere; no client lost its connection.
  {
    const dup = [];
    for (const c of clients) for (const [k, n] of c.got) if (n > 1) dup.push(`${c.name}: ${k} ×${n}`);
    report('no chat delivered twice', dup.length === 0, dup.slice(0, 5).join('; '));
    const gone = clients.filter((c) => c.disconnected).map((c) => `${c.name} (${c.disconnected})`);
    report('no client was disconnected', gone.length === 0, gone.join(', '));
  }

  // What crossed nodes of the chats sent during the outage (reported).
  for (const from of NAMES) {
    const during = sent[from].filter((m) => m.phase === 'outage');
    const parts = NAMES.filter((t) => t !== from).map((to) => {
      const r = recvOf(to);
      const k = during.filter((m) => r.got.has(`${from}#${m.seq}`)).length;
      return `→${to} ${k}`;
    });
    console.log(`info outage chats from ${from} (${during.length} sent) that reached the other nodes: ${parts.join(', ')}`);
  }

  // Every node still serves.
  {
    const alive = await accepting('end', (node, e) => console.log(`info ${node}: ${e.message}`));
    report('every node still serves after the outage', alive.length === NAMES.length, alive.join(' '));
  }

  for (const c of clients) c.socket.close();
  const passed = results.filter(Boolean).length;
  console.log(`SUMMARY ${passed}/${results.length} checks passed`);
  cleanup();
  process.exit(passed === results.length ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL exception: ${e && e.stack}`);
  process.exit(1);
});
