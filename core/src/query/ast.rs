//! The filter language's syntax tree, as the caller wrote it (names, not ids). The engine resolves
//! it into a [`crate::query::TaskFilter`] for a given project and caller.
//!
//! `parse(&display(ast)) == ast` holds for every canonical tree (see [`FilterExpr::is_canonical`]).

use time::{Date, OffsetDateTime};

use crate::model::Priority;

/// A filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterExpr {
    /// Every part must match (written side by side, or with `AND`). Canonical: two or more parts,
    /// none of which is itself an `And`.
    And(Vec<FilterExpr>),
    /// Any part must match (written with `OR`). Canonical: two or more parts, none of which is
    /// itself an `Or`.
    Or(Vec<FilterExpr>),
    /// The inner expression must not match (written `-term`, `-(...)` or `NOT ...`).
    Not(Box<FilterExpr>),
    /// One condition.
    Term(Term),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `:` (equals, or "any of" for a comma list).
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(&self) -> &'static str {
        match self {
            CmpOp::Eq => ":",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Who a user value names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// `me`: the caller.
    Me,
    /// `none`: nobody (no assignee).
    Nobody,
    /// An e-mail address, a handle or a display name (matched ignoring case).
    Named(String),
}

/// A named value that may also be `none`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRef {
    /// `none`.
    Nobody,
    /// A name (matched ignoring case).
    Named(String),
}

/// Which date field a date term compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateField {
    /// `due`
    Due,
    /// `start`
    Start,
    /// `created`
    Created,
    /// `updated`
    Updated,
    /// `completed`
    Completed,
}

impl DateField {
    /// The field's name in the language.
    pub fn as_str(&self) -> &'static str {
        match self {
            DateField::Due => "due",
            DateField::Start => "start",
            DateField::Created => "created",
            DateField::Updated => "updated",
            DateField::Completed => "completed",
        }
    }
}

/// The right-hand side of a date term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateValue {
    /// `none`: the date is not set (only with `:`).
    Nobody,
    /// A calendar day in UTC, `2026-12-01`; `due:2026-12-01` means any time that day.
    Day(Date),
    /// An exact instant, RFC 3339 (`2026-12-01T09:00:00Z`).
    Instant(OffsetDateTime),
    /// A day relative to today in UTC: `today` is 0, `+7d` is 7, `-3d` is -3.
    RelativeDays(i32),
}

/// The value of `is:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IsValue {
    /// The status is not in the completed or canceled category.
    Open,
    /// The status is in the completed or canceled category.
    Closed,
    /// Open and due before now.
    Overdue,
    /// Has a parent.
    Subtask,
}

impl IsValue {
    /// The value as written.
    pub fn as_str(&self) -> &'static str {
        match self {
            IsValue::Open => "open",
            IsValue::Closed => "closed",
            IsValue::Overdue => "overdue",
            IsValue::Subtask => "subtask",
        }
    }
}

/// The value of `has:`: the field is set (or not empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HasValue {
    /// At least one assignee.
    Assignee,
    /// At least one label.
    Label,
    /// A milestone.
    Milestone,
    /// A due date.
    Due,
    /// A start date.
    Start,
    /// An estimate.
    Estimate,
    /// A parent.
    Parent,
}

impl HasValue {
    /// The value as written.
    pub fn as_str(&self) -> &'static str {
        match self {
            HasValue::Assignee => "assignee",
            HasValue::Label => "label",
            HasValue::Milestone => "milestone",
            HasValue::Due => "due",
            HasValue::Start => "start",
            HasValue::Estimate => "estimate",
            HasValue::Parent => "parent",
        }
    }
}

/// One condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// `status:todo,"in progress"`: a status name or a category name (any of; non-empty list).
    Status(Vec<String>),
    /// `assignee:me,alice@example.com` (any of; non-empty list).
    Assignee(Vec<UserRef>),
    /// `reporter:me` (any of; non-empty list; `none` is not allowed).
    Reporter(Vec<UserRef>),
    /// `label:bug,ui` or `label:none` (any of; non-empty list).
    Label(Vec<NameRef>),
    /// `milestone:"v1.0"` or `milestone:none` (any of; non-empty list).
    Milestone(Vec<NameRef>),
    /// `priority:high,urgent` (any of, with `:`), or `priority>=high` (exactly one value with a
    /// comparison).
    Priority(CmpOp, Vec<Priority>),
    /// `due<2026-12-01`, `updated>=-7d`, `due:none`.
    Date(DateField, CmpOp, DateValue),
    /// `parent:ENG-12` (a task key) or `parent:none`.
    Parent(NameRef),
    /// `is:open`, `is:closed`, `is:overdue`, `is:subtask`.
    Is(IsValue),
    /// `has:due`, `has:assignee`, ...
    Has(HasValue),
    /// A bare word or a quoted phrase: matches the title or the description, ignoring case.
    /// Never empty.
    Text(String),
}

/// Where and why the parser stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: expected {expected}, found {found}")]
pub struct ParseError {
    /// Byte offset into the input where the problem starts.
    pub position: usize,
    /// What would have been accepted there, in words (`"a value after ':'"`, `"')'"`).
    pub expected: String,
    /// What was there instead (`"end of input"`, `"'foo'"`).
    pub found: String,
}
