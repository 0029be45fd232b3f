//! The services a run stands on, made and removed by the run itself: a
//! database of its own (a SQLite file, or a `scrm_bench_*` database on
//! PostgreSQL), a Redis server of its own unless one is named, and scrm
//! servers inside this process on 127.0.0.1 port 0. Servers and baselines
//! run on a runtime of their own, so the load generator's tasks never
//! share their scheduler.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use scrm_api::config::Config;
use scrm_api::state::AppState;
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::options::{Options, StoreKind};

pub struct Stack {
    pub database_url: String,
    /// Redis for scrm's bus: the postgres store only.
    pub bus_url: Option<String>,
    /// Redis the fan-out baseline publishes through.
    pub redis_url: String,
    pub jwt_secret: String,
    /// Signs payment notifications (`MIDTRANS_SERVER_KEY`).
    pub server_key: String,
    runtime: Handle,
    database: Database,
    own_redis: Option<OwnRedis>,
}

/// The run's own `redis-server`, killed when dropped. It must outlive
/// the servers' runtime: scrm's bus keeps reconnecting until that stops.
pub struct OwnRedis(std::process::Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A database this run made and must remove.
pub enum Database {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Stack {
    pub async fn up(opts: &Options, runtime: Handle) -> Result<Stack> {
        let (database_url, database) = create_database(opts, "main").await?;
        let (redis_url, own_redis) = match &opts.redis_url {
            Some(url) => (url.clone(), None),
            None => {
                let (url, child) = start_redis().await?;
                (url, Some(child))
            }
        };
        let bus_url = (opts.store == StoreKind::Postgres).then(|| redis_url.clone());
        Ok(Stack {
            database_url,
            bus_url,
            redis_url,
            jwt_secret: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            server_key: format!("bench-key-{}", uuid::Uuid::new_v4().simple()),
            runtime,
            database,
            own_redis,
        })
    }

    /// Removes the database; gives back the Redis server to stop once
    /// the servers' runtime has stopped.
    pub async fn down(self) -> Option<OwnRedis> {
        if let Err(err) = drop_database(&self.database).await {
            eprintln!("warning: {err:#}");
        }
        self.own_redis
    }

    /// The configuration of every scrm this run starts: production mode,
    /// with sign-in limits lifted (every client shares 127.0.0.1) and
    /// tokens that outlive the run.
    pub fn config(&self) -> Config {
        let mut config = Config::for_tests(&self.database_url, self.bus_url.clone());
        config.dev = false;
        config.jwt_secret = Some(self.jwt_secret.clone());
        config.midtrans_server_key = Some(self.server_key.clone());
        config.limits.access_token_minutes = ACCESS_TOKEN_MINUTES;
        config.limits.sign_in_attempts_per_minute = u32::MAX;
        config
    }

    /// The same configuration as environment for a `scrm` child process.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("DATABASE_URL", self.database_url.clone()),
            ("JWT_SECRET", self.jwt_secret.clone()),
            ("MIDTRANS_SERVER_KEY", self.server_key.clone()),
            ("ACCESS_TOKEN_MINUTES", ACCESS_TOKEN_MINUTES.to_string()),
            ("SIGN_IN_ATTEMPTS_PER_MINUTE", u32::MAX.to_string()),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "info,sqlx=warn,sea_orm=warn".to_owned()),
        ];
        env.extend(self.bus_url.clone().map(|url| ("REDIS_URL", url)));
        env
    }

    /// Starts a scrm instance in this process on the shared database and
    /// bus.
    pub async fn spawn_scrm(&self) -> Result<Server> {
        let config = self.config();
        let state = self
            .on_servers(async move { scrm_api::app::build_state(config).await })
            .await??;
        let served = state.clone();
        let running = self
            .serve_with(move |listener, stop| async move {
                scrm_api::app::serve(listener, served, stop).await
            })
            .await?;
        Ok(Server { running, state })
    }

    /// Serves a bare router (a baseline) on the servers' runtime.
    pub async fn serve_router(&self, router: Router) -> Result<Running> {
        self.serve_with(move |listener, stop| async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stop)
                .await
                .context("the baseline server failed")
        })
        .await
    }

    /// The servers' runtime, for work that runs beside them.
    pub fn runtime(&self) -> Handle {
        self.runtime.clone()
    }

    /// Runs work on the servers' runtime: baselines that use the store
    /// run where its pool lives.
    pub fn on_servers<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(work)
    }

    async fn serve_with<F, Fut>(&self, serve: F) -> Result<Running>
    where
        F: FnOnce(TcpListener, Stopped) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let listener = self.on_servers(TcpListener::bind("127.0.0.1:0")).await??;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped: Stopped = Box::pin(async move {
            let _ = stopped.await;
        });
        let task = self.on_servers(async move {
            if let Err(err) = serve(listener, stopped).await {
                eprintln!("server on {addr} failed: {err:#}");
            }
        });
        Ok(Running {
            addr,
            stop: Some(stop),
            task,
        })
    }
}

const ACCESS_TOKEN_MINUTES: i64 = 240;

type Stopped = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server on the servers' runtime; dropping it stops it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        if tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            self.task.abort();
        }
    }
}

/// An in-process scrm and its state (its store counts statements).
pub struct Server {
    pub running: Running,
    pub state: AppState,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    pub fn statements(&self) -> u64 {
        self.state.store.statements_run()
    }
}

/// Makes an empty database named after `label`; gives its URL.
pub async fn create_database(opts: &Options, label: &str) -> Result<(String, Database)> {
    let name = format!("scrm_bench_{label}_{}", uuid::Uuid::new_v4().simple());
    match opts.store {
        StoreKind::Sqlite => {
            let dir = std::env::temp_dir().join("scrm-bench");
            std::fs::create_dir_all(&dir).context("failed to make the SQLite folder")?;
            let file = dir.join(format!("{name}.db"));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            Ok((url, Database::Sqlite(file)))
        }
        StoreKind::Postgres => {
            let base = opts.pg_url.trim_end_matches('/').to_owned();
            let admin_url = format!("{base}/postgres");
            let admin = scrm_persistence::Store::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .context("failed to create the bench database")?;
            Ok((
                format!("{base}/{name}"),
                Database::Postgres { admin_url, name },
            ))
        }
    }
}

pub async fn drop_database(database: &Database) -> Result<()> {
    match database {
        Database::Sqlite(file) => {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
            Ok(())
        }
        Database::Postgres { admin_url, name } => {
            let admin = scrm_persistence::Store::connect(admin_url).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .with_context(|| format!("failed to drop {name}"))
        }
    }
}

/// A `redis-server` of this run's own on a free port, without
/// persistence.
async fn start_redis() -> Result<(String, OwnRedis)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("redis-server is needed (or name one with --redis-url)")?;
    let redis = OwnRedis(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok((format!("redis://127.0.0.1:{port}"), redis));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("redis-server did not start on port {port}")
}
