//! Hitachi CSCIW `Filter` and `Sort` over real HTTP (NOTES §6): what the
//! grammar accepts selects and orders exactly the items it says, on the
//! list extension and on allocate; anything else — unknown properties,
//! SQL, functions, unbalanced parentheses — is answered 400 in the
//! dialect's error shape and leaves the database as it was.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod hitachi_support;

use common::TestServer;
use hitachi_support::{Csciw, Seed, lane_engine, send};
use reqwest::Method;
use serde_json::json;
use tasklane_dialects::hitachi::wire::WorkItem;
use tasklane_engine::Engine;
use tasklane_engine::server::ServerConfig;

/// Names, priorities, creation instants (UTC) and deadlines of the items.
const ITEMS: [(&str, i64, &str, &str); 7] = [
    ("alpha", 0, "2026-11-20T01:00:00Z", "2026-12-01"),
    ("beta", 1, "2026-11-21T01:00:00Z", "2026-12-02"),
    ("gamma", 2, "2026-11-22T01:00:00Z", "2026-12-03"),
    ("O'Brien", 3, "2026-11-23T01:00:00Z", "2026-12-04"),
    ("日本語の作業", 4, "2026-11-24T01:00:00Z", "2026-12-05"),
    ("delta", 5, "2026-11-25T01:00:00Z", "2026-12-06"),
    ("alphabet", 2, "2026-11-26T01:00:00Z", "2026-12-07"),
];

/// Lane1 with tanaka and the items above; tanaka performs `beta`.
fn server() -> TestServer {
    let seeds: Vec<Seed<'_>> = ITEMS
        .iter()
        .map(|(name, priority, ..)| Seed {
            name,
            priority: *priority,
        })
        .collect();
    let (engine, keys) = lane_engine("Lane1", &["tanaka".to_string()], "案件", &seeds);
    engine
        .db()
        .write(|tx| {
            for ((_, _, created, deadline), (_, id)) in ITEMS.iter().zip(&keys) {
                tx.execute(
                    "UPDATE tasks SET created = ?2, deadline = ?3 WHERE id = ?1",
                    rusqlite::params![id, created, deadline],
                )?;
            }
            Ok(())
        })
        .unwrap();
    TestServer::start(engine, ServerConfig::default())
}

async fn started() -> (TestServer, Csciw, Vec<WorkItem>) {
    let s = server();
    let c = Csciw::new(&s.url);
    let taken = c
        .allocate(
            "tanaka",
            json!({"Participant": "tanaka", "Filter": "Name = 'beta'", "FetchCount": 1}),
        )
        .await;
    assert_eq!(taken.item().name, "beta");
    let all = c.all("admin").await;
    assert_eq!(all.len(), ITEMS.len());
    (s, c, all)
}

fn names<'a>(items: impl IntoIterator<Item = &'a WorkItem>) -> Vec<&'a str> {
    items.into_iter().map(|i| i.name.as_str()).collect()
}

fn priority(i: &WorkItem) -> i64 {
    i.priority.unwrap()
}

