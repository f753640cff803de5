//! Resolution of the filter language's names (statuses, users, labels, milestones, task keys,
//! relative dates) into the ids of a [`TaskFilter`], for one caller and a set of projects.

use std::collections::HashMap;
use std::str::FromStr;

use time::{Date, OffsetDateTime, Time};

use super::TaskRef;
use crate::engine::access::Need;
use crate::ids::TaskId;

use crate::engine::{Actor, Engine};
use crate::error::Result;
use crate::ids::UserId;
use crate::model::{Label, Milestone, Project, User, Workflow};
use crate::query::{
    CmpOp, DateField, DateValue, FilterExpr, HasValue, IsValue, NameRef, TaskFilter, Term, UserRef,
};
use crate::store::Store;

/// What names resolve against: the projects in scope with their workflows, labels and
/// milestones, and the workspace's members. Only what the expression names is read: a part it
/// does not use is left empty.
pub(crate) struct ResolutionContext {
    pub projects: Vec<(Project, Workflow, Vec<Label>, Vec<Milestone>)>,
    pub members: Vec<User>,
    pub me: UserId,
    pub now: OffsetDateTime,
    /// Task keys named by `parent:` terms, resolved to visible tasks.
    pub parents: HashMap<String, TaskId>,
}

/// What a filter expression refers to by name, so that resolving it reads only that.
#[derive(Default)]
struct NamesUsed {
    /// Status names or categories (`status:`, `is:open|closed|overdue`): the workflows.
    statuses: bool,
    /// Users named other than `me` or `none` (`assignee:`, `reporter:`): the members.
    members: bool,
    /// Label names: the projects' labels.
    labels: bool,
    /// Milestone names: the projects' milestones.
    milestones: bool,
    /// Task keys named by `parent:` terms.
    parents: Vec<String>,
}

impl NamesUsed {
    fn of(expr: &FilterExpr) -> Self {
        let mut used = NamesUsed::default();
        used.visit(expr);
        used
    }

    fn visit(&mut self, expr: &FilterExpr) {
        let named = |refs: &[NameRef]| refs.iter().any(|r| matches!(r, NameRef::Named(_)));
        match expr {
            FilterExpr::And(parts) | FilterExpr::Or(parts) => {
                parts.iter().for_each(|p| self.visit(p))
            }
            FilterExpr::Not(inner) => self.visit(inner),
            FilterExpr::Term(term) => match term {
                Term::Status(_) | Term::Is(IsValue::Open | IsValue::Closed | IsValue::Overdue) => {
                    self.statuses = true
                }
                Term::Assignee(refs) | Term::Reporter(refs) => {
                    self.members |= refs.iter().any(|r| matches!(r, UserRef::Named(_)))
                }
                Term::Label(refs) => self.labels |= named(refs),
                Term::Milestone(refs) => self.milestones |= named(refs),
                Term::Parent(NameRef::Named(name)) => self.parents.push(name.clone()),
                Term::Parent(NameRef::Nobody)
                | Term::Priority(..)
                | Term::Date(..)
                | Term::Is(IsValue::Subtask)
                | Term::Has(_)
                | Term::Text(_) => {}
            },
        }
    }
}

impl ResolutionContext {
    pub(crate) async fn load<S: Store>(
        engine: &Engine<S>,
        actor: &Actor,
        projects: Vec<Project>,
        expr: Option<&FilterExpr>,
    ) -> Result<Self> {
        let store = engine.store();
        let used = expr.map(NamesUsed::of).unwrap_or_default();
        let mut loaded = Vec::with_capacity(projects.len());
        let mut workspace = None;
        for p in projects {
            workspace = Some(p.workspace_id);
            let empty_flow = Workflow {
                project_id: p.id,
                statuses: Vec::new(),
                transitions: None,
                version: 0,
            };
            let flow = if used.statuses {
                store.workflow(p.id).await?.unwrap_or(empty_flow)
            } else {
                empty_flow
            };
            let labels = if used.labels {
                store.labels_of_project(p.id).await?
            } else {
                Vec::new()
            };
            let milestones = if used.milestones {
                store.milestones_of_project(p.id).await?
            } else {
                Vec::new()
            };
            loaded.push((p, flow, labels, milestones));
        }
        let members = match workspace {
            Some(ws) if used.members => {
                let ids: Vec<UserId> = store
                    .members_of_workspace(ws)
                    .await?
                    .iter()
                    .map(|m| m.user_id)
                    .collect();
                store.users(&ids).await?
            }
            _ => Vec::new(),
        };
        let mut parents = HashMap::new();
        for name in used.parents {
            let Ok(reference) = TaskRef::from_str(&name) else {
                continue;
            };
            if let Ok((task, _, _)) = engine.find_task(actor, &reference, Need::Read, false).await {
                parents.insert(name, task.id);
            }
        }
        Ok(ResolutionContext {
            parents,
            projects: loaded,
            members,
            me: actor.user_id,
            now: engine.now(),
        })
    }

