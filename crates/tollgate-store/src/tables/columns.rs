//! The columns an insert binds, named once with the field each comes from: the SQLite
//! writer binds them one by one (rusqlite), PostgreSQL's batch insert binds one array per
//! column (UNNEST), and both build their INSERT text from the same list.

use std::borrow::Cow;

/// How a column's value is read off the record, and so its SQL type.
pub(crate) enum Get<T> {
    Text(for<'a> fn(&'a T) -> Option<Cow<'a, str>>),
    Int(fn(&T) -> Option<i64>),
}

/// One inserted column: its name and where its value comes from.
pub(crate) struct Col<T> {
    pub name: &'static str,
    pub get: Get<T>,
}

/// A column's value for one record.
pub(crate) enum Value<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
}

impl<T> Col<T> {
    pub const fn text(name: &'static str, get: for<'a> fn(&'a T) -> Option<Cow<'a, str>>) -> Self {
        Self {
            name,
            get: Get::Text(get),
        }
    }

    pub const fn int(name: &'static str, get: fn(&T) -> Option<i64>) -> Self {
        Self {
            name,
            get: Get::Int(get),
        }
    }

    pub fn value<'a>(&self, record: &'a T) -> Value<'a> {
        match self.get {
            Get::Text(f) => Value::Text(f(record)),
            Get::Int(f) => Value::Int(f(record)),
        }
    }

    /// The PostgreSQL array type one column of a batch travels as.
    pub fn pg_array(&self) -> &'static str {
        match self.get {
            Get::Text(_) => "text[]",
            Get::Int(_) => "bigint[]",
        }
    }
}

/// `INSERT INTO table (a, b, …)` followed by `values(n)` for the n columns.
pub(crate) fn insert_sql<T>(
    table: &str,
    cols: &[Col<T>],
    values: impl Fn(usize) -> String,
) -> String {
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    format!(
        "INSERT INTO {table} ({}) {}",
        names.join(", "),
        values(cols.len())
    )
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as V, ValueRef};
        Ok(match self {
            Self::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Self::Int(Some(i)) => ToSqlOutput::Owned(V::Integer(*i)),
            Self::Text(None) | Self::Int(None) => ToSqlOutput::Owned(V::Null),
        })
    }
}
