//! The authorization endpoint's rules (RFC 6749 §4.1.1, §4.2.1), consent and the implicit
//! grant.

use crate::common::*;

/// What the authorization endpoint does with a request: an error page (never a redirect
/// to an unverified URI), an error redirect with its code, or acceptance.
#[derive(Debug, PartialEq)]
enum Outcome {
    Page,
    Redirect(String),
    Accepted,
}

#[tokio::test]
async fn authorize_request_cases() {
    let w = world().await;
    let web = w
        .app("web", Reg::grants(&["authorization_code", "implicit"]))
        .await;
    let code_only = w.app("code-only", Reg::default()).await;
    let spa = w.app("spa", Reg::public()).await;
    let implicit_only = w.app("implicit-only", Reg::grants(&["implicit"])).await;
    let gone = w.app("gone", Reg::default()).await;
    w.s.clients
        .set_active(&admin(), &gone.client.client_id, false, None)
        .await
        .unwrap();
    let base = code_request(&web);
    let page = || Outcome::Page;
    let redirect = |c: &str| Outcome::Redirect(c.into());
    let cases: Vec<(&str, AuthorizeRequest, Outcome)> = vec![
        ("plain code request", base.clone(), Outcome::Accepted),
        (
            "no client_id",
            AuthorizeRequest {
                client_id: None,
                ..base.clone()
            },
            page(),
        ),
        (
            "unknown client",
            AuthorizeRequest {
                client_id: Some("nobody".into()),
                ..base.clone()
            },
            page(),
        ),
        (
            "control character in client_id",
            AuthorizeRequest {
                client_id: Some("a\u{0}b".into()),
                ..base.clone()
            },
            page(),
        ),
        ("deactivated client", code_request(&gone), page()),
        (
            "unregistered redirect_uri",
            AuthorizeRequest {
                redirect_uri: Some("https://evil.example/cb".into()),
                ..base.clone()
            },
            page(),
        ),
        (
            "no redirect_uri with several registered",
            AuthorizeRequest {
                redirect_uri: None,
                ..base.clone()
            },
            page(),
        ),
        (
            "no response_type",
            AuthorizeRequest {
                response_type: None,
                ..base.clone()
            },
            redirect("invalid_request"),
        ),
        (
            "unknown response_type",
            AuthorizeRequest {
                response_type: Some("id_token".into()),
                ..base.clone()
            },
            redirect("unsupported_response_type"),
        ),
        (
            "implicit not registered",
            AuthorizeRequest {
                response_type: Some("token".into()),
                ..code_request(&code_only)
            },
            redirect("unauthorized_client"),
        ),
        (
            "scope outside the client's",
            AuthorizeRequest {
                scope: Some("read admin".into()),
                ..base.clone()
            },
            redirect("invalid_scope"),
        ),
        (
            "code for an implicit-only client",
            code_request(&implicit_only),
            redirect("unauthorized_client"),
        ),
        (
            "implicit with a scope outside the client's",
            AuthorizeRequest {
                response_type: Some("token".into()),
                scope: Some("read admin".into()),
                ..base.clone()
            },
            redirect("invalid_scope"),
        ),
        (
            "the other registered redirect_uri",
            AuthorizeRequest {
                redirect_uri: Some("https://app.example/other".into()),
                ..base.clone()
            },
            Outcome::Accepted,
        ),
        ("S256 challenge", with_pkce(base.clone()), Outcome::Accepted),
        (
            "plain PKCE",
            AuthorizeRequest {
                code_challenge: Some(VERIFIER.into()),
                code_challenge_method: Some("plain".into()),
                ..base.clone()
            },
            redirect("invalid_request"),
        ),
        (
            "challenge without method",
            AuthorizeRequest {
                code_challenge_method: None,
                ..with_pkce(base.clone())
            },
            redirect("invalid_request"),
        ),
        (
            "method without challenge",
            AuthorizeRequest {
                code_challenge: None,
                ..with_pkce(base.clone())
            },
            redirect("invalid_request"),
        ),
        (
            "malformed challenge",
            AuthorizeRequest {
                code_challenge: Some("short".into()),
                ..with_pkce(base.clone())
            },
            redirect("invalid_request"),
        ),
        (
            "PKCE with the implicit grant",
            AuthorizeRequest {
                response_type: Some("token".into()),
                ..with_pkce(base.clone())
            },
            redirect("invalid_request"),
        ),
        (
            "public client without PKCE",
            code_request(&spa),
            redirect("invalid_request"),
        ),
        (
            "public client with PKCE",
            with_pkce(code_request(&spa)),
            Outcome::Accepted,
        ),
    ];
    for (name, req, expected) in cases {
        let got = match w.validate(&req).await {
            Ok(v) => {
                // An accepted request is answered at the redirect URI it named.
                if let Some(r) = &req.redirect_uri {
                    assert_eq!(&v.redirect_uri, r, "{name}");
                }
                Outcome::Accepted
            }
            Err(AuthorizeError::Page(_)) => Outcome::Page,
            Err(AuthorizeError::Redirect(url)) => {
                // Errors go back to the registered URI, with the request's state.
                assert!(url.starts_with(REDIRECT), "{name}: {url}");
                assert_eq!(param(&url, "state").as_deref(), Some("st"), "{name}");
                let description = param(&url, "error_description").unwrap_or_default();
                assert!(!description.is_empty(), "{name}: {url}");
                // RFC 6749 §4.2.2.1: an implicit request's error goes in the fragment.
                let implicit = req.response_type.as_deref() == Some("token");
                assert_eq!(url.contains('#'), implicit, "{name}: {url}");
                Outcome::Redirect(param(&url, "error").unwrap())
            }
            Err(AuthorizeError::Server(e)) => panic!("{name}: {e}"),
        };
        assert_eq!(got, expected, "{name}");
    }
}

