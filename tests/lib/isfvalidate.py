#!/usr/bin/python3
"""isfvalidate: check that an ISF file would load in Volatility3 as a Linux kernel symbol table.

Usage:  isfvalidate.py FILE[.xz|.gz] [--schema schema-6.2.0.json] [--mandatory FILE]
                       [--no-schema] [--full] [--max N]

Two kinds of checks:

1. JSON schema: the file is validated with python3-jsonschema against Volatility3's
   schema-6.2.0.json (``--schema``, else ``$REF/schema-6.2.0.json``, else the copy in a Volatility3
   source tree at ``$CACHE/volatility3``, where tests/t_volatility looks for one), as Volatility3
   does when it loads the file.  A verbatim validation of a 60 MB ISF takes over a minute, so by default the
   document is split along the schema's own structure (top level, each user type without its
   fields, each field, each symbol) and identical pieces are validated once; integer offsets,
   sizes and addresses are replaced by 0 for that, which is exact because schema 6.2.0 only
   constrains their JSON type.  ``--full`` validates the whole document verbatim instead.
2. Invariants the schema cannot express (isf-volatility3.md section 7.2): every base type,
   enum and anonymous-member struct referenced exists; ``void`` and ``pointer`` base types exist;
   the user types Volatility3's Linux symbol table requires exist (mandatory-types.txt from
   ``--mandatory``, ``$REF``, or a built-in copy); ``init_task``, ``init_files``, ``init_top_pgt``
   and ``linux_banner`` (with base64 ``constant_data``) exist; every symbol has a ``type``;
   ``metadata.format`` is "6.2.0"; a producer is named; metadata source kinds are only
   dwarf|symtab|system-map; addresses are integers in [0, 2^64).  References to undefined
   structs are only counted (Volatility3 fails on them lazily, and dwarf2json has some too).

The two are independent: the invariants always run (they need nothing but the file), the schema
when one is found.  Exit status: 0 valid; 1 violations of either (the first --max are printed);
2 unreadable input; 77 the invariants hold but no schema (or no jsonschema module) is available --
the reason is the last line.  Functions ``check_invariants(isf, mandatory)`` and ``schema_errors(isf, schema)``
return lists of messages for use from Python.
"""

import argparse
import base64
import binascii
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
from isfcmp import load_isf, read_name_list  # noqa: E402

STRUCT_KINDS = ('struct', 'union', 'class')
SOURCE_KINDS = ('dwarf', 'symtab', 'system-map')
REQUIRED_SYMBOLS = ('init_task', 'init_files', 'init_top_pgt', 'linux_banner')
U64_LIMIT = 1 << 64

# Copy of reference/mandatory-types.txt (symbols/linux/__init__.py set_type_class calls).
BUILTIN_MANDATORY = """
file list_head hlist_head mm_struct super_block task_struct vm_area_struct qstr dentry
fs_struct files_struct kobject cred inode idr address_space page vfsmount net socket sock
inet_sock unix_sock
""".split()


# ----------------------------------------------------------------------------------------------
# Invariants

class Refs:
    """Names referenced by type descriptors, each with the first place it was seen."""

    def __init__(self):
        self.base, self.enum, self.struct = {}, {}, {}

    def walk(self, t, where):
        while isinstance(t, dict):
            kind = t.get('kind')
            if kind == 'base':
                self.base.setdefault(t.get('name'), where)
            elif kind == 'enum':
                self.enum.setdefault(t.get('name'), where)
            elif kind in STRUCT_KINDS:
                self.struct.setdefault(t.get('name'), where)
            if kind == 'pointer' and 'base' in t:
                self.base.setdefault(t.get('base'), where)
            t = t.get('type') if kind == 'bitfield' else t.get('subtype')


def as_dict(x):
    return x if isinstance(x, dict) else {}


def collect_refs(isf):
    """Walk every field, symbol type and enum base; return a Refs."""
    refs = Refs()
    for name, ut in as_dict(isf.get('user_types')).items():
        for fname, f in as_dict(as_dict(ut).get('fields')).items():
            refs.walk(as_dict(f).get('type'), 'user_types.%s.%s' % (name, fname))
    for name, sym in as_dict(isf.get('symbols')).items():
        refs.walk(as_dict(sym).get('type'), 'symbols.%s' % name)
    for name, en in as_dict(isf.get('enums')).items():
        refs.base.setdefault(as_dict(en).get('base'), 'enums.%s.base' % name)
    return refs


def check_metadata(isf):
    meta = as_dict(isf.get('metadata'))
    out = []
    if meta.get('format') != '6.2.0':
        out.append('metadata.format is %r, not "6.2.0"' % meta.get('format'))
    prod = as_dict(meta.get('producer'))
    if not (isinstance(prod.get('name'), str) and prod.get('name')
            and isinstance(prod.get('version'), str) and prod.get('version')):
        out.append('metadata.producer needs a name and a version: %r' % meta.get('producer'))
    for os_name in ('linux', 'mac'):
        for sect in ('symbols', 'types'):
            items = as_dict(meta.get(os_name)).get(sect) or []
            for i, item in enumerate(items if isinstance(items, list) else [items]):
                kind = as_dict(item).get('kind')
                if kind not in SOURCE_KINDS:
                    out.append('metadata.%s.%s[%d].kind %r is not one of %s'
                               % (os_name, sect, i, kind, '|'.join(SOURCE_KINDS)))
    return out


