//! The pure SIP2 codec: typed requests to frame bytes, frame bytes to typed
//! responses. No IO, no clock, no panics.
//!
//! A frame is a two-digit message identifier, a message-specific
//! fixed-length part, then variable fields `XXvalue|` (two-letter field
//! code, value, pipe). With error detection on, the frame ends with
//! `AY<n>AZ<xxxx>`: a one-digit sequence number and a checksum, four
//! uppercase hex digits of the two's complement of the 16-bit sum of every
//! byte up to and including `AZ`. The frame is terminated by CR.

use chrono::{NaiveDate, NaiveDateTime};

use crate::Sip2Error;

type Result<T, E = Sip2Error> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Dates

/// A SIP2 timestamp: `YYYYMMDDZZZZHHMMSS` with four spaces as the zone
/// (local time of the SC), always 18 ASCII characters for years 0..=9999.
pub fn format_timestamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%d    %H%M%S").to_string()
}

/// Parses an 18-character SIP2 timestamp `YYYYMMDDZZZZHHMMSS`. The zone
/// (`"    "` for local time, `"   Z"` for UTC, …) is not interpreted.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..8].iter().chain(&b[12..]).all(u8::is_ascii_digit) {
        return None;
    }
    // Both slices are ASCII digits, hence on char boundaries.
    let date = NaiveDate::parse_from_str(s.get(..8)?, "%Y%m%d").ok()?;
    let time = chrono::NaiveTime::parse_from_str(s.get(12..)?, "%H%M%S").ok()?;
    Some(date.and_time(time))
}

/// Parses the date of a SIP2 date field. Due dates (`AH`) are free text in
/// practice, so this accepts `YYYYMMDDZZZZHHMMSS` (any zone, e.g. four
/// spaces or `   Z`), bare `YYYYMMDD`, and ISO `YYYY-MM-DD` optionally
/// followed by `T` or a space and a time. Surrounding whitespace is ignored.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit) {
        return match b.len() {
            8 => NaiveDate::parse_from_str(s, "%Y%m%d").ok(),
            18 => parse_timestamp(s).map(|t| t.date()),
            _ => None,
        };
    }
    if b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4]
            .iter()
            .chain(&b[5..7])
            .chain(&b[8..10])
            .all(u8::is_ascii_digit)
        && matches!(b.get(10), None | Some(b'T' | b' '))
    {
        return NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok();
    }
    None
}

// ---------------------------------------------------------------------------
// Checksum

/// The SIP2 checksum of `bytes`: the two's complement of their 16-bit sum.
/// `bytes` must run from the first byte of the frame up to and including
/// the `AZ` field code.
pub fn checksum(bytes: &[u8]) -> u16 {
    bytes
        .iter()
        .fold(0u16, |sum, &b| sum.wrapping_add(u16::from(b)))
        .wrapping_neg()
}

// ---------------------------------------------------------------------------
// Requests

/// SC status code of the SC status message (99).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScStatusCode {
    #[default]
    Ok,
    OutOfPaper,
    ShuttingDown,
}

/// Which item list a patron information request (63) asks for: the
/// 10-character summary field has a `Y` in at most one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Summary {
    #[default]
    None,
    HoldItems,
    OverdueItems,
    ChargedItems,
    FineItems,
    RecallItems,
    UnavailableHolds,
}

impl Summary {
    fn field(self) -> [u8; 10] {
        let mut out = [b' '; 10];
        let pos = match self {
            Summary::None => return out,
            Summary::HoldItems => 0,
            Summary::OverdueItems => 1,
            Summary::ChargedItems => 2,
            Summary::FineItems => 3,
            Summary::RecallItems => 4,
            Summary::UnavailableHolds => 5,
        };
        out[pos] = b'Y';
        out
    }
}

/// Hold mode of the hold message (15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldMode {
    /// `+`: place a hold.
    Add,
    /// `-`: cancel a hold.
    Delete,
    /// `*`: change a hold (e.g. its pickup location).
    Change,
}

/// Hold type (`BY`) of the hold message (15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldType {
    /// 1
    Other,
    /// 2: any copy of a title.
    AnyCopyOfTitle,
    /// 3: a specific copy.
    SpecificCopy,
    /// 4: any copy at a single branch or sublocation.
    AnyCopyAtLocation,
}

/// Login (93). The user id and password algorithms are sent as `0`
/// (not encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// `CN`
    pub user: String,
    /// `CO`
    pub password: String,
    /// `CP`
    pub location: Option<String>,
}

/// SC status (99).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScStatusRequest {
    pub status: ScStatusCode,
    /// 0..=999 characters.
    pub max_print_width: u16,
    /// Exactly four characters, `2.00`.
    pub protocol_version: String,
}

impl Default for ScStatusRequest {
    fn default() -> Self {
        ScStatusRequest {
            status: ScStatusCode::Ok,
            max_print_width: 80,
            protocol_version: "2.00".into(),
        }
    }
}

/// Patron information (63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformationRequest {
    /// Three-digit language code: 0 unknown, 1 English, ….
    pub language: u16,
    pub transaction_date: NaiveDateTime,
    pub summary: Summary,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
    /// `BP`: first item of the summary list to return (1-based).
    pub start_item: Option<u32>,
    /// `BQ`: last item of the summary list to return.
    pub end_item: Option<u32>,
}

