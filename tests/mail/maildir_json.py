"""Prints every message in a Maildir (as aiosmtpd's Mailbox handler wrote
it) as one JSON line: to, from, subject and the text body, decoded with
Python's own e-mail parser (so what lettre encoded is read independently)."""
import json
import mailbox
import sys
from email import policy
from email.parser import BytesParser

box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in sorted(box.keys()):
    with box.get_file(key) as f:
        msg = BytesParser(policy=policy.default).parse(f)
    body = msg.get_body(preferencelist=("plain",))
    print(json.dumps({
        "to": str(msg["To"]),
        "from": str(msg["From"]),
        "subject": str(msg["Subject"]),
        "content_type": msg.get_content_type(),
        "charset": msg.get_content_charset(),
        "body": body.get_content() if body is not None else "",
    }, ensure_ascii=False))
