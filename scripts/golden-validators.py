#!/usr/bin/env python3
"""Generates the golden corpora the validator tests compare against (dev-time; the tests only read them).

    pip install vininfo==1.11.0 phonenumbers==9.0.43
    scripts/golden-validators.py     # writes fixtures/validators/vin-golden.jsonl and phone-golden.jsonl

Each line is one input with the reference library's verdict. The first line says what made the
corpus (library versions, the seed, the year the model-year candidates were computed in). The
inputs are deterministic (seeded); regenerate after a library upgrade and review the diff.

VINs: valid ones from vininfo's WMI list and every region, wrong check digits, letters I/O/Q and
other bad characters (with the O->0 / I->1 typos a check digit can fix), wrong lengths,
placeholders, EU-style VINs without a check digit, year codes U/Z/0, and the dirty forms OEM files
carry (lowercase, spaces, hyphens, full-width). The reference verdict is vininfo's on the input
normalised by oemsync's policy (NFKC, uppercase, no spaces, tabs, '-', '.', '_'), since vininfo
itself only strips and uppercases.

Phones: for CN, US, CA, DE, GB, JP, KR, HK and TW, numbers of every type the metadata has (from its
example numbers, with random digits after a random prefix, so that valid and unallocated ranges both
appear), too short and too long, every Chinese 1XY mobile block and 3- and 4-digit area codes with 7
and 8 digit subscribers, short codes and 400/800 numbers; each written in the forms dealers' data
has them (E.164, international, national, trunk 0, the international prefix, the country code
without '+', '(0)', RFC 3966, dots and dashes, full-width), with extensions, masked, several in one
field, and with letters. Every other region gets numbers in international form. The reference
verdict is phonenumbers' `parse` + `is_valid_number` (E.164, extension, type, region). Where the
reference is wrong about dirty input (scripts/../fixtures/validators/phone-golden-exceptions.tsv names
the kinds and why), the row holds the reference's verdict on the input made clean (`input`), next to
its verdict on the raw field (`raw_verdict`).
"""
import json
import random
import sys
import unicodedata
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import phonenumbers as pn
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from vininfo import Vin
from vininfo.dicts import WMI
from vininfo.exceptions import ValidationError

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261201
CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))}
WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def check_digit(vin):
    r = sum(VALUES[c] * w for c, w in zip(vin, WEIGHTS)) % 11
    return "X" if r == 10 else str(r)


def with_check(vin):
    return vin[:8] + check_digit(vin) + vin[9:]


def normalize(raw):
    s = unicodedata.normalize("NFKC", raw)
    s = "".join(c.upper() if "a" <= c <= "z" else c for c in s)
    return "".join(c for c in s if c not in " \t-._")


def reference(raw, kind):
    norm = normalize(raw)
    row = {"raw": raw, "kind": kind, "normalized": norm, "parses": False}
    try:
        v = Vin(norm)
    except ValidationError:
        return row
    row.update(
        parses=True, checksum=v.verify_checksum(check_year=False), checksum_and_year=v.verify_checksum(),
        wmi=v.wmi, region=v.region, country=v.country, years=v.years)
    return row


def random_vin(rng, wmi=None):
    wmis = [k for k in WMI if len(k) == 3 and all(c in CHARS for c in k)]
    w = wmi or rng.choice(wmis)
    body = "".join(rng.choice(CHARS) for _ in range(5))
    vis = rng.choice(YEAR_CODES) + "".join(rng.choice(CHARS) for _ in range(7))
    return with_check(w + body + "0" + vis)


