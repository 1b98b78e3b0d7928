//! permessage-deflate negotiation (RFC 7692 §7.1): offers and responses in
//! `Sec-WebSocket-Extensions`.
//!
//! Elements are the strings [`crate::handshake`] splits the header into (one per offer, e.g.
//! `permessage-deflate; client_max_window_bits`). Nothing here needs the deflate library, so
//! negotiation builds without the `deflate` feature.

pub use crate::error::NegotiationError;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The extension name.
pub const NAME: &str = "permessage-deflate";

/// `client_max_window_bits` in an offer: absent, present without a value, or with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientWindowBits {
    /// Not offered: the server must not send the parameter back.
    #[default]
    Absent,
    /// Offered without a value: the server may choose any 8..=15.
    Any,
    /// Offered with a value (a hint: the client will not use a larger window).
    Max(u8),
}

/// One `permessage-deflate` element of an offer (client → server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Offer {
    /// `server_no_context_takeover`.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits[=N]`.
    pub client_max_window_bits: ClientWindowBits,
}

/// The agreed parameters ("agreed parameters" of RFC 7692 §5), as a response carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agreement {
    /// The server starts every message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message with an empty window.
    pub client_no_context_takeover: bool,
    /// The server's compression window (base-2 log, 8..=15; 15 if absent).
    pub server_max_window_bits: u8,
    /// The client's compression window (base-2 log, 8..=15; 15 if absent).
    pub client_max_window_bits: u8,
}

impl Default for Agreement {
    fn default() -> Self {
        Agreement {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Splits an element into its name and `(param, value)` pairs; quoted values are unquoted.
fn split(element: &str) -> (&str, Vec<(&str, Option<&str>)>) {
    let mut parts = element.split(';');
    let name = parts.next().unwrap_or("").trim();
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                (k.trim(), Some(v))
            }
            None => (p.trim(), None),
        })
        .collect();
    (name, params)
}

/// Window bits: "a decimal integer value without leading zeroes between 8 to 15, inclusive".
fn window_bits(param: &str, value: Option<&str>) -> Result<u8, NegotiationError> {
    let bad = || NegotiationError::InvalidValue(param.into());
    let v = value.ok_or_else(bad)?;
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) || v.starts_with('0') {
        return Err(bad());
    }
    let n: u8 = v.parse().map_err(|_| bad())?;
    if (8..=15).contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Parameters common to offers and responses, with the rules for names, duplicates and values.
/// `client_bits_optional`: an offer may carry `client_max_window_bits` without a value.
fn parse_params(element: &str, client_bits_optional: bool) -> Result<Offer, NegotiationError> {
    let (name, params) = split(element);
    if !name.eq_ignore_ascii_case(NAME) {
        return Err(NegotiationError::NotDeflate);
    }
    let mut o = Offer::default();
    let mut seen = [false; 4];
    for (k, v) in params {
        let idx = match k {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            // "The negotiation offer contains an extension parameter not defined for use in
            // an offer." / "The negotiation response contains an extension parameter not
            // defined for use in a response."
            _ => return Err(NegotiationError::UnknownParameter(k.into())),
        };
        // "... contains multiple extension parameters with the same name."
        if core::mem::replace(&mut seen[idx], true) {
            return Err(NegotiationError::DuplicateParameter(k.into()));
        }
        match idx {
            // "This extension parameter has no value."
            0 | 1 if v.is_some() => return Err(NegotiationError::InvalidValue(k.into())),
            0 => o.server_no_context_takeover = true,
            1 => o.client_no_context_takeover = true,
            2 => o.server_max_window_bits = Some(window_bits(k, v)?),
            // Offer: "This parameter has no value or a decimal integer value [...]"; a
            // response: "has a decimal integer value".
            _ if v.is_none() && client_bits_optional => {
                o.client_max_window_bits = ClientWindowBits::Any
            }
            _ => o.client_max_window_bits = ClientWindowBits::Max(window_bits(k, v)?),
        }
    }
    Ok(o)
}

impl Offer {
    /// Parses one offered element (server side). An `Err` means the server "MUST decline"
    /// this offer (RFC 7692 §7.1) and go on to the next.
    pub fn parse(element: &str) -> Result<Offer, NegotiationError> {
        parse_params(element, true)
    }

