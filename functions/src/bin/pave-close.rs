//! The campaign closer on AWS Lambda, run by a nightly EventBridge schedule
//! (see `pave_functions::lambda::closer`).

// The close's future (DynamoDB and Stripe clients under `close::run`) is
// deep: proving it `Send` for the runtime needs more than the default 128.
#![recursion_limit = "256"]

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pave_functions::lambda::closer::run().await
}