def vins():
    rng = random.Random(SEED)
    rows = []
    # Valid, from vininfo's WMIs and from every first character (regions and countries).
    for _ in range(3000):
        rows.append(reference(random_vin(rng), "valid"))
    for first in CHARS:
        for second in CHARS:
            rows.append(reference(random_vin(rng, first + second + rng.choice(CHARS)), "valid-wmi"))
    # Small manufacturers: a 9 in position 3.
    for _ in range(150):
        rows.append(reference(random_vin(rng, rng.choice(CHARS) + rng.choice(CHARS) + "9"), "valid-small"))
    # Wrong check digit.
    for _ in range(2000):
        v = random_vin(rng)
        wrong = rng.choice([c for c in "0123456789X" if c != v[8]])
        rows.append(reference(v[:8] + wrong + v[9:], "check-digit"))
    # Year code U, Z or 0 with a right check digit (EU makers, no model year).
    for _ in range(200):
        v = random_vin(rng)
        rows.append(reference(with_check(v[:9] + rng.choice("UZ0") + v[10:]), "year-code"))
    # EU advisory: VW-style Z fillers and a Z in position 9.
    for _ in range(800):
        w = rng.choice(["WVW", "WAU", "WBA", "WDB", "VF1", "VF3", "ZFA", "SAL", "TMB", "YV1", "VSS", "XTA"])
        v = w + "ZZZ" + rng.choice(CHARS) + rng.choice(CHARS) + rng.choice("Z0123456789") + rng.choice(YEAR_CODES) + "".join(rng.choice(CHARS) for _ in range(7))
        rows.append(reference(v, "eu"))
    # Bad characters: I, O, Q (some a fixable typo), other symbols, non-ASCII.
    for _ in range(500):
        v = random_vin(rng)
        spots = [i for i, c in enumerate(v) if c in "01"]
        if spots:
            i = rng.choice(spots)
            v = v[:i] + ("O" if v[i] == "0" else "I") + v[i + 1:]
        rows.append(reference(v, "typo"))
    for _ in range(500):
        v = random_vin(rng)
        i = rng.randrange(17)
        v = v[:i] + rng.choice(["I", "O", "Q", "*", "#", "Ä", "é", "/", "+"]) + v[i + 1:]
        rows.append(reference(v, "chars"))
    # Wrong lengths.
    for _ in range(800):
        v = random_vin(rng)
        n = rng.choice([0, 1, 8, 10, 11, 16, 18, 19, 20, 25])
        v = (v * 2)[:n]
        rows.append(reference(v, "length"))
    # Placeholders: one character 17 times.
    for c in CHARS + "IOQ":
        for raw in [c * 17, (c * 17).lower()]:
            rows.append(reference(raw, "placeholder"))
    # Dirty forms of valid VINs.
    for _ in range(1200):
        v = random_vin(rng)
        form = rng.randrange(6)
        if form == 0:
            raw = v.lower()
        elif form == 1:
            raw = " " + v[:8] + " " + v[8:] + " "
        elif form == 2:
            raw = v[:3] + "-" + v[3:9] + "-" + v[9:]
        elif form == 3:
            raw = "".join(chr(ord(c) + 0xFEE0) for c in v)  # full-width
        elif form == 4:
            raw = v[:5] + "." + v[5:11] + "_" + v[11:]
        else:
            raw = "\t" + v + "\u3000"
        rows.append(reference(raw, "dirty"))

    header = {
        "generated_by": "scripts/golden-validators.py", "vininfo": metadata.version("vininfo"), "seed": SEED,
        "year": datetime.now(tz=timezone.utc).year, "rows": len(rows),
    }
    out = ROOT / "fixtures/validators/vin-golden.jsonl"
    with out.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(rows)} VINs", file=sys.stderr)


# --- phones ---------------------------------------------------------------------------------------

PHONE_REGIONS = ["CN", "US", "CA", "DE", "GB", "JP", "KR", "HK", "TW"]
PHONE_TYPES = ["fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail"]
TYPE_NAMES = {getattr(PhoneNumberType, n.upper()): n for n in PHONE_TYPES + ["fixed_line_or_mobile", "unknown"]}
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789+-()"}


def phone_reference(raw, region):
    """phonenumbers' verdict: valid, and for a valid number its E.164, extension, type and region."""
    try:
        n = pn.parse(raw, region)
    except NumberParseException:
        return {"valid": False}
    if not pn.is_valid_number(n):
        return {"valid": False}
    return {"valid": True, "e164": pn.format_number(n, PhoneNumberFormat.E164), "ext": n.extension or None,
            "type": TYPE_NAMES[pn.number_type(n)], "region": pn.region_code_for_number(n)}


