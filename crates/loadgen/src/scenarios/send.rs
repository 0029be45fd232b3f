//! Scenario 3: parents posting in their class thread. A send in scrm is
//! an authenticated mutation that checks membership, stores the message
//! once per client id with the thread's next seq, and tells subscribers
//! and inboxes. The baseline is only the transaction at its heart (take
//! the seq from the counter row, insert, commit) and the publish,
//! written here against the same store. The class's teacher listens to
//! scrm's thread throughout and must get every message once, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, ensure};
use futures_util::future::BoxFuture;
use scrm_api::state::AppState;
use scrm_domain::school_time::truncate_to_micros;
use scrm_persistence::Store;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, TransactionTrait, Value};
use serde_json::json;
use uuid::Uuid;

use super::{
    Bench, DELIVERY_LIMIT, Side, at_rate, comparison_note, posted_once_in_order, sustained,
};
use crate::client::Api;
use crate::listen::{Listener, gather};
use crate::report::{Figure, Report, Row};
use crate::ws::Socket;

const CLASS_THREAD: &str = "query($c: UUID!) { classThread(classId: $c) { id lastSeq } }";

pub const SEND: &str = "mutation($t: UUID!, $c: String!, $b: String!) {
  sendMessage(threadId: $t, clientId: $c, body: $b) { seq } }";

pub const EVENTS: &str = "subscription($t: UUID!, $after: Int) {
  threadEvents(threadId: $t, afterSeq: $after) { kind seq message { clientId } } }";

type Op = BoxFuture<'static, Result<()>>;

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let school = bench.school()?;
    let [scrm_class, bare_class] = [0, 1].map(|i| school.busiest.get(i));
    let (scrm_class, bare_class) = (
        scrm_class.context("no class with activated parents")?,
        bare_class.context("no second class with activated parents")?,
    );
    let teacher = school.teacher_of(&bench.api, scrm_class).await?;
    let (thread, first) = class_thread(&bench.api, &teacher.token, scrm_class).await?;
    let senders: Vec<String> = tokens(school.parents_in(scrm_class));
    let mut socket = Socket::open(bench.main.addr(), &teacher.token).await?;
    socket
        .subscribe("t", EVENTS, json!({ "t": thread, "after": first }))
        .await?;
    let listener = Listener::start(socket, "t");

    let store = bench.main.state.store.clone();
    let counter = || store.statements_run();
    let sent = Arc::new(AtomicU64::new(0));
    let op = scrm_op(
        bench.api.clone(),
        thread,
        senders.clone(),
        Arc::clone(&sent),
    );
    let scrm = sustained(&bench.sizes, counter, op.clone()).await?;
    let rate = scrm.throughput.per_second() / 2.0;
    let mut scrm_lat = at_rate(&bench.sizes, rate, op).await?;
    let total = sent.load(Ordering::SeqCst);
    stored_once(&store, thread, first, total).await?;
    let heard = gather(vec![listener], total as usize, DELIVERY_LIMIT).await?;
    for got in heard {
        posted_once_in_order(got, first, total).context("the teacher's subscription")?;
    }

    let parents = school.parents_in(bare_class);
    let first_parent = parents.first().context("no parent in the second class")?;
    let (bare_thread, bare_first) =
        class_thread(&bench.api, &first_parent.session.token, bare_class).await?;
    let by_hand = ByHand::new(bench, bare_thread, &parents)?;
    let base = sustained(&bench.sizes, counter, by_hand.op()).await?;
    let mut base_lat = at_rate(&bench.sizes, rate, by_hand.op()).await?;
    by_hand.check(&store, bare_first).await?;

    report_send(
        report,
        senders.len(),
        total,
        (&scrm, &mut scrm_lat),
        (&base, &mut base_lat),
    );
    Ok(())
}

fn report_send(
    report: &mut Report,
    senders: usize,
    total: u64,
    scrm: (&Side, &mut crate::stats::Latencies),
    base: (&Side, &mut crate::stats::Latencies),
) {
    report.row(Row::at_least(
        "3",
        "message send in a class thread",
        Figure::per_second(scrm.0.throughput.per_second()),
        Figure::per_second(base.0.throughput.per_second()),
        0.5,
    ));
    let rate = scrm.0.throughput.per_second() / 2.0;
    let note = comparison_note(rate, scrm, base);
    report.note(
        "3",
        format!("{senders} parents sent {total} messages, each stored and heard once; {note}"),
    );
}

fn tokens(parents: Vec<&crate::school::Parent>) -> Vec<String> {
    parents.iter().map(|p| p.session.token.clone()).collect()
}

/// The class's thread (made on first use) and its newest seq.
async fn class_thread(api: &Api, token: &str, class: &str) -> Result<(Uuid, i64)> {
    let data = api
        .run(Some(token), CLASS_THREAD, json!({ "c": class }))
        .await?;
    let thread = &data["classThread"];
    Ok((
        thread["id"].as_str().context("no thread id")?.parse()?,
        thread["lastSeq"].as_i64().context("no lastSeq")?,
    ))
}