/// Renew (29).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewRequest {
    pub third_party_allowed: bool,
    pub no_block: bool,
    pub transaction_date: NaiveDateTime,
    /// Sent as 18 spaces when `None`.
    pub nb_due_date: Option<NaiveDateTime>,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AB`
    pub item: Option<String>,
    /// `AJ`
    pub title: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// Renew all (65).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllRequest {
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// Hold (15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub mode: HoldMode,
    pub transaction_date: NaiveDateTime,
    /// `BW`
    pub expiration: Option<NaiveDateTime>,
    /// `BS`
    pub pickup_location: Option<String>,
    /// `BY`
    pub hold_type: Option<HoldType>,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AB`
    pub item: Option<String>,
    /// `AJ`
    pub title: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// Checkout (11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub sc_renewal_policy: bool,
    pub no_block: bool,
    pub transaction_date: NaiveDateTime,
    /// Sent as 18 spaces when `None`.
    pub nb_due_date: Option<NaiveDateTime>,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AB`
    pub item: String,
    /// `AC` (required by the spec: sent empty when `None`).
    pub terminal_password: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
    /// `BI`
    pub cancel: Option<bool>,
}

/// Checkin (09).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRequest {
    pub no_block: bool,
    pub transaction_date: NaiveDateTime,
    pub return_date: NaiveDateTime,
    /// `AP`
    pub current_location: String,
    /// `AO`
    pub institution: String,
    /// `AB`
    pub item: String,
    /// `AC` (required by the spec: sent empty when `None`).
    pub terminal_password: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BI`
    pub cancel: Option<bool>,
}

