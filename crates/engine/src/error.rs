//! Errors of the engine's domain operations.
//!
//! Each dialect turns these into its own error shape and status code
//! (GEVER's two JSON shapes and 400/401, OMFLOW's envelope inside HTTP 200,
//! Hitachi's status codes); the variants carry what those shapes need.

use serde_json::Value;

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The thing does not exist, or the user may not see it.
    #[error("not found: {0}")]
    NotFound(String),

    /// The user may see it but not do this (GEVER answers 401, as Zope does).
    #[error("not permitted: {0}")]
    Forbidden(String),

    /// A workflow transition that does not exist or is not available to
    /// this user now; `valid` lists the ones that are.
    #[error("invalid transition {id:?}")]
    InvalidTransition { id: String, valid: Vec<String> },

    /// Bad input. `message` is a message id or English text, `translated`
    /// the sentence for people, `fields` per-field details for schema errors.
    #[error("{translated}")]
    Invalid {
        message: String,
        translated: String,
        fields: Vec<FieldError>,
    },

    /// The request clashes with the current state (e.g. an Idempotency-Key
    /// reused for a different request).
    #[error("{0}")]
    Conflict(String),

    #[error("storage: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("schema migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// The engine's database file cannot be used.
    #[error("{0}")]
    Database(String),
}

/// One field of a schema validation error (GEVER `additional_metadata.fields`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub translated_message: String,
}

impl EngineError {
    /// Bad input with one message for machines and people alike.
    pub fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        EngineError::Invalid {
            translated: message.clone(),
            message,
            fields: Vec::new(),
        }
    }

    /// Bad input identified by a message id, with a sentence for people.
    pub fn invalid_id(id: &str, translated: impl Into<String>) -> Self {
        EngineError::Invalid {
            message: id.to_string(),
            translated: translated.into(),
            fields: Vec::new(),
        }
    }

    /// A schema validation error on one field (GEVER's "Inputs not valid").
    pub fn field(field: &str, kind: &str, message_id: &str, translated: impl Into<String>) -> Self {
        let translated = translated.into();
        EngineError::Invalid {
            message: format!("[('{field}', {message_id}('{translated}'))]"),
            translated: "Inputs not valid".into(),
            fields: vec![FieldError {
                field: field.to_string(),
                kind: kind.to_string(),
                translated_message: translated,
            }],
        }
    }

    /// The details a dialect may put into its error body.
    pub fn details(&self) -> Value {
        match self {
            EngineError::Invalid { fields, .. } if !fields.is_empty() => {
                serde_json::json!({ "fields": fields })
            }
            _ => serde_json::json!({}),
        }
    }
}
