//! Reading a thread: who has read what, read markers that only move
//! forward, typing, muting, and history paged in both directions.

use anyhow::{Context, Result};
use scrm_e2e::{School, Session, TestApp};
use serde_json::{Value, json};

use super::{groups::group, ids, next_event, view, watch};
use crate::conversations::{direct, send};

const MARK_READ: &str =
    "mutation($t: UUID!, $s: Int!) { markThreadRead(threadId: $t, seq: $s) { lastReadSeq } }";

#[tokio::test]
async fn the_sender_alone_sees_who_has_read_and_it_follows_read_markers() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(&app, ayu, &[bima, citra]).await?;
    send(&app, ayu, &thread, "rb-1", "Arisan hari Sabtu").await?;
    send(&app, ayu, &thread, "rb-2", "Di rumah saya").await?;
    let unread_yet = view(&app, ayu, &thread).await?;

    app.ok(bima.token(), MARK_READ, json!({ "t": thread, "s": 2 }))
        .await?;
    app.ok(citra.token(), MARK_READ, json!({ "t": thread, "s": 1 }))
        .await?;
    let sender_view = view(&app, ayu, &thread).await?;
    let reader_view = view(&app, bima, &thread).await?;

    assert_eq!(ids(&unread_yet[0]["readBy"]), Vec::<String>::new());
    let mut both = vec![bima.user_id.clone(), citra.user_id.clone()];
    both.sort();
    assert_eq!(ids(&sender_view[0]["readBy"]), both);
    assert_eq!(ids(&sender_view[1]["readBy"]), vec![bima.user_id.clone()]);
    assert_eq!(
        ids(&reader_view[0]["readBy"]),
        Vec::<String>::new(),
        "not the sender"
    );
    Ok(())
}

#[tokio::test]
async fn a_read_marker_never_moves_back_nor_past_the_last_message_and_is_told_live() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    for i in 1..=3 {
        send(&app, ayu, &thread, &format!("k-{i}"), &format!("Pesan {i}")).await?;
    }
    let mut ws = watch(&app, ayu, &thread).await?;
    let mark = |seq: i64| app.ok(bima.token(), MARK_READ, json!({ "t": thread, "s": seq }));

    let forward = mark(2).await?;
    let back = mark(1).await?;
    let past = mark(99).await?;
    let event = next_event(&mut ws, "READ").await?;
    let state = app
        .ok(
            bima.token(),
            "query($t: UUID!) { thread(id: $t) { lastReadSeq unreadCount } }",
            json!({ "t": thread }),
        )
        .await?;

    let marker = |v: &Value| v["markThreadRead"]["lastReadSeq"].as_i64();
    assert_eq!(
        (marker(&forward), marker(&back), marker(&past)),
        (Some(2), Some(2), Some(3))
    );
    assert_eq!(
        state["thread"],
        json!({ "lastReadSeq": 3, "unreadCount": 0 })
    );
    assert_eq!(
        (&event["userId"], &event["seq"]),
        (&json!(bima.user_id), &json!(2))
    );
    Ok(())
}

#[tokio::test]
async fn typing_reaches_the_other_members_but_not_the_typer() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    let mut typer = watch(&app, ayu, &thread).await?;
    let mut other = watch(&app, bima, &thread).await?;

    let typing = "mutation($t: UUID!) { typing(threadId: $t) }";
    app.ok(ayu.token(), typing, json!({ "t": thread })).await?;
    let seen = next_event(&mut other, "TYPING").await?;
    send(&app, ayu, &thread, "t-1", "Sudah sampai").await?;
    let typers_next = typer.next_data("e").await?;

    assert_eq!(seen["userId"], json!(ayu.user_id));
    assert_eq!(
        typers_next["threadEvents"]["kind"], "MESSAGE_POSTED",
        "the typer's own TYPING never comes back to them"
    );
    Ok(())
}