/// Sends through the API; each call takes a new client id.
fn scrm_op(
    api: Api,
    thread: Uuid,
    senders: Vec<String>,
    sent: Arc<AtomicU64>,
) -> impl Fn(u64) -> Op + Clone {
    let senders = Arc::new(senders);
    move |_| {
        let (api, senders, sent) = (api.clone(), Arc::clone(&senders), Arc::clone(&sent));
        Box::pin(async move {
            ensure!(!senders.is_empty(), "no senders");
            let n = sent.fetch_add(1, Ordering::SeqCst);
            let token = &senders[n as usize % senders.len()];
            let variables =
                json!({ "t": thread, "c": format!("s3-{n}"), "b": format!("Pesan {n}") });
            let data = api.run(Some(token), SEND, variables).await?;
            ensure!(data["sendMessage"]["seq"].as_i64() > Some(0), "no seq");
            Ok(())
        })
    }
}

/// The baseline: the send transaction and the publish, by hand.
#[derive(Clone)]
struct ByHand {
    state: AppState,
    runtime: tokio::runtime::Handle,
    thread: Uuid,
    senders: Arc<Vec<Uuid>>,
    sent: Arc<AtomicU64>,
    unpublished: Arc<AtomicU64>,
}

impl ByHand {
    fn new(bench: &Bench<'_>, thread: Uuid, parents: &[&crate::school::Parent]) -> Result<ByHand> {
        let senders = parents
            .iter()
            .map(|p| p.session.user_id.parse())
            .collect::<Result<Vec<Uuid>, _>>()?;
        Ok(ByHand {
            state: bench.main.state.clone(),
            runtime: bench.stack.runtime(),
            thread,
            senders: Arc::new(senders),
            sent: Arc::default(),
            unpublished: Arc::default(),
        })
    }

    fn op(&self) -> impl Fn(u64) -> Op + Clone + use<> {
        let this = self.clone();
        move |_| {
            let this = this.clone();
            let runtime = this.runtime.clone();
            Box::pin(async move { runtime.spawn(this.send()).await? })
        }
    }

    async fn send(self) -> Result<()> {
        let n = self.sent.fetch_add(1, Ordering::SeqCst);
        let sender = self.senders[n as usize % self.senders.len()];
        let db = self.state.store.connection();
        let backend = db.get_database_backend();
        let now = truncate_to_micros(chrono::Utc::now());
        let tx = db.begin().await?;
        let next = Statement::from_sql_and_values(
            backend,
            "UPDATE threads SET last_seq = last_seq + 1, last_activity_at = $2 WHERE id = $1 RETURNING last_seq",
            [self.thread.into(), now.into()],
        );
        let row = tx.query_one_raw(next).await?.context("no such thread")?;
        let seq: i64 = row.try_get("", "last_seq")?;
        let values: [Value; 7] = [
            Uuid::now_v7().into(),
            self.thread.into(),
            seq.into(),
            sender.into(),
            format!("b3-{n}").into(),
            format!("Pesan {n}").into(),
            now.into(),
        ];
        let insert = "INSERT INTO messages (id, thread_id, seq, sender_id, client_id, body, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
        tx.execute_raw(Statement::from_sql_and_values(backend, insert, values))
            .await?;
        tx.commit().await?;
        let event = json!({ "kind": "message.posted", "seq": seq });
        let (bus, unpublished) = (Arc::clone(&self.state.bus), self.unpublished);
        let topic = format!("thread:{}", self.thread);
        tokio::spawn(async move {
            if bus.publish(&topic, &event).await.is_err() {
                unpublished.fetch_add(1, Ordering::SeqCst);
            }
        });
        Ok(())
    }

    async fn check(&self, store: &Store, first: i64) -> Result<()> {
        let total = self.sent.load(Ordering::SeqCst);
        stored_once(store, self.thread, first, total).await?;
        let lost = self.unpublished.load(Ordering::SeqCst);
        ensure!(lost == 0, "the baseline failed to publish {lost} events");
        Ok(())
    }
}

/// Checks that the thread holds exactly `count` messages after `first`,
/// with seqs `first + 1 ..= first + count` and distinct client ids.
async fn stored_once(store: &Store, thread: Uuid, first: i64, count: u64) -> Result<()> {
    #[derive(Debug, FromQueryResult)]
    struct Stored {
        n: i64,
        seqs: i64,
        clients: i64,
        lo: Option<i64>,
        hi: Option<i64>,
    }
    let db = store.connection();
    let sql = "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS seqs, COUNT(DISTINCT client_id) AS clients, \
               MIN(seq) AS lo, MAX(seq) AS hi FROM messages WHERE thread_id = $1 AND seq > $2";
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [thread.into(), first.into()],
    );
    let stored = Stored::find_by_statement(statement)
        .one(db)
        .await?
        .context("no counts")?;
    let n = count as i64;
    ensure!(
        stored.n == n
            && stored.seqs == n
            && stored.clients == n
            && stored.lo.unwrap_or(first + 1) == first + 1
            && stored.hi.unwrap_or(first) == first + n,
        "sent {count} messages after seq {first}, the thread holds {stored:?}"
    );
    Ok(())
}
