//! Server-Sent Events (feature `sse`): the response body on its own (paused time), the
//! broadcast channel's resume, the request helpers, and `EventSource` against `Sse` on
//! `axum::serve` over HTTP/1.1 and h2c — drops, aborted streams, 204, failures, redirects,
//! timeouts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http_body_util::BodyExt;
use pushwire_sse::{EventBuilder, Parser};
use pushwire_tokio::sse::{
    long_poll, Channel, ClientConfig, Cors, Error, Event, EventSource, FailReason, ForeverFrame,
    HttpVersion, Jitter, LastEventId, ReadyState, Sse,
};
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn ev(data: &str) -> Event {
    Event::data(data)
}

/// The frames of a body until it ends or `n` frames, each as text.
async fn frames<B>(body: &mut B, n: usize) -> Vec<String>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while out.len() < n {
        match body.frame().await {
            Some(Ok(f)) => out.push(String::from_utf8(f.into_data().unwrap().to_vec()).unwrap()),
            Some(Err(e)) => panic!("body error {e:?}"),
            None => break,
        }
    }
    out
}

#[tokio::test]
async fn the_response_has_the_headers_the_prelude_and_every_event() {
    let events = stream::iter([ev("a"), ev("b\nc")]);
    let resp = Sse::new(events)
        .retry(Duration::from_millis(1500))
        .padding(true)
        .into_http_response();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/event-stream; charset=utf-8");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    let mut body = resp.into_body();
    let all = frames(&mut body, 10).await.concat();
    assert!(all.starts_with(':'), "padding first");
    assert_eq!(all.len(), 2048 + "retry: 1500\n\n".len() + 9 + 17);
    assert!(
        all.ends_with("retry: 1500\n\ndata: a\n\ndata: b\ndata: c\n\n"),
        "{all:?}"
    );
    // What a parser reads back.
    let mut p = Parser::new();
    p.feed(all.as_bytes()).unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "a");
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "b\nc");
    assert_eq!(p.reconnection_time(), Some(1500));
    assert!(http_body::Body::is_end_stream(&body));
}

#[tokio::test]
async fn ready_events_share_a_frame_up_to_the_frame_size() {
    let ten = || stream::iter((0..10).map(|i| ev(&i.to_string())));
    let mut body = Sse::new(ten()).into_http_response().into_body();
    assert_eq!(
        frames(&mut body, 100).await.len(),
        1,
        "one frame for ten ready events"
    );
    // "data: N\n\n" is 9 bytes: 20-byte frames hold two events (the third would overflow
    // only after it is taken, so a frame holds up to the size, plus at most one event).
    let mut body = Sse::new(ten())
        .max_frame(20)
        .into_http_response()
        .into_body();
    let f = frames(&mut body, 100).await;
    assert_eq!(f.len(), 4, "{f:?}");
    assert_eq!(f[0], "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    let mut body = Sse::new(ten())
        .max_frame(0)
        .into_http_response()
        .into_body();
    assert_eq!(frames(&mut body, 100).await.len(), 10, "each event alone");
}

#[tokio::test(start_paused = true)]
async fn keep_alive_only_when_idle() {
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(8);
    let events = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    let mut body = Sse::new(events)
        .keep_alive(Some(Duration::from_secs(15)))
        .into_http_response()
        .into_body();
    let start = tokio::time::Instant::now();
    // Idle: a keep-alive comment after 15 s, then every 15 s.
    assert_eq!(frames(&mut body, 1).await, [": keep-alive\n"]);
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    assert_eq!(frames(&mut body, 1).await, [": keep-alive\n"]);
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    // An event 10 s later restarts the interval: the next comment is 15 s after it.
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        tx.send(ev("x")).await.unwrap();
        tx
    });
    assert_eq!(frames(&mut body, 1).await, ["data: x\n\n"]);
    assert_eq!(start.elapsed(), Duration::from_secs(40));
    assert_eq!(frames(&mut body, 1).await, [": keep-alive\n"]);
    assert_eq!(start.elapsed(), Duration::from_secs(55));
    drop(sender.await.unwrap());
    assert!(frames(&mut body, 1).await.is_empty(), "the stream ended");
    // Off: nothing but the events.
    let mut quiet = Sse::new(stream::pending::<Event>())
        .keep_alive(None)
        .into_http_response()
        .into_body();
    let waited = tokio::time::timeout(Duration::from_secs(3600), quiet.frame()).await;
    assert!(waited.is_err(), "no keep-alive when off");
}

