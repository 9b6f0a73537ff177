#!/usr/bin/env python3
"""Check a file of Recordkeeper's signed checkpoints without the archive.

Usage: scripts/verify_checkpoints.py CHECKPOINTS.jsonl [--key KEY_ID] [--bag BAG_DIR]

The file is what `recordkeeper checkpoint export` writes: one JSON object a line with the
checkpoint's `statement` (the signed text), its Ed25519 `signature` and `public_key` (hex), and
the audit `entry` it was recorded as. For every line this checks, with nothing but python3 and
the openssl command line tool (OpenSSL 3.0 or later):

  * the statement is a checkpoint statement and names the key that signed it (the first 16 hex
    digits of the SHA-256 of the raw public key);
  * the signature verifies under that public key (openssl pkeyutl, Ed25519);
  * each checkpoint follows the one before it: its `previous` is the SHA-256 of the previous
    statement, its sequence does not go back, and the key stays the same unless the old key
    vouched for the new one (`checkpoint rotate-key`); any other change of key is a problem;
  * with --key, the first checkpoint was signed by the key the witness was told to expect.

With --bag it also checks a BagIt transfer bag (RFC 8493) made by `recordkeeper transfer`: every
file listed in manifest-sha256.txt is present and hashes as listed, no payload file is unlisted,
and tagmanifest-sha256.txt matches the tag files. That shows the bag is whole as made; that it
came from this archive is shown by the archive's certificate of transfer and its checkpoints.

Exit status 0 when everything checks, 1 when anything does not (each problem is printed), 2 on
bad usage. What it cannot tell alone: whether the archive still extends these checkpoints; that
is `recordkeeper verify --against CHECKPOINTS.jsonl`, run against the archive.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HEADER = "recordkeeper checkpoint v1"
FIELDS = ["sequence", "head", "messages", "blobs", "at", "key", "previous", "vouches"]
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def parse(statement):
    lines = statement.split("\n")
    if not statement.endswith("\n") or len(lines) != 10 or lines[0] != HEADER:
        return None
    fields = {}
    for line, name in zip(lines[1:9], FIELDS):
        if not (line == name + ":" or line.startswith(name + ": ")):
            return None
        fields[name] = line[len(name) + 2:]
    try:
        fields["sequence"] = int(fields["sequence"])
    except ValueError:
        return None
    return fields


def signature_ok(statement, signature_hex, public_key_hex):
    try:
        raw = bytes.fromhex(public_key_hex)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    if len(raw) != 32 or len(signature) != 64:
        return False
    pem = ("-----BEGIN PUBLIC KEY-----\n" + __import__("base64").b64encode(ED25519_SPKI_PREFIX + raw).decode() + "\n-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name) for name in ("key.pem", "statement", "signature")}
        with open(paths["key.pem"], "w") as f:
            f.write(pem)
        with open(paths["statement"], "wb") as f:
            f.write(statement.encode())
        with open(paths["signature"], "wb") as f:
            f.write(signature)
        run = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"], "-rawin",
                              "-in", paths["statement"], "-sigfile", paths["signature"]], capture_output=True, text=True)
        return run.returncode == 0


def rotation_vouched(c, previous_line):
    """Whether checkpoint c's key was vouched for by the previous checkpoint's key: a rotation
    statement naming the old key, the new key and its public key, signed by the old key."""
    text, sig = c.get("rotation"), c.get("rotation_signature")
    if not text or not sig:
        return False
    lines = text.split("\n")
    if len(lines) != 6 or lines[0] != "recordkeeper key rotation v1" or lines[5] != "":
        return False
    names = ["old", "new", "new_public_key", "at"]
    if not all(lines[i + 1].startswith(n + ": ") for i, n in enumerate(names)):
        return False
    r = {n: lines[i + 1][len(n) + 2:] for i, n in enumerate(names)}
    prev_statement, prev_fields, prev_public_key = previous_line
    new_fields = parse(c["statement"])
    return (new_fields is not None and r["old"] == prev_fields["key"] and r["new"] == new_fields["key"]
            and r["new_public_key"] == c["public_key"] and signature_ok(text, sig, prev_public_key))


def check_checkpoints(path, expected_key):
    problems = []
    previous = None
    count = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            count += 1
            where = f"line {n}"
            try:
                c = json.loads(line)
                statement, signature, public_key = c["statement"], c["signature"], c["public_key"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"{where}: not a checkpoint (JSON with statement, signature, public_key)")
                continue
            s = parse(statement)
            if s is None:
                problems.append(f"{where}: the statement is not a checkpoint statement")
                continue
            where = f"{where} (audit entry {c.get('entry', '?')}, covering 1…{s['sequence']})"
            try:
                key_id = hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]
            except ValueError:
                key_id = None
            if key_id != s["key"]:
                problems.append(f"{where}: the statement names key {s['key']}, the public key given is {key_id}")
            elif not signature_ok(statement, signature, public_key):
                problems.append(f"{where}: the signature does not verify: the statement was altered or signed by another key")
            if previous is None:
                if expected_key and s["key"] != expected_key:
                    problems.append(f"{where}: signed by key {s['key']}, not the expected {expected_key}")
            else:
                if s["previous"] != hashlib.sha256(previous[0].encode()).hexdigest():
                    problems.append(f"{where}: does not follow the checkpoint before it: one was removed or replaced")
                if s["sequence"] < previous[1]["sequence"]:
                    problems.append(f"{where}: covers fewer entries ({s['sequence']}) than the one before it ({previous[1]['sequence']})")
                if s["key"] != previous[1]["key"]:
                    if rotation_vouched(c, previous):
                        print(f"note {where}: the signing key was rotated from {previous[1]['key']} to {s['key']}, vouched for by the old key")
                    else:
                        problems.append(f"{where}: signed by key {s['key']}, the one before by {previous[1]['key']}, and the old key did not vouch for the new one")
            previous = (statement, s, public_key)
    if count == 0:
        problems.append(f"{path}: no checkpoint in the file")
    return count, previous[1] if previous else None, problems


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(path):
    entries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                digest, _, name = line.partition("  ") if "  " in line else line.partition(" ")
                entries[name.strip()] = digest.strip().lower()
    return entries


def check_bag(bag):
    problems = []
    manifest = os.path.join(bag, "manifest-sha256.txt")
    if not os.path.isfile(manifest):
        return 0, [f"{bag}: no manifest-sha256.txt"]
    listed = read_manifest(manifest)
    for name, digest in sorted(listed.items()):
        p = os.path.join(bag, name)
        if not os.path.isfile(p):
            problems.append(f"bag: {name} is listed and missing")
        elif sha256_file(p) != digest:
            problems.append(f"bag: {name} does not hash as listed")
    data = os.path.join(bag, "data")
    for root, _, files in os.walk(data):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), bag)
            if rel not in listed:
                problems.append(f"bag: {rel} is in the payload and not listed")
    tags = os.path.join(bag, "tagmanifest-sha256.txt")
    if os.path.isfile(tags):
        for name, digest in sorted(read_manifest(tags).items()):
            p = os.path.join(bag, name)
            if not os.path.isfile(p) or sha256_file(p) != digest:
                problems.append(f"bag: tag file {name} is missing or does not hash as listed")
    return len(listed), problems


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    path, expected_key, bag = args[0], None, None
    rest = args[1:]
    while rest:
        flag = rest.pop(0)
        if flag == "--key" and rest:
            expected_key = rest.pop(0)
        elif flag == "--bag" and rest:
            bag = rest.pop(0)
        else:
            print(f"unknown argument {flag}", file=sys.stderr)
            return 2
    try:
        version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        version = ""
    # Ed25519 over raw input (pkeyutl -rawin) needs OpenSSL 3.0 or later; an older OpenSSL or
    # LibreSSL would report every signature as failing, so refuse to judge instead.
    parts = version.split()
    if len(parts) < 2 or parts[0] != "OpenSSL" or not parts[1].split(".")[0].isdigit() or int(parts[1].split(".")[0]) < 3:
        print(f"OpenSSL 3.0 or later is needed to check Ed25519 signatures (found: {version or 'no openssl'})", file=sys.stderr)
        return 2
    count, last, problems = check_checkpoints(path, expected_key)
    files = None
    if bag:
        files, bag_problems = check_bag(bag)
        problems += bag_problems
    for p in problems:
        print("PROBLEM " + p)
    if last:
        print(f"{count} checkpoint(s) read; the last covers audit entries 1…{last['sequence']} "
              f"(head {last['head'][:16]}…, {last['messages']} records, signed {last['at']} by key {last['key']})")
    if files is not None:
        print(f"bag: {files} payload file(s) listed")
    print("OK" if not problems else f"FAILED: {len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
