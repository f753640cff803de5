//! Translation of task queries into SQL: [`TaskFilter`] to a `WHERE` clause with bind
//! parameters, [`TaskSort`] and [`TaskCursor`] to `ORDER BY` and a keyset condition.
//!
//! Every predicate produced here is two-valued (never SQL `NULL`): leaves test for missing values
//! explicitly and `Not` negates `COALESCE(p, false)`, so SQL's three-valued logic cannot make a
//! negated comparison on a missing value disagree with the reference evaluator.

use sqlx::{Postgres, QueryBuilder};
use tasklane_core::query::{
    CmpOp, DateField, SortField, SortValue, TaskCursor, TaskFilter, TaskQuery, TaskScope, TaskSort,
};
use uuid::Uuid;

use crate::codec;

/// The columns a page of tasks selects.
pub(crate) const TASK_COLUMNS: &str = "doc";

fn op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// The column holding a date field, and whether it may be `NULL`.
fn date_column(field: DateField) -> (&'static str, bool) {
    match field {
        DateField::Due => ("due_at_ns", true),
        DateField::Start => ("start_at_ns", true),
        DateField::Created => ("created_at_ns", false),
        DateField::Updated => ("updated_at_ns", false),
        DateField::Completed => ("completed_at_ns", true),
    }
}

fn uuids<T: Copy>(ids: &[T], raw: impl Fn(T) -> Uuid) -> Vec<Uuid> {
    ids.iter().map(|id| raw(*id)).collect()
}

/// Appends "`column` is one of `values`" for a `NOT NULL` column. One value is an equality:
/// PostgreSQL (before 17) reads an index in order only without `= ANY` on a column after the
/// first, so `status_id = $1` lets a board column or a filtered page come in order from the
/// `(project_id, status_id, ...)` indexes instead of being sorted.
fn push_in(qb: &mut QueryBuilder<Postgres>, column: &str, mut values: Vec<Uuid>) {
    qb.push("(").push(column);
    if values.len() == 1 {
        qb.push(" = ").push_bind(values.remove(0)).push(")");
    } else {
        qb.push(" = ANY(").push_bind(values).push("))");
    }
}

/// Appends `filter` as a parenthesised, never-`NULL` boolean expression.
pub(crate) fn push_filter(qb: &mut QueryBuilder<Postgres>, filter: &TaskFilter) {
    match filter {
        TaskFilter::True => {
            qb.push("TRUE");
        }
        TaskFilter::And(parts) | TaskFilter::Or(parts) if parts.is_empty() => {
            qb.push(if matches!(filter, TaskFilter::And(_)) {
                "TRUE"
            } else {
                "FALSE"
            });
        }
        TaskFilter::And(parts) | TaskFilter::Or(parts) => {
            let joiner = if matches!(filter, TaskFilter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            qb.push("(");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    qb.push(joiner);
                }
                push_filter(qb, part);
            }
            qb.push(")");
        }
        TaskFilter::Not(inner) => {
            qb.push("(NOT COALESCE(");
            push_filter(qb, inner);
            qb.push(", FALSE))");
        }
        TaskFilter::StatusIn(ids) => push_in(qb, "status_id", uuids(ids, |i| i.0)),
        TaskFilter::AssigneeIn(ids) => {
            // `&&` (overlap) is served by the GIN index on assignee_ids.
            qb.push("(assignee_ids && ")
                .push_bind(uuids(ids, |i| i.0))
                .push("::uuid[])");
        }
        TaskFilter::HasAssignee => {
            qb.push("(cardinality(assignee_ids) > 0)");
        }
        TaskFilter::ReporterIn(ids) => push_in(qb, "reporter_id", uuids(ids, |i| i.0)),
        TaskFilter::LabelIn(ids) => {
            qb.push("(label_ids && ")
                .push_bind(uuids(ids, |i| i.0))
                .push("::uuid[])");
        }
        TaskFilter::HasLabel => {
            qb.push("(cardinality(label_ids) > 0)");
        }
        TaskFilter::MilestoneIn(ids) => {
            qb.push("(milestone_id IS NOT NULL AND milestone_id = ANY(")
                .push_bind(uuids(ids, |i| i.0))
                .push("))");
        }
        TaskFilter::HasMilestone => {
            qb.push("(milestone_id IS NOT NULL)");
        }
        TaskFilter::PriorityIn(ps) => {
            let ranks: Vec<i16> = ps.iter().map(|p| p.rank() as i16).collect();
            qb.push("(priority = ANY(").push_bind(ranks).push("))");
        }
        TaskFilter::PriorityCmp(cmp, p) => {
            qb.push("(priority ")
                .push(op(*cmp))
                .push(" ")
                .push_bind(p.rank() as i16)
                .push(")");
        }
        TaskFilter::DateCmp(field, cmp, at) => {
            let (column, nullable) = date_column(*field);
            qb.push("(");
            if nullable {
                qb.push(column).push(" IS NOT NULL AND ");
            }
            qb.push(column)
                .push(" ")
                .push(op(*cmp))
                .push(" ")
                .push_bind(codec::ns(*at))
                .push("::numeric)");
        }
        TaskFilter::HasDate(field) => {
            let (column, nullable) = date_column(*field);
            if nullable {
                qb.push("(").push(column).push(" IS NOT NULL)");
            } else {
                qb.push("TRUE");
            }
        }
        TaskFilter::HasEstimate => {
            qb.push("(estimate_seconds IS NOT NULL)");
        }
        TaskFilter::ParentIs(id) => {
            qb.push("(parent_id IS NOT NULL AND parent_id = ")
                .push_bind(id.0)
                .push(")");
        }
        TaskFilter::HasParent => {
            qb.push("(parent_id IS NOT NULL)");
        }
        TaskFilter::Text(text) => {
            // Folded columns are written with the same folding as the needle; `strpos` has no
            // wildcards, so `%` and `_` are plain characters.
            let needle = codec::fold(text);
            qb.push("(strpos(title_fold, ")
                .push_bind(needle.clone())
                .push(") > 0 OR strpos(description_fold, ")
                .push_bind(needle)
                .push(") > 0)");
        }
    }
}

