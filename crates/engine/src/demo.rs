//! The demo data set (`tasklane serve --demo`, `scripts/run.sh`): users with
//! documented passwords, org units, teams and lanes, tasks in every state and
//! type, a sequential process, two OMFLOW flows with forms and quick actions,
//! and work in Hitachi lanes — in English, German, Traditional Chinese and
//! Japanese. The README lists the users; tests rely on the names below.

use serde_json::{Map, Value, json};

use crate::dossiers;
use crate::engine::{CreateTask, create_task};
use crate::error::Result;
use crate::flows::{self, FieldValue, FormField, QuickAction, Step};
use crate::model::GroupKind;
use crate::responses;
use crate::tasks;
use crate::users::{self, Principal};
use crate::workflow;
use crate::{Engine, workitems};

/// The password of every demo user except `admin`.
pub const PASSWORD: &str = "demo";
/// The administrator's password.
pub const ADMIN_PASSWORD: &str = "admin";
/// The user of the in-process local account (no password: not reachable over HTTP).
pub const LOCAL_USER: &str = "me";

/// The payment-request flow: its uuid is the one in the OMFLOW seed's example.
pub const PAYMENT_FLOW: &str = "67d4cf9a-49cd-4341-90da-b899eb0219b1";
pub const PAYMENT_API_PATH: &str = "payment-request";
pub const PROCUREMENT_FLOW: &str = "3f1e0c5a-9b7d-4e2f-8a6c-1b0d9e8f7a6b";
pub const PROCUREMENT_API_PATH: &str = "procurement";

/// Demo users: (id, display name, admin, groups).
pub const USERS: &[(&str, &str, bool, &[&str])] = &[
    ("admin", "Administrator", true, &[]),
    ("hans.muster", "Muster Hans", false, &["fd"]),
    ("anna.keller", "Keller Anna", false, &["fd", "sekretariat"]),
    ("peter.meier", "Meier Peter", false, &["bau"]),
    ("wang.xiaoming", "王小明", false, &["it"]),
    ("lin.meiling", "林美玲", false, &["finance"]),
    ("tanaka", "田中太郎", false, &["Lane1"]),
    ("suzuki", "鈴木花子", false, &["Lane1", "Lane2"]),
];

/// Whether the engine holds no users yet (a fresh database).
pub fn is_empty(engine: &Engine) -> Result<bool> {
    engine.db().read(|c| Ok(users::list_users(c)?.is_empty()))
}

fn field(id: &str, label: &str, ty: &str, required: bool) -> FormField {
    FormField {
        id: id.into(),
        label: label.into(),
        field_type: ty.into(),
        required,
    }
}

fn quick(id: &str, label: &str, values: Value) -> QuickAction {
    QuickAction {
        id: id.into(),
        label: label.into(),
        values: values.as_object().cloned().unwrap_or_default(),
    }
}

fn step(
    stop: &str,
    name: &str,
    status: &str,
    user: Option<&str>,
    group: Option<&str>,
    form: Vec<FormField>,
    quick: Vec<QuickAction>,
) -> Step {
    Step {
        position: 0,
        stop_uuid: stop.into(),
        name: name.into(),
        status_text: status.into(),
        assignee_user: user.map(String::from),
        assignee_group: group.map(String::from),
        form,
        quick_actions: quick,
    }
}

fn values(pairs: &[(&str, &str, &str)]) -> Vec<FieldValue> {
    pairs
        .iter()
        .map(|(id, ty, v)| FieldValue {
            id: id.to_string(),
            value: json!(v),
            field_type: Some(ty.to_string()),
        })
        .collect()
}

