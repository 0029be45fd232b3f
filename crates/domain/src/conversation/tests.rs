use super::*;

fn pair<'a>(from: &'a [Role], to: &'a [Role], teacher_link: bool, family_link: bool) -> Pair<'a> {
    Pair {
        from_id: Uuid::from_u128(1),
        from_roles: from,
        to_id: Uuid::from_u128(2),
        to_roles: to,
        teacher_link,
        family_link,
    }
}

#[test]
fn students_may_not_open_private_threads_with_other_students() {
    let rules = ConversationRules::default();
    let p = pair(&[Role::Student], &[Role::Student], false, false);
    assert!(matches!(
        rules.may_message(&p),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn a_school_may_allow_students_to_message_each_other() {
    let rules = ConversationRules {
        students_may_message_students: true,
        ..ConversationRules::default()
    };
    assert!(
        rules
            .may_message(&pair(&[Role::Student], &[Role::Student], false, false))
            .is_ok()
    );
}

#[test]
fn parents_may_message_their_childrens_teachers_but_not_other_teachers() {
    let rules = ConversationRules::default();
    assert!(
        rules
            .may_message(&pair(&[Role::Parent], &[Role::Teacher], true, false))
            .is_ok()
    );
    assert!(
        rules
            .may_message(&pair(&[Role::Parent], &[Role::Teacher], false, false))
            .is_err()
    );
}

#[test]
fn anyone_may_message_the_schools_staff() {
    let rules = ConversationRules::default();
    for role in Role::ALL {
        assert!(
            rules
                .may_message(&pair(&[role], &[Role::Staff], false, false))
                .is_ok(),
            "{role}"
        );
    }
}

#[test]
fn a_student_may_not_message_another_childs_parent_but_may_message_their_own() {
    let rules = ConversationRules::default();
    assert!(
        rules
            .may_message(&pair(&[Role::Student], &[Role::Parent], false, false))
            .is_err()
    );
    assert!(
        rules
            .may_message(&pair(&[Role::Student], &[Role::Parent], false, true))
            .is_ok()
    );
}

#[test]
fn nobody_opens_a_thread_with_themself() {
    let rules = ConversationRules::default();
    let mut p = pair(&[Role::Staff], &[Role::Staff], false, false);
    p.to_id = p.from_id;
    assert!(matches!(
        rules.may_message(&p),
        Err(DomainError::Invalid { .. })
    ));
}

#[test]
fn a_message_keeps_emoji_and_right_to_left_text_but_not_blankness() {
    assert!(check_body("Terima kasih 🙏 مرحبا").is_ok());
    assert!(check_body("   \n ").is_err());
    assert!(check_body(&"x".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
    assert!(check_body(&"😀".repeat(MAX_MESSAGE_CHARS)).is_ok());
}
