//! Conversation rules that need the store: who may start which thread,
//! who may read and write in it, and what happens after a message is
//! committed (events on the bus, notices deferred to office hours).

use chrono::{DateTime, Utc};
use scrm_domain::conversation::{
    ConversationRules, MAX_GROUP_MEMBERS, MemberRole, OfficeHours, Pair, ThreadKind,
};
use scrm_domain::role::Role;
use scrm_domain::{DomainError, DomainResult};
use scrm_persistence::messages::Message;
use scrm_persistence::threads::{Member, NewThread, Thread, direct_key};
use serde_json::json;
use uuid::Uuid;

use crate::graphql::Viewer;
use crate::jobs::user_topic;
use crate::state::AppState;

pub fn thread_topic(thread_id: Uuid) -> String {
    format!("thread:{thread_id}")
}

fn is_school(viewer: &Viewer) -> bool {
    viewer.actor.has(Role::Admin) || viewer.actor.has(Role::Staff)
}

/// Checks the school's policy between the viewer and another person.
pub async fn may_message(state: &AppState, viewer: &Viewer, other: Uuid) -> DomainResult<()> {
    policy_between(state, viewer.id(), &viewer.actor.roles, other).await
}

/// The school's policy from one person (with `from_roles`) to another.
async fn policy_between(
    state: &AppState,
    from: Uuid,
    from_roles: &[Role],
    to: Uuid,
) -> DomainResult<()> {
    let store = &state.store;
    let them = store.user(to).await?.ok_or(DomainError::NotFound("user"))?;
    let teacher_link =
        store.teaches_family_of(to, from).await? || store.teaches_family_of(from, to).await?;
    let pair = Pair {
        from_id: from,
        from_roles,
        to_id: to,
        to_roles: &them.roles,
        teacher_link,
        family_link: store.family_linked(from, to).await?,
    };
    rules(state).may_message(&pair)
}

/// A group with a student in it may hold only people who may message
/// that student themselves: a group is no way around the policy.
async fn students_safe(state: &AppState, members: &[Uuid]) -> DomainResult<()> {
    let people = state.store.users(members).await?;
    let students: Vec<_> = people
        .iter()
        .filter(|u| u.roles.contains(&Role::Student))
        .collect();
    for student in students {
        for other in people.iter().filter(|u| u.id != student.id) {
            policy_between(state, other.id, &other.roles, student.id)
                .await
                .map_err(|_| {
                    DomainError::forbidden(
                        "a student can be in a group only with people allowed to message them",
                    )
                })?;
        }
    }
    Ok(())
}

pub fn rules(state: &AppState) -> ConversationRules {
    ConversationRules {
        students_may_message_students: state.config.students_may_message_students,
        parents_may_message_parents: state.config.parents_may_message_parents,
    }
}

/// The direct thread between the viewer and `other` (the same one each
/// time they ask).
pub async fn start_direct(state: &AppState, viewer: &Viewer, other: Uuid) -> DomainResult<Thread> {
    may_message(state, viewer, other).await?;
    let members = [
        (viewer.id(), MemberRole::Member),
        (other, MemberRole::Member),
    ];
    let new = NewThread {
        kind: ThreadKind::Direct,
        title: None,
        direct_key: Some(direct_key(viewer.id(), other)),
        class_id: None,
        announcement_id: None,
        requester_id: None,
        members: &members,
    };
    let thread = state.store.create_thread(new, state.now()).await?;
    // Someone who left a direct thread is back when it is started again.
    state
        .store
        .add_member(thread.id, viewer.id(), MemberRole::Member, state.now())
        .await?;
    Ok(thread)
}

pub async fn start_group(
    state: &AppState,
    viewer: &Viewer,
    title: &str,
    others: &[Uuid],
) -> DomainResult<Thread> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(DomainError::invalid(
            "title",
            "a group needs a name of up to 100 characters",
        ));
    }
    let mut others: Vec<Uuid> = others
        .iter()
        .copied()
        .filter(|u| *u != viewer.id())
        .collect();
    others.sort();
    others.dedup();
    if others.is_empty() || others.len() > MAX_GROUP_MEMBERS {
        return Err(DomainError::invalid(
            "memberIds",
            "a group needs 1 to 500 other members",
        ));
    }
    for other in &others {
        may_message(state, viewer, *other).await?;
    }
    let everyone: Vec<Uuid> = others.iter().copied().chain([viewer.id()]).collect();
    students_safe(state, &everyone).await?;
    let mut members = vec![(viewer.id(), MemberRole::Owner)];
    members.extend(others.iter().map(|u| (*u, MemberRole::Member)));
    let new = NewThread {
        kind: ThreadKind::Group,
        title: Some(title.to_owned()),
        direct_key: None,
        class_id: None,
        announcement_id: None,
        requester_id: None,
        members: &members,
    };
    state.store.create_thread(new, state.now()).await
}

