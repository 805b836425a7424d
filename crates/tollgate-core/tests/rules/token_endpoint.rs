//! The token endpoint's client authentication and refusals, the client credentials grant
//! (RFC 6749 §4.4) and the password grant (§4.3).

use crate::common::*;

#[tokio::test]
async fn client_credentials_issues_an_access_token_only_for_the_narrowed_scope() {
    let w = world().await;
    let app = w.app("svc", Reg::grants(&["client_credentials"])).await;
    let r = w.token(&app, cc(Some("write read write"))).await.unwrap();
    assert_eq!(r.scope, "write read");
    assert_eq!(r.expires_in, Some(3600));
    assert_eq!(r.refresh_token, None);
    let all = w.token(&app, cc(None)).await.unwrap();
    assert_eq!(all.scope, "read write");
    let i = w.introspect(&r.access_token).await;
    let iat = start().timestamp();
    assert_eq!(
        i,
        Introspection {
            active: true,
            scope: Some("write read".into()),
            client_id: Some(app.client.client_id.to_string()),
            username: None,
            token_type: Some("Bearer"),
            iat: Some(iat),
            exp: Some(iat + 3600),
            // A client's own token: the subject is the client.
            sub: Some(app.client.client_id.to_string()),
            iss: Some(ISSUER.into()),
        }
    );
}

#[tokio::test]
async fn never_expiring_tokens_have_no_expires_in_and_no_exp() {
    let w = world().await;
    let app = w
        .app(
            "svc",
            Reg {
                lifetime: LimitInput::keyword("never"),
                ..Reg::grants(&["client_credentials"])
            },
        )
        .await;
    let r = w.token(&app, cc(None)).await.unwrap();
    assert_eq!(r.expires_in, None);
    w.advance(10 * 365 * 86_400);
    let i = w.introspect(&r.access_token).await;
    assert!(i.active);
    assert_eq!(i.exp, None);
}

/// RFC 6749 §5.2: each refusal of the token endpoint with its error code, one row a case.
#[tokio::test]
async fn token_requests_are_refused_with_the_rfc_6749_code() {
    let w = world().await;
    let svc = w.app("svc", Reg::grants(&["client_credentials"])).await;
    let web = w.app("web", Reg::default()).await;
    let legacy = w.app("legacy", Reg::grants(&["password"])).await;
    w.user("alice").await;
    let wrong_secret = App {
        client: svc.client.clone(),
        creds: ClientCredentials {
            secret: Some(Secret::new("not-the-secret".into())),
            ..svc.creds.clone()
        },
    };
    let no_secret = App {
        client: svc.client.clone(),
        creds: ClientCredentials {
            secret: None,
            ..svc.creds.clone()
        },
    };
    let unknown = App {
        client: svc.client.clone(),
        creds: ClientCredentials {
            client_id: "nobody".into(),
            ..svc.creds.clone()
        },
    };
    let cases: Vec<(&str, &App, TokenRequest, &str)> = vec![
        ("wrong secret", &wrong_secret, cc(None), "invalid_client"),
        (
            "confidential without secret",
            &no_secret,
            cc(None),
            "invalid_client",
        ),
        ("unknown client", &unknown, cc(None), "invalid_client"),
        ("cc not registered", &web, cc(None), "unauthorized_client"),
        (
            "password not registered",
            &svc,
            password("alice", PASSWORD, None),
            "unauthorized_client",
        ),
        (
            "code not registered",
            &svc,
            exchange("x"),
            "unauthorized_client",
        ),
        (
            "cc scope outside the client's",
            &svc,
            cc(Some("read admin")),
            "invalid_scope",
        ),
        (
            "scopes are case-sensitive",
            &svc,
            cc(Some("READ")),
            "invalid_scope",
        ),
        (
            "password scope outside the client's",
            &legacy,
            password("alice", PASSWORD, Some("admin")),
            "invalid_scope",
        ),
        (
            "password without username",
            &legacy,
            TokenRequest::Password {
                username: None,
                password: Some(PASSWORD.into()),
                scope: None,
            },
            "invalid_request",
        ),
        (
            "wrong password",
            &legacy,
            password("alice", "wrong password", None),
            "invalid_grant",
        ),
        (
            "unknown user",
            &legacy,
            password("mallory", PASSWORD, None),
            "invalid_grant",
        ),
        (
            "code missing",
            &web,
            TokenRequest::AuthorizationCode {
                code: None,
                redirect_uri: None,
                code_verifier: None,
            },
            "invalid_request",
        ),
        (
            "code unknown",
            &web,
            exchange("no-such-code"),
            "invalid_grant",
        ),
        (
            "refresh token missing",
            &web,
            TokenRequest::RefreshToken {
                refresh_token: Some(String::new()),
                scope: None,
            },
            "invalid_request",
        ),
        (
            "refresh token unknown",
            &web,
            refresh(&Secret::new("abc.def".into()), None),
            "invalid_grant",
        ),
    ];
    for (name, app, req, code) in cases {
        assert_eq!(w.refused(app, req).await, code, "{name}");
    }
    // The request's own parse error comes after client authentication.
    let parse = Err(OAuthError::UnsupportedGrantType("x".into()));
    let e =
        w.s.oauth
            .token(&unknown.creds, parse, None)
            .await
            .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
    let parse = Err(OAuthError::UnsupportedGrantType("x".into()));
    let e = w.s.oauth.token(&svc.creds, parse, None).await.unwrap_err();
    assert_eq!(e.code(), "unsupported_grant_type");
}