#[tokio::test]
async fn a_muted_thread_says_so_to_its_muter_only() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    send(&app, ayu, &thread, "mu-1", "Grup ramai sekali").await?;
    let mute =
        "mutation($t: UUID!, $m: Boolean!) { muteThread(threadId: $t, muted: $m) { muted } }";
    let inbox = "{ inbox(first: 5) { edges { node { muted } } } }";
    let shown = |v: &Value| v["inbox"]["edges"][0]["node"]["muted"].clone();

    let muted = app
        .ok(bima.token(), mute, json!({ "t": thread, "m": true }))
        .await?;
    let bimas_inbox = app.ok(bima.token(), inbox, json!({})).await?;
    let ayus_inbox = app.ok(ayu.token(), inbox, json!({})).await?;
    app.ok(bima.token(), mute, json!({ "t": thread, "m": false }))
        .await?;
    let unmuted = app.ok(bima.token(), inbox, json!({})).await?;

    assert_eq!(muted["muteThread"]["muted"], true);
    assert_eq!(
        (shown(&bimas_inbox), shown(&ayus_inbox)),
        (json!(true), json!(false))
    );
    assert_eq!(shown(&unmuted), json!(false));
    Ok(())
}

const PAGE: &str = "query($t: UUID!, $f: Int, $a: String, $l: Int, $b: String) {
  thread(id: $t) { messages(first: $f, after: $a, last: $l, before: $b) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { seq } } } }
}";

/// One page: its seqs, hasPreviousPage, hasNextPage and the cursors.
async fn page(
    app: &TestApp,
    who: &Session,
    vars: Value,
) -> Result<(Vec<i64>, bool, bool, Value, Value)> {
    let data = app.ok(who.token(), PAGE, vars).await?;
    let conn = &data["thread"]["messages"];
    let seqs = conn["edges"].as_array().context("edges")?;
    let seqs = seqs
        .iter()
        .filter_map(|e| e["node"]["seq"].as_i64())
        .collect();
    let info = &conn["pageInfo"];
    let flag = |k: &str| info[k].as_bool().unwrap_or_default();
    Ok((
        seqs,
        flag("hasPreviousPage"),
        flag("hasNextPage"),
        info["startCursor"].clone(),
        info["endCursor"].clone(),
    ))
}

#[tokio::test]
async fn history_reads_forward_and_back_over_45_messages_without_gaps_or_repeats() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    for i in 1..=45 {
        let from = if i % 3 == 0 { bima } else { ayu };
        send(
            &app,
            from,
            &thread,
            &format!("h-{i}"),
            &format!("Pesan {i}"),
        )
        .await?;
    }

    let (mut forward, mut flags_forward, mut after) = (vec![], vec![], Value::Null);
    loop {
        let (seqs, prev, next, _, end) =
            page(&app, bima, json!({ "t": thread, "f": 10, "a": after })).await?;
        forward.extend(seqs);
        flags_forward.push((prev, next));
        if !next {
            break;
        }
        after = end;
    }
    let (mut pages_back, mut flags_back, mut before) = (vec![], vec![], Value::Null);
    loop {
        let (seqs, prev, next, start, _) =
            page(&app, bima, json!({ "t": thread, "l": 10, "b": before })).await?;
        pages_back.push(seqs);
        flags_back.push((prev, next));
        if !prev {
            break;
        }
        before = start;
    }
    let backward: Vec<i64> = pages_back.into_iter().rev().flatten().collect();

    let all: Vec<i64> = (1..=45).collect();
    assert_eq!(forward, all);
    assert_eq!(backward, all);
    let expect = |first: (bool, bool), middle: (bool, bool), last: (bool, bool)| {
        [vec![first], vec![middle; 3], vec![last]].concat()
    };
    assert_eq!(
        flags_forward,
        expect((false, true), (true, true), (true, false))
    );
    assert_eq!(
        flags_back,
        expect((true, false), (true, true), (false, true))
    );
    Ok(())
}
