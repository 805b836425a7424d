//! `/clients`: register, list, read, change, delete OAuth clients, rotate their secrets and
//! revoke all their tokens.

use super::present;
use crate::http::extract::{
    etag, if_match, AdminCaller, ApiJson, ApiPath, ApiQuery, OptionalApiJson,
};
use crate::http::problem::Problem;
use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tollgate_core::client::{Client, ClientInput, LimitInput, RefreshCount, TokenLifetime};
use tollgate_core::filter::ClientQuery;
use tollgate_core::service::ClientWithSecret;
use tollgate_core::store::ClientFilter;
use tollgate_core::ClientId;
use tollgate_core::FieldError;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list_clients).post(create_client))
        .route(
            "/clients/{client_id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
        .route("/clients/{client_id}/secret", post(rotate_secret))
        .route(
            "/clients/{client_id}/tokens",
            axum::routing::delete(revoke_client_tokens),
        )
}

pub(crate) fn lifetime_schema() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["never"])),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(315_360_000)),
        )
        .description(Some("\"never\" or a number of seconds (1–315360000)"))
}

pub(crate) fn refresh_count_schema() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["unlimited"])),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(i32::MAX)),
        )
        .description(Some(
            "\"unlimited\" or how many times an access token may be refreshed (0 = no refresh token)",
        ))
}

/// Fields of a client to create, or to change (PATCH: leave out what stays the same).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientWrite {
    /// 1–100 characters; cannot be changed once created.
    #[schema(min_length = 1, max_length = 100, example = "Billing")]
    pub name: Option<String>,
    /// 1–32 characters, e.g. "1.0"; unique together with the name.
    #[schema(min_length = 1, max_length = 32, example = "1.0")]
    pub version: Option<String>,
    /// At most 1000 characters; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Option<Option<String>>,
    /// `confidential` or `public`.
    #[serde(rename = "type", default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "confidential")]
    pub client_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, example = json!(["authorization_code"]))]
    pub grant_types: Option<Option<Vec<String>>>,
    /// Absolute URIs without fragment: `https`, `http` on loopback hosts, or a private-use
    /// scheme (`com.example.app:/cb`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, example = json!(["https://app.example.com/callback"]))]
    pub redirect_uris: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, example = json!(["read", "write"]))]
    pub scopes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = lifetime_schema)]
    pub access_token_lifetime: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = refresh_count_schema)]
    pub refresh_count: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub active: Option<Option<bool>>,
}

impl ClientWrite {
    /// The core's input. `null` means something only for `description` (it clears it); the
    /// core refuses it for the lifetime and refresh count with their own messages; for any
    /// other field it would be a silent no-op, so it is refused here, naming each field.
    pub fn into_input(self) -> Result<ClientInput, Problem> {
        let nulls = [
            (
                "type",
                self.client_type.as_ref().is_some_and(Option::is_none),
            ),
            ("grant_types", matches!(self.grant_types, Some(None))),
            ("redirect_uris", matches!(self.redirect_uris, Some(None))),
            ("scopes", matches!(self.scopes, Some(None))),
            ("active", matches!(self.active, Some(None))),
        ];
        let errs: Vec<FieldError> = nulls
            .into_iter()
            .filter(|(_, null)| *null)
            .map(|(field, _)| {
                FieldError::new(field, "invalid", format!("{field} must not be null"))
            })
            .collect();
        if !errs.is_empty() {
            return Err(Problem::validation(errs));
        }
        Ok(ClientInput {
            name: self.name,
            version: self.version,
            description: self.description,
            client_type: self.client_type.flatten(),
            grant_types: self.grant_types.flatten(),
            redirect_uris: self.redirect_uris.flatten(),
            scopes: self.scopes.flatten(),
            access_token_lifetime: self.access_token_lifetime.map(limit_from_json),
            refresh_count: self.refresh_count.map(limit_from_json),
            active: self.active.flatten(),
        })
    }
}