/// Adds people to a thread the viewer moderates: to a group, whoever
/// policy lets the viewer message, up to the group size; to a class
/// thread, only those a moderator removed (the directory decides the
/// rest). Other threads take no one.
pub async fn add_members(
    state: &AppState,
    viewer: &Viewer,
    thread: &Thread,
    member: &Member,
    mut users: Vec<Uuid>,
) -> DomainResult<()> {
    if !may_moderate(viewer, member) {
        return Err(DomainError::forbidden(
            "only a thread's owner and moderators add members",
        ));
    }
    users.sort();
    users.dedup();
    let users = match ThreadKind::parse(&thread.kind) {
        Some(ThreadKind::Group) => newcomers_to_group(state, viewer, thread, users).await?,
        Some(ThreadKind::Class) => readmitted_to_class(state, thread, users).await?,
        _ => {
            return Err(DomainError::forbidden(
                "people are added to groups and class threads only",
            ));
        }
    };
    for user in users {
        state
            .store
            .add_member(thread.id, user, MemberRole::Member, state.now())
            .await?;
    }
    Ok(())
}

/// Those not in the group yet, when the group has room and policy
/// allows each; the size is checked before anyone is looked up.
async fn newcomers_to_group(
    state: &AppState,
    viewer: &Viewer,
    thread: &Thread,
    users: Vec<Uuid>,
) -> DomainResult<Vec<Uuid>> {
    let too_many = || {
        DomainError::invalid(
            "userIds",
            format!("a group has at most {MAX_GROUP_MEMBERS} members besides its owner"),
        )
    };
    if users.len() > MAX_GROUP_MEMBERS {
        return Err(too_many());
    }
    let current = state.store.members_of(&[thread.id]).await?;
    let newcomers: Vec<Uuid> = users
        .into_iter()
        .filter(|u| !current.iter().any(|m| m.user_id == *u))
        .collect();
    if current.len() + newcomers.len() > MAX_GROUP_MEMBERS + 1 {
        return Err(too_many());
    }
    for user in &newcomers {
        may_message(state, viewer, *user).await?;
    }
    let everyone: Vec<Uuid> = current
        .iter()
        .map(|m| m.user_id)
        .chain(newcomers.iter().copied())
        .collect();
    students_safe(state, &everyone).await?;
    Ok(newcomers)
}

async fn readmitted_to_class(
    state: &AppState,
    thread: &Thread,
    users: Vec<Uuid>,
) -> DomainResult<Vec<Uuid>> {
    for user in &users {
        let standing = state.store.member(thread.id, *user).await?;
        if !standing.is_some_and(|m| m.role() == MemberRole::Removed) {
            return Err(DomainError::forbidden(
                "a class thread's members follow the directory",
            ));
        }
    }
    Ok(users)
}

pub async fn open_support(
    state: &AppState,
    viewer: &Viewer,
    subject: &str,
) -> DomainResult<Thread> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 200 {
        return Err(DomainError::invalid(
            "subject",
            "a request needs a subject of up to 200 characters",
        ));
    }
    let members = [(viewer.id(), MemberRole::Owner)];
    let new = NewThread {
        kind: ThreadKind::Support,
        title: Some(subject.to_owned()),
        direct_key: None,
        class_id: None,
        announcement_id: None,
        requester_id: Some(viewer.id()),
        members: &members,
    };
    state.store.create_thread(new, state.now()).await
}

/// The viewer's membership of a thread they may read. Staff join support
/// threads and addressed people join an announcement's discussion when
/// they first open it; everyone else must already be a member. A thread
/// the viewer may not see is reported as not found.
pub async fn membership(
    state: &AppState,
    viewer: &Viewer,
    thread_id: Uuid,
) -> DomainResult<(Thread, Member)> {
    let store = &state.store;
    let (thread, member) = store
        .thread_and_member(thread_id, viewer.id())
        .await?
        .ok_or(DomainError::NotFound("thread"))?;
    let removed = match member {
        Some(member) if member.is_active() => return Ok((thread, member)),
        Some(_) => true,
        None => false,
    };
    let joins = match ThreadKind::parse(&thread.kind) {
        Some(ThreadKind::Support) => is_school(viewer),
        Some(ThreadKind::Announcement) => match thread.announcement_id {
            Some(a) => {
                store.may_discuss(a, viewer.id(), state.now()).await?
                    || announcement_author(state, a).await? == Some(viewer.id())
            }
            None => false,
        },
        _ => false,
    };
    if !joins || (removed && !is_school(viewer)) {
        return Err(DomainError::NotFound("thread"));
    }
    store
        .add_member(thread_id, viewer.id(), MemberRole::Member, state.now())
        .await?;
    let member = store
        .member(thread_id, viewer.id())
        .await?
        .ok_or(DomainError::NotFound("thread"))?;
    Ok((thread, member))
}

async fn announcement_author(state: &AppState, id: Uuid) -> DomainResult<Option<Uuid>> {
    Ok(state.store.announcement(id).await?.map(|a| a.author_id))
}

