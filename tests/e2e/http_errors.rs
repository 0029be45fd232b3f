//! What an app gets back when a request goes wrong: a stable
//! `extensions.code` on every error, never the database's or the
//! server's own words; 400 for documents that do not parse or validate;
//! query limits that refuse before anything runs.

use anyhow::{Context, Result};
use scrm_e2e::TestApp;
use serde_json::{Value, json};

/// Words that would betray the storage or the code behind an error.
const TELLTALES: &[&str] = &[
    "sqlx",
    "sqlite",
    "postgres",
    "duplicate key",
    "violates",
    "constraint",
    "foreign key",
    "users",
    "refresh_tokens",
    "class_teachers",
    "families_",
    "select ",
    "insert ",
    ".rs:",
    "/src/",
    "/work/",
    "/tmp/",
    "panicked",
];

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("(none)")
}

#[tokio::test]
async fn errors_from_bad_requests_carry_a_code_and_no_storage_details() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let teacher = app
        .user("Guru Kelas", &[scrm_domain::role::Role::Teacher])
        .await?;
    let taken = app
        .ok(Some(&admin.access), "{ me { email } }", json!({}))
        .await?["me"]["email"]
        .clone();
    let long = "x".repeat(10_000);
    let missing = uuid::Uuid::new_v4().to_string();
    let bad: Vec<(&str, Value)> = vec![
        (
            "mutation($email: String) { createUser(input: { name: \"Kembar\", email: $email,
               roles: [STAFF], password: \"rahasia-123\" }) { id } }",
            json!({ "email": taken }),
        ),
        ("{ announcement(id: \"not-a-uuid\") { id } }", json!({})),
        (
            "query($id: UUID!) { announcement(id: $id) { id } }",
            json!({ "id": "1234" }),
        ),
        (
            "mutation($id: UUID!) { markAnnouncementRead(id: $id) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($id: UUID!) { reissueActivationCode(familyId: $id) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($c: UUID!, $t: UUID!) { assignTeacher(classId: $c, teacherId: $t,
               homeroom: true) }",
            json!({ "c": missing, "t": teacher.user_id }),
        ),
        (
            "mutation($s: String!) { signIn(login: $s, password: $s) { accessToken } }",
            json!({ "s": long }),
        ),
        (
            "mutation($s: String!) { activate(code: $s, password: \"rahasia-123\") { accessToken } }",
            json!({ "s": long }),
        ),
        (
            "mutation($s: String!) { publishAnnouncement(input: { title: $s, body: \"b\",
               audience: { everyone: true } }) { id } }",
            json!({ "s": long }),
        ),
        (
            "mutation($s: String!) { createUser(input: { name: \"Panjang\", phone: $s,
               roles: [STAFF], password: \"rahasia-123\" }) { id } }",
            json!({ "s": long }),
        ),
        (
            "query($s: String!) { families(after: $s) { nextCursor } }",
            json!({ "s": long }),
        ),
    ];

    let mut answers = vec![];
    for (query, variables) in bad {
        let (status, body) = app.post(Some(&admin.access), query, variables).await?;
        answers.push((query, status, body));
    }

    for (query, status, body) in &answers {
        let errors = body["errors"].as_array().context("no errors")?;
        assert!(!errors.is_empty(), "{query} gave no error: {body}");
        assert!(*status < 500, "{query} gave {status}");
        for error in errors {
            assert!(error["extensions"]["code"].is_string(), "{query}: {error}");
        }
        let text = body.to_string().to_lowercase();
        for word in TELLTALES {
            assert!(!text.contains(word), "{query} says {word:?}: {body}");
        }
    }
    assert_eq!(code(&answers[0].2), "CONFLICT");
    assert_eq!(answers[0].2["errors"][0]["extensions"]["field"], "email");
    Ok(())
}

