'use strict';
// Captures every kind of message socket.io-redis 5.x (socket.io 2.x) publishes on Redis, as
// real test vectors: a throw-away redis-server, two socket.io 2 servers ("A", "B") each with the
// adapter, socket.io-client 2 sockets on both, and a spy connection that PSUBSCRIBEs '*' and
// records every published message. Writes crates/socketio/tests/fixtures/redis-adapter-v5.json
// (or the path in argv[2]).
//
// Usage: cd tests/interop/redis-adapter/v2 && npm install && node capture.js

const http = require('http');
const path = require('path');
const fs = require('fs');
const socketio = require('socket.io');
const ioc = require('socket.io-client');
const redis = require('redis');
const redisAdapter = require('socket.io-redis');
const notepack = require('notepack.io');
const { sleep, startRedis, redisServerVersion, Recorder, versionOf } = require('../common');

const OUT = process.argv[2] ||
  path.join(__dirname, '..', '..', '..', '..', 'crates', 'socketio', 'tests', 'fixtures', 'redis-adapter-v5.json');

const CLIENTS = [
  { name: 'a1', server: 'A', nsp: '/', rooms: ['room1'] },
  { name: 'a2', server: 'A', nsp: '/', rooms: ['room1', 'room2'] },
  { name: 'b1', server: 'B', nsp: '/', rooms: ['room1'] },
  { name: 'b2', server: 'B', nsp: '/', rooms: ['room2', '42'] },
  { name: 'b3', server: 'B', nsp: '/', rooms: [] },
  { name: 'bv1', server: 'B', nsp: '/', rooms: ['victim1'] },
  { name: 'aa1', server: 'A', nsp: '/admin', rooms: ['staff'] },
  { name: 'ba1', server: 'B', nsp: '/admin', rooms: ['staff'] },
  { name: 'ba2', server: 'B', nsp: '/admin', rooms: [] },
];

const p = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

