//! What one client may ask of the API: per-client rate limits on pledge
//! creation and offers (governor's keyed limiters, GCRA), and the client's
//! identity they and the cap on places held use.
//!
//! The client is its network: an IPv4 address, or the /64 of an IPv6 one
//! (one home or phone gets a whole /64). Each runtime says where it comes
//! from by putting a [`ClientAddr`] in the request's extensions: `pave
//! serve` from the connection (or the `X-Forwarded-For` of a trusted proxy,
//! `PAVE_TRUSTED_PROXIES`), the Lambda adapter from API Gateway's request
//! context. A limit is per process: on Lambda, per warm instance (API
//! Gateway's own throttling bounds the whole stage, not one client).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The client's address, as the runtime saw it (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Pledges one client may create per minute (a burst of as many), unless
/// `PAVE_PLEDGES_PER_MINUTE` says otherwise (0: no limit).
pub const PLEDGES_PER_MINUTE: u32 = 10;
/// Offers of help one client may send per minute (`PAVE_OFFERS_PER_MINUTE`).
pub const OFFERS_PER_MINUTE: u32 = 5;

/// The kinds of request that are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Pledge,
    Offer,
}

/// The per-client limits of one process.
pub struct Limits {
    pledges: Option<Limiter>,
    offers: Option<Limiter>,
}

struct Limiter {
    limiter: DefaultKeyedRateLimiter<String>,
    checks: std::sync::atomic::AtomicU32,
}

impl Limiter {
    fn per_minute(n: u32) -> Option<Limiter> {
        let n = NonZeroU32::new(n)?;
        Some(Limiter {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(n)),
            checks: std::sync::atomic::AtomicU32::new(0),
        })
    }

    fn check(&self, key: &str) -> Result<(), Duration> {
        // Forget clients that are back to a full quota, now and then, so
        // memory stays bounded by the clients of the last minute.
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl Limits {
    /// `pledges` and `offers` per minute and per client; 0 is no limit.
    pub fn per_minute(pledges: u32, offers: u32) -> Limits {
        Limits {
            pledges: Limiter::per_minute(pledges),
            offers: Limiter::per_minute(offers),
        }
    }

    /// No limit (tests that are not about limits, benchmarks).
    pub fn none() -> Limits {
        Limits::per_minute(0, 0)
    }

    /// From `PAVE_PLEDGES_PER_MINUTE` and `PAVE_OFFERS_PER_MINUTE` (whole
    /// numbers, 0 for no limit), else the defaults. An unreadable value is
    /// an error: a limit is never silently dropped.
    pub fn from_env() -> Result<Limits, String> {
        let read = |name: &str, default: u32| match std::env::var(name) {
            Ok(v) => v
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("{name}={v:?} is not a whole number (0 for no limit)")),
            Err(_) => Ok(default),
        };
        Ok(Limits::per_minute(
            read("PAVE_PLEDGES_PER_MINUTE", PLEDGES_PER_MINUTE)?,
            read("PAVE_OFFERS_PER_MINUTE", OFFERS_PER_MINUTE)?,
        ))
    }

    /// Takes one request of `kind` from `client`'s quota, or says how long
    /// to wait. A request whose client is unknown shares one quota.
    pub fn check(&self, kind: Limited, client: Option<IpAddr>) -> Result<(), Duration> {
        let limiter = match kind {
            Limited::Pledge => &self.pledges,
            Limited::Offer => &self.offers,
        };
        match limiter {
            Some(limiter) => limiter.check(&network(client)),
            None => Ok(()),
        }
    }
}

/// A client's network: the IPv4 address, the /64 of an IPv6 one (an
/// IPv4-mapped IPv6 address is its IPv4 one), `unknown` when not known.
pub fn network(client: Option<IpAddr>) -> String {
    match client.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_string(),
    }
}

/// The opaque key of a client stored with its pending pledges (for the cap
/// on places held): a keyed hash (HMAC-SHA-256 under the webhook secret) of
/// its network, so the store never holds an address.
pub fn client_key(client: Option<IpAddr>, secret: &str) -> Option<String> {
    client?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(b"pave-client:");
    mac.update(network(client).as_bytes());
    Some(hex::encode(&mac.finalize().into_bytes()[..16]))
}

/// The client of a request reaching `pave serve` from `peer`: the peer
/// itself, or, when the peer is one of `trusted` proxies, the right-most
/// address of `X-Forwarded-For` that is not a trusted proxy.
pub fn client_behind(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer.to_canonical()) {
        return peer;
    }
    forwarded_for
        .into_iter()
        .flat_map(|h| h.rsplit(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|a| a.to_canonical())
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_client_is_limited_and_another_is_not() {
        let limits = Limits::per_minute(3, 1);
        let (a, b) = (Some(ip("203.0.113.7")), Some(ip("198.51.100.2")));
        for _ in 0..3 {
            assert_eq!(limits.check(Limited::Pledge, a), Ok(()));
        }
        let wait = limits.check(Limited::Pledge, a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(limits.check(Limited::Pledge, b), Ok(()), "another client");
        assert_eq!(limits.check(Limited::Offer, a), Ok(()), "offers apart");
        assert!(limits.check(Limited::Offer, a).is_err());
        let none = Limits::none();
        for _ in 0..1000 {
            assert_eq!(none.check(Limited::Pledge, a), Ok(()));
        }
    }

    #[test]
    fn a_network_is_an_ipv4_address_or_an_ipv6_slash_64() {
        assert_eq!(network(Some(ip("203.0.113.7"))), "203.0.113.7");
        assert_eq!(network(Some(ip("::ffff:203.0.113.7"))), "203.0.113.7");
        assert_eq!(
            network(Some(ip("2001:db8:1:2:aaaa::1"))),
            network(Some(ip("2001:db8:1:2:bbbb::9")))
        );
        assert_ne!(
            network(Some(ip("2001:db8:1:2::1"))),
            network(Some(ip("2001:db8:1:3::1")))
        );
        let key = client_key(Some(ip("203.0.113.7")), "whsec_x").unwrap();
        assert_eq!(key.len(), 32);
        assert!(!key.contains("203"), "no address in the key");
        assert_ne!(Some(key), client_key(Some(ip("203.0.113.7")), "whsec_y"));
        assert_eq!(client_key(None, "whsec_x"), None);
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let trusted = [ip("127.0.0.1")];
        let peer = ip("127.0.0.1");
        assert_eq!(
            client_behind(peer, Some("198.51.100.9, 203.0.113.7"), &trusted),
            ip("203.0.113.7"),
            "the address the proxy saw, not one the client wrote"
        );
        assert_eq!(
            client_behind(ip("203.0.113.7"), Some("10.0.0.1"), &trusted),
            ip("203.0.113.7"),
            "a client's own header is ignored"
        );
        assert_eq!(client_behind(peer, None, &trusted), peer);
        assert_eq!(client_behind(peer, Some("garbage"), &trusted), peer);
    }
}
