//! Exchanging an authorization code (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6).

use crate::common::*;

#[tokio::test]
async fn authorization_code_flow_issues_tokens_for_the_approved_scope() {
    let w = world().await;
    let web = w
        .app("web", Reg::refresh(LimitInput::Number(Some(1))))
        .await;
    let alice = w.user("alice").await;
    let req = AuthorizeRequest {
        scope: Some("read".into()),
        ..code_request(&web)
    };
    let v = w.validate(&req).await.unwrap();
    assert_eq!(v.scopes, ScopeSet::from(["read"]));
    assert_eq!(v.state.as_deref(), Some("st"));
    let url = w.s.oauth.approve(&alice, &v).await.unwrap();
    assert!(url.starts_with("https://app.example/cb?code="), "{url}");
    assert_eq!(param(&url, "state").as_deref(), Some("st"));
    let code = param(&url, "code").unwrap();
    let r = w.token(&web, exchange(&code)).await.unwrap();
    assert_eq!(r.scope, "read");
    assert_eq!(r.expires_in, Some(3600));
    let i = w.introspect(&r.access_token).await;
    assert_eq!(i.username.as_deref(), Some("alice"));
    assert_eq!(i.sub.as_deref(), Some(alice.id.as_str()));
    assert_eq!(i.client_id.as_deref(), Some(web.client.client_id.as_str()));
    let rt = r
        .refresh_token
        .expect("refresh_count 1 issues a refresh token");
    let ri = w.introspect(&rt).await;
    assert_eq!(ri.token_type, Some("refresh_token"));
    assert_eq!(ri.exp, None);
}

/// RFC 6749 §4.1.2: a code is single use, and its reuse revokes what it issued.
#[tokio::test]
async fn authorization_code_is_single_use_and_reuse_revokes_the_family() {
    let w = world().await;
    let web = w
        .app("web", Reg::refresh(LimitInput::Number(Some(3))))
        .await;
    let alice = w.user("alice").await;
    let code = w.code_for(&web, &alice).await;
    let first = w.token(&web, exchange(&code)).await.unwrap();
    let rt = first.refresh_token.clone().unwrap();
    let refreshed = w.token(&web, refresh(&rt, None)).await.unwrap();
    assert!(w.active(&first.access_token).await);
    assert_eq!(w.refused(&web, exchange(&code)).await, "invalid_grant");
    assert!(!w.active(&first.access_token).await);
    // The whole family: tokens refreshed from the code's go too.
    assert!(!w.active(&refreshed.access_token).await);
    let next = refreshed.refresh_token.unwrap();
    assert_eq!(w.refused(&web, refresh(&next, None)).await, "invalid_grant");
}

/// RFC 6749 §4.1.3 refusals of a code exchange, one row a case.
#[tokio::test]
async fn code_exchange_refusals() {
    let w = world().await;
    let web = w.app("web", Reg::default()).await;
    let other = w.app("other", Reg::default()).await;
    let alice = w.user("alice").await;
    type Case = (
        &'static str,
        Box<dyn Fn(String) -> TokenRequest>,
        bool,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "redirect_uri differs",
            Box::new(|code| TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: Some("https://app.example/other".into()),
                code_verifier: None,
            }),
            false,
            "invalid_grant",
        ),
        (
            "redirect_uri missing though it was given",
            Box::new(|code| TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: None,
                code_verifier: None,
            }),
            false,
            "invalid_request",
        ),
        (
            "verifier without a challenge",
            Box::new(|code| TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: Some(REDIRECT.into()),
                code_verifier: Some(VERIFIER.into()),
            }),
            false,
            "invalid_grant",
        ),
        (
            "another client's code",
            Box::new(|code| exchange(&code)),
            true,
            "invalid_grant",
        ),
    ];
    for (name, req, by_other, expected) in cases {
        let code = w.code_for(&web, &alice).await;
        let app = if by_other { &other } else { &web };
        assert_eq!(w.refused(app, req(code.clone())).await, expected, "{name}");
        // None of these spent the code.
        assert!(w.token(&web, exchange(&code)).await.is_ok(), "{name}");
    }
}

