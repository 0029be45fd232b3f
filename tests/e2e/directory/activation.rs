//! Activation codes as staff hand them out and families use them.

use anyhow::{Context, Result};
use scrm_e2e::{PASSWORD, TestApp};
use serde_json::{Value, json};

use super::{error_of, school};
use crate::roster::{activate, activate_family_of, families, family_of, import, me};

const PENDING: &str = "{ families(pendingOnly: true) { families { id name activationCode } } }";

const REISSUE: &str = "mutation($id: UUID!) { reissueActivationCode(familyId: $id) {
  id activationCode codeIssuedAt } }";

fn names(families: &Value) -> Vec<&str> {
    families["families"]["families"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect()
}

#[tokio::test]
async fn staff_see_pending_codes_and_an_activated_family_leaves_the_list() -> Result<()> {
    let (app, admin) = school().await?;
    let before = app.ok(admin.token(), PENDING, json!({})).await?;

    let parent = activate_family_of(&app, &admin, "Citra Dewi").await?;
    let after = app.ok(admin.token(), PENDING, json!({})).await?;
    let for_parent = error_of(&app, parent.token(), PENDING, json!({})).await?;

    assert_eq!(names(&before).len(), 3, "{before}");
    let codes = before["families"]["families"].as_array().context("list")?;
    assert!(
        codes.iter().all(|f| f["activationCode"].is_string()),
        "{before}"
    );
    assert_eq!(
        names(&after),
        ["Keluarga Bambang Lestari", "Keluarga Rudi Saputra"]
    );
    assert_eq!(for_parent.0, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn a_reissued_code_replaces_the_old_one() -> Result<()> {
    let (app, admin) = school().await?;
    let families = families(&app, &admin).await?;
    let family = family_of(&families, "Dodi Saputra")?;
    let old_code = family["activationCode"].as_str().context("code")?;

    let reissued = app
        .ok(admin.token(), REISSUE, json!({ "id": family["id"] }))
        .await?;
    let new_code = reissued["reissueActivationCode"]["activationCode"]
        .as_str()
        .context("new code")?;
    let old_use = error_of(
        &app,
        None,
        "mutation($code: String!) { activate(code: $code, password: \"rahasia-123\") {
           accessToken } }",
        json!({ "code": old_code }),
    )
    .await?;
    let parent = activate(&app, new_code, None).await?;

    assert_ne!(new_code, old_code);
    assert_eq!(
        old_use,
        ("BAD_USER_INPUT".to_owned(), Some("code".to_owned()))
    );
    assert_eq!(me(&app, &parent).await?["name"], "Rudi Saputra");
    let missing = error_of(
        &app,
        admin.token(),
        REISSUE,
        json!({ "id": uuid::Uuid::new_v4() }),
    )
    .await?;
    assert_eq!(missing.0, "NOT_FOUND");
    Ok(())
}

#[tokio::test]
async fn a_family_without_email_adds_one_at_activation_and_signs_in_with_it() -> Result<()> {
    let (app, admin) = school().await?;
    let families = families(&app, &admin).await?;
    let code = family_of(&families, "Citra Dewi")?["activationCode"]
        .as_str()
        .context("code")?
        .to_owned();

    let parent = activate(&app, &code, Some(" Dewi.A@Example.com ")).await?;
    let by_email = app.sign_in("dewi.a@example.com", PASSWORD).await?;
    let by_phone = app.sign_in("+62 812-3456-0002", PASSWORD).await?;

    assert_eq!(by_email.user_id, parent.user_id);
    assert_eq!(by_phone.user_id, parent.user_id);
    let me = me(&app, &parent).await?;
    assert_eq!(me["name"], "Dewi Anggraini");
    let contact = app
        .ok(
            parent.token(),
            "{ me { email phone activated } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        contact["me"],
        json!({ "email": "dewi.a@example.com", "phone": "+6281234560002", "activated": true })
    );
    Ok(())
}

const FAMILY_PAGE: &str = "query($after: String) {
  families(first: 1, after: $after) { families { id name } nextCursor } }";

#[tokio::test]
async fn staff_page_through_families_that_share_a_name_one_at_a_time() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import(&app, &admin, crate::roster::TWO_MARRIAGES.as_bytes()).await?;

    let mut seen = vec![];
    let mut after = Value::Null;
    for _ in 0..3 {
        let data = app
            .ok(admin.token(), FAMILY_PAGE, json!({ "after": after }))
            .await?;
        let page = &data["families"];
        seen.extend(page["families"].as_array().cloned().unwrap_or_default());
        after = page["nextCursor"].clone();
        if after.is_null() {
            break;
        }
    }

    assert!(after.is_null(), "the listing did not end");
    let names: Vec<&Value> = seen.iter().map(|f| &f["name"]).collect();
    let both = json!("Keluarga Hendra Wijaya");
    assert_eq!(names, [&both, &both]);
    assert_ne!(seen[0]["id"], seen[1]["id"]);
    Ok(())
}
