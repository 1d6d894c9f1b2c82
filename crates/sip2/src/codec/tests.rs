use super::*;
use proptest::prelude::*;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .expect("valid test date")
}

fn now() -> NaiveDateTime {
    at(2024, 3, 15, 10, 30, 0)
}

fn enc(r: &Request, seq: Option<u8>) -> String {
    String::from_utf8(r.encode(seq).expect("encodes")).expect("ascii test frame")
}

// --- checksum -------------------------------------------------------------

#[test]
fn checksum_of_the_spec_checkin_example() {
    // The spec's example frame (its checkin has one date only). Worked by
    // hand: the bytes sum to 0x2F60, and 0x10000 - 0x2F60 = 0xD0A0. (Not
    // F4D2, which does not match these bytes.)
    let frame = b"09N19980821    085721APCertification Terminal Location|\
AOCertification Institute ID|ABCheckin Test Invalid Item|ACterminal password|AY2AZ";
    let sum = frame.iter().map(|&b| u32::from(b)).sum::<u32>();
    assert_eq!(sum & 0xFFFF, 0x2F60);
    assert_eq!(checksum(frame), 0xD0A0);
}

#[test]
fn checksum_matches_well_known_frames() {
    // Constants used by Koha and other SIP2 implementations.
    assert_eq!(checksum(b"97AZ"), 0xFEF5);
    assert_eq!(checksum(b"96AZ"), 0xFEF6);
    assert_eq!(checksum(b"9900302.00AY1AZ"), 0xFCA5);
    assert_eq!(checksum(b""), 0);
}

// --- encode ---------------------------------------------------------------

#[test]
fn encodes_login() {
    let r = Request::Login(LoginRequest {
        user: "user".into(),
        password: "pass".into(),
        location: Some("MAIN".into()),
    });
    assert_eq!(enc(&r, Some(0)), "9300CNuser|COpass|CPMAIN|AY0AZF60A\r");
    assert_eq!(enc(&r, None), "9300CNuser|COpass|CPMAIN|\r");
}

#[test]
fn encodes_sc_status() {
    let r = Request::ScStatus(ScStatusRequest::default());
    assert_eq!(enc(&r, Some(1)), "9900802.00AY1AZFCA0\r");
    let r = Request::ScStatus(ScStatusRequest {
        max_print_width: 30,
        ..ScStatusRequest::default()
    });
    assert_eq!(enc(&r, Some(1)), "9900302.00AY1AZFCA5\r");
    let bad = Request::ScStatus(ScStatusRequest {
        protocol_version: "2".into(),
        ..ScStatusRequest::default()
    });
    assert!(matches!(
        bad.encode(None),
        Err(Sip2Error::FieldValue { .. })
    ));
    let wide = Request::ScStatus(ScStatusRequest {
        max_print_width: 1000,
        ..ScStatusRequest::default()
    });
    assert!(matches!(
        wide.encode(None),
        Err(Sip2Error::FieldValue { .. })
    ));
}

#[test]
fn encodes_patron_information() {
    let mut p = PatronInformationRequest {
        language: 1,
        transaction_date: now(),
        summary: Summary::None,
        institution: "MAIN".into(),
        patron: "2000123".into(),
        terminal_password: Some("tpw".into()),
        patron_password: Some("pin".into()),
        start_item: None,
        end_item: None,
    };
    assert_eq!(
        enc(&Request::PatronInformation(p.clone()), Some(2)),
        "6300120240315    103000          AOMAIN|AA2000123|ACtpw|ADpin|AY2AZF000\r"
    );
    p.summary = Summary::ChargedItems;
    p.start_item = Some(1);
    p.end_item = Some(5);
    p.terminal_password = None;
    assert_eq!(
        enc(&Request::PatronInformation(p), None),
        "6300120240315    103000  Y       AOMAIN|AA2000123|ADpin|BP1|BQ5|\r"
    );
}

