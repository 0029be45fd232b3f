//! Who acts in the seeded year: the families of the imported roster
//! (more of them activated, through the store as an activation code
//! would), their children, the classes, and the staff who answer
//! support requests and confirm bank transfers.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::role::{Department, Role};
use scrm_persistence::Store;
use scrm_persistence::directory::{Class, Family, Student};
use scrm_persistence::users::NewUser;
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::Calendar;
use super::tally::Tally;
use crate::school::PASSWORD;

/// A family with an account: its primary guardian and children.
#[derive(Debug, Clone)]
pub struct Household {
    pub guardian: Uuid,
    pub children: Vec<Student>,
}

pub struct People {
    pub admin: Uuid,
    /// Families with an activated primary guardian.
    pub households: Vec<Household>,
    pub guardians: HashSet<Uuid>,
    /// Staff of the support desk, and of finance.
    pub support: Vec<Uuid>,
    pub finance: Vec<Uuid>,
    pub classes: Vec<Class>,
}

impl People {
    /// Activates pending families until `activated` have an account, and
    /// adds the staff; the accounts are counted in `tally`.
    pub async fn gather(
        store: &Store,
        cal: &Calendar,
        admin: Uuid,
        activated: usize,
        tally: &mut Tally,
    ) -> Result<People> {
        let families = all_families(store).await?;
        let newly = activate(store, cal, &families, activated).await?;
        tally.add(cal.month_of(cal.now), "familiesActivated", newly, 0);
        tally.count("families activated here", newly);
        let households = households(store, &all_families(store).await?).await?;
        let support = staff(store, cal, "cs", Department::Support, 5).await?;
        let finance = staff(store, cal, "keuangan", Department::Finance, 2).await?;
        tally.users_added += (support.len() + finance.len()) as i64;
        let classes = store
            .classes_of_year(&cal.academic_year())
            .await
            .context("failed to read the classes")?;
        Ok(People {
            admin,
            guardians: households.iter().map(|h| h.guardian).collect(),
            households,
            support,
            finance,
            classes,
        })
    }

    /// Each class's grade.
    pub fn grades(&self) -> HashMap<Uuid, i32> {
        self.classes.iter().map(|c| (c.id, c.grade)).collect()
    }
}

async fn all_families(store: &Store) -> Result<Vec<Family>> {
    let mut out: Vec<Family> = vec![];
    // Pages of 200; the bound only guards against a cursor loop.
    for _ in 0..1_000 {
        let after = out.last().map(|f| (f.name.clone(), f.id));
        let page = store
            .families_page(after, 200, false)
            .await
            .context("failed to list the families")?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
    anyhow::bail!("the families list does not end")
}

/// Uses the codes of pending families, in name order, until `target`
/// families are activated; gives how many it activated. They activate
/// now, not in the past year: the roster, and so every family, was only
/// imported now. One password hash serves them all: hashing is the
/// server's cost, not the store's.
async fn activate(
    store: &Store,
    cal: &Calendar,
    families: &[Family],
    target: usize,
) -> Result<i64> {
    let done = families.iter().filter(|f| f.activated_at.is_some()).count();
    let codes: Vec<&str> = families
        .iter()
        .filter(|f| f.activated_at.is_none())
        .filter_map(|f| f.activation_code.as_deref())
        .take(target.saturating_sub(done))
        .collect();
    let hash = scrm_api::auth::hash_password(PASSWORD)?;
    let activated: Vec<bool> = futures_util::stream::iter(codes)
        .map(|code| {
            let hash = hash.clone();
            async move {
                let user = store.activate(code, &hash, None, None, cal.now).await;
                Ok::<_, anyhow::Error>(user.context("failed to activate a family")?.is_some())
            }
        })
        .buffer_unordered(AT_ONCE)
        .try_collect()
        .await?;
    anyhow::ensure!(
        activated.iter().all(|a| *a),
        "an unused activation code was refused"
    );
    Ok(activated.len() as i64)
}

async fn households(store: &Store, families: &[Family]) -> Result<Vec<Household>> {
    let active: Vec<&Family> = families
        .iter()
        .filter(|f| f.activated_at.is_some())
        .collect();
    let mut children: HashMap<Uuid, Vec<Student>> = HashMap::new();
    for chunk in active.chunks(200) {
        let ids: Vec<Uuid> = chunk.iter().map(|f| f.id).collect();
        let found = store
            .students_of_families(&ids)
            .await
            .context("failed to read the children")?;
        for student in found {
            if let Some(family) = student.family_id {
                children.entry(family).or_default().push(student);
            }
        }
    }
    // A guardian found by phone or e-mail in two families is one
    // person: one household, all their children.
    let mut out: Vec<Household> = vec![];
    for family in active {
        let (Some(guardian), Some(kids)) =
            (family.primary_guardian_id, children.remove(&family.id))
        else {
            continue;
        };
        match out.iter_mut().find(|h| h.guardian == guardian) {
            Some(household) => household.children.extend(kids),
            None => out.push(Household {
                guardian,
                children: kids,
            }),
        }
    }
    Ok(out)
}

async fn staff(
    store: &Store,
    cal: &Calendar,
    label: &str,
    department: Department,
    n: usize,
) -> Result<Vec<Uuid>> {
    let mut ids = vec![];
    for k in 1..=n {
        let new = NewUser {
            name: format!("Staf {label} {k}"),
            email: Some(format!(
                "{label}{k}-{}@bench.example",
                Uuid::new_v4().simple()
            )),
            phone: None,
            password_hash: None,
            roles: vec![Role::Staff],
            departments: vec![department],
            family_id: None,
        };
        let user = store
            .create_user(new, cal.now)
            .await
            .context("failed to create a staff account")?;
        ids.push(user.id);
    }
    Ok(ids)
}
