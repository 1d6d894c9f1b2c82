//! The client against a tiny scripted SIP2 responder on 127.0.0.1: framing,
//! sequence numbers, checksums, the 96/97 resend paths, timeouts and the
//! oversize-frame bound. Every loop is bounded in count and time.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use pustaka_sip2::{
    CirculationStatus, Client, ClientOptions, HoldMode, HoldTarget, LoginCredentials, Sip2Error,
    Summary,
};

/// Given the frame the responder received, the bytes it sends back (empty:
/// no reply).
type Step = Box<dyn FnMut(&[u8]) -> Vec<u8> + Send>;

const LIMIT: Duration = Duration::from_secs(5);

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 15)
        .and_then(|d| d.and_hms_opt(10, 30, 0))
        .expect("valid test date")
}

/// Independent of the crate's own checksum function.
fn sum(bytes: &[u8]) -> u16 {
    let total: u32 = bytes.iter().map(|&b| u32::from(b)).sum();
    (0x1_0000 - (total & 0xFFFF)) as u16
}

/// `body` + `AY<seq>AZ<checksum>` + CR.
fn framed(body: &str, seq: u8) -> Vec<u8> {
    let mut out = format!("{body}AY{seq}AZ").into_bytes();
    let c = sum(&out);
    out.extend_from_slice(format!("{c:04X}\r").as_bytes());
    out
}

/// The sequence number of a request frame `...AY<n>AZxxxx\r`.
fn seq_of(frame: &[u8]) -> u8 {
    let n = frame.len();
    assert!(n >= 10, "short frame {frame:?}");
    assert_eq!(
        &frame[n - 10..n - 8],
        b"AY",
        "no AY in {:?}",
        String::from_utf8_lossy(frame)
    );
    frame[n - 8] - b'0'
}

fn checksum_ok(frame: &[u8]) -> bool {
    let n = frame.len();
    let digits = std::str::from_utf8(&frame[n - 5..n - 1]).expect("ascii");
    u16::from_str_radix(digits, 16).ok() == Some(sum(&frame[..n - 5]))
}

/// Replies `body` framed with the request's own sequence number.
fn reply(body: &'static str) -> Step {
    Box::new(move |req| framed(body, seq_of(req)))
}

/// Replies these exact bytes.
fn raw(bytes: &'static [u8]) -> Step {
    Box::new(move |_| bytes.to_vec())
}

/// No reply; holds the connection open a while so the client times out
/// rather than seeing it close.
fn silent() -> Step {
    Box::new(|_| {
        thread::sleep(Duration::from_millis(800));
        Vec::new()
    })
}

/// Serves one connection: for each step, reads one CR-terminated frame and
/// writes the step's reply. Returns the frames received.
fn responder(steps: Vec<Step>) -> (String, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + LIMIT;
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return Vec::new(),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut received = Vec::new();
        let mut buf = Vec::new();
        for mut step in steps {
            let Some(frame) = read_frame(&mut stream, &mut buf) else {
                break;
            };
            let out = step(&frame);
            received.push(frame);
            if !out.is_empty() && stream.write_all(&out).is_err() {
                break;
            }
        }
        received
    });
    (addr, handle)
}

