//! The token endpoint's store work through the public API, on a SQLite file: `tasks`
//! concurrent writers each storing `per_task` single tokens (`insert_tokens`, group
//! committed), then reading each back by id (`get_token`, the hot read):
//!
//!   cargo run --release -p tollgate-store --example token_writes -- [tasks] [per_task]
//!
//! Prints tokens written and read per second. Unlike `sqlite_batch.rs` (raw rusqlite), this
//! measures the store's own code: its writer thread, binds and row mapping.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use std::sync::Arc;
use std::time::Instant;
use tollgate_core::audit::AuditEvent;
use tollgate_core::client::{Client, ClientType, GrantType, RefreshCount, TokenLifetime};
use tollgate_core::token::{TokenKind, TokenRecord};

fn client() -> Client {
    Client {
        client_id: "bench".into(),
        name: "bench".into(),
        version: "1".into(),
        description: None,
        client_type: ClientType::Confidential,
        grant_types: [GrantType::ClientCredentials].into_iter().collect(),
        redirect_uris: Vec::new(),
        scopes: ["read"].into(),
        access_token_lifetime: TokenLifetime::Seconds(3600),
        refresh_count: RefreshCount::Limited(0),
        active: true,
        secret_hash: None,
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        token_epoch: 0,
        revision: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn token(id: String) -> TokenRecord {
    TokenRecord {
        token_hash: format!("hash-{id}"),
        id: id.into(),
        kind: TokenKind::Access,
        client_id: "bench".into(),
        user_id: None,
        username: None,
        scopes: ["read"].into(),
        grant_type: GrantType::ClientCredentials,
        family_id: None,
        refreshes_left: None,
        client_epoch: 0,
        user_epoch: None,
        issued_at: Utc::now(),
        expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
        revoked_at: None,
        consumed_at: None,
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map_or(64, |a| a.parse().unwrap());
    let per_task: usize = args.next().map_or(200, |a| a.parse().unwrap());
    let dir = std::env::temp_dir().join(format!("tollgate-token-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = tollgate_store::open(&url).await.unwrap();
    let audit = AuditEvent {
        at: Utc::now(),
        actor: "bench".into(),
        action: "client.create".into(),
        target_type: "client".into(),
        target_id: "bench".into(),
        source_ip: None,
        details: tollgate_core::details! {},
    };
    store.insert_client(&client(), &audit).await.unwrap();

    let run = |read: bool| {
        let store = Arc::clone(&store);
        async move {
            let started = Instant::now();
            let mut handles = Vec::new();
            for t in 0..tasks {
                let store = Arc::clone(&store);
                handles.push(tokio::spawn(async move {
                    for i in 0..per_task {
                        let id = format!("t{t:04}-{i:06}");
                        if read {
                            assert!(store
                                .get_token(&id.as_str().into())
                                .await
                                .unwrap()
                                .is_some());
                        } else {
                            store.insert_tokens(&[token(id)]).await.unwrap();
                        }
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            started.elapsed()
        }
    };
    let n = (tasks * per_task) as f64;
    let wrote = run(false).await;
    let read = run(true).await;
    println!(
        "{tasks} tasks x {per_task}: write {:.0} tokens/s ({:.1} µs each), read {:.0} tokens/s",
        n / wrote.as_secs_f64(),
        wrote.as_secs_f64() * 1e6 / n,
        n / read.as_secs_f64()
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
