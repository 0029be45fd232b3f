//! GraphQL over HTTP, with the guards the library leaves to us: a body
//! limit enforced while reading, uploads only with a custom header (so a
//! plain HTML form cannot send one), no mutations over GET, limits on
//! batches and aliases, and 400 for documents that do not parse or
//! validate.

// A refusal is a whole HTTP response, built once per refused request;
// boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, BatchResponse, Response};
use axum::body::{Body, Bytes};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use chrono::{DateTime, Utc};
use scrm_domain::policy::Actor;
use serde_json::json;

use crate::graphql::session::ClientIp;
use crate::graphql::{ScrmSchema, Viewer};
use crate::state::AppState;

/// The header that must accompany a multipart upload.
pub const CLIENT_HEADER: &str = "x-scrm-client";

/// Files one multipart request may carry.
pub const MAX_FILES: usize = 4;

type Reply = axum::response::Response;

#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    pub schema: ScrmSchema,
}

/// The viewer behind an access token whose session is still live;
/// `None` for a token that is bad, expired or signed out. A store that
/// cannot answer is an error, never a reason to sign someone out.
pub async fn viewer_from_token(
    state: &AppState,
    token: &str,
) -> scrm_domain::DomainResult<Option<(Viewer, DateTime<Utc>)>> {
    let Some(claims) = state.keys.verify(token) else {
        return Ok(None);
    };
    let Some(user) = state.store.session_user(claims.sid, claims.sub).await? else {
        return Ok(None);
    };
    let viewer = Viewer {
        actor: Actor {
            user_id: user.id,
            roles: user.roles,
            departments: user.departments,
        },
        session_id: claims.sid,
    };
    Ok(DateTime::from_timestamp(claims.exp, 0).map(|exp| (viewer, exp)))
}

/// Reads `Authorization: Bearer …`. No header: anonymous. A header with
/// a bad token: refused, so the app knows to refresh.
async fn viewer_from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, Reply> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        .unwrap_or_default();
    match viewer_from_token(state, token.trim()).await {
        Ok(Some((viewer, _))) => Ok(Some(viewer)),
        Ok(None) => Err(error_reply(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in again",
        )),
        Err(err) => {
            tracing::error!(error = ?err, "the session of a request could not be read");
            Err(error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "internal error",
            ))
        }
    }
}

pub async fn post(
    State(http): State<Http>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let limits = &http.state.config.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let multipart = content_type.starts_with("multipart/form-data");
    if !multipart && !content_type.starts_with("application/json") {
        return error_reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send application/json or multipart/form-data",
        );
    }
    if multipart && !headers.contains_key(CLIENT_HEADER) {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "uploads need the x-scrm-client header",
        );
    }
    let viewer = match viewer_from_headers(&http.state, &headers).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    if multipart && viewer.is_none() {
        return error_reply(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in to upload",
        );
    }
    let limit = if multipart {
        limits.max_upload_bytes + 64 * 1024
    } else {
        limits.max_body_bytes
    };
    let bytes = match read_limited(&headers, body, limit).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    if multipart && let Err(reply) = check_parts(&content_type, &bytes) {
        return reply;
    }
    let batch = if multipart {
        let options = MultipartOptions::default()
            .max_file_size(limits.max_upload_bytes)
            .max_num_files(MAX_FILES);
        async_graphql::http::receive_batch_body(
            Some(&content_type),
            futures_util::io::Cursor::new(bytes),
            options,
        )
        .await
        .map_err(|e| bad_request_for(&e))
    } else {
        serde_json::from_slice::<BatchRequest>(&bytes).map_err(|_| {
            error_reply(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body is not a GraphQL request",
            )
        })
    };
    match batch {
        Ok(batch) => execute(&http, batch, viewer, addr, &headers).await,
        Err(reply) => reply,
    }
}

#[derive(serde::Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

/// GET runs queries (never mutations), opens a WebSocket, or shows
/// GraphiQL in development.
pub async fn get(
    State(http): State<Http>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Reply {
    if let Ok(upgrade) = upgrade {
        return websocket(http, upgrade, addr);
    }
    let Some(query) = params.query else {
        if http.state.config.dev {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .subscription_endpoint("/graphql")
                    .finish(),
            )
            .into_response();
        }
        return error_reply(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "GraphiQL is off in production",
        );
    };
    let kind = operation_kind(&query, params.operation_name.as_deref());
    if matches!(
        kind,
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut reply = error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
            "mutations and subscriptions need POST",
        );
        reply
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return reply;
    }
    let viewer = match viewer_from_headers(&http.state, &headers).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name;
    if let Some(vars) = params.variables.and_then(|v| serde_json::from_str(&v).ok()) {
        request.variables = async_graphql::Variables::from_json(vars);
    }
    execute(&http, BatchRequest::Single(request), viewer, addr, &headers).await
}

