//! Request and response bodies of the v1 contract, kept apart from the core's records so that the
//! wire format changes only on purpose. Times are RFC 3339 UTC strings, days `YYYY-MM-DD`, ids
//! UUID strings; request bodies refuse unknown fields.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use tasklane_core::engine::{MemberView, MilestoneView, ProjectStats};
use tasklane_core::event::Event;
use tasklane_core::{
    ApiToken, Comment, IssuedToken, Label, LabelId, Membership, MilestoneId, Priority, Project,
    Role, Status, StatusCategory, StatusId, TaskId, TaskView, TokenKind, TokenScope, Transition,
    TransitionCondition, User, UserId, Workflow, Workspace,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::openapi::{
    PrioritySchema, RoleSchema, StatusCategorySchema, TokenKindSchema, TokenScopeSchema,
    TransitionConditionSchema,
};

// ---------------------------------------------------------------------------------------------
// Wire forms of times and days.

/// An instant as an RFC 3339 string; input with an offset is converted to UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rfc3339Time(pub OffsetDateTime);

impl Serialize for Rfc3339Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Rfc3339Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map(|t| Rfc3339Time(t.to_offset(UtcOffset::UTC)))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{text}' is not an RFC 3339 time such as 2026-05-01T09:30:00Z"
                ))
            })
    }
}

impl PartialSchema for Rfc3339Time {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant, RFC 3339; answers are in UTC."))
            .examples(["2026-05-01T09:30:00Z"])
            .into()
    }
}

impl ToSchema for Rfc3339Time {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timestamp")
    }
}

fn time(t: OffsetDateTime) -> Rfc3339Time {
    Rfc3339Time(t)
}

fn opt_time(t: Option<OffsetDateTime>) -> Option<Rfc3339Time> {
    t.map(Rfc3339Time)
}

/// A calendar day as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Day(pub Date);

const DAY_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .format(DAY_FORMAT)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text, DAY_FORMAT).map(Day).map_err(|_| {
            serde::de::Error::custom(format!("'{text}' is not a day such as 2026-05-01"))
        })
    }
}

impl PartialSchema for Day {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("A calendar day, YYYY-MM-DD."))
            .examples(["2026-05-01"])
            .into()
    }
}

impl ToSchema for Day {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Day")
    }
}

/// For nullable PATCH fields: absent → `None` (unchanged), `null` → `Some(None)` (clear),
/// a value → `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "nullable")]`.
pub(crate) fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// For non-nullable optional PATCH fields: absent → `None`; `null` is an error naming the field.
/// Use with `#[serde(default, deserialize_with = "present")]`.
pub(crate) fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom("must not be null")),
    }
}

/// A whole number that may be written with a zero fraction (`60.0`), as JSON Schema's `integer`
/// allows.
#[derive(Deserialize)]
#[serde(untagged)]
enum WholeNumber {
    Integer(u64),
    Float(f64),
}

impl WholeNumber {
    fn get<E: serde::de::Error>(self) -> Result<u64, E> {
        match self {
            WholeNumber::Integer(n) => Ok(n),
            WholeNumber::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64 => {
                Ok(f as u64)
            }
            WholeNumber::Float(f) => Err(E::custom(format!(
                "invalid value: {f}, expected a whole number of seconds"
            ))),
        }
    }
}

/// `Option<u64>` that also accepts `60.0`. Use with `#[serde(default, deserialize_with = ...)]`.
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<WholeNumber>::deserialize(d)?
        .map(WholeNumber::get)
        .transpose()
}

/// [`nullable`] over [`whole_number`].
pub(crate) fn nullable_whole_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<u64>>, D::Error> {
    whole_number(d).map(Some)
}

/// The schema of a task named by id or key.
pub(crate) struct TaskRefSchema;

impl PartialSchema for TaskRefSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A task's id, or its key such as `ENG-42`."))
            .pattern(Some(TASK_REF_PATTERN))
            .into()
    }
}

impl ToSchema for TaskRefSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TaskRef")
    }
}

/// A task id or key.
const TASK_REF_PATTERN: &str = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z][A-Za-z0-9]{1,9}-[0-9]{1,19})$";

