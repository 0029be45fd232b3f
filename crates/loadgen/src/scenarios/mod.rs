//! The scenarios and what they share: one stack, one scrm instance
//! (more where a scenario needs them), one seeded school, and the way a
//! throughput is measured beside its baseline.

mod fanout;
mod feed;
mod idle;
mod import;
mod report;
mod send;
mod typename;
mod webhooks;

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::ValueEnum;
use tokio::runtime::Handle;

use crate::client::{Api, http_client};
use crate::drive::{Throughput, closed_loop, open_loop};
use crate::options::{Options, Sizes};
use crate::report::Report;
use crate::school::School;
use crate::stack::{OwnRedis, Server, Stack};
use crate::stats::Latencies;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Typename,
    Feed,
    Send,
    Fanout,
    Idle,
    Webhooks,
    Import,
    Report,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Typename,
        Scenario::Feed,
        Scenario::Send,
        Scenario::Fanout,
        Scenario::Idle,
        Scenario::Webhooks,
        Scenario::Import,
        Scenario::Report,
    ];

    fn needs_school(self) -> bool {
        !matches!(self, Scenario::Typename | Scenario::Import)
    }

    fn label(self) -> &'static str {
        match self {
            Scenario::Typename => "1 typename",
            Scenario::Feed => "2 feed",
            Scenario::Send => "3 send",
            Scenario::Fanout => "4 fan-out",
            Scenario::Idle => "5 idle sockets",
            Scenario::Webhooks => "6 webhooks",
            Scenario::Import => "7 import",
            Scenario::Report => "8 report",
        }
    }
}

/// Publishes an announcement, as the admin panel does.
pub const PUBLISH: &str = "mutation($input: PublishAnnouncementInput!) {
  publishAnnouncement(input: $input) { id } }";

/// What every scenario works with.
pub struct Bench<'a> {
    pub opts: &'a Options,
    pub sizes: Sizes,
    pub stack: &'a Stack,
    pub main: Server,
    pub api: Api,
    pub http: reqwest::Client,
    school: Option<School>,
}

impl Bench<'_> {
    pub fn school(&self) -> Result<&School> {
        self.school
            .as_ref()
            .context("this scenario needs the school")
    }

    pub fn api_at(&self, addr: std::net::SocketAddr) -> Api {
        Api::new(self.http.clone(), addr)
    }
}

/// Runs the chosen scenarios on a stack made for them, and removes it;
/// gives back the run's Redis server, to stop after the servers.
pub async fn run(
    opts: &Options,
    chosen: &[Scenario],
    runtime: Handle,
) -> Result<(Report, Option<OwnRedis>)> {
    let stack = Stack::up(opts, runtime).await?;
    let mut report = Report::new(title(opts));
    let outcome = run_on(opts, &stack, chosen, &mut report).await;
    let redis = stack.down().await;
    outcome.map(|()| (report, redis))
}

async fn run_on(
    opts: &Options,
    stack: &Stack,
    chosen: &[Scenario],
    report: &mut Report,
) -> Result<()> {
    let main = stack.spawn_scrm().await?;
    let http = http_client()?;
    let api = Api::new(http.clone(), main.addr());
    let sizes = opts.scale.sizes(opts.store);
    let school = if chosen.iter().any(|s| s.needs_school()) {
        println!("seeding: the roster, then families activated");
        Some(School::seed(&main, &api, &opts.roster, sizes.families).await?)
    } else {
        None
    };
    let bench = Bench {
        opts,
        sizes,
        stack,
        main,
        api,
        http,
        school,
    };
    for scenario in chosen {
        println!("{}", scenario.label());
        let outcome = match scenario {
            Scenario::Typename => typename::run(&bench, report).await,
            Scenario::Feed => feed::run(&bench, report).await,
            Scenario::Send => send::run(&bench, report).await,
            Scenario::Fanout => fanout::run(&bench, report).await,
            Scenario::Idle => idle::run(&bench, report).await,
            Scenario::Webhooks => webhooks::run(&bench, report).await,
            Scenario::Import => import::run(&bench, report).await,
            Scenario::Report => report::run(&bench, report).await,
        };
        if let Err(err) = outcome {
            report.fail(scenario.label(), &err);
        }
    }
    bench.main.running.stop().await;
    Ok(())
}