def check_references(isf, refs):
    out = []
    base_types, enums = as_dict(isf.get('base_types')), as_dict(isf.get('enums'))
    for name in ('void', 'pointer'):
        if name not in base_types:
            out.append('base type %r missing' % name)
    for name, where in sorted(refs.base.items(), key=str):
        if name not in base_types:
            out.append('base type %r referenced (first by %s) is not in base_types'
                       % (name, where))
    for name, where in sorted(refs.enum.items(), key=str):
        if name not in enums:
            out.append('enum %r referenced (first by %s) is not in enums' % (name, where))
    return out


def check_anonymous_members(isf):
    out = []
    user_types = as_dict(isf.get('user_types'))
    for name, ut in user_types.items():
        for fname, f in as_dict(as_dict(ut).get('fields')).items():
            if not as_dict(f).get('anonymous'):
                continue
            t = as_dict(as_dict(f).get('type'))
            if t.get('kind') not in STRUCT_KINDS:
                out.append('user_types.%s.%s is anonymous but its type is not a struct/union '
                           'reference: %r' % (name, fname, t))
            elif t.get('name') not in user_types:
                out.append('user_types.%s.%s is anonymous and references undefined %s %r'
                           % (name, fname, t.get('kind'), t.get('name')))
    return out


def check_symbols(isf, mandatory):
    out = []
    user_types, symbols = as_dict(isf.get('user_types')), as_dict(isf.get('symbols'))
    for name in mandatory:
        if name not in user_types:
            out.append('mandatory user type %r missing' % name)
    for name in REQUIRED_SYMBOLS:
        if name not in symbols:
            out.append('symbol %r missing' % name)
    banner = as_dict(symbols.get('linux_banner'))
    if 'linux_banner' in symbols and not valid_base64(banner.get('constant_data')):
        out.append('symbol linux_banner has no valid base64 constant_data')
    for name, sym in symbols.items():
        sym = as_dict(sym)
        if 'type' not in sym:
            out.append('symbol %r has no type' % name)
        a = sym.get('address')
        if type(a) is not int or not 0 <= a < U64_LIMIT:
            out.append('symbol %r address %r is not an integer in [0, 2^64)' % (name, a))
    return out


