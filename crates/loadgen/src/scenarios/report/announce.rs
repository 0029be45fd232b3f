//! A year of announcements: a quarter to the whole school, a quarter to
//! a grade, half to one class, spread over the year in school hours.
//! Most guardians with an account read what reaches them, within
//! minutes to days; some announcements ask them to acknowledge.

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, Utc};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::announcement::{Category, Draft, Urgency};
use scrm_domain::audience::Audience;
use scrm_persistence::Store;
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::{Calendar, Dice};
use super::people::People;
use super::tally::Tally;

const PART: u64 = 1;
const READS: u64 = 2;

const TOPICS: [(Category, &str); 7] = [
    (Category::General, "Informasi kegiatan sekolah"),
    (Category::Academic, "Jadwal ujian dan penilaian"),
    (Category::Event, "Undangan acara sekolah"),
    (Category::Finance, "Pengingat pembayaran SPP"),
    (Category::Health, "Pemeriksaan kesehatan siswa"),
    (Category::Safety, "Latihan evakuasi"),
    (Category::Holiday, "Libur sekolah"),
];

/// Publishes `n` announcements and their reads, one after another.
pub async fn publish_year(
    store: &Store,
    cal: &Calendar,
    people: &People,
    n: usize,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for k in 0..n {
        tally.merge(publish(store, cal, people, (k, n)).await?);
    }
    Ok(tally)
}

/// Publishes the `k`th of `n`, on its day of the year, and has it read.
async fn publish(
    store: &Store,
    cal: &Calendar,
    people: &People,
    (k, n): (usize, usize),
) -> Result<Tally> {
    let mut dice = Dice::new(PART, k);
    // Evenly over the year, newest last, at a jittered hour.
    let days_ago = 364 - (k as i64 * 363 / n.max(1) as i64);
    let day = cal.today - Duration::days(days_ago);
    let at = cal.some_time(&mut dice, day, (6, 16));
    let draft = draft(&mut dice, people, k);
    let (announcement, addressed) = store
        .publish_announcement(people.admin, &draft, &cal.academic_year(), at)
        .await
        .context("failed to publish an announcement")?;
    let readers = readers(store, cal, people, (announcement.id, k), at).await?;
    mark_read(store, announcement.id, draft.requires_ack, &readers).await?;

    let mut tally = Tally::default();
    let (month, reads) = (cal.month_of(at), readers.len() as i64);
    let targeted = i64::from(draft.audience.is_targeted());
    tally.add(month.clone(), "targetedAnnouncements", targeted, 1);
    tally.add(month, "announcementReadRate", reads, addressed);
    tally.active.extend(readers.iter().map(|r| r.0));
    tally.count("announcements", 1);
    tally.count("announcement reads", reads);
    Ok(tally)
}

fn draft(dice: &mut Dice, people: &People, k: usize) -> Draft {
    let (category, title) = dice.one_of(&TOPICS);
    let class = dice.pick(&people.classes);
    let audience = match dice.range(0, 3) {
        0 => Audience {
            everyone: true,
            ..Audience::default()
        },
        1 => Audience {
            grades: vec![u8::try_from(class.grade).unwrap_or(1)],
            ..Audience::default()
        },
        _ => Audience {
            class_ids: vec![class.id],
            ..Audience::default()
        },
    };
    Draft {
        title: format!("{title} ({k})"),
        body: "Yth. Bapak/Ibu wali murid, mohon perhatikan informasi berikut.".to_owned(),
        category,
        urgency: if dice.chance(0.1) {
            Urgency::Important
        } else {
            Urgency::Normal
        },
        audience,
        publish_at: None,
        expires_at: None,
        requires_ack: dice.chance(0.1),
    }
}

/// Who reads it and when: most guardians with an account it reaches,
/// those whose read falls before seeding started.
async fn readers(
    store: &Store,
    cal: &Calendar,
    people: &People,
    (id, k): (Uuid, usize),
    published: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>)>> {
    let recipients = store
        .recipient_ids(id)
        .await
        .context("failed to read the recipients")?;
    let mut dice = Dice::new(READS, k);
    Ok(recipients
        .into_iter()
        .filter(|r| people.guardians.contains(r))
        .filter_map(|r| {
            let read = dice.chance(0.85);
            let delay = read_delay(&mut dice);
            let at = cal.past(published + delay)?;
            read.then_some((r, at))
        })
        .collect())
}

/// Marks each read (acknowledged too, when asked); each must be the
/// reader's first.
async fn mark_read(
    store: &Store,
    id: Uuid,
    acknowledge: bool,
    readers: &[(Uuid, DateTime<Utc>)],
) -> Result<()> {
    futures_util::stream::iter(readers)
        .map(|(reader, at)| async move {
            let item = store
                .mark_announcement(*reader, id, acknowledge, *at)
                .await
                .context("failed to mark an announcement read")?;
            ensure!(item.read_at == Some(*at), "a read was not the first");
            Ok(())
        })
        .buffer_unordered(AT_ONCE)
        .try_collect()
        .await
}

/// Most read within a few hours, some the next day, a few days later.
fn read_delay(dice: &mut Dice) -> Duration {
    let minutes = match dice.range(0, 9) {
        0..=5 => dice.range(1, 180),
        6..=8 => dice.range(181, 1_440),
        _ => dice.range(1_441, 4_320),
    };
    Duration::seconds(minutes * 60 + dice.range(0, 59))
}
