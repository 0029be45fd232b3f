//! The report read against the seeded year. Over the year, whatever
//! earlier scenarios wrote is taken out by asking once before seeding:
//! each figure must gain exactly what the tally says. The last whole
//! month lies before anything else in the run, so its figures must be
//! the tally's own. The per-service ratings are the year's alone.

use std::collections::HashMap;

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use uuid::Uuid;

use super::tally::{Pair, Tally};

/// Figures whose numerator and denominator both add up month by month.
const RATIOS: [&str; 11] = [
    "familiesActivated",
    "targetedAnnouncements",
    "personalMessages",
    "answeredWithinTarget",
    "announcementReadRate",
    "digitalPayments",
    "resolvedWithinTarget",
    "averageRating",
    "averageSatisfaction",
    "complaintsResolved",
    "recommendScore",
];

/// Counts: the numerator is the figure, the denominator always 1.
const COUNTS: [&str; 2] = ["messages", "requestsInApp"];

const MEDIAN: &str = "medianFirstResponseMinutes";

/// Checks what the year's report gained from `before` to `after`.
pub fn year(before: &Value, after: &Value, tally: &Tally, months: (&str, &str)) -> Result<()> {
    let (b, a) = (figures(before)?, figures(after)?);
    let gained = |key: &str| -> Result<Pair> {
        let (x, y) = (get(&b, key)?, get(&a, key)?);
        Ok((y.0 - x.0, y.1 - x.1))
    };
    for key in RATIOS {
        same(
            "the year",
            key,
            gained(key)?,
            tally.figure(key, months.0, months.1),
        )?;
    }
    for key in COUNTS {
        let want = tally.figure(key, months.0, months.1).0;
        same("the year", key, (gained(key)?.0, 0), (want, 0))?;
    }
    let (median, answered) = tally.median_minutes(months.0, months.1);
    same("the year", MEDIAN, (0, gained(MEDIAN)?.1), (0, answered))?;
    if get(&b, MEDIAN)?.1 == 0 {
        same(
            "the year",
            MEDIAN,
            (get(&a, MEDIAN)?.0, 0),
            (median.unwrap_or(0), 0),
        )?;
    }
    let active = get(&a, "activeUsers")?;
    ensure!(
        active.0 >= tally.active.len() as i64,
        "the year: activeUsers counts {} people, the seeded year alone has {}",
        active.0,
        tally.active.len()
    );
    same(
        "the year",
        "activeUsers (users)",
        (0, gained("activeUsers")?.1),
        (0, tally.users_added),
    )?;
    services(after, tally)
}

/// Checks one month's report, and that the year's report splits the
/// same month out the same way.
pub fn month(year: &Value, answer: &Value, tally: &Tally, month: &str) -> Result<()> {
    let got = figures(answer)?;
    let label = format!("month {month}");
    for key in RATIOS {
        same(
            &label,
            key,
            get(&got, key)?,
            tally.figure(key, month, month),
        )?;
    }
    for key in COUNTS {
        let want = (tally.figure(key, month, month).0, 1);
        same(&label, key, get(&got, key)?, want)?;
    }
    let (median, answered) = tally.median_minutes(month, month);
    same(
        &label,
        MEDIAN,
        get(&got, MEDIAN)?,
        (median.unwrap_or(0), answered),
    )?;
    let split = year["months"]
        .as_array()
        .context("no months in the year's report")?
        .iter()
        .find(|m| m["month"] == month)
        .context("the year's report has no entry for the month")?;
    ensure!(
        split["indicators"] == answer["indicators"],
        "{label}: the year's report gives this month other figures than the month's report"
    );
    Ok(())
}

/// Each service's ratings and average must be what was rated.
fn services(answer: &Value, tally: &Tally) -> Result<()> {
    let listed = answer["services"].as_array().context("no services")?;
    for entry in listed {
        let id: Uuid = entry["service"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .context("a service without an id")?;
        let name = &entry["service"]["name"];
        let (count, sum) = *tally
            .services
            .get(&id)
            .with_context(|| format!("service {name} has ratings the year did not write"))?;
        let average = entry["averageRating"].as_f64().unwrap_or(f64::NAN);
        ensure!(
            entry["ratings"] == count && (average - sum as f64 / count as f64).abs() < 1e-9,
            "service {name}: {} ratings averaging {average}, the year rated it {count} times \
             averaging {}",
            entry["ratings"],
            sum as f64 / count as f64
        );
    }
    ensure!(
        listed.len() == tally.services.len(),
        "{} services have ratings, the year rated {}",
        listed.len(),
        tally.services.len()
    );
    Ok(())
}

fn same(label: &str, key: &str, got: Pair, want: Pair) -> Result<()> {
    ensure!(
        got == want,
        "serviceReport, {label}: {key} (numerator, denominator) is {got:?}, \
         the seeded year gives {want:?}"
    );
    Ok(())
}

/// The figures of a report's `indicators`, by key.
fn figures(report: &Value) -> Result<HashMap<String, Pair>> {
    let mut out = HashMap::new();
    let indicators = report["indicators"].as_array().context("no indicators")?;
    for figure in indicators
        .iter()
        .flat_map(|i| i["figures"].as_array().into_iter().flatten())
    {
        let key = figure["key"].as_str().context("a figure without a key")?;
        let n = figure["numerator"].as_i64().context("no numerator")?;
        let d = figure["denominator"].as_i64().context("no denominator")?;
        out.insert(key.to_owned(), (n, d));
    }
    Ok(out)
}

fn get(figures: &HashMap<String, Pair>, key: &str) -> Result<Pair> {
    figures
        .get(key)
        .copied()
        .with_context(|| format!("the report has no figure {key}"))
}
