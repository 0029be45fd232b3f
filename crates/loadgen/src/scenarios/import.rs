//! Scenario 7: a school's whole roster imported from the command line,
//! `scrm import-roster`, as a child process on a fresh database, for its
//! wall time and its peak resident memory (VmHWM). The baseline is the
//! fixed cost every such command pays: `scrm migrate` on a fresh
//! database (start, connect, create the schema). A second import of the
//! same file must change nothing.

use anyhow::{Context, Result, ensure};
use tokio::process::Command;

use super::Bench;
use crate::process::{Finished, run_measured, scrm_bin};
use crate::report::{Figure, Report, Row};
use crate::stack::{create_database, drop_database};

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let rows = roster_rows(bench)?;
    let (url, database) = create_database(bench.opts, "import").await?;
    let outcome = measure(bench, &url, rows).await;
    drop_database(&database).await?;
    let (migrate, import, again) = outcome?;

    let wall = Row::new(
        "7a",
        "roster import (CLI), wall time",
        Figure::seconds(import.wall),
        Figure::seconds(migrate.wall),
        "< 2 s".to_owned(),
    );
    let peak_mib = |f: &Finished| f.peak_kib as f64 / 1024.0;
    let peak = Row::new(
        "7b",
        "roster import (CLI), peak memory",
        Figure::mib(peak_mib(&import)),
        Figure::mib(peak_mib(&migrate)),
        "< 100 MiB".to_owned(),
    );
    report.row(Row {
        met: import.wall.as_secs_f64() < 2.0,
        ..wall
    });
    report.row(Row {
        met: peak_mib(&import) < 100.0,
        ..peak
    });
    report.note(
        "7",
        format!(
            "{rows} rows created; the same file again: {:.2} s, all unchanged; \
             baseline is `scrm migrate` on a fresh database",
            again.wall.as_secs_f64()
        ),
    );
    Ok(())
}

async fn measure(
    bench: &Bench<'_>,
    url: &str,
    rows: i64,
) -> Result<(Finished, Finished, Finished)> {
    let migrate = run_measured(scrm(bench, url, &["migrate"])?).await?;
    let roster = bench.opts.roster.to_string_lossy().into_owned();
    let args = ["import-roster", roster.as_str()];
    let import = run_measured(scrm(bench, url, &args)?).await?;
    expect_counts(&import.stdout, rows, 0)?;
    let again = run_measured(scrm(bench, url, &args)?).await?;
    expect_counts(&again.stdout, 0, rows)?;
    Ok((migrate, import, again))
}

fn scrm(bench: &Bench<'_>, url: &str, args: &[&str]) -> Result<Command> {
    let mut command = Command::new(scrm_bin(bench.opts)?);
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("JWT_SECRET", &bench.stack.jwt_secret)
        .env("RUST_LOG", "warn");
    Ok(command)
}

/// Data rows in the roster: its lines less the header.
fn roster_rows(bench: &Bench<'_>) -> Result<i64> {
    let text = std::fs::read_to_string(&bench.opts.roster)
        .with_context(|| format!("cannot read {}", bench.opts.roster.display()))?;
    Ok(text.lines().filter(|l| !l.trim().is_empty()).count() as i64 - 1)
}

/// Reads "N created, N updated, N unchanged, N refused; …" from the
/// command's report.
fn expect_counts(stdout: &str, created: i64, unchanged: i64) -> Result<()> {
    let line = stdout
        .lines()
        .find(|l| l.contains(" created, "))
        .with_context(|| format!("no report in {stdout:?}"))?;
    let count = |word: &str| -> Option<i64> {
        let before = line.split(&format!(" {word}")).next()?;
        before.rsplit([' ', ',']).next()?.parse().ok()
    };
    let got = (count("created"), count("unchanged"), count("refused"));
    ensure!(
        got == (Some(created), Some(unchanged), Some(0)),
        "expected {created} created and {unchanged} unchanged, the import said: {line}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_report_is_read_for_its_counts() {
        let line = "1008 created, 0 updated, 0 unchanged, 0 refused; 790 families";
        assert!(expect_counts(line, 1008, 0).is_ok());
        assert!(expect_counts(line, 1007, 0).is_err());
        assert!(expect_counts("nothing", 0, 0).is_err());
    }
}
