//! Client rules: grant types, redirect URIs, scopes, token lifetime and refresh count (SPEC §1).

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// grant_types
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn public_client_may_only_use_authorization_code_and_implicit(s: TestServer) {
    let refused: [&[&str]; 5] = [
        &["client_credentials"],
        &["password"],
        &["authorization_code", "client_credentials"],
        &["implicit", "password"],
        &[
            "authorization_code",
            "client_credentials",
            "password",
            "implicit",
        ],
    ];
    for grants in refused {
        create_refused(
            &s,
            &with(public("Public"), json!({ "grant_types": grants })),
            "grant_types",
            "requires_confidential_client",
        )
        .await;
    }
    let allowed: [&[&str]; 3] = [
        &["authorization_code"],
        &["implicit"],
        &["authorization_code", "implicit"],
    ];
    for (i, grants) in allowed.iter().enumerate() {
        let c = s
            .create_client(&with(
                public(&format!("Public {i}")),
                json!({ "grant_types": grants }),
            ))
            .await;
        assert_eq!(set(&c["grant_types"]), set_of(grants), "{c}");
    }
    // client_credentials and password are fine for a confidential client.
    let all = [
        "authorization_code",
        "client_credentials",
        "password",
        "implicit",
    ];
    let c = s
        .create_client(&with(
            confidential("Confidential"),
            json!({ "grant_types": all, "redirect_uris": [CB] }),
        ))
        .await;
    assert_eq!(set(&c["grant_types"]), set_of(&all), "{c}");

    // The rule holds on change too, from either side.
    let p = s.create_client(&public("Spa")).await;
    patch_refused(
        &s,
        &id_of(&p),
        &json!({ "grant_types": ["authorization_code", "client_credentials"] }),
        "grant_types",
        "requires_confidential_client",
    )
    .await;
    let cc = s.create_client(&confidential("Backend")).await;
    let secret = cc["client_secret"].as_str().unwrap().to_owned();
    patch_refused(
        &s,
        &id_of(&cc),
        &json!({ "type": "public" }),
        "grant_types",
        "requires_confidential_client",
    )
    .await;
    assert!(secret_works(&s, &id_of(&cc), &secret).await);
}

#[backends]
#[tokio::test]
async fn grant_types_must_be_a_non_empty_subset_of_the_four(s: TestServer) {
    create_refused(
        &s,
        &without(confidential("G"), "grant_types"),
        "grant_types",
        "required",
    )
    .await;
    create_refused(
        &s,
        &with(confidential("G"), json!({ "grant_types": [] })),
        "grant_types",
        "empty",
    )
    .await;
    for bad in [
        "refresh_token",
        "Client_Credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
        "",
    ] {
        create_refused(
            &s,
            &with(
                confidential("G"),
                json!({ "grant_types": ["client_credentials", bad] }),
            ),
            "grant_types[1]",
            "invalid",
        )
        .await;
    }
    // Every single one of the four, and all four together.
    let one_each: [(&str, Value); 4] = [
        ("authorization_code", json!([CB])),
        ("client_credentials", json!([])),
        ("password", json!([])),
        ("implicit", json!([CB])),
    ];
    for (g, uris) in one_each {
        let c = s
            .create_client(&with(
                confidential(&format!("Only {g}")),
                json!({ "grant_types": [g], "redirect_uris": uris }),
            ))
            .await;
        assert_eq!(strings(&c["grant_types"]), vec![g.to_owned()], "{c}");
    }
    let four = [
        "authorization_code",
        "client_credentials",
        "password",
        "implicit",
    ];
    let c = s
        .create_client(&with(
            confidential("All four"),
            json!({ "grant_types": four, "redirect_uris": [CB] }),
        ))
        .await;
    assert_eq!(set(&c["grant_types"]), set_of(&four), "{c}");
    let id = id_of(&c);
    patch_refused(
        &s,
        &id,
        &json!({ "grant_types": [] }),
        "grant_types",
        "empty",
    )
    .await;
    patch_refused(
        &s,
        &id,
        &json!({ "grant_types": ["password", "refresh_token"] }),
        "grant_types[1]",
        "invalid",
    )
    .await;
    let v = patch_ok(&s, &id, &json!({ "grant_types": ["password"] })).await;
    assert_eq!(strings(&v["grant_types"]), vec!["password".to_owned()]);
}

