//! GraphQL over HTTP refuses what a browser could be tricked into
//! sending (mutations over GET, form posts) and what would cost the
//! server dearly (large bodies and uploads, many files), each with a
//! status and an `extensions.code` an app can act on, and changing
//! nothing.

use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::multipart::{Form, Part};
use scrm_e2e::TestApp;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROSTER: &str = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
                      0012345671;Ayu;VII-A;Bapak Ayu;081234567801\r\n";

fn create_user(email: &str) -> String {
    format!(
        "mutation {{ createUser(input: {{ name: \"Guru Baru\", email: \"{email}\", \
         roles: [TEACHER], password: \"rahasia-123\" }}) {{ id }} }}"
    )
}

/// GETs `/graphql` with the given query-string parameters.
async fn get(
    app: &TestApp,
    token: Option<&str>,
    params: &[(&str, &str)],
) -> Result<reqwest::Response> {
    let mut request = app.http.get(app.url("/graphql")).query(params);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Ok(request.send().await?)
}

async fn exists(app: &TestApp, email: &str) -> Result<bool> {
    Ok(app.state.store.user_by_login(email).await?.is_some())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("(none)")
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_and_changes_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let mutation = create_user("lewat-get@test.example");

    let reply = get(&app, admin.token(), &[("query", &mutation)]).await?;
    let anonymous = get(&app, None, &[("query", &mutation)]).await?;

    assert_eq!(reply.status(), 405);
    assert_eq!(
        reply.headers().get("allow").map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );
    assert_eq!(code(&reply.json().await?), "BAD_REQUEST");
    assert_eq!(anonymous.status(), 405);
    assert!(!exists(&app, "lewat-get@test.example").await?);
    Ok(())
}

#[tokio::test]
async fn get_runs_the_query_an_operation_name_picks_but_never_the_mutation() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let document = format!(
        "query Who {{ me {{ id }} }} mutation Make {}",
        create_user("dua-operasi@test.example").trim_start_matches("mutation ")
    );

    let mutation = get(
        &app,
        admin.token(),
        &[("query", &document), ("operationName", "Make")],
    )
    .await?;
    let query = get(
        &app,
        admin.token(),
        &[("query", &document), ("operationName", "Who")],
    )
    .await?;

    assert_eq!(mutation.status(), 405);
    assert!(!exists(&app, "dua-operasi@test.example").await?);
    assert_eq!(query.status(), 200);
    let body: Value = query.json().await?;
    assert_eq!(body["data"]["me"]["id"], json!(admin.user_id), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_subscription_over_get_is_refused_with_405() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let reply = get(
        &app,
        admin.token(),
        &[("query", "subscription { announcementPublished { id } }")],
    )
    .await?;

    assert_eq!(reply.status(), 405);
    assert!(reply.headers().get("allow").is_some());
    Ok(())
}

#[tokio::test]
async fn a_query_over_get_answers_like_a_post() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let reply = get(&app, admin.token(), &[("query", "{ me { id roles } }")]).await?;

    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await?;
    assert_eq!(body["data"]["me"]["id"], json!(admin.user_id), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_form_or_text_post_is_refused_with_415_and_changes_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let body = json!({ "query": create_user("lewat-form@test.example") }).to_string();

    let mut statuses = vec![];
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&admin.access)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await?;
        statuses.push((
            reply.status().as_u16(),
            code(&reply.json().await?).to_owned(),
        ));
    }

    let refused = (415, "BAD_REQUEST".to_owned());
    assert_eq!(statuses, vec![refused.clone(), refused]);
    assert!(!exists(&app, "lewat-form@test.example").await?);
    Ok(())
}

/// Uploads `files` (name, bytes) to `importRoster` with the given map.
async fn upload(
    app: &TestApp,
    token: Option<&str>,
    client_header: bool,
    map: Value,
    files: Vec<Vec<u8>>,
) -> Result<(u16, Value)> {
    let operations = json!({
        "query": scrm_e2e::IMPORT_ROSTER,
        "variables": { "file": null, "dryRun": false }
    });
    let mut form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string());
    for (i, bytes) in files.into_iter().enumerate() {
        let part = Part::bytes(bytes)
            .file_name(format!("roster-{i}.csv"))
            .mime_str("text/csv")?;
        form = form.part(i.to_string(), part);
    }
    let mut request = app.http.post(app.url("/graphql")).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if client_header {
        request = request.header("x-scrm-client", "admin-panel-tests");
    }
    let reply = request.send().await?;
    let status = reply.status().as_u16();
    Ok((status, reply.json().await.unwrap_or(Value::Null)))
}

