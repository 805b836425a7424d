//! Client rules: the name, name+version uniqueness, client type and secret (SPEC §1).

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// name
// ---------------------------------------------------------------------------------------

/// The rules of a PATCH of the name are core's (`client_validate::update_rules_one_row_a_case`);
/// here: the refusal over HTTP changes nothing stored, and the list and the name+version
/// constraint still agree on the old name.
#[backends]
#[tokio::test]
async fn patch_changing_name_is_refused_and_leaves_the_name_taken(s: TestServer) {
    let c = s.create_client(&confidential("Payroll")).await;
    let id = id_of(&c);
    patch_refused(
        &s,
        &id,
        &json!({ "name": "Payroll Renamed", "version": "9.9" }),
        "name",
        "immutable",
    )
    .await;
    let after = get_client(&s, &id).await;
    assert_eq!(after["name"], "Payroll", "{after}");
    assert_eq!(after["version"], "1.0", "{after}");
    // The list and the name+version constraint agree: the old name is still taken,
    // the attempted one is free.
    let items = list(&s, "&q=payroll").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["name"], "Payroll", "{items:?}");
    assert!(list(&s, "&q=renamed").await.is_empty());
    expect_problem(s.post("/clients", &confidential("Payroll")).await, 409).await;
    s.create_client(&confidential("Payroll Renamed")).await;
    // The rest of the client stays editable.
    let v = patch_ok(&s, &id, &json!({ "description": "still editable" })).await;
    assert_eq!(v["name"], "Payroll", "{v}");
}

// ---------------------------------------------------------------------------------------
// name + version uniqueness
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn name_and_version_are_unique_case_insensitively(s: TestServer) {
    s.create_client(&confidential("Billing")).await;
    for dup in ["Billing", "billing", "BILLING", "  bIlLiNg  "] {
        expect_problem(s.post("/clients", &confidential(dup)).await, 409).await;
    }
    // The version is trimmed before comparing too.
    expect_problem(
        s.post(
            "/clients",
            &with(confidential("Billing"), json!({ "version": " 1.0 " })),
        )
        .await,
        409,
    )
    .await;
    // Case-insensitive beyond ASCII.
    s.create_client(&confidential("Ärzte")).await;
    for dup in ["ÄRZTE", "ärzte"] {
        expect_problem(s.post("/clients", &confidential(dup)).await, 409).await;
    }
    // Another version of the same name, and another name with the same version.
    let v2 = s
        .create_client(&with(confidential("billing"), json!({ "version": "2.0" })))
        .await;
    s.create_client(&confidential("Invoicing")).await;
    assert_eq!(list(&s, "&q=billing").await.len(), 2);

    // A change of version that collides is refused the same way, and changes nothing.
    let id = id_of(&v2);
    let before = snapshot(&s, &id).await;
    expect_problem(s.patch(&path(&id), &json!({ "version": "1.0" })).await, 409).await;
    assert_eq!(snapshot(&s, &id).await, before);
    assert_eq!(list(&s, "&q=billing").await.len(), 2);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_of_one_name_version_give_exactly_one_201(s: TestServer) {
    // Spellings that differ only in case and surrounding spaces: one client.
    let spellings = ["Race", "race", "RACE", " Race ", "rAcE"];
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let http = s.http.clone();
        let url = s.url("/admin/api/v1/clients");
        let key = s.key.clone();
        let body = if i % 2 == 0 {
            confidential(spellings[i % spellings.len()])
        } else {
            public(spellings[i % spellings.len()])
        };
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let res = http
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, ct, res.text().await.unwrap())
        }));
    }
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = results.iter().filter(|r| r.0 == 201).count();
    let conflicts = results.iter().filter(|r| r.0 == 409).count();
    assert_eq!(created, 1, "exactly one 201 expected: {results:#?}");
    assert_eq!(conflicts, 19, "the other 19 must be 409: {results:#?}");
    for (status, ct, body) in &results {
        if *status == 409 {
            assert_eq!(ct.as_deref(), Some("application/problem+json"), "{body}");
        }
    }
    let items = list(&s, "&q=race").await;
    assert_eq!(items.len(), 1, "exactly one stored: {items:#?}");
}

