//! The filter language's parser: text in, canonical [`FilterExpr`] out.
//!
//! The grammar, loosest binding first:
//!
//! ```text
//! or    := and ("OR" and)*
//! and   := unary (("AND")? unary)*          -- side by side means AND
//! unary := "-" unary | "NOT" unary | "(" or ")" | term
//! term  := field op values | text
//! ```
//!
//! The parser works on byte offsets but only ever moves by whole characters, so it never slices
//! inside a multi-byte character; it nests at most [`MAX_DEPTH`] levels, so it cannot exhaust
//! the stack whatever the input.

use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::ast::*;
use crate::model::Priority;

/// How deeply `-`, `NOT` and parentheses may nest.
pub(super) const MAX_DEPTH: usize = 64;

/// The largest `N` in a relative date `+Nd` / `-Nd`.
pub(super) const MAX_RELATIVE_DAYS: i32 = 100_000;

/// The field names, as listed in error messages.
const FIELD_LIST: &str = "status, assignee, reporter, label, milestone, priority, due, start, \
                          created, updated, completed, parent, is or has";

/// Parses a filter. Empty or whitespace-only input is `Ok(None)`; anything else is either a
/// canonical expression (see [`FilterExpr::is_canonical`]) or an error saying where and why the
/// input was not understood.
pub fn parse(input: &str) -> Result<Option<FilterExpr>, ParseError> {
    let mut parser = Parser { src: input, pos: 0 };
    parser.skip_ws();
    if parser.at_end() {
        return Ok(None);
    }
    let expr = parser.parse_or(0)?;
    parser.skip_ws();
    if !parser.at_end() {
        // Only an unmatched ')' stops the top-level loops early.
        return Err(parser.error_here("a term, 'OR' or end of input"));
    }
    Ok(Some(expr))
}

impl FilterExpr {
    /// Whether the tree is in the form [`parse`] produces, so that printing and parsing it again
    /// gives it back unchanged:
    ///
    /// - an `And` has two or more parts and none of them is an `And`; likewise for `Or`;
    /// - value lists are non-empty, a priority comparison (`<`, `<=`, `>`, `>=`) has exactly one
    ///   value, `reporter` is never `none`, a date is `none` only with `:`;
    /// - `Text` is non-empty;
    /// - days and instants lie in the years 0–9999, instants are in UTC, relative days are
    ///   within ±100000;
    /// - the printed form nests `-`, `NOT` and parentheses at most 64 levels deep.
    ///
    /// `Not(Not(x))` is canonical: double negation is kept as written.
    pub fn is_canonical(&self) -> bool {
        self.canonical_at(0)
    }

    /// `depth` is the nesting level at which the printed form of `self` is parsed.
    fn canonical_at(&self, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self {
            FilterExpr::And(parts) => {
                parts.len() >= 2
                    && parts.iter().all(|part| match part {
                        FilterExpr::And(_) => false,
                        // An `Or` inside an `And` is printed in parentheses.
                        FilterExpr::Or(_) => part.canonical_at(depth + 1),
                        _ => part.canonical_at(depth),
                    })
            }
            FilterExpr::Or(parts) => {
                parts.len() >= 2
                    && parts
                        .iter()
                        .all(|part| !matches!(part, FilterExpr::Or(_)) && part.canonical_at(depth))
            }
            FilterExpr::Not(inner) => {
                let parens = usize::from(matches!(**inner, FilterExpr::And(_) | FilterExpr::Or(_)));
                inner.canonical_at(depth + 1 + parens)
            }
            FilterExpr::Term(term) => term_is_canonical(term),
        }
    }
}

