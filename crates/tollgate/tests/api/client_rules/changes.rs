//! Client rules: changes refused as a whole, every error at once, legacy options and policy (SPEC §1).

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// Changes and errors
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn invalid_change_is_refused_as_a_whole(s: TestServer) {
    let c = s
        .create_client(&with(
            confidential("Whole"),
            json!({ "description": "before", "scopes": ["a"] }),
        ))
        .await;
    let id = id_of(&c);
    let secret = c["client_secret"].as_str().unwrap().to_owned();

    // One good field and one bad one: neither is applied, and only the bad one is named.
    let v = patch_refused(
        &s,
        &id,
        &json!({ "description": "after", "access_token_lifetime": 0 }),
        "access_token_lifetime",
        "out_of_range",
    )
    .await;
    assert_eq!(
        field_errors(&v),
        vec![(
            "access_token_lifetime".to_owned(),
            "out_of_range".to_owned()
        )],
        "{v}"
    );
    patch_refused(
        &s,
        &id,
        &json!({ "scopes": ["b", "c"], "active": false, "redirect_uris": ["http://evil.example/cb"] }),
        "redirect_uris[0]",
        "insecure_scheme",
    )
    .await;
    // A change whose combination is invalid: public with client_credentials. The secret
    // must survive, since the type change did not happen.
    patch_refused(
        &s,
        &id,
        &json!({ "type": "public", "description": "after" }),
        "grant_types",
        "requires_confidential_client",
    )
    .await;
    assert!(secret_works(&s, &id, &secret).await, "secret lost");
    let g = get_client(&s, &id).await;
    assert_eq!(g["description"], "before", "{g}");
    assert_eq!(g["scopes"], json!(["a"]), "{g}");
    assert_eq!(g["active"], true, "{g}");
    assert_eq!(g["type"], "confidential", "{g}");
    // The audit log recorded no change either.
    let res = s.get(&format!("/audit?target_id={id}")).await;
    let audit: Value = res.json().await.unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["client.create"], "{audit}");
}

#[backends]
#[tokio::test]
async fn all_bad_fields_are_reported_at_once(s: TestServer) {
    let body = json!({
        "name": "   ",
        "version": "v".repeat(33),
        "description": "d".repeat(1001),
        "type": "secretive",
        "grant_types": ["client_credentials", "magic"],
        "redirect_uris": ["http://evil.example/cb"],
        "scopes": ["fine", "not fine"],
        "access_token_lifetime": 0,
        "refresh_count": -1,
    });
    let v = create_refused(&s, &body, "name", "blank").await;
    let got: BTreeSet<(String, String)> = field_errors(&v).into_iter().collect();
    let want: BTreeSet<(String, String)> = [
        ("name", "blank"),
        ("version", "too_long"),
        ("description", "too_long"),
        ("type", "invalid"),
        ("grant_types[1]", "invalid"),
        ("redirect_uris[0]", "insecure_scheme"),
        ("scopes[1]", "invalid"),
        ("access_token_lifetime", "out_of_range"),
        ("refresh_count", "out_of_range"),
    ]
    .into_iter()
    .map(|(f, c)| (f.to_owned(), c.to_owned()))
    .collect();
    assert_eq!(got, want, "{v}");
    for e in v["errors"].as_array().unwrap() {
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without a message: {e}"
        );
    }

    // Missing required fields are all named too.
    let v = create_refused(&s, &json!({}), "name", "required").await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        set_of(&["name", "version", "type", "grant_types"]),
        "{v}"
    );

    // Cross-field rules are reported alongside each other.
    let v = create_refused(
        &s,
        &json!({
            "name": "Combo",
            "version": "1.0",
            "type": "public",
            "grant_types": ["authorization_code", "client_credentials"],
        }),
        "grant_types",
        "requires_confidential_client",
    )
    .await;
    assert!(
        field_errors(&v).contains(&("redirect_uris".to_owned(), "required".to_owned())),
        "{v}"
    );

    // And on PATCH.
    let c = s.create_client(&confidential("Patched")).await;
    let v = patch_refused(
        &s,
        &id_of(&c),
        &json!({
            "version": "",
            "scopes": ["a b"],
            "refresh_count": "lots",
            "access_token_lifetime": 315_360_001,
            "type": "public",
        }),
        "version",
        "blank",
    )
    .await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        set_of(&[
            "version",
            "scopes[0]",
            "refresh_count",
            "access_token_lifetime",
            "grant_types",
        ]),
        "{v}"
    );
}

