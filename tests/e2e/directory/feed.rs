//! A parent's feed over time: instants given with an offset (BC-06),
//! scheduled and expiring announcements, paging, and read state.

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use scrm_e2e::{Session, TestApp};
use serde_json::{Value, json};

use super::{PUBLISH, error_of, id_of, school};
use crate::roster::activate_family_of;

const FEED: &str = "query($after: String) { feed(first: 10, after: $after) {
  unreadCount pageInfo { hasNextPage endCursor }
  edges { node { id title publishAt readAt acknowledgedAt } } } }";

/// Publishes to `audience` with extra input fields; gives the answer.
async fn publish(app: &TestApp, admin: &Session, title: &str, extra: Value) -> Result<Value> {
    let mut input = json!({ "title": title, "body": "Mohon dibaca.",
                            "audience": { "everyone": true } });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    let data = app
        .ok(admin.token(), PUBLISH, json!({ "input": input }))
        .await?;
    Ok(data["publishAnnouncement"].clone())
}

async fn feed_page(app: &TestApp, reader: &Session, after: Value) -> Result<Value> {
    let data = app
        .ok(reader.token(), FEED, json!({ "after": after }))
        .await?;
    Ok(data["feed"].clone())
}

fn titles(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["title"].as_str().map(str::to_owned))
        .collect()
}

/// Polls the first page of the feed until `done` holds or 20 s pass;
/// gives the titles last seen.
async fn titles_when(
    app: &TestApp,
    reader: &Session,
    done: impl Fn(&[String]) -> bool,
) -> Result<Vec<String>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = titles(&feed_page(app, reader, Value::Null).await?);
        if done(&seen) || tokio::time::Instant::now() > deadline {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn instant(value: &Value) -> Result<DateTime<Utc>> {
    let text = value
        .as_str()
        .with_context(|| format!("not a string: {value}"))?;
    let parsed = DateTime::parse_from_rfc3339(text)?;
    anyhow::ensure!(parsed.offset().local_minus_utc() == 0, "{text} is not UTC");
    Ok(parsed.with_timezone(&Utc))
}

const AUTHORED: &str = "query($from: DateTime!, $to: DateTime!) {
  authoredAnnouncements(from: $from, to: $to) { id publishAt } }";

