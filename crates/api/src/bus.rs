//! The live-update bus. It only wakes subscribers up: every event names
//! something already committed to the database, which stays the source of
//! truth. When a subscriber may have missed events (it lagged, or the
//! bus reconnected), it is told to [`Delivery::Resync`] and re-reads.
//!
//! Two implementations share one local fan-out ([`Hub`]): in-process
//! broadcast for a single instance, and Redis pub/sub for many, with one
//! Redis subscription connection per instance whatever the number of
//! WebSockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<Value>),
    /// Events may have been missed: re-read from the database.
    Resync,
}

pub trait Bus: Send + Sync + 'static {
    /// Publishes after the change is committed. Failure is logged by the
    /// caller and never undoes the change.
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Publishes one payload to many topics at once.
    fn publish_many<'a>(
        &'a self,
        topics: &'a [String],
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    fn subscribe(&self, topic: &str) -> Subscription;

    /// How many local subscribers a topic has (for tests and metrics).
    fn local_subscribers(&self, topic: &str) -> usize;
}

/// Per-topic capacity; a subscriber further behind than this resyncs.
const CAPACITY: usize = 64;

/// One topic's channel, and whether the bus delivers it yet (Redis
/// confirms a SUBSCRIBE only after a round trip).
struct Topic {
    sender: broadcast::Sender<Delivery>,
    ready: watch::Sender<bool>,
}

/// The local fan-out: a broadcast channel per topic with subscribers.
#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<String, Topic>>,
    /// Told when a topic gains its first or loses its last subscriber.
    watcher: Option<mpsc::UnboundedSender<Watch>>,
}

#[derive(Debug)]
enum Watch {
    First(String),
    Last(String),
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Topic>> {
        self.topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn deliver(&self, topic: &str, delivery: Delivery) {
        if let Some(t) = self.lock().get(topic) {
            let _ = t.sender.send(delivery);
        }
    }

    fn resync_all(&self) {
        for t in self.lock().values() {
            let _ = t.sender.send(Delivery::Resync);
        }
    }

    fn topic_names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn subscribe(self: &Arc<Self>, topic: &str) -> Subscription {
        let mut topics = self.lock();
        let (rx, ready) = match topics.get(topic) {
            Some(t) => (t.sender.subscribe(), t.ready.subscribe()),
            None => {
                let (sender, rx) = broadcast::channel(CAPACITY);
                let (ready, ready_rx) = watch::channel(self.watcher.is_none());
                topics.insert(topic.to_owned(), Topic { sender, ready });
                if let Some(w) = &self.watcher {
                    let _ = w.send(Watch::First(topic.to_owned()));
                }
                (rx, ready_rx)
            }
        };
        Subscription {
            rx,
            ready,
            hub: Arc::clone(self),
            topic: topic.to_owned(),
        }
    }

    fn mark_ready(&self, topic: &str) {
        if let Some(t) = self.lock().get(topic) {
            t.ready.send_replace(true);
        }
    }

    fn count(&self, topic: &str) -> usize {
        self.lock()
            .get(topic)
            .map_or(0, |t| t.sender.receiver_count())
    }
}

/// A live subscription to one topic; dropping it unsubscribes.
pub struct Subscription {
    rx: broadcast::Receiver<Delivery>,
    ready: watch::Receiver<bool>,
    hub: Arc<Hub>,
    topic: String,
}

impl Subscription {
    /// Waits until the bus delivers this topic, so that a replay from the
    /// database started afterwards cannot miss an event. Gives up after a
    /// few seconds (Redis down): the subscriber resyncs on reconnect.
    pub async fn ready(&mut self) {
        let wait = self.ready.wait_for(|ready| *ready);
        let _ = tokio::time::timeout(Duration::from_secs(3), wait).await;
    }

    /// The next delivery; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Delivery> {
        match self.rx.recv().await {
            Ok(d) => Some(d),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Delivery::Resync),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut topics = self.hub.lock();
        // Our own receiver still counts while this runs.
        if topics
            .get(&self.topic)
            .is_some_and(|t| t.sender.receiver_count() <= 1)
        {
            topics.remove(&self.topic);
            if let Some(w) = &self.hub.watcher {
                let _ = w.send(Watch::Last(self.topic.clone()));
            }
        }
    }
}

/// The single-instance bus.
#[derive(Default)]
pub struct InProcessBus {
    hub: Arc<Hub>,
}

impl Bus for InProcessBus {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        self.hub
            .deliver(topic, Delivery::Event(Arc::new(payload.clone())));
        Box::pin(async { Ok(()) })
    }

    fn publish_many<'a>(
        &'a self,
        topics: &'a [String],
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        let shared = Arc::new(payload.clone());
        for topic in topics {
            self.hub
                .deliver(topic, Delivery::Event(Arc::clone(&shared)));
        }
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, topic: &str) -> Subscription {
        self.hub.subscribe(topic)
    }

    fn local_subscribers(&self, topic: &str) -> usize {
        self.hub.count(topic)
    }
}