#[tokio::test]
async fn filters_select_exactly_the_items_their_conditions_describe() {
    let (_s, c, all) = started().await;
    let gamma = all.iter().find(|i| i.name == "gamma").unwrap().id;
    type Wanted = Box<dyn Fn(&WorkItem) -> bool>;
    let cases: Vec<(String, Wanted)> = vec![
        ("Priority >= 3".into(), Box::new(|i| priority(i) >= 3)),
        (
            "Priority > 2 AND Priority <= 4".into(),
            Box::new(|i| (3..=4).contains(&priority(i))),
        ),
        ("Priority <> 2".into(), Box::new(|i| priority(i) != 2)),
        ("Priority != 2".into(), Box::new(|i| priority(i) != 2)),
        ("Priority < 1".into(), Box::new(|i| priority(i) < 1)),
        ("Priority > -1".into(), Box::new(|_| true)),
        // Numbers written as strings, as the dialect writes them.
        ("Priority = '2'".into(), Box::new(|i| priority(i) == 2)),
        (format!("ID = {gamma}"), Box::new(move |i| i.id == gamma)),
        (format!("ID = '{gamma}'"), Box::new(move |i| i.id == gamma)),
        (
            format!("ID IN (1, '{gamma}', -3)"),
            Box::new(move |i| i.id == gamma || i.id == 1),
        ),
        (
            "Priority NOT IN (0, 5)".into(),
            Box::new(|i| ![0, 5].contains(&priority(i))),
        ),
        (
            "Name LIKE 'alpha%'".into(),
            Box::new(|i| i.name.starts_with("alpha")),
        ),
        (
            "Name NOT LIKE 'alpha%'".into(),
            Box::new(|i| !i.name.starts_with("alpha")),
        ),
        ("Name LIKE '%A'".into(), Box::new(|i| i.name.ends_with('a'))),
        ("Name LIKE '_eta'".into(), Box::new(|i| i.name == "beta")),
        (
            "Name = 'O''Brien'".into(),
            Box::new(|i| i.name == "O'Brien"),
        ),
        (
            "Name = '日本語の作業'".into(),
            Box::new(|i| i.name == "日本語の作業"),
        ),
        (
            "Name LIKE '日本%'".into(),
            Box::new(|i| i.name == "日本語の作業"),
        ),
        (
            "Participant = 'tanaka' OR Priority = 0".into(),
            Box::new(|i| i.name == "beta" || i.name == "alpha"),
        ),
        ("StateCode = 'j'".into(), Box::new(|i| i.name != "beta")),
        ("StateCode = 'f'".into(), Box::new(|i| i.name == "beta")),
        (
            "StartDate IS NOT NULL".into(),
            Box::new(|i| i.name == "beta"),
        ),
        ("StartDate IS NULL".into(), Box::new(|i| i.name != "beta")),
        ("ClosedDate IS NULL".into(), Box::new(|_| true)),
        ("NOT (Priority < 3)".into(), Box::new(|i| priority(i) >= 3)),
        (
            "NOT NOT Priority = 3".into(),
            Box::new(|i| priority(i) == 3),
        ),
        // AND binds tighter than OR; parentheses change that.
        (
            "Priority = 2 OR Priority = 1 AND Name = 'nothing'".into(),
            Box::new(|i| priority(i) == 2),
        ),
        (
            "(Priority = 2 OR Priority = 1) AND Name = 'nothing'".into(),
            Box::new(|_| false),
        ),
        (
            "((Priority = 1 OR Priority = 2)) AND (Name LIKE '%a')".into(),
            Box::new(|i| i.name == "beta" || i.name == "gamma"),
        ),
        // Keywords and property names in any case.
        (
            "priority >= 3 and not name like 'delta'".into(),
            Box::new(|i| priority(i) >= 3 && i.name != "delta"),
        ),
        (
            "ProcessInstanceName = '案件' AND WorkTypeCode = '0'".into(),
            Box::new(|_| true),
        ),
        // Instants as the dialect writes them (+09:00) compare as instants.
        (
            "CreationDate >= '2026-11-24T10:00:00+09:00'".into(),
            Box::new(|i| priority(i) >= 4 || i.name == "alphabet"),
        ),
        (
            "CreationDate < '2026-11-21T01:00:00Z'".into(),
            Box::new(|i| i.name == "alpha"),
        ),
        (
            "CreationDate = '2026-11-22T10:00:00+09:00'".into(),
            Box::new(|i| i.name == "gamma"),
        ),
        // Deadlines are dates; the written end-of-day instant names the date.
        (
            "Deadline = '2026-12-03T23:59:59+09:00'".into(),
            Box::new(|i| i.name == "gamma"),
        ),
        (
            "Deadline < '2026-12-03'".into(),
            Box::new(|i| i.name == "alpha" || i.name == "beta"),
        ),
    ];
    for (filter, wanted) in cases {
        let expected = names(all.iter().filter(|i| wanted(i)));
        let listed = c
            .list("admin", &[("filter", filter.as_str()), ("maxcount", "-1")])
            .await
            .items();
        assert_eq!(names(&listed), expected, "{filter}");
    }
}