/// Item information (17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInformationRequest {
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AB`
    pub item: String,
    /// `AC`
    pub terminal_password: Option<String>,
}

/// End patron session (35).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndPatronSessionRequest {
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
}

/// A message from the SC (this client) to the ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Login(LoginRequest),
    ScStatus(ScStatusRequest),
    PatronInformation(PatronInformationRequest),
    Renew(RenewRequest),
    RenewAll(RenewAllRequest),
    Hold(HoldRequest),
    Checkout(CheckoutRequest),
    Checkin(CheckinRequest),
    ItemInformation(ItemInformationRequest),
    EndPatronSession(EndPatronSessionRequest),
    /// 97: ask the ACS to resend its last message (after a bad checksum).
    RequestAcsResend,
}

/// Builds one frame; refuses field values that would break the framing.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new(id: &str) -> Writer {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(id.as_bytes());
        Writer { buf }
    }

    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn flag(&mut self, b: bool) {
        self.buf.push(if b { b'Y' } else { b'N' });
    }

    fn date(&mut self, field: &'static str, t: NaiveDateTime) -> Result<()> {
        let s = format_timestamp(t);
        if s.len() != 18 {
            return Err(Sip2Error::FieldValue {
                field,
                reason: format!("date {t} does not fit the 18-character SIP2 form"),
            });
        }
        self.raw(&s);
        Ok(())
    }

    fn field(&mut self, code: &'static str, value: &str) -> Result<()> {
        if let Some(c) = value.chars().find(|c| matches!(c, '|' | '\r' | '\n')) {
            return Err(Sip2Error::FieldValue {
                field: code,
                reason: format!("value contains {c:?}, which would break the SIP2 frame"),
            });
        }
        self.raw(code);
        self.raw(value);
        self.buf.push(b'|');
        Ok(())
    }

    fn opt(&mut self, code: &'static str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.field(code, v),
            None => Ok(()),
        }
    }

    fn opt_flag(&mut self, code: &'static str, value: Option<bool>) -> Result<()> {
        self.opt(code, value.map(|b| if b { "Y" } else { "N" }))
    }

    fn finish(mut self, seq: Option<u8>, with_sequence: bool) -> Result<Vec<u8>> {
        if let Some(n) = seq {
            if n > 9 {
                return Err(Sip2Error::FieldValue {
                    field: "AY",
                    reason: format!("sequence number {n} is not a single digit"),
                });
            }
            if with_sequence {
                self.raw("AY");
                self.buf.push(b'0' + n);
            }
            self.raw("AZ");
            let sum = checksum(&self.buf);
            self.raw(&format!("{sum:04X}"));
        }
        self.buf.push(b'\r');
        Ok(self.buf)
    }
}

impl Request {
    /// The two-digit message identifier.
    pub fn id(&self) -> &'static str {
        match self {
            Request::Login(_) => "93",
            Request::ScStatus(_) => "99",
            Request::PatronInformation(_) => "63",
            Request::Renew(_) => "29",
            Request::RenewAll(_) => "65",
            Request::Hold(_) => "15",
            Request::Checkout(_) => "11",
            Request::Checkin(_) => "09",
            Request::ItemInformation(_) => "17",
            Request::EndPatronSession(_) => "35",
            Request::RequestAcsResend => "97",
        }
    }

    /// Encodes one frame, CR included. With `seq = Some(n)` (error
    /// detection on; `n` in 0..=9) the frame ends with `AY<n>AZ<checksum>`;
    /// a 97 gets only `AZ<checksum>` (`97AZFEF5`), as ACSs expect.
    ///
    /// Errors with [`Sip2Error::FieldValue`] when a value contains `|`, CR or
    /// LF, a fixed field does not fit its width, or `n > 9`.
    pub fn encode(&self, seq: Option<u8>) -> Result<Vec<u8>> {
        let mut w = Writer::new(self.id());
        match self {
            Request::Login(r) => {
                w.raw("00");
                w.field("CN", &r.user)?;
                w.field("CO", &r.password)?;
                w.opt("CP", r.location.as_deref())?;
            }
            Request::ScStatus(r) => {
                w.raw(match r.status {
                    ScStatusCode::Ok => "0",
                    ScStatusCode::OutOfPaper => "1",
                    ScStatusCode::ShuttingDown => "2",
                });
                if r.max_print_width > 999 {
                    return Err(Sip2Error::FieldValue {
                        field: "max print width",
                        reason: format!("{} does not fit three digits", r.max_print_width),
                    });
                }
                w.raw(&format!("{:03}", r.max_print_width));
                if r.protocol_version.len() != 4 || !r.protocol_version.is_ascii() {
                    return Err(Sip2Error::FieldValue {
                        field: "protocol version",
                        reason: format!("{:?} is not four ASCII characters", r.protocol_version),
                    });
                }
                w.raw(&r.protocol_version);
            }
            Request::PatronInformation(r) => {
                if r.language > 999 {
                    return Err(Sip2Error::FieldValue {
                        field: "language",
                        reason: format!("{} does not fit three digits", r.language),
                    });
                }
                w.raw(&format!("{:03}", r.language));
                w.date("transaction date", r.transaction_date)?;
                w.buf.extend_from_slice(&r.summary.field());
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.opt("AC", r.terminal_password.as_deref())?;
                w.opt("AD", r.patron_password.as_deref())?;
                w.opt("BP", r.start_item.map(|n| n.to_string()).as_deref())?;
                w.opt("BQ", r.end_item.map(|n| n.to_string()).as_deref())?;
            }
            Request::Renew(r) => {
                w.flag(r.third_party_allowed);
                w.flag(r.no_block);
                w.date("transaction date", r.transaction_date)?;
                match r.nb_due_date {
                    Some(t) => w.date("nb due date", t)?,
                    None => w.raw(&" ".repeat(18)),
                }
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.opt("AD", r.patron_password.as_deref())?;
                w.opt("AB", r.item.as_deref())?;
                w.opt("AJ", r.title.as_deref())?;
                w.opt("AC", r.terminal_password.as_deref())?;
                w.opt("CH", r.item_properties.as_deref())?;
                w.opt_flag("BO", r.fee_acknowledged)?;
            }
            Request::RenewAll(r) => {
                w.date("transaction date", r.transaction_date)?;
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.opt("AD", r.patron_password.as_deref())?;
                w.opt("AC", r.terminal_password.as_deref())?;
                w.opt_flag("BO", r.fee_acknowledged)?;
            }
            Request::Hold(r) => {
                w.raw(match r.mode {
                    HoldMode::Add => "+",
                    HoldMode::Delete => "-",
                    HoldMode::Change => "*",
                });
                w.date("transaction date", r.transaction_date)?;
                if let Some(t) = r.expiration {
                    w.raw("BW");
                    w.date("BW", t)?;
                    w.buf.push(b'|');
                }
                w.opt("BS", r.pickup_location.as_deref())?;
                w.opt(
                    "BY",
                    r.hold_type.map(|t| match t {
                        HoldType::Other => "1",
                        HoldType::AnyCopyOfTitle => "2",
                        HoldType::SpecificCopy => "3",
                        HoldType::AnyCopyAtLocation => "4",
                    }),
                )?;
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.opt("AD", r.patron_password.as_deref())?;
                w.opt("AB", r.item.as_deref())?;
                w.opt("AJ", r.title.as_deref())?;
                w.opt("AC", r.terminal_password.as_deref())?;
                w.opt_flag("BO", r.fee_acknowledged)?;
            }
            Request::Checkout(r) => {
                w.flag(r.sc_renewal_policy);
                w.flag(r.no_block);
                w.date("transaction date", r.transaction_date)?;
                match r.nb_due_date {
                    Some(t) => w.date("nb due date", t)?,
                    None => w.raw(&" ".repeat(18)),
                }
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.field("AB", &r.item)?;
                w.field("AC", r.terminal_password.as_deref().unwrap_or(""))?;
                w.opt("CH", r.item_properties.as_deref())?;
                w.opt("AD", r.patron_password.as_deref())?;
                w.opt_flag("BO", r.fee_acknowledged)?;
                w.opt_flag("BI", r.cancel)?;
            }
            Request::Checkin(r) => {
                w.flag(r.no_block);
                w.date("transaction date", r.transaction_date)?;
                w.date("return date", r.return_date)?;
                w.field("AP", &r.current_location)?;
                w.field("AO", &r.institution)?;
                w.field("AB", &r.item)?;
                w.field("AC", r.terminal_password.as_deref().unwrap_or(""))?;
                w.opt("CH", r.item_properties.as_deref())?;
                w.opt_flag("BI", r.cancel)?;
            }
            Request::ItemInformation(r) => {
                w.date("transaction date", r.transaction_date)?;
                w.field("AO", &r.institution)?;
                w.field("AB", &r.item)?;
                w.opt("AC", r.terminal_password.as_deref())?;
            }
            Request::EndPatronSession(r) => {
                w.date("transaction date", r.transaction_date)?;
                w.field("AO", &r.institution)?;
                w.field("AA", &r.patron)?;
                w.opt("AC", r.terminal_password.as_deref())?;
                w.opt("AD", r.patron_password.as_deref())?;
            }
            Request::RequestAcsResend => return w.finish(seq, false),
        }
        w.finish(seq, true)
    }
}

// ---------------------------------------------------------------------------
// Responses

/// Login response (94).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginResponse {
    pub ok: bool,
    pub extra: Vec<(String, String)>,
}

/// A message the ACS may announce in `BX` of its status (98).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportedMessage {
    PatronStatus = 0,
    Checkout = 1,
    Checkin = 2,
    BlockPatron = 3,
    Status = 4,
    Resend = 5,
    Login = 6,
    PatronInformation = 7,
    EndPatronSession = 8,
    FeePaid = 9,
    ItemInformation = 10,
    ItemStatusUpdate = 11,
    PatronEnable = 12,
    Hold = 13,
    Renew = 14,
    RenewAll = 15,
}

/// ACS status (98).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcsStatus {
    pub online: bool,
    pub checkin_ok: bool,
    pub checkout_ok: bool,
    /// Whether the SC may renew items.
    pub renewal_policy: bool,
    pub status_update_ok: bool,
    pub offline_ok: bool,
    /// Tenths of a second; 999 means unknown. `None` if sent as blanks.
    pub timeout_period: Option<u16>,
    /// 999 means unknown. `None` if sent as blanks.
    pub retries_allowed: Option<u16>,
    pub date_time_sync: NaiveDateTime,
    pub protocol_version: String,
    /// `AO`
    pub institution: String,
    /// `AM`
    pub library_name: Option<String>,
    /// `BX`: one `Y`/`N` per [`SupportedMessage`].
    pub supported_messages: String,
    /// `AN`
    pub terminal_location: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

impl AcsStatus {
    /// Whether `BX` announces `message` (`Y` in its position).
    pub fn supports(&self, message: SupportedMessage) -> bool {
        self.supported_messages.as_bytes().get(message as usize) == Some(&b'Y')
    }
}

/// Patron information response (64).
///
/// Identifier fields the spec requires (`AO`, `AA`, `AE`) are `String`s,
/// empty if the ACS left them out; other single fields are `Option`s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatronInformationResponse {
    /// The 14-character patron status, `Y` where a restriction applies; see
    /// the helper methods.
    pub patron_status: String,
    pub language: u16,
    pub transaction_date: NaiveDateTime,
    /// Counts are `None` when the ACS sends blanks.
    pub hold_items_count: Option<u16>,
    pub overdue_items_count: Option<u16>,
    pub charged_items_count: Option<u16>,
    pub fine_items_count: Option<u16>,
    pub recall_items_count: Option<u16>,
    pub unavailable_holds_count: Option<u16>,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AE`
    pub personal_name: String,
    /// `BZ`
    pub hold_items_limit: Option<u16>,
    /// `CA`
    pub overdue_items_limit: Option<u16>,
    /// `CB`
    pub charged_items_limit: Option<u16>,
    /// `BL`
    pub valid_patron: Option<bool>,
    /// `CQ`
    pub valid_patron_password: Option<bool>,
    /// `BH`
    pub currency: Option<String>,
    /// `BV`: kept as text (e.g. `"12.50"`), never as a float.
    pub fee_amount: Option<String>,
    /// `CC`
    pub fee_limit: Option<String>,
    /// `AS`
    pub hold_items: Vec<String>,
    /// `AT`
    pub overdue_items: Vec<String>,
    /// `AU`
    pub charged_items: Vec<String>,
    /// `AV`
    pub fine_items: Vec<String>,
    /// `BU`
    pub recall_items: Vec<String>,
    /// `CD`
    pub unavailable_hold_items: Vec<String>,
    /// `BD`
    pub home_address: Option<String>,
    /// `BE`
    pub email: Option<String>,
    /// `BF`
    pub phone: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