#[test]
fn encodes_checkin_with_checksum() {
    let r = Request::Checkin(CheckinRequest {
        no_block: false,
        transaction_date: now(),
        return_date: now(),
        current_location: "CENTRAL".into(),
        institution: "MAIN".into(),
        item: "39000111".into(),
        terminal_password: None,
        item_properties: None,
        cancel: None,
    });
    assert_eq!(
        enc(&r, Some(4)),
        "09N20240315    10300020240315    103000APCENTRAL|AOMAIN|AB39000111|AC|AY4AZEEA1\r"
    );
}

#[test]
fn encodes_renew_and_renew_all() {
    let r = Request::Renew(RenewRequest {
        third_party_allowed: false,
        no_block: false,
        transaction_date: now(),
        nb_due_date: None,
        institution: "MAIN".into(),
        patron: "2000123".into(),
        patron_password: Some("pin".into()),
        item: Some("39000111".into()),
        title: None,
        terminal_password: Some("tpw".into()),
        item_properties: None,
        fee_acknowledged: Some(false),
    });
    assert_eq!(
        enc(&r, None),
        "29NN20240315    103000                  AOMAIN|AA2000123|ADpin|AB39000111|ACtpw|BON|\r"
    );
    let r = Request::RenewAll(RenewAllRequest {
        transaction_date: now(),
        institution: "MAIN".into(),
        patron: "2000123".into(),
        patron_password: None,
        terminal_password: None,
        fee_acknowledged: Some(true),
    });
    assert_eq!(enc(&r, None), "6520240315    103000AOMAIN|AA2000123|BOY|\r");
}

#[test]
fn encodes_hold() {
    let r = Request::Hold(HoldRequest {
        mode: HoldMode::Add,
        transaction_date: now(),
        expiration: Some(at(2024, 6, 1, 0, 0, 0)),
        pickup_location: Some("BRANCH2".into()),
        hold_type: Some(HoldType::AnyCopyOfTitle),
        institution: "MAIN".into(),
        patron: "2000123".into(),
        patron_password: None,
        item: None,
        title: Some("b1234".into()),
        terminal_password: None,
        fee_acknowledged: None,
    });
    assert_eq!(
        enc(&r, None),
        "15+20240315    103000BW20240601    000000|BSBRANCH2|BY2|AOMAIN|AA2000123|AJb1234|\r"
    );
    let r = Request::Hold(HoldRequest {
        mode: HoldMode::Delete,
        transaction_date: now(),
        expiration: None,
        pickup_location: None,
        hold_type: None,
        institution: "MAIN".into(),
        patron: "2000123".into(),
        patron_password: Some("pin".into()),
        item: Some("39000777".into()),
        title: None,
        terminal_password: None,
        fee_acknowledged: None,
    });
    assert_eq!(
        enc(&r, None),
        "15-20240315    103000AOMAIN|AA2000123|ADpin|AB39000777|\r"
    );
}

#[test]
fn encodes_checkout_item_information_end_session() {
    let r = Request::Checkout(CheckoutRequest {
        sc_renewal_policy: true,
        no_block: false,
        transaction_date: now(),
        nb_due_date: None,
        institution: "MAIN".into(),
        patron: "2000123".into(),
        item: "39000111".into(),
        terminal_password: None,
        item_properties: None,
        patron_password: Some("pin".into()),
        fee_acknowledged: Some(false),
        cancel: Some(false),
    });
    assert_eq!(
        enc(&r, None),
        "11YN20240315    103000                  AOMAIN|AA2000123|AB39000111|AC|ADpin|BON|BIN|\r"
    );
    let r = Request::ItemInformation(ItemInformationRequest {
        transaction_date: now(),
        institution: "MAIN".into(),
        item: "39000123".into(),
        terminal_password: Some("tpw".into()),
    });
    assert_eq!(
        enc(&r, None),
        "1720240315    103000AOMAIN|AB39000123|ACtpw|\r"
    );
    let r = Request::EndPatronSession(EndPatronSessionRequest {
        transaction_date: now(),
        institution: "MAIN".into(),
        patron: "2000123".into(),
        terminal_password: None,
        patron_password: None,
    });
    assert_eq!(enc(&r, None), "3520240315    103000AOMAIN|AA2000123|\r");
}