#[tokio::test]
async fn what_the_server_writes_can_be_filtered_for_verbatim() {
    let (_s, c, all) = started().await;
    for item in &all {
        let created = item.creation_date.as_ref().unwrap().as_str();
        let deadline = item.deadline.as_ref().unwrap().as_str();
        let filter = format!(
            "CreationDate = '{created}' AND Deadline = '{deadline}' AND ID = '{}'",
            item.id
        );
        let listed = c
            .list("admin", &[("filter", filter.as_str())])
            .await
            .items();
        assert_eq!(listed, std::slice::from_ref(item), "{filter}");
    }
    let beta = all.iter().find(|i| i.name == "beta").unwrap();
    let started = beta.start_date.as_ref().unwrap().as_str();
    let filter = format!("StartDate = '{started}'");
    assert_eq!(
        names(
            &c.list("admin", &[("filter", filter.as_str())])
                .await
                .items()
        ),
        ["beta"]
    );
}

#[tokio::test]
async fn sorts_order_by_their_properties_and_then_by_id() {
    let (_s, c, all) = started().await;
    type Order = fn(&WorkItem, &WorkItem) -> std::cmp::Ordering;
    let cases: [(&str, Order); 6] = [
        ("ID", |a, b| a.id.cmp(&b.id)),
        ("ID DESC", |a, b| b.id.cmp(&a.id)),
        ("Priority DESC", |a, b| {
            priority(b).cmp(&priority(a)).then(a.id.cmp(&b.id))
        }),
        ("priority asc", |a, b| {
            priority(a).cmp(&priority(b)).then(a.id.cmp(&b.id))
        }),
        ("Name", |a, b| a.name.cmp(&b.name)),
        ("Priority, Name DESC", |a, b| {
            priority(a).cmp(&priority(b)).then(b.name.cmp(&a.name))
        }),
    ];
    for (sort, order) in cases {
        let mut expected = all.clone();
        expected.sort_by(order);
        let listed = c.list("tanaka", &[("sort", sort)]).await.items();
        assert_eq!(names(&listed), names(&expected), "{sort}");
    }
    let taken = c
        .allocate(
            "tanaka",
            json!({"Participant": "tanaka", "Sort": "Name DESC", "FetchCount": "-1"}),
        )
        .await;
    assert_eq!(taken.item().name, "日本語の作業", "the first by Name DESC");
}

#[tokio::test]
async fn the_manuals_url_encoded_filter_is_understood() {
    let (s, c, all) = started().await;
    // As in the manual: `?filter=ID%3E0`, and `%3D` for '='.
    for query in ["filter=ID%3E0", "filter=Priority%3D2&sort=ID%20DESC"] {
        let r = send(
            c.http
                .get(format!("{}/csciwws/v1/work-item?{query}", s.url))
                .basic_auth("admin", Some("admin"))
                .header("accept", "application/json"),
        )
        .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        let expected: Vec<&str> = if query.contains("Priority") {
            vec!["alphabet", "gamma"]
        } else {
            names(&all)
        };
        assert_eq!(names(&r.items()), expected, "{query}");
    }
}

