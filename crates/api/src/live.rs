//! Helpers for subscription streams.

use futures_util::Stream;

/// A stream fed by a future that sends into a channel; the future stops
/// when the stream is dropped (the subscription ends).
pub fn spawn_stream<T, F, Fut>(body: F) -> impl Stream<Item = T>
where
    T: Send + 'static,
    F: FnOnce(Emitter<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(body(Emitter(tx)));
    AbortOnDrop { rx, task }
}

/// The sending end of a [`spawn_stream`]. Items travel boxed: the
/// channel allocates its first block of slots up front, and an idle
/// subscription should hold pointers there, not whole items.
pub struct Emitter<T>(tokio::sync::mpsc::Sender<Box<T>>);

/// The stream was dropped: the subscription has ended.
#[derive(Debug)]
pub struct Gone;

impl<T> Emitter<T> {
    pub async fn send(&self, item: T) -> Result<(), Gone> {
        self.0.send(Box::new(item)).await.map_err(|_| Gone)
    }
}

struct AbortOnDrop<T> {
    rx: tokio::sync::mpsc::Receiver<Box<T>>,
    task: tokio::task::JoinHandle<()>,
}

impl<T> Stream for AbortOnDrop<T> {
    type Item = T;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.rx.poll_recv(cx).map(|item| item.map(|boxed| *boxed))
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The events of one `kind` on the viewer's own topic, each turned into
/// an item by `load`; events it cannot load (gone, not visible) are
/// skipped. The bus subscription is live before this returns.
pub async fn user_events<T, F, Fut>(
    state: crate::state::AppState,
    user: uuid::Uuid,
    kind: &'static str,
    load: F,
) -> impl Stream<Item = T>
where
    T: Send + 'static,
    F: Fn(crate::state::AppState, std::sync::Arc<serde_json::Value>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<T>> + Send,
{
    let mut sub = state.bus.subscribe(&crate::jobs::user_topic(user));
    sub.ready().await;
    spawn_stream(move |tx| async move {
        while let Some(delivery) = sub.recv().await {
            let crate::bus::Delivery::Event(event) = delivery else {
                continue;
            };
            if event["kind"] != kind {
                continue;
            }
            if let Some(item) = load(state.clone(), event).await
                && tx.send(item).await.is_err()
            {
                break;
            }
        }
    })
}

/// The UUID in field `key` of an event.
pub fn id_in(event: &serde_json::Value, key: &str) -> Option<uuid::Uuid> {
    event[key].as_str().and_then(|s| s.parse().ok())
}
