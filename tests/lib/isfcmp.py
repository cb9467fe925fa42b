#!/usr/bin/python3
"""isfcmp: compare an ISF made by btf2isf (OURS) with dwarf2json's ISF of the same kernel (REF).

Usage:  isfcmp.py OURS.json[.xz|.gz] REF.json[.xz|.gz] [--allow FILE] [--needed FILE]
                  [--max N] [--json]

Volatility3 only cares about layouts, names it looks up, symbol addresses and the banner, so
that is what is compared -- not the textual JSON:

* user types: every *named* struct/union of REF (``unnamed_*`` keys are tool-specific hashes or
  ids and are never compared by name) must exist in OURS with the same kind and size and the same
  fields after flattening anonymous members recursively, as Volatility3's
  ``Version8Format._reduce_fields`` does (an ``"anonymous": true`` field is replaced by the fields
  of the user type it names, offsets added).  Each field must have the same offset and an
  equivalent type.
* type equivalence: base types by size (signedness differences are only counted, because DWARF
  and BTF disagree about ``char``); pointers and arrays recursively (array dimensions equal,
  flexible arrays are count 0; a multi-dimensional REF array that OURS has as one dimension of
  the same total -- pahole's BTF encoding -- is a difference of class ``flatarray``);
  struct/union references by equal name, or by layout when the names differ -- dwarf2json names a
  struct after the typedef that points at it (``kernel_cap_t``, ``spinlock_t``, ``gate_desc``)
  and anonymous types get tool-specific names -- i.e. both user types exist with the same kind,
  size and flattened field names and offsets (one level deep, no recursion); enums by name,
  anonymous ones (``unnamed_*``) by their constants; bitfields by bit position, length and inner
  type; ``function`` equals ``function``.  A reference to a struct that REF itself does not
  define (declaration only) has no ground truth: it is accepted and listed as unverified.
* enums: every named REF enum exists in OURS with the same constants and a base of the same size.
* base types: every REF base type name exists with the same size, signedness and kind
  (informational: BTF names differ, e.g. no ``ssizetype``).
* symbols: names present in both have the same address (exact u64); names of
  needed-symbols.txt that REF has must be in OURS with an equivalent type (a REF type of void
  counts as "ref untyped" and passes); all common symbols' types are reported as percentages.
* linux_banner: the base64-decoded ``constant_data`` is byte-identical.
* names Volatility3 compares as strings (informational): ``ns_common.stashed`` must be named
  ``atomic64_t`` exactly when REF's is, and ``cred.cap_effective`` must name a capability class
  whose member exists (``kernel_cap_struct``/``cap`` or ``kernel_cap_t``/``val``).  dwarf2json
  0.9.0 itself fails the latter before Linux 6.3 (it names ``kernel_cap_t``, which has ``cap``).

Exit status: 0 if every strict check passes (named user types, named enums, common-symbol
addresses, needed-symbol types, banner) after the allow-list, 1 if not, 2 on usage or input errors.

Allow-list (``--allow FILE``): one accepted, genuine DWARF-vs-BTF difference per line,
``CATEGORY NAME REASON...``; ``#`` starts a comment.  NAME may be a shell glob (``__UNIQUE_ID_*``).
Categories: ``type`` (a user type, all its problems), ``field`` (``TYPE.FIELD``, one flattened
field), ``enum``, ``base``, ``symbol`` (address), ``symtype`` (symbol type), ``banner`` (NAME is
``linux_banner``), ``flatarray`` (``TYPE.FIELD`` or a symbol name: accepts only a flattened
multi-dimensional array there, nothing else).  Entries that match nothing are reported as
stale (informational).

The module can also be imported: ``compare(ref_isf, ours_isf, allow=None, needed=None,
only=None)`` returns a ``Report`` whose ``ok`` is the verdict (``only`` picks a subset of
``Comparator.CHECKS``); ``load_isf(path)`` reads .json, .json.xz and .json.gz.
"""

import argparse
import base64
import binascii
import collections
import fnmatch
import gzip
import json
import lzma
import os
import sys

STRUCT_KINDS = ('struct', 'union', 'class')
MAX_ANON_DEPTH = 32

# Copy of reference/needed-symbols.txt, used when neither --needed nor $REF gives the file.
BUILTIN_NEEDED = """
init_task cap_last_cap module_kset net_namespace_list prb prog_idr vmemmap_base init_files
init_mm init_pid_ns mod_tree modules iomem_resource tty_drivers idt_table keyboard_notifier_list
socket_file_ops sockfs_dentry_operations tcp4_seq_afinfo tcp6_seq_afinfo udp4_seq_afinfo
udp6_seq_afinfo udplite4_seq_afinfo udplite6_seq_afinfo dl_sched_class fair_sched_class
idle_sched_class rt_sched_class stop_sched_class page_offset_base phys_base init_top_pgt
swapper_pg_dir linux_banner init_uts_ns jiffies nr_threads
""".split()