fn term_is_canonical(term: &Term) -> bool {
    match term {
        Term::Status(values) => !values.is_empty(),
        Term::Assignee(values) => !values.is_empty(),
        Term::Reporter(values) => {
            !values.is_empty() && !values.iter().any(|v| matches!(v, UserRef::Nobody))
        }
        Term::Label(values) | Term::Milestone(values) => !values.is_empty(),
        Term::Priority(op, values) => {
            if *op == CmpOp::Eq {
                !values.is_empty()
            } else {
                values.len() == 1
            }
        }
        Term::Date(_, op, value) => match value {
            DateValue::Nobody => *op == CmpOp::Eq,
            DateValue::Day(day) => (0..=9999).contains(&day.year()),
            DateValue::Instant(at) => {
                at.offset() == UtcOffset::UTC && (0..=9999).contains(&at.year())
            }
            DateValue::RelativeDays(n) => n.unsigned_abs() <= MAX_RELATIVE_DAYS.unsigned_abs(),
        },
        Term::Parent(_) | Term::Is(_) | Term::Has(_) => true,
        Term::Text(text) => !text.is_empty(),
    }
}

/// Whether `c` ends a bare word (besides whitespace).
fn is_word_break(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')'
}

/// Whether `c` ends a bare value in a list.
fn is_value_break(c: char) -> bool {
    is_word_break(c) || c == ','
}

/// Whether `s` can be written without quotes wherever a word or value stands: it is non-empty,
/// has no whitespace, quotes, backslashes, parentheses, commas or operator characters, does not
/// start with `-` and is not a keyword in any case.
pub(super) fn is_plain_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.chars().any(|c| {
            c.is_whitespace() || matches!(c, '"' | '\\' | '(' | ')' | ',' | ':' | '<' | '>' | '=')
        })
        && !["OR", "AND", "NOT"]
            .iter()
            .any(|k| s.eq_ignore_ascii_case(k))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Or,
    And,
    Not,
}

impl Keyword {
    fn as_str(self) -> &'static str {
        match self {
            Keyword::Or => "OR",
            Keyword::And => "AND",
            Keyword::Not => "NOT",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Status,
    Assignee,
    Reporter,
    Label,
    Milestone,
    Priority,
    Date(DateField),
    Parent,
    Is,
    Has,
}

impl Field {
    fn from_name(name: &str) -> Option<Field> {
        const FIELDS: [(&str, Field); 14] = [
            ("status", Field::Status),
            ("assignee", Field::Assignee),
            ("reporter", Field::Reporter),
            ("label", Field::Label),
            ("milestone", Field::Milestone),
            ("priority", Field::Priority),
            ("due", Field::Date(DateField::Due)),
            ("start", Field::Date(DateField::Start)),
            ("created", Field::Date(DateField::Created)),
            ("updated", Field::Date(DateField::Updated)),
            ("completed", Field::Date(DateField::Completed)),
            ("parent", Field::Parent),
            ("is", Field::Is),
            ("has", Field::Has),
        ];
        FIELDS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, f)| f)
    }

    fn name(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::Assignee => "assignee",
            Field::Reporter => "reporter",
            Field::Label => "label",
            Field::Milestone => "milestone",
            Field::Priority => "priority",
            Field::Date(d) => d.as_str(),
            Field::Parent => "parent",
            Field::Is => "is",
            Field::Has => "has",
        }
    }

    fn allows_list(self) -> bool {
        matches!(
            self,
            Field::Status
                | Field::Assignee
                | Field::Reporter
                | Field::Label
                | Field::Milestone
                | Field::Priority
        )
    }

    fn allows_comparison(self) -> bool {
        matches!(self, Field::Priority | Field::Date(_))
    }
}

/// One value of a field term as written.
struct Value {
    /// The value, quotes removed and escapes resolved.
    text: String,
    /// Whether it was written in quotes.
    quoted: bool,
    /// Where it starts.
    pos: usize,
    /// Where the comma before it is, if any.
    comma: Option<usize>,
}

impl Value {
    /// `text` if written bare and equal to `word` ignoring ASCII case.
    fn is_bare(&self, word: &str) -> bool {
        !self.quoted && self.text.eq_ignore_ascii_case(word)
    }

    fn found(&self) -> String {
        quote_found(&self.text)
    }
}

/// `'s'`, shortened if long.
fn quote_found(s: &str) -> String {
    const MAX: usize = 40;
    let mut shown: String = s.chars().take(MAX).collect();
    if s.chars().nth(MAX).is_some() {
        shown.push('…');
    }
    format!("'{shown}'")
}

