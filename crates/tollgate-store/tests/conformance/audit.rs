//! `AuditStore`, and the audit entry every mutation writes in its transaction.

use crate::common::*;

tollgate_testkit::backend_tests!(
    every_mutation_writes_its_audit_entry_in_the_same_transaction,
    list_audit_is_newest_first_pages_with_before_and_filters,
);

async fn every_mutation_writes_its_audit_entry_in_the_same_transaction(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let mut expected: Vec<AuditEvent> = Vec::new();

    let c = client("c1", "Audited", "1.0");
    let ev = AuditEvent {
        details: details! { "name" => "Audited", "nested" => details! { "list" => vec![1_i64, 2, 3], "ü" => "✓" } },
        source_ip: None,
        ..event("admin-key:ci", "client.create", "client", "c1")
    };
    store.insert_client(&c, &ev).await.unwrap();
    expected.push(ev);

    // A refused insert leaves no entry.
    let dup = client("c2", "AUDITED", "1.0");
    let r = store
        .insert_client(
            &dup,
            &event("admin-key:ci", "client.create", "client", "c2"),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::DuplicateNameVersion)),
        "{b}: {r:?}"
    );

    let updated = Client {
        description: Some("changed".into()),
        revision: 2,
        ..c.clone()
    };
    let ev = event("user:admin", "client.update", "client", "c1");
    assert!(store.update_client(&updated, 1, &ev).await.unwrap());
    expected.push(ev);

    // A refused (stale) update and a refused (duplicate) update leave none.
    assert!(!store
        .update_client(
            &updated,
            1,
            &event("user:admin", "client.update", "client", "c1")
        )
        .await
        .unwrap());
    let other = client("c3", "Audited", "2.0");
    let ev = create_event(&other);
    store.insert_client(&other, &ev).await.unwrap();
    expected.push(ev);
    let onto_other = Client {
        version: "2.0".into(),
        revision: 3,
        ..updated.clone()
    };
    let r = store
        .update_client(
            &onto_other,
            2,
            &event("user:admin", "client.update", "client", "c1"),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::DuplicateNameVersion)),
        "{b}: {r:?}"
    );

    let ev = event("cli", "client.delete", "client", "c1");
    assert!(store
        .delete_client(&ClientId::new("c1"), Some(2), &ev)
        .await
        .unwrap());
    expected.push(ev);
    // Deleting what is not there leaves none.
    assert!(!store
        .delete_client(
            &ClientId::new("c1"),
            None,
            &event("cli", "client.delete", "client", "c1")
        )
        .await
        .unwrap());

    let key = admin_key("k1", "hash-1", 0);
    let ev = event("cli", "admin_key.create", "admin_key", "k1");
    store.insert_admin_key(&key, &ev).await.unwrap();
    expected.push(ev);
    let r = store
        .insert_admin_key(
            &admin_key("k2", "hash-1", 0),
            &event("cli", "admin_key.create", "admin_key", "k2"),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Duplicate(_))), "{b}: {r:?}");
    let ev = event("cli", "admin_key.delete", "admin_key", "k1");
    assert!(store
        .delete_admin_key(&AdminKeyId::new("k1"), &ev)
        .await
        .unwrap());
    expected.push(ev);
    assert!(!store
        .delete_admin_key(
            &AdminKeyId::new("k1"),
            &event("cli", "admin_key.delete", "admin_key", "k1")
        )
        .await
        .unwrap());

    let u = user("u1", "alice");
    let ev = event("cli", "user.create", "user", "u1");
    store.insert_user(&u, &ev).await.unwrap();
    expected.push(ev);
    let r = store
        .insert_user(
            &user("u2", "ALICE"),
            &event("cli", "user.create", "user", "u2"),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Duplicate(_))), "{b}: {r:?}");

    let log = audit_log(&*store).await;
    let got: Vec<AuditEvent> = log.iter().rev().map(|e| e.event.clone()).collect();
    assert_eq!(
        got, expected,
        "{b}: the audit log must hold exactly one entry per successful mutation"
    );
}