#[tokio::test]
async fn a_stream_error_ends_the_body_cleanly_after_the_events_before_it() {
    let items: Vec<Result<Event, std::io::Error>> = vec![
        Ok(ev("1")),
        Ok(ev("2")),
        Err(std::io::Error::other("gone")),
        Ok(ev("never")),
    ];
    let mut body = Sse::new(stream::iter(items))
        .into_http_response()
        .into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "data: 1\n\ndata: 2\n\n");
    assert!(body.frame().await.is_none(), "ended, not failed");
    assert!(http_body::Body::is_end_stream(&body));
}

#[test]
fn events_are_encoded_once_and_checked() {
    let e = Event::from(
        EventBuilder::new()
            .event("tick")
            .unwrap()
            .id("7")
            .unwrap()
            .data("x\r\ny"),
    );
    assert_eq!(e.as_bytes(), "event: tick\nid: 7\ndata: x\ndata: y\n\n");
    assert!(
        EventBuilder::new().id("a\rb").is_err(),
        "no panic, a refusal"
    );
    assert_eq!(Event::comment("hi\nthere").as_bytes(), ": hi\n: there\n");
    assert_eq!(format!("{:?}", ev("q")), "Event(\"data: q\\n\\n\")");
}

fn sub_ids(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            let mut p = Parser::new();
            p.feed(e.as_bytes()).unwrap();
            p.poll_event()
                .unwrap()
                .unwrap()
                .last_event_id()
                .parse()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_channel_resumes_after_the_last_event_id_exactly_once() {
    let ch = Channel::new(100);
    for i in 0..10 {
        assert_eq!(ch.send(EventBuilder::new().data(&i.to_string())), Some(i));
    }
    let mut sub = ch.subscribe(Some("6"));
    assert_eq!(sub.missed(), 0);
    let first: Vec<Event> = (&mut sub).take(3).collect().await;
    assert_eq!(sub_ids(&first), [7, 8, 9]);
    // Then live events, in order, to every subscriber.
    let mut live = ch.subscribe(None);
    let mut other = ch.subscribe(Some("not a number"));
    ch.send(EventBuilder::new().data("ten"));
    ch.close();
    assert_eq!(ch.send(EventBuilder::new().data("late")), None);
    let rest: Vec<Event> = sub.collect().await;
    assert_eq!(sub_ids(&rest), [10]);
    assert_eq!(sub_ids(&[live.next().await.unwrap()]), [10]);
    assert!(live.next().await.is_none(), "closed and caught up");
    assert_eq!(other.next().await.map(|e| sub_ids(&[e])), Some(vec![10]));
    // An id the channel never gave starts live (here: at the end).
    assert!(ch.subscribe(Some("999")).next().await.is_none());
}

#[tokio::test]
async fn a_channel_is_bounded_by_its_history() {
    let ch = Channel::new(4);
    for i in 0..10 {
        ch.send(EventBuilder::new().data(&i.to_string()));
    }
    // Ids 6..=9 are kept: a client that saw 2 missed 3, 4 and 5.
    let sub = ch.subscribe(Some("2"));
    assert_eq!((sub.missed(), sub.next_id()), (3, 6));
    let backlog = ch.subscribe_at(0);
    assert_eq!((backlog.missed(), backlog.next_id()), (6, 6));
    assert_eq!(
        ch.subscribe_at(25).next_id(),
        25,
        "waits for an id not sent yet"
    );
    // A subscriber that falls a whole history behind ends instead of holding events.
    let mut slow = ch.subscribe(Some("5"));
    assert_eq!(sub_ids(&[slow.next().await.unwrap()]), [6]);
    for i in 10..20 {
        ch.send(EventBuilder::new().data(&i.to_string()));
    }
    assert!(slow.next().await.is_none());
    assert!(slow.lagged());
    assert_eq!(
        format!("{ch:?}"),
        "Channel { next_id: 20, kept: 4, bytes: 68, closed: false, .. }"
    );
    // A byte bound: "id: N\ndata: xxxxxxxxxx\n\n" is 24 bytes, so 100 bytes keep 4.
    let small = Channel::with_max_bytes(1000, 100);
    for _ in 0..10 {
        small.send(EventBuilder::new().data("xxxxxxxxxx"));
    }
    assert_eq!((small.subscribe_at(0).next_id(), small.next_id()), (6, 10));
    // The newest event is kept even when larger than the bound.
    small.send(EventBuilder::new().data(&"y".repeat(500)));
    assert_eq!(small.subscribe_at(0).next_id(), 10);
}

#[tokio::test]
async fn a_waiting_subscriber_wakes_for_the_next_event() {
    let ch = Channel::new(8);
    let mut sub = ch.subscribe(None);
    let reader = tokio::spawn(async move { sub.next().await });
    tokio::task::yield_now().await;
    let sender = ch.clone();
    sender.send(EventBuilder::new().data("wake"));
    let got = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.unwrap().as_bytes(), "id: 0\ndata: wake\n\n");
}

