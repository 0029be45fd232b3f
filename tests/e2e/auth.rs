//! Signing in and what a signed-in person may do: one-time activation,
//! sign-in by e-mail or phone, rotating refresh tokens, sign-out,
//! Argon2id hashes, the sign-in rate limit, and the role matrix as the
//! API enforces it.

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use scrm_e2e::{Session, TestApp};
use serde_json::{Value, json};

const ROSTER: &str = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
                      0012345671;Ayu;VII-A;Bapak Ayu;081234567801\r\n\
                      0012345672;Bima;VIII-A;Ibu Bima;081234567802\r\n";

const ACTIVATE: &str = "mutation($code: String!, $password: String!) {
  activate(code: $code, password: $password) { accessToken refreshToken user { id } }
}";

const REFRESH: &str = "mutation($r: String!) {
  refreshSession(refreshToken: $r) { accessToken refreshToken user { id } }
}";

const SIGN_OUT: &str = "mutation($r: String!) { signOut(refreshToken: $r) }";

/// Imports the two-family roster; gives each family's activation code
/// by the child's name.
async fn import_roster(app: &TestApp, admin: &Session) -> Result<Vec<(String, String)>> {
    let (status, report) = app
        .upload_roster(&admin.access, ROSTER.as_bytes().to_vec(), false)
        .await?;
    anyhow::ensure!(status == 200, "import: {report}");
    let data = app
        .ok(
            admin.token(),
            "{ families { families { activationCode students { name } } } }",
            json!({}),
        )
        .await?;
    let families = data["families"]["families"]
        .as_array()
        .context("families")?;
    Ok(families
        .iter()
        .filter_map(|f| {
            let child = f["students"][0]["name"].as_str()?;
            Some((child.to_owned(), f["activationCode"].as_str()?.to_owned()))
        })
        .collect())
}

fn code_for<'a>(codes: &'a [(String, String)], child: &str) -> Result<&'a str> {
    codes
        .iter()
        .find(|(name, _)| name == child)
        .map(|(_, code)| code.as_str())
        .with_context(|| format!("no code for {child}"))
}

async fn activate(app: &TestApp, code: &str) -> Result<Session> {
    let variables = json!({ "code": code, "password": scrm_e2e::PASSWORD });
    let data = app.ok(None, ACTIVATE, variables).await?;
    Session::from_value(&data["activate"])
}

async fn sign_in_error(app: &TestApp, login: &str, password: &str) -> Result<Value> {
    let variables = json!({ "login": login, "password": password });
    let (_, body) = app.post(None, scrm_e2e::SIGN_IN, variables).await?;
    Ok(body["errors"][0].clone())
}

/// The HTTP status of `me` with this access token.
async fn me_status(app: &TestApp, access: &str) -> Result<u16> {
    Ok(app.post(Some(access), "{ me { id } }", json!({})).await?.0)
}

