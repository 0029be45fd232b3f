//! The one authorization policy. Every query and mutation of the API asks
//! [`authorize`] before it acts; the API gathers the relationship facts
//! (which classes a teacher teaches, whose guardian a parent is) and the
//! rule is decided here.

use uuid::Uuid;

use crate::audience::Audience;
use crate::role::{Department, Role};
use crate::{DomainError, DomainResult};

/// The signed-in person on whose behalf a request runs.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    pub departments: Vec<Department>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn is_school(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::Staff)
    }

    /// Admins, and staff of the finance department.
    fn is_finance(&self) -> bool {
        self.has(Role::Admin)
            || (self.has(Role::Staff) && self.departments.contains(&Department::Finance))
    }

    fn is_school_or_teacher(&self) -> bool {
        self.is_school() || self.has(Role::Teacher)
    }
}

/// Everything the API can be asked to do, with the facts the rule needs.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Read one's own profile, feed, read state.
    ReadOwn,
    ImportRoster,
    ManageActivationCodes,
    /// Create accounts, assign teachers, change guardianships.
    ManageDirectory,
    /// See the school's directory: classes, students, families.
    ViewDirectory,
    /// See another person's phone and e-mail.
    ViewContactDetails {
        subject: Uuid,
    },
    /// See a child's records (invoices, grades); `guardian_may_see` is
    /// true when the actor is a guardian of the child with that right.
    ViewStudentRecords {
        student_user: Option<Uuid>,
        guardian_may_see: bool,
    },
    PublishAnnouncement {
        audience: &'a Audience,
        taught_class_ids: &'a [Uuid],
    },
    ViewAnnouncementDelivery {
        author_id: Uuid,
    },
    /// See and work the shared queue of support requests.
    WorkSupportQueue,
    /// Issue, void and confirm invoices and payments; see them all.
    ManageInvoices,
    /// See a student's invoices: their guardians with the right to see
    /// records, the student, and finance.
    ViewInvoices {
        student_user: Option<Uuid>,
        guardian_may_see: bool,
    },
    /// Pay a student's invoice: their guardians with the right.
    PayInvoice {
        guardian_may_see: bool,
    },
    /// Keep the catalogue of services.
    ManageServices,
    /// See individual ratings and who gave them, reply, work the
    /// complaint queue, open surveys and read their results.
    WorkFeedback,
    /// Read the service performance report.
    ViewServiceReport,
}

impl Action<'_> {
    /// A short name for logs and the policy matrix test.
    pub fn name(&self) -> &'static str {
        match self {
            Action::ReadOwn => "read_own",
            Action::ImportRoster => "import_roster",
            Action::ManageActivationCodes => "manage_activation_codes",
            Action::ManageDirectory => "manage_directory",
            Action::ViewDirectory => "view_directory",
            Action::ViewContactDetails { .. } => "view_contact_details",
            Action::ViewStudentRecords { .. } => "view_student_records",
            Action::PublishAnnouncement { .. } => "publish_announcement",
            Action::ViewAnnouncementDelivery { .. } => "view_announcement_delivery",
            Action::WorkSupportQueue => "work_support_queue",
            Action::ManageInvoices => "manage_invoices",
            Action::ViewInvoices { .. } => "view_invoices",
            Action::PayInvoice { .. } => "pay_invoice",
            Action::ManageServices => "manage_services",
            Action::WorkFeedback => "work_feedback",
            Action::ViewServiceReport => "view_service_report",
        }
    }
}

/// Decides whether `actor` may perform `action`.
pub fn authorize(actor: &Actor, action: &Action<'_>) -> DomainResult<()> {
    if allowed(actor, action) {
        Ok(())
    } else {
        Err(DomainError::forbidden(format!(
            "you may not {}",
            action.name().replace('_', " ")
        )))
    }
}

fn allowed(actor: &Actor, action: &Action<'_>) -> bool {
    match *action {
        Action::ReadOwn => true,
        Action::ImportRoster | Action::ManageActivationCodes | Action::WorkSupportQueue => {
            actor.is_school()
        }
        Action::ManageDirectory | Action::ManageServices | Action::ViewServiceReport => {
            actor.has(Role::Admin)
        }
        Action::WorkFeedback => actor.is_school(),
        Action::ViewDirectory => actor.is_school_or_teacher(),
        Action::ViewContactDetails { subject } => {
            subject == actor.user_id || actor.is_school_or_teacher()
        }
        Action::ViewStudentRecords {
            student_user,
            guardian_may_see,
        } => {
            actor.is_school_or_teacher() || guardian_may_see || student_user == Some(actor.user_id)
        }
        Action::PublishAnnouncement {
            audience,
            taught_class_ids,
        } => {
            actor.is_school()
                || (actor.has(Role::Teacher)
                    && audience.is_only_classes()
                    && audience
                        .class_ids
                        .iter()
                        .all(|c| taught_class_ids.contains(c)))
        }
        Action::ManageInvoices => actor.is_finance(),
        Action::ViewInvoices {
            student_user,
            guardian_may_see,
        } => actor.is_finance() || guardian_may_see || student_user == Some(actor.user_id),
        Action::PayInvoice { guardian_may_see } => guardian_may_see,
        Action::ViewAnnouncementDelivery { author_id } => {
            actor.has(Role::Admin) || author_id == actor.user_id
        }
    }
}

#[cfg(test)]
mod tests;
