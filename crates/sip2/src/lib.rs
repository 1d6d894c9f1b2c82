//! SIP2 client for Pustaka: talk to a library's circulation system (the
//! "ACS", e.g. Koha, Evergreen, Sierra) with the 3M Standard Interchange
//! Protocol, version 2.00.
//!
//! The crate is split in two:
//!
//! * [`codec`] is pure (sans-IO): [`Request::encode`] turns a typed request
//!   into the bytes of one frame and [`decode`] / [`decode_frame`] turn the
//!   bytes of one response frame into a typed [`Response`]. It never reads
//!   the clock (every transaction date is an argument), never does IO and
//!   never panics on any input (property-tested with random and mutated
//!   frames). Field values containing `|`, CR or LF are refused at encode
//!   time rather than producing a broken frame.
//! * [`client`] is the thin blocking edge: a [`Client`] over one
//!   `std::net::TcpStream` with read/write timeouts. It frames messages
//!   (read until CR, at most [`MAX_FRAME`] bytes), numbers them (sequence
//!   numbers 0..=9, cycling), adds and verifies checksums when error
//!   detection is on, asks the ACS to resend (97) on a bad checksum and
//!   resends its last request when the ACS asks (96), each at most twice.
//!
//! Supported messages (SC → ACS / ACS → SC): login 93/94, SC status 99/98,
//! patron information 63/64, checkout 11/12, checkin 09/10, renew 29/30,
//! renew all 65/66, hold 15/16, item information 17/18, end patron session
//! 35/36, request ACS resend 97 and request SC resend 96. Not supported:
//! patron status 23/24, block patron 01, fee paid 37/38, item status update
//! 19/20, patron enable 25/26, and SIP 3.0.
//!
//! Decoding is strict on the fixed-length part of a message (a wrong length
//! or a flag that is not `Y`/`N` is a [`Sip2Error::Malformed`] naming the
//! message and the field) and lenient on variable fields: unknown or
//! repeated fields are kept in each response's `extra`. Text is UTF-8 when
//! it is valid UTF-8 and Latin-1 otherwise.
//!
//! ```
//! use chrono::NaiveDate;
//! use pustaka_sip2::{decode, CirculationStatus, ItemInformationRequest, Request, Response};
//!
//! let now = NaiveDate::from_ymd_opt(2024, 3, 15)
//!     .and_then(|d| d.and_hms_opt(10, 30, 0))
//!     .expect("a valid date");
//! let request = Request::ItemInformation(ItemInformationRequest {
//!     transaction_date: now,
//!     institution: "MAIN".into(),
//!     item: "39000123".into(),
//!     terminal_password: None,
//! });
//! let frame = request.encode(Some(3)).expect("clean field values");
//! assert!(frame.starts_with(b"1720240315    103000AOMAIN|AB39000123|AY3AZ"));
//!
//! let reply = b"1803000120240315    103001AB39000123|AJThe pragmatic programmer|\r";
//! match decode(reply).expect("a well-formed response") {
//!     Response::ItemInformation(info) => {
//!         assert_eq!(info.circulation_status, CirculationStatus::Available);
//!         assert_eq!(info.title.as_deref(), Some("The pragmatic programmer"));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

pub mod client;
pub mod codec;

pub use client::{Client, ClientOptions, DEFAULT_TIMEOUT, HoldTarget, LoginCredentials, MAX_FRAME};
pub use codec::*;

/// Everything that can go wrong encoding, decoding or exchanging SIP2
/// messages. The codec never returns [`Sip2Error::Io`], [`Sip2Error::Timeout`]
/// or [`Sip2Error::Refused`]; those come from the [`Client`].
#[derive(Debug, thiserror::Error)]
pub enum Sip2Error {
    /// The connection failed, was closed by the ACS, or is no longer usable
    /// after an earlier timeout or framing error (reconnect).
    #[error("SIP2 connection error: {0}")]
    Io(#[from] std::io::Error),
    /// The frame's `AZ` checksum does not match its bytes (or is not four
    /// hex digits).
    #[error("SIP2 checksum mismatch: frame carries {received:?}, bytes sum to {computed:04X}")]
    Checksum { computed: u16, received: String },
    /// The frame is not a well-formed SIP2 response.
    #[error("malformed SIP2 frame: {what}")]
    Malformed { what: String },
    /// The ACS answered with a different message than the request calls for.
    #[error("expected a SIP2 {expected}, got {got}")]
    UnexpectedResponse {
        expected: &'static str,
        got: &'static str,
    },
    /// No complete frame arrived (or could be sent) within the timeout.
    #[error("SIP2 exchange timed out")]
    Timeout,
    /// The ACS refused the login (94 with ok = 0).
    #[error("SIP2 login refused by the ACS")]
    Refused,
    /// A request field cannot be put on the wire as given.
    #[error("SIP2 field {field}: {reason}")]
    FieldValue { field: &'static str, reason: String },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Sip2Error> = std::result::Result<T, E>;
