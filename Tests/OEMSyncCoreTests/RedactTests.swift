import OEMSyncCore
import Testing

@Suite("free text from outside: personal data and secrets masked, oemsync's identifiers kept")
struct RedactTests {
    /// The OEM error that reached the ledger, the report, `status` and the logs whole.
    static let oemError =
        #"{"code":"E5001","msg":"客户 张伟 手机 13912345678 身份证 440301199001011234 邮箱 zhang.wei@example.cn /api/v3/orders?api_key=K3Y-SECRET&page=2"}"#

    @Test("scrub masks phones, ID numbers, e-mail addresses, URL query values and keys")
    func scrub() {
        let cases = [
            ("call 13912345678 now", "call 139****5678 now"),
            ("id 11010519491231002X refused", "id 110****1002X refused"),
            ("mail zhang.wei@example.cn bounced", "mail z***@example.cn bounced"),
            ("GET /api/v3/orders?api_key=K3Y&page=2 failed", "GET /api/v3/orders?api_key=***&page=*** failed"),
            ("https://user:pa55@oem.example/x", "https://***@oem.example/x"),
            ("Authorization: Bearer eyJhbGciOi.x.y refused", "Authorization: Bearer *** refused"),
            (#"{"token":"abc123","x":1}"#, #"{"token":"***","x":1}"#),
            ("appsecret=zzz; next", "appsecret=***; next"),
            ("landline 6552888 refused", "landline 65****88 refused"),
        ]
        for (raw, masked) in cases { #expect(Redact.scrub(raw) == masked, "\(raw)") }
    }

    @Test("scrub leaves oemsync's own identifiers, counts, positions, dates and addresses readable")
    func identifiersStay() {
        let kept = [
            "cannot move '20251207T101500.123Z-0abc1234-stock.csv' to archive",
            "message 550e8400-e29b-41d4-a716-446655440000 skipped",
            "BODID 20251207-1234567-ab skipped",
            "HTTP 503 after 5 attempts on 127.0.0.1 port 36487, 2026-12-01T10:49:31Z",
            "resumed at line 1234567 (byte 98765432); 12345678 bytes, 2000000 records",
            "batch 1234567 failed",
        ]
        for text in kept { #expect(Redact.scrub(text) == text, "\(text)") }
    }

    @Test("an OEM's message keeps its code and error words; the name keeps its first character, the rest is masked")
    func outside() {
        let masked = Redact.outside(Self.oemError)
        for secret in ["张伟", "13912345678", "440301199001011234", "zhang.wei", "K3Y-SECRET"] {
            #expect(!masked.contains(secret), "\(secret) in \(masked)")
        }
        #expect(masked.contains("E5001"))
        #expect(masked.contains("客户 张* 手机 139****5678 身份证 440****1234 邮箱 z***@example.cn"), "\(masked)")
        #expect(masked.contains("api_key=***"))
        #expect(Redact.outside("Invalid phone for customer John Smith") == "Invalid phone for customer J*** S****")
        #expect(Redact.outside("客户王小明的手机号码无效") == "客户王**的手机号码无效")
    }

    @Test("a code that looks like one is kept; other text in its place is masked like a message")
    func code() {
        #expect(Redact.code("E5001") == "E5001")
        #expect(Redact.code("ORDER_NOT_FOUND") == "ORDER_NOT_FOUND")
        #expect(Redact.code("soap:Server") == "soap:Server")
        #expect(Redact.code("invalid_client") == "invalid_client")
        #expect(Redact.code("Zhang") == "Z****")
        #expect(Redact.code("13912345678") == "139****5678")
    }
}