#[tokio::test]
async fn a_deactivated_client_cannot_authenticate_and_its_tokens_die() {
    let w = world().await;
    let svc = w.app("svc", Reg::grants(&["client_credentials"])).await;
    let t = w.token(&svc, cc(None)).await.unwrap().access_token;
    let id = &svc.client.client_id;
    w.s.clients
        .set_active(&admin(), id, false, None)
        .await
        .unwrap();
    assert_eq!(w.refused(&svc, cc(None)).await, "invalid_client");
    assert!(!w.active(&t).await);
    // Reactivation does not revive old tokens (the epoch moved), but new ones work.
    w.s.clients
        .set_active(&admin(), id, true, None)
        .await
        .unwrap();
    assert!(!w.active(&t).await);
    let fresh = w.token(&svc, cc(None)).await.unwrap().access_token;
    assert!(w.active(&fresh).await);
}

#[tokio::test]
async fn a_public_client_authenticates_with_its_id_alone_and_never_with_a_secret() {
    let w = world().await;
    let spa = w.app("spa", Reg::public()).await;
    assert!(spa.creds.secret.is_none());
    let ok =
        w.s.oauth
            .authenticate_client(&spa.creds, None)
            .await
            .unwrap();
    assert_eq!(ok.client_id, spa.client.client_id);
    let with_secret = ClientCredentials {
        secret: Some(Secret::new("anything".into())),
        ..spa.creds.clone()
    };
    let e =
        w.s.oauth
            .authenticate_client(&with_secret, None)
            .await
            .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}

// ---- password (RFC 6749 §4.3) ---------------------------------------------------------

#[tokio::test]
async fn password_grant_issues_a_user_token_without_refresh_until_the_user_is_deactivated() {
    let w = world().await;
    let legacy = w
        .app(
            "legacy",
            Reg {
                refresh: LimitInput::keyword("unlimited"),
                ..Reg::grants(&["password"])
            },
        )
        .await;
    let alice = w.user("alice").await;
    let r = w
        .token(&legacy, password("alice", PASSWORD, Some("read")))
        .await
        .unwrap();
    assert_eq!(r.scope, "read");
    assert_eq!(r.expires_in, Some(3600));
    // SPEC §2: only the authorization code grant returns refresh tokens.
    assert_eq!(r.refresh_token, None);
    let i = w.introspect(&r.access_token).await;
    assert_eq!(i.username.as_deref(), Some("alice"));
    assert_eq!(i.sub.as_deref(), Some(alice.id.as_str()));
    // Usernames compare by identity key.
    assert!(w
        .token(&legacy, password("ALICE", PASSWORD, None))
        .await
        .is_ok());

    let off = UserChange {
        active: Some(false),
        ..Default::default()
    };
    w.s.users.update(&admin(), &alice.id, off).await.unwrap();
    assert!(!w.active(&r.access_token).await);
    let req = password("alice", PASSWORD, None);
    assert_eq!(w.refused(&legacy, req).await, "invalid_grant");
}