    /// The element to send (client side), e.g. `permessage-deflate; client_max_window_bits`.
    pub fn to_header(&self) -> String {
        let mut s = String::from(NAME);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            s.push_str(&format!("; server_max_window_bits={b}"));
        }
        match self.client_max_window_bits {
            ClientWindowBits::Absent => {}
            ClientWindowBits::Any => s.push_str("; client_max_window_bits"),
            ClientWindowBits::Max(b) => s.push_str(&format!("; client_max_window_bits={b}")),
        }
        s
    }
}

impl Agreement {
    /// The response element (server side).
    pub fn to_header(&self) -> String {
        let mut s = String::from(NAME);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits != 15 {
            s.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits != 15 {
            s.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        s
    }
}

/// What the server is willing to agree to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerPolicy {
    /// Always answer `server_no_context_takeover` (no compressor state kept between messages).
    pub server_no_context_takeover: bool,
    /// Always answer `client_no_context_takeover` (no decompressor window kept between messages).
    pub client_no_context_takeover: bool,
    /// Largest window the server compresses with (8..=15).
    pub server_max_window_bits: u8,
    /// Window to ask the client for, when the offer allows it (8..=15).
    pub client_max_window_bits: u8,
}

impl Default for ServerPolicy {
    fn default() -> Self {
        ServerPolicy {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Server side: picks the first acceptable `permessage-deflate` offer from `offers` (the
/// elements of `Sec-WebSocket-Extensions`, in the client's order of preference) and returns
/// the agreement (its [`Agreement::to_header`] is the response element). Offers with invalid
/// parameters are declined and skipped. `None`: decline them all ("A server declining all
/// offered PMCEs MUST NOT include any element with the PMCE's name").
pub fn server_accept<S: AsRef<str>>(offers: &[S], policy: &ServerPolicy) -> Option<Agreement> {
    offers.iter().find_map(|e| {
        let o = Offer::parse(e.as_ref()).ok()?;
        Some(server_agree(&o, policy))
    })
}

/// The agreement the server answers to one valid offer under `policy`.
pub fn server_agree(o: &Offer, policy: &ServerPolicy) -> Agreement {
    let clamp = |b: u8| b.clamp(8, 15);
    Agreement {
        // "A server accepts an extension negotiation offer that includes the
        // "server_no_context_takeover" extension parameter by including [it]"; "A server MAY
        // include [it] even if the [offer] didn't".
        server_no_context_takeover: o.server_no_context_takeover
            || policy.server_no_context_takeover,
        // "A server MAY include the "client_no_context_takeover" extension parameter in an
        // extension negotiation response."
        client_no_context_takeover: policy.client_no_context_takeover,
        // "by including the "server_max_window_bits" extension parameter [...] with the same
        // or smaller value as the offer"; it "MAY include" it unasked.
        server_max_window_bits: match o.server_max_window_bits {
            Some(b) => b.min(clamp(policy.server_max_window_bits)),
            None => clamp(policy.server_max_window_bits),
        },
        // "If a received extension negotiation offer doesn't have the
        // "client_max_window_bits" extension parameter, the corresponding extension
        // negotiation response to the offer MUST NOT include [it]"; with a value, the answer
        // is "equal to or smaller than the received value".
        client_max_window_bits: match o.client_max_window_bits {
            ClientWindowBits::Absent => 15,
            ClientWindowBits::Any => clamp(policy.client_max_window_bits),
            ClientWindowBits::Max(b) => b.min(clamp(policy.client_max_window_bits)),
        },
    }
}

/// Client side: checks the server's response element against the offers the client sent
/// (in order); the agreement is taken from the first offer the response fits. An `Err` means
/// the client "MUST _Fail the WebSocket Connection_".
pub fn client_accept(offers: &[Offer], response: &str) -> Result<Agreement, NegotiationError> {
    // A response may not carry client_max_window_bits without a value.
    let r = parse_params(response, false)?;
    let agreed = Agreement {
        server_no_context_takeover: r.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover,
        server_max_window_bits: r.server_max_window_bits.unwrap_or(15),
        client_max_window_bits: match r.client_max_window_bits {
            ClientWindowBits::Max(b) => b,
            _ => 15,
        },
    };
    let fits = |o: &Offer| {
        // "[The server] accepts an extension negotiation offer that includes the
        // "server_no_context_takeover" extension parameter by including" it.
        (!o.server_no_context_takeover || r.server_no_context_takeover)
            // "with the same or smaller value as the offer"
            && o
                .server_max_window_bits
                .is_none_or(|b| agreed.server_max_window_bits <= b)
            // "If a received extension negotiation offer doesn't have the
            // "client_max_window_bits" extension parameter, the corresponding extension
            // negotiation response to the offer MUST NOT include" it.
            && (r.client_max_window_bits == ClientWindowBits::Absent
                || o.client_max_window_bits != ClientWindowBits::Absent)
    };
    if offers.iter().any(fits) {
        Ok(agreed)
    } else {
        // "The client does not support the configuration that the response represents."
        Err(NegotiationError::NotOffered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn offer(s: &str) -> Result<Offer, NegotiationError> {
        Offer::parse(s)
    }

    #[test]
    fn parses_all_parameters() {
        let o = offer(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=\"12\"",
        )
        .unwrap();
        assert_eq!(
            o,
            Offer {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(10),
                client_max_window_bits: ClientWindowBits::Max(12),
            }
        );
        assert_eq!(
            offer("permessage-deflate; client_max_window_bits")
                .unwrap()
                .client_max_window_bits,
            ClientWindowBits::Any
        );
        assert_eq!(offer("x-webkit-deflate"), Err(NegotiationError::NotDeflate));
    }

    #[test]
    fn offer_roundtrips_through_header() {
        for o in [
            Offer::default(),
            Offer {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(9),
                client_max_window_bits: ClientWindowBits::Any,
            },
            Offer {
                client_max_window_bits: ClientWindowBits::Max(8),
                ..Offer::default()
            },
        ] {
            assert_eq!(offer(&o.to_header()).unwrap(), o);
        }
    }

    #[test]
    fn server_declines_unknown_parameter() {
        // "The negotiation offer contains an extension parameter not defined for use in an
        // offer."
        assert_eq!(
            offer("permessage-deflate; foo"),
            Err(NegotiationError::UnknownParameter("foo".into()))
        );
    }

    #[test]
    fn server_declines_invalid_values() {
        // "The negotiation offer contains an extension parameter with an invalid value."
        // "a decimal integer value without leading zeroes between 8 to 15, inclusive"
        for bad in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; server_max_window_bits=abc",
            // Not decimal digits, though Rust's integer parsing takes a sign.
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; client_max_window_bits=+8",
            "permessage-deflate; server_max_window_bits=100",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; client_max_window_bits=",
            // "This extension parameter has no value."
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=x",
        ] {
            assert!(
                matches!(offer(bad), Err(NegotiationError::InvalidValue(_))),
                "{bad}"
            );
        }
        for b in 8..=15 {
            assert!(offer(&format!("permessage-deflate; server_max_window_bits={b}")).is_ok());
        }
    }

    #[test]
    fn server_declines_duplicates() {
        // "The negotiation offer contains multiple extension parameters with the same name."
        assert_eq!(
            offer("permessage-deflate; client_max_window_bits; client_max_window_bits=10"),
            Err(NegotiationError::DuplicateParameter(
                "client_max_window_bits".into()
            ))
        );
    }

    #[test]
    fn server_picks_first_valid_offer_in_order() {
        // "the order of elements is important as it specifies the client's preference"; an
        // invalid offer is declined and the next one considered.
        let offers = vec![
            "permessage-deflate; bogus",
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate",
        ];
        let a = server_accept(&offers, &ServerPolicy::default()).unwrap();
        assert_eq!(a.server_max_window_bits, 10);
        assert_eq!(
            a.to_header(),
            "permessage-deflate; server_max_window_bits=10"
        );
        // "A server declining all offered PMCEs MUST NOT include any element".
        assert_eq!(
            server_accept(&["permessage-deflate; x"], &ServerPolicy::default()),
            None
        );
        assert_eq!(server_accept(&["x-foo"], &ServerPolicy::default()), None);
    }

    #[test]
    fn server_echoes_server_no_context_takeover() {
        // "A server accepts an extension negotiation offer that includes the
        // "server_no_context_takeover" extension parameter by including [it] in the
        // corresponding extension negotiation response"
        let a = server_accept(
            &["permessage-deflate; server_no_context_takeover"],
            &ServerPolicy::default(),
        )
        .unwrap();
        assert!(a.server_no_context_takeover);
        assert_eq!(
            a.to_header(),
            "permessage-deflate; server_no_context_takeover"
        );
    }

    #[test]
    fn server_client_window_only_when_offered() {
        let policy = ServerPolicy {
            client_max_window_bits: 10,
            ..ServerPolicy::default()
        };
        // "If a received extension negotiation offer doesn't have the
        // "client_max_window_bits" extension parameter, the corresponding extension
        // negotiation response to the offer MUST NOT include" it.
        let a = server_accept(&["permessage-deflate"], &policy).unwrap();
        assert_eq!(a.client_max_window_bits, 15);
        assert_eq!(a.to_header(), "permessage-deflate");
        let a = server_accept(&["permessage-deflate; client_max_window_bits"], &policy).unwrap();
        assert_eq!(a.client_max_window_bits, 10);
        // "with a value equal to or smaller than the received value"
        let a = server_accept(&["permessage-deflate; client_max_window_bits=9"], &policy).unwrap();
        assert_eq!(a.client_max_window_bits, 9);
    }

    #[test]
    fn server_window_same_or_smaller() {
        // "with the same or smaller value as the offer"
        let policy = ServerPolicy {
            server_max_window_bits: 12,
            ..ServerPolicy::default()
        };
        let a = server_accept(&["permessage-deflate; server_max_window_bits=14"], &policy);
        assert_eq!(a.unwrap().server_max_window_bits, 12);
        let a = server_accept(&["permessage-deflate; server_max_window_bits=8"], &policy);
        assert_eq!(a.unwrap().server_max_window_bits, 8);
    }

    #[test]
    fn client_accepts_matching_response() {
        let offers = [Offer {
            client_max_window_bits: ClientWindowBits::Any,
            ..Offer::default()
        }];
        let a = client_accept(
            &offers,
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(a.client_max_window_bits, 10);
        assert!(a.server_no_context_takeover);
        // "A client MUST support the "client_no_context_takeover" extension parameter in an
        // extension negotiation response."
        let a = client_accept(&offers, "permessage-deflate; client_no_context_takeover").unwrap();
        assert!(a.client_no_context_takeover);
    }

    #[test]
    fn client_refuses_bad_responses() {
        let offers = [Offer::default()];
        // "The negotiation response contains an extension parameter not defined for use in a
        // response."
        assert!(matches!(
            client_accept(&offers, "permessage-deflate; foo=1"),
            Err(NegotiationError::UnknownParameter(_))
        ));
        // "The negotiation response contains an extension parameter with an invalid value."
        assert!(matches!(
            client_accept(&offers, "permessage-deflate; server_max_window_bits=16"),
            Err(NegotiationError::InvalidValue(_))
        ));
        // "[client_max_window_bits] in an extension negotiation response has a decimal integer
        // value"
        assert!(matches!(
            client_accept(
                &[Offer {
                    client_max_window_bits: ClientWindowBits::Any,
                    ..Offer::default()
                }],
                "permessage-deflate; client_max_window_bits"
            ),
            Err(NegotiationError::InvalidValue(_))
        ));
        // "The negotiation response contains multiple extension parameters with the same
        // name."
        assert!(matches!(
            client_accept(
                &offers,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
            ),
            Err(NegotiationError::DuplicateParameter(_))
        ));
    }

    #[test]
    fn client_refuses_response_it_did_not_offer() {
        // "MUST NOT include the "client_max_window_bits" extension parameter" when not offered.
        assert_eq!(
            client_accept(
                &[Offer::default()],
                "permessage-deflate; client_max_window_bits=10"
            ),
            Err(NegotiationError::NotOffered)
        );
        // "with the same or smaller value as the offer"
        let o = Offer {
            server_max_window_bits: Some(10),
            ..Offer::default()
        };
        assert_eq!(
            client_accept(&[o], "permessage-deflate; server_max_window_bits=11"),
            Err(NegotiationError::NotOffered)
        );
        assert_eq!(
            client_accept(&[o], "permessage-deflate"),
            Err(NegotiationError::NotOffered)
        );
        // A server accepts server_no_context_takeover "by including" it.
        let o = Offer {
            server_no_context_takeover: true,
            ..Offer::default()
        };
        assert_eq!(
            client_accept(&[o], "permessage-deflate"),
            Err(NegotiationError::NotOffered)
        );
        // A second offer may fit where the first does not.
        assert!(client_accept(&[o, Offer::default()], "permessage-deflate").is_ok());
        assert_eq!(
            client_accept(&[Offer::default()], "x-other"),
            Err(NegotiationError::NotDeflate)
        );
    }
}
