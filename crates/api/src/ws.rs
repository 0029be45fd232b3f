//! GraphQL over WebSocket, `graphql-transport-ws`, written out so that
//! every close code follows the protocol (the library's own handler
//! closes with 1002 where the protocol says 4403) and so that a
//! subscription's work stops the moment the client completes it.
//!
//! Each subscription runs in its own task and reports through one
//! channel to the socket loop; `complete` aborts the task, dropping its
//! stream and with it the bus subscription. Polling the streams from the
//! socket's loop instead would save memory but is wrong: a stream waiting
//! there on a pooled database connection stops while the loop waits on a
//! slow client or on its own next query, and the pool runs dry (tried,
//! and the suite caught it).

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::Response;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::graphql::session::ClientIp;
use crate::graphql::{ScrmSchema, Viewer};
use crate::http::viewer_from_token;
use crate::state::AppState;

pub const PROTOCOL: &str = "graphql-transport-ws";

/// Operations one socket may run at once.
const MAX_SUBSCRIPTIONS: usize = 100;

/// Close codes of the protocol.
pub mod close {
    pub const BAD_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const PROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    /// The server could not do its part (the store did not answer).
    pub const INTERNAL: u16 = 4500;
}

/// What a subscription task tells the socket loop.
enum Out {
    Next {
        id: String,
        generation: u64,
        payload: Value,
    },
    Error {
        id: String,
        generation: u64,
        payload: Value,
    },
    Complete {
        id: String,
        generation: u64,
    },
}

struct Conn {
    state: AppState,
    schema: ScrmSchema,
    ip: ClientIp,
    viewer: Option<Viewer>,
    /// When the access token given in `connection_init` expires.
    token_expires: Option<Instant>,
    running: HashMap<String, (u64, tokio::task::AbortHandle)>,
    generation: u64,
    /// Boxed, as the channel allocates its first block of slots up front.
    out: mpsc::Sender<Box<Out>>,
}

