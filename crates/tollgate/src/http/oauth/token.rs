//! `POST /oauth2/token` (RFC 6749 §3.2), `/oauth2/introspect` (RFC 7662), `/oauth2/revoke`
//! (RFC 7009) and the RFC 8414 metadata document.

use super::{
    authenticate_client, authorization, form_body, no_store, required_credentials,
    OAuthErrorResponse, SourceAddr,
};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tollgate_core::client::GrantType;
use tollgate_core::oauth::{OAuthError, TokenRequest};

pub async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let i = &state.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/oauth2/authorize"),
        "token_endpoint": format!("{i}/oauth2/token"),
        "introspection_endpoint": format!("{i}/oauth2/introspect"),
        "revocation_endpoint": format!("{i}/oauth2/revoke"),
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// RFC 6749 §5.1 success response.
fn token_json(r: tollgate_core::oauth::TokenResponse) -> Response {
    let mut m = Map::new();
    m.insert("access_token".into(), r.access_token.expose().into());
    m.insert("token_type".into(), "Bearer".into());
    // SPEC §2: never-expiring tokens have no expires_in.
    if let Some(s) = r.expires_in {
        m.insert("expires_in".into(), s.into());
    }
    if let Some(rt) = r.refresh_token {
        m.insert("refresh_token".into(), rt.expose().into());
    }
    m.insert("scope".into(), r.scope.into());
    json_no_store(m)
}

pub async fn token(
    State(state): State<AppState>,
    source: SourceAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthErrorResponse> {
    let mut form = form_body(&headers, &body)?;
    let creds = required_credentials(&headers, &mut form, "client authentication is required: HTTP Basic, client_secret_post, or client_id for public clients")?;
    let grant_type = form.remove("grant_type");
    let req = TokenRequest::parse(grant_type.as_deref(), |k| form.remove(k));
    let grant = req.as_ref().ok().map(TokenRequest::grant);
    let res = state.services.oauth.token(&creds, req, source.0).await?;
    // Only a request that parsed gets this far, so `grant` is always known here.
    if let Some(g) = grant {
        state.metrics.token_issued(g);
    }
    Ok(token_json(res))
}

/// Who may call introspection: an active confidential client, or an admin key.
async fn introspection_caller(
    state: &AppState,
    source: SourceAddr,
    headers: &HeaderMap,
    form: &mut std::collections::HashMap<String, String>,
) -> Result<(), OAuthErrorResponse> {
    if let Some(key) = authorization(headers, "bearer") {
        return match state.services.admin_keys.authenticate(key).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(OAuthError::invalid_client("the admin key is not valid", false).into()),
            Err(e) => Err(e.into()),
        };
    }
    let creds = required_credentials(
        headers,
        form,
        "introspection requires client authentication or an admin key",
    )?;
    let basic = creds.method == tollgate_core::oauth::AuthMethod::Basic;
    let client = authenticate_client(state, source, &creds).await?;
    if client.secret_hash.is_none() {
        return Err(OAuthError::invalid_client(
            "only confidential clients may introspect tokens",
            basic,
        )
        .into());
    }
    Ok(())
}

pub async fn introspect(
    State(state): State<AppState>,
    source: SourceAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthErrorResponse> {
    let mut form = form_body(&headers, &body)?;
    introspection_caller(&state, source, &headers, &mut form).await?;
    let token = form.remove("token").unwrap_or_default();
    let i = state
        .services
        .oauth
        .introspect(&token)
        .await
        .map_err(OAuthError::from)?;
    let mut m = Map::new();
    m.insert("active".into(), i.active.into());
    if i.active {
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("scope", i.scope.map(Value::from));
        put("client_id", i.client_id.map(Value::from));
        put("username", i.username.map(Value::from));
        put("token_type", i.token_type.map(Value::from));
        put("iat", i.iat.map(Value::from));
        put("exp", i.exp.map(Value::from));
        put("sub", i.sub.map(Value::from));
        put("iss", i.iss.map(Value::from));
    }
    Ok(json_no_store(m))
}

/// A JSON object answered with RFC 6749 §5.1's `Cache-Control: no-store`.
fn json_no_store(m: Map<String, Value>) -> Response {
    let mut res = Json(Value::Object(m)).into_response();
    no_store(res.headers_mut());
    res
}

pub async fn revoke(
    State(state): State<AppState>,
    source: SourceAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthErrorResponse> {
    let mut form = form_body(&headers, &body)?;
    let creds = required_credentials(
        &headers,
        &mut form,
        "revocation requires client authentication (RFC 7009 §2.1)",
    )?;
    let client = authenticate_client(&state, source, &creds).await?;
    let token = form.remove("token").unwrap_or_default();
    state
        .services
        .oauth
        .revoke(&client, &token, source.to_audit())
        .await?;
    let mut res = ().into_response();
    no_store(res.headers_mut());
    Ok(res)
}
