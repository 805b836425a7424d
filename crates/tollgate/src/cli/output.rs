//! Human-readable output: key/value tables for one object, column tables for lists.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table};
use serde_json::Value;

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

pub(crate) fn client_detail(c: &Value) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for key in [
        "client_id",
        "name",
        "version",
        "description",
        "type",
        "grant_types",
        "redirect_uris",
        "scopes",
        "access_token_lifetime",
        "refresh_count",
        "active",
        "created_at",
        "updated_at",
    ] {
        t.add_row(vec![key.to_owned(), text(&c[key])]);
    }
    if let Some(e) = c.get("endpoints") {
        for k in ["authorization", "token", "refresh_token"] {
            t.add_row(vec![format!("{k} endpoint"), text(&e[k])]);
        }
    }
    let mut out = t.to_string();
    if let Some(ws) = c.get("warnings").and_then(Value::as_array) {
        for w in ws {
            out.push_str(&format!("\nwarning: {}", text(&w["message"])));
        }
    }
    out
}

pub(crate) fn client_table(items: &[Value]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "CLIENT ID",
            "NAME",
            "VERSION",
            "TYPE",
            "GRANTS",
            "ACTIVE",
        ]);
    for c in items {
        t.add_row(vec![
            text(&c["client_id"]),
            text(&c["name"]),
            text(&c["version"]),
            text(&c["type"]),
            text(&c["grant_types"]),
            text(&c["active"]),
        ]);
    }
    t.to_string()
}

fn detail(v: &Value, keys: &[&str]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for key in keys {
        t.add_row(vec![(*key).to_owned(), text(&v[*key])]);
    }
    t.to_string()
}

pub(crate) fn user_detail(u: &Value) -> String {
    detail(
        u,
        &[
            "id",
            "username",
            "display_name",
            "admin",
            "active",
            "created_at",
            "updated_at",
        ],
    )
}

pub(crate) fn user_table(items: &[Value]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["ID", "USERNAME", "DISPLAY NAME", "ADMIN", "ACTIVE"]);
    for u in items {
        t.add_row(vec![
            text(&u["id"]),
            text(&u["username"]),
            text(&u["display_name"]),
            text(&u["admin"]),
            text(&u["active"]),
        ]);
    }
    t.to_string()
}

/// SPEC §2: a token that never expires is shown as *Lifetime*.
pub(crate) fn token_expires(t: &Value) -> String {
    match &t["expires_at"] {
        Value::Null => "Lifetime".into(),
        other => text(other),
    }
}

/// SPEC §2: a refresh token's remaining refreshes, or *Unlimited*; access tokens have none.
pub(crate) fn token_refreshes_left(t: &Value) -> String {
    match t.get("refreshes_left") {
        Some(Value::Null) => "Unlimited".into(),
        Some(n) => text(n),
        None => "-".into(),
    }
}

fn token_client(t: &Value) -> String {
    format!(
        "{} {} ({})",
        text(&t["client_name"]),
        text(&t["client_version"]),
        text(&t["client_id"])
    )
}

pub(crate) fn token_detail(tok: &Value) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let rows = [
        ("id", text(&tok["id"])),
        ("kind", text(&tok["kind"])),
        ("client", token_client(tok)),
        ("username", text(&tok["username"])),
        ("scopes", text(&tok["scopes"])),
        ("grant_type", text(&tok["grant_type"])),
        ("issued_at", text(&tok["issued_at"])),
        ("expires_at", token_expires(tok)),
        ("refreshes_left", token_refreshes_left(tok)),
        ("status", text(&tok["status"])),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_owned(), v]);
    }
    t.to_string()
}

pub(crate) fn token_table(items: &[Value]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "ID",
            "KIND",
            "CLIENT",
            "USER",
            "STATUS",
            "EXPIRES",
            "REFRESHES LEFT",
        ]);
    for tok in items {
        t.add_row(vec![
            text(&tok["id"]),
            text(&tok["kind"]),
            token_client(tok),
            text(&tok["username"]),
            text(&tok["status"]),
            token_expires(tok),
            token_refreshes_left(tok),
        ]);
    }
    t.to_string()
}