    fn users(&self, refs: &[UserRef]) -> (Vec<UserId>, bool) {
        let mut ids = Vec::new();
        let mut nobody = false;
        for r in refs {
            match r {
                UserRef::Me => ids.push(self.me),
                UserRef::Nobody => nobody = true,
                UserRef::Named(name) => {
                    let lower = name.to_lowercase();
                    ids.extend(
                        self.members
                            .iter()
                            .filter(|u| {
                                u.email_key() == lower
                                    || u.handle() == lower
                                    || u.name.to_lowercase() == lower
                            })
                            .map(|u| u.id),
                    );
                }
            }
        }
        (ids, nobody)
    }

    fn start_of_day(day: Date) -> OffsetDateTime {
        day.with_time(Time::MIDNIGHT).assume_utc()
    }

    fn date_term(&self, field: DateField, op: CmpOp, value: DateValue) -> TaskFilter {
        let day_range = |day: Date| {
            let start = Self::start_of_day(day);
            (start, start + time::Duration::days(1))
        };
        let (start, end) = match value {
            DateValue::Nobody => {
                return TaskFilter::Not(Box::new(TaskFilter::HasDate(field)));
            }
            DateValue::Instant(at) => {
                return TaskFilter::DateCmp(field, op, at);
            }
            DateValue::Day(day) => day_range(day),
            DateValue::RelativeDays(n) => {
                let today = self.now.date();
                let day = today
                    .checked_add(time::Duration::days(i64::from(n)))
                    .unwrap_or(if n < 0 { Date::MIN } else { Date::MAX });
                day_range(day)
            }
        };
        match op {
            CmpOp::Eq => TaskFilter::And(vec![
                TaskFilter::DateCmp(field, CmpOp::Ge, start),
                TaskFilter::DateCmp(field, CmpOp::Lt, end),
            ]),
            CmpOp::Lt => TaskFilter::DateCmp(field, CmpOp::Lt, start),
            CmpOp::Le => TaskFilter::DateCmp(field, CmpOp::Lt, end),
            CmpOp::Gt => TaskFilter::DateCmp(field, CmpOp::Ge, end),
            CmpOp::Ge => TaskFilter::DateCmp(field, CmpOp::Ge, start),
        }
    }

    fn named<T>(
        &self,
        refs: &[NameRef],
        items: impl Fn(&(Project, Workflow, Vec<Label>, Vec<Milestone>)) -> Vec<(String, T)>,
        any: TaskFilter,
        make: impl Fn(Vec<T>) -> TaskFilter,
    ) -> TaskFilter {
        let mut ids = Vec::new();
        let mut nobody = false;
        for r in refs {
            match r {
                NameRef::Nobody => nobody = true,
                NameRef::Named(name) => {
                    for p in &self.projects {
                        for (n, id) in items(p) {
                            if n.eq_ignore_ascii_case(name)
                                || n.to_lowercase() == name.to_lowercase()
                            {
                                ids.push(id);
                            }
                        }
                    }
                }
            }
        }
        let mut parts = vec![make(ids)];
        if nobody {
            parts.push(TaskFilter::Not(Box::new(any)));
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            TaskFilter::Or(parts)
        }
    }

