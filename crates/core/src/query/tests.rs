//! The query semantics, table-driven over a small multilingual replica.

use super::*;
use crate::model::{AccountKind, Comment, NewAccount, State, TaskRecord};
use crate::replica::{Replica, accounts, tasks};

fn record(key: &str, title: &str, state: State) -> TaskRecord {
    TaskRecord::new(key, title, state)
}

/// The fixture every case runs against.
fn replica() -> Replica {
    let mut r = Replica::open_in_memory().unwrap();
    let now = crate::time::now();
    r.write(|tx| {
        let work = accounts::add(
            tx,
            &NewAccount {
                name: "work".into(),
                kind: AccountKind::Gever,
                base_url: "https://gever.example".into(),
                user_name: "alice".into(),
                settings: Default::default(),
            },
        )?;
        let field = accounts::add(
            tx,
            &NewAccount {
                name: "field".into(),
                kind: AccountKind::Omflow,
                base_url: "https://omflow.example".into(),
                user_name: "alice".into(),
                settings: Default::default(),
            },
        )?;
        let mut t1 = record("t1", "審核通過 的採購單", State::Open);
        t1.assignee = Some("alice".into());
        t1.group = Some("finance".into());
        t1.deadline = Some("2026-11-30".parse().unwrap());
        t1.priority = Some(2);
        t1.kind = Some("approval".into());
        t1.modified = Some("2026-11-20T08:00:00Z".parse().unwrap());
        t1.comments = Some(vec![Comment {
            remote_id: "c1".into(),
            author: Some("bob".into()),
            text: "please check 報告書".into(),
            created: None,
            modified: None,
        }]);
        let mut t2 = record("t2", "作業者実行 見積確認", State::InProgress);
        t2.assignee = Some("bob".into());
        t2.group = Some("lane1".into());
        t2.deadline = Some("2026-12-01T10:00:00+09:00".parse().unwrap());
        t2.priority = Some(1);
        t2.kind = Some("direct-execution".into());
        let mut t3 = record("t3", "Quarterly report review", State::Resolved);
        t3.assignee = Some("alice".into());
        t3.description = "Bitte Änderung prüfen".into();
        t3.deadline = Some("2026-11-15".parse().unwrap());
        t3.priority = Some(3);
        let mut t4 = record("t4", "Vertrag Genehmigung", State::Closed);
        t4.group = Some("finance".into());
        let mut t5 = record("t5", "審核", State::Open);
        t5.assignee = Some("carol".into());
        t5.kind = Some("information".into());
        t5.deadline = Some("2026-11-30".parse().unwrap());
        t5.modified = Some("2026-11-21T08:00:00Z".parse().unwrap());
        let mut t6 = record("t6", "Contract renewal", State::Cancelled);
        t6.assignee = Some("bob".into());
        t6.description = "審核中の案件".into();
        t6.process = Some("Contract renewal".into());
        let t7 = record("t7", "OK", State::Planned);
        tasks::upsert(tx, work.id, &[t1, t2, t3, t4, t5, t6, t7], now)?;
        let mut t8 = record("t8", "請款單 100% done_now", State::Open);
        t8.assignee = Some("alice".into());
        tasks::upsert(tx, field.id, &[t8], now)?;
        Ok(())
    })
    .unwrap();
    r
}

fn keys(r: &Replica, q: &Query) -> Vec<String> {
    r.query(q)
        .unwrap_or_else(|e| panic!("{q:?}: {e}"))
        .into_iter()
        .map(|row| row.key)
        .collect()
}

fn q() -> Query {
    Query::default()
}

fn cond(text: &str) -> Query {
    Query {
        conditions: vec![text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))],
        ..Query::default()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn conditions_search_order_and_paging_select_the_right_tasks() {
    // Once while every task waits for the search index (searches scan the
    // text), once after catch-up (searches use the index): same answers.
    let mut r = replica();
    check_cases(&r);
    assert_eq!(r.catch_up_search().unwrap(), 8);
    assert_eq!(crate::replica::search::backlog(r.conn()).unwrap(), 0);
    check_cases(&r);
}