impl PatronInformationResponse {
    /// Whether position `pos` (0..14) of the patron status is `Y`.
    pub fn status_flag(&self, pos: usize) -> bool {
        self.patron_status.as_bytes().get(pos) == Some(&b'Y')
    }
    pub fn charge_privileges_denied(&self) -> bool {
        self.status_flag(0)
    }
    pub fn renewal_privileges_denied(&self) -> bool {
        self.status_flag(1)
    }
    pub fn recall_privileges_denied(&self) -> bool {
        self.status_flag(2)
    }
    pub fn hold_privileges_denied(&self) -> bool {
        self.status_flag(3)
    }
    pub fn card_reported_lost(&self) -> bool {
        self.status_flag(4)
    }
    pub fn too_many_items_charged(&self) -> bool {
        self.status_flag(5)
    }
    pub fn too_many_items_overdue(&self) -> bool {
        self.status_flag(6)
    }
    pub fn too_many_renewals(&self) -> bool {
        self.status_flag(7)
    }
    pub fn too_many_claims_of_items_returned(&self) -> bool {
        self.status_flag(8)
    }
    pub fn too_many_items_lost(&self) -> bool {
        self.status_flag(9)
    }
    pub fn excessive_outstanding_fines(&self) -> bool {
        self.status_flag(10)
    }
    pub fn excessive_outstanding_fees(&self) -> bool {
        self.status_flag(11)
    }
    pub fn recall_overdue(&self) -> bool {
        self.status_flag(12)
    }
    pub fn too_many_items_billed(&self) -> bool {
        self.status_flag(13)
    }
}

/// Checkout (12) and renew (30) responses: SIP2 gives both the same
/// layout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChargeResponse {
    pub ok: bool,
    pub renewal_ok: bool,
    /// `None` for `U` (unknown).
    pub magnetic_media: Option<bool>,
    /// `None` for `U` (unknown).
    pub desensitize: Option<bool>,
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AB`
    pub item: String,
    /// `AJ`
    pub title: Option<String>,
    /// `AH`: free text; see [`ChargeResponse::due`].
    pub due_date: Option<String>,
    /// `BT`
    pub fee_type: Option<String>,
    /// `CI`
    pub security_inhibit: Option<bool>,
    /// `BH`
    pub currency: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BK`
    pub transaction_id: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

impl ChargeResponse {
    /// The due date, if `AH` holds one of the forms [`parse_date`] accepts.
    pub fn due(&self) -> Option<NaiveDate> {
        self.due_date.as_deref().and_then(parse_date)
    }
}

/// Renew response (30).
pub type RenewResponse = ChargeResponse;
/// Checkout response (12).
pub type CheckoutResponse = ChargeResponse;

/// Renew all response (66).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenewAllResponse {
    pub ok: bool,
    pub renewed_count: Option<u16>,
    pub unrenewed_count: Option<u16>,
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `BM`
    pub renewed_items: Vec<String>,
    /// `BN`
    pub unrenewed_items: Vec<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

/// Hold response (16).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HoldResponse {
    pub ok: bool,
    pub available: bool,
    pub transaction_date: NaiveDateTime,
    /// `BW`: free text in practice; use [`parse_date`].
    pub expiration_date: Option<String>,
    /// `BR`
    pub queue_position: Option<u32>,
    /// `BS`
    pub pickup_location: Option<String>,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AB`
    pub item: Option<String>,
    /// `AJ`
    pub title: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

/// Checkin response (10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckinResponse {
    pub ok: bool,
    pub resensitize: bool,
    /// `None` for `U` (unknown).
    pub magnetic_media: Option<bool>,
    pub alert: bool,
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AB`
    pub item: String,
    /// `AQ`
    pub permanent_location: Option<String>,
    /// `AJ`
    pub title: Option<String>,
    /// `CL`
    pub sort_bin: Option<String>,
    /// `AA`
    pub patron: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `CV`
    pub alert_type: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

