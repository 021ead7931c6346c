/// Where a VIN was made, from its WMI (positions 1-3): the region from the first character, the
/// country from the first two (ISO 3780, as vininfo 1.11.0 tabulates it). For display and reports
/// only, never for rejecting a VIN: the sources disagree at the edges (domain notes §1.7).
public enum VINRegions {
    /// The ISO 3780 order of the second character, in which country ranges are written.
    static let sequence = Array("ABCDEFGHJKLMNPRSTUVWXYZ1234567890".utf8)

    /// (first character, second from, second to, country); later entries override earlier ones.
    static let ranges: [(String, String, String, String)] = [
        ("A", "A", "H", "South Africa"),
        ("A", "J", "K", "Ivory Coast"),
        ("A", "L", "M", "Lesotho"),
        ("A", "N", "P", "Botswana"),
        ("A", "R", "S", "Namibia"),
        ("A", "T", "U", "Madagascar"),
        ("A", "V", "W", "Mauritius"),
        ("A", "X", "Y", "Tunisia"),
        ("A", "Z", "1", "Cyprus"),
        ("A", "2", "3", "Zimbabwe"),
        ("A", "4", "5", "Mozambique"),
        ("B", "A", "B", "Angola"),
        ("B", "F", "G", "Kenya"),
        ("B", "L", "L", "Nigeria"),
        ("B", "R", "R", "Algeria"),
        ("B", "3", "4", "Libya"),
        ("C", "A", "B", "Egypt"),
        ("C", "F", "G", "Morocco"),
        ("C", "L", "M", "Zambia"),
        ("D", "A", "E", "Egypt"),
        ("H", "A", "0", "China"),
        ("J", "A", "0", "Japan"),
        ("K", "F", "H", "Israel"),
        ("K", "L", "R", "South Korea"),
        ("K", "S", "T", "Jordan"),
        ("L", "A", "0", "China"),
        ("M", "A", "E", "India"),
        ("M", "F", "K", "Indonesia"),
        ("M", "L", "R", "Thailand"),
        ("M", "S", "S", "Myanmar"),
        ("M", "U", "U", "Mongolia"),
        ("M", "X", "X", "Kazakhstan"),
        ("M", "1", "6", "India"),
        ("N", "A", "E", "Iran"),
        ("N", "F", "G", "Pakistan"),
        ("N", "J", "J", "Iraq"),
        ("N", "L", "R", "Turkey"),
        ("N", "S", "T", "Uzbekistan"),
        ("N", "U", "U", "Azerbaijan"),
        ("N", "Y", "Y", "Armenia"),
        ("N", "1", "5", "Iran"),
        ("P", "A", "C", "Philippines"),
        ("P", "F", "G", "Singapore"),
        ("P", "L", "R", "Malaysia"),
        ("P", "S", "T", "Bangladesh"),
        ("R", "A", "B", "United Arab Emirates"),
        ("R", "F", "K", "Taiwan"),
        ("R", "L", "N", "Vietnam"),
        ("R", "P", "P", "Laos"),
        ("R", "S", "T", "Saudi Arabia"),
        ("R", "U", "W", "Russia"),
        ("R", "1", "1", "Hong Kong"),
        ("S", "A", "M", "United Kingdom"),
        ("S", "N", "T", "Germany"),
        ("S", "U", "Z", "Poland"),
        ("S", "1", "2", "Latvia"),
        ("S", "3", "3", "South Ossetia"),
        ("T", "A", "H", "Switzerland"),
        ("T", "J", "P", "Czech Republic"),
        ("T", "R", "V", "Hungary"),
        ("T", "W", "2", "Portugal"),
        ("T", "3", "5", "Serbia & Montenegro"),
        ("T", "6", "6", "Andorra"),
        ("U", "A", "C", "Spain"),
        ("U", "H", "M", "Denmark"),
        ("U", "N", "R", "Ireland"),
        ("U", "U", "W", "Romania"),
        ("U", "1", "2", "Macedonia"),
        ("U", "5", "7", "Slovakia"),
        ("U", "8", "0", "Bosnia & Herzogovina"),
        ("V", "A", "E", "Austria"),
        ("V", "F", "R", "France"),
        ("V", "S", "W", "Spain"),
        ("V", "X", "2", "Serbia"),
        ("V", "3", "5", "Croatia"),
        ("V", "6", "8", "Estonia"),
        ("W", "A", "0", "Germany"),
        ("X", "A", "C", "Bulgaria"),
        ("X", "D", "E", "Russia"),
        ("X", "F", "H", "Greece"),
        ("X", "J", "K", "Russia"),
        ("X", "L", "R", "Netherlands"),
        ("X", "S", "W", "Russia"),
        ("X", "X", "Y", "Luxembourg"),
        ("X", "Z", "0", "Russia"),
        ("Y", "A", "E", "Belgium"),
        ("Y", "F", "K", "Finland"),
        ("Y", "N", "N", "Malta"),
        ("Y", "S", "W", "Sweden"),
        ("Y", "X", "2", "Norway"),
        ("Y", "3", "5", "Belarus"),
        ("Y", "6", "8", "Ukraine"),
        ("Z", "A", "U", "Italy"),
        ("Z", "X", "Z", "Slovenia"),
        ("Z", "1", "1", "San Marino"),
        ("Z", "3", "5", "Lithuania"),
        ("Z", "6", "0", "Russia"),
        ("1", "A", "0", "United States"),
        ("2", "A", "5", "Canada"),
        ("3", "A", "X", "Mexico"),
        ("3", "5", "5", "Dom. Republic"),
        ("3", "6", "6", "Honduras"),
        ("3", "7", "7", "Panama"),
        ("3", "8", "9", "Puerto Rico"),
        ("4", "A", "0", "United States"),
        ("5", "A", "0", "United States"),
        ("6", "A", "X", "Australia"),
        ("6", "Y", "1", "New Zealand"),
        ("7", "A", "0", "United States"),
        ("8", "A", "E", "Argentina"),
        ("8", "F", "G", "Chile"),
        ("8", "L", "N", "Ecuador"),
        ("8", "S", "T", "Peru"),
        ("8", "X", "Z", "Venezuela"),
        ("8", "2", "2", "Bolivia"),
        ("9", "A", "E", "Brazil"),
        ("9", "F", "G", "Colombia"),
        ("9", "S", "V", "Uruguay"),
        ("9", "2", "9", "Brazil"),    ]