fn check_cases(r: &Replica) {
    // (what the case checks, the query, the expected keys; `None` order
    // means compare as a set)
    let by_key = |text: &str| cond(text).order_by(Column::Key, false);
    let search = |text: &str| q().search(text).order_by(Column::Key, false);
    let cases: Vec<(&str, Query, Vec<&str>)> = vec![
        (
            "equality on the effective state",
            by_key("state = open"),
            vec!["t1", "t5", "t8"],
        ),
        (
            "inequality",
            by_key("state != open"),
            vec!["t2", "t3", "t4", "t6", "t7"],
        ),
        (
            "in a list",
            by_key("state in (open, planned)"),
            vec!["t1", "t5", "t7", "t8"],
        ),
        (
            "contains in a column, CJK",
            by_key("title contains 審核"),
            vec!["t1", "t5"],
        ),
        (
            "contains ignores case",
            by_key("title contains QUARTERLY"),
            vec!["t3"],
        ),
        (
            "contains treats % and _ as text",
            by_key("title contains 100% done_"),
            vec!["t8"],
        ),
        (
            "two-character Chinese search",
            search("審核"),
            vec!["t1", "t5", "t6"],
        ),
        (
            "four-character Chinese search",
            search("審核通過"),
            vec!["t1"],
        ),
        ("two-character Japanese search", search("作業"), vec!["t2"]),
        (
            "five-character Japanese search",
            search("作業者実行"),
            vec!["t2"],
        ),
        ("single CJK character", search("審"), vec!["t1", "t5", "t6"]),
        ("search reaches comments", search("報告書"), vec!["t1"]),
        (
            "search folds German capitals",
            search("ÄNDERUNG"),
            vec!["t3"],
        ),
        ("Latin word", search("review"), vec!["t3"]),
        (
            "two-character Latin search ignores case",
            search("ok"),
            vec!["t7"],
        ),
        ("every term must occur", search("審核 採購"), vec!["t1"]),
        ("an absent word finds nothing", search("Zebrafink"), vec![]),
        ("an absent short term finds nothing", search("彁彁"), vec![]),
        (
            "a blank search is no filter",
            search("   ").page(0, 3),
            vec!["t1", "t2", "t3"],
        ),
        (
            "a date is the whole day",
            by_key("deadline = 2026-11-30"),
            vec!["t1", "t5"],
        ),
        ("before a day", by_key("deadline < 2026-11-30"), vec!["t3"]),
        (
            "after a day means from the next day",
            by_key("deadline > 2026-11-30"),
            vec!["t2"],
        ),
        (
            "up to and including a day",
            by_key("deadline <= 2026-11-30"),
            vec!["t1", "t3", "t5"],
        ),
        (
            "instants compare with dates",
            by_key("deadline >= 2026-12-01"),
            vec!["t2"],
        ),
        (
            "an exact instant",
            by_key("deadline = 2026-12-01T01:00:00Z"),
            vec!["t2"],
        ),
        ("numbers", by_key("priority >= 2"), vec!["t1", "t3"]),
        (
            "!= keeps empty fields",
            by_key("assignee != alice"),
            vec!["t2", "t4", "t5", "t6", "t7"],
        ),
        (
            "= never matches an empty field",
            by_key("group = finance"),
            vec!["t1", "t4"],
        ),
        ("the account column", by_key("account = field"), vec!["t8"]),
        (
            "kind in a list",
            by_key("kind in (approval, information)"),
            vec!["t1", "t5"],
        ),
        (
            "quoted values",
            by_key("title = \"Vertrag Genehmigung\""),
            vec!["t4"],
        ),
        (
            "exclusions keep rows whose field is empty",
            Query {
                exclusions: vec!["assignee = alice".parse().unwrap()],
                ..q()
            }
            .order_by(Column::Key, false),
            vec!["t2", "t4", "t5", "t6", "t7"],
        ),
        (
            "each exclusion removes its rows",
            Query {
                exclusions: vec![
                    "state in (closed, cancelled)".parse().unwrap(),
                    "account = field".parse().unwrap(),
                ],
                ..q()
            }
            .order_by(Column::Key, false),
            vec!["t1", "t2", "t3", "t5", "t7"],
        ),
        (
            "descending priority puts empty priorities last",
            q().order_by(Column::Priority, true),
            vec!["t3", "t1", "t2", "t4", "t5", "t6", "t7", "t8"],
        ),
        (
            "default order: deadline, then latest change",
            q(),
            vec!["t3", "t5", "t1", "t2", "t4", "t6", "t7", "t8"],
        ),
        (
            "several sort keys",
            q().order_by(Column::Assignee, false)
                .order_by(Column::Title, true),
            vec!["t8", "t1", "t3", "t2", "t6", "t5", "t4", "t7"],
        ),
        (
            "paging",
            q().order_by(Column::Key, false).page(2, 3),
            vec!["t3", "t4", "t5"],
        ),
        ("paging past the end", q().page(50, 10), vec![]),
    ];
    for (what, query, expected) in cases {
        let got = keys(r, &query);
        assert_eq!(got, expected, "{what}: {query:?}");
        let unpaged = Query {
            start: 0,
            count: MAX_COUNT,
            ..query.clone()
        };
        assert_eq!(
            r.count(&query).unwrap(),
            r.query(&unpaged).unwrap().len() as u64,
            "{what}: count agrees with the rows"
        );
    }
}

