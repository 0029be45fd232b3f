//! Applies a parsed roster to the directory.
//!
//! The whole import is planned in memory against a snapshot of the
//! directory and then written in one transaction, so an import either
//! lands whole or not at all, a second import of the same file writes
//! nothing, and the sample roster (1,008 students) takes a few dozen
//! statements rather than thousands.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::DomainResult;
use scrm_domain::roster::{ParsedRoster, RosterRow, Sex};
use sea_orm::{FromQueryResult, TransactionTrait, Value};
use uuid::Uuid;

use crate::Store;
use crate::directory::{STUDENT_COLUMNS, Student};
use crate::error::db_err;
use crate::sql::{all, exec, insert_many};

/// What happened to one row of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Created,
    Updated,
    Unchanged,
    Refused,
}

#[derive(Debug, Clone)]
pub struct RowOutcome {
    pub line: usize,
    pub status: RowStatus,
    pub student_name: Option<String>,
    pub field: Option<String>,
    /// Why a row was refused, or what changed in an updated row.
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub rows: Vec<RowOutcome>,
    pub families_created: usize,
    pub guardians_created: usize,
    pub classes_created: usize,
    pub dry_run: bool,
}

impl ImportOutcome {
    pub fn count(&self, status: RowStatus) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }
}

const FATHER: &str = "FATHER";
const MOTHER: &str = "MOTHER";
const GUARDIAN: &str = "GUARDIAN";

impl Store {
    /// Imports `roster` into `academic_year`. `new_code` makes activation
    /// codes for families that need one. With `dry_run` nothing is written
    /// but the outcome is the same.
    pub async fn import_roster(
        &self,
        roster: &ParsedRoster,
        academic_year: &str,
        dry_run: bool,
        now: DateTime<Utc>,
        new_code: &mut (dyn FnMut() -> String + Send),
    ) -> DomainResult<ImportOutcome> {
        let snapshot = Snapshot::load(self, academic_year).await?;
        let mut plan = Plan::new(snapshot, academic_year, now);
        for refused in &roster.refused {
            // A row with several faults is one refused row with several
            // messages.
            match plan.outcomes.iter_mut().find(|o| o.line == refused.line) {
                Some(row) => row.messages.push(refused.message.clone()),
                None => plan.outcomes.push(RowOutcome {
                    line: refused.line,
                    status: RowStatus::Refused,
                    student_name: None,
                    field: refused.field.map(str::to_owned),
                    messages: vec![refused.message.clone()],
                }),
            }
        }
        let families = group_families(&roster.rows, &plan.snap.students, &mut plan.outcomes);
        for family in families {
            plan.family(&family, new_code);
        }
        plan.outcomes.sort_by_key(|o| o.line);
        let outcome = plan.outcome(dry_run);
        if !dry_run {
            self.write(plan).await?;
        }
        Ok(outcome)
    }

