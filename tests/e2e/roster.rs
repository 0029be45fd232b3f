//! Roster import through the admin panel's upload: re-imports that change
//! only what changed (BC-12), Excel's own CSV flavours (BC-09), duplicate
//! and unreadable files, dry runs, and families whose parents appear on
//! several rows or in two families.

mod files;
mod identity;

use anyhow::{Context, Result};
use scrm_e2e::{PASSWORD, Session, TestApp};
use serde_json::{Value, json};

const FAMILIES: &str = "{ families(first: 100) { families {
  id name activated activationCode
  primaryGuardian { id name phone email }
  students { id name nisn nipd birthDate class { id name grade } }
} } }";

const ME: &str = "{ me { id name roles
  children { relation contactPriority canSeeRecords student { id name class { name } } }
  classes { id name } groups { name kind } } }";

/// Uploads `csv` as the admin panel does; the import must succeed.
pub(crate) async fn import(app: &TestApp, admin: &Session, csv: &[u8]) -> Result<Value> {
    upload(app, admin, csv, false).await
}

pub(crate) async fn upload(
    app: &TestApp,
    admin: &Session,
    csv: &[u8],
    dry_run: bool,
) -> Result<Value> {
    let (status, body) = app
        .upload_roster(&admin.access, csv.to_vec(), dry_run)
        .await?;
    anyhow::ensure!(
        status == 200 && body.get("errors").is_none(),
        "import failed with {status}: {body}"
    );
    Ok(body["data"]["importRoster"].clone())
}

/// Every family with its students, as staff list them.
pub(crate) async fn families(app: &TestApp, admin: &Session) -> Result<Vec<Value>> {
    let data = app.ok(admin.token(), FAMILIES, json!({})).await?;
    data["families"]["families"]
        .as_array()
        .cloned()
        .context("no families list")
}

/// Every student of every family.
pub(crate) fn students(families: &[Value]) -> Vec<Value> {
    families
        .iter()
        .flat_map(|f| f["students"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The student of that name, wherever they are.
pub(crate) fn student(families: &[Value], name: &str) -> Result<Value> {
    students(families)
        .into_iter()
        .find(|s| s["name"] == name)
        .with_context(|| format!("no student named {name}"))
}

/// The family a student of that name belongs to.
pub(crate) fn family_of<'f>(families: &'f [Value], name: &str) -> Result<&'f Value> {
    families
        .iter()
        .find(|f| {
            f["students"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["name"] == name))
        })
        .with_context(|| format!("no family with a child named {name}"))
}

/// Uses the activation code of the family of `child`.
pub(crate) async fn activate_family_of(
    app: &TestApp,
    admin: &Session,
    child: &str,
) -> Result<Session> {
    let families = families(app, admin).await?;
    let code = family_of(&families, child)?["activationCode"]
        .as_str()
        .context("no activation code")?
        .to_owned();
    activate(app, &code, None).await
}

pub(crate) async fn activate(app: &TestApp, code: &str, email: Option<&str>) -> Result<Session> {
    let data = app
        .ok(
            None,
            "mutation($code: String!, $password: String!, $email: String) {
               activate(code: $code, password: $password, email: $email) {
                 accessToken refreshToken user { id name } } }",
            json!({ "code": code, "password": PASSWORD, "email": email }),
        )
        .await?;
    Session::from_value(&data["activate"])
}

pub(crate) async fn me(app: &TestApp, session: &Session) -> Result<Value> {
    Ok(app.ok(session.token(), ME, json!({})).await?["me"].clone())
}

/// (created, updated, unchanged, refused) of an import report.
fn counts(report: &Value) -> [i64; 4] {
    ["created", "updated", "unchanged", "refused"].map(|k| report[k].as_i64().unwrap_or(-1))
}