/// Moderators of the thread, and the school's staff, may moderate.
pub fn may_moderate(viewer: &Viewer, member: &Member) -> bool {
    member.role().moderates() || is_school(viewer)
}

/// After a message is committed: tell the thread's subscribers, update
/// members' inboxes, and hold back teachers' notices until their office
/// hours open. Returns when the reply can be expected, if a teacher is
/// away.
pub async fn after_send(
    state: &AppState,
    viewer: &Viewer,
    thread: &Thread,
    message: &Message,
    members_version: i64,
) -> DomainResult<Option<DateTime<Utc>>> {
    // The message travels with its event, so subscribers need not read
    // it back; it leaves before the office-hours bookkeeping below.
    let posted = json!({
        "kind": "message.posted",
        "id": message.id,
        "seq": message.seq,
        "membersVersion": members_version,
        "message": message,
    });
    publish(state, vec![thread_topic(thread.id)], posted);
    let (others, away) = away_members(state, viewer, thread.id, message.created_at).await?;
    let mut immediate = vec![];
    for member in others {
        match away.iter().find(|(who, _)| *who == member) {
            Some((_, opens)) => state.store.defer_notice(member, thread.id, *opens).await?,
            None => immediate.push(user_topic(member)),
        }
    }
    let expected = away.iter().map(|(_, opens)| *opens).min();
    let support = ThreadKind::parse(&thread.kind) == Some(ThreadKind::Support);
    // A response is the school answering someone else's request.
    let answers = is_school(viewer) && thread.requester_id != Some(viewer.id());
    if support && answers {
        state
            .store
            .record_first_response(thread.id, message.created_at)
            .await?;
    } else if support {
        let (id, author) = (message.id, viewer.id());
        crate::feedback::flag_if_complaint(
            state,
            "SUPPORT_MESSAGE",
            id,
            author,
            None,
            &message.body,
            None,
        )
        .await;
    }
    immediate.push(user_topic(viewer.id()));
    let inbox = json!({ "kind": "inbox", "threadId": thread.id });
    publish(state, immediate, inbox);
    Ok(expected)
}

/// The thread's members other than the sender, and those of them (the
/// teachers outside their office hours at `at`) who are away, with when
/// each is back. The school's own messages are never held back.
async fn away_members(
    state: &AppState,
    viewer: &Viewer,
    thread_id: Uuid,
    at: DateTime<Utc>,
) -> DomainResult<(Vec<Uuid>, Vec<(Uuid, DateTime<Utc>)>)> {
    // Members and their roles in one read; only teachers keep hours.
    let members = state.store.members_with_roles(thread_id).await?;
    let others: Vec<Uuid> = members
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| *id != viewer.id())
        .collect();
    if is_school(viewer) || viewer.actor.has(Role::Teacher) {
        return Ok((others, vec![]));
    }
    let teachers: Vec<Uuid> = members
        .iter()
        .filter(|(id, roles)| *id != viewer.id() && roles.contains(&Role::Teacher))
        .map(|(id, _)| *id)
        .collect();
    let hours = state.store.office_hours_of(&teachers).await?;
    let away = teachers
        .into_iter()
        .filter_map(|t| Some((t, away_until(state, hours.get(&t), at)?)))
        .collect();
    Ok((others, away))
}

/// When a retried send may expect its reply: what the first try was told.
pub async fn expected_reply(
    state: &AppState,
    viewer: &Viewer,
    message: &Message,
) -> DomainResult<Option<DateTime<Utc>>> {
    let (_, away) = away_members(state, viewer, message.thread_id, message.created_at).await?;
    Ok(away.into_iter().map(|(_, opens)| opens).min())
}

/// When a teacher with these office hours (the default ones when they
/// set none) is away at `at`, the next opening.
fn away_until(
    state: &AppState,
    hours: Option<&OfficeHours>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let default = OfficeHours::default();
    let hours = hours.unwrap_or(&default);
    let tz = state.clock.tz;
    if hours.is_open(at, tz) {
        None
    } else {
        hours.next_open(at, tz)
    }
}

/// Publishes in the background: the change is committed already, and a
/// slow or absent Redis must not hold up the sender. Subscribers that
/// miss an event catch up from the database.
pub fn publish(state: &AppState, topics: Vec<String>, event: serde_json::Value) {
    let bus = state.bus.clone();
    tokio::spawn(async move {
        let sent = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            bus.publish_many(&topics, &event),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            tracing::warn!(kind = %event["kind"], "live event not published; subscribers will resync");
        }
    });
}

/// Pushes inbox updates whose office hours have opened.
pub async fn push_due_notices(state: &AppState) {
    match state.store.claim_due_notices(state.now()).await {
        Ok(due) => {
            for (user, thread) in due {
                publish(
                    state,
                    vec![user_topic(user)],
                    json!({ "kind": "inbox", "threadId": thread, "notice": true }),
                );
            }
        }
        Err(err) => tracing::error!(error = ?err, "failed to claim due notices"),
    }
}
