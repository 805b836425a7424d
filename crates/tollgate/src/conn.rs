//! The accept loop and the limits every connection lives under (issue 13, `[http]`), for
//! the plain and the TLS listener alike:
//!
//! - at most `max_connections` at once: a permit is taken *before* `accept`, so the ones
//!   beyond wait in the kernel's accept queue (and are refused by the kernel once it is
//!   full) rather than being accepted and closed;
//! - the TLS handshake within `tls_handshake_timeout`;
//! - the request line and headers within `header_read_timeout` of their first byte (or of
//!   the connection's start), at most `max_header_bytes` of them (hyper answers 431);
//! - the whole body within `request_body_timeout` of the headers (408, then close);
//! - no more than `idle_timeout` with no request in flight.
//!
//! hyper's own `header_read_timeout` is not used: it starts as soon as hyper waits for the
//! next request, so it would also close every idle keep-alive connection after the
//! header timeout, and an idle timeout longer than that could not be set. A watchdog per
//! connection instead reads the phase the connection is in (`Activity`).

use crate::config::HttpSettings;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// Serves `app` on `tcp` until `shutdown` completes; then closes the listener, lets each
/// connection finish the request it is in (idle ones close at once), and returns when all
/// have ended or after `drain_limit`.
pub async fn serve(
    mut tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: HttpSettings,
    drain_limit: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // Timeouts are the watchdog's (module docs); no hyper timer is installed.
    http1
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes);
    let limits = Arc::new(limits);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => p,
        };
        // The semaphore is never closed.
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Retries (with a pause) on accept errors such as too many open files.
            c = axum::serve::Listener::accept(&mut tcp) => c,
        };
        let conn = Conn {
            peer,
            app: app.clone(),
            http1: http1.clone(),
            limits: limits.clone(),
            stopping: stopping.clone(),
            _permit: permit,
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => conn.serve(stream).await,
                Some(acceptor) => conn.handshake(acceptor, stream).await,
            }
        });
    }
    drop(tcp);
    let _ = stop.send(true);
    // Each connection holds a permit until it ends: all of them back means all ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(drain_limit, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            limit_secs = drain_limit.as_secs(),
            "requests still in flight at the drain limit; closing them"
        );
    }
    Ok(())
}

struct Conn {
    peer: SocketAddr,
    app: Router,
    http1: hyper::server::conn::http1::Builder,
    limits: Arc<HttpSettings>,
    stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    async fn handshake(mut self, acceptor: TlsAcceptor, stream: tokio::net::TcpStream) {
        let peer = self.peer;
        let handshake =
            tokio::time::timeout(self.limits.tls_handshake_timeout, acceptor.accept(stream));
        let tls = tokio::select! {
            r = handshake => r,
            _ = self.stopping.wait_for(|s| *s) => return,
        };
        match tls {
            Ok(Ok(tls)) => self.serve(tls).await,
            // A scanner, a plain-HTTP request or a client that distrusts the certificate:
            // not the server's problem, so debug only.
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    }

    async fn serve<I>(mut self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: io,
            activity: activity.clone(),
        });
        let (app, peer, body_timeout) = (self.app, self.peer, self.limits.request_body_timeout);
        let watched = activity.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let in_flight = watched.request_started();
            let timed_out = Arc::new(AtomicBool::new(false));
            let mut req = req.map(|body| {
                if http_body::Body::is_end_stream(&body) {
                    Body::new(body)
                } else {
                    Body::new(DeadlineBody {
                        inner: body,
                        deadline: Instant::now() + body_timeout,
                        sleep: None,
                        timed_out: timed_out.clone(),
                    })
                }
            });
            req.extensions_mut().insert(ConnectInfo(peer));
            let res = tower::ServiceExt::oneshot(app.clone(), req);
            async move {
                let res = match res.await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                drop(in_flight);
                // The handler saw a body error; the client is told why, and the
                // connection closes, since the rest of the body may still come.
                Ok::<_, std::convert::Infallible>(if timed_out.load(Ordering::Relaxed) {
                    request_timeout(res)
                } else {
                    res
                })
            }
        });
        let mut conn = std::pin::pin!(self.http1.serve_connection(io, service));
        let mut draining = false;
        loop {
            let now = Instant::now();
            // Woken at least this often, so a phase that began while it slept (headers
            // after an idle spell) is held to its own, possibly earlier, deadline.
            let next_look = now
                + self
                    .limits
                    .header_read_timeout
                    .min(self.limits.idle_timeout);
            let wake = match activity.deadline(&self.limits) {
                Some((deadline, phase)) if deadline <= now => {
                    tracing::debug!(%peer, phase, "closing a connection at its timeout");
                    return;
                }
                Some((deadline, _)) => deadline.min(next_look),
                // A request is in flight: its body has its own deadline, the handler none.
                None => next_look,
            };
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = tokio::time::sleep_until(wake) => {}
                _ = self.stopping.wait_for(|s| *s), if !draining => {
                    draining = true;
                    // Finishes the request in flight, then closes; closes an idle one now.
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The handler's response turned into a 408: its headers stay (the edge middleware's
/// request id, security headers and HSTS), its status and body do not.
fn request_timeout(handled: Response<Body>) -> Response<Body> {
    let (mut parts, _) = handled.into_parts();
    parts.status = StatusCode::REQUEST_TIMEOUT;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Response::from_parts(parts, Body::from("the request body did not arrive in time"))
}

/// What a connection is doing, for the watchdog.
#[derive(Clone, Copy)]
enum Phase {
    /// Reading a request's headers, since the first byte (or the connection's start).
    Head(Instant),
    /// A request is being handled.
    Busy,
    /// Nothing in flight since the last response (or the last bytes written of it).
    Idle(Instant),
}

/// Uncontended (one connection's tasks), so a plain mutex.
struct Activity(Mutex<Phase>);

/// Ends the `Busy` phase when the response is ready, or the request was dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(Phase::Idle(Instant::now()));
    }
}

impl Activity {
    fn new() -> Self {
        Self(Mutex::new(Phase::Head(Instant::now())))
    }

    fn get(&self) -> Phase {
        match self.0.lock() {
            Ok(p) => *p,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn set(&self, phase: Phase) {
        match self.0.lock() {
            Ok(mut p) => *p = phase,
            Err(poisoned) => *poisoned.into_inner() = phase,
        }
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.set(Phase::Busy);
        InFlight(self.clone())
    }

    /// Bytes arrived: on an idle connection, the next request's headers have begun.
    fn read_some(&self) {
        if let Phase::Idle(_) = self.get() {
            self.set(Phase::Head(Instant::now()));
        }
    }

    /// Bytes left: a slow reader still taking the response is not idle.
    fn wrote_some(&self) {
        if let Phase::Idle(_) = self.get() {
            self.set(Phase::Idle(Instant::now()));
        }
    }

    fn deadline(&self, limits: &HttpSettings) -> Option<(Instant, &'static str)> {
        match self.get() {
            Phase::Head(since) => Some((since + limits.header_read_timeout, "headers")),
            Phase::Idle(since) => Some((since + limits.idle_timeout, "idle")),
            Phase::Busy => None,
        }
    }
}

/// The connection's IO, telling `Activity` when bytes move.
struct Watched<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.read_some();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote_some();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote_some();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the request body timeout")]
struct BodyTimedOut;

/// A request body that fails once its deadline has passed, however the bytes trickle in.
/// The timer is only created if the body is ever waited for.
struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
