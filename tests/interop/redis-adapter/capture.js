'use strict';
// Captures every kind of message @socket.io/redis-adapter 8.x (classic pub/sub) publishes for
// socket.io 4.x, as real test vectors: a throw-away redis-server, two socket.io servers ("A",
// "B") each with the Redis adapter, socket.io-client sockets on both, and a spy connection that
// PSUBSCRIBEs '*' and records every published message. Writes
// crates/socketio/tests/fixtures/redis-adapter-v8.json (or the path in argv[2]).
//
// Usage: cd tests/interop/redis-adapter && npm install && node capture.js

const http = require('http');
const path = require('path');
const fs = require('fs');
const { Server } = require('socket.io');
const ioc = require('socket.io-client');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');
const notepack = require('notepack.io');
const { sleep, startRedis, redisServerVersion, Recorder, versionOf } = require('./common');

const OUT = process.argv[2] ||
  path.join(__dirname, '..', '..', '..', 'crates', 'socketio', 'tests', 'fixtures', 'redis-adapter-v8.json');

// Which client sockets exist, on which server, in which rooms (joined in the connection handler).
const CLIENTS = [
  { name: 'a1', server: 'A', nsp: '/', rooms: ['room1'] },
  { name: 'a2', server: 'A', nsp: '/', rooms: ['room1', 'room2'] },
  { name: 'b1', server: 'B', nsp: '/', rooms: ['room1'] },
  { name: 'b2', server: 'B', nsp: '/', rooms: ['room2', 42] },
  { name: 'b3', server: 'B', nsp: '/', rooms: [] },
  { name: 'bv1', server: 'B', nsp: '/', rooms: ['victim1'] },
  { name: 'bv2', server: 'B', nsp: '/', rooms: ['victim2'] },
  { name: 'aa1', server: 'A', nsp: '/admin', rooms: ['staff'] },
  { name: 'ba1', server: 'B', nsp: '/admin', rooms: ['staff'] },
  { name: 'ba2', server: 'B', nsp: '/admin', rooms: [] },
];