/// Loads the demo data into an empty engine.
pub fn load(engine: &Engine) -> Result<()> {
    engine.db().write(|tx| {
        for (id, kind, name) in [
            ("fd", GroupKind::OrgUnit, "Finanzdirektion"),
            ("bau", GroupKind::OrgUnit, "Bauamt"),
            ("sekretariat", GroupKind::Team, "Sekretariat"),
            ("it", GroupKind::OrgUnit, "資訊部"),
            ("finance", GroupKind::OrgUnit, "財務部"),
            ("Lane1", GroupKind::Lane, "受付レーン"),
            ("Lane2", GroupKind::Lane, "審査レーン"),
        ] {
            users::add_group(tx, id, name, kind)?;
        }
        for (id, name, admin, groups) in USERS {
            let password = if *admin { ADMIN_PASSWORD } else { PASSWORD };
            users::add_user(tx, id, name, Some(password), *admin)?;
            for g in *groups {
                users::add_member(tx, id, g)?;
            }
        }
        users::add_user(tx, LOCAL_USER, "Me", None, false)?;
        Ok(())
    })?;
    let p = |user: &str| engine.principal(user);
    gever(
        engine,
        &p("anna.keller")?,
        &p("hans.muster")?,
        &p("peter.meier")?,
        &p("admin")?,
    )?;
    omflow(engine, &p("wang.xiaoming")?, &p("lin.meiling")?)?;
    hitachi(engine, &p("tanaka")?, &p("suzuki")?)?;
    personal(engine, &p(LOCAL_USER)?)?;
    Ok(())
}

fn new_task(
    title: &str,
    text: &str,
    ty: &str,
    responsible: &str,
    deadline: &str,
    dossier: i64,
) -> CreateTask {
    CreateTask {
        title: title.into(),
        text: text.into(),
        task_type: Some(ty.into()),
        responsible: responsible.into(),
        deadline: Some(deadline.into()),
        dossier_id: Some(dossier),
        ..CreateTask::default()
    }
}

fn transition(
    engine: &Engine,
    p: &Principal,
    id: i64,
    transition: &str,
    params: Value,
) -> Result<()> {
    let params: Map<String, Value> = params.as_object().cloned().unwrap_or_default();
    engine
        .db()
        .write(|tx| workflow::apply(tx, p, id, Some(transition), &params).map(|_| ()))
}

fn comment(engine: &Engine, p: &Principal, id: i64, text: &str) -> Result<()> {
    engine.db().write(|tx| {
        let task = tasks::require(tx, id)?;
        responses::add_comment(tx, p, &task, text).map(|_| ())
    })
}