#[tokio::test]
async fn an_activation_code_works_once() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let codes = import_roster(&app, &admin).await?;
    let code = code_for(&codes, "Ayu")?;

    let parent = activate(&app, &code.to_lowercase()).await?;
    let variables = json!({ "code": code, "password": "another-password" });
    let (_, again) = app.post(None, ACTIVATE, variables).await?;

    assert_eq!(me_status(&app, &parent.access).await?, 200);
    assert_eq!(again["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(again["errors"][0]["extensions"]["field"], "code");
    assert!(again["data"].is_null(), "{again}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let email = app.ok(admin.token(), "{ me { email } }", json!({})).await?["me"]["email"]
        .as_str()
        .context("email")?
        .to_owned();

    let wrong_password = sign_in_error(&app, &email, "not-the-password").await?;
    let unknown_email = sign_in_error(&app, "nobody@test.example", "not-the-password").await?;
    let unknown_phone = sign_in_error(&app, "0812 0000 0000", "not-the-password").await?;

    assert_eq!(wrong_password["extensions"]["code"], "UNAUTHENTICATED");
    for unknown in [&unknown_email, &unknown_phone] {
        assert_eq!(unknown["message"], wrong_password["message"]);
        assert_eq!(unknown["extensions"], wrong_password["extensions"]);
    }
    Ok(())
}

#[tokio::test]
async fn a_parent_signs_in_with_their_phone_written_any_common_way() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let codes = import_roster(&app, &admin).await?;
    let parent = activate(&app, code_for(&codes, "Ayu")?).await?;
    let forms = [
        "081234567801",
        "+62 812-3456-7801",
        "+6281234567801",
        "62 812 3456 7801",
        "0812.3456.7801",
    ];

    let mut signed_in = vec![];
    for login in forms {
        signed_in.push(app.sign_in(login, scrm_e2e::PASSWORD).await?.user_id);
    }

    assert_eq!(signed_in, vec![parent.user_id; forms.len()]);
    Ok(())
}

async fn refresh(app: &TestApp, token: &str) -> Result<(u16, Value)> {
    app.post(None, REFRESH, json!({ "r": token })).await
}

#[tokio::test]
async fn a_refresh_gives_a_new_pair_and_uses_the_old_refresh_token_up() -> Result<()> {
    let app = TestApp::spawn().await?;
    let first = app.user("Guru", &[Role::Teacher]).await?;

    let (_, body) = refresh(&app, &first.refresh).await?;
    let second = Session::from_value(&body["data"]["refreshSession"])?;

    assert_ne!(second.refresh, first.refresh);
    assert_eq!(second.user_id, first.user_id);
    assert_eq!(me_status(&app, &second.access).await?, 200);
    let (_, old) = refresh(&app, &first.refresh).await?;
    assert_eq!(old["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn a_used_refresh_token_presented_again_ends_the_whole_session() -> Result<()> {
    // No grace: the second use comes long after the first.
    let app = TestApp::spawn_with(|c| c.limits.refresh_reuse_grace_seconds = 0).await?;
    let first = app.user("Guru", &[Role::Teacher]).await?;
    let (_, body) = refresh(&app, &first.refresh).await?;
    let newest = Session::from_value(&body["data"]["refreshSession"])?;

    let (_, reuse) = refresh(&app, &first.refresh).await?;

    assert_eq!(reuse["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (_, after) = refresh(&app, &newest.refresh).await?;
    assert_eq!(after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(me_status(&app, &newest.access).await?, 401);
    assert_eq!(me_status(&app, &first.access).await?, 401);
    Ok(())
}

#[tokio::test]
async fn signing_out_ends_the_session_and_its_tokens() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    create_user(&app, &admin, "guru@test.example", "TEACHER").await?;
    let session = app.sign_in("guru@test.example", scrm_e2e::PASSWORD).await?;
    let other = app.sign_in("guru@test.example", scrm_e2e::PASSWORD).await?;

    let out = app
        .ok(None, SIGN_OUT, json!({ "r": session.refresh }))
        .await?;

    assert_eq!(out["signOut"], true);
    assert_eq!(me_status(&app, &session.access).await?, 401);
    let (_, again) = refresh(&app, &session.refresh).await?;
    assert_eq!(again["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let twice = app
        .ok(None, SIGN_OUT, json!({ "r": session.refresh }))
        .await?;
    assert_eq!(twice["signOut"], false);
    assert_eq!(
        me_status(&app, &other.access).await?,
        200,
        "another device stays in"
    );
    Ok(())
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let codes = import_roster(&app, &admin).await?;
    activate(&app, code_for(&codes, "Ayu")?).await?;
    app.ok(
        admin.token(),
        "mutation { createUser(input: { name: \"Staf TU\", email: \"tu@test.example\",
           roles: [STAFF], password: \"kata-sandi-tu\" }) { id } }",
        json!({}),
    )
    .await?;

    let parent = app.state.store.user_by_login("+6281234567801").await?;
    let staff = app.state.store.user_by_login("tu@test.example").await?;

    for (user, password) in [(parent, scrm_e2e::PASSWORD), (staff, "kata-sandi-tu")] {
        let hash = user.and_then(|u| u.password_hash).context("no hash")?;
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(password));
    }
    Ok(())
}

#[tokio::test]
async fn too_many_sign_in_attempts_are_rate_limited_for_that_login_only() -> Result<()> {
    let app = TestApp::spawn_with(|c| c.limits.sign_in_attempts_per_minute = 3).await?;
    let admin = app.admin().await?;
    create_user(&app, &admin, "sasaran@test.example", "TEACHER").await?;
    create_user(&app, &admin, "lain@test.example", "TEACHER").await?;

    let mut codes = vec![];
    for password in ["tebakan-1", "tebakan-2", "tebakan-3", scrm_e2e::PASSWORD] {
        let error = sign_in_error(&app, "sasaran@test.example", password).await?;
        codes.push(error["extensions"]["code"].clone());
    }
    let bystander = app.sign_in("lain@test.example", scrm_e2e::PASSWORD).await;

    let expected = [
        "UNAUTHENTICATED",
        "UNAUTHENTICATED",
        "UNAUTHENTICATED",
        "RATE_LIMITED",
    ];
    assert_eq!(codes, expected.map(Value::from));
    assert!(bystander.is_ok(), "{:?}", bystander.err());
    Ok(())
}

/// Creates a person through the API with the helpers' password.
async fn create_user(app: &TestApp, admin: &Session, email: &str, role: &str) -> Result<String> {
    let query = format!(
        "mutation($email: String, $password: String!) {{ createUser(input: {{ name: \"Orang\",
           email: $email, roles: [{role}], password: $password }}) {{ id }} }}"
    );
    let variables = json!({ "email": email, "password": scrm_e2e::PASSWORD });
    let data = app.ok(admin.token(), &query, variables).await?;
    Ok(data["createUser"]["id"].as_str().context("id")?.to_owned())
}

const PUBLISH: &str = "mutation($input: PublishAnnouncementInput!) {
  publishAnnouncement(input: $input) { id }
}";