# ----------------------------------------------------------------------------------------------
# Loading

def load_isf(path):
    """Read an ISF from .json, .json.xz or .json.gz (detected by magic bytes)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:6] == b'\xfd7zXZ\x00':
        data = lzma.decompress(data)
    elif data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    return json.loads(data)


def read_name_list(path):
    """Names from a text file, one per line; blank lines and # comments ignored."""
    with open(path) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


def default_needed():
    """needed-symbols.txt from $REF if present, else the built-in copy."""
    ref = os.environ.get('REF')
    if ref and os.path.isfile(os.path.join(ref, 'needed-symbols.txt')):
        return read_name_list(os.path.join(ref, 'needed-symbols.txt'))
    return list(BUILTIN_NEEDED)


# ----------------------------------------------------------------------------------------------
# Small helpers on type descriptors

def desc(t):
    """A short C-like rendering of a type descriptor, for messages."""
    if not isinstance(t, dict):
        return repr(t)
    k = t.get('kind')
    if k == 'base':
        return str(t.get('name'))
    if k == 'pointer':
        return desc(t.get('subtype')) + '*'
    if k == 'array':                   # C order: outermost dimension first
        dims = ''
        while isinstance(t, dict) and t.get('kind') == 'array':
            dims += '[%s]' % t.get('count')
            t = t.get('subtype')
        return desc(t) + dims
    if k in STRUCT_KINDS or k == 'enum':
        return '%s %s' % (k, t.get('name'))
    if k == 'bitfield':
        return '%s:%s@%s' % (desc(t.get('type')), t.get('bit_length'), t.get('bit_position'))
    if k == 'function':
        return 'function'
    return repr(t)


def is_unnamed(name):
    return not isinstance(name, str) or name.startswith('unnamed_')


def is_void(t):
    return isinstance(t, dict) and t.get('kind') == 'base' and t.get('name') == 'void'


class Why(str):
    """A difference message; klass names a class of known DWARF-vs-BTF differences that an
    allow-list entry of that category may accept (see 'flatarray')."""
    klass = None

    @classmethod
    def of(cls, text, klass=None):
        w = cls(text)
        w.klass = klass
        return w


def array_dims(t):
    """([count, ...] outermost first, element descriptor) of a (nested) array descriptor."""
    dims = []
    while isinstance(t, dict) and t.get('kind') == 'array':
        dims.append(t.get('count'))
        t = t.get('subtype')
    return dims, t


def product(nums):
    n = 1
    for x in nums:
        if type(x) is not int:
            return None
        n *= x
    return n


def decode_banner(sym):
    """The bytes of a symbol's constant_data, or None if absent or not base64."""
    data = (sym or {}).get('constant_data')
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


# ----------------------------------------------------------------------------------------------
# One ISF with cached, derived views

class Side:
    """One ISF: its sections plus cached flattened field maps and layout signatures."""

    def __init__(self, isf, label):
        self.label = label
        self.user_types = isf.get('user_types') or {}
        self.enums = isf.get('enums') or {}
        self.base_types = isf.get('base_types') or {}
        self.symbols = isf.get('symbols') or {}
        self._flat = {}
        self._layout = {}

    def flat(self, name):
        """(fields, problems) for user type *name*, or None if it does not exist.

        fields maps each field name to (offset, type) with anonymous members replaced by their
        own fields, recursively, exactly like Volatility3's _reduce_fields (the last duplicate
        wins, as in Volatility).  problems lists broken anonymous members and duplicates."""
        if name not in self._flat:
            if name not in self.user_types:
                self._flat[name] = None
            else:
                fields, problems = {}, []
                self._flatten_into(name, 0, fields, problems, 0, '')
                self._flat[name] = (fields, problems)
        return self._flat[name]

    def _flatten_into(self, name, base, out, problems, depth, via):
        ut = self.user_types[name]
        fields = ut.get('fields') if isinstance(ut, dict) else None
        for fname, f in (fields if isinstance(fields, dict) else {}).items():
            if not isinstance(f, dict):
                problems.append('field %s%s is not an object' % (via, fname))
                continue
            off = base + (f.get('offset') or 0)
            if not f.get('anonymous'):
                if fname in out:
                    problems.append('duplicate flattened field %s (via %s)' % (fname, via or '-'))
                out[fname] = (off, f.get('type'))
                continue
            t = f.get('type') or {}
            sub = t.get('name')
            if t.get('kind') not in STRUCT_KINDS or sub not in self.user_types:
                problems.append('anonymous member %s%s: %s is not a defined struct/union'
                                % (via, fname, desc(t)))
            elif depth >= MAX_ANON_DEPTH:
                problems.append('anonymous members nested deeper than %d at %s%s'
                                % (MAX_ANON_DEPTH, via, fname))
            else:
                self._flatten_into(sub, off, out, problems, depth + 1, via + fname + '.')

    def layout(self, name):
        """Shallow layout signature (kind, size, {(field, offset)}) or None if undefined."""
        if name not in self._layout:
            fl = self.flat(name)
            if fl is None:
                self._layout[name] = None
            else:
                ut = self.user_types[name] if isinstance(self.user_types[name], dict) else {}
                pairs = frozenset((n, off) for n, (off, _) in fl[0].items())
                self._layout[name] = (ut.get('kind'), ut.get('size'), pairs)
        return self._layout[name]

    def base_size(self, name):
        bt = self.base_types.get(name)
        return bt.get('size') if isinstance(bt, dict) else None


