#!/usr/bin/env python3
"""Generates the benchmark's ACME stock drop: a dirty file and its clean equivalent.

    scripts/bench-gen.py ROWS OUT_DIRTY.csv OUT_CLEAN.csv

OUT_DIRTY is what an OEM sends: exactly the header Mappings/acme/stock.v1.yaml reads
(DealerCode,VIN,StockNo,Status,Model,Color,InDate,Price,Location,ReservedPhone), UTF-8 with a BOM,
CRLF line ends, and the dirt the mapping exists for: OEM codes in mixed case with stray spaces,
four date formats, prices with a yen sign and grouping commas, phones in national, international,
spaced and full-width forms (a few masked or too short), and about 1 % of VINs with a wrong ISO 3779
check digit (WMI 'LSV', China, so strict mode rejects them).

OUT_CLEAN holds the same records already in the dealer's shape, i.e. the rows oemsync writes into
table `stock` (dealer_code, vin, stock_no, status, model_code, ext_color_code, stock_in_date,
list_price, location, contact_phone): codes looked up, ISO dates, prices with two decimals, phones in
E.164 (empty when oemsync nulls them), empty for NULL. Records with a bad VIN are left out, because
oemsync rejects them. Plain CSV (LF, no BOM) for `\\copy ... CSV HEADER` and `sqlite3 .import --csv`.

Deterministic: a fixed seed, and only random.random() is used (its sequence is stable across Python
versions). Keys (DealerCode, VIN) are unique: every VIN is. No field contains a line break, so a
file has exactly one line per record plus the header.

Prints `rows=N clean_rows=N bad_vins=N` on stdout. Standard library only.
"""

import csv
import random
import sys

SEED = 20251202

DIRTY_HEADER = ["DealerCode", "VIN", "StockNo", "Status", "Model", "Color", "InDate", "Price", "Location", "ReservedPhone"]
CLEAN_HEADER = ["dealer_code", "vin", "stock_no", "status", "model_code", "ext_color_code", "stock_in_date",
                "list_price", "location", "contact_phone"]

# The code tables of Mappings/dictionary/codes/acme.yaml (keep in step with that file).
MODELS = {"A3S": "ACME-A3-SEDAN", "A3H": "ACME-A3-HATCH", "X5L": "ACME-X5-LONG", "X7E": "ACME-X7-EV", "M2C": "ACME-M2-COUPE"}
COLORS = {"0Q": "WHITE", "9B": "BLACK", "2R": "RED", "5S": "SILVER", "7G": "GREY"}
STATUSES = {"10": "IN_TRANSIT", "20": "IN_STOCK", "30": "ALLOCATED", "40": "SOLD", "50": "DEMO"}
# Paint codes the table does not know: the mapping keeps them as they are (on_missing: keep).
UNKNOWN_COLORS = ["8Z", "1K", "3W"]
BASE_PRICE = {"A3S": 129800, "A3H": 119800, "X5L": 268000, "X7E": 355000, "M2C": 412000}

# ISO 3779 check digit.
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
TRANSLIT = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))
TRANSLIT.update({str(d): d for d in range(10)})
WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
CHECK_CHARS = "0123456789X"
WMI = "LSV"  # China: the mapping's strict mode requires the check digit and a model-year code
YEAR_CODES = "NPRST"  # position 10: model years 2022-2026
PLANTS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # position 11; with the 6-digit serial it makes every VIN unique
SERIALS = 1_000_000
MAX_ROWS = len(PLANTS) * SERIALS

MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "186", "187", "188", "189",
                   "198", "199"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# Free-text yard locations; some need CSV quoting (commas, quotes), some have stray spaces.
LOCATIONS = ["展厅A区", "展厅B区", "Yard 1", "Yard 2", "Lot B, Row 3", "Showroom, bay 5", 'Warehouse "North"',
             '4S店 二楼, "VIP" 区', "  Yard 7  ", "PDI", "在途", "Customer lot, 3rd floor", "B1-07", "A2-15", ""]


def check_digit(vin16):
    """The check digit of a VIN given without it (16 characters: positions 1-8 and 10-17)."""
    full = vin16[:8] + "0" + vin16[8:]
    r = sum(TRANSLIT[c] * w for c, w in zip(full, WEIGHTS)) % 11
    return CHECK_CHARS[r]