/// A list response: `{items, next_cursor}`. Its schema is named after the item's (`TaskList`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ListDto<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The schema of a list of `T`: `{items: [T], next_cursor}`, named `<T>List`.
fn list_schema<T: ToSchema>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "items",
            ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
        )
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(
                    "Pass as `cursor` to fetch the next page; `null` on the last page.",
                )),
        )
        .required("next_cursor")
        .into()
}

/// Schema-only types for the OpenAPI document: `ListDto<TaskDto>` is documented as `TaskList`.
macro_rules! list_schemas {
    ($($list:ident => $item:ty;)+) => {
        $(
            #[doc = concat!("The schema of `ListDto<", stringify!($item), ">`.")]
            pub(crate) struct $list;

            impl PartialSchema for $list {
                fn schema() -> RefOr<Schema> {
                    list_schema::<$item>()
                }
            }

            impl ToSchema for $list {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($list))
                }

                fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                    schemas.push((<$item>::name().into_owned(), <$item>::schema()));
                    <$item>::schemas(schemas);
                }
            }
        )+
    };
}

list_schemas! {
    TokenList => TokenDto;
    WorkspaceList => WorkspaceDto;
    MemberList => MemberDto;
    ProjectList => ProjectDto;
    LabelList => LabelDto;
    MilestoneList => MilestoneDto;
    TaskList => TaskDto;
    CommentList => CommentDto;
    EventList => EventDto;
}

impl<T> ListDto<T> {
    pub fn all(items: Vec<T>) -> Self {
        ListDto {
            items,
            next_cursor: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterBody {
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\x00]+@[^@\s.\x00][^@\s\x00]*\.[^@\s\x00]*[^@\s.\x00]$"
    )]
    pub email: String,
    #[schema(min_length = 8, max_length = 1024, pattern = r"^[^\x00]*$")]
    pub password: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Vec<TokenScopeSchema>)]
    pub scopes: Vec<TokenScope>,
    #[serde(default)]
    pub expires_at: Option<Rfc3339Time>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub is_server_admin: bool,
    pub created_at: Rfc3339Time,
    pub version: u64,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            is_server_admin: u.is_server_admin,
            created_at: time(u.created_at),
            version: u.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Registration)]
pub(crate) struct RegisterDto {
    pub user: UserDto,
    pub token: String,
    pub expires_at: Option<Rfc3339Time>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub(crate) struct LoginDto {
    pub token: String,
    pub expires_at: Option<Rfc3339Time>,
    pub user: UserDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub(crate) struct TokenDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: tasklane_core::TokenId,
    pub name: String,
    #[schema(value_type = TokenKindSchema)]
    pub kind: TokenKind,
    pub prefix: String,
    #[schema(value_type = Vec<TokenScopeSchema>)]
    pub scopes: Vec<TokenScope>,
    pub created_at: Rfc3339Time,
    pub expires_at: Option<Rfc3339Time>,
    pub last_used_at: Option<Rfc3339Time>,
    pub version: u64,
    /// The secret, only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        TokenDto {
            id: t.id,
            name: t.name.clone(),
            kind: t.kind,
            prefix: t.prefix.clone(),
            scopes: t.scopes.clone(),
            created_at: time(t.created_at),
            expires_at: opt_time(t.expires_at),
            last_used_at: opt_time(t.last_used_at),
            version: t.version,
            token: None,
        }
    }
}

impl From<&IssuedToken> for TokenDto {
    fn from(t: &IssuedToken) -> Self {
        TokenDto {
            token: Some(t.secret.clone()),
            ..TokenDto::from(&t.token)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workspaces and members.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Workspace)]
pub(crate) struct WorkspaceDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: tasklane_core::WorkspaceId,
    pub name: String,
    pub created_at: Rfc3339Time,
    pub version: u64,
    /// The caller's role (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<Role>,
}

impl WorkspaceDto {
    pub fn new(w: &Workspace, role: Option<Role>) -> Self {
        WorkspaceDto {
            id: w.id,
            name: w.name.clone(),
            created_at: time(w.created_at),
            version: w.version,
            role,
        }
    }
}

/// `{email or user_id, role}`: exactly one of `email` and `user_id` (the schema says so with
/// `oneOf`, hence written by hand).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddMemberBody {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    pub role: Role,
}

