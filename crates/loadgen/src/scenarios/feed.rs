//! Scenario 2: parents opening the app's first screen, the first page of
//! their announcement feed, all at once. The baseline runs the same feed
//! SQL (`Store::feed`) through the same pool behind a bare axum route,
//! so the difference is what scrm adds around it: authentication, the
//! unread count, authors, GraphQL.

use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use futures_util::future::BoxFuture;
use scrm_domain::school_time::truncate_to_micros;
use scrm_persistence::Store;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Bench, PUBLISH, at_rate, comparison_note, sustained};
use crate::client::Api;
use crate::report::{Figure, Report, Row};

const PAGE: usize = 20;

const FEED: &str = "{ feed(first: 20) { unreadCount
  edges { cursor node { id title body category urgency publishAt readAt author { name } } }
  pageInfo { hasNextPage endCursor } } }";

/// The same page without authors: what the author field costs.
const FEED_WITHOUT_AUTHORS: &str = "{ feed(first: 20) { unreadCount
  edges { cursor node { id title body category urgency publishAt readAt } }
  pageInfo { hasNextPage endCursor } } }";

const CATEGORIES: [&str; 4] = ["GENERAL", "ACADEMIC", "EVENT", "FINANCE"];

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let school = bench.school()?;
    for n in 0..bench.sizes.announcements {
        let input = json!({
            "title": format!("Pengumuman {n}"),
            "body": "Yth. Bapak/Ibu, mohon dibaca dengan saksama.",
            "category": CATEGORIES[n % CATEGORIES.len()],
            "audience": { "everyone": true },
        });
        let data = bench.api.run(
            Some(&school.admin.token),
            PUBLISH,
            json!({ "input": input }),
        );
        data.await?;
    }
    let readers: Arc<Vec<(String, String)>> = Arc::new(
        school
            .parents
            .iter()
            .map(|p| (p.session.token.clone(), p.session.user_id.clone()))
            .collect(),
    );
    ensure!(!readers.is_empty(), "no activated parents to read the feed");

    let store = bench.main.state.store.clone();
    let bare = bench.stack.serve_router(baseline(store.clone())).await?;
    let counter = || store.statements_run();
    let sizes = &bench.sizes;
    let scrm_op = scrm_feed(bench.api.clone(), Arc::clone(&readers), FEED);
    let bare_op = bare_feed(bench.api_at(bare.addr), Arc::clone(&readers));
    let scrm = sustained(sizes, counter, scrm_op.clone()).await?;
    let base = sustained(sizes, counter, bare_op.clone()).await?;
    let rate = scrm.throughput.per_second() / 2.0;
    let mut scrm_lat = at_rate(sizes, rate, scrm_op).await?;
    let mut base_lat = at_rate(sizes, rate, bare_op).await?;
    bare.stop().await;
    let lean_op = scrm_feed(
        bench.api.clone(),
        Arc::clone(&readers),
        FEED_WITHOUT_AUTHORS,
    );
    let lean = sustained(sizes, counter, lean_op).await?;

    report.row(Row::at_least(
        "2",
        "feed, first page of 20, requests",
        Figure::per_second(scrm.throughput.per_second()),
        Figure::per_second(base.throughput.per_second()),
        0.5,
    ));
    let note = comparison_note(rate, (&scrm, &mut scrm_lat), (&base, &mut base_lat));
    report.note(
        "2",
        format!(
            "{} readers; {note}; the same page without `author`: {:.0}/s, {:.1} statements",
            readers.len(),
            lean.throughput.per_second(),
            lean.statements
        ),
    );
    Ok(())
}

type Op = BoxFuture<'static, Result<()>>;

fn scrm_feed(
    api: Api,
    readers: Arc<Vec<(String, String)>>,
    query: &'static str,
) -> impl Fn(u64) -> Op + Clone {
    move |i| {
        let (api, readers) = (api.clone(), Arc::clone(&readers));
        Box::pin(async move {
            let (token, _) = &readers[i as usize % readers.len()];
            let data = api.run(Some(token), query, json!({})).await?;
            let edges = data["feed"]["edges"].as_array().context("no edges")?;
            ensure!(edges.len() == PAGE, "a feed page of {}", edges.len());
            ensure!(data["feed"]["unreadCount"].is_number(), "no unread count");
            Ok(())
        })
    }
}

fn bare_feed(api: Api, readers: Arc<Vec<(String, String)>>) -> impl Fn(u64) -> Op + Clone {
    move |i| {
        let (api, readers) = (api.clone(), Arc::clone(&readers));
        Box::pin(async move {
            let (_, user) = &readers[i as usize % readers.len()];
            let url = format!("{}/feed/{user}", api.base);
            let response = api.http().get(url).send().await?;
            ensure!(
                response.status() == 200,
                "baseline answered {}",
                response.status()
            );
            let body: Value = response.json().await?;
            let items = body["items"].as_array().context("no items")?;
            ensure!(items.len() == PAGE, "a baseline page of {}", items.len());
            Ok(())
        })
    }
}

fn baseline(store: Store) -> Router {
    Router::new()
        .route("/feed/{user}", get(bare_page))
        .with_state(store)
}

/// The feed SQL and the JSON of its rows, nothing else.
async fn bare_page(
    State(store): State<Store>,
    Path(user): Path<Uuid>,
) -> Result<axum::Json<Value>, StatusCode> {
    let now = truncate_to_micros(chrono::Utc::now());
    let mut items = store
        .feed(user, now, None, PAGE as u64 + 1)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .items;
    let more = items.len() > PAGE;
    items.truncate(PAGE);
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let a = &item.announcement;
            json!({ "id": a.id, "title": a.title, "body": a.body, "category": a.category,
                    "urgency": a.urgency, "publishAt": a.publish_at, "readAt": item.read_at })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "hasNextPage": more })))
}