    async fn write(&self, plan: Plan) -> DomainResult<()> {
        let tx = self.db.begin().await.map_err(db_err)?;
        let w = plan.writes;
        insert_many(&tx, "classes", &CLASS_COLS, w.classes)
            .await
            .map_err(db_err)?;
        insert_many(&tx, "families", &FAMILY_COLS, w.families)
            .await
            .map_err(db_err)?;
        insert_many(&tx, "users", &USER_COLS, w.users)
            .await
            .map_err(db_err)?;
        insert_many(&tx, "students", &STUDENT_COLS, w.students)
            .await
            .map_err(db_err)?;
        insert_many(&tx, "guardianships", &LINK_COLS, w.links)
            .await
            .map_err(db_err)?;
        for (sql, values) in w.updates {
            exec(&tx, sql, values).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

const CLASS_COLS: [&str; 6] = [
    "id",
    "academic_year",
    "grade",
    "section",
    "name",
    "created_at",
];
const FAMILY_COLS: [&str; 7] = [
    "id",
    "name",
    "import_key",
    "primary_guardian_id",
    "activation_code",
    "code_issued_at",
    "created_at",
];
const USER_COLS: [&str; 7] = [
    "id",
    "name",
    "email",
    "phone",
    "roles",
    "family_id",
    "created_at",
];
const STUDENT_COLS: [&str; 14] = [
    "id",
    "family_id",
    "class_id",
    "nisn",
    "nipd",
    "name",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "address",
    "created_at",
    "updated_at",
    "user_id",
];
const LINK_COLS: [&str; 5] = [
    "guardian_id",
    "student_id",
    "relation",
    "contact_priority",
    "can_see_records",
];

/// The rows of one family: siblings share their parents and contacts.
struct FamilyRows<'a> {
    key: String,
    rows: Vec<&'a RosterRow>,
}

/// Groups rows into families by parents' names and contact. A second row
/// with a NISN or NIPD already seen in the file is refused, and so is a
/// row whose NISN and NIPD belong to two different students.
fn group_families<'a>(
    rows: &'a [RosterRow],
    known: &HashMap<String, Student>,
    outcomes: &mut Vec<RowOutcome>,
) -> Vec<FamilyRows<'a>> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut families: Vec<FamilyRows<'a>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        if let Some(first) = student_keys(row).find_map(|k| seen.get(&k).copied()) {
            outcomes.push(refusal(
                row,
                "NISN",
                format!("the same student is already on line {first}"),
            ));
            continue;
        }
        if let Some(refused) = identity_conflict(row, known) {
            outcomes.push(refused);
            continue;
        }
        for k in student_keys(row) {
            seen.insert(k, row.line);
        }
        let key = family_key(row);
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            families.push(FamilyRows { key, rows: vec![] });
            families.len() - 1
        });
        families[slot].rows.push(row);
    }
    families
}

/// A row whose NISN is one student's and whose NIPD is another's: taking
/// it would either merge two children or, on writing, break the import
/// as a whole, so the school must say which number is wrong.
fn identity_conflict(row: &RosterRow, known: &HashMap<String, Student>) -> Option<RowOutcome> {
    let by_nisn = known.get(&format!("nisn:{}", row.nisn.as_ref()?))?;
    let by_nipd = known.get(&format!("nipd:{}", row.nipd.as_ref()?))?;
    (by_nisn.id != by_nipd.id).then(|| {
        refusal(
            row,
            "NIPD",
            format!(
                "the NISN is {}'s but the NIPD is {}'s; correct whichever is wrong",
                by_nisn.name, by_nipd.name
            ),
        )
    })
}

fn student_keys(row: &RosterRow) -> impl Iterator<Item = String> + '_ {
    let nisn = row.nisn.as_ref().map(|n| format!("nisn:{n}"));
    let nipd = row.nipd.as_ref().map(|n| format!("nipd:{n}"));
    nisn.into_iter().chain(nipd)
}

fn family_key(row: &RosterRow) -> String {
    let fold = |s: &Option<String>| s.as_deref().unwrap_or("").to_lowercase();
    let contact = row
        .phone
        .clone()
        .or_else(|| row.email.clone())
        .or_else(|| row.address.as_ref().map(|a| a.to_lowercase()))
        .or_else(|| student_keys(row).next())
        .unwrap_or_default();
    format!(
        "{}|{}|{}|{contact}",
        fold(&row.father_name),
        fold(&row.mother_name),
        fold(&row.guardian_name)
    )
}

fn refusal(row: &RosterRow, field: &str, message: String) -> RowOutcome {
    RowOutcome {
        line: row.line,
        status: RowStatus::Refused,
        student_name: Some(row.student_name.clone()),
        field: Some(field.to_owned()),
        messages: vec![message],
    }
}

#[derive(FromQueryResult)]
struct FamilyRow {
    id: Uuid,
    import_key: Option<String>,
    primary_guardian_id: Option<Uuid>,
    activation_code: Option<String>,
    activated_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult, Clone)]
struct GuardianRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    family_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct LinkRow {
    guardian_id: Uuid,
    student_id: Uuid,
    relation: String,
}

#[derive(FromQueryResult)]
struct ClassRow {
    id: Uuid,
    grade: i32,
    section: String,
    name: String,
}

#[derive(FromQueryResult)]
struct LoginRow {
    id: Uuid,
    email: Option<String>,
    phone: Option<String>,
}

