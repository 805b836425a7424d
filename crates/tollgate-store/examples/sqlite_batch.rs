//! How a batch of token rows is best written to SQLite: one prepared INSERT per row
//! (`rows`, what `sqlite_writer.rs` does) or one INSERT of a JSON array unpacked by
//! `json_each` (`json`, how the batches went through sqlx before). Same schema
//! (the migrations), same pragmas as the server, no server around it:
//!
//!   cargo run --release -p tollgate-store --example sqlite_batch -- 12 rows [FULL|OFF]
//!
//! Prints the time per batch and per row; `OFF` leaves out the fsync of each commit.
#![allow(clippy::unwrap_used)]

use rusqlite::{params, Connection};
use serde_json::json;
use std::time::Instant;

const CLIENT: &str = "c1b2c3d4-0000-4000-8000-000000000001";
const ONE: &str = "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, username, \
    scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, issued_at, \
    expires_at, revoked_at, consumed_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
const JSON: &str = "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, username, \
    scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, issued_at, \
    expires_at, revoked_at, consumed_at) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, \
    value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, \
    value->>14, value->>15 FROM json_each(?1)";

fn open(path: &std::path::Path, synchronous: &str) -> Connection {
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", synchronous).unwrap();
    c.pragma_update(None, "temp_store", "MEMORY").unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        c.execute_batch(&std::fs::read_to_string(f).unwrap())
            .unwrap();
    }
    c.execute(
        "INSERT INTO clients (client_id, name, name_key, version, client_type, grant_mask, \
         redirect_uris, scopes, active, revision, created_at, updated_at) \
         VALUES (?1, 'bench', 'bench', '1', 'confidential', 15, '[]', '', 1, 1, 0, 0)",
        [CLIENT],
    )
    .unwrap();
    c
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(12, |a| a.parse().unwrap());
    let mode = args.next().unwrap_or_else(|| "rows".into());
    let synchronous = args.next().unwrap_or_else(|| "FULL".into());
    assert!(mode == "rows" || mode == "json", "mode is rows or json");
    let dir = std::env::temp_dir().join(format!("tollgate-sqlite-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = open(&dir.join("t.db"), &synchronous);
    let batches = (36_000 / n).max(1);
    let t0 = 1_790_000_000_000i64;
    let mut i = 0i64;
    let start = Instant::now();
    for _ in 0..batches {
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        if mode == "rows" {
            let mut st = c.prepare_cached(ONE).unwrap();
            for _ in 0..n {
                i += 1;
                st.execute(params![
                    format!("{i:016x}"),
                    format!("{:043}", i * 7919),
                    "access",
                    CLIENT,
                    None::<String>,
                    None::<String>,
                    "read write",
                    "client_credentials",
                    None::<String>,
                    None::<i64>,
                    0,
                    None::<i64>,
                    t0 + i,
                    t0 + i + 3_600_000,
                    None::<i64>,
                    None::<i64>
                ])
                .unwrap();
            }
        } else {
            let rows: Vec<_> = (0..n)
                .map(|_| {
                    i += 1;
                    json!([
                        format!("{i:016x}"),
                        format!("{:043}", i * 7919),
                        "access",
                        CLIENT,
                        null,
                        null,
                        "read write",
                        "client_credentials",
                        null,
                        null,
                        0,
                        null,
                        t0 + i,
                        t0 + i + 3_600_000,
                        null,
                        null
                    ])
                })
                .collect();
            let text = serde_json::Value::Array(rows).to_string();
            c.prepare_cached(JSON).unwrap().execute([text]).unwrap();
        }
        c.execute_batch("COMMIT").unwrap();
    }
    let micros = start.elapsed().as_micros() as f64;
    println!(
        "{mode} n={n} synchronous={synchronous}: {:.0} µs per batch, {:.1} µs per row",
        micros / batches as f64,
        micros / (batches * n) as f64
    );
    drop(c);
    std::fs::remove_dir_all(&dir).unwrap();
}
