//! Who is who across imports. A student is known again by NISN or NIPD:
//! a corrected number is an update the report names, and numbers that
//! point at two different children refuse the row instead of merging
//! them or failing the whole import. A parent is known again by family
//! and name, whichever file layout names them.

use anyhow::{Context, Result};
use scrm_e2e::{PASSWORD, TestApp};
use serde_json::json;

use super::{activate_family_of, counts, families, family_of, import, me, student};

const FIRST: &str = "NISN,NIPD,Nama,Kelas,Nama Ibu,HP
1234567890,2026001,Budi Santoso,7A,Siti Aminah,081234567801
1234567891,2026002,Ani Wijaya,7A,Rina Wijaya,081234567802
";

#[tokio::test]
async fn a_corrected_nisn_or_nipd_is_applied_and_reported_as_an_update() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import(&app, &admin, FIRST.as_bytes()).await?;
    let corrected = "NISN,NIPD,Nama,Kelas,Nama Ibu,HP
1234567899,2026001,Budi Santoso,7A,Siti Aminah,081234567801
1234567891,2026009,Ani Wijaya,7A,Rina Wijaya,081234567802
";

    let report = import(&app, &admin, corrected.as_bytes()).await?;
    let again = import(&app, &admin, corrected.as_bytes()).await?;

    assert_eq!(counts(&report), [0, 2, 0, 0], "{report}");
    assert_eq!(
        report["rows"][0]["messages"],
        json!(["NISN: 1234567890 → 1234567899"])
    );
    assert_eq!(
        report["rows"][1]["messages"],
        json!(["NIPD: 2026002 → 2026009"])
    );
    assert_eq!(counts(&again), [0, 0, 2, 0], "{again}");
    let families = families(&app, &admin).await?;
    assert_eq!(student(&families, "Budi Santoso")?["nisn"], "1234567899");
    assert_eq!(student(&families, "Ani Wijaya")?["nisn"], "1234567891");
    Ok(())
}

#[tokio::test]
async fn a_row_whose_nisn_and_nipd_belong_to_two_students_is_refused() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    import(&app, &admin, FIRST.as_bytes()).await?;
    let mixed_up = "NISN,NIPD,Nama,Kelas,Nama Ibu,HP
1234567890,2026002,Budi Santoso,8A,Siti Aminah,081234567801
1234567892,2026003,Cahya Putra,7B,Maya Putri,081234567803
";

    let report = import(&app, &admin, mixed_up.as_bytes()).await?;

    assert_eq!(counts(&report), [1, 0, 0, 1], "{report}");
    let refused = &report["rows"][0];
    assert_eq!(
        (&refused["line"], &refused["status"], &refused["field"]),
        (&json!(2), &json!("REFUSED"), &json!("NIPD"))
    );
    let families = families(&app, &admin).await?;
    let budi = student(&families, "Budi Santoso")?;
    assert_eq!(
        (&budi["nipd"], &budi["class"]["name"]),
        (&json!("2026001"), &json!("Kelas 7A"))
    );
    assert_eq!(student(&families, "Ani Wijaya")?["nipd"], "2026002");
    assert_eq!(student(&families, "Cahya Putra")?["nisn"], "1234567892");
    Ok(())
}

#[tokio::test]
async fn a_father_added_in_a_later_export_joins_the_family_without_taking_the_login() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mother_only = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP
0012345671,Ayu Lestari,7A,,Wati Lestari,081234567801
";
    let completed = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP
0012345671,Ayu Lestari,7A,Bambang Lestari,Wati Lestari,081234567801
";
    import(&app, &admin, mother_only.as_bytes()).await?;
    let mother = activate_family_of(&app, &admin, "Ayu Lestari").await?;

    let report = import(&app, &admin, completed.as_bytes()).await?;
    let again = import(&app, &admin, completed.as_bytes()).await?;

    assert_eq!(counts(&report), [0, 1, 0, 0], "{report}");
    assert_eq!(
        report["rows"][0]["messages"],
        json!(["guardian added: Bambang Lestari"])
    );
    assert_eq!(counts(&again), [0, 0, 1, 0], "{again}");
    let signed_in = app.sign_in("081234567801", PASSWORD).await?;
    assert_eq!(signed_in.user_id, mother.user_id);
    let families = families(&app, &admin).await?;
    let family = family_of(&families, "Ayu Lestari")?;
    assert_eq!(family["primaryGuardian"]["name"], "Wati Lestari");
    Ok(())
}

#[tokio::test]
async fn a_dapodik_export_after_a_simple_file_keeps_the_same_parent() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let simple = "nisn,nama,kelas,nama_ortu,no_hp_ortu
0012345671,Ayu Lestari,7A,Wati Lestari,081234567801
";
    let dapodik = "NISN,Nama,Kelas,Nama Ayah,Nama Ibu,HP
0012345671,Ayu Lestari,7A,Bambang Lestari,Wati Lestari,0812-3456-7801
";
    import(&app, &admin, simple.as_bytes()).await?;

    let report = import(&app, &admin, dapodik.as_bytes()).await?;
    let again = import(&app, &admin, dapodik.as_bytes()).await?;
    let parent = activate_family_of(&app, &admin, "Ayu Lestari").await?;

    assert_eq!(counts(&report), [0, 1, 0, 0], "{report}");
    assert_eq!(report["guardiansCreated"], 1, "only the father is new");
    assert_eq!(counts(&again), [0, 0, 1, 0], "{again}");
    let me = me(&app, &parent).await?;
    assert_eq!(me["name"], "Wati Lestari");
    let children = me["children"].as_array().context("children")?;
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["student"]["name"], "Ayu Lestari");
    Ok(())
}
