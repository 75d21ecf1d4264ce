//! A tiny HTTP/1.1 server around an axum [`Router`], with our own accept loop.
//!
//! `axum::serve` cannot close one connection on demand, and the
//! [`Fault::DropConnection`](crate::Fault::DropConnection) fault needs exactly that: a
//! client must see the socket close before any response byte. So each connection runs in
//! its own task that races hyper's connection future against a [`ConnKill`] signal the
//! fault middleware can fire, and against the sandbox's shutdown signal. Dropping the
//! hyper connection future drops the socket: the client sees "connection closed before
//! message completed", like a crashed upstream or a load balancer reset.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Per-connection kill switch, inserted as a request extension.
#[derive(Clone)]
pub(crate) struct ConnKill(pub(crate) Arc<Notify>);

impl ConnKill {
    /// Closes the connection that carried the current request, without a response.
    pub(crate) fn kill(&self) {
        self.0.notify_one();
    }
}

/// A running server: its address and accept-loop task.
pub(crate) struct RunningServer {
    pub(crate) addr: SocketAddr,
    pub(crate) task: JoinHandle<()>,
}

/// Binds `127.0.0.1:0` and serves `router` until `shutdown` flips to `true`.
pub(crate) async fn spawn(
    name: &'static str,
    router: Router,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tracing::debug!(service = name, %addr, "sandbox server listening");
    let task = tokio::spawn(accept_loop(name, listener, router, shutdown));
    Ok(RunningServer { addr, task })
}

async fn accept_loop(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(service = name, %err, "accept failed");
                continue;
            }
        };
        if *shutdown.borrow() {
            break;
        }
        let kill = Arc::new(Notify::new());
        let svc = TowerToHyperService::new(router.clone().layer(Extension(ConnKill(kill.clone()))));
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                res = conn => {
                    if let Err(err) = res {
                        tracing::trace!(service = name, %err, "connection ended with error");
                    }
                }
                _ = kill.notified() => {
                    tracing::debug!(service = name, "dropping connection (fault)");
                }
                _ = conn_shutdown.changed() => {}
            }
        });
    }
    tracing::debug!(service = name, "sandbox server stopped");
}