#[backends]
#[tokio::test]
async fn patch_with_unknown_field_or_read_only_field_is_rejected(s: TestServer) {
    let c = s.create_client(&confidential("Strict")).await;
    let id = id_of(&c);
    let attempts = [
        ("client_id", json!("chosen-id")),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("endpoints", c["endpoints"].clone()),
        ("client_secret", json!("my-own-secret")),
        ("has_secret", json!(false)),
        ("warnings", json!([])),
        ("colour", json!("blue")),
        ("grant_type", json!("password")),
        ("redirect_uri", json!(CB)),
    ];
    for (field, value) in attempts {
        let before = snapshot(&s, &id).await;
        let mut body = json!({ "description": "must not be applied" });
        body[field] = value;
        let v = expect_problem(s.patch(&path(&id), &body).await, 400).await;
        let detail = v["detail"].as_str().unwrap();
        assert!(
            [
                format!("`{field}`"),
                format!("\"{field}\""),
                format!("'{field}'")
            ]
            .iter()
            .any(|q| detail.contains(q.as_str())),
            "the 400 for {field:?} does not name it: {detail}"
        );
        assert_eq!(
            snapshot(&s, &id).await,
            before,
            "{field:?} applied something"
        );
    }
    // Creation is as strict.
    for (field, value) in [("client_secret", json!("mine")), ("colour", json!("red"))] {
        let v = expect_problem(
            s.post(
                "/clients",
                &with(confidential("Strict 2"), json!({ field: value })),
            )
            .await,
            400,
        )
        .await;
        assert!(v["detail"].as_str().unwrap().contains(field), "{v}");
    }
    assert_eq!(list(&s, "").await.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Legacy options
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn legacy_options_are_listed_under_warnings(s: TestServer) {
    let clean = s.create_client(&confidential("Clean")).await;
    assert_eq!(clean["warnings"], json!([]), "{clean}");
    // Each legacy option alone has its warning in core
    // (`client_validate::warnings_name_each_discouraged_setting`).
    // All three on one client; the same in the create response, GET and the list.
    let all = s
        .create_client(&with(
            confidential("Everything legacy"),
            json!({
                "grant_types": ["authorization_code", "password", "implicit"],
                "redirect_uris": [CB],
                "access_token_lifetime": "never",
            }),
        ))
        .await;
    let want: BTreeSet<(String, String)> = [
        ("grant_types", "legacy_implicit_grant"),
        ("grant_types", "legacy_password_grant"),
        ("access_token_lifetime", "never_expiring_tokens"),
    ]
    .into_iter()
    .map(|(f, c)| (f.to_owned(), c.to_owned()))
    .collect();
    let id = id_of(&all);
    assert_eq!(warning_codes(&all), want, "{all}");
    assert_eq!(warning_codes(&get_client(&s, &id).await), want, "GET");
    let listed = list(&s, "&q=everything").await;
    assert_eq!(warning_codes(&listed[0]), want, "list");
    for w in all["warnings"].as_array().unwrap() {
        assert!(
            w["message"].as_str().is_some_and(|m| m.len() > 10),
            "a warning needs a message: {w}"
        );
    }

    // Dropping the legacy options drops the warnings.
    let v = patch_ok(
        &s,
        &id,
        &json!({ "grant_types": ["authorization_code"], "access_token_lifetime": 3600 }),
    )
    .await;
    assert_eq!(v["warnings"], json!([]), "{v}");
    assert_eq!(get_client(&s, &id).await["warnings"], json!([]));
    // And adding one back brings its warning back.
    let v = patch_ok(
        &s,
        &id,
        &json!({ "grant_types": ["authorization_code", "implicit"] }),
    )
    .await;
    assert_eq!(
        warning_codes(&v),
        BTreeSet::from([("grant_types".to_owned(), "legacy_implicit_grant".to_owned())]),
        "{v}"
    );
}

/// Both switches of SPEC §1 "Legacy options" off (each switch alone, and every change they
/// refuse or allow, is core's `client_validate::each_policy_switch_refuses_only_its_own_setting`):
/// the server's policy reaches the admin API, and clients registered before the operator
/// switched it off keep working and stay editable, but get no new legacy setting.
#[backends]
#[tokio::test]
async fn policy_refuses_new_legacy_settings_and_leaves_old_clients_editable(db: TestDb) {
    let s = common::start_with(db, strict_policy()).await;

    for (body, field, named) in [
        (
            with(public("Implicit"), json!({ "grant_types": ["implicit"] })),
            "grant_types",
            "implicit",
        ),
        (
            with(
                confidential("Password"),
                json!({ "grant_types": ["password"] }),
            ),
            "grant_types",
            "password",
        ),
        (
            with(
                confidential("Forever"),
                json!({ "access_token_lifetime": "never" }),
            ),
            "access_token_lifetime",
            "never",
        ),
    ] {
        let v = create_refused(&s, &body, field, "forbidden_by_policy").await;
        let msg = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == "forbidden_by_policy")
            .and_then(|e| e["message"].as_str())
            .unwrap()
            .to_owned();
        assert!(msg.contains(named), "unclear error: {msg}");
    }
    let code = s.create_client(&public("Code")).await;
    patch_refused(
        &s,
        &id_of(&code),
        &json!({ "grant_types": ["authorization_code", "implicit"] }),
        "grant_types",
        "forbidden_by_policy",
    )
    .await;

    // Clients registered before the operator switched the policy off.
    let before = OtherServer::start(&s, None, Policy::default()).await;
    let mut old = Vec::new();
    for body in [
        with(
            public("Legacy SPA"),
            json!({ "grant_types": ["authorization_code", "implicit"] }),
        ),
        with(
            confidential("Legacy Password"),
            json!({ "grant_types": ["password"] }),
        ),
        with(
            confidential("Old forever"),
            json!({ "access_token_lifetime": "never" }),
        ),
    ] {
        old.push(id_of(
            &before.send(&s, Method::POST, "/clients", Some(&body)).await,
        ));
    }
    drop(before);
    let [spa_id, pw_id, forever_id] = <[String; 3]>::try_from(old).unwrap();

    let v = patch_ok(&s, &spa_id, &json!({ "description": "still here" })).await;
    assert_eq!(v["description"], "still here", "{v}");
    assert_eq!(
        set(&v["grant_types"]),
        set_of(&["authorization_code", "implicit"])
    );
    assert!(
        warning_codes(&v).contains(&("grant_types".into(), "legacy_implicit_grant".into())),
        "{v}"
    );
    let v = patch_ok(
        &s,
        &spa_id,
        &json!({
            "scopes": ["profile"],
            "redirect_uris": [CB, "http://localhost:3000/cb"],
            "refresh_count": 3,
            "grant_types": ["authorization_code", "implicit"],
        }),
    )
    .await;
    assert_eq!(v["refresh_count"], 3, "{v}");
    let v = patch_ok(&s, &pw_id, &json!({ "version": "1.1", "active": false })).await;
    assert_eq!(v["version"], "1.1", "{v}");
    assert_eq!(strings(&v["grant_types"]), vec!["password".to_owned()]);
    let v = patch_ok(
        &s,
        &forever_id,
        &json!({ "description": "edited", "scopes": ["x"] }),
    )
    .await;
    assert_eq!(v["access_token_lifetime"], "never", "{v}");
    assert_eq!(v["description"], "edited", "{v}");
    assert!(
        warning_codes(&v).contains(&(
            "access_token_lifetime".into(),
            "never_expiring_tokens".into()
        )),
        "{v}"
    );
    // Re-stating its current value is not a change.
    patch_ok(
        &s,
        &forever_id,
        &json!({ "access_token_lifetime": "never" }),
    )
    .await;

    // But no new legacy setting can be added to them.
    patch_refused(
        &s,
        &pw_id,
        &json!({ "grant_types": ["password", "implicit"], "redirect_uris": [CB] }),
        "grant_types",
        "forbidden_by_policy",
    )
    .await;
    // Once removed, it cannot come back.
    patch_ok(
        &s,
        &spa_id,
        &json!({ "grant_types": ["authorization_code"] }),
    )
    .await;
    patch_refused(
        &s,
        &spa_id,
        &json!({ "grant_types": ["authorization_code", "implicit"] }),
        "grant_types",
        "forbidden_by_policy",
    )
    .await;
    patch_ok(&s, &forever_id, &json!({ "access_token_lifetime": 3600 })).await;
    patch_refused(
        &s,
        &forever_id,
        &json!({ "access_token_lifetime": "never" }),
        "access_token_lifetime",
        "forbidden_by_policy",
    )
    .await;
}
