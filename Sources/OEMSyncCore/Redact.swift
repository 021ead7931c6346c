/// Masks personal data and secrets in free text before it is stored or shown: an error an OEM or a
/// database wrote can quote a customer's phone, an ID number, an e-mail address, a name, or the
/// API key of the request it refuses.
///
/// - ``scrub(_:)`` masks what can be recognised for certain: phone-like numbers (7 or more digits,
///   alone or in groups joined by single spaces, hyphens or brackets), ID numbers (17 digits and an
///   X), e-mail addresses, a URL's credentials and query values, bearer and basic tokens, and the
///   values of secret-looking keys (`api_key=…`, `"token":"…"`). It leaves oemsync's own
///   identifiers readable: claimed file names (`20251207T101500.123Z-0abc123-stock.csv`), message
///   ids (UUIDs, BODIDs), dates, times and IP addresses. It runs over every error and reason oemsync
///   stores, shows or logs.
/// - ``outside(_:)`` is for text written by an OEM (an error message, a SOAP fault string). Names
///   cannot be recognised in free text, so after ``scrub(_:)`` every word that is not a known word of
///   API error messages (a short English and Chinese vocabulary) keeps its first character only
///   (`张*`, `J***`), the display convention for names. The OEM's text itself stays in the ledger's
///   payload store, shown only by `oemsync batches show ID --show-values`.
///
/// Numbers of 11 digits or more keep their first three and last four digits (`139****5678`, the
/// display convention for mobiles); shorter ones their first and last two.
public enum Redact {
    public static func scrub(_ text: String) -> String {
        let chars = Array(text)
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var i = 0
        while i < chars.count {
            if let (end, replacement) = secretValue(chars, at: i) ?? urlPart(chars, at: i) {
                out += replacement
                i = end
                continue
            }
            if let end = numberEnd(chars, from: i) {
                out += maskNumber(String(chars[i..<end]))
                i = end
                continue
            }
            // A number that was not phone-like, or a word: copied whole, so that its tail is not read
            // as a number of its own (`20251207T101500`, `550e8400-e29b`).
            if chars[i].isLetter || chars[i].isNumber {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                if j < chars.count, chars[j] == "@", let (end, masked) = email(chars, local: i..<j) {
                    out += masked
                    i = end
                    continue
                }
                out += String(chars[i..<j])
                i = j
                continue
            }
            if chars[i] == "." || chars[i] == "-" || chars[i] == "+", i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1].isNumber {
                // Dots and dashes inside an e-mail's local part: let the word scan above see them.
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || ".-_+".contains(chars[j]) { j += 1 }
                if j < chars.count, chars[j] == "@", let start = localStart(out), let (end, masked) = email(chars, local: i..<j, prefix: String(out[start...])) {
                    out.removeSubrange(start...)
                    out += masked
                    i = end
                    continue
                }
            }
            out.append(chars[i])
            i += 1
        }
        return out
    }

    /// ``scrub(_:)``, then every word outside the vocabulary of error messages reduced to its first
    /// character; at most `limit` characters kept.
    public static func outside(_ text: String, limit: Int = 240) -> String {
        var s = scrub(text)
        if s.count > limit { s = String(s.prefix(limit)) + "…" }
        let chars = Array(s)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            // The domain of an e-mail address (its local part is masked already) stays.
            if c == "@" {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "." || chars[j] == "-" { j += 1 }
                out += String(chars[i..<j])
                i = j
                continue
            }
            guard c.isLetter else {
                out.append(c)
                i += 1
                continue
            }
            var j = i
            if isHan(c) {
                while j < chars.count, isHan(chars[j]) { j += 1 }
                out += maskHan(chars[i..<j])
            } else {
                while j < chars.count, (chars[j].isLetter && !isHan(chars[j])) || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let word = String(chars[i..<j])
                out += keeps(word) ? word : maskWord(word)
            }
            i = j
        }
        return out
    }

    /// An error code an OEM sent (`E5001`, `ORDER_NOT_FOUND`, `soap:Server`), kept as it is when it
    /// looks like one; anything else is free text (``outside(_:)``).
    public static func code(_ text: String) -> String {
        guard scrub(text) == text else { return outside(text, limit: 48) }
        let ok = !text.isEmpty && text.count <= 48
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.:/".unicodeScalars.contains($0)) }
        guard ok else { return outside(text, limit: 48) }
        // A code is a word with a digit or an `_`, or in capitals; a plain word may be a name.
        let isCodeLike = text.contains(where: { $0.isNumber || $0 == "_" || $0 == ":" || $0 == "." }) || text.uppercased() == text
        return isCodeLike ? text : outside(text, limit: 48)
    }

    // MARK: Words

    /// A Latin word stays when it is an error-message word, a code (it has a digit or `_`), or a
    /// masking star; anything else may be a name.
    static func keeps(_ word: String) -> Bool {
        if word.contains(where: { $0.isNumber || $0 == "_" }) { return true }
        return Vocabulary.english.contains(word.lowercased())
    }

    static func maskWord(_ word: String) -> String {
        guard let first = word.first, word.count > 1 else { return word }
        return String(first) + String(repeating: "*", count: min(word.count - 1, 8))
    }

    static func isHan(_ c: Character) -> Bool {
        guard let v = c.unicodeScalars.first?.value else { return false }
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2FA1F).contains(v) || (0xF900...0xFAFF).contains(v)
    }

    /// Known Chinese words by greedy longest match; each run of other characters keeps its first.
    static func maskHan(_ run: ArraySlice<Character>) -> String {
        let chars = Array(run)
        var out = ""
        var unknown = 0
        var i = 0
        while i < chars.count {
            var matched = 0
            for length in stride(from: min(Vocabulary.longestChinese, chars.count - i), through: 1, by: -1)
            where Vocabulary.chinese.contains(String(chars[i..<(i + length)])) {
                matched = length
                break
            }
            if matched > 0 {
                unknown = 0
                out += String(chars[i..<(i + matched)])
                i += matched
            } else {
                out += unknown == 0 ? String(chars[i]) : "*"
                unknown += 1
                i += 1
            }
        }
        return out
    }

    // MARK: Secrets and URLs

    /// Keys whose values are secrets, in `key=value`, `key: value` and `"key":"value"` forms.
    static let secretKeys: Set<String> = [
        "api_key", "apikey", "api-key", "key", "token", "access_token", "refresh_token", "id_token", "secret", "client_secret", "password",
        "passwd", "pwd", "signature", "sig", "auth", "authorization", "session", "sessionid", "x-api-key", "appkey", "app_key", "appsecret",
        "app_secret", "sign",
    ]

    /// A secret key's value, or a bearer/basic token, starting at `i`: where it ends and what replaces it.
    static func secretValue(_ chars: [Character], at i: Int) -> (Int, String)? {
        guard chars[i].isLetter, i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_" || chars[i - 1] == "-") else {
            return nil
        }
        var j = i
        while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "-" { j += 1 }
        let word = String(chars[i..<j])
        let lower = word.lowercased()
        if lower == "bearer" || lower == "basic", j < chars.count, chars[j] == " ", j + 1 < chars.count, !chars[j + 1].isWhitespace {
            var k = j + 1
            while k < chars.count, !chars[k].isWhitespace, chars[k] != "\"", chars[k] != "'", chars[k] != "," { k += 1 }
            return (k, word + " ***")
        }
        guard secretKeys.contains(lower) else { return nil }
        // `key=value`, `key: value`, `"key":"value"` (the closing quote of the key may follow).
        var k = j
        if k < chars.count, chars[k] == "\"" || chars[k] == "'" { k += 1 }
        while k < chars.count, chars[k] == " " { k += 1 }
        guard k < chars.count, chars[k] == "=" || chars[k] == ":" else { return nil }
        k += 1
        while k < chars.count, chars[k] == " " { k += 1 }
        let quote: Character? = k < chars.count && (chars[k] == "\"" || chars[k] == "'") ? chars[k] : nil
        if quote != nil { k += 1 }
        let valueStart = k
        // `Authorization: Bearer …`: the scheme stays, the credentials go.
        for scheme in ["Bearer ", "Basic ", "Token ", "Digest "] where quote == nil && k + scheme.count < chars.count
            && String(chars[k..<(k + scheme.count)]).lowercased() == scheme.lowercased()
        {
            var e = k + scheme.count
            while e < chars.count, !chars[e].isWhitespace, chars[e] != "\"", chars[e] != "'", chars[e] != "," { e += 1 }
            return (e, String(chars[i..<(k + scheme.count)]) + "***")
        }
        while k < chars.count {
            if let quote { if chars[k] == quote { break } } else if chars[k].isWhitespace || "&,;}\"')".contains(chars[k]) { break }
            k += 1
        }
        guard k > valueStart else { return nil }
        return (k, String(chars[i..<valueStart]) + "***")
    }

    /// A URL's userinfo or query starting at `i`: `user:pass@` and every query value masked.
    static func urlPart(_ chars: [Character], at i: Int) -> (Int, String)? {
        // Query values: `?a=1&b=2` -> `?a=***&b=***`, wherever a `?` begins one.
        if chars[i] == "?", i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1] == "_" {
            var out = "?"
            var k = i + 1
            while k < chars.count, !chars[k].isWhitespace, chars[k] != "\"", chars[k] != "'" {
                let keyStart = k
                while k < chars.count, chars[k] != "=", chars[k] != "&", !chars[k].isWhitespace, chars[k] != "\"", chars[k] != "'" { k += 1 }
                out += String(chars[keyStart..<k])
                if k < chars.count, chars[k] == "=" {
                    k += 1
                    while k < chars.count, chars[k] != "&", !chars[k].isWhitespace, chars[k] != "\"", chars[k] != "'" { k += 1 }
                    out += "=***"
                }
                if k < chars.count, chars[k] == "&" {
                    out += "&"
                    k += 1
                } else {
                    break
                }
            }
            return (k, out)
        }
        // `scheme://user:pass@host`
        if chars[i] == ":", i + 2 < chars.count, chars[i + 1] == "/", chars[i + 2] == "/" {
            var k = i + 3
            while k < chars.count, !chars[k].isWhitespace, chars[k] != "/", chars[k] != "@", chars[k] != "\"" { k += 1 }
            if k < chars.count, chars[k] == "@", k > i + 3 { return (k + 1, "://***@") }
        }
        return nil
    }

    // MARK: E-mail addresses

    private static func localStart(_ out: String) -> String.Index? {
        var idx = out.endIndex
        while idx > out.startIndex {
            let before = out.index(before: idx)
            let c = out[before]
            guard c.isLetter || c.isNumber || ".-_+".contains(c) else { break }
            idx = before
        }
        return idx < out.endIndex ? idx : nil
    }

    /// The address whose local part is `local` (its `@` follows), masked: first letter, `***`, the domain.
    private static func email(_ chars: [Character], local: Range<Int>, prefix: String = "") -> (Int, String)? {
        var k = local.upperBound + 1
        let domainStart = k
        while k < chars.count, chars[k].isLetter || chars[k].isNumber || chars[k] == "." || chars[k] == "-" { k += 1 }
        guard k > domainStart, chars[domainStart..<k].contains(".") else { return nil }
        let whole = prefix + String(chars[local]) + "@" + String(chars[domainStart..<k])
        guard let first = whole.first else { return nil }
        return (k, String(first) + "***@" + String(chars[domainStart..<k]))
    }

    // MARK: Numbers

    /// Where a phone-like number starting at `i` ends, or nil when none starts there.
    static func numberEnd(_ chars: [Character], from i: Int) -> Int? {
        func isDigit(_ j: Int) -> Bool { j < chars.count && chars[j].isASCII && chars[j].isNumber }
        // Not inside a word or a number already seen (`v2`, `abc123`), nor a later part of a
        // hyphenated identifier (a UUID's `446655440000`).
        if i > 0, chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "." || chars[i - 1] == "_" { return nil }
        if i > 1, chars[i - 1] == "-", chars[i - 2].isLetter || chars[i - 2].isNumber { return nil }
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
        // Not a number at all: part of a word or an identifier that goes on with letters
        // (`20251207T101500`, a UUID's `550e8400`), an IP address or a version (a dot and digits).
        if end < chars.count, chars[end].isLetter || chars[end] == "_" { return nil }
        if end + 1 < chars.count, chars[end] == "-" || chars[end] == ".", chars[end + 1].isLetter { return nil }
        if end + 1 < chars.count, chars[end] == ".", isDigit(end + 1) { return nil }
        // Dates and times are not phones.
        if groups.count >= 3, groups[0] == 4, groups[1] == 2, groups[2] == 2, chars[i] != "+" { return nil }
        // A count or a position oemsync writes itself: `byte 12345678`, `12345678 bytes`.
        if groups.count == 1, chars[i] != "+", chars[i] != "(", isQuantity(chars, start: i, end: end) { return nil }
        return digits >= 7 ? end : nil
    }

    /// Words that make a plain number a quantity, before it (`byte 123`) or after it (`123 bytes`).
    static let unitsBefore = ["byte ", "bytes ", "line ", "offset ", "batch ", "position "]
    static let unitsAfter = [" bytes", " byte", " records", " record", " rows", " row", " lines", " ms"]

    static func isQuantity(_ chars: [Character], start: Int, end: Int) -> Bool {
        for unit in unitsBefore where start >= unit.count && String(chars[(start - unit.count)..<start]).lowercased() == unit {
            // The unit is a word of its own (`line 12`, not `landline 12`).
            let before = start - unit.count - 1
            if before < 0 || !(chars[before].isLetter || chars[before].isNumber) { return true }
        }
        for unit in unitsAfter where end + unit.count <= chars.count && String(chars[end..<(end + unit.count)]) == unit {
            // The unit word ends there (`12345678 bytes`, not `1234567 rowsXYZ`).
            let after = end + unit.count
            if after == chars.count || !(chars[after].isLetter || chars[after].isNumber) { return true }
        }
        return false
    }

    static func maskNumber(_ number: String) -> String {
        let digits = number.filter { $0.isASCII && $0.isNumber }
        let tail = number.last.map { $0 == "X" || $0 == "x" } == true ? "X" : ""
        let prefix = number.hasPrefix("+") ? "+" : ""
        if digits.count >= 11 { return prefix + digits.prefix(3) + "****" + digits.suffix(4) + tail }
        return prefix + digits.prefix(2) + "****" + digits.suffix(2) + tail
    }
}
