//! RFC 9457 problem details: the one place where errors become HTTP statuses.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::align::Refusal;
use crate::engine::AlignError;
use crate::engine::jobs::JobError;
use crate::export::ExportError;
use crate::lookup::address::GeocodeError;
use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A store error (not found, or internal).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An alignment error (refused change, sheet, undo).
    #[error(transparent)]
    Align(#[from] AlignError),
    /// A background job was not taken, is not known, or has finished.
    #[error(transparent)]
    Job(#[from] JobError),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A request parameter, path segment or body is invalid.
    #[error("invalid {parameter}: {reason}")]
    BadRequest {
        /// Which parameter, path segment or body part.
        parameter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No route matches the path.
    #[error("no resource at {0}")]
    NoRoute(String),
    /// A tile, TileJSON, style or font could not be served.
    #[error(transparent)]
    Tile(#[from] crate::tiles::TileError),
    /// The blocking worker pool failed (shutdown or panic in a worker).
    #[error("internal worker failure: {0}")]
    Worker(String),
    /// An export (FlatGeobuf, GeoJSON, GeoPackage, CSV) failed or names an unknown level.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// An address matched no level of the geocoding ladder, or its points could not be read.
    #[error(transparent)]
    Geocode(#[from] GeocodeError),
    /// A state-changing request sent from another site (CSRF): refused.
    #[error("cross-site request refused: {0}")]
    CrossSite(String),
    /// The request body did not arrive in time ([`super::deadline`]; 408).
    #[error("request timeout: {0}")]
    Timeout(String),
    /// No token, or one the store does not know (401, `WWW-Authenticate: Bearer`).
    #[error("authentication needed: {reason}")]
    Unauthorized {
        /// What is missing or wrong.
        reason: String,
        /// A token was sent but is unknown or revoked (`error="invalid_token"`).
        invalid_token: bool,
    },
    /// The token's role or alignment does not allow this request (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The resource exists but does not answer this method (405, with `Allow`).
    #[error("{method} is not allowed on {path}; allowed: {}", allow.join(", "))]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
        /// The methods the resource answers.
        allow: Vec<String>,
    },
    /// A `Range` header that is malformed or starts past the end of the file.
    #[error("range not satisfiable: {reason} (the file has {length} bytes)")]
    RangeNotSatisfiable {
        /// Size of the file.
        length: u64,
        /// What is wrong with the range.
        reason: String,
    },
}

impl ApiError {
    /// Shorthand for a bad parameter.
    pub fn bad(parameter: impl Into<String>, reason: impl ToString) -> ApiError {
        ApiError::BadRequest {
            parameter: parameter.into(),
            reason: reason.to_string(),
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Align(e) => align_title(e),
            ApiError::Job(JobError::Busy { .. }) => "Job queue full",
            ApiError::Job(JobError::NotFound(_)) => "Job not found",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::Store(e) => ApiError::store_title(e),
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::NoRoute(_) => "Not found",
            ApiError::Tile(e) => ApiError::tile_title(e),
            ApiError::Worker(_) => "Internal error",
            ApiError::CrossSite(_) => "Forbidden",
            ApiError::Timeout(_) => "Request timeout",
            ApiError::Export(e) => ApiError::export_problem(e).0,
            ApiError::RangeNotSatisfiable { .. } => "Range not satisfiable",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Geocode(GeocodeError::NotFound { .. }) => "Address not found",
            ApiError::Geocode(GeocodeError::Store(e)) => ApiError::store_title(e),
        }
    }

    fn export_problem(e: &ExportError) -> (&'static str, StatusCode) {
        match e {
            ExportError::UnknownLevel { .. } => ("Level not found", StatusCode::NOT_FOUND),
            ExportError::UnknownFormat(_) => ("Format not found", StatusCode::NOT_FOUND),
            ExportError::Io { .. }
            | ExportError::Fgb(_)
            | ExportError::Gpkg { .. }
            | ExportError::Geometry { .. }
            | ExportError::Csv(_) => ("Export failed", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    fn tile_title(e: &crate::tiles::TileError) -> &'static str {
        use crate::tiles::TileError;
        match e {
            TileError::Store(e) => ApiError::store_title(e),
            TileError::OutOfRange { .. } => "Tile not found",
            TileError::UnknownRevision { .. } => "Revision not served",
            TileError::RevisionGone { .. } => "Revision no longer kept",
            TileError::NoStyle(_) => "Style not found",
            TileError::Export { .. } => "Tile error",
        }
    }

    fn tile_status(e: &crate::tiles::TileError) -> StatusCode {
        use crate::tiles::TileError;
        match e {
            TileError::Store(e) => ApiError::store_status(e),
            TileError::OutOfRange { .. } | TileError::UnknownRevision { .. } | TileError::NoStyle(_) => {
                StatusCode::NOT_FOUND
            }
            // A map client holding an older TileJSON follows it to the current tile.
            TileError::RevisionGone { .. } => StatusCode::TEMPORARY_REDIRECT,
            TileError::Export { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON body of an error response (`application/problem+json`, RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"type": "tag:geoalign,2026:problem:alignment-not-found", "title": "Alignment not found", "status": 404,
    "detail": "alignment 'nope' not found"}))]
pub struct Problem {
    /// A URI naming the problem type: `about:blank` when the status says it all (the
    /// title is then the status phrase, RFC 9457 §4.2.1), else
    /// `tag:geoalign,2026:problem:{title in kebab case}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this instance.
    pub detail: String,
    /// With 409 Stale revision (and a tile of a revision no longer served): the
    /// alignment's current revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<i64>,
    /// With 422 Change refused: what kind of refusal, for machines (`unknown_territory`,
    /// `locked`, `locked_unit`, ...; see `Refusal::kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<&'static str>,
    /// With 400 Bad request: the query parameter, header, path segment or body part at
    /// fault (`lon`, `Content-Type`, `body`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// The error response every operation documents: a [`Problem`] document.
pub struct ProblemResponse;

impl<'r> utoipa::ToResponse<'r> for ProblemResponse {
    fn response() -> (&'r str, utoipa::openapi::RefOr<utoipa::openapi::Response>) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description("Error: an RFC 9457 problem document")
            .content("application/problem+json", content)
            .build();
        ("Problem", response.into())
    }
}

impl ApiError {
    fn store_title(e: &StoreError) -> &'static str {
        match e {
            StoreError::DatasetNotFound(_) => "Dataset not found",
            StoreError::UnitNotFound { .. } => "Unit not found",
            StoreError::AlignmentNotFound(_) => "Alignment not found",
            StoreError::NoActiveAlignment { .. } => "Team not found",
            StoreError::ChangeNotFound { .. } => "Change set not found",
            StoreError::AlignmentExists(_) => "Alignment exists",
            StoreError::TooManyAlignments { .. } => "Too many alignments",
            StoreError::StaleRevision { .. } => "Stale revision",
            StoreError::TokenNotFound(_) => "Token not found",
            StoreError::Sqlite { .. }
            | StoreError::FutureSchema { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Random(_) => "Store error",
        }
    }

    fn store_status(e: &StoreError) -> StatusCode {
        match e {
            StoreError::DatasetNotFound(_)
            | StoreError::UnitNotFound { .. }
            | StoreError::AlignmentNotFound(_)
            | StoreError::NoActiveAlignment { .. }
            | StoreError::ChangeNotFound { .. }
            | StoreError::TokenNotFound(_) => StatusCode::NOT_FOUND,
            StoreError::AlignmentExists(_)
            | StoreError::StaleRevision { .. }
            | StoreError::TooManyAlignments { .. } => StatusCode::CONFLICT,
            StoreError::Sqlite { .. }
            | StoreError::FutureSchema { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Store(e) => ApiError::store_status(e),
            ApiError::Align(e) => align_status(e),
            ApiError::Job(JobError::Busy { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Job(JobError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::Tile(e) => ApiError::tile_status(e),
            ApiError::Worker(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::CrossSite(_) => StatusCode::FORBIDDEN,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Export(e) => ApiError::export_problem(e).1,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Geocode(GeocodeError::NotFound { .. }) => StatusCode::NOT_FOUND,
            ApiError::Geocode(GeocodeError::Store(e)) => ApiError::store_status(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::RangeNotSatisfiable { length, .. } => {
                response.insert_header((
                    actix_web::http::header::CONTENT_RANGE,
                    format!("bytes */{length}"),
                ));
            }
            ApiError::Tile(crate::tiles::TileError::RevisionGone {
                alignment,
                current,
                tile,
                ..
            }) => {
                response.insert_header((
                    actix_web::http::header::LOCATION,
                    crate::tiles::tile_path(alignment, *current, *tile),
                ));
                response.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
            }
            ApiError::Unauthorized { invalid_token, .. } => {
                response.insert_header((
                    actix_web::http::header::WWW_AUTHENTICATE,
                    if *invalid_token {
                        r#"Bearer realm="geoalign", error="invalid_token""#
                    } else {
                        r#"Bearer realm="geoalign""#
                    },
                ));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((actix_web::http::header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        if let ApiError::Job(JobError::Busy { .. }) = self {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "10"));
        }
        response
            .insert_header(ContentType(mime_problem()))
            .json(self.problem())
    }
}

impl ApiError {
    /// The problem body of this error.
    fn problem(&self) -> Problem {
        if let ApiError::Align(e) = self {
            return align_problem(e);
        }
        let status = self.status_code();
        let (kind, title) = problem_type(status, self.title());
        Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            current_revision: match self {
                ApiError::Store(StoreError::StaleRevision { current, .. }) => Some(*current),
                ApiError::Tile(e) => e.current_revision(),
                _ => None,
            },
            refusal: None,
            parameter: match self {
                ApiError::BadRequest { parameter, .. } => Some(parameter.clone()),
                _ => None,
            },
        }
    }
}

fn align_title(e: &AlignError) -> &'static str {
    match e {
        AlignError::Store(e) => ApiError::store_title(e),
        AlignError::Rejected { .. } => "Change refused",
        AlignError::Sheet(_) => "Sheet refused",
        AlignError::NothingToUndo(_) => "Nothing to undo",
        AlignError::AlreadyUndone { .. } => "Already undone",
        AlignError::UndoConflict { .. } => "Undo conflicts with later changes",
        AlignError::Invalid(_) => "Bad request",
        AlignError::Build(_) => "Build refused",
        AlignError::KeyReused { .. } => "Idempotency-Key reused",
    }
}

fn align_status(e: &AlignError) -> StatusCode {
    match e {
        AlignError::Store(e) => ApiError::store_status(e),
        AlignError::Rejected { .. } | AlignError::Sheet(_) | AlignError::KeyReused { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AlignError::NothingToUndo(_) | AlignError::AlreadyUndone { .. } | AlignError::UndoConflict { .. } => {
            StatusCode::CONFLICT
        }
        AlignError::Invalid(_) | AlignError::Build(_) => StatusCode::BAD_REQUEST,
    }
}

/// The problem body an alignment error is answered with (for a failed job's `error`).
pub fn align_problem(e: &AlignError) -> Problem {
    let status = align_status(e);
    let (kind, title) = problem_type(status, align_title(e));
    Problem {
        kind,
        title,
        status: status.as_u16(),
        detail: e.to_string(),
        current_revision: match e {
            AlignError::Store(StoreError::StaleRevision { current, .. }) => Some(*current),
            _ => None,
        },
        refusal: match e {
            AlignError::Rejected { reason, .. } => Some(reason.kind()),
            _ => None,
        },
        parameter: match e {
            AlignError::Rejected { reason, .. } => match reason.as_ref() {
                Refusal::BadRule { field, .. } => field.clone(),
                _ => None,
            },
            _ => None,
        },
    }
}

/// Prefix of the problem type URIs (RFC 4151 tag URIs: names, not addresses).
pub const PROBLEM_TYPE_PREFIX: &str = "tag:geoalign,2026:problem:";

/// The `type` and `title` of a problem: `about:blank` with the status phrase when the
/// title only restates the status, else a type URI made of the title.
fn problem_type(status: StatusCode, title: &'static str) -> (String, &'static str) {
    let phrase = status.canonical_reason().unwrap_or("");
    if title.eq_ignore_ascii_case(phrase) || title.is_empty() {
        return ("about:blank".to_owned(), phrase);
    }
    let slug: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    (format!("{PROBLEM_TYPE_PREFIX}{slug}"), title)
}

fn mime_problem() -> actix_web::mime::Mime {
    "application/problem+json"
        .parse()
        .unwrap_or(actix_web::mime::APPLICATION_JSON)
}