# ----------------------------------------------------------------------------------------------
# Allow-list

class AllowList:
    """Accepted differences: (category, glob, reason) lines; remembers which entries matched."""

    CATEGORIES = ('type', 'field', 'enum', 'base', 'symbol', 'symtype', 'banner', 'flatarray')

    def __init__(self, entries=()):
        self.entries = list(entries)      # (category, pattern, reason, where)
        self.used = set()
        self._exact = {}                  # (category, name) -> first entry index
        self._globs = collections.defaultdict(list)   # category -> [entry index]
        for i, (cat, pat, _, _) in enumerate(self.entries):
            if any(c in pat for c in '*?['):
                self._globs[cat].append(i)
            else:
                self._exact.setdefault((cat, pat), i)

    @classmethod
    def parse(cls, text, source='<allow>'):
        entries = []
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            where = '%s:%d' % (source, lineno)
            if len(parts) < 3:
                raise ValueError('%s: need "category name reason...": %r' % (where, line))
            if parts[0] not in cls.CATEGORIES:
                raise ValueError('%s: unknown category %r (one of %s)'
                                 % (where, parts[0], ', '.join(cls.CATEGORIES)))
            entries.append((parts[0], parts[1], parts[2], where))
        return cls(entries)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.parse(f.read(), path)

    def match(self, category, name):
        """The first entry accepting (category, name), marked used; None if none does."""
        hits = [i for i in self._globs.get(category, ())
                if fnmatch.fnmatchcase(name, self.entries[i][1])]
        if (category, name) in self._exact:
            hits.append(self._exact[(category, name)])
        if not hits:
            return None
        i = min(hits)
        self.used.add(i)
        return self.entries[i]

    def stale(self):
        return [e for i, e in enumerate(self.entries) if i not in self.used]


# ----------------------------------------------------------------------------------------------
# Results

class Category:
    """Outcome of one check: counts, failures (name, problems) and accepted ones."""

    def __init__(self, key, title, strict, allow_category):
        self.key, self.title, self.strict = key, title, strict
        self.allow_category = allow_category
        self.checked = 0
        self.passed = 0
        self.failed = []      # (name, [problem, ...])
        self.allowed = []     # (name, [problem, ...], [reason, ...])
        self.info = collections.OrderedDict()

    def record(self, name, problems, allow, field_category=None):
        """Count one checked item.  problems: list of str, or (subject, str) where subject
        (TYPE.FIELD) is what a `field_category` allow entry names.  A problem text that is a
        Why with a klass (e.g. 'flatarray') can be accepted by an entry of that class naming
        the subject (or the item)."""
        self.checked += 1
        if not problems:
            self.passed += 1
            return
        raw = [p[1] if isinstance(p, tuple) else p for p in problems]
        texts = [str(t) for t in raw]
        entry = allow.match(self.allow_category, name) if allow else None
        if entry:
            self.allowed.append((name, texts, [entry[2]]))
            return
        reasons, open_problems = [], []
        for p, why, text in zip(problems, raw, texts):
            subject = p[0] if isinstance(p, tuple) and p[0] else None
            sub = None
            if allow and field_category and subject:
                sub = allow.match(field_category, subject)
            if allow and not sub and getattr(why, 'klass', None):
                sub = allow.match(why.klass, subject or name)
            if sub:
                reasons.append(sub[2])
            else:
                open_problems.append(text)
        if open_problems:
            self.failed.append((name, open_problems))
        else:
            self.allowed.append((name, texts, reasons))

    @property
    def ok(self):
        return not self.failed

    def percent(self):
        return 100.0 * self.passed / self.checked if self.checked else 100.0

    def to_dict(self, max_items):
        return {
            'title': self.title, 'strict': self.strict, 'checked': self.checked,
            'passed': self.passed, 'allowed': len(self.allowed), 'failed': len(self.failed),
            'percent_equal': round(self.percent(), 3),
            'failures': [{'name': n, 'problems': p} for n, p in self.failed[:max_items]],
            'accepted': [{'name': n, 'problems': p, 'reasons': r}
                         for n, p, r in self.allowed[:max_items]],
            'info': self.info,
        }


