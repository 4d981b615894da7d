//! The outbox's drainer on AWS Lambda, woken by the table's stream and a
//! schedule (see `pave_functions::lambda::mail`).

// The drain's future (DynamoDB and SMTP clients under `outbox::drain`) is
// deep: proving it `Send` for the runtime needs more than the default 128.
#![recursion_limit = "256"]

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pave_functions::lambda::mail::run().await
}
