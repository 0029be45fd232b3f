//! People, families, classes, groups and sign-in sessions.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_directory"
    }
}

const UP: &str = r#"
CREATE TABLE families (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    import_key TEXT UNIQUE,
    primary_guardian_id {uuid},
    activation_code TEXT UNIQUE,
    code_issued_at {ts},
    activated_at {ts},
    created_at {ts} NOT NULL
);
CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    password_hash TEXT,
    roles TEXT NOT NULL,
    departments TEXT NOT NULL DEFAULT '',
    family_id {uuid} REFERENCES families (id),
    activated_at {ts},
    created_at {ts} NOT NULL
);
CREATE INDEX users_family ON users (family_id);
CREATE TABLE classes (
    id {uuid} PRIMARY KEY,
    academic_year TEXT NOT NULL,
    grade INTEGER NOT NULL,
    section TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at {ts} NOT NULL,
    UNIQUE (academic_year, grade, section)
);
CREATE TABLE class_teachers (
    class_id {uuid} NOT NULL REFERENCES classes (id),
    teacher_id {uuid} NOT NULL REFERENCES users (id),
    is_homeroom {bool} NOT NULL,
    subject TEXT,
    PRIMARY KEY (class_id, teacher_id)
);
CREATE INDEX class_teachers_teacher ON class_teachers (teacher_id);
CREATE TABLE students (
    id {uuid} PRIMARY KEY,
    user_id {uuid} UNIQUE REFERENCES users (id),
    family_id {uuid} REFERENCES families (id),
    class_id {uuid} REFERENCES classes (id),
    nisn TEXT UNIQUE,
    nipd TEXT UNIQUE,
    name TEXT NOT NULL,
    sex TEXT,
    birth_place TEXT,
    birth_date {date},
    religion TEXT,
    address TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX students_class ON students (class_id);
CREATE INDEX students_family ON students (family_id);
CREATE TABLE guardianships (
    guardian_id {uuid} NOT NULL REFERENCES users (id),
    student_id {uuid} NOT NULL REFERENCES students (id),
    relation TEXT NOT NULL,
    contact_priority INTEGER NOT NULL,
    can_see_records {bool} NOT NULL,
    PRIMARY KEY (guardian_id, student_id)
);
CREATE INDEX guardianships_student ON guardianships (student_id);
CREATE TABLE groups (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE group_members (
    group_id {uuid} NOT NULL REFERENCES groups (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
CREATE TABLE sessions (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL,
    revoked_at {ts}
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE refresh_tokens (
    id {uuid} PRIMARY KEY,
    session_id {uuid} NOT NULL REFERENCES sessions (id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at {ts} NOT NULL,
    used_at {ts},
    created_at {ts} NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}
