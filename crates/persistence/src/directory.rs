//! The directory: classes, students, families, guardianships, teachers
//! and groups, and what a person is linked to.

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::roster::ClassName;
use scrm_domain::{DomainError, DomainResult};
use sea_orm::FromQueryResult;
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::sql::{all, exec, one};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Class {
    pub id: Uuid,
    pub academic_year: String,
    pub grade: i32,
    pub section: String,
    pub name: String,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Student {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub family_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    pub nisn: Option<String>,
    pub nipd: Option<String>,
    pub name: String,
    pub sex: Option<String>,
    pub birth_place: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub religion: Option<String>,
    pub address: Option<String>,
}

pub(crate) const STUDENT_COLUMNS: &str = "id, user_id, family_id, class_id, nisn, nipd, \
     name, sex, birth_place, birth_date, religion, address";

/// A child as one of their guardians sees the link.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Guardianship {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    pub relation: String,
    pub contact_priority: i32,
    pub can_see_records: bool,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Family {
    pub id: Uuid,
    pub name: String,
    pub primary_guardian_id: Option<Uuid>,
    pub activation_code: Option<String>,
    pub code_issued_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
}

const FAMILY_COLUMNS: &str =
    "id, name, primary_guardian_id, activation_code, code_issued_at, activated_at";

impl Store {
    /// The class of that name in that year, created when missing.
    pub async fn ensure_class(
        &self,
        academic_year: &str,
        class: &ClassName,
        now: DateTime<Utc>,
    ) -> DomainResult<Uuid> {
        exec(
            &self.db,
            "INSERT INTO classes (id, academic_year, grade, section, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (academic_year, grade, section) DO NOTHING",
            vec![
                Uuid::now_v7().into(),
                academic_year.into(),
                i32::from(class.grade).into(),
                class.section.clone().into(),
                class.display().into(),
                now.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        let found: Option<Class> = one(
            &self.db,
            "SELECT id, academic_year, grade, section, name FROM classes \
             WHERE academic_year = $1 AND grade = $2 AND section = $3",
            vec![
                academic_year.into(),
                i32::from(class.grade).into(),
                class.section.clone().into(),
            ],
        )
        .await?;
        found.map(|c| c.id).ok_or(DomainError::NotFound("class"))
    }

    pub async fn classes_by_ids(&self, ids: &[Uuid]) -> DomainResult<Vec<Class>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT id, academic_year, grade, section, name FROM classes WHERE id IN ({}) \
             ORDER BY grade, section",
            crate::sql::placeholders(1, ids.len())
        );
        all(&self.db, &sql, ids.iter().map(|i| (*i).into()).collect()).await
    }

    pub async fn classes_of_year(&self, academic_year: &str) -> DomainResult<Vec<Class>> {
        all(
            &self.db,
            "SELECT id, academic_year, grade, section, name FROM classes \
             WHERE academic_year = $1 ORDER BY grade, section",
            vec![academic_year.into()],
        )
        .await
    }

    /// The classes a teacher teaches, homeroom or subject.
    pub async fn classes_taught(&self, teacher_id: Uuid) -> DomainResult<Vec<Class>> {
        all(
            &self.db,
            "SELECT c.id, c.academic_year, c.grade, c.section, c.name FROM classes c \
             JOIN class_teachers t ON t.class_id = c.id WHERE t.teacher_id = $1 \
             ORDER BY c.grade, c.section",
            vec![teacher_id.into()],
        )
        .await
    }

    pub async fn assign_teacher(
        &self,
        class_id: Uuid,
        teacher_id: Uuid,
        homeroom: bool,
        subject: Option<String>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO class_teachers (class_id, teacher_id, is_homeroom, subject) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (class_id, teacher_id) \
             DO UPDATE SET is_homeroom = excluded.is_homeroom, subject = excluded.subject",
            vec![
                class_id.into(),
                teacher_id.into(),
                homeroom.into(),
                subject.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// The homeroom teachers of the given classes, as (class, teacher).
    pub async fn homeroom_teachers(&self, class_ids: &[Uuid]) -> DomainResult<Vec<(Uuid, Uuid)>> {
        #[derive(FromQueryResult)]
        struct Row {
            class_id: Uuid,
            teacher_id: Uuid,
        }
        if class_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT class_id, teacher_id FROM class_teachers \
             WHERE is_homeroom = TRUE AND class_id IN ({})",
            crate::sql::placeholders(1, class_ids.len())
        );
        let rows: Vec<Row> = all(
            &self.db,
            &sql,
            class_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.class_id, r.teacher_id))
            .collect())
    }

    pub async fn student(&self, id: Uuid) -> DomainResult<Option<Student>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students WHERE id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    pub async fn student_of_user(&self, user_id: Uuid) -> DomainResult<Option<Student>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students WHERE user_id = $1");
        one(&self.db, &sql, vec![user_id.into()]).await
    }

    pub async fn students_of_families(&self, family_ids: &[Uuid]) -> DomainResult<Vec<Student>> {
        if family_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {STUDENT_COLUMNS} FROM students WHERE family_id IN ({}) ORDER BY name",
            crate::sql::placeholders(1, family_ids.len())
        );
        all(
            &self.db,
            &sql,
            family_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    pub async fn count_students(&self) -> DomainResult<i64> {
        crate::sql::count(&self.db, "SELECT COUNT(*) AS n FROM students", vec![]).await
    }

    /// A guardian's children with the guardianship of each.
    pub async fn children_of(
        &self,
        guardian_id: Uuid,
    ) -> DomainResult<Vec<(Guardianship, Student)>> {
        let links: Vec<Guardianship> = all(
            &self.db,
            "SELECT guardian_id, student_id, relation, contact_priority, can_see_records \
             FROM guardianships WHERE guardian_id = $1",
            vec![guardian_id.into()],
        )
        .await?;
        let mut children = Vec::with_capacity(links.len());
        for link in links {
            if let Some(student) = self.student(link.student_id).await? {
                children.push((link, student));
            }
        }
        children.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        Ok(children)
    }

    /// The guardianships of one student, most important contact first.
    pub async fn guardians_of(&self, student_id: Uuid) -> DomainResult<Vec<Guardianship>> {
        all(
            &self.db,
            "SELECT guardian_id, student_id, relation, contact_priority, can_see_records \
             FROM guardianships WHERE student_id = $1 ORDER BY contact_priority",
            vec![student_id.into()],
        )
        .await
    }

    /// The accounts of a student and their guardians: whom to tell about
    /// the student's invoices.
    pub async fn family_accounts(&self, student_id: Uuid) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Account {
            id: Uuid,
        }
        let found: Vec<Account> = all(
            &self.db,
            "SELECT guardian_id AS id FROM guardianships WHERE student_id = $1 \
             UNION SELECT user_id AS id FROM students WHERE id = $1 AND user_id IS NOT NULL",
            vec![student_id.into()],
        )
        .await?;
        Ok(found.into_iter().map(|a| a.id).collect())
    }

    pub async fn set_guardianship(
        &self,
        guardian_id: Uuid,
        student_id: Uuid,
        contact_priority: i32,
        can_see_records: bool,
    ) -> DomainResult<Guardianship> {
        let hit = exec(
            &self.db,
            "UPDATE guardianships SET contact_priority = $3, can_see_records = $4 \
             WHERE guardian_id = $1 AND student_id = $2",
            vec![
                guardian_id.into(),
                student_id.into(),
                contact_priority.into(),
                can_see_records.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("guardianship"));
        }
        let link = self.guardians_of(student_id).await?;
        link.into_iter()
            .find(|g| g.guardian_id == guardian_id)
            .ok_or(DomainError::NotFound("guardianship"))
    }

    pub async fn link_guardian(
        &self,
        guardian_id: Uuid,
        student_id: Uuid,
        relation: &str,
        contact_priority: i32,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO guardianships \
             (guardian_id, student_id, relation, contact_priority, can_see_records) \
             VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT (guardian_id, student_id) DO NOTHING",
            vec![
                guardian_id.into(),
                student_id.into(),
                relation.into(),
                contact_priority.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub async fn groups_of(&self, user_id: Uuid) -> DomainResult<Vec<Group>> {
        all(
            &self.db,
            "SELECT g.id, g.name, g.kind FROM groups g \
             JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name",
            vec![user_id.into()],
        )
        .await
    }

    pub async fn create_group(
        &self,
        name: &str,
        kind: &str,
        members: &[Uuid],
        now: DateTime<Utc>,
    ) -> DomainResult<Group> {
        let id = Uuid::now_v7();
        exec(
            &self.db,
            "INSERT INTO groups (id, name, kind, created_at) VALUES ($1, $2, $3, $4)",
            vec![id.into(), name.into(), kind.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        let rows = members
            .iter()
            .map(|m| vec![id.into(), (*m).into()])
            .collect();
        crate::sql::insert_many(&self.db, "group_members", &["group_id", "user_id"], rows)
            .await
            .map_err(db_err)?;
        Ok(Group {
            id,
            name: name.to_owned(),
            kind: kind.to_owned(),
        })
    }

    pub async fn family(&self, id: Uuid) -> DomainResult<Option<Family>> {
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM families WHERE id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    /// Families by name, keyset-paginated on (name, id).
    pub async fn families_page(
        &self,
        after: Option<(String, Uuid)>,
        limit: u64,
        only_pending: bool,
    ) -> DomainResult<Vec<Family>> {
        let pending = if only_pending {
            "AND activated_at IS NULL"
        } else {
            ""
        };
        let (cursor, mut values) = match after {
            Some((name, id)) => ("AND (name, id) > ($2, $3)", vec![name.into(), id.into()]),
            None => ("", vec![]),
        };
        values.insert(0, (limit as i64).into());
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} FROM families WHERE 1 = 1 {pending} {cursor} \
             ORDER BY name, id LIMIT $1"
        );
        all(&self.db, &sql, values).await
    }

    /// Gives a family a fresh activation code; the old one stops working.
    pub async fn reissue_code(
        &self,
        family_id: Uuid,
        code: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Family> {
        let hit = exec(
            &self.db,
            "UPDATE families SET activation_code = $2, code_issued_at = $3 WHERE id = $1",
            vec![family_id.into(), code.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("family"));
        }
        self.family(family_id)
            .await?
            .ok_or(DomainError::NotFound("family"))
    }
}

impl Store {
    /// Gives the student of that name in that class their own account.
    pub async fn link_student_user(
        &self,
        class_id: Uuid,
        name: &str,
        user_id: Uuid,
    ) -> DomainResult<()> {
        let hit = exec(
            &self.db,
            "UPDATE students SET user_id = $3 WHERE class_id = $1 AND name = $2",
            vec![class_id.into(), name.into(), user_id.into()],
        )
        .await
        .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("student"));
        }
        Ok(())
    }
}