// ---------------------------------------------------------------------------------------
// type and client_secret
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn public_client_never_has_a_secret(s: TestServer) {
    let c = s.create_client(&public("Browser App")).await;
    let id = id_of(&c);
    assert_eq!(c["type"], "public", "{c}");
    assert!(c.get("client_secret").is_none(), "secret on create: {c}");
    assert_eq!(c["has_secret"], false, "{c}");

    let g = get_client(&s, &id).await;
    assert!(g.get("client_secret").is_none(), "{g}");
    assert_eq!(g["has_secret"], false, "{g}");
    let stored = s.stored_client(&id).await;
    assert!(
        stored.secret_hash.is_none(),
        "a public client has a stored secret"
    );

    // Edits, including re-stating the type, never produce one.
    for body in [
        json!({ "description": "a single-page app" }),
        json!({ "type": "public" }),
        json!({ "grant_types": ["authorization_code", "implicit"] }),
    ] {
        let v = patch_ok(&s, &id, &body).await;
        assert!(v.get("client_secret").is_none(), "after {body}: {v}");
        assert_eq!(v["has_secret"], false, "after {body}: {v}");
    }

    // There is no secret to rotate.
    let res = s
        .admin(Method::POST, &format!("/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    expect_problem(res, 409).await;
    let g = get_client(&s, &id).await;
    assert_eq!(g["has_secret"], false, "{g}");
    assert!(g.get("client_secret").is_none(), "{g}");
    assert!(!secret_works(&s, &id, "").await);

    // An implicit-only public client neither.
    let c = s
        .create_client(&with(
            public("Implicit App"),
            json!({ "grant_types": ["implicit"] }),
        ))
        .await;
    assert!(c.get("client_secret").is_none(), "{c}");
    assert_eq!(c["has_secret"], false, "{c}");
}

#[backends]
#[tokio::test]
async fn type_change_public_to_confidential_returns_a_secret_once(s: TestServer) {
    let c = s.create_client(&public("Native")).await;
    let id = id_of(&c);

    let res = s
        .patch(&path(&id), &json!({ "type": "confidential" }))
        .await;
    assert_eq!(res.status(), 200);
    let cache = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["type"], "confidential", "{v}");
    assert_eq!(v["has_secret"], true, "{v}");
    let secret = v["client_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_secret after the type change: {v}"))
        .to_owned();
    assert_strong_secret(&secret);
    assert_eq!(
        cache.as_deref(),
        Some("no-store"),
        "a response carrying a secret must not be cached"
    );
    assert!(secret_works(&s, &id, &secret).await, "the new secret works");

    // Never again: not on GET, not in the list, not on later PATCHes.
    let g = get_client(&s, &id).await;
    assert!(g.get("client_secret").is_none(), "{g}");
    assert!(!g.to_string().contains(&secret), "GET shows the secret");
    assert_eq!(g["has_secret"], true, "{g}");
    let items = list(&s, "").await;
    assert!(
        !Value::from(items).to_string().contains(&secret),
        "the list shows the secret"
    );
    for body in [
        json!({ "description": "now confidential" }),
        // Re-stating the type is not a change: no new secret.
        json!({ "type": "confidential" }),
    ] {
        let v = patch_ok(&s, &id, &body).await;
        assert!(v.get("client_secret").is_none(), "after {body}: {v}");
    }
    assert!(
        secret_works(&s, &id, &secret).await,
        "the secret survives later edits"
    );
}