const R: &str = "nisn,nama,kelas,nama_ortu,no_hp_ortu
0012345671,Ayu Lestari,7A,Wati Lestari,081234567801
0012345672,Bima Lestari,8A,Wati Lestari,081234567801
0012345673,Citra Dewi,7A,Dewi Anggraini,081234567802
";

/// R with Ayu moved to 7B and Dewi Anggraini's phone changed.
const R_CHANGED: &str = "nisn,nama,kelas,nama_ortu,no_hp_ortu
0012345671,Ayu Lestari,7B,Wati Lestari,081234567801
0012345672,Bima Lestari,8A,Wati Lestari,081234567801
0012345673,Citra Dewi,7A,Dewi Anggraini,0813-9999-0002
";

#[tokio::test]
async fn reimporting_a_roster_changes_only_what_changed_in_the_file() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let first = import(&app, &admin, R.as_bytes()).await?;
    let again = import(&app, &admin, R.as_bytes()).await?;
    let changed = import(&app, &admin, R_CHANGED.as_bytes()).await?;

    assert_eq!(counts(&first), [3, 0, 0, 0], "{first}");
    assert_eq!(first["familiesCreated"], 2);
    assert_eq!(counts(&again), [0, 0, 3, 0], "{again}");
    assert_eq!(counts(&changed), [0, 2, 1, 0], "{changed}");
    let statuses: Vec<&str> = changed["rows"]
        .as_array()
        .context("rows")?
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["UPDATED", "UNCHANGED", "UPDATED"]);
    let families = families(&app, &admin).await?;
    assert_eq!(families.len(), 2);
    assert_eq!(students(&families).len(), 3);
    assert_eq!(
        student(&families, "Ayu Lestari")?["class"]["name"],
        "Kelas 7B"
    );
    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let signed_in = app.sign_in("+62 813 9999 0002", PASSWORD).await?;
    assert_eq!(signed_in.user_id, parent.user_id);
    let old_phone = app
        .error_code(
            None,
            scrm_e2e::SIGN_IN,
            json!({ "login": "081234567802", "password": PASSWORD }),
        )
        .await?;
    assert_eq!(old_phone, "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn a_nisn_repeated_in_one_file_refuses_the_second_row() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let csv = "nisn,nama,kelas,nama_ortu,no_hp_ortu
0012345671,Ayu Lestari,7A,Wati Lestari,081234567801
0012345672,Bima Lestari,8A,Wati Lestari,081234567801
0012345671,Ayu Lestari Kembar,7A,Wati Lestari,081234567801
";

    let report = import(&app, &admin, csv.as_bytes()).await?;

    assert_eq!(counts(&report), [2, 0, 0, 1], "{report}");
    let refused = &report["rows"][2];
    assert_eq!(
        (&refused["line"], &refused["status"], &refused["field"]),
        (&json!(4), &json!("REFUSED"), &json!("NISN"))
    );
    assert!(
        refused["messages"][0]
            .as_str()
            .is_some_and(|m| m.contains("line 2"))
    );
    let names: Vec<Value> = students(&families(&app, &admin).await?)
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert!(!names.contains(&json!("Ayu Lestari Kembar")), "{names:?}");
    Ok(())
}

