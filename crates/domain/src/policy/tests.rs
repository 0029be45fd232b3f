//! The policy matrix: every role against every action, with and without
//! the relationship that some actions depend on.

use super::*;

const ME: Uuid = Uuid::from_u128(1);
const OTHER: Uuid = Uuid::from_u128(2);
const MY_CLASS: Uuid = Uuid::from_u128(10);
const OTHER_CLASS: Uuid = Uuid::from_u128(11);

fn actor(role: Role) -> Actor {
    Actor {
        user_id: ME,
        roles: vec![role],
        departments: vec![],
    }
}

fn class_audience(class: Uuid) -> Audience {
    Audience {
        class_ids: vec![class],
        ..Audience::default()
    }
}

/// One row per action; columns in the order of [`Role::ALL`]:
/// admin, staff, teacher, parent, student.
fn matrix<'a>(
    mine: &'a Audience,
    theirs: &'a Audience,
    school: &'a Audience,
) -> Vec<(Action<'a>, [bool; 5])> {
    let taught = std::slice::from_ref(&MY_CLASS);
    vec![
        (Action::ReadOwn, [true, true, true, true, true]),
        (Action::ImportRoster, [true, true, false, false, false]),
        (
            Action::ManageActivationCodes,
            [true, true, false, false, false],
        ),
        (Action::ManageDirectory, [true, false, false, false, false]),
        (Action::WorkSupportQueue, [true, true, false, false, false]),
        (Action::ManageInvoices, [true, false, false, false, false]),
        (Action::ManageServices, [true, false, false, false, false]),
        (
            Action::ViewServiceReport,
            [true, false, false, false, false],
        ),
        (Action::WorkFeedback, [true, true, false, false, false]),
        (
            Action::ViewInvoices {
                student_user: None,
                guardian_may_see: false,
            },
            [true, false, false, false, false],
        ),
        (
            Action::ViewInvoices {
                student_user: None,
                guardian_may_see: true,
            },
            [true; 5],
        ),
        (
            Action::ViewInvoices {
                student_user: Some(ME),
                guardian_may_see: false,
            },
            [true; 5],
        ),
        (
            Action::PayInvoice {
                guardian_may_see: false,
            },
            [false; 5],
        ),
        (
            Action::PayInvoice {
                guardian_may_see: true,
            },
            [true; 5],
        ),
        (Action::ViewDirectory, [true, true, true, false, false]),
        (Action::ViewContactDetails { subject: ME }, [true; 5]),
        (
            Action::ViewContactDetails { subject: OTHER },
            [true, true, true, false, false],
        ),
        (
            Action::ViewStudentRecords {
                student_user: None,
                guardian_may_see: true,
            },
            [true; 5],
        ),
        (
            Action::ViewStudentRecords {
                student_user: None,
                guardian_may_see: false,
            },
            [true, true, true, false, false],
        ),
        (
            Action::ViewStudentRecords {
                student_user: Some(ME),
                guardian_may_see: false,
            },
            [true; 5],
        ),
        (
            Action::PublishAnnouncement {
                audience: mine,
                taught_class_ids: taught,
            },
            [true, true, true, false, false],
        ),
        (
            Action::PublishAnnouncement {
                audience: theirs,
                taught_class_ids: taught,
            },
            [true, true, false, false, false],
        ),
        (
            Action::PublishAnnouncement {
                audience: school,
                taught_class_ids: taught,
            },
            [true, true, false, false, false],
        ),
        (
            Action::ViewAnnouncementDelivery { author_id: ME },
            [true; 5],
        ),
        (
            Action::ViewAnnouncementDelivery { author_id: OTHER },
            [true, false, false, false, false],
        ),
    ]
}

#[test]
fn every_role_gets_exactly_the_access_the_matrix_lists() {
    let mine = class_audience(MY_CLASS);
    let theirs = class_audience(OTHER_CLASS);
    let school = Audience {
        everyone: true,
        ..Audience::default()
    };
    for (action, expected) in matrix(&mine, &theirs, &school) {
        for (role, want) in Role::ALL.into_iter().zip(expected) {
            let got = authorize(&actor(role), &action).is_ok();
            assert_eq!(got, want, "{role} on {action:?}");
        }
    }
}

#[test]
fn a_refusal_names_the_action_and_is_forbidden() {
    let err = authorize(&actor(Role::Parent), &Action::ImportRoster).unwrap_err();
    assert!(matches!(&err, DomainError::Forbidden(m) if m.contains("import roster")));
}

#[test]
fn only_finance_staff_among_staff_manage_invoices() {
    let finance = Actor {
        user_id: ME,
        roles: vec![Role::Staff],
        departments: vec![Department::Finance],
    };
    assert!(authorize(&finance, &Action::ManageInvoices).is_ok());
    assert!(authorize(&actor(Role::Staff), &Action::ManageInvoices).is_err());
}

#[test]
fn a_teacher_who_is_also_a_parent_keeps_both_powers() {
    let both = Actor {
        user_id: ME,
        roles: vec![Role::Teacher, Role::Parent],
        departments: vec![],
    };
    assert!(authorize(&both, &Action::ViewDirectory).is_ok());
    let own_child = Action::ViewStudentRecords {
        student_user: None,
        guardian_may_see: true,
    };
    assert!(authorize(&both, &own_child).is_ok());
}