struct Parser<'a> {
    src: &'a str,
    /// Always on a character boundary.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn error(&self, position: usize, expected: impl Into<String>, found: String) -> ParseError {
        ParseError {
            position,
            expected: expected.into(),
            found,
        }
    }

    fn error_at(&self, position: usize, expected: impl Into<String>) -> ParseError {
        self.error(position, expected, self.found_at(position))
    }

    fn error_here(&self, expected: impl Into<String>) -> ParseError {
        self.error_at(self.pos, expected)
    }

    /// Describes what is at `pos`, for error messages.
    fn found_at(&self, pos: usize) -> String {
        let rest = self.src.get(pos..).unwrap_or("");
        match rest.chars().next() {
            None => "end of input".to_string(),
            Some(c) if c.is_whitespace() => "whitespace".to_string(),
            Some(c @ ('(' | ')' | ',')) => format!("'{c}'"),
            Some(_) => {
                let end = rest.find(is_value_break).unwrap_or(rest.len());
                quote_found(&rest[..end])
            }
        }
    }

    /// Whether a bare word may end at `pos`.
    fn is_word_end(&self, pos: usize) -> bool {
        match self.char_at(pos) {
            None => true,
            Some(c) => is_word_break(c),
        }
    }

    /// The keyword standing as a whole bare word at the current position, if any.
    fn keyword(&self) -> Option<Keyword> {
        [Keyword::Or, Keyword::And, Keyword::Not]
            .into_iter()
            .find(|k| {
                self.rest().starts_with(k.as_str()) && self.is_word_end(self.pos + k.as_str().len())
            })
    }

    fn check_depth(&self, depth: usize, at: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            Err(self.error(
                at,
                format!("at most {MAX_DEPTH} levels of nesting of '-', 'NOT' and parentheses"),
                "deeper nesting".to_string(),
            ))
        } else {
            Ok(())
        }
    }

    fn parse_or(&mut self, depth: usize) -> Result<FilterExpr, ParseError> {
        self.parse_or_after(depth, "")
    }

    /// An `and` production; `after` names what came just before, for error messages.
    fn parse_and_after(&mut self, depth: usize, after: &str) -> Result<FilterExpr, ParseError> {
        let mut parts = Vec::new();
        push_flat(&mut parts, self.parse_unary(depth, after)?, false);
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(')') => break,
                Some(_) => {}
            }
            let item = match self.keyword() {
                Some(Keyword::Or) => break,
                Some(Keyword::And) => {
                    self.pos += Keyword::And.as_str().len();
                    self.parse_unary(depth, "'AND'")?
                }
                _ => self.parse_unary(depth, "")?,
            };
            push_flat(&mut parts, item, false);
        }
        Ok(collapse(parts, FilterExpr::And))
    }

    fn parse_unary(&mut self, depth: usize, after: &str) -> Result<FilterExpr, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let expected = if after.is_empty() {
            "a term".to_string()
        } else {
            format!("a term after {after}")
        };
        match self.peek() {
            None | Some(')') => Err(self.error_here(expected)),
            Some('(') => {
                self.check_depth(depth + 1, start)?;
                self.pos += 1;
                let inner = self.parse_or_after(depth + 1, "'('")?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(
                        self.error_here(format!("')' to close the '(' at position {start}"))
                    );
                }
                self.pos += 1;
                Ok(inner)
            }
            Some('-') => {
                let lone = match self.char_at(start + 1) {
                    None => true,
                    Some(c) => c.is_whitespace() || c == ')',
                };
                if lone {
                    return Err(self.error(
                        start,
                        "a term right after '-' (write \"-\" to search for a dash)",
                        "a lone '-'".to_string(),
                    ));
                }
                self.check_depth(depth + 1, start)?;
                self.pos += 1;
                let inner = self.parse_unary(depth + 1, "'-'")?;
                Ok(FilterExpr::Not(Box::new(inner)))
            }
            Some(_) => match self.keyword() {
                Some(Keyword::Not) => {
                    self.check_depth(depth + 1, start)?;
                    self.pos += Keyword::Not.as_str().len();
                    let inner = self.parse_unary(depth + 1, "'NOT'")?;
                    Ok(FilterExpr::Not(Box::new(inner)))
                }
                Some(_) => Err(self.error_here(format!(
                    "{expected} (write \"OR\" or \"AND\" in quotes to search for the word)"
                ))),
                None => self.parse_term().map(FilterExpr::Term),
            },
        }
    }

    /// An `or` production right after `after` (so that an empty group says what it follows).
    fn parse_or_after(&mut self, depth: usize, after: &str) -> Result<FilterExpr, ParseError> {
        let mut parts = Vec::new();
        push_flat(&mut parts, self.parse_and_after(depth, after)?, true);
        loop {
            self.skip_ws();
            if self.keyword() != Some(Keyword::Or) {
                break;
            }
            self.pos += Keyword::Or.as_str().len();
            push_flat(&mut parts, self.parse_and_after(depth, "'OR'")?, true);
        }
        Ok(collapse(parts, FilterExpr::Or))
    }

    /// After a complete term: the next character must end it.
    fn expect_term_end(&self, what: &str) -> Result<(), ParseError> {
        if self.is_word_end(self.pos) {
            Ok(())
        } else {
            Err(self.error_here(format!("whitespace, '(', ')' or end of input after {what}")))
        }
    }

    fn parse_term(&mut self) -> Result<Term, ParseError> {
        let start = self.pos;
        if self.peek() == Some('"') {
            let text = self.parse_quoted()?;
            if text.is_empty() {
                return Err(self.error(
                    start,
                    "non-empty text between the quotes",
                    "'\"\"'".to_string(),
                ));
            }
            self.expect_term_end("the closing '\"'")?;
            return Ok(Term::Text(text));
        }

        // `ident op ...` is a field term.
        let bytes = self.src.as_bytes();
        let mut ident_end = start;
        if bytes[start].is_ascii_alphabetic() || bytes[start] == b'_' {
            while ident_end < bytes.len()
                && (bytes[ident_end].is_ascii_alphanumeric() || bytes[ident_end] == b'_')
            {
                ident_end += 1;
            }
        }
        if ident_end > start {
            if let Some((op, op_len)) = op_at(&bytes[ident_end..]) {
                return self.parse_field_term(start, ident_end, op, op_len);
            }
        }

        let rest = self.rest();
        let end = rest.find(is_word_break).unwrap_or(rest.len());
        self.pos += end;
        Ok(Term::Text(rest[..end].to_string()))
    }

    /// A quoted string at the current position (which holds `"`); resolves `\"` and `\\`.
    fn parse_quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(
                    start,
                    "a closing '\"' for the quote opened here",
                    "end of input".to_string(),
                ));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let escaped = self.char_at(self.pos + 1);
                    match escaped {
                        Some(e @ ('"' | '\\')) => {
                            out.push(e);
                            self.pos += 2;
                        }
                        _ => {
                            let found = match escaped {
                                None => "end of input".to_string(),
                                Some(e) => format!("'\\{e}'"),
                            };
                            return Err(self.error(
                                self.pos,
                                "'\\\"' or '\\\\' (the only escapes in quotes)",
                                found,
                            ));
                        }
                    }
                }
                _ => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn parse_field_term(
        &mut self,
        start: usize,
        ident_end: usize,
        op: CmpOp,
        op_len: usize,
    ) -> Result<Term, ParseError> {
        let name = &self.src[start..ident_end];
        let Some(field) = Field::from_name(name) else {
            return Err(self.error(
                start,
                format!("a field name ({FIELD_LIST}); quote the text to search for it"),
                quote_found(name),
            ));
        };
        let op_text = &self.src[ident_end..ident_end + op_len];
        if op != CmpOp::Eq && !field.allows_comparison() {
            return Err(self.error(
                ident_end,
                format!(
                    "':' after '{}' (only priority and dates compare with <, <=, > or >=)",
                    field.name()
                ),
                format!("'{op_text}'"),
            ));
        }
        self.pos = ident_end + op_len;
        let values = self.parse_values(op_text)?;
        if let Some(second) = values.get(1) {
            if !field.allows_list() || op != CmpOp::Eq {
                let comma = second.comma.unwrap_or(second.pos);
                return Err(self.error(
                    comma,
                    format!("a single value after '{}{}'", field.name(), op_text),
                    "','".to_string(),
                ));
            }
        }
        let term = match field {
            Field::Status => Term::Status(values.into_iter().map(|v| v.text).collect()),
            Field::Assignee => Term::Assignee(values.into_iter().map(user_ref).collect()),
            Field::Reporter => {
                if let Some(none) = values.iter().find(|v| v.is_bare("none")) {
                    return Err(self.error(
                        none.pos,
                        "a user after 'reporter' (every task has a reporter, so 'none' never matches)",
                        none.found(),
                    ));
                }
                Term::Reporter(values.into_iter().map(user_ref).collect())
            }
            Field::Label => Term::Label(values.into_iter().map(name_ref).collect()),
            Field::Milestone => Term::Milestone(values.into_iter().map(name_ref).collect()),
            Field::Priority => {
                let mut priorities = Vec::with_capacity(values.len());
                for v in &values {
                    let p = Priority::from_str(&v.text).map_err(|_| {
                        self.error(
                            v.pos,
                            "a priority: none, low, medium, high or urgent",
                            v.found(),
                        )
                    })?;
                    priorities.push(p);
                }
                Term::Priority(op, priorities)
            }
            Field::Date(date_field) => Term::Date(date_field, op, self.date_value(&values[0], op)?),
            Field::Parent => Term::Parent(name_ref(values.into_iter().next().expect("one value"))),
            Field::Is => {
                let v = &values[0];
                let value = [
                    IsValue::Open,
                    IsValue::Closed,
                    IsValue::Overdue,
                    IsValue::Subtask,
                ]
                .into_iter()
                .find(|x| x.as_str().eq_ignore_ascii_case(&v.text))
                .ok_or_else(|| {
                    self.error(
                        v.pos,
                        "open, closed, overdue or subtask after 'is:'",
                        v.found(),
                    )
                })?;
                Term::Is(value)
            }
            Field::Has => {
                let v = &values[0];
                let value = [
                    HasValue::Assignee,
                    HasValue::Label,
                    HasValue::Milestone,
                    HasValue::Due,
                    HasValue::Start,
                    HasValue::Estimate,
                    HasValue::Parent,
                ]
                .into_iter()
                .find(|x| x.as_str().eq_ignore_ascii_case(&v.text))
                .ok_or_else(|| {
                    self.error(
                        v.pos,
                        "assignee, label, milestone, due, start, estimate or parent after 'has:'",
                        v.found(),
                    )
                })?;
                Term::Has(value)
            }
        };
        Ok(term)
    }

    /// A comma-separated list of one or more values, then the end of the term.
    fn parse_values(&mut self, op_text: &str) -> Result<Vec<Value>, ParseError> {
        let mut values = Vec::new();
        let mut comma = None;
        loop {
            let pos = self.pos;
            let (text, quoted) = if self.peek() == Some('"') {
                let text = self.parse_quoted()?;
                (text, true)
            } else {
                let rest = self.rest();
                let end = rest.find(is_value_break).unwrap_or(rest.len());
                if end == 0 {
                    let after = if comma.is_some() { "," } else { op_text };
                    return Err(self.error_here(format!(
                        "a value right after '{after}' (no spaces around ':' and ',')"
                    )));
                }
                self.pos += end;
                (rest[..end].to_string(), false)
            };
            values.push(Value {
                text,
                quoted,
                pos,
                comma,
            });
            if self.peek() == Some(',') {
                comma = Some(self.pos);
                self.pos += 1;
            } else {
                break;
            }
        }
        if !self.is_word_end(self.pos) {
            return Err(self.error_here("',', whitespace, '(', ')' or end of input after a value"));
        }
        Ok(values)
    }

    fn date_value(&self, v: &Value, op: CmpOp) -> Result<DateValue, ParseError> {
        let text = v.text.as_str();
        if text.eq_ignore_ascii_case("none") {
            if op == CmpOp::Eq {
                return Ok(DateValue::Nobody);
            }
            return Err(self.error(v.pos, "a date ('none' only goes with ':')", v.found()));
        }
        if text.eq_ignore_ascii_case("today") {
            return Ok(DateValue::RelativeDays(0));
        }
        let bytes = text.as_bytes();
        // `+Nd` / `-Nd`
        if bytes.len() >= 3
            && matches!(bytes[0], b'+' | b'-')
            && matches!(bytes[bytes.len() - 1], b'd' | b'D')
            && bytes[1..bytes.len() - 1].iter().all(u8::is_ascii_digit)
        {
            let digits = &text[1..text.len() - 1];
            let n = digits
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_RELATIVE_DAYS.unsigned_abs())
                .ok_or_else(|| {
                    self.error(
                        v.pos,
                        format!("a relative date of at most {MAX_RELATIVE_DAYS} days"),
                        v.found(),
                    )
                })?;
            let n = n as i32; // <= 100000
            return Ok(DateValue::RelativeDays(if bytes[0] == b'-' {
                -n
            } else {
                n
            }));
        }
        // YYYY-MM-DD
        if bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && [0, 1, 2, 3, 5, 6, 8, 9]
                .iter()
                .all(|&i| bytes[i].is_ascii_digit())
        {
            let num = |r: std::ops::Range<usize>| -> u32 {
                bytes[r]
                    .iter()
                    .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
            };
            let (year, month, day) = (num(0..4), num(5..7), num(8..10));
            return u8::try_from(month)
                .ok()
                .and_then(|m| Month::try_from(m).ok())
                .and_then(|m| Date::from_calendar_date(year as i32, m, day as u8).ok())
                .map(DateValue::Day)
                .ok_or_else(|| self.error(v.pos, "a valid calendar date", v.found()));
        }
        if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
            return at
                .checked_to_offset(UtcOffset::UTC)
                .filter(|utc| (0..=9999).contains(&utc.year()))
                .map(DateValue::Instant)
                .ok_or_else(|| {
                    self.error(
                        v.pos,
                        "a time between the years 0 and 9999 in UTC",
                        v.found(),
                    )
                });
        }
        Err(self.error(
            v.pos,
            "a date: YYYY-MM-DD, an RFC 3339 time, today, +Nd, -Nd or none",
            v.found(),
        ))
    }
}