#[tokio::test]
async fn implicit_grant_puts_the_token_in_the_fragment() {
    let w = world().await;
    let web = w.app("web", Reg::grants(&["implicit"])).await;
    let alice = w.user("alice").await;
    let req = AuthorizeRequest {
        response_type: Some("token".into()),
        scope: Some("write".into()),
        ..code_request(&web)
    };
    let v = w.validate(&req).await.unwrap();
    let url = w.s.oauth.approve(&alice, &v).await.unwrap();
    assert!(
        url.starts_with("https://app.example/cb#access_token="),
        "{url}"
    );
    assert_eq!(param(&url, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(param(&url, "expires_in").as_deref(), Some("3600"));
    assert_eq!(param(&url, "scope").as_deref(), Some("write"));
    assert_eq!(param(&url, "state").as_deref(), Some("st"));
    let token = Secret::new(param(&url, "access_token").unwrap());
    let i = w.introspect(&token).await;
    assert!(i.active);
    assert_eq!(i.username.as_deref(), Some("alice"));
    // Errors of an implicit request go in the fragment too.
    let denied = w.s.oauth.deny(&v);
    assert!(
        denied.starts_with("https://app.example/cb#error=access_denied"),
        "{denied}"
    );
    assert_eq!(param(&denied, "state").as_deref(), Some("st"));
}

#[tokio::test]
async fn denial_and_refusal_redirect_with_the_error_and_state() {
    let w = world().await;
    let web = w.app("web", Reg::default()).await;
    let v = w.validate(&code_request(&web)).await.unwrap();
    let denied = w.s.oauth.deny(&v);
    assert!(
        denied.starts_with("https://app.example/cb?error=access_denied"),
        "{denied}"
    );
    assert_eq!(param(&denied, "state").as_deref(), Some("st"));
    let err = OAuthError::TemporarilyUnavailable("x".into());
    let refused = w.s.oauth.refuse(&v, &err);
    assert_eq!(
        param(&refused, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(param(&refused, "state").as_deref(), Some("st"));
}

#[tokio::test]
async fn consent_is_remembered_and_covers_only_the_scopes_granted() {
    let w = world().await;
    let web = w.app("web", Reg::default()).await;
    let alice = w.user("alice").await;
    let read = AuthorizeRequest {
        scope: Some("read".into()),
        ..code_request(&web)
    };
    let v_read = w.validate(&read).await.unwrap();
    let v_all = w.validate(&code_request(&web)).await.unwrap();
    assert!(w.s.oauth.needs_consent(&alice.id, &v_read).await.unwrap());
    w.s.oauth
        .remember_consent(&alice.id, &v_read)
        .await
        .unwrap();
    assert!(!w.s.oauth.needs_consent(&alice.id, &v_read).await.unwrap());
    assert!(w.s.oauth.needs_consent(&alice.id, &v_all).await.unwrap());
    w.s.oauth.remember_consent(&alice.id, &v_all).await.unwrap();
    assert!(!w.s.oauth.needs_consent(&alice.id, &v_read).await.unwrap());
    assert!(!w.s.oauth.needs_consent(&alice.id, &v_all).await.unwrap());
}
