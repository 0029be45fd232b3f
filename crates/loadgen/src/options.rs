//! What a run measures against: the store, the scale, and where the
//! services and binaries are. Every size a scenario uses comes from
//! [`Sizes`], so `small` and `full` differ in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// A SQLite file and the in-process bus.
    Sqlite,
    /// PostgreSQL, with the bus on Redis.
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scale {
    /// The quick correctness pass CI runs (about a minute).
    Small,
    /// The sizes the goals are stated for.
    Full,
}

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    #[arg(long, value_enum, default_value_t = Scale::Small)]
    pub scale: Scale,

    /// PostgreSQL server for `--store postgres`; each run creates and
    /// drops its own `scrm_bench_*` databases there.
    #[arg(
        long,
        env = "SCRM_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub pg_url: String,

    /// Redis for the postgres store and the fan-out baseline; absent: a
    /// `redis-server` of this run's own on a free port.
    #[arg(long, env = "SCRM_BENCH_REDIS_URL")]
    pub redis_url: Option<String>,

    /// The `scrm` binary run as a child process; absent: the one built
    /// beside this binary.
    #[arg(long)]
    pub scrm_bin: Option<PathBuf>,

    /// The roster imported into the school.
    #[arg(long, default_value = default_roster())]
    pub roster: PathBuf,

    /// Also writes the table as Markdown to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

fn default_roster() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/roster-sample.csv"
    )
}

/// One fan-out measurement: subscribers on one thread, server instances
/// they spread over, and messages sent at a constant rate.
#[derive(Debug, Clone, Copy)]
pub struct Fanout {
    pub subscribers: usize,
    pub instances: usize,
    pub rate: f64,
    pub messages: u64,
}

/// Every size a scenario uses.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Families whose first guardian activates an account.
    pub families: usize,
    /// Announcements in every parent's feed.
    pub announcements: usize,
    /// Discarded before each throughput measurement.
    pub warmup: Duration,
    /// One throughput measurement.
    pub phase: Duration,
    /// Load offered at a constant rate to read latency.
    pub latency_phase: Duration,
    /// Concurrent clients in throughput measurements.
    pub workers: usize,
    pub fanouts: Vec<Fanout>,
    pub idle_sockets: usize,
    /// Pending payments made for each side of the webhook scenario.
    pub payments: usize,
    /// The year of activity the report scenario seeds.
    pub activity: Activity,
}

/// A school year of activity, written straight into the store, that the
/// service report is then asked about.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Families with an activated account, counting those the school's
    /// seeding activated; the rest stay pending.
    pub activated: usize,
    pub announcements: usize,
    pub support_requests: usize,
    /// The latest months billed: one invoice per child of an activated
    /// family each month.
    pub billed_months: u32,
    /// Chance that an activated guardian rates a given service in a month.
    pub rating_chance: f64,
    /// Times each report (the year, one month) is asked and timed.
    pub queries: usize,
}

impl Scale {
    pub fn sizes(self, store: StoreKind) -> Sizes {
        // Two instances only make sense when they share a bus.
        let instances = if store == StoreKind::Postgres { 2 } else { 1 };
        match self {
            Scale::Small => Sizes {
                families: 120,
                announcements: 24,
                warmup: Duration::from_millis(300),
                phase: Duration::from_millis(1_500),
                latency_phase: Duration::from_secs(1),
                workers: 16,
                fanouts: vec![
                    Fanout {
                        subscribers: 100,
                        instances: 1,
                        rate: 10.0,
                        messages: 20,
                    },
                    Fanout {
                        subscribers: 200,
                        instances,
                        rate: 5.0,
                        messages: 10,
                    },
                ],
                idle_sockets: 500,
                payments: 300,
                activity: Activity {
                    activated: 200,
                    announcements: 24,
                    support_requests: 150,
                    billed_months: 3,
                    rating_chance: 0.04,
                    queries: 5,
                },
            },
            Scale::Full => Sizes {
                families: usize::MAX,
                announcements: 24,
                warmup: Duration::from_secs(1),
                phase: Duration::from_secs(8),
                latency_phase: Duration::from_secs(5),
                workers: 16,
                fanouts: vec![
                    Fanout {
                        subscribers: 100,
                        instances: 1,
                        rate: 10.0,
                        messages: 100,
                    },
                    Fanout {
                        subscribers: 1_000,
                        instances,
                        rate: 2.0,
                        messages: 30,
                    },
                ],
                idle_sockets: 10_000,
                payments: 6_000,
                activity: Activity {
                    activated: usize::MAX,
                    announcements: 320,
                    support_requests: 2_000,
                    billed_months: 12,
                    rating_chance: 0.075,
                    queries: 20,
                },
            },
        }
    }
}