#[test]
fn last_event_id_from_header_then_query_and_cors() {
    let mut h = HeaderMap::new();
    let uri: http::Uri = "/s?lastEventId=q%2041&x=1".parse().unwrap();
    assert_eq!(LastEventId::from_parts(&h, &uri).as_deref(), Some("q 41"));
    h.insert("last-event-id", " 42 ".parse().unwrap());
    assert_eq!(LastEventId::from_parts(&h, &uri).as_deref(), Some("42"));
    assert_eq!(
        LastEventId::from_parts(&HeaderMap::new(), &"/s".parse().unwrap()).0,
        None
    );

    let mut req = HeaderMap::new();
    req.insert("origin", "https://app.example".parse().unwrap());
    let mut out = HeaderMap::new();
    Cors::Any.apply(&req, &mut out);
    assert_eq!(out["access-control-allow-origin"], "*");
    assert!(out.get("access-control-allow-credentials").is_none());
    let mut out = HeaderMap::new();
    Cors::Mirror.apply(&req, &mut out);
    assert_eq!(out["access-control-allow-origin"], "https://app.example");
    assert_eq!(out["access-control-allow-credentials"], "true");
    assert_eq!(out["vary"], "Origin");
    let mut out = HeaderMap::new();
    Cors::Mirror.apply(&HeaderMap::new(), &mut out);
    assert!(out.get("access-control-allow-origin").is_none());
    let pre = Cors::Origin("https://app.example".parse().unwrap()).preflight(&req);
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-methods"], "GET");
    assert!(pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Last-Event-ID"));
    let resp = Sse::new(stream::empty::<Event>())
        .cors(&Cors::Any, &req)
        .into_http_response();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

// ---- The Comet fallbacks ----

#[tokio::test(start_paused = true)]
async fn a_forever_frame_is_a_script_per_event_after_a_padded_head() {
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(8);
    let events = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    let resp = ForeverFrame::new(events)
        .callback("parent.onEvent")
        .unwrap()
        .keep_alive(Some(Duration::from_secs(15)))
        .into_http_response();
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let mut body = resp.into_body();
    let head = frames(&mut body, 1).await.concat();
    assert!(head.starts_with("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"));
    assert!(
        head.len() > 2048 && head.ends_with("-->\n"),
        "{}",
        head.len()
    );
    tx.send(Event::from(
        EventBuilder::new()
            .event("box")
            .unwrap()
            .id("3,4")
            .unwrap()
            .data("</script>\nx"),
    ))
    .await
    .unwrap();
    assert_eq!(
        frames(&mut body, 1).await,
        ["<script>parent.onEvent({\"type\":\"box\",\"id\":\"3,4\",\"data\":\"\\u003c/script\\u003e\\nx\"});</script>\n"]
    );
    // Idle: a keep-alive comment 15 s later; the id stays the last one.
    assert_eq!(frames(&mut body, 1).await, ["<!-- keep-alive -->\n"]);
    tx.send(Event::data("y")).await.unwrap();
    drop(tx);
    assert_eq!(
        frames(&mut body, 3).await,
        [
            "<script>parent.onEvent({\"type\":\"message\",\"id\":\"3,4\",\"data\":\"y\"});</script>\n",
            "</body></html>\n"
        ]
    );
    assert!(http_body::Body::is_end_stream(&body));
}

#[tokio::test(start_paused = true)]
async fn a_long_poll_waits_for_an_event_or_the_timeout() {
    let body = |r: http::Response<http_body_util::Full<Bytes>>| async move {
        let b = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(b.to_vec()).unwrap()
    };
    let ch = Channel::new(16);
    // Nothing within the wait: an empty answer, after exactly the wait.
    let start = tokio::time::Instant::now();
    let r = long_poll(ch.subscribe(None), Duration::from_secs(25), 10).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(body(r).await, r#"{"events":[],"ended":false}"#);
    assert_eq!(start.elapsed(), Duration::from_secs(25));
    // An event 2 s into the wait answers at once, with what else is ready (up to the max).
    let sender = ch.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        for d in ["a", "b", "c"] {
            sender.send(EventBuilder::new().data(d));
        }
    });
    let start = tokio::time::Instant::now();
    let r = long_poll(ch.subscribe(None), Duration::from_secs(25), 2).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(
        body(r).await,
        r#"{"events":[{"type":"message","id":"0","data":"a"},{"type":"message","id":"1","data":"b"}],"ended":false}"#
    );
    // The next poll resumes after id 1; a closed channel says so.
    ch.close();
    let r = long_poll(ch.subscribe(Some("1")), Duration::from_secs(25), 10).await;
    assert_eq!(
        body(r).await,
        r#"{"events":[{"type":"message","id":"2","data":"c"}],"ended":true}"#
    );
}

// ---- EventSource against Sse on axum::serve ----

const TOTAL: u64 = 300;
const PER_STREAM: usize = 7;

/// A request's Last-Event-ID and headers.
type Seen = (Option<String>, HeaderMap);

#[derive(Clone)]
struct App {
    channel: Channel,
    /// (Last-Event-ID, headers) of every request to /events.
    requests: Arc<Mutex<Vec<Seen>>>,
    /// End each stream with an error (an aborted connection) instead of cleanly.
    abort: bool,
}

async fn events(State(app): State<App>, last: LastEventId, headers: HeaderMap) -> Response {
    app.requests
        .lock()
        .unwrap()
        .push((last.0.clone(), headers.clone()));
    if last.as_deref() == Some(&(TOTAL - 1).to_string()) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let sub = match last.as_deref() {
        Some(id) => app.channel.subscribe(Some(id)),
        None => app.channel.subscribe_at(0),
    };
    // Up to PER_STREAM events, and the stream ends after the last one.
    let n = TOTAL.saturating_sub(sub.next_id()).min(PER_STREAM as u64);
    let sub = sub.take(n as usize);
    if !app.abort {
        return Sse::new(sub)
            .retry(Duration::from_millis(5))
            .into_response();
    }
    // The events, the start of another, then the connection breaks (after a pause, so that
    // hyper has written what came before).
    let bytes = stream::once(async { Ok(Bytes::from_static(b"retry: 5\n\n")) })
        .chain(sub.map(|e| Ok(e.as_bytes().clone())))
        .chain(stream::once(async {
            Ok(Bytes::from_static(b"id: 999999\ndata: partial"))
        }))
        .chain(stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err::<Bytes, BoxError>("abort".into())
        }));
    let mut r = axum::body::Body::from_stream(bytes).into_response();
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    r
}

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