/// A JSON limit as core's `LimitInput`: the rules decide what is right, this only says
/// which kind of JSON value it is.
fn limit_from_json(v: Value) -> LimitInput {
    match v {
        Value::Number(n) => LimitInput::Number(n.as_i64()),
        Value::String(s) => LimitInput::Text(s),
        other => LimitInput::Other(other.to_string()),
    }
}

/// How a limit goes out as JSON (the CLI sends what an administrator typed): a number, or
/// text.
pub fn limit_to_json(l: LimitInput) -> Value {
    match l {
        LimitInput::Number(Some(n)) => Value::from(n),
        LimitInput::Number(None) => Value::Null,
        LimitInput::Text(t) | LimitInput::Other(t) => Value::from(t),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EndpointsView {
    pub authorization: String,
    pub token: String,
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarningView {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// A client as the API shows it. Never contains a secret, except `client_secret` in the
/// response that generated it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub client_type: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    #[schema(schema_with = lifetime_schema)]
    pub access_token_lifetime: Value,
    #[schema(schema_with = refresh_count_schema)]
    pub refresh_count: Value,
    pub active: bool,
    /// Whether the client has a secret (confidential clients).
    pub has_secret: bool,
    /// While a rotated-out secret still works: until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub endpoints: EndpointsView,
    /// Discouraged settings this client uses (SPEC §1 legacy options).
    pub warnings: Vec<WarningView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only in the response that generated it (creation, type change to confidential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientView {
    pub fn new(state: &AppState, c: &Client, secret: Option<String>) -> Self {
        let e = state.services.clients.endpoints();
        Self {
            client_id: c.client_id.to_string(),
            name: c.name.clone(),
            version: c.version.clone(),
            description: c.description.clone(),
            client_type: c.client_type.as_str().to_owned(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            redirect_uris: c.redirect_uris.clone(),
            scopes: c.scopes.to_vec(),
            access_token_lifetime: match c.access_token_lifetime {
                TokenLifetime::Never => Value::from("never"),
                TokenLifetime::Seconds(s) => Value::from(s),
            },
            refresh_count: match c.refresh_count {
                RefreshCount::Unlimited => Value::from("unlimited"),
                RefreshCount::Limited(n) => Value::from(n),
            },
            active: c.active,
            has_secret: c.secret_hash.is_some(),
            previous_secret_expires_at: c.previous_secret_expires_at,
            endpoints: EndpointsView {
                authorization: e.authorization,
                token: e.token,
                refresh_token: e.refresh_token,
            },
            warnings: c
                .warnings()
                .into_iter()
                .map(|w| WarningView {
                    field: w.field.into(),
                    code: w.code.into(),
                    message: w.message.into(),
                })
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: secret,
        }
    }
}

fn with_etag(status: StatusCode, revision: i64, view: ClientView) -> Response {
    let mut res = (status, Json(view)).into_response();
    if let Ok(v) = etag(revision).parse() {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn respond(state: &AppState, status: StatusCode, cws: ClientWithSecret) -> Response {
    let secret = cws.secret.map(|s| s.expose().to_owned());
    let view = ClientView::new(state, &cws.client, secret);
    let mut res = with_etag(status, cws.client.revision, view);
    // A response carrying a secret must not be cached anywhere.
    if res.status().is_success() && cws.client.secret_hash.is_some() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    res
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListClientsQuery {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Only clients allowed this grant type.
    pub grant_type: Option<String>,
    /// Only `confidential` or only `public` clients.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub client_type: Option<String>,
    /// Only clients with exactly this version.
    pub version: Option<String>,
    /// The order: `created` (oldest first, the default), `name` (case-insensitive, then
    /// version) or `version` (as text, then name); a leading `-` reverses it. A cursor
    /// belongs to the order it was handed out with.
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientView>,
    pub next_cursor: Option<String>,
}

/// List clients, filtered and paginated.
#[utoipa::path(get, path = "/clients", tag = "clients", params(ListClientsQuery),
    responses((status = 200, body = ClientPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn list_clients(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(q): ApiQuery<ListClientsQuery>,
) -> Result<Json<ClientPage>, Problem> {
    let filter = ClientFilter::parse(ClientQuery {
        q: q.q.as_deref(),
        active: q.active.map(|a| if a { "true" } else { "false" }),
        grant_type: q.grant_type.as_deref(),
        client_type: q.client_type.as_deref(),
        version: q.version.as_deref(),
        sort: q.sort.as_deref(),
    })
    .map_err(Problem::validation)?;
    let page = state
        .services
        .clients
        .list(&filter, q.cursor.as_deref(), q.limit)
        .await?;
    Ok(Json(ClientPage {
        items: page
            .items
            .iter()
            .map(|c| ClientView::new(&state, c, None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Register a client. Confidential clients get a `client_secret`, shown only here.
#[utoipa::path(post, path = "/clients", tag = "clients", request_body = ClientWrite,
    responses((status = 201, body = ClientView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn create_client(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(body): ApiJson<ClientWrite>,
) -> Result<Response, Problem> {
    let created = state
        .services
        .clients
        .create(&caller.actor, body.into_input()?)
        .await?;
    let location = format!("/admin/api/v1/clients/{}", created.client.client_id);
    let mut res = respond(&state, StatusCode::CREATED, created);
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Read one client.
#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientView, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("admin_key" = [])))]
pub async fn get_client(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> Result<Response, Problem> {
    let c = state.services.clients.get(&client_id).await?;
    Ok(with_etag(
        StatusCode::OK,
        c.revision,
        ClientView::new(&state, &c, None),
    ))
}

/// Change a client. Send `If-Match` with the ETag you read to be refused (412) instead of
/// overwriting someone else's change. Changing `type` to confidential returns a new
/// `client_secret`; setting `active` to false invalidates all the client's tokens for good.
#[utoipa::path(patch, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ClientWrite,
    responses((status = 200, body = ClientView, headers(("ETag" = String))), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn update_client(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(client_id): ApiPath<ClientId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ClientWrite>,
) -> Result<Response, Problem> {
    let updated = state
        .services
        .clients
        .update(
            &caller.actor,
            &client_id,
            body.into_input()?,
            if_match(&headers),
        )
        .await?;
    Ok(respond(&state, StatusCode::OK, updated))
}

/// Delete a client (and its tokens).
#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem)),
    security(("admin_key" = [])))]
pub async fn delete_client(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(client_id): ApiPath<ClientId>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    state
        .services
        .clients
        .delete(&caller.actor, &client_id, if_match(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the previous secret keeps working, 0–2592000 seconds (default 0).
    #[schema(minimum = 0, maximum = 2_592_000)]
    pub grace_seconds: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecretView {
    pub client_id: String,
    /// The new secret; shown only in this response.
    pub client_secret: String,
    /// Until when the previous secret is still accepted (absent: not at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// Issue a new client secret (the body is optional).
#[utoipa::path(post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path)),
    request_body(content = Option<RotateSecretRequest>, description = "optional"),
    responses((status = 200, body = RotatedSecretView, headers(("ETag" = String))), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(client_id): ApiPath<ClientId>,
    OptionalApiJson(body): OptionalApiJson<RotateSecretRequest>,
) -> Result<Response, Problem> {
    let grace = body.unwrap_or_default().grace_seconds;
    let r = state
        .services
        .clients
        .rotate_secret(&caller.actor, &client_id, grace)
        .await?;
    let mut res = Json(RotatedSecretView {
        client_id: r.client.client_id.to_string(),
        client_secret: r.secret.expose().to_owned(),
        previous_secret_expires_at: r.previous_secret_expires_at,
    })
    .into_response();
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Ok(v) = etag(r.client.revision).parse() {
        h.insert(header::ETAG, v);
    }
    Ok(res)
}

/// Revoke every token of the client at once; the client stays active.
#[utoipa::path(delete, path = "/clients/{client_id}/tokens", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("admin_key" = [])))]
pub async fn revoke_client_tokens(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> Result<StatusCode, Problem> {
    state
        .services
        .clients
        .revoke_all_tokens(&caller.actor, &client_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
