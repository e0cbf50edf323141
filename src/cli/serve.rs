//! `neardup serve`: run the gRPC server on the embedded default store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `neardup serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the embedded store.
    #[arg(long, default_value = "./neardup-data")]
    pub data_dir: PathBuf,
    /// Optional configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Run the server until SIGTERM/ctrl-c.
pub fn run(_args: ServeArgs) -> crate::Result<ExitCode> {
    Err(crate::Error::Unavailable(
        "serve is not implemented yet".into(),
    ))
}