fn fast() -> ClientConfig {
    ClientConfig::DEFAULT
        .with_reconnection_time(Duration::from_millis(5))
        .with_min_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(50))
        .with_backoff_reset_after(Duration::ZERO)
        .with_jitter(Jitter::None)
}

/// `lend`: read with `next_ref` (events lent from the parser) instead of the `Stream`.
async fn resume_run(version: HttpVersion, abort: bool) {
    resume_run_with(version, abort, false).await;
}

async fn resume_run_with(version: HttpVersion, abort: bool, lend: bool) {
    let app = App {
        channel: Channel::new(TOTAL as usize),
        requests: Arc::default(),
        abort,
    };
    for i in 0..TOTAL {
        app.channel
            .send(EventBuilder::new().event("n").unwrap().data(&i.to_string()));
    }
    let base = serve(
        Router::new()
            .route("/events", get(events))
            .with_state(app.clone()),
    )
    .await;
    let mut source = EventSource::builder(&format!("{base}/events"))
        .config(fast())
        .http_version(version)
        .header(
            "authorization".parse().unwrap(),
            "Bearer t".parse().unwrap(),
        )
        .build()
        .unwrap();
    let mut got = Vec::new();
    let run = async {
        if lend {
            while let Some(item) = source.next_ref().await {
                let e = item.unwrap();
                assert_eq!(e.event_type, "n");
                assert_eq!(e.data, e.last_event_id);
                got.push(e.data.parse::<u64>().unwrap());
            }
        }
        while let Some(item) = source.next().await {
            let e = item.unwrap();
            assert_eq!(e.event_type(), "n");
            assert_eq!(e.data(), e.last_event_id());
            got.push(e.data().parse::<u64>().unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap();
    assert_eq!(
        got,
        (0..TOTAL).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(
        source.ready_state(),
        ReadyState::Closed,
        "the 204 closed it"
    );
    let streams = TOTAL.div_ceil(PER_STREAM as u64);
    assert_eq!(source.streams_opened(), streams);
    let reqs = app.requests.lock().unwrap();
    assert_eq!(
        reqs.len() as u64,
        streams + 1,
        "one request per stream, then the 204"
    );
    // Each request resumed after the last complete event.
    for (k, (id, headers)) in reqs.iter().enumerate() {
        let expect = (k as u64 * PER_STREAM as u64).min(TOTAL).checked_sub(1);
        assert_eq!(id.clone(), expect.map(|e| e.to_string()));
        assert_eq!(headers["accept"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["authorization"], "Bearer t");
    }
}

#[tokio::test]
async fn event_source_resumes_over_http1_streams_that_end() {
    resume_run(HttpVersion::Http1, false).await;
}

#[tokio::test]
async fn event_source_resumes_over_http1_streams_that_are_aborted() {
    resume_run(HttpVersion::Http1, true).await;
}

#[tokio::test]
async fn event_source_lends_events_with_next_ref() {
    resume_run_with(HttpVersion::Http1, true, true).await;
}

#[tokio::test]
async fn event_source_resumes_over_h2c() {
    resume_run(HttpVersion::Http2, false).await;
}

#[tokio::test]
async fn event_source_resumes_over_h2c_streams_that_are_aborted() {
    resume_run(HttpVersion::Http2, true).await;
}

async fn status(code: u16, ct: &'static str, hits: Arc<AtomicUsize>) -> String {
    let route = get(move || {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let mut r = "data: x\n\n".into_response();
            *r.status_mut() = StatusCode::from_u16(code).unwrap();
            r.headers_mut().insert("content-type", ct.parse().unwrap());
            r
        }
    });
    serve(Router::new().route("/s", route)).await + "/s"
}

async fn end_of(url: &str, config: ClientConfig) -> (Vec<String>, Option<FailReason>) {
    let mut source = EventSource::builder(url).config(config).build().unwrap();
    let mut data = Vec::new();
    let mut failed = None;
    let run = async {
        while let Some(item) = source.next().await {
            match item {
                Ok(e) => data.push(e.data().to_string()),
                Err(Error::Failed(r)) => {
                    assert!(failed.is_none(), "reported once");
                    failed = Some(r);
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap();
    assert!(source.next().await.is_none(), "fused");
    (data, failed)
}

#[tokio::test]
async fn event_source_stops_exactly_when_the_rules_say() {
    for (code, ct, expect) in [
        (
            500,
            "text/event-stream",
            Some(FailReason::Status { status: 500 }),
        ),
        (
            200,
            "text/plain",
            Some(FailReason::ContentType {
                content_type: Some("text/plain".into()),
            }),
        ),
        (204, "text/event-stream", None),
    ] {
        let hits = Arc::new(AtomicUsize::new(0));
        let url = status(code, ct, hits.clone()).await;
        let (data, failed) = end_of(&url, fast()).await;
        assert!(data.is_empty(), "{code}: no events");
        assert_eq!(failed, expect, "{code} {ct}");
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{code}: never retried");
    }
    // Parameters and letter case of the content type are allowed.
    let hits = Arc::new(AtomicUsize::new(0));
    let url = status(200, "Text/Event-Stream; charset=utf-8", hits.clone()).await;
    let config = fast()
        .with_max_attempts(Some(3))
        .with_backoff_reset_after(Duration::from_secs(60));
    let (data, failed) = end_of(&url, config).await;
    assert_eq!(data, ["x", "x", "x"], "three streams, each one event");
    assert_eq!(failed, Some(FailReason::TooManyAttempts { attempts: 3 }));
}

#[tokio::test]
async fn event_source_gives_up_on_a_closed_port_after_max_attempts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let start = tokio::time::Instant::now();
    let (data, failed) = end_of(&url, fast().with_max_attempts(Some(4))).await;
    assert!(data.is_empty());
    assert_eq!(failed, Some(FailReason::TooManyAttempts { attempts: 4 }));
    // Backoff without jitter: 10, 20, 40 ms between the four attempts.
    assert!(
        start.elapsed() >= Duration::from_millis(70),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn event_source_reconnects_after_the_read_timeout() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    // One event, then silence (no keep-alive).
    let route = get(move |last: LastEventId| {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            let first = last
                .0
                .is_none()
                .then(|| Event::from(EventBuilder::new().id("1").unwrap().data("one")));
            Sse::new(stream::iter(first).chain(stream::pending()))
                .keep_alive(None)
                .into_response()
        }
    });
    let url = serve(Router::new().route("/s", route)).await + "/s";
    let config = fast()
        .with_read_timeout(Some(Duration::from_millis(200)))
        .with_backoff_reset_after(Duration::from_secs(60))
        .with_max_attempts(Some(3));
    let (data, failed) = end_of(&url, config).await;
    assert_eq!(
        data,
        ["one"],
        "the event once, not again after the reconnects"
    );
    assert_eq!(failed, Some(FailReason::TooManyAttempts { attempts: 3 }));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn event_source_follows_redirects_and_keeps_credentials_at_home() {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let s = seen.clone();
    let target = get(move |headers: HeaderMap| {
        let s = s.clone();
        async move {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string());
            s.lock().unwrap().push(auth);
            StatusCode::NO_CONTENT
        }
    });
    let other = serve(Router::new().route("/final", target.clone())).await;
    let other_final = format!("{other}/final");
    let home = serve(
        Router::new()
            .route(
                "/a/start",
                get(|| async { (StatusCode::FOUND, [("location", "next")]) }),
            )
            .route(
                "/a/next",
                get(|| async { (StatusCode::TEMPORARY_REDIRECT, [("location", "/final")]) }),
            )
            .route("/final", target)
            .route(
                "/away",
                get(move || {
                    let to = other_final.clone();
                    async move { (StatusCode::SEE_OTHER, [("location", to)]) }
                }),
            )
            .route(
                "/loop",
                get(|| async { (StatusCode::FOUND, [("location", "/loop")]) }),
            ),
    )
    .await;
    let auth: (http::HeaderName, http::HeaderValue) =
        ("authorization".parse().unwrap(), "secret".parse().unwrap());
    for (path, expect) in [("/a/start", Some("secret")), ("/away", None)] {
        let mut src = EventSource::builder(&format!("{home}{path}"))
            .header(auth.0.clone(), auth.1.clone())
            .build()
            .unwrap();
        assert!(
            src.next().await.is_none(),
            "{path}: the 204 at the end closes it"
        );
        let last = seen.lock().unwrap().pop().unwrap();
        assert_eq!(last.as_deref(), expect, "{path}");
    }
    let (_, failed) = end_of(&format!("{home}/loop"), fast()).await;
    assert_eq!(
        failed,
        Some(FailReason::Status { status: 302 }),
        "gives up after 10"
    );
}

#[tokio::test]
async fn event_source_reads_frames_larger_than_its_input_limit() {
    let big: String = (0..200)
        .map(|i| format!("id: {i}\ndata: {i}\n\n"))
        .collect();
    let route = get(move || {
        let big = big.clone();
        async move {
            let mut r = big.into_response();
            r.headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            r
        }
    });
    let url = serve(Router::new().route("/s", route)).await + "/s";
    let limits = pushwire_sse::Limits::DEFAULT.with_max_buffered_input(64);
    let config = fast()
        .with_parser(pushwire_sse::Config::DEFAULT.with_limits(limits))
        .with_max_attempts(Some(1))
        .with_backoff_reset_after(Duration::from_secs(60));
    let (data, failed) = end_of(&url, config).await;
    assert_eq!(data, (0..200).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_eq!(failed, Some(FailReason::TooManyAttempts { attempts: 1 }));
}

#[tokio::test]
async fn bad_urls_and_ids_are_refused_at_build() {
    assert!(matches!(
        EventSource::new("ftp://x/"),
        Err(Error::InvalidUrl(_))
    ));
    assert!(matches!(
        EventSource::new("/relative"),
        Err(Error::InvalidUrl(_))
    ));
    let bad = EventSource::builder("http://127.0.0.1:1/")
        .last_event_id("a\nb")
        .build();
    assert!(matches!(bad, Err(Error::InvalidLastEventId)));
    // close() before the first poll: nothing is ever sent.
    let mut s = EventSource::new("http://127.0.0.1:1/").unwrap();
    s.close();
    assert!(s.next().await.is_none());
}

// ---- The channel against a model ----

mod channel_model {
    use super::*;
    use futures_util::Stream;
    use proptest::prelude::*;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    #[derive(Debug, Clone)]
    enum Op {
        Send(usize),
        Subscribe(Option<u64>),
        Poll(usize, usize),
        Close,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (0usize..60).prop_map(Op::Send),
            2 => proptest::option::of(0u64..80).prop_map(Op::Subscribe),
            4 => (0usize..8, 1usize..10).prop_map(|(s, n)| Op::Poll(s, n)),
            1 => Just(Op::Close),
        ]
    }

    fn id_of(e: &Event) -> u64 {
        let mut p = Parser::new();
        p.feed(e.as_bytes()).unwrap();
        p.poll_event()
            .unwrap()
            .unwrap()
            .last_event_id()
            .parse()
            .unwrap()
    }

    struct Sub {
        s: pushwire_tokio::sse::Subscription,
        next: u64,
        ended: bool,
    }

    proptest! {
        /// Any interleaving of sends, subscriptions (with any last id), polls and a close:
        /// every subscriber yields consecutive ids from where it started (never a gap, never
        /// twice), its start and `missed` follow the kept window, the window obeys both
        /// bounds, and a subscriber ends only when the channel is closed and it has
        /// everything, or when its next event left the window (lagged).
        #[test]
        fn subscribers_never_skip_and_the_history_is_bounded(
            cap in 1usize..12,
            max_bytes in 20usize..400,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let ch = Channel::with_max_bytes(cap, max_bytes);
            let mut sizes: Vec<usize> = Vec::new(); // encoded size of each event sent
            let mut first = 0u64; // the model's first kept id
            let mut closed = false;
            let mut subs: Vec<Sub> = Vec::new();
            let mut cx = Context::from_waker(Waker::noop());
            for op in ops {
                match op {
                    Op::Send(len) => {
                        let data = "x".repeat(len);
                        let got = ch.send(EventBuilder::new().data(&data));
                        if closed {
                            prop_assert_eq!(got, None);
                            continue;
                        }
                        let id = sizes.len() as u64;
                        prop_assert_eq!(got, Some(id));
                        sizes.push(Event::from(EventBuilder::new().id(&id.to_string()).unwrap().data(&data)).as_bytes().len());
                        // The model's window: newest kept; drop the oldest while over a bound.
                        let end = sizes.len() as u64;
                        let bytes = |f: u64| sizes[f as usize..].iter().sum::<usize>();
                        while end - first > cap as u64 || (bytes(first) > max_bytes && end - first > 1) {
                            first += 1;
                        }
                    }
                    Op::Subscribe(last) => {
                        let end = sizes.len() as u64;
                        let text = last.map(|l| l.to_string());
                        let s = ch.subscribe(text.as_deref());
                        let want_start = match last {
                            Some(l) if l < end => l + 1,
                            _ => end,
                        };
                        let (start, missed) = if want_start < first { (first, first - want_start) } else { (want_start, 0) };
                        prop_assert_eq!((s.next_id(), s.missed()), (start, missed));
                        subs.push(Sub { s, next: start, ended: false });
                    }
                    Op::Poll(i, n) => {
                        let Some(sub) = subs.get_mut(i) else { continue };
                        for _ in 0..n {
                            if sub.ended {
                                break;
                            }
                            match Pin::new(&mut sub.s).poll_next(&mut cx) {
                                Poll::Ready(Some(e)) => {
                                    prop_assert!(sub.next >= first, "yielded {} after it left the window", sub.next);
                                    prop_assert_eq!(id_of(&e), sub.next);
                                    sub.next += 1;
                                }
                                Poll::Ready(None) => {
                                    let caught_up = sub.next == sizes.len() as u64;
                                    prop_assert!(
                                        (closed && caught_up) || (sub.next < first && sub.s.lagged()),
                                        "ended at {} (first {}, end {}, closed {})", sub.next, first, sizes.len(), closed
                                    );
                                    sub.ended = true;
                                }
                                Poll::Pending => {
                                    prop_assert!(!closed && sub.next == sizes.len() as u64);
                                    break;
                                }
                            }
                        }
                    }
                    Op::Close => {
                        ch.close();
                        closed = true;
                    }
                }
                prop_assert_eq!(ch.next_id(), sizes.len() as u64);
                prop_assert_eq!(ch.subscribe_at(0).next_id(), first, "the kept window");
                let kept = sizes.len() as u64 - first;
                prop_assert!(kept <= cap as u64);
                prop_assert!(kept <= 1 || sizes[first as usize..].iter().sum::<usize>() <= max_bytes);
            }
        }
    }
}

#[test]
fn added_headers_replace_the_defaults_and_keep_every_value() {
    let mut req = HeaderMap::new();
    req.insert("origin", "https://app.example".parse().unwrap());
    let resp = Sse::new(stream::empty::<Event>())
        .header(
            "cache-control".parse().unwrap(),
            "no-store".parse().unwrap(),
        )
        .cors(&Cors::Mirror, &req)
        .header("vary".parse().unwrap(), "Accept".parse().unwrap())
        .into_http_response();
    let h = resp.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h.get_all("cache-control").iter().count(), 1);
    // `header` replaces the name's earlier values, added ones included.
    let vary: Vec<_> = h.get_all("vary").iter().collect();
    assert_eq!(vary, ["Accept"]);
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["content-type"], "text/event-stream; charset=utf-8");
    assert_eq!(h["x-accel-buffering"], "no");
}
