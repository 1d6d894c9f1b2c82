#!/usr/bin/env python3
"""Smoke test of ils.py over a real socket, with hand-written SIP2 frames.

Stdlib only (the server itself needs pysip2): run with the venv's python,

    python tests/sip2/test_ils.py            # or: python -m unittest -v test_ils

Each test starts a fresh ils.py on library.json (state is in memory), so the
tests are independent. Every socket read and wait is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ILS = os.path.join(HERE, "ils.py")
LIBRARY = os.path.join(HERE, "library.json")
PYTHON = os.environ.get("ILS_PYTHON", sys.executable)

START_TIMEOUT = 15.0  # seconds to wait for "LISTENING <port>"
IO_TIMEOUT = 5.0  # seconds for any one response
STOP_TIMEOUT = 5.0

TS = "20261120    093000"  # transaction date sent by the "SC"
NB = "20261120    093000"  # nb due date (blanks also accepted, see PysipBehaviour)
DUE = "    235900"  # the ILS's due-date suffix

# Fixed-field widths after the two-character command id, per response.
FIXED = {"98": 34, "94": 1, "64": 59, "24": 35, "12": 22, "30": 22, "10": 22,
         "18": 24, "16": 20, "66": 27, "36": 19, "96": 0}


def checksum(data: str) -> str:
    """SIP2 checksum: two's complement of the 16-bit byte sum, 4 hex digits."""
    return f"{(-sum(data.encode('cp850'))) & 0xFFFF:04X}"


def frame(body: str, seq: int | None) -> bytes:
    """``body`` + AY/AZ trailer (when seq is not None) + CR."""
    if seq is None:
        return (body + "\r").encode("cp850")
    head = f"{body}AY{seq}AZ"
    return (head + checksum(head) + "\r").encode("cp850")


