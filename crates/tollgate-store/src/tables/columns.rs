//! The columns a write binds, named once with the field each comes from: the SQLite writer
//! thread binds them one by one (rusqlite), sqlx binds them for single-row writes, and
//! PostgreSQL's batch insert binds one array per column (UNNEST); all build their SQL text
//! from the same list.

use std::borrow::Cow;

/// How a column's value is read off the record, and so its SQL type.
pub(crate) enum Get<T> {
    Text(for<'a> fn(&'a T) -> Option<Cow<'a, str>>),
    Int(fn(&T) -> Option<i64>),
    Bool(fn(&T) -> bool),
}

/// One written column: its name, where its value comes from, and whether an update
/// rewrites it (`false` for identity and creation columns).
pub(crate) struct Col<T> {
    pub name: &'static str,
    pub get: Get<T>,
    pub updated: bool,
}

/// A column's value for one record.
pub(crate) enum Value<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(bool),
}

impl<T> Col<T> {
    pub const fn text(name: &'static str, get: for<'a> fn(&'a T) -> Option<Cow<'a, str>>) -> Self {
        Self {
            name,
            get: Get::Text(get),
            updated: true,
        }
    }

    pub const fn int(name: &'static str, get: fn(&T) -> Option<i64>) -> Self {
        Self {
            name,
            get: Get::Int(get),
            updated: true,
        }
    }

    pub const fn bool(name: &'static str, get: fn(&T) -> bool) -> Self {
        Self {
            name,
            get: Get::Bool(get),
            updated: true,
        }
    }

    /// Written on insert only.
    pub const fn fixed(self) -> Self {
        Self {
            updated: false,
            ..self
        }
    }

    pub fn value<'a>(&self, record: &'a T) -> Value<'a> {
        match self.get {
            Get::Text(f) => Value::Text(f(record)),
            Get::Int(f) => Value::Int(f(record)),
            Get::Bool(f) => Value::Bool(f(record)),
        }
    }

    /// The PostgreSQL array type one column of a batch travels as.
    pub fn pg_array(&self) -> &'static str {
        match self.get {
            Get::Text(_) => "text[]",
            Get::Int(_) => "bigint[]",
            Get::Bool(_) => "boolean[]",
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

/// `INSERT … VALUES ($1, …, $n)`, one row.
pub(crate) fn insert_row_sql<T>(table: &str, cols: &[Col<T>]) -> String {
    insert_sql(table, cols, |n| {
        let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
        format!("VALUES ({})", marks.join(", "))
    })
}

/// `UPDATE table SET a = $1, … WHERE …` over the updated columns; `condition(n)` writes
/// the WHERE clause, whose own parameters start at `$n+1`.
pub(crate) fn update_sql<T>(
    table: &str,
    cols: &[Col<T>],
    condition: impl Fn(usize) -> String,
) -> String {
    let set: Vec<String> = cols
        .iter()
        .filter(|c| c.updated)
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", c.name, i + 1))
        .collect();
    format!(
        "UPDATE {table} SET {} WHERE {}",
        set.join(", "),
        condition(set.len())
    )
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as V, ValueRef};
        Ok(match self {
            Self::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Self::Int(Some(i)) => ToSqlOutput::Owned(V::Integer(*i)),
            Self::Bool(b) => ToSqlOutput::Owned(V::Integer(i64::from(*b))),
            Self::Text(None) | Self::Int(None) => ToSqlOutput::Owned(V::Null),
        })
    }
}
