//! Socket.IO across two pushwire nodes over a real Redis (feature `redis`): the test
//! starts its own `redis-server` (Debian's package; `cargo xtask ci` installs it) on a
//! free port and two endpoints attached to it, with pushwire's client on each. What the
//! node adapters do against pushwire nodes is `cargo xtask interop redis-fleet`.
//!
//! Checked: broadcasts to all, to a room, with except, `local` staying local; own
//! broadcasts not delivered twice; `fetch_sockets`, `all_rooms`, `server_side_emit` (with
//! and without ack), `sockets_join` and `disconnect_sockets` across nodes; Redis stopped
//! and started again mid-run: both nodes keep serving locally and cross-node delivery
//! resumes.

use std::convert::Infallible;
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt as _;

use http::Request;
use hyper::body::Incoming as HyperBody;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::socketio::client::{self, ClientConfig, ClientSocket, SocketEvent};
use pushwire_tokio::socketio::cluster::{Cluster, RedisConfig};
use pushwire_tokio::socketio::{BroadcastOptions, Config, Incoming, Socket, SocketIo, Value};
use tokio::net::TcpListener;
use tokio::time::{sleep, timeout};

const DEADLINE: Duration = Duration::from_secs(10);

/// A `redis-server` of this test's own, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start_on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server; `cargo xtask ci` installs it)");
        let deadline = std::time::Instant::now() + DEADLINE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, port }
    }

    fn start() -> Redis {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis::start_on(port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node: an endpoint served on a local port, attached to Redis, whose app accepts
/// every socket, joins the rooms named in `auth.rooms`, and hands the sockets to the test.
struct Node {
    io: SocketIo,
    cluster: Cluster,
    url: String,
    sockets: tokio::sync::mpsc::UnboundedReceiver<Socket>,
}

async fn node(redis: &str) -> Node {
    node_with(RedisConfig::new(redis)).await
}

async fn node_with(config: RedisConfig) -> Node {
    let (io, incoming) = SocketIo::new(
        Config::new()
            .with_namespace("/admin")
            .with_dynamic_namespaces(|n| n.starts_with("/dyn-")),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = io.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let io = served.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<HyperBody>| {
                    let io = io.clone();
                    async move { Ok::<_, Infallible>(io.handle(req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(accept_all(incoming, tx));
    let cluster = Cluster::attach(&io, config.with_channel("test#app"))
        .await
        .unwrap();
    Node {
        io,
        cluster,
        url: format!("http://127.0.0.1:{port}/socket.io/"),
        sockets: rx,
    }
}

async fn accept_all(mut incoming: Incoming, tx: tokio::sync::mpsc::UnboundedSender<Socket>) {
    while let Some(req) = incoming.accept().await {
        let rooms: Vec<String> = match req.auth() {
            pushwire_tokio::socketio::Auth::Object(m) => m
                .get("rooms")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let Ok(socket) = req.accept() else { continue };
        for r in &rooms {
            socket.join(r).unwrap();
        }
        let _ = tx.send(socket);
    }
}

/// A client socket on `node`'s namespace `nsp` in `rooms`; returns it with its id and
/// the server side of it.
async fn join(node: &mut Node, nsp: &str, rooms: &[&str]) -> (ClientSocket, String, Socket) {
    let c = client::connect(&node.url, ClientConfig::DEFAULT)
        .await
        .unwrap();
    let mut auth = pushwire_tokio::socketio::Map::new();
    auth.insert(
        "rooms",
        Value::Array(rooms.iter().map(|r| Value::from(*r)).collect()),
    );
    let mut s = c.socket(nsp, Some(Value::Object(auth))).await.unwrap();
    let sid = match timeout(DEADLINE, s.recv()).await.unwrap().unwrap() {
        SocketEvent::Connected { sid } => sid,
        other => panic!("expected Connected, got {other:?}"),
    };
    let server = timeout(DEADLINE, node.sockets.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(server.id(), sid);
    std::mem::forget(c); // the client lives as long as its sockets (the test's lifetime)
    (s, sid, server)
}

/// The events `s` receives within `wait`: (name, first argument).
async fn events(s: &mut ClientSocket, wait: Duration) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    while let Ok(Some(e)) = timeout(wait, s.recv()).await {
        if let SocketEvent::Event(e) = e {
            out.push((e.name.clone(), e.args.first().cloned().unwrap_or_default()));
        }
    }
    out
}

/// Answers the next `q` event on `s` with `who` (skipping other events).
async fn answer(s: &mut ClientSocket, who: &str) {
    loop {
        match timeout(DEADLINE, s.recv()).await.unwrap().unwrap() {
            SocketEvent::Event(e) if e.name == "q" => {
                e.ack
                    .expect("q asks for an ack")
                    .send(&[Value::from(who)])
                    .await
                    .unwrap();
                return;
            }
            _ => {}
        }
    }
}

fn names(ev: &[(String, Value)]) -> Vec<&str> {
    ev.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_requests_and_an_outage_across_two_nodes() {
    let redis = Redis::start();
    let mut a = node(&redis.url()).await;
    let mut b = node(&redis.url()).await;
    assert_ne!(a.cluster.uid(), b.cluster.uid());
    assert_eq!(a.cluster.server_count("/").await.unwrap(), 2);

    let (mut a1, a1_id, _a1s) = join(&mut a, "/", &["room1"]).await;
    let (mut b1, _b1_id, _b1s) = join(&mut b, "/", &["room1"]).await;
    let (mut b2, b2_id, _b2s) = join(&mut b, "/", &["room2"]).await;
    let (mut badmin, _, _bads) = join(&mut b, "/admin", &[]).await;

    // From A: to all, to room1, to all except room2, local only; from B to room2.
    a.io.of("/").emit("all", &[Value::from(1u64)]).unwrap();
    a.io.of("/").to("room1").emit("room1", &[]).unwrap();
    a.io.of("/").except("room2").emit("not-room2", &[]).unwrap();
    a.io.of("/").local().emit("local", &[]).unwrap();
    b.io.of("/").to("room2").emit("room2", &[]).unwrap();
    a.io.of("/admin").emit("admin", &[]).unwrap();
    let wait = Duration::from_millis(500);
    assert_eq!(
        names(&events(&mut a1, wait).await),
        ["all", "room1", "not-room2", "local"]
    );
    assert_eq!(
        names(&events(&mut b1, wait).await),
        ["all", "room1", "not-room2"]
    );
    // Two publishers (A through Redis, B locally): no order between them.
    let mut got = events(&mut b2, wait).await;
    got.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(names(&got), ["all", "room2"]);
    assert_eq!(names(&events(&mut badmin, wait).await), ["admin"]);

    // fetchSockets and allRooms see both nodes.
    let everyone = a
        .cluster
        .fetch_sockets("/", &BroadcastOptions::new())
        .await
        .unwrap();
    let mut ids: Vec<&str> = everyone.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 3);
    let in_room2 = a
        .cluster
        .fetch_sockets("/", &BroadcastOptions::new().to("room2"))
        .await
        .unwrap();
    assert_eq!(in_room2.len(), 1);
    assert_eq!(in_room2[0].id, b2_id);
    assert!(in_room2[0].rooms.contains("room2"));
    let rooms = b.cluster.all_rooms("/").await.unwrap();
    assert!(rooms.contains("room1") && rooms.contains("room2") && rooms.contains(&a1_id));

    // serverSideEmit: without ack, then with one (B answers).
    a.cluster
        .server_side_emit("/", "hello", &[Value::from("x")])
        .unwrap();
    let e = timeout(DEADLINE, b.cluster.server_side_event())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.name(), e.args(), e.wants_ack()),
        (Some("hello"), vec![Value::from("x")], false)
    );
    let asking = {
        let c = a.cluster.clone();
        tokio::spawn(async move { c.server_side_emit_with_ack("/", "count", &[]).await })
    };
    let e = timeout(DEADLINE, b.cluster.server_side_event())
        .await
        .unwrap()
        .unwrap();
    assert!(e.wants_ack());
    e.ack(Value::from(42u64));
    let answers = timeout(DEADLINE, asking).await.unwrap().unwrap().unwrap();
    assert_eq!(answers, [Value::from(42u64)]);

    // An application channel: B gets A's message, and A its own back.
    a.cluster.publish("test#app", b"x1".to_vec()).unwrap();
    for c in [&b.cluster, &a.cluster] {
        let (ch, payload) = timeout(DEADLINE, c.channel_message())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ch.as_str(), &payload[..]), ("test#app", &b"x1"[..]));
    }

    // socketsJoin from A moves B's room2 socket into room9 too.
    a.cluster
        .sockets_join("/", &BroadcastOptions::new().to("room2"), &["room9"])
        .unwrap();
    sleep(Duration::from_millis(200)).await;
    a.io.of("/").to("room9").emit("room9", &[]).unwrap();
    assert_eq!(names(&events(&mut b2, wait).await), ["room9"]);

    // A broadcast with acks from A to room1: its own client and B's answer.
    let room1 = BroadcastOptions::new().to("room1");
    let (acks, (), ()) = tokio::join!(
        a.cluster
            .emit_with_ack("/", &room1, "q", &[], Duration::from_secs(5)),
        answer(&mut a1, "a1"),
        answer(&mut b1, "b1"),
    );
    let mut acks = acks.unwrap();
    acks.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(acks, [Value::from("a1"), Value::from("b1")]);

    // Redis goes away: local delivery goes on; what A could not publish is kept, and
    // published once Redis is back (node-redis's offline queue); cross-node delivery
    // resumes. (Whether B gets "during" depends on whether B re-subscribed first: at most
    // once, as with the node adapters.)
    let port = redis.port;
    let dropped = a.cluster.stats().dropped;
    drop(redis);
    // Once A's connection has seen Redis go (a pipeline written as it went may have run in
    // part, and is dropped, not sent twice: at most once).
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.io.of("/").emit("during", &[]).unwrap();
    assert_eq!(names(&events(&mut a1, wait).await), ["during"]);
    // Longer than the Redis client's own reconnection tries (100 ms doubling to 500 ms,
    // six of them, about 2.2 s), after which the publisher used to drop it.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let _redis = Redis::start_on(port);
    let mut resumed = false;
    for i in 0..50u64 {
        a.io.of("/")
            .to("room1")
            .emit("after", &[Value::from(i)])
            .unwrap();
        let got = events(&mut b1, Duration::from_millis(200)).await;
        if got.iter().any(|(n, _)| n == "after") {
            resumed = true;
            break;
        }
    }
    assert!(
        resumed,
        "cross-node delivery did not resume after Redis came back"
    );
    assert!(a.cluster.stats().published > 0);
    assert_eq!(
        a.cluster.stats().dropped,
        dropped,
        "A dropped what it could not publish during the outage"
    );
    assert!(b.cluster.stats().reconnects >= 1, "{:?}", b.cluster.stats());

    // disconnectSockets from B reaches A's socket.
    b.cluster
        .disconnect_sockets("/", &BroadcastOptions::new().to("room1"), false)
        .unwrap();
    let mut left = false;
    while let Ok(Some(e)) = timeout(DEADLINE, a1.recv()).await {
        if let SocketEvent::Disconnected { .. } = e {
            left = true;
            break;
        }
    }
    assert!(left, "A's socket was not disconnected by B's request");
}

/// `publishOnSpecificResponseChannel`: B answers A's request on A's own response channel,
/// not on the shared one (a raw subscriber on both tells which), and A still gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_on_the_asking_nodes_own_channel_when_asked_to() {
    let redis = Redis::start();
    let url = redis.url();
    let a = node(&url).await;
    let b = node_with(RedisConfig::new(url.as_str()).with_specific_response_channel(true)).await;
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut watch = client.get_async_pubsub().await.unwrap();
    let shared = "socket.io-response#/#".to_string();
    let own = format!("socket.io-response#/#{}#", a.cluster.uid());
    watch
        .subscribe(&[shared.clone(), own.clone()])
        .await
        .unwrap();
    let rooms = a.cluster.all_rooms("/").await.unwrap();
    assert!(rooms.is_empty(), "{rooms:?}");
    let mut seen = Vec::new();
    {
        let mut stream = watch.on_message();
        while let Ok(Some(m)) = timeout(Duration::from_millis(500), stream.next()).await {
            seen.push(m.get_channel_name().to_owned());
        }
    }
    // B answered on A's channel; A's own answer to itself does not go through Redis.
    assert_eq!(seen, [own], "B's answer went to {seen:?}");
    drop(b);
}

/// A dynamic namespace is subscribed when its first socket connects (as a node server makes
/// its adapter then): a broadcast there reaches the other node, and fleet-wide requests
/// there count its sockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_namespace_joins_the_fleet_with_its_first_socket() {
    let redis = Redis::start();
    let url = redis.url();
    let mut a = node(&url).await;
    let mut b = node(&url).await;
    let (_a1, a1_id, _a1s) = join(&mut a, "/dyn-7", &["r"]).await;
    let (mut b1, b1_id, _b1s) = join(&mut b, "/dyn-7", &["r"]).await;
    // B subscribes in the background: retry until it hears (bounded).
    let mut heard = false;
    for i in 0..50u64 {
        a.io.of("/dyn-7")
            .to("r")
            .emit("dyn", &[Value::from(i)])
            .unwrap();
        if events(&mut b1, Duration::from_millis(100))
            .await
            .iter()
            .any(|(n, _)| n == "dyn")
        {
            heard = true;
            break;
        }
    }
    assert!(heard, "B's socket in /dyn-7 never got A's broadcast");
    let mut ids: Vec<String> = a
        .cluster
        .fetch_sockets("/dyn-7", &BroadcastOptions::new())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.sort();
    let mut want = vec![a1_id, b1_id];
    want.sort();
    assert_eq!(ids, want);

    // A asks about a dynamic namespace where it has no socket (so had not subscribed it):
    // it subscribes before asking, and hears B's answer.
    let (_b2, b2_id, _b2s) = join(&mut b, "/dyn-8", &[]).await;
    let mut found = Vec::new();
    for _ in 0..20 {
        found = a
            .cluster
            .fetch_sockets("/dyn-8", &BroadcastOptions::new())
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        if !found.is_empty() {
            break;
        }
        sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found, [b2_id]);
}
