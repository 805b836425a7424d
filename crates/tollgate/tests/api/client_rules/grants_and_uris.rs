//! Client rules: grant types, redirect URIs, scopes, token lifetime and refresh count (SPEC §1).
//!
//! The rules themselves are core's (`client_validate`: each field rule, each redirect URI
//! and scope, each grant set, each change); here what JSON and the database carry.

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// redirect_uris, scopes
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test]
async fn redirect_uris_and_scopes_are_stored_and_returned_as_given(s: TestServer) {
    let uris = [
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
    // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    let scopes = [
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
        .create_client(&with(
            public("Uris"),
            json!({ "redirect_uris": uris, "scopes": scopes }),
        ))
        .await;
    // Kept exactly as given (matching is exact string comparison), in order.
    let g = get_client(&s, &id_of(&c)).await;
    for v in [&c, &g] {
        assert_eq!(strings(&v["redirect_uris"]), uris.map(str::to_owned), "{v}");
        assert_eq!(strings(&v["scopes"]), scopes.map(str::to_owned), "{v}");
    }

    // May be empty, and is when left out.
    let c = s
        .create_client(&with(confidential("No scopes"), json!({ "scopes": [] })))
        .await;
    assert_eq!(c["scopes"], json!([]), "{c}");
    let c = s
        .create_client(&without(confidential("Scopes left out"), "scopes"))
        .await;
    assert_eq!(c["scopes"], json!([]), "{c}");
    let id = id_of(&c);
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

/// A limit in JSON is a number or its keyword; what is neither (a string of digits, a
/// fraction, `null`, a boolean) is refused on create and on PATCH, changing nothing. The
/// ranges and keywords themselves are core's (`client_validate`).
#[backends]
#[tokio::test]
async fn limits_are_json_numbers_or_their_keyword(s: TestServer) {
    // (field, the client it is set on, its default, values kept, values refused with their
    // code, values a PATCH sets in turn)
    type Limit = (
        &'static str,
        Value,
        Value,
        [Value; 2],
        [(Value, &'static str); 4],
        [Value; 2],
    );
    let limits: [Limit; 2] = [
        (
            "access_token_lifetime",
            confidential("Lifetime"),
            json!(3600),
            [json!(315_360_000), json!("never")],
            [
                (json!(1.5), "out_of_range"),
                (json!("3600"), "invalid"),
                (json!(null), "invalid"),
                (json!(true), "invalid"),
            ],
            [json!("never"), json!(60)],
        ),
        (
            "refresh_count",
            public("Refresh"),
            json!(0),
            [json!(1_000_000), json!("unlimited")],
            [
                (json!(2.5), "out_of_range"),
                (json!("5"), "invalid"),
                (json!(null), "invalid"),
                (json!(false), "invalid"),
            ],
            [json!("unlimited"), json!(0)],
        ),
    ];
    for (field, base, default, kept, bad, patches) in limits {
        let c = s.create_client(&base).await;
        assert_eq!(c[field], default, "{field}: {c}");
        let id = id_of(&c);
        assert_eq!(get_client(&s, &id).await[field], default, "{field}");
        for (i, ok) in kept.into_iter().enumerate() {
            let body = with(
                base.clone(),
                json!({ "name": format!("{field} {i}"), field: ok }),
            );
            let c = s.create_client(&body).await;
            assert_eq!(c[field], ok, "{c}");
            assert_eq!(get_client(&s, &id_of(&c)).await[field], ok, "{field}");
        }
        let bad_base = with(base.clone(), json!({ "name": format!("Bad {field}") }));
        refused_on_create_and_patch(&s, &bad_base, &id, field, &bad).await;
        for ok in &patches {
            let v = patch_ok(&s, &id, &json!({ field: ok })).await;
            assert_eq!(&v[field], ok, "{v}");
        }
        // Left out of a PATCH, it stays.
        let v = patch_ok(&s, &id, &json!({ "description": "x" })).await;
        assert_eq!(v[field], patches[1], "{v}");
    }
}
