/// Masks personal data for display (PIPL practice, domain notes §5.5): phones keep their first
/// three and last four digits (`+86138****8000`), e-mails their first letter and domain, anything
/// else (names, ID numbers) its first character (`张*`, `欧阳**`).
public enum Masking {
    public static func mask(_ value: String) -> String {
        let chars = Array(value)
        guard chars.count > 1 else { return "*" }
        if value.hasPrefix("+"), let digitsEnd = chars.firstIndex(where: { !$0.isNumber && $0 != "+" }) ?? Optional(chars.count),
            digitsEnd >= 9
        {
            let number = chars[0..<digitsEnd]
            let keepHead = min(6, number.count - 4)
            return String(number.prefix(keepHead)) + "****" + String(number.suffix(4)) + (digitsEnd < chars.count ? ";ext=…" : "")
        }
        if chars.allSatisfy({ $0.isNumber || $0 == " " || $0 == "-" }), chars.count >= 7 {
            return String(chars.prefix(3)) + "****" + String(chars.suffix(4))
        }
        if let at = chars.firstIndex(of: "@"), at > 0 {
            return String(chars[0]) + "***" + String(chars[at...])
        }
        return String(chars[0]) + String(repeating: "*", count: min(chars.count - 1, 8))
    }
}
