//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! DTOs' `ToSchema` derives.
//!
//! Each handler's attribute lists the answers of its own route (success, 403, 404, 409, 412,
//! 422, ...). The answers every route shares because of the transport are added by
//! [`TransportResponses`], from what the operation declares:
//! - every operation: 408 (timeout) and 500 (a bug); 429 unless it is a probe;
//! - a request body: 400 (malformed JSON), 413 (too large), 415 (not JSON), 422 (bad fields);
//! - a bearer token: 401, and 503 (the store is unavailable), as for every operation that reads
//!   the store;
//! - an `If-Match` header: 400 (malformed) and 412 (stale);
//! - an `Idempotency-Key` header: 400 (malformed), 409 (the first request still runs, or the key
//!   was used with another body).
//!
//! Errors are `$ref`s to shared responses (`#/components/responses/NotFound`, ...) whose body is
//! the `Problem` schema in `application/problem+json`.

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::body::Bytes;
use serde::Serialize;
use tasklane_core::{Priority, Role, StatusCategory, TokenKind, TokenScope, TransitionCondition};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use crate::error::{Problem, PROBLEM_JSON};
use crate::routes::{accounts, comments, docs, ops, projects, tasks, workspaces};

/// The name of the bearer security scheme in the document.
pub(crate) const BEARER: &str = "bearer";

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tasklane API",
        description = "The Tasklane v1 HTTP contract. Authenticate with `Authorization: Bearer <token>` \
            (from `POST /api/v1/auth/register`, `POST /api/v1/auth/login` or `POST /api/v1/me/tokens`). \
            Errors are RFC 9457 problem details (`application/problem+json`). Single objects carry \
            `version` and an `ETag`; `PATCH`, `DELETE`, `PUT` and transitions honour `If-Match`."
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::healthz_v1,
        ops::readyz_v1,
        docs::openapi_json,
        docs::docs_page,
        docs::docs_asset,
        crate::telemetry::render,
        accounts::register,
        accounts::login,
        accounts::logout,
        accounts::me,
        accounts::create_token,
        accounts::list_tokens,
        accounts::revoke_token,
        workspaces::create,
        workspaces::list,
        workspaces::get,
        workspaces::rename,
        workspaces::members,
        workspaces::add_member,
        workspaces::change_role,
        workspaces::remove_member,
        workspaces::activity,
        projects::create,
        projects::list,
        projects::get,
        projects::update,
        projects::delete,
        projects::archive,
        projects::restore,
        projects::workflow,
        projects::replace_workflow,
        projects::stats,
        projects::create_label,
        projects::list_labels,
        projects::get_label,
        projects::update_label,
        projects::delete_label,
        projects::create_milestone,
        projects::list_milestones,
        projects::get_milestone,
        projects::update_milestone,
        projects::delete_milestone,
        projects::activity,
        tasks::create,
        tasks::list,
        tasks::bulk,
        tasks::get,
        tasks::update,
        tasks::delete,
        tasks::restore,
        tasks::transition,
        tasks::move_task,
        tasks::add_dependency,
        tasks::remove_dependency,
        tasks::subtasks,
        tasks::activity,
        comments::create,
        comments::list,
        comments::get,
        comments::edit,
        comments::delete,
    ),
    components(
        schemas(Problem),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Timeout,
            Conflict,
            PreconditionFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            TooManyRequests,
            InternalError,
            Unavailable,
        )
    ),
    modifiers(&Security, &TransportResponses),
    tags(
        (name = "accounts", description = "Registration, login, logout, the caller's account and personal tokens."),
        (name = "workspaces", description = "Workspaces, their members and their activity."),
        (name = "projects", description = "Projects, workflows, statistics, labels and milestones."),
        (name = "tasks", description = "Tasks, transitions, board moves, dependencies, subtasks and bulk changes."),
        (name = "comments", description = "Comments on tasks."),
        (name = "operations", description = "Probes, metrics and this documentation; no token needed."),
    )
)]
pub(crate) struct ApiDoc;

/// The document, built once per process.
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// The document as JSON, serialized once per process.
pub(crate) fn document_json() -> Bytes {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    JSON.get_or_init(|| {
        Bytes::from(serde_json::to_vec(document()).expect("the OpenAPI document serializes"))
    })
    .clone()
}