/// How a sort field is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `numeric` nanoseconds.
    Nanos,
    /// `smallint` rank.
    Rank,
    /// `text COLLATE "C"`.
    Text,
}

fn sort_column(field: SortField) -> (&'static str, Kind, bool) {
    match field {
        SortField::Created => ("created_at_ns", Kind::Nanos, false),
        SortField::Updated => ("updated_at_ns", Kind::Nanos, false),
        SortField::Due => ("due_at_ns", Kind::Nanos, true),
        SortField::Priority => ("priority", Kind::Rank, false),
        SortField::Position => ("position", Kind::Text, false),
        SortField::Title => ("title", Kind::Text, false),
    }
}

/// Appends the keyset condition "strictly after `cursor` in `sort`" (see `TaskSort::compare`:
/// `NULL` values sort last in both directions, then the value, then the id, both in the sort's
/// direction).
fn push_after(qb: &mut QueryBuilder<Postgres>, sort: TaskSort, cursor: &TaskCursor) {
    let (column, kind, _) = sort_column(sort.field);
    let (cmp, id_cmp) = if sort.descending {
        ("<", "<")
    } else {
        (">", ">")
    };
    match &cursor.value {
        SortValue::Null => {
            // Only other NULLs come after a NULL, ordered by id.
            qb.push("(")
                .push(column)
                .push(" IS NULL AND id ")
                .push(id_cmp)
                .push(" ")
                .push_bind(cursor.id.0)
                .push(")");
        }
        SortValue::Int(value) if kind != Kind::Text => {
            qb.push("(").push(column).push(" IS NULL OR (").push(column);
            qb.push(", id) ").push(cmp).push(" (");
            match kind {
                Kind::Nanos => {
                    qb.push_bind(value.to_string()).push("::numeric");
                }
                _ => {
                    // Ranks are 0..=4, so saturating to bigint keeps every comparison exact.
                    let v = i64::try_from(*value).unwrap_or(if *value < 0 {
                        i64::MIN
                    } else {
                        i64::MAX
                    });
                    qb.push_bind(v).push("::bigint");
                }
            }
            qb.push(", ").push_bind(cursor.id.0).push("))");
        }
        SortValue::Text(value) if kind == Kind::Text => {
            qb.push("(").push(column).push(" IS NULL OR (").push(column);
            qb.push(", id) ").push(cmp).push(" (");
            qb.push_bind(value.clone())
                .push(" COLLATE \"C\", ")
                .push_bind(cursor.id.0)
                .push("))");
        }
        // A value of the other type (a cursor from another sort order): in the reference
        // order every integer sorts before every text. A task's value is after the cursor when
        // it is NULL, or when the type order agrees with the direction.
        other => {
            let task_value_greater = matches!(other, SortValue::Int(_));
            let after = task_value_greater != sort.descending;
            qb.push("(")
                .push(column)
                .push(" IS NULL OR ")
                .push(if after { "TRUE" } else { "FALSE" })
                .push(")");
        }
    }
}