fn websocket(http: Http, upgrade: WebSocketUpgrade, addr: SocketAddr) -> Reply {
    let upgrade = upgrade.protocols([crate::ws::PROTOCOL]);
    let speaks_protocol = upgrade.selected_protocol().is_some();
    upgrade
        .read_buffer_size(1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            if speaks_protocol {
                crate::ws::serve(
                    socket,
                    http.state,
                    http.schema,
                    ClientIp(addr.ip().to_string()),
                )
                .await;
            } else {
                crate::ws::refuse_protocol(socket).await;
            }
        })
}

async fn execute(
    http: &Http,
    batch: BatchRequest,
    viewer: Option<Viewer>,
    addr: SocketAddr,
    headers: &HeaderMap,
) -> Reply {
    let limits = &http.state.config.limits;
    let requests = match batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(rs) => rs,
    };
    if requests.len() > limits.max_batch {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "too many operations in one batch",
        );
    }
    for request in &requests {
        if let Err(refused) = precheck(&request.query, limits.max_aliases) {
            return error_reply(StatusCode::BAD_REQUEST, refused.code, &refused.message);
        }
        let variables = serde_json::to_value(&request.variables).unwrap_or_default();
        if request.query.contains('\0') || has_nul(&variables) {
            // PostgreSQL cannot store NUL in text; refuse it for both stores.
            return error_reply(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "text may not contain NUL characters",
            );
        }
    }
    let mut responses = Vec::with_capacity(requests.len());
    for mut request in requests {
        request = request.data(ClientIp(addr.ip().to_string()));
        if let Some(v) = &viewer {
            request = request.data(v.clone());
        }
        responses.push(with_codes(http.schema.execute(request).await));
    }
    let invalid = responses
        .iter()
        .all(|r| r.data == async_graphql::Value::Null && is_validation_failure(r));
    let status = if invalid {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = if responses.len() == 1 {
        serde_json::to_vec(&BatchResponse::Single(responses.remove(0)))
    } else {
        serde_json::to_vec(&BatchResponse::Batch(responses))
    };
    crate::metrics::request_done(status.as_u16());
    let mut reply = (status, Bytes::from(body.unwrap_or_default())).into_response();
    reply
        .headers_mut()
        .insert(header::CONTENT_TYPE, response_type(headers));
    reply
}

/// Reads at most `limit` bytes; a larger body is refused with 413 as
/// soon as it is known to be larger, without reading the rest.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Reply> {
    let too_large = || {
        error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            &format!("the request is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// Refuses a multipart body with more files than [`MAX_FILES`] before
/// the library parses it: its `max_num_files` only scales the size
/// limit and never counts, and each file it reads becomes a temporary
/// file. Parts are counted by their delimiters; a boundary outside
/// RFC 2046 is refused, so that it cannot hide them from the count.
fn check_parts(content_type: &str, body: &[u8]) -> Result<(), Reply> {
    let boundaries: Vec<&str> = content_type
        .split(';')
        .filter_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"'))
        })
        .collect();
    let boundary = match boundaries[..] {
        [one] if is_rfc2046_boundary(one) => one,
        _ => {
            return Err(error_reply(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the multipart request is malformed",
            ));
        }
    };
    let delimiter = format!("--{boundary}");
    let delimiters = body
        .windows(delimiter.len())
        .filter(|w| *w == delimiter.as_bytes())
        .count();
    // The operations and the map are parts too; the last delimiter
    // closes the body.
    if delimiters.saturating_sub(1) > MAX_FILES + 2 {
        return Err(error_reply(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("at most {MAX_FILES} files in one request"),
        ));
    }
    Ok(())
}

fn is_rfc2046_boundary(boundary: &str) -> bool {
    (1..=70).contains(&boundary.len())
        && !boundary.ends_with(' ')
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
}

/// Why a document was refused before any resolver ran: its code and
/// message.
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

