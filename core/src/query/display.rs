//! The filter language's printer: the canonical spelling of a [`FilterExpr`], which
//! [`super::parse`] reads back to the same tree for every canonical expression.
//!
//! Field names are lowercase, `:` stands for equality, lists are joined with `,`, values are
//! quoted only when they must be, `-` is negation, `OR` separates alternatives and parentheses
//! appear only where an `OR` sits inside an `AND` or under a `-`.

use std::fmt::{self, Write as _};

use time::{Date, OffsetDateTime, UtcOffset};

use super::ast::*;
use super::parse::is_plain_word;

impl fmt::Display for FilterExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterExpr::And(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    // `OR` binds looser than juxtaposition.
                    match part {
                        FilterExpr::Or(_) => write!(f, "({part})")?,
                        _ => write!(f, "{part}")?,
                    }
                }
                Ok(())
            }
            FilterExpr::Or(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    // Only a (non-canonical) nested `Or` needs parentheses to keep its shape.
                    match part {
                        FilterExpr::Or(_) => write!(f, "({part})")?,
                        _ => write!(f, "{part}")?,
                    }
                }
                Ok(())
            }
            // `--x` reads back as `Not(Not(x))`.
            FilterExpr::Not(inner) => match **inner {
                FilterExpr::And(_) | FilterExpr::Or(_) => write!(f, "-({inner})"),
                _ => write!(f, "-{inner}"),
            },
            FilterExpr::Term(term) => term.fmt(f),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Status(values) => {
                f.write_str("status:")?;
                write_list(f, values, |f, v| write_value(f, v, false))
            }
            Term::Assignee(values) => {
                f.write_str("assignee:")?;
                write_list(f, values, write_user)
            }
            Term::Reporter(values) => {
                f.write_str("reporter:")?;
                write_list(f, values, write_user)
            }
            Term::Label(values) => {
                f.write_str("label:")?;
                write_list(f, values, write_name)
            }
            Term::Milestone(values) => {
                f.write_str("milestone:")?;
                write_list(f, values, write_name)
            }
            Term::Priority(op, values) => {
                write!(f, "priority{}", op.as_str())?;
                write_list(f, values, |f, p| f.write_str(p.as_str()))
            }
            Term::Date(field, op, value) => {
                write!(f, "{}{}", field.as_str(), op.as_str())?;
                write_date(f, value)
            }
            Term::Parent(value) => {
                f.write_str("parent:")?;
                write_name(f, value)
            }
            Term::Is(value) => write!(f, "is:{}", value.as_str()),
            Term::Has(value) => write!(f, "has:{}", value.as_str()),
            Term::Text(text) => write_value(f, text, false),
        }
    }
}

fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    values: &[T],
    mut write_one: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_one(f, value)?;
    }
    Ok(())
}

/// Writes `s` bare if it reads back as itself, else in quotes. `reserved` also quotes `me` and
/// `none`, which mean something else bare in user and name positions.
fn write_value(f: &mut fmt::Formatter<'_>, s: &str, reserved: bool) -> fmt::Result {
    let special = reserved && (s.eq_ignore_ascii_case("me") || s.eq_ignore_ascii_case("none"));
    if is_plain_word(s) && !special {
        return f.write_str(s);
    }
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn write_user(f: &mut fmt::Formatter<'_>, user: &UserRef) -> fmt::Result {
    match user {
        UserRef::Me => f.write_str("me"),
        UserRef::Nobody => f.write_str("none"),
        UserRef::Named(name) => write_value(f, name, true),
    }
}

fn write_name(f: &mut fmt::Formatter<'_>, name: &NameRef) -> fmt::Result {
    match name {
        NameRef::Nobody => f.write_str("none"),
        NameRef::Named(name) => write_value(f, name, true),
    }
}

fn write_date(f: &mut fmt::Formatter<'_>, value: &DateValue) -> fmt::Result {
    match value {
        DateValue::Nobody => f.write_str("none"),
        DateValue::Day(day) => write_day(f, *day),
        DateValue::Instant(at) => write_instant(f, *at),
        DateValue::RelativeDays(0) => f.write_str("today"),
        DateValue::RelativeDays(n) if *n > 0 => write!(f, "+{n}d"),
        DateValue::RelativeDays(n) => write!(f, "{n}d"),
    }
}

fn write_day(f: &mut fmt::Formatter<'_>, day: Date) -> fmt::Result {
    write!(
        f,
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// RFC 3339 in UTC, with as many fractional digits as the nanoseconds need.
fn write_instant(f: &mut fmt::Formatter<'_>, at: OffsetDateTime) -> fmt::Result {
    let at = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    write_day(f, at.date())?;
    write!(f, "T{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())?;
    let nanos = at.nanosecond();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    f.write_char('Z')
}