def precompute(rng):
    """Tables that keep the per-row work to lookups: partial check-digit sums and formatted dates."""
    # 64 vehicle descriptor sections (positions 4-8), with the weighted sum of positions 1-8.
    vds = []
    for _ in range(64):
        s = "".join(VIN_ALPHABET[int(rng.random() * len(VIN_ALPHABET))] for _ in range(5))
        prefix = WMI + s
        vds.append((prefix, sum(TRANSLIT[c] * w for c, w in zip(prefix, WEIGHTS[:8]))))
    # Serial positions 12-14 and 15-17 as two 3-digit halves, each with its weighted sum.
    hi = [(f"{n:03d}", sum(int(c) * w for c, w in zip(f"{n:03d}", WEIGHTS[11:14]))) for n in range(1000)]
    lo = [(f"{n:03d}", sum(int(c) * w for c, w in zip(f"{n:03d}", WEIGHTS[14:17]))) for n in range(1000)]
    # Stock-in dates 2023-01-01 .. 2025-12-31 in the four formats of the mapping, plus ISO for the clean file.
    dates = []
    mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for y in (2023, 2024, 2025):
        for m in range(1, 13):
            n = 29 if m == 2 and y % 4 == 0 else mdays[m - 1]
            for d in range(1, n + 1):
                iso = f"{y:04d}-{m:02d}-{d:02d}"
                dates.append((iso, (iso, f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y:04d}{m:02d}{d:02d}")))
    return vds, hi, lo, dates


def generate(rows, dirty_path, clean_path):
    rng = random.Random(SEED)
    r = rng.random
    vds, hi, lo, dates = precompute(rng)
    dealers = [f"D{n:03d}" for n in range(1, 51)]
    model_codes = list(MODELS)
    color_codes = list(COLORS)
    status_pool = ["10", "20", "20", "20", "20", "30", "40", "50"]
    bad_vins = clean_rows = 0

    with open(dirty_path, "w", encoding="utf-8-sig", newline="") as df, \
            open(clean_path, "w", encoding="utf-8", newline="") as cf:
        dw = csv.writer(df, lineterminator="\r\n")
        cw = csv.writer(cf, lineterminator="\n")
        dw.writerow(DIRTY_HEADER)
        cw.writerow(CLEAN_HEADER)
        dirty_rows, clean_out = [], []
        for i in range(rows):
            # Dealer: now and then lower case (the mapping trims and upper-cases).
            dealer = dealers[int(r() * 50)]
            dealer_raw = dealer.lower() if r() < 0.03 else dealer

            # VIN: a random VDS and model year; plant + serial from the row number, so unique.
            prefix, psum = vds[int(r() * 64)]
            year = YEAR_CODES[int(r() * 5)]
            plant = PLANTS[i // SERIALS]
            serial = (i * 7919 + 123457) % SERIALS  # a permutation of 0..999999: not in VIN order
            h, hsum = hi[serial // 1000]
            l, lsum = lo[serial % 1000]
            total = psum + TRANSLIT[year] * WEIGHTS[9] + TRANSLIT[plant] * WEIGHTS[10] + hsum + lsum
            check = total % 11
            bad = r() < 0.01
            if bad:  # any other check character is wrong
                check = (check + 1 + int(r() * 10)) % 11
            vin = prefix + CHECK_CHARS[check] + year + plant + h + l
            vin_raw = vin.lower() if r() < 0.02 else vin

            stock_no = f"S{dealer[1:]}-{i + 1:07d}"
            stock_raw = f" {stock_no} " if r() < 0.02 else stock_no

            status = status_pool[int(r() * 8)]

            model = model_codes[int(r() * 5)]
            x = r()
            model_raw = model.lower() if x < 0.15 else f" {model}" if x < 0.20 else f"{model.lower()} " if x < 0.25 else model

            x = r()
            if x < 0.005:
                color = color_out = UNKNOWN_COLORS[int(x * 600) % 3]
                color_raw = color
            else:
                color = color_codes[int(r() * 5)]
                color_out = COLORS[color]
                color_raw = color.lower() if x < 0.10 else f"{color} " if x < 0.13 else color

            iso, forms = dates[int(r() * len(dates))]
            x = r()
            date_raw = forms[0] if x < 0.4 else forms[1] if x < 0.6 else forms[2] if x < 0.8 else forms[3]

            yuan = BASE_PRICE[model] + int(r() * 400) * 100
            x = r()
            cents = 50 if x < 0.1 else 0
            price = f"{yuan}.{cents:02d}"
            if x < 0.45:
                price_raw = price
            elif x < 0.80:
                price_raw = f"¥{yuan:,}.{cents:02d}"
            else:
                price_raw = str(yuan) if cents == 0 else price

            location_raw = LOCATIONS[int(r() * len(LOCATIONS))]
            location = location_raw.strip(" ")

            # Reserved-for phone: mostly empty; valid mobiles in five dirty forms; a few invalid ones,
            # which the mapping nulls (on_error: null), so they are empty in the clean file.
            x = r()
            phone = ""
            if x < 0.70:
                phone_raw = ""
            else:
                p = MOBILE_PREFIXES[int(r() * len(MOBILE_PREFIXES))] + f"{int(r() * 100_000_000):08d}"
                if x < 0.97:
                    phone = "+86" + p
                    k = int((x - 0.70) / 0.27 * 5)
                    if k == 0:
                        phone_raw = f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"
                    elif k == 1:
                        phone_raw = p
                    elif k == 2:
                        phone_raw = p.translate(FULL_WIDTH)
                    elif k == 3:
                        phone_raw = f"0086 {p[:3]} {p[3:7]} {p[7:]}"
                    else:
                        phone_raw = f"{p[:3]} {p[3:7]} {p[7:]}"
                elif x < 0.99:
                    phone_raw = f"{p[:3]}****{p[7:]}"  # masked by the DMS: phone.masked
                else:
                    phone_raw = p[:10]  # a digit short: phone.too_short

            dirty_rows.append((dealer_raw, vin_raw, stock_raw, status, model_raw, color_raw, date_raw, price_raw,
                               location_raw, phone_raw))
            if bad:
                bad_vins += 1
            else:
                clean_rows += 1
                clean_out.append((dealer, vin, stock_no, STATUSES[status], MODELS[model], color_out, iso, price,
                                  location, phone))
            if len(dirty_rows) >= 20_000:
                dw.writerows(dirty_rows)
                cw.writerows(clean_out)
                dirty_rows.clear()
                clean_out.clear()
        dw.writerows(dirty_rows)
        cw.writerows(clean_out)
    return clean_rows, bad_vins


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(f"usage: {argv[0]} ROWS OUT_DIRTY.csv OUT_CLEAN.csv\n")
        return 2
    try:
        rows = int(argv[1].replace("_", ""))
    except ValueError:
        rows = -1
    if not 1 <= rows <= MAX_ROWS:
        sys.stderr.write(f"{argv[0]}: ROWS must be a whole number from 1 to {MAX_ROWS}\n")
        return 2
    clean_rows, bad_vins = generate(rows, argv[2], argv[3])
    print(f"rows={rows} clean_rows={clean_rows} bad_vins={bad_vins}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