async fn publish(app: &TestApp, author: &Session, audience: Value) -> Result<Value> {
    let input = json!({ "title": "Pengumuman", "body": "Isi.", "audience": audience });
    Ok(app
        .post(author.token(), PUBLISH, json!({ "input": input }))
        .await?
        .1)
}

#[tokio::test]
async fn a_parent_never_sees_anothers_phone_or_email_but_an_admin_does() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let codes = import_roster(&app, &admin).await?;
    let parent = activate(&app, code_for(&codes, "Ayu")?).await?;
    let query = "mutation($p: String) { createUser(input: { name: \"Staf Humas\",
      email: \"humas@test.example\", phone: $p, roles: [STAFF], password: \"rahasia-123\" }) { id } }";
    app.ok(admin.token(), query, json!({ "p": "0813 1111 2222" }))
        .await?;
    let staff = app
        .sign_in("humas@test.example", scrm_e2e::PASSWORD)
        .await?;
    let published = publish(&app, &staff, json!({ "userIds": [parent.user_id] })).await?;
    let id = published["data"]["publishAnnouncement"]["id"].clone();

    let author = "query($id: UUID!) { announcement(id: $id) { author { name email phone } } }";
    let as_parent = app.ok(parent.token(), author, json!({ "id": id })).await?;
    let as_admin = app.ok(admin.token(), author, json!({ "id": id })).await?;
    let own = app
        .ok(parent.token(), "{ me { phone } }", json!({}))
        .await?;

    let seen_by_parent = &as_parent["announcement"]["author"];
    assert_eq!(seen_by_parent["name"], "Staf Humas");
    assert!(seen_by_parent["email"].is_null() && seen_by_parent["phone"].is_null());
    let seen_by_admin = &as_admin["announcement"]["author"];
    assert_eq!(seen_by_admin["email"], "humas@test.example");
    assert_eq!(seen_by_admin["phone"], "+6281311112222");
    assert_eq!(own["me"]["phone"], "+6281234567801");
    Ok(())
}