// ---------------------------------------------------------------------------------------
// redirect_uris
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn redirect_uris_must_be_absolute_https_or_loopback_http_or_private_use_without_fragment(
    s: TestServer,
) {
    let good = [
        "https://app.example.com/callback",
        "https://app.example.com/callback/",
        "https://app.example.com/cb?tenant=42",
        "https://app.example.com:8443/cb",
        "http://localhost/cb",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:8080/oauth/cb",
        "http://[::1]/cb",
        "http://[::1]:9000/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app:/cb",
    ];
    let c = s
        .create_client(&with(public("Uris"), json!({ "redirect_uris": good })))
        .await;
    // Kept exactly as given (matching is exact string comparison), in order.
    assert_eq!(strings(&c["redirect_uris"]), good.map(str::to_owned), "{c}");
    assert_eq!(
        strings(&get_client(&s, &id_of(&c)).await["redirect_uris"]),
        good.map(str::to_owned)
    );

    let bad = [
        // plain http off loopback
        ("http://app.example.com/cb", "insecure_scheme"),
        ("http://10.0.0.1/cb", "insecure_scheme"),
        ("http://localhost.evil.example/cb", "insecure_scheme"),
        ("http://127.0.0.1.evil.example/cb", "insecure_scheme"),
        // fragments, on every kind of URI
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        ("http://localhost/cb#x", "fragment"),
        ("com.example.app:/cb#x", "fragment"),
        // not absolute
        ("/callback", "not_absolute"),
        ("//app.example.com/cb", "not_absolute"),
        ("app.example.com/callback", "not_absolute"),
        ("", "not_absolute"),
        // schemes that are neither https, loopback http, nor private-use
        ("javascript:alert(1)", "insecure_scheme"),
        ("data:text/html,hello", "insecure_scheme"),
        ("file:///etc/passwd", "insecure_scheme"),
        ("ftp://files.example.com/cb", "insecure_scheme"),
        // not a URI at all
        ("https://app.example.com/c b", "invalid"),
    ];
    for (uri, code) in bad {
        create_refused(
            &s,
            &with(public("Bad uri"), json!({ "redirect_uris": [uri] })),
            "redirect_uris[0]",
            code,
        )
        .await;
    }
    // The bad one is named by its position.
    create_refused(
        &s,
        &with(
            public("Bad uri"),
            json!({ "redirect_uris": [CB, "http://evil.example/cb"] }),
        ),
        "redirect_uris[1]",
        "insecure_scheme",
    )
    .await;
    // And on change.
    patch_refused(
        &s,
        &id_of(&c),
        &json!({ "redirect_uris": [CB, "https://app.example.com/x#y"] }),
        "redirect_uris[1]",
        "fragment",
    )
    .await;
}

#[backends]
#[tokio::test]
async fn redirect_uri_required_for_authorization_code_and_implicit(s: TestServer) {
    let needing: [&[&str]; 3] = [
        &["authorization_code"],
        &["implicit"],
        &["authorization_code", "implicit"],
    ];
    for grants in needing {
        for base in [public("R"), confidential("R")] {
            let body = with(base, json!({ "grant_types": grants }));
            create_refused(
                &s,
                &without(body.clone(), "redirect_uris"),
                "redirect_uris",
                "required",
            )
            .await;
            create_refused(
                &s,
                &with(body, json!({ "redirect_uris": [] })),
                "redirect_uris",
                "required",
            )
            .await;
        }
    }
    // Grants without a redirect need none.
    for g in ["client_credentials", "password"] {
        let c = s
            .create_client(&with(
                confidential(&format!("No redirect {g}")),
                json!({ "grant_types": [g] }),
            ))
            .await;
        assert_eq!(c["redirect_uris"], json!([]), "{c}");
    }

    // Removing the last redirect URI of an authorization-code client is refused.
    let ac = s.create_client(&public("Code")).await;
    patch_refused(
        &s,
        &id_of(&ac),
        &json!({ "redirect_uris": [] }),
        "redirect_uris",
        "required",
    )
    .await;
    // Adding authorization_code without a redirect URI is refused; with one it is fine.
    let cc = s.create_client(&confidential("Machine")).await;
    let id = id_of(&cc);
    patch_refused(
        &s,
        &id,
        &json!({ "grant_types": ["client_credentials", "authorization_code"] }),
        "redirect_uris",
        "required",
    )
    .await;
    patch_refused(
        &s,
        &id,
        &json!({ "grant_types": ["client_credentials", "implicit"] }),
        "redirect_uris",
        "required",
    )
    .await;
    let v = patch_ok(
        &s,
        &id,
        &json!({ "grant_types": ["client_credentials", "authorization_code"], "redirect_uris": [CB] }),
    )
    .await;
    assert_eq!(strings(&v["redirect_uris"]), vec![CB.to_owned()], "{v}");
}

