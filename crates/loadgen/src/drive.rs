//! The two ways load is offered. A closed loop keeps a fixed number of
//! clients busy back to back and finds the most the server sustains. An
//! open loop starts operations on a fixed schedule whatever the answers,
//! so a server that falls behind shows its queueing delay in the
//! latencies (each is taken from the scheduled start) instead of hiding
//! it by slowing its clients down.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::task::JoinSet;

use crate::stats::Latencies;

/// Past this many operations in flight an open loop gives up: the
/// server is not keeping up with the rate at all.
const MAX_IN_FLIGHT: usize = 4_096;

/// How long the last operations may run after the schedule ends.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

pub struct Throughput {
    pub ops: u64,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `op(i)` from `workers` tasks back to back until `time` is up or
/// `max_ops` have started. The first error stops the run.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    time: Duration,
    max_ops: u64,
    op: F,
) -> Result<Throughput>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..workers.max(1) {
        let (op, next) = (Arc::clone(&op), Arc::clone(&next));
        tasks.spawn(async move {
            let mut done = 0;
            while start.elapsed() < time {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max_ops {
                    break;
                }
                op(i).await.with_context(|| format!("operation {i}"))?;
                done += 1;
            }
            anyhow::Ok(done)
        });
    }
    let ops = tokio::time::timeout(time + DRAIN_LIMIT, count(&mut tasks))
        .await
        .context("operations still running a minute after the run ended")??;
    Ok(Throughput {
        ops,
        elapsed: start.elapsed(),
    })
}

/// Starts `count` operations at `rate` per second; `op(i, scheduled)`
/// gets the instant it was due. Latencies run from that instant.
pub async fn open_loop<F, Fut>(rate: f64, count: u64, op: F) -> Result<Latencies>
where
    F: Fn(u64, Instant) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    let mut latencies = Latencies::default();
    for i in 0..count {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        while let Some(done) = tasks.try_join_next() {
            latencies.push(done??);
        }
        if tasks.len() >= MAX_IN_FLIGHT {
            bail!("{MAX_IN_FLIGHT} operations in flight: the server is far behind {rate}/s");
        }
        let work = op(i, due);
        tasks.spawn(async move {
            work.await.with_context(|| format!("operation {i}"))?;
            anyhow::Ok(due.elapsed())
        });
    }
    let rest = tokio::time::timeout(DRAIN_LIMIT, async {
        while let Some(done) = tasks.join_next().await {
            latencies.push(done??);
        }
        anyhow::Ok(())
    });
    rest.await
        .context("operations still running a minute after the last was offered")??;
    Ok(latencies)
}

async fn count(tasks: &mut JoinSet<Result<u64>>) -> Result<u64> {
    let mut all = 0;
    while let Some(done) = tasks.join_next().await {
        all += done??;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_loop_stops_at_its_count() {
        let run = closed_loop(4, Duration::from_secs(5), 40, |_| async { Ok(()) })
            .await
            .unwrap();
        assert_eq!(run.ops, 40);
    }

    #[tokio::test]
    async fn an_open_loop_keeps_its_schedule_and_reports_failures() {
        let started = Instant::now();
        let l = open_loop(100.0, 10, |_, _| async { Ok(()) }).await.unwrap();
        assert_eq!(l.len(), 10);
        assert!(started.elapsed() >= Duration::from_millis(90));
        let failed = open_loop(100.0, 3, |i, _| async move {
            anyhow::ensure!(i != 1, "lost");
            Ok(())
        })
        .await;
        assert!(failed.is_err());
    }
}