#[test]
fn encodes_request_acs_resend() {
    assert_eq!(enc(&Request::RequestAcsResend, Some(7)), "97AZFEF5\r");
    assert_eq!(enc(&Request::RequestAcsResend, None), "97\r");
}

#[test]
fn refuses_field_values_that_break_the_frame() {
    for bad in ["a|b", "a\rb", "a\nb"] {
        let r = Request::Login(LoginRequest {
            user: "u".into(),
            password: bad.into(),
            location: None,
        });
        match r.encode(Some(0)) {
            Err(Sip2Error::FieldValue { field, .. }) => assert_eq!(field, "CO"),
            other => panic!("expected FieldValue, got {other:?}"),
        }
    }
    let r = Request::ScStatus(ScStatusRequest::default());
    assert!(matches!(
        r.encode(Some(10)),
        Err(Sip2Error::FieldValue { field: "AY", .. })
    ));
}

// --- dates ----------------------------------------------------------------

#[test]
fn formats_and_parses_dates() {
    assert_eq!(format_timestamp(now()), "20240315    103000");
    assert_eq!(parse_timestamp("20240315    103000"), Some(now()));
    assert_eq!(parse_timestamp("20240315   Z103000"), Some(now()));
    assert_eq!(parse_timestamp("20241315    103000"), None);
    assert_eq!(parse_timestamp("2024031"), None);
    let d = NaiveDate::from_ymd_opt(2024, 4, 15);
    assert_eq!(parse_date("20240415    235900"), d);
    assert_eq!(parse_date("20240415   Z235900"), d);
    assert_eq!(parse_date("20240415"), d);
    assert_eq!(parse_date(" 2024-04-15 "), d);
    assert_eq!(parse_date("2024-04-15T23:59:00"), d);
    assert_eq!(parse_date("2024-04-15 23:59"), d);
    assert_eq!(parse_date("20240431"), None);
    assert_eq!(parse_date("15/04/2024"), None);
    assert_eq!(parse_date(""), None);
    assert_eq!(parse_date("2024-04-15x"), None);
    assert_eq!(parse_date("20240415é"), None);
}

// --- decode ---------------------------------------------------------------

fn decoded(frame: &[u8]) -> Response {
    match decode(frame) {
        Ok(r) => r,
        Err(e) => panic!("{e} for {:?}", String::from_utf8_lossy(frame)),
    }
}

#[test]
fn decodes_login_with_trailer() {
    let f = decode_frame(b"941AY0AZFDFD\r").expect("valid");
    assert_eq!(f.sequence, Some(0));
    assert_eq!(f.checksum, Some(0xFDFD));
    assert_eq!(
        f.response,
        Response::Login(LoginResponse {
            ok: true,
            extra: vec![]
        })
    );
    assert_eq!(decoded(b"940"), Response::Login(LoginResponse::default()));
    assert_eq!(decoded(b"941\r\n"), decoded(b"941"));
}

#[test]
fn decodes_acs_status() {
    let Response::AcsStatus(s) = decoded(
        b"98YYYYNN10000320240315    1030002.00AOMAIN|AMPustaka Central|\
BXYYYYYYYYYNYNYYYY|AFWelcome|AY1AZE3B4\r",
    ) else {
        panic!("not an ACS status")
    };
    assert!(s.online && s.checkin_ok && s.checkout_ok && s.renewal_policy);
    assert!(!s.status_update_ok && !s.offline_ok);
    assert_eq!(s.timeout_period, Some(100));
    assert_eq!(s.retries_allowed, Some(3));
    assert_eq!(s.date_time_sync, now());
    assert_eq!(s.protocol_version, "2.00");
    assert_eq!(s.institution, "MAIN");
    assert_eq!(s.library_name.as_deref(), Some("Pustaka Central"));
    assert!(s.supports(SupportedMessage::Checkout));
    assert!(s.supports(SupportedMessage::Hold));
    assert!(!s.supports(SupportedMessage::ItemStatusUpdate));
    assert!(!s.supports(SupportedMessage::FeePaid));
    assert_eq!(s.screen_messages, ["Welcome"]);
}