def valid_base64(s):
    if not isinstance(s, str) or not s:
        return False
    try:
        base64.b64decode(s, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def check_invariants(isf, mandatory=None):
    """(violations, notes): Volatility3 requirements the JSON schema cannot express."""
    if not isinstance(isf, dict):
        return ['the document is not a JSON object'], []
    mandatory = BUILTIN_MANDATORY if mandatory is None else mandatory
    refs = collect_refs(isf)
    violations = (check_metadata(isf) + check_references(isf, refs)
                  + check_anonymous_members(isf) + check_symbols(isf, mandatory))
    user_types = as_dict(isf.get('user_types'))
    undefined = sorted((n for n in refs.struct if n not in user_types), key=str)
    notes = []
    if undefined:
        notes.append('%d referenced struct/union names have no definition (fail lazily in '
                     'Volatility3), e.g. %s' % (len(undefined), ', '.join(map(str, undefined[:8]))))
    return violations, notes


# ----------------------------------------------------------------------------------------------
# JSON schema

def make_validator(schema, definition=None):
    """A jsonschema validator for the whole schema, or for one of its definitions."""
    import jsonschema
    if definition is not None:
        schema = {'$ref': '#/definitions/' + definition, 'definitions': schema['definitions']}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # "$schema ... not found, using the latest draft"
        cls = jsonschema.validators.validator_for(schema)
        return cls(schema)


def format_error(where, err):
    path = '/'.join(str(p) for p in err.absolute_path)
    return '%s: %s' % ('/'.join(x for x in (where, path) if x) or '(root)', err.message[:300])


def zero_ints(d, keys):
    """Copy of dict d with the integer values of keys replaced by 0 (their only constraint)."""
    return {k: (0 if k in keys and type(v) is int else v) for k, v in d.items()}


def validate_unique(validator, items, limit):
    """Validate (where, instance) pairs, each distinct instance once; error messages."""
    seen, errors = set(), []
    for where, inst in items:
        key = json.dumps(inst, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        for err in validator.iter_errors(inst):
            errors.append(format_error(where, err))
            if len(errors) >= limit:
                return errors
    return errors


def schema_items(isf):
    """Split the document into (definition, where, instance) pieces, see the docstring."""
    user_types, symbols = isf.get('user_types'), isf.get('symbols')
    top = dict(isf)
    if isinstance(user_types, dict):
        top['user_types'] = {}
    if isinstance(symbols, dict):
        top['symbols'] = {}
    pieces = {None: [('', top)], 'element_user_type': [], 'field': [], 'element_symbol': []}
    for name, ut in (user_types.items() if isinstance(user_types, dict) else ()):
        fields = ut.get('fields') if isinstance(ut, dict) else None
        if isinstance(fields, dict):
            ut = zero_ints(dict(ut, fields={}), ('size',))
            for fname, f in fields.items():
                inst = zero_ints(f, ('offset',)) if isinstance(f, dict) else f
                pieces['field'].append(('user_types/%s/fields/%s' % (name, fname), inst))
        pieces['element_user_type'].append(('user_types/%s' % name, ut))
    for name, sym in (symbols.items() if isinstance(symbols, dict) else ()):
        inst = zero_ints(sym, ('address',)) if isinstance(sym, dict) else sym
        pieces['element_symbol'].append(('symbols/%s' % name, inst))
    return pieces


def schema_errors(isf, schema, full=False, limit=20):
    """Messages for schema violations (at most limit)."""
    if full or not isinstance(isf, dict):
        return [format_error('', e) for _, e in zip(range(limit),
                                                    make_validator(schema).iter_errors(isf))]
    errors = []
    for definition, items in schema_items(isf).items():
        validator = make_validator(schema, definition)
        errors.extend(validate_unique(validator, items, limit - len(errors)))
        if len(errors) >= limit:
            break
    return errors


def schema_candidates():
    """Where a copy of schema-6.2.0.json may be, without --schema: the reference data, then
    Volatility3's own source tree (it ships the schema) in the cache."""
    out = []
    if os.environ.get('REF'):
        out.append(os.path.join(os.environ['REF'], 'schema-6.2.0.json'))
    cache = os.environ.get('CACHE') or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    '..', '..', '.cache')
    out.append(os.path.normpath(os.path.join(cache, 'volatility3', 'volatility3', 'schemas',
                                             'schema-6.2.0.json')))
    return out


def find_schema(path):
    """(schema dict, None) or (None, reason)."""
    if path is None:
        found = [p for p in schema_candidates() if os.path.isfile(p)]
        if not found:
            return None, ('no schema: %s%s; give --schema'
                          % ('' if os.environ.get('REF') else '$REF is unset; ',
                             ', '.join('no ' + p for p in schema_candidates())))
        path = found[0]
    if not os.path.isfile(path):
        return None, 'no schema: %s does not exist' % path
    try:
        import jsonschema
        del jsonschema                  # only probing that it is installed
    except ImportError:
        return None, 'no jsonschema module in %s (use /usr/bin/python3 with python3-jsonschema)' \
            % sys.executable
    with open(path) as f:
        return json.load(f), None


# ----------------------------------------------------------------------------------------------
# CLI

def default_mandatory(path):
    if path:
        return read_name_list(path)
    ref = os.environ.get('REF')
    if ref and os.path.isfile(os.path.join(ref, 'mandatory-types.txt')):
        return read_name_list(os.path.join(ref, 'mandatory-types.txt'))
    return list(BUILTIN_MANDATORY)


def parse_args(argv):
    ap = argparse.ArgumentParser(description='Validate an ISF for Volatility3 (format 6.2.0).')
    ap.add_argument('file', help='ISF (.json, .json.xz, .json.gz)')
    ap.add_argument('--schema', help='schema-6.2.0.json (default: $REF/schema-6.2.0.json, else '
                                     "Volatility3's in $CACHE/volatility3)")
    ap.add_argument('--mandatory', help='mandatory user types, one per line '
                                        '(default: $REF/mandatory-types.txt or built-in)')
    ap.add_argument('--no-schema', action='store_true', help='check the invariants only')
    ap.add_argument('--full', action='store_true', help='validate the document verbatim (slow)')
    ap.add_argument('--max', type=int, default=20, help='violations printed')
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        mandatory = default_mandatory(args.mandatory)
        isf = load_isf(args.file)
    except (OSError, ValueError) as e:
        print('isfvalidate: %s' % e, file=sys.stderr)
        return 2
    # The two parts are reported apart: a missing schema never hides the invariants' verdict.
    violations, notes = check_invariants(isf, mandatory)
    for note in notes:
        print('note: ' + note)
    print('invariants: %s' % ('%d violations' % len(violations) if violations else 'OK'))
    schema, reason = (None, 'not asked (--no-schema)') if args.no_schema else find_schema(args.schema)
    if schema is not None:
        errs = ['schema: ' + m for m in schema_errors(isf, schema, args.full, args.max)]
        print('schema 6.2.0: %s' % ('%d violations' % len(errs) if errs else 'OK'))
        violations += errs
    else:
        print('schema 6.2.0: not checked: %s' % reason)
    for v in violations[:args.max]:
        print('VIOLATION ' + v)
    if len(violations) > args.max:
        print('... %d more violations' % (len(violations) - args.max))
    if violations:
        print('isfvalidate: %s: INVALID (%d violations)' % (args.file, len(violations)))
        return 1
    if schema is None and not args.no_schema:
        print('isfvalidate: invariants hold, schema not checked')
        print(reason)
        return 77
    print('isfvalidate: %s: OK (%s)' % (args.file, 'invariants only' if args.no_schema
                                         else 'schema 6.2.0 and invariants'))
    return 0

if __name__ == '__main__':
    sys.exit(main())