/// The directory as it stands before the import.
struct Snapshot {
    classes: HashMap<(u8, String), (Uuid, String)>,
    students: HashMap<String, Student>,
    families_by_key: HashMap<String, Uuid>,
    families: HashMap<Uuid, FamilyRow>,
    /// (family, relation) → guardian
    guardians: HashMap<(Uuid, String), GuardianRow>,
    /// Every guardian by id.
    people: HashMap<Uuid, GuardianRow>,
    links: HashSet<(Uuid, Uuid)>,
    /// e-mail or phone → the user who holds it
    logins: HashMap<String, Uuid>,
}

impl Snapshot {
    async fn load(store: &Store, academic_year: &str) -> DomainResult<Snapshot> {
        let db = &store.db;
        let classes: Vec<ClassRow> = all(
            db,
            "SELECT id, grade, section, name FROM classes WHERE academic_year = $1",
            vec![academic_year.into()],
        )
        .await?;
        let students: Vec<Student> = all(
            db,
            &format!("SELECT {STUDENT_COLUMNS} FROM students"),
            vec![],
        )
        .await?;
        let families: Vec<FamilyRow> = all(
            db,
            "SELECT id, import_key, primary_guardian_id, activation_code, activated_at FROM families",
            vec![],
        )
        .await?;
        let guardians: Vec<GuardianRow> = all(
            db,
            "SELECT id, name, email, phone, family_id FROM users WHERE family_id IS NOT NULL",
            vec![],
        )
        .await?;
        let links: Vec<LinkRow> = all(
            db,
            "SELECT guardian_id, student_id, relation FROM guardianships",
            vec![],
        )
        .await?;
        let logins: Vec<LoginRow> = all(
            db,
            "SELECT id, email, phone FROM users WHERE email IS NOT NULL OR phone IS NOT NULL",
            vec![],
        )
        .await?;
        Ok(Snapshot::assemble(
            classes, students, families, guardians, links, logins,
        ))
    }

    fn assemble(
        classes: Vec<ClassRow>,
        students: Vec<Student>,
        families: Vec<FamilyRow>,
        guardians: Vec<GuardianRow>,
        links: Vec<LinkRow>,
        logins: Vec<LoginRow>,
    ) -> Snapshot {
        let guardian_by_id: HashMap<Uuid, GuardianRow> =
            guardians.into_iter().map(|g| (g.id, g)).collect();
        let mut by_relation = HashMap::new();
        for link in &links {
            if let Some(g) = guardian_by_id.get(&link.guardian_id)
                && let Some(family) = g.family_id
            {
                by_relation.insert((family, link.relation.clone()), g.clone());
            }
        }
        let mut student_index = HashMap::new();
        for s in students {
            for k in [
                s.nisn.as_ref().map(|n| format!("nisn:{n}")),
                s.nipd.as_ref().map(|n| format!("nipd:{n}")),
            ]
            .into_iter()
            .flatten()
            {
                student_index.insert(k, s.clone());
            }
        }
        Snapshot {
            people: guardian_by_id.clone(),
            classes: classes
                .into_iter()
                .map(|c| ((c.grade as u8, c.section), (c.id, c.name)))
                .collect(),
            students: student_index,
            families_by_key: families
                .iter()
                .filter_map(|f| f.import_key.clone().map(|k| (k, f.id)))
                .collect(),
            families: families.into_iter().map(|f| (f.id, f)).collect(),
            guardians: by_relation,
            links: links
                .iter()
                .map(|l| (l.guardian_id, l.student_id))
                .collect(),
            logins: logins
                .into_iter()
                .flat_map(|l| [l.email.map(|e| (e, l.id)), l.phone.map(|p| (p, l.id))])
                .flatten()
                .collect(),
        }
    }
}

/// The rows to insert and statements to run, gathered before writing.
#[derive(Default)]
struct Writes {
    classes: Vec<Vec<Value>>,
    families: Vec<Vec<Value>>,
    users: Vec<Vec<Value>>,
    students: Vec<Vec<Value>>,
    links: Vec<Vec<Value>>,
    updates: Vec<(&'static str, Vec<Value>)>,
}

struct Plan {
    snap: Snapshot,
    year: String,
    now: DateTime<Utc>,
    writes: Writes,
    outcomes: Vec<RowOutcome>,
    /// New families and the index of their row in `writes.families`.
    new_families: HashMap<Uuid, usize>,
    families_created: usize,
    guardians_created: usize,
    classes_created: usize,
}

impl Plan {
    fn new(snap: Snapshot, year: &str, now: DateTime<Utc>) -> Plan {
        Plan {
            snap,
            year: year.to_owned(),
            now,
            writes: Writes::default(),
            outcomes: vec![],
            new_families: HashMap::new(),
            families_created: 0,
            guardians_created: 0,
            classes_created: 0,
        }
    }

