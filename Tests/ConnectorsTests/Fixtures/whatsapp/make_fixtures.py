#!/usr/bin/env python3
"""Writes the WhatsApp "Export chat" fixtures in this folder (FORMATS.md section 1).

The fixtures are committed; this script documents how their invisible characters, line ends
and binary media were produced. Re-run it from this folder after editing: `python3 make_fixtures.py`.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

LRM = "\u200e"      # left-to-right mark
NNBSP = "\u202f"    # narrow no-break space (before AM/PM in newer exports)
NBSP = "\u00a0"     # no-break space
LRE = "\u202a"      # left-to-right embedding (opens a phone number)
PDF_ = "\u202c"     # pop directional formatting (closes it)
BOM = "\ufeff"
PHONE = LRE + "+40" + NBSP + "521" + NBSP + "028" + NBSP + "62" + NBSP + "18" + PDF_


def write(name, lines, eol="\n", final_eol=True, bom=False):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = eol.join(lines) + (eol if final_eol else "")
    if bom:
        text = BOM + text
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def write_bytes(name, data):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# iOS, en-US region: M/D/YY, 12-hour with seconds, U+202F before AM/PM, CRLF, LRM marks.
write("ios-en-us-12h.txt", [
    f"[12/6/21, 9:07:12{NNBSP}AM] Family Group: {LRM}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.",
    f"{LRM}[12/6/21, 9:07:30{NNBSP}AM] {LRM}Ann Smith added Bob Jones",
    f"[12/6/21, 9:08:15{NNBSP}AM] Ann Smith: {LRM}<attached: 00000003-PHOTO-2021-12-06-09-08-15.jpg>",
    f"[12/6/21, 9:09:01{NNBSP}AM] Bob Jones: {LRM}image omitted",
    f"[12/6/21, 10:15:44{NNBSP}AM] Bob Jones: {LRM}This message was deleted.",
    f"[12/6/21, 12:00:00{NNBSP}PM] Ann Smith: Lunch?",
    f"[12/7/21, 12:05:09{NNBSP}AM] Ann Smith: Line one",
    "line two",
    "",
    "line four",
    f"[12/13/21, 8:30:00{NNBSP}PM] Bob Jones: See you Monday {LRM}<This message was edited>",
    f"[12/13/21, 8:31:02{NNBSP}PM] Bob Jones: report.pdf • {LRM}2 pages {LRM}<attached: 00000005-report.pdf>",
    f"[12/13/21, 8:32:00{NNBSP}PM] Ann Smith: {LRM}Contact card omitted",
    f"[12/13/21, 8:33:00{NNBSP}PM] Ann Smith: {LRM}Missed voice call",
], eol="\r\n")

# Android, English, D/M/YYYY 24-hour, LF; with a sibling media file (one missing).
write("android-en-24h/WhatsApp Chat with Trip.txt", [
    "23/03/2022, 13:31 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
    "23/03/2022, 13:31 - Ann created group \"Trip\"",
    "23/03/2022, 13:32 - Ann added Bob",
    "23/03/2022, 13:35 - Ann: IMG-20220323-WA0001.jpg (file attached)",
    "Look at this view",
    "23/03/2022, 13:36 - Bob: <Media omitted>",
    "23/03/2022, 13:37 - Bob: null",
    "23/03/2022, 13:40 - Ann: First line",
    "23/03/2022, 13:40 was when we landed",
    "12/06/2022 is the return date",
    "",
    "Last line",
    "23/03/2022, 13:45 - Ann changed the subject from \"Trip\" to \"Trip: Lisbon 2022\"",
    "23/03/2022, 14:00 - Bob: This message was deleted",
    "23/03/2022, 14:01 - Ann: You deleted this message",
    "24/03/2022, 08:15 - Bob: VID-20220324-WA0000.mp4 (file attached)",
    "05/04/2022, 10:00 - Ann: Itinerary.pdf (file attached)",
    "Itinerary.pdf",
    "05/04/2022, 10:01 - You're now an admin",
])

# Android, Spanish, D/M/YY 12-hour with "p. m." (plain space, NBSP, U+202F before it).
write("android-es-12h.txt", [
    "22/9/22, 10:37 p. m. - Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos. Toca para obtener más información.",
    f"22/9/22, 10:38 p.{NBSP}m. - Lucía Pérez: Hola a todos",
    f"22/9/22, 10:40{NNBSP}p.{NBSP}m. - Lucía Pérez: IMG-20220922-WA0003.jpg (archivo adjunto)",
    "Foto de la playa",
    "22/9/22, 11:59 p. m. - Jorge: <Multimedia omitido>",
    "23/9/22, 12:15 a. m. - Jorge: Se eliminó este mensaje",
    "23/9/22, 7:05 a. m. - Lucía Pérez: ¿Vamos mañana? <Se editó este mensaje.>",
    "23/9/22, 12:00 p. m. - Jorge: Sí: a las 10",
])

# Android, Brazilian Portuguese: D/M/YYYY with no comma before the time.
write("android-pt-br.txt", [
    "23/03/2022 13:31 - As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las. Toque para saber mais.",
    "23/03/2022 13:32 - João Silva: Oi, tudo bem?",
    "23/03/2022 13:33 - Maria: <Arquivo de mídia oculto>",
    "23/03/2022 13:34 - João Silva: IMG-20220323-WA0002.jpg (arquivo anexado)",
    "23/03/2022 13:35 - Maria: Esta mensagem foi apagada",
    "23/03/2022 13:36 - Maria: Vamos às 10? <Mensagem editada>",
])

# Android, French.
write("android-fr.txt", [
    "23/03/2022, 13:31 - Les messages et les appels sont chiffrés de bout en bout. Aucun tiers, pas même WhatsApp, ne peut les lire ou les écouter. Appuyez pour en savoir plus.",
    "23/03/2022, 13:32 - Élodie: Salut !",
    "23/03/2022, 13:33 - Luc: <Médias omis>",
    "23/03/2022, 13:34 - Élodie: IMG-20220323-WA0004.jpg (fichier joint)",
    "23/03/2022, 13:35 - Luc: Ce message a été supprimé",
    "23/03/2022, 13:36 - Élodie: Rendez-vous à 10 h <Ce message a été modifié>",
])

# Android, German: dotted D.M.YY (`15.04.16, 15:04 - `).
write("android-de-dotted.txt", [
    "15.04.16, 15:04 - Anna hat die Gruppe „Urlaub: Sommer 2016“ erstellt",
    "15.04.16, 15:05 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.",
    "15.04.16, 15:06 - Anna: IMG-20160415-WA0000.jpg (Datei angehängt)",
    "Unser Hotel",
    "15.04.16, 15:07 - Jörg: <Medien ausgeschlossen>",
    "16.04.16, 09:15 - Jörg: Diese Nachricht wurde gelöscht",
    "16.04.16, 09:16 - Anna: Treffpunkt: Bahnhof <Diese Nachricht wurde bearbeitet>",
])

# Android, Italian.
write("android-it.txt", [
    "12/06/24, 21:34 - I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno WhatsApp, può leggerli o ascoltarli. Tocca per saperne di più.",
    "12/06/24, 21:35 - Giulia: Ciao!",
    "12/06/24, 21:36 - Marco: <Media omessi>",
    "13/06/24, 08:00 - Giulia: IMG-20240613-WA0000.jpg (file allegato)",
    "13/06/24, 08:01 - Marco: Questo messaggio è stato eliminato",
    "13/06/24, 08:02 - Giulia: Ci vediamo alle 9 <Questo messaggio è stato modificato>",
])

# Dashed dates, 12-hour "p.m." with seconds, no comma (`09-10-2022 10:37:00 p.m. - `), M-D-YYYY.
write("android-dashes-12h-seconds.txt", [
    "09-10-2022 10:37:00 p.m. - John Doe: Evening",
    "09-10-2022 11:59:59 p.m. - Jane Roe: Late",
    "09-11-2022 12:00:01 a.m. - John Doe: Midnight",
    "09-13-2022 7:05:30 a.m. - Jane Roe: Morning",
])

# Bracketed D-M-YY with seconds, no comma (`[15-01-20 02:22:56] Mary:`).
write("bracket-dmy-dashes.txt", [
    "[15-01-20 02:22:56] Mary: Lorem ipsum",
    "[15-01-20 02:23:10] John: dolor sit amet",
    "[16-01-20 14:05:00] Mary: consectetur",
    "adipiscing elit",
])

# ISO-like, bracketed without comma and dashed with comma.
write("iso-bracket.txt", [
    "[2019-04-16 02:09] Mary: Early",
    "[2019-04-16 23:45] John: Late",
])
write("iso-dash.txt", [
    "2019-10-20, 10:16 - John: Morning",
    "2019-11-02, 18:00 - Mary: Evening",
])

# No field exceeds 12; within 2022 the first field falls (11 -> 3) while the second rises (1 -> 2).
write("ambiguous-decreasing-field.txt", [
    "10/1/22, 09:00 - Ann: a",
    "11/1/22, 09:30 - Bob: b",
    "3/2/22, 10:00 - Ann: c",
    "4/2/22, 10:00 - Bob: d",
])

# Nothing decides the order: one date, 12-hour clock.
write("ambiguous-undecided.txt", [
    f"[5/6/22, 9:00:00{NNBSP}AM] Ann: a",
    f"[5/6/22, 9:01:00{NNBSP}AM] Bob: b",
], eol="\r\n")

# UTF-8 BOM, last line without a newline.
write("bom-no-final-newline.txt", [
    "23/03/2022, 13:31 - Ann: First message after BOM",
    "23/03/2022, 13:32 - Bob: Multi",
    "line without final newline",
], final_eol=False, bom=True)

# Lines before the first header (e.g. a mail client's preamble) and an impossible date.
write("orphan-lines.txt", [
    "Exported by a mail client",
    "Forwarded message follows",
    "23/03/2022, 13:31 - Ann: hello",
    "31/02/2022, 10:00 - Bob: impossible date",
    "24/03/2022, 09:00 - Bob: next",
])

# Unusual authors: `~ ` non-contact prefix, a phone number in LRE/PDF with NBSPs, punctuation, emoji.
write("authors-special.txt", [
    "18/03/2022, 14:56 - ~ Ann Lee: Hi from a non-contact",
    f"18/03/2022, 14:57 - {PHONE}: Hi from a number",
    "18/03/2022, 14:58 - John-John Doe: Note: this has a colon",
    "18/03/2022, 14:59 - Zoë 🌻 (Work): Emoji name",
    f"18/03/2022, 15:00 - ~{NNBSP}Bea: Narrow space after the tilde",
])

# One file mixing bracketed and dashed headers, 12h/24h, am/pm spellings, with/without seconds (D/M/YYYY).
write("mixed-styles.txt", [
    "[23/03/2022, 13:31:05] Ann: bracket, 24h, seconds",
    "23/03/2022, 13:32 - Bob: dash, 24h, no seconds",
    "[24/03/2022, 1:33:00 PM] Ann: bracket, 12h, seconds",
    "24/03/2022, 1:34 p.m. - Bob: dash, 12h, p.m.",
    f"{LRM}[25/03/2022, 9:00 a. m.] Ann: bracket, 12h, no seconds, a. m.",
    f"25/03/2022, 9:01{NNBSP}am - Bob: dash, 12h, narrow space am",
    "25/03/2022, 12:00:30 a.m. - Ann: dash, 12h, seconds, midnight",
])

# iOS zip contents (zipped at test time): M/D/YY 24h with seconds, CRLF, phone-number author.
write("ios-zip/_chat.txt", [
    f"[3/18/22, 14:56:01] {PHONE}: {LRM}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.",
    f"[3/18/22, 14:57:10] Dmitry S: {LRM}<attached: 00000002-PHOTO-2022-03-18-14-57-10.png>",
    f"[3/18/22, 14:58:00] Me: {LRM}<attached: 00000003-John Doe.vcf>",
    f"[3/18/22, 14:59:30] Dmitry S: Itinerary.pdf • {LRM}1 page {LRM}<attached: 00000004-Itinerary.pdf>",
    f"[3/18/22, 15:00:00] Me: {LRM}<attached: 00000005-PHOTO-2022-03-18-15-00-00.jpg>",
    "[3/19/22, 09:00:00] Dmitry S: Thanks!",
], eol="\r\n")


def png_1x1():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\x25\xd3\x66\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_1x1():
    """A baseline 1x1 greyscale JPEG: one DC and one AC Huffman code, each 1 bit long."""
    out = b"\xff\xd8"
    out += b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)          # DQT
    out += b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"     # SOF0
    counts = bytes([1] + [0] * 15)
    out += b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + counts + b"\x00"         # DHT DC0
    out += b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + counts + b"\x00"         # DHT AC0 (EOB)
    out += b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"   # SOS
    out += b"\x3f"                                                                   # DC 0, EOB, pad
    return out + b"\xff\xd9"


def pdf_minimal():
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


write_bytes("ios-zip/00000002-PHOTO-2022-03-18-14-57-10.png", png_1x1())
write_bytes("ios-zip/00000003-John Doe.vcf",
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:John Doe\r\nN:Doe;John;;;\r\nTEL;type=CELL:+1 555 0100\r\nEND:VCARD\r\n")
write_bytes("ios-zip/00000004-Itinerary.pdf", pdf_minimal())
# 00000005-PHOTO-2022-03-18-15-00-00.jpg is named in _chat.txt but deliberately absent.
write_bytes("android-en-24h/IMG-20220323-WA0001.jpg", jpeg_1x1())
# VID-20220324-WA0000.mp4 and Itinerary.pdf are named in the chat but deliberately absent.
