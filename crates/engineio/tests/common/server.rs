// HTTP requests and responses as the server tests build and read them (tests/server.rs for
// revision 3, tests/server_v4.rs for revision 4).

use std::time::Duration;

use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::Outcome;
use pushwire_engineio::Instant;

pub(crate) fn ms(n: u64) -> Instant {
    Instant::from_duration(Duration::from_millis(n))
}

pub(crate) fn get(q: &str) -> HttpRequest<'_> {
    HttpRequest {
        method: Method::Get,
        query: q,
        origin: None,
        content_type: None,
        websocket_upgrade: false,
        body: b"",
    }
}

pub(crate) fn post<'a>(q: &'a str, body: &'a [u8]) -> HttpRequest<'a> {
    HttpRequest {
        method: Method::Post,
        query: q,
        origin: None,
        content_type: Some("text/plain;charset=UTF-8"),
        websocket_upgrade: false,
        body,
    }
}

pub(crate) fn ws(q: &str) -> HttpRequest<'_> {
    HttpRequest {
        websocket_upgrade: true,
        ..get(q)
    }
}

pub(crate) fn respond(o: Outcome) -> HttpResponse {
    match o {
        Outcome::Respond(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

pub(crate) fn body(r: &HttpResponse) -> &str {
    std::str::from_utf8(&r.body).unwrap()
}
