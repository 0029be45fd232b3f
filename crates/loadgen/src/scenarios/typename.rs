//! Scenario 1: the cost of the HTTP and GraphQL layers alone. `{
//! __typename }` touches no resolver and no database, so what is left is
//! routing, the guards, parsing, validation and serialisation; the
//! baseline is a bare axum handler answering the same JSON.

use anyhow::{Result, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::{Value, json};

use super::{Bench, at_rate, comparison_note, sustained};
use crate::client::Api;
use crate::report::{Figure, Report, Row};

const QUERY: &str = "{ __typename }";

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let bare = bench.stack.serve_router(baseline()).await?;
    let scrm_api = bench.api.clone();
    let bare_api = bench.api_at(bare.addr);
    let sizes = &bench.sizes;
    let store = &bench.main.state.store;
    let counter = || store.statements_run();

    let scrm = sustained(sizes, counter, op(scrm_api.clone())).await?;
    let base = sustained(sizes, counter, op(bare_api.clone())).await?;
    let rate = scrm.throughput.per_second() / 2.0;
    let mut scrm_lat = at_rate(sizes, rate, op(scrm_api)).await?;
    let mut base_lat = at_rate(sizes, rate, op(bare_api)).await?;
    bare.stop().await;

    report.row(Row::at_least(
        "1",
        "`{ __typename }` over HTTP, requests",
        Figure::per_second(scrm.throughput.per_second()),
        Figure::per_second(base.throughput.per_second()),
        0.2,
    ));
    let note = comparison_note(rate, (&scrm, &mut scrm_lat), (&base, &mut base_lat));
    report.note("1", note);
    Ok(())
}

fn op(api: Api) -> impl Fn(u64) -> futures_util::future::BoxFuture<'static, Result<()>> + Clone {
    move |_| {
        let api = api.clone();
        Box::pin(async move {
            let data = api.run(None, QUERY, json!({})).await?;
            ensure!(data["__typename"] == "Query", "unexpected answer {data}");
            Ok(())
        })
    }
}

/// Reads the request as scrm does, answers constant JSON.
fn baseline() -> Router {
    Router::new().route(
        "/graphql",
        post(|_body: Bytes| async {
            axum::Json(json!({ "data": { "__typename": Value::from("Query") } }))
        }),
    )
}
