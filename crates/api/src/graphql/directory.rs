//! The directory as the apps see it: people, children, classes, groups,
//! families and activation codes.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use scrm_domain::DomainError;
use scrm_domain::phone::normalize_phone;
use scrm_domain::policy::{Action, authorize};
use scrm_domain::role::{Department, Role};
use scrm_persistence::Store;
use scrm_persistence::directory::{Class, Family, Group, Guardianship, Student};
use scrm_persistence::users::{NewUser, User};
use uuid::Uuid;

use super::errors::{Found, to_gql};
use super::scalars::Date;
use super::{ContextExt, Gql};
use crate::auth;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role")]
pub enum RoleName {
    Admin,
    Staff,
    Teacher,
    Parent,
    Student,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleName::Admin,
            Role::Staff => RoleName::Staff,
            Role::Teacher => RoleName::Teacher,
            Role::Parent => RoleName::Parent,
            Role::Student => RoleName::Student,
        }
    }
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Admin => Role::Admin,
            RoleName::Staff => Role::Staff,
            RoleName::Teacher => Role::Teacher,
            RoleName::Parent => Role::Parent,
            RoleName::Student => Role::Student,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Department")]
pub enum DepartmentName {
    Finance,
    Admissions,
    Support,
    PublicRelations,
}

impl From<Department> for DepartmentName {
    fn from(d: Department) -> Self {
        match d {
            Department::Finance => DepartmentName::Finance,
            Department::Admissions => DepartmentName::Admissions,
            Department::Support => DepartmentName::Support,
            Department::PublicRelations => DepartmentName::PublicRelations,
        }
    }
}

impl From<DepartmentName> for Department {
    fn from(d: DepartmentName) -> Self {
        match d {
            DepartmentName::Finance => Department::Finance,
            DepartmentName::Admissions => Department::Admissions,
            DepartmentName::Support => Department::Support,
            DepartmentName::PublicRelations => Department::PublicRelations,
        }
    }
}

/// A person. Phone and e-mail show only to the person themself and to
/// the school's staff and teachers.
pub struct UserNode(pub User);

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn roles(&self) -> Vec<RoleName> {
        self.0.roles.iter().map(|r| (*r).into()).collect()
    }

    async fn departments(&self) -> Vec<DepartmentName> {
        self.0.departments.iter().map(|d| (*d).into()).collect()
    }

    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(may_see_contact(ctx, self.0.id)?
            .then_some(())
            .and(self.0.email.as_deref()))
    }

    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(may_see_contact(ctx, self.0.id)?
            .then_some(())
            .and(self.0.phone.as_deref()))
    }

    /// True once the person has set a password.
    async fn activated(&self) -> bool {
        self.0.activated_at.is_some()
    }

    /// The children this person is a guardian of.
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ChildNode>> {
        if !may_see_links(ctx, self.0.id)? {
            return Ok(vec![]);
        }
        let children = ctx.state().store.children_of(self.0.id).await.gql()?;
        Ok(children
            .into_iter()
            .map(|(link, student)| ChildNode { link, student })
            .collect())
    }

    /// The classes this person belongs to: as a student, through their
    /// children, or as a teacher.
    async fn classes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ClassNode>> {
        if !may_see_links(ctx, self.0.id)? {
            return Ok(vec![]);
        }
        let store = &ctx.state().store;
        let mut ids: Vec<Uuid> = store
            .classes_taught(self.0.id)
            .await
            .gql()?
            .iter()
            .map(|c| c.id)
            .collect();
        for (_, child) in store.children_of(self.0.id).await.gql()? {
            ids.extend(child.class_id);
        }
        if let Some(own) = store.student_of_user(self.0.id).await.gql()? {
            ids.extend(own.class_id);
        }
        ids.sort();
        ids.dedup();
        let classes = store.classes_by_ids(&ids).await.gql()?;
        Ok(classes.into_iter().map(ClassNode).collect())
    }

    async fn groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GroupNode>> {
        if !may_see_links(ctx, self.0.id)? {
            return Ok(vec![]);
        }
        let groups = ctx.state().store.groups_of(self.0.id).await.gql()?;
        Ok(groups.into_iter().map(GroupNode).collect())
    }
}

fn may_see_contact(ctx: &Context<'_>, subject: Uuid) -> async_graphql::Result<bool> {
    let viewer = ctx.viewer()?;
    Ok(authorize(&viewer.actor, &Action::ViewContactDetails { subject }).is_ok())
}

fn may_see_links(ctx: &Context<'_>, subject: Uuid) -> async_graphql::Result<bool> {
    let viewer = ctx.viewer()?;
    Ok(viewer.id() == subject || authorize(&viewer.actor, &Action::ViewDirectory).is_ok())
}

