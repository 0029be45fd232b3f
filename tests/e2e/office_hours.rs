//! Teachers' office hours in the school's time zone (Asia/Jakarta): a
//! message outside them is delivered at once, its sender learns when to
//! expect an answer, and the teacher hears of it only when they open.

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Asia::Jakarta;
use chrono_tz::Tz;
use scrm_e2e::{Frame, School, Session, TestApp, WsClient};
use serde_json::{Value, json};

use crate::conversations::direct;
use crate::live::{next_posted, subscribe};

const SET_HOURS: &str = "mutation($h: [OfficeHoursInput!]!) { setOfficeHours(hours: $h) }";
const SEND: &str = "mutation($t: UUID!, $c: String!, $b: String!) {
  sendMessage(threadId: $t, clientId: $c, body: $b) { id createdAt expectedReplyAt }
}";
const INBOX_EVENTS: &str = "subscription { inboxEvents { unreadCount thread { id } } }";

fn slot(day: Weekday, start: &str, end: &str) -> Value {
    json!({ "weekday": day.number_from_monday(), "start": start, "end": end })
}

async fn set_hours(app: &TestApp, who: &Session, slots: Vec<Value>) -> Result<Value> {
    app.ok(who.token(), SET_HOURS, json!({ "h": slots })).await
}

/// Sends as `who`; gives (createdAt, expectedReplyAt).
async fn send(
    app: &TestApp,
    who: &Session,
    thread: &str,
    body: &str,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let vars = json!({ "t": thread, "c": uuid::Uuid::now_v7(), "b": body });
    let sent = app.ok(who.token(), SEND, vars).await?["sendMessage"].clone();
    let at = |k: &str| {
        sent[k]
            .as_str()
            .map(str::parse::<DateTime<Utc>>)
            .transpose()
    };
    Ok((
        at("createdAt")?.context("createdAt")?,
        at("expectedReplyAt")?,
    ))
}

/// Follows `who`'s inbox as subscription "i".
async fn watch_inbox(app: &TestApp, who: &Session) -> Result<WsClient> {
    let mut ws = app.ws(who.token()).await?;
    ws.subscribe("i", INBOX_EVENTS, json!({})).await?;
    // The subscription is live once the server has joined the bus topic.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(ws)
}

/// The thread id of the next inbox event within `wait`, if one comes.
async fn inbox_event(ws: &mut WsClient, wait: Duration) -> Result<Option<String>> {
    match ws.next_within(wait).await? {
        Some(Frame::Message(m)) if m["type"] == "next" && m["id"] == "i" => {
            let thread = &m["payload"]["data"]["inboxEvents"]["thread"]["id"];
            Ok(Some(thread.as_str().context("thread id")?.to_owned()))
        }
        None => Ok(None),
        Some(other) => anyhow::bail!("unexpected frame {other:?}"),
    }
}

/// The instant `time` on `date` in Jakarta.
fn jakarta(date: chrono::NaiveDate, time: &str) -> Result<DateTime<Utc>> {
    let time = NaiveTime::parse_from_str(time, "%H:%M")?;
    let local = Jakarta.from_local_datetime(&date.and_time(time)).single();
    Ok(local.context("Jakarta has no gaps")?.with_timezone(&Utc))
}

/// Waits out the last minute of a Jakarta day, which "00:00–23:59"
/// leaves closed.
async fn not_at_midnight() {
    let now = Utc::now().with_timezone(&Jakarta);
    if now.hour() == 23 && now.minute() == 59 {
        tokio::time::sleep(Duration::from_secs(61 - u64::from(now.second()))).await;
    }
}

#[tokio::test]
async fn a_message_outside_office_hours_is_delivered_and_the_teacher_waits_for_them() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (parent, teacher) = (&school.ayu_parent, &school.teacher);
    let today = Utc::now().with_timezone(&Jakarta).date_naive();
    let tomorrow = today.succ_opt().context("a tomorrow")?;
    set_hours(
        &app,
        teacher,
        vec![slot(tomorrow.weekday(), "10:00", "11:00")],
    )
    .await?;
    let thread = direct(&app, parent, teacher).await?;
    let mut inbox = watch_inbox(&app, teacher).await?;
    let mut live = app.ws(teacher.token()).await?;
    subscribe(&mut live, "t", &thread, None).await?;

    let vars = json!({ "t": thread, "c": "sakit-1", "b": "Bu, Ayu sakit hari ini" });
    let first = app.ok(parent.token(), SEND, vars.clone()).await?;
    // The app never saw that answer and sends again.
    let retry = app.ok(parent.token(), SEND, vars).await?;
    let delivered = next_posted(&mut live, "t").await?;
    let heard = inbox_event(&mut inbox, Duration::from_secs(1)).await?;

    // Sent today (or just past midnight, before ten): tomorrow at ten.
    let expected = &first["sendMessage"]["expectedReplyAt"];
    let promised: DateTime<Utc> = expected.as_str().context("no expectedReplyAt")?.parse()?;
    assert_eq!(promised, jakarta(tomorrow, "10:00")?);
    assert_eq!(
        retry["sendMessage"], first["sendMessage"],
        "a retry is told the same"
    );
    assert_eq!(delivered, (1, "Bu, Ayu sakit hari ini".to_owned()));
    assert_eq!(heard, None, "the teacher is not told before the hours open");
    Ok(())
}

