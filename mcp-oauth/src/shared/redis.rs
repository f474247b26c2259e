//! The shared tier on Redis or Valkey (feature `redis`), through redis-rs's
//! `ConnectionManager`: one multiplexed connection per worker thread (made on first use,
//! on that thread's runtime, so no driver task crosses runtimes), reconnecting by itself.
//! Every operation has a deadline; a connection that cannot be made is not tried again
//! for a second, so a dead Redis costs requests a fast `Unavailable`, not a connect each.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Store, StoreFuture, Subscriber, Unavailable, gcra};

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
    /// `ca`: the PEM certificate(s) a `rediss://` server's chain must lead to, instead of
    /// the webpki roots (a private CA, as Redis deployments usually have).
    pub(crate) fn open(url: &str, timeout: Duration, ca: Option<&[u8]>) -> Result<Self, String> {
        static IDS: AtomicUsize = AtomicUsize::new(0);
        if let Some(pem) = ca {
            // Read here: a CA that is not one would otherwise only show as failed
            // handshakes, request after request.
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
            if !certs.is_ok_and(|c| !c.is_empty()) {
                return Err("no PEM certificate in the CA".to_owned());
            }
        }
        let client = match ca {
            None => redis::Client::open(url),
            Some(pem) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            ),
        }
        .map_err(|e| format!("not a Redis URL: {e}"))?;
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
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(1).arg("NX").arg("PX").arg(millis(ttl));
            // `OK` when set, nil when the key was there.
            let set: Option<String> = self.query(&cmd).await?;
            Ok(set.is_some())
        })
    }

    // Rate limits (`limit/`): the GCRA step as one script (EVALSHA, loaded on NOSCRIPT).
    fn gcra<'a>(
        &'a self,
        key: &'a str,
        cells: gcra::Cells,
    ) -> StoreFuture<'a, Result<Result<(), Duration>, Unavailable>> {
        static SCRIPT: std::sync::LazyLock<redis::Script> =
            std::sync::LazyLock::new(|| redis::Script::new(gcra::SCRIPT));
        Box::pin(async move {
            let (interval, tolerance) = cells.micros();
            let mut conn = self.connection().await?;
            let mut call = SCRIPT.key(key);
            call.arg(interval).arg(tolerance);
            // A missing script costs a second round trip once per server (its restart).
            let answer = tokio::time::timeout(self.timeout, call.invoke_async::<i64>(&mut conn));
            match answer.await {
                Ok(Ok(0)) => Ok(Ok(())),
                Ok(Ok(wait)) => Ok(Err(Duration::from_micros(wait.unsigned_abs()))),
                Ok(Err(e)) => Err(Unavailable(format!("{}: {e}", self.target))),
                Err(_) => Err(Unavailable(format!("{}: timed out", self.target))),
            }
        })
    }

    // Introspection results and session owners.

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<Option<String>, Unavailable>> {
        Box::pin(async move { self.query(redis::cmd("GET").arg(key)).await })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(value).arg("PX").arg(millis(ttl));
            let _: Option<String> = self.query(&cmd).await?;
            Ok(())
        })
    }

    fn put_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(value).arg("NX").arg("PX").arg(millis(ttl));
            let set: Option<String> = self.query(&cmd).await?;
            Ok(set.is_some())
        })
    }

    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let _: i64 = self.query(redis::cmd("DEL").arg(key)).await?;
            Ok(())
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
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
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

/// A TTL in whole milliseconds, at least one (`PX 0` is an error).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The script on a real `redis-server` (skipped where it is not installed): its answers,
/// and the loopback latency of one step, printed (`--nocapture`), never asserted.
#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use super::*;
    use crate::shared::gcra::Cells;

    #[test]
    fn the_script_answers_like_the_memory_store_and_one_step_is_timed() {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
            .to_string();
        let Ok(mut child) = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .stdout(Stdio::null())
            .spawn()
        else {
            let required = std::env::var("REQUIRE_REDIS_SERVER").is_ok_and(|v| v == "1");
            assert!(!required, "redis-server is required but not installed");
            eprintln!("redis-server is not installed: skipping");
            return;
        };
        let store = RedisStore::open(
            &format!("redis://127.0.0.1:{port}"),
            Duration::from_secs(1),
            None,
        );
        let store = store.unwrap();
        let hour = Cells {
            interval: Duration::from_secs(1200),
            burst: 3,
        };
        let fast = Cells {
            interval: Duration::from_micros(1),
            burst: 1_000_000,
        };
        actix_web::rt::System::new().block_on(async {
            // Until the server listens.
            let deadline = Instant::now() + Duration::from_secs(10);
            while store.gcra("t:warm", fast).await.is_err() {
                assert!(Instant::now() < deadline, "redis-server did not start");
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
            for _ in 0..3 {
                assert_eq!(store.gcra("t:a", hour).await, Ok(Ok(())));
            }
            let wait = store.gcra("t:a", hour).await.unwrap().unwrap_err();
            assert!(wait > Duration::from_secs(1190) && wait <= Duration::from_secs(1200));

            let mut times = Vec::with_capacity(1000);
            let all = Instant::now();
            for _ in 0..1000 {
                let one = Instant::now();
                assert_eq!(store.gcra("t:timed", fast).await, Ok(Ok(())));
                times.push(one.elapsed());
            }
            let all = all.elapsed();
            times.sort();
            println!(
                "one GCRA step on loopback Redis: mean {:?}, p50 {:?}, p99 {:?} (1,000 calls)",
                all / 1000,
                times[499],
                times[989]
            );
        });
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
