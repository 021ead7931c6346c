/// The last guard against personal data in logs. Components log identifiers and counts, never
/// record values; but free text (an error a database or an OEM wrote, a reason) can quote one. In
/// those values, e-mail addresses and phone-like numbers are masked: 7 or more digits in a row or in
/// groups joined by single spaces, hyphens or brackets (`+49 171 2345678`, `(010) 6552-8888`), and ID
/// numbers ending in X. Numbers of 11 digits or more keep their first three and last four (the
/// display convention for mobiles); shorter ones their first and last two. Dates (`2026-12-01`) and
/// IP addresses stay as they are.
public enum LogScrub {
    /// Keys whose values are free text.
    static let freeText: Set<String> = [LogKey.error, LogKey.reason]

    public static func value(_ s: String, key: String) -> String { freeText.contains(key) ? text(s) : s }

    public static func text(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        var i = 0
        func isDigit(_ j: Int) -> Bool { j < chars.count && chars[j].isASCII && chars[j].isNumber }
        while i < chars.count {
            let c = chars[i]
            if let end = numberEnd(chars, from: i) {
                let run = String(chars[i..<end])
                out += mask(run)
                i = end
                continue
            }
            // A number that was not phone-like: copy its digits at once, so its tail is not read as one.
            if isDigit(i) {
                var j = i
                while isDigit(j) { j += 1 }
                out += String(chars[i..<j])
                i = j
                continue
            }
            // An e-mail address: the word around an @.
            if c == "@", let start = out.lastIndex(where: { !($0.isLetter || $0.isNumber || ".-_+".contains($0)) }).map({ out.index(after: $0) }) ?? Optional(out.startIndex),
                start < out.endIndex, i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1].isNumber
            {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || ".-".contains(chars[j]) { j += 1 }
                let local = String(out[start...])
                out.removeSubrange(start...)
                out += Masking.mask(local + String(chars[i..<j]))
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// Where a phone-like number starting at `i` ends, or nil when none starts there.
    static func numberEnd(_ chars: [Character], from i: Int) -> Int? {
        func isDigit(_ j: Int) -> Bool { j < chars.count && chars[j].isASCII && chars[j].isNumber }
        // Not inside a word or a number already seen (`v2`, `abc123`).
        if i > 0, chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "." { return nil }
        var j = i
        if j < chars.count, chars[j] == "+" || chars[j] == "(" { j += 1 }
        guard isDigit(j) else { return nil }
        var digits = 0
        var groups: [Int] = []
        var end = j
        while true {
            var n = 0
            while isDigit(j) {
                j += 1
                n += 1
            }
            guard n > 0 else { break }
            digits += n
            groups.append(n)
            end = j
            if chars[i] == "(", groups.count == 1, j < chars.count, chars[j] == ")" {
                j += 1
                end = j
            }
            // One separator, then more digits (or a bracketed area code).
            guard j + 1 < chars.count, chars[j] == " " || chars[j] == "-" else { break }
            let next = chars[j + 1] == "(" ? j + 2 : j + 1
            guard isDigit(next) else { break }
            j = next
        }
        // A bracket belongs to the number only around an area code that more digits follow.
        if chars[i] == "(", groups.count < 2 { return nil }
        // An ID number: 17 digits and an X.
        if digits == 17, groups.count == 1, end < chars.count, chars[end] == "X" || chars[end] == "x" { end += 1 }
        // Not a number at all: an IP address or a version continues with a dot and digits.
        if end + 1 < chars.count, chars[end] == ".", isDigit(end + 1) { return nil }
        // Dates and times are not phones.
        if groups.count >= 3, groups[0] == 4, groups[1] == 2, groups[2] == 2, chars[i] != "+" { return nil }
        return digits >= 7 ? end : nil
    }

    static func mask(_ number: String) -> String {
        let digits = number.filter { $0.isASCII && $0.isNumber }
        let tail = number.last.map { $0 == "X" || $0 == "x" } == true ? "X" : ""
        let prefix = number.hasPrefix("+") ? "+" : ""
        if digits.count >= 11 { return prefix + digits.prefix(3) + "****" + digits.suffix(4) + tail }
        return prefix + digits.prefix(2) + "****" + digits.suffix(2) + tail
    }
}
