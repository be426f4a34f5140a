//! Serving an API: the layers every service shares, and graceful shutdown.

use crate::fault::{fault_layer, FaultStyle};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::net::SocketAddr;
use tokio::sync::watch;

/// Wraps a service router with request ids, access logging, body size limit and the
/// service's fault format.
pub fn with_common_layers(router: Router, style: FaultStyle, max_body: usize) -> Router {
    router
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(move |req, next| fault_layer(style, req, next)))
        .layer(axum::middleware::from_fn(crate::request_id::layer))
}

/// A signal that flips to `true` once on SIGINT or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        let _ = tx.send(true);
    });
    rx
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Binds the API's address, so a taken port fails start-up before anything is announced.
pub async fn bind(name: &str, addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("{name}: cannot listen on {addr}: {e}"))
}

/// Serves on `listener` until `shutdown` flips, then drains in-flight requests.
pub async fn serve(
    name: &str,
    listener: tokio::net::TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    tracing::info!("{name} API listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    tracing::info!("{name} API stopped");
    Ok(())
}
