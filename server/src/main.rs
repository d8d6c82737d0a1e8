//! `odooops`: serves the console by default; `odooops admin …` administers
//! it; the other commands are a client of a console's REST API.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::telemetry::init_for_cli();
    match server::cli::main().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // A client command's failure says which (3 not authenticated, 4 forbidden, 5 not found, …).
        Err(e) => match e.downcast_ref::<server::client::ClientError>() {
            Some(c) => {
                if !c.message().is_empty() {
                    eprintln!("error: {c}");
                }
                std::process::ExitCode::from(c.exit_code())
            }
            None => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