impl PartialSchema for AddMemberBody {
    fn schema() -> RefOr<Schema> {
        let variant = |field: &str, schema: ObjectBuilder| {
            ObjectBuilder::new()
                .property(field, schema)
                .property("role", Ref::from_schema_name(RoleSchema::name()))
                .required(field)
                .required("role")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .description(Some(
                "A member to add, by e-mail address or by user id (exactly one), with a role.",
            ))
            .item(variant(
                "email",
                ObjectBuilder::new().schema_type(Type::String),
            ))
            .item(variant(
                "user_id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            ))
            .into()
    }
}

impl ToSchema for AddMemberBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RoleSchema::name().into_owned(), RoleSchema::schema()));
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberPatchBody {
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Member)]
pub(crate) struct MemberDto {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleSchema)]
    pub role: Role,
    pub joined_at: Rfc3339Time,
    pub version: u64,
}

impl MemberDto {
    pub fn new(m: &Membership, u: &User) -> Self {
        MemberDto {
            user_id: m.user_id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: m.role,
            joined_at: time(m.created_at),
            version: m.version,
        }
    }
}

impl From<&MemberView> for MemberDto {
    fn from(v: &MemberView) -> Self {
        MemberDto::new(&v.membership, &v.user)
    }
}

// ---------------------------------------------------------------------------------------------
// Projects, workflows, labels, milestones.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProjectBody {
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9]{1,9}$")]
    pub key: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub template_id: Option<tasklane_core::ProjectId>,
    #[serde(default)]
    pub is_template: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectPatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    pub is_template: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Project)]
pub(crate) struct ProjectDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: tasklane_core::ProjectId,
    #[schema(value_type = uuid::Uuid)]
    pub workspace_id: tasklane_core::WorkspaceId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub is_template: bool,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&Project> for ProjectDto {
    fn from(p: &Project) -> Self {
        ProjectDto {
            id: p.id,
            workspace_id: p.workspace_id,
            key: p.key.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            archived: p.archived,
            is_template: p.is_template,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
            version: p.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Status)]
pub(crate) struct StatusDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: StatusId,
    pub name: String,
    #[schema(value_type = StatusCategorySchema)]
    pub category: StatusCategory,
    pub color: Option<String>,
}

