//! A small school for conversation tests: an admin, a homeroom teacher of
//! Kelas 7A, parents of two children in 7A and one in 8A, and two
//! students with accounts.

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use serde_json::{Value, json};

use crate::{Session, TestApp};

pub struct School {
    pub admin: Session,
    pub teacher: Session,
    /// Parents of Ayu (7A), Bima (7A) and Citra (8A).
    pub ayu_parent: Session,
    pub bima_parent: Session,
    pub citra_parent: Session,
    pub students: [Session; 2],
    pub class_7a: String,
}

const ROSTER: &str = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
    0012345671;Ayu;VII-A;Bapak Ayu;081234567801\r\n\
    0012345672;Bima;VII-A;Ibu Bima;081234567802\r\n\
    0012345673;Citra;VIII-A;Bapak Citra;081234567803\r\n";

impl School {
    pub async fn new(app: &TestApp) -> Result<School> {
        let admin = app.admin().await?;
        let (status, report) = app
            .upload_roster(&admin.access, ROSTER.as_bytes().to_vec(), false)
            .await?;
        anyhow::ensure!(
            status == 200 && report["data"]["importRoster"]["created"] == 3,
            "import: {report}"
        );
        let families = app
            .ok(
                Some(&admin.access),
                "{ families(first: 100) { families { activationCode students { name class { id name } } } } }",
                json!({}),
            )
            .await?;
        let families = families["families"]["families"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let find = |name: &str| {
            families
                .iter()
                .find(|f| f["students"][0]["name"] == name)
                .cloned()
        };
        let ayu = find("Ayu").context("Ayu's family")?;
        let class_7a = ayu["students"][0]["class"]["id"]
            .as_str()
            .context("7A")?
            .to_owned();
        let teacher = app.user("Ibu Ratna", &[Role::Teacher]).await?;
        app.ok(
            Some(&admin.access),
            "mutation($c: ID!, $t: ID!) { assignTeacher(classId: $c, teacherId: $t, homeroom: true) }",
            json!({ "c": class_7a, "t": teacher.user_id }),
        )
        .await?;
        Ok(School {
            ayu_parent: activate(app, &ayu).await?,
            bima_parent: activate(app, &find("Bima").context("Bima")?).await?,
            citra_parent: activate(app, &find("Citra").context("Citra")?).await?,
            students: [
                app.user("Siswa Satu", &[Role::Student]).await?,
                app.user("Siswa Dua", &[Role::Student]).await?,
            ],
            admin,
            teacher,
            class_7a,
        })
    }
}

async fn activate(app: &TestApp, family: &Value) -> Result<Session> {
    let code = family["activationCode"].as_str().context("code")?;
    let data = app
        .ok(
            None,
            "mutation($code: String!) { activate(code: $code, password: \"rahasia-123\") {
               accessToken refreshToken expiresAt user { id name } } }",
            json!({ "code": code }),
        )
        .await?;
    Session::from_value(&data["activate"])
}

/// A Redis server of the test's own on a free port, for tests that stop
/// and restart it. Needs `redis-server` on the PATH.
pub struct OwnRedis {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    pub fn start() -> Result<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.restart()?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("redis-server is needed for this test")?;
        self.child = Some(child);
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        anyhow::bail!("redis-server did not start")
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
