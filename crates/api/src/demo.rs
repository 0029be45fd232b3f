//! The demo school for `scrm serve --demo`: a small roster generated in
//! code and imported through the real importer, sign-ins for each kind
//! of user, and a few announcements. Loading it twice changes nothing.

use std::fmt::Write;

use anyhow::Context;
use scrm_domain::announcement::{Category, Draft, Urgency};
use scrm_domain::audience::Audience;
use scrm_domain::payments::{Line, PaymentState};
use scrm_domain::role::{Department, Role};
use scrm_persistence::invoices::NewInvoice;
use scrm_persistence::payments::{Audit, Change, NewPayment, PaymentKey};
use scrm_persistence::users::NewUser;

use crate::auth;
use crate::state::AppState;

pub const PASSWORD: &str = "demo1234";
pub const ADMIN: &str = "admin@demo.example";
pub const TEACHER: &str = "guru@demo.example";
pub const PARENT: &str = "ortu@demo.example";
pub const STUDENT: &str = "siswa@demo.example";

const FIRST: [&str; 16] = [
    "Adi", "Budi", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hendra", "Indah", "Joko", "Kartika",
    "Lestari", "Made", "Nur", "Putri", "Rizky",
];
const LAST: [&str; 8] = [
    "Santoso", "Wijaya", "Siregar", "Hutapea", "Nasution", "Gunawan", "Halim", "Saputra",
];

/// The generated roster: grades 1 to 12, classes A and B, eight children
/// each, and the demo parent's two children in grades 4 and 7.
pub fn roster_csv() -> String {
    let mut csv = String::from(
        "No,Nama,NIPD,JK,NISN,Tanggal Lahir,HP,E-Mail,Nama Ayah,Nama Ibu,Rombel Saat Ini\n",
    );
    let mut n = 0;
    for grade in 1..=12u32 {
        for section in ["A", "B"] {
            for i in 0..8u32 {
                n += 1;
                let last = LAST[((grade + i) % 8) as usize];
                let name = format!("{} {last}", FIRST[((n * 7) % 16) as usize]);
                let father = format!("{} {last}", FIRST[((n * 3 + 1) % 16) as usize]);
                let mother = format!(
                    "{} {}",
                    FIRST[((n * 5 + 2) % 16) as usize],
                    LAST[((n + 3) % 8) as usize]
                );
                let sex = if n % 2 == 0 { "L" } else { "P" };
                let phone = format!("0812{:08}", 10_000_000 + n);
                let born = format!("{:02}/{:02}/{}", 1 + n % 28, 1 + n % 12, 2020 - grade);
                let _ = writeln!(
                    csv,
                    "{n},{name},D{n:04},{sex},{:010},{born},{phone},,{father},{mother},Kelas {grade}{section}",
                    9_000_000_000u64 + u64::from(n)
                );
            }
        }
    }
    for (i, (name, class)) in [("Anisa Pratama", "Kelas 4A"), ("Bagus Pratama", "Kelas 7A")]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            csv,
            "{},{name},D9{i:03},{},{:010},01/0{}/2015,0812-9999-0001,{PARENT},Rudi Pratama,Sari Pratama,{class}",
            n + 1 + i as u32,
            if i == 0 { "P" } else { "L" },
            9_100_000_000u64 + i as u64,
            i + 1
        );
    }
    csv
}

