//! The one domain error type. It carries no transport types; `service::status` maps it to
//! `tonic::Status` in exactly one place.

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is missing or malformed.
    #[error("invalid {field}: {message}")]
    InvalidArgument {
        /// Name of the offending field (as the user sees it, e.g. `document.id`).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A request exceeds a configured limit.
    #[error("{field} is {actual} bytes, over the limit of {limit}")]
    TooLarge {
        /// Name of the offending field.
        field: &'static str,
        /// The configured limit.
        limit: usize,
        /// The size that was sent.
        actual: usize,
    },
    /// A count limit was hit (documents in one call, calls open at once); sizes in bytes are
    /// [`Error::TooLarge`].
    #[error("{what}: over the limit of {limit} ({setting})")]
    TooMany {
        /// What was counted, e.g. `documents in one Audit call`.
        what: &'static str,
        /// The configured limit.
        limit: usize,
        /// The setting that holds the limit, e.g. `limits.max_audit_documents`.
        setting: &'static str,
    },
    /// A document id is already taken in the namespace by different content.
    #[error("document id {id:?} already exists in namespace {namespace:?}")]
    AlreadyExists {
        /// The namespace.
        namespace: String,
        /// The id.
        id: String,
    },
    /// Something the caller named does not exist.
    #[error("{what} not found: {name}")]
    NotFound {
        /// What kind of thing (namespace, document).
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// Input could not be decoded (bad charset, bad JSON line, bad WARC record).
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        message: String,
    },
    /// The durable store failed or holds corrupt data.
    #[error("store error in {path}: {message}")]
    Store {
        /// The file or directory concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An I/O error outside the store.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The server is shutting down or otherwise cannot take the request now.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Result with the domain [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            message: message.into(),
        }
    }
}
