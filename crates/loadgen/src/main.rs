//! `scrm-load`: drives scrm over HTTP and `graphql-transport-ws` as its
//! apps do, sets each figure beside a baseline measured in the same run,
//! and fails when anything sent is lost, doubled or refused. Why it is a
//! crate of its own: see README.md beside this folder.

mod client;
mod drive;
mod echo;
mod listen;
mod options;
mod process;
mod report;
mod scenarios;
mod school;
mod stack;
mod stats;
mod ws;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::options::Options;
use crate::scenarios::Scenario;

#[derive(Parser)]
#[command(
    name = "scrm-load",
    about = "Benchmarks of scrm beside their baselines, checked for lost and doubled work"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario, in one table.
    All(Options),
    /// 1: `{ __typename }` over HTTP against a bare axum handler.
    Typename(Options),
    /// 2: parents reading the first page of their feed.
    Feed(Options),
    /// 3: parents sending messages in a class thread.
    Send(Options),
    /// 4: send-to-receive latency with many subscribers on one thread.
    Fanout(Options),
    /// 5: server memory per idle subscription socket.
    Idle(Options),
    /// 6: signed payment notifications verified and applied.
    Webhooks(Options),
    /// 7: the roster import from the command line: time and peak memory.
    Import(Options),
    /// 8: the service report over a year of activity seeded in the store.
    Report(Options),
    /// The bare WebSocket echo server that `idle` runs as its baseline.
    #[command(hide = true)]
    EchoServer,
}

fn main() -> ExitCode {
    let (opts, chosen) = match Cli::parse().command {
        Command::EchoServer => return exit(echo::run()),
        Command::All(o) => (o, Scenario::ALL.to_vec()),
        Command::Typename(o) => (o, vec![Scenario::Typename]),
        Command::Feed(o) => (o, vec![Scenario::Feed]),
        Command::Send(o) => (o, vec![Scenario::Send]),
        Command::Fanout(o) => (o, vec![Scenario::Fanout]),
        Command::Idle(o) => (o, vec![Scenario::Idle]),
        Command::Webhooks(o) => (o, vec![Scenario::Webhooks]),
        Command::Import(o) => (o, vec![Scenario::Import]),
        Command::Report(o) => (o, vec![Scenario::Report]),
    };
    init_logs();
    exit(measure(&opts, &chosen))
}

/// Runs the scenarios with the servers and the load on runtimes of
/// their own; prints the table and fails if any scenario failed.
fn measure(opts: &Options, chosen: &[Scenario]) -> anyhow::Result<()> {
    let servers = runtime("scrm-server")?;
    let load = runtime("scrm-load")?;
    let outcome = load.block_on(scenarios::run(opts, chosen, servers.handle().clone()));
    drop(load);
    servers.shutdown_timeout(Duration::from_secs(5));
    let (report, redis) = outcome?;
    drop(redis);
    print!("{}", report.text());
    if let Some(path) = &opts.markdown {
        std::fs::write(path, report.markdown())?;
    }
    anyhow::ensure!(!report.failed(), "a scenario failed");
    Ok(())
}

/// Two workers each: the machine's cores, as `scrm serve` would take.
fn runtime(name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()?)
}

fn exit(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The in-process servers' own warnings, on stderr.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error,sea_orm=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
