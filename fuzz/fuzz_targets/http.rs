//! Request lines against the whole API over the demo sample (tile paths, query strings,
//! alignment names, export files): every answer is below 500 and nothing panics. The
//! first byte picks the method (GET, HEAD, OPTIONS: nothing that changes the sample),
//! the rest is the request target.
#![no_main]
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};

type Service = Box<dyn Fn(TestRequest) -> (u16, String)>;

thread_local! {
    // Leaked: the actix system must outlive every thread-local destructor at exit.
    static SERVICE: &'static Service = Box::leak(Box::new(service()));
}

fn service() -> Service {
    let runner = actix_web::rt::System::new();
    let state = web::Data::new(geoalign::http::AppState::with_engine(geoalign_fuzz::engine()));
    let app = runner.block_on(init_service(
        App::new().app_data(state).configure(geoalign::http::configure),
    ));
    Box::new(move |request: TestRequest| {
        runner.block_on(async {
            let res = call_service(&app, request.to_request()).await;
            let status = res.status().as_u16();
            let body = actix_web::test::read_body(res).await;
            (status, String::from_utf8_lossy(&body).into_owned())
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let target = String::from_utf8_lossy(rest);
    if !target.starts_with('/') || target.parse::<actix_web::http::Uri>().is_err() {
        return;
    }
    let request = match first % 4 {
        0 | 1 => TestRequest::get(),
        2 => TestRequest::default().method(actix_web::http::Method::HEAD),
        _ => TestRequest::default().method(actix_web::http::Method::OPTIONS),
    }
    .uri(&target);
    let (status, body) = SERVICE.with(|call| call(request));
    assert!(status < 500, "{status} for {target}: {body}");
});
