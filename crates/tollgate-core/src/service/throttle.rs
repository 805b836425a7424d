//! Brute-force defence (RFC 6749 §2.3.1, §4.3.2; SPEC §9).
//!
//! **What is counted.** A verification of a secret (client secret, user password) is
//! *reserved* against every key it involves before the secret is looked at, and refunded
//! when the secret was right (or when nothing was guessed: a public client, a confidential
//! client that sent no secret). So a key can never have more verifications in flight or
//! done than its budget, however many requests arrive at once, and a caller with the right
//! secret spends nothing.
//!
//! **Which keys** (so that someone who does not know a credential cannot stop its owner):
//! - client secrets: per (client, source address) and per source address. Never per client
//!   alone: client ids are public and secrets carry 256 bits, so a global per-client limit
//!   would only be a lever to lock the owner out.
//! - passwords: per (user, source address), per source address, and — only for browsers
//!   without a device cookie of that user, and for the password grant — a looser per-user
//!   limit that slows a distributed guesser. A browser the user signed in from before
//!   presents its device cookie and is counted per device instead (OWASP "device cookies").
//!
//! **How.** Each key is a GCRA cell (a "theoretical arrival time"): `burst` verifications in
//! a row, then one more every `60 / per_minute` seconds. governor implements GCRA but cannot
//! give a cell back, which reservations need, so the few lines are here. State is in
//! memory, per instance (ARCHITECTURE.md), and on the injected clock.

use crate::clock::Clock;
use dashmap::DashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

/// Keys one limiter tracks at most. Past that, keys it does not already track are not
/// limited (by that limiter) until housekeeping frees room: a flood of made-up client ids
/// must not grow memory without bound. About 40 MB per limiter.
pub const MAX_TRACKED_KEYS: usize = 1 << 20;

/// How many verifications one key may have: `burst` in a row, then `per_minute`, evenly
/// spread. `per_minute == 0` turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

impl Budget {
    pub const OFF: Self = Self {
        per_minute: 0,
        burst: 0,
    };

    pub fn is_off(self) -> bool {
        self.per_minute == 0
    }
}

/// The budgets, per kind of key (README "Brute-force protection" states them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed client authentications per (`client_id`, source address): token,
    /// introspection and revocation endpoints.
    pub client: Budget,
    /// Failed sign-ins (login page, password grant) per (username, source address), and per
    /// device cookie for browsers the user signed in from before.
    pub user: Budget,
    /// Failed sign-ins per username from anywhere, counted only for attempts without that
    /// user's device cookie (new browsers, the password grant).
    pub user_untrusted: Budget,
    /// Failures of either kind per source address (IPv6: per /64).
    pub address: Budget,
}

impl Default for ThrottleSettings {
    /// A client gets 10 tries in a row from one address, then one every 6 s; a person 10 from
    /// one address (or one known browser), then one every 12 s, and 30 from all new
    /// browsers together, then one every 6 s; an address, which may be a NAT shared by an
    /// office, 100 and then 50 a minute.
    fn default() -> Self {
        Self {
            client: Budget {
                per_minute: 10,
                burst: 10,
            },
            user: Budget {
                per_minute: 5,
                burst: 10,
            },
            user_untrusted: Budget {
                per_minute: 10,
                burst: 30,
            },
            address: Budget {
                per_minute: 50,
                burst: 100,
            },
        }
    }
}

/// What a verification counts against.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// A `client_id` presented from an address (token, introspection, revocation).
    Client {
        client_id: &'a str,
        address: Option<IpAddr>,
    },
    /// A username tried from an address (`username` is its identity key, see
    /// `text::identity_key`).
    User {
        username: &'a str,
        address: Option<IpAddr>,
    },
    /// A username tried without that user's device cookie, from anywhere.
    UntrustedUser(&'a str),
    /// A device cookie the user was given at an earlier sign-in (its id).
    Device(&'a str),
    /// The source address of the request.
    Address(IpAddr),
}

/// A key is over its budget: try again after this many seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed attempts; try again in {0} s")]
pub struct RetryAfter(pub u64);

impl RetryAfter {
    fn from_wait(d: Duration) -> Self {
        Self((d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1))
    }

    pub fn secs(self) -> u64 {
        self.0
    }
}

/// Which limiter a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Client,
    User,
    UntrustedUser,
    Device,
    Address,
}

/// The brute-force limits. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Throttle(Arc<Limits>);

struct Limits {
    clock: Arc<dyn Clock>,
    client: Option<Limiter>,
    user: Option<Limiter>,
    untrusted: Option<Limiter>,
    device: Option<Limiter>,
    address: Option<Limiter>,
    /// Keys are kept as keyed 64-bit digests (random key per process): a made-up 60 kB
    /// `client_id` costs no more memory than a real one.
    hasher: RandomState,
}