/// Appends the scope and trash conditions of `query`.
pub(crate) fn push_scope(qb: &mut QueryBuilder<Postgres>, scope: &TaskScope, trashed: bool) {
    match scope {
        TaskScope::Project(p) => {
            qb.push("project_id = ").push_bind(p.0);
        }
        TaskScope::Projects(ws, ps) => {
            qb.push("workspace_id = ")
                .push_bind(ws.0)
                .push(" AND project_id = ANY(")
                .push_bind(uuids(ps, |p| p.0))
                .push(")");
        }
    }
    qb.push(if trashed {
        " AND deleted_at_ns IS NOT NULL"
    } else {
        " AND deleted_at_ns IS NULL"
    });
}

/// The whole `SELECT` of `columns` (fixed text, never input) for a page of tasks.
pub(crate) fn task_page(query: &TaskQuery, columns: &'static str) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new(format!("SELECT {columns} FROM tasks WHERE "));
    push_scope(&mut qb, &query.scope, query.trashed);
    if query.filter != TaskFilter::True {
        qb.push(" AND ");
        push_filter(&mut qb, &query.filter);
    }
    if let Some(cursor) = &query.after {
        qb.push(" AND ");
        push_after(&mut qb, query.sort, cursor);
    }
    let (column, kind, _) = sort_column(query.sort.field);
    let dir = if query.sort.descending { "DESC" } else { "ASC" };
    qb.push(" ORDER BY ").push(column);
    if kind == Kind::Text {
        qb.push(" COLLATE \"C\"");
    }
    qb.push(" ")
        .push(dir)
        .push(" NULLS LAST, id ")
        .push(dir)
        .push(" LIMIT ")
        .push_bind(codec::limit(query.limit));
    qb
}

/// The `SELECT` for status counts of a project's tasks outside the trash.
pub(crate) fn status_counts(
    project: tasklane_core::ids::ProjectId,
    filter: &TaskFilter,
) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new("SELECT status_id, count(*) FROM tasks WHERE ");
    push_scope(&mut qb, &TaskScope::Project(project), false);
    if *filter != TaskFilter::True {
        qb.push(" AND ");
        push_filter(&mut qb, filter);
    }
    qb.push(" GROUP BY status_id ORDER BY status_id");
    qb
}

#[cfg(test)]
mod tests {
    use super::*;
    use tasklane_core::ids::{ProjectId, TaskId};

    #[test]
    fn filters_become_parameterised_sql() {
        let query = TaskQuery {
            scope: TaskScope::Project(ProjectId(Uuid::nil())),
            filter: TaskFilter::Not(Box::new(TaskFilter::And(vec![
                TaskFilter::Text("50%_off".into()),
                TaskFilter::DateCmp(DateField::Due, CmpOp::Lt, time::OffsetDateTime::UNIX_EPOCH),
            ]))),
            sort: TaskSort {
                field: SortField::Due,
                descending: true,
            },
            after: Some(TaskCursor {
                value: SortValue::Int(5),
                id: TaskId(Uuid::nil()),
            }),
            limit: usize::MAX,
            trashed: false,
        };
        let sql = task_page(&query, TASK_COLUMNS).into_string();
        assert_eq!(
            sql,
            "SELECT doc FROM tasks WHERE project_id = $1 AND deleted_at_ns IS NULL AND \
             (NOT COALESCE(((strpos(title_fold, $2) > 0 OR strpos(description_fold, $3) > 0) AND \
             (due_at_ns IS NOT NULL AND due_at_ns < $4::numeric)), FALSE)) AND \
             (due_at_ns IS NULL OR (due_at_ns, id) < ($5::numeric, $6)) \
             ORDER BY due_at_ns DESC NULLS LAST, id DESC LIMIT $7"
        );
    }
}
