//! gRPC handlers: validate → convert → call the engine → convert back. The only module that
//! touches proto types.
//!
//! Placeholder until the service lands.
