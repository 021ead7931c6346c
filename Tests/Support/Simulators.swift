import Foundation
import OEMSimulator

/// Runs `body` against a fresh OEM simulator on a loopback port, stopping it afterwards.
public func withSimulator<T: Sendable>(
    data: SimulatorData? = nil, config: SimulatorConfig = SimulatorConfig(), _ body: (OEMSimulator) async throws -> T
) async throws -> T {
    let oem = try await OEMSimulator.start(data: try data ?? SimulatorData.acme(), config: config)
    do {
        let result = try await body(oem)
        await oem.stop()
        return result
    } catch {
        await oem.stop()
        throw error
    }
}

extension SimulatorData {
    /// The ACME sample data in `fixtures/simulator/acme`.
    public static func acme() throws -> SimulatorData {
        try SimulatorData.load(directory: Fixture.path("simulator/acme"))
    }
}