/// A child as one guardian is linked to them.
pub struct ChildNode {
    link: Guardianship,
    student: Student,
}

#[Object(name = "Child")]
impl ChildNode {
    async fn student(&self) -> StudentNode {
        StudentNode(self.student.clone())
    }

    /// FATHER, MOTHER or GUARDIAN.
    async fn relation(&self) -> &str {
        &self.link.relation
    }

    /// 1 is the first person the school calls.
    async fn contact_priority(&self) -> i32 {
        self.link.contact_priority
    }

    /// Whether this guardian may see the child's invoices and grades.
    async fn can_see_records(&self) -> bool {
        self.link.can_see_records
    }
}

pub struct StudentNode(pub Student);

#[Object(name = "Student")]
impl StudentNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn nisn(&self) -> Option<&str> {
        self.0.nisn.as_deref()
    }

    async fn nipd(&self) -> Option<&str> {
        self.0.nipd.as_deref()
    }

    /// L or P, as in Dapodik.
    async fn sex(&self) -> Option<&str> {
        self.0.sex.as_deref()
    }

    async fn birth_date(&self) -> Option<Date> {
        self.0.birth_date.map(Date)
    }

    async fn class(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ClassNode>> {
        let Some(id) = self.0.class_id else {
            return Ok(None);
        };
        let classes = ctx.state().store.classes_by_ids(&[id]).await.gql()?;
        Ok(classes.into_iter().next().map(ClassNode))
    }
}

pub struct ClassNode(pub Class);

#[Object(name = "Class")]
impl ClassNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// As the school writes it, e.g. "Kelas 7A".
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn grade(&self) -> i32 {
        self.0.grade
    }

    async fn section(&self) -> &str {
        &self.0.section
    }

    /// "2026/2027": July to June.
    async fn academic_year(&self) -> &str {
        &self.0.academic_year
    }
}

pub struct GroupNode(pub Group);

#[Object(name = "Group")]
impl GroupNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> &str {
        &self.0.kind
    }
}

/// A family: its guardians and children. Only staff see its code.
pub struct FamilyNode(pub Family);

#[Object(name = "Family")]
impl FamilyNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn activated(&self) -> bool {
        self.0.activated_at.is_some()
    }

    /// The one-time code, as handed out (`ABCDE-FGHJK`); null once used.
    async fn activation_code(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let viewer = ctx.viewer()?;
        if authorize(&viewer.actor, &Action::ManageActivationCodes).is_err() {
            return Ok(None);
        }
        Ok(self.0.activation_code.as_deref().map(auth::display_code))
    }

    async fn code_issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.code_issued_at
    }

    async fn primary_guardian(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserNode>> {
        let Some(id) = self.0.primary_guardian_id else {
            return Ok(None);
        };
        Ok(ctx.state().store.user(id).await.gql()?.map(UserNode))
    }

    async fn students(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StudentNode>> {
        let students = ctx
            .state()
            .store
            .students_of_families(&[self.0.id])
            .await
            .gql()?;
        Ok(students.into_iter().map(StudentNode).collect())
    }
}

#[derive(SimpleObject)]
pub struct FamilyPage {
    pub families: Vec<FamilyNode>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The classes of an academic year (default: the current one).
    async fn classes(
        &self,
        ctx: &Context<'_>,
        academic_year: Option<String>,
    ) -> async_graphql::Result<Vec<ClassNode>> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ViewDirectory).gql()?;
        let state = ctx.state();
        let year = academic_year.unwrap_or_else(|| state.academic_year());
        Ok(state
            .store
            .classes_of_year(&year)
            .await
            .gql()?
            .into_iter()
            .map(ClassNode)
            .collect())
    }

    /// Families by name with their activation state, for handing out
    /// codes. `after` is the `nextCursor` of the previous page.
    async fn families(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        pending_only: Option<bool>,
    ) -> async_graphql::Result<FamilyPage> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ManageActivationCodes).gql()?;
        let state = ctx.state();
        let limit = super::pagination::page_size(first, state.config.limits.max_page_size)?;
        let cursor = after.map(|a| decode_family_cursor(&a)).transpose()?;
        let mut families = state
            .store
            .families_page(cursor, limit + 1, pending_only.unwrap_or(false))
            .await
            .gql()?;
        let more = families.len() as u64 > limit;
        families.truncate(limit as usize);
        let next_cursor = more
            .then(|| families.last().map(|f| encode_family_cursor(&f.name, f.id)))
            .flatten();
        Ok(FamilyPage {
            families: families.into_iter().map(FamilyNode).collect(),
            next_cursor,
        })
    }
}