/// Verifications reserved against their keys. `succeeded` (or `not_a_guess`) gives them
/// back; `failed`, or dropping it (a request abandoned mid-verification), keeps them spent.
#[must_use = "settle the reservation: succeeded(), not_a_guess() or failed()"]
pub struct Reservation {
    throttle: Throttle,
    cells: Vec<(Kind, u64)>,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("cells", &self.cells.len())
            .finish()
    }
}

impl Reservation {
    /// The secret was right: the verification costs nothing.
    pub fn succeeded(self) {
        self.refund();
    }

    /// Nothing was guessed (a public client, or no secret sent at all).
    pub fn not_a_guess(self) {
        self.refund();
    }

    /// The secret was wrong: the verification stays counted.
    pub fn failed(self) {}

    fn refund(self) {
        let now = self.throttle.now();
        for (kind, digest) in &self.cells {
            if let Some(l) = self.throttle.0.limiter(*kind) {
                l.refund(*digest, now);
            }
        }
    }
}

impl Throttle {
    /// Runs on the injected clock, so tests that move a `ManualClock` move the limits too.
    pub fn new(settings: ThrottleSettings, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(Limits {
            clock,
            client: Limiter::new(settings.client),
            user: Limiter::new(settings.user),
            untrusted: Limiter::new(settings.user_untrusted),
            device: Limiter::new(settings.device_budget()),
            address: Limiter::new(settings.address),
            hasher: RandomState::new(),
        }))
    }

    fn now(&self) -> u64 {
        let ns = self.0.clock.now().timestamp_nanos_opt().unwrap_or(0);
        u64::try_from(ns).unwrap_or(0)
    }

    /// Reserves one verification against every key, all or nothing: `Err` with the longest
    /// wait when any key is over its budget (and then nothing stays reserved).
    pub fn reserve<'a>(
        &self,
        keys: impl IntoIterator<Item = Key<'a>>,
    ) -> Result<Reservation, RetryAfter> {
        let now = self.now();
        let mut taken = Reservation {
            throttle: self.clone(),
            cells: Vec::with_capacity(4),
        };
        let mut wait: Option<u64> = None;
        for key in keys {
            let (kind, digest) = self.0.cell(key);
            let Some(l) = self.0.limiter(kind) else {
                continue;
            };
            match l.reserve(digest, now) {
                Ok(true) => taken.cells.push((kind, digest)),
                Ok(false) => {}
                Err(w) => wait = Some(wait.map_or(w, |x| x.max(w))),
            }
        }
        match wait {
            None => Ok(taken),
            Some(w) => {
                taken.refund();
                Err(RetryAfter::from_wait(Duration::from_nanos(w)))
            }
        }
    }

    /// Housekeeping, run periodically: forgets keys whose verifications have all been paid
    /// back (they would be treated exactly like unknown keys) and returns the memory.
    pub fn retain_recent(&self) {
        let now = self.now();
        for l in self.0.limiters() {
            l.cells.retain(|_, tat| *tat > now);
            l.cells.shrink_to_fit();
        }
    }

    /// Keys currently remembered, over all limiters.
    pub fn tracked_keys(&self) -> usize {
        self.0.limiters().map(|l| l.cells.len()).sum()
    }
}

impl ThrottleSettings {
    /// A known browser is counted like one address: the same budget as (user, address).
    fn device_budget(&self) -> Budget {
        self.user
    }
}

impl Limits {
    fn limiter(&self, kind: Kind) -> Option<&Limiter> {
        match kind {
            Kind::Client => self.client.as_ref(),
            Kind::User => self.user.as_ref(),
            Kind::UntrustedUser => self.untrusted.as_ref(),
            Kind::Device => self.device.as_ref(),
            Kind::Address => self.address.as_ref(),
        }
    }

    fn limiters(&self) -> impl Iterator<Item = &Limiter> {
        [
            &self.client,
            &self.user,
            &self.untrusted,
            &self.device,
            &self.address,
        ]
        .into_iter()
        .flatten()
    }

    fn cell(&self, key: Key<'_>) -> (Kind, u64) {
        let h = &self.hasher;
        match key {
            Key::Client { client_id, address } => (
                Kind::Client,
                h.hash_one((client_id, address.map(address_key))),
            ),
            Key::User { username, address } => {
                (Kind::User, h.hash_one((username, address.map(address_key))))
            }
            Key::UntrustedUser(username) => (Kind::UntrustedUser, h.hash_one(username)),
            Key::Device(id) => (Kind::Device, h.hash_one(id)),
            Key::Address(ip) => (Kind::Address, h.hash_one(address_key(ip))),
        }
    }
}

