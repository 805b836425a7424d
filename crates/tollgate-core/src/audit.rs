//! The audit log: who changed what, when, and from where. Never secrets.

use chrono::{DateTime, Utc};

/// Who is acting: an admin key, a console user, or the local CLI talking to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// e.g. `admin-key:Xy3…Qz (ci)` or `user:admin` or `cli`.
    pub label: String,
    pub source_ip: Option<String>,
}

impl Actor {
    pub fn new(label: impl Into<String>, source_ip: Option<String>) -> Self {
        Self {
            label: label.into(),
            source_ip,
        }
    }

    /// An admin-API caller. Key names are not unique, so the label leads with the key's id
    /// (what `DELETE /admin-keys/{id}` takes) and keeps the name for the reader.
    pub fn admin_key(id: &str, name: &str, source_ip: Option<String>) -> Self {
        Self::new(format!("admin-key:{id} ({name})"), source_ip)
    }
}

/// An entry about to be written, in the same transaction as the change it describes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub source_ip: Option<String>,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(
        actor: &Actor,
        at: DateTime<Utc>,
        action: &str,
        target_type: &str,
        target_id: &str,
        details: serde_json::Value,
    ) -> Self {
        Self {
            at,
            actor: actor.label.clone(),
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
            source_ip: actor.source_ip.clone(),
            details,
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub event: AuditEvent,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
}