/// Refuses a new user whose e-mail or phone someone already signs in
/// with, naming the input field that clashes. The unique constraints
/// still guard against a race between two requests.
async fn logins_free(store: &Store, new: &NewUser) -> Result<(), DomainError> {
    let logins = [
        ("email", "e-mail", &new.email),
        ("phone", "phone number", &new.phone),
    ];
    for (field, what, login) in logins {
        let Some(login) = login else { continue };
        if store.user_by_login(login).await?.is_some() {
            return Err(DomainError::conflict(
                Some(field),
                format!("that {what} is already in use"),
            ));
        }
    }
    Ok(())
}

fn encode_family_cursor(name: &str, id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{id}|{name}"))
}

fn decode_family_cursor(cursor: &str) -> async_graphql::Result<(String, Uuid)> {
    use base64::Engine;
    let bad = || to_gql(DomainError::invalid("after", "that cursor is not valid"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, name) = text.split_once('|').ok_or_else(bad)?;
    Ok((name.to_owned(), id.parse().map_err(|_| bad())?))
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub roles: Vec<RoleName>,
    #[graphql(default)]
    pub departments: Vec<DepartmentName>,
    /// The first password; the person can be told to change it.
    pub password: String,
}

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Gives a family a new activation code; the old one stops working.
    async fn reissue_activation_code(
        &self,
        ctx: &Context<'_>,
        family_id: Uuid,
    ) -> async_graphql::Result<FamilyNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ManageActivationCodes).gql()?;
        let state = ctx.state();
        let family = state
            .store
            .reissue_code(family_id, &auth::new_activation_code(), state.now())
            .await
            .gql()?;
        Ok(FamilyNode(family))
    }

    /// Creates an account for staff, a teacher or a student (admins only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<UserNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ManageDirectory).gql()?;
        let state = ctx.state();
        super::session::check_password(&input.password)?;
        let name = input.name.trim().to_owned();
        if name.is_empty() || input.roles.is_empty() {
            return Err(to_gql(DomainError::invalid(
                "name",
                "a user needs a name and a role",
            )));
        }
        if input.email.is_none() && input.phone.is_none() {
            return Err(to_gql(DomainError::invalid(
                "email",
                "a user needs an e-mail or a phone to sign in",
            )));
        }
        let phone = input
            .phone
            .map(|p| normalize_phone(&p).map_err(|e| DomainError::invalid("phone", e.to_string())))
            .transpose()
            .gql()?;
        let new = NewUser {
            name,
            email: input.email.map(|e| e.trim().to_lowercase()),
            phone,
            password_hash: Some(auth::hash_password_blocking(input.password).await.gql()?),
            roles: input.roles.into_iter().map(Role::from).collect(),
            departments: input
                .departments
                .into_iter()
                .map(Department::from)
                .collect(),
            family_id: None,
        };
        logins_free(&state.store, &new).await.gql()?;
        Ok(UserNode(
            state.store.create_user(new, state.now()).await.gql()?,
        ))
    }

    /// Puts a teacher on a class, as its homeroom teacher or for a subject.
    async fn assign_teacher(
        &self,
        ctx: &Context<'_>,
        class_id: Uuid,
        teacher_id: Uuid,
        homeroom: bool,
        subject: Option<String>,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ManageDirectory).gql()?;
        let store = &ctx.state().store;
        let teacher = store.user(teacher_id).await.found("teacher")?;
        if !teacher.roles.contains(&Role::Teacher) {
            return Err(to_gql(DomainError::invalid(
                "teacherId",
                "that person is not a teacher",
            )));
        }
        store
            .assign_teacher(class_id, teacher_id, homeroom, subject)
            .await
            .gql()?;
        store.sync_class_threads(ctx.state().now()).await.gql()?;
        Ok(true)
    }

    /// Changes how a guardian is linked to a child.
    async fn set_guardianship(
        &self,
        ctx: &Context<'_>,
        guardian_id: Uuid,
        student_id: Uuid,
        contact_priority: i32,
        can_see_records: bool,
    ) -> async_graphql::Result<ChildNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ManageDirectory).gql()?;
        if !(1..=9).contains(&contact_priority) {
            return Err(to_gql(DomainError::invalid(
                "contactPriority",
                "contact priority runs from 1 to 9",
            )));
        }
        let store = &ctx.state().store;
        let link = store
            .set_guardianship(guardian_id, student_id, contact_priority, can_see_records)
            .await
            .gql()?;
        let student = store.student(student_id).await.found("student")?;
        Ok(ChildNode { link, student })
    }
}