impl From<&Status> for StatusDto {
    fn from(s: &Status) -> Self {
        StatusDto {
            id: s.id,
            name: s.name.clone(),
            category: s.category,
            color: s.color.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Transition)]
pub(crate) struct TransitionDto {
    #[schema(value_type = uuid::Uuid)]
    pub from: StatusId,
    #[schema(value_type = uuid::Uuid)]
    pub to: StatusId,
    #[schema(value_type = Vec<RoleSchema>)]
    pub roles: Vec<Role>,
    #[schema(value_type = Vec<TransitionConditionSchema>)]
    pub conditions: Vec<TransitionCondition>,
}

impl From<&Transition> for TransitionDto {
    fn from(t: &Transition) -> Self {
        TransitionDto {
            from: t.from,
            to: t.to,
            roles: t.roles.clone(),
            conditions: t.conditions.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Workflow)]
pub(crate) struct WorkflowDto {
    #[schema(value_type = uuid::Uuid)]
    pub project_id: tasklane_core::ProjectId,
    pub statuses: Vec<StatusDto>,
    /// `null`: every move is allowed.
    pub transitions: Option<Vec<TransitionDto>>,
    pub version: u64,
}

impl From<&Workflow> for WorkflowDto {
    fn from(w: &Workflow) -> Self {
        WorkflowDto {
            project_id: w.project_id,
            statuses: w.statuses.iter().map(StatusDto::from).collect(),
            transitions: w
                .transitions
                .as_ref()
                .map(|ts| ts.iter().map(TransitionDto::from).collect()),
            version: w.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub id: Option<StatusId>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
    #[schema(value_type = StatusCategorySchema)]
    pub category: StatusCategory,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionBody {
    /// A status id or name.
    pub from: String,
    /// A status id or name.
    pub to: String,
    #[serde(default)]
    #[schema(value_type = Vec<RoleSchema>)]
    pub roles: Vec<Role>,
    #[serde(default)]
    #[schema(value_type = Vec<TransitionConditionSchema>)]
    pub conditions: Vec<TransitionCondition>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingBody {
    /// A status that is dropped.
    #[schema(value_type = uuid::Uuid)]
    pub from: StatusId,
    /// The remaining status (id or name) its tasks move to.
    pub to: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkflowBody {
    pub statuses: Vec<StatusBody>,
    /// Absent or `null`: every move is allowed.
    #[serde(default)]
    pub transitions: Option<Vec<TransitionBody>>,
    #[serde(default)]
    pub mapping: Vec<MappingBody>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatusCount)]
pub(crate) struct StatusStatDto {
    #[schema(value_type = uuid::Uuid)]
    pub status_id: StatusId,
    pub name: String,
    #[schema(value_type = StatusCategorySchema)]
    pub category: StatusCategory,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProjectStats)]
pub(crate) struct StatsDto {
    pub by_status: Vec<StatusStatDto>,
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    pub by_category: serde_json::Map<String, Value>,
    pub total: u64,
    pub overdue: u64,
    pub completion_ratio: f64,
}

impl From<&ProjectStats> for StatsDto {
    fn from(s: &ProjectStats) -> Self {
        StatsDto {
            by_status: s
                .by_status
                .iter()
                .map(|b| StatusStatDto {
                    status_id: b.status_id,
                    name: b.name.clone(),
                    category: b.category,
                    count: b.count,
                })
                .collect(),
            by_category: s
                .by_category
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), Value::from(*n)))
                .collect(),
            total: s.total,
            overdue: s.overdue,
            completion_ratio: s.completion_ratio,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewLabelBody {
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(pattern = r"^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelPatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 50, pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^#[0-9A-Fa-f]{6}$")]
    pub color: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Label)]
pub(crate) struct LabelDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: LabelId,
    #[schema(value_type = uuid::Uuid)]
    pub project_id: tasklane_core::ProjectId,
    pub name: String,
    pub color: Option<String>,
    pub version: u64,
}

impl From<&Label> for LabelDto {
    fn from(l: &Label) -> Self {
        LabelDto {
            id: l.id,
            project_id: l.project_id,
            name: l.name.clone(),
            color: l.color.clone(),
            version: l.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMilestoneBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    pub due_on: Option<Day>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MilestonePatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Day>)]
    pub due_on: Option<Option<Day>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    pub closed: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Milestone)]
pub(crate) struct MilestoneDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: MilestoneId,
    #[schema(value_type = uuid::Uuid)]
    pub project_id: tasklane_core::ProjectId,
    pub name: String,
    pub due_on: Option<Day>,
    pub closed: bool,
    pub total: u64,
    pub done: u64,
    pub progress: f64,
    pub version: u64,
}

