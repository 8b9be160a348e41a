//! Deterministic synthetic tasks for benchmarks and large-volume tests.
//!
//! The mix mirrors tasklane's users: titles and descriptions in English,
//! German, Traditional Chinese and Japanese, a few dozen assignees, groups
//! and lanes, all nine states, deadlines spread around a fixed day. The same
//! seed always yields the same tasks, so benchmark runs compare like with like.

use jiff::{Timestamp, ToSpan};

use crate::model::{Comment, State, TaskRecord};
use crate::time::Deadline;

/// A word that occurs in about one task in five thousand, for "rare word" searches.
pub const RARE_WORD: &str = "Zebrafink";
/// A word that occurs in a large share of tasks.
pub const COMMON_WORD: &str = "review";

const EN: &[&str] = &[
    "review",
    "contract",
    "invoice",
    "approval",
    "report",
    "budget",
    "quarterly",
    "supplier",
    "meeting",
    "minutes",
    "request",
    "customer",
    "complaint",
    "renewal",
    "policy",
    "draft",
];
const DE: &[&str] = &[
    "Prüfung",
    "Vertrag",
    "Rechnung",
    "Genehmigung",
    "Bericht",
    "Stellungnahme",
    "Dossier",
    "Änderung",
    "Gesuch",
    "Bewilligung",
    "Abklärung",
    "Vernehmlassung",
    "Antrag",
    "Frist",
];
const ZH: &[&str] = &[
    "審核通過",
    "審核中",
    "請款單",
    "合約",
    "採購",
    "報告",
    "簽核",
    "資料",
    "客戶",
    "維修",
    "申請",
    "變更",
    "會議",
    "預算",
];
const JA: &[&str] = &[
    "作業者実行",
    "見積",
    "承認",
    "請求書",
    "案件",
    "確認",
    "処理",
    "依頼",
    "報告書",
    "出張",
    "申請書",
    "検収",
];
const PROCESSES: &[&str] = &[
    "問題管理",
    "採購流程",
    "Dossier Bauamt",
    "Personalgeschäft",
    "見積承認プロセス",
    "Contract renewal",
    "請款流程",
    "出張申請",
];

/// The fixed day the synthetic deadlines and times are spread around.
pub fn base_time() -> Timestamp {
    "2026-11-01T08:00:00Z".parse().expect("valid constant")
}

/// The name of synthetic user number `i` (0-based; there are 50).
pub fn user(i: usize) -> String {
    format!("user{:02}", i % 50)
}

/// The name of synthetic group number `i` (there are 12).
pub fn group(i: usize) -> String {
    format!("group{:02}", i % 12)
}

/// `n` tasks with keys `synthetic:0` .. `synthetic:{n-1}`.
pub fn tasks(n: usize, seed: u64) -> Vec<TaskRecord> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|i| task(&mut rng, i)).collect()
}

fn words(rng: &mut fastrand::Rng, vocab: &[&str], n: usize, sep: &str) -> String {
    (0..n)
        .map(|_| vocab[rng.usize(..vocab.len())])
        .collect::<Vec<_>>()
        .join(sep)
}

fn text(rng: &mut fastrand::Rng, words_in: std::ops::Range<usize>) -> String {
    let n = rng.usize(words_in);
    match rng.u8(..4) {
        0 => words(rng, EN, n, " "),
        1 => words(rng, DE, n, " "),
        2 => words(rng, ZH, n, ""),
        _ => words(rng, JA, n, ""),
    }
}

fn task(rng: &mut fastrand::Rng, i: usize) -> TaskRecord {
    let state = State::ALL[rng.usize(..State::ALL.len())];
    let mut title = text(rng, 3..6);
    if rng.usize(..5000) == 0 {
        title.push(' ');
        title.push_str(RARE_WORD);
    }
    let mut record = TaskRecord::new(format!("synthetic:{i}"), title, state);
    record.description = text(rng, 10..30);
    record.status_text = state.as_str().replace('_', " ");
    record.kind =
        Some(["direct-execution", "information", "approval", "report"][rng.usize(..4)].into());
    // Most tasks are someone's; some sit unassigned in a group or lane.
    if rng.u8(..10) < 8 {
        record.assignee = Some(user(rng.usize(..50)));
    }
    record.group = Some(group(rng.usize(..12)));
    record.issuer = Some(user(rng.usize(..50)));
    let base = base_time();
    if rng.u8(..10) < 9 {
        let day = base
            .checked_add((rng.i64(-60..60) * 24).hours())
            .unwrap_or(base)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        record.deadline = Some(Deadline::Date(day));
    }
    record.priority = Some(rng.i64(0..4));
    let created = base
        .checked_sub(rng.i64(0..(90 * 24 * 3600)).seconds())
        .unwrap_or(base);
    record.created = Some(created);
    record.modified = Some(
        created
            .checked_add(rng.i64(0..(30 * 24 * 3600)).seconds())
            .unwrap_or(created),
    );
    record.process = Some(PROCESSES[rng.usize(..PROCESSES.len())].into());
    record.payload = serde_json::json!({
        "source": "synthetic",
        "id": i,
        "review_state": record.status_text,
        "responsible": record.assignee,
        "links": { "self": format!("https://example.invalid/tasks/{i}") },
    })
    .into();
    if rng.u8(..4) == 0 {
        record.comments = Some(vec![Comment {
            remote_id: format!("c{i}"),
            author: record.issuer.clone(),
            text: text(rng, 3..10),
            created: Some(created),
            modified: None,
        }]);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_tasks() {
        assert_eq!(tasks(50, 7), tasks(50, 7));
        assert_ne!(tasks(50, 7), tasks(50, 8));
    }
}