/// An IPv6 host usually holds a whole /64, so that is the unit an attacker cannot multiply
/// cheaply; IPv4-mapped addresses count as the IPv4 address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// One budget over one kind of key: GCRA cells by key digest.
struct Limiter {
    /// Nanoseconds between two verifications once the burst is spent.
    interval: u64,
    /// How far ahead of now a cell may be and still take one more: (burst − 1) intervals.
    tolerance: u64,
    /// Per key, the time at which its budget is whole again (GCRA's "theoretical arrival
    /// time"); a cell at or before now is a fresh key and is removed.
    cells: DashMap<u64, u64>,
}

impl Limiter {
    fn new(budget: Budget) -> Option<Self> {
        if budget.is_off() {
            return None;
        }
        let interval = 60_000_000_000 / u64::from(budget.per_minute);
        Some(Self {
            interval,
            tolerance: interval * u64::from(budget.burst.max(1) - 1),
            cells: DashMap::new(),
        })
    }

    /// `Ok(true)` reserved, `Ok(false)` not tracked (the limiter is full), `Err(wait)` over
    /// budget, in nanoseconds.
    fn reserve(&self, digest: u64, now: u64) -> Result<bool, u64> {
        if self.cells.len() >= MAX_TRACKED_KEYS && !self.cells.contains_key(&digest) {
            return Ok(false);
        }
        let mut tat = self.cells.entry(digest).or_insert(now);
        let start = (*tat).max(now);
        if start - now > self.tolerance {
            return Err(start - now - self.tolerance);
        }
        *tat = start + self.interval;
        Ok(true)
    }

    fn refund(&self, digest: u64, now: u64) {
        let whole = match self.cells.get_mut(&digest) {
            Some(mut tat) => {
                *tat = tat.saturating_sub(self.interval);
                *tat <= now
            }
            None => false,
        };
        // A key that is whole again is forgotten at once, so successful requests leave
        // nothing behind.
        if whole {
            self.cells.remove_if(&digest, |_, tat| *tat <= now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::{TimeZone, Utc};

    fn throttle(client: Budget) -> (Throttle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        ));
        let settings = ThrottleSettings {
            client,
            user: Budget {
                per_minute: 6,
                burst: 2,
            },
            user_untrusted: Budget {
                per_minute: 6,
                burst: 4,
            },
            address: Budget {
                per_minute: 60,
                burst: 5,
            },
        };
        (Throttle::new(settings, clock.clone()), clock)
    }

    fn budget(per_minute: u32, burst: u32) -> Budget {
        Budget { per_minute, burst }
    }

    fn client(id: &str) -> Key<'_> {
        Key::Client {
            client_id: id,
            address: None,
        }
    }

    fn fail(t: &Throttle, key: Key<'_>) {
        t.reserve([key]).unwrap().failed();
    }

    #[test]
    fn failures_beyond_the_burst_are_refused_until_one_is_paid_back() {
        let (t, clock) = throttle(budget(6, 3)); // one back every 10 s
        let a = client("a");
        for _ in 0..3 {
            fail(&t, a);
        }
        assert_eq!(t.reserve([a]).unwrap_err(), RetryAfter(10));
        clock.advance(chrono::Duration::seconds(4));
        assert_eq!(t.reserve([a]).unwrap_err(), RetryAfter(6));
        clock.advance(chrono::Duration::seconds(6));
        fail(&t, a);
        assert_eq!(t.reserve([a]).unwrap_err(), RetryAfter(10));
    }

    #[test]
    fn reservations_in_flight_count_against_the_budget() {
        // Finding 2 of issue 13: 40 concurrent guesses against a burst of 10 were all
        // verified, because the limit was checked before and charged after.
        let (t, _) = throttle(budget(6, 10));
        let held: Vec<_> = (0..40)
            .filter_map(|_| t.reserve([client("a")]).ok())
            .collect();
        assert_eq!(held.len(), 10, "never more in flight than the budget");
        for r in held {
            r.failed();
        }
        assert!(t.reserve([client("a")]).is_err());
    }

    #[test]
    fn success_refunds_so_right_secrets_spend_nothing() {
        let (t, _) = throttle(budget(6, 3));
        let a = client("a");
        for _ in 0..100 {
            t.reserve([a]).unwrap().succeeded();
        }
        fail(&t, a);
        fail(&t, a);
        t.reserve([a]).unwrap().not_a_guess();
        let last = t.reserve([a]).expect("a third failure is still allowed");
        last.failed();
        assert!(t.reserve([a]).is_err());
    }

