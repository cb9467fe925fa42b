#!/usr/bin/env python3
"""Derive symdb rows (symbol -> type expression, with the kernel versions seen)
from dwarf2json ISF profiles.

    symdb-from-isf.py [--symbols FILE] VERSION=PROFILE.json[.xz] ...

Prints symdb.txt rows to stdout.  Only symbols whose type is not void are
written; --symbols limits the output to the names listed in FILE.  The type
expression grammar is described in src/symdb.h.  The built-in symdb is made by
scripts/symdb-gen from DWARF (README "The symdb"); this one serves where only
a dwarf2json ISF exists, for a --symdb FILE.  Its names are dwarf2json's: a
typedef of a struct is named after the typedef (struct spinlock_t, which the
ISF writer also lists) and anonymous types are skipped, their names being
tool-specific.
"""
import argparse, json, lzma, gzip, sys


def load(path):
    opener = lzma.open if path.endswith('.xz') else gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt') as f:
        return json.load(f)


def expr(t):
    k = t['kind']
    if k == 'pointer':
        return '*' + expr(t['subtype'])
    if k == 'array':
        return '[%d]%s' % (t['count'], expr(t['subtype']))
    if k == 'base':
        return 'void' if t['name'] == 'void' else 'base ' + t['name']
    if k in ('struct', 'union', 'enum'):
        return '%s %s' % (k, t['name'])
    if k == 'function':
        return 'function'
    raise ValueError('unexpected type kind %r' % k)


def series_key(v):
    return tuple(int(x) for x in v.split('.')[:2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--symbols')
    ap.add_argument('profiles', nargs='+', metavar='VERSION=PROFILE')
    a = ap.parse_args()
    wanted = None
    if a.symbols:
        wanted = {l.strip() for l in open(a.symbols) if l.strip() and not l.startswith('#')}
    seen = {}   # (symbol, expr) -> set of versions
    for spec in a.profiles:
        version, path = spec.split('=', 1)
        for name, sym in load(path)['symbols'].items():
            if wanted is not None and name not in wanted:
                continue
            t = sym.get('type')
            if not t or (t.get('kind') == 'base' and t.get('name') == 'void'):
                continue
            if name.startswith('unnamed_') or t.get('name', '').startswith('unnamed_'):
                continue   # anonymous type names are not portable between tools
            seen.setdefault((name, expr(t)), set()).add(version)
    print('# symbol\tfirst\tlast\ttype')
    for (name, e), versions in sorted(seen.items(), key=lambda kv: (kv[0][0], min(series_key(v) for v in kv[1]))):
        vs = sorted(versions, key=series_key)
        print('%s\t%s\t%s\t%s' % (name, vs[0], vs[-1], e))


if __name__ == '__main__':
    main()
