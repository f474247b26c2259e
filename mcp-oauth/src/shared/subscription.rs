//! The subscription to the fleet's revocations on Redis: a connection of its own (a
//! subscribed connection can do nothing else), on a thread of its own with its own
//! current-thread tokio runtime, so it outlives no worker and blocks none. It reconnects
//! with a back-off (50 ms doubling to 2 s) and subscribes again; each loss and each return
//! is told to the subscriber (`Event::Down`, `Event::Up`), which decides what a gap
//! means. It ends when the subscriber says it is gone.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;

use super::{Event, Subscriber, Unavailable};

/// The first wait before reconnecting, doubled up to [`MOST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MOST_BACKOFF: Duration = Duration::from_secs(2);
/// The longest a connect and subscribe may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a quiet subscription asks whether its subscriber is still there.
const IDLE: Duration = Duration::from_secs(1);

/// Listens until `subscriber` is gone.
pub(crate) fn run(client: &redis::Client, channel: &str, target: &str, subscriber: &Subscriber) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            (subscriber.0)(Event::Down(&Unavailable(format!("no runtime: {e}"))));
            return;
        }
    };
    runtime.block_on(listen(client, channel, target, subscriber));
}

async fn listen(client: &redis::Client, channel: &str, target: &str, subscriber: &Subscriber) {
    let deliver = |event: Event<'_>| (subscriber.0)(event);
    let mut backoff = FIRST_BACKOFF;
    loop {
        match tokio::time::timeout(CONNECT_TIMEOUT, subscribe(client, channel)).await {
            Ok(Ok(pubsub)) => {
                backoff = FIRST_BACKOFF;
                if !deliver(Event::Up) {
                    return;
                }
                let mut stream = pubsub.into_on_message();
                loop {
                    let next = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx));
                    match tokio::time::timeout(IDLE, next).await {
                        Ok(Some(msg)) => {
                            let text: String = msg.get_payload().unwrap_or_default();
                            if !deliver(Event::Message(&text)) {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            if !deliver(Event::Idle) {
                                return;
                            }
                        }
                    }
                }
                let lost = Unavailable(format!("{target}: the revocation subscription ended"));
                if !deliver(Event::Down(&lost)) {
                    return;
                }
            }
            Ok(Err(e)) => {
                if !deliver(Event::Down(&Unavailable(format!("{target}: {e}")))) {
                    return;
                }
            }
            Err(_) => {
                let slow = Unavailable(format!("{target}: subscribing timed out"));
                if !deliver(Event::Down(&slow)) {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MOST_BACKOFF);
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}