fn title(opts: &Options) -> String {
    format!(
        "scrm-load --store {:?} --scale {:?} ({})",
        opts.store,
        opts.scale,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
    .to_lowercase()
}

/// One side of a comparison: the most it sustains, the latencies at a
/// constant rate, and the statements each operation cost.
pub struct Side {
    pub throughput: Throughput,
    pub statements: f64,
}

/// A warm-up, then the most `op` sustains from the bench's workers;
/// `statements` reads a counter whose growth per operation is reported.
pub async fn sustained<F, Fut>(sizes: &Sizes, statements: impl Fn() -> u64, op: F) -> Result<Side>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    closed_loop(sizes.workers, sizes.warmup, u64::MAX, op.clone()).await?;
    let before = statements();
    let throughput = closed_loop(sizes.workers, sizes.phase, u64::MAX, op).await?;
    let spent = statements().saturating_sub(before);
    Ok(Side {
        statements: spent as f64 / throughput.ops.max(1) as f64,
        throughput,
    })
}

/// Offers `op` at `rate` for the latency phase.
pub async fn at_rate<F, Fut>(sizes: &Sizes, rate: f64, op: F) -> Result<Latencies>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let count = (rate * sizes.latency_phase.as_secs_f64()).ceil().max(1.0) as u64;
    open_loop(rate, count, |i, _| op(i)).await
}

/// The note under a comparison: statements per operation, and the
/// latencies of both sides at one constant offered rate.
pub fn comparison_note(
    rate: f64,
    (scrm, scrm_lat): (&Side, &mut Latencies),
    (base, base_lat): (&Side, &mut Latencies),
) -> String {
    format!(
        "{:.1} statements per operation (baseline {:.1}); at a constant {rate:.0}/s: \
         scrm {}; baseline {}",
        scrm.statements,
        base.statements,
        scrm_lat.summary(),
        base_lat.summary()
    )
}

/// How long a subscriber may take to receive everything sent to it.
pub const DELIVERY_LIMIT: Duration = Duration::from_secs(60);

/// A posted message as one subscriber received it.
pub struct Posted {
    pub seq: i64,
    pub client_id: String,
    pub at: std::time::Instant,
}

/// Checks that a subscriber of `threadEvents` received exactly the seqs
/// `first + 1 ..= first + count`, each once and in order.
pub fn posted_once_in_order(
    got: Vec<crate::listen::Received>,
    first: i64,
    count: u64,
) -> Result<Vec<Posted>> {
    let posted: Vec<Posted> = got
        .into_iter()
        .filter(|r| r.data["threadEvents"]["kind"] == "MESSAGE_POSTED")
        .map(|r| {
            let event = &r.data["threadEvents"];
            Posted {
                seq: event["seq"].as_i64().unwrap_or(-1),
                client_id: event["message"]["clientId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                at: r.at,
            }
        })
        .collect();
    let seqs: Vec<i64> = posted.iter().map(|p| p.seq).collect();
    let expected: Vec<i64> = (first + 1..=first + count as i64).collect();
    anyhow::ensure!(seqs == expected, "{}", mismatch(&seqs, &expected));
    Ok(posted)
}

/// What went wrong between what came and what was sent.
fn mismatch(seqs: &[i64], expected: &[i64]) -> String {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    let doubled: Vec<i64> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    let missing: Vec<i64> = expected
        .iter()
        .filter(|s| sorted.binary_search(s).is_err())
        .copied()
        .collect();
    format!(
        "received {} of {} events: missing {:?}, doubled {:?}, in order: {}",
        seqs.len(),
        expected.len(),
        &missing[..missing.len().min(10)],
        &doubled[..doubled.len().min(10)],
        seqs.windows(2).all(|w| w[0] < w[1])
    )
}
