//! RFC 9457 problem details: the one place where errors become HTTP statuses.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A store error (not found, or internal).
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// The blocking worker pool failed (shutdown or panic in a worker).
    #[error("internal worker failure: {0}")]
    Worker(String),
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
            ApiError::Store(StoreError::DatasetNotFound(_)) => "Dataset not found",
            ApiError::Store(StoreError::UnitNotFound { .. }) => "Unit not found",
            ApiError::Store(_) => "Store error",
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::NoRoute(_) => "Not found",
            ApiError::Worker(_) => "Internal error",
        }
    }
}

/// The JSON body of an error response (`application/problem+json`).
#[derive(Debug, Serialize)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` for plain HTTP semantics).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this instance.
    pub detail: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Store(StoreError::DatasetNotFound(_) | StoreError::UnitNotFound { .. }) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Store(_) | ApiError::Worker(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        HttpResponse::build(status)
            .insert_header(ContentType(mime_problem()))
            .json(Problem {
                kind: "about:blank",
                title: self.title(),
                status: status.as_u16(),
                detail: self.to_string(),
            })
    }
}

fn mime_problem() -> actix_web::mime::Mime {
    "application/problem+json"
        .parse()
        .unwrap_or(actix_web::mime::APPLICATION_JSON)
}