#[test]
fn decodes_patron_information() {
    let Response::PatronInformation(p) = decoded(
        b"64  Y           00120240315    103000000200010003000000000001\
AOMAIN|AA2000123|AEAsih Wulandari|BZ0010|CA0005|CB0020|BLY|CQN|BHIDR|BV15000.00|\
AU39000111|AU39000222|AU39000333|AT39000111|AS39000444|AS39000555|CD39000666|\
BDJl. Merdeka 1|BEasih@example.org|BF0812345678|AFYou have 1 overdue item|\
AFSecond message|AGprint me|XZvendor|AAduplicate|\r",
    ) else {
        panic!("not patron information")
    };
    assert_eq!(p.patron_status, "  Y           ");
    assert!(p.recall_privileges_denied());
    assert!(!p.charge_privileges_denied() && !p.renewal_privileges_denied());
    assert!(!p.hold_privileges_denied() && !p.too_many_items_billed());
    assert_eq!(p.language, 1);
    assert_eq!(p.transaction_date, now());
    assert_eq!(p.hold_items_count, Some(2));
    assert_eq!(p.overdue_items_count, Some(1));
    assert_eq!(p.charged_items_count, Some(3));
    assert_eq!(p.fine_items_count, Some(0));
    assert_eq!(p.unavailable_holds_count, Some(1));
    assert_eq!(p.institution, "MAIN");
    assert_eq!(p.patron, "2000123");
    assert_eq!(p.personal_name, "Asih Wulandari");
    assert_eq!(p.hold_items_limit, Some(10));
    assert_eq!(p.overdue_items_limit, Some(5));
    assert_eq!(p.charged_items_limit, Some(20));
    assert_eq!(p.valid_patron, Some(true));
    assert_eq!(p.valid_patron_password, Some(false));
    assert_eq!(p.currency.as_deref(), Some("IDR"));
    assert_eq!(p.fee_amount.as_deref(), Some("15000.00"));
    assert_eq!(p.charged_items, ["39000111", "39000222", "39000333"]);
    assert_eq!(p.overdue_items, ["39000111"]);
    assert_eq!(p.hold_items, ["39000444", "39000555"]);
    assert_eq!(p.unavailable_hold_items, ["39000666"]);
    assert_eq!(p.home_address.as_deref(), Some("Jl. Merdeka 1"));
    assert_eq!(p.email.as_deref(), Some("asih@example.org"));
    assert_eq!(p.phone.as_deref(), Some("0812345678"));
    assert_eq!(
        p.screen_messages,
        ["You have 1 overdue item", "Second message"]
    );
    assert_eq!(p.print_lines, ["print me"]);
    assert_eq!(
        p.extra,
        [
            ("XZ".to_owned(), "vendor".to_owned()),
            ("AA".to_owned(), "duplicate".to_owned())
        ]
    );
}

#[test]
fn decodes_blank_counts_as_none() {
    let Response::PatronInformation(p) =
        decoded(b"64              00020240315    103000                        AOMAIN|AA1|AE|")
    else {
        panic!("not patron information")
    };
    assert_eq!(p.hold_items_count, None);
    assert_eq!(p.language, 0);
    assert_eq!(p.personal_name, "");
}

#[test]
fn decodes_renew() {
    let Response::Renew(r) = decoded(
        b"301YUN20240315    103000AOMAIN|AA2000123|AB39000111|AJThe pragmatic programmer|\
AH20240415    235900|BK123|CIN|AFRenewed|\r",
    ) else {
        panic!("not a renew response")
    };
    assert!(r.ok && r.renewal_ok);
    assert_eq!(r.magnetic_media, None);
    assert_eq!(r.desensitize, Some(false));
    assert_eq!(r.item, "39000111");
    assert_eq!(r.title.as_deref(), Some("The pragmatic programmer"));
    assert_eq!(r.due(), NaiveDate::from_ymd_opt(2024, 4, 15));
    assert_eq!(r.transaction_id.as_deref(), Some("123"));
    assert_eq!(r.security_inhibit, Some(false));
    assert_eq!(r.screen_messages, ["Renewed"]);
}

