#!/usr/bin/env python3
"""Compiles libphonenumber's metadata into the tables the phone validator reads (dev-time).

    pip install phonenumbers==9.0.43
    scripts/phone-metadata.py     # writes Sources/OEMSyncMapping/Validators/Phone/PhoneMetadataTables.swift

libphonenumber judges a national number by matching it against one regular expression per number
type (fixed line, mobile, toll free, ...) of its region, each with its own possible lengths. Running
hundreds of those expressions per parse would cost far more than the microsecond a parse may take,
so this script turns every region's expressions into one minimal deterministic automaton over the
ten digits: walking a national number through it gives, in one pass, whether the general pattern
matches and which number type libphonenumber's `number_type` would answer (its order of checks and
its possible-length rule are applied here, once). The small expressions used for prefixes (the
international and national prefixes, the leading digits that pick a region sharing a country code)
are kept as text: the Swift side runs them with Python's own matching rules (`DigitPattern`).

Regenerate after a phonenumbers upgrade and review the diff together with the golden corpus.
"""
import base64
import struct
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Sources/OEMSyncMapping/Validators/Phone/PhoneMetadataTables.swift"
MAX_NSN = 17  # libphonenumber's _MAX_LENGTH_FOR_NSN: no national number is longer.

# PhoneNumberType order of `_number_type_helper`, and the codes the Swift side knows them by.
TYPES = ["unknown", "fixed_line", "mobile", "fixed_line_or_mobile", "toll_free", "premium_rate",
         "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail"]
SPECIAL = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail"]


# --- a regex parser for the subset libphonenumber's national number patterns use ---------------
# Nodes: ("set", frozenset of digits), ("cat", [nodes]), ("alt", [nodes]), ("rep", node, lo, hi).

def parse_pattern(text):
    pos = 0

    def peek():
        return text[pos] if pos < len(text) else None

    def alternation():
        nonlocal pos
        branches = [sequence()]
        while peek() == "|":
            pos += 1
            branches.append(sequence())
        return ("alt", branches)

    def sequence():
        items = []
        while peek() is not None and peek() not in "|)":
            items.append(quantified(atom()))
        return ("cat", items)

    def atom():
        nonlocal pos
        c = text[pos]
        if c == "(":
            pos += 1
            if text.startswith("?:", pos):
                pos += 2
            node = alternation()
            assert text[pos] == ")", text
            pos += 1
            return node
        if c == "[":
            end = text.index("]", pos)
            body = text[pos + 1:end]
            pos = end + 1
            digits = set()
            i = 0
            while i < len(body):
                if body.startswith("\\d", i):
                    digits |= set("0123456789")
                    i += 2
                elif i + 2 < len(body) and body[i + 1] == "-":
                    digits |= {str(d) for d in range(int(body[i]), int(body[i + 2]) + 1)}
                    i += 3
                else:
                    assert body[i].isdigit(), text
                    digits.add(body[i])
                    i += 1
            return ("set", frozenset(digits))
        if text.startswith("\\d", pos):
            pos += 2
            return ("set", frozenset("0123456789"))
        assert c.isdigit(), (c, text)
        pos += 1
        return ("set", frozenset(c))

    def quantified(node):
        nonlocal pos
        while True:
            c = peek()
            if c == "?":
                pos += 1
                node = ("rep", node, 0, 1)
            elif c == "{":
                end = text.index("}", pos)
                spec = text[pos + 1:end]
                pos = end + 1
                lo, _, hi = spec.partition(",")
                node = ("rep", node, int(lo), int(hi) if hi else (int(lo) if "," not in spec else MAX_NSN))
            elif c in ("*", "+"):
                pos += 1
                node = ("rep", node, 0 if c == "*" else 1, MAX_NSN)
            else:
                return node

    tree = alternation()
    assert pos == len(text), text
    return tree


# --- Thompson NFA ------------------------------------------------------------------------------

