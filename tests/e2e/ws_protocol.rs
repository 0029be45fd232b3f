//! The WebSocket speaks `graphql-transport-ws` to the letter: each close
//! code the README lists, for the fault it names; keep-alive pings; and
//! a completed subscription that really stops.

use std::time::Duration;

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use scrm_e2e::{Frame, TestApp, WsClient};
use serde_json::{Value, json};

const SUBSCRIPTION: &str = "subscription { announcementPublished { title } }";

/// Opens a socket, sends `message` first, and gives the close code the
/// server answers with (failing on anything but a close).
async fn close_code_after(app: &TestApp, message: Value) -> Result<Option<u16>> {
    let mut ws = WsClient::open(app, Some("graphql-transport-ws")).await?;
    ws.send(message).await?;
    match ws.next().await? {
        Frame::Closed(code) => Ok(code),
        other => anyhow::bail!("expected a close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_that_is_not_json_closes_with_4400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.send_raw("{ this is not json").await?;

    assert_eq!(ws.close_code().await?, Some(4400));
    Ok(())
}

#[tokio::test]
async fn a_message_of_an_unknown_type_closes_with_4400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.send(json!({ "type": "start", "id": "1", "payload": { "query": SUBSCRIPTION } }))
        .await?;

    assert_eq!(ws.close_code().await?, Some(4400));
    Ok(())
}

#[tokio::test]
async fn a_binary_frame_closes_with_4400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.send_binary(br#"{"type":"ping"}"#.to_vec()).await?;

    assert_eq!(ws.close_code().await?, Some(4400));
    Ok(())
}

#[tokio::test]
async fn a_message_larger_than_the_socket_takes_closes_with_4400() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    let pad = "x".repeat(100 * 1024);
    ws.send(json!({ "type": "ping", "payload": { "pad": pad } }))
        .await?;

    assert_eq!(ws.close_code().await?, Some(4400));
    Ok(())
}

#[tokio::test]
async fn subscribing_before_the_ack_closes_with_4401() -> Result<()> {
    let app = TestApp::spawn().await?;

    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": SUBSCRIPTION } });

    assert_eq!(close_code_after(&app, subscribe).await?, Some(4401));
    Ok(())
}

#[tokio::test]
async fn connection_init_takes_the_token_only_under_the_key_token() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let bearer = format!("Bearer {}", parent.access);
    let refused = [
        json!({ "type": "connection_init" }),
        json!({ "type": "connection_init", "payload": {} }),
        json!({ "type": "connection_init", "payload": { "Authorization": bearer } }),
        json!({ "type": "connection_init", "payload": { "authorization": bearer } }),
        json!({ "type": "connection_init", "payload": { "token": bearer } }),
        json!({ "type": "connection_init", "payload": { "token": "not-a-jwt" } }),
    ];

    let mut codes = vec![];
    for init in refused {
        codes.push(close_code_after(&app, init).await?);
    }
    let accepted = app.ws(parent.token()).await;

    assert_eq!(codes, vec![Some(4403); 6]);
    assert!(accepted.is_ok(), "{:?}", accepted.err());
    Ok(())
}

#[tokio::test]
async fn a_socket_without_our_sub_protocol_closes_with_4406() -> Result<()> {
    let app = TestApp::spawn().await?;

    let mut none = WsClient::open(&app, None).await?;
    let mut legacy = WsClient::open_unverified(&app, "graphql-ws").await?;
    let conforming = WsClient::open(&app, Some("graphql-ws")).await;

    assert_eq!(none.close_code().await?, Some(4406));
    assert_eq!(legacy.close_code().await?, Some(4406));
    assert!(
        conforming.is_err(),
        "a conforming client gives up when the server picks no sub-protocol"
    );
    Ok(())
}

#[tokio::test]
async fn a_socket_without_connection_init_in_time_closes_with_4408() -> Result<()> {
    let app = TestApp::spawn_with(|c| c.limits.ws_init_timeout_seconds = 1).await?;

    let mut ws = WsClient::open(&app, Some("graphql-transport-ws")).await?;

    let frame = ws.next_within(Duration::from_secs(4)).await?;
    assert_eq!(frame, Some(Frame::Closed(Some(4408))));
    Ok(())
}

