public import GRDB

/// A sidecar is a row of the `sidecar` table (migration `v6-sidecars`), keyed by its job and name.
extension Sidecar: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sidecar"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
