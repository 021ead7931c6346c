/// Generated ACME stock drops (the columns of `Mappings/acme/stock.v1.yaml`), for tests that need
/// many rows with known content.
public enum StockFeed {
    public static let header = "DealerCode,VIN,StockNo,Status,Model,Color,InDate,Price,Location,ReservedPhone\n"

    /// `rows` clean rows: serial VINs, prices from `price` up.
    public static func csv(rows: Int, price: Int = 100) -> String {
        var text = header
        for i in 0..<rows {
            text += "D001,\(vin(i)),S-\(i),20,A3S,0Q,2025-12-02,\(price + i),Hall,\n"
        }
        return text
    }

    /// Rows `first..<first+count` of a large drop with dirt at fixed places: every 101st VIN has a
    /// wrong check digit, every 997th date is impossible, and every 500th row repeats the key of the
    /// row before it with another price (the later one wins).
    public static func dirty(first: Int, count: Int) -> String {
        var text = header
        text.reserveCapacity(count * 90)
        for i in first..<(first + count) {
            let key = i % 500 == 499 ? i - 1 : i
            var v = vin(key)
            if key % 101 == 100 { v = String(v.prefix(8)) + (v.dropFirst(8).first == "0" ? "1" : "0") + String(v.dropFirst(9)) }
            let day = 1 + i % 28
            let date = i % 997 == 996 ? "2025-13-01" : (day < 10 ? "2025-12-0\(day)" : "2025-12-\(day)")
            text += "D00\(1 + key % 7),\(v),S-\(i),20,A3S,0Q,\(date),\(100_000 + i),Hall \(i % 13),\n"
        }
        return text
    }

    /// A valid Chinese VIN for serial `i` (below 800,000): `LSVAB218`, the check digit, `S2`, six digits.
    public static func vin(_ i: Int) -> String {
        let serial = String(200_000 + i)
        // L S V A B 2 1 8 (transliterated 3 2 5 1 2 2 1 8) and S 2 (2 2), times their ISO 3779 weights.
        var sum = 3 * 8 + 2 * 7 + 5 * 6 + 1 * 5 + 2 * 4 + 2 * 3 + 1 * 2 + 8 * 10 + 2 * 9 + 2 * 8
        for (digit, weight) in zip(serial.utf8, [7, 6, 5, 4, 3, 2]) { sum += (Int(digit) - 48) * weight }
        let check = sum % 11 == 10 ? "X" : String(sum % 11)
        return "LSVAB218" + check + "S2" + serial
    }
}

import Foundation
