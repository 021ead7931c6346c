import OEMSyncCore
import OEMSyncSinks

/// Opens the dealer database a configuration names.
public enum DatabaseOpener {
    public static func open(_ settings: DatabaseSettings) throws(SinkError) -> any DealerDatabase {
        switch settings.kind {
        case .sqlite(let path):
            return try SQLiteDealerDatabase(path: path, limits: settings.limits)
        case .postgres(let url):
            let password: String?
            do {
                password = try settings.password()
            } catch {
                throw SinkError(.connect, error.description)
            }
            return try PostgresDealerDatabase(url: url, password: password, schema: settings.schema, displayName: settings.displayName, limits: settings.limits)
        }
    }
}
