//! A small graphql-transport-ws client, as the apps use.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::TestApp;

/// What the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Message(Value),
    Closed(Option<u16>),
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens the socket; with a token, also initialises and awaits the ack.
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Result<WsClient> {
        let mut client = Self::open(app, Some("graphql-transport-ws")).await?;
        if let Some(token) = token {
            client
                .send(json!({ "type": "connection_init", "payload": { "token": token } }))
                .await?;
            let ack = client.next().await?;
            if ack != Frame::Message(json!({ "type": "connection_ack" })) {
                bail!("expected connection_ack, got {ack:?}");
            }
        }
        Ok(client)
    }

    /// Opens the socket without initialising, asking for `protocol`.
    pub async fn open(app: &TestApp, protocol: Option<&str>) -> Result<WsClient> {
        let mut request = format!("ws://{}/graphql", app.addr).into_client_request()?;
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocol.parse()?);
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(WsClient { socket })
    }

    /// Opens the socket asking for `protocol` without checking what the
    /// server answers, as a careless client would; a conforming client
    /// gives up by itself when the server picks no sub-protocol.
    pub async fn open_unverified(app: &TestApp, protocol: &str) -> Result<WsClient> {
        let mut tcp = TcpStream::connect(app.addr).await?;
        let head = format!(
            "GET /graphql HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: c2NybS10ZXN0LWtleS0xMg==\r\n\
             Sec-WebSocket-Protocol: {protocol}\r\n\r\n",
            app.addr
        );
        tcp.write_all(head.as_bytes()).await?;
        let mut answer = Vec::new();
        while !answer.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if tcp.read(&mut byte).await? == 0 {
                bail!("the server closed during the handshake");
            }
            answer.push(byte[0]);
        }
        let answer = String::from_utf8_lossy(&answer);
        if !answer.starts_with("HTTP/1.1 101") {
            bail!("no upgrade: {answer}");
        }
        let socket =
            WebSocketStream::from_raw_socket(MaybeTlsStream::Plain(tcp), Role::Client, None).await;
        Ok(WsClient { socket })
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.socket.send(Message::Binary(bytes.into())).await?;
        Ok(())
    }

    pub async fn send(&mut self, message: Value) -> Result<()> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await?;
        Ok(())
    }

    pub async fn send_raw(&mut self, text: &str) -> Result<()> {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await?;
        Ok(())
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> Result<()> {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await
    }

    pub async fn complete(&mut self, id: &str) -> Result<()> {
        self.send(json!({ "id": id, "type": "complete" })).await
    }

    /// The next protocol message or the close, within ten seconds.
    pub async fn next(&mut self) -> Result<Frame> {
        self.next_within(Duration::from_secs(10))
            .await?
            .context("nothing arrived within the time")
    }

    /// The next message or close, or `None` if nothing comes in `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Option<Frame>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Ok(item) = tokio::time::timeout(left, self.socket.next()).await else {
                return Ok(None);
            };
            match item {
                Some(Ok(Message::Text(text))) => {
                    return Ok(Some(Frame::Message(serde_json::from_str(&text)?)));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Some(Frame::Closed(frame.map(|f| u16::from(f.code)))));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ok(Some(Frame::Closed(None))),
            }
        }
    }

    /// The next `next` payload's data for subscription `id`.
    pub async fn next_data(&mut self, id: &str) -> Result<Value> {
        match self.next().await? {
            Frame::Message(m) if m["type"] == "next" && m["id"] == id => {
                Ok(m["payload"]["data"].clone())
            }
            other => bail!("expected next for {id}, got {other:?}"),
        }
    }

    /// Waits for the close and gives its code.
    pub async fn close_code(&mut self) -> Result<Option<u16>> {
        loop {
            match self.next().await? {
                Frame::Closed(code) => return Ok(code),
                Frame::Message(_) => continue,
            }
        }
    }
}