// ---------------------------------------------------------------------------------------
// scopes
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn scopes_are_rfc6749_scope_tokens(s: TestServer) {
    // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    let good = [
        "api:read",
        "openid",
        "!",
        "~",
        "#tag",
        "a[b]",
        "https://api.example.com/orders.write",
        "x{}|^`",
    ];
    let c = s
        .create_client(&with(confidential("Scoped"), json!({ "scopes": good })))
        .await;
    assert_eq!(strings(&c["scopes"]), good.map(str::to_owned), "{c}");

    // May be empty, and is when left out.
    let c = s
        .create_client(&with(confidential("No scopes"), json!({ "scopes": [] })))
        .await;
    assert_eq!(c["scopes"], json!([]), "{c}");
    let c = s
        .create_client(&without(confidential("Scopes left out"), "scopes"))
        .await;
    assert_eq!(c["scopes"], json!([]), "{c}");

    for bad in [
        "read write",
        "",
        "a\"b",
        "a\\b",
        "café",
        "tab\there",
        "new\nline",
        " leading",
        "\u{7f}",
    ] {
        create_refused(
            &s,
            &with(confidential("Bad scope"), json!({ "scopes": ["ok", bad] })),
            "scopes[1]",
            "invalid",
        )
        .await;
    }
    let id = id_of(&c);
    patch_refused(
        &s,
        &id,
        &json!({ "scopes": ["a b"] }),
        "scopes[0]",
        "invalid",
    )
    .await;
    let v = patch_ok(
        &s,
        &id,
        &json!({ "scopes": ["orders:read", "orders:write"] }),
    )
    .await;
    assert_eq!(v["scopes"], json!(["orders:read", "orders:write"]), "{v}");
    let v = patch_ok(&s, &id, &json!({ "scopes": [] })).await;
    assert_eq!(v["scopes"], json!([]), "{v}");
}

// ---------------------------------------------------------------------------------------
// access_token_lifetime, refresh_count
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn access_token_lifetime_is_never_or_1_to_315360000_seconds_default_3600(s: TestServer) {
    let c = s.create_client(&confidential("Default lifetime")).await;
    assert_eq!(c["access_token_lifetime"], 3600, "{c}");
    assert_eq!(
        get_client(&s, &id_of(&c)).await["access_token_lifetime"],
        3600
    );

    for (i, ok) in [json!(1), json!(315_360_000), json!("never"), json!(86_400)]
        .into_iter()
        .enumerate()
    {
        let c = s
            .create_client(&with(
                confidential(&format!("Lifetime {i}")),
                json!({ "access_token_lifetime": ok }),
            ))
            .await;
        assert_eq!(c["access_token_lifetime"], ok, "{c}");
        assert_eq!(
            get_client(&s, &id_of(&c)).await["access_token_lifetime"],
            ok
        );
    }

    let bad = [
        (json!(0), "out_of_range"),
        (json!(-1), "out_of_range"),
        (json!(315_360_001), "out_of_range"),
        (json!(1u64 << 40), "out_of_range"),
        (json!(1.5), "out_of_range"),
        (json!("3600"), "invalid"),
        (json!("Never"), "invalid"),
        (json!(null), "invalid"),
        (json!(true), "invalid"),
    ];
    let id = id_of(&c);
    let base = confidential("Bad lifetime");
    refused_on_create_and_patch(&s, &base, &id, "access_token_lifetime", &bad).await;
    let v = patch_ok(&s, &id, &json!({ "access_token_lifetime": "never" })).await;
    assert_eq!(v["access_token_lifetime"], "never", "{v}");
    let v = patch_ok(&s, &id, &json!({ "access_token_lifetime": 60 })).await;
    assert_eq!(v["access_token_lifetime"], 60, "{v}");
    // Left out of a PATCH, it stays.
    let v = patch_ok(&s, &id, &json!({ "description": "x" })).await;
    assert_eq!(v["access_token_lifetime"], 60, "{v}");
}

#[backends]
#[tokio::test]
async fn refresh_count_is_unlimited_or_non_negative_default_0(s: TestServer) {
    let c = s.create_client(&public("Default refresh")).await;
    assert_eq!(c["refresh_count"], 0, "{c}");
    assert_eq!(get_client(&s, &id_of(&c)).await["refresh_count"], 0);

    for (i, ok) in [json!(0), json!(1), json!(1_000_000), json!("unlimited")]
        .into_iter()
        .enumerate()
    {
        let c = s
            .create_client(&with(
                public(&format!("Refresh {i}")),
                json!({ "refresh_count": ok }),
            ))
            .await;
        assert_eq!(c["refresh_count"], ok, "{c}");
        assert_eq!(get_client(&s, &id_of(&c)).await["refresh_count"], ok);
    }

    let bad = [
        (json!(-1), "out_of_range"),
        (json!(2.5), "out_of_range"),
        (json!("5"), "invalid"),
        (json!("Unlimited"), "invalid"),
        (json!("infinite"), "invalid"),
        (json!(null), "invalid"),
        (json!(false), "invalid"),
    ];
    let id = id_of(&c);
    refused_on_create_and_patch(&s, &public("Bad refresh"), &id, "refresh_count", &bad).await;
    let v = patch_ok(&s, &id, &json!({ "refresh_count": "unlimited" })).await;
    assert_eq!(v["refresh_count"], "unlimited", "{v}");
    let v = patch_ok(&s, &id, &json!({ "refresh_count": 0 })).await;
    assert_eq!(v["refresh_count"], 0, "{v}");
}