class Report:
    """All categories of one comparison plus the allow-list state."""

    def __init__(self, categories, allow):
        self.categories = categories
        self.allow = allow

    @property
    def ok(self):
        return all(c.ok for c in self.categories if c.strict)

    def category(self, key):
        return next(c for c in self.categories if c.key == key)

    def stale(self):
        return self.allow.stale() if self.allow else []

    def to_dict(self, max_items=20):
        return {
            'ok': self.ok,
            'categories': {c.key: c.to_dict(max_items) for c in self.categories},
            'stale_allow_entries': [{'category': c, 'name': n, 'reason': r, 'where': w}
                                    for c, n, r, w in self.stale()],
        }

    def format_text(self, max_items=20):
        out = []
        for c in self.categories:
            out.extend(format_category(c, max_items))
        stale = self.stale()
        if self.allow is not None:
            out.append('allow-list: %d entries, %d used, %d stale'
                       % (len(self.allow.entries), len(self.allow.used), len(stale)))
            for cat, name, reason, where in stale:
                out.append('  STALE %s %s %s  (%s)' % (cat, name, reason, where))
        out.append('RESULT: %s' % ('PASS' if self.ok else 'FAIL'))
        return '\n'.join(out)


def format_category(c, max_items):
    """Text lines for one category: a summary, failures, accepted items, info."""
    tag = 'strict' if c.strict else 'informational'
    verdict = 'ok' if c.ok else 'FAILED'
    lines = ['%s [%s]: %d checked, %d equal (%.2f%%), %d allowed, %d failed -> %s'
             % (c.title, tag, c.checked, c.passed, c.percent(), len(c.allowed), len(c.failed),
                verdict if c.strict else 'info')]
    for name, problems in c.failed[:max_items]:
        lines.append('  FAIL %s: %s' % (name, '; '.join(problems[:8])
                                        + (' ...(+%d)' % (len(problems) - 8)
                                           if len(problems) > 8 else '')))
    if len(c.failed) > max_items:
        lines.append('  ... %d more' % (len(c.failed) - max_items))
    for name, problems, reasons in c.allowed[:max_items]:
        lines.append('  allowed %s: %s  [%s]' % (name, '; '.join(problems[:3]),
                                                 ' | '.join(sorted(set(reasons)))))
    for k, v in c.info.items():
        lines.append('  %s: %s' % (k, v))
    return lines


# ----------------------------------------------------------------------------------------------
# The comparison

