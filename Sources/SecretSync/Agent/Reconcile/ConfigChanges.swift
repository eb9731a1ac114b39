import Sealing

/// The keys of the settings ConfigMap that changed between two readings, as `config.changed`
/// audit records (values are settings, not secrets, but records still carry fingerprints only).
enum ConfigChanges {
    static func records(
        namespace: String, configMap: String, before: [String: [UInt8]]?, after: [String: [UInt8]]?
    ) -> [AuditRecord] {
        let old = before ?? [:]
        let new = after ?? [:]
        var records: [AuditRecord] = []
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] {
            let reason: String
            switch (old[key], new[key]) {
            case (nil, _): reason = "added"
            case (_, nil): reason = after == nil ? "ConfigMap deleted" : "removed"
            default: reason = "changed"
            }
            records.append(
                AuditRecord(
                    event: .configChanged, namespace: namespace, secret: configMap, key: key,
                    fingerprint: fingerprint(new[key], namespace: namespace, configMap: configMap, key: key),
                    previousFingerprint: fingerprint(
                        old[key], namespace: namespace, configMap: configMap, key: key),
                    reason: reason))
        }
        return records
    }

    static func fingerprint(_ value: [UInt8]?, namespace: String, configMap: String, key: String) -> String {
        guard let value, let binding = try? SecretBinding(namespace: namespace, secret: configMap, key: key)
        else {
            return ""
        }
        return Fingerprint(of: SecureBytes(value), binding: binding).text
    }
}
