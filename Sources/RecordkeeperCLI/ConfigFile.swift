import Archive
import Foundation

/// The settings an operator keeps in a file rather than in every command line or unit file:
/// `--config PATH` or `RECORDKEEPER_CONFIG`. JSON, for example
///
///     {"data_dir": "/var/lib/recordkeeper",
///      "database_url": "postgres://recordkeeper:…@db.agency.example:5432/records?sslmode=require",
///      "blob_store": "s3://records-prod?endpoint=https://s3.agency.example&region=us-gov-west-1&retention-days=365"}
///
/// A flag wins over the environment, which wins over the file. Unknown keys are refused (a
/// misspelt key would otherwise be silently ignored), and so is a file that holds the database
/// password and can be read by anyone but its owner. S3 keys stay in the environment.
struct ConfigFile: Decodable, Equatable {
    static let environmentVariable = "RECORDKEEPER_CONFIG"
    static let keys: Set<String> = ["data_dir", "database_url", "blob_store"]

    var dataDir: String?
    var databaseURL: String?
    var blobStore: String?

    enum CodingKeys: String, CodingKey {
        case dataDir = "data_dir", databaseURL = "database_url", blobStore = "blob_store"
    }

    static func load(path: String) throws -> ConfigFile {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ArchiveError(.invalid, "cannot read the configuration file \(url.path): \((error as NSError).localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ArchiveError(.invalid, "the configuration file \(url.path) is not a JSON object (see docs/operations.md, \"Configuration\")")
        }
        let unknown = Set(object.keys).subtracting(keys).sorted()
        guard unknown.isEmpty else {
            throw ArchiveError(.invalid, "the configuration file \(url.path) has unknown keys: \(unknown.joined(separator: ", ")) "
                + "(known: \(keys.sorted().joined(separator: ", ")))")
        }
        let config: ConfigFile
        do { config = try JSONDecoder().decode(ConfigFile.self, from: data) } catch {
            throw ArchiveError(.invalid, "the configuration file \(url.path): every value must be a string")
        }
        if let db = config.databaseURL, URLComponents(string: db)?.password?.isEmpty == false {
            let mode = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
            if mode & 0o077 != 0 {
                throw ArchiveError(.invalid, "the configuration file \(url.path) holds the database password but others can read it "
                    + "(mode \(String(mode, radix: 8))); run `chmod 600 \(url.path)`")
            }
        }
        return config
    }
}
