// Fuzzes the kubeconfig loader's parsing: YAML (libyaml through the YAML module) into `JSON`,
// then into `Kubeconfig`, then the choice of context, cluster and user
// (`ClientConfiguration.from`); and the YAML writer, whose output must read back as the
// document it wrote.
// The filesystem stays out of it: the text comes from the input, and the paths a kubeconfig
// may name (certificate files, token files) are cleared before a context is resolved.

import FuzzSupport
import JSONValue
import YAML
@testable import KubeAPI

let file = "/fuzz/kubeconfig"

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzKubeconfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    let document = try? YAMLReader.read(text)
    let outcome = load(text)
    if let document {
        checkRoundTrip(document, outcome)
        checkWrittenYAML(document)
    }
    checkNoLeak(text, document, outcome)
    return 0
}

/// What loading a text gives: the configuration of its current context, or the error.
enum Outcome {
    case parseFailed(KubeError)
    case resolved(Kubeconfig, Result<ClientConfiguration, KubeError>)

    var messages: [String] {
        switch self {
        case .parseFailed(let error): return [error.message, error.description]
        case .resolved(_, .failure(let error)): return [error.message, error.description]
        case .resolved(_, .success(let configuration)): return [String(describing: configuration)]
        }
    }
}

func load(_ text: String) -> Outcome {
    var kubeconfig: Kubeconfig
    do {
        kubeconfig = try KubeconfigParser.parse(text, file: file)
    } catch {
        require(error.category == .configuration, "a bad kubeconfig is a configuration error")
        require(error.message.contains(file), "the error names the file: \(error.message)")
        return .parseFailed(error)
    }
    for name in kubeconfig.clusters.keys { kubeconfig.clusters[name]?.certificateAuthority = nil }
    for name in kubeconfig.users.keys {
        kubeconfig.users[name]?.tokenFile = nil
        kubeconfig.users[name]?.clientCertificate = nil
        kubeconfig.users[name]?.clientKey = nil
    }
    do {
        return .resolved(kubeconfig, .success(try ClientConfiguration.from(kubeconfig: kubeconfig)))
    } catch {
        require(error.category == .configuration, "an unusable context is a configuration error")
        return .resolved(kubeconfig, .failure(error))
    }
}

/// JSON is YAML: the document written as JSON must read back as the same document (numbers
/// compared by value: JSON writes 2.0 as 2) and load the same way. Skipped for texts libyaml
/// cannot take back: scalars over its 1,024-character limit for keys, or characters YAML
/// forbids in a stream (escapes can produce them).
func checkRoundTrip(_ document: JSON, _ outcome: Outcome) {
    guard allStrings(document).allSatisfy(isPortable) else { return }
    let json = document.jsonText
    guard let again = try? YAMLReader.read(json) else {
        invariantFailed("the document as JSON is not read back: \(json.debugDescription)")
    }
    require(
        numbersByValue(again) == numbersByValue(document),
        "the document as JSON reads back unchanged: \(json.debugDescription)")
    switch (outcome, load(json)) {
    case (.parseFailed(let first), .parseFailed(let second)):
        require(first.message == second.message, "the same document fails the same way")
    case (.resolved(_, let first), .resolved(_, let second)):
        require(
            String(describing: first) == String(describing: second), "the same document resolves the same way"
        )
    default:
        invariantFailed("the same document parses in one spelling and not in the other")
    }
}

/// What `YAMLWriter` writes of a document reads back as that document: every string that YAML
/// would read as something else (`yes`, `0123`, `~`) was quoted.
func checkWrittenYAML(_ document: JSON) {
    let yaml = YAMLWriter.document(document)
    guard let again = try? YAMLReader.read(yaml) else {
        invariantFailed("the document as YAML is not read back: \(yaml.debugDescription)")
    }
    require(
        numbersByValue(again) == numbersByValue(document),
        "the document as YAML reads back unchanged: \(yaml.debugDescription)")
}

/// Whole numbers as `.int`, however they were written.
func numbersByValue(_ value: JSON) -> JSON {
    switch value {
    case .double(let number) where number.rounded() == number && abs(number) < 1e15: return .int(Int(number))
    case .array(let items): return .array(items.map(numbersByValue))
    case .object(let members): return .object(members.mapValues(numbersByValue))
    default: return value
    }
}

func allStrings(_ value: JSON) -> [String] {
    switch value {
    case .string(let text): return [text]
    case .array(let items): return items.flatMap(allStrings)
    case .object(let members): return members.flatMap { [$0.key] + allStrings($0.value) }
    default: return []
    }
}

func isPortable(_ text: String) -> Bool {
    // libyaml's limit applies to the written form, escapes included.
    JSON.string(text).jsonText.utf8.count < 1000
        && text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF:
                return true
            default: return false
            }
        } && !text.hasPrefix("\u{FEFF}")
}

/// No error or description shows a token, password or client key. Checked for values that
/// could not come from anything else: at least 12 characters with a digit, written once.
func checkNoLeak(_ text: String, _ document: JSON?, _ outcome: Outcome) {
    guard let users = document?["users"]?.arrayValue else { return }
    for user in users {
        for field in ["token", "password", "client-key-data"] {
            guard let secret = user["user"]?[field]?.stringValue, secret.count >= 12,
                secret.contains(where: \.isNumber), text.ranges(of: secret).count == 1
            else { continue }
            for message in outcome.messages {
                require(!message.contains(secret), "a \(field) is not shown, but it is in: \(message)")
            }
        }
    }
}

runLibFuzzer(fuzzKubeconfig)
