//! `importRoster`: the school's roster file, uploaded by staff.

use std::io::Read;

use async_graphql::{Context, Enum, Object, SimpleObject, Upload};
use scrm_domain::DomainError;
use scrm_domain::policy::{Action, authorize};
use scrm_persistence::roster_import::{RowOutcome, RowStatus};

use super::errors::to_gql;
use super::{ContextExt, Gql};
use crate::import::{ImportReport, import_roster};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RosterRowStatus {
    Created,
    Updated,
    Unchanged,
    Refused,
}

#[derive(SimpleObject)]
pub struct RosterRowResult {
    /// The line in the file; the header is line 1.
    pub line: i32,
    pub status: RosterRowStatus,
    pub student_name: Option<String>,
    /// The column at fault, for a refused row.
    pub field: Option<String>,
    /// Why a row was refused, or what changed in an updated row.
    pub messages: Vec<String>,
}

#[derive(SimpleObject)]
pub struct RosterImportReport {
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub refused: i32,
    pub families_created: i32,
    pub guardians_created: i32,
    pub classes_created: i32,
    /// True when nothing was written.
    pub dry_run: bool,
    /// The text encoding the file was read in.
    pub encoding: String,
    pub delimiter: String,
    pub rows: Vec<RosterRowResult>,
}

#[derive(Default)]
pub struct RosterMutation;

#[Object]
impl RosterMutation {
    /// Imports a roster exported from Dapodik or a spreadsheet (CSV, `,`
    /// `;` or tab, UTF-8 or Windows-1252). Importing the same file again
    /// changes nothing; `dryRun` reports without writing.
    async fn import_roster(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        dry_run: Option<bool>,
        academic_year: Option<String>,
    ) -> async_graphql::Result<RosterImportReport> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::ImportRoster).gql()?;
        let state = ctx.state();
        let mut bytes = Vec::new();
        file.value(ctx)
            .map_err(|_| to_gql(DomainError::invalid("file", "the upload could not be read")))?
            .content
            .read_to_end(&mut bytes)
            .map_err(|_| to_gql(DomainError::invalid("file", "the upload could not be read")))?;
        let year = academic_year.unwrap_or_else(|| state.academic_year());
        let report = import_roster(
            &state.store,
            &bytes,
            &year,
            dry_run.unwrap_or(false),
            state.now(),
        )
        .await
        .gql()?;
        Ok(to_report(report))
    }
}

fn to_report(report: ImportReport) -> RosterImportReport {
    let o = &report.outcome;
    let n = |s| o.count(s) as i32;
    RosterImportReport {
        created: n(RowStatus::Created),
        updated: n(RowStatus::Updated),
        unchanged: n(RowStatus::Unchanged),
        refused: n(RowStatus::Refused),
        families_created: o.families_created as i32,
        guardians_created: o.guardians_created as i32,
        classes_created: o.classes_created as i32,
        dry_run: o.dry_run,
        encoding: report.encoding.to_owned(),
        delimiter: report.delimiter.to_string(),
        rows: o.rows.iter().map(row_result).collect(),
    }
}

fn row_result(row: &RowOutcome) -> RosterRowResult {
    RosterRowResult {
        line: row.line as i32,
        status: match row.status {
            RowStatus::Created => RosterRowStatus::Created,
            RowStatus::Updated => RosterRowStatus::Updated,
            RowStatus::Unchanged => RosterRowStatus::Unchanged,
            RowStatus::Refused => RosterRowStatus::Refused,
        },
        student_name: row.student_name.clone(),
        field: row.field.clone(),
        messages: row.messages.clone(),
    }
}