/// Redis pub/sub between instances.
pub struct RedisBus {
    hub: Arc<Hub>,
    publisher: redis::aio::ConnectionManager,
}

impl RedisBus {
    /// Connects the publisher and starts the one subscriber connection,
    /// which reconnects by itself with bounded backoff.
    pub async fn connect(url: &str) -> anyhow::Result<RedisBus> {
        let client = redis::Client::open(url)?;
        let publisher = client.get_connection_manager().await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let hub = Arc::new(Hub {
            topics: Mutex::default(),
            watcher: Some(tx),
        });
        tokio::spawn(listen(client, Arc::clone(&hub), rx));
        Ok(RedisBus { hub, publisher })
    }
}

impl Bus for RedisBus {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let mut conn = self.publisher.clone();
            let _: i64 = redis::cmd("PUBLISH")
                .arg(topic)
                .arg(payload.to_string())
                .query_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn publish_many<'a>(
        &'a self,
        topics: &'a [String],
        payload: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let text = payload.to_string();
            let mut conn = self.publisher.clone();
            for chunk in topics.chunks(500) {
                let mut pipe = redis::pipe();
                for topic in chunk {
                    pipe.cmd("PUBLISH").arg(topic).arg(&text).ignore();
                }
                let () = pipe.query_async(&mut conn).await?;
            }
            Ok(())
        })
    }

    fn subscribe(&self, topic: &str) -> Subscription {
        self.hub.subscribe(topic)
    }

    fn local_subscribers(&self, topic: &str) -> usize {
        self.hub.count(topic)
    }
}

/// Keeps the subscriber connection alive: (re)subscribes to every topic
/// that has local subscribers, forwards messages to the hub, and after
/// a reconnect tells every subscriber to resync.
async fn listen(client: redis::Client, hub: Arc<Hub>, mut watch: mpsc::UnboundedReceiver<Watch>) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        match client.get_async_pubsub().await {
            Ok(pubsub) => {
                let (mut sink, mut stream) = pubsub.split();
                let mut ok = true;
                for topic in hub.topic_names() {
                    ok &= sink.subscribe(&topic).await.is_ok();
                    hub.mark_ready(&topic);
                }
                if ok {
                    backoff = Duration::from_millis(100);
                    if !first {
                        tracing::info!("redis bus reconnected; subscribers resync");
                        hub.resync_all();
                    }
                    first = false;
                    if !pump(&hub, &mut sink, &mut stream, &mut watch).await {
                        return;
                    }
                }
                tracing::warn!("redis bus lost its connection; reconnecting");
            }
            Err(err) => tracing::warn!(error = %err, "redis bus cannot connect; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Runs until the connection drops (true) or the bus is gone (false).
async fn pump(
    hub: &Hub,
    sink: &mut redis::aio::PubSubSink,
    stream: &mut redis::aio::PubSubStream,
    watch: &mut mpsc::UnboundedReceiver<Watch>,
) -> bool {
    loop {
        tokio::select! {
            change = watch.recv() => {
                let result = match change {
                    Some(Watch::First(topic)) => {
                        let done = sink.subscribe(&topic).await;
                        hub.mark_ready(&topic);
                        done
                    }
                    Some(Watch::Last(topic)) => sink.unsubscribe(&topic).await,
                    None => return false,
                };
                if result.is_err() {
                    return true;
                }
            }
            message = stream.next() => {
                let Some(message) = message else { return true };
                let topic = message.get_channel_name().to_owned();
                let Ok(text) = message.get_payload::<String>() else { continue };
                if let Ok(value) = serde_json::from_str::<Value>(&text) {
                    hub.deliver(&topic, Delivery::Event(Arc::new(value)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_subscription_leaves_no_topic_behind() {
        let bus = InProcessBus::default();
        let mut sub = bus.subscribe("user:1");
        bus.publish("user:1", &serde_json::json!({"n": 1}))
            .await
            .unwrap();
        assert!(matches!(sub.recv().await, Some(Delivery::Event(v)) if v["n"] == 1));
        assert_eq!(bus.local_subscribers("user:1"), 1);
        drop(sub);
        assert_eq!(bus.local_subscribers("user:1"), 0);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_to_resync() {
        let bus = InProcessBus::default();
        let mut sub = bus.subscribe("t");
        for n in 0..CAPACITY + 10 {
            bus.publish("t", &serde_json::json!({ "n": n }))
                .await
                .unwrap();
        }
        assert!(matches!(sub.recv().await, Some(Delivery::Resync)));
    }
}