/// The operator at the start of `bytes`, with its length.
fn op_at(bytes: &[u8]) -> Option<(CmpOp, usize)> {
    match bytes {
        [b'<', b'=', ..] => Some((CmpOp::Le, 2)),
        [b'>', b'=', ..] => Some((CmpOp::Ge, 2)),
        [b'<', ..] => Some((CmpOp::Lt, 1)),
        [b'>', ..] => Some((CmpOp::Gt, 1)),
        [b':' | b'=', ..] => Some((CmpOp::Eq, 1)),
        _ => None,
    }
}

fn user_ref(v: Value) -> UserRef {
    if v.is_bare("me") {
        UserRef::Me
    } else if v.is_bare("none") {
        UserRef::Nobody
    } else {
        UserRef::Named(v.text)
    }
}

fn name_ref(v: Value) -> NameRef {
    if v.is_bare("none") {
        NameRef::Nobody
    } else {
        NameRef::Named(v.text)
    }
}

/// Appends `item` to `parts`, splicing in its parts if it is of the same kind (`Or` when `or`,
/// else `And`), so that the result is flat.
fn push_flat(parts: &mut Vec<FilterExpr>, item: FilterExpr, or: bool) {
    match item {
        FilterExpr::Or(inner) if or => parts.extend(inner),
        FilterExpr::And(inner) if !or => parts.extend(inner),
        other => parts.push(other),
    }
}

/// One part stands for itself; more become `make(parts)`.
fn collapse(mut parts: Vec<FilterExpr>, make: fn(Vec<FilterExpr>) -> FilterExpr) -> FilterExpr {
    if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        make(parts)
    }
}
