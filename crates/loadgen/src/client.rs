//! GraphQL over HTTP as the apps send it. Every answer is read: a status
//! other than 200 or any entry under `errors` is a failure, however fast
//! it came back.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

/// A signed-in person: the access token and who it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user_id: String,
}

impl Session {
    pub fn from_value(v: &Value) -> Result<Session> {
        Ok(Session {
            token: v["accessToken"].as_str().context("no accessToken")?.into(),
            user_id: v["user"]["id"].as_str().context("no user id")?.into(),
        })
    }
}

/// One server's GraphQL endpoint, over a shared connection pool.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
}

/// The client every scenario uses, for scrm and baselines alike.
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1_024)
        .build()
        .context("failed to build the HTTP client")
}

impl Api {
    pub fn new(http: reqwest::Client, addr: SocketAddr) -> Api {
        Api {
            http,
            base: format!("http://{addr}"),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Runs an operation that must succeed; gives its `data`.
    pub async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.context("the request failed")?;
        read_answer(response).await
    }

    /// Uploads a roster through the GraphQL multipart request, as the
    /// admin panel does.
    pub async fn upload_roster(&self, token: &str, bytes: Vec<u8>) -> Result<Value> {
        let operations = json!({
            "query": IMPORT_ROSTER,
            "variables": { "file": null, "dryRun": false }
        });
        let file = reqwest::multipart::Part::bytes(bytes)
            .file_name("roster.csv")
            .mime_str("text/csv")?;
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", r#"{"0":["variables.file"]}"#)
            .part("0", file);
        let response = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .header("x-scrm-client", "scrm-load")
            .multipart(form)
            .send()
            .await
            .context("the upload failed")?;
        read_answer(response).await
    }
}

async fn read_answer(response: reqwest::Response) -> Result<Value> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.context("the answer is not JSON")?;
    let errors = body.get("errors").is_some_and(|e| !e.is_null());
    ensure!(status == 200 && !errors, "{status}: {}", clip(&body));
    Ok(body["data"].clone())
}

/// An answer in an error message, cut to a readable length.
pub fn clip(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(400) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

const IMPORT_ROSTER: &str = "mutation($file: Upload!, $dryRun: Boolean) {
  importRoster(file: $file, dryRun: $dryRun) { created updated unchanged refused classesCreated }
}";