async function main() {
  const rs = await startRedis();
  const rec = new Recorder(notepack);
  const cleanup = [];
  let exitCode = 0;
  const mk = () => {
    const c = redis.createClient({ host: '127.0.0.1', port: rs.port });
    c.on('error', (e) => console.error('redis client error', e));
    return c;
  };
  try {
    const spy = mk();
    spy.on('pmessageBuffer', (pattern, channel, message) => rec.onMessage(channel, message));
    await new Promise((resolve, reject) => spy.psubscribe('*', (err) => (err ? reject(err) : resolve())));
    cleanup.push(() => spy.quit());

    const servers = {};
    for (const name of ['A', 'B']) {
      const pubClient = mk();
      const subClient = mk();
      const httpServer = http.createServer();
      const io = socketio(httpServer);
      const adapterClass = redisAdapter({ pubClient, subClient });
      io.adapter(adapterClass);
      const onConnection = (socket) => {
        const rooms = socket.handshake.query.rooms ? socket.handshake.query.rooms.split(',') : [];
        for (const r of rooms) socket.join(r);
      };
      io.on('connection', onConnection);
      io.of('/admin').on('connection', onConnection);
      for (const nsp of ['/', '/admin']) {
        io.of(nsp).adapter.customHook = (data, cb) => cb({ from: name, got: data });
      }
      await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
      servers[name] = { name, io, httpServer, uid: adapterClass.uid, port: httpServer.address().port };
      cleanup.push(async () => {
        io.close();
        pubClient.quit();
        subClient.quit();
      });
    }
    const A = servers.A.io;
    const B = servers.B.io;
    const uidToServer = new Map([[servers.A.uid, 'A'], [servers.B.uid, 'B']]);

    const admin = mk();
    cleanup.push(() => admin.quit());
    for (const deadline = Date.now() + 10000; ;) {
      const n = await p((cb) => admin.send_command('pubsub', ['numsub', 'socket.io-request#/#', 'socket.io-request#/admin#'], cb));
      if (Number(n[1]) === 2 && Number(n[3]) === 2) break;
      if (Date.now() > deadline) throw new Error('adapters did not subscribe: ' + JSON.stringify(n));
      await sleep(20);
    }

    const clients = {};
    const received = [];
    for (const c of CLIENTS) {
      const s = ioc(`http://127.0.0.1:${servers[c.server].port}${c.nsp}`, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        query: { name: c.name, rooms: c.rooms.join(',') },
      });
      // socket.io-client 2 has no onAny: patch the packet handler to see every event.
      const onevent = s.onevent;
      s.onevent = function (packet) {
        received.push({ client: c.name, event: packet.data[0], args: packet.data.slice(1) });
        return onevent.call(this, packet);
      };
      await new Promise((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      // socket.io 2 server-side id for a non-root namespace is "<nsp>#<engine id>"
      const id = c.nsp === '/' ? s.id : `${c.nsp}#${s.io.engine.id}`;
      clients[c.name] = { ...c, socket: s, id };
    }
    await sleep(200);
    const straysAtStart = rec.stray.length;
    const serverSocketOf = (cname) => {
      const c = clients[cname];
      return servers[c.server].io.of(c.nsp).connected[c.id];
    };
    if (!serverSocketOf('a1') || !serverSocketOf('aa1')) throw new Error('server-side socket ids not as expected');

    const ctx = {
      publisherOf(channel, decoded, spec) {
        if (Array.isArray(decoded)) return { server: uidToServer.get(decoded[0]) || null, uid: decoded[0] };
        if (/^socket\.io-request#/.test(channel)) {
          return { server: spec.requester, note: 'socket.io-redis 5 requests carry no uid' };
        }
        return null;
      },
    };

    const cases = [];
    const c = (spec) => cases.push(spec);
    const Aad = A.of('/').adapter;

    // ---- broadcasts
    c({ name: 'emit_all', call: 'A: io.emit("emit_all", "hello", 1, true, null, {a: [1, 2]})',
      action: () => { A.emit('emit_all', 'hello', 1, true, null, { a: [1, 2] }); }, expect: 1 });
    c({ name: 'emit_all_from_b', call: 'B: io.emit("emit_all_from_b", "from B")',
      action: () => { B.emit('emit_all_from_b', 'from B'); }, expect: 1 });
    c({ name: 'emit_room', call: 'A: io.to("room1").emit("emit_room", "r1")',
      action: () => { A.to('room1').emit('emit_room', 'r1'); }, expect: 1 });
    c({ name: 'emit_two_rooms', call: 'A: io.to("room1").to("room2").emit("emit_two_rooms")',
      action: () => { A.to('room1').to('room2').emit('emit_two_rooms'); }, expect: 1 });
    c({ name: 'emit_numeric_room', call: 'A: io.to(42).emit("emit_numeric_room") (b2 joined "42")',
      action: () => { A.to(42).emit('emit_numeric_room'); }, expect: 1 });
    c({ name: 'emit_to_socket_id', call: 'A: io.to(<b1 id>).emit("emit_to_socket_id", "private")',
      action: () => { A.to(clients.b1.id).emit('emit_to_socket_id', 'private'); }, expect: 1 });
    c({ name: 'socket_broadcast', call: 'A: <a1 server socket>.broadcast.emit("socket_broadcast")',
      action: () => { serverSocketOf('a1').broadcast.emit('socket_broadcast'); }, expect: 1 });
    c({ name: 'socket_to_room', call: 'A: <a1 server socket>.to("room1").emit("socket_to_room")',
      action: () => { serverSocketOf('a1').to('room1').emit('socket_to_room'); }, expect: 1 });
    c({ name: 'socket_broadcast_to_room', call: 'A: <a1 server socket>.broadcast.to("room2").emit("socket_broadcast_to_room")',
      action: () => { serverSocketOf('a1').broadcast.to('room2').emit('socket_broadcast_to_room'); }, expect: 1 });
    c({ name: 'nsp_emit', call: 'A: io.of("/admin").emit("nsp_emit", "staff only")',
      action: () => { A.of('/admin').emit('nsp_emit', 'staff only'); }, expect: 1 });
    c({ name: 'nsp_room_emit', call: 'A: io.of("/admin").to("staff").emit("nsp_room_emit")',
      action: () => { A.of('/admin').to('staff').emit('nsp_room_emit'); }, expect: 1 });
    c({ name: 'nsp_socket_broadcast', call: 'A: <aa1 server socket>.broadcast.emit("nsp_socket_broadcast")',
      action: () => { serverSocketOf('aa1').broadcast.emit('nsp_socket_broadcast'); }, expect: 1 });
    c({ name: 'binary_single', call: 'A: io.emit("binary_single", Buffer.from([1, 2, 3]))',
      action: () => { A.emit('binary_single', Buffer.from([1, 2, 3])); }, expect: 1 });
    c({ name: 'binary_nested', call: 'A: io.emit("binary_nested", {a: Buffer.from([4]), b: [Buffer.from([5, 6]), {c: Buffer.from("xyz")}]}, "tail")',
      action: () => { A.emit('binary_nested', { a: Buffer.from([4]), b: [Buffer.from([5, 6]), { c: Buffer.from('xyz') }] }, 'tail'); }, expect: 1 });
    c({ name: 'binary_several', call: 'A: io.to("room1").emit("binary_several", Buffer.from([7]), "mid", Buffer.alloc(0), new Uint8Array([8, 9]).buffer)',
      action: () => { A.to('room1').emit('binary_several', Buffer.from([7]), 'mid', Buffer.alloc(0), new Uint8Array([8, 9]).buffer); }, expect: 1 });
    c({ name: 'binary_flag_false', call: 'A: io.binary(false).emit("binary_flag_false", Buffer.from([1])) (the binary flag forces the packet type)',
      action: () => { A.binary(false).emit('binary_flag_false', Buffer.from([1])); }, expect: 1 });
    c({ name: 'binary_flag_true', call: 'A: io.binary(true).to("nobody").emit("binary_flag_true", "no binary") (to an empty room: socket.io-client 2.5 throws "Illegal attachments" on the "50-" packet this makes)',
      action: () => { A.binary(true).to('nobody').emit('binary_flag_true', 'no binary'); }, expect: 1 });
    c({ name: 'values', call: 'A: io.emit("values", undefined, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), 1.5, -33, 65536, 2**32, 2**53, -(2**40), NaN, "é😀", "x".repeat(40), {u: undefined, n: null})',
      action: () => {
        A.emit('values', undefined, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), 1.5, -33, 65536, 2 ** 32, 2 ** 53, -(2 ** 40), NaN,
          'é😀', 'x'.repeat(40), { u: undefined, n: null });
      }, expect: 1 });
    c({ name: 'flags_volatile', call: 'A: io.volatile.emit("flags_volatile")',
      action: () => { A.volatile.emit('flags_volatile'); }, expect: 1 });
    c({ name: 'flags_compress_false', call: 'A: io.compress(false).emit("flags_compress_false")',
      action: () => { A.compress(false).emit('flags_compress_false'); }, expect: 1 });
    c({ name: 'flags_json', call: 'A: io.json.emit("flags_json")',
      action: () => { A.json.emit('flags_json'); }, expect: 1 });
    c({ name: 'flags_volatile_room', call: 'A: io.volatile.to("room2").emit("flags_volatile_room")',
      action: () => { A.volatile.to('room2').emit('flags_volatile_room'); }, expect: 1 });
    c({ name: 'flags_local', call: 'A: io.local.emit("flags_local")', unpublished: true,
      action: () => { A.local.emit('flags_local'); }, expect: 0 });

    // ---- requests / responses (all JSON; field "requestid"; every server answers its own
    //      request too where the request counts subscribers)
    c({ name: 'clients', call: 'A: io.of("/").adapter.clients((err, ids) => ...)', requester: 'A',
      action: async () => { await p((cb) => Aad.clients(cb)); }, expect: 3 });
    c({ name: 'clients_rooms', call: 'A: io.of("/").adapter.clients(["room1", "room2"], cb)', requester: 'A',
      action: async () => { await p((cb) => Aad.clients(['room1', 'room2'], cb)); }, expect: 3 });
    c({ name: 'clients_via_io', call: 'A: io.in("room1").clients(cb) (socket.io 2 Namespace#clients)', requester: 'A',
      action: async () => { await p((cb) => A.in('room1').clients(cb)); }, expect: 3 });
    c({ name: 'clients_nsp', call: 'B: io.of("/admin").adapter.clients(cb) (from B)', requester: 'B',
      action: async () => { await p((cb) => B.of('/admin').adapter.clients(cb)); }, expect: 3 });
    c({ name: 'client_rooms', call: 'A: io.of("/").adapter.clientRooms(<b2 id>, cb) (only the owner answers)', requester: 'A',
      action: async () => { await p((cb) => Aad.clientRooms(clients.b2.id, cb)); }, expect: 2 });
    c({ name: 'client_rooms_local', call: 'A: io.of("/").adapter.clientRooms(<a1 id>, cb) (local socket: answered without Redis)', unpublished: true,
      action: async () => { await p((cb) => Aad.clientRooms(clients.a1.id, cb)); }, expect: 0 });
    c({ name: 'all_rooms', call: 'A: io.of("/").adapter.allRooms(cb)', requester: 'A',
      action: async () => { await p((cb) => Aad.allRooms(cb)); }, expect: 3 });
    c({ name: 'remote_join', call: 'A: io.of("/").adapter.remoteJoin(<b3 id>, "room3", cb)', requester: 'A',
      action: async () => { await p((cb) => Aad.remoteJoin(clients.b3.id, 'room3', cb)); }, expect: 2 });
    c({ name: 'remote_leave', call: 'A: io.of("/").adapter.remoteLeave(<b3 id>, "room3", cb)', requester: 'A',
      action: async () => { await p((cb) => Aad.remoteLeave(clients.b3.id, 'room3', cb)); }, expect: 2 });
    c({ name: 'remote_join_local', call: 'A: io.of("/").adapter.remoteJoin(<a1 id>, "room3", cb) (local socket)', unpublished: true,
      action: async () => { await p((cb) => Aad.remoteJoin(clients.a1.id, 'room3', cb)); }, expect: 0 });
    c({ name: 'custom_request', call: 'A: io.of("/").adapter.customRequest({q: "hi", n: [1, 2]}, cb) (customHook on both: (data, cb) => cb({from, got: data}))', requester: 'A',
      action: async () => { await p((cb) => Aad.customRequest({ q: 'hi', n: [1, 2] }, cb)); }, expect: 3 });
    c({ name: 'custom_request_no_data', call: 'B: io.of("/admin").adapter.customRequest(cb) (data defaults to null)', requester: 'B',
      action: async () => { await p((cb) => B.of('/admin').adapter.customRequest(cb)); }, expect: 3 });
    c({ name: 'remote_disconnect', call: 'A: io.of("/").adapter.remoteDisconnect(<bv1 id>, true, cb)', requester: 'A',
      action: async () => { await p((cb) => Aad.remoteDisconnect(clients.bv1.id, true, cb)); }, expect: 2 });

    const deliveries = {};
    const unpublished = [];
    for (const spec of cases) {
      const before = received.length;
      await rec.run(spec, ctx);
      const got = received.slice(before).filter((r) => r.event === spec.name).map((r) => r.client).sort();
      if (!/^(clients|client_rooms|all_rooms|remote_|custom_)/.test(spec.name)) deliveries[spec.name] = got;
      if (spec.unpublished) unpublished.push({ case: spec.name, call: spec.call });
    }
    await sleep(200);
    const disconnected = Object.values(clients).filter((x) => !x.socket.connected).map((x) => x.name);
    if (JSON.stringify(disconnected) !== JSON.stringify(['bv1'])) rec.failures.push(`remote disconnect: got ${disconnected}`);
    if (straysAtStart !== 0) rec.failures.push(`${straysAtStart} messages published while clients connected`);
    for (const x of Object.values(clients)) x.socket.close();

    const fixture = {
      generator: 'tests/interop/redis-adapter/v2/capture.js',
      description: 'Messages socket.io-redis 5 (socket.io 2) published on Redis, captured by a PSUBSCRIBE * spy while two socket.io servers A and B ran the named API calls. payload_base64 is the exact published payload; decoded is notepack.io / JSON.parse of it with Buffers as {"_binary_base64"}, Dates as {"_date_iso"}, undefined as {"_undefined": true}, NaN/Infinity as {"_float"}. uids, request ids and socket ids are random per run.',
      versions: {
        node: process.version,
        'redis-server': redisServerVersion(),
        'socket.io': versionOf(__dirname, 'socket.io'),
        'socket.io-adapter': versionOf(__dirname, 'socket.io-adapter'),
        'socket.io-redis': versionOf(__dirname, 'socket.io-redis'),
        'notepack.io': versionOf(__dirname, 'notepack.io'),
        'socket.io-parser': versionOf(__dirname, 'socket.io-parser'),
        redis: versionOf(__dirname, 'redis'),
        'socket.io-client': versionOf(__dirname, 'socket.io-client'),
      },
      servers: { A: { uid: servers.A.uid }, B: { uid: servers.B.uid } },
      sockets: Object.fromEntries(Object.values(clients).map((x) => [x.name, { id: x.id, server: x.server, nsp: x.nsp, rooms: x.rooms }])),
      not_published: unpublished,
      deliveries,
      cases: rec.messages,
    };
    if (rec.failures.length === 0) {
      fs.mkdirSync(path.dirname(OUT), { recursive: true });
      fs.writeFileSync(OUT, JSON.stringify(fixture, null, 1) + '\n');
      process.stdout.write(`wrote ${rec.messages.length} messages in ${rec.summary.length} cases to ${OUT}\n`);
    } else {
      exitCode = 1;
    }
    rec.printSummary(process.stdout);
  } catch (e) {
    console.error(e);
    exitCode = 1;
  } finally {
    for (const f of cleanup.reverse()) { try { await f(); } catch (e) { /* closing */ } }
    await rs.stop();
  }
  process.exit(exitCode);
}

main();