    /// Resolves a parsed filter. Names that match nothing make their term match nothing.
    pub(crate) fn resolve(&self, expr: &FilterExpr) -> TaskFilter {
        match expr {
            FilterExpr::And(parts) => {
                TaskFilter::And(parts.iter().map(|p| self.resolve(p)).collect())
            }
            FilterExpr::Or(parts) => {
                TaskFilter::Or(parts.iter().map(|p| self.resolve(p)).collect())
            }
            FilterExpr::Not(inner) => TaskFilter::Not(Box::new(self.resolve(inner))),
            FilterExpr::Term(term) => self.term(term),
        }
    }

    fn statuses_where(
        &self,
        pred: impl Fn(&crate::model::Status) -> bool,
    ) -> Vec<crate::ids::StatusId> {
        self.projects
            .iter()
            .flat_map(|(_, f, _, _)| f.statuses.iter())
            .filter(|s| pred(s))
            .map(|s| s.id)
            .collect()
    }

    fn term(&self, term: &Term) -> TaskFilter {
        match term {
            Term::Status(names) => {
                let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
                TaskFilter::StatusIn(self.statuses_where(|s| {
                    lower.contains(&s.name.to_lowercase())
                        || lower.iter().any(|n| n == s.category.as_str())
                }))
            }
            Term::Assignee(refs) => {
                let (ids, nobody) = self.users(refs);
                let mut parts = vec![TaskFilter::AssigneeIn(ids)];
                if nobody {
                    parts.push(TaskFilter::Not(Box::new(TaskFilter::HasAssignee)));
                }
                if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    TaskFilter::Or(parts)
                }
            }
            Term::Reporter(refs) => TaskFilter::ReporterIn(self.users(refs).0),
            Term::Label(refs) => self.named(
                refs,
                |(_, _, labels, _)| labels.iter().map(|l| (l.name.clone(), l.id)).collect(),
                TaskFilter::HasLabel,
                TaskFilter::LabelIn,
            ),
            Term::Milestone(refs) => self.named(
                refs,
                |(_, _, _, ms)| ms.iter().map(|m| (m.name.clone(), m.id)).collect(),
                TaskFilter::HasMilestone,
                TaskFilter::MilestoneIn,
            ),
            Term::Priority(CmpOp::Eq, ps) => TaskFilter::PriorityIn(ps.clone()),
            Term::Priority(op, ps) => match ps.first() {
                Some(p) => TaskFilter::PriorityCmp(*op, *p),
                None => TaskFilter::Or(Vec::new()),
            },
            Term::Date(field, op, value) => self.date_term(*field, *op, *value),
            Term::Parent(NameRef::Nobody) => TaskFilter::Not(Box::new(TaskFilter::HasParent)),
            Term::Parent(NameRef::Named(name)) => match self.parents.get(name) {
                Some(id) => TaskFilter::ParentIs(*id),
                None => TaskFilter::Or(Vec::new()),
            },
            Term::Is(IsValue::Open) => {
                TaskFilter::StatusIn(self.statuses_where(|s| !s.category.is_closed()))
            }
            Term::Is(IsValue::Closed) => {
                TaskFilter::StatusIn(self.statuses_where(|s| s.category.is_closed()))
            }
            Term::Is(IsValue::Overdue) => TaskFilter::And(vec![
                TaskFilter::StatusIn(self.statuses_where(|s| !s.category.is_closed())),
                TaskFilter::DateCmp(DateField::Due, CmpOp::Lt, self.now),
            ]),
            Term::Is(IsValue::Subtask) => TaskFilter::HasParent,
            Term::Has(HasValue::Assignee) => TaskFilter::HasAssignee,
            Term::Has(HasValue::Label) => TaskFilter::HasLabel,
            Term::Has(HasValue::Milestone) => TaskFilter::HasMilestone,
            Term::Has(HasValue::Due) => TaskFilter::HasDate(DateField::Due),
            Term::Has(HasValue::Start) => TaskFilter::HasDate(DateField::Start),
            Term::Has(HasValue::Estimate) => TaskFilter::HasEstimate,
            Term::Has(HasValue::Parent) => TaskFilter::HasParent,
            Term::Text(text) => TaskFilter::Text(text.clone()),
        }
    }
}