/// The bearer scheme.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An opaque token (`tl_...`) from registration, login or `POST /me/tokens`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the answers every operation can get from the transport (see the module documentation).
struct TransportResponses;

fn add_response(op: &mut Operation, status: &str, name: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
}

impl Modify for TransportResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let probe = path.ends_with("/healthz") || path.ends_with("/readyz");
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_response(op, "408", "Timeout");
                add_response(op, "500", "InternalError");
                if !probe {
                    add_response(op, "429", "TooManyRequests");
                }
                if op.request_body.is_some() {
                    add_response(op, "400", "BadRequest");
                    add_response(op, "413", "PayloadTooLarge");
                    add_response(op, "415", "UnsupportedMediaType");
                    add_response(op, "422", "ValidationFailed");
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add_response(op, "401", "Unauthorized");
                    add_response(op, "503", "Unavailable");
                }
                let if_match = op.parameters.iter().flatten().any(|p| {
                    p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case("if-match")
                });
                if if_match {
                    add_response(op, "400", "BadRequest");
                    add_response(op, "412", "PreconditionFailed");
                }
                let idempotent = op.parameters.iter().flatten().any(|p| {
                    p.parameter_in == ParameterIn::Header
                        && p.name.eq_ignore_ascii_case("idempotency-key")
                });
                if idempotent {
                    add_response(op, "400", "BadRequest");
                    add_response(op, "409", "Conflict");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas of the core's enums, named as the API writes them.

/// The name a value has on the wire.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $ty:ident, $name:literal, $description:literal, $values:expr) => {
        $(#[$meta])*
        pub(crate) struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let values: Vec<String> = $values.iter().map(wire_name).collect();
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .enum_values(Some(values))
                    .into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_enum!(
    /// A member's role in a workspace.
    RoleSchema,
    "Role",
    "A member's role in a workspace, least powerful first.",
    Role::ALL
);
string_enum!(
    /// A task's priority.
    PrioritySchema,
    "Priority",
    "A task's priority.",
    Priority::ALL
);
string_enum!(
    /// A status's category.
    StatusCategorySchema,
    "StatusCategory",
    "The category of a workflow status.",
    StatusCategory::ALL
);
string_enum!(
    /// A token's scope.
    TokenScopeSchema,
    "TokenScope",
    "What a token may do: `read` cannot write.",
    TOKEN_SCOPES
);
string_enum!(
    /// How a token came to be.
    TokenKindSchema,
    "TokenKind",
    "`session` (from a login) or `personal` (from `POST /me/tokens`).",
    TOKEN_KINDS
);
string_enum!(
    /// A condition a transition may demand.
    TransitionConditionSchema,
    "TransitionCondition",
    "A condition a workflow transition may demand.",
    TRANSITION_CONDITIONS
);

const TOKEN_SCOPES: [TokenScope; 2] = [TokenScope::Read, TokenScope::Write];
const TOKEN_KINDS: [TokenKind; 2] = [TokenKind::Session, TokenKind::Personal];
const TRANSITION_CONDITIONS: [TransitionCondition; 3] = [
    TransitionCondition::NoOpenBlockers,
    TransitionCondition::AllSubtasksDone,
    TransitionCondition::HasAssignee,
];

/// Fails to compile when the core grows a variant the lists above do not have.
#[allow(dead_code)]
fn lists_are_exhaustive(s: TokenScope, k: TokenKind, c: TransitionCondition) {
    match s {
        TokenScope::Read | TokenScope::Write => {}
    }
    match k {
        TokenKind::Session | TokenKind::Personal => {}
    }
    match c {
        TransitionCondition::NoOpenBlockers
        | TransitionCondition::AllSubtasksDone
        | TransitionCondition::HasAssignee => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Problem details.

impl PartialSchema for Problem {
    fn schema() -> RefOr<Schema> {
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let field_error = ObjectBuilder::new()
            .property(
                "field",
                string().description(Some("The field's path (`set.color`, `statuses[0].name`).")),
            )
            .property(
                "message",
                string().description(Some("What is wrong with it.")),
            )
            .required("field")
            .required("message");
        ObjectBuilder::new()
            .description(Some(
                "An RFC 9457 problem document. Extension members carry the facts of the problem \
                 (`errors`, `failures`, `reason`, `cycle`, `retry_after_seconds`, ...).",
            ))
            .property(
                "type",
                string().description(Some("The kind of problem: `urn:tasklane:problem:<kind>`.")),
            )
            .property(
                "title",
                string().description(Some("A short summary of the kind.")),
            )
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The HTTP status code.")),
            )
            .property(
                "detail",
                string().description(Some("What went wrong with this request.")),
            )
            .property(
                "errors",
                ArrayBuilder::new()
                    .items(field_error)
                    .description(Some("Validation failures (422): every bad field.")),
            )
            .required("type")
            .required("title")
            .required("status")
            .required("detail")
            .into()
    }
}

impl ToSchema for Problem {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Problem")
    }
}

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some(description))
        .build()
}