class Reply:
    """A parsed response frame."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        text = raw.decode("cp850")
        assert text.endswith("\r"), raw
        text = text[:-1]
        self.seq: int | None = None
        self.az: str | None = None
        if len(text) >= 6 and text[-6:-4] == "AZ":
            prefix = text[:-4]
            self.az = text[-4:]
            assert checksum(prefix) == self.az, f"bad reply checksum in {raw!r}"
            text = text[:-6]
            if len(text) >= 3 and text[-3:-1] == "AY":
                self.seq = int(text[-1])
                text = text[:-3]
        self.code = text[:2]
        width = FIXED[self.code]
        self.fixed = text[2 : 2 + width]
        self.fields: dict[str, list[str]] = {}
        rest = text[2 + width :]
        for part in rest.split("|")[:-1] if rest else []:
            self.fields.setdefault(part[:2], []).append(part[2:])

    def get(self, fid: str) -> str | None:
        vals = self.fields.get(fid)
        return vals[0] if vals else None

    def all(self, fid: str) -> list[str]:
        return self.fields.get(fid, [])

    def __repr__(self) -> str:
        return f"Reply({self.raw!r})"


class Server:
    """ils.py as a subprocess; stderr goes to a temp file (never an unread pipe)."""

    def __init__(self, library: str = LIBRARY, *extra: str) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [PYTHON, ILS, "--library", library, "--port", "0", *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
        )
        self.port = self._read_port()

    def _read_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise AssertionError(f"no LISTENING line in {START_TIMEOUT}s\n{self.stderr()}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 256)
                if not chunk:
                    self.stop()
                    raise AssertionError(f"ils.py exited before LISTENING\n{self.stderr()}")
                buf += chunk
        line, _, rest = buf.partition(b"\n")
        word, _, port = line.decode().partition(" ")
        assert word == "LISTENING" and port.isdigit() and not rest, buf
        return int(port)

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.proc.stdout.close()
        return self.proc.returncode

    def connect(self) -> Client:
        return Client(self.port)


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.buf = b""
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def read_reply(self) -> Reply:
        deadline = time.monotonic() + IO_TIMEOUT
        while b"\r" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no reply in {IO_TIMEOUT}s (have {self.buf!r})")
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"connection closed (have {self.buf!r})")
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\r")
        return Reply(raw + b"\r")

    def send_raw(self, data: bytes) -> Reply:
        self.sock.sendall(data)
        return self.read_reply()

    def send(self, body: str, seq: int | None = -1) -> Reply:
        """Send ``body`` with the next sequence number (or the given one / None)."""
        if seq == -1:
            seq = self.seq
            self.seq = (self.seq + 1) % 10
        reply = self.send_raw(frame(body, seq))
        if seq is not None:
            assert reply.seq == seq, f"AY {reply.seq} != {seq}: {reply}"
        else:
            assert reply.az is None, reply
        return reply

    def closed_by_peer(self) -> bool:
        self.sock.settimeout(IO_TIMEOUT)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


# -- request builders (hand-written frames) -----------------------------------

def patron_info(card: str, pin: str | None) -> str:
    ad = f"AD{pin}|" if pin is not None else ""
    return f"63000{TS}Y         AOPUSTAKA|AA{card}|AC|{ad}"


def renew(card: str, pin: str, barcode: str) -> str:
    return f"29NN{TS}{NB}AOPUSTAKA|AA{card}|AD{pin}|AB{barcode}|AC|"


def renew_all(card: str, pin: str) -> str:
    return f"65{TS}AOPUSTAKA|AA{card}|AD{pin}|AC|"


def hold(mode: str, card: str, pin: str, *, title: str | None = None,
         item: str | None = None, pickup: str | None = None) -> str:
    body = f"15{mode}{TS}"
    if pickup:
        body += f"BS{pickup}|"
    body += f"AOPUSTAKA|AA{card}|AD{pin}|"
    if item:
        body += f"AB{item}|"
    if title:
        body += f"AJ{title}|"
    return body + "AC|"


def checkout(card: str, pin: str, barcode: str) -> str:
    return f"11NN{TS}{NB}AOPUSTAKA|AA{card}|AB{barcode}|AC|AD{pin}|"


def checkin(barcode: str) -> str:
    return f"09N{TS}{TS}APSKW|AOPUSTAKA|AB{barcode}|AC|"


def item_info(barcode: str) -> str:
    return f"17{TS}AOPUSTAKA|AB{barcode}|AC|"


class ILSTestCase(unittest.TestCase):
    library = LIBRARY
    extra: tuple[str, ...] = ()

    def setUp(self) -> None:
        self.server = Server(self.library, *self.extra)
        self.client = self.server.connect()

    def tearDown(self) -> None:
        self.client.close()
        code = self.server.stop()
        # The result already holds this test's failure (unittest >= 3.11, via its
        # private _outcome); ILS_LOG=1 always dumps the server log.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = any(t is self for t, _ in getattr(result, "errors", []) + getattr(result, "failures", []))
        if failed or os.environ.get("ILS_LOG"):
            sys.stderr.write(f"\n--- ils.py stderr for {self.id()} ---\n{self.server.stderr()}\n")
        self.server.log.close()
        self.assertEqual(code, 0, "ils.py did not exit cleanly on SIGTERM")

    def send(self, body: str, seq: int | None = -1) -> Reply:
        return self.client.send(body, seq)


class StatusAndLogin(ILSTestCase):
    def test_spec_example_sc_status(self) -> None:
        # Literal frame from the SIP2 spec, checksum FCA5 written by hand.
        r = self.client.send_raw(b"9900302.00AY1AZFCA5\r")
        self.assertEqual(r.code, "98")
        self.assertEqual(r.seq, 1)
        f = r.fixed
        self.assertEqual(f[0:4], "YYYY")  # online, checkin, checkout, renewal policy
        self.assertEqual(f[12:30], "20261120    120000")  # date from "today"
        self.assertEqual(f[30:34], "2.00")
        self.assertEqual(r.get("AO"), "PUSTAKA")
        #            23 11 09 01 99 97 93 63 35 37 17 19 25 15 29 65
        self.assertEqual(r.get("BX"), "YYYNYYYYYNYNNYYY")

    def test_login_open(self) -> None:
        self.assertEqual(self.send("9300CNanyone|COwhatever|CPSKW|").fixed, "1")

    def test_bad_checksum_gets_96(self) -> None:
        r = self.client.send_raw(b"9900302.00AY1AZ0000\r")
        self.assertEqual(r.code, "96")
        self.assertIsNotNone(r.az)
        # The connection stays usable.
        self.assertEqual(self.send("9900302.00").code, "98")

    def test_no_error_detection(self) -> None:
        r = self.send("9900302.00", seq=None)
        self.assertEqual(r.code, "98")
        self.assertIsNone(r.az)

    def test_checksum_without_sequence(self) -> None:
        head = "9900302.00AZ"
        r = self.client.send_raw((head + checksum(head) + "\r").encode())
        self.assertEqual((r.code, r.seq), ("98", 0))

    def test_end_session(self) -> None:
        r = self.send(f"35{TS}AOPUSTAKA|AA1001|AC|AD1234|")
        self.assertEqual((r.code, r.fixed[0], r.get("AA")), ("36", "Y", "1001"))


class PysipBehaviour(ILSTestCase):
    """pysip2 behaviours a SIP2 client must know about."""

    def test_repeated_frame_is_replayed_not_reexecuted(self) -> None:
        body = frame(renew("1001", "1234", "C0001"), 3)
        first = self.client.send_raw(body)
        again = self.client.send_raw(body)  # same AY and AZ: a retransmission
        self.assertEqual(first.raw, again.raw)
        self.assertEqual(self.send(item_info("C0001")).get("AH"), "20261209" + DUE)

    def test_resend_97(self) -> None:
        first = self.send(item_info("C0001"))
        again = self.client.send_raw(b"97AZFEF5\r")
        self.assertEqual(first.raw, again.raw)

    def test_blank_nb_due_date_accepted(self) -> None:
        # pysip2 alone closes the connection; ils.py reads it as the transaction date.
        blank = " " * 18
        r = self.send(f"29NN{TS}{blank}AOPUSTAKA|AA1001|AD1234|ABC0001|AC|")
        self.assertEqual((r.fixed[0], r.get("AH")), ("1", "20261209" + DUE))
        r = self.send(f"11NN{TS}{blank}AOPUSTAKA|AA1001|ABC0005|AC|AD1234|", seq=None)
        self.assertEqual(r.fixed[0], "1")
        # A damaged checksum still gets 96, not a silently re-signed frame.
        bad = frame(f"29NN{TS}{blank}AOPUSTAKA|AA1001|AD1234|ABC0001|AC|", 5)[:-5] + b"0000\r"
        self.assertEqual(self.client.send_raw(bad).code, "96")

    def test_malformed_frame_closes_connection(self) -> None:
        # pysip2 validates every field; an invalid frame (09 without the
        # required AC) gets no reply and the connection is closed.
        self.client.sock.sendall(frame(f"09N{TS}{TS}APSKW|AOPUSTAKA|ABC0001|", 0))
        self.assertTrue(self.client.closed_by_peer())


class Login(ILSTestCase):
    extra = ("--user", "sc", "--password", "secret")

    def test_login_ok(self) -> None:
        self.assertEqual(self.send("9300CNsc|COsecret|CPSKW|").fixed, "1")
        self.assertEqual(self.send("9900302.00").code, "98")

    def test_login_refused_closes(self) -> None:
        self.assertEqual(self.send("9300CNsc|COwrong|CPSKW|").fixed, "0")
        self.assertTrue(self.client.closed_by_peer())

    def test_login_required_first(self) -> None:
        self.client.sock.sendall(frame("9900302.00", 0))
        self.assertTrue(self.client.closed_by_peer())


class PatronInformation(ILSTestCase):
    def test_valid_patron(self) -> None:
        r = self.send(patron_info("1001", "1234"))
        self.assertEqual(r.code, "64")
        self.assertEqual(r.fixed[0:14], " " * 14)
        self.assertEqual(r.fixed[14:17], "000")
        self.assertEqual(r.fixed[17:35], "20261120    120000")
        counts = [r.fixed[35 + 4 * i : 39 + 4 * i] for i in range(6)]
        # hold, overdue, charged, fine, recall, unavailable holds
        self.assertEqual(counts, ["0001", "0000", "0003", "0000", "0000", "0000"])
        self.assertEqual(r.get("AE"), "Siti Rahmawati")
        self.assertEqual((r.get("BL"), r.get("CQ"), r.get("BV")), ("Y", "Y", "0"))
        self.assertEqual(r.all("AU"), ["C0001", "C0002", "C0003"])
        self.assertEqual(r.all("AT"), [])
        self.assertEqual(r.all("AS"), ["T0004"])

    def test_wrong_pin(self) -> None:
        r = self.send(patron_info("1001", "9999"))
        self.assertEqual((r.get("BL"), r.get("CQ"), r.get("AE")), ("Y", "N", ""))
        self.assertEqual(r.all("AU"), [])
        self.assertEqual(r.get("AF"), "Invalid PIN")
        r = self.send(patron_info("1001", None))
        self.assertEqual(r.get("CQ"), "N")

    def test_unknown_patron(self) -> None:
        r = self.send(patron_info("9999", "1234"))
        self.assertEqual((r.get("BL"), r.get("CQ")), ("N", "N"))
        self.assertEqual(r.get("AF"), "Unknown patron")

    def test_blocked_patron(self) -> None:
        r = self.send(patron_info("1003", "1111"))
        self.assertEqual(r.fixed[0:14], "YY Y" + " " * 10)
        self.assertEqual((r.get("BL"), r.get("CQ"), r.get("AE")), ("Y", "Y", "Andi Wijaya"))

    def test_patron_status(self) -> None:
        r = self.send(f"23000{TS}AOPUSTAKA|AA1002|AC|AD4321|")
        self.assertEqual(r.code, "24")
        self.assertEqual((r.get("AE"), r.get("BL"), r.get("CQ")), ("Budi Santoso", "Y", "Y"))


class Renew(ILSTestCase):
    def test_renew_ok_twice_then_limit(self) -> None:
        r = self.send(renew("1001", "1234", "C0001"))
        self.assertEqual((r.code, r.fixed[0:2]), ("30", "1Y"))
        self.assertEqual(r.get("AH"), "20261209" + DUE)  # max(11-25, 11-20) + 14
        self.assertEqual(r.get("AJ"), "Laskar Pelangi")
        r = self.send(renew("1001", "1234", "C0001"))
        self.assertEqual(r.get("AH"), "20261223" + DUE)
        r = self.send(renew("1001", "1234", "C0001"))
        self.assertEqual(r.fixed[0:2], "0N")
        self.assertEqual(r.get("AF"), "Renewal limit reached")
        self.assertEqual(r.get("AH"), "20261223" + DUE)  # unchanged
        r = self.send(item_info("C0001"))
        self.assertEqual(r.get("AH"), "20261223" + DUE)

    def test_refused_at_limit(self) -> None:
        r = self.send(renew("1001", "1234", "C0002"))
        self.assertEqual(r.fixed[0:2], "0N")
        self.assertEqual(r.get("AF"), "Renewal limit reached")
        self.assertEqual(r.get("AH"), "20261122" + DUE)

    def test_refused_for_hold(self) -> None:
        r = self.send(renew("1001", "1234", "C0003"))
        self.assertEqual(r.fixed[0:2], "0N")
        self.assertEqual(r.get("AF"), "Item is on hold for another patron")

    def test_refused_other_cases(self) -> None:
        cases = [
            (renew("1001", "0000", "C0001"), "Invalid PIN"),
            (renew("9999", "1234", "C0001"), "Unknown patron"),
            (renew("1001", "1234", "C0004"), "Item is not on loan to this patron"),
            (renew("1001", "1234", "C0005"), "Item is not on loan to this patron"),
            (renew("1003", "1111", "C0001"), "Patron is blocked"),
        ]
        for body, why in cases:
            r = self.send(body)
            self.assertEqual((r.fixed[0:2], r.get("AF")), ("0N", why), body)
        self.assertIsNone(self.send(renew("1001", "0000", "C0001")).get("AH") or None)

    def test_renew_all(self) -> None:
        r = self.send(renew_all("1001", "1234"))
        self.assertEqual(r.code, "66")
        self.assertEqual(r.fixed[0:9], "100010002")
        self.assertEqual(r.all("BM"), ["C0001"])
        self.assertEqual(r.all("BN"), ["C0002", "C0003"])
        self.assertEqual(r.all("AF"), ["C0002: Renewal limit reached",
                                       "C0003: Item is on hold for another patron"])
        self.assertEqual(self.send(item_info("C0001")).get("AH"), "20261209" + DUE)

    def test_renew_all_refused(self) -> None:
        r = self.send(renew_all("1001", "0000"))
        self.assertEqual((r.fixed[0:9], r.get("AF")), ("000000000", "Invalid PIN"))
        r = self.send(renew_all("1003", "1111"))
        self.assertEqual(r.fixed[0], "0")
        self.assertEqual(r.get("AF"), "Patron is blocked")


class Holds(ILSTestCase):
    def test_place_and_cancel(self) -> None:
        r = self.send(hold("+", "1002", "4321", title="T0001", pickup="SKW"))
        self.assertEqual((r.code, r.fixed[0:2]), ("16", "1Y"))  # C0005 is on the shelf
        self.assertEqual((r.get("BR"), r.get("BS"), r.get("AJ")), ("1", "SKW", "T0001"))
        r = self.send(hold("+", "1002", "4321", title="T0001"))
        self.assertEqual(r.fixed[0], "0")
        self.assertEqual(r.get("AF"), "Patron already has a hold on this title")
        # The new hold now blocks 1001's renewal of the other copy.
        r = self.send(renew("1001", "1234", "C0001"))
        self.assertEqual(r.get("AF"), "Item is on hold for another patron")
        self.assertEqual(self.send(patron_info("1002", "4321")).all("AS"), ["T0003", "T0001"])
        r = self.send(hold("-", "1002", "4321", title="T0001"))
        self.assertEqual(r.fixed[0], "1")
        r = self.send(hold("-", "1002", "4321", title="T0001"))
        self.assertEqual((r.fixed[0], r.get("AF")), ("0", "No hold on this title"))
        self.assertEqual(self.send(renew("1001", "1234", "C0001")).fixed[0], "1")

    def test_place_by_item_unavailable(self) -> None:
        r = self.send(hold("+", "1002", "4321", item="C0002"))
        self.assertEqual(r.fixed[0:2], "1N")  # the only copy is on loan
        self.assertEqual((r.get("AJ"), r.get("BR"), r.get("BS")), ("T0002", "1", "SKW"))

    def test_queue_position(self) -> None:
        self.assertEqual(self.send(checkin("C0003")).fixed[0], "1")
        r = self.send(hold("+", "1001", "1234", title="T0003", pickup="SKW2"))
        self.assertEqual((r.fixed[0], r.get("BR")), ("1", "2"))

    def test_cancel_unblocks_renewal(self) -> None:
        self.assertEqual(self.send(hold("-", "1002", "4321", title="T0003")).fixed[0], "1")
        r = self.send(renew("1001", "1234", "C0003"))
        self.assertEqual((r.fixed[0:2], r.get("AH")), ("1Y", "20261214" + DUE))

    def test_refused(self) -> None:
        cases = [
            (hold("+", "1001", "1234", title="T0004"), "Patron already has a hold on this title"),
            (hold("+", "1003", "1111", title="T0001"), "Patron is blocked"),
            (hold("+", "1001", "1234", title="T9999"), "Unknown title"),
            (hold("+", "1001", "0000", title="T0001"), "Invalid PIN"),
        ]
        for body, why in cases:
            r = self.send(body)
            self.assertEqual((r.fixed[0], r.get("AF")), ("0", why), body)


class Circulation(ILSTestCase):
    def test_checkout_checkin_item_info(self) -> None:
        r = self.send(item_info("C0005"))
        self.assertEqual((r.code, r.fixed[0:2]), ("18", "03"))
        self.assertIsNone(r.get("AH"))
        self.assertEqual((r.get("AJ"), r.get("AQ"), r.get("CF")), ("Laskar Pelangi", "SKW2", "0"))
        r = self.send(checkout("1001", "1234", "C0005"))
        self.assertEqual((r.code, r.fixed[0]), ("12", "1"))
        self.assertEqual(r.get("AH"), "20261204" + DUE)
        self.assertEqual(r.get("AJ"), "Laskar Pelangi")
        r = self.send(item_info("C0005"))
        self.assertEqual((r.fixed[0:2], r.get("AH")), ("04", "20261204" + DUE))
        self.assertEqual(self.send(patron_info("1001", "1234")).fixed[43:47], "0004")
        r = self.send(checkin("C0005"))
        self.assertEqual((r.code, r.fixed[0], r.fixed[3]), ("10", "1", "N"))
        self.assertEqual(r.get("AQ"), "SKW2")
        self.assertEqual(self.send(item_info("C0005")).fixed[0:2], "03")

    def test_checkout_refused(self) -> None:
        cases = [
            (checkout("1002", "4321", "C0001"), "Item is already on loan"),
            (checkout("1001", "1234", "C0006"), "Item is on hold for another patron"),
            (checkout("1003", "1111", "C0005"), "Patron is blocked"),
            (checkout("1001", "1234", "X9999"), "Unknown item"),
            (checkout("1001", "0000", "C0005"), "Invalid PIN"),
        ]
        for body, why in cases:
            r = self.send(body)
            self.assertEqual((r.fixed[0], r.get("AF"), r.get("AH")), ("0", why, ""), body)

    def test_checkout_fills_own_hold(self) -> None:
        r = self.send(checkout("1002", "4321", "C0006"))
        self.assertEqual((r.fixed[0], r.get("AH")), ("1", "20261204" + DUE))
        self.assertEqual(self.send(patron_info("1002", "4321")).all("AS"), [])
        self.assertEqual(self.send(item_info("C0003")).get("CF"), "0")
        # With the hold filled, 1001 may renew C0003 again.
        self.assertEqual(self.send(renew("1001", "1234", "C0003")).fixed[0], "1")

    def test_checkin_alert_and_unknown(self) -> None:
        self.assertEqual(self.send(item_info("C0003")).get("CF"), "1")
        r = self.send(checkin("C0003"))
        self.assertEqual((r.fixed[0], r.fixed[3], r.get("AQ")), ("1", "Y", "SKW"))
        r = self.send(checkin("C0003"))  # again: not on loan, still ok
        self.assertEqual((r.fixed[0], r.all("AF")[0]), ("1", "Item was not on loan"))
        r = self.send(checkin("X9999"))
        self.assertEqual((r.fixed[0], r.get("AF")), ("0", "Unknown item"))
        r = self.send(item_info("X9999"))
        self.assertEqual((r.fixed[0:2], r.get("AF")), ("01", "Unknown item"))


class Overdue(ILSTestCase):
    """library.json with today moved to 2026-11-26: C0001 and C0002 overdue."""

    def setUp(self) -> None:
        with open(LIBRARY, encoding="utf-8") as f:
            doc = json.load(f)
        doc["today"] = "2026-11-26"
        fd, self.library = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        super().setUp()

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            os.unlink(self.library)

    def test_overdue_listed_and_renewed_from_today(self) -> None:
        r = self.send(patron_info("1001", "1234"))
        self.assertEqual(r.all("AT"), ["C0001", "C0002"])
        self.assertEqual(r.fixed[39:43], "0002")
        r = self.send(renew("1001", "1234", "C0001"))
        self.assertEqual(r.get("AH"), "20261210" + DUE)  # today + 14, not due + 14


class Shutdown(unittest.TestCase):
    def test_sigint_exits_cleanly(self) -> None:
        server = Server()
        try:
            client = server.connect()
            self.assertEqual(client.send("9900302.00").code, "98")
            client.close()
        finally:
            code = server.stop(signal.SIGINT)
            server.log.close()
        self.assertEqual(code, 0)

    def test_bad_library_fails_fast(self) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"today": "2026-11-20", "patrons": [], "items": [],
                       "loans": [{"card": "1", "barcode": "X", "due": "2026-01-01"}]}, f)
        try:
            proc = subprocess.run([PYTHON, ILS, "--library", f.name], capture_output=True,
                                  timeout=START_TIMEOUT, stdin=subprocess.DEVNULL)
        finally:
            os.unlink(f.name)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(b"unknown card", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