type Closing = (u16, &'static str);

pub async fn serve(socket: WebSocket, state: AppState, schema: ScrmSchema, ip: ClientIp) {
    crate::metrics::ws_opened();
    let (mut sink, mut incoming) = socket.split();
    let (out, mut results) = mpsc::channel(64);
    let limits = state.config.limits.clone();
    let mut conn = Conn {
        state,
        schema,
        ip,
        viewer: None,
        token_expires: None,
        running: HashMap::new(),
        generation: 0,
        out,
    };
    let init_deadline = Instant::now() + limits.ws_init_timeout();
    let ping_every = Duration::from_secs(limits.ws_ping_seconds.max(1));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let check_every = Duration::from_secs(limits.ws_session_check_seconds.max(1));
    let mut revocation = tokio::time::interval_at(Instant::now() + check_every, check_every);
    let mut last_heard = Instant::now();
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let closing: Option<Closing> = loop {
        let token_deadline = conn.token_expires.unwrap_or(far);
        let init_wait = if conn.viewer.is_none() {
            init_deadline
        } else {
            far
        };
        tokio::select! {
            message = incoming.next() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        let reply = conn.handle(text.as_str()).await;
                        match reply {
                            Ok(Some(frame)) => {
                                if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                                    break None;
                                }
                            }
                            Ok(None) => {}
                            Err(closing) => break Some(closing),
                        }
                    }
                    Some(Ok(Message::Binary(_))) => break Some((close::BAD_MESSAGE, "binary frames are not used")),
                    Some(Ok(Message::Close(_))) | None => break None,
                    // A frame that cannot be read (too large, broken) is a
                    // bad message; when the peer is simply gone, the close
                    // goes nowhere.
                    Some(Err(_)) => break Some((close::BAD_MESSAGE, "Message too large or malformed")),
                    Some(Ok(_)) => {}
                }
            }
            Some(out) = results.recv() => {
                if let Some(frame) = conn.forward(*out)
                    && sink.send(Message::Text(frame.to_string().into())).await.is_err()
                {
                    break None;
                }
            }
            _ = sleep_until(init_wait) => break Some((close::INIT_TIMEOUT, "Connection initialisation timeout")),
            _ = sleep_until(token_deadline) => break Some((close::FORBIDDEN, "Forbidden: token expired")),
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every * 3 {
                    break None;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            _ = revocation.tick() => {
                if !conn.session_live().await {
                    break Some((close::FORBIDDEN, "Forbidden: signed out"));
                }
            }
        }
    };
    for (_, (_, task)) in conn.running.drain() {
        task.abort();
    }
    if let Some((code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    crate::metrics::ws_closed();
}

/// Closes a socket that did not ask for `graphql-transport-ws`.
pub async fn refuse_protocol(mut socket: WebSocket) {
    let reason = Utf8Bytes::from_static("Subprotocol not acceptable");
    let frame = CloseFrame {
        code: close::PROTOCOL_NOT_ACCEPTABLE,
        reason,
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

impl Conn {
    /// Handles one client message: a frame to send back, nothing, or a
    /// reason to close.
    async fn handle(&mut self, text: &str) -> Result<Option<Value>, Closing> {
        let message: Value = serde_json::from_str(text)
            .map_err(|_| (close::BAD_MESSAGE, "Invalid message received"))?;
        let kind = message["type"].as_str().unwrap_or_default();
        match kind {
            "connection_init" => self.init(&message["payload"]).await,
            "ping" => Ok(Some(pong(&message))),
            "pong" => Ok(None),
            "subscribe" => self.subscribe(&message).await,
            "complete" => {
                let id = message["id"]
                    .as_str()
                    .ok_or((close::BAD_MESSAGE, "Invalid message received"))?;
                if let Some((_, task)) = self.running.remove(id) {
                    task.abort();
                }
                Ok(None)
            }
            _ => Err((close::BAD_MESSAGE, "Invalid message received")),
        }
    }

    async fn init(&mut self, payload: &Value) -> Result<Option<Value>, Closing> {
        if self.viewer.is_some() {
            return Err((close::TOO_MANY_INITS, "Too many initialisation requests"));
        }
        let token = payload["token"]
            .as_str()
            .ok_or((close::FORBIDDEN, "Forbidden"))?;
        let (viewer, expires_at) = match viewer_from_token(&self.state, token).await {
            Ok(Some(found)) => found,
            Ok(None) => return Err((close::FORBIDDEN, "Forbidden")),
            Err(err) => {
                tracing::error!(error = ?err, "the session of a socket could not be read");
                return Err((close::INTERNAL, "Internal server error"));
            }
        };
        // The same leeway as HTTP, so a token is good for as long on both.
        let leeway = Duration::from_secs(self.state.config.limits.jwt_leeway_seconds);
        let left = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        self.token_expires = Some(Instant::now() + left + leeway);
        self.viewer = Some(viewer);
        Ok(Some(json!({ "type": "connection_ack" })))
    }

    async fn subscribe(&mut self, message: &Value) -> Result<Option<Value>, Closing> {
        let Some(viewer) = self.viewer.clone() else {
            return Err((close::UNAUTHORIZED, "Unauthorized"));
        };
        // A signed-out session does nothing more on an open socket.
        if !self.session_live().await {
            return Err((close::FORBIDDEN, "Forbidden: signed out"));
        }
        let id = message["id"]
            .as_str()
            .ok_or((close::BAD_MESSAGE, "Invalid message received"))?
            .to_owned();
        if self.running.contains_key(&id) {
            return Err((close::DUPLICATE_ID, "Subscriber for that id already exists"));
        }
        if self.running.len() >= MAX_SUBSCRIPTIONS {
            let error = json!([{ "message": format!("at most {MAX_SUBSCRIPTIONS} operations at once on one socket"),
                                 "extensions": { "code": "RATE_LIMITED" } }]);
            return Ok(Some(json!({ "type": "error", "id": id, "payload": error })));
        }
        if crate::http::has_nul(&message["payload"]) {
            let error = json!([{ "message": "text may not contain NUL characters", "extensions": { "code": "BAD_USER_INPUT" } }]);
            return Ok(Some(json!({ "type": "error", "id": id, "payload": error })));
        }
        let request: async_graphql::Request = serde_json::from_value(message["payload"].clone())
            .map_err(|_| (close::BAD_MESSAGE, "Invalid message received"))?;
        // The same checks as over HTTP, before any resolver runs.
        let max_aliases = self.state.config.limits.max_aliases;
        if let Err(refused) = crate::http::precheck(&request.query, max_aliases) {
            let error =
                json!([{ "message": refused.message, "extensions": { "code": refused.code } }]);
            return Ok(Some(json!({ "type": "error", "id": id, "payload": error })));
        }
        let request = request.data(viewer).data(self.ip.clone());
        self.generation += 1;
        let generation = self.generation;
        let task = tokio::spawn(run(
            self.schema.clone(),
            request,
            id.clone(),
            generation,
            self.out.clone(),
        ));
        self.running.insert(id, (generation, task.abort_handle()));
        Ok(None)
    }

    /// Turns a task's report into a frame, unless the subscription was
    /// completed meanwhile.
    fn forward(&mut self, out: Out) -> Option<Value> {
        let (id, generation) = match &out {
            Out::Next { id, generation, .. }
            | Out::Error { id, generation, .. }
            | Out::Complete { id, generation } => (id.clone(), *generation),
        };
        if self.running.get(&id).map(|(g, _)| *g) != Some(generation) {
            return None;
        }
        match out {
            Out::Next { payload, .. } => {
                Some(json!({ "type": "next", "id": id, "payload": payload }))
            }
            Out::Error { payload, .. } => {
                self.running.remove(&id);
                Some(json!({ "type": "error", "id": id, "payload": payload }))
            }
            Out::Complete { .. } => {
                self.running.remove(&id);
                Some(json!({ "type": "complete", "id": id }))
            }
        }
    }

    async fn session_live(&self) -> bool {
        match &self.viewer {
            Some(v) => self
                .state
                .store
                .session_is_live(v.session_id)
                .await
                .unwrap_or(true),
            None => true,
        }
    }
}

/// Drives one operation. A first response that carries only errors is
/// the protocol's `error` message; otherwise responses are `next`.
async fn run(
    schema: ScrmSchema,
    request: async_graphql::Request,
    id: String,
    generation: u64,
    out: mpsc::Sender<Box<Out>>,
) {
    let mut stream = schema.execute_stream(request);
    let mut first = true;
    while let Some(response) = stream.next().await {
        let response = coded(response);
        let failed =
            first && response.data == async_graphql::Value::Null && !response.errors.is_empty();
        first = false;
        if failed {
            let payload = serde_json::to_value(&response.errors).unwrap_or_default();
            let _ = out
                .send(Box::new(Out::Error {
                    id,
                    generation,
                    payload,
                }))
                .await;
            return;
        }
        let payload = serde_json::to_value(response).unwrap_or_default();
        if out
            .send(Box::new(Out::Next {
                id: id.clone(),
                generation,
                payload,
            }))
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = out.send(Box::new(Out::Complete { id, generation })).await;
}

fn coded(response: Response) -> Response {
    crate::http::with_codes(response)
}

fn pong(message: &Value) -> Value {
    match message.get("payload") {
        Some(payload) => json!({ "type": "pong", "payload": payload }),
        None => json!({ "type": "pong" }),
    }
}
