#!/usr/bin/env python3
"""Writes carried.mbox: e-mails that carry chat exports the way custodians forward them under
the 20-day rule. Run from this folder; the output is committed, this script documents it.

1. A WhatsApp .txt attached directly (Android phrasing, 24-hour clock).
2. A forwarded message (message/rfc822) whose own attachment is a zip holding a WhatsApp iOS
   export zip (a zip within a zip), the Telegram Desktop result.json of ../telegram, and a
   file that is no export at all.
3. An e-mail whose only attachment is a PDF: nothing to ingest as chat.
"""
import io
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

here = Path(__file__).resolve().parent
telegram = (here / "../telegram/DataExport_2021-03-20/result.json").read_bytes()

android = (
    "01/03/2024, 08:02 - Messages and calls are end-to-end encrypted. Only people in this chat can read, listen to, or share them.\n"
    "01/03/2024, 08:03 - Dan Kowalski: Inspection at berth 4 moved to 10:00\n"
    "01/03/2024, 08:05 - Rita Gomez: Understood, the manifest for MX-4471 is ready\n"
    "01/03/2024, 08:06 - Rita Gomez: Seals checked: 2 of 3 intact\n"
    "14/03/2024, 09:12 - Rita Gomez: Berth 4 clear\n"
    "14/03/2024, 17:40 - Dan Kowalski: Disappearing messages were turned on. New messages will disappear from this chat 7 days after they're sent.\n"
)
ios = (
    "[3/14/24, 9:15:02 AM] Harbor Watch: \u200eMessages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
    "[3/14/24, 9:16:40 AM] Dan Kowalski: Vessel Ana Maria cleared at 09:10\n"
    "[3/15/24, 9:18:05 AM] Lee Chen: Copy. Holding the reefer container for x-ray\n"
)


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 5, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


inner_whatsapp = zipped([("_chat.txt", ios.encode())])
bundle = zipped([
    ("whatsapp/WhatsApp Chat - Harbor Watch.zip", inner_whatsapp),
    ("telegram/result.json", telegram),
    ("README.txt", b"Exports for March, as the records officer asked.\n"),
])

first = EmailMessage()
first["From"] = "Dan Kowalski <dan.kowalski@gmail.example.com>"
first["To"] = "d.kowalski@cbp.example.gov"
first["Subject"] = "WhatsApp chat with Port Ops"
first["Date"] = "Fri, 22 Mar 2024 07:30:00 -0400"
first["Message-ID"] = "<carry.1@gmail.example.com>"
first.set_content("Forwarding the Port Ops chat to my official account.\n")
first.add_attachment(android.encode(), maintype="text", subtype="plain", filename="WhatsApp Chat with Port Ops.txt")

forwarded = EmailMessage()
forwarded["From"] = "Dan Kowalski <dan.kowalski@gmail.example.com>"
forwarded["To"] = "dan.kowalski@gmail.example.com"
forwarded["Subject"] = "March exports"
forwarded["Date"] = "Tue, 26 Mar 2024 21:00:00 -0400"
forwarded["Message-ID"] = "<bundle.1@gmail.example.com>"
forwarded.set_content("All of March in one zip.\n")
forwarded.add_attachment(bundle, maintype="application", subtype="zip", filename="march-exports.zip")

second = EmailMessage()
second["From"] = "Dan Kowalski <dan.kowalski@gmail.example.com>"
second["To"] = "d.kowalski@cbp.example.gov"
second["Subject"] = "Fwd: March exports"
second["Date"] = "Wed, 27 Mar 2024 08:10:00 -0400"
second["Message-ID"] = "<carry.2@gmail.example.com>"
second.set_content("See the forwarded message.\n")
second.add_attachment(forwarded)

third = EmailMessage()
third["From"] = "Rita Gomez <r.gomez@cbp.example.gov>"
third["To"] = "d.kowalski@cbp.example.gov"
third["Subject"] = "Berth 4 schedule"
third["Date"] = "Thu, 28 Mar 2024 09:00:00 -0400"
third["Message-ID"] = "<sched.1@cbp.example.gov>"
third.set_content("Schedule attached.\n")
third.add_attachment(b"%PDF-1.4\n% not a chat\n%%EOF\n", maintype="application", subtype="pdf", filename="schedule.pdf")

out = io.BytesIO()
for i, m in enumerate([first, second, third]):
    # Fixed boundaries, so the file is the same on every run.
    for n, part in enumerate(m.walk()):
        if part.get_content_maintype() == "multipart":
            part.set_boundary(f"=={i}.{n}==carried")
    out.write(b"From dan.kowalski@gmail.example.com Mon Mar 11 11:30:00 2024\n")
    text = m.as_bytes(policy=SMTP.clone(linesep="\n"))
    # mboxrd: quote From_ lines in bodies.
    lines = [b">" + l if l.lstrip(b">").startswith(b"From ") else l for l in text.split(b"\n")]
    out.write(b"\n".join(lines).rstrip(b"\n") + b"\n\n")
(here / "carried.mbox").write_bytes(out.getvalue())