#[test]
fn bad_queries_are_errors_that_name_the_bad_part() {
    let cases: Vec<(&str, &str)> = vec![
        ("titel = x", "unknown column \"titel\""),
        ("title ~ x", "expected an operator"),
        ("title", "expected an operator"),
        ("title =", "missing value"),
        ("= x", "expected a column name"),
        ("title = 'open", "unterminated quote"),
        ("state in (open,, closed)", "empty item"),
        ("state in (open", "missing ')'"),
    ];
    for (text, message) in cases {
        let err = text.parse::<Condition>().unwrap_err();
        assert!(
            err.part.contains(text.trim()),
            "{text}: part {:?}",
            err.part
        );
        assert!(err.message.contains(message), "{text}: {:?}", err.message);
    }

    let r = replica();
    let runtime: Vec<(&str, &str)> = vec![
        ("state = opne", "unknown state \"opne\""),
        ("state > open", "cannot be used with \"state\""),
        ("deadline contains 2026", "cannot be used with \"deadline\""),
        ("deadline < soon", "is not a date"),
        ("deadline < today+x", "today+N"),
        ("priority = high", "not a whole number"),
        ("pending = maybe", "not true or false"),
    ];
    for (text, message) in runtime {
        let err = r.query(&cond(text)).unwrap_err();
        let crate::Error::Query(err) = err else {
            panic!("{text}: not a query error: {err}");
        };
        assert!(err.part.contains(text), "{text}: part {:?}", err.part);
        assert!(err.message.contains(message), "{text}: {:?}", err.message);
    }
    for order in ["-descriptionx", "description", "pending"] {
        assert!(order.parse::<OrderKey>().is_err(), "{order}");
    }
    let too_many = q().page(0, MAX_COUNT + 1);
    assert!(r.query(&too_many).is_err());
    let list_for_eq = Query {
        conditions: vec![Condition {
            column: Column::State,
            op: Op::Eq,
            value: vec!["open", "closed"].into(),
        }],
        ..q()
    };
    assert!(
        r.query(&list_for_eq)
            .unwrap_err()
            .to_string()
            .contains("not a list")
    );
}

#[test]
fn json_queries_reject_unknown_columns_operators_and_fields() {
    let ok: Query = serde_json::from_str(
        r#"{"conditions":[{"column":"state","op":"in","value":["open","planned"]}],
            "order":["-deadline","title"],"count":10,"search":"審核"}"#,
    )
    .unwrap();
    assert_eq!(ok.order[0].to_string(), "-deadline");
    for bad in [
        r#"{"conditions":[{"column":"titel","op":"=","value":"x"}]}"#,
        r#"{"conditions":[{"column":"title","op":"~","value":"x"}]}"#,
        r#"{"order":["-nope"]}"#,
        r#"{"limit":5}"#,
    ] {
        assert!(serde_json::from_str::<Query>(bad).is_err(), "{bad}");
    }
}

#[test]
fn user_text_never_changes_the_sql() {
    let mut r = replica();
    r.catch_up_search().unwrap();
    for text in [
        "'; DROP TABLE tasks; --",
        "\" OR \"a",
        "x\") OR 1=1 --",
        "審核\" OR \"",
        "NEAR(a b)",
        "*",
        "%%%",
    ] {
        assert!(keys(&r, &q().search(text)).is_empty(), "search {text:?}");
        let c = Query {
            conditions: vec![Condition {
                column: Column::Title,
                op: Op::Contains,
                value: text.into(),
            }],
            ..q()
        };
        assert!(keys(&r, &c).is_empty(), "contains {text:?}");
    }
    assert_eq!(r.count(&q()).unwrap(), 8, "the tasks are all still there");
}

#[test]
fn relative_dates_are_understood() {
    let r = replica();
    // All fixture deadlines lie in 2026; relative to the real today these
    // must agree with the absolute form of the same day.
    let today = jiff::Zoned::now().date();
    let later = today.checked_add(jiff::ToSpan::days(3)).unwrap();
    let absolute = format!("deadline < {}", later.strftime("%Y-%m-%d"));
    assert_eq!(
        keys(&r, &cond("deadline < today+3").order_by(Column::Key, false)),
        keys(&r, &cond(&absolute).order_by(Column::Key, false))
    );
    assert!(r.query(&cond("modified < now")).is_ok());
}

#[test]
fn gone_tasks_are_hidden_unless_asked_for() {
    let mut r = replica();
    r.write(|tx| {
        tx.execute("UPDATE tasks SET gone = 1 WHERE remote_key = 't4'", [])?;
        Ok(())
    })
    .unwrap();
    assert!(!keys(&r, &q()).contains(&"t4".to_string()));
    assert_eq!(keys(&r, &cond("gone = true")), vec!["t4"]);
    assert_eq!(sorted(keys(&r, &cond("gone = false"))).len(), 7);
}
