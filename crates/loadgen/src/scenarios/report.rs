//! Scenario 8: the admin's service report (`serviceReport`) over a
//! school year. A year of activity is written straight into the store,
//! at its own past instants (through the API it would take hours):
//! announcements and their reads, support requests and their answers,
//! monthly invoices and their payments, ratings, surveys, complaint
//! flags. The report is then checked against what was written, and
//! timed over the whole year and over the last whole month. The
//! baseline is the SQL the report stands on, `Store::report_facts`, for
//! the same year. No goal: the figures are there to be read.

mod announce;
mod billing;
mod calendar;
mod check;
mod flags;
mod people;
mod ratings;
mod support;
mod tally;

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use scrm_persistence::Store;
use serde_json::{Value, json};
use uuid::Uuid;

use self::calendar::{Calendar, month_name};
use self::people::People;
use self::tally::Tally;
use super::Bench;
use crate::client::Api;
use crate::options::Activity;
use crate::report::{Figure, Report, Row};
use crate::stats::Latencies;

/// Writes in flight at once while seeding: the SQLite pool's size.
const AT_ONCE: usize = 8;

const SERVICE_REPORT: &str = "query($from: Date!, $to: Date!) {
  serviceReport(from: $from, to: $to) { from to
    indicators { key figures { key definition numerator denominator value } }
    months { month indicators { key figures { key definition numerator denominator value } } }
    services { service { id name } ratings averageRating } } }";

/// Repeated asks of one report: their times and statement counts.
struct Timed {
    latencies: Latencies,
    statements: Vec<u64>,
}

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let school = bench.school()?;
    let state = &bench.main.state;
    let cal = Calendar::new(state.clock, state.now());
    let (year, month) = ((cal.year_ago(), cal.today), cal.last_month());
    let token = &school.admin.token;
    let before = ask(&bench.api, token, year).await?;

    let started = Instant::now();
    let admin = school.admin.user_id.parse().context("the admin's id")?;
    let tally = seed(&state.store, &cal, admin, &bench.sizes.activity).await?;
    let seeding = started.elapsed();

    let after = ask(&bench.api, token, year).await?;
    check::year(
        &before,
        &after,
        &tally,
        (&month_name(year.0), &month_name(year.1)),
    )?;
    let one_month = ask(&bench.api, token, month).await?;
    check::month(&after, &one_month, &tally, &month_name(month.0))?;

    let n = bench.sizes.activity.queries;
    let mut over_year = timed(bench, year, n).await?;
    let mut over_month = timed(bench, month, n).await?;
    let mut facts = facts_alone(bench, year, n).await?;
    report.row(Row::unjudged(
        "8",
        "service report over a year, p95",
        Figure::ms(over_year.latencies.percentile(95.0)),
        Figure::ms(facts.percentile(95.0)),
    ));
    let note = format!(
        "seeded in {:.1} s: {}; the year {} to {}: {}; its facts alone \
         (`Store::report_facts`, the baseline): {}; the month {}: {}; \
         every figure checked against the seeded year",
        seeding.as_secs_f64(),
        seeded(&tally, &people_note(&after)),
        year.0,
        year.1,
        over_year.summary(),
        facts.summary_to("max", 100.0),
        month_name(month.0),
        over_month.summary(),
    );
    report.note("8", note);
    Ok(())
}

/// Writes the year, part by part, and gives what it must add.
async fn seed(store: &Store, cal: &Calendar, admin: Uuid, sizes: &Activity) -> Result<Tally> {
    let mut tally = Tally::default();
    let step = Instant::now();
    let people = People::gather(store, cal, admin, sizes.activated, &mut tally).await?;
    progress("accounts", step);
    let announced = announce::publish_year(store, cal, &people, sizes.announcements);
    tally.merge(announced.await?);
    progress("announcements and reads", step);
    let requests = support::work_year(store, cal, &people, sizes.support_requests);
    tally.merge(requests.await?);
    progress("support requests", step);
    let billed = billing::bill_year(store, cal, &people, sizes.billed_months);
    tally.merge(billed.await?);
    progress("invoices and payments", step);
    let rated = ratings::rate_year(store, cal, &people, sizes.rating_chance);
    tally.merge(rated.await?);
    tally.merge(ratings::survey_year(store, cal, &people).await?);
    flags::resolve_all(store, &tally.raised).await?;
    progress("ratings, surveys and flags", step);
    Ok(tally)
}

