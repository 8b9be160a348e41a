//! Search at a size where every execution strategy is used — few matches
//! looked up by id; common terms found by walking the order (and, when
//! that takes too long or the order cannot be walked, by filtering all
//! matches); tasks not yet indexed scanned — checked against brute force.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::cmp::Ordering;

use tasklane_core::model::{AccountKind, NewAccount, TaskRecord};
use tasklane_core::query::{Column, Op, Query};
use tasklane_core::replica::{accounts, search, tasks};
use tasklane_core::{Replica, State};

fn text_of(r: &TaskRecord) -> String {
    let mut all = vec![r.title.to_lowercase(), r.description.to_lowercase()];
    for c in r.comments.iter().flatten() {
        all.push(c.text.to_lowercase());
    }
    all.join("\u{1}")
}

/// The default order: deadline (empty last), then latest change (empty
/// last), then insertion order.
fn default_order(a: &(usize, &TaskRecord), b: &(usize, &TaskRecord)) -> Ordering {
    let dl = |r: &TaskRecord| r.deadline.map(|d| d.to_text());
    let md = |r: &TaskRecord| r.modified.map(|m| m.as_second());
    let none_last = |x: &Option<String>, y: &Option<String>| match (x, y) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    };
    none_last(&dl(a.1), &dl(b.1))
        .then_with(|| match (md(a.1), md(b.1)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => y.cmp(&x),
        })
        .then(a.0.cmp(&b.0))
}

fn by_title(a: &(usize, &TaskRecord), b: &(usize, &TaskRecord)) -> Ordering {
    // SQLite's NOCASE folds ASCII only.
    a.1.title
        .to_ascii_lowercase()
        .as_bytes()
        .cmp(b.1.title.to_ascii_lowercase().as_bytes())
        .then(a.0.cmp(&b.0))
}

fn expected(
    records: &[TaskRecord],
    terms: &[&str],
    state: Option<State>,
    start: usize,
    count: usize,
) -> Vec<String> {
    expected_by(records, terms, state, start, count, default_order)
}

type Order = fn(&(usize, &TaskRecord), &(usize, &TaskRecord)) -> Ordering;

fn expected_by(
    records: &[TaskRecord],
    terms: &[&str],
    state: Option<State>,
    start: usize,
    count: usize,
    order: Order,
) -> Vec<String> {
    let mut hits: Vec<(usize, &TaskRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let text = text_of(r);
            terms.iter().all(|t| text.contains(&t.to_lowercase()))
                && state.is_none_or(|s| r.state == s)
        })
        .collect();
    hits.sort_by(order);
    hits.into_iter()
        .skip(start)
        .take(count)
        .map(|(_, r)| r.key.clone())
        .collect()
}

#[test]
fn every_search_strategy_agrees_with_brute_force() {
    // About a quarter of the tasks contain "review": more than the 2,000
    // matches up to which a search is answered by id.
    let records = tasklane_core::synthetic::tasks(10_000, 5);
    let mut r = Replica::open_in_memory().unwrap();
    r.write(|tx| {
        let a = accounts::add(tx, &NewAccount::new("a", AccountKind::Local).user("me"))?;
        tasks::upsert(tx, a.id, &records, tasklane_core::time::now())
    })
    .unwrap();
    let cases: Vec<(Vec<&str>, Option<State>, usize, usize)> = vec![
        (vec!["review"], None, 0, 40),            // thousands of matches
        (vec!["review"], None, 1_200, 30),        // deep page
        (vec!["審核"], Some(State::Open), 5, 20), // two characters, with a condition
        (vec!["審核通過"], None, 0, 50),
        (vec!["作業者実行", "確認"], None, 0, 50), // two terms
        (vec!["zebrafink"], None, 0, 50),          // rare
        (vec!["e"], None, 0, 10),                  // one common letter: scanned
    ];
    for phase in ["backlog", "indexed"] {
        if phase == "indexed" {
            r.catch_up_search().unwrap();
            assert_eq!(search::backlog(r.conn()).unwrap(), 0);
        }
        for (terms, state, start, count) in &cases {
            let mut q = Query::default()
                .search(terms.join(" "))
                .page(*start as u32, *count as u32);
            if let Some(s) = state {
                q = q.filter(Column::State, Op::Eq, *s);
            }
            let got: Vec<String> = r.query(&q).unwrap().into_iter().map(|t| t.key).collect();
            let want = expected(&records, terms, *state, *start, *count);
            assert_eq!(got, want, "{phase}: {terms:?} {state:?} from {start}");
            let total = expected(&records, terms, *state, 0, usize::MAX).len() as u64;
            assert_eq!(r.count(&q).unwrap(), total, "{phase}: count of {terms:?}");
            // An order no index provides: the matches are filtered in order.
            let title_order = q.clone().order_by(Column::Title, false);
            let got: Vec<String> = r
                .query(&title_order)
                .unwrap()
                .into_iter()
                .map(|t| t.key)
                .collect();
            assert_eq!(
                got,
                expected_by(&records, terms, *state, *start, *count, by_title),
                "{phase}: {terms:?} by title"
            );
        }
    }
    // A task changed after indexing is found by its new text, not its old.
    let mut changed = records[0].clone();
    changed.title = "Umbenannt: Ölheizung prüfen".into();
    changed.description = String::new();
    changed.comments = Some(vec![]);
    r.write(|tx| {
        let a = accounts::get(tx, "a")?;
        tasks::upsert(tx, a.id, &[changed], tasklane_core::time::now())
    })
    .unwrap();
    let find = |text: &str| -> Vec<String> {
        r.query(&Query::default().search(text))
            .unwrap()
            .into_iter()
            .map(|t| t.key)
            .collect()
    };
    let old_word = records[0]
        .title
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        find("ölheizung"),
        vec![records[0].key.clone()],
        "new text, before catch-up"
    );
    assert!(
        !find(&old_word).contains(&records[0].key),
        "old text no longer matches"
    );
}

#[test]
fn common_terms_found_late_in_the_order_are_still_found() {
    // 12,000 tasks by ascending deadline; only the last 3,000 contain the
    // term, so walking the order exhausts its budget and the search falls
    // back to the index's full answer.
    let records: Vec<TaskRecord> = (0..12_000)
        .map(|i| {
            let title = if i >= 9_000 {
                format!("Zwischenbericht {i}")
            } else {
                format!("Aufgabe {i}")
            };
            let mut r = TaskRecord::new(format!("k{i}"), title, State::Open);
            let day = jiff::civil::date(2026, 1, 1)
                .checked_add(jiff::ToSpan::days(i / 40))
                .unwrap();
            r.deadline = Some(tasklane_core::time::Deadline::Date(day));
            r
        })
        .collect();
    let mut r = Replica::open_in_memory().unwrap();
    r.write(|tx| {
        let a = accounts::add(tx, &NewAccount::new("a", AccountKind::Local).user("me"))?;
        tasks::upsert(tx, a.id, &records, tasklane_core::time::now())
    })
    .unwrap();
    r.catch_up_search().unwrap();
    let q = Query::default().search("zwischenbericht").page(10, 5);
    let got: Vec<String> = r.query(&q).unwrap().into_iter().map(|t| t.key).collect();
    assert_eq!(got, expected(&records, &["zwischenbericht"], None, 10, 5));
    assert_eq!(r.count(&q).unwrap(), 3_000);
}
