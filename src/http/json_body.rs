//! [`JsonBody`]: a JSON request body whose errors name the field at fault
//! (`body.changes[2].units`), where actix's `web::Json` names only a line and column.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON body read as `web::Json` reads it (content type, size limit, the app's
/// `JsonConfig` errors), then typed field by field, so a wrong field is a 400 naming it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            serde_path_to_error::deserialize(value)
                .map(JsonBody)
                .map_err(|e| field_error(&e).into())
        })
    }
}

/// The 400 for a body that is JSON but not of the expected shape.
fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let parameter = if path == "." {
        "body".to_owned()
    } else {
        format!("body.{path}")
    };
    ApiError::bad(parameter, e.inner())
}
