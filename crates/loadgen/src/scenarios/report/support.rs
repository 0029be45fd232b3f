//! A year of support requests: a guardian opens one, the desk answers
//! (most within the four-hour target, some the next day, a few never),
//! the guardian may write back, staff resolve most, and about half of
//! the resolved ones are rated. Each request is planned first, then
//! written message by message at its planned times.

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, Utc};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::conversation::{MemberRole, ThreadKind};
use scrm_domain::report::{RESOLUTION_TARGET_HOURS, RESPONSE_TARGET_MINUTES};
use scrm_persistence::Store;
use scrm_persistence::messages::{NewMessage, Sent};
use scrm_persistence::threads::NewThread;
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::{Calendar, Dice};
use super::flags::{Source, raise_if_complaint};
use super::people::People;
use super::tally::Tally;

const PART: u64 = 3;

const SUBJECTS: [&str; 6] = [
    "Tagihan SPP",
    "Jadwal rapor",
    "Bus sekolah",
    "Akun aplikasi",
    "Kantin",
    "Izin tidak masuk",
];

const ASKING: [&str; 4] = [
    "Mohon informasinya, kapan jadwal pengambilan rapor?",
    "Bagaimana cara mengganti nomor HP di aplikasi?",
    "Anak kami sakit hari ini, mohon izin tidak masuk.",
    "Apakah pembayaran SPP bulan ini sudah diterima?",
];

/// Openings that the complaint rule reads as complaints.
const COMPLAINING: [&str; 3] = [
    "Bus sekolah terlambat lagi pagi ini, anak kami menunggu lama.",
    "Kantin kotor dan makanannya basi, mohon diperiksa.",
    "Saya kecewa, tagihan bulan ini salah dan belum dijawab.",
];

/// One request as planned: who, and when each step happens (a step
/// that would fall after the start of seeding does not happen).
struct Request {
    k: usize,
    requester: Uuid,
    staff: Uuid,
    subject: &'static str,
    opening: &'static str,
    opened: DateTime<Utc>,
    answered: Option<DateTime<Utc>>,
    follow_up: Option<DateTime<Utc>>,
    closing: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    /// When it was rated, the score, and a comment.
    rated: Option<(DateTime<Utc>, u8, Option<&'static str>)>,
}

/// Opens and works `n` requests, several at once.
pub async fn work_year(store: &Store, cal: &Calendar, people: &People, n: usize) -> Result<Tally> {
    ensure!(!people.households.is_empty(), "no guardians to ask");
    let plans: Vec<Request> = (0..n).map(|k| plan(cal, people, k)).collect();
    futures_util::stream::iter(plans)
        .map(|r| write(store, cal, r))
        .buffer_unordered(AT_ONCE)
        .try_fold(Tally::default(), |mut tally, t| async move {
            tally.merge(t);
            Ok(tally)
        })
        .await
}

fn plan(cal: &Calendar, people: &People, k: usize) -> Request {
    let mut dice = Dice::new(PART, k);
    let opened = cal.some_day(&mut dice, (6, 21));
    let answer_minutes = match dice.range(0, 19) {
        0..=10 => Some(dice.range(5, 180)),
        11..=15 => Some(dice.range(181, 1_440)),
        16..=18 => Some(dice.range(1_441, 4_320)),
        _ => None,
    };
    let mut later = |after: Option<DateTime<Utc>>, chance: f64, minutes: (i64, i64)| {
        let go = dice.chance(chance);
        let delay = minutes_and_seconds(&mut dice, minutes);
        after.filter(|_| go).and_then(|at| cal.past(at + delay))
    };
    let answered = answer_minutes.and_then(|m| cal.past(opened + Duration::minutes(m)));
    let follow_up = later(answered, 0.5, (10, 600));
    let closing = later(follow_up, 1.0, (10, 240));
    let resolved = later(closing.or(answered), 0.88, (30, 2_880));
    let rated_at = later(resolved, 0.55, (10, 2_880));
    Request {
        k,
        requester: dice.pick(&people.households).guardian,
        staff: dice.one_of(&people.support),
        subject: dice.one_of(&SUBJECTS),
        opening: if dice.chance(0.12) {
            dice.one_of(&COMPLAINING)
        } else {
            dice.one_of(&ASKING)
        },
        opened,
        answered,
        follow_up,
        closing,
        resolved,
        rated: rated_at.map(|at| {
            let score = dice.weighted(&[(40, 5), (30, 4), (15, 3), (10, 2), (5, 1)]);
            (at, score, satisfaction_comment(&mut dice, score))
        }),
    }
}

fn minutes_and_seconds(dice: &mut Dice, (lo, hi): (i64, i64)) -> Duration {
    Duration::seconds(dice.range(lo, hi) * 60 + dice.range(0, 59))
}

fn satisfaction_comment(dice: &mut Dice, score: u8) -> Option<&'static str> {
    match score {
        1 | 2 if dice.chance(0.6) => Some("Jawabannya lambat dan masalahnya belum selesai."),
        5 if dice.chance(0.3) => Some("Terima kasih, pelayanannya cepat dan ramah."),
        _ => None,
    }
}