/// Filters outside the grammar: injections, functions, unknown or internal
/// columns, unbalanced parentheses, other quoting.
const BAD_FILTERS: &[&str] = &[
    "ID=1; DROP TABLE tasks",
    "Participant = 'x'; DELETE FROM users",
    "Name = 'x' -- the rest is a comment",
    "Name = 'x' /* comment */",
    "Priority = 1 UNION SELECT password_hash FROM users",
    "1 = 1",
    "'a' = 'a'",
    "Name = 'x' OR 'a' = 'a'",
    "Password = 'demo'",
    "password_hash LIKE '%'",
    "user_id = 'tanaka'",
    "lane = 'Lane1'",
    "issuer = 'admin'",
    "Owner = 'x'",
    "(Priority = 1",
    "Priority = 1)",
    "((Priority = 1) OR (Priority = 2)",
    ")(",
    "lower(Name) = 'alpha'",
    "length(Name) > 1",
    "abs(Priority) = 1",
    "Name = lower('ALPHA')",
    "StateCode = (SELECT 'j')",
    "ID IN (SELECT ID FROM work_items)",
    "Name = \"alpha\"",
    "\"Name\" = 'alpha'",
    "Name = 'unterminated",
    "Name LIKE Name",
    "Name = 'x' COLLATE NOCASE",
    "Priority = 0x10",
    "Priority = 1e3",
    "Priority == 1",
    "Priority = ",
    "AND Priority = 1",
    "NOT",
    "Name = ?",
    "Name = :x",
    "Priority BETWEEN 1 AND 3",
];

/// Sorts outside the grammar.
const BAD_SORTS: &[&str] = &[
    "ID; DROP TABLE tasks",
    "Name COLLATE NOCASE",
    "lower(Name)",
    "RANDOM()",
    "1",
    "Password",
    "user_id",
    "ID DESC,",
    "(ID)",
    "Name ASC DESC",
    "'Name'",
    "\"Name\"",
    "ID -- comment",
];

/// What the database holds, to prove nothing was changed or dropped.
fn fingerprint(engine: &Engine) -> (Vec<String>, i64, i64, i64, String) {
    engine
        .db()
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name",
            )?;
            let objects = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            let count = |table: &str| -> rusqlite::Result<i64> {
                c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            };
            let integrity: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            Ok((
                objects,
                count("tasks")?,
                count("users")?,
                count("responses")?,
                integrity,
            ))
        })
        .unwrap()
}

#[tokio::test]
async fn filters_and_sorts_outside_the_grammar_are_400_and_change_nothing() {
    let (s, c, all) = started().await;
    let before = fingerprint(s.engine());
    assert_eq!(before.4, "ok");
    for filter in BAD_FILTERS {
        for accept in ["application/json", "application/xml"] {
            let listed = send(
                c.request(Method::GET, "work-item", "tanaka")
                    .header("accept", accept)
                    .query(&[("filter", filter)]),
            )
            .await;
            assert_eq!(listed.is_xml(), accept == "application/xml");
            let message = listed.error(400);
            assert!(message.contains("invalid filter"), "{filter}: {message}");
        }
        let allocated = c
            .allocate(
                "tanaka",
                json!({"Participant": "tanaka", "Filter": filter, "FetchCount": -1}),
            )
            .await;
        assert!(allocated.error(400).contains("invalid filter"), "{filter}");
    }
    for sort in BAD_SORTS {
        let listed = c.list("tanaka", &[("sort", sort)]).await;
        assert!(listed.error(400).contains("invalid sort"), "{sort}");
        let allocated = c
            .allocate(
                "tanaka",
                json!({"Participant": "tanaka", "Sort": sort, "FetchCount": -1}),
            )
            .await;
        assert!(allocated.error(400).contains("invalid sort"), "{sort}");
    }
    assert_eq!(fingerprint(s.engine()), before, "the database is intact");
    assert_eq!(c.all("admin").await, all, "no item changed");
    assert_eq!(
        c.all("tanaka").await.len(),
        all.len(),
        "tanaka still signs in"
    );
}

#[tokio::test]
async fn a_quote_inside_a_literal_is_data_not_sql() {
    let (s, c, _) = started().await;
    let before = fingerprint(s.engine());
    for filter in [
        "Name = 'x'' OR ''a''=''a'",
        "Name = '''; DROP TABLE tasks; --'",
        "Name LIKE '%'' OR 1=1 --'",
    ] {
        let r = c.list("tanaka", &[("filter", filter)]).await;
        assert!(r.items().is_empty(), "{filter} matched something");
    }
    assert_eq!(fingerprint(s.engine()), before);
}
