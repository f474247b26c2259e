//! Reading the head of a request body before the service runs, bounded in size and time,
//! and handing the service the whole body back, untouched.
//!
//! actix times out a request's head, not its body: a reader that waited for a body
//! without a deadline would let slow clients hold memory and tasks for ever. Every read
//! here has a cap and a deadline, and stops as soon as it has seen enough.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage as _;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use futures_core::Stream;

use crate::refusal::Refusal;

/// How long a body read before the service runs may take by default.
pub(crate) const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The bytes read from the front of a body.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) bytes: Bytes,
    /// The whole body was read (else it goes on past `bytes`).
    pub(crate) complete: bool,
}

/// Reads the body until its end, until `enough` says the bytes read so far suffice, or
/// until more than `cap` bytes are read; then puts back what was read in front of the
/// rest, so the service reads the body as it was sent.
///
/// A body that does not arrive within `timeout` is [`Refusal::BodyTimeout`]; a body
/// that fails to arrive (a broken connection, a bad chunk) is
/// [`Refusal::InvalidRequest`].
pub(crate) async fn read_head(
    req: &mut ServiceRequest,
    cap: usize,
    timeout: Duration,
    enough: impl Fn(&[u8]) -> bool,
) -> Result<Head, Refusal> {
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    let read = async {
        loop {
            if enough(&buf) {
                return Ok(false);
            }
            let next = std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await;
            match next {
                None => return Ok(true),
                Some(Err(_)) => {
                    return Err(Refusal::InvalidRequest(
                        "The request body could not be read",
                    ));
                }
                Some(Ok(chunk)) => {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > cap {
                        return Ok(false);
                    }
                }
            }
        }
    };
    let complete = actix_web::rt::time::timeout(timeout, read)
        .await
        .map_err(|_| Refusal::BodyTimeout)??;
    let bytes = buf.freeze();
    if complete {
        req.set_payload(Payload::from(bytes.clone()));
    } else {
        let rest = Prepend {
            head: Some(bytes.clone()),
            rest: payload,
        };
        let rest: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(rest);
        req.set_payload(Payload::from(rest));
    }
    Ok(Head { bytes, complete })
}

/// The bytes already read, then the rest of the body.
struct Prepend {
    head: Option<Bytes>,
    rest: Payload,
}

impl Stream for Prepend {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(head) = self.head.take()
            && !head.is_empty()
        {
            return Poll::Ready(Some(Ok(head)));
        }
        Pin::new(&mut self.rest).poll_next(cx)
    }
}

/// Whether the body is sent with a `Content-Encoding` other than `identity` (RFC 9110
/// §8.4): its bytes are not what the service will read once it decodes them, so nothing
/// here reads them.
pub(crate) fn is_encoded(req: &ServiceRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::CONTENT_ENCODING)
        .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
}

/// The first byte that is not JSON whitespace (RFC 8259 §2: space, tab, LF, CR).
pub(crate) fn first_significant(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    async fn rest(req: &mut ServiceRequest) -> Vec<u8> {
        let mut payload = req.take_payload();
        let mut out = Vec::new();
        while let Some(chunk) =
            std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await
        {
            out.extend_from_slice(&chunk.unwrap_or_default());
        }
        out
    }

    #[actix_web::test]
    async fn the_service_reads_the_body_as_sent() {
        let body = vec![b'x'; 10_000];
        for cap in [0, 10, 9_999, 10_000, 20_000] {
            let mut req = TestRequest::post()
                .set_payload(body.clone())
                .to_srv_request();
            let head = read_head(&mut req, cap, DEFAULT_BODY_TIMEOUT, |_| false).await;
            let head = head.unwrap_or_else(|_| panic!("read failed"));
            assert_eq!(head.complete, cap >= body.len(), "cap {cap}");
            assert_eq!(rest(&mut req).await, body, "cap {cap}");
        }
    }

    #[actix_web::test]
    async fn reading_stops_when_enough_is_seen() {
        let mut req = TestRequest::post()
            .set_payload("  plain text")
            .to_srv_request();
        let head = read_head(&mut req, 1 << 20, DEFAULT_BODY_TIMEOUT, |b| {
            first_significant(b).is_some()
        })
        .await;
        assert!(head.is_ok_and(|h| h.complete || h.bytes.len() <= 12));
        assert_eq!(rest(&mut req).await, b"  plain text");
    }

    #[test]
    fn json_whitespace_is_skipped() {
        assert_eq!(first_significant(b" \r\n\t{"), Some(b'{'));
        assert_eq!(first_significant(b"  "), None);
        assert_eq!(first_significant("\u{feff}{".as_bytes()), Some(0xef));
    }
}
