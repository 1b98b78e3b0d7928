//! What an event stream request says: where the client resumes ([`LastEventId`]), and the
//! CORS answer for pages of other origins ([`Cors`]).

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Response, StatusCode, Uri};

/// Where a reconnecting client resumes: its `Last-Event-ID` header ("If the EventSource
/// object's last event ID string is not the empty string, then [...] Set (`Last-Event-ID`,
/// lastEventIDValue) in request's header list"), or, when there is none, the `lastEventId`
/// query parameter that polyfills which cannot set headers send. `None` for a first
/// connection.
///
/// With feature `axum` it is an extractor (it never rejects a request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LastEventId(pub Option<String>);

impl LastEventId {
    /// Reads it from a request's headers and URI.
    pub fn from_parts(headers: &HeaderMap, uri: &Uri) -> LastEventId {
        LastEventId(pushwire_sse::server::resume_point(
            headers.get("last-event-id").map(HeaderValue::as_bytes),
            uri.query(),
        ))
    }

    /// Reads it from a request.
    pub fn from_request<B>(request: &http::Request<B>) -> LastEventId {
        LastEventId::from_parts(request.headers(), request.uri())
    }

    /// The id, if any.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(feature = "axum")]
impl<St: Send + Sync> axum_core::extract::FromRequestParts<St> for LastEventId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &St,
    ) -> Result<LastEventId, std::convert::Infallible> {
        Ok(LastEventId::from_parts(&parts.headers, &parts.uri))
    }
}

/// Which pages of other origins may read an event stream (CORS), for
/// [`Sse::cors`](super::Sse::cors) and the preflight of `OPTIONS` requests
/// ([`Cors::preflight`]).
///
/// A browser's own `EventSource` sends no preflight (a GET with `Last-Event-ID` is
/// CORS-safelisted by the standard's request), but polyfills that set `Last-Event-ID` or
/// `Cache-Control` themselves do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// `Access-Control-Allow-Origin: *`: any page, without credentials (cookies).
    Any,
    /// Only this origin (e.g. `https://app.example`), with credentials.
    Origin(HeaderValue),
    /// Whatever origin asks, with credentials (`new EventSource(url, { withCredentials:
    /// true })` needs the origin echoed, not `*`); `Vary: Origin`.
    Mirror,
}

impl Cors {
    /// Adds the headers for a response to a request with `request` headers. Nothing for a
    /// request without `Origin` under [`Cors::Mirror`].
    pub fn apply(&self, request: &HeaderMap, response: &mut HeaderMap) {
        match self {
            Cors::Any => {
                response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
            Cors::Origin(origin) => {
                response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                response.insert(
                    ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
                response.append(VARY, HeaderValue::from_static("Origin"));
            }
            Cors::Mirror => {
                response.append(VARY, HeaderValue::from_static("Origin"));
                if let Some(origin) = request.get(ORIGIN) {
                    response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                    response.insert(
                        ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
            }
        }
    }

    /// The answer to a preflight `OPTIONS` request for the stream: 204, `GET` allowed with
    /// the headers an event stream request carries (`Last-Event-ID`, `Cache-Control`,
    /// `Accept`), cached for a day.
    pub fn preflight(&self, request: &HeaderMap) -> Response<()> {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let h = response.headers_mut();
        self.apply(request, h);
        h.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET"),
        );
        h.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Last-Event-ID, Cache-Control, Accept"),
        );
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        response
    }
}