#[test]
fn decodes_renew_all() {
    let Response::RenewAll(r) = decoded(
        b"6610002000120240315    103000AOMAIN|BM39000111|BM39000222|BN39000333|\
AFOne item could not be renewed|",
    ) else {
        panic!("not a renew all response")
    };
    assert!(r.ok);
    assert_eq!(r.renewed_count, Some(2));
    assert_eq!(r.unrenewed_count, Some(1));
    assert_eq!(r.renewed_items, ["39000111", "39000222"]);
    assert_eq!(r.unrenewed_items, ["39000333"]);
    assert_eq!(r.screen_messages, ["One item could not be renewed"]);
}

#[test]
fn decodes_hold() {
    let Response::Hold(h) = decoded(
        b"161N20240315    103000BW20240601    000000|BR3|BSCENTRAL|AOMAIN|AA2000123|\
AB39000777|AJDilan 1990|AFHold placed|BRnot a number|",
    ) else {
        panic!("not a hold response")
    };
    assert!(h.ok && !h.available);
    assert_eq!(
        h.expiration_date.as_deref().and_then(parse_date),
        NaiveDate::from_ymd_opt(2024, 6, 1)
    );
    assert_eq!(h.queue_position, Some(3));
    assert_eq!(h.pickup_location.as_deref(), Some("CENTRAL"));
    assert_eq!(h.item.as_deref(), Some("39000777"));
    assert_eq!(h.title.as_deref(), Some("Dilan 1990"));
    assert_eq!(h.extra, [("BR".to_owned(), "not a number".to_owned())]);
}

#[test]
fn decodes_checkout() {
    let Response::Checkout(c) = decoded(
        b"121NUY20240315    103000AOMAIN|AA2000123|AB39000111|AJThe pragmatic programmer|\
AH2024-04-15|CK001|BHIDR|BV0.00|CIN|AFCheckout ok|\r",
    ) else {
        panic!("not a checkout response")
    };
    assert!(c.ok && !c.renewal_ok);
    assert_eq!((c.magnetic_media, c.desensitize), (None, Some(true)));
    assert_eq!(c.due(), NaiveDate::from_ymd_opt(2024, 4, 15));
    assert_eq!(c.media_type.as_deref(), Some("001"));
    assert_eq!(c.fee_amount.as_deref(), Some("0.00"));
    assert_eq!(c.screen_messages, ["Checkout ok"]);
    // A refusal is a response, not an error.
    let Response::Checkout(c) =
        decoded(b"120NUN20240315    103000AOMAIN|AA2000123|AB39000111|AJ|AH|AFItem on hold for another patron|")
    else {
        panic!("not a checkout response")
    };
    assert!(!c.ok);
    assert_eq!(c.due(), None);
}

#[test]
fn decodes_checkin() {
    let Response::Checkin(c) = decoded(
        b"101YNY20240315    103000AOMAIN|AB39000111|AQCENTRAL|AJThe pragmatic programmer|\
CL3|AA2000123|CK001|CV01|AFReturn to shelf|",
    ) else {
        panic!("not a checkin response")
    };
    assert!(c.ok && c.resensitize && c.alert);
    assert_eq!(c.magnetic_media, Some(false));
    assert_eq!(c.permanent_location.as_deref(), Some("CENTRAL"));
    assert_eq!(c.sort_bin.as_deref(), Some("3"));
    assert_eq!(c.patron.as_deref(), Some("2000123"));
    assert_eq!(c.alert_type.as_deref(), Some("01"));
}

