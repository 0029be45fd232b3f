use chrono::TimeZone;

use super::*;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .expect("instant")
}

fn november() -> Slice {
    Slice {
        from: at(1, 0),
        to: Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("end"),
        first_month: (2026, 11),
        last_month: (2026, 11),
    }
}

fn figure<'a>(report: &'a [Indicator], key: &str) -> &'a Figure {
    report
        .iter()
        .flat_map(|i| &i.figures)
        .find(|f| f.key == key)
        .expect("figure")
}

#[test]
fn support_figures_follow_response_and_resolution_times() {
    let facts = Facts {
        support: vec![
            SupportFact {
                opened_at: at(2, 1),
                first_response_at: Some(at(2, 2)),
                resolved_at: Some(at(3, 1)),
            },
            SupportFact {
                opened_at: at(4, 1),
                first_response_at: Some(at(4, 9)),
                resolved_at: Some(at(9, 1)),
            },
            SupportFact {
                opened_at: at(5, 1),
                first_response_at: None,
                resolved_at: None,
            },
        ],
        ..Facts::default()
    };
    let report = indicators(&facts, &november());
    let median = figure(&report, "medianFirstResponseMinutes");
    assert_eq!((median.numerator, median.denominator), (60, 2));
    assert_eq!(figure(&report, "answeredWithinTarget").numerator, 1);
    assert_eq!(
        figure(&report, "resolvedWithinTarget").value,
        Some(1.0 / 3.0)
    );
}

#[test]
fn the_recommend_score_and_average_rating_come_from_the_slice_only() {
    let service = Uuid::from_u128(7);
    let facts = Facts {
        ratings: vec![
            (service, "2026-11".into(), 5),
            (service, "2026-11".into(), 2),
            (service, "2026-10".into(), 1),
        ],
        recommend: vec![
            (at(10, 1), 10),
            (at(10, 2), 9),
            (at(10, 3), 3),
            (at(10, 4), 8),
        ],
        ..Facts::default()
    };
    let report = indicators(&facts, &november());
    let average = figure(&report, "averageRating");
    assert_eq!(
        (average.numerator, average.denominator, average.value),
        (7, 2, Some(3.5))
    );
    assert_eq!(figure(&report, "recommendScore").value, Some(25.0));
    assert_eq!(
        ratings_by_service(&facts, &november()),
        vec![(service, 7, 2)]
    );
}

#[test]
fn with_nothing_to_measure_a_figure_has_no_value() {
    let report = indicators(&Facts::default(), &november());
    assert_eq!(figure(&report, "digitalPayments").value, None);
    assert_eq!(report.len(), 5);
}
