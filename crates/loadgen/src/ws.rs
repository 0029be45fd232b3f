//! A `graphql-transport-ws` client as the apps use it, and a plain
//! WebSocket for the echo baseline. Each frame is stamped the moment it
//! is read, before any parsing, so latencies include no client work.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PROTOCOL: &str = "graphql-transport-ws";

/// How long the handshake and `connection_ack` may take.
const OPEN_LIMIT: Duration = Duration::from_secs(30);

/// What the server sent on a socket.
#[derive(Debug)]
pub enum Frame {
    /// A `next` for subscription `id`, and when it was read.
    Next {
        id: String,
        data: Value,
        at: Instant,
    },
    /// Any other protocol message (`error`, `complete`, ...).
    Other(Value),
    /// A text frame of the echo baseline.
    Text(String),
    Closed,
}

pub struct Socket {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    /// Opens `/graphql`, sends `connection_init` with the token and waits
    /// for the ack.
    pub async fn open(addr: SocketAddr, token: &str) -> Result<Socket> {
        let opened = async {
            let mut request = format!("ws://{addr}/graphql").into_client_request()?;
            request
                .headers_mut()
                .insert("sec-websocket-protocol", PROTOCOL.parse()?);
            let (inner, _) = tokio_tungstenite::connect_async(request).await?;
            let mut socket = Socket { inner };
            let init = json!({ "type": "connection_init", "payload": { "token": token } });
            socket.send(&init).await?;
            match socket.next(OPEN_LIMIT).await? {
                Some(Frame::Other(m)) if m["type"] == "connection_ack" => Ok(socket),
                other => bail!("expected connection_ack, got {other:?}"),
            }
        };
        tokio::time::timeout(OPEN_LIMIT, opened)
            .await
            .context("the socket did not open in time")?
    }

    /// Opens a plain WebSocket at `path` (the echo baseline).
    pub async fn open_plain(addr: SocketAddr, path: &str) -> Result<Socket> {
        let url = format!("ws://{addr}{path}");
        let connect = tokio_tungstenite::connect_async(url);
        let (inner, _) = tokio::time::timeout(OPEN_LIMIT, connect)
            .await
            .context("the socket did not open in time")??;
        Ok(Socket { inner })
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> Result<()> {
        let payload = json!({ "query": query, "variables": variables });
        self.send(&json!({ "id": id, "type": "subscribe", "payload": payload }))
            .await
    }

    pub async fn send(&mut self, message: &Value) -> Result<()> {
        self.send_text(&message.to_string()).await
    }

    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.inner
            .send(Message::Text(text.to_owned().into()))
            .await
            .context("failed to send on the socket")
    }

    /// The next frame, or `None` if nothing comes within `wait`. Pings
    /// are answered by the library while reading.
    pub async fn next(&mut self, wait: Duration) -> Result<Option<Frame>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(item) = tokio::time::timeout_at(deadline, self.inner.next()).await else {
                return Ok(None);
            };
            let at = Instant::now();
            let text = match item {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None => return Ok(Some(Frame::Closed)),
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(err).context("the socket failed"),
            };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                return Ok(Some(Frame::Text(text.as_str().to_owned())));
            };
            return Ok(Some(match message["type"].as_str() {
                Some("next") if message["payload"]["errors"].is_null() => Frame::Next {
                    id: message["id"].as_str().unwrap_or_default().to_owned(),
                    data: message["payload"]["data"].clone(),
                    at,
                },
                _ => Frame::Other(message),
            }));
        }
    }

    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}
