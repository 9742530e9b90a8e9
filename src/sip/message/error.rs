//! Errors of the SIP message parser.
//!
//! Owns: `ParseError`. Every variant describes input the peer got wrong, so every one of them
//! maps to "400 Bad Request" for a request (or a silent drop for a response).

/// What is wrong with a received SIP message or one of its header values.
#[non_exhaustive]
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The buffer holds nothing but keep-alive line breaks.
    #[error("empty message")]
    Empty,
    /// The request line or status line does not have the RFC 3261 section 7.1/7.2 shape.
    #[error("malformed start line")]
    StartLine,
    /// The SIP-Version is not `SIP/2.0`.
    #[error("unsupported SIP version")]
    Version,
    /// The status code is not three digits between 100 and 699.
    #[error("malformed status code")]
    Status,
    /// No empty line ends the header section.
    #[error("header section is not terminated by an empty line")]
    Unterminated,
    /// A header line has no colon, an empty or invalid name, or is a stray continuation line.
    #[error("malformed header line")]
    HeaderLine,
    /// A line ends with a bare LF or CR instead of CRLF.
    #[error("line ending is not CRLF")]
    LineEnding,
    /// The start line or a header is not valid UTF-8.
    #[error("message head is not UTF-8")]
    NotUtf8,
    /// Content-Length is negative, non-numeric, overflowing or given twice with different values.
    #[error("invalid Content-Length")]
    ContentLength,
    /// A message on a stream transport carries no Content-Length (RFC 3261 section 18.3).
    #[error("Content-Length missing on a stream transport")]
    MissingContentLength,
    /// The body is shorter than Content-Length says.
    #[error("body shorter than Content-Length ({expected} bytes expected, {available} present)")]
    BodyTruncated {
        /// The Content-Length value.
        expected: usize,
        /// The body bytes actually present.
        available: usize,
    },
    /// The message is larger than the limit the caller allows.
    #[error("message exceeds {max} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A header the operation needs is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header is present but its value is malformed.
    #[error("malformed {name} header: {why}")]
    BadHeader {
        /// The canonical header name.
        name: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A header value fragment (name-addr, Via, parameters, number) is malformed; the typed
    /// accessors of `Message` turn this into `BadHeader`.
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// A URI is malformed.
    #[error("malformed URI: {0}")]
    Uri(&'static str),
}

impl ParseError {
    /// Attributes a value-level error to the header it was found in.
    pub(crate) fn in_header(self, name: &'static str) -> ParseError {
        match self {
            ParseError::Syntax(why) | ParseError::Uri(why) => ParseError::BadHeader { name, why },
            other => other,
        }
    }
}