/// Circulation status of an item (18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CirculationStatus {
    OnOrder,
    Available,
    Charged,
    /// Charged, not to be recalled until the earliest recall date.
    ChargedNoRecall,
    InProcess,
    Recalled,
    WaitingOnHoldShelf,
    WaitingToBeReshelved,
    InTransit,
    ClaimedReturned,
    Lost,
    Missing,
    /// `01` ("other") or any code outside the spec's 01..=13, kept as sent.
    Other(u8),
}

impl Default for CirculationStatus {
    /// `Other(1)`: the spec's "other".
    fn default() -> Self {
        CirculationStatus::Other(1)
    }
}

impl CirculationStatus {
    fn from_code(code: u8) -> CirculationStatus {
        match code {
            2 => CirculationStatus::OnOrder,
            3 => CirculationStatus::Available,
            4 => CirculationStatus::Charged,
            5 => CirculationStatus::ChargedNoRecall,
            6 => CirculationStatus::InProcess,
            7 => CirculationStatus::Recalled,
            8 => CirculationStatus::WaitingOnHoldShelf,
            9 => CirculationStatus::WaitingToBeReshelved,
            10 => CirculationStatus::InTransit,
            11 => CirculationStatus::ClaimedReturned,
            12 => CirculationStatus::Lost,
            13 => CirculationStatus::Missing,
            other => CirculationStatus::Other(other),
        }
    }

    /// The two-digit code as a number.
    pub fn code(self) -> u8 {
        match self {
            CirculationStatus::OnOrder => 2,
            CirculationStatus::Available => 3,
            CirculationStatus::Charged => 4,
            CirculationStatus::ChargedNoRecall => 5,
            CirculationStatus::InProcess => 6,
            CirculationStatus::Recalled => 7,
            CirculationStatus::WaitingOnHoldShelf => 8,
            CirculationStatus::WaitingToBeReshelved => 9,
            CirculationStatus::InTransit => 10,
            CirculationStatus::ClaimedReturned => 11,
            CirculationStatus::Lost => 12,
            CirculationStatus::Missing => 13,
            CirculationStatus::Other(n) => n,
        }
    }
}

/// Item information response (18).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemInformationResponse {
    pub circulation_status: CirculationStatus,
    /// 00 other, 01 none, 02 tattle-tape, 03 whisper tape.
    pub security_marker: u8,
    /// 01 other/unknown … 09 damage (see the spec's fee types).
    pub fee_type: u8,
    pub transaction_date: NaiveDateTime,
    /// `CF`
    pub hold_queue_length: Option<u32>,
    /// `AH`
    pub due_date: Option<String>,
    /// `CJ`
    pub recall_date: Option<String>,
    /// `CM`
    pub hold_pickup_date: Option<String>,
    /// `AB`
    pub item: String,
    /// `AJ`
    pub title: Option<String>,
    /// `BG`
    pub owner: Option<String>,
    /// `BH`
    pub currency: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `AQ`
    pub permanent_location: Option<String>,
    /// `AP`
    pub current_location: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

impl ItemInformationResponse {
    /// The due date, if `AH` holds one of the forms [`parse_date`] accepts.
    pub fn due(&self) -> Option<NaiveDate> {
        self.due_date.as_deref().and_then(parse_date)
    }
}

/// End session response (36).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndSessionResponse {
    pub end_session: bool,
    pub transaction_date: NaiveDateTime,
    /// `AO`
    pub institution: String,
    /// `AA`
    pub patron: String,
    /// `AF`
    pub screen_messages: Vec<String>,
    /// `AG`
    pub print_lines: Vec<String>,
    pub extra: Vec<(String, String)>,
}

/// A message from the ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Login(LoginResponse),
    AcsStatus(AcsStatus),
    PatronInformation(PatronInformationResponse),
    Renew(RenewResponse),
    RenewAll(RenewAllResponse),
    Hold(HoldResponse),
    Checkout(CheckoutResponse),
    Checkin(CheckinResponse),
    ItemInformation(ItemInformationResponse),
    EndSession(EndSessionResponse),
    /// 96: the ACS asks the SC to resend its last message.
    RequestResend,
}

impl Response {
    /// The two-digit message identifier.
    pub fn id(&self) -> &'static str {
        match self {
            Response::Login(_) => "94",
            Response::AcsStatus(_) => "98",
            Response::PatronInformation(_) => "64",
            Response::Renew(_) => "30",
            Response::RenewAll(_) => "66",
            Response::Hold(_) => "16",
            Response::Checkout(_) => "12",
            Response::Checkin(_) => "10",
            Response::ItemInformation(_) => "18",
            Response::EndSession(_) => "36",
            Response::RequestResend => "96",
        }
    }

    /// A short English name with the identifier, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Response::Login(_) => "login response (94)",
            Response::AcsStatus(_) => "ACS status (98)",
            Response::PatronInformation(_) => "patron information response (64)",
            Response::Renew(_) => "renew response (30)",
            Response::RenewAll(_) => "renew all response (66)",
            Response::Hold(_) => "hold response (16)",
            Response::Checkout(_) => "checkout response (12)",
            Response::Checkin(_) => "checkin response (10)",
            Response::ItemInformation(_) => "item information response (18)",
            Response::EndSession(_) => "end session response (36)",
            Response::RequestResend => "request SC resend (96)",
        }
    }
}

/// A decoded frame: the response and its error-detection trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub response: Response,
    /// The `AY` sequence number, if the frame carried one.
    pub sequence: Option<u8>,
    /// The `AZ` checksum, if the frame carried one (it has been verified).
    pub checksum: Option<u16>,
}

/// Decodes one response frame (see [`decode_frame`]).
pub fn decode(frame: &[u8]) -> Result<Response> {
    decode_frame(frame).map(|f| f.response)
}