impl From<&MilestoneView> for MilestoneDto {
    fn from(v: &MilestoneView) -> Self {
        let m = &v.milestone;
        MilestoneDto {
            id: m.id,
            project_id: m.project_id,
            name: m.name.clone(),
            due_on: m.due_on.map(Day),
            closed: m.closed,
            total: v.total,
            done: v.done,
            progress: v.progress,
            version: m.version,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTaskBody {
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub status_id: Option<StatusId>,
    #[serde(default)]
    #[schema(value_type = Option<PrioritySchema>)]
    pub priority: Option<Priority>,
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub assignee_ids: Vec<UserId>,
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub label_ids: Vec<LabelId>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub milestone_id: Option<MilestoneId>,
    #[serde(default)]
    pub due_at: Option<Rfc3339Time>,
    #[serde(default)]
    pub start_at: Option<Rfc3339Time>,
    #[serde(default, deserialize_with = "whole_number")]
    pub estimate_seconds: Option<u64>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<TaskId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskPatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = uuid::Uuid)]
    pub status_id: Option<StatusId>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = PrioritySchema)]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub assignee_ids: Option<Vec<UserId>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub label_ids: Option<Vec<LabelId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub milestone_id: Option<Option<MilestoneId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Rfc3339Time>)]
    pub due_at: Option<Option<Rfc3339Time>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Rfc3339Time>)]
    pub start_at: Option<Option<Rfc3339Time>>,
    #[serde(default, deserialize_with = "nullable_whole_number")]
    #[schema(value_type = Option<u64>)]
    pub estimate_seconds: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<Option<TaskId>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TaskListQuery {
    /// A filter in the filter language; an error is a 422 that points at the position.
    #[serde(default)]
    pub q: Option<String>,
    /// The order: `created`, `updated`, `due`, `priority`, `position` or `title`, with a `-`
    /// prefix for descending (`-priority`).
    #[serde(default)]
    pub sort: Option<String>,
    /// Page size: 1 to 200, 50 by default.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// List the trash instead of the live tasks.
    #[serde(default)]
    pub trashed: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionRequestBody {
    #[schema(value_type = uuid::Uuid)]
    pub status_id: StatusId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveBody {
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub status_id: Option<StatusId>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub before_id: Option<TaskId>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub after_id: Option<TaskId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DependencyBody {
    /// The blocking task, by id or key.
    #[schema(
        pattern = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z][A-Za-z0-9]{1,9}-[0-9]{1,19})$"
    )]
    pub blocked_by: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkSetBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = uuid::Uuid)]
    pub status_id: Option<StatusId>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = PrioritySchema)]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub assignee_ids: Option<Vec<UserId>>,
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub add_label_ids: Vec<LabelId>,
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub remove_label_ids: Vec<LabelId>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub milestone_id: Option<Option<MilestoneId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Rfc3339Time>)]
    pub due_at: Option<Option<Rfc3339Time>>,
}

/// `{task_ids, set}` or `{task_ids, delete: true}` (the schema says so with `oneOf`, hence
/// written by hand).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkBody {
    /// Tasks by id or key.
    pub task_ids: Vec<String>,
    #[serde(default)]
    pub set: Option<BulkSetBody>,
    #[serde(default)]
    pub delete: Option<bool>,
}

impl PartialSchema for BulkBody {
    fn schema() -> RefOr<Schema> {
        let task_ids = || {
            ArrayBuilder::new()
                .items(TaskRefSchema::schema())
                .min_items(Some(1))
                .unique_items(true)
                .description(Some(
                    "The tasks, by id or key, each once (at most the server's bulk limit, 1000 by default).",
                ))
        };
        let boolean = |value: bool| {
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([value]))
        };
        OneOfBuilder::new()
            .description(Some(
                "Change every task (`set`) or move every task to the trash (`delete: true`): all or nothing.",
            ))
            .item(
                ObjectBuilder::new()
                    .property("task_ids", task_ids())
                    .property("set", Ref::from_schema_name("BulkSetBody"))
                    .property("delete", boolean(false))
                    .required("task_ids")
                    .required("set")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            )
            .item(
                ObjectBuilder::new()
                    .property("task_ids", task_ids())
                    .property("delete", boolean(true))
                    .required("task_ids")
                    .required("delete")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            )
            .into()
    }
}

