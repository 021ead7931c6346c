#!/usr/bin/env python3
"""Generates the golden corpora the validator tests compare against (dev-time; the tests only read them).

    pip install vininfo==1.11.0 phonenumbers
    scripts/golden-validators.py            # writes fixtures/validators/vin-golden.jsonl

Each line is one input with the reference library's verdict. The first line says what made the
corpus (library versions, the seed, the year the model-year candidates were computed in). The
inputs are deterministic (seeded); regenerate after a library upgrade and review the diff.

VINs: valid ones from vininfo's WMI list and every region, wrong check digits, letters I/O/Q and
other bad characters (with the O->0 / I->1 typos a check digit can fix), wrong lengths,
placeholders, EU-style VINs without a check digit, year codes U/Z/0, and the dirty forms OEM files
carry (lowercase, spaces, hyphens, full-width). The reference verdict is vininfo's on the input
normalised by oemsync's policy (NFKC, uppercase, no spaces, tabs, '-', '.', '_'), since vininfo
itself only strips and uppercases.
"""
import json
import random
import sys
import unicodedata
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

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


def main():
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


if __name__ == "__main__":
    main()