#[tokio::test]
async fn a_second_subscription_under_a_live_id_closes_with_4409() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.subscribe("1", SUBSCRIPTION, json!({})).await?;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await?;

    assert_eq!(ws.close_code().await?, Some(4409));
    Ok(())
}

#[tokio::test]
async fn a_socket_refuses_what_http_refuses_with_the_same_codes() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;
    let aliases: String = (0..31).map(|i| format!(" a{i}: me {{ id }}")).collect();

    ws.subscribe("p", "{ me { ", json!({})).await?;
    let unparsed = ws.next().await?;
    ws.subscribe("a", &format!("{{{aliases} }}"), json!({}))
        .await?;
    let aliased = ws.next().await?;
    let two_roots = "subscription { inboxEvents { totalUnread } ...more } \
        fragment more on Subscription { announcementPublished { id } }";
    ws.subscribe("r", two_roots, json!({})).await?;
    let rooted = ws.next().await?;
    // The socket stays open and the ids can be used again.
    ws.subscribe("p", "{ me { id } }", json!({})).await?;
    let answered = ws.next_data("p").await?;

    let code = |frame: &scrm_e2e::Frame| match frame {
        scrm_e2e::Frame::Message(m) if m["type"] == "error" => {
            m["payload"][0]["extensions"]["code"].clone()
        }
        other => json!(format!("{other:?}")),
    };
    assert_eq!(code(&unparsed), "GRAPHQL_PARSE_FAILED");
    assert_eq!(code(&aliased), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(code(&rooted), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(answered["me"]["id"], json!(parent.user_id));
    Ok(())
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.send(json!({ "type": "connection_init", "payload": { "token": parent.access } }))
        .await?;

    assert_eq!(ws.close_code().await?, Some(4429));
    Ok(())
}

#[tokio::test]
async fn a_ping_gets_a_pong_with_the_same_payload() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut ws = app.ws(parent.token()).await?;

    ws.send(json!({ "type": "ping", "payload": { "at": 42 } }))
        .await?;
    let echoed = ws.next().await?;
    ws.send(json!({ "type": "ping" })).await?;
    let bare = ws.next().await?;

    let expected = json!({ "type": "pong", "payload": { "at": 42 } });
    assert_eq!(echoed, Frame::Message(expected));
    assert_eq!(bare, Frame::Message(json!({ "type": "pong" })));
    Ok(())
}

