//! Brute-force defence (RFC 6749 §2.3.1, §4.3.2; SPEC §9): failed client authentications
//! and failed sign-ins are counted per identity tried (client id, username) and per source
//! address, and a key over its budget is refused before any secret is looked at.
//!
//! Failures count, requests do not: callers `check` the keys before verifying and
//! `record_failure` only after a verification failed, so a caller with the right secret never
//! spends budget. governor does the counting (GCRA: `burst` failures in a row, then one more
//! every `60 / per_minute` seconds). The state is in memory, per instance (ARCHITECTURE.md).

use crate::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{NotKeyed, StateStore};
use governor::{NotUntil, Quota, RateLimiter};
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Keys one limiter tracks at most. Past that, failures of keys it does not already track go
/// uncounted (by that limiter) until the periodic `retain_recent` frees room: a flood of
/// made-up client ids must not grow memory without bound. About 32 MB per limiter.
pub const MAX_TRACKED_KEYS: usize = 1 << 20;

/// How many failures one key may have: `burst` in a row, then `per_minute`, evenly spread.
/// `per_minute == 0` turns the limit off.
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

    fn quota(self) -> Option<Quota> {
        let rate = NonZeroU32::new(self.per_minute)?;
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Some(Quota::per_minute(rate).allow_burst(burst))
    }
}

/// The budgets, per kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed authentications per `client_id` (token, introspection, revocation endpoints).
    pub client: Budget,
    /// Failed sign-ins (login page, password grant) per username.
    pub user: Budget,
    /// Failures of either kind per source address (IPv6: per /64).
    pub address: Budget,
}

impl Default for ThrottleSettings {
    /// A client or user gets 10 tries in a row, then one every 6 s (clients) or 12 s (people);
    /// an address, which may be a NAT shared by an office, 100 and then 50 a minute.
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
            address: Budget {
                per_minute: 50,
                burst: 100,
            },
        }
    }
}

/// What a failure counts against.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// A `client_id` presented to the token, introspection or revocation endpoint.
    Client(&'a str),
    /// A username tried at sign-in or with the password grant (case-insensitive, as the
    /// user lookup is).
    User(&'a str),
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

/// The brute-force limits. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Throttle(Arc<Limits>);

struct Limits {
    clients: Option<Limiter<u64>>,
    users: Option<Limiter<u64>>,
    addresses: Option<Limiter<IpAddr>>,
    /// Identities are kept as keyed 64-bit digests (random key per process): a made-up
    /// 60 kB `client_id` costs no more memory than a real one.
    hasher: RandomState,
}

impl Throttle {
    /// Runs on the injected clock, so tests that move a `ManualClock` move the limits too.
    pub fn new(settings: ThrottleSettings, clock: Arc<dyn Clock>) -> Self {
        let clock = InjectedClock(clock);
        Self(Arc::new(Limits {
            clients: Limiter::new(settings.client, &clock),
            users: Limiter::new(settings.user, &clock),
            addresses: Limiter::new(settings.address, &clock),
            hasher: RandomState::new(),
        }))
    }

    /// `Err` when `key` is over its budget. Writes nothing; while no failure has been
    /// recorded for that kind of key it is one atomic load.
    pub fn check(&self, key: Key<'_>) -> Result<(), RetryAfter> {
        let l = &*self.0;
        match key {
            Key::Client(id) => l
                .clients
                .as_ref()
                .map_or(Ok(()), |c| c.check(|| l.hasher.hash_one(id))),
            Key::User(name) => l.users.as_ref().map_or(Ok(()), |u| {
                u.check(|| l.hasher.hash_one(name.to_lowercase()))
            }),
            Key::Address(ip) => l
                .addresses
                .as_ref()
                .map_or(Ok(()), |a| a.check(|| address_key(ip))),
        }
    }

    /// Checks every key; the longest wait wins.
    pub fn check_all<'a>(&self, keys: impl IntoIterator<Item = Key<'a>>) -> Result<(), RetryAfter> {
        keys.into_iter()
            .filter_map(|k| self.check(k).err())
            .max_by_key(|r| r.0)
            .map_or(Ok(()), Err)
    }

    /// Counts one failed verification against `key`.
    pub fn record_failure(&self, key: Key<'_>) {
        let l = &*self.0;
        match key {
            Key::Client(id) => {
                if let Some(c) = &l.clients {
                    c.record(l.hasher.hash_one(id));
                }
            }
            Key::User(name) => {
                if let Some(u) = &l.users {
                    u.record(l.hasher.hash_one(name.to_lowercase()));
                }
            }
            Key::Address(ip) => {
                if let Some(a) = &l.addresses {
                    a.record(address_key(ip));
                }
            }
        }
    }

    /// Housekeeping, run periodically: forgets keys whose failures have all been paid back
    /// (they would be treated exactly like unknown keys) and returns the memory.
    pub fn retain_recent(&self) {
        for l in self.limiters() {
            l.retain_recent();
        }
    }

    /// Keys currently remembered, over all limiters.
    pub fn tracked_keys(&self) -> usize {
        self.limiters().map(|l| l.len()).sum()
    }

    fn limiters(&self) -> impl Iterator<Item = &dyn Housekeeping> {
        let l = &*self.0;
        [
            l.clients.as_ref().map(|c| c as &dyn Housekeeping),
            l.users.as_ref().map(|u| u as &dyn Housekeeping),
            l.addresses.as_ref().map(|a| a as &dyn Housekeeping),
        ]
        .into_iter()
        .flatten()
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

/// The injected `Clock` as governor's clock: nanoseconds since the Unix epoch.
#[derive(Clone)]
struct InjectedClock(Arc<dyn Clock>);

impl governor::clock::Clock for InjectedClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let ns = self.0.now().timestamp_nanos_opt().unwrap_or(0);
        Nanos::new(u64::try_from(ns).unwrap_or(0))
    }
}

/// A limiter key with what the call is for: `dry_run` asks whether one more failure would
/// still be allowed and writes nothing (governor has no read-only check), otherwise the
/// failure is recorded. Both go through one governor limiter, so they share its state and
/// its time origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Probe<K> {
    key: K,
    dry_run: bool,
}

