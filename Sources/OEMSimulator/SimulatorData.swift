import Foundation

/// A sales order as the simulated OEM holds it. Amounts are kept as text so that they are served
/// exactly as written (`268000.00`).
public struct SimOrder: Codable, Sendable, Hashable {
    public struct Customer: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var mobile: String?
    }

    public var orderNo: String
    public var dealerCode: String
    public var oemOrderNo: String?
    public var vin: String?
    public var modelCode: String
    public var customer: Customer
    public var orderDate: String
    public var deliveryDate: String?
    public var status: String
    public var totalPrice: String
    public var currency: String
    public var salesperson: String?
    /// ISO 8601 in the fixtures; held as seconds since 1970 (UTC).
    public var updatedAt: String

    var updated: Int64 { SimTime.parseISO(updatedAt) ?? 0 }
}

/// A vehicle (certificate of conformity data) as the simulated OEM holds it.
public struct SimVehicle: Codable, Sendable, Hashable {
    public var vin: String
    public var modelCode: String
    public var modelYear: Int
    public var exteriorColor: String
    public var interiorColor: String
    public var engineNo: String
    public var certificateNo: String
    public var productionDate: String
    /// Milliseconds since 1970, as many OEM APIs send it.
    public var lastModified: Int64
}

/// The OEM's data: orders and vehicles, each kept sorted by (last change, id), the order every
/// endpoint serves them in.
public struct SimulatorData: Sendable {
    public private(set) var orders: [SimOrder]
    public private(set) var vehicles: [SimVehicle]

    public init(orders: [SimOrder], vehicles: [SimVehicle]) {
        self.orders = orders
        self.vehicles = vehicles
        sort()
    }

    mutating func sort() {
        orders.sort { ($0.updated, $0.orderNo) < ($1.updated, $1.orderNo) }
        vehicles.sort { ($0.lastModified, $0.vin) < ($1.lastModified, $1.vin) }
    }

    /// Reads `orders.jsonl` and `vehicles.jsonl` (one JSON object per line) from a folder; either may be absent.
    public static func load(directory: String) throws -> SimulatorData {
        func lines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let decoder = JSONDecoder()
            return try text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map {
                try decoder.decode(T.self, from: Data($0.utf8))
            }
        }
        return SimulatorData(orders: try lines("orders.jsonl", as: SimOrder.self), vehicles: try lines("vehicles.jsonl", as: SimVehicle.self))
    }

    /// `count` clean orders (valid VINs and phones, known codes), deterministic for a seed: what the
    /// benchmark and the demo's larger runs use.
    /// `orders` orders and `vehicles` vehicles, the same on every machine.
    public static func generated(orders count: Int, vehicles: Int = 0, seed: UInt64 = 1) -> SimulatorData {
        var rng = SplitMix64(seed: seed)
        let models = ["A3S", "A3H", "X5L", "X7E", "M2C"]
        let statuses = ["ORDERED", "IN_PRODUCTION", "SHIPPED", "ARRIVED", "DELIVERED"]
        let surnames = ["张", "王", "李", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
        let given = ["伟", "芳", "娜", "洋", "静", "磊", "敏", "强", "杰", "霞"]
        let prefixes = ["138", "139", "186", "158", "177", "199"]
        let start = SimTime.parseISO("2025-06-01T00:00:00Z")!
        var orders: [SimOrder] = []
        orders.reserveCapacity(count)
        for i in 0..<count {
            let n = i + 1
            let r = rng.next()
            let mobile = prefixes[Int(r % 6)] + String(format: "%08d", Int((r >> 8) % 100_000_000))
            let price = 150_000 + Int((r >> 20) % 300_000)
            orders.append(
                SimOrder(
                    orderNo: String(format: "SO-%07d", n), dealerCode: n % 3 == 0 ? "D002" : "D001",
                    oemOrderNo: String(format: "ACME-%08d", n), vin: SimVIN.make(serial: n),
                    modelCode: models[n % models.count],
                    customer: .init(
                        id: String(format: "C-%07d", n), name: surnames[Int((r >> 40) % 10)] + given[Int((r >> 44) % 10)], mobile: mobile),
                    orderDate: SimTime.date(start + Int64(i) * 60), deliveryDate: nil, status: statuses[Int((r >> 48) % 5)],
                    totalPrice: "\(price).\(String(format: "%02d", Int((r >> 56) % 100)))", currency: "CNY",
                    salesperson: String(format: "S-%02d", n % 17 + 1), updatedAt: SimTime.iso(start + Int64(i) * 60)))
        }
        let colors = ["0Q", "9B", "2T", "A2", "LY"]
        let modified = SimTime.parseISO("2025-11-01T00:00:00Z")! * 1000
        let fleet = (0..<vehicles).map { i in
            SimVehicle(
                vin: SimVIN.make(serial: 500_000 + i), modelCode: models[i % models.count], modelYear: 2025 + i % 2, exteriorColor: colors[i % colors.count],
                interiorColor: "BK", engineNo: String(format: "E%07d", i), certificateNo: String(format: "WCH%010d", i),
                productionDate: "2025-10-01", lastModified: modified + Int64(i) * 1000)
        }
        return SimulatorData(orders: orders, vehicles: fleet)
    }

    /// Marks orders as changed at `time` (a new status, a new `updatedAt`), which moves them to the
    /// end of the change order: what happens at a real OEM while a client is paging.
    mutating func touchOrders(_ orderNos: [String], at time: Int64) {
        for i in orders.indices where orderNos.contains(orders[i].orderNo) {
            orders[i].updatedAt = SimTime.iso(time)
            orders[i].status = orders[i].status == "DELIVERED" ? "CANCELLED" : "DELIVERED"
        }
        sort()
    }

    public var latestOrderChange: Int64 { orders.last?.updated ?? 0 }

    /// The index of the first order (in change order) for which `isAfter` holds, `orders.count` if
    /// none: a binary search, `isAfter` being false then true along the sorted list.
    func firstOrder(where isAfter: (SimOrder) -> Bool) -> Int {
        var low = 0
        var high = orders.count
        while low < high {
            let mid = (low + high) / 2
            if isAfter(orders[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// Valid Chinese VINs (check digit computed) for generated data.
enum SimVIN {
    static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    static func value(_ c: Character) -> Int {
        if let d = c.wholeNumberValue { return d }
        let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]
        return values[letters.firstIndex(of: c)!]
    }

    static func make(serial: Int) -> String {
        let base = Array("LSVAB2180S2" + String(format: "%06d", serial % 1_000_000))
        let sum = zip(base, weights).reduce(0) { $0 + value($1.0) * $1.1 }
        var vin = base
        vin[8] = sum % 11 == 10 ? "X" : Character(String(sum % 11))
        return String(vin)
    }
}

/// A small deterministic generator (SplitMix64), so generated data is the same on every machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
