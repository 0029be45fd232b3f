//! The baseline of the idle-sockets scenario: a bare axum WebSocket echo
//! server with the library's defaults, run as a child process so that
//! its resident memory is its own. It prints the address it listens on
//! and ends when its parent closes its standard input.

use std::io::Read as _;

use anyhow::Result;
use axum::Router;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use axum::routing::get;

pub fn run() -> Result<()> {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    // As many workers as `scrm serve` has on this machine.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening {}", listener.local_addr()?);
        let app = Router::new().route(
            "/ws",
            get(|upgrade: WebSocketUpgrade| async { upgrade.on_upgrade(echo) }),
        );
        axum::serve(listener, app).await?;
        Ok(())
    })
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let echoed = match message {
            Message::Text(_) | Message::Binary(_) => socket.send(message).await,
            Message::Close(_) => break,
            _ => Ok(()),
        };
        if echoed.is_err() {
            break;
        }
    }
}