class Comparator:
    """Compares OURS with REF; each compare_* method returns one Category."""

    def __init__(self, ref, ours, allow=None, needed=None, max_items=20):
        self.ref = Side(ref, 'REF')
        self.ours = Side(ours, 'OURS')
        self.allow = allow
        self.needed = list(needed) if needed is not None else default_needed()
        self.max_items = max_items
        self._layout_eq = {}
        self._ref_by_layout = None
        self.sign_notes = collections.Counter()      # (ref base, our base) -> uses
        self.layout_equivs = collections.Counter()   # (ref name, our name) matched by layout
        self.unverifiable = collections.Counter()    # (ref name, our name), REF undefined

    # --- type equivalence --------------------------------------------------------------------

    def type_diff(self, rt, ot):
        """None if REF descriptor rt and OURS descriptor ot are equivalent, else a message
        'type REF vs OURS (why)'."""
        why = self._why_differ(rt, ot)
        if why is None:
            return None
        return Why.of('type %s vs %s (%s)' % (desc(rt), desc(ot), why), why.klass)

    def _why_differ(self, rt, ot):
        """None if equivalent, else a short reason (a Why, of the innermost difference)."""
        why = self._why(rt, ot)
        return why if why is None or isinstance(why, Why) else Why(why)

    def _why(self, rt, ot):
        if not isinstance(rt, dict) or not isinstance(ot, dict):
            return 'not a descriptor'
        rk, ok = rt.get('kind'), ot.get('kind')
        if rk != ok and not (rk in STRUCT_KINDS and ok in STRUCT_KINDS):
            return 'kind %s vs %s' % (rk, ok)
        if rk == 'base':
            return self._base_why(rt, ot)
        if rk == 'pointer':
            return self._why_differ(rt.get('subtype'), ot.get('subtype'))
        if rk == 'array':
            return self._array_why(rt, ot)
        if rk in STRUCT_KINDS:
            return self._struct_ref_why(rt, ot)
        if rk == 'enum':
            return self._enum_ref_why(rt, ot)
        if rk == 'bitfield':
            return self._bitfield_why(rt, ot)
        if rk == 'function':
            return None
        return 'unknown kind %r' % rk

    def _array_why(self, rt, ot):
        """Same dimensions and equivalent elements.  pahole encodes a multi-dimensional array
        as one dimension of the same total size; that is reported as class 'flatarray'."""
        rd, relem = array_dims(rt)
        od, oelem = array_dims(ot)
        why = self._why_differ(relem, oelem)
        if why is not None or rd == od:
            return why
        if len(rd) > 1 and len(od) == 1 and product(rd) == od[0]:
            return Why.of('multi-dimensional array flattened', 'flatarray')
        return 'array dims %s vs %s' % (rd, od)

    def _base_why(self, rt, ot):
        rn, on = rt.get('name'), ot.get('name')
        rs, os_ = self.ref.base_size(rn), self.ours.base_size(on)
        if os_ is None:
            return 'base %r not in OURS base_types' % on
        if rs != os_:
            return '%s size %s vs %s size %s' % (rn, rs, on, os_)
        rb, ob = self.ref.base_types.get(rn) or {}, self.ours.base_types.get(on) or {}
        if rb.get('signed') != ob.get('signed'):
            self.sign_notes[(rn, on)] += 1
        return None

    def _struct_ref_why(self, rt, ot):
        rn, on = rt.get('name'), ot.get('name')
        if rt.get('kind') != ot.get('kind'):
            return 'kind %s vs %s' % (rt.get('kind'), ot.get('kind'))
        if rn == on and not is_unnamed(rn):
            return None
        if self.ref.layout(rn) is None:
            # REF refers to a type it does not define (a declaration only): no ground truth
            self.unverifiable[(rn, on)] += 1
            return None
        reason = self.layout_diff(rn, on)
        if reason is None and not (is_unnamed(rn) or is_unnamed(on)):
            self.layout_equivs[(rn, on)] += 1
        return reason

    def layout_diff(self, rn, on):
        """None if REF user type rn and OURS user type on have the same shallow layout."""
        key = (rn, on)
        if key not in self._layout_eq:
            rl, ol = self.ref.layout(rn), self.ours.layout(on)
            if rl is None:
                res = 'REF has no definition of %s' % rn
            elif ol is None:
                res = 'OURS has no definition of %s' % on
            elif rl[:2] != ol[:2]:
                res = 'layouts differ: %s/%s vs %s/%s' % (rl[0], rl[1], ol[0], ol[1])
            elif rl[2] != ol[2]:
                res = 'layouts differ: fields %s' % sorted(rl[2] ^ ol[2])[:4]
            else:
                res = None
            self._layout_eq[key] = res
        return self._layout_eq[key]

    def _enum_ref_why(self, rt, ot):
        rn, on = rt.get('name'), ot.get('name')
        if not (is_unnamed(rn) or is_unnamed(on)):
            return None if rn == on else 'enum names differ'
        re_, oe = self.ref.enums.get(rn), self.ours.enums.get(on)
        if oe is None:
            return 'enum %s not in OURS enums' % on
        if re_ is None or re_.get('constants') != oe.get('constants'):
            return 'enum constants differ'
        return None

    def _bitfield_why(self, rt, ot):
        for k in ('bit_position', 'bit_length'):
            if rt.get(k) != ot.get(k):
                return '%s %s vs %s' % (k, rt.get(k), ot.get(k))
        return self._why_differ(rt.get('type'), ot.get('type'))

    # --- user types --------------------------------------------------------------------------

    def compare_user_types(self, names=None):
        cat = Category('user_types', 'named user types', True, 'type')
        for name in sorted(names if names is not None else self.ref.user_types):
            if is_unnamed(name):
                continue
            cat.record(name, self.user_type_problems(name), self.allow, 'field')
        return cat

    def user_type_problems(self, name):
        """Problems of OURS' user type *name* against REF's: str or (TYPE.FIELD, str)."""
        r, o = self.ref.user_types[name], self.ours.user_types.get(name)
        if o is None:
            return ['missing in OURS' + self._missing_type_hint(name)]
        problems = []
        for k in ('kind', 'size'):
            if r.get(k) != o.get(k):
                problems.append('%s %s vs %s' % (k, r.get(k), o.get(k)))
        rf, rprob = self.ref.flat(name)
        of, oprob = self.ours.flat(name)
        problems.extend('REF: ' + p for p in rprob)
        problems.extend('OURS: ' + p for p in oprob)
        for fname, (roff, rtype) in rf.items():
            fkey = '%s.%s' % (name, fname)
            if fname not in of:
                problems.append((fkey, 'field %s missing (%s at %d)' % (fname, desc(rtype), roff)))
                continue
            ooff, otype = of[fname]
            if roff != ooff:
                problems.append((fkey, 'field %s offset %s vs %s' % (fname, roff, ooff)))
            d = self.type_diff(rtype, otype)
            if d:
                problems.append((fkey, Why.of('field %s: %s' % (fname, d), d.klass)))
        for fname in of:
            if fname not in rf:
                problems.append(('%s.%s' % (name, fname), 'extra field %s (%s at %d)'
                                 % (fname, desc(of[fname][1]), of[fname][0])))
        return problems

    def _missing_type_hint(self, name):
        """Name the REF keys with the same layout that OURS has (typedef aliases, usually)."""
        if self._ref_by_layout is None:
            self._ref_by_layout = collections.defaultdict(list)
            for n in self.ref.user_types:
                self._ref_by_layout[self.ref.layout(n)].append(n)
        twins = [n for n in self._ref_by_layout[self.ref.layout(name)]
                 if n != name and n in self.ours.user_types]
        named = sorted(n for n in twins if not is_unnamed(n))
        if named:
            return ' (REF has the same layout as %s, which OURS has)' % ', '.join(named[:3])
        if twins:
            return ' (REF has the same layout as an anonymous type OURS has)'
        return ''

    # --- enums -------------------------------------------------------------------------------

    def compare_enums(self):
        cat = Category('enums', 'named enums', True, 'enum')
        declarations = []
        for name in sorted(self.ref.enums):
            if is_unnamed(name):
                continue
            r = self.ref.enums[name]
            if not r.get('constants') and not r.get('size'):
                declarations.append(name)
            cat.record(name, self.enum_problems(name), self.allow)
        if declarations:
            cat.info['REF declaration-only enums (size 0, no constants; only presence checked)'] \
                = ', '.join(declarations)
        return cat

    def enum_problems(self, name):
        r, o = self.ref.enums[name], self.ours.enums.get(name)
        if o is None:
            return ['missing in OURS']
        if not r.get('constants') and not r.get('size'):
            return []
        problems = []
        if r.get('size') != o.get('size'):
            problems.append('size %s vs %s' % (r.get('size'), o.get('size')))
        want = self.ref.base_size(r.get('base'))
        have = self.ours.base_size(o.get('base'))
        if r.get('base') == 'void':
            # dwarf2json's fallback when no int base fits (1-byte enums): accept void too, or
            # a base of the enum's own size
            want = have if o.get('base') == 'void' else r.get('size')
        if want != have:
            problems.append('base %s (size %s) vs %s (size %s)'
                            % (r.get('base'), want, o.get('base'), have))
        rc, oc = r.get('constants') or {}, o.get('constants') or {}
        for k in sorted(set(rc) | set(oc), key=lambda k: (rc.get(k, oc.get(k)), k)):
            if k not in oc:
                problems.append('constant %s=%s missing' % (k, rc[k]))
            elif k not in rc:
                problems.append('extra constant %s=%s' % (k, oc[k]))
            elif rc[k] != oc[k]:
                problems.append('constant %s=%s vs %s' % (k, rc[k], oc[k]))
        return problems

    # --- base types --------------------------------------------------------------------------

    def compare_base_types(self):
        cat = Category('base_types', 'base types', False, 'base')
        for name in sorted(self.ref.base_types):
            r, o = self.ref.base_types[name], self.ours.base_types.get(name)
            if o is None:
                cat.record(name, ['missing in OURS'], self.allow)
                continue
            cat.record(name, ['%s %s vs %s' % (k, r.get(k), o.get(k))
                              for k in ('size', 'signed', 'kind') if r.get(k) != o.get(k)],
                       self.allow)
        extra = sorted(set(self.ours.base_types) - set(self.ref.base_types))
        if extra:
            cat.info['only in OURS'] = ', '.join(extra)
        return cat

    # --- symbols -----------------------------------------------------------------------------

    def common_symbols(self):
        rs, os_ = self.ref.symbols, self.ours.symbols
        small, big = (rs, os_) if len(rs) <= len(os_) else (os_, rs)
        return sorted(n for n in small if n in big)

    def compare_symbol_addresses(self, common=None):
        cat = Category('symbol_addresses', 'symbol addresses (names in both)', True, 'symbol')
        common = self.common_symbols() if common is None else common
        for name in common:
            ra = self.ref.symbols[name].get('address')
            oa = self.ours.symbols[name].get('address')
            cat.record(name, [] if ra == oa and type(ra) is type(oa) else
                       ['address %s vs %s' % (fmt_addr(ra), fmt_addr(oa))], self.allow)
        cat.info['only in REF'] = len(self.ref.symbols) - len(common)
        cat.info['only in OURS'] = len(self.ours.symbols) - len(common)
        return cat

    def symbol_type_problem(self, name):
        """(status, problem): status is 'equal', 'ref-untyped', 'ours-untyped' or 'differs'."""
        rt = self.ref.symbols[name].get('type')
        ot = self.ours.symbols[name].get('type')
        if rt is None or is_void(rt):
            return 'ref-untyped', None
        if ot is None or is_void(ot):
            return 'ours-untyped', 'REF %s, OURS %s' % (desc(rt), 'no type' if ot is None
                                                          else 'void')
        d = self.type_diff(rt, ot)
        return ('differs', d) if d else ('equal', None)

    def compare_all_symbol_types(self, common=None):
        cat = Category('symbol_types', 'symbol types (all names in both, REF typed)', False,
                       'symtype')
        common = self.common_symbols() if common is None else common
        status = collections.Counter()
        for name in common:
            st, problem = self.symbol_type_problem(name)
            status[st] += 1
            if st != 'ref-untyped':
                cat.record(name, [problem] if problem else [], self.allow)
        cat.info['REF untyped (void)'] = status['ref-untyped']
        cat.info['OURS untyped while REF typed'] = status['ours-untyped']
        cat.info['types differ'] = status['differs']
        return cat

    def compare_needed_symbols(self):
        cat = Category('needed_symbols', 'needed symbol types', True, 'symtype')
        absent = []
        for name in self.needed:
            if name not in self.ref.symbols:
                absent.append(name)
                continue
            if name not in self.ours.symbols:
                cat.record(name, ['missing in OURS'], self.allow)
                continue
            st, problem = self.symbol_type_problem(name)
            cat.record(name, [problem] if problem else [], self.allow)
        if absent:
            cat.info['not in REF (skipped)'] = ', '.join(absent)
        return cat

    # --- names Volatility3 compares as strings ---------------------------------------------

    def compare_volatility_names(self):
        """Informational: the two places where Volatility3 looks at a struct's *name*
        (isf-volatility3.md 7.1), which layout equivalence alone cannot vouch for."""
        cat = Category('volatility_names', 'names Volatility3 checks (ns_common.stashed, '
                       'cred.cap_*)', False, 'field')
        rt, ot = self._field_type(self.ref, 'ns_common', 'stashed'), \
            self._field_type(self.ours, 'ns_common', 'stashed')
        if rt and ot:
            same = rt.get('name') == ot.get('name') or 'atomic64_t' not in (rt.get('name'),
                                                                         ot.get('name'))
            cat.record('ns_common.stashed', [] if same else [
                '%s vs %s: Volatility3 picks the pre-6.9 path only for the name atomic64_t'
                % (desc(rt), desc(ot))], self.allow)
        if self._field_type(self.ref, 'cred', 'cap_effective'):
            cat.record('cred.cap_effective', self._cap_problems(self.ours), self.allow)
            cat.info['REF cred.cap_effective'] = '; '.join(self._cap_problems(self.ref)) or 'ok'
        return cat

    @staticmethod
    def _field_type(side, type_name, field):
        fl = side.flat(type_name)
        return fl[0].get(field, (None, None))[1] if fl else None

    def _cap_problems(self, side):
        """Volatility3 binds class kernel_cap_struct (needs member cap) or kernel_cap_t
        (needs member val, >= 6.3) by the referenced name."""
        t = self._field_type(side, 'cred', 'cap_effective') or {}
        need = {'kernel_cap_struct': 'cap', 'kernel_cap_t': 'val'}.get(t.get('name'))
        if need is None:
            return ['%s binds no Volatility3 capability class' % desc(t)]
        fl = side.flat(t['name'])
        if not fl or need not in fl[0]:
            return ['%s: Volatility3 class %s needs member %r, which it lacks: capabilities '
                    'fail' % (desc(t), t['name'], need)]
        return []

    # --- banner ------------------------------------------------------------------------------

    def compare_banner(self):
        cat = Category('banner', 'linux_banner constant_data', True, 'banner')
        rb = decode_banner(self.ref.symbols.get('linux_banner'))
        ob = decode_banner(self.ours.symbols.get('linux_banner'))
        if rb is None:
            problems = ['REF has no valid linux_banner constant_data']
        elif ob is None:
            problems = ['OURS has no valid linux_banner constant_data']
        elif rb != ob:
            i = next((i for i, (a, b) in enumerate(zip(rb, ob)) if a != b), min(len(rb), len(ob)))
            problems = ['differ at byte %d: REF %r vs OURS %r' % (i, rb[max(0, i - 10):i + 30],
                                                                ob[max(0, i - 10):i + 30])]
        else:
            problems = []
        cat.record('linux_banner', problems, self.allow)
        if rb is not None:
            cat.info['REF banner'] = repr(rb)
        return cat

    # --- everything --------------------------------------------------------------------------

    CHECKS = ('user_types', 'enums', 'base_types', 'symbol_addresses', 'needed_symbols',
              'symbol_types', 'banner', 'volatility_names')

    def run(self, only=None):
        """Run all checks, or the keys of CHECKS listed in only; returns a Report."""
        keys = [k for k in self.CHECKS if only is None or k in only]
        common = self.common_symbols() if {'symbol_addresses', 'symbol_types'} & set(keys) \
            else None
        run = {'user_types': self.compare_user_types, 'enums': self.compare_enums,
               'base_types': self.compare_base_types,
               'symbol_addresses': lambda: self.compare_symbol_addresses(common),
               'needed_symbols': self.compare_needed_symbols,
               'symbol_types': lambda: self.compare_all_symbol_types(common),
               'banner': self.compare_banner,
               'volatility_names': self.compare_volatility_names}
        cats = [run[k]() for k in keys]
        if cats:
            self._add_type_notes(cats[0])
        return Report(cats, self.allow)

    def _add_type_notes(self, cat):
        """Informational notes gathered while comparing types."""
        if self.sign_notes:
            cat.info['base signedness differs (REF vs OURS: uses)'] = ', '.join(
                '%s vs %s: %d' % (r, o, n) for (r, o), n in self.sign_notes.most_common(10))
        if self.layout_equivs:
            pairs = sorted(self.layout_equivs.items(), key=lambda kv: (-kv[1], kv[0]))
            cat.info['struct references matched by layout (%d name pairs)' % len(pairs)] = \
                ', '.join('%s~%s' % pair for pair, _ in pairs[:self.max_items])
        if self.unverifiable:
            pairs = sorted(self.unverifiable)
            cat.info['references to types REF does not define, accepted unverified '
                     '(%d name pairs)' % len(pairs)] = \
                ', '.join('%s~%s' % pair for pair in pairs[:self.max_items])


