//! The shared tier on Redis or Valkey (feature `redis`), through redis-rs's
//! `ConnectionManager`: one multiplexed connection per worker thread (made on first use,
//! on that thread's runtime, so no driver task crosses runtimes), reconnecting by itself.
//! Every operation has a deadline; a connection that cannot be made is not tried again
//! for a second, so a dead Redis costs requests a fast `Unavailable`, not a connect each.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Store, StoreFuture, Subscriber, Unavailable};

/// The default deadline of one operation: Redis on the same network answers in well
/// under a millisecond; beyond this the request goes on without it.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);
/// How long after a failed connect a thread answers `Unavailable` without trying again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub(crate) struct RedisStore {
    client: redis::Client,
    timeout: Duration,
    /// Tells this store's connections from another store's in the thread's list.
    id: usize,
    /// `host:port` for the log; never the password.
    target: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish()
    }
}

enum Conn {
    Ready(ConnectionManager),
    Failed(Instant),
}

thread_local! {
    static CONNS: RefCell<Vec<(usize, usize, Conn)>> = const { RefCell::new(Vec::new()) };
}

impl RedisStore {
    /// A store at `url` (`redis://`, `rediss://` for TLS; user and password in the URL).
    pub(crate) fn open(url: &str, timeout: Duration) -> Result<Self, String> {
        static IDS: AtomicUsize = AtomicUsize::new(0);
        let client = redis::Client::open(url).map_err(|e| format!("not a Redis URL: {e}"))?;
        let info = client.get_connection_info();
        let target = info.addr().to_string();
        Ok(Self {
            client,
            timeout,
            id: IDS.fetch_add(1, Ordering::Relaxed),
            target,
        })
    }

    /// This thread's connection, made on first use.
    async fn connection(&self) -> Result<ConnectionManager, Unavailable> {
        let system = actix_web::rt::System::try_current().map_or(usize::MAX, |s| s.id());
        let known = CONNS.with(|c| {
            c.borrow()
                .iter()
                .find(|(id, sys, _)| *id == self.id && *sys == system)
                .map(|(_, _, conn)| match conn {
                    Conn::Ready(m) => Ok(m.clone()),
                    Conn::Failed(at) => Err(*at),
                })
        });
        match known {
            Some(Ok(conn)) => return Ok(conn),
            Some(Err(at)) if at.elapsed() < RECONNECT_AFTER => {
                return Err(Unavailable(format!("{}: not connected", self.target)));
            }
            _ => {}
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.timeout * 4,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        let result = match made {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(Unavailable(format!("{}: {e}", self.target))),
            Err(_) => Err(Unavailable(format!("{}: connect timed out", self.target))),
        };
        CONNS.with(|c| {
            let mut conns = c.borrow_mut();
            conns.retain(|(id, sys, _)| !(*id == self.id && *sys == system));
            conns.push((
                self.id,
                system,
                match &result {
                    Ok(conn) => Conn::Ready(conn.clone()),
                    Err(_) => Conn::Failed(Instant::now()),
                },
            ));
        });
        result
    }

    /// Runs `cmd` with the deadline.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Unavailable> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Unavailable(format!("{}: {e}", self.target))),
            Err(_) => Err(Unavailable(format!("{}: timed out", self.target))),
        }
    }
}

impl Store for RedisStore {
    fn insert_new<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(1).arg("NX").arg("PX").arg(millis);
            // `OK` when set, nil when the key was there.
            let set: Option<String> = self.query(&cmd).await?;
            Ok(set.is_some())
        })
    }

    // Revocation (fleet-wide): the record and its message in one `MULTI`/`EXEC`, the
    // records read by `MGET`, and the subscription on a thread of its own.

    fn record_and_publish<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
        channel: &'a str,
        message: &'a str,
    ) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis)
                .ignore()
                .cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .ignore();
            let mut conn = self.connection().await?;
            match tokio::time::timeout(self.timeout, pipe.query_async::<()>(&mut conn)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Unavailable(format!("{}: {e}", self.target))),
                Err(_) => Err(Unavailable(format!("{}: timed out", self.target))),
            }
        })
    }

    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> StoreFuture<'a, Result<Vec<Option<String>>, Unavailable>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("MGET");
            cmd.arg(keys);
            self.query(&cmd).await
        })
    }

    fn subscribe(&self, channel: String, subscriber: Subscriber) {
        let (client, target) = (self.client.clone(), self.target.clone());
        let spawned = std::thread::Builder::new()
            .name("mcp-oauth-revocations".into())
            .spawn(move || super::subscription::run(&client, &channel, &target, &subscriber));
        if let Err(e) = spawned {
            tracing::error!(target: "mcp_oauth", "cannot start the revocation listener: {e}");
        }
    }
}