/// GEVER tasks in dossiers: every state, every task type, a sequential process.
fn gever(
    engine: &Engine,
    anna: &Principal,
    hans: &Principal,
    peter: &Principal,
    admin: &Principal,
) -> Result<()> {
    let (bau, beschaffung) = engine.db().write(|tx| {
        Ok((
            dossiers::add(
                tx,
                "Baugesuch Müller, Seestrasse 12",
                "ordnungssystem/bau/dossier-1",
                Some("bau"),
            )?,
            dossiers::add(
                tx,
                "Beschaffung 2026",
                "ordnungssystem/finanzen/dossier-2",
                Some("fd"),
            )?,
        ))
    })?;
    let create = |p: &Principal, t: CreateTask| engine.db().write(|tx| create_task(tx, p, &t));

    let stellungnahme = create(
        peter,
        new_task(
            "Stellungnahme zum Baugesuch Müller",
            "Bitte prüfen Sie die Unterlagen zum Baugesuch und nehmen Sie bis Ende Monat Stellung.",
            "comment",
            "fd:hans.muster",
            "2026-11-28",
            bau.id,
        ),
    )?;
    comment(
        engine,
        peter,
        stellungnahme.id,
        "Die Pläne liegen im Dossier. Danke!",
    )?;

    let vertrag = create(
        anna,
        new_task(
            "Vertrag mit Lieferant Huber AG prüfen",
            "Klausel 7 (Haftung) und die Kündigungsfristen besonders beachten.",
            "direct-execution",
            "fd:hans.muster",
            "2026-11-21",
            beschaffung.id,
        ),
    )?;
    transition(
        engine,
        hans,
        vertrag.id,
        "task-transition-open-in-progress",
        json!({"text": "Wird gemacht."}),
    )?;
    comment(
        engine,
        hans,
        vertrag.id,
        "Die Rechtsabteilung schaut sich Klausel 7 an.",
    )?;

    create(
        anna,
        new_task(
            "Zur Kenntnisnahme: Protokoll Gemeinderat vom 12. November",
            "Das Protokoll liegt bei.",
            "information",
            "fd:hans.muster",
            "2026-12-05",
            beschaffung.id,
        ),
    )?;

    let budget = create(
        hans,
        new_task(
            "Genehmigung Budget 2027",
            "Budgetantrag der Finanzdirektion.",
            "approval",
            "fd:anna.keller",
            "2026-11-30",
            beschaffung.id,
        ),
    )?;
    transition(
        engine,
        anna,
        budget.id,
        "task-transition-open-resolved",
        json!({"text": "Genehmigt."}),
    )?;

    create(
        peter,
        new_task(
            "Review: Änderung Personalreglement",
            "Änderungen in Artikel 4 und 9.",
            "correction",
            "inbox:fd",
            "2026-12-10",
            beschaffung.id,
        ),
    )?;

    let bericht = create(
        hans,
        new_task(
            "Bericht Quartal 3",
            "Bitte den Quartalsbericht erstellen.",
            "report",
            "bau:peter.meier",
            "2026-11-25",
            bau.id,
        ),
    )?;
    transition(
        engine,
        peter,
        bericht.id,
        "task-transition-open-rejected",
        json!({"text": "Nicht meine Zuständigkeit."}),
    )?;

    let abgeschlossen = create(
        anna,
        new_task(
            "Offerte Druckerei einholen",
            "Drei Offerten für den Jahresbericht.",
            "direct-execution",
            "fd:hans.muster",
            "2026-11-10",
            beschaffung.id,
        ),
    )?;
    transition(
        engine,
        hans,
        abgeschlossen.id,
        "task-transition-open-in-progress",
        json!({}),
    )?;
    transition(
        engine,
        hans,
        abgeschlossen.id,
        "task-transition-in-progress-tested-and-closed",
        json!({"text": "Erledigt."}),
    )?;

    let abgebrochen = create(
        anna,
        new_task(
            "Sitzungszimmer reservieren",
            "Für die Klausur im Dezember.",
            "direct-execution",
            "fd:hans.muster",
            "2026-11-15",
            beschaffung.id,
        ),
    )?;
    transition(
        engine,
        anna,
        abgebrochen.id,
        "task-transition-open-cancelled",
        json!({"text": "Klausur verschoben."}),
    )?;

    create(
        anna,
        new_task(
            "Plan the team offsite agenda",
            "Collect topics from everyone.",
            "direct-execution",
            "team:sekretariat",
            "2026-12-02",
            beschaffung.id,
        ),
    )?;

    // A sequential process: the main task in progress, three steps.
    let main = create(
        hans,
        new_task(
            "Sequenz: Bewilligung Baugesuch Müller",
            "Ablauf in drei Schritten.",
            "direct-execution",
            "fd:hans.muster",
            "2026-12-15",
            bau.id,
        ),
    )?;
    engine.db().write(|tx| {
        tx.execute(
            "UPDATE tasks SET sequence_type = 'sequential' WHERE id = ?1",
            [main.id],
        )?;
        Ok(())
    })?;
    transition(
        engine,
        hans,
        main.id,
        "task-transition-open-in-progress",
        json!({}),
    )?;
    let sub = |title: &str, responsible: &str, deadline: &str| CreateTask {
        title: title.into(),
        task_type: Some("direct-execution".into()),
        responsible: responsible.into(),
        deadline: Some(deadline.into()),
        parent_id: Some(main.id),
        ..CreateTask::default()
    };
    let step1 = create(
        hans,
        sub("Schritt 1: Vorprüfung", "bau:peter.meier", "2026-11-27"),
    )?;
    create(
        hans,
        sub(
            "Schritt 2: Unterschrift Gemeindepräsidentin",
            "fd:hans.muster",
            "2026-12-05",
        ),
    )?;
    create(
        hans,
        sub(
            "Schritt 3: Versand an Bauherrschaft",
            "fd:anna.keller",
            "2026-12-12",
        ),
    )?;
    transition(
        engine,
        peter,
        step1.id,
        "task-transition-planned-open",
        json!({}),
    )?;
    transition(
        engine,
        peter,
        step1.id,
        "task-transition-open-in-progress",
        json!({"text": "Vorprüfung läuft."}),
    )?;

    let archived = create(
        admin,
        new_task(
            "Archivierung Dossier 2019",
            "Alte Akten ins Archiv.",
            "direct-execution",
            "fd:hans.muster",
            "2026-10-31",
            beschaffung.id,
        ),
    )?;
    transition(
        engine,
        hans,
        archived.id,
        "task-transition-open-in-progress",
        json!({}),
    )?;
    transition(
        engine,
        hans,
        archived.id,
        "task-transition-in-progress-tested-and-closed",
        json!({}),
    )?;
    Ok(())
}

