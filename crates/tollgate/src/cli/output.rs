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
