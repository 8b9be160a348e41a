//! The demo data set loads and has what the README promises.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeSet;

use tasklane_engine::{Engine, demo, flows, users, workitems};

#[test]
fn the_demo_has_every_state_type_language_and_dialect() {
    let engine = Engine::open_in_memory().unwrap();
    assert!(demo::is_empty(&engine).unwrap());
    demo::load(&engine).unwrap();
    assert!(!demo::is_empty(&engine).unwrap());
    let (states, types, count): (BTreeSet<String>, BTreeSet<String>, i64) = engine
        .db()
        .read(|c| {
            let states = c
                .prepare("SELECT DISTINCT state FROM tasks")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let types = c
                .prepare("SELECT DISTINCT task_type FROM tasks")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let n = c.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?;
            Ok((states, types, n))
        })
        .unwrap();
    assert!(count >= 30, "dozens of tasks, got {count}");
    for s in [
        "open",
        "in-progress",
        "resolved",
        "rejected",
        "planned",
        "tested-and-closed",
        "cancelled",
    ] {
        assert!(states.contains(s), "no {s} task in {states:?}");
    }
    assert_eq!(types.len(), 6, "every task type: {types:?}");
    // Every demo user with a password can log in with it.
    for (id, _, admin, _) in demo::USERS {
        let pw = if *admin {
            demo::ADMIN_PASSWORD
        } else {
            demo::PASSWORD
        };
        assert!(engine.authenticate(id, pw).unwrap().is_some(), "{id}");
        assert!(engine.authenticate(id, "wrong").unwrap().is_none(), "{id}");
    }
    assert!(engine.authenticate(demo::LOCAL_USER, "").unwrap().is_none());
    let flows = engine.db().read(flows::flows).unwrap();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].api_path, demo::PAYMENT_API_PATH);
    let tanaka = engine.principal("tanaka").unwrap();
    let items = engine
        .db()
        .read(|c| {
            workitems::list(
                c,
                &tanaka,
                Some("Participant = 'Lane1' OR Participant = 'tanaka'"),
                None,
                0,
                -1,
            )
        })
        .unwrap();
    assert!(
        items
            .iter()
            .any(|w| w.state_code == "f" && w.participant == "tanaka")
    );
    assert!(
        items
            .iter()
            .any(|w| w.state_code == "j" && w.participant == "Lane1")
    );
    let groups = engine.db().read(users::list_groups).unwrap();
    assert!(groups.iter().any(|g| g.display_name == "受付レーン"));
}
