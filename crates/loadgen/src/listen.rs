//! Subscribers in the background. Each reads its socket until it is
//! told how many events to expect, then keeps reading a little longer so
//! that an event delivered twice is seen rather than missed. An `error`
//! or `complete` for its subscription, or a closed socket, fails it.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ws::{Frame, Socket};

/// How long a listener reads on after its expected count, for extras.
const GRACE: Duration = Duration::from_millis(300);

/// Far enough to mean "until told otherwise".
const UNTIL_TOLD: Duration = Duration::from_secs(3_600);

/// One event and the instant it was read.
#[derive(Debug)]
pub struct Received {
    pub at: Instant,
    pub data: Value,
}

pub struct Listener {
    expected: watch::Sender<Option<(usize, Duration)>>,
    task: JoinHandle<Result<Vec<Received>>>,
}

impl Listener {
    /// Reads the `next` frames of subscription `id` on `socket`.
    pub fn start(socket: Socket, id: &str) -> Listener {
        let (expected, told) = watch::channel(None);
        let task = tokio::spawn(listen(socket, id.to_owned(), told));
        Listener { expected, task }
    }

    /// Tells the listener to stop once `count` events came, or when
    /// `wait` has passed.
    pub fn expect(&self, count: usize, wait: Duration) {
        let _ = self.expected.send(Some((count, wait)));
    }

    /// What the listener received, once it stopped.
    pub async fn results(self) -> Result<Vec<Received>> {
        self.task.await?
    }
}

/// Expects `count` on every listener at once, then gathers them all.
pub async fn gather(
    listeners: Vec<Listener>,
    count: usize,
    wait: Duration,
) -> Result<Vec<Vec<Received>>> {
    for l in &listeners {
        l.expect(count, wait);
    }
    let all = futures_util::future::join_all(listeners.into_iter().map(Listener::results));
    all.await.into_iter().collect()
}

async fn listen(
    mut socket: Socket,
    id: String,
    mut told: watch::Receiver<Option<(usize, Duration)>>,
) -> Result<Vec<Received>> {
    let mut got = vec![];
    let mut deadline: Option<Instant> = None;
    loop {
        let mut read_for = UNTIL_TOLD;
        let target = *told.borrow_and_update();
        if let Some((count, wait)) = target {
            let until = *deadline.get_or_insert_with(|| Instant::now() + wait);
            if got.len() >= count {
                drain(&mut socket, &id, &mut got).await?;
                break;
            }
            read_for = until.saturating_duration_since(Instant::now());
            if read_for.is_zero() {
                break;
            }
        }
        tokio::select! {
            frame = socket.next(read_for) => {
                if let Some(frame) = frame? {
                    keep(frame, &id, &mut got)?;
                }
            }
            changed = told.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    socket.close().await;
    Ok(got)
}

/// Reads what else arrives within the grace period.
async fn drain(socket: &mut Socket, id: &str, got: &mut Vec<Received>) -> Result<()> {
    let until = Instant::now() + GRACE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        match socket.next(left).await? {
            Some(frame) => keep(frame, id, got)?,
            None => return Ok(()),
        }
    }
}

fn keep(frame: Frame, id: &str, got: &mut Vec<Received>) -> Result<()> {
    match frame {
        Frame::Next { id: of, data, at } if of == id => got.push(Received { at, data }),
        Frame::Text(text) => got.push(Received {
            at: Instant::now(),
            data: Value::String(text),
        }),
        Frame::Other(m) if matches!(m["type"].as_str(), Some("ping" | "pong")) => {}
        Frame::Next { .. } => {}
        Frame::Other(m) => bail!("subscription {id} got {m}"),
        Frame::Closed => bail!("the socket of subscription {id} closed"),
    }
    Ok(())
}