#[test]
fn decodes_item_information() {
    let Response::ItemInformation(i) = decoded(
        b"1808020120240315    103000CF2|AH|CM20240320    000000|AB39000777|AJDilan 1990|\
BGMAIN|AQCENTRAL|APBRANCH2|CK001|",
    ) else {
        panic!("not item information")
    };
    assert_eq!(i.circulation_status, CirculationStatus::WaitingOnHoldShelf);
    assert_eq!((i.security_marker, i.fee_type), (2, 1));
    assert_eq!(i.hold_queue_length, Some(2));
    assert_eq!(i.due_date.as_deref(), Some(""));
    assert_eq!(i.due(), None);
    assert_eq!(
        i.hold_pickup_date.as_deref().and_then(parse_date),
        NaiveDate::from_ymd_opt(2024, 3, 20)
    );
    assert_eq!(i.owner.as_deref(), Some("MAIN"));
    assert_eq!(i.current_location.as_deref(), Some("BRANCH2"));

    for (code, status) in [
        (b"01", CirculationStatus::Other(1)),
        (b"03", CirculationStatus::Available),
        (b"13", CirculationStatus::Missing),
        (b"42", CirculationStatus::Other(42)),
    ] {
        let mut frame = b"18".to_vec();
        frame.extend_from_slice(code);
        frame.extend_from_slice(b"000120240315    103000AB1|");
        let Response::ItemInformation(i) = decoded(&frame) else {
            panic!("not item information")
        };
        assert_eq!(i.circulation_status, status);
        assert_eq!(i.circulation_status.code(), status.code());
    }
}

#[test]
fn decodes_end_session_and_resend() {
    let Response::EndSession(e) = decoded(b"36Y20240315    103000AOMAIN|AA2000123|AFGoodbye|")
    else {
        panic!("not an end session response")
    };
    assert!(e.end_session);
    assert_eq!(e.patron, "2000123");
    assert_eq!(decoded(b"96"), Response::RequestResend);
    assert_eq!(decoded(b"96AZFEF6\r"), Response::RequestResend);
}

#[test]
fn decodes_text_as_utf8_or_latin1() {
    let frame = "36Y20240315    103000AOMAIN|AEx|AFSelamat jalan, René|".as_bytes();
    let Response::EndSession(e) = decoded(frame) else {
        panic!()
    };
    assert_eq!(e.screen_messages, ["Selamat jalan, René"]);
    let Response::EndSession(e) = decoded(b"36Y20240315    103000AOMAIN|AFRen\xe9|") else {
        panic!()
    };
    assert_eq!(e.screen_messages, ["René"]);
}

#[test]
fn lenient_on_variable_fields() {
    // No pipe on the last field, empty pieces, a stray one-letter piece.
    let Response::EndSession(e) = decoded(b"36N20240315    103000AOMAIN||Z|AAp1") else {
        panic!()
    };
    assert_eq!(e.patron, "p1");
    assert_eq!(e.extra, [("Z".to_owned(), String::new())]);
}

#[test]
fn rejects_bad_checksums() {
    assert!(matches!(
        decode(b"941AY0AZFDFE\r"),
        Err(Sip2Error::Checksum {
            computed: 0xFDFD,
            ..
        })
    ));
    assert!(matches!(
        decode(b"941AY0AZFDGD"),
        Err(Sip2Error::Checksum { .. })
    ));
    assert!(matches!(
        decode(b"951AY0AZFDFD"),
        Err(Sip2Error::Checksum { .. })
    ));
    // Lowercase hex is accepted.
    assert!(decode(b"941AY0AZfdfd").is_ok());
}

#[test]
fn strict_fixed_part_names_message_and_field() {
    let what = |frame: &[u8]| match decode(frame) {
        Err(Sip2Error::Malformed { what }) => what,
        other => panic!("expected Malformed, got {other:?}"),
    };
    let w = what(b"121NUY20240315");
    assert!(
        w.contains("checkout response (12)") && w.contains("22 bytes"),
        "{w}"
    );
    let w = what(b"121XUY20240315    103000AOMAIN|");
    assert!(w.contains("renewal ok") && w.contains("Y or N"), "{w}");
    let w = what(b"302YUY20240315    103000AOMAIN|");
    assert!(
        w.contains("renew response (30)") && w.contains("0 or 1"),
        "{w}"
    );
    let w = what(b"36Y2024-03-15 10:30:00AOMAIN|");
    assert!(w.contains("transaction date"), "{w}");
    let w = what(b"18XX020120240315    103000AB1|");
    assert!(w.contains("circulation status"), "{w}");
    let w = what(b"9900802.00");
    assert!(w.contains("unsupported message identifier"), "{w}");
    let w = what(b"9");
    assert!(w.contains("identifier"), "{w}");
    let w = what(b"\r\n");
    assert!(w.contains("identifier"), "{w}");
}

