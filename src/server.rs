//! Listeners and connections: accepts TCP (and TLS) connections, serves
//! HTTP/1.1 and HTTP/2 on them with hyper, applies the limits, logs one line
//! per request, and shuts down gracefully. Does not decide what a request
//! means (see `router`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, Limits};
use crate::router::{App, RequestLog, Transport, plain_error, route};
use crate::tls::{self, TlsError, TlsSetup};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A server that is accepting connections.
pub struct Running {
    /// The bound plain-HTTP addresses (real ports when 0 was configured).
    pub http_addrs: Vec<SocketAddr>,
    pub https_addrs: Vec<SocketAddr>,
    /// Present when an HTTPS listener exists.
    pub tls: Option<TlsSummary>,
    /// Set to `true` to stop accepting and close connections gracefully.
    shutdown: watch::Sender<bool>,
    listeners: JoinSet<()>,
    /// One permit per open connection; all permits back means all
    /// connections are closed.
    connections: Arc<Semaphore>,
    max_connections: usize,
    grace: Duration,
}

/// What the operator is told about the HTTPS certificate.
pub struct TlsSummary {
    pub fingerprint_sha256: String,
    pub self_signed: bool,
}

/// Everything a connection task needs, shared by all of them.
struct Shared {
    app: App,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
}

/// Binds every configured listener and starts serving.
pub async fn start(config: Config) -> Result<Running, ServeError> {
    let tls_setup: Option<TlsSetup> = if config.https_listeners.is_empty() {
        None
    } else {
        Some(tls::load(&config.tls)?)
    };
    let limits = config.limits.clone();
    let mut http = Vec::new();
    for addr in &config.http_listeners {
        http.push(bind(*addr).await?);
    }
    let mut https = Vec::new();
    for addr in &config.https_listeners {
        https.push(bind(*addr).await?);
    }

    let shared = Arc::new(Shared {
        builder: connection_builder(&limits),
        app: App::new(config),
        limits: limits.clone(),
    });
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut listeners = JoinSet::new();
    let mut running = Running {
        http_addrs: Vec::new(),
        https_addrs: Vec::new(),
        tls: tls_setup.as_ref().map(|t| TlsSummary {
            fingerprint_sha256: t.fingerprint_sha256.clone(),
            self_signed: t.self_signed,
        }),
        shutdown,
        listeners: JoinSet::new(),
        connections: connections.clone(),
        max_connections: limits.max_connections,
        grace: limits.shutdown_grace(),
    };
    let acceptor = tls_setup.map(|t| TlsAcceptor::from(t.config));
    for (listener, tls) in http
        .into_iter()
        .map(|l| (l, None))
        .chain(https.into_iter().map(|l| (l, acceptor.clone())))
    {
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        if tls.is_some() {
            running.https_addrs.push(addr);
        } else {
            running.http_addrs.push(addr);
        }
        listeners.spawn(accept_loop(
            listener,
            tls,
            shared.clone(),
            connections.clone(),
            shutdown_rx.clone(),
        ));
    }
    running.listeners = listeners;
    Ok(running)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to the grace
    /// period), then returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.listeners.join_next().await.is_some() {}
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(self.grace, self.connections.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!(
                grace_secs = self.grace.as_secs(),
                "connections still open after the grace period; closing them"
            );
        }
    }
}

/// HTTP/1.1 and HTTP/2 with the limits from the configuration.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper starts this timer when a connection waits for a request
        // head, including between keep-alive requests (hyper ≥ 1.6).
        .header_read_timeout(limits.header_read_timeout())
        // Bounds the request head; larger heads get 431.
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .max_pending_accept_reset_streams(Some(20))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}

/// Largest request head accepted (request line and headers).
const MAX_HEAD_BYTES: usize = 32 * 1024;

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        // Take a permit before accepting: over the limit, new connections
        // wait in the kernel's backlog instead of being served badly.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            serve_connection(stream, tls, shared, shutdown).await;
            drop(permit);
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let stream = ActivityIo {
        inner: stream,
        activity: activity.clone(),
    };
    match tls {
        None => drive(stream, false, activity, shared, shutdown).await,
        Some(acceptor) => {
            // The handshake counts against the header timeout: a client
            // that stalls in the handshake is cut like a slow header.
            let handshake =
                tokio::time::timeout(shared.limits.header_read_timeout(), acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(stream)) => drive(stream, true, activity, shared, shutdown).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}

/// Serves HTTP on one connection until the client closes it, it stays idle
/// past the idle timeout, or the server shuts down.
async fn drive<S>(
    stream: S,
    secure: bool,
    activity: Activity,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_shared = shared.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = service_shared.clone();
        async move { Ok::<_, Infallible>(handle(&shared, request, secure).await) }
    });
    let connection = shared
        .builder
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let idle = shared.limits.idle_timeout();
    let mut closing = false;
    loop {
        let idle_deadline = activity.last() + idle;
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(idle_deadline.into()), if !closing => {
                if activity.last() + idle <= Instant::now() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = shutdown.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Reads the body (capped), routes, and logs one line.
async fn handle(
    shared: &Shared,
    request: Request<Incoming>,
    secure: bool,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let max = shared.limits.max_body_bytes;
    // A body that trickles in is cut like a slow header. (When a request
    // has both Content-Length and Transfer-Encoding, hyper drops the length,
    // reads it chunked and closes the connection afterwards, RFC 9112 §6.3,
    // so no second request can be smuggled behind it.)
    let body = Limited::new(body, max).collect();
    let response = match tokio::time::timeout(shared.limits.header_read_timeout(), body).await {
        Ok(Ok(collected)) => {
            let mut request = Request::from_parts(parts.clone(), collected.to_bytes());
            request.extensions_mut().insert(Transport { tls: secure });
            route(&shared.app, &request).await
        }
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => plain_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {max} bytes"),
        ),
        Ok(Err(_)) => plain_error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        ),
        Err(_) => {
            let mut response = plain_error(
                StatusCode::REQUEST_TIMEOUT,
                "the request body was not received in time",
            );
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            response
        }
    };
    log_request(shared, &parts, &response, secure, started);
    response
}

fn log_request(
    shared: &Shared,
    parts: &http::request::Parts,
    response: &Response<Full<Bytes>>,
    secure: bool,
    started: Instant,
) {
    let log = response.extensions().get::<RequestLog>();
    let endpoint = log.map_or("none", |l| l.endpoint);
    let domain = log.and_then(|l| l.domain.as_ref()).map(|d| d.as_str());
    let log_addresses = shared.app.config.log_addresses;
    let address = log
        .and_then(|l| l.address.as_ref())
        .filter(|_| log_addresses)
        .map(|a| a.as_str());
    // Paths may carry an address (future /apple/<address> forms): only
    // logged when the admin asked for addresses.
    let path = parts.uri.path();
    let path = if log_addresses || !path.contains('@') {
        path
    } else {
        "(path with address, not logged)"
    };
    tracing::info!(
        method = %parts.method,
        path,
        scheme = if secure { "https" } else { "http" },
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        endpoint,
        domain,
        address,
        "request"
    );
}

/// When a connection last moved a byte, shared between its I/O wrapper and
/// its driver. Milliseconds since `epoch`, so it fits an atomic.
#[derive(Clone)]
struct Activity {
    epoch: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let millis = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// A stream that records activity on every successful read or write, for
/// the idle timeout (HTTP/2 has no idle timer of its own in hyper).
struct ActivityIo<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