def fmt_addr(a):
    return '%#x' % a if isinstance(a, int) and not isinstance(a, bool) else repr(a)


def compare(ref, ours, allow=None, needed=None, max_items=20, only=None):
    """Compare two loaded ISFs; returns a Report (``report.ok`` is the verdict).
    only: a subset of Comparator.CHECKS to run (default: all)."""
    return Comparator(ref, ours, allow=allow, needed=needed, max_items=max_items).run(only)


# ----------------------------------------------------------------------------------------------
# CLI

def parse_args(argv):
    ap = argparse.ArgumentParser(description='Compare a btf2isf ISF with dwarf2json\'s ISF.')
    ap.add_argument('ours', help='ISF to check (.json, .json.xz, .json.gz)')
    ap.add_argument('ref', help='reference ISF from dwarf2json')
    ap.add_argument('--allow', help='allow-list: "category name reason..." per line')
    ap.add_argument('--needed', help='needed-symbols list (default: $REF/needed-symbols.txt '
                                     'or a built-in copy)')
    ap.add_argument('--max', type=int, default=20, help='mismatches listed per category')
    ap.add_argument('--json', action='store_true', help='print the report as JSON')
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        allow = AllowList.load(args.allow) if args.allow else None
        needed = read_name_list(args.needed) if args.needed else None
        ours = load_isf(args.ours)
        ref = load_isf(args.ref)
    except (OSError, ValueError, lzma.LZMAError) as e:
        print('isfcmp: %s' % e, file=sys.stderr)
        return 2
    try:
        report = compare(ref, ours, allow=allow, needed=needed, max_items=args.max)
    except (AttributeError, TypeError, KeyError) as e:
        print('isfcmp: malformed ISF (check it with isfvalidate.py): %r' % e, file=sys.stderr)
        return 2
    if args.json:
        json.dump(report.to_dict(args.max), sys.stdout, indent=1)
        print()
    else:
        print('isfcmp: OURS=%s REF=%s' % (args.ours, args.ref))
        print(report.format_text(args.max))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