class NFA:
    def __init__(self):
        self.eps = []    # state -> [states]
        self.moves = []  # state -> [(digitset, state)]

    def state(self):
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1

    def build(self, node):
        """Returns (start, end) of a fragment."""
        kind = node[0]
        if kind == "set":
            s, e = self.state(), self.state()
            self.moves[s].append((node[1], e))
            return s, e
        if kind == "cat":
            s = e = self.state()
            for item in node[1]:
                a, b = self.build(item)
                self.eps[e].append(a)
                e = b
            return s, e
        if kind == "alt":
            s, e = self.state(), self.state()
            for branch in node[1]:
                a, b = self.build(branch)
                self.eps[s].append(a)
                self.eps[b].append(e)
            return s, e
        _, inner, lo, hi = node
        s = e = self.state()
        for i in range(hi):
            a, b = self.build(inner)
            self.eps[e].append(a)
            if i >= lo:
                self.eps[e].append(b)  # skip this optional copy (and so the rest)
            e = b
        if lo == 0 and hi == 0:
            pass
        return s, e


def closure(nfa, states):
    seen = set(states)
    stack = list(states)
    while stack:
        s = stack.pop()
        for t in nfa.eps[s]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return frozenset(seen)


def region_automaton(meta):
    """One DFA over (digits, depth) for a region; each state labelled with a byte:
    bit 7 = the general pattern matches (no length check, as `_match_national_number`),
    bit 6 = more digits can lead to a valid number,
    bits 0-3 = the PhoneNumberType `_number_type_helper` answers (0 = unknown)."""
    nfa = NFA()
    descs = [("general", meta.general_desc)] + [(t, getattr(meta, t)) for t in SPECIAL + ["fixed_line", "mobile"]]
    starts, finals, lengths = [], [], []
    for name, desc in descs:
        if desc is None or not desc.national_number_pattern:
            continue
        s, e = nfa.build(parse_pattern(desc.national_number_pattern))
        starts.append(s)
        finals.append((name, e))
        lengths.append(set(desc.possible_length or ()))

    def label(nstates, depth):
        matched = {name for (name, e) in finals if e in nstates}
        ok = {name for (name, e), lens in zip(finals, lengths) if e in nstates and (not lens or depth in lens)}
        byte = 0x80 if "general" in matched else 0
        if "general" in ok:
            t = "unknown"
            for special in SPECIAL:
                if special in ok:
                    t = special
                    break
            else:
                if "fixed_line" in ok:
                    mobile = meta.same_mobile_and_fixed_line_pattern or "mobile" in ok
                    t = "fixed_line_or_mobile" if mobile else "fixed_line"
                elif not meta.same_mobile_and_fixed_line_pattern and "mobile" in ok:
                    t = "mobile"
            byte |= TYPES.index(t)
        return byte

    # Subset construction; the depth is part of the state because the possible lengths are.
    start = (closure(nfa, starts), 0)
    index = {start: 1}
    order = [start]
    trans = {}
    i = 0
    while i < len(order):
        nstates, depth = order[i]
        i += 1
        row = []
        for d in "0123456789":
            nxt = set()
            if depth < MAX_NSN:
                for s in nstates:
                    for digits, t in nfa.moves[s]:
                        if d in digits:
                            nxt.add(t)
            if not nxt:
                row.append(0)
                continue
            key = (closure(nfa, nxt), depth + 1)
            if key not in index:
                index[key] = len(order) + 1
                order.append(key)
            row.append(index[key])
        trans[index[(nstates, depth)]] = row
    labels = {index[k]: label(*k) for k in order}
    rows, labs = minimize(len(order), trans, labels)
    # Bit 6: more digits can still make a valid number (for the reason "too short").
    changed = True
    while changed:
        changed = False
        for s in range(1, len(rows)):
            if labs[s] & 0x40:
                continue
            if any(t and (labs[t] & 0x0F or labs[t] & 0x40) for t in rows[s]):
                labs[s] |= 0x40
                changed = True
    return rows, labs