#[tokio::test]
async fn a_dry_run_reports_the_real_counts_and_writes_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let dry = upload(&app, &admin, R.as_bytes(), true).await?;
    let after_dry_run = families(&app, &admin).await?;
    let real = import(&app, &admin, R.as_bytes()).await?;
    let dry_change = upload(&app, &admin, R_CHANGED.as_bytes(), true).await?;
    let after_second_dry_run = families(&app, &admin).await?;

    assert_eq!(dry["dryRun"], true);
    assert_eq!(after_dry_run, Vec::<Value>::new());
    assert_eq!(counts(&dry), counts(&real));
    for key in ["familiesCreated", "guardiansCreated", "classesCreated"] {
        assert_eq!(dry[key], real[key], "{key}");
    }
    assert_eq!(counts(&dry_change), [0, 2, 1, 0], "{dry_change}");
    assert_eq!(
        student(&after_second_dry_run, "Ayu Lestari")?["class"]["name"],
        "Kelas 7A"
    );
    Ok(())
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_refused_whole_and_changes_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import(&app, &admin, R.as_bytes()).await?;
    let before = families(&app, &admin).await?;
    let no_class_column = "nisn,nama,nama_ortu\n0012345671,Ayu Baru,Wati\n0099999999,Eka,Eko\n";
    let utf16_without_mark: Vec<u8> = R_CHANGED
        .encode_utf16()
        .flat_map(|unit| unit.to_le_bytes())
        .collect();

    for file in [no_class_column.as_bytes(), &utf16_without_mark] {
        let (status, body) = app
            .upload_roster(&admin.access, file.to_vec(), false)
            .await?;

        assert_eq!(status, 200);
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], "file");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(families(&app, &admin).await?, before);
    Ok(())
}

#[tokio::test]
async fn siblings_share_one_parent_account_linked_to_both_children() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let csv = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP
1000000001,Ayu Lestari,7A,Bambang Lestari,Wati Lestari,081234560001
1000000002,Bima Lestari,4B,Bambang Lestari,Wati Lestari,0812-3456-0001
";

    let report = import(&app, &admin, csv.as_bytes()).await?;
    let father = activate_family_of(&app, &admin, "Ayu Lestari").await?;
    let me = me(&app, &father).await?;

    assert_eq!(report["familiesCreated"], 1, "{report}");
    assert_eq!(report["guardiansCreated"], 2);
    assert_eq!(me["name"], "Bambang Lestari");
    let children: Vec<(&Value, &Value)> = me["children"]
        .as_array()
        .context("children")?
        .iter()
        .map(|c| (&c["student"]["name"], &c["relation"]))
        .collect();
    assert_eq!(
        children,
        [
            (&json!("Ayu Lestari"), &json!("FATHER")),
            (&json!("Bima Lestari"), &json!("FATHER"))
        ]
    );
    Ok(())
}

/// Hendra Wijaya has a child with Rina and, from a later marriage, one
/// with Sari; both rows carry his e-mail.
pub(crate) const TWO_MARRIAGES: &str = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP,E-Mail
1000000011,Putri Wijaya,9A,Hendra Wijaya,Rina Kusuma,081234560011,hendra.w@example.com
1000000012,Raka Wijaya,2A,Hendra Wijaya,Sari Utami,081234560012,Hendra.W@example.com
";

#[tokio::test]
async fn a_father_in_two_families_is_one_account_and_reimports_unchanged() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let first = import(&app, &admin, TWO_MARRIAGES.as_bytes()).await?;
    let second = import(&app, &admin, TWO_MARRIAGES.as_bytes()).await?;
    let third = import(&app, &admin, TWO_MARRIAGES.as_bytes()).await?;
    let father = activate_family_of(&app, &admin, "Raka Wijaya").await?;
    let me = me(&app, &father).await?;

    assert_eq!(counts(&first), [2, 0, 0, 0], "{first}");
    assert_eq!(first["familiesCreated"], 2);
    assert_eq!(first["guardiansCreated"], 3, "one father, two mothers");
    assert_eq!(counts(&second), [0, 0, 2, 0], "{second}");
    assert_eq!(counts(&third), [0, 0, 2, 0], "{third}");
    let children: Vec<&Value> = me["children"]
        .as_array()
        .context("children")?
        .iter()
        .map(|c| &c["student"]["name"])
        .collect();
    assert_eq!(children, [&json!("Putri Wijaya"), &json!("Raka Wijaya")]);
    let families = families(&app, &admin).await?;
    let primaries: Vec<&Value> = families
        .iter()
        .map(|f| &f["primaryGuardian"]["id"])
        .collect();
    assert_eq!(primaries, [&json!(father.user_id), &json!(father.user_id)]);
    Ok(())
}
