//! The task filter language: parsing, errors, printing and the round trip
//! `parse(&expr.to_string()) == Ok(Some(expr))`.

use proptest::prelude::*;
use tasklane_core::model::Priority;
use tasklane_core::query::*;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

// ---------------------------------------------------------------------------------------------
// Helpers

fn p(input: &str) -> FilterExpr {
    match parse(input) {
        Ok(Some(expr)) => {
            assert!(
                expr.is_canonical(),
                "{input:?} parsed to non-canonical {expr:?}"
            );
            expr
        }
        other => panic!("{input:?} did not parse: {other:?}"),
    }
}

fn err(input: &str) -> ParseError {
    match parse(input) {
        Err(e) => e,
        Ok(v) => panic!("{input:?} should not parse, got {v:?}"),
    }
}

fn t(term: Term) -> FilterExpr {
    FilterExpr::Term(term)
}

fn text(s: &str) -> FilterExpr {
    t(Term::Text(s.to_string()))
}

fn not(e: FilterExpr) -> FilterExpr {
    FilterExpr::Not(Box::new(e))
}

fn and(parts: Vec<FilterExpr>) -> FilterExpr {
    FilterExpr::And(parts)
}

fn or(parts: Vec<FilterExpr>) -> FilterExpr {
    FilterExpr::Or(parts)
}

fn named(s: &str) -> NameRef {
    NameRef::Named(s.to_string())
}

fn user(s: &str) -> UserRef {
    UserRef::Named(s.to_string())
}