/// Refuses documents that do not parse or carry too many aliases,
/// before any resolver runs (over HTTP and over the socket alike).
pub fn precheck(query: &str, max_aliases: usize) -> Result<(), Refused> {
    let document = async_graphql::parser::parse_query(query).map_err(|e| Refused {
        code: "GRAPHQL_PARSE_FAILED",
        message: format!("the query does not parse: {e}"),
    })?;
    let mut counter = AliasCounter {
        document: &document,
        done: HashMap::new(),
        expanding: HashSet::new(),
    };
    let aliases = document.operations.iter().fold(0usize, |n, (_, op)| {
        n.saturating_add(counter.count(&op.node.selection_set.node))
    });
    if aliases > max_aliases {
        return Err(Refused {
            code: "GRAPHQL_VALIDATION_FAILED",
            message: format!("too many aliases; the limit is {max_aliases}"),
        });
    }
    // The library would stream two root fields under one id; the
    // protocol's subscriptions have one.
    let many_roots = document.operations.iter().any(|(_, op)| {
        op.node.ty == OperationType::Subscription
            && root_fields(&document, &op.node.selection_set.node, 0) != 1
    });
    if many_roots {
        return Err(Refused {
            code: "GRAPHQL_VALIDATION_FAILED",
            message: "a subscription selects exactly one root field".to_owned(),
        });
    }
    Ok(())
}

/// Counts aliases as the query would run them: a fragment counts each
/// time it is spread, or a fragment of many aliases spread many times
/// would slip under the limit. Each fragment is counted once and
/// remembered, so nested spreads cannot make the count itself costly,
/// and a cycle (invalid, but not yet validated) counts nothing.
struct AliasCounter<'a> {
    document: &'a ExecutableDocument,
    done: HashMap<&'a str, usize>,
    expanding: HashSet<&'a str>,
}

impl<'a> AliasCounter<'a> {
    fn count(&mut self, set: &'a SelectionSet) -> usize {
        set.items.iter().fold(0usize, |n, item| {
            let here = match &item.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some())
                    .saturating_add(self.count(&f.node.selection_set.node)),
                Selection::InlineFragment(f) => self.count(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => self.fragment(s.node.fragment_name.node.as_str()),
            };
            n.saturating_add(here)
        })
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(n) = self.done.get(name) {
            return *n;
        }
        let Some((key, fragment)) = self.document.fragments.get_key_value(name) else {
            return 0;
        };
        if !self.expanding.insert(key.as_str()) {
            return 0;
        }
        let n = self.count(&fragment.node.selection_set.node);
        self.expanding.remove(key.as_str());
        self.done.insert(key.as_str(), n);
        n
    }
}

/// The fields a selection set asks for at its own level, through its
/// fragments (a cycle, invalid anyway, stops at a small depth).
fn root_fields(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => {
                root_fields(document, &f.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(s) => document
                .fragments
                .get(s.node.fragment_name.node.as_str())
                .map_or(0, |f| {
                    root_fields(document, &f.node.selection_set.node, depth + 1)
                }),
        })
        .sum()
}

fn operation_kind(query: &str, name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match name {
            Some(name) => ops.get(name).map(|op| op.node.ty),
            None => ops.values().next().map(|op| op.node.ty),
        },
    }
}

/// Errors from the library (validation, limits) get a code too, so every
/// error an app sees carries `extensions.code`.
pub fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            let mut extensions = error.extensions.take().unwrap_or_default();
            extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
            error.extensions = Some(extensions);
        }
    }
    response
}

fn is_validation_failure(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from("GRAPHQL_VALIDATION_FAILED"))
        })
}

fn response_type(headers: &HeaderMap) -> HeaderValue {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/graphql-response+json") {
        HeaderValue::from_static("application/graphql-response+json")
    } else {
        HeaderValue::from_static("application/json")
    }
}

fn bad_request_for(err: &async_graphql::ParseRequestError) -> Reply {
    match err {
        async_graphql::ParseRequestError::PayloadTooLarge => error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            "the upload is larger than the limit",
        ),
        _ => error_reply(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the multipart request is malformed",
        ),
    }
}

/// A GraphQL-shaped error answer for requests refused before execution.
pub fn error_reply(status: StatusCode, code: &str, message: &str) -> Reply {
    crate::metrics::request_done(status.as_u16());
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

/// True when any string in the JSON value holds a NUL character.
pub fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}