#[tokio::test]
async fn a_publish_time_with_an_offset_is_the_same_instant_in_utc() -> Result<()> {
    let (app, admin) = school().await?;
    let new_year: DateTime<Utc> = "2026-12-31T17:00:00Z".parse()?;

    let published = publish(
        &app,
        &admin,
        "Tahun baru",
        json!({ "publishAt": "2027-01-01T00:00:00+07:00" }),
    )
    .await?;
    let window = |from: &str, to: &str| json!({ "from": from, "to": to });
    let inside = app
        .ok(
            admin.token(),
            AUTHORED,
            window("2026-12-31T17:00:00Z", "2026-12-31T17:00:01Z"),
        )
        .await?;
    let local = app
        .ok(
            admin.token(),
            AUTHORED,
            window("2027-01-01T00:00:00+07:00", "2027-01-01T00:00:01+07:00"),
        )
        .await?;
    let before = app
        .ok(
            admin.token(),
            AUTHORED,
            window("2026-12-31T16:00:00Z", "2026-12-31T17:00:00Z"),
        )
        .await?;

    assert_eq!(instant(&published["publishAt"])?, new_year);
    let found = inside["authoredAnnouncements"].as_array().context("list")?;
    assert_eq!(found.len(), 1, "{inside}");
    assert_eq!(found[0]["id"], published["id"]);
    assert_eq!(instant(&found[0]["publishAt"])?, new_year);
    assert_eq!(
        local["authoredAnnouncements"],
        inside["authoredAnnouncements"]
    );
    assert_eq!(before["authoredAnnouncements"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_scheduled_announcement_reaches_the_feed_only_at_its_time() -> Result<()> {
    let (app, admin) = school().await?;
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let at = Utc::now() + chrono::Duration::seconds(3);

    publish(
        &app,
        &admin,
        "Nanti",
        json!({ "publishAt": at.to_rfc3339() }),
    )
    .await?;
    let early = titles(&feed_page(&app, &parent, Value::Null).await?);
    let asked_early = Utc::now() < at;
    let later = titles_when(&app, &parent, |t| !t.is_empty()).await?;

    if asked_early {
        assert_eq!(early, Vec::<String>::new());
    }
    assert_eq!(later, ["Nanti"]);
    Ok(())
}

#[tokio::test]
async fn an_expired_announcement_leaves_the_feed() -> Result<()> {
    let (app, admin) = school().await?;
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let expiry = Utc::now() + chrono::Duration::seconds(2);

    publish(
        &app,
        &admin,
        "Sebentar",
        json!({ "expiresAt": expiry.to_rfc3339() }),
    )
    .await?;
    let fresh = titles(&feed_page(&app, &parent, Value::Null).await?);
    let asked_fresh = Utc::now() < expiry;
    let later = titles_when(&app, &parent, |t| t.is_empty()).await?;

    if asked_fresh {
        assert_eq!(fresh, ["Sebentar"]);
    }
    assert_eq!(later, Vec::<String>::new());
    let unread = feed_page(&app, &parent, Value::Null).await?;
    assert_eq!(unread["unreadCount"], 0);
    Ok(())
}

#[tokio::test]
async fn the_feed_pages_through_25_announcements_newest_first_without_repeats() -> Result<()> {
    let (app, admin) = school().await?;
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    for i in 0..25 {
        publish(&app, &admin, &format!("Pengumuman {i:02}"), json!({})).await?;
    }

    let mut pages = vec![];
    let mut after = Value::Null;
    for _ in 0..3 {
        let page = feed_page(&app, &parent, after).await?;
        after = page["pageInfo"]["endCursor"].clone();
        pages.push(page);
    }

    let sizes: Vec<usize> = pages.iter().map(|p| titles(p).len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let more: Vec<&Value> = pages
        .iter()
        .map(|p| &p["pageInfo"]["hasNextPage"])
        .collect();
    assert_eq!(more, [&json!(true), &json!(true), &json!(false)]);
    let seen: Vec<String> = pages.iter().flat_map(titles).collect();
    let expected: Vec<String> = (0..25)
        .rev()
        .map(|i| format!("Pengumuman {i:02}"))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(pages[0]["unreadCount"], 25);
    Ok(())
}

const READ: &str = "mutation($id: UUID!) { markAnnouncementRead(id: $id) { readAt } }";
const ACK: &str =
    "mutation($id: UUID!) { acknowledgeAnnouncement(id: $id) { readAt acknowledgedAt } }";

#[tokio::test]
async fn marking_an_announcement_read_twice_keeps_the_first_time() -> Result<()> {
    let (app, admin) = school().await?;
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let id = id_of(&publish(&app, &admin, "Libur", json!({})).await?)?;

    let first = app.ok(parent.token(), READ, json!({ "id": id })).await?;
    let second = app.ok(parent.token(), READ, json!({ "id": id })).await?;

    let read_at = &first["markAnnouncementRead"]["readAt"];
    assert!(read_at.is_string(), "{first}");
    assert_eq!(&second["markAnnouncementRead"]["readAt"], read_at);
    let page = feed_page(&app, &parent, Value::Null).await?;
    assert_eq!(&page["edges"][0]["node"]["readAt"], read_at);
    assert_eq!(page["unreadCount"], 0);
    Ok(())
}

#[tokio::test]
async fn acknowledging_what_asks_for_no_confirmation_is_refused_and_records_nothing() -> Result<()>
{
    let (app, admin) = school().await?;
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let plain = id_of(&publish(&app, &admin, "Info", json!({})).await?)?;
    let asks = id_of(&publish(&app, &admin, "Izin", json!({ "requiresAck": true })).await?)?;

    let refused = error_of(&app, parent.token(), ACK, json!({ "id": plain })).await?;
    let confirmed = app.ok(parent.token(), ACK, json!({ "id": asks })).await?;

    assert_eq!(
        refused,
        ("BAD_USER_INPUT".to_owned(), Some("id".to_owned()))
    );
    let page = feed_page(&app, &parent, Value::Null).await?;
    let info = page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["node"]["id"] == plain.as_str())
        .context("Info in the feed")?;
    assert_eq!(info["node"]["readAt"], Value::Null);
    assert_eq!(info["node"]["acknowledgedAt"], Value::Null);
    let ack = &confirmed["acknowledgeAnnouncement"];
    assert!(
        ack["acknowledgedAt"].is_string() && ack["readAt"].is_string(),
        "{ack}"
    );
    let figures = app
        .ok(
            admin.token(),
            "query($id: UUID!) { announcement(id: $id) { delivery { read acknowledged } } }",
            json!({ "id": plain }),
        )
        .await?;
    assert_eq!(
        figures["announcement"]["delivery"],
        json!({ "read": 0, "acknowledged": 0 })
    );
    Ok(())
}