/// Two OMFLOW flows, with tickets at every step.
fn omflow(engine: &Engine, wang: &Principal, lin: &Principal) -> Result<()> {
    engine.db().write(|tx| {
        flows::create_flow(
            tx,
            PAYMENT_FLOW,
            "請款流程",
            PAYMENT_API_PATH,
            &[
                step(
                    "FITEM_7",
                    "指派人工",
                    "審核中",
                    Some("wang.xiaoming"),
                    None,
                    vec![
                        field("FORMITM_1", "標題", "h_title", false),
                        field("FORMITM_2", "金額", "number", true),
                        field("FORMITM_5", "審核意見", "text", true),
                        field("FORMITM_6", "備註", "text", false),
                    ],
                    vec![
                        quick("action1", "核准", json!({"FORMITM_5": "核准"})),
                        quick("action2", "退回", json!({"FORMITM_5": "退回"})),
                    ],
                ),
                step(
                    "FITEM_9",
                    "財務確認",
                    "財務確認中",
                    None,
                    Some("finance"),
                    vec![field("FORMITM_7", "付款日期", "date", true)],
                    vec![quick(
                        "action1",
                        "確認付款",
                        json!({"FORMITM_7": "2026-12-01"}),
                    )],
                ),
            ],
        )?;
        flows::create_flow(
            tx,
            PROCUREMENT_FLOW,
            "採購流程",
            PROCUREMENT_API_PATH,
            &[
                step(
                    "FITEM_3",
                    "部門審核",
                    "待處理",
                    None,
                    Some("it"),
                    vec![
                        field("FORMITM_1", "標題", "h_title", false),
                        field("FORMITM_2", "品項", "text", true),
                        field("FORMITM_3", "數量", "number", true),
                    ],
                    vec![quick(
                        "action1",
                        "同意",
                        json!({"FORMITM_2": "同意", "FORMITM_3": "1"}),
                    )],
                ),
                step(
                    "FITEM_4",
                    "採購執行",
                    "採購中",
                    Some("lin.meiling"),
                    None,
                    vec![field("FORMITM_4", "供應商", "text", true)],
                    vec![],
                ),
            ],
        )?;
        Ok(())
    })?;
    let payment = engine.db().read(|c| flows::flow_by_uuid(c, PAYMENT_FLOW))?;
    let procurement = engine
        .db()
        .read(|c| flows::flow_by_uuid(c, PROCUREMENT_FLOW))?;
    for (title, amount) in [
        ("審核通過 請款單 #1024 出差費用", "12800"),
        ("客戶合約變更申請 請款", "54000"),
        ("辦公用品請款單", "3200"),
    ] {
        engine.db().write(|tx| {
            flows::open_ticket(
                tx,
                lin,
                &payment,
                &values(&[
                    ("FORMITM_1", "h_title", title),
                    ("FORMITM_2", "number", amount),
                ]),
            )
            .map(|_| ())
        })?;
    }
    // One ticket already past the first step, waiting for finance.
    engine.db().write(|tx| {
        let ticket = flows::open_ticket(
            tx,
            lin,
            &payment,
            &values(&[
                ("FORMITM_1", "h_title", "維修費用請款：三樓冷氣"),
                ("FORMITM_2", "number", "8600"),
            ]),
        )?;
        let task = flows::current_task(tx, &ticket)?
            .ok_or_else(|| crate::EngineError::NotFound("step".into()))?;
        flows::push(
            tx,
            wang,
            &payment,
            task.id,
            &values(&[("FORMITM_5", "text", "審核通過")]),
        )
        .map(|_| ())
    })?;
    for (title, item) in [
        ("採購申請：筆記型電腦 ×3", "筆記型電腦"),
        ("採購申請：會議室投影機", "投影機"),
    ] {
        engine.db().write(|tx| {
            flows::open_ticket(
                tx,
                lin,
                &procurement,
                &values(&[("FORMITM_1", "h_title", title), ("FORMITM_2", "text", item)]),
            )
            .map(|_| ())
        })?;
    }
    let first = engine
        .db()
        .read(|c| flows::ticket_by_no(c, PAYMENT_FLOW, 1))?;
    if let Some(ticket) = first {
        engine.db().write(|tx| {
            let task = flows::current_task(tx, &ticket)?
                .ok_or_else(|| crate::EngineError::NotFound("step".into()))?;
            flows::worklog_add(
                tx,
                lin,
                &payment,
                ticket.data_no,
                Some(task.id),
                "發票已附上，請協助審核。",
            )
        })?;
    }
    Ok(())
}

