// The XML reader's benchmark (scripts/bench-soap): reads a SOAP ShowVehicleInventory file into raw
// records (10 fields each, namespace-aware paths) and prints records, bytes and seconds as one line:
// `records=N bytes=B seconds=S`.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OEMSyncCore
import OEMSyncFeeds

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: oemsync-bench-xml FILE\n".utf8))
    exit(64)
}
let ns = ["s": XMLRecordReader.soap11, "star": "http://www.starstandard.org/STAR/5"]
func path(_ s: String) -> XMLPath { try! XMLPath(s, namespaces: ns) }
let reader = XMLRecordReader(
    records: path(
        "/s:Envelope/s:Body/star:ShowVehicleInventory/star:ShowVehicleInventoryDataArea/star:VehicleInventory/star:VehicleInventoryInvoice/star:VehicleInventoryVehicleLineItem"),
    fields: [
        "star:Vehicle/star:VehicleID", "star:Vehicle/star:Model", "star:Vehicle/star:ModelYear", "star:Vehicle/star:ModelDescription",
        "star:Vehicle/star:ColorGroup/star:ManufacturerColorCode", "star:VehicleStockString", "star:VehicleStatusCode",
        "star:Pricing/star:Amount", "star:Pricing/star:Amount/@currencyID", "star:Option/star:OptionID",
    ].map { XMLRecordReader.Field(path: path($0), join: "|") },
    captures: [path("/s:Envelope/s:Body/star:ShowVehicleInventory/star:ApplicationArea/star:BODID")])
// BENCH_XML_BARE=1: XMLParser with a delegate that does nothing (what the reader's own work costs).
if ProcessInfo.processInfo.environment["BENCH_XML_BARE"] == "1" {
    #if canImport(FoundationXML)
    final class Bare: NSObject, XMLParserDelegate {}
    let started = ContinuousClock.now
    let parser = XMLParser(stream: InputStream(fileAtPath: arguments[1])!)
    parser.shouldProcessNamespaces = true
    let bare = Bare()
    parser.delegate = bare
    let ok = parser.parse()
    print("bare=\(ok) seconds=\((ContinuousClock.now - started).seconds)")
    exit(0)
    #endif
}
let started = ContinuousClock.now
var fieldBytes = 0
do {
    let result = try reader.read(file: arguments[1]) { record in fieldBytes &+= record.fields.reduce(0) { $0 + $1.utf8.count } }
    let seconds = (ContinuousClock.now - started).seconds
    print("records=\(result.records) bytes=\(result.bytes) seconds=\(seconds) field_bytes=\(fieldBytes)")
} catch {
    FileHandle.standardError.write(Data("oemsync-bench-xml: \(error)\n".utf8))
    exit(1)
}
