//! The one mapping from the domain [`Error`] to a gRPC [`Status`].
//!
//! Caller mistakes keep their message (it names the field, and for limits the limit); server
//! faults are logged here with their details and reach the caller as a short `INTERNAL`.

use tonic::{Code, Status};

use crate::Error;

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        let code = match &err {
            Error::InvalidArgument { .. } | Error::Decode { .. } => Code::InvalidArgument,
            Error::TooLarge { .. } | Error::TooMany { .. } => Code::ResourceExhausted,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::NotFound { .. } => Code::NotFound,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Store { .. } | Error::Io(_) => {
                tracing::error!(error = %err, "internal error");
                return Status::internal("internal error in the server's store; see its log");
            }
        };
        Status::new(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_gets_its_code_and_caller_errors_keep_their_message() {
        let cases = [
            (
                Error::invalid("document.id", "must not be empty"),
                Code::InvalidArgument,
            ),
            (
                Error::TooLarge {
                    field: "document.text",
                    limit: 10,
                    actual: 11,
                },
                Code::ResourceExhausted,
            ),
            (
                Error::AlreadyExists {
                    namespace: "n".into(),
                    id: "a".into(),
                },
                Code::AlreadyExists,
            ),
            (
                Error::NotFound {
                    what: "document",
                    name: "a".into(),
                },
                Code::NotFound,
            ),
            (
                Error::Decode {
                    what: "html",
                    message: "bad".into(),
                },
                Code::InvalidArgument,
            ),
            (Error::Unavailable("draining".into()), Code::Unavailable),
            (
                Error::TooMany {
                    what: "documents in one Audit call",
                    limit: 3,
                    setting: "limits.max_audit_documents",
                },
                Code::ResourceExhausted,
            ),
        ];
        for (err, code) in cases {
            let message = err.to_string();
            let status = Status::from(err);
            assert_eq!(status.code(), code);
            assert_eq!(status.message(), message);
        }
        let status = Status::from(Error::Store {
            path: "/secret/path".into(),
            message: "disk full".into(),
        });
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("/secret/path"));
        let status = Status::from(Error::Io(std::io::Error::other("boom")));
        assert_eq!(status.code(), Code::Internal);
    }
}
