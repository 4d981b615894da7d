//! The HTTP API on AWS Lambda (see `pave_functions::lambda::api`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pave_functions::lambda::api::run().await
}
