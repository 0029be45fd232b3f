//! The directory as staff and parents use it: activation codes, `me`,
//! guardianships, and the errors that name what went wrong (BC-13).

mod activation;
mod delivery;
mod feed;

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use scrm_e2e::{PASSWORD, Session, TestApp};
use serde_json::{Value, json};

use crate::roster::{activate_family_of, families, family_of, import, me, student};

/// Bambang and Wati Lestari have Ayu in 7A and Bima in 8B; Dewi
/// Anggraini has Citra in 7A; Rudi Saputra has Dodi in 8B. Nobody has an
/// e-mail on file.
const SCHOOL: &str = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP
1000000001,Ayu Lestari,7A,Bambang Lestari,Wati Lestari,081234560001
1000000002,Bima Lestari,8B,Bambang Lestari,Wati Lestari,081234560001
1000000003,Citra Dewi,7A,,Dewi Anggraini,081234560002
1000000004,Dodi Saputra,8B,Rudi Saputra,,081234560003
";

/// An app with the small school imported, and its admin.
pub(crate) async fn school() -> Result<(TestApp, Session)> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import(&app, &admin, SCHOOL.as_bytes()).await?;
    Ok((app, admin))
}

/// The first error's code and field.
pub(crate) async fn error_of(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<(String, Option<String>)> {
    let (_, body) = app.post(token, query, variables).await?;
    let extensions = &body["errors"][0]["extensions"];
    let code = extensions["code"]
        .as_str()
        .with_context(|| format!("expected an error, got {body}"))?;
    let field = extensions["field"].as_str().map(str::to_owned);
    Ok((code.to_owned(), field))
}

pub(crate) fn id_of(value: &Value) -> Result<String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {value}"))
}

pub(crate) async fn class_id(app: &TestApp, admin: &Session, name: &str) -> Result<String> {
    let families = families(app, admin).await?;
    let classes: Vec<Value> = crate::roster::students(&families)
        .into_iter()
        .map(|s| s["class"].clone())
        .collect();
    let class = classes.iter().find(|c| c["name"] == name);
    id_of(class.with_context(|| format!("no class {name}"))?)
}

#[tokio::test]
async fn me_shows_a_parents_roles_children_classes_and_groups() -> Result<()> {
    let (app, admin) = school().await?;
    let father = activate_family_of(&app, &admin, "Ayu Lestari").await?;
    let father_id = father.user_id.parse()?;
    app.state
        .store
        .create_group("Komite Sekolah", "COMMITTEE", &[father_id], app.state.now())
        .await?;

    let me = me(&app, &father).await?;

    assert_eq!(me["roles"], json!(["PARENT"]));
    let children: Vec<Value> = me["children"]
        .as_array()
        .context("children")?
        .iter()
        .map(|c| {
            json!([
                c["student"]["name"],
                c["student"]["class"]["name"],
                c["relation"],
                c["contactPriority"],
                c["canSeeRecords"]
            ])
        })
        .collect();
    assert_eq!(
        children,
        [
            json!(["Ayu Lestari", "Kelas 7A", "FATHER", 1, true]),
            json!(["Bima Lestari", "Kelas 8B", "FATHER", 1, true])
        ]
    );
    let classes: Vec<&Value> = me["classes"]
        .as_array()
        .context("classes")?
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(classes, [&json!("Kelas 7A"), &json!("Kelas 8B")]);
    assert_eq!(
        me["groups"],
        json!([{ "name": "Komite Sekolah", "kind": "COMMITTEE" }])
    );
    Ok(())
}

const SET_GUARDIANSHIP: &str =
    "mutation($g: UUID!, $s: UUID!, $priority: Int!, $records: Boolean!) {
  setGuardianship(guardianId: $g, studentId: $s, contactPriority: $priority,
                  canSeeRecords: $records) {
    relation contactPriority canSeeRecords student { name } } }";

#[tokio::test]
async fn a_guardian_without_the_right_to_see_records_still_gets_class_announcements() -> Result<()>
{
    let (app, admin) = school().await?;
    let father = activate_family_of(&app, &admin, "Ayu Lestari").await?;
    let ayu = student(&families(&app, &admin).await?, "Ayu Lestari")?;
    let vars = json!({ "g": father.user_id, "s": ayu["id"], "priority": 2, "records": false });

    let changed = app.ok(admin.token(), SET_GUARDIANSHIP, vars).await?;
    let input = json!({ "title": "Rapat orang tua 7A", "body": "Sabtu pukul 09.00.",
                        "audience": { "classIds": [ayu["class"]["id"]] } });
    app.ok(
        admin.token(),
        "mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await?;
    let feed = app
        .ok(
            father.token(),
            "{ feed { edges { node { title } } } }",
            json!({}),
        )
        .await?;

    assert_eq!(
        changed["setGuardianship"],
        json!({ "relation": "FATHER", "contactPriority": 2, "canSeeRecords": false,
                "student": { "name": "Ayu Lestari" } })
    );
    assert_eq!(
        feed["feed"]["edges"],
        json!([{ "node": { "title": "Rapat orang tua 7A" } }])
    );
    let me = me(&app, &father).await?;
    assert_eq!(me["children"][0]["canSeeRecords"], false);
    assert_eq!(me["children"][1]["canSeeRecords"], true);
    Ok(())
}

const CREATE_USER: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }";