/// Decodes one response frame, with or without its trailing CR (or CR LF).
///
/// If the frame ends with `AZxxxx` (optionally preceded by `AY<n>`), the
/// checksum is verified: [`Sip2Error::Checksum`] if it is wrong. The
/// fixed-length part is checked strictly ([`Sip2Error::Malformed`] names
/// the message and field); unknown and repeated variable fields go to
/// `extra`. Never panics.
pub fn decode_frame(frame: &[u8]) -> Result<Frame> {
    let start = frame.iter().take_while(|&&b| b == b'\n').count();
    let end = frame.len()
        - frame
            .iter()
            .rev()
            .take_while(|&&b| matches!(b, b'\r' | b'\n'))
            .count();
    let body = frame.get(start..end.max(start)).unwrap_or_default();
    let (body, sequence, checksum) = split_trailer(body)?;

    let id = body
        .get(..2)
        .ok_or_else(|| malformed("frame is shorter than a message identifier"))?;
    let rest = &body[2..];
    let response = match id {
        b"94" => decode_login(rest)?,
        b"98" => decode_acs_status(rest)?,
        b"64" => decode_patron_information(rest)?,
        b"30" => Response::Renew(decode_charge("renew response (30)", rest)?),
        b"66" => decode_renew_all(rest)?,
        b"16" => decode_hold(rest)?,
        b"12" => Response::Checkout(decode_charge("checkout response (12)", rest)?),
        b"10" => decode_checkin(rest)?,
        b"18" => decode_item_information(rest)?,
        b"36" => decode_end_session(rest)?,
        b"96" => Response::RequestResend,
        other => {
            return Err(malformed(format!(
                "unsupported message identifier {:?}",
                text(other)
            )));
        }
    };
    Ok(Frame {
        response,
        sequence,
        checksum,
    })
}

fn malformed(what: impl Into<String>) -> Sip2Error {
    Sip2Error::Malformed { what: what.into() }
}

/// Splits off and verifies `[AY<n>]AZxxxx` at the end of `body`.
fn split_trailer(body: &[u8]) -> Result<(&[u8], Option<u8>, Option<u16>)> {
    let n = body.len();
    if n < 6 || &body[n - 6..n - 4] != b"AZ" {
        return Ok((body, None, None));
    }
    let digits = &body[n - 4..];
    let has_ay = n >= 9 && &body[n - 9..n - 7] == b"AY" && body[n - 7].is_ascii_digit();
    let received = std::str::from_utf8(digits)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u16::from_str_radix(s, 16).ok());
    let computed = checksum(&body[..n - 4]);
    let received = match received {
        Some(r) => r,
        // "AZ" + four non-hex bytes right after a sequence number is a
        // damaged checksum; without "AY" before it, it may be field text.
        None if has_ay => {
            return Err(Sip2Error::Checksum {
                computed,
                received: text(digits),
            });
        }
        None => return Ok((body, None, None)),
    };
    if received != computed {
        return Err(Sip2Error::Checksum {
            computed,
            received: text(digits),
        });
    }
    if has_ay {
        Ok((&body[..n - 9], Some(body[n - 7] - b'0'), Some(received)))
    } else {
        Ok((&body[..n - 6], None, Some(received)))
    }
}

/// UTF-8 if valid, else Latin-1 (every byte is a char): never fails.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Reads the fixed-length part of one message, strictly.
struct Fixed<'a> {
    msg: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Fixed<'a> {
    /// Checks up front that `rest` holds the `len` bytes of the fixed part
    /// (`len` excludes the two-digit identifier).
    fn new(msg: &'static str, rest: &'a [u8], len: usize) -> Result<Fixed<'a>> {
        if rest.len() < len {
            return Err(malformed(format!(
                "{msg}: the fixed part needs {} bytes after the identifier, the frame has {}",
                len,
                rest.len()
            )));
        }
        Ok(Fixed {
            msg,
            bytes: rest,
            pos: 0,
        })
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        // `new` checked the length of the whole fixed part.
        let out = self.bytes.get(self.pos..self.pos + n).unwrap_or_default();
        self.pos += n;
        out
    }

    fn bad(&self, field: &str, expected: &str, got: &[u8]) -> Sip2Error {
        malformed(format!(
            "{}: {field} must be {expected}, got {:?}",
            self.msg,
            text(got)
        ))
    }

    /// `0`/`1`.
    fn ok(&mut self, field: &str) -> Result<bool> {
        let b = self.take(1);
        match b {
            b"1" => Ok(true),
            b"0" => Ok(false),
            _ => Err(self.bad(field, "0 or 1", b)),
        }
    }

    /// `Y`/`N`.
    fn yes_no(&mut self, field: &str) -> Result<bool> {
        let b = self.take(1);
        match b {
            b"Y" | b"y" => Ok(true),
            b"N" | b"n" => Ok(false),
            _ => Err(self.bad(field, "Y or N", b)),
        }
    }

    /// `Y`/`N`/`U`.
    fn yes_no_unknown(&mut self, field: &str) -> Result<Option<bool>> {
        let b = self.take(1);
        match b {
            b"Y" | b"y" => Ok(Some(true)),
            b"N" | b"n" => Ok(Some(false)),
            b"U" | b"u" => Ok(None),
            _ => Err(self.bad(field, "Y, N or U", b)),
        }
    }

    /// `n` digits, or `n` blanks for `None`.
    fn count(&mut self, field: &str, n: usize) -> Result<Option<u16>> {
        let b = self.take(n);
        if b.iter().all(|&c| c == b' ') {
            return Ok(None);
        }
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(self.bad(field, &format!("{n} digits"), b));
        }
        Ok(Some(b.iter().fold(0u16, |acc, &d| {
            acc.saturating_mul(10).saturating_add(u16::from(d - b'0'))
        })))
    }

    /// `n` digits.
    fn number(&mut self, field: &str, n: usize) -> Result<u16> {
        let b = self.take(n);
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(self.bad(field, &format!("{n} digits"), b));
        }
        Ok(b.iter().fold(0u16, |acc, &d| {
            acc.saturating_mul(10).saturating_add(u16::from(d - b'0'))
        }))
    }

    /// An 18-character `YYYYMMDDZZZZHHMMSS` timestamp.
    fn date(&mut self, field: &str) -> Result<NaiveDateTime> {
        let b = self.take(18);
        std::str::from_utf8(b)
            .ok()
            .and_then(parse_timestamp)
            .ok_or_else(|| self.bad(field, "a YYYYMMDDZZZZHHMMSS date", b))
    }

    /// `n` printable ASCII characters, kept as text.
    fn ascii(&mut self, field: &str, n: usize) -> Result<String> {
        let b = self.take(n);
        if !b.iter().all(|c| c.is_ascii() && !c.is_ascii_control()) {
            return Err(self.bad(field, &format!("{n} ASCII characters"), b));
        }
        Ok(text(b))
    }

    /// The variable fields after the fixed part.
    fn fields(&self) -> Fields {
        Fields::parse(self.bytes.get(self.pos..).unwrap_or_default())
    }
}