    /// Country by the first two characters (`LS` -> China).
    static let countries: [UInt16: String] = {
        var map: [UInt16: String] = [:]
        for (first, from, to, country) in ranges {
            let f = first.utf8.first!
            guard let a = sequence.firstIndex(of: from.utf8.first!), let b = sequence.firstIndex(of: to.utf8.first!), a <= b else { continue }
            for second in sequence[a...b] { map[UInt16(f) << 8 | UInt16(second)] = country }
        }
        return map
    }()

    public static func country(_ first: UInt8, _ second: UInt8) -> String? { countries[UInt16(first) << 8 | UInt16(second)] }

    /// The region of a first character. `D` (Egypt's newer block) and `H` (China's newer block) are
    /// Africa and Asia as ISO 3780 allocates them; vininfo leaves both without a region.
    public static func region(_ first: UInt8) -> String? {
        switch first {
        case UInt8(ascii: "A")...UInt8(ascii: "D"): return "Africa"
        case UInt8(ascii: "H")...UInt8(ascii: "R"): return "Asia"
        case UInt8(ascii: "S")...UInt8(ascii: "Z"): return "Europe"
        case UInt8(ascii: "1")...UInt8(ascii: "5"), UInt8(ascii: "7"): return "North America"
        case UInt8(ascii: "6"): return "Oceania"
        case UInt8(ascii: "8"), UInt8(ascii: "9"): return "South America"
        default: return nil
        }
    }

    /// Made for North America: where position 7 tells the 30-year cycle of the model year.
    static func isNorthAmerican(_ first: UInt8) -> Bool {
        (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(first) || first == UInt8(ascii: "7")
    }
}