    fn outcome(&self, dry_run: bool) -> ImportOutcome {
        ImportOutcome {
            rows: self.outcomes.clone(),
            families_created: self.families_created,
            guardians_created: self.guardians_created,
            classes_created: self.classes_created,
            dry_run,
        }
    }

    /// Plans one family: its record, its guardians, its students, links.
    fn family(&mut self, family: &FamilyRows<'_>, new_code: &mut (dyn FnMut() -> String + Send)) {
        let first = family.rows[0];
        if let Some(refused) = self.login_conflict(family) {
            self.outcomes.extend(
                family
                    .rows
                    .iter()
                    .map(|r| refusal(r, refused.0, refused.1.clone())),
            );
            return;
        }
        let family_id = self.family_record(family, new_code);
        let (guardians, guardian_changes) = self.guardians(family_id, first);
        self.primary_guardian(family_id, &guardians);
        for (i, row) in family.rows.iter().enumerate() {
            let mut changes = if i == 0 {
                guardian_changes.clone()
            } else {
                vec![]
            };
            let (student_id, created, student_changes) = self.student(family_id, row);
            changes.extend(student_changes);
            self.links(student_id, &guardians);
            let status = match (created, changes.is_empty()) {
                (true, _) => RowStatus::Created,
                (false, false) => RowStatus::Updated,
                (false, true) => RowStatus::Unchanged,
            };
            self.outcomes.push(RowOutcome {
                line: row.line,
                status,
                student_name: Some(row.student_name.clone()),
                field: None,
                messages: if created { vec![] } else { changes },
            });
        }
    }

    /// The family's existing record (found through a known child or its
    /// key) or a new one with an activation code.
    fn family_record(
        &mut self,
        family: &FamilyRows<'_>,
        new_code: &mut (dyn FnMut() -> String + Send),
    ) -> Uuid {
        if let Some(id) = self.known_family(family) {
            self.refresh_family(id, family, new_code);
            return id;
        }
        let id = Uuid::now_v7();
        let first = family.rows[0];
        let name = first
            .father_name
            .clone()
            .or_else(|| first.mother_name.clone())
            .or_else(|| first.guardian_name.clone())
            .unwrap_or_else(|| first.student_name.clone());
        self.writes.families.push(vec![
            id.into(),
            format!("Keluarga {name}").into(),
            family.key.clone().into(),
            Option::<Uuid>::None.into(),
            new_code().into(),
            self.now.into(),
            self.now.into(),
        ]);
        self.new_families.insert(id, self.writes.families.len() - 1);
        self.snap.families_by_key.insert(family.key.clone(), id);
        self.families_created += 1;
        id
    }

    fn refresh_family(
        &mut self,
        id: Uuid,
        family: &FamilyRows<'_>,
        new_code: &mut (dyn FnMut() -> String + Send),
    ) {
        let Some(record) = self.snap.families.get(&id) else {
            return;
        };
        if record.import_key.as_deref() != Some(family.key.as_str()) {
            self.writes.updates.push((
                "UPDATE families SET import_key = $2 WHERE id = $1",
                vec![id.into(), family.key.clone().into()],
            ));
        }
        if record.activation_code.is_none() && record.activated_at.is_none() {
            self.writes.updates.push((
                "UPDATE families SET activation_code = $2, code_issued_at = $3 WHERE id = $1",
                vec![id.into(), new_code().into(), self.now.into()],
            ));
        }
        self.snap.families_by_key.insert(family.key.clone(), id);
    }

    /// The family already in the directory: found through a known child
    /// or, failing that, its key.
    fn known_family(&self, family: &FamilyRows<'_>) -> Option<Uuid> {
        family
            .rows
            .iter()
            .flat_map(|r| student_keys(r))
            .find_map(|k| self.snap.students.get(&k).and_then(|s| s.family_id))
            .or_else(|| self.snap.families_by_key.get(&family.key).copied())
    }

