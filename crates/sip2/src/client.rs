//! The blocking IO edge: one TCP connection to the ACS, one request at a
//! time.
//!
//! Every exchange writes one frame and reads frames until CR, each read
//! bounded by [`ClientOptions::timeout`] and by [`MAX_FRAME`] bytes. With
//! error detection on, requests carry sequence numbers cycling 0..=9 and a
//! checksum; a response whose checksum is wrong is answered with a request
//! ACS resend (97), at most twice; a request SC resend (96) from the ACS
//! makes the client send its last request again, at most twice. A response
//! carrying a different sequence number than the request is refused.
//!
//! After a timeout, an IO error, an oversized frame or a sequence mismatch
//! the client no longer knows which response belongs to which request: it
//! refuses further requests ([`Sip2Error::Io`] with `NotConnected`) and the
//! caller reconnects.
//!
//! A response with `ok = 0` (checkout refused, …) is returned as is: it is
//! an answer, not an error; its screen messages say why.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::codec::{
    AcsStatus, CheckinRequest, CheckinResponse, CheckoutRequest, CheckoutResponse,
    EndPatronSessionRequest, EndSessionResponse, HoldMode, HoldRequest, HoldResponse,
    ItemInformationRequest, ItemInformationResponse, LoginRequest, PatronInformationRequest,
    PatronInformationResponse, RenewAllRequest, RenewAllResponse, RenewRequest, RenewResponse,
    Request, Response, ScStatusRequest, Summary, decode_frame,
};
use crate::{Result, Sip2Error};

/// The largest frame the client reads, CR included.
pub const MAX_FRAME: usize = 64 * 1024;

/// Default connect, read and write timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many times one exchange asks the ACS to resend (97), and how many
/// times it honours the ACS asking for a resend (96).
const MAX_RESENDS: u8 = 2;

/// The SC's login (93) to the ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCredentials {
    pub user: String,
    pub password: String,
    pub location: Option<String>,
}

/// How to connect and what to put in every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// If set, [`Client::connect`] sends a login (93) and requires `ok = 1`.
    pub login: Option<LoginCredentials>,
    /// `AO` of every request.
    pub institution: String,
    /// `AC` of every request that has one.
    pub terminal_password: Option<String>,
    /// Sequence numbers and checksums (default on).
    pub error_detection: bool,
    /// Connect timeout, and the bound on writing one frame and on reading
    /// one frame (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            login: None,
            institution: String::new(),
            terminal_password: None,
            error_detection: true,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// What a hold (15) is placed on: one copy (`AB`) or a title (`AJ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldTarget<'a> {
    Item(&'a str),
    Title(&'a str),
}

/// A blocking SIP2 connection to one ACS.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    opts: ClientOptions,
    next_seq: u8,
    /// Bytes read past the end of the last frame.
    buf: Vec<u8>,
    /// Set after an error that leaves request and response out of step.
    broken: bool,
}

