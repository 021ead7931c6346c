/// libphonenumber's parsing and validation of a number once it is plain digits: where the country
/// code comes from (`+`, the default region's international prefix, or the default region's own
/// country code written without `+`), how the national prefix and carrier codes are stripped, and
/// which region and number type the national number belongs to.
///
/// A port of phonenumbers 9.0.43's `parse` (from `_maybe_extract_country_code` on) and
/// `is_valid_number`, step for step, so that its verdicts are the reference's: the golden corpus
/// (fixtures/validators/phone-golden.jsonl) checks that they are. The dirty-input work before it
/// (full-width forms, extensions, masks, several numbers in a field) is ``PhoneValidator``'s.
struct PhoneNumberParser: Sendable {
    typealias Digits = PhoneDigits

    let metadata: PhoneMetadata

    enum Failure: Error, Equatable {
        /// `+` or an international prefix followed by no country code libphonenumber knows.
        case invalidCountryCode
        case tooShortAfterInternationalPrefix
        case tooShortNationalNumber
        case tooLong
    }

    struct Parsed {
        var countryCode: Int
        /// The national significant number.
        var national: Digits
        /// The region whose rules the number was read with (the default one, or the country code's main one).
        var parsingRegion: Int
    }

    /// `digits` holds only '0'...'9'; `plus` says whether the input began with `+`. `scratch` (at
    /// least twice `digits.count + 16` bytes) holds the national number when a transform rule
    /// rewrites it; the parsed number may point into it.
    func parse(_ digits: Digits, plus: Bool, region defaultRegion: Int, scratch: UnsafeMutableBufferPointer<UInt8>) -> Result<Parsed, Failure> {
        let half = scratch.count / 2
        let first = UnsafeMutableBufferPointer(rebasing: scratch[..<half])
        let second = UnsafeMutableBufferPointer(rebasing: scratch[half...])
        let regionMeta = metadata.regions[defaultRegion]
        var extracted: (Int, Digits)?
        do {
            extracted = try extractCountryCode(digits, plus: plus, region: regionMeta, scratch: first)
        } catch .invalidCountryCode where plus {
            // As libphonenumber: strip the plus and try again as if it had not been written.
            do {
                extracted = try extractCountryCode(digits, plus: false, region: regionMeta, scratch: first)
            } catch {
                return .failure(error)
            }
            if extracted == nil { return .failure(.invalidCountryCode) }
        } catch {
            return .failure(error)
        }
        var national: Digits
        var parsingRegion = defaultRegion
        if let (code, rest) = extracted {
            // The country code's main region's rules from here on (the default region's when it is that).
            guard let main = metadata.countryCodes[code].first else { return .failure(.invalidCountryCode) }
            national = rest
            parsingRegion = main
        } else {
            national = digits
        }
        guard national.count >= 2 else { return .failure(.tooShortNationalNumber) }
        let meta = metadata.regions[parsingRegion]
        let stripped = stripNationalPrefix(national, meta, scratch: second)
        switch metadata.testLength(stripped.count, meta) {
        case .tooShort, .possibleLocalOnly, .invalidLength: break
        case .possible, .tooLong: national = stripped
        }
        guard national.count <= 17 else { return .failure(.tooLong) }
        let code = extracted?.0 ?? regionMeta.countryCode
        return .success(Parsed(countryCode: code, national: national, parsingRegion: parsingRegion))
    }

    /// The region a parsed number belongs to (`region_code_for_number`), nil when none of its
    /// country code's regions claims it.
    func region(of number: Parsed) -> Int? {
        let candidates = metadata.countryCodes[number.countryCode]
        if candidates.count == 1 { return candidates[0] }
        for r in candidates {
            let meta = metadata.regions[r]
            if let leading = meta.leadingDigits {
                if leading.matchesPrefix(number.national) { return r }
            } else if metadata.type(number.national, meta) != .unknown {
                return r
            }
        }
        return nil
    }

    // MARK: - The steps of libphonenumber's parse

    /// `_maybe_extract_country_code`: the country code and the rest, or nil when the number has none
    /// and is national to the default region.
    func extractCountryCode(
        _ number: Digits, plus: Bool, region: PhoneMetadata.Region, scratch: UnsafeMutableBufferPointer<UInt8>
    ) throws(Failure) -> (Int, Digits)? {
        guard !number.isEmpty else { return nil }
        var full = number
        var international = plus
        if !plus, let idd = region.internationalPrefix, let length = idd.matchLength(full) {
            // Only an international prefix when the next digit is not 0: no country code starts with 0.
            let next = full.index(full.startIndex, offsetBy: length)
            if next == full.endIndex || full[next] != UInt8(ascii: "0") {
                full = full[next...]
                international = true
            }
        }
        if international {
            guard full.count > 2 else { throw .tooShortAfterInternationalPrefix }
            if let found = countryCodePrefix(full) { return found }
            throw .invalidCountryCode
        }
        // The default region's country code written without '+' (`86 138…` in China).
        guard full.starts(with: region.countryCodeDigits) else { return nil }
        let potential = stripNationalPrefix(full.dropFirst(region.countryCodeDigits.count), region, scratch: scratch)
        if (!metadata.matchesGeneral(full, region) && metadata.matchesGeneral(potential, region))
            || metadata.testLength(full.count, region) == .tooLong
        {
            return (region.countryCode, potential)
        }
        return nil
    }

    /// `_extract_country_code`: a known country code of 1 to 3 digits at the start.
    func countryCodePrefix(_ number: Digits) -> (Int, Digits)? {
        guard let first = number.first, first != UInt8(ascii: "0") else { return nil }
        var code = 0
        var i = number.startIndex
        for _ in 0..<3 {
            guard i < number.endIndex else { return nil }
            code = code * 10 + Int(number[i] - 48)
            i += 1
            if !metadata.countryCodes[code].isEmpty { return (code, number[i...]) }
        }
        return nil
    }

    /// `_maybe_strip_national_prefix_carrier_code`: without the national prefix (trunk `0`, carrier
    /// selection codes, or a transform such as `8\1`), unless that would leave a number the general
    /// pattern no longer matches while the original did. A transformed number is written to `scratch`.
    func stripNationalPrefix(_ number: Digits, _ region: PhoneMetadata.Region, scratch: UnsafeMutableBufferPointer<UInt8>) -> Digits {
        guard !number.isEmpty, let prefix = region.nationalPrefix else { return number }
        // The groups matter only to a transform rule: without one, the cheaper match.
        let m: DigitPattern.Match
        if region.transform == nil {
            guard let length = prefix.matchLength(number) else { return number }
            m = DigitPattern.Match(length: length, groups: [])
        } else {
            guard let match = prefix.prefixMatch(number) else { return number }
            m = match
        }
        let viable = metadata.matchesGeneral(number, region)
        let result: Digits
        if let transform = region.transform, let last = m.groups.last, last != nil {
            var n = 0
            func append(_ bytes: some Sequence<UInt8>) {
                for b in bytes where n < scratch.count {
                    scratch[n] = b
                    n += 1
                }
            }
            for part in transform {
                switch part {
                case .digits(let d): append(d)
                case .group(let k):
                    if k >= 1, k <= m.groups.count, let r = m.groups[k - 1] {
                        append(number.dropFirst(r.lowerBound).prefix(r.count))
                    }
                }
            }
            append(number.dropFirst(m.length))
            result = UnsafeBufferPointer(scratch)[0..<n]
        } else {
            result = number.dropFirst(m.length)
        }
        if viable && !metadata.matchesGeneral(result, region) { return number }
        return result
    }
}
