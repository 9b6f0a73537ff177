#!/bin/bash
# Final documentation run. Transcript in /tmp/rk-doc2/T.txt
export PATH=/tmp/rk-doc2:$PATH
# Who acts comes from a token or the OS account (real uid) the demo links to r.officer, never $USER.
unset RECORDKEEPER_TOKEN RECORDKEEPER_TOKEN_FILE D_TOKEN F_TOKEN
T=/tmp/rk-doc2/T.txt
: > $T
run() { echo "\$ $1" >> $T; eval "$1" >> $T 2>&1; echo "[rc=$?]" >> $T; echo >> $T; }
sec() { echo "######## $1" >> $T; }
rm -rf /tmp/rk-doc2/demo /tmp/rk-doc2/demo-exports /tmp/rk-doc2/work /tmp/rk-doc2/venv
mkdir -p /tmp/rk-doc2/work && cd /tmp/rk-doc2/work
sec 1
run 'recordkeeper demo --data-dir /tmp/rk-doc2/demo --no-serve'
export RECORDKEEPER_DATA_DIR=/tmp/rk-doc2/demo
# Section 8 shows the audit entries written after the demo's own setup as `seq > 3315`.
DEMO_LAST=$(sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite "SELECT max(seq) FROM audit_log")
[ "$DEMO_LAST" = 3315 ] || echo "run.sh: the demo's setup now ends at audit seq $DEMO_LAST, not 3315: update 'seq > 3315' in run.sh and template.md" >&2
run 'recordkeeper user whoami'
run 'recordkeeper user list'
run 'recordkeeper user add m.osei --role reviewer --display-name "Martin Osei, Office of Chief Counsel"'
run 'recordkeeper user list'
run "export D_TOKEN=\$(recordkeeper user token create d.officer --label \"d.officer's shell\")"
run 'RECORDKEEPER_TOKEN=$D_TOKEN recordkeeper user whoami'
run 'RECORDKEEPER_TOKEN=$D_TOKEN recordkeeper user add m.osei --role reviewer --role records-officer'
run "export F_TOKEN=\$(recordkeeper user token create foia.liaison --label \"foia.liaison's shell\")"
run 'RECORDKEEPER_TOKEN=$F_TOKEN recordkeeper hold release 1 --reason "Request closed"'
run 'recordkeeper user token list'
run 'recordkeeper user token revoke 2'
run 'RECORDKEEPER_TOKEN=$F_TOKEN recordkeeper hold list'
sec 2
run 'recordkeeper fileplan show'
run 'recordkeeper fileplan export --format yaml'
run 'recordkeeper fileplan export --format yaml --output plan.yaml'
cp plan.yaml plan-v1.yaml
python3 - <<'PY'
p=open('plan.yaml').read()
a="""    years: 10
rules:"""
assert a in p
p=p.replace(a,"""    years: 10
- id: '0003'
  authority: DAA-GRS-2022-0009-0001
  title: Transitory messages (GRS 5.2, item 010)
  disposition: temporary
  cutoff: event
  cutoff_event: conversation closed
  retention:
    months: 6
rules:""")
a="""  note: Custodian or sender held a Capstone role (NA-1005) on the sent date
"""
assert a in p
p=p.replace(a,a+"""- id: laredo-shift-roster
  item: '0003'
  when:
    conversations:
    - Laredo Bridge 2 Shift
  note: Shift swaps and roll calls only (determination RM-2026-14)
""")
open('plan.yaml','w').write(p)
PY
run 'diff -u plan-v1.yaml plan.yaml'
run 'recordkeeper fileplan import plan.yaml'
run 'recordkeeper fileplan import plan.yaml --apply --note "Add GRS 5.2 item 010 for the Laredo shift-roster chat (RM-2026-14)"'
run 'recordkeeper fileplan history'
run 'recordkeeper fileplan show'
sec 3
run 'recordkeeper custodian list'
run 'recordkeeper custodian show s.pereira@cbp.example.gov'
run 'recordkeeper custodian add e.vargas@cbp.example.gov --name "Elena Vargas" --office "San Ysidro Port of Entry"'
run 'recordkeeper custodian account e.vargas@cbp.example.gov --platform whatsapp --address "+1 (619) 555-0134"'
run 'recordkeeper custodian account s.pereira@cbp.example.gov --platform whatsapp --address 619.555.0134'
run 'recordkeeper custodian designate e.vargas@cbp.example.gov --role "Acting Port Director, San Ysidro" --capstone --from 2021-03-15'
run 'recordkeeper custodian designate e.vargas@cbp.example.gov --role "Acting Port Director, San Ysidro" --capstone --from 2021-03-15 --apply'
run 'recordkeeper custodian end-designation 2 --on 2021-03-31'
run 'recordkeeper custodian end-designation 2 --on 2021-03-31 --apply'
run 'recordkeeper custodian show e.vargas@cbp.example.gov'
run 'recordkeeper custodian list'
sec 4
run 'recordkeeper retention summary'
run 'recordkeeper retention show 1'
run 'recordkeeper retention show 4032'
run 'recordkeeper retention show 1500'
run 'recordkeeper retention due --as-of 2032-01-01'
run 'recordkeeper retention recompute'
run 'recordkeeper retention event 4 --name "conversation closed" --date 2021-08-30'
run 'recordkeeper retention event 4 --name "conversation closed" --date 2021-08-30 --apply'
run 'recordkeeper retention show 1500'
run 'recordkeeper retention due'
sec 5
run 'recordkeeper hold list'
run 'recordkeeper hold show 1 --sample 3'
run 'recordkeeper hold create --name "Rivera v. United States" --matter litigation --reference "3:26-cv-01187 (S.D. Cal.)" --requested-by "Office of Chief Counsel (M. Osei)" --custodian j.alvarez@cbp.example.gov --from 2021-03-01 --to 2021-03-31'
run 'recordkeeper hold show 2 --sample 3'
run 'recordkeeper retention show 4032'
run 'recordkeeper hold create --name "OIG review of BOTA overtime" --matter ig-audit --reference OIG-26-031 --requested-by "DHS Office of Inspector General" --conversation 7'
run 'recordkeeper hold release 3 --reason "OIG closed the review without findings (letter of 2026-11-20)"'
run 'recordkeeper hold list'
run 'recordkeeper hold list --all'
sec 6
run 'recordkeeper retention due --as-of 2032-01-01'
run 'recordkeeper dispose propose --as-of 2032-01-01'
run 'recordkeeper dispose propose --item 0003 --note "Laredo shift-roster chat closed 2021-08-30; RM-2026-14"'
run 'recordkeeper dispose show 1'
run 'recordkeeper dispose approve 1'
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT seq, at, actor, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT 1\""
run 'RECORDKEEPER_TOKEN=$D_TOKEN recordkeeper dispose approve 1'
run 'recordkeeper dispose execute 1'
run 'recordkeeper dispose list'
run 'recordkeeper dispose certificate 1 --format json'
run 'recordkeeper dispose certificate 1 --format html --output certificate-1.html'
run 'recordkeeper verify'
run 'recordkeeper retention show 1500'
run 'recordkeeper show message 1500'
run 'recordkeeper show conversations'
run 'recordkeeper ingest /tmp/rk-doc2/demo-exports/m.chen-1 --custodian m.chen@cbp.example.gov'
run 'recordkeeper verify'
sec 7
run 'recordkeeper retention due --as-of 2037-01-01'
run 'recordkeeper fileplan export --output plan-v2.yaml'
cp plan-v2.yaml plan-v3.yaml
python3 - <<'PY'
p=open('plan-v3.yaml').read()
a="""  cutoff_event: conversation closed
rules:
"""
assert a in p
p=p.replace(a,"""  cutoff_event: conversation closed
- id: '0004'
  authority: DAA-0568-2022-0005-0001
  title: Capstone messages pre-accessioned to NARA
  disposition: permanent
  cutoff: calendar-year
  transfer_after:
    years: 1
rules:
- id: miami-pre-accession
  item: '0004'
  when:
    capstone: true
    custodians:
    - s.pereira@cbp.example.gov
    conversations:
    - Attaché Office Miami
  note: Pre-accessioned under agreement RM-2026-22 (example)
""")
open('plan-v3.yaml','w').write(p)
PY
run 'diff -u plan-v2.yaml plan-v3.yaml'
run 'recordkeeper fileplan import plan-v3.yaml'
run 'recordkeeper fileplan import plan-v3.yaml --apply --note "Pre-accession the Attaché Office Miami chat to NARA (RM-2026-22)"'
run 'recordkeeper retention due'
run 'recordkeeper transfer propose --item 0004 --note "Pre-accession agreement RM-2026-22"'
run 'RECORDKEEPER_TOKEN=$D_TOKEN recordkeeper dispose approve 2'
run 'recordkeeper transfer package 2 --output transfer-2 --organization "U.S. Customs and Border Protection"'
run 'find transfer-2 | sort'
run 'cat transfer-2/bag-info.txt'
run 'sed -n 1,10p transfer-2/data/messages/attache-office-miami-11/2021-03-22.eml'
run 'head -3 transfer-2/data/metadata.csv'
run "sed -n '/<h2>Schedule items/,/<h2>Files/p' transfer-2/data/finding-aid.html"
run 'python3 -m venv /tmp/rk-doc2/venv && /tmp/rk-doc2/venv/bin/pip install bagit'
run '/tmp/rk-doc2/venv/bin/bagit.py --validate transfer-2'
run 'recordkeeper transfer confirm 2 --accession NN-0568-2026-0012'
run 'recordkeeper dispose list'
run 'recordkeeper retention show 3165'
run 'recordkeeper dispose certificate 2 --format json'
run 'recordkeeper dispose certificate 2 --format html --output transfer-2.html'
run 'recordkeeper verify'
sec 8
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT seq, at, actor, action, target FROM audit_log WHERE target LIKE 'disposition%' ORDER BY seq\""
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT seq, actor, target, json_extract(detail, '\\\$.attempted'), json_extract(detail, '\\\$.reason') FROM audit_log WHERE action = 'refused' ORDER BY seq\""
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT seq, action, detail FROM audit_log WHERE action IN ('disposition.execute', 'transfer.confirm', 'disposition.certificate') ORDER BY seq\""
run 'recordkeeper dispose certificate 1 --format json | sha256sum'
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT seq, actor, action, target, json_extract(detail, '\\\$.reason'), json_extract(detail, '\\\$.moves') FROM audit_log WHERE actor = 'r.officer' AND (action LIKE 'fileplan.%' OR (action LIKE 'custodian.%' AND action <> 'custodian.list') OR action LIKE 'retention.event' OR action = 'retention.recompute') AND seq > 3315 ORDER BY seq\""
run "sqlite3 -readonly /tmp/rk-doc2/demo/archive.sqlite \"SELECT action, count(*) FROM audit_log GROUP BY action ORDER BY min(seq)\""
