//! A year of feedback: eight services, each rated month by month by
//! some of the guardians with an account (each service at its own
//! level, low scores and complaining comments flagged as the API flags
//! them), and two recommend surveys a semester apart.

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::audience::Audience;
use scrm_domain::role::Role;
use scrm_persistence::Store;
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::{Calendar, Dice, month_name};
use super::flags::{Source, raise_if_complaint};
use super::people::People;
use super::tally::Tally;

const PART: u64 = 5;
const SURVEYS: u64 = 6;

/// Name, description and the usual score of each service.
const SERVICES: [(&str, &str, i64); 8] = [
    ("Kantin", "Makan siang dan jajanan", 3),
    ("Bus Sekolah", "Antar jemput siswa", 3),
    ("Perpustakaan", "Peminjaman buku", 4),
    ("Tata Usaha", "Administrasi dan loket", 4),
    ("Bimbingan Konseling", "Konseling siswa", 4),
    ("Ekstrakurikuler", "Kegiatan setelah sekolah", 4),
    ("Pembelajaran", "Kegiatan belajar di kelas", 5),
    ("Sarana", "Gedung, kelas dan lapangan", 3),
];

/// How far a rating strays from its service's usual score, by weight.
const SPREAD: [(u32, i64); 4] = [(1, -2), (5, -1), (10, 0), (4, 1)];

/// Recommend scores (0–10) by weight: mostly promoters and passives.
const RECOMMEND: [(u32, u8); 7] = [(20, 10), (25, 9), (20, 8), (15, 7), (8, 6), (7, 5), (5, 3)];

/// One planned rating.
struct Planned {
    n: usize,
    service: Uuid,
    guardian: Uuid,
    at: DateTime<Utc>,
    score: u8,
    comment: Option<&'static str>,
}

/// Creates the services and the year's ratings of them.
pub async fn rate_year(
    store: &Store,
    cal: &Calendar,
    people: &People,
    chance: f64,
) -> Result<Tally> {
    let mut services = vec![];
    for (name, description, level) in SERVICES {
        let service = store
            .create_service(name, description, cal.at(cal.year_ago(), 7 * 60))
            .await
            .context("failed to create a service")?;
        services.push((service.id, level));
    }
    let plans = plan(cal, people, &services, chance);
    futures_util::stream::iter(plans)
        .map(|p| rate(store, cal, p))
        .buffer_unordered(AT_ONCE)
        .try_fold(Tally::default(), |mut tally, t| async move {
            tally.merge(t);
            Ok(tally)
        })
        .await
}

/// Who rates what and when: each guardian, each service, each of the
/// twelve months, by `chance`; on a day of that month before today.
fn plan(cal: &Calendar, people: &People, services: &[(Uuid, i64)], chance: f64) -> Vec<Planned> {
    let mut out = vec![];
    let mut dice = Dice::new(PART, 0);
    for back in 0..12 {
        let first = cal.month_start(back);
        let days = if back == 0 {
            i64::from(cal.today.day()) - 1
        } else {
            i64::from(days_in(first))
        };
        for h in &people.households {
            for (service, level) in services {
                if days < 1 || !dice.chance(chance) {
                    continue;
                }
                let day = first + Duration::days(dice.range(0, days - 1));
                let score = (level + dice.weighted(&SPREAD)).clamp(1, 5) as u8;
                out.push(Planned {
                    n: out.len(),
                    service: *service,
                    guardian: h.guardian,
                    at: cal.some_time(&mut dice, day, (6, 22)),
                    score,
                    comment: rating_comment(&mut dice, score),
                });
            }
        }
    }
    out
}

fn days_in(first: NaiveDate) -> u32 {
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (next - first).num_days() as u32
}

fn rating_comment(dice: &mut Dice, score: u8) -> Option<&'static str> {
    match score {
        1 | 2 if dice.chance(0.5) => Some(dice.one_of(&[
            "Pelayanannya lambat dan petugasnya kurang ramah.",
            "Tempatnya kotor, mohon diperbaiki.",
            "Sering terlambat, kami kecewa.",
        ])),
        5 if dice.chance(0.2) => Some("Bagus sekali, terima kasih."),
        _ => None,
    }
}

async fn rate(store: &Store, cal: &Calendar, p: Planned) -> Result<Tally> {
    let period = cal.month_of(p.at);
    let rating = store
        .rate(p.service, p.guardian, &period, p.score, p.comment, p.at)
        .await
        .context("failed to rate a service")?;
    let mut tally = Tally::default();
    tally.add(period, "averageRating", i64::from(p.score), 1);
    let mine = tally.services.entry(p.service).or_default();
    mine.0 += 1;
    mine.1 += i64::from(p.score);
    tally.count("ratings", 1);
    let source = Source {
        kind: "RATING",
        id: rating.id,
        author: p.guardian,
        service: Some(p.service),
        at: p.at,
    };
    let mut dice = Dice::new(PART + 100, p.n);
    let said = (p.comment.unwrap_or_default(), Some(p.score));
    raise_if_complaint(store, cal, &mut dice, source, said, &mut tally).await?;
    Ok(tally)
}

/// Two recommend surveys to every parent, open for two weeks, nine and
/// three months ago; about a third of the guardians with an account
/// answer, on a day it was open.
pub async fn survey_year(store: &Store, cal: &Calendar, people: &People) -> Result<Tally> {
    let mut tally = Tally::default();
    for (s, days_ago) in [(0, 270), (1, 90)] {
        let opens = cal.today - Duration::days(days_ago);
        let survey = open_survey(store, cal, people.admin, opens).await?;
        let answers = plan_answers(cal, people, s, opens);
        futures_util::stream::iter(&answers)
            .map(|(guardian, at, score)| async move {
                let today = cal.date_of(*at);
                store
                    .answer_survey(survey, *guardian, *score, None, today, *at)
                    .await
                    .context("failed to answer a survey")
            })
            .buffer_unordered(AT_ONCE)
            .try_collect::<()>()
            .await?;
        for (_, at, score) in &answers {
            let sign = match score {
                9.. => 1,
                ..=6 => -1,
                _ => 0,
            };
            tally.add(cal.month_of(*at), "recommendScore", sign, 1);
        }
        tally.count("survey answers", answers.len() as i64);
    }
    Ok(tally)
}

async fn open_survey(store: &Store, cal: &Calendar, admin: Uuid, opens: NaiveDate) -> Result<Uuid> {
    let parents = Audience {
        roles: vec![Role::Parent],
        ..Audience::default()
    };
    let window = (opens, opens + Duration::days(13));
    let title = format!("Survei kepuasan {}", month_name(opens));
    let year = cal.academic_year();
    let (survey, _) = store
        .create_survey(
            &title,
            window,
            &parents,
            &year,
            admin,
            cal.at(opens, 7 * 60),
        )
        .await
        .context("failed to open a survey")?;
    Ok(survey.id)
}

/// Who answers survey `s`, when, and the score (0–10).
fn plan_answers(
    cal: &Calendar,
    people: &People,
    s: usize,
    opens: NaiveDate,
) -> Vec<(Uuid, DateTime<Utc>, u8)> {
    let mut dice = Dice::new(SURVEYS, s);
    people
        .households
        .iter()
        .filter_map(|h| {
            let answers = dice.chance(0.35);
            let day = opens + Duration::days(dice.range(0, 13));
            let score = dice.weighted(&RECOMMEND);
            let at = cal.some_time(&mut dice, day, (6, 22));
            answers.then_some((h.guardian, at, score))
        })
        .collect()
}
