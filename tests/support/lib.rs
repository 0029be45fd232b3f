//! Test support: a real server on port 0 over a fresh database, and
//! clients that talk to it as the apps do (HTTP and graphql-transport-ws).
//!
//! The store comes from the environment so one suite serves both:
//! `SCRM_TEST_STORE=postgres` runs against PostgreSQL (`SCRM_TEST_PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432`), anything else against a
//! fresh SQLite file. `SCRM_TEST_REDIS_URL` switches the bus to Redis.

mod school;
mod ws;

use anyhow::{Context, Result};
use scrm_api::config::Config;
use scrm_api::state::AppState;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use school::{OwnRedis, School};
pub use ws::{Frame, WsClient};

/// The password every user made by the helpers has.
pub const PASSWORD: &str = "rahasia-123";

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

pub fn using_postgres() -> bool {
    std::env::var("SCRM_TEST_STORE").is_ok_and(|s| s == "postgres")
}

pub fn redis_url() -> Option<String> {
    std::env::var("SCRM_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database() -> Result<String> {
    let name = format!("scrm_test_{}", uuid::Uuid::new_v4().simple());
    if using_postgres() {
        let base = std::env::var("SCRM_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let admin = scrm_persistence::Store::connect(&format!("{base}/postgres")).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        Ok(format!("{base}/{name}"))
    } else {
        let dir = std::env::temp_dir().join("scrm-tests");
        std::fs::create_dir_all(&dir)?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{name}.db")).display()
        ))
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> Result<TestApp> {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a configuration adjusted by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Result<TestApp> {
        let url = fresh_database().await?;
        Self::spawn_on(&url, tweak).await
    }

    /// Spawns another instance on an existing database.
    pub async fn spawn_on(database_url: &str, tweak: impl FnOnce(&mut Config)) -> Result<TestApp> {
        let mut config = Config::for_tests(database_url, redis_url());
        tweak(&mut config);
        let state = scrm_api::app::build_state(config).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let served = state.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(err) = scrm_api::app::serve(listener, served, shutdown).await {
                eprintln!("server failed: {err:?}");
            }
        });
        Ok(TestApp {
            addr,
            state,
            http: reqwest::Client::new(),
            database_url: database_url.to_owned(),
            stop: Some(stop),
            server: Some(server),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request; gives the HTTP status and the body.
    pub async fn post(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response
            .json::<Value>()
            .await
            .context("the answer is not JSON")?;
        Ok((status, body))
    }

    /// Runs an operation that must succeed; gives its `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let (status, body) = self.post(token, query, variables).await?;
        anyhow::ensure!(
            status == 200 && body.get("errors").is_none(),
            "expected success, got {status}: {body}"
        );
        Ok(body["data"].clone())
    }

    /// Runs an operation that must fail; gives the first error's code.
    pub async fn error_code(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<String> {
        let (_, body) = self.post(token, query, variables).await?;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        code.map(str::to_owned)
            .with_context(|| format!("expected an error, got {body}"))
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Result<Session> {
        let data = self
            .ok(
                None,
                SIGN_IN,
                json!({ "login": login, "password": password }),
            )
            .await?;
        Session::from_value(&data["signIn"])
    }

    /// Creates a user with the given roles straight in the store and
    /// signs them in.
    pub async fn user(&self, name: &str, roles: &[scrm_domain::role::Role]) -> Result<Session> {
        let email = format!(
            "{}-{}@test.example",
            name.to_lowercase().replace(' ', "."),
            uuid::Uuid::new_v4().simple()
        );
        let new = scrm_persistence::users::NewUser {
            name: name.to_owned(),
            email: Some(email.clone()),
            phone: None,
            password_hash: Some(scrm_api::auth::hash_password(PASSWORD)?),
            roles: roles.to_vec(),
            departments: vec![],
            family_id: None,
        };
        self.state.store.create_user(new, self.state.now()).await?;
        self.sign_in(&email, PASSWORD).await
    }

    pub async fn admin(&self) -> Result<Session> {
        self.user(
            "Admin Sekolah",
            &[
                scrm_domain::role::Role::Admin,
                scrm_domain::role::Role::Staff,
            ],
        )
        .await
    }

    /// Uploads a roster through the GraphQL multipart request, as the
    /// admin panel does.
    pub async fn upload_roster(
        &self,
        token: &str,
        bytes: Vec<u8>,
        dry_run: bool,
    ) -> Result<(u16, Value)> {
        let operations = json!({
            "query": IMPORT_ROSTER,
            "variables": { "file": null, "dryRun": dry_run }
        });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", r#"{"0":["variables.file"]}"#)
            .part(
                "0",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("roster.csv")
                    .mime_str("text/csv")?,
            );
        let response = self
            .http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .header("x-scrm-client", "admin-panel-tests")
            .multipart(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    pub async fn ws(&self, token: Option<&str>) -> Result<WsClient> {
        WsClient::connect(self, token).await
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Tokens of a signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

impl Session {
    pub fn from_value(v: &Value) -> Result<Session> {
        Ok(Session {
            access: v["accessToken"]
                .as_str()
                .context("no accessToken")?
                .to_owned(),
            refresh: v["refreshToken"]
                .as_str()
                .context("no refreshToken")?
                .to_owned(),
            user_id: v["user"]["id"].as_str().context("no user id")?.to_owned(),
        })
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access)
    }
}

pub const SIGN_IN: &str = "mutation($login: String!, $password: String!) {
  signIn(login: $login, password: $password) { accessToken refreshToken expiresAt user { id name roles } }
}";

pub const IMPORT_ROSTER: &str = "mutation($file: Upload!, $dryRun: Boolean) {
  importRoster(file: $file, dryRun: $dryRun) {
    created updated unchanged refused familiesCreated guardiansCreated classesCreated dryRun encoding delimiter
    rows { line status studentName field messages }
  }
}";