/// The variable fields of a frame, assigned to typed slots one by one.
struct Fields {
    list: Vec<(String, String)>,
    seen: Vec<String>,
    extra: Vec<(String, String)>,
}

impl Fields {
    /// Splits `XXvalue|XXvalue|…`; a last field without `|` is accepted and
    /// empty pieces (`||`) are skipped.
    fn parse(bytes: &[u8]) -> Fields {
        let list = bytes
            .split(|&b| b == b'|')
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                let split = piece.len().min(2);
                (text(&piece[..split]), text(&piece[split..]))
            })
            .collect();
        Fields {
            list,
            seen: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn take_list(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.list)
    }

    /// First occurrence wins; a repeat goes to `extra`.
    fn first(&mut self, code: String, value: String) -> Option<String> {
        if self.seen.contains(&code) {
            self.extra.push((code, value));
            None
        } else {
            self.seen.push(code);
            Some(value)
        }
    }

    fn text(&mut self, slot: &mut String, code: String, value: String) {
        if let Some(v) = self.first(code, value) {
            *slot = v;
        }
    }

    fn opt(&mut self, slot: &mut Option<String>, code: String, value: String) {
        if let Some(v) = self.first(code, value) {
            *slot = Some(v);
        }
    }

    /// `Y`/`N`; anything else is kept in `extra`.
    fn flag(&mut self, slot: &mut Option<bool>, code: String, value: String) {
        let parsed = match value.trim() {
            "Y" | "y" => Some(true),
            "N" | "n" => Some(false),
            _ => None,
        };
        match parsed {
            Some(b) if !self.seen.contains(&code) => {
                self.seen.push(code);
                *slot = Some(b);
            }
            _ => self.extra.push((code, value)),
        }
    }

    /// A decimal number; anything else is kept in `extra`.
    fn number<T: std::str::FromStr>(&mut self, slot: &mut Option<T>, code: String, value: String) {
        match value.trim().parse::<T>() {
            Ok(n) if !self.seen.contains(&code) => {
                self.seen.push(code);
                *slot = Some(n);
            }
            _ => self.extra.push((code, value)),
        }
    }

    fn other(&mut self, code: String, value: String) {
        self.extra.push((code, value));
    }
}

fn decode_login(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("login response (94)", rest, 1)?;
    let ok = f.ok("ok")?;
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        v.other(code, value);
    }
    Ok(Response::Login(LoginResponse { ok, extra: v.extra }))
}