macro_rules! problem_responses {
    ($($ty:ident => $description:literal $(, $header:literal : $header_description:literal)*;)+) => {
        $(
            #[doc = $description]
            pub(crate) struct $ty;

            impl<'r> ToResponse<'r> for $ty {
                fn response() -> (&'r str, RefOr<Response>) {
                    #[allow(unused_mut)]
                    let mut response = problem_response($description);
                    $(
                        response = response.header($header, integer_header($header_description));
                    )*
                    (stringify!($ty), response.build().into())
                }
            }
        )+
    };
}

problem_responses! {
    BadRequest => "Malformed JSON, or a malformed header (`If-Match`, `Idempotency-Key`).";
    Unauthorized => "No bearer token, or a bad, expired or revoked one (`WWW-Authenticate: Bearer`).";
    Forbidden => "The caller may see the object but not do this (role too weak, read-only token, closed registration).";
    NotFound => "No such object, or one the caller may not see.";
    Timeout => "The request took longer than the server's timeout.";
    Conflict => "The request conflicts with the current state or a rule (taken key, forbidden transition, dependency cycle, archived project, a task key that names tasks in several of the caller's workspaces); members name the facts.";
    PreconditionFailed => "`If-Match` names a version that is no longer current (`expected_version`, `current_version`).";
    PayloadTooLarge => "The request body is larger than the server's limit.";
    UnsupportedMediaType => "The request body is not `application/json`.";
    ValidationFailed => "Invalid input: `errors` names every bad field (unknown, missing, mistyped or invalid).";
    TooManyRequests => "Rate limited or throttled; retry after `Retry-After` seconds.", "Retry-After": "Seconds to wait before retrying.";
    InternalError => "A bug or a store failure.";
    Unavailable => "The store cannot be reached; try again later.";
}

// ---------------------------------------------------------------------------------------------
// Parameters shared by many routes.

/// `If-Match` on writes that honour it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct IfMatchHeader {
    /// The `ETag` the change is based on (`"3"`), or `*`; a stale one is answered with 412.
    #[param(rename = "If-Match", value_type = String, required = false, pattern = r#"^(\*|"[0-9]+")$"#)]
    if_match: Option<String>,
}

/// `Idempotency-Key` on creating POSTs.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct IdempotencyKeyHeader {
    /// A unique key (a UUID, say) for this creation: 1 to 255 visible ASCII characters. A retry with the same
    /// key and body within 24 hours gets the first answer again (`Idempotent-Replayed: true`) and
    /// creates nothing; the same key with another body, or a retry while the first request still
    /// runs, is a 409.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, pattern = r"^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// `{task}`: a task by id or key.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct TaskPath {
    /// The task's id, or its key such as `ENG-42`.
    task: String,
}

/// `{project}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct ProjectPath {
    /// The project's id.
    project: uuid::Uuid,
}

/// `{ws}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct WorkspacePath {
    /// The workspace's id.
    ws: uuid::Uuid,
}

/// `{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct IdPath {
    /// The object's id.
    id: uuid::Uuid,
}

/// `{ws}/members/{user}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct MemberPath {
    /// The workspace's id.
    ws: uuid::Uuid,
    /// The member's user id.
    user: uuid::Uuid,
}

/// `{task}/dependencies/{blocker}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct DependencyPath {
    /// The blocked task's id or key.
    task: String,
    /// The blocking task's id or key.
    blocker: String,
}