async fn list_audit_is_newest_first_pages_with_before_and_filters(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();

    // 12 creations by two actors, then 3 deletions: 15 entries.
    let mut written = Vec::new();
    for i in 0..12 {
        let id = format!("k{i:02}");
        let actor = if i % 2 == 0 {
            "admin-key:ci"
        } else {
            "user:root"
        };
        let ev = AuditEvent {
            at: at(i),
            details: details! { "i" => i },
            ..event(actor, "admin_key.create", "admin_key", &id)
        };
        store
            .insert_admin_key(&admin_key(&id, &format!("hash-{i}"), i), &ev)
            .await
            .unwrap();
        written.push(ev);
    }
    for i in [3, 4, 7] {
        let id = format!("k{i:02}");
        let ev = AuditEvent {
            at: at(100 + i),
            ..event("user:root", "admin_key.delete", "admin_key", &id)
        };
        assert!(store
            .delete_admin_key(&AdminKeyId::new(id.as_str()), &ev)
            .await
            .unwrap());
        written.push(ev);
    }

    let all = audit_log(&*store).await;
    assert_eq!(all.len(), 15, "{b}: entry count");
    assert!(
        all.windows(2).all(|w| w[0].id > w[1].id),
        "{b}: ids must decrease (newest first)"
    );
    let events: Vec<AuditEvent> = all.iter().map(|e| e.event.clone()).collect();
    let newest_first: Vec<AuditEvent> = written.iter().rev().cloned().collect();
    assert_eq!(events, newest_first, "{b}: newest first, every field kept");

    // Paging with `before` visits every entry once, in the same order.
    let page_all = |filter: AuditFilter, limit: u32| {
        let store = &store;
        async move {
            let mut out: Vec<AuditEntry> = Vec::new();
            let mut before = None;
            loop {
                let page = store.list_audit(&filter, before, limit).await.unwrap();
                assert!(
                    page.len() <= limit as usize,
                    "{b}: a page exceeded its limit"
                );
                let mut last = before.unwrap_or(i64::MAX);
                for e in &page {
                    assert!(e.id < last, "{b}: ids must decrease below `before`");
                    last = e.id;
                }
                match page.last() {
                    None => return out,
                    Some(e) => before = Some(e.id),
                }
                out.extend(page);
            }
        }
    };
    assert_eq!(
        page_all(AuditFilter::default(), 4).await,
        all,
        "{b}: paging with before"
    );
    let first = store
        .list_audit(&AuditFilter::default(), None, 4)
        .await
        .unwrap();
    assert_eq!(first, all[..4], "{b}: first page");
    let second = store
        .list_audit(&AuditFilter::default(), Some(first[3].id), 4)
        .await
        .unwrap();
    assert_eq!(second, all[4..8], "{b}: second page");

    let filter = |actor: Option<&str>, action: Option<&str>, target: Option<&str>| AuditFilter {
        actor: actor.map(str::to_owned),
        action: action.map(str::to_owned),
        target_id: target.map(str::to_owned),
    };
    let expect = |pred: &dyn Fn(&AuditEvent) -> bool| -> Vec<AuditEntry> {
        all.iter().filter(|e| pred(&e.event)).cloned().collect()
    };

    let by_actor = page_all(filter(Some("user:root"), None, None), 2).await;
    assert_eq!(
        by_actor,
        expect(&|e| e.actor == "user:root"),
        "{b}: actor filter"
    );
    assert_eq!(by_actor.len(), 9, "{b}: actor filter count");

    let by_action = page_all(filter(None, Some("admin_key.delete"), None), 10).await;
    assert_eq!(
        by_action,
        expect(&|e| e.action == "admin_key.delete"),
        "{b}: action filter"
    );
    assert_eq!(by_action.len(), 3, "{b}: action filter count");

    let by_target = page_all(filter(None, None, Some("k04")), 10).await;
    assert_eq!(
        by_target
            .iter()
            .map(|e| e.event.action.as_str())
            .collect::<Vec<_>>(),
        ["admin_key.delete", "admin_key.create"],
        "{b}: target filter, newest first"
    );

    let combined = page_all(
        filter(Some("admin-key:ci"), Some("admin_key.create"), None),
        3,
    )
    .await;
    assert_eq!(
        combined,
        expect(&|e| e.actor == "admin-key:ci" && e.action == "admin_key.create"),
        "{b}: actor+action filter"
    );
    assert_eq!(combined.len(), 6, "{b}: actor+action count");

    assert!(
        page_all(filter(Some("USER:ROOT"), None, None), 10)
            .await
            .is_empty(),
        "{b}: actor filter is exact"
    );
    assert!(
        page_all(filter(Some("user:root"), None, Some("k00")), 10)
            .await
            .is_empty(),
        "{b}: filters combine with AND"
    );

    // `before` combines with a filter.
    let older = store
        .list_audit(
            &filter(Some("user:root"), None, None),
            Some(by_actor[2].id),
            100,
        )
        .await
        .unwrap();
    assert_eq!(older, by_actor[3..], "{b}: before within a filter");
}