#[tokio::test]
async fn the_teacher_hears_of_a_held_message_when_the_hours_open() -> Result<()> {
    let app = TestApp::spawn_with(|c| c.scheduler_interval_ms = 250).await?;
    let school = School::new(&app).await?;
    let (parent, teacher) = (&school.ayu_parent, &school.teacher);
    // A one-minute slot from the next whole minute, at least 5 s away.
    let mut now = Utc::now().with_timezone(&Jakarta);
    if now.hour() == 23 && now.minute() >= 58 {
        tokio::time::sleep(Duration::from_secs(121 - u64::from(now.second()))).await;
        now = Utc::now().with_timezone(&Jakarta);
    }
    let mut opens = now
        .with_second(0)
        .context("minute")?
        .with_nanosecond(0)
        .context("ns")?
        + chrono::Duration::minutes(1);
    if opens - now < chrono::Duration::seconds(5) {
        opens += chrono::Duration::minutes(1);
    }
    let closes = opens + chrono::Duration::minutes(1);
    let hhmm = |t: DateTime<Tz>| t.format("%H:%M").to_string();
    set_hours(
        &app,
        teacher,
        vec![slot(opens.weekday(), &hhmm(opens), &hhmm(closes))],
    )
    .await?;
    let thread = direct(&app, parent, teacher).await?;
    let mut inbox = watch_inbox(&app, teacher).await?;

    let (_, expected) = send(&app, parent, &thread, "Bu, mohon izin").await?;
    let early = (opens.with_timezone(&Utc) - Utc::now() - chrono::Duration::seconds(1)).to_std()?;
    let before_opening = inbox_event(&mut inbox, early).await?;
    let at_opening = inbox_event(&mut inbox, Duration::from_secs(10)).await?;

    assert_eq!(expected, Some(opens.with_timezone(&Utc)));
    assert_eq!(before_opening, None);
    assert_eq!(at_opening, Some(thread));
    Ok(())
}

#[tokio::test]
async fn with_hours_open_all_week_the_teacher_hears_at_once_and_no_wait_is_promised() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (parent, teacher) = (&school.ayu_parent, &school.teacher);
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    set_hours(
        &app,
        teacher,
        days.iter().map(|d| slot(*d, "00:00", "23:59")).collect(),
    )
    .await?;
    let thread = direct(&app, parent, teacher).await?;
    let mut inbox = watch_inbox(&app, teacher).await?;
    not_at_midnight().await;

    let (_, expected) = send(&app, parent, &thread, "Bu, PR halaman berapa?").await?;
    let heard = inbox_event(&mut inbox, Duration::from_secs(5)).await?;

    assert_eq!(expected, None);
    assert_eq!(heard, Some(thread));
    Ok(())
}

#[tokio::test]
async fn office_hours_that_make_no_sense_are_refused_with_the_field_named() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let cases = [
        (
            json!({ "weekday": 1, "start": "10:00", "end": "09:00" }),
            "hours",
        ),
        (
            json!({ "weekday": 1, "start": "10:00", "end": "10:00" }),
            "hours",
        ),
        (
            json!({ "weekday": 8, "start": "08:00", "end": "09:00" }),
            "weekday",
        ),
        (
            json!({ "weekday": 0, "start": "08:00", "end": "09:00" }),
            "weekday",
        ),
        (
            json!({ "weekday": 2, "start": "25:00", "end": "26:00" }),
            "start",
        ),
        (
            json!({ "weekday": 2, "start": "08:00", "end": "25:00" }),
            "end",
        ),
        (
            json!({ "weekday": 2, "start": "pagi", "end": "09:00" }),
            "start",
        ),
    ];

    let mut refusals = vec![];
    for (slot, _) in &cases {
        let (_, body) = app
            .post(school.teacher.token(), SET_HOURS, json!({ "h": [slot] }))
            .await?;
        let ext = body["errors"][0]["extensions"].clone();
        refusals.push((ext["code"].clone(), ext["field"].clone()));
    }

    for ((slot, field), got) in cases.iter().zip(refusals) {
        assert_eq!(got, (json!("BAD_USER_INPUT"), json!(field)), "{slot}");
    }
    Ok(())
}

#[tokio::test]
async fn a_parent_cannot_set_office_hours() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;

    let vars = json!({ "h": [slot(Weekday::Mon, "08:00", "09:00")] });
    let code = app
        .error_code(school.ayu_parent.token(), SET_HOURS, vars)
        .await?;

    assert_eq!(code, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn a_staff_members_message_to_a_teacher_is_never_held_back() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let teacher = &school.teacher;
    let tomorrow = Utc::now()
        .with_timezone(&Jakarta)
        .date_naive()
        .succ_opt()
        .context("day")?;
    set_hours(
        &app,
        teacher,
        vec![slot(tomorrow.weekday(), "10:00", "11:00")],
    )
    .await?;
    let thread = direct(&app, &school.admin, teacher).await?;
    let mut inbox = watch_inbox(&app, teacher).await?;

    let (_, expected) = send(&app, &school.admin, &thread, "Rapat guru jam 2").await?;
    let heard = inbox_event(&mut inbox, Duration::from_secs(5)).await?;

    assert_eq!(expected, None);
    assert_eq!(heard, Some(thread));
    Ok(())
}
