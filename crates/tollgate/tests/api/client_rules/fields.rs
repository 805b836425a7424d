//! Client rules: description, version, client id, endpoints and timestamps (SPEC §1).

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// description, version
// ---------------------------------------------------------------------------------------

/// The length, blank and trimming rules of description and version are core's
/// (`client_validate::each_field_rule_has_its_field_and_code`); here what JSON carries: an
/// absent description is `null`, `null` in a PATCH clears it, and the changes are stored.
#[backends]
#[tokio::test]
async fn description_null_clears_it_and_version_changes_are_stored_trimmed(s: TestServer) {
    let c = s.create_client(&confidential("No description")).await;
    assert_eq!(c["description"], Value::Null, "optional: {c}");
    let id = id_of(&c);
    let v = patch_ok(&s, &id, &json!({ "description": "Short now." })).await;
    assert_eq!(v["description"], "Short now.", "{v}");
    // null clears it.
    let v = patch_ok(&s, &id, &json!({ "description": null })).await;
    assert_eq!(v["description"], Value::Null, "{v}");
    assert_eq!(get_client(&s, &id).await["description"], Value::Null);
    // The version can change.
    let v = patch_ok(&s, &id, &json!({ "version": " 2.0 " })).await;
    assert_eq!(v["version"], "2.0", "{v}");
    assert_eq!(get_client(&s, &id).await["version"], "2.0");
}

// ---------------------------------------------------------------------------------------
// client_id
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn client_id_is_generated_url_safe_and_unique(s: TestServer) {
    let mut ids = BTreeSet::new();
    for i in 0..12 {
        let name = format!("Id test {i}");
        let body = if i % 2 == 0 {
            confidential(&name)
        } else {
            public(&name)
        };
        let c = s.create_client(&body).await;
        let id = id_of(&c);
        assert!(
            id.len() >= 16,
            "client_id {id:?} is too short to be random and unguessable"
        );
        assert!(
            id.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch)),
            "client_id {id:?} is not URL-safe (RFC 3986 unreserved)"
        );
        assert!(
            !id.to_lowercase().contains("id test"),
            "derived from the name"
        );
        ids.insert(id);
    }
    assert_eq!(ids.len(), 12, "client_ids repeat: {ids:?}");

    // The server chooses it: a client_id in the request is refused.
    let res = s
        .post(
            "/clients",
            &with(confidential("Chosen"), json!({ "client_id": "mine" })),
        )
        .await;
    expect_problem(res, 400).await;

    // It never changes: not on edit, type change, or secret rotation.
    let c = s.create_client(&public("Stable")).await;
    let id = id_of(&c);
    let v = patch_ok(&s, &id, &json!({ "description": "edited" })).await;
    assert_eq!(id_of(&v), id);
    let v = patch_ok(&s, &id, &json!({ "type": "confidential" })).await;
    assert_eq!(id_of(&v), id);
    let res = s
        .admin(Method::POST, &format!("/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    let r: Value = res.json().await.unwrap();
    assert_eq!(id_of(&r), id, "{r}");
    let v = patch_ok(&s, &id, &json!({ "active": false })).await;
    assert_eq!(id_of(&v), id);
    assert_eq!(id_of(&get_client(&s, &id).await), id);
    // Usable as-is in a URL path.
    let res = s.get(&format!("/clients/{id}")).await;
    assert_eq!(res.status(), 200);
}

// ---------------------------------------------------------------------------------------
// endpoints, timestamps
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn endpoints_are_built_from_the_issuer(s: TestServer) {
    // The harness leaves the issuer at its default: http:// + the listen address.
    let c = s.create_client(&public("Endpoints")).await;
    let id = id_of(&c);
    let expected = json!({
        "authorization": format!("{}/oauth2/authorize", s.base),
        "token": format!("{}/oauth2/token", s.base),
        "refresh_token": format!("{}/oauth2/token", s.base),
    });
    assert_eq!(c["endpoints"], expected, "{c}");
    assert_eq!(get_client(&s, &id).await["endpoints"], expected);
    assert_eq!(list(&s, "").await[0]["endpoints"], expected);

    // Another instance of the same deployment with a configured public issuer (behind a
    // proxy, under a path prefix, written with a trailing slash).
    let other = OtherServer::start(
        &s,
        Some("https://login.example.com/tollgate/"),
        Policy::default(),
    )
    .await;
    let v = other.send(&s, Method::GET, &path(&id), None).await;
    assert_eq!(
        v["endpoints"],
        json!({
            "authorization": "https://login.example.com/tollgate/oauth2/authorize",
            "token": "https://login.example.com/tollgate/oauth2/token",
            "refresh_token": "https://login.example.com/tollgate/oauth2/token",
        }),
        "{v}"
    );
    let created = other
        .send(
            &s,
            Method::POST,
            "/clients",
            Some(&confidential("Via proxy")),
        )
        .await;
    assert_eq!(
        created["endpoints"]["token"], "https://login.example.com/tollgate/oauth2/token",
        "{created}"
    );
    // Endpoints are not stored with the client: the first instance shows its own.
    assert_eq!(
        get_client(&s, &id_of(&created)).await["endpoints"],
        expected
    );
}

#[backends]
#[tokio::test]
async fn timestamps_are_rfc3339_utc(db: TestDb) {
    use chrono::{DateTime, Utc};
    fn parse(v: &Value, field: &str) -> DateTime<Utc> {
        let raw = v[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is not a string: {v}"));
        let t = DateTime::parse_from_rfc3339(raw)
            .unwrap_or_else(|e| panic!("{field} {raw:?} is not RFC 3339: {e}"));
        assert_eq!(
            t.offset().local_minus_utc(),
            0,
            "{field} {raw:?} is not UTC"
        );
        assert!(
            raw.ends_with('Z') || raw.ends_with("+00:00"),
            "{field} {raw:?} does not say UTC"
        );
        t.with_timezone(&Utc)
    }
    let s = common::start(db).await;
    let before = Utc::now() - chrono::Duration::seconds(1);
    let c = s.create_client(&confidential("Clock")).await;
    let after = Utc::now() + chrono::Duration::seconds(1);
    let id = id_of(&c);
    let created = parse(&c, "created_at");
    let updated = parse(&c, "updated_at");
    assert!(
        before <= created && created <= after,
        "created_at {created} is not now"
    );
    assert!(created <= updated, "updated_at before created_at");

    let g = get_client(&s, &id).await;
    assert_eq!(parse(&g, "created_at"), created, "GET disagrees: {g}");
    assert_eq!(parse(&g, "updated_at"), updated, "GET disagrees: {g}");
    let items = list(&s, "").await;
    assert_eq!(parse(&items[0], "created_at"), created, "list disagrees");

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let v = patch_ok(&s, &id, &json!({ "description": "touched" })).await;
    assert_eq!(parse(&v, "created_at"), created, "created_at moved: {v}");
    let touched = parse(&v, "updated_at");
    assert!(touched > updated, "updated_at did not advance: {v}");
    let g = get_client(&s, &id).await;
    assert_eq!(parse(&g, "created_at"), created);
    assert_eq!(parse(&g, "updated_at"), touched, "GET disagrees: {g}");
}