def phone_row(raw, region, kind, clean=None):
    """A corpus row. `clean` is what the reference is given instead of `raw` for the kinds the
    exceptions file lists (None there: the field is not a number at all)."""
    row = {"raw": raw, "default_region": region, "kind": kind}
    if clean is False:
        row.update(input=None, valid=False, raw_verdict=phone_reference(raw, region))
    elif clean is not None:
        row.update(input=clean, raw_verdict=phone_reference(raw, region), **phone_reference(clean, region))
    else:
        row.update(phone_reference(raw, region))
    return row


def mutate(rng, example):
    """The example number with random digits after a random prefix, sometimes a digit more or less."""
    keep = rng.randint(1, len(example))
    rest = len(example) - keep + rng.choice([0, 0, 0, 0, -1, 1])
    return example[:keep] + "".join(rng.choice("0123456789") for _ in range(max(rest, 0)))


def national_numbers(rng, region, count):
    meta = PhoneMetadata.metadata_for_region(region)
    examples = [getattr(meta, t).example_number for t in PHONE_TYPES if getattr(meta, t) and getattr(meta, t).example_number]
    return [mutate(rng, rng.choice(examples)) for _ in range(count)]


def spaced(rng, digits):
    out, i = [], 0
    while i < len(digits):
        step = rng.choice([2, 3, 4])
        out.append(digits[i:i + step])
        i += step
    return rng.choice([" ", "-", ".", " - "]).join(out)


def phone_forms(rng, region, nsn):
    """The ways a dealer's file writes the national number `nsn` of `region` (default region, raw)."""
    meta = PhoneMetadata.metadata_for_region(region)
    cc = str(meta.country_code)
    prefix = meta.national_prefix or ""
    forms = [
        (region, "+" + cc + nsn, "e164"),
        (region, prefix + nsn, "national"),
        (region, spaced(rng, prefix + nsn), "national-spaced"),
        (region, "+" + cc + " " + spaced(rng, nsn), "international"),
        (region, cc + rng.choice(["", " ", "-"]) + nsn, "country-code-no-plus"),
        (region, "".join(FULL_WIDTH.get(c, c) for c in prefix + nsn), "full-width"),
    ]
    try:
        n = pn.parse("+" + cc + nsn, None)
        forms.append((region, pn.format_number(n, PhoneNumberFormat.NATIONAL), "formatted-national"))
        forms.append((rng.choice(PHONE_REGIONS), pn.format_number(n, PhoneNumberFormat.INTERNATIONAL), "formatted-international"))
        forms.append((region, pn.format_number(n, PhoneNumberFormat.RFC3966), "rfc3966"))
    except NumberParseException:
        pass
    if prefix:
        forms.append((region, "+" + cc + " (" + prefix + ")" + spaced(rng, nsn), "trunk-in-brackets"))
        forms.append((region, "+" + cc + "-" + prefix + nsn, "trunk-after-country-code"))
    other = rng.choice([r for r in PHONE_REGIONS if r != region])
    idd = {"CN": "00", "US": "011", "CA": "011", "DE": "00", "GB": "00", "JP": "010", "KR": "001", "HK": "00", "TW": "002"}[other]
    forms.append((other, idd + cc + nsn, "international-prefix"))
    return forms