/// governor's DashMap state, behind the `Probe` key.
struct Store<K: Hash + Eq + Clone>(Arc<DashMapStateStore<K>>);

impl<K: Hash + Eq + Clone> StateStore for Store<K> {
    type Key = Probe<K>;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe<K>, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if !probe.dry_run {
            return self.0.measure_and_replace(&probe.key, f);
        }
        match self.0.get(&probe.key) {
            // No failure on record: the answer of a fresh key, and nothing stored for asking.
            None => f(None).map(|(t, _)| t),
            // Writes back the value it read (a no-op compare-and-swap): governor's state has
            // no plain read.
            Some(state) => state.measure_and_replace(&NotKeyed::NonKey, |old| {
                f(old).map(|(t, _)| (t, old.unwrap_or(Nanos::new(0))))
            }),
        }
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<Probe<K>> for Store<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::<K>::retain_recent(&*self.0, drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::<K>::shrink_to_fit(&*self.0);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

type Governor<K> = RateLimiter<Probe<K>, Store<K>, InjectedClock, NoOpMiddleware<Nanos>>;

/// One budget over one kind of key.
struct Limiter<K: Hash + Eq + Clone> {
    governor: Governor<K>,
    map: Arc<DashMapStateStore<K>>,
    /// False while no key of this kind has a failure on record: `check` is then one atomic
    /// load, which is what every successful token request pays.
    dirty: AtomicBool,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(budget: Budget, clock: &InjectedClock) -> Option<Self> {
        let quota = budget.quota()?;
        let map = Arc::new(DashMapStateStore::<K>::default());
        Some(Self {
            governor: RateLimiter::new(quota, Store(map.clone()), clock.clone()),
            map,
            dirty: AtomicBool::new(false),
        })
    }

    fn check(&self, key: impl FnOnce() -> K) -> Result<(), RetryAfter> {
        if !self.dirty.load(Ordering::SeqCst) {
            return Ok(());
        }
        let probe = Probe {
            key: key(),
            dry_run: true,
        };
        self.governor
            .check_key(&probe)
            .map_err(|e: NotUntil<Nanos>| {
                let now = governor::clock::Clock::now(self.governor.clock());
                RetryAfter::from_wait(e.wait_time_from(now))
            })
    }

    fn record(&self, key: K) {
        if self.map.len() >= MAX_TRACKED_KEYS && !self.map.contains_key(&key) {
            return;
        }
        // An `Err` means the key was already over budget: nothing more to count.
        let _ = self.governor.check_key(&Probe {
            key,
            dry_run: false,
        });
        self.dirty.store(true, Ordering::SeqCst);
    }
}

trait Housekeeping {
    fn retain_recent(&self);
    fn len(&self) -> usize;
}

impl<K: Hash + Eq + Clone> Housekeeping for Limiter<K> {
    fn retain_recent(&self) {
        self.governor.retain_recent();
        self.governor.shrink_to_fit();
        if self.map.is_empty() {
            // Cleared, then checked again: a failure recorded in between sets it back (or
            // is seen here), so a tracked key is never skipped by `check` for long.
            self.dirty.store(false, Ordering::SeqCst);
            if !self.map.is_empty() {
                self.dirty.store(true, Ordering::SeqCst);
            }
        }
    }

    fn len(&self) -> usize {
        self.map.len()
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

    #[test]
    fn failures_beyond_the_burst_are_refused_until_one_is_paid_back() {
        let (t, clock) = throttle(budget(6, 3)); // one back every 10 s
        let a = Key::Client("a");
        for _ in 0..3 {
            assert_eq!(t.check(a), Ok(()));
            t.record_failure(a);
        }
        assert_eq!(t.check(a), Err(RetryAfter(10)));
        clock.advance(chrono::Duration::seconds(4));
        assert_eq!(t.check(a), Err(RetryAfter(6)));
        clock.advance(chrono::Duration::seconds(6));
        assert_eq!(t.check(a), Ok(()));
        t.record_failure(a);
        assert_eq!(t.check(a), Err(RetryAfter(10)));
    }

    #[test]
    fn checks_never_spend_budget() {
        let (t, _) = throttle(budget(6, 3));
        let a = Key::Client("a");
        t.record_failure(Key::Client("other")); // so checks really look
        for _ in 0..100 {
            assert_eq!(t.check(a), Ok(()));
        }
        t.record_failure(a);
        t.record_failure(a);
        assert_eq!(t.check(a), Ok(()), "a third failure is still allowed");
    }

    #[test]
    fn keys_are_independent() {
        let (t, _) = throttle(budget(6, 1));
        t.record_failure(Key::Client("a"));
        assert!(t.check(Key::Client("a")).is_err());
        assert_eq!(t.check(Key::Client("b")), Ok(()));
        assert_eq!(t.check(Key::User("a")), Ok(()), "users are another kind");
        assert_eq!(t.check(Key::Address([127, 0, 0, 1].into())), Ok(()));
    }

    #[test]
    fn usernames_count_case_insensitively() {
        let (t, _) = throttle(budget(6, 1));
        t.record_failure(Key::User("Alice"));
        t.record_failure(Key::User("ALICE"));
        assert_eq!(t.check(Key::User("alice")), Err(RetryAfter(10)));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let (t, _) = throttle(budget(6, 1));
        for i in 0..5u16 {
            t.record_failure(Key::Address(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 1, i, i, i, i,
            ))));
        }
        let same_64 = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9);
        let other_64 = Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1);
        assert!(t.check(Key::Address(IpAddr::V6(same_64))).is_err());
        assert_eq!(t.check(Key::Address(IpAddr::V6(other_64))), Ok(()));

