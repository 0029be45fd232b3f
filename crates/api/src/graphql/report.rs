//! `serviceReport`: the five indicators for a date range, per month and
//! per service, each figure with its numerator, denominator and meaning.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{Datelike, NaiveDate};
use scrm_domain::DomainError;
use scrm_domain::policy::{Action, authorize};
use scrm_domain::report::{self, Facts, Figure, Indicator, Slice};

use super::errors::to_gql;
use super::ratings::{ServiceNode, months_between};
use super::scalars::Date;
use super::{ContextExt, Gql};
use crate::state::AppState;

#[derive(SimpleObject)]
#[graphql(name = "ReportFigure")]
pub struct FigureNode {
    pub key: String,
    /// What the figure means, in one line.
    pub definition: String,
    pub numerator: i64,
    pub denominator: i64,
    /// Usually numerator / denominator; null when there was nothing to
    /// measure.
    pub value: Option<f64>,
}

#[derive(SimpleObject)]
#[graphql(name = "ReportIndicator")]
pub struct IndicatorNode {
    /// IDENTIFICATION, INDIVIDUALIZATION, INTERACTION, INTEGRATION or
    /// INTEGRITY.
    pub key: String,
    pub figures: Vec<FigureNode>,
}

#[derive(SimpleObject)]
pub struct ReportMonth {
    /// "YYYY-MM", school time.
    pub month: String,
    pub indicators: Vec<IndicatorNode>,
}

#[derive(SimpleObject)]
pub struct ServiceFigures {
    pub service: ServiceNode,
    pub ratings: i64,
    pub average_rating: Option<f64>,
}

#[derive(SimpleObject)]
pub struct ServiceReport {
    pub from: Date,
    pub to: Date,
    pub indicators: Vec<IndicatorNode>,
    pub months: Vec<ReportMonth>,
    pub services: Vec<ServiceFigures>,
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Admins: how well the school serves, for school dates `from` to
    /// `to` (both included, at most two years).
    async fn service_report(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<ServiceReport> {
        authorize(&ctx.viewer()?.actor, &Action::ViewServiceReport).gql()?;
        let (from, to) = (from.0, to.0);
        let sane = |d: NaiveDate| (2000..=2100).contains(&d.year());
        if to < from || (to - from).num_days() >= 731 || !sane(from) || !sane(to) {
            return Err(to_gql(DomainError::invalid(
                "to",
                "choose a range of up to two years, ending after it starts",
            )));
        }
        let state = ctx.state();
        let whole = slice(state, from, to);
        let (first, last) = (
            from.format("%Y-%m").to_string(),
            to.format("%Y-%m").to_string(),
        );
        let facts = state
            .store
            .report_facts(whole.from, whole.to, (&first, &last))
            .await
            .gql()?;
        // The catalogue in one read, retired services included.
        let catalogue = state.store.services(false).await.gql()?;
        let services = report::ratings_by_service(&facts, &whole)
            .into_iter()
            .filter_map(|(id, sum, count)| {
                let service = catalogue.iter().find(|s| s.id == id)?.clone();
                Some(ServiceFigures {
                    service: ServiceNode(service),
                    ratings: count,
                    average_rating: Some(sum as f64 / count as f64),
                })
            })
            .collect();
        Ok(ServiceReport {
            from: Date(from),
            to: Date(to),
            indicators: nodes(report::indicators(&facts, &whole)),
            months: monthly(state, &facts, from, to),
            services,
        })
    }
}

fn monthly(state: &AppState, facts: &Facts, from: NaiveDate, to: NaiveDate) -> Vec<ReportMonth> {
    months_between(from, to)
        .into_iter()
        .filter_map(|(y, m)| {
            let start = NaiveDate::from_ymd_opt(y, m, 1)?.max(from);
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)?
            };
            let end = next.pred_opt()?.min(to);
            let part = slice(state, start, end);
            Some(ReportMonth {
                month: format!("{y:04}-{m:02}"),
                indicators: nodes(report::indicators(facts, &part)),
            })
        })
        .collect()
}

fn slice(state: &AppState, from: NaiveDate, to: NaiveDate) -> Slice {
    let (start, end) = state.clock.range_of_days(from, to);
    let month = |d: NaiveDate| (d.year(), d.month());
    Slice {
        from: start,
        to: end,
        first_month: month(from),
        last_month: month(to),
    }
}

fn nodes(indicators: Vec<Indicator>) -> Vec<IndicatorNode> {
    indicators
        .into_iter()
        .map(|i| IndicatorNode {
            key: i.key.to_owned(),
            figures: i.figures.into_iter().map(figure).collect(),
        })
        .collect()
}

fn figure(f: Figure) -> FigureNode {
    FigureNode {
        key: f.key.to_owned(),
        definition: f.definition.to_owned(),
        numerator: f.numerator,
        denominator: f.denominator,
        value: f.value,
    }
}
