//! The rebuild of the progress figures on AWS Lambda (see
//! `pave_functions::lambda::rebuild`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pave_functions::lambda::rebuild::run().await
}
