//! The author's delivery figures for one announcement, worked out by hand
//! for the small school.

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use scrm_e2e::{Session, TestApp};
use serde_json::{Value, json};

use super::{ASSIGN, PUBLISH, class_id, id_of, school};
use crate::roster::activate_family_of;

const DELIVERY: &str = "query($id: UUID!) { announcement(id: $id) { delivery {
  addressed read acknowledged familiesAddressed familiesReached
  notRead { name }
  unreachedFamilies { family { name } students { name } homeroomTeachers { name } }
} } }";

async fn delivery(app: &TestApp, admin: &Session, id: &str) -> Result<Value> {
    let data = app.ok(admin.token(), DELIVERY, json!({ "id": id })).await?;
    Ok(data["announcement"]["delivery"].clone())
}

async fn homeroom(app: &TestApp, admin: &Session, class: &str, name: &str) -> Result<Session> {
    let teacher = app.user(name, &[Role::Teacher]).await?;
    let class = class_id(app, admin, class).await?;
    app.ok(
        admin.token(),
        ASSIGN,
        json!({ "c": class, "t": teacher.user_id }),
    )
    .await?;
    Ok(teacher)
}

/// The unreached families as (family, children, homeroom teachers), with
/// the teachers sorted by name.
fn unreached(figures: &Value) -> Result<Vec<Value>> {
    let families = figures["unreachedFamilies"].as_array().context("list")?;
    Ok(families
        .iter()
        .map(|f| {
            let names = |list: &Value| {
                let mut names: Vec<Value> = list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| p["name"].clone())
                    .collect();
                names.sort_by_key(|n| n.to_string());
                names
            };
            json!([
                f["family"]["name"],
                names(&f["students"]),
                names(&f["homeroomTeachers"])
            ])
        })
        .collect())
}

#[tokio::test]
async fn delivery_figures_count_readers_families_and_homeroom_teachers() -> Result<()> {
    let (app, admin) = school().await?;
    let ratna = homeroom(&app, &admin, "Kelas 7A", "Ibu Ratna").await?;
    homeroom(&app, &admin, "Kelas 8B", "Pak Joko").await?;
    let bambang = activate_family_of(&app, &admin, "Ayu Lestari").await?;
    let class_7a = class_id(&app, &admin, "Kelas 7A").await?;
    let input = json!({ "title": "Izin study tour", "body": "Mohon konfirmasi.",
                        "requiresAck": true, "audience": { "classIds": [class_7a] } });
    let id = id_of(
        &app.ok(admin.token(), PUBLISH, json!({ "input": input }))
            .await?["publishAnnouncement"],
    )?;

    let before = delivery(&app, &admin, &id).await?;
    app.ok(
        bambang.token(),
        "mutation($id: UUID!) { markAnnouncementRead(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await?;
    app.ok(
        ratna.token(),
        "mutation($id: UUID!) { acknowledgeAnnouncement(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await?;
    let after = delivery(&app, &admin, &id).await?;

    // Ayu's father and mother, Citra's mother and 7A's homeroom teacher.
    let figures = |d: &Value| {
        [
            "addressed",
            "read",
            "acknowledged",
            "familiesAddressed",
            "familiesReached",
        ]
        .map(|k| d[k].as_i64().unwrap_or(-1))
    };
    assert_eq!(figures(&before), [4, 0, 0, 2, 0], "{before}");
    assert_eq!(
        unreached(&before)?,
        [
            json!([
                "Keluarga Bambang Lestari",
                ["Ayu Lestari", "Bima Lestari"],
                ["Ibu Ratna", "Pak Joko"]
            ]),
            json!(["Keluarga Dewi Anggraini", ["Citra Dewi"], ["Ibu Ratna"]]),
        ]
    );
    assert_eq!(figures(&after), [4, 2, 1, 2, 1], "{after}");
    assert_eq!(
        after["notRead"],
        json!([{ "name": "Dewi Anggraini" }, { "name": "Wati Lestari" }])
    );
    assert_eq!(
        unreached(&after)?,
        [json!([
            "Keluarga Dewi Anggraini",
            ["Citra Dewi"],
            ["Ibu Ratna"]
        ])]
    );
    Ok(())
}