    /// A phone or e-mail in the file that another person already holds.
    /// The same person (same name) may be a guardian in two families, as
    /// a parent with children from two marriages is.
    fn login_conflict(&self, family: &FamilyRows<'_>) -> Option<(&'static str, String)> {
        let row = family.rows[0];
        let holder = self.existing_primary(family);
        let guardians = self.ordered_guardians(self.known_family(family), row);
        let name = guardians.first().map(|(_, n)| n.to_lowercase());
        for (field, value) in [("HP", &row.phone), ("E-Mail", &row.email)] {
            let Some(owner) = value.as_ref().and_then(|v| self.snap.logins.get(v)) else {
                continue;
            };
            let same_person = self.snap.people.get(owner).map(|p| p.name.to_lowercase()) == name;
            if Some(*owner) != holder && !same_person {
                return Some((field, format!("{field} is already used by another account")));
            }
        }
        None
    }

    fn existing_primary(&self, family: &FamilyRows<'_>) -> Option<Uuid> {
        let family_id = self.known_family(family)?;
        let guardians = self.ordered_guardians(Some(family_id), family.rows[0]);
        let (relation, name) = guardians.first()?;
        self.existing_guardian(family_id, relation, name, &guardians)
            .map(|g| g.id)
    }

    /// The guardians a row names, the one to hold the family's phone and
    /// e-mail first: whoever in the family already holds them (a father
    /// added to a later export must not take the mother's login), else
    /// the first named.
    fn ordered_guardians<'r>(
        &self,
        family_id: Option<Uuid>,
        row: &'r RosterRow,
    ) -> Vec<(&'static str, &'r str)> {
        let mut guardians = desired_guardians(row);
        let holder = [&row.phone, &row.email]
            .into_iter()
            .flatten()
            .filter_map(|login| self.snap.logins.get(login))
            .filter_map(|id| self.snap.people.get(id))
            .find(|p| family_id.is_some() && p.family_id == family_id);
        let at = holder.and_then(|h| {
            guardians
                .iter()
                .position(|(_, n)| n.eq_ignore_ascii_case(&h.name))
        });
        if let Some(at) = at {
            let holder = guardians.remove(at);
            guardians.insert(0, holder);
        }
        guardians
    }