#[tokio::test]
async fn parents_and_students_may_not_use_the_school_tools() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let codes = import_roster(&app, &admin).await?;
    let parent = activate(&app, code_for(&codes, "Ayu")?).await?;
    let student = app.user("Siswa", &[Role::Student]).await?;
    let tools = [
        "{ families { families { id activationCode } } }",
        "{ classes { id } }",
        "mutation { createUser(input: { name: \"Penyusup\", email: \"x@test.example\",
           roles: [ADMIN], password: \"rahasia-123\" }) { id } }",
    ];

    let mut codes_seen = vec![];
    for person in [&parent, &student] {
        for query in tools {
            let (_, body) = app.post(person.token(), query, json!({})).await?;
            codes_seen.push(body["errors"][0]["extensions"]["code"].clone());
        }
        let (_, body) = app
            .upload_roster(
                &person.access,
                b"nisn;nama;kelas\r\n1;X;VII-A\r\n".to_vec(),
                false,
            )
            .await?;
        codes_seen.push(body["errors"][0]["extensions"]["code"].clone());
    }

    assert_eq!(codes_seen, vec![json!("FORBIDDEN"); 8]);
    assert!(
        app.state
            .store
            .user_by_login("x@test.example")
            .await?
            .is_none()
    );
    Ok(())
}

#[tokio::test]
async fn a_teacher_publishes_only_to_the_classes_they_teach() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import_roster(&app, &admin).await?;
    let classes = app
        .ok(admin.token(), "{ classes { id grade } }", json!({}))
        .await?;
    let class_of = |grade: i64| {
        classes["classes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["grade"] == grade))
            .map(|c| c["id"].clone())
            .with_context(|| format!("no class in grade {grade}"))
    };
    let (taught, other) = (class_of(7)?, class_of(8)?);
    let teacher_id = create_user(&app, &admin, "wali@test.example", "TEACHER").await?;
    let assign = "mutation($c: UUID!, $t: UUID!) { assignTeacher(classId: $c, teacherId: $t, homeroom: true) }";
    app.ok(
        admin.token(),
        assign,
        json!({ "c": taught, "t": teacher_id }),
    )
    .await?;
    let teacher = app.sign_in("wali@test.example", scrm_e2e::PASSWORD).await?;

    let own = publish(&app, &teacher, json!({ "classIds": [taught] })).await?;
    let mut refused = vec![];
    for audience in [
        json!({ "classIds": [other] }),
        json!({ "classIds": [taught, other] }),
        json!({ "everyone": true }),
        json!({ "grades": [7] }),
    ] {
        let body = publish(&app, &teacher, audience).await?;
        refused.push(body["errors"][0]["extensions"]["code"].clone());
    }

    assert!(own["errors"].is_null(), "{own}");
    assert_eq!(refused, vec![json!("FORBIDDEN"); 4]);
    Ok(())
}

#[tokio::test]
async fn two_racing_refreshes_of_one_token_sign_nobody_out() -> Result<()> {
    let app = TestApp::spawn().await?;
    let first = app.user("Guru", &[Role::Teacher]).await?;

    let (a, b) = tokio::join!(refresh(&app, &first.refresh), refresh(&app, &first.refresh));
    let (a, b) = (a?.1, b?.1);

    let winner = [&a, &b]
        .into_iter()
        .find(|r| r["errors"].is_null())
        .cloned();
    let winner =
        Session::from_value(&winner.context("one refresh wins")?["data"]["refreshSession"])?;
    let loser = if a["errors"].is_null() { &b } else { &a };
    assert_eq!(loser["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(
        me_status(&app, &winner.access).await?,
        200,
        "the winner stays signed in"
    );
    Ok(())
}