#[backends]
#[tokio::test]
async fn type_change_confidential_to_public_deletes_the_secret(s: TestServer) {
    let c = s
        .create_client(&with(
            confidential("Hybrid"),
            json!({ "grant_types": ["authorization_code"], "redirect_uris": [CB] }),
        ))
        .await;
    let id = id_of(&c);
    let first = c["client_secret"].as_str().unwrap().to_owned();
    // Rotate with a grace period, so there are two valid secrets.
    let res = s
        .admin(Method::POST, &format!("/clients/{id}/secret"))
        .json(&json!({ "grace_seconds": 3600 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let second = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(secret_works(&s, &id, &first).await, "grace period");
    assert!(secret_works(&s, &id, &second).await);

    let v = patch_ok(&s, &id, &json!({ "type": "public" })).await;
    assert_eq!(v["type"], "public", "{v}");
    assert_eq!(v["has_secret"], false, "{v}");
    assert!(v.get("client_secret").is_none(), "{v}");
    assert!(
        v.get("previous_secret_expires_at").is_none(),
        "the previous secret is gone too: {v}"
    );
    assert!(!secret_works(&s, &id, &first).await, "old secret");
    assert!(!secret_works(&s, &id, &second).await, "current secret");
    let stored = s.stored_client(&id).await;
    assert!(stored.secret_hash.is_none(), "hash kept");
    assert!(stored.previous_secret_hash.is_none(), "previous hash kept");
    let g = get_client(&s, &id).await;
    assert_eq!(g["has_secret"], false, "{g}");

    // Back to confidential: a brand-new secret; the deleted ones stay dead.
    let v = patch_ok(&s, &id, &json!({ "type": "confidential" })).await;
    let third = v["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(third, first);
    assert_ne!(third, second);
    assert!(secret_works(&s, &id, &third).await);
    assert!(!secret_works(&s, &id, &first).await);
    assert!(!secret_works(&s, &id, &second).await);
}

#[backends]
#[tokio::test]
async fn client_secret_has_at_least_256_bits_and_is_returned_only_once(s: TestServer) {
    let mut issued: Vec<(String, String)> = Vec::new();
    for i in 0..5 {
        let res = s.post("/clients", &confidential(&format!("Svc {i}"))).await;
        assert_eq!(res.status(), 201);
        let cache = res
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(cache.as_deref(), Some("no-store"), "creation response");
        let c: Value = res.json().await.unwrap();
        let secret = c["client_secret"]
            .as_str()
            .unwrap_or_else(|| panic!("no client_secret on creation: {c}"))
            .to_owned();
        assert_strong_secret(&secret);
        assert_eq!(c["has_secret"], true, "{c}");
        let id = id_of(&c);
        assert!(secret_works(&s, &id, &secret).await, "the secret works");
        assert!(!secret_works(&s, &id, &format!("{secret}x")).await);
        // Stored only as an algorithm-tagged hash.
        let stored = s.stored_client(&id).await;
        let hash = stored.secret_hash.unwrap();
        assert!(!hash.contains(&secret), "the secret is stored in clear");
        let (alg, rest) = hash
            .split_once('$')
            .unwrap_or_else(|| panic!("stored hash carries no algorithm: {hash}"));
        assert!(!alg.is_empty() && !rest.is_empty(), "{hash}");
        issued.push((id, secret));
    }
    let distinct: BTreeSet<&String> = issued.iter().map(|(_, sec)| sec).collect();
    assert_eq!(distinct.len(), 5, "secrets repeat");
    // Each secret belongs to its own client only.
    assert!(!secret_works(&s, &issued[0].0, &issued[1].1).await);

    // Never shown again: GET, list, PATCH, nor the audit log.
    for (id, _) in &issued {
        let g = get_client(&s, id).await;
        assert!(g.get("client_secret").is_none(), "{g}");
        let v = patch_ok(&s, id, &json!({ "description": "edited" })).await;
        assert!(v.get("client_secret").is_none(), "{v}");
    }
    let list_text = s.get("/clients?limit=500").await.text().await.unwrap();
    assert!(!list_text.contains("client_secret"), "{list_text}");
    let audit_text = s.get("/audit?limit=500").await.text().await.unwrap();
    for (id, _) in &issued {
        let get_text = s.get(&path(id)).await.text().await.unwrap();
        for (what, text) in [
            ("GET", &get_text),
            ("list", &list_text),
            ("audit", &audit_text),
        ] {
            for (_, secret) in &issued {
                assert!(!text.contains(secret.as_str()), "{what} shows a secret");
            }
        }
    }

    // Rotation returns the new secret once; the old one stops working (no grace).
    let (id, old) = &issued[0];
    let res = s
        .admin(Method::POST, &format!("/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    let new = r["client_secret"].as_str().unwrap().to_owned();
    assert_strong_secret(&new);
    assert!(!distinct.contains(&new), "rotation repeated a secret");
    assert!(secret_works(&s, id, &new).await);
    assert!(
        !secret_works(&s, id, old).await,
        "the rotated-out secret still works"
    );
    let g = s.get(&path(id)).await.text().await.unwrap();
    assert!(!g.contains(&new), "GET after rotation shows the secret");
    let l = s.get("/clients?limit=500").await.text().await.unwrap();
    assert!(
        !l.contains(&new),
        "the list after rotation shows the secret"
    );
}