    /// The family's guardian for this name: the one of that name, else
    /// the one in that relation unless the row names them elsewhere (a
    /// simple file's parent column reads as GUARDIAN, a Dapodik export
    /// says MOTHER).
    fn existing_guardian(
        &self,
        family_id: Uuid,
        relation: &str,
        name: &str,
        named: &[(&'static str, &str)],
    ) -> Option<GuardianRow> {
        let in_family = self
            .snap
            .people
            .values()
            .find(|p| p.family_id == Some(family_id) && p.name.eq_ignore_ascii_case(name));
        let by_relation = || {
            self.snap
                .guardians
                .get(&(family_id, relation.to_owned()))
                .filter(|g| !named.iter().any(|(_, n)| n.eq_ignore_ascii_case(&g.name)))
        };
        in_family.or_else(by_relation).cloned()
    }

    /// Creates or updates the guardians the row names; the first one
    /// holds the family's phone and e-mail.
    fn guardians(
        &mut self,
        family_id: Uuid,
        row: &RosterRow,
    ) -> (Vec<(Uuid, &'static str)>, Vec<String>) {
        let mut ids = vec![];
        let mut changes = vec![];
        let named = self.ordered_guardians(Some(family_id), row);
        for (i, &(relation, name)) in named.iter().enumerate() {
            let (email, phone) = if i == 0 {
                (row.email.clone(), row.phone.clone())
            } else {
                (None, None)
            };
            let key = (family_id, relation.to_owned());
            let known = self.existing_guardian(family_id, relation, name, &named);
            let id = match known.or_else(|| self.same_person(name, &email, &phone)) {
                // Only the family a guardian was first imported with
                // updates their details, so that a parent in two families
                // does not flip between two phones on every import.
                Some(g) if g.family_id == Some(family_id) => {
                    changes.extend(self.update_guardian(&g, name, email, phone));
                    g.id
                }
                Some(g) => {
                    self.snap.guardians.insert(key, g.clone());
                    g.id
                }
                None => {
                    if !self.new_families.contains_key(&family_id) {
                        changes.push(format!("guardian added: {name}"));
                    }
                    self.new_guardian(family_id, relation, name, email, phone)
                }
            };
            ids.push((id, relation));
        }
        (ids, changes)
    }

    /// An existing guardian with this name who holds this e-mail or phone.
    fn same_person(
        &self,
        name: &str,
        email: &Option<String>,
        phone: &Option<String>,
    ) -> Option<GuardianRow> {
        [email, phone]
            .into_iter()
            .flatten()
            .filter_map(|login| self.snap.logins.get(login))
            .filter_map(|id| self.snap.people.get(id))
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    fn new_guardian(
        &mut self,
        family_id: Uuid,
        relation: &'static str,
        name: &str,
        email: Option<String>,
        phone: Option<String>,
    ) -> Uuid {
        let id = Uuid::now_v7();
        for login in [&email, &phone].into_iter().flatten() {
            self.snap.logins.insert(login.clone(), id);
        }
        self.writes.users.push(vec![
            id.into(),
            name.into(),
            email.clone().into(),
            phone.clone().into(),
            "PARENT".into(),
            family_id.into(),
            self.now.into(),
        ]);
        let row = GuardianRow {
            id,
            name: name.to_owned(),
            email,
            phone,
            family_id: Some(family_id),
        };
        self.snap.people.insert(id, row.clone());
        self.snap
            .guardians
            .insert((family_id, relation.to_owned()), row);
        self.guardians_created += 1;
        id
    }

    fn update_guardian(
        &mut self,
        g: &GuardianRow,
        name: &str,
        email: Option<String>,
        phone: Option<String>,
    ) -> Vec<String> {
        let mut changes = vec![];
        if g.name != name {
            changes.push(format!("guardian name: {} → {name}", g.name));
        }
        // An empty cell keeps what the directory has: files often omit it.
        let phone = phone.filter(|p| g.phone.as_ref() != Some(p));
        let email = email.filter(|e| g.email.as_ref() != Some(e));
        if phone.is_some() {
            changes.push("guardian phone changed".to_owned());
        }
        if email.is_some() {
            changes.push("guardian e-mail changed".to_owned());
        }
        if !changes.is_empty() {
            for login in [&email, &phone].into_iter().flatten() {
                self.snap.logins.insert(login.clone(), g.id);
            }
            self.writes.updates.push((
                "UPDATE users SET name = $2, email = COALESCE($3, email), \
                 phone = COALESCE($4, phone) WHERE id = $1",
                vec![g.id.into(), name.into(), email.into(), phone.into()],
            ));
        }
        changes
    }

    fn primary_guardian(&mut self, family_id: Uuid, guardians: &[(Uuid, &'static str)]) {
        let primary = guardians.first().map(|g| g.0);
        if let Some(row) = self.new_families.get(&family_id) {
            self.writes.families[*row][3] = primary.into();
            return;
        }
        let current = self
            .snap
            .families
            .get(&family_id)
            .and_then(|f| f.primary_guardian_id);
        if current != primary {
            self.writes.updates.push((
                "UPDATE families SET primary_guardian_id = $2 WHERE id = $1",
                vec![family_id.into(), primary.into()],
            ));
        }
    }

    /// Inserts or updates the student; gives (id, created, changes).
    fn student(&mut self, family_id: Uuid, row: &RosterRow) -> (Uuid, bool, Vec<String>) {
        let (class_id, class_name) = self.class(row);
        let existing = student_keys(row).find_map(|k| self.snap.students.get(&k).cloned());
        let Some(old) = existing else {
            let id = Uuid::now_v7();
            let mut values = student_values(row, family_id, class_id);
            values.insert(0, id.into());
            values.extend([
                self.now.into(),
                self.now.into(),
                Option::<Uuid>::None.into(),
            ]);
            self.writes.students.push(values);
            return (id, true, vec![]);
        };
        let changes = student_changes(&old, row, class_id, &class_name, &self.snap);
        if !changes.is_empty() {
            let mut values = student_values(row, old.family_id.unwrap_or(family_id), class_id);
            values.insert(0, old.id.into());
            values.push(self.now.into());
            self.writes.updates.push((
                "UPDATE students SET family_id = $2, class_id = $3, nisn = COALESCE($4, nisn), \
                 nipd = COALESCE($5, nipd), name = $6, sex = $7, birth_place = $8, \
                 birth_date = $9, religion = $10, address = $11, updated_at = $12 WHERE id = $1",
                values,
            ));
        }
        (old.id, false, changes)
    }

    fn class(&mut self, row: &RosterRow) -> (Uuid, String) {
        let key = (row.class.grade, row.class.section.clone());
        if let Some((id, name)) = self.snap.classes.get(&key) {
            return (*id, name.clone());
        }
        let id = Uuid::now_v7();
        let name = row.class.display();
        self.writes.classes.push(vec![
            id.into(),
            self.year.clone().into(),
            i32::from(row.class.grade).into(),
            row.class.section.clone().into(),
            name.clone().into(),
            self.now.into(),
        ]);
        self.snap.classes.insert(key, (id, name.clone()));
        self.classes_created += 1;
        (id, name)
    }

    fn links(&mut self, student_id: Uuid, guardians: &[(Uuid, &'static str)]) {
        for (priority, (guardian_id, relation)) in guardians.iter().enumerate() {
            if self.snap.links.insert((*guardian_id, student_id)) {
                self.writes.links.push(vec![
                    (*guardian_id).into(),
                    student_id.into(),
                    (*relation).into(),
                    (priority as i32 + 1).into(),
                    true.into(),
                ]);
            }
        }
    }
}

fn desired_guardians(row: &RosterRow) -> Vec<(&'static str, &str)> {
    [
        (FATHER, &row.father_name),
        (MOTHER, &row.mother_name),
        (GUARDIAN, &row.guardian_name),
    ]
    .into_iter()
    .filter_map(|(rel, name)| name.as_deref().map(|n| (rel, n)))
    .collect()
}

fn sex_code(sex: Option<Sex>) -> Option<String> {
    sex.map(|s| match s {
        Sex::Male => "L".to_owned(),
        Sex::Female => "P".to_owned(),
    })
}

/// family, class, nisn, nipd, name, sex, birth place, birth date,
/// religion, address: the columns an import sets.
fn student_values(row: &RosterRow, family_id: Uuid, class_id: Uuid) -> Vec<Value> {
    vec![
        family_id.into(),
        class_id.into(),
        row.nisn.clone().into(),
        row.nipd.clone().into(),
        row.student_name.clone().into(),
        sex_code(row.sex).into(),
        row.birth_place.clone().into(),
        row.birth_date.into(),
        row.religion.clone().into(),
        row.address.clone().into(),
    ]
}

fn student_changes(
    old: &Student,
    row: &RosterRow,
    class_id: Uuid,
    class_name: &str,
    snap: &Snapshot,
) -> Vec<String> {
    let mut changes = vec![];
    if old.class_id != Some(class_id) {
        let from = snap
            .classes
            .values()
            .find(|(id, _)| Some(*id) == old.class_id)
            .map_or("no class", |(_, n)| n.as_str());
        changes.push(format!("class: {from} → {class_name}"));
    }
    let sex = sex_code(row.sex);
    let text = [
        ("name", Some(&old.name), Some(&row.student_name)),
        ("sex", old.sex.as_ref(), sex.as_ref()),
        (
            "birth place",
            old.birth_place.as_ref(),
            row.birth_place.as_ref(),
        ),
        ("religion", old.religion.as_ref(), row.religion.as_ref()),
        ("address", old.address.as_ref(), row.address.as_ref()),
    ];
    for (field, before, after) in text {
        if before != after {
            changes.push(format!("{field} changed"));
        }
    }
    if old.birth_date != row.birth_date {
        changes.push(format!(
            "birth date: {} → {}",
            show_date(old.birth_date),
            show_date(row.birth_date)
        ));
    }
    let fills = [
        ("NISN", &old.nisn, &row.nisn),
        ("NIPD", &old.nipd, &row.nipd),
    ];
    // An empty cell keeps the number on file; a different one replaces
    // it (a typing slip corrected in Dapodik), and the report says so.
    for (field, before, after) in fills {
        match (before, after) {
            (None, Some(_)) => changes.push(format!("{field} added")),
            (Some(was), Some(now)) if was != now => {
                changes.push(format!("{field}: {was} → {now}"));
            }
            _ => {}
        }
    }
    changes
}

fn show_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "none".to_owned(), |d| d.to_string())
}