impl ToSchema for BulkBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("BulkSetBody".to_owned(), BulkSetBody::schema()));
        BulkSetBody::schemas(schemas);
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Task)]
pub(crate) struct TaskDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: TaskId,
    pub key: String,
    #[schema(value_type = uuid::Uuid)]
    pub project_id: tasklane_core::ProjectId,
    #[schema(value_type = uuid::Uuid)]
    pub workspace_id: tasklane_core::WorkspaceId,
    pub number: u64,
    pub title: String,
    pub description: String,
    #[schema(value_type = uuid::Uuid)]
    pub status_id: StatusId,
    #[schema(value_type = PrioritySchema)]
    pub priority: Priority,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub assignee_ids: Vec<UserId>,
    #[schema(value_type = uuid::Uuid)]
    pub reporter_id: UserId,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub label_ids: Vec<LabelId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub milestone_id: Option<MilestoneId>,
    pub due_at: Option<Rfc3339Time>,
    pub start_at: Option<Rfc3339Time>,
    pub estimate_seconds: Option<u64>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<TaskId>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub blocked_by: Vec<TaskId>,
    pub position: String,
    pub completed_at: Option<Rfc3339Time>,
    pub started_at: Option<Rfc3339Time>,
    pub trashed: bool,
    pub deleted_at: Option<Rfc3339Time>,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&TaskView> for TaskDto {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        TaskDto {
            id: t.id,
            key: v.key.clone(),
            project_id: t.project_id,
            workspace_id: t.workspace_id,
            number: t.number,
            title: t.title.clone(),
            description: t.description.clone(),
            status_id: t.status_id,
            priority: t.priority,
            assignee_ids: t.assignee_ids.clone(),
            reporter_id: t.reporter_id,
            label_ids: t.label_ids.clone(),
            milestone_id: t.milestone_id,
            due_at: opt_time(t.due_at),
            start_at: opt_time(t.start_at),
            estimate_seconds: t.estimate_seconds,
            parent_id: t.parent_id,
            blocked_by: v.blocked_by.clone(),
            position: t.position.clone(),
            completed_at: opt_time(t.completed_at),
            started_at: opt_time(t.started_at),
            trashed: t.deleted_at.is_some(),
            deleted_at: opt_time(t.deleted_at),
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
            version: t.version,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comments and activity.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCommentBody {
    #[schema(
        min_length = 1,
        max_length = 65536,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub body: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<tasklane_core::CommentId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentPatchBody {
    #[schema(
        min_length = 1,
        max_length = 65536,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommentRevision)]
pub(crate) struct RevisionDto {
    pub body: String,
    pub replaced_at: Rfc3339Time,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Comment)]
pub(crate) struct CommentDto {
    #[schema(value_type = uuid::Uuid)]
    pub id: tasklane_core::CommentId,
    #[schema(value_type = uuid::Uuid)]
    pub task_id: TaskId,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: UserId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<tasklane_core::CommentId>,
    pub body: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub mentions: Vec<UserId>,
    pub edited: bool,
    pub revisions: Vec<RevisionDto>,
    pub deleted: bool,
    pub deleted_at: Option<Rfc3339Time>,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&Comment> for CommentDto {
    fn from(c: &Comment) -> Self {
        CommentDto {
            id: c.id,
            task_id: c.task_id,
            author_id: c.author_id,
            parent_id: c.parent_id,
            body: c.body.clone(),
            mentions: c.mentions.clone(),
            edited: !c.revisions.is_empty(),
            revisions: c
                .revisions
                .iter()
                .map(|r| RevisionDto {
                    body: r.body.clone(),
                    replaced_at: time(r.replaced_at),
                })
                .collect(),
            deleted: c.deleted_at.is_some(),
            deleted_at: opt_time(c.deleted_at),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActivityQuery {
    /// Only events after this sequence number (an `int64`: larger numbers are refused).
    #[serde(default)]
    pub since: Option<u64>,
    /// The `next_cursor` of the previous page (the same as `since`).
    #[serde(default)]
    pub cursor: Option<u64>,
    /// Page size: 1 to 200, 50 by default.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub(crate) struct EventDto {
    pub seq: u64,
    #[schema(value_type = String)]
    pub kind: &'static str,
    #[schema(value_type = uuid::Uuid)]
    pub actor_id: UserId,
    pub at: Rfc3339Time,
    #[schema(value_type = uuid::Uuid)]
    pub workspace_id: tasklane_core::WorkspaceId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub project_id: Option<tasklane_core::ProjectId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub task_id: Option<TaskId>,
    /// Field-level changes `{field, old, new}` (empty for events that change no fields).
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Value>,
    /// The event's other facts (`key`, `title`, `comment_id`, ...).
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
}

impl From<&Event> for EventDto {
    fn from(e: &Event) -> Self {
        let mut data = match serde_json::to_value(&e.kind) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        data.remove("kind");
        let mut changes = match data.remove("changes") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        if let tasklane_core::event::EventKind::TaskTransitioned { from, to, .. } = &e.kind {
            changes.push(serde_json::json!({"field": "status_id", "old": from, "new": to}));
        }
        EventDto {
            seq: e.seq,
            kind: e.kind.name(),
            actor_id: e.actor_id,
            at: time(e.at),
            workspace_id: e.workspace_id,
            project_id: e.project_id,
            task_id: e.task_id,
            changes,
            data,
        }
    }
}
