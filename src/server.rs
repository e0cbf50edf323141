//! `run(listener, config, shutdown)`: the gRPC server with health, reflection and limits.
//!
//! Placeholder until the service lands.