fn assert_round_trip(expr: &FilterExpr) {
    assert!(expr.is_canonical(), "not canonical: {expr:?}");
    let printed = expr.to_string();
    assert_eq!(
        parse(&printed),
        Ok(Some(expr.clone())),
        "printed as {printed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn empty_input_is_none() {
    assert_eq!(parse(""), Ok(None));
    assert_eq!(parse("   \t\n "), Ok(None));
}

#[test]
fn the_example_query() {
    let expr = p(
        r#"status:started assignee:me label:bug priority>=high due<2026-12-01 -label:wontfix "login page""#,
    );
    assert_eq!(
        expr,
        and(vec![
            t(Term::Status(vec!["started".into()])),
            t(Term::Assignee(vec![UserRef::Me])),
            t(Term::Label(vec![named("bug")])),
            t(Term::Priority(CmpOp::Ge, vec![Priority::High])),
            t(Term::Date(
                DateField::Due,
                CmpOp::Lt,
                DateValue::Day(date!(2026 - 12 - 01))
            )),
            not(t(Term::Label(vec![named("wontfix")]))),
            text("login page"),
        ])
    );
    let FilterExpr::And(parts) = &expr else {
        unreachable!()
    };
    assert_eq!(parts.len(), 7);
    assert_round_trip(&expr);
}

#[test]
fn field_terms() {
    assert_eq!(
        p(r#"status:todo,"in progress""#),
        t(Term::Status(vec!["todo".into(), "in progress".into()]))
    );
    assert_eq!(
        p(r#"assignee:me,alice@example.com,NONE,"me","none""#),
        t(Term::Assignee(vec![
            UserRef::Me,
            user("alice@example.com"),
            UserRef::Nobody,
            user("me"),
            user("none"),
        ]))
    );
    assert_eq!(
        p("reporter:Me,bob"),
        t(Term::Reporter(vec![UserRef::Me, user("bob")]))
    );
    assert_eq!(
        p(r#"label:none,"none",me"#),
        t(Term::Label(vec![
            NameRef::Nobody,
            named("none"),
            named("me")
        ]))
    );
    assert_eq!(
        p(r#"milestone:"v1.0""#),
        t(Term::Milestone(vec![named("v1.0")]))
    );
    assert_eq!(
        p("priority:high,URGENT"),
        t(Term::Priority(
            CmpOp::Eq,
            vec![Priority::High, Priority::Urgent]
        ))
    );
    assert_eq!(
        p("priority<=Low"),
        t(Term::Priority(CmpOp::Le, vec![Priority::Low]))
    );
    assert_eq!(p("parent:ENG-12"), t(Term::Parent(named("ENG-12"))));
    assert_eq!(p("parent:none"), t(Term::Parent(NameRef::Nobody)));
    assert_eq!(p("is:Open"), t(Term::Is(IsValue::Open)));
    assert_eq!(p("is:subtask"), t(Term::Is(IsValue::Subtask)));
    assert_eq!(p("has:estimate"), t(Term::Has(HasValue::Estimate)));
}

#[test]
fn field_names_ignore_case_and_equals_means_colon() {
    assert_eq!(p("STATUS:x"), p("status:x"));
    assert_eq!(p("Label=bug"), t(Term::Label(vec![named("bug")])));
    assert_eq!(
        p("Due=today"),
        t(Term::Date(
            DateField::Due,
            CmpOp::Eq,
            DateValue::RelativeDays(0)
        ))
    );
}

#[test]
fn date_values() {
    let d = |s: &str| match p(s) {
        FilterExpr::Term(Term::Date(_, _, v)) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(d("due:none"), DateValue::Nobody);
    assert_eq!(d("due<TODAY"), DateValue::RelativeDays(0));
    assert_eq!(d("updated>=-7d"), DateValue::RelativeDays(-7));
    assert_eq!(d("start<+14d"), DateValue::RelativeDays(14));
    assert_eq!(d("due<+100000d"), DateValue::RelativeDays(100_000));
    assert_eq!(d("due<-0d"), DateValue::RelativeDays(0));
    assert_eq!(
        d("completed>2024-02-29"),
        DateValue::Day(date!(2024 - 02 - 29))
    );
    assert_eq!(
        d("created>2026-12-01T09:00:00Z"),
        DateValue::Instant(datetime!(2026-12-01 09:00:00 UTC))
    );
    // Offsets are normalised to UTC.
    let DateValue::Instant(at) = d("created>2026-12-01T09:00:00+01:30") else {
        panic!()
    };
    assert_eq!(at, datetime!(2026-12-01 07:30:00 UTC));
    assert!(at.offset().is_utc());
    // Subseconds survive.
    let sub = d("created>2026-12-01T09:00:00.120Z");
    assert_eq!(
        sub,
        DateValue::Instant(datetime!(2026-12-01 09:00:00.12 UTC))
    );
    assert_eq!(
        p("created>2026-12-01T09:00:00.120Z").to_string(),
        "created>2026-12-01T09:00:00.12Z"
    );
}

#[test]
fn text_terms() {
    assert_eq!(p("login"), text("login"));
    assert_eq!(p(r#""login page""#), text("login page"));
    assert_eq!(p(r#""say \"hi\" \\ bye""#), text(r#"say "hi" \ bye"#));
    assert_eq!(p(r#""status:open""#), text("status:open"));
    // Words that are not `ident op` are text, whatever they contain.
    assert_eq!(p("a-b"), text("a-b"));
    assert_eq!(p("2<3"), text("2<3"));
    assert_eq!(p("日本語"), text("日本語"));
    assert_eq!(p("é:x"), text("é:x"));
    assert_eq!(p("me"), text("me"));
    assert_eq!(p(r#""  ""#), text("  "));
}

#[test]
fn keywords() {
    assert_eq!(p("a OR b"), or(vec![text("a"), text("b")]));
    assert_eq!(p("a AND b"), and(vec![text("a"), text("b")]));
    assert_eq!(p("a b"), and(vec![text("a"), text("b")]));
    assert_eq!(p("NOT a"), not(text("a")));
    // Only uppercase, bare keywords are keywords.
    assert_eq!(p("a or b"), and(vec![text("a"), text("or"), text("b")]));
    assert_eq!(p("a And b"), and(vec![text("a"), text("And"), text("b")]));
    assert_eq!(p("not a"), and(vec![text("not"), text("a")]));
    assert_eq!(
        p(r#"a "OR" b"#),
        and(vec![text("a"), text("OR"), text("b")])
    );
    assert_eq!(p(r#""NOT""#), text("NOT"));
    assert_eq!(p("ORx"), text("ORx"));
    // AND binds tighter than OR.
    assert_eq!(
        p("a AND b OR c d"),
        or(vec![
            and(vec![text("a"), text("b")]),
            and(vec![text("c"), text("d")])
        ])
    );
    assert_eq!(
        p("a OR(b c)"),
        or(vec![text("a"), and(vec![text("b"), text("c")])])
    );
}

#[test]
fn negation() {
    assert_eq!(p("-a"), not(text("a")));
    assert_eq!(p("--a"), not(not(text("a"))));
    assert_eq!(p("NOT -a"), not(not(text("a"))));
    assert_eq!(p("-NOT a"), not(not(text("a"))));
    assert_eq!(p(r#"-"a b""#), not(text("a b")));
    assert_eq!(p("-(a b)"), not(and(vec![text("a"), text("b")])));
    assert_eq!(p("-is:open"), not(t(Term::Is(IsValue::Open))));
    assert_eq!(p(r#""-a""#), text("-a"));
    // Double negation is kept.
    assert_round_trip(&not(not(text("a"))));
    assert_eq!(not(not(text("a"))).to_string(), "--a");
}

#[test]
fn nesting_and_flattening() {
    assert_eq!(p("((a))"), text("a"));
    assert_eq!(p("(a b) c"), and(vec![text("a"), text("b"), text("c")]));
    assert_eq!(
        p("a (b (c d))"),
        and(vec![text("a"), text("b"), text("c"), text("d")])
    );
    assert_eq!(
        p("(a OR b) OR c"),
        or(vec![text("a"), text("b"), text("c")])
    );
    assert_eq!(
        p("a OR (b OR (c))"),
        or(vec![text("a"), text("b"), text("c")])
    );
    assert_eq!(
        p("a (b OR c)"),
        and(vec![text("a"), or(vec![text("b"), text("c")])])
    );
    assert_eq!(
        p("-(a OR b) c"),
        and(vec![not(or(vec![text("a"), text("b")])), text("c")])
    );
    assert_eq!(
        p("label:bug(a OR b)"),
        and(vec![
            t(Term::Label(vec![named("bug")])),
            or(vec![text("a"), text("b")])
        ])
    );
}

#[test]
fn nesting_is_limited_to_64_levels() {
    let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(p(&deep(64)), text("a"));
    let e = err(&deep(65));
    assert_eq!(e.position, 64);
    assert!(e.expected.contains("64"), "{e}");

    assert_eq!(parse(&format!("{}a", "-".repeat(64))).map(|_| ()), Ok(()));
    assert_eq!(err(&format!("{}a", "-".repeat(65))).position, 64);
    assert_eq!(err(&format!("{}a", "NOT ".repeat(65))).position, 256);

    // Far deeper input is an error, not a stack overflow.
    for s in [
        "(".repeat(100_000),
        "-".repeat(100_000),
        "NOT ".repeat(100_000),
        "-(".repeat(50_000),
    ] {
        assert!(parse(&s).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn unknown_field_names_the_known_ones() {
    let e = err("label:a nosuch:x");
    assert_eq!(e.position, 8);
    assert_eq!(e.found, "'nosuch'");
    for field in [
        "status",
        "assignee",
        "milestone",
        "completed",
        "parent",
        "has",
    ] {
        assert!(e.expected.contains(field), "{e}");
    }
    assert_eq!(err("http://example.com").position, 0);
}

#[test]
fn error_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("priority:hgh", 9, "'hgh'"),
        ("priority:high,hgh", 14, "'hgh'"),
        ("status<a", 6, "'<'"),
        ("label>=bug", 5, "'>='"),
        ("(a b", 4, "end of input"),
        ("(a b x:", 5, "'x'"),
        ("a )", 2, "')'"),
        ("()", 1, "')'"),
        ("-", 0, "a lone '-'"),
        ("a - b", 2, "a lone '-'"),
        ("(a -)", 3, "a lone '-'"),
        (r#"x "abc"#, 2, "end of input"),
        (r#""a\nb""#, 2, "'\\n'"),
        (r#""""#, 0, "'\"\"'"),
        (r#""a"b"#, 3, "'b'"),
        (r#"status:"a"b"#, 10, "'b'"),
        ("is:open,closed", 7, "','"),
        ("priority>high,low", 13, "','"),
        ("due:today,+1d", 9, "','"),
        ("is:pending", 3, "'pending'"),
        ("has:color", 4, "'color'"),
        ("due:2026-13-01", 4, "'2026-13-01'"),
        ("due:2026-02-30", 4, "'2026-02-30'"),
        ("due:tomorrow", 4, "'tomorrow'"),
        ("due<+100001d", 4, "'+100001d'"),
        ("due<none", 4, "'none'"),
        ("reporter:me,none", 12, "'none'"),
        ("reporter:none", 9, "'none'"),
        ("label:", 6, "end of input"),
        ("label: bug", 6, "whitespace"),
        ("label:a,", 8, "end of input"),
        ("label:a,,b", 8, "','"),
        ("OR a", 0, "'OR'"),
        ("a OR", 4, "end of input"),
        ("a AND", 5, "end of input"),
        ("a AND OR b", 6, "'OR'"),
        ("NOT", 3, "end of input"),
        ("a OR )", 5, "')'"),
    ];
    for &(input, position, found) in cases {
        let e = err(input);
        assert_eq!(
            (e.position, e.found.as_str()),
            (position, found),
            "{input:?}: {e}"
        );
        assert!(!e.expected.is_empty());
        assert!(input.is_char_boundary(e.position));
    }
}

#[test]
fn error_messages_read_well() {
    let e = err("a OR");
    assert_eq!(
        e.to_string(),
        "at position 4: expected a term after 'OR', found end of input"
    );
    let e = err("priority:hgh");
    assert!(e.expected.contains("high"), "{e}");
    // Long garbage is shortened in `found`.
    let e = err(&format!("priority:{}", "x".repeat(500)));
    assert!(e.found.chars().count() < 50, "{e}");
}

#[test]
fn multibyte_input_does_not_panic() {
    for s in [
        "é",
        "-é",
        "\"é",
        "\"\\é",
        "label:é,",
        "due<é",
        "(é",
        "é)",
        "ÉÉ:x",
        "a\u{3000}b",
        "status:\u{1F600}",
        "\u{1F600}:x",
        "-\u{85}",
        "priority>=\u{00e9}",
    ] {
        let _ = parse(s);
    }
    // U+3000 is whitespace.
    assert_eq!(p("a\u{3000}b"), and(vec![text("a"), text("b")]));
}

// ---------------------------------------------------------------------------------------------
// Printing

#[test]
fn canonical_spelling() {
    let cases = [
        (
            "STATUS=todo,\"in progress\"",
            r#"status:todo,"in progress""#,
        ),
        (
            "assignee:ME,\"me\",none,\"None\"",
            r#"assignee:me,"me",none,"None""#,
        ),
        ("label:none,\"none\",\"a,b\"", r#"label:none,"none","a,b""#),
        ("priority:HIGH,low", "priority:high,low"),
        ("Due=2026-12-01", "due:2026-12-01"),
        ("updated>=-7d", "updated>=-7d"),
        ("due<+0d", "due<today"),
        (
            "created<2026-12-01T10:00:00+01:00",
            "created<2026-12-01T09:00:00Z",
        ),
        ("a AND b", "a b"),
        ("a (b OR c)", "a (b OR c)"),
        ("(a b) OR c", "a b OR c"),
        ("NOT (a b)", "-(a b)"),
        ("NOT NOT a", "--a"),
        (
            r#""OR" "or" "-x" "a:b" "say \"hi\"""#,
            r#""OR" "or" "-x" "a:b" "say \"hi\"""#,
        ),
        (r#""plain""#, "plain"),
        ("parent:\"none\"", "parent:\"none\""),
    ];
    for (input, printed) in cases {
        let expr = p(input);
        assert_eq!(expr.to_string(), printed, "{input:?}");
        assert_round_trip(&expr);
    }
}

#[test]
fn is_canonical_rejects_other_shapes() {
    let a = || text("a");
    assert!(!and(vec![a()]).is_canonical());
    assert!(!or(vec![]).is_canonical());
    assert!(!and(vec![a(), and(vec![a(), a()])]).is_canonical());
    assert!(!or(vec![a(), or(vec![a(), a()])]).is_canonical());
    assert!(!text("").is_canonical());
    assert!(!t(Term::Status(vec![])).is_canonical());
    assert!(!t(Term::Priority(
        CmpOp::Gt,
        vec![Priority::Low, Priority::High]
    ))
    .is_canonical());
    assert!(!t(Term::Reporter(vec![UserRef::Nobody])).is_canonical());
    assert!(!t(Term::Date(DateField::Due, CmpOp::Lt, DateValue::Nobody)).is_canonical());
    assert!(!t(Term::Date(
        DateField::Due,
        CmpOp::Lt,
        DateValue::Instant(datetime!(2026-12-01 09:00 +1))
    ))
    .is_canonical());
    assert!(!t(Term::Date(
        DateField::Due,
        CmpOp::Lt,
        DateValue::RelativeDays(100_001)
    ))
    .is_canonical());

    assert!(and(vec![a(), or(vec![a(), a()])]).is_canonical());
    assert!(not(not(a())).is_canonical());
    assert!(t(Term::Status(vec![String::new()])).is_canonical());

    // Nesting as deep as the parser accepts, and no deeper.
    let mut deep = a();
    for _ in 0..64 {
        deep = not(deep);
    }
    assert_round_trip(&deep);
    assert!(!not(deep).is_canonical());
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Strings for values and text: plain words, strings that need quoting, keywords and reserved
/// words in all cases, and arbitrary unicode.
fn any_string() -> impl Strategy<Value = String> {
    let simple = prop::sample::select(vec![
        "bug",
        "ui",
        "ENG-12",
        "alice@example.com",
        "v1.0",
        "todo",
        "started",
        "x",
        "Ünïcödé",
        "日本語",
        "a'b",
        "a-b",
        "_",
        "1",
        "+7d",
        "today",
    ]);
    let tricky = prop::sample::select(vec![
        "in progress",
        "say \"hi\"",
        "back\\slash",
        "\\\"",
        "a:b",
        "status:open",
        "x<y",
        "a>=b",
        "k=v",
        "-neg",
        "-",
        "--",
        "(",
        ")",
        "(a)",
        "a,b",
        ",",
        "OR",
        "or",
        "AND",
        "and",
        "NOT",
        "Not",
        "me",
        "ME",
        "none",
        "None",
        " ",
        "\t",
        " lead",
        "trail ",
        "a\nb",
        "\u{3000}",
        "\u{85}",
        "é:x",
        "\"",
        "\\",
        "''",
        "😀 emoji",
    ]);
    prop_oneof![
        3 => simple.prop_map(String::from),
        3 => tricky.prop_map(String::from),
        2 => "[a-zA-Z0-9_.@-]{1,10}",
        2 => any::<String>(),
    ]
}

fn non_empty_string() -> impl Strategy<Value = String> {
    any_string().prop_filter("non-empty", |s| !s.is_empty())
}

fn any_user() -> impl Strategy<Value = UserRef> {
    prop_oneof![
        1 => Just(UserRef::Me),
        1 => Just(UserRef::Nobody),
        3 => any_string().prop_map(UserRef::Named),
    ]
}

fn any_name() -> impl Strategy<Value = NameRef> {
    prop_oneof![
        1 => Just(NameRef::Nobody),
        3 => any_string().prop_map(NameRef::Named),
    ]
}

fn any_priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

fn any_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge])
}

fn any_date_value() -> impl Strategy<Value = DateValue> {
    // 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z
    let instant = (
        -62_167_219_200i64..=253_402_300_799i64,
        prop_oneof![
            Just(0u32),
            0u32..1_000_000_000,
            (0u32..1000).prop_map(|ms| ms * 1_000_000)
        ],
    )
        .prop_map(|(secs, nanos)| {
            let at = OffsetDateTime::from_unix_timestamp(secs).expect("in range");
            DateValue::Instant(at.replace_nanosecond(nanos).expect("valid nanos"))
        });
    let day = (0i32..=9999, 1u16..=365).prop_map(|(year, ordinal)| {
        DateValue::Day(Date::from_ordinal_date(year, ordinal).expect("valid day"))
    });
    prop_oneof![
        Just(DateValue::Nobody),
        day,
        instant,
        (-100_000i32..=100_000).prop_map(DateValue::RelativeDays),
        prop::sample::select(vec![0, 1, -1, 100_000, -100_000]).prop_map(DateValue::RelativeDays),
    ]
}

fn any_term() -> impl Strategy<Value = Term> {
    let list = |n| prop::collection::vec(any_string(), 1..n);
    let date_field = prop::sample::select(vec![
        DateField::Due,
        DateField::Start,
        DateField::Created,
        DateField::Updated,
        DateField::Completed,
    ]);
    prop_oneof![
        1 => list(4).prop_map(Term::Status),
        1 => prop::collection::vec(any_user(), 1..4).prop_map(Term::Assignee),
        1 => prop::collection::vec(any_user(), 1..4).prop_map(|users| Term::Reporter(
            users
                .into_iter()
                .map(|u| if u == UserRef::Nobody { UserRef::Me } else { u })
                .collect()
        )),
        1 => prop::collection::vec(any_name(), 1..4).prop_map(Term::Label),
        1 => prop::collection::vec(any_name(), 1..4).prop_map(Term::Milestone),
        1 => prop::collection::vec(any_priority(), 1..4).prop_map(|ps| Term::Priority(CmpOp::Eq, ps)),
        1 => (any_op(), any_priority()).prop_map(|(op, p)| Term::Priority(op, vec![p])),
        1 => (date_field, any_op(), any_date_value()).prop_map(|(field, op, value)| {
            let op = if value == DateValue::Nobody { CmpOp::Eq } else { op };
            Term::Date(field, op, value)
        }),
        1 => any_name().prop_map(Term::Parent),
        1 => prop::sample::select(vec![
            IsValue::Open,
            IsValue::Closed,
            IsValue::Overdue,
            IsValue::Subtask
        ])
        .prop_map(Term::Is),
        1 => prop::sample::select(vec![
            HasValue::Assignee,
            HasValue::Label,
            HasValue::Milestone,
            HasValue::Due,
            HasValue::Start,
            HasValue::Estimate,
            HasValue::Parent,
        ])
        .prop_map(Term::Has),
        3 => non_empty_string().prop_map(Term::Text),
    ]
}

/// `And`/`Or` of `parts`, splicing in children of the same kind so the result is canonical.
fn flat(parts: Vec<FilterExpr>, is_or: bool) -> FilterExpr {
    let mut out = Vec::new();
    for part in parts {
        match part {
            FilterExpr::Or(inner) if is_or => out.extend(inner),
            FilterExpr::And(inner) if !is_or => out.extend(inner),
            other => out.push(other),
        }
    }
    if is_or {
        FilterExpr::Or(out)
    } else {
        FilterExpr::And(out)
    }
}

/// Canonical trees of depth at most 4.
fn canonical_expr() -> impl Strategy<Value = FilterExpr> {
    any_term()
        .prop_map(FilterExpr::Term)
        .prop_recursive(4, 64, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..5).prop_map(|v| flat(v, false)),
                prop::collection::vec(inner.clone(), 2..5).prop_map(|v| flat(v, true)),
                inner.prop_map(|e| FilterExpr::Not(Box::new(e))),
            ]
        })
}

/// Inputs made of the language's own pieces, so that they reach deep into the parser.
fn query_like() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "(",
        ")",
        "-",
        "\"",
        "\\",
        ",",
        ":",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        " ",
        "  ",
        "OR",
        "AND",
        "NOT",
        "status",
        "assignee",
        "reporter",
        "label",
        "milestone",
        "priority",
        "due",
        "start",
        "created",
        "updated",
        "completed",
        "parent",
        "is",
        "has",
        "me",
        "none",
        "today",
        "+7d",
        "-3d",
        "2026-12-01",
        "2026-12-01T09:00:00Z",
        "high",
        "open",
        "due",
        "x",
        "é",
        "日",
        "😀",
        "\u{3000}",
        "\t",
    ]);
    prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_query_like_strings(s in query_like()) {
        match parse(&s) {
            Ok(Some(expr)) => {
                // Whatever parses is canonical and prints back to itself.
                prop_assert!(expr.is_canonical(), "{:?} -> {:?}", s, expr);
                let printed = expr.to_string();
                prop_assert_eq!(parse(&printed), Ok(Some(expr)), "printed as {:?}", printed);
            }
            Ok(None) => prop_assert!(s.trim().is_empty()),
            Err(e) => {
                prop_assert!(e.position <= s.len());
                prop_assert!(s.is_char_boundary(e.position));
            }
        }
    }

    #[test]
    fn canonical_trees_round_trip(expr in canonical_expr()) {
        prop_assert!(expr.is_canonical(), "generator made {:?}", expr);
        let printed = expr.to_string();
        prop_assert_eq!(parse(&printed), Ok(Some(expr)), "printed as {:?}", printed);
    }
}