/// Loads the demo school unless it is already there.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    if store
        .user_by_login(ADMIN)
        .await
        .map_err(anyhow_of)?
        .is_some()
    {
        tracing::info!("demo school already loaded");
        return Ok(());
    }
    let now = state.now();
    let year = state.academic_year();
    crate::import::import_roster(store, roster_csv().as_bytes(), &year, false, now)
        .await
        .map_err(anyhow_of)
        .context("failed to import the demo roster")?;
    let hash = auth::hash_password(PASSWORD)?;
    let admin = create(
        state,
        "Admin Sekolah",
        ADMIN,
        &[Role::Admin, Role::Staff],
        &[Department::Finance, Department::Support],
        &hash,
    )
    .await?;
    let teacher = create(
        state,
        "Ibu Guru Ratna",
        TEACHER,
        &[Role::Teacher],
        &[],
        &hash,
    )
    .await?;
    activate_demo_parent(state, &hash).await?;
    let classes = store.classes_of_year(&year).await.map_err(anyhow_of)?;
    let seven_a = classes
        .iter()
        .find(|c| c.name == "Kelas 7A")
        .context("demo class 7A missing")?;
    store
        .assign_teacher(seven_a.id, teacher, true, None)
        .await
        .map_err(anyhow_of)?;
    let student = create(
        state,
        "Bagus Pratama",
        STUDENT,
        &[Role::Student],
        &[],
        &hash,
    )
    .await?;
    store
        .link_student_user(seven_a.id, "Bagus Pratama", student)
        .await
        .map_err(anyhow_of)?;
    publish_samples(state, admin, seven_a.id).await?;
    bill_demo_family(state, admin).await?;
    rate_services(state).await?;
    tracing::info!("demo school loaded");
    Ok(())
}

async fn create(
    state: &AppState,
    name: &str,
    email: &str,
    roles: &[Role],
    departments: &[Department],
    hash: &str,
) -> anyhow::Result<uuid::Uuid> {
    let user = NewUser {
        name: name.to_owned(),
        email: Some(email.to_owned()),
        phone: None,
        password_hash: Some(hash.to_owned()),
        roles: roles.to_vec(),
        departments: departments.to_vec(),
        family_id: None,
    };
    Ok(state
        .store
        .create_user(user, state.now())
        .await
        .map_err(anyhow_of)?
        .id)
}

/// The demo parent activates like any parent: with the family's code.
async fn activate_demo_parent(state: &AppState, hash: &str) -> anyhow::Result<()> {
    let store = &state.store;
    let parent = store
        .user_by_login(PARENT)
        .await
        .map_err(anyhow_of)?
        .context("demo parent missing")?;
    let family = store
        .family(parent.family_id.context("demo parent has no family")?)
        .await
        .map_err(anyhow_of)?;
    let code = family
        .and_then(|f| f.activation_code)
        .context("demo family has no code")?;
    store
        .activate(&code, hash, None, None, state.now())
        .await
        .map_err(anyhow_of)?;
    Ok(())
}

async fn publish_samples(
    state: &AppState,
    admin: uuid::Uuid,
    class_id: uuid::Uuid,
) -> anyhow::Result<()> {
    let now = state.now();
    let samples = [
        (
            "Libur Hari Guru",
            "Sekolah libur pada 25 November. Selamat Hari Guru!",
            Category::Holiday,
            Audience {
                everyone: true,
                ..Audience::default()
            },
        ),
        (
            "Ujian Tengah Semester Kelas 7",
            "UTS kelas 7 dimulai Senin depan. Mohon siapkan alat tulis.",
            Category::Academic,
            Audience {
                grades: vec![7],
                ..Audience::default()
            },
        ),
        (
            "Kunjungan ke Museum Batam",
            "Kelas 7A berkunjung ke museum hari Jumat. Bawa bekal.",
            Category::Event,
            Audience {
                class_ids: vec![class_id],
                ..Audience::default()
            },
        ),
    ];
    for (title, body, category, audience) in samples {
        let draft = Draft {
            title: title.to_owned(),
            body: body.to_owned(),
            category,
            urgency: Urgency::Normal,
            audience,
            publish_at: None,
            expires_at: None,
            requires_ack: false,
        };
        state
            .store
            .publish_announcement(admin, &draft, &state.academic_year(), now)
            .await
            .map_err(anyhow_of)?;
    }
    Ok(())
}

fn anyhow_of(err: scrm_domain::DomainError) -> anyhow::Error {
    anyhow::Error::new(err)
}