async fn families(app: &TestApp, token: &str) -> Result<usize> {
    let data = app
        .ok(Some(token), "{ families { families { id } } }", json!({}))
        .await?;
    data["families"]["families"]
        .as_array()
        .map(Vec::len)
        .context("no families list")
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_refused_with_413() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let limit = app.state.config.limits.max_upload_bytes;
    let map = json!({ "0": ["variables.file"] });

    let well_over = upload(
        &app,
        admin.token(),
        true,
        map.clone(),
        vec![vec![b'a'; limit * 2]],
    );
    let (status, body) = well_over.await?;
    let just_over = upload(
        &app,
        admin.token(),
        true,
        map,
        vec![vec![b'a'; limit + 1024]],
    );
    let (just_status, just_body) = just_over.await?;

    assert_eq!((status, code(&body)), (413, "BAD_REQUEST"), "{body}");
    assert_eq!((just_status, code(&just_body)), (413, "BAD_REQUEST"));
    Ok(())
}

/// Sends only the head of a request and gives the status line that
/// comes back, or fails if none comes within `wait`.
async fn status_line_for_head(app: &TestApp, head: &str, wait: Duration) -> Result<String> {
    let mut tcp = TcpStream::connect(app.addr).await?;
    tcp.write_all(head.as_bytes()).await?;
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(wait, tcp.read(&mut answer))
        .await
        .context("no answer in time")??;
    let text = String::from_utf8_lossy(&answer[..n]);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_300_megabyte_upload_is_refused_before_it_is_sent() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         x-scrm-client: admin-panel-tests\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\n\
         Content-Length: {}\r\n\r\n",
        app.addr,
        admin.access,
        300 * 1024 * 1024
    );

    let status = status_line_for_head(&app, &head, Duration::from_secs(5)).await?;

    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    Ok(())
}

#[tokio::test]
async fn many_files_in_one_request_are_refused_with_400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let files: Vec<Vec<u8>> = (0..20).map(|_| ROSTER.as_bytes().to_vec()).collect();
    let map: serde_json::Map<String, Value> = (0..20)
        .map(|i| (i.to_string(), json!(["variables.file"])))
        .collect();

    let (status, body) = upload(&app, admin.token(), true, Value::Object(map), files).await?;

    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "{body}");
    assert_eq!(families(&app, &admin.access).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_multipart_request_whose_parts_cannot_be_counted_is_refused() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let body = "--a\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--a--\r\n";

    let mut statuses = vec![];
    for content_type in [
        "multipart/form-data; boundary=a; boundary=b",
        "multipart/form-data; boundary=\"a\\\"b\"",
        "multipart/form-data",
    ] {
        let reply = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&admin.access)
            .header("x-scrm-client", "admin-panel-tests")
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        statuses.push(reply.status().as_u16());
    }

    assert_eq!(statuses, vec![400; 3]);
    Ok(())
}

#[tokio::test]
async fn a_map_naming_a_variable_that_does_not_exist_is_a_400_not_a_500() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let map = json!({ "0": ["variables.nothingHere"] });

    let (status, body) = upload(&app, admin.token(), true, map, vec![ROSTER.into()]).await?;

    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body}"
    );
    assert_eq!(families(&app, &admin.access).await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_upload_without_a_token_is_refused_as_unauthenticated() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let map = json!({ "0": ["variables.file"] });

    let (status, body) = upload(&app, None, true, map, vec![ROSTER.into()]).await?;

    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
    assert_eq!(families(&app, &admin.access).await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_upload_without_the_client_header_is_refused_with_400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let map = json!({ "0": ["variables.file"] });

    let (status, body) = upload(&app, admin.token(), false, map, vec![ROSTER.into()]).await?;

    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "{body}");
    assert_eq!(families(&app, &admin.access).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_json_body_over_the_body_limit_is_refused_with_413() -> Result<()> {
    let app = TestApp::spawn().await?;
    let padding = "x".repeat(app.state.config.limits.max_body_bytes);
    let body = json!({ "query": "{ __typename }", "variables": { "pad": padding } });

    let declared = app
        .http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await?;
    let chunked_head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        app.addr
    );
    let chunked = send_chunked(&app, &chunked_head, body.to_string().into_bytes()).await?;

    assert_eq!(declared.status(), 413);
    assert_eq!(code(&declared.json().await?), "BAD_REQUEST");
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    Ok(())
}

/// Streams `body` in chunks with no declared length, reading the answer
/// meanwhile; gives its status line.
async fn send_chunked(app: &TestApp, head: &str, body: Vec<u8>) -> Result<String> {
    let tcp = TcpStream::connect(app.addr).await?;
    let (mut read, mut write) = tcp.into_split();
    let head = head.to_owned();
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            write
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            write.write_all(chunk).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await
    });
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), read.read(&mut answer))
        .await
        .context("no answer in time")??;
    writer.abort();
    let text = String::from_utf8_lossy(&answer[..n]);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}