def phones():
    rng = random.Random(SEED + 1)
    rows = []
    for region in PHONE_REGIONS:
        count = 180 if region == "CN" else 60
        for nsn in national_numbers(rng, region, count):
            for default, raw, kind in phone_forms(rng, region, nsn):
                rows.append(phone_row(raw, default, kind))
    # China: every 1XY block, area codes with 7- and 8-digit subscribers, service numbers, short codes.
    for block in range(100, 200):
        for _ in range(3):
            rows.append(phone_row(str(block) + "".join(rng.choice("0123456789") for _ in range(8)), "CN", "cn-mobile-block"))
    for _ in range(600):
        area = rng.choice(["10", "2" + rng.choice("0123456789"), str(rng.randint(300, 999)), str(rng.randint(3000, 9999))])
        subscriber = rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(rng.choice([6, 7])))
        rows.append(phone_row("0" + area + rng.choice(["-", " ", ""]) + subscriber, "CN", "cn-landline"))
    for _ in range(100):
        rows.append(phone_row(rng.choice(["400", "800"]) + "-" + "".join(rng.choice("0123456789") for _ in range(rng.choice([6, 7, 8]))), "CN", "cn-service"))
    for code in ["95588", "10086", "10010", "12345", "110", "120", "119", "12315", "114", "96777"]:
        rows.append(phone_row(code, "CN", "short-code"))
    # Every other region: numbers in international form (default region China or the US), and in
    # national form with the region's own national prefix (its carrier codes and transform rules).
    for region in sorted(pn.SUPPORTED_REGIONS):
        if region in PHONE_REGIONS:
            continue
        meta = PhoneMetadata.metadata_for_region(region)
        cc = str(meta.country_code)
        for nsn in national_numbers(rng, region, 4):
            rows.append(phone_row("+" + cc + " " + spaced(rng, nsn), rng.choice(["CN", "US"]), "world"))
            rows.append(phone_row((meta.national_prefix or "") + spaced(rng, nsn), region, "world-national"))
            try:
                national = pn.format_number(pn.parse("+" + cc + nsn, None), PhoneNumberFormat.NATIONAL)
                rows.append(phone_row(national, region, "world-formatted-national"))
            except NumberParseException:
                pass
    # Dirty fields: extensions, masks, several numbers, letters, empty.
    valid = [r for r in rows if r["valid"] and r["kind"] in ("national", "formatted-national", "cn-landline", "cn-mobile-block")]
    for r in rng.sample(valid, 800):
        ext = str(rng.randint(1, 99999))
        number, region = r["raw"], r["default_region"]
        marker = rng.choice([" ext. ", " ext ", " x", " #", ";ext=", " extension "])
        rows.append(phone_row(number + marker + ext, region, "extension"))
        marker = rng.choice(["转", " 转 ", "分机", " 分机 ", "-分机"])
        rows.append(phone_row(number + marker + ext, region, "extension-chinese", clean=number + " ext. " + ext))
    for r in rng.sample([r for r in valid if r["kind"] == "cn-landline" and r.get("type") == "fixed_line"], 150):
        ext = str(rng.randint(1, 9999))
        rows.append(phone_row(r["raw"] + "-" + ext, "CN", "extension-dash", clean=r["raw"] + " ext. " + ext))
    for r in rng.sample(valid, 500):
        digits = [c for c in r["raw"]]
        spots = [i for i, c in enumerate(digits) if c.isdigit()][2:-2]
        start = rng.choice(spots[:max(1, len(spots) - 4)]) if spots else 0
        mask = rng.choice(["*", "x", "X", "×", "＊"])
        masked = "".join(mask if start <= i < start + 4 and c.isdigit() else c for i, c in enumerate(digits))
        rows.append(phone_row(masked, r["default_region"], "masked", clean=False))
    for a, b in zip(rng.sample(valid, 300), rng.sample(valid, 300)):
        sep = rng.choice([" / ", "/", "、", ",", "，", ";", "；", " | ", "\n"])
        rows.append(phone_row(a["raw"] + sep + b["raw"], a["default_region"], "multiple", clean=a["raw"]))
    for raw in ["", " ", "-", "n/a", "none", "call me", "无", "暂无", "+", "00", "0", "1", "tel:", "13800138000abc", "abc13800138000"]:
        rows.append(phone_row(raw, "CN", "junk"))
    for r in rng.sample(valid, 200):
        rows.append(phone_row(r["raw"] + rng.choice("56789"), r["default_region"], "too-long"))
        digits = "".join(c for c in r["raw"] if c.isdigit())
        rows.append(phone_row(digits[:-1 - rng.randrange(3)], r["default_region"], "too-short"))

    header = {"generated_by": "scripts/golden-validators.py", "phonenumbers": metadata.version("phonenumbers"), "seed": SEED + 1, "rows": len(rows)}
    out = ROOT / "fixtures/validators/phone-golden.jsonl"
    with out.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    valid_count = sum(1 for r in rows if r["valid"])
    print(f"{out.relative_to(ROOT)}: {len(rows)} phone strings, {valid_count} valid", file=sys.stderr)


if __name__ == "__main__":
    vins()
    phones()