    #[test]
    fn successes_leave_no_state_behind() {
        let (t, _) = throttle(budget(6, 3));
        for i in 0..50 {
            t.reserve([client(&format!("c{i}")), Key::Address([10, 0, 0, 1].into())])
                .unwrap()
                .succeeded();
        }
        assert_eq!(t.tracked_keys(), 0);
    }

    #[test]
    fn a_refused_reservation_holds_nothing() {
        let (t, _) = throttle(budget(6, 1));
        let ip: IpAddr = [10, 0, 0, 1].into();
        fail(&t, client("a"));
        for _ in 0..20 {
            assert!(t.reserve([client("a"), Key::Address(ip)]).is_err());
        }
        // The address was reserved and given back 20 times: still its whole budget of 5.
        for _ in 0..5 {
            fail(&t, Key::Address(ip));
        }
        assert!(t.reserve([Key::Address(ip)]).is_err());
    }

    #[test]
    fn clients_count_per_source_address() {
        let (t, _) = throttle(budget(6, 1));
        let from = |ip: [u8; 4]| Key::Client {
            client_id: "a",
            address: Some(ip.into()),
        };
        fail(&t, from([192, 0, 2, 1]));
        assert!(t.reserve([from([192, 0, 2, 1])]).is_err());
        assert!(t.reserve([from([192, 0, 2, 2])]).is_ok(), "another address");
    }

    #[test]
    fn keys_are_independent() {
        let (t, _) = throttle(budget(6, 1));
        fail(&t, client("a"));
        assert!(t.reserve([client("a")]).is_err());
        assert!(t.reserve([client("b")]).is_ok());
        let user = Key::User {
            username: "a",
            address: None,
        };
        assert!(t.reserve([user]).is_ok(), "users are another kind");
        assert!(t.reserve([Key::UntrustedUser("a")]).is_ok());
        assert!(t.reserve([Key::Device("a")]).is_ok());
        assert!(t.reserve([Key::Address([127, 0, 0, 1].into())]).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let (t, _) = throttle(budget(6, 1));
        for i in 0..5u16 {
            fail(
                &t,
                Key::Address(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, i, i, i, i))),
            );
        }
        let same_64 = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9);
        let other_64 = Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1);
        assert!(t.reserve([Key::Address(IpAddr::V6(same_64))]).is_err());
        assert!(t.reserve([Key::Address(IpAddr::V6(other_64))]).is_ok());

        let v4: IpAddr = [192, 0, 2, 7].into();
        for _ in 0..5 {
            fail(&t, Key::Address(v4));
        }
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
        assert!(t.reserve([Key::Address(mapped)]).is_err());
    }

    #[test]
    fn the_longest_wait_is_reported() {
        let (t, _) = throttle(budget(6, 1)); // client: 10 s; address: 1 s
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            fail(&t, Key::Address(ip));
        }
        assert_eq!(t.reserve([Key::Address(ip)]).unwrap_err(), RetryAfter(1));
        fail(&t, client("a"));
        assert_eq!(
            t.reserve([client("a"), Key::Address(ip)]).unwrap_err(),
            RetryAfter(10)
        );
    }

    #[test]
    fn a_budget_that_is_off_never_refuses() {
        let (t, _) = throttle(Budget::OFF);
        for _ in 0..1000 {
            fail(&t, client("a"));
        }
        assert!(t.reserve([client("a")]).is_ok());
        assert_eq!(t.tracked_keys(), 0);
    }

    #[test]
    fn housekeeping_forgets_paid_back_keys_only() {
        let (t, clock) = throttle(budget(6, 2));
        fail(&t, client("old"));
        clock.advance(chrono::Duration::seconds(60));
        fail(&t, client("new"));
        fail(&t, client("new"));
        assert_eq!(t.tracked_keys(), 2);
        t.retain_recent();
        assert_eq!(t.tracked_keys(), 1);
        assert!(t.reserve([client("new")]).is_err(), "still blocked");
        clock.advance(chrono::Duration::seconds(60));
        t.retain_recent();
        assert_eq!(t.tracked_keys(), 0);
        assert!(t.reserve([client("new")]).is_ok());
    }

    #[test]
    fn asking_about_refused_or_unknown_keys_stores_nothing_lasting() {
        let (t, _) = throttle(budget(6, 2));
        fail(&t, client("a"));
        for i in 0..100 {
            t.reserve([client(&format!("c{i}"))]).unwrap().not_a_guess();
        }
        assert_eq!(t.tracked_keys(), 1);
    }
}
