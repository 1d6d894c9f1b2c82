#!/usr/bin/env python3
"""A tiny in-memory integrated library system (ILS) speaking SIP2 2.00.

Test fixture for Pustaka: an ACS (the library side of SIP2) built on the PyPI
package ``pysip2==0.1.0`` (AnyIO TCP server + msgspec message models). All
state lives in memory, loaded once from a JSON file; nothing is written back.

Usage::

    python ils.py --library LIB.json [--host 127.0.0.1] [--port 0]
                  [--user U --password P]

The server binds (port 0 = any free port), prints exactly one line
``LISTENING <port>`` to stdout, flushes, and serves until SIGTERM or SIGINT,
on which it exits with status 0. Nothing else is ever written to stdout. Every
request and response frame is logged to stderr (redirect stderr to a file or
read it: an unread pipe fills up and stalls the server).

LIB.json (keys marked * are required, others show their default)::

    {
      "today": "2026-11-20",            * the ILS's date; the real clock is never used
      "institution": "PUSTAKA",           AO in responses
      "library_name": "Pustaka Test Library",   AM in the 98 status
      "loan_days": 14,                    checkout: due = today + loan_days
      "renew_days": 14,                   renew: due = max(due, today) + renew_days
      "max_renewals": 2,                  renewals allowed per loan
      "patrons": [                      *
        {"card": "1001", "pin": "1234", "name": "Siti Rahmawati", "blocked": false}
      ],
      "items": [                        *
        {"barcode": "C0001", "title_id": "T0001", "title": "Laskar Pelangi",
         "location": "SKW"}
      ],
      "loans": [{"card": "1001", "barcode": "C0001", "due": "2026-11-25", "renewals": 0}],
      "holds": [{"card": "1002", "title_id": "T0001", "pickup": "SKW"}]
    }

Holds are title-level; their order in "holds" is the queue order of each
title, and new holds join the end. A hold's "pickup" defaults to the location
of the title's first copy. Titles are the distinct title_id values of items.

Timestamps: every transaction date is ``<today>    120000``; due dates are sent
as ``YYYYMMDD    235900`` (SIP2 18-char form with a blank zone).

Rules (the ILS is the authority; English screen messages in AF):

* Patron check (63, 23, 29, 65, 15, 11): AA must be a known card and AD must
  equal its PIN (a missing AD counts as wrong, unless --trust-terminal). 63/23 answer BL/CQ instead of
  refusing, and withhold name, counts and lists when the PIN is wrong.
* 93 Login: with --user/--password, ok=1 only when CN/CO match, and login is
  then required first (any other message before it, or a failed login, closes
  the connection, as pysip2 does); without them any login gets ok=1.
* 99 -> 98: online, checkin/checkout/renewal Y, BX = the messages handled
  here: 23 11 09 99 97 93 63 35 17 15 29 65.
* 63 -> 64: BL/CQ, AE, counts, AU charged barcodes, AT overdue (due < today),
  AS held title ids (all holds; unavailable count 0000), BH IDR, BV 0. The
  summary field and BP/BQ are ignored: all three lists are always sent.
  Blocked patrons get patron status "YY Y" + 10 blanks (charge, renewal and
  hold privileges denied).
* 29 -> 30: refused (ok=0, renewal ok N, AF says why) for an unknown patron or
  wrong PIN, a blocked patron, an unknown item, an item not on loan to this
  patron, renewals >= max_renewals ("Renewal limit reached"), or any hold by
  another patron on the item's title ("Item is on hold for another patron").
  Else due = max(due, today) + renew_days, renewals + 1, ok=1, AH = new due.
  The item is AB, or (without AB) the patron's loan of title AJ.
* 65 -> 66: the 29 rule on each of the patron's loans; BM renewed, BN not
  renewed (one AF "<barcode>: <reason>" each). ok=0 when the patron check
  fails or the patron is blocked.
* 15 -> 16: '+' places a hold on title AJ (a title id, or an exact title) or
  on AB's title, pickup BS; refused for a blocked patron, an unknown title, or
  a hold the patron already has; BR = 1-based queue position. '-' removes the
  patron's hold (ok=0 if none); '*' changes its pickup to BS (ok=0 if none).
  available = Y when a copy of the title is not on loan. AJ = title id.
* 11 -> 12: refused for a blocked patron, an unknown item, an item already on
  loan, or when the first hold in the title's queue belongs to someone else.
  Else a loan due today + loan_days (AH); the patron's own hold on the title is
  filled (removed).
* 09 -> 10: closes the loan; ok=1 for any known item (AF notes when it was not
  on loan), ok=0 for an unknown one; AQ location; alert Y when the title has
  holds.
* 17 -> 18: circulation status 04 charged (with AH due) or 03 available (01
  for an unknown item); CF hold queue length; AJ title; AQ/AP location.
* 23 -> 24 patron status (like 63 without lists); 35 -> 36 end session Y.
* In 12/10/18/30, AJ is the human-readable title; in 15/16 and AS it is the
  title id.

Error detection (AY/AZ) is pysip2's: a request with a valid AZ checksum gets a
checksummed reply echoing its AY; a bad checksum gets "96AZxxxx"; a request
without AZ gets a reply without a trailer; a request equal (same AY and AZ) to
the previous one gets the previous reply again without being re-executed.
pysip2 validates every fixed field and closes the connection, without a reply,
on a malformed frame; the one leniency added here: an all-blank nb due date in
11/29 is read as the transaction date.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import anyio
import msgspec

import pysip2
from pysip2 import (
    CHECKIN,
    CHECKOUT,
    END_PATRON_SESSION,
    HOLD,
    ITEM_INFORMATION,
    LOGIN,
    PATRON_INFORMATION,
    PATRON_STATUS,
    RENEW,
    RENEW_ALL,
    SC_STATUS,
    CheckinRequest,
    CheckinResponse,
    CheckoutRequest,
    CheckoutResponse,
    EndPatronSessionRequest,
    EndSessionResponse,
    HoldRequest,
    HoldResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    PatronInformationRequest,
    PatronInformationResponse,
    PatronStatusRequest,
    PatronStatusResponse,
    RenewAllRequest,
    RenewAllResponse,
    RenewRequest,
    RenewResponse,
    RequestContext,
    SCStatusRequest,
    SIP2Server,
    calculate_checksum,
    encode_message,
    verify_checksum,
)

LOG = logging.getLogger("ils")

BLOCKED_STATUS = "YY Y" + " " * 10  # charge, renewal, hold privileges denied
CLEAR_STATUS = " " * 14

LIBRARY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["today", "patrons", "items"],
    "additionalProperties": False,
    "properties": {
        "today": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "institution": {"type": "string", "minLength": 1},
        "library_name": {"type": "string"},
        "loan_days": {"type": "integer", "minimum": 0},
        "renew_days": {"type": "integer", "minimum": 0},
        "max_renewals": {"type": "integer", "minimum": 0},
        "patrons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["card", "pin", "name"],
                "additionalProperties": False,
                "properties": {
                    "card": {"type": "string", "minLength": 1},
                    "pin": {"type": "string"},
                    "name": {"type": "string"},
                    "blocked": {"type": "boolean"},
                },
            },
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["barcode", "title_id", "title", "location"],
                "additionalProperties": False,
                "properties": {
                    "barcode": {"type": "string", "minLength": 1},
                    "title_id": {"type": "string", "minLength": 1},
                    "title": {"type": "string"},
                    "location": {"type": "string"},
                },
            },
        },
        "loans": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["card", "barcode", "due"],
                "additionalProperties": False,
                "properties": {
                    "card": {"type": "string"},
                    "barcode": {"type": "string"},
                    "due": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "renewals": {"type": "integer", "minimum": 0},
                },
            },
        },
        "holds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["card", "title_id"],
                "additionalProperties": False,
                "properties": {
                    "card": {"type": "string"},
                    "title_id": {"type": "string"},
                    "pickup": {"type": "string"},
                },
            },
        },
    },
}


class LibraryError(ValueError):
    """The library JSON is malformed or inconsistent."""


# --------------------------------------------------------------------------
# The ILS proper: plain data and rules, no SIP2
# --------------------------------------------------------------------------


@dataclass
class Patron:
    card: str
    pin: str
    name: str
    blocked: bool = False


@dataclass
class Item:
    barcode: str
    title_id: str
    title: str
    location: str


@dataclass
class Loan:
    card: str
    barcode: str
    due: date
    renewals: int = 0


@dataclass
class Hold:
    card: str
    title_id: str
    pickup: str


@dataclass
class ILS:
    today: date
    institution: str = "PUSTAKA"
    library_name: str = "Pustaka Test Library"
    loan_days: int = 14
    renew_days: int = 14
    max_renewals: int = 2
    patrons: dict[str, Patron] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)  # JSON order kept
    loans: dict[str, Loan] = field(default_factory=dict)  # by barcode, JSON order kept
    holds: list[Hold] = field(default_factory=list)  # queue order
    # --trust-terminal: a request without AD is taken on the terminal's word
    # (the SC checked the patron itself, as Pustaka's server does with its
    # own PIN check); a wrong AD is still refused.
    trust_terminal: bool = False
    # --follow-clock: "today" is the date of each request's transaction date
    # (the SC's clock, e.g. a test's manual clock), not the JSON's.
    follow_clock: bool = False

    # -- loading -------------------------------------------------------------

    @classmethod
    def from_json(cls, doc: Any) -> ILS:
        try:
            import jsonschema
        except ImportError:  # pragma: no cover - the venv has it
            jsonschema = None
        if jsonschema is not None:
            errors = sorted(
                jsonschema.Draft202012Validator(LIBRARY_SCHEMA).iter_errors(doc),
                key=lambda e: list(e.path),
            )
            if errors:
                raise LibraryError(
                    "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors)
                )
        elif not isinstance(doc, dict) or "today" not in doc:
            raise LibraryError("library must be an object with 'today', 'patrons', 'items'")

        def day(text: str, where: str) -> date:
            try:
                return date.fromisoformat(text)
            except ValueError as exc:
                raise LibraryError(f"{where}: bad date {text!r}") from exc

        ils = cls(
            today=day(doc["today"], "today"),
            institution=doc.get("institution", "PUSTAKA"),
            library_name=doc.get("library_name", "Pustaka Test Library"),
            loan_days=doc.get("loan_days", 14),
            renew_days=doc.get("renew_days", 14),
            max_renewals=doc.get("max_renewals", 2),
        )
        for p in doc.get("patrons", []):
            if p["card"] in ils.patrons:
                raise LibraryError(f"duplicate patron card {p['card']}")
            ils.patrons[p["card"]] = Patron(p["card"], p["pin"], p["name"], p.get("blocked", False))
        titles: dict[str, str] = {}
        for i in doc.get("items", []):
            if i["barcode"] in ils.items:
                raise LibraryError(f"duplicate item barcode {i['barcode']}")
            if titles.setdefault(i["title_id"], i["title"]) != i["title"]:
                raise LibraryError(f"title {i['title_id']} has two different titles")
            ils.items[i["barcode"]] = Item(i["barcode"], i["title_id"], i["title"], i["location"])
        for n, loan in enumerate(doc.get("loans", [])):
            if loan["card"] not in ils.patrons:
                raise LibraryError(f"loans/{n}: unknown card {loan['card']}")
            if loan["barcode"] not in ils.items:
                raise LibraryError(f"loans/{n}: unknown barcode {loan['barcode']}")
            if loan["barcode"] in ils.loans:
                raise LibraryError(f"loans/{n}: item {loan['barcode']} is already on loan")
            ils.loans[loan["barcode"]] = Loan(
                loan["card"], loan["barcode"], day(loan["due"], f"loans/{n}/due"),
                loan.get("renewals", 0),
            )
        for n, h in enumerate(doc.get("holds", [])):
            if h["card"] not in ils.patrons:
                raise LibraryError(f"holds/{n}: unknown card {h['card']}")
            if h["title_id"] not in titles:
                raise LibraryError(f"holds/{n}: unknown title {h['title_id']}")
            if ils.hold_of(h["card"], h["title_id"]) is not None:
                raise LibraryError(f"holds/{n}: duplicate hold")
            pickup = h.get("pickup") or ils.copies(h["title_id"])[0].location
            ils.holds.append(Hold(h["card"], h["title_id"], pickup))
        return ils

    @classmethod
    def load(cls, path: str) -> ILS:
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except json.JSONDecodeError as exc:
                raise LibraryError(f"{path}: {exc}") from exc
        return cls.from_json(doc)

    # -- formatting ----------------------------------------------------------

    def stamp(self) -> str:
        """Transaction timestamp: today at noon, never the real clock."""
        return self.today.strftime("%Y%m%d") + "    120000"

    @staticmethod
    def due_stamp(d: date) -> str:
        return d.strftime("%Y%m%d") + "    235900"

    # -- queries -------------------------------------------------------------

    def title_of(self, title_id: str) -> str | None:
        copies = self.copies(title_id)
        return copies[0].title if copies else None

    def copies(self, title_id: str) -> list[Item]:
        return [i for i in self.items.values() if i.title_id == title_id]

    def resolve_title(self, ref: str) -> str | None:
        """A title id from a title id or an exact title text."""
        if self.copies(ref):
            return ref
        for i in self.items.values():
            if i.title == ref:
                return i.title_id
        return None

    def available(self, title_id: str) -> bool:
        return any(i.barcode not in self.loans for i in self.copies(title_id))

    def queue(self, title_id: str) -> list[Hold]:
        return [h for h in self.holds if h.title_id == title_id]

    def hold_of(self, card: str, title_id: str) -> Hold | None:
        for h in self.holds:
            if h.card == card and h.title_id == title_id:
                return h
        return None

    def loans_of(self, card: str) -> list[Loan]:
        return [loan for loan in self.loans.values() if loan.card == card]

    def holds_of(self, card: str) -> list[Hold]:
        return [h for h in self.holds if h.card == card]

    def check_patron(self, card: str, pin: str | None) -> tuple[Patron | None, str | None]:
        """(patron, None) when card and PIN are right, else (patron or None, reason)."""
        patron = self.patrons.get(card)
        if patron is None:
            return None, "Unknown patron"
        if pin is None and self.trust_terminal:
            return patron, None
        if pin is None or pin != patron.pin:
            return patron, "Invalid PIN"
        return patron, None

    # -- rules ---------------------------------------------------------------

    def renew(self, patron: Patron, barcode: str) -> str | None:
        """Apply the renew rule to one item; None on success, else the reason."""
        if patron.blocked:
            return "Patron is blocked"
        item = self.items.get(barcode)
        if item is None:
            return "Unknown item"
        loan = self.loans.get(barcode)
        if loan is None or loan.card != patron.card:
            return "Item is not on loan to this patron"
        if loan.renewals >= self.max_renewals:
            return "Renewal limit reached"
        if any(h.card != patron.card for h in self.queue(item.title_id)):
            return "Item is on hold for another patron"
        loan.due = max(loan.due, self.today) + timedelta(days=self.renew_days)
        loan.renewals += 1
        return None


# --------------------------------------------------------------------------
# SIP2 glue
# --------------------------------------------------------------------------


class _LoggingStream:
    """Wraps a pysip2 connection stream to log every frame it sends."""

    def __init__(self, inner: Any, peer: object) -> None:
        self._inner = inner
        self._peer = peer

    async def send(self, data: bytes) -> None:
        LOG.info("%s >> %s", _peer(self._peer), _show(data))
        await self._inner.send(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _peer(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def _show(frame: bytes) -> str:
    return frame.decode("cp850", "replace").replace("\r", "\\r").replace("\n", "\\n")


def fill_blank_nb_due_date(frame: bytes) -> bytes | None:
    """A copy of an 11/29 frame whose blank nb due date is set to its
    transaction date (re-signed if it had a valid checksum), else None.

    Layout: command id (2), two flags (2), transaction date [4:22], nb due
    date [22:40]. pysip2 rejects 18 blanks there by closing the connection;
    ACSs such as Koha accept them, and Pustaka's client sends them.
    """
    if frame[:2] not in (b"11", b"29") or frame[22:40] != b" " * 18:
        return None
    body = frame[:-1]
    fixed = body[:22] + body[4:22] + body[40:]
    if len(body) >= 6 and body[-6:-4] == b"AZ":
        if not verify_checksum(body):
            return None  # let pysip2 answer 96
        prefix = fixed[:-4]
        return prefix + calculate_checksum(prefix).encode("ascii") + b"\r"
    return fixed + b"\r"


class LoggingSIP2Server(SIP2Server):
    """pysip2's server plus frame logging and two fixes (see README).

    Overrides two private hooks of pysip2 0.1.0 (pinned):
    * ``_process_frame``: logs each request frame and wraps the stream so that
      every reply (including 96 and resend replays) is logged; a blank nb due
      date in 11/29 is read as the transaction date (pysip2 dropped the
      connection);
    * ``_write_response``: a request carrying AZ but no AY made pysip2 raise
      while encoding the reply and drop the connection; such a request is
      answered with sequence number 0.
    """

    ils: ILS | None = None

    async def _process_frame(self, stream: Any, state: Any, frame: bytes) -> None:
        LOG.info("%s << %s", _peer(state.peer), _show(frame))
        if self.ils is not None and self.ils.follow_clock:
            # The first SIP2 timestamp in the fixed part is the transaction date.
            m = re.search(rb"(\d{8})[ A-Z0-9]{4}\d{6}", frame[2:26])
            if m is not None:
                try:
                    self.ils.today = date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:8]))
                except ValueError:
                    pass
        fixed = fill_blank_nb_due_date(frame)
        if fixed is not None:
            LOG.info("%s    blank nb due date read as the transaction date", _peer(state.peer))
            frame = fixed
        await super()._process_frame(_LoggingStream(stream, state.peer), state, frame)

    async def _write_response(self, stream: Any, state: Any, decoded: Any, response: Any) -> None:
        if decoded.checksum is not None and decoded.sequence_number is None:
            frame = encode_message(
                response, sequence_number=0, checksum=True,
                encoding=self.encoding, field_delimiter=self.field_delimiter,
            )
            await self._send(stream, state, frame)
            return
        await super()._write_response(stream, state, decoded, response)


def build_server(ils: ILS, user: str | None = None, password: str | None = None) -> SIP2Server:
    creds = user is not None
    server = LoggingSIP2Server(
        institution_id=ils.institution,
        library_name=ils.library_name,
        login_required=creds,
        logger=logging.getLogger("pysip2"),
    )
    server.ils = ils
    # pysip2's fallback (error) responses stamp the real clock; use the ILS date.
    RequestContext.now_18 = lambda self: ils.stamp()  # type: ignore[method-assign]

    def patron_view(patron: Patron | None, why: str | None) -> tuple[str, str, str, str]:
        """(status flags, BL, CQ, name) as 63/23 show them."""
        if patron is None:
            return CLEAR_STATUS, "N", "N", ""
        status = BLOCKED_STATUS if patron.blocked else CLEAR_STATUS
        if why is not None:
            return status, "Y", "N", ""
        return status, "Y", "Y", patron.name

    @server.route(LOGIN)
    async def login(req: LoginRequest, ctx: RequestContext) -> LoginResponse:
        if not creds:
            return LoginResponse(ok="1")
        ok = req.login_user_id == user and req.login_password == password
        return LoginResponse(ok="1" if ok else "0")

    @server.route(SC_STATUS)
    async def sc_status(req: SCStatusRequest, ctx: RequestContext):
        status = ctx.server.build_acs_status(req)
        return msgspec.structs.replace(status, date_time_sync=ils.stamp())

    @server.route(PATRON_INFORMATION)
    async def patron_information(
        req: PatronInformationRequest, ctx: RequestContext
    ) -> PatronInformationResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        status, bl, cq, name = patron_view(patron, why)
        messages: list[str] = []
        charged: list[str] = []
        overdue: list[str] = []
        held: list[str] = []
        if why is not None:
            messages.append(why)
        elif patron is not None:
            loans = ils.loans_of(patron.card)
            charged = [loan.barcode for loan in loans]
            overdue = [loan.barcode for loan in loans if loan.due < ils.today]
            held = [h.title_id for h in ils.holds_of(patron.card)]
            if patron.blocked:
                messages.append("Patron is blocked")
        return PatronInformationResponse(
            patron_status=status,
            language=req.language,
            transaction_date=ils.stamp(),
            hold_items_count=f"{len(held):04d}",
            overdue_items_count=f"{len(overdue):04d}",
            charged_items_count=f"{len(charged):04d}",
            fine_items_count="0000",
            recall_items_count="0000",
            unavailable_holds_count="0000",
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
            personal_name=name,
            valid_patron=bl,
            valid_patron_password=cq,
            currency_type="IDR",
            fee_amount="0",
            hold_items=tuple(held),
            overdue_items=tuple(overdue),
            charged_items=tuple(charged),
            screen_message=tuple(messages),
        )

    @server.route(PATRON_STATUS)
    async def patron_status(req: PatronStatusRequest, ctx: RequestContext) -> PatronStatusResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        status, bl, cq, name = patron_view(patron, why)
        messages = [why] if why else (["Patron is blocked"] if patron and patron.blocked else [])
        return PatronStatusResponse(
            patron_status=status,
            language=req.language,
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
            personal_name=name,
            valid_patron=bl,
            valid_patron_password=cq,
            currency_type="IDR",
            fee_amount="0",
            screen_message=tuple(messages),
        )

    @server.route(END_PATRON_SESSION)
    async def end_session(req: EndPatronSessionRequest, ctx: RequestContext) -> EndSessionResponse:
        return EndSessionResponse(
            end_session="Y",
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
        )

    @server.route(RENEW)
    async def renew(req: RenewRequest, ctx: RequestContext) -> RenewResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        authed = why is None and patron is not None
        barcode = req.item_identifier
        if authed and patron is not None:
            if not barcode and req.title_identifier:
                tid = ils.resolve_title(req.title_identifier)
                own_loans = [
                    loan for loan in ils.loans_of(patron.card)
                    if ils.items[loan.barcode].title_id == tid
                ]
                barcode = own_loans[0].barcode if own_loans else None
            why = ils.renew(patron, barcode) if barcode else "Item is not on loan to this patron"
        item = ils.items.get(barcode or "")
        loan = ils.loans.get(barcode or "")
        # The current (or new) due date, shown only to the borrower.
        mine = authed and loan is not None and loan.card == req.patron_identifier
        ok = why is None
        return RenewResponse(
            ok="1" if ok else "0",
            renewal_ok="Y" if ok else "N",
            magnetic_media="N",
            desensitize="N",
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
            item_identifier=barcode or "",
            title_identifier=item.title if item else (req.title_identifier or ""),
            due_date=ils.due_stamp(loan.due) if mine and loan else "",
            screen_message=(
                (f"Renewed until {loan.due.isoformat()}",) if ok and loan else (why or "",)
            ),
        )

    @server.route(RENEW_ALL)
    async def renew_all(req: RenewAllRequest, ctx: RequestContext) -> RenewAllResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        renewed: list[str] = []
        unrenewed: list[str] = []
        messages: list[str] = []
        if why is not None or patron is None:
            messages.append(why or "Unknown patron")
        else:
            if patron.blocked:
                messages.append("Patron is blocked")
            for loan in ils.loans_of(patron.card):
                reason = ils.renew(patron, loan.barcode)
                if reason is None:
                    renewed.append(loan.barcode)
                else:
                    unrenewed.append(loan.barcode)
                    if not patron.blocked:
                        messages.append(f"{loan.barcode}: {reason}")
        ok = why is None and patron is not None and not patron.blocked
        return RenewAllResponse(
            ok="1" if ok else "0",
            renewed_count=f"{len(renewed):04d}",
            unrenewed_count=f"{len(unrenewed):04d}",
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            renewed_items=tuple(renewed),
            unrenewed_items=tuple(unrenewed),
            screen_message=tuple(messages),
        )

    @server.route(HOLD)
    async def hold(req: HoldRequest, ctx: RequestContext) -> HoldResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        title_id: str | None = None
        if req.title_identifier:
            title_id = ils.resolve_title(req.title_identifier)
        elif req.item_identifier and req.item_identifier in ils.items:
            title_id = ils.items[req.item_identifier].title_id
        queue_position: str | None = None
        pickup: str | None = None
        message = ""
        if why is None and patron is not None:
            current = ils.hold_of(patron.card, title_id) if title_id else None
            if req.hold_mode == "+":
                if patron.blocked:
                    why = "Patron is blocked"
                elif title_id is None:
                    why = "Unknown title"
                elif current is not None:
                    why = "Patron already has a hold on this title"
                else:
                    pickup = req.pickup_location or ils.copies(title_id)[0].location
                    ils.holds.append(Hold(patron.card, title_id, pickup))
                    queue_position = str(len(ils.queue(title_id)))
                    message = f"Hold placed, queue position {queue_position}"
            elif title_id is None:
                why = "Unknown title"
            elif current is None:
                why = "No hold on this title"
            elif req.hold_mode == "-":
                ils.holds.remove(current)
                message = "Hold cancelled"
            else:  # '*': modify the pickup location
                if req.pickup_location:
                    current.pickup = req.pickup_location
                pickup = current.pickup
                queue_position = str(ils.queue(title_id).index(current) + 1)
                message = "Hold updated"
        ok = why is None
        return HoldResponse(
            ok="1" if ok else "0",
            available="Y" if title_id and ils.available(title_id) else "N",
            transaction_date=ils.stamp(),
            queue_position=queue_position,
            pickup_location=pickup,
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
            item_identifier=req.item_identifier,
            title_identifier=title_id or req.title_identifier,
            screen_message=(message if ok else why or "",),
        )

    @server.route(CHECKOUT)
    async def checkout(req: CheckoutRequest, ctx: RequestContext) -> CheckoutResponse:
        patron, why = ils.check_patron(req.patron_identifier, req.patron_password)
        item = ils.items.get(req.item_identifier)
        if why is None and patron is not None:
            if patron.blocked:
                why = "Patron is blocked"
            elif item is None:
                why = "Unknown item"
            elif item.barcode in ils.loans:
                why = "Item is already on loan"
            else:
                q = ils.queue(item.title_id)
                if q and q[0].card != patron.card:
                    why = "Item is on hold for another patron"
        loan = None
        if why is None and patron is not None and item is not None:
            loan = Loan(patron.card, item.barcode, ils.today + timedelta(days=ils.loan_days))
            ils.loans[item.barcode] = loan
            own = ils.hold_of(patron.card, item.title_id)
            if own is not None:
                ils.holds.remove(own)
        return CheckoutResponse(
            ok="1" if loan else "0",
            renewal_ok="N",
            magnetic_media="N",
            desensitize="Y" if loan else "N",
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            patron_identifier=req.patron_identifier,
            item_identifier=req.item_identifier,
            title_identifier=item.title if item else "",
            due_date=ils.due_stamp(loan.due) if loan else "",
            screen_message=(
                (f"Due {loan.due.isoformat()}",) if loan else (why or "",)
            ),
        )

    @server.route(CHECKIN)
    async def checkin(req: CheckinRequest, ctx: RequestContext) -> CheckinResponse:
        item = ils.items.get(req.item_identifier)
        if item is None:
            return CheckinResponse(
                ok="0", resensitize="N", magnetic_media="N", alert="N",
                transaction_date=ils.stamp(), institution_id=ils.institution,
                item_identifier=req.item_identifier, permanent_location="",
                screen_message=("Unknown item",),
            )
        loan = ils.loans.pop(item.barcode, None)
        queue = ils.queue(item.title_id)
        messages = [] if loan else ["Item was not on loan"]
        if queue:
            messages.append(f"Hold for patron {queue[0].card}: send to {queue[0].pickup}")
        return CheckinResponse(
            ok="1",
            resensitize="Y",
            magnetic_media="N",
            alert="Y" if queue else "N",
            transaction_date=ils.stamp(),
            institution_id=ils.institution,
            item_identifier=item.barcode,
            permanent_location=item.location,
            title_identifier=item.title,
            patron_identifier=loan.card if loan else None,
            screen_message=tuple(messages),
        )

    @server.route(ITEM_INFORMATION)
    async def item_information(
        req: ItemInformationRequest, ctx: RequestContext
    ) -> ItemInformationResponse:
        item = ils.items.get(req.item_identifier)
        if item is None:
            return ItemInformationResponse(
                circulation_status="01", security_marker="00", fee_type="01",
                transaction_date=ils.stamp(), item_identifier=req.item_identifier,
                title_identifier="", screen_message=("Unknown item",),
            )
        loan = ils.loans.get(item.barcode)
        return ItemInformationResponse(
            circulation_status="04" if loan else "03",
            security_marker="00",
            fee_type="01",
            transaction_date=ils.stamp(),
            hold_queue_length=str(len(ils.queue(item.title_id))),
            due_date=ils.due_stamp(loan.due) if loan else None,
            item_identifier=item.barcode,
            title_identifier=item.title,
            permanent_location=item.location,
            current_location=item.location,
        )

    return server


async def serve(ils: ILS, host: str, port: int, user: str | None, password: str | None) -> None:
    server = build_server(ils, user, password)
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with server.start(host, port) as bound:
            LOG.info(
                "ILS %s (today %s) on %s:%s, login %s",
                ils.institution, ils.today.isoformat(), host, bound,
                "required" if user is not None else "not required",
            )
            sys.stdout.write(f"LISTENING {bound}\n")
            sys.stdout.flush()
            async for signum in signals:
                LOG.info("signal %s: shutting down", signal.Signals(signum).name)
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="library JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--user", help="SIP2 login user (CN); requires --password")
    parser.add_argument("--password", help="SIP2 login password (CO)")
    parser.add_argument("--follow-clock", action="store_true",
                        help="take today from each request's transaction date")
    parser.add_argument("--trust-terminal", action="store_true",
                        help="accept requests without a patron password (AD): the terminal vouches")
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        ils = ILS.load(args.library)
        ils.trust_terminal = args.trust_terminal
        ils.follow_clock = args.follow_clock
    except (OSError, LibraryError) as exc:
        print(f"ils.py: cannot load library: {exc}", file=sys.stderr)
        return 2
    LOG.info("pysip2 %s", pysip2.__version__)
    anyio.run(serve, ils, args.host, args.port, args.user, args.password)
    return 0


if __name__ == "__main__":
    sys.exit(main())