/// Writes one request's steps in order; gives what they add.
async fn write(store: &Store, cal: &Calendar, r: Request) -> Result<Tally> {
    let thread = open(store, &r).await?;
    let mut w = Writer {
        store,
        cal,
        r: &r,
        thread,
        dice: Dice::new(PART + 100, r.k),
        tally: Tally::default(),
    };
    let opening = w.send(0, r.requester, r.opening, r.opened).await?;
    w.flag("SUPPORT_MESSAGE", opening, r.opened, (r.opening, None))
        .await?;
    if let Some(at) = r.answered {
        w.answer(at).await?;
    }
    if let Some(at) = r.follow_up {
        let text = "Baik, terima kasih. Mohon dikabari lagi.";
        w.send(2, r.requester, text, at).await?;
    }
    if let Some(at) = r.closing {
        let text = "Sudah kami tindak lanjuti, Bapak/Ibu.";
        w.send(3, r.staff, text, at).await?;
    }
    if let Some(at) = r.resolved {
        w.resolve(at).await?;
    }
    if let Some(rated) = r.rated {
        w.rate(rated).await?;
    }
    count_request(cal, &r, &mut w.tally);
    Ok(w.tally)
}

async fn open(store: &Store, r: &Request) -> Result<Uuid> {
    let members = [(r.requester, MemberRole::Owner)];
    let new = NewThread {
        kind: ThreadKind::Support,
        title: Some(r.subject.to_owned()),
        direct_key: None,
        class_id: None,
        announcement_id: None,
        requester_id: Some(r.requester),
        members: &members,
    };
    let thread = store
        .create_thread(new, r.opened)
        .await
        .context("failed to open a support request")?;
    Ok(thread.id)
}

/// One request's thread while it is written, and what it adds so far.
struct Writer<'a> {
    store: &'a Store,
    cal: &'a Calendar,
    r: &'a Request,
    thread: Uuid,
    dice: Dice,
    tally: Tally,
}

impl Writer<'_> {
    /// Sends the request's `n`th message; gives its id.
    async fn send(&mut self, n: usize, from: Uuid, body: &str, at: DateTime<Utc>) -> Result<Uuid> {
        let new = NewMessage {
            thread_id: self.thread,
            sender_id: from,
            client_id: format!("year-support-{}-{n}", self.r.k),
            body: body.to_owned(),
            reply_to: None,
            mentions: vec![],
        };
        let sent = self
            .store
            .send_message(new, at)
            .await
            .context("failed to send a support message")?;
        let Sent::New(message, ..) = sent else {
            anyhow::bail!("a new message was taken for a repeat");
        };
        let month = self.cal.month_of(at);
        self.tally.add(month.clone(), "messages", 1, 0);
        self.tally.add(month, "personalMessages", 1, 1);
        self.tally.count("messages", 1);
        self.tally.active.insert(from);
        Ok(message.id)
    }

    /// Staff take the request and answer it: the first response.
    async fn answer(&mut self, at: DateTime<Utc>) -> Result<()> {
        let (store, thread, staff) = (self.store, self.thread, self.r.staff);
        store
            .add_member(thread, staff, MemberRole::Moderator, at)
            .await
            .context("failed to add staff to a request")?;
        store
            .update_support(thread, None, Some(staff), at)
            .await
            .context("failed to assign a request")?;
        let text = "Terima kasih atas pesannya, kami sedang memeriksanya.";
        self.send(1, staff, text, at).await?;
        store
            .record_first_response(thread, at)
            .await
            .context("failed to record the first response")
    }

    async fn resolve(&mut self, at: DateTime<Utc>) -> Result<()> {
        let done = self
            .store
            .update_support(self.thread, Some("RESOLVED"), None, at)
            .await
            .context("failed to resolve a request")?;
        ensure!(
            done.resolved_at == Some(at),
            "a request resolved at another time"
        );
        Ok(())
    }

    /// The requester rates the resolved request.
    async fn rate(&mut self, rated: (DateTime<Utc>, u8, Option<&str>)) -> Result<()> {
        let (at, score, comment) = rated;
        self.store
            .rate_support(self.thread, self.r.requester, score, comment, at)
            .await
            .context("failed to rate a request")?;
        let month = self.cal.month_of(at);
        self.tally
            .add(month, "averageSatisfaction", i64::from(score), 1);
        let said = (comment.unwrap_or_default(), Some(score));
        self.flag("SATISFACTION", self.thread, at, said).await
    }

    /// Raises a flag on what the requester wrote, when it complains.
    async fn flag(
        &mut self,
        kind: &'static str,
        id: Uuid,
        at: DateTime<Utc>,
        said: (&str, Option<u8>),
    ) -> Result<()> {
        let source = Source {
            kind,
            id,
            author: self.r.requester,
            service: None,
            at,
        };
        let (store, cal) = (self.store, self.cal);
        raise_if_complaint(store, cal, &mut self.dice, source, said, &mut self.tally).await
    }
}

/// What the request adds to the month it was opened in.
fn count_request(cal: &Calendar, r: &Request, tally: &mut Tally) {
    let month = cal.month_of(r.opened);
    let minutes = r.answered.map(|at| (at - r.opened).num_minutes());
    let on_time = minutes.is_some_and(|m| m <= RESPONSE_TARGET_MINUTES);
    let target = Duration::hours(RESOLUTION_TARGET_HOURS);
    let resolved = r.resolved.is_some_and(|at| at - r.opened <= target);
    tally.add(month.clone(), "requestsInApp", 1, 0);
    tally.add(month.clone(), "answeredWithinTarget", i64::from(on_time), 1);
    tally.add(
        month.clone(),
        "resolvedWithinTarget",
        i64::from(resolved),
        1,
    );
    if let Some(m) = minutes {
        tally.answered(month, m);
    }
    tally.count("support requests", 1);
}