#[tokio::test]
async fn creating_a_user_with_a_login_in_use_is_a_conflict_naming_that_field() -> Result<()> {
    let (app, admin) = school().await?;
    let teacher = |email: &str, phone: Option<&str>| {
        json!({ "input": { "name": "Ibu Ratna", "email": email, "phone": phone,
                           "roles": ["TEACHER"], "password": PASSWORD } })
    };
    app.ok(
        admin.token(),
        CREATE_USER,
        teacher("ratna@sekolah.example", None),
    )
    .await?;

    let same_email = error_of(
        &app,
        admin.token(),
        CREATE_USER,
        teacher("Ratna@Sekolah.example", None),
    )
    .await?;
    let parents_phone = error_of(
        &app,
        admin.token(),
        CREATE_USER,
        teacher("lain@sekolah.example", Some("0812 3456 0001")),
    )
    .await?;

    assert_eq!(
        same_email,
        ("CONFLICT".to_owned(), Some("email".to_owned()))
    );
    assert_eq!(
        parents_phone,
        ("CONFLICT".to_owned(), Some("phone".to_owned()))
    );
    Ok(())
}

const ASSIGN: &str = "mutation($c: UUID!, $t: UUID!) {
  assignTeacher(classId: $c, teacherId: $t, homeroom: true) }";

#[tokio::test]
async fn references_to_missing_classes_teachers_and_links_are_not_found() -> Result<()> {
    let (app, admin) = school().await?;
    let teacher = app.user("Pak Joko", &[Role::Teacher]).await?;
    let families = families(&app, &admin).await?;
    let dodi = student(&families, "Dodi Saputra")?;
    let ayu_father = &family_of(&families, "Ayu Lestari")?["primaryGuardian"]["id"];
    let nowhere = uuid::Uuid::new_v4();

    let no_class = error_of(
        &app,
        admin.token(),
        ASSIGN,
        json!({ "c": nowhere, "t": teacher.user_id }),
    )
    .await?;
    let no_teacher = error_of(
        &app,
        admin.token(),
        ASSIGN,
        json!({ "c": dodi["class"]["id"], "t": nowhere }),
    )
    .await?;
    let no_link = error_of(
        &app,
        admin.token(),
        SET_GUARDIANSHIP,
        json!({ "g": ayu_father, "s": dodi["id"], "priority": 1, "records": true }),
    )
    .await?;
    let no_student = error_of(
        &app,
        admin.token(),
        SET_GUARDIANSHIP,
        json!({ "g": ayu_father, "s": nowhere, "priority": 1, "records": true }),
    )
    .await?;

    for (what, (code, _)) in [
        ("class", no_class),
        ("teacher", no_teacher),
        ("guardianship", no_link),
        ("student", no_student),
    ] {
        assert_eq!(code, "NOT_FOUND", "a missing {what}");
    }
    let taught = app
        .ok(teacher.token(), "{ me { classes { id } } }", json!({}))
        .await?;
    assert_eq!(taught["me"]["classes"], json!([]));
    Ok(())
}

const PUBLISH: &str = "mutation($input: PublishAnnouncementInput!) {
  publishAnnouncement(input: $input) { id publishAt } }";

#[tokio::test]
async fn publishing_to_a_missing_class_is_refused_naming_the_audience_field() -> Result<()> {
    let (app, admin) = school().await?;
    let class_7a = class_id(&app, &admin, "Kelas 7A").await?;
    let to = |class_ids: Value| {
        json!({ "input": { "title": "Ujian", "body": "Senin.",
                           "audience": { "classIds": class_ids } } })
    };

    let missing = error_of(
        &app,
        admin.token(),
        PUBLISH,
        to(json!([class_7a, uuid::Uuid::new_v4()])),
    )
    .await?;
    let repeated = app
        .post(admin.token(), PUBLISH, to(json!([class_7a, class_7a])))
        .await?;

    assert_eq!(
        missing,
        (
            "BAD_USER_INPUT".to_owned(),
            Some("audience.classIds".to_owned())
        )
    );
    assert!(repeated.1.get("errors").is_none(), "{}", repeated.1);
    let authored = app
        .ok(
            admin.token(),
            "{ authoredAnnouncements(from: \"2000-01-01T00:00:00Z\", to: \"2100-01-01T00:00:00Z\") { id } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        authored["authoredAnnouncements"].as_array().map(Vec::len),
        Some(1)
    );
    Ok(())
}
