//! The limits of a fleet (with a [`SharedState`]): every request a local limiter lets
//! through is then counted against the fleet's budget by one atomic GCRA step on the
//! shared tier ([`crate::shared::gcra`]), under `<prefix>:limit:<which>:<hex>`, where the
//! hex is the SHA-256 of the address's octets or of the principal (never a token; an
//! IPv4 address's hash can be reversed by trying all 2^32, so Redis holds addresses).
//!
//! Why the local limiter stays in front, and why the pair never allows more than the
//! configured rate across the fleet: every request that passes has passed the fleet's
//! step, which spends one cell of the one budget all instances share, so the fleet as a
//! whole allows at most the configured rate (the script's clock is the server's, so the
//! instances' clocks do not matter). The local limiter only refuses more: a key it
//! refuses needs no round trip (a flood from one address is answered from memory); it
//! counts this instance's attempts, including those the fleet then refused, so it can
//! refuse a key a little earlier than the fleet alone would, and only a key that has
//! already sent a whole budget's worth of requests to this one instance, that is, one
//! already over its rate.
//!
//! Without an answer in time (Redis down or slow), the request is judged by the local
//! limiter alone, which has already let it through: the per-process limits, N times the
//! rate for N instances, logged and counted (`rate_limit`). A rate limit is a brake, not
//! a proof: refusing every request while Redis is away would turn its outage into ours,
//! so the `refuse` policy does not apply here.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use aws_lc_rs::digest;
use governor::Quota;

use super::Which;
use crate::shared::gcra::Cells;
use crate::shared::{SharedState, report};
use crate::validate::claims::VerifiedClaims;

/// The shared tier and the rate of each limit that is on.
pub(super) struct Fleet {
    shared: SharedState,
    metadata: Option<Cells>,
    refusals: Option<Cells>,
    principal: Option<Cells>,
}

impl Fleet {
    pub(super) fn new(
        shared: SharedState,
        metadata: Option<Quota>,
        refusals: Option<Quota>,
        principal: Option<Quota>,
    ) -> Self {
        let cells = |q: Option<Quota>| {
            q.map(|q| Cells {
                interval: q.replenish_interval(),
                burst: q.burst_size().get(),
            })
        };
        Self {
            shared,
            metadata: cells(metadata),
            refusals: cells(refusals),
            principal: cells(principal),
        }
    }

    /// Spends one cell of the fleet's budget of `which` for the key hashed by `id`
    /// (asked only here, after the local limiter): `Err(wait)` when it is spent.
    pub(super) async fn check(
        &self,
        which: Which,
        id: impl FnOnce() -> Option<[u8; 32]>,
    ) -> Result<(), Duration> {
        let cells = match which {
            Which::Metadata => self.metadata,
            Which::Refusals => self.refusals,
            Which::Principal => self.principal,
        };
        let (Some(cells), Some(id)) = (cells, id()) else {
            return Ok(());
        };
        let key = self.shared.key(kind(which), &id);
        match self.shared.store().gcra(&key, cells).await {
            Ok(answer) => answer.map_err(|wait| wait.max(Duration::from_micros(1))),
            Err(why) => {
                report(crate::shared::SharedUse::RateLimit, &why);
                Ok(())
            }
        }
    }
}

/// The key kind of a limit: `limit:<which>`.
fn kind(which: Which) -> &'static str {
    match which {
        Which::Metadata => "limit:metadata",
        Which::Refusals => "limit:refusals",
        Which::Principal => "limit:principal",
    }
}

/// The SHA-256 of an address's octets (an IPv6 address already cut to its /64).
pub(super) fn address_id(ip: IpAddr) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    match ip {
        IpAddr::V4(v4) => ctx.update(&v4.octets()),
        IpAddr::V6(v6) => ctx.update(&v6.octets()),
    }
    finish(ctx)
}

/// The SHA-256 of the principal as [`VerifiedClaims::write_principal`] writes it: the
/// same on every instance (the local key is hashed under a per-process seed).
pub(super) fn principal_id(claims: &VerifiedClaims) -> Option<[u8; 32]> {
    struct Writer(digest::Context);
    impl fmt::Write for Writer {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut writer = Writer(digest::Context::new(&digest::SHA256));
    claims.write_principal(&mut writer)?.ok()?;
    Some(finish(writer.0))
}

fn finish(ctx: digest::Context) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::Rate;

    fn fleet(shared: &SharedState) -> Fleet {
        let quota = Rate::per_hour(3).quota().ok();
        Fleet::new(shared.clone(), None, quota, None)
    }

    // Two instances on one store share one budget: three requests in all, then a wait
    // of one interval (an hour / 3); another address has its own.
    #[test]
    fn two_instances_on_one_store_share_one_budget() {
        let shared = SharedState::memory();
        let (a, b) = (fleet(&shared), fleet(&shared));
        let ip = || Some(address_id([192, 0, 2, 1].into()));
        actix_web::rt::System::new().block_on(async {
            assert!(a.check(Which::Refusals, ip).await.is_ok());
            assert!(b.check(Which::Refusals, ip).await.is_ok());
            assert!(a.check(Which::Refusals, ip).await.is_ok());
            let wait = b.check(Which::Refusals, ip).await.unwrap_err();
            assert!(wait > Duration::from_secs(1190) && wait <= Duration::from_secs(1200));
            let other = || Some(address_id([192, 0, 2, 2].into()));
            assert!(b.check(Which::Refusals, other).await.is_ok());
            // A limit that is off is never asked about.
            assert!(b.check(Which::Metadata, ip).await.is_ok());
        });
    }

    #[test]
    fn keys_name_the_limit_and_a_hash() {
        let key = SharedState::memory().key(kind(Which::Principal), &[0xab; 32]);
        assert_eq!(
            key,
            format!("mcp-oauth:limit:principal:{}", "ab".repeat(32))
        );
    }
}
