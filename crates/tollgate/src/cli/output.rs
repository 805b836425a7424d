//! Human-readable output: key/value tables for one object, column tables for lists.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table};
use serde_json::Value;

/// Text from the server as the terminal shows it: a control or format character (an ANSI
/// escape in a description, a bidi override in a name) is written as `\u{1b}`, so what one
/// administrator typed cannot drive another's terminal. Newlines stay for multi-line cells.
pub(crate) fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c != '\n' && tollgate_core::text::has_control(c.encode_utf8(&mut [0; 4])) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `--json` output with every control and format character as a JSON `\uXXXX` escape:
/// serde_json escapes only the ASCII ones, and C1 controls (U+009B is a CSI) or bidi
/// overrides would reach the terminal raw.
pub(crate) fn json_terminal_safe(v: &Value) -> String {
    let raw = serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c != '\n' && tollgate_core::text::has_control(c.encode_utf8(&mut [0; 4])) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => terminal_safe(s),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_from_the_server_are_escaped_for_the_terminal() {
        assert_eq!(terminal_safe("a\u{1b}[2Jb\tc\nd"), "a\\u{1b}[2Jb\\u{9}c\nd");
        assert_eq!(terminal_safe("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        let j = json_terminal_safe(&serde_json::json!({"d": "\u{9b}31m\u{1b}"}));
        assert!(j.contains("\\u009b31m\\u001b"), "{j}");
        let back: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["d"], "\u{9b}31m\u{1b}");
    }
}