fn decode_acs_status(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("ACS status (98)", rest, 34)?;
    let mut r = AcsStatus {
        online: f.yes_no("on-line status")?,
        checkin_ok: f.yes_no("checkin ok")?,
        checkout_ok: f.yes_no("checkout ok")?,
        renewal_policy: f.yes_no("ACS renewal policy")?,
        status_update_ok: f.yes_no("status update ok")?,
        offline_ok: f.yes_no("off-line ok")?,
        timeout_period: f.count("timeout period", 3)?,
        retries_allowed: f.count("retries allowed", 3)?,
        date_time_sync: f.date("date / time sync")?,
        protocol_version: f.ascii("protocol version", 4)?,
        ..AcsStatus::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "AM" => v.opt(&mut r.library_name, code, value),
            "BX" => v.text(&mut r.supported_messages, code, value),
            "AN" => v.opt(&mut r.terminal_location, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::AcsStatus(r))
}

fn decode_patron_information(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("patron information response (64)", rest, 59)?;
    let mut r = PatronInformationResponse {
        patron_status: f.ascii("patron status", 14)?,
        language: f.number("language", 3)?,
        transaction_date: f.date("transaction date")?,
        hold_items_count: f.count("hold items count", 4)?,
        overdue_items_count: f.count("overdue items count", 4)?,
        charged_items_count: f.count("charged items count", 4)?,
        fine_items_count: f.count("fine items count", 4)?,
        recall_items_count: f.count("recall items count", 4)?,
        unavailable_holds_count: f.count("unavailable holds count", 4)?,
        ..PatronInformationResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "AA" => v.text(&mut r.patron, code, value),
            "AE" => v.text(&mut r.personal_name, code, value),
            "BZ" => v.number(&mut r.hold_items_limit, code, value),
            "CA" => v.number(&mut r.overdue_items_limit, code, value),
            "CB" => v.number(&mut r.charged_items_limit, code, value),
            "BL" => v.flag(&mut r.valid_patron, code, value),
            "CQ" => v.flag(&mut r.valid_patron_password, code, value),
            "BH" => v.opt(&mut r.currency, code, value),
            "BV" => v.opt(&mut r.fee_amount, code, value),
            "CC" => v.opt(&mut r.fee_limit, code, value),
            "AS" => r.hold_items.push(value),
            "AT" => r.overdue_items.push(value),
            "AU" => r.charged_items.push(value),
            "AV" => r.fine_items.push(value),
            "BU" => r.recall_items.push(value),
            "CD" => r.unavailable_hold_items.push(value),
            "BD" => v.opt(&mut r.home_address, code, value),
            "BE" => v.opt(&mut r.email, code, value),
            "BF" => v.opt(&mut r.phone, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::PatronInformation(r))
}

/// Checkout (12) and renew (30) responses share one layout.
fn decode_charge(what: &'static str, rest: &[u8]) -> Result<ChargeResponse> {
    let mut f = Fixed::new(what, rest, 22)?;
    let mut r = ChargeResponse {
        ok: f.ok("ok")?,
        renewal_ok: f.yes_no("renewal ok")?,
        magnetic_media: f.yes_no_unknown("magnetic media")?,
        desensitize: f.yes_no_unknown("desensitize")?,
        transaction_date: f.date("transaction date")?,
        ..ChargeResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "AA" => v.text(&mut r.patron, code, value),
            "AB" => v.text(&mut r.item, code, value),
            "AJ" => v.opt(&mut r.title, code, value),
            "AH" => v.opt(&mut r.due_date, code, value),
            "BT" => v.opt(&mut r.fee_type, code, value),
            "CI" => v.flag(&mut r.security_inhibit, code, value),
            "BH" => v.opt(&mut r.currency, code, value),
            "BV" => v.opt(&mut r.fee_amount, code, value),
            "CK" => v.opt(&mut r.media_type, code, value),
            "CH" => v.opt(&mut r.item_properties, code, value),
            "BK" => v.opt(&mut r.transaction_id, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(r)
}

fn decode_renew_all(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("renew all response (66)", rest, 27)?;
    let mut r = RenewAllResponse {
        ok: f.ok("ok")?,
        renewed_count: f.count("renewed count", 4)?,
        unrenewed_count: f.count("unrenewed count", 4)?,
        transaction_date: f.date("transaction date")?,
        ..RenewAllResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "BM" => r.renewed_items.push(value),
            "BN" => r.unrenewed_items.push(value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::RenewAll(r))
}

fn decode_hold(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("hold response (16)", rest, 20)?;
    let mut r = HoldResponse {
        ok: f.ok("ok")?,
        available: f.yes_no("available")?,
        transaction_date: f.date("transaction date")?,
        ..HoldResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "BW" => v.opt(&mut r.expiration_date, code, value),
            "BR" => v.number(&mut r.queue_position, code, value),
            "BS" => v.opt(&mut r.pickup_location, code, value),
            "AO" => v.text(&mut r.institution, code, value),
            "AA" => v.text(&mut r.patron, code, value),
            "AB" => v.opt(&mut r.item, code, value),
            "AJ" => v.opt(&mut r.title, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::Hold(r))
}

fn decode_checkin(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("checkin response (10)", rest, 22)?;
    let mut r = CheckinResponse {
        ok: f.ok("ok")?,
        resensitize: f.yes_no("resensitize")?,
        magnetic_media: f.yes_no_unknown("magnetic media")?,
        alert: f.yes_no("alert")?,
        transaction_date: f.date("transaction date")?,
        ..CheckinResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "AB" => v.text(&mut r.item, code, value),
            "AQ" => v.opt(&mut r.permanent_location, code, value),
            "AJ" => v.opt(&mut r.title, code, value),
            "CL" => v.opt(&mut r.sort_bin, code, value),
            "AA" => v.opt(&mut r.patron, code, value),
            "CK" => v.opt(&mut r.media_type, code, value),
            "CH" => v.opt(&mut r.item_properties, code, value),
            "CV" => v.opt(&mut r.alert_type, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::Checkin(r))
}

fn decode_item_information(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("item information response (18)", rest, 24)?;
    let circulation = f.number("circulation status", 2)?;
    let mut r = ItemInformationResponse {
        circulation_status: CirculationStatus::from_code(u8::try_from(circulation).unwrap_or(0)),
        security_marker: u8::try_from(f.number("security marker", 2)?).unwrap_or(0),
        fee_type: u8::try_from(f.number("fee type", 2)?).unwrap_or(0),
        transaction_date: f.date("transaction date")?,
        ..ItemInformationResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "CF" => v.number(&mut r.hold_queue_length, code, value),
            "AH" => v.opt(&mut r.due_date, code, value),
            "CJ" => v.opt(&mut r.recall_date, code, value),
            "CM" => v.opt(&mut r.hold_pickup_date, code, value),
            "AB" => v.text(&mut r.item, code, value),
            "AJ" => v.opt(&mut r.title, code, value),
            "BG" => v.opt(&mut r.owner, code, value),
            "BH" => v.opt(&mut r.currency, code, value),
            "BV" => v.opt(&mut r.fee_amount, code, value),
            "CK" => v.opt(&mut r.media_type, code, value),
            "AQ" => v.opt(&mut r.permanent_location, code, value),
            "AP" => v.opt(&mut r.current_location, code, value),
            "CH" => v.opt(&mut r.item_properties, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::ItemInformation(r))
}

fn decode_end_session(rest: &[u8]) -> Result<Response> {
    let mut f = Fixed::new("end session response (36)", rest, 19)?;
    let mut r = EndSessionResponse {
        end_session: f.yes_no("end session")?,
        transaction_date: f.date("transaction date")?,
        ..EndSessionResponse::default()
    };
    let mut v = f.fields();
    for (code, value) in v.take_list() {
        match code.as_str() {
            "AO" => v.text(&mut r.institution, code, value),
            "AA" => v.text(&mut r.patron, code, value),
            "AF" => r.screen_messages.push(value),
            "AG" => r.print_lines.push(value),
            _ => v.other(code, value),
        }
    }
    r.extra = v.extra;
    Ok(Response::EndSession(r))
}

#[cfg(test)]
mod tests;
