//! SPEC §10: `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! Every series is labelled with bounded values only: the matched route *template*
//! (`/admin/api/v1/clients/{client_id}`, never the raw path or query), the method, the status, a
//! grant type, a failure kind, a pool name. No client id, user name or token is ever a label.
//!
//! Recording sits on the token endpoint's hot path, so it builds no label strings: labels
//! are `&'static str`s, integers and the `MatchedPath` axum already holds (a reference-count
//! bump); counters that only take fixed labels are resolved once at start and are a single
//! atomic add; the latency histogram is a row of atomics (prometheus-client's own takes a
//! mutex per observation).

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tollgate_core::client::GrantType;
use tollgate_core::service::Purged;
use tollgate_core::store::PoolStats;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>) -> Response {
    let store = &state.services.store;
    match state.metrics.render(store.backend(), &store.pool_stats()) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                ),
            )],
            text,
        )
            .into_response(),
        Err(e) => super::edge::with_cause(
            StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            format!("cannot encode metrics: {e}"),
        ),
    }
}

/// One request being timed and counted (`http::edge`): by route template, method and
/// status.
pub struct Observation<'a> {
    metrics: &'a Metrics,
    started: Instant,
    method: &'static str,
    route: Route,
}

impl Observation<'_> {
    /// Time since the request was routed, the same clock `finish` records.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn finish(self, status: StatusCode) {
        let Self {
            metrics,
            started,
            method,
            route,
        } = self;
        metrics.record_request(method, route, status, started.elapsed());
    }
}

/// Which authentication failed, for `tollgate_auth_failures_total{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthFailure {
    /// RFC 6749 §2.3.1 client authentication (or an admin key) at the token,
    /// introspection and revocation endpoints.
    Client,
    /// A wrong user name or password on the sign-in page.
    Login,
    /// A missing or wrong admin key on the admin API.
    AdminKey,
}

impl AuthFailure {
    /// In declaration order, so `kind as usize` indexes it.
    const ALL: [Self; 3] = [Self::Client, Self::Login, Self::AdminKey];

    fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Login => "login",
            Self::AdminKey => "admin_key",
        }
    }

    /// A failed authentication, read off the route and status so that the handlers (owned
    /// by their flows) need not know about metrics: every one of them answers 401.
    fn of(method: &str, route: &str, status: StatusCode) -> Option<Self> {
        if status != StatusCode::UNAUTHORIZED {
            return None;
        }
        match route {
            "/oauth2/token" | "/oauth2/introspect" | "/oauth2/revoke" => Some(Self::Client),
            "/login" if method == "POST" => Some(Self::Login),
            r if r.starts_with("/admin/api/") => Some(Self::AdminKey),
            _ => None,
        }
    }
}

const JANITOR_KINDS: [&str; 3] = ["tokens", "codes", "sessions"];

