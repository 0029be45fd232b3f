//! The school the scenarios work in: the sample roster imported through
//! the admin panel's upload, and families activated through the
//! parents' app, so every account, token and membership is one scrm made
//! itself. Only the first admin goes straight into the store, as an
//! installer would put them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::role::Role;
use serde_json::{Value, json};

use crate::client::{Api, Session};
use crate::stack::Server;

pub const PASSWORD: &str = "bench-rahasia-1";

/// Activations in flight: each hashes a password on the server.
const ACTIVATING_AT_ONCE: usize = 4;

pub struct School {
    pub admin: Session,
    pub parents: Vec<Parent>,
    /// Class ids by how many activated parents they have, most first.
    pub busiest: Vec<String>,
}

/// A family's first guardian, signed in through activation.
pub struct Parent {
    pub session: Session,
    /// (student id, class id) of each child.
    pub children: Vec<(String, String)>,
}

struct Family {
    code: String,
    children: Vec<(String, String)>,
}

const FAMILIES: &str = "query($after: String) { families(first: 100, after: $after) {
  families { activationCode students { id class { id } } } nextCursor } }";

const ACTIVATE: &str = "mutation($code: String!, $password: String!) {
  activate(code: $code, password: $password) { accessToken user { id } } }";

const SIGN_IN: &str = "mutation($login: String!, $password: String!) {
  signIn(login: $login, password: $password) { accessToken user { id } } }";

impl School {
    /// Imports `roster` and activates up to `families` families, those
    /// of the two largest classes first.
    pub async fn seed(
        server: &Server,
        api: &Api,
        roster: &Path,
        families: usize,
    ) -> Result<School> {
        let admin = first_admin(server, api).await?;
        let bytes = std::fs::read(roster)
            .with_context(|| format!("cannot read the roster {}", roster.display()))?;
        let report = api.upload_roster(&admin.token, bytes).await?;
        let report = &report["importRoster"];
        ensure!(
            report["refused"] == 0 && report["created"].as_i64() > Some(0),
            "the roster import went wrong: {report}"
        );
        let chosen = largest_classes_first(list_families(api, &admin).await?, families);
        let parents: Vec<Parent> = futures_util::stream::iter(chosen)
            .map(|family| activate(api, family))
            .buffer_unordered(ACTIVATING_AT_ONCE)
            .try_collect()
            .await?;
        Ok(School {
            admin,
            busiest: busiest(&parents),
            parents,
        })
    }

    pub fn parents_in(&self, class_id: &str) -> Vec<&Parent> {
        self.parents
            .iter()
            .filter(|p| p.children.iter().any(|(_, c)| c == class_id))
            .collect()
    }

    /// A new teacher, made homeroom teacher of the class by the admin.
    pub async fn teacher_of(&self, api: &Api, class_id: &str) -> Result<Session> {
        let email = format!("guru-{}@bench.example", uuid::Uuid::new_v4().simple());
        let input = json!({ "name": "Guru Bench", "email": email, "roles": ["TEACHER"], "password": PASSWORD });
        api.run(
            Some(&self.admin.token),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await?;
        let teacher = sign_in(api, &email).await?;
        api.run(
            Some(&self.admin.token),
            "mutation($c: UUID!, $t: UUID!) { assignTeacher(classId: $c, teacherId: $t, homeroom: true) }",
            json!({ "c": class_id, "t": teacher.user_id }),
        )
        .await?;
        Ok(teacher)
    }
}

async fn first_admin(server: &Server, api: &Api) -> Result<Session> {
    let email = format!("admin-{}@bench.example", uuid::Uuid::new_v4().simple());
    let new = scrm_persistence::users::NewUser {
        name: "Admin Bench".to_owned(),
        email: Some(email.clone()),
        phone: None,
        password_hash: Some(scrm_api::auth::hash_password(PASSWORD)?),
        roles: vec![Role::Admin, Role::Staff],
        departments: vec![],
        family_id: None,
    };
    let store = &server.state.store;
    store
        .create_user(new, server.state.now())
        .await
        .context("failed to create the first admin")?;
    sign_in(api, &email).await
}

async fn sign_in(api: &Api, login: &str) -> Result<Session> {
    let data = api
        .run(
            None,
            SIGN_IN,
            json!({ "login": login, "password": PASSWORD }),
        )
        .await?;
    Session::from_value(&data["signIn"])
}

async fn list_families(api: &Api, admin: &Session) -> Result<Vec<Family>> {
    let mut out = vec![];
    let mut after = Value::Null;
    // A page of 100 each; the bound only guards against a cursor loop.
    for _ in 0..1_000 {
        let data = api
            .run(Some(&admin.token), FAMILIES, json!({ "after": after }))
            .await?;
        let page = &data["families"];
        for f in page["families"].as_array().context("no families")? {
            out.extend(family(f));
        }
        after = page["nextCursor"].clone();
        if after.is_null() {
            return Ok(out);
        }
    }
    anyhow::bail!("the families list does not end")
}

/// A family that can still be activated, with its children's classes.
fn family(v: &Value) -> Option<Family> {
    let code = v["activationCode"].as_str()?.to_owned();
    let children = v["students"]
        .as_array()?
        .iter()
        .filter_map(|s| Some((s["id"].as_str()?.into(), s["class"]["id"].as_str()?.into())))
        .collect();
    Some(Family { code, children })
}

/// Puts the families of the two largest classes first, so that class
/// scenarios have many parents even at a small scale.
fn largest_classes_first(mut families: Vec<Family>, n: usize) -> Vec<Family> {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for (_, class) in families.iter().flat_map(|f| &f.children) {
        *sizes.entry(class).or_default() += 1;
    }
    let mut classes: Vec<(&str, usize)> = sizes.into_iter().collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = classes.iter().take(2).map(|c| c.0.to_owned()).collect();
    families.sort_by_key(|f| !f.children.iter().any(|(_, c)| top.contains(c)));
    families.truncate(n);
    families
}

fn busiest(parents: &[Parent]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in parents {
        let mut classes: Vec<&str> = p.children.iter().map(|(_, c)| c.as_str()).collect();
        classes.sort_unstable();
        classes.dedup();
        for class in classes {
            *counts.entry(class).or_default() += 1;
        }
    }
    let mut classes: Vec<(&str, usize)> = counts.into_iter().collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    classes.into_iter().map(|(c, _)| c.to_owned()).collect()
}

async fn activate(api: &Api, family: Family) -> Result<Parent> {
    let data = api
        .run(
            None,
            ACTIVATE,
            json!({ "code": family.code, "password": PASSWORD }),
        )
        .await?;
    Ok(Parent {
        session: Session::from_value(&data["activate"])?,
        children: family.children,
    })
}