/// Work waiting in BPMN lanes, some of it taken.
fn hitachi(engine: &Engine, tanaka: &Principal, suzuki: &Principal) -> Result<()> {
    let admin = engine.principal("admin")?;
    let cases = engine.db().write(|tx| {
        Ok([
            dossiers::add(tx, "案件20261101 見積承認", "cases/case-20261101", None)?,
            dossiers::add(tx, "案件20261103 請求処理", "cases/case-20261103", None)?,
            dossiers::add(tx, "案件20261104 出張申請", "cases/case-20261104", None)?,
        ])
    })?;
    let lane_task = |title: &str,
                     text: &str,
                     lane: &str,
                     deadline: &str,
                     priority: i64,
                     dossier: i64|
     -> Result<i64> {
        engine.db().write(|tx| {
            let t = create_task(
                tx,
                &admin,
                &CreateTask {
                    title: title.into(),
                    text: text.into(),
                    task_type: Some("direct-execution".into()),
                    responsible: lane.into(),
                    deadline: Some(deadline.into()),
                    priority,
                    dossier_id: Some(dossier),
                    ..CreateTask::default()
                },
            )?;
            Ok(t.id)
        })
    };
    lane_task(
        "見積承認：株式会社サンプル向け",
        "見積書の金額と条件を確認してください。",
        "Lane1",
        "2026-11-26",
        2,
        cases[0].id,
    )?;
    lane_task(
        "作業者実行：請求書確認",
        "請求書の明細を確認します。",
        "Lane1",
        "2026-11-24",
        3,
        cases[1].id,
    )?;
    lane_task(
        "検収報告書の作成",
        "納品物の検収結果をまとめてください。",
        "Lane1",
        "2026-11-28",
        1,
        cases[1].id,
    )?;
    lane_task(
        "出張申請の承認（大阪）",
        "12月の大阪出張の申請です。",
        "Lane2",
        "2026-11-29",
        2,
        cases[2].id,
    )?;
    lane_task(
        "出張旅費の精算",
        "領収書を添付済み。",
        "Lane2",
        "2026-12-03",
        0,
        cases[2].id,
    )?;
    lane_task(
        "Customer data update for case 20261101",
        "Update the billing address.",
        "Lane1",
        "2026-12-01",
        0,
        cases[0].id,
    )?;
    // tanaka already took the most urgent Lane1 item; suzuki one in Lane2.
    engine.db().write(|tx| {
        workitems::allocate(
            tx,
            tanaka,
            "tanaka",
            Some("Participant = 'Lane1'"),
            Some("Priority DESC"),
            10,
        )
        .map(|_| ())
    })?;
    engine.db().write(|tx| {
        workitems::allocate(
            tx,
            suzuki,
            "suzuki",
            Some("Participant = 'Lane2'"),
            Some("Priority DESC"),
            10,
        )
        .map(|_| ())
    })?;
    Ok(())
}

/// The local user's own list (the desktop app's local account).
fn personal(engine: &Engine, me: &Principal) -> Result<()> {
    let dossier = engine.db().write(|tx| {
        dossiers::add(
            tx,
            "Persönlich · Personal · 個人 · 個人用",
            "personal/me",
            None,
        )
    })?;
    for (title, text, deadline) in [
        (
            "Buy train ticket to Bern",
            "Return ticket, Monday morning.",
            "2026-11-25",
        ),
        (
            "Prepare slides for Monday's review",
            "Agenda: open items, budget, next steps.",
            "2026-11-23",
        ),
        (
            "Steuererklärung einreichen",
            "Belege liegen im Ordner.",
            "2026-12-31",
        ),
        (
            "會議紀錄整理",
            "整理上週會議的紀錄並寄給大家。",
            "2026-11-27",
        ),
        ("年末の大掃除の計画", "担当と日程を決める。", "2026-12-20"),
    ] {
        engine.db().write(|tx| {
            create_task(
                tx,
                me,
                &CreateTask {
                    title: title.into(),
                    text: text.into(),
                    responsible: LOCAL_USER.into(),
                    deadline: Some(deadline.into()),
                    dossier_id: Some(dossier.id),
                    ..CreateTask::default()
                },
            )
            .map(|_| ())
        })?;
    }
    Ok(())
}