async fn publish_to(app: &TestApp, admin: &str, user_id: &str, title: &str) -> Result<()> {
    let input = json!({ "title": title, "body": "Isi.", "audience": { "userIds": [user_id] } });
    app.ok(
        Some(admin),
        "mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn after_complete_an_id_gets_nothing_more_and_can_be_used_again() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let topic = scrm_api::jobs::user_topic(parent.user_id.parse()?);
    let mut ws = app.ws(parent.token()).await?;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await?;
    wait_for_subscribers(&app, &topic, 1).await?;
    publish_to(&app, &admin.access, &parent.user_id, "Pertama").await?;
    let first = ws.next_data("1").await?;

    ws.complete("1").await?;
    wait_for_subscribers(&app, &topic, 0).await?;
    for title in ["Kedua", "Ketiga", "Keempat"] {
        publish_to(&app, &admin.access, &parent.user_id, title).await?;
    }
    let after_complete = ws.next_within(Duration::from_millis(700)).await?;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await?;
    wait_for_subscribers(&app, &topic, 1).await?;
    publish_to(&app, &admin.access, &parent.user_id, "Kelima").await?;
    let again = ws.next_data("1").await?;

    assert_eq!(first["announcementPublished"]["title"], "Pertama");
    assert_eq!(after_complete, None);
    assert_eq!(again["announcementPublished"]["title"], "Kelima");
    Ok(())
}

/// Waits (up to two seconds) until `topic` has `n` local subscribers.
async fn wait_for_subscribers(app: &TestApp, topic: &str, n: usize) -> Result<()> {
    for _ in 0..40 {
        if app.state.bus.local_subscribers(topic) == n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = app.state.bus.local_subscribers(topic);
    anyhow::bail!("{topic} has {now} subscribers, not {n}")
}

/// A token for the same user and session as `access`, with the given
/// time claims, so that only those can be wrong.
fn forge(app: &TestApp, access: &str, times: Value) -> Result<String> {
    let real = app.state.keys.verify(access).context("a real token")?;
    let mut claims = json!({ "sub": real.sub, "sid": real.sid, "iss": "scrm", "aud": "scrm-app" });
    if let (Some(claims), Some(times)) = (claims.as_object_mut(), times.as_object()) {
        claims.extend(times.clone());
    }
    app.state.keys.sign_claims(&claims)
}

#[tokio::test]
async fn tokens_wrong_only_in_time_are_refused_alike_over_http_and_websocket() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let now = chrono::Utc::now().timestamp();
    let expired =
        |ago: i64| json!({ "iat": now - 900 - ago, "nbf": now - 900 - ago, "exp": now - ago });
    let cases = [
        ("expired 5 s ago", expired(5)),
        ("expired 45 s ago", expired(45)),
        ("expired 2 min ago", expired(120)),
        ("no exp", json!({ "iat": now, "nbf": now })),
        (
            "nbf in 2 min",
            json!({ "iat": now, "nbf": now + 120, "exp": now + 900 }),
        ),
        (
            "control",
            json!({ "iat": now, "nbf": now, "exp": now + 900 }),
        ),
    ];

    let mut seen = vec![];
    for (name, times) in cases {
        let token = forge(&app, &parent.access, times)?;
        let (status, body) = app.post(Some(&token), "{ me { id } }", json!({})).await?;
        let http = (status, body["errors"][0]["extensions"]["code"].clone());
        let init = json!({ "type": "connection_init", "payload": { "token": token } });
        let mut ws = WsClient::open(&app, Some("graphql-transport-ws")).await?;
        ws.send(init).await?;
        seen.push((name, http, ws.next().await?));
    }

    let refused = (401, json!("UNAUTHENTICATED"));
    for (name, http, ws) in &seen[..5] {
        assert_eq!(http, &refused, "{name} over HTTP");
        assert_eq!(ws, &Frame::Closed(Some(4403)), "{name} over WebSocket");
    }
    let (_, control_http, control_ws) = &seen[5];
    assert_eq!(control_http, &(200, Value::Null));
    assert_eq!(
        control_ws,
        &Frame::Message(json!({ "type": "connection_ack" }))
    );
    Ok(())
}

#[tokio::test]
async fn a_socket_closes_with_4403_when_its_token_expires() -> Result<()> {
    let app = TestApp::spawn().await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let now = chrono::Utc::now().timestamp();
    let times = json!({ "iat": now, "nbf": now, "exp": now + 3 });
    let short = forge(&app, &parent.access, times)?;
    let mut ws = app.ws(Some(&short)).await?;

    ws.subscribe("1", SUBSCRIPTION, json!({})).await?;

    let frame = ws.next_within(Duration::from_secs(8)).await?;
    assert_eq!(frame, Some(Frame::Closed(Some(4403))));
    Ok(())
}

#[tokio::test]
async fn signing_out_refuses_the_token_at_once_and_closes_open_sockets_at_the_next_check()
-> Result<()> {
    let app = TestApp::spawn_with(|c| c.limits.ws_session_check_seconds = 1).await?;
    let parent = app.user("Orang Tua", &[Role::Parent]).await?;
    let mut open = app.ws(parent.token()).await?;
    open.subscribe("1", SUBSCRIPTION, json!({})).await?;

    app.ok(
        None,
        "mutation($r: String!) { signOut(refreshToken: $r) }",
        json!({ "r": parent.refresh }),
    )
    .await?;

    let (status, body) = app.post(parent.token(), "{ me { id } }", json!({})).await?;
    assert_eq!(status, 401, "{body}");
    let init = json!({ "type": "connection_init", "payload": { "token": parent.access } });
    assert_eq!(close_code_after(&app, init).await?, Some(4403));
    let frame = open.next_within(Duration::from_secs(4)).await?;
    assert_eq!(frame, Some(Frame::Closed(Some(4403))));
    Ok(())
}
