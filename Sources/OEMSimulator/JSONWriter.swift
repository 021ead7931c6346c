/// The simulator's JSON output, written by hand so amounts go out exactly as held (`268000.00`).
enum JSONWriter {
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    static func optional(_ s: String?) -> String { s.map(quoted) ?? "null" }

    static func order(_ o: SimOrder, updatedKey: String, updated: String) -> String {
        var out = "{\"orderNo\":\(quoted(o.orderNo)),\"dealerCode\":\(quoted(o.dealerCode)),\"oemOrderNo\":\(optional(o.oemOrderNo))"
        out += ",\"vin\":\(optional(o.vin)),\"modelCode\":\(quoted(o.modelCode))"
        out += ",\"customer\":{\"id\":\(quoted(o.customer.id)),\"name\":\(quoted(o.customer.name)),\"mobile\":\(optional(o.customer.mobile))}"
        out += ",\"orderDate\":\(quoted(o.orderDate)),\"deliveryDate\":\(optional(o.deliveryDate)),\"status\":\(quoted(o.status))"
        out += ",\"totalPrice\":\(o.totalPrice),\"currency\":\(quoted(o.currency)),\"salesperson\":\(optional(o.salesperson))"
        out += ",\(quoted(updatedKey)):\(quoted(updated))}"
        return out
    }

    static func vehicle(_ v: SimVehicle) -> String {
        var out = "{\"vin\":\(quoted(v.vin)),\"modelCode\":\(quoted(v.modelCode)),\"modelYear\":\(v.modelYear)"
        out += ",\"exteriorColor\":\(quoted(v.exteriorColor)),\"interiorColor\":\(quoted(v.interiorColor))"
        out += ",\"engineNo\":\(quoted(v.engineNo)),\"certificateNo\":\(quoted(v.certificateNo))"
        out += ",\"productionDate\":\(quoted(v.productionDate)),\"lastModified\":\(v.lastModified)}"
        return out
    }

    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