async function main() {
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}`;
  const rec = new Recorder(notepack);
  const cleanup = [];
  let exitCode = 0;
  try {
    // ---- the spy: sees everything anyone publishes
    const spy = createClient({ url });
    spy.on('error', (e) => console.error('spy error', e));
    await spy.connect();
    await spy.pSubscribe('*', (message, channel) => rec.onMessage(channel, message), true);
    cleanup.push(() => spy.quit());

    // ---- two socket.io servers with the Redis adapter
    const servers = {};
    for (const name of ['A', 'B']) {
      const pub = createClient({ url });
      const sub = pub.duplicate();
      pub.on('error', (e) => console.error(name, 'pub error', e));
      sub.on('error', (e) => console.error(name, 'sub error', e));
      await Promise.all([pub.connect(), sub.connect()]);
      const httpServer = http.createServer();
      const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
      const onConnection = (socket) => {
        const { name: cname, rooms } = socket.handshake.auth;
        socket.data = { name: cname, fixed: 1 };
        for (const r of rooms || []) socket.join(r);
      };
      io.on('connection', onConnection);
      io.of('/admin').on('connection', onConnection);
      // server-side emit handlers: plain, and with an acknowledgement
      io.on('sse-plain', () => {});
      io.on('sse-ack', (...args) => {
        const cb = args.pop();
        cb({ from: name, got: args.length });
      });
      await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
      servers[name] = { name, io, httpServer, pub, sub, port: httpServer.address().port };
      cleanup.push(async () => {
        io.close();
        await pub.quit().catch(() => {});
        await sub.quit().catch(() => {});
      });
    }
    const A = servers.A.io;
    const B = servers.B.io;
    const uids = {
      A: { '/': A.of('/').adapter.uid, '/admin': A.of('/admin').adapter.uid },
      B: { '/': B.of('/').adapter.uid, '/admin': B.of('/admin').adapter.uid },
    };
    const uidToServer = new Map();
    for (const s of ['A', 'B']) for (const n of Object.keys(uids[s])) uidToServer.set(uids[s][n], s);

    // Wait until both adapters of both namespaces subscribed (PUBSUB NUMSUB counts SUBSCRIBE
    // only, so the spy's pattern subscription does not count).
    const admin = createClient({ url });
    await admin.connect();
    cleanup.push(() => admin.quit());
    for (const deadline = Date.now() + 10000; ;) {
      const n = await admin.pubSubNumSub(['socket.io-request#/#', 'socket.io-request#/admin#']);
      if (n['socket.io-request#/#'] === 2 && n['socket.io-request#/admin#'] === 2) break;
      if (Date.now() > deadline) throw new Error('adapters did not subscribe: ' + JSON.stringify(n));
      await sleep(20);
    }

    // ---- the clients
    const clients = {};
    const received = []; // { client, event, args }
    for (const c of CLIENTS) {
      const s = ioc(`http://127.0.0.1:${servers[c.server].port}${c.nsp}`, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        auth: { name: c.name, rooms: c.rooms },
      });
      s.onAny((event, ...args) => {
        const last = args[args.length - 1];
        if (typeof last === 'function') {
          args.pop();
          received.push({ client: c.name, event, args });
          if (event === 'ask-bin') last(Buffer.from([0xde, 0xad]), { from: c.name });
          else last({ from: c.name });
        } else {
          received.push({ client: c.name, event, args });
        }
      });
      await new Promise((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      clients[c.name] = { ...c, socket: s, id: s.id };
    }
    await sleep(200);
    // no connection publishes anything by itself
    const straysAtStart = rec.stray.length;

    const serverSocketOf = (cname) => {
      const c = clients[cname];
      return servers[c.server].io.of(c.nsp).sockets.get(c.id);
    };
    const ackedBy = (event, server) =>
      received.filter((r) => r.event === event && clients[r.client].server === server).length;

    const ctx = {
      publisherOf(channel, decoded, spec) {
        let uid;
        if (Array.isArray(decoded)) uid = decoded[0];
        else if (decoded && typeof decoded === 'object' && typeof decoded.uid === 'string') uid = decoded.uid;
        if (uid !== undefined) return { server: uidToServer.get(uid) || null, uid };
        if (/^socket\.io-response#/.test(channel) && spec.responder) {
          return { server: spec.responder, note: 'responses carry no uid; the responder is the only other server' };
        }
        return null;
      },
    };

    const cases = [];
    const unpublished = [];
    const c = (spec) => cases.push(spec);

    // ---- broadcasts (socket.io#<nsp>#[<room>#], msgpack [uid, packet, opts])
    c({ name: 'emit_all', call: 'A: io.emit("emit_all", "hello", 1, true, null, {a: [1, 2]})',
      action: () => { A.emit('emit_all', 'hello', 1, true, null, { a: [1, 2] }); }, expect: 1 });
    c({ name: 'emit_all_from_b', call: 'B: io.emit("emit_all_from_b", "from B")',
      action: () => { B.emit('emit_all_from_b', 'from B'); }, expect: 1 });
    c({ name: 'emit_no_args', call: 'A: io.emit("emit_no_args")',
      action: () => { A.emit('emit_no_args'); }, expect: 1 });
    c({ name: 'emit_room', call: 'A: io.to("room1").emit("emit_room", "r1")',
      action: () => { A.to('room1').emit('emit_room', 'r1'); }, expect: 1 });
    c({ name: 'emit_two_rooms', call: 'A: io.to("room1").to("room2").emit("emit_two_rooms")',
      action: () => { A.to('room1').to('room2').emit('emit_two_rooms'); }, expect: 1 });
    c({ name: 'emit_except', call: 'A: io.except("room2").emit("emit_except")',
      action: () => { A.except('room2').emit('emit_except'); }, expect: 1 });
    c({ name: 'emit_room_except', call: 'A: io.to("room1").except("room2").emit("emit_room_except")',
      action: () => { A.to('room1').except('room2').emit('emit_room_except'); }, expect: 1 });
    c({ name: 'emit_room_two_excepts', call: 'A: io.to("room1").except(["room2", "victim1"]).emit("emit_room_two_excepts")',
      action: () => { A.to('room1').except(['room2', 'victim1']).emit('emit_room_two_excepts'); }, expect: 1 });
    c({ name: 'emit_numeric_room', call: 'A: io.to(42).emit("emit_numeric_room") (b2 on B joined the number 42)',
      action: () => { A.to(42).emit('emit_numeric_room'); }, expect: 1 });
    c({ name: 'emit_to_socket_id', call: 'A: io.to(<b1 id>).emit("emit_to_socket_id", "private")',
      action: () => { A.to(clients.b1.id).emit('emit_to_socket_id', 'private'); }, expect: 1 });
    c({ name: 'socket_broadcast', call: 'A: <a1 server socket>.broadcast.emit("socket_broadcast")',
      action: () => { serverSocketOf('a1').broadcast.emit('socket_broadcast'); }, expect: 1 });
    c({ name: 'socket_to_room', call: 'A: <a1 server socket>.to("room1").emit("socket_to_room")',
      action: () => { serverSocketOf('a1').to('room1').emit('socket_to_room'); }, expect: 1 });
    c({ name: 'nsp_emit', call: 'A: io.of("/admin").emit("nsp_emit", "staff only")',
      action: () => { A.of('/admin').emit('nsp_emit', 'staff only'); }, expect: 1 });
    c({ name: 'nsp_room_emit', call: 'A: io.of("/admin").to("staff").emit("nsp_room_emit")',
      action: () => { A.of('/admin').to('staff').emit('nsp_room_emit'); }, expect: 1 });
    c({ name: 'binary_single', call: 'A: io.emit("binary_single", Buffer.from([1, 2, 3]))',
      action: () => { A.emit('binary_single', Buffer.from([1, 2, 3])); }, expect: 1 });
    c({ name: 'binary_nested', call: 'A: io.emit("binary_nested", {a: Buffer.from([4]), b: [Buffer.from([5, 6]), {c: Buffer.from("xyz")}]}, "tail")',
      action: () => { A.emit('binary_nested', { a: Buffer.from([4]), b: [Buffer.from([5, 6]), { c: Buffer.from('xyz') }] }, 'tail'); }, expect: 1 });
    c({ name: 'binary_several', call: 'A: io.to("room1").emit("binary_several", Buffer.from([7]), "mid", Buffer.alloc(0), new Uint8Array([8, 9]).buffer, new Uint8Array([10, 11, 12]).subarray(1))',
      action: () => { A.to('room1').emit('binary_several', Buffer.from([7]), 'mid', Buffer.alloc(0), new Uint8Array([8, 9]).buffer, new Uint8Array([10, 11, 12]).subarray(1)); }, expect: 1 });
    c({ name: 'binary_large', call: 'A: io.emit("binary_large", Buffer.alloc(300, 0xab)) (bin 16 header)',
      action: () => { A.emit('binary_large', Buffer.alloc(300, 0xab)); }, expect: 1 });
    c({ name: 'values', call: 'A: io.emit("values", undefined, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), new Date(0), 1.5, -1, -33, 255, 65536, 2**32, 2**53, -(2**40), NaN, "é😀", "x".repeat(40), {k0..k15: 0..15}, {u: undefined, f: () => 1, n: null})',
      action: () => {
        const big = {};
        for (let i = 0; i < 16; i++) big['k' + i] = i;
        A.emit('values', undefined, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), new Date(0), 1.5, -1, -33, 255, 65536,
          2 ** 32, 2 ** 53, -(2 ** 40), NaN, 'é😀', 'x'.repeat(40), big, { u: undefined, f: () => 1, n: null });
      }, expect: 1 });
    c({ name: 'flags_volatile', call: 'A: io.volatile.emit("flags_volatile")',
      action: () => { A.volatile.emit('flags_volatile'); }, expect: 1 });
    c({ name: 'flags_compress_false', call: 'A: io.compress(false).emit("flags_compress_false")',
      action: () => { A.compress(false).emit('flags_compress_false'); }, expect: 1 });
    c({ name: 'flags_compress_true', call: 'A: io.compress(true).emit("flags_compress_true")',
      action: () => { A.compress(true).emit('flags_compress_true'); }, expect: 1 });
    c({ name: 'flags_volatile_compress_room', call: 'A: io.volatile.compress(false).to("room2").emit("flags_volatile_compress_room")',
      action: () => { A.volatile.compress(false).to('room2').emit('flags_volatile_compress_room'); }, expect: 1 });
    c({ name: 'flags_timeout_no_ack', call: 'A: io.timeout(1234).emit("flags_timeout_no_ack") (timeout without an ack callback)',
      action: () => { A.timeout(1234).emit('flags_timeout_no_ack'); }, expect: 1 });
    c({ name: 'flags_local', call: 'A: io.local.emit("flags_local")', unpublished: true,
      action: () => { A.local.emit('flags_local'); }, expect: 0 });

    // ---- broadcast with acks (request msgpack BROADCAST, responses JSON CLIENT_COUNT + msgpack ACK)
    c({ name: 'emit_with_ack', call: 'A: await io.timeout(3000).emitWithAck("emit_with_ack", "q?")', responder: 'B',
      action: async () => { await A.timeout(3000).emitWithAck('emit_with_ack', 'q?'); },
      expect: () => 2 + ackedBy('emit_with_ack', 'B') });
    c({ name: 'emit_with_ack_room_binary', call: 'A: await io.to("room1").timeout(3000).emitWithAck("ask-bin", Buffer.from([1])) (clients ack with (Buffer [0xde, 0xad], {from}))', responder: 'B',
      action: async () => { await A.to('room1').timeout(3000).emitWithAck('ask-bin', Buffer.from([1])); },
      expect: () => 2 + ackedBy('ask-bin', 'B') });
    c({ name: 'emit_with_ack_no_client', call: 'A: await io.to("empty").except("room2").timeout(3000).emitWithAck("emit_with_ack_no_client") (no client anywhere: B answers clientCount 0)', responder: 'B',
      action: async () => { await A.to('empty').except('room2').timeout(3000).emitWithAck('emit_with_ack_no_client'); },
      expect: () => 2 });
    c({ name: 'emit_with_ack_nsp', call: 'B: await io.of("/admin").timeout(3000).emitWithAck("emit_with_ack_nsp", 7) (from B; A answers)', responder: 'A',
      action: async () => { await B.of('/admin').timeout(3000).emitWithAck('emit_with_ack_nsp', 7); },
      expect: () => 2 + ackedBy('emit_with_ack_nsp', 'A') });
    c({ name: 'socket_emit_with_ack_broadcast', call: 'A: await <a1 server socket>.broadcast.timeout(3000).emitWithAck("socket_emit_with_ack_broadcast")', responder: 'B',
      action: async () => { await serverSocketOf('a1').broadcast.timeout(3000).emitWithAck('socket_emit_with_ack_broadcast'); },
      expect: () => 2 + ackedBy('socket_emit_with_ack_broadcast', 'B') });

    // ---- requests / responses (socket.io-request#<nsp>#, socket.io-response#<nsp>#)
    c({ name: 'fetch_sockets', call: 'A: await io.fetchSockets()', responder: 'B',
      action: async () => { const s = await A.fetchSockets(); return s.length; }, expect: 2 });
    c({ name: 'fetch_sockets_room_except', call: 'A: await io.in("room1").except("room2").fetchSockets()', responder: 'B',
      action: async () => { await A.in('room1').except('room2').fetchSockets(); }, expect: 2 });
    c({ name: 'fetch_sockets_nsp', call: 'B: await io.of("/admin").fetchSockets() (from B; A answers)', responder: 'A',
      action: async () => { await B.of('/admin').fetchSockets(); }, expect: 2 });
    c({ name: 'fetch_sockets_local', call: 'A: await io.local.fetchSockets()', unpublished: true,
      action: async () => { await A.local.fetchSockets(); }, expect: 0 });
    c({ name: 'all_rooms', call: 'A: await io.of("/").adapter.allRooms()', responder: 'B',
      action: async () => { await A.of('/').adapter.allRooms(); }, expect: 2 });
    c({ name: 'all_sockets', call: 'A: await io.allSockets() (the 8.x adapter does not override sockets(): local only)', unpublished: true,
      action: async () => { await A.allSockets(); }, expect: 0 });
    c({ name: 'sockets_join', call: 'A: io.in("room1").socketsJoin("room3")',
      action: () => { A.in('room1').socketsJoin('room3'); }, expect: 1 });
    c({ name: 'sockets_join_many_except', call: 'A: io.except("room2").socketsJoin(["room4", "room5"])',
      action: () => { A.except('room2').socketsJoin(['room4', 'room5']); }, expect: 1 });
    c({ name: 'sockets_join_socket_id', call: 'A: io.in(<b3 id>).socketsJoin("room6")',
      action: () => { A.in(clients.b3.id).socketsJoin('room6'); }, expect: 1 });
    c({ name: 'sockets_leave', call: 'A: io.in("room1").socketsLeave("room3")',
      action: () => { A.in('room1').socketsLeave('room3'); }, expect: 1 });
    c({ name: 'sockets_leave_many', call: 'A: io.socketsLeave(["room4", "room5"])',
      action: () => { A.socketsLeave(['room4', 'room5']); }, expect: 1 });
    c({ name: 'server_side_emit', call: 'A: io.serverSideEmit("sse-plain", 1, "two", {three: [3]})',
      action: () => { A.serverSideEmit('sse-plain', 1, 'two', { three: [3] }); }, expect: 1 });
    c({ name: 'server_side_emit_binary', call: 'A: io.serverSideEmit("sse-plain", Buffer.from([1, 2])) (JSON.stringify of a Buffer)',
      action: () => { A.serverSideEmit('sse-plain', Buffer.from([1, 2])); }, expect: 1 });
    c({ name: 'server_side_emit_ack', call: 'A: await io.serverSideEmitWithAck("sse-ack", "x", 2) (the adapter requestsTimeout applies; B acks {from: "B", got: 2})', responder: 'B',
      action: async () => { await A.serverSideEmitWithAck('sse-ack', 'x', 2); }, expect: 2 });
    c({ name: 'server_side_emit_callback', call: 'B: io.serverSideEmit("sse-ack", (err, responses) => ...) (callback style, no args; A acks)', responder: 'A',
      action: async () => { await new Promise((resolve) => B.serverSideEmit('sse-ack', () => resolve())); }, expect: 2 });
    c({ name: 'disconnect_sockets_close', call: 'A: io.in("victim1").disconnectSockets(true)',
      action: () => { A.in('victim1').disconnectSockets(true); }, expect: 1 });
    c({ name: 'disconnect_sockets', call: 'A: io.in("victim2").disconnectSockets() (close defaults to false)',
      action: () => { A.in('victim2').disconnectSockets(); }, expect: 1 });
    c({ name: 'disconnect_sockets_local', call: 'A: io.local.disconnectSockets() on an empty room: io.local.in("nobody").disconnectSockets()', unpublished: true,
      action: () => { A.local.in('nobody').disconnectSockets(); }, expect: 0 });

    const deliveries = {};
    const remoteEffects = {};
    for (const spec of cases) {
      const before = received.length;
      await rec.run(spec, ctx);
      // who got the event (clients see the event name; "ask-bin" is emit_with_ack_room_binary's)
      const ev = spec.name === 'emit_with_ack_room_binary' ? 'ask-bin' : spec.name;
      const got = received.slice(before).filter((r) => r.event === ev).map((r) => r.client).sort();
      if (!spec.name.startsWith('fetch_') && !spec.name.startsWith('sockets_') && !spec.name.startsWith('server_side_') &&
          !spec.name.startsWith('disconnect_') && spec.name !== 'all_rooms' && spec.name !== 'all_sockets') {
        deliveries[spec.name] = got;
      }
      if (spec.unpublished) unpublished.push({ case: spec.name, call: spec.call });
      if (spec.name === 'sockets_join') {
        // 8.x addSockets() only publishes: the sender applies the join when its own request
        // comes back from Redis. Both servers must now have room3 = the room1 members.
        const members = (io) => [...(io.of('/').adapter.rooms.get('room3') || [])].map((id) =>
          Object.values(clients).find((x) => x.id === id).name).sort();
        const got = [...members(A), ...members(B)].sort().join(',');
        if (got !== 'a1,a2,b1') rec.failures.push(`sockets_join: room3 members ${got}, expected a1,a2,b1`);
        else remoteEffects.sockets_join = 'room3 = a1,a2 (on A, the sender) + b1 (on B)';
      }
    }
    // the remote disconnects must have worked
    await sleep(200);
    const disconnected = Object.values(clients).filter((x) => !x.socket.connected).map((x) => x.name).sort();
    if (JSON.stringify(disconnected) !== JSON.stringify(['bv1', 'bv2'])) {
      rec.failures.push(`remote disconnects: expected bv1, bv2 disconnected, got ${disconnected}`);
    }
    if (straysAtStart !== 0) rec.failures.push(`${straysAtStart} messages published while clients connected`);

    for (const x of Object.values(clients)) x.socket.close();

    const fixture = {
      generator: 'tests/interop/redis-adapter/capture.js',
      description: 'Messages @socket.io/redis-adapter (classic pub/sub) published on Redis, captured by a PSUBSCRIBE * spy while two socket.io servers A and B ran the named API calls. payload_base64 is the exact published payload; decoded is notepack.io / JSON.parse of it with Buffers as {"_binary_base64"}, Dates as {"_date_iso"}, undefined as {"_undefined": true}, NaN/Infinity as {"_float"}. uids, request ids and socket ids are random per run.',
      versions: {
        node: process.version,
        'redis-server': redisServerVersion(),
        'socket.io': versionOf(__dirname, 'socket.io'),
        'socket.io-adapter': versionOf(__dirname, 'socket.io-adapter'),
        '@socket.io/redis-adapter': versionOf(__dirname, '@socket.io/redis-adapter'),
        'notepack.io': versionOf(__dirname, 'notepack.io'),
        'socket.io-parser': versionOf(__dirname, 'socket.io-parser'),
        redis: versionOf(__dirname, 'redis'),
        '@redis/client': versionOf(__dirname, '@redis/client'),
        'socket.io-client': versionOf(__dirname, 'socket.io-client'),
      },
      servers: { A: { uids: uids.A }, B: { uids: uids.B } },
      sockets: Object.fromEntries(Object.values(clients).map((x) => [x.name, { id: x.id, server: x.server, nsp: x.nsp, rooms: x.rooms }])),
      not_published: unpublished,
      checked_effects: remoteEffects,
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
    await redis.stop();
  }
  process.exit(exitCode);
}

main();