fn progress(what: &str, since: Instant) {
    println!(
        "  seeded {what} ({:.1} s in)",
        since.elapsed().as_secs_f64()
    );
}

async fn ask(api: &Api, token: &str, (from, to): (NaiveDate, NaiveDate)) -> Result<Value> {
    let variables = json!({ "from": from.to_string(), "to": to.to_string() });
    let data = api.run(Some(token), SERVICE_REPORT, variables).await?;
    Ok(data["serviceReport"].clone())
}

/// Asks `n` times, one after another, as an admin opening the page.
async fn timed(bench: &Bench<'_>, range: (NaiveDate, NaiveDate), n: usize) -> Result<Timed> {
    let token = &bench.school()?.admin.token;
    let mut out = Timed {
        latencies: Latencies::default(),
        statements: vec![],
    };
    for _ in 0..n {
        let before = bench.main.statements();
        let started = Instant::now();
        ask(&bench.api, token, range).await?;
        out.latencies.push(started.elapsed());
        out.statements.push(bench.main.statements() - before);
    }
    Ok(out)
}

/// The report's SQL alone, on the servers' runtime where its pool lives.
async fn facts_alone(
    bench: &Bench<'_>,
    (from, to): (NaiveDate, NaiveDate),
    n: usize,
) -> Result<Latencies> {
    let store = bench.main.state.store.clone();
    let (start, end) = bench.main.state.clock.range_of_days(from, to);
    let months = (month_name(from), month_name(to));
    let work = async move {
        let mut latencies = Latencies::default();
        for _ in 0..n {
            let started = Instant::now();
            store
                .report_facts(start, end, (&months.0, &months.1))
                .await
                .context("the report's facts failed")?;
            latencies.push(started.elapsed());
        }
        Ok::<_, anyhow::Error>(latencies)
    };
    bench.stack.on_servers(work).await?
}

impl Timed {
    /// "p50 …, p95 …, max … (n=20), 23 statements a report".
    fn summary(&mut self) -> String {
        self.statements.sort_unstable();
        // The median: the scheduler's occasional statement stays out.
        let statements = self.statements.get(self.statements.len() / 2);
        format!(
            "{}, {} statements a report",
            self.latencies.summary_to("max", 100.0),
            statements.copied().unwrap_or_default()
        )
    }
}

/// How many families the report counts, and how many have an account.
fn people_note(after: &Value) -> String {
    let figure = after["indicators"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["figures"].as_array().into_iter().flatten())
        .find(|f| f["key"] == "familiesActivated");
    match figure {
        Some(f) => format!(
            "{} of {} families with an account",
            f["numerator"], f["denominator"]
        ),
        None => "families unknown".to_owned(),
    }
}

/// What the seeding wrote, for the note.
fn seeded(tally: &Tally, families: &str) -> String {
    let n = |what: &str| tally.written.get(what).copied().unwrap_or_default();
    format!(
        "{families} ({} activated here), {} announcements ({} reads), {} support requests \
         ({} messages), {} invoices ({} payments: {} settled online, {} by bank transfer), \
         {} ratings of {} services, {} survey answers, {} complaint flags",
        n("families activated here"),
        n("announcements"),
        n("announcement reads"),
        n("support requests"),
        n("messages"),
        n("invoices"),
        n("payments"),
        n("settled online"),
        n("settled by bank transfer"),
        n("ratings"),
        tally.services.len(),
        n("survey answers"),
        n("complaint flags"),
    )
}