/// Tuition for the demo parent's two children: one paid through the
/// sandbox, one open, so the app team can try the whole flow.
async fn bill_demo_family(state: &AppState, finance: uuid::Uuid) -> anyhow::Result<()> {
    let store = &state.store;
    let parent = store
        .user_by_login(PARENT)
        .await
        .map_err(anyhow_of)?
        .context("demo parent missing")?;
    let family = parent.family_id.context("demo parent has no family")?;
    let children = store
        .students_of_families(&[family])
        .await
        .map_err(anyhow_of)?;
    let today = state.clock.date_of(state.now());
    let due = today + chrono::Duration::days(14);
    let invoices = children
        .iter()
        .map(|child| NewInvoice {
            student_id: child.id,
            family_id: child.family_id,
            class_id: child.class_id,
            title: format!("SPP {}", today.format("%m/%Y")),
            issue_key: Some(format!("demo-spp:{}", child.id)),
            due_date: due,
            early_until: None,
            early_discount_idr: 0,
            lines: vec![Line {
                description: "SPP bulanan".to_owned(),
                amount_idr: 1_500_000,
            }],
            discounts: vec![],
        })
        .collect();
    let prefix = crate::payments::number_prefix(today);
    let issued = store
        .issue_invoices(finance, invoices, &prefix, state.now())
        .await
        .map_err(anyhow_of)?;
    let first = issued.first().context("no demo invoice")?;
    let payment = NewPayment {
        invoice_id: first.id,
        provider: "SANDBOX".to_owned(),
        amount_idr: first.total_idr,
        payer_id: parent.id,
        idempotency_key: "demo-payment".to_owned(),
        request_hash: crate::payments::request_hash(first.id, "SANDBOX", first.total_idr),
    };
    let (payment, _) = store
        .start_payment(payment, today, state.now())
        .await
        .map_err(anyhow_of)?;
    let settle = Change {
        gateway: Some((payment.amount_idr, 0)),
        provider_ref: Some("demo"),
        amount: None,
    };
    let audit = Audit {
        provider: "SANDBOX",
        fields: (Some(payment.order_id.as_str()), Some("SETTLED"), None),
        body: "{\"command\":\"SETTLED\",\"demo\":true}",
    };
    let key = PaymentKey::Id(payment.id);
    crate::payments::apply(state, key, PaymentState::Settled, settle, audit)
        .await
        .map_err(anyhow_of)?;
    Ok(())
}

const SERVICES: [(&str, &str); 8] = [
    ("Kantin", "Makan siang dan jajanan sekolah"),
    ("Bus Sekolah", "Antar jemput siswa"),
    ("Perpustakaan", "Peminjaman buku dan ruang baca"),
    ("Tata Usaha", "Layanan administrasi dan front office"),
    ("Konseling", "Bimbingan dan konseling siswa"),
    ("Ekstrakurikuler", "Kegiatan di luar jam pelajaran"),
    ("Pengajaran", "Kegiatan belajar mengajar"),
    ("Fasilitas", "Gedung, kelas dan lapangan"),
];

/// The catalogue and four months of ratings, so the report has figures
/// on first start.
async fn rate_services(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    let parents = store
        .user_ids_with_role(Role::Parent, 40)
        .await
        .map_err(anyhow_of)?;
    let today = state.clock.date_of(state.now());
    for (s, (name, description)) in SERVICES.iter().enumerate() {
        let service = store
            .create_service(name, description, state.now())
            .await
            .map_err(anyhow_of)?;
        for back in 0..4u32 {
            let month = today
                .checked_sub_months(chrono::Months::new(back))
                .unwrap_or(today);
            let period = month.format("%Y-%m").to_string();
            for (p, parent) in parents.iter().enumerate() {
                // Each service has its own level, with some spread.
                let level = [4, 3, 4, 3, 4, 3, 5, 2][s];
                let score = (level + (p * 7 + back as usize) % 3)
                    .saturating_sub(1)
                    .clamp(1, 5) as u8;
                store
                    .rate(service.id, *parent, &period, score, None, state.now())
                    .await
                    .map_err(anyhow_of)?;
            }
        }
    }
    Ok(())
}