fn read_frame(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 1024];
    for _ in 0..1000 {
        if let Some(pos) = buf.iter().position(|&b| b == b'\r') {
            return Some(buf.drain(..=pos).collect());
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    None
}

fn options() -> ClientOptions {
    ClientOptions {
        institution: "MAIN".into(),
        terminal_password: Some("tpw".into()),
        timeout: Duration::from_secs(2),
        ..ClientOptions::default()
    }
}

fn join(handle: JoinHandle<Vec<Vec<u8>>>) -> Vec<String> {
    handle
        .join()
        .expect("responder thread")
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect()
}

const ITEM_INFO: &str = "1803000120240315    103001AB39000123|AJThe pragmatic programmer|";

#[test]
fn login_status_and_patron_information() {
    let (addr, handle) = responder(vec![
        reply("941"),
        reply("98YYYYNN10000320240315    1030002.00AOMAIN|AMPustaka|BXYYYYYYYYYYYYYYYY|"),
        reply(
            "64              00120240315    103000000000000002000000000000AOMAIN|AA2000123|\
AEAsih Wulandari|BLY|CQY|AU39000111|AU39000222|",
        ),
    ]);
    let mut opts = options();
    opts.login = Some(LoginCredentials {
        user: "sc".into(),
        password: "secret".into(),
        location: Some("KIOSK1".into()),
    });
    let mut client = Client::connect(&addr, opts).expect("connect and log in");
    let status = client.sc_status().expect("status");
    assert!(status.online);
    assert_eq!(status.library_name.as_deref(), Some("Pustaka"));
    let patron = client
        .patron_information("2000123", Some("1234"), Summary::ChargedItems, now())
        .expect("patron information");
    assert_eq!(patron.personal_name, "Asih Wulandari");
    assert_eq!(patron.valid_patron_password, Some(true));
    assert_eq!(patron.charged_items, ["39000111", "39000222"]);
    drop(client);

    let got = join(handle);
    assert_eq!(got.len(), 3);
    assert!(
        got[0].starts_with("9300CNsc|COsecret|CPKIOSK1|AY0AZ"),
        "{}",
        got[0]
    );
    assert!(got[1].starts_with("9900802.00AY1AZ"), "{}", got[1]);
    assert!(
        got[2].starts_with("6300120240315    103000  Y       AOMAIN|AA2000123|ACtpw|AD1234|AY2AZ"),
        "{}",
        got[2]
    );
    assert!(got.iter().all(|f| checksum_ok(f.as_bytes())));
}

#[test]
fn login_refused() {
    let (addr, handle) = responder(vec![reply("940")]);
    let mut opts = options();
    opts.login = Some(LoginCredentials {
        user: "sc".into(),
        password: "wrong".into(),
        location: None,
    });
    assert!(matches!(
        Client::connect(&addr, opts),
        Err(Sip2Error::Refused)
    ));
    assert_eq!(join(handle).len(), 1);
}

#[test]
fn sequence_numbers_cycle_zero_to_nine() {
    let steps = (0..12).map(|_| reply(ITEM_INFO)).collect();
    let (addr, handle) = responder(steps);
    let mut client = Client::connect(&addr, options()).expect("connect");
    for _ in 0..12 {
        let info = client.item_information("39000123", now()).expect("item");
        assert_eq!(info.circulation_status, CirculationStatus::Available);
    }
    drop(client);
    let seqs: Vec<u8> = join(handle).iter().map(|f| seq_of(f.as_bytes())).collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
}

/// A valid response whose checksum was damaged in transit.
fn corrupted(body: &'static str) -> Step {
    Box::new(move |req| {
        let mut f = framed(body, seq_of(req));
        let n = f.len();
        f[n - 2] = if f[n - 2] == b'0' { b'1' } else { b'0' };
        f
    })
}

#[test]
fn bad_checksum_asks_the_acs_to_resend() {
    let (addr, handle) = responder(vec![
        Box::new(|req: &[u8]| {
            let mut f = framed(ITEM_INFO, seq_of(req));
            f[5] = b'4'; // damage a byte of the body
            f
        }),
        // The resend request carries no sequence number; resend the answer
        // to the original request.
        Box::new(|_: &[u8]| framed(ITEM_INFO, 0)),
    ]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let info = client
        .item_information("39000123", now())
        .expect("resent item");
    assert_eq!(info.item, "39000123");
    drop(client);
    let got = join(handle);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], "97AZFEF5\r");
}

