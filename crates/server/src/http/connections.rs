//! The accept loop: what one connection may hold. A request head must arrive within the
//! header read timeout (also between requests on a kept-alive connection; with TLS, the
//! handshake too), its body within the body read timeout, at most `max_connections` are
//! served at once, and on shutdown the connections still busy after the shutdown timeout are
//! dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::ConnectionLimits;

/// Serves `router` on `listener` until `shutdown` completes; over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let body_read_timeout = limits.body_read_timeout;
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let deadline = tokio::time::Instant::now() + body_read_timeout;
            let answered = router.clone().oneshot(request.map(|body| {
                axum::body::Body::new(DeadlineBody {
                    inner: body,
                    deadline,
                    timer: None,
                })
            }));
            async move {
                let Ok(response) = answered.await;
                if response.extensions().get::<DropConnection>().is_some() {
                    // hyper closes a connection whose service fails, answering nothing.
                    return Err(ConnectionDropped);
                }
                Ok(response)
            }
        });
        let watcher = graceful.watcher();
        let http = http.clone();
        let tls = tls.clone();
        let handshake_timeout = limits.header_read_timeout;
        connections.spawn(async move {
            match tls {
                None => {
                    let _ = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
                Some(tls) => {
                    // A client that never finishes its handshake holds its slot no longer
                    // than one that never sends a request head.
                    let handshake = tokio::time::timeout(handshake_timeout, tls.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        let _ = watcher
                            .watch(http.serve_connection(TokioIo::new(stream), service))
                            .await;
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let busy = connections.len();
    if busy > 0 {
        tracing::info!(connections = busy, "finishing the requests in flight");
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                connections = connections.len(),
                "shutdown timeout reached: dropping the connections still open"
            );
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// Marks an answer never to send: its connection is closed instead (the sandbox's
/// `api_connection_dropped` fault).
#[derive(Clone, Copy)]
struct DropConnection;

/// An answer that closes its connection without a byte sent; logged as 503.
pub fn dropped_connection() -> axum::response::Response {
    let mut response = axum::response::Response::new(axum::body::Body::empty());
    *response.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    response.extensions_mut().insert(DropConnection);
    response
}

#[derive(Debug, thiserror::Error)]
#[error("the connection was dropped on purpose")]
struct ConnectionDropped;

/// A request body that must have arrived by `deadline`. The timer is armed only when the body
/// is not already there, so a request whose body came with its head (most of them) costs no
/// timer at all.
struct DeadlineBody<B> {
    inner: B,
    deadline: tokio::time::Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTooSlow;

impl<B> http_body::Body for DeadlineBody<B>
where
    B: http_body::Body<Data = axum::body::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