/// All of Tollgate's metrics, one set per server (tests run several in one process).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Latency>,
    tokens_issued: [Counter; GrantType::ALL.len()],
    auth_failures: [Counter; AuthFailure::ALL.len()],
    janitor_runs: Counter,
    janitor_failures: Counter,
    janitor_purged: [Counter; JANITOR_KINDS.len()],
    janitor_last_success: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("tollgate");
        let requests = Family::<RequestLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Latency>::default();
        r.register(
            "http_request_duration_seconds",
            "Time to produce the response, by method and route template",
            latency.clone(),
        );
        let grants = Family::<GrantLabels, Counter>::default();
        r.register(
            "tokens_issued",
            "Access tokens issued, by grant type",
            grants.clone(),
        );
        let failures = Family::<KindLabels, Counter>::default();
        r.register(
            "auth_failures",
            "Failed authentications: client (OAuth endpoints), login (sign-in page), admin_key (admin API)",
            failures.clone(),
        );
        let janitor_runs = Counter::default();
        r.register(
            "janitor_runs",
            "Janitor passes, failed ones included",
            janitor_runs.clone(),
        );
        let janitor_failures = Counter::default();
        r.register(
            "janitor_failures",
            "Janitor passes that failed",
            janitor_failures.clone(),
        );
        let purged = Family::<KindLabels, Counter>::default();
        r.register(
            "janitor_purged_rows",
            "Rows the janitor deleted, by kind",
            purged.clone(),
        );
        let janitor_last_success = Gauge::default();
        r.register(
            "janitor_last_success_timestamp_seconds",
            "Unix time of the last janitor pass that succeeded",
            janitor_last_success.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        r.register(
            "db_pool_connections",
            "Open database connections (idle or in use), by pool",
            pool_connections.clone(),
        );
        let pool_idle = Family::<PoolLabels, Gauge>::default();
        r.register(
            "db_pool_idle_connections",
            "Idle database connections, by pool",
            pool_idle.clone(),
        );
        let pool_max = Family::<PoolLabels, Gauge>::default();
        r.register(
            "db_pool_max_connections",
            "The most connections a pool may open",
            pool_max.clone(),
        );
        // Resolved once, so recording is one atomic add and every series exists (at 0)
        // from the first scrape, which `rate()` needs.
        let tokens_issued = GrantType::ALL.map(|g| {
            grants.get_or_create_owned(&GrantLabels {
                grant_type: g.as_str(),
            })
        });
        let auth_failures = AuthFailure::ALL
            .map(|k| failures.get_or_create_owned(&KindLabels { kind: k.as_str() }));
        let janitor_purged =
            JANITOR_KINDS.map(|kind| purged.get_or_create_owned(&KindLabels { kind }));
        Self {
            registry: r,
            requests,
            latency,
            tokens_issued,
            auth_failures,
            janitor_runs,
            janitor_failures,
            janitor_purged,
            janitor_last_success,
            pool_connections,
            pool_idle,
            pool_max,
        }
    }

    fn record_request(
        &self,
        method: &'static str,
        route: Route,
        status: StatusCode,
        took: Duration,
    ) {
        if let Some(kind) = AuthFailure::of(method, route.as_str(), status) {
            self.auth_failures[kind as usize].inc();
        }
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// Starts timing `req`, which must have been routed (for its `MatchedPath`).
    pub fn observe(&self, req: &Request) -> Observation<'_> {
        Observation {
            metrics: self,
            started: Instant::now(),
            method: method_label(req.method()),
            route: Route(req.extensions().get::<MatchedPath>().cloned()),
        }
    }

    /// `tollgate_tokens_issued_total{grant_type}`.
    pub fn token_issued(&self, grant: GrantType) {
        self.tokens_issued[grant as usize].inc();
    }

    pub fn janitor_succeeded(&self, p: &Purged) {
        self.janitor_runs.inc();
        for (counter, n) in self
            .janitor_purged
            .iter()
            .zip([p.tokens, p.codes, p.sessions])
        {
            counter.inc_by(n);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.janitor_last_success.set(now);
    }

    pub fn janitor_failed(&self) {
        self.janitor_runs.inc();
        self.janitor_failures.inc();
    }

    /// The exposition text. Pool figures are read now, at scrape time, rather than kept
    /// up to date by a task.
    pub fn render(
        &self,
        backend: &'static str,
        pools: &[PoolStats],
    ) -> Result<String, std::fmt::Error> {
        for p in pools {
            let labels = PoolLabels {
                backend,
                pool: p.pool,
            };
            self.pool_connections
                .get_or_create(&labels)
                .set(i64::from(p.size));
            self.pool_idle.get_or_create(&labels).set(i64::from(p.idle));
            self.pool_max.get_or_create(&labels).set(i64::from(p.max));
        }
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The standard methods as static strings; anything else shares one label value, so a
/// client inventing methods cannot add series.
fn method_label(m: &Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The route template a request matched. Requests that matched no route (404s) share one
/// label value instead of bringing their paths in as new series.
#[derive(Debug, Clone)]
struct Route(Option<MatchedPath>);

const UNMATCHED: &str = "unmatched";

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Route,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: Route,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct GrantLabels {
    grant_type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    backend: &'static str,
    pool: &'static str,
}

/// Upper bounds of the latency buckets, in microseconds (0.5 ms … 10 s): the token
/// endpoint answers in about a millisecond, an Argon2id sign-in in tens to hundreds.
const LATENCY_BOUNDS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// A latency histogram made of atomics: observing is a few relaxed adds and never waits.
#[derive(Debug, Default)]
struct Latency {
    /// Per-bucket (not cumulative) counts; the last one counts what exceeds every bound.
    buckets: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

impl Latency {
    fn observe(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // Prometheus buckets are `le`: a value equal to a bound belongs to that bucket.
        let i = LATENCY_BOUNDS_US.partition_point(|&b| b < us);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }
}

impl TypedMetric for Latency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Latency {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        // The count is the buckets' total, so `+Inf` always equals `_count` even while
        // requests are being recorded.
        let count = counts.iter().sum();
        let buckets: Vec<(f64, u64)> = LATENCY_BOUNDS_US
            .iter()
            .zip(&counts)
            .map(|(&b, &n)| (b as f64 / 1e6, n))
            .collect();
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative_with_le_bounds() {
        let mut r = Registry::default();
        let f = Family::<RouteLabels, Latency>::default();
        r.register("lat", "x", f.clone());
        let labels = RouteLabels {
            method: "GET",
            route: Route(None),
        };
        f.get_or_create(&labels).observe(Duration::from_micros(500));
        f.get_or_create(&labels).observe(Duration::from_micros(501));
        f.get_or_create(&labels).observe(Duration::from_secs(60));
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &r).unwrap();
        let line = |le: &str| {
            out.lines()
                .find(|l| l.contains(&format!("le=\"{le}\"")))
                .unwrap_or_else(|| panic!("no bucket {le} in {out}"))
                .to_owned()
        };
        assert!(line("0.0005").ends_with(" 1"), "{out}");
        assert!(line("0.001").ends_with(" 2"), "{out}");
        assert!(line("10").ends_with(" 2"), "{out}");
        assert!(line("+Inf").ends_with(" 3"), "{out}");
        assert!(
            out.contains("lat_count{method=\"GET\",route=\"unmatched\"} 3"),
            "{out}"
        );
        assert!(
            out.contains("lat_sum{method=\"GET\",route=\"unmatched\"} 60.001001"),
            "{out}"
        );
    }

    #[test]
    fn failed_authentications_are_read_off_route_and_status() {
        let s = StatusCode::UNAUTHORIZED;
        assert_eq!(
            AuthFailure::of("POST", "/oauth2/token", s),
            Some(AuthFailure::Client)
        );
        assert_eq!(
            AuthFailure::of("POST", "/login", s),
            Some(AuthFailure::Login)
        );
        assert_eq!(
            AuthFailure::of("GET", "/admin/api/v1/clients", s),
            Some(AuthFailure::AdminKey)
        );
        assert_eq!(
            AuthFailure::of("POST", "/oauth2/token", StatusCode::BAD_REQUEST),
            None
        );
        assert_eq!(AuthFailure::of("GET", "/healthz", s), None);
    }
}
