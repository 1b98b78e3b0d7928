'use strict';
// A TCP relay that adds a fixed delay to every byte in both directions, in order: the
// added latency of the fleet on separate hosts (xtask `redis-fleet`), standing in for
// netem, which this machine's kernel does not have (`tc qdisc add … netem` answers
// "Specified qdisc kind is unknown").
//
// Usage: node delay-relay.js LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS
// Each chunk read on one side is written to the other DELAY_MS later (timers of one
// duration fire in the order they were set, so order holds). A side that closes or fails
// closes the other once what was in flight has been written. Test tooling: the delay
// bounds what is held to what arrives within DELAY_MS.

const net = require('net');

const [listen, target, delayArg] = process.argv.slice(2);
const delay = Number(delayArg);
if (!listen || !target || !(delay >= 0)) {
  console.error('usage: node delay-relay.js LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS');
  process.exit(2);
}
const split = (hp) => {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))];
};
const [lh, lp] = split(listen);
const [th, tp] = split(target);

function pipe(from, to) {
  from.on('data', (chunk) => setTimeout(() => { if (!to.destroyed) to.write(chunk); }, delay));
  from.on('end', () => setTimeout(() => to.end(), delay));
  from.on('error', () => setTimeout(() => to.destroy(), delay));
  from.on('close', () => setTimeout(() => to.destroy(), delay + 1));
}

// While the target refuses connections (Redis stopped), the relay stops listening too, so
// that its clients are refused as they would be by the target itself, instead of being
// accepted and then closed; it probes the target every 50 ms and listens again when it
// answers.
let listening = false;
const server = net.createServer((down) => {
  const up = net.connect(tp, th);
  let connected = false;
  up.once('connect', () => {
    connected = true;
  });
  up.once('error', () => {
    if (!connected) {
      down.destroy();
      stopUntilTargetAnswers();
    }
  });
  // The target closing an established connection (Redis stopping) may mean it is going
  // away: stop accepting until it answers again.
  up.once('end', () => stopUntilTargetAnswers());
  pipe(down, up);
  pipe(up, down);
});
server.on('error', (e) => {
  // Listening again can race a port still being released: try again shortly.
  console.error(`relay: ${e.message}`);
  setTimeout(start, 50);
});
function start() {
  server.listen(lp, lh, () => {
    if (!listening) console.log(`relay ${listen} -> ${target}, ${delay} ms each way`);
    listening = true;
  });
}
function stopUntilTargetAnswers() {
  if (!server.listening) return;
  server.close();
  const probe = () => {
    const s = net.connect(tp, th);
    s.once('connect', () => {
      s.destroy();
      start();
    });
    s.once('error', () => setTimeout(probe, 50));
  };
  probe();
}
start();
