#!/usr/bin/env node
// Event-stream server on better-sse 0.16 over node's `http`, for the `sse-client` interop
// check: pushwire-tokio's EventSource (crates/tokio/examples/sse_client_check.rs) against
// it, driven by tests/interop/sse/run.py. The python twin is
// tests/interop/python/sse_server.py (sse-starlette); both behave the same.
//
//   node sse-server.js PORT
//
// Routes (R: the `retry` field sent first, in ms; Last-Event-ID is read as an integer,
// default 0):
//
// * GET /counter?total=T&per=K&retry=R&mode=mid|clean: 204 once Last-Event-ID >= T; else
//   `retry:R`, then events `id:n` / `data:n` for n = last+1 ... (at most K, never past T);
//   mode=clean ends the response, mode=mid then writes an event without its blank line
//   (`id:99999` / `data:"partial"`, an EventBuffer never dispatched) and ends the TCP
//   connection without the last chunk of the chunked body.
// * GET /status/500 -> 500; GET /wrong-type -> 200 text/plain with an event in the body;
//   GET /nocontent -> 204.
// * GET /stall?retry=R: `retry:R`, the event 1 unless Last-Event-ID is 1, then nothing (no
//   keep-alive) until the client goes.
// * GET /flaky?retry=R: `retry:R`, then the response ends, every time.
// * GET /log?run=X: the requests whose query has run=X, as JSON (the fields of
//   sse_server.py's log: t, path, lei, status, sent, last, end).
'use strict';
const http = require('http');
const { performance } = require('perf_hooks');
const { createSession } = require('better-sse');

const port = Number(process.argv[2] || 8767);
const log = [];

function record(req) {
  const entry = {
    t: performance.now(),
    path: req.url,
    lei: req.headers['last-event-id'] === undefined ? null : req.headers['last-event-id'],
    status: null,
    sent: 0,
    last: null,
    end: null,
  };
  log.push(entry);
  return entry;
}

function lastId(req) {
  const n = parseInt(req.headers['last-event-id'] || '0', 10);
  return Number.isNaN(n) ? 0 : n;
}

function qint(url, name, dflt) {
  const n = parseInt(url.searchParams.get(name), 10);
  return Number.isNaN(n) ? dflt : n;
}

function plain(res, status, body, type) {
  res.writeHead(status, type ? { 'Content-Type': type } : {});
  res.end(body);
}

async function counter(req, res, url, entry) {
  const total = qint(url, 'total', 100);
  const per = qint(url, 'per', 10);
  const retry = qint(url, 'retry', 1000);
  const mode = url.searchParams.get('mode') || 'clean';
  const last = lastId(req);
  if (last >= total) {
    entry.status = 204;
    return plain(res, 204);
  }
  entry.status = 200;
  const session = await createSession(req, res, { retry, keepAlive: null });
  for (let n = last + 1; n <= Math.min(last + per, total); n++) {
    session.push(n, 'message', String(n));
    entry.sent += 1;
    entry.last = String(n);
  }
  if (mode === 'mid') {
    // An event never dispatched: its fields without the blank line that ends it.
    await session.batch((buffer) => {
      buffer.id('99999').data('partial');
    });
    entry.end = performance.now();
    // FIN after what was written, without the chunked body's last chunk: the response is
    // cut short; destroyed for good a moment later in case the client keeps its side open.
    const socket = req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
    return;
  }
  entry.end = performance.now();
  res.end();
}

async function stall(req, res, url, entry) {
  entry.status = 200;
  const retry = qint(url, 'retry', 1000);
  const session = await createSession(req, res, { retry, keepAlive: null });
  if (req.headers['last-event-id'] !== '1') {
    session.push(1, 'message', '1');
    entry.sent = 1;
    entry.last = '1';
  }
  // Nothing more: the response stays open until the client closes it.
}

async function flaky(req, res, url, entry) {
  entry.status = 200;
  const retry = qint(url, 'retry', 1000);
  await createSession(req, res, { retry, keepAlive: null });
  entry.end = performance.now();
  res.end();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/log') {
    const run = url.searchParams.get('run');
    const wanted = log.filter(
      (e) => run === null || new URL(e.path, 'http://localhost').searchParams.get('run') === run,
    );
    return plain(res, 200, JSON.stringify(wanted), 'application/json');
  }
  const entry = record(req);
  const handlers = { '/counter': counter, '/stall': stall, '/flaky': flaky };
  const handler = handlers[url.pathname];
  if (handler) {
    handler(req, res, url, entry).catch((e) => {
      console.error('handler failed:', e);
      req.socket.destroy();
    });
  } else if (url.pathname === '/status/500') {
    entry.status = 500;
    plain(res, 500, 'boom', 'text/plain');
  } else if (url.pathname === '/wrong-type') {
    entry.status = 200;
    plain(res, 200, 'id: 1\ndata: 1\n\n', 'text/plain');
  } else if (url.pathname === '/nocontent') {
    entry.status = 204;
    plain(res, 204);
  } else {
    entry.status = 404;
    plain(res, 404, 'not found', 'text/plain');
  }
});
server.listen(port, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + port));
