//! Configuration: every setting is an environment variable and a flag of
//! `scrm serve`, with a default that is safe on a developer's machine.

use std::time::Duration;

use chrono_tz::Tz;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Where the data lives: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://scrm.db?mode=rwc"
    )]
    pub database_url: String,

    /// Redis for live updates between instances; absent: in-process bus.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: String,

    /// Signs access tokens; required unless `--demo`.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// The school's time zone, for days, due dates and office hours.
    #[arg(long, env = "SCHOOL_TIMEZONE", default_value = "Asia/Jakarta")]
    pub school_timezone: Tz,

    /// `pretty` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,

    /// Development mode turns on GraphiQL, introspection and suggestions.
    #[arg(long, env = "SCRM_DEV", default_value_t = false)]
    pub dev: bool,

    /// The server key that signs Midtrans payment notifications; without
    /// it, every notification is refused.
    #[arg(long, env = "MIDTRANS_SERVER_KEY", hide_env_values = true)]
    pub midtrans_server_key: Option<String>,

    /// Where parents transfer money for the bank-transfer provider.
    #[arg(
        long,
        env = "SCHOOL_BANK_ACCOUNT",
        default_value = "BCA 000-000-0000 a.n. Sekolah"
    )]
    pub school_bank_account: String,

    /// How often scheduled work (announcements, office-hour notices) runs.
    #[arg(long, env = "SCHEDULER_INTERVAL_MS", default_value_t = 2_000)]
    pub scheduler_interval_ms: u64,

    /// School policy: may students open private threads with students?
    #[arg(long, env = "STUDENTS_MAY_MESSAGE_STUDENTS", default_value_t = false)]
    pub students_may_message_students: bool,

    /// School policy: may parents open private threads with other parents?
    #[arg(long, env = "PARENTS_MAY_MESSAGE_PARENTS", default_value_t = true)]
    pub parents_may_message_parents: bool,

    #[command(flatten)]
    pub limits: Limits,
}

/// Limits that protect the server from oversized or abusive requests.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    #[arg(long, env = "ACCESS_TOKEN_MINUTES", default_value_t = 15)]
    pub access_token_minutes: i64,
    #[arg(long, env = "REFRESH_TOKEN_DAYS", default_value_t = 30)]
    pub refresh_token_days: i64,
    /// A refresh token used again within this many seconds is taken for
    /// two racing requests of one app and refused without signing out.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECONDS", default_value_t = 10)]
    pub refresh_reuse_grace_seconds: i64,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECONDS", default_value_t = 0)]
    pub jwt_leeway_seconds: u64,
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = 5_000)]
    pub max_complexity: usize,
    #[arg(long, env = "MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    #[arg(long, env = "MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: usize,
    /// Seconds a WebSocket may stay open without `connection_init`.
    #[arg(long, env = "WS_INIT_TIMEOUT_SECONDS", default_value_t = 5)]
    pub ws_init_timeout_seconds: u64,
    #[arg(long, env = "WS_PING_SECONDS", default_value_t = 20)]
    pub ws_ping_seconds: u64,
    /// How often an open WebSocket checks that its session was not
    /// signed out; a signed-out socket closes at the next check.
    #[arg(long, env = "WS_SESSION_CHECK_SECONDS", default_value_t = 30)]
    pub ws_session_check_seconds: u64,
    /// Sign-in and activation attempts per login or code per minute.
    #[arg(long, env = "SIGN_IN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub sign_in_attempts_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            access_token_minutes: 15,
            refresh_token_days: 30,
            refresh_reuse_grace_seconds: 10,
            jwt_leeway_seconds: 0,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 5 * 1024 * 1024,
            max_depth: 12,
            max_complexity: 5_000,
            max_aliases: 30,
            max_batch: 10,
            max_page_size: 100,
            ws_init_timeout_seconds: 5,
            ws_ping_seconds: 20,
            ws_session_check_seconds: 30,
            sign_in_attempts_per_minute: 10,
        }
    }
}

impl Limits {
    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_init_timeout_seconds)
    }
}

impl Config {
    /// A configuration for tests and tools: given store, no Redis,
    /// development mode, default limits.
    pub fn for_tests(database_url: &str, redis_url: Option<String>) -> Config {
        Config {
            database_url: database_url.to_owned(),
            redis_url,
            bind_addr: "127.0.0.1:0".to_owned(),
            jwt_secret: Some("test-secret-that-is-long-enough-for-hs256".to_owned()),
            school_timezone: chrono_tz::Asia::Jakarta,
            log_format: "pretty".to_owned(),
            dev: true,
            scheduler_interval_ms: 2_000,
            midtrans_server_key: Some("test-server-key".to_owned()),
            school_bank_account: "BCA 123-456-7890 a.n. Sekolah Uji".to_owned(),
            students_may_message_students: false,
            parents_may_message_parents: true,
            limits: Limits::default(),
        }
    }
}