// --- properties -------------------------------------------------------------

/// Valid frames to mutate.
const SEEDS: &[&[u8]] = &[
    b"941AY0AZFDFD\r",
    b"98YYYYNN10000320240315    1030002.00AOMAIN|AMPustaka Central|BXYYYYYYYYYNYNYYYY|AFWelcome|AY1AZE3B4\r",
    b"64  Y           00120240315    103000000200010003000000000001AOMAIN|AA2000123|AEAsih|BZ0010|BLY|AU1|AU2|\r",
    b"301YUN20240315    103000AOMAIN|AA2000123|AB39000111|AH20240415    235900|\r",
    b"6610002000120240315    103000AOMAIN|BM39000111|BN39000333|\r",
    b"161N20240315    103000BW20240601    000000|BR3|AOMAIN|AA2000123|\r",
    b"121NUY20240315    103000AOMAIN|AA2000123|AB39000111|AH2024-04-15|\r",
    b"101YNY20240315    103000AOMAIN|AB39000111|AQCENTRAL|\r",
    b"1808020120240315    103000CF2|AB39000777|AJDilan 1990|\r",
    b"36Y20240315    103000AOMAIN|AA2000123|AFGoodbye|\r",
    b"96AZFEF6\r",
];

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(frame: &mut Vec<u8>, m: &Mutation) {
    let n = frame.len();
    match *m {
        Mutation::Set(i, b) if n > 0 => frame[i % n] = b,
        Mutation::Insert(i, b) => frame.insert(i % (n + 1), b),
        Mutation::Remove(i) if n > 0 => {
            frame.remove(i % n);
        }
        Mutation::Truncate(i) => frame.truncate(i % (n + 1)),
        _ => {}
    }
}

proptest! {
    #[test]
    fn decode_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_frame(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_frames(
        seed in 0..SEEDS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut frame = SEEDS[seed].to_vec();
        for m in &mutations {
            apply(&mut frame, m);
        }
        let _ = decode_frame(&frame);
    }

    #[test]
    fn decode_never_panics_on_random_text_after_a_known_id(
        seed in 0..SEEDS.len(),
        tail in "[ -~é|\r]{0,80}",
    ) {
        let mut frame = SEEDS[seed][..2].to_vec();
        frame.extend_from_slice(tail.as_bytes());
        let _ = decode_frame(&frame);
    }

    #[test]
    fn encoded_frames_are_well_formed(
        patron in "\\PC{0,20}",
        pwd in proptest::option::of("\\PC{0,12}"),
        seq in proptest::option::of(0u8..10),
    ) {
        let r = Request::PatronInformation(PatronInformationRequest {
            language: 1,
            transaction_date: now(),
            summary: Summary::None,
            institution: "MAIN".into(),
            patron: patron.clone(),
            terminal_password: None,
            patron_password: pwd.clone(),
            start_item: None,
            end_item: None,
        });
        let clean = !patron.contains(['|', '\r', '\n'])
            && !pwd.as_deref().unwrap_or("").contains(['|', '\r', '\n']);
        match r.encode(seq) {
            Ok(frame) => {
                prop_assert!(clean);
                prop_assert_eq!(frame.iter().filter(|&&b| b == b'\r').count(), 1);
                prop_assert_eq!(frame.last(), Some(&b'\r'));
                if let Some(n) = seq {
                    let body = &frame[..frame.len() - 1];
                    let (head, digits) = body.split_at(body.len() - 4);
                    let sum = std::str::from_utf8(digits).ok().and_then(|d| u16::from_str_radix(d, 16).ok());
                    prop_assert_eq!(sum, Some(checksum(head)));
                    let trailer = format!("AY{n}AZ");
                    prop_assert!(head.ends_with(trailer.as_bytes()));
                }
            }
            Err(Sip2Error::FieldValue { .. }) => prop_assert!(!clean),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