def minimize(n, trans, labels):
    """Moore partition refinement; state 0 is the dead state. Returns (rows, labels), start = 1."""
    block = {0: ("dead",)}
    for s in range(1, n + 1):
        block[s] = ("live", labels[s])
    while True:
        sig = {0: ("dead",)}
        for s in range(1, n + 1):
            sig[s] = (block[s],) + tuple(block[t] for t in trans[s])
        ids = {}
        new = {}
        for s in range(0, n + 1):
            new[s] = ids.setdefault(sig[s], len(ids))
        if len(set(new.values())) == len(set(block.values())):
            break
        block = new
    # Renumber: dead = 0, start = 1, then by first appearance.
    numbering = {new[0]: 0, new[1]: 1}
    for s in range(1, n + 1):
        numbering.setdefault(new[s], len(numbering))
    rows = [[0] * 10 for _ in range(len(numbering))]
    labs = [0] * len(numbering)
    for s in range(1, n + 1):
        b = numbering[new[s]]
        rows[b] = [numbering[new[t]] for t in trans[s]]
        labs[b] = labels[s]
    return rows, labs


def lengths_mask(lengths):
    mask = 0
    for n in lengths:
        if n > 0:
            mask |= 1 << n
    return mask


def swift_string(s):
    return '"' + (s or "").replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    nongeo = sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    entries = [(r, PhoneMetadata.metadata_for_region(r)) for r in regions]
    entries += [("001:%d" % c, PhoneMetadata.metadata_for_nongeo_region(c)) for c in nongeo]
    table = []      # all rows, global state numbers; 0 is the shared dead state
    label_bytes = []
    table.append([0] * 10)
    label_bytes.append(0)
    records = []
    for name, meta in entries:
        rows, labs = region_automaton(meta)
        base = len(table) - 1  # local state k (k >= 1) is global base + k
        for k in range(1, len(rows)):
            table.append([0 if t == 0 else base + t for t in rows[k]])
            label_bytes.append(labs[k])
        records.append((name, meta, base + 1))
        print(f"{name}: {len(rows) - 1} states", file=sys.stderr)
    assert len(table) < 1 << 16, len(table)
    blob = b"".join(struct.pack("<10H", *row) for row in table)
    transitions = base64.b64encode(blob).decode()
    labels = base64.b64encode(bytes(label_bytes)).decode()

    lines = []
    lines.append("// Generated by scripts/phone-metadata.py from phonenumbers %s (libphonenumber's metadata). Do not edit."
                 % importlib_metadata.version("phonenumbers"))
    lines.append("// swift-format-ignore-file")
    lines.append("")
    lines.append("extension PhoneMetadata {")
    lines.append("    /// The phonenumbers release the tables were compiled from.")
    lines.append('    static let libraryVersion = "%s"' % importlib_metadata.version("phonenumbers"))
    lines.append("")
    lines.append("    /// Every region and non-geographic entity: id, country code, international prefix, national")
    lines.append("    /// prefix for parsing, its transform rule, leading digits, possible lengths and local-only lengths")
    lines.append("    /// (bit n set: n digits), and the start state of its automaton in ``transitions``.")
    lines.append("    static let generatedRegions: [RegionRecord] = [")
    for name, meta, start in records:
        lines.append("        RegionRecord(%s, %d, %s, %s, %s, %s, 0x%x, 0x%x, %d)," % (
            swift_string(name), meta.country_code, swift_string(meta.international_prefix),
            swift_string(meta.national_prefix_for_parsing), swift_string(meta.national_prefix_transform_rule),
            swift_string(meta.leading_digits), lengths_mask(meta.general_desc.possible_length),
            lengths_mask(meta.general_desc.possible_length_local_only), start))
    lines.append("    ]")
    lines.append("")
    lines.append("    /// The regions of each country code, in libphonenumber's order (the main country first).")
    lines.append("    static let generatedCountryCodes: [(Int, [String])] = [")
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        ids = ["001:%d" % cc if r == "001" else r for r in COUNTRY_CODE_TO_REGION_CODE[cc]]
        lines.append("        (%d, [%s])," % (cc, ", ".join(swift_string(r) for r in ids)))
    lines.append("    ]")
    lines.append("")
    lines.append("    /// %d states x 10 digits, little-endian UInt16 (state 0: no number continues this way)." % len(table))
    lines.append("    static let generatedTransitions = %s" % swift_string(transitions))
    lines.append("")
    lines.append("    /// One byte per state: bit 7, the general pattern matches; bit 6, more digits can make a valid")
    lines.append("    /// number; bits 0-3, the number type.")
    lines.append("    static let generatedLabels = %s" % swift_string(labels))
    lines.append("}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(records)} regions, {len(table)} states, {len(blob) // 1024} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
