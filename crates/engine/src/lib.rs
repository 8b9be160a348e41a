//! tasklane-engine: tasklane's own task engine — users and groups, tasks
//! with the GEVER task model and workflow, OMFLOW-style flows and tickets,
//! Hitachi-style work items — in its own SQLite database, and the axum
//! server (`tasklane serve`) that speaks all three dialects.