        let v4: IpAddr = [192, 0, 2, 7].into();
        for _ in 0..5 {
            t.record_failure(Key::Address(v4));
        }
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
        assert!(t.check(Key::Address(mapped)).is_err());
    }

    #[test]
    fn check_all_reports_the_longest_wait() {
        let (t, _) = throttle(budget(6, 1)); // client: 10 s; user: 10 s; address: 1 s
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            t.record_failure(Key::Address(ip));
        }
        assert_eq!(t.check(Key::Address(ip)), Err(RetryAfter(1)));
        t.record_failure(Key::Client("a"));
        assert_eq!(
            t.check_all([Key::Client("a"), Key::Address(ip)]),
            Err(RetryAfter(10))
        );
        assert_eq!(t.check_all([Key::Client("b")]), Ok(()));
    }

    #[test]
    fn a_budget_that_is_off_never_refuses() {
        let (t, _) = throttle(Budget::OFF);
        for _ in 0..1000 {
            t.record_failure(Key::Client("a"));
        }
        assert_eq!(t.check(Key::Client("a")), Ok(()));
        assert_eq!(t.tracked_keys(), 0);
    }

    #[test]
    fn housekeeping_forgets_paid_back_keys_only() {
        let (t, clock) = throttle(budget(6, 2));
        t.record_failure(Key::Client("old"));
        clock.advance(chrono::Duration::seconds(60));
        t.record_failure(Key::Client("new"));
        t.record_failure(Key::Client("new"));
        assert_eq!(t.tracked_keys(), 2);
        t.retain_recent();
        assert_eq!(t.tracked_keys(), 1);
        assert!(t.check(Key::Client("new")).is_err(), "still blocked");
        clock.advance(chrono::Duration::seconds(60));
        t.retain_recent();
        assert_eq!(t.tracked_keys(), 0);
        assert_eq!(t.check(Key::Client("new")), Ok(()));
    }

    #[test]
    fn asking_about_unknown_keys_stores_nothing() {
        let (t, _) = throttle(budget(6, 2));
        t.record_failure(Key::Client("a"));
        for i in 0..100 {
            let _ = t.check(Key::Client(&format!("c{i}")));
        }
        assert_eq!(t.tracked_keys(), 1);
    }
}