#[tokio::test]
async fn a_failing_database_reaches_the_client_as_a_bare_internal_error() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.state
        .store
        .execute_unprepared("ALTER TABLE announcements RENAME TO announcements_gone")
        .await?;

    let reply = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&admin.access)
        .json(&json!({ "query": "{ feed { unreadCount } }" }))
        .send()
        .await?;

    assert!(reply.headers().contains_key("x-request-id"));
    let body: Value = reply.json().await?;
    assert_eq!(code(&body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string().to_lowercase();
    assert!(!text.contains("announcements"), "{body}");
    for word in TELLTALES {
        assert!(!text.contains(word), "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn a_store_that_cannot_read_sessions_does_not_sign_anyone_out() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.state
        .store
        .execute_unprepared("ALTER TABLE sessions RENAME TO sessions_gone")
        .await?;

    let reply = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&admin.access)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await?;

    // 401 would make the app throw its tokens away; this is our fault.
    assert_eq!(reply.status().as_u16(), 503);
    let body: Value = reply.json().await?;
    assert_eq!(code(&body), "INTERNAL", "{body}");
    Ok(())
}

#[tokio::test]
async fn a_document_that_does_not_parse_is_a_400_with_parse_failed() -> Result<()> {
    let app = TestApp::spawn().await?;

    let (status, body) = app.post(None, "{ me { id ", json!({})).await?;

    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_PARSE_FAILED"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_document_that_does_not_validate_is_a_400_with_validation_failed() -> Result<()> {
    let app = TestApp::spawn().await?;

    let (status, body) = app.post(None, "{ noSuchField }", json!({})).await?;

    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_query_deeper_than_the_limit_is_refused() -> Result<()> {
    let app = TestApp::spawn().await?;
    let of_type = "ofType { ".repeat(10) + "name" + &" }".repeat(10);
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {of_type} }} }} }} }} }}");

    let (status, body) = app.post(None, &deep, json!({})).await?;

    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    Ok(())
}

fn aliases(n: usize) -> String {
    (0..n).map(|i| format!("a{i}: __typename ")).collect()
}

#[tokio::test]
async fn more_aliases_than_the_limit_are_refused_and_the_limit_itself_is_not() -> Result<()> {
    let app = TestApp::spawn().await?;
    let max = app.state.config.limits.max_aliases;

    let (at_limit, _) = app
        .post(None, &format!("{{ {} }}", aliases(max)), json!({}))
        .await?;
    let (status, body) = app
        .post(None, &format!("{{ {} }}", aliases(max + 1)), json!({}))
        .await?;

    assert_eq!(at_limit, 200);
    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn aliases_inside_a_fragment_count_each_time_it_is_spread() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let per_fragment = app.state.config.limits.max_aliases / 2 + 1;
    let query = format!(
        "fragment Many on User {{ {} }} {{ x: me {{ ...Many }} y: me {{ ...Many }} }}",
        (0..per_fragment)
            .map(|i| format!("n{i}: name "))
            .collect::<String>()
    );

    let (status, body) = app.post(Some(&admin.access), &query, json!({})).await?;

    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_batch_larger_than_the_limit_is_refused_and_one_at_the_limit_runs() -> Result<()> {
    let app = TestApp::spawn().await?;
    let max = app.state.config.limits.max_batch;
    let batch = |n: usize| vec![json!({ "query": "{ __typename }" }); n];

    let ok = app
        .http
        .post(app.url("/graphql"))
        .json(&batch(max))
        .send()
        .await?;
    let refused = app
        .http
        .post(app.url("/graphql"))
        .json(&batch(max + 1))
        .send()
        .await?;

    assert_eq!(ok.status(), 200);
    let answers: Value = ok.json().await?;
    assert_eq!(answers.as_array().map(Vec::len), Some(max));
    assert_eq!(refused.status(), 400);
    assert_eq!(code(&refused.json().await?), "BAD_REQUEST");
    Ok(())
}

#[tokio::test]
async fn a_page_larger_than_the_limit_is_refused_as_bad_input_on_first() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let (_, feed) = app
        .post(
            Some(&admin.access),
            "{ feed(first: 1000) { unreadCount } }",
            json!({}),
        )
        .await?;
    let (_, families) = app
        .post(
            Some(&admin.access),
            "{ families(first: 1000) { nextCursor } }",
            json!({}),
        )
        .await?;

    for body in [feed, families] {
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    }
    Ok(())
}

#[tokio::test]
async fn a_client_that_accepts_graphql_response_json_gets_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let query = json!({ "query": "{ __typename }" });

    let wanted = app
        .http
        .post(app.url("/graphql"))
        .header(
            "accept",
            "application/graphql-response+json, application/json",
        )
        .json(&query)
        .send()
        .await?;
    let plain = app
        .http
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await?;

    let type_of = |r: &reqwest::Response| {
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        type_of(&wanted).as_deref(),
        Some("application/graphql-response+json")
    );
    assert_eq!(type_of(&plain).as_deref(), Some("application/json"));
    Ok(())
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() -> Result<()> {
    let app = TestApp::spawn().await?;

    let health = app.http.get(app.url("/healthz")).send().await?;
    let ready = app.http.get(app.url("/readyz")).send().await?;
    let metrics = app.http.get(app.url("/metrics")).send().await?;

    assert_eq!(health.status(), 200);
    assert_eq!(ready.status(), 200);
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await?;
    assert!(
        text.contains("# TYPE scrm_graphql_requests_total counter"),
        "{text}"
    );
    assert!(text.contains("scrm_websockets_open"), "{text}");
    Ok(())
}