#[tokio::test]
async fn redirect_uri_may_be_omitted_at_the_token_endpoint_when_it_was_at_authorization() {
    let w = world().await;
    let single = {
        let input = ClientInput {
            name: Some("one".into()),
            version: Some("1".into()),
            client_type: Some("confidential".into()),
            grant_types: Some(strings(&["authorization_code"])),
            redirect_uris: Some(vec![REDIRECT.into()]),
            ..Default::default()
        };
        let c = w.s.clients.create(&admin(), input).await.unwrap();
        App {
            creds: ClientCredentials {
                client_id: c.client.client_id.clone(),
                secret: c.secret,
                method: AuthMethod::Basic,
            },
            client: c.client,
        }
    };
    let alice = w.user("alice").await;
    let req = AuthorizeRequest {
        redirect_uri: None,
        ..code_request(&single)
    };
    // The code goes to the one registered URI.
    let v = w.validate(&req).await.unwrap();
    let url = w.s.oauth.approve(&alice, &v).await.unwrap();
    assert!(url.starts_with(&format!("{REDIRECT}?code=")), "{url}");
    assert_eq!(param(&url, "state").as_deref(), Some("st"));
    let code = param(&url, "code").unwrap();
    let r = w
        .token(
            &single,
            TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: None,
                code_verifier: None,
            },
        )
        .await;
    assert!(r.is_ok());
}

#[tokio::test]
async fn an_authorization_code_expires_after_its_lifetime() {
    let w = world().await;
    let web = w.app("web", Reg::default()).await;
    let alice = w.user("alice").await;
    let late = w.code_for(&web, &alice).await;
    let in_time = w.code_for(&web, &alice).await;
    w.advance(CODE_LIFETIME - 1);
    assert!(w.token(&web, exchange(&in_time)).await.is_ok());
    w.advance(1);
    assert_eq!(w.refused(&web, exchange(&late)).await, "invalid_grant");
}

#[tokio::test]
async fn a_code_dies_with_its_users_or_clients_epoch() {
    let w = world().await;
    let web = w.app("web", Reg::default()).await;
    let alice = w.user("alice").await;
    let code = w.code_for(&web, &alice).await;
    w.s.users
        .set_password(&admin(), &alice.id, "another long password")
        .await
        .unwrap();
    assert_eq!(w.refused(&web, exchange(&code)).await, "invalid_grant");

    let bob = w.user("bob").await;
    let code = w.code_for(&web, &bob).await;
    w.s.clients
        .revoke_all_tokens(&admin(), &web.client.client_id)
        .await
        .unwrap();
    assert_eq!(w.refused(&web, exchange(&code)).await, "invalid_grant");
}

/// RFC 7636 §4.6 at the token endpoint: each verifier case for a code issued with an S256
/// challenge.
#[tokio::test]
async fn pkce_verifier_cases() {
    let w = world().await;
    let spa = w.app("spa", Reg::public()).await;
    let alice = w.user("alice").await;
    // (case, the challenge, the verifier, the outcome)
    type Case = (
        &'static str,
        &'static str,
        Option<String>,
        Result<(), &'static str>,
    );
    let cases: [Case; 6] = [
        ("right verifier", CHALLENGE, Some(VERIFIER.into()), Ok(())),
        (
            "wrong verifier",
            CHALLENGE,
            Some("a".repeat(43)),
            Err("invalid_grant"),
        ),
        ("missing verifier", CHALLENGE, None, Err("invalid_request")),
        (
            "too short",
            CHALLENGE,
            Some("a".repeat(42)),
            Err("invalid_request"),
        ),
        (
            "not unreserved characters",
            CHALLENGE,
            Some(format!("{}!", "a".repeat(43))),
            Err("invalid_request"),
        ),
        // The verifier itself sent as the challenge: a plain comparison must not pass.
        (
            "verifier equal to the challenge",
            VERIFIER,
            Some(VERIFIER.into()),
            Err("invalid_grant"),
        ),
    ];
    for (name, challenge, verifier, expected) in cases {
        let req = AuthorizeRequest {
            code_challenge: Some(challenge.into()),
            ..with_pkce(code_request(&spa))
        };
        let code = w.code(&alice, req).await;
        let req = TokenRequest::AuthorizationCode {
            code: Some(code),
            redirect_uri: Some(REDIRECT.into()),
            code_verifier: verifier,
        };
        let got = w.token(&spa, req).await.map(|_| ()).map_err(|e| e.code());
        assert_eq!(got, expected, "{name}");
    }
}
