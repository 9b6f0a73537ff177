import re, sys
T = open('/tmp/rk-doc2/T.txt').read().split('\n')
blocks = []  # (cmd, [lines])
i = 0
while i < len(T):
    if T[i].startswith('$ '):
        cmd = T[i][2:]; out = []; i += 1
        while not re.match(r'^\[rc=\d+\]$', T[i]):
            out.append(T[i]); i += 1
        blocks.append((cmd, out))
    i += 1
used = set()
def get(cmd, n):
    hits = [k for k, b in enumerate(blocks) if b[0] == cmd]
    if len(hits) < n:
        sys.exit(f'missing: {cmd} #{n} (have {len(hits)})')
    used.add(hits[n-1])
    return blocks[hits[n-1]][1]
def elide_demo(out):
    # the first ingest, the last one and the summary lines after it; "Demo archive ready" and
    # the line saying whom the shell acts as; then only the records-management suggestions
    r = next(i for i, l in enumerate(out) if l.startswith('records program:'))
    j = out.index('Demo archive ready in /tmp/rk-doc2/demo:')
    keep = out[:2] + ['…'] + out[r-1:j] + out[j:j+4]
    assert keep[-1].startswith('Try (the command line acts as r.officer'), keep[-1]
    k = out.index('Records management (two records officers, r.officer and d.officer, are registered; s.pereira is a')
    end = out.index('', k)
    keep += ['…'] + out[k:end]
    if end < len(out): keep += ['…']
    return keep
def elide_pip(out):
    return ['…', out[-1]]
def elide_bagit(out):
    return out[:2] + ['…'] + out[-3:]
FILTERS = {'demo': elide_demo, 'pip': elide_pip, 'bagit': elide_bagit}
src = open('/tmp/rk-doc2/template.md').read().split('\n')
res = []
for line in src:
    m = re.match(r'^@@ (.*?)(?: #(\d+))?(?: \|(\w+))?$', line)
    if not m:
        res.append(line); continue
    cmd, n, f = m.group(1), int(m.group(2) or 1), m.group(3)
    out = get(cmd, n)
    while out and out[-1] == '': out = out[:-1]
    if f: out = FILTERS[f](out)
    res.append('```'); res.append('$ ' + cmd); res.extend(out); res.append('```')
open(sys.argv[1], 'w').write('\n'.join(res))
unused = [blocks[k][0] for k in range(len(blocks)) if k not in used]
print('unused blocks:', *unused, sep='\n  ')
