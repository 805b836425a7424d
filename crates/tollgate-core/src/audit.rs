//! The audit log: who changed what, when, and from where. Never secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    pub details: Details,
}

impl AuditEvent {
    pub fn new(
        actor: &Actor,
        at: DateTime<Utc>,
        action: &str,
        target_type: &str,
        target_id: &str,
        details: Details,
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

/// What an audit entry records beside its action: named values, stored (and shown by the
/// admin API) as one JSON object with its keys in order. Core builds them with `details!`;
/// the store writes them as JSON. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Details(BTreeMap<String, Detail>);

impl Details {
    /// These details with `key` set to `value`.
    pub fn with(mut self, key: &str, value: impl Into<Detail>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub fn get(&self, key: &str) -> Option<&Detail> {
        self.0.get(key)
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Detail)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// One value in `Details`: the JSON kinds the log uses (no fractions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Detail {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<Detail>),
    Map(Details),
}

impl From<bool> for Detail {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for Detail {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u32> for Detail {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<&str> for Detail {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Detail {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Detail {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl<T: crate::id::Id> From<&T> for Detail {
    fn from(v: &T) -> Self {
        Self::Text(v.as_ref().to_owned())
    }
}
impl From<Details> for Detail {
    fn from(v: Details) -> Self {
        Self::Map(v)
    }
}
impl<T: Into<Detail>> From<Option<T>> for Detail {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl<T: Into<Detail>> From<Vec<T>> for Detail {
    fn from(v: Vec<T>) -> Self {
        Self::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Detail> + Clone> From<&Vec<T>> for Detail {
    fn from(v: &Vec<T>) -> Self {
        Self::from(v.as_slice())
    }
}
impl<T: Into<Detail> + Clone> From<&Option<T>> for Detail {
    fn from(v: &Option<T>) -> Self {
        v.clone().into()
    }
}
/// As the admin API writes them: "never" or a number of seconds.
impl From<crate::client::TokenLifetime> for Detail {
    fn from(v: crate::client::TokenLifetime) -> Self {
        match v {
            crate::client::TokenLifetime::Never => Self::Text("never".into()),
            crate::client::TokenLifetime::Seconds(s) => s.into(),
        }
    }
}
/// As the admin API writes them: "unlimited" or a count.
impl From<crate::client::RefreshCount> for Detail {
    fn from(v: crate::client::RefreshCount) -> Self {
        match v {
            crate::client::RefreshCount::Unlimited => Self::Text("unlimited".into()),
            crate::client::RefreshCount::Limited(n) => n.into(),
        }
    }
}
impl From<&crate::scope::ScopeSet> for Detail {
    fn from(v: &crate::scope::ScopeSet) -> Self {
        Self::from(&**v)
    }
}
impl<T: Into<Detail> + Clone> From<&[T]> for Detail {
    fn from(v: &[T]) -> Self {
        Self::List(v.iter().cloned().map(Into::into).collect())
    }
}

/// `details! { "name" => value, … }`: audit details, each value anything `Into<Detail>`.
#[macro_export]
macro_rules! details {
    ($($key:literal => $value:expr),* $(,)?) => {
        $crate::audit::Details::default()$(.with($key, $value))*
    };
}