impl Client {
    /// Connects to `addr` (`host:port`), and logs in if
    /// [`ClientOptions::login`] is set ([`Sip2Error::Refused`] if the ACS
    /// says no).
    pub fn connect(addr: &str, opts: ClientOptions) -> Result<Client> {
        if opts.timeout.is_zero() {
            return Err(Sip2Error::Io(std::io::Error::new(
                ErrorKind::InvalidInput,
                "SIP2 timeout must not be zero",
            )));
        }
        let mut last_err = None;
        let mut stream = None;
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, opts.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let stream = match (stream, last_err) {
            (Some(s), _) => s,
            (None, Some(e)) if is_timeout(&e) => return Err(Sip2Error::Timeout),
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(Sip2Error::Io(std::io::Error::new(
                    ErrorKind::NotFound,
                    format!("{addr} resolves to no address"),
                )));
            }
        };
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(opts.timeout))?;
        let mut client = Client {
            stream,
            opts,
            next_seq: 0,
            buf: Vec::new(),
            broken: false,
        };
        if let Some(login) = client.opts.login.clone() {
            let request = Request::Login(LoginRequest {
                user: login.user,
                password: login.password,
                location: login.location,
            });
            match client.request(&request)? {
                Response::Login(r) if r.ok => {}
                Response::Login(_) => return Err(Sip2Error::Refused),
                other => return Err(unexpected("login response (94)", &other)),
            }
        }
        Ok(client)
    }

    /// The options this client was connected with.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// Sends any request and returns whatever response the ACS gives,
    /// after the checksum, resend and sequence-number handling.
    pub fn request(&mut self, request: &Request) -> Result<Response> {
        if self.broken {
            return Err(Sip2Error::Io(std::io::Error::new(
                ErrorKind::NotConnected,
                "the SIP2 connection is out of step after an earlier error; reconnect",
            )));
        }
        let seq = self.opts.error_detection.then_some(self.next_seq);
        let bytes = request.encode(seq)?;
        self.next_seq = (self.next_seq + 1) % 10;
        let resend_request = Request::RequestAcsResend.encode(seq.map(|_| 0))?;

        self.write_frame(&bytes)?;
        let (mut acs_resends, mut sc_resends) = (0u8, 0u8);
        loop {
            let raw = self.read_frame()?;
            let frame = match decode_frame(&raw) {
                Err(Sip2Error::Checksum { .. }) if acs_resends < MAX_RESENDS => {
                    acs_resends += 1;
                    self.write_frame(&resend_request)?;
                    continue;
                }
                other => other?,
            };
            if frame.response == Response::RequestResend {
                if sc_resends < MAX_RESENDS {
                    sc_resends += 1;
                    self.write_frame(&bytes)?;
                    continue;
                }
                return Err(unexpected(expected_for(request), &frame.response));
            }
            if let (Some(sent), Some(got)) = (seq, frame.sequence)
                && sent != got
            {
                self.broken = true;
                return Err(Sip2Error::Malformed {
                    what: format!(
                        "{} carries sequence number {got}, the request had {sent}",
                        frame.response.name()
                    ),
                });
            }
            return Ok(frame.response);
        }
    }

    /// SC status (99) → ACS status (98).
    pub fn sc_status(&mut self) -> Result<AcsStatus> {
        match self.request(&Request::ScStatus(ScStatusRequest::default()))? {
            Response::AcsStatus(r) => Ok(r),
            other => Err(unexpected("ACS status (98)", &other)),
        }
    }

    /// Patron information (63) → (64), language "001" (English).
    pub fn patron_information(
        &mut self,
        patron: &str,
        patron_pwd: Option<&str>,
        summary: Summary,
        now: NaiveDateTime,
    ) -> Result<PatronInformationResponse> {
        let request = Request::PatronInformation(PatronInformationRequest {
            language: 1,
            transaction_date: now,
            summary,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            terminal_password: self.terminal_password(),
            patron_password: patron_pwd.map(Into::into),
            start_item: None,
            end_item: None,
        });
        match self.request(&request)? {
            Response::PatronInformation(r) => Ok(r),
            other => Err(unexpected("patron information response (64)", &other)),
        }
    }

    /// Renew (29) → (30); no third party, no block, no fee acknowledged.
    pub fn renew(
        &mut self,
        patron: &str,
        patron_pwd: Option<&str>,
        item: &str,
        now: NaiveDateTime,
    ) -> Result<RenewResponse> {
        let request = Request::Renew(RenewRequest {
            third_party_allowed: false,
            no_block: false,
            transaction_date: now,
            nb_due_date: None,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            patron_password: patron_pwd.map(Into::into),
            item: Some(item.into()),
            title: None,
            terminal_password: self.terminal_password(),
            item_properties: None,
            fee_acknowledged: Some(false),
        });
        match self.request(&request)? {
            Response::Renew(r) => Ok(r),
            other => Err(unexpected("renew response (30)", &other)),
        }
    }

    /// Renew all (65) → (66); no fee acknowledged.
    pub fn renew_all(
        &mut self,
        patron: &str,
        patron_pwd: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<RenewAllResponse> {
        let request = Request::RenewAll(RenewAllRequest {
            transaction_date: now,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            patron_password: patron_pwd.map(Into::into),
            terminal_password: self.terminal_password(),
            fee_acknowledged: Some(false),
        });
        match self.request(&request)? {
            Response::RenewAll(r) => Ok(r),
            other => Err(unexpected("renew all response (66)", &other)),
        }
    }

    /// Hold (15) → (16): place, cancel or change a hold on a copy or title.
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the SIP2 hold message; Client::request takes a HoldRequest for full control"
    )]
    pub fn hold(
        &mut self,
        mode: HoldMode,
        patron: &str,
        patron_pwd: Option<&str>,
        target: HoldTarget<'_>,
        pickup: Option<&str>,
        expiry: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Result<HoldResponse> {
        let (item, title) = match target {
            HoldTarget::Item(i) => (Some(i.to_owned()), None),
            HoldTarget::Title(t) => (None, Some(t.to_owned())),
        };
        let request = Request::Hold(HoldRequest {
            mode,
            transaction_date: now,
            expiration: expiry,
            pickup_location: pickup.map(Into::into),
            hold_type: None,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            patron_password: patron_pwd.map(Into::into),
            item,
            title,
            terminal_password: self.terminal_password(),
            fee_acknowledged: Some(false),
        });
        match self.request(&request)? {
            Response::Hold(r) => Ok(r),
            other => Err(unexpected("hold response (16)", &other)),
        }
    }

    /// Checkout (11) → (12); renewals allowed, no block, no fee
    /// acknowledged.
    pub fn checkout(
        &mut self,
        patron: &str,
        patron_pwd: Option<&str>,
        item: &str,
        now: NaiveDateTime,
    ) -> Result<CheckoutResponse> {
        let request = Request::Checkout(CheckoutRequest {
            sc_renewal_policy: true,
            no_block: false,
            transaction_date: now,
            nb_due_date: None,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            item: item.into(),
            terminal_password: self.terminal_password(),
            item_properties: None,
            patron_password: patron_pwd.map(Into::into),
            fee_acknowledged: Some(false),
            cancel: None,
        });
        match self.request(&request)? {
            Response::Checkout(r) => Ok(r),
            other => Err(unexpected("checkout response (12)", &other)),
        }
    }

    /// Checkin (09) → (10) at `location` (`AP`), returned `now`.
    pub fn checkin(
        &mut self,
        item: &str,
        location: &str,
        now: NaiveDateTime,
    ) -> Result<CheckinResponse> {
        let request = Request::Checkin(CheckinRequest {
            no_block: false,
            transaction_date: now,
            return_date: now,
            current_location: location.into(),
            institution: self.opts.institution.clone(),
            item: item.into(),
            terminal_password: self.terminal_password(),
            item_properties: None,
            cancel: None,
        });
        match self.request(&request)? {
            Response::Checkin(r) => Ok(r),
            other => Err(unexpected("checkin response (10)", &other)),
        }
    }

    /// Item information (17) → (18).
    pub fn item_information(
        &mut self,
        item: &str,
        now: NaiveDateTime,
    ) -> Result<ItemInformationResponse> {
        let request = Request::ItemInformation(ItemInformationRequest {
            transaction_date: now,
            institution: self.opts.institution.clone(),
            item: item.into(),
            terminal_password: self.terminal_password(),
        });
        match self.request(&request)? {
            Response::ItemInformation(r) => Ok(r),
            other => Err(unexpected("item information response (18)", &other)),
        }
    }

    /// End patron session (35) → (36).
    pub fn end_session(
        &mut self,
        patron: &str,
        patron_pwd: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<EndSessionResponse> {
        let request = Request::EndPatronSession(EndPatronSessionRequest {
            transaction_date: now,
            institution: self.opts.institution.clone(),
            patron: patron.into(),
            terminal_password: self.terminal_password(),
            patron_password: patron_pwd.map(Into::into),
        });
        match self.request(&request)? {
            Response::EndSession(r) => Ok(r),
            other => Err(unexpected("end session response (36)", &other)),
        }
    }

    fn terminal_password(&self) -> Option<String> {
        self.opts.terminal_password.clone()
    }

    fn write_frame(&mut self, bytes: &[u8]) -> Result<()> {
        let result = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.fail(e))
    }

    /// Reads one frame up to and including CR. Leading CR/LF (the LF of a
    /// CR LF terminator, empty frames) is skipped.
    fn read_frame(&mut self) -> Result<Vec<u8>> {
        let deadline = Instant::now() + self.opts.timeout;
        let mut chunk = [0u8; 4096];
        loop {
            let blank = self
                .buf
                .iter()
                .take_while(|&&b| matches!(b, b'\r' | b'\n'))
                .count();
            self.buf.drain(..blank);
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\r')
                && pos < MAX_FRAME
            {
                return Ok(self.buf.drain(..=pos).collect());
            }
            if self.buf.len() >= MAX_FRAME {
                self.broken = true;
                return Err(Sip2Error::Malformed {
                    what: format!("response frame exceeds {MAX_FRAME} bytes without a CR"),
                });
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                self.broken = true;
                return Err(Sip2Error::Timeout);
            }
            if let Err(e) = self.stream.set_read_timeout(Some(remaining)) {
                return Err(self.fail(e));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(self.fail(std::io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the ACS closed the connection",
                    )));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Marks the connection unusable and maps the IO error.
    fn fail(&mut self, e: std::io::Error) -> Sip2Error {
        self.broken = true;
        if is_timeout(&e) {
            Sip2Error::Timeout
        } else {
            Sip2Error::Io(e)
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn unexpected(expected: &'static str, got: &Response) -> Sip2Error {
    Sip2Error::UnexpectedResponse {
        expected,
        got: got.name(),
    }
}

fn expected_for(request: &Request) -> &'static str {
    match request {
        Request::Login(_) => "login response (94)",
        Request::ScStatus(_) => "ACS status (98)",
        Request::PatronInformation(_) => "patron information response (64)",
        Request::Renew(_) => "renew response (30)",
        Request::RenewAll(_) => "renew all response (66)",
        Request::Hold(_) => "hold response (16)",
        Request::Checkout(_) => "checkout response (12)",
        Request::Checkin(_) => "checkin response (10)",
        Request::ItemInformation(_) => "item information response (18)",
        Request::EndPatronSession(_) => "end session response (36)",
        Request::RequestAcsResend => "resent ACS message",
    }
}