#[test]
fn bad_checksum_three_times_fails_after_two_resends() {
    let (addr, handle) = responder(vec![
        corrupted(ITEM_INFO),
        Box::new(|_: &[u8]| {
            let mut f = framed(ITEM_INFO, 0);
            f[3] = b'9';
            f
        }),
        Box::new(|_: &[u8]| {
            let mut f = framed(ITEM_INFO, 0);
            f[3] = b'9';
            f
        }),
        reply(ITEM_INFO),
    ]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    assert!(matches!(err, Err(Sip2Error::Checksum { .. })), "{err:?}");
    drop(client);
    let got = join(handle);
    assert_eq!(got.len(), 3);
    assert_eq!(&got[1..], ["97AZFEF5\r", "97AZFEF5\r"]);
}

#[test]
fn request_sc_resend_resends_the_last_request() {
    let (addr, handle) = responder(vec![
        raw(b"96AZFEF6\r"),
        raw(b"96\r"),
        reply("161N20240315    103000BR2|AOMAIN|AA2000123|AJb1234|AFHold placed|"),
    ]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let hold = client
        .hold(
            HoldMode::Add,
            "2000123",
            None,
            HoldTarget::Title("b1234"),
            Some("CENTRAL"),
            None,
            now(),
        )
        .expect("hold");
    assert!(hold.ok);
    assert_eq!(hold.queue_position, Some(2));
    drop(client);
    let got = join(handle);
    assert_eq!(got.len(), 3);
    assert!(
        got[0]
            .starts_with("15+20240315    103000BSCENTRAL|AOMAIN|AA2000123|AJb1234|ACtpw|BON|AY0AZ"),
        "{}",
        got[0]
    );
    assert_eq!(got[0], got[1]);
    assert_eq!(got[1], got[2]);
}

#[test]
fn request_sc_resend_three_times_gives_up() {
    let (addr, handle) = responder(vec![
        raw(b"96\r"),
        raw(b"96\r"),
        raw(b"96\r"),
        reply(ITEM_INFO),
    ]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    assert!(
        matches!(
            err,
            Err(Sip2Error::UnexpectedResponse {
                got: "request SC resend (96)",
                ..
            })
        ),
        "{err:?}"
    );
    drop(client);
    assert_eq!(join(handle).len(), 3);
}

#[test]
fn oversize_frame_is_rejected() {
    let (addr, handle) = responder(vec![Box::new(|_: &[u8]| vec![b'A'; 70 * 1024])]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    match err {
        Err(Sip2Error::Malformed { what }) => assert!(what.contains("65536"), "{what}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
    // Out of step now: further requests are refused without IO.
    let again = client.item_information("39000123", now());
    assert!(
        matches!(&again, Err(Sip2Error::Io(e)) if e.kind() == ErrorKind::NotConnected),
        "{again:?}"
    );
    drop(client);
    assert_eq!(join(handle).len(), 1);
}

#[test]
fn silent_acs_times_out() {
    let (addr, handle) = responder(vec![silent()]);
    let mut opts = options();
    opts.timeout = Duration::from_millis(300);
    let mut client = Client::connect(&addr, opts).expect("connect");
    let started = Instant::now();
    let err = client.checkin("39000111", "CENTRAL", now());
    assert!(matches!(err, Err(Sip2Error::Timeout)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(client);
    assert_eq!(join(handle).len(), 1);
}

#[test]
fn checkin_round_trip() {
    let (addr, handle) = responder(vec![reply(
        "101YNN20240315    103000AOMAIN|AB39000111|AQCENTRAL|",
    )]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let checkin = client
        .checkin("39000111", "CENTRAL", now())
        .expect("checkin");
    assert!(checkin.ok && !checkin.alert);
    drop(client);
    let got = join(handle);
    assert!(
        got[0].starts_with(
            "09N20240315    10300020240315    103000APCENTRAL|AOMAIN|AB39000111|ACtpw|AY0AZ"
        ),
        "{}",
        got[0]
    );
}

#[test]
fn cr_lf_terminators_and_split_writes() {
    let (addr, handle) = responder(vec![
        Box::new(|req: &[u8]| {
            let mut f = framed(
                "121NNY20240315    103000AOMAIN|AA2000123|AB39000111|AH20240415    235900|",
                seq_of(req),
            );
            f.push(b'\n');
            f
        }),
        reply("301YNN20240315    103000AOMAIN|AA2000123|AB39000111|AH20240429    235900|"),
    ]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let out = client
        .checkout("2000123", Some("1234"), "39000111", now())
        .expect("checkout");
    assert_eq!(out.due(), NaiveDate::from_ymd_opt(2024, 4, 15));
    let renewed = client
        .renew("2000123", Some("1234"), "39000111", now())
        .expect("renew");
    assert_eq!(renewed.due(), NaiveDate::from_ymd_opt(2024, 4, 29));
    drop(client);
    let got = join(handle);
    assert_eq!(seq_of(got[1].as_bytes()), 1);
}

#[test]
fn a_frame_in_pieces_is_reassembled() {
    // The reply arrives in three writes; the client reads until CR.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut buf = Vec::new();
        let req = read_frame(&mut s, &mut buf).expect("a request");
        let f = framed(
            "6610001000020240315    103000AOMAIN|BM39000111|",
            seq_of(&req),
        );
        for piece in [&f[..5], &f[5..30], &f[30..]] {
            s.write_all(piece).expect("write");
            s.flush().expect("flush");
            thread::sleep(Duration::from_millis(20));
        }
    });
    let mut client = Client::connect(&addr, options()).expect("connect");
    let all = client.renew_all("2000123", None, now()).expect("renew all");
    assert_eq!(all.renewed_items, ["39000111"]);
    drop(client);
    handle.join().expect("responder");
}

#[test]
fn wrong_response_kind_is_unexpected() {
    let (addr, handle) = responder(vec![reply("36Y20240315    103000AOMAIN|AA2000123|")]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    assert!(
        matches!(
            err,
            Err(Sip2Error::UnexpectedResponse {
                expected: "item information response (18)",
                got: "end session response (36)"
            })
        ),
        "{err:?}"
    );
    drop(client);
    join(handle);
}

#[test]
fn mismatched_sequence_number_is_refused() {
    let (addr, handle) = responder(vec![Box::new(|req: &[u8]| {
        framed(ITEM_INFO, (seq_of(req) + 5) % 10)
    })]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    match err {
        Err(Sip2Error::Malformed { what }) => assert!(what.contains("sequence number 5"), "{what}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
    drop(client);
    join(handle);
}

#[test]
fn error_detection_off_sends_plain_frames() {
    let (addr, handle) = responder(vec![raw(b"36Y20240315    103000AOMAIN|AA2000123|AFBye|\r")]);
    let mut opts = options();
    opts.error_detection = false;
    opts.terminal_password = None;
    let mut client = Client::connect(&addr, opts).expect("connect");
    let end = client
        .end_session("2000123", None, now())
        .expect("end session");
    assert!(end.end_session);
    drop(client);
    assert_eq!(join(handle), ["3520240315    103000AOMAIN|AA2000123|\r"]);
}

#[test]
fn bad_field_values_are_refused_before_any_io() {
    let (addr, handle) = responder(vec![reply(ITEM_INFO)]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39|000", now());
    assert!(
        matches!(err, Err(Sip2Error::FieldValue { field: "AB", .. })),
        "{err:?}"
    );
    // The connection is still usable, and the sequence number unused.
    client.item_information("39000123", now()).expect("item");
    drop(client);
    let got = join(handle);
    assert_eq!(seq_of(got[0].as_bytes()), 0);
}

#[test]
fn closed_connection_is_an_io_error() {
    // Accepts, then closes without reading.
    let (addr, handle) = responder(vec![]);
    let mut client = Client::connect(&addr, options()).expect("connect");
    let err = client.item_information("39000123", now());
    assert!(matches!(err, Err(Sip2Error::Io(_))), "{err:?}");
    join(handle);
}
