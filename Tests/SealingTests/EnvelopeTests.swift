import Foundation
import Testing

import TimeFormat

@testable import Sealing

@Suite struct EnvelopeTests {
    let pair = SealingKeyPair.generate()
    let binding: SecretBinding

    init() throws {
        binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key")
    }

    private func value(_ text: String) -> SecureBytes { SecureBytes(Array(text.utf8)) }

    private func seal(_ text: String = "sk-test") throws -> Envelope {
        try Envelope.seal(value(text), for: binding, to: pair.publicKey, sealedBy: "alice@laptop")
    }

    /// An envelope around an arbitrary payload, to test what other producers might send.
    private func envelope(payload: String) -> Envelope {
        let box = Envelope.sealBox(SecureBytes(Array(payload.utf8)), to: pair.publicKey)
        return Envelope(format: .v1, keyID: pair.keyID, ciphertext: box)
    }

    private func payloadJSON(
        namespace: String = "prod", secret: String = "beluga-ai-secrets", key: String = "openai-api-key",
        value: String = Data("sk-test".utf8).base64EncodedString(), extra: String = ""
    ) -> String {
        #"{"namespace":"\#(namespace)","secret":"\#(secret)","key":"\#(key)","value":"\#(value)","sealedBy":"bob","sealedAt":"2025-01-31T12:00:00Z"\#(extra)}"#
    }

    // MARK: - Round trips

    @Test(arguments: ["sk-test", "x", "with\nnewlines\r\n", "ünïcödé ✓", String(repeating: "k", count: 5000)])
    func sealedValuesOpenToTheSameBytes(text: String) throws {
        let envelope = try seal(text)
        let payload = try envelope.open(with: pair, expecting: binding)
        #expect(payload.value == value(text))
        #expect(payload.binding == binding)
        #expect(payload.sealedBy == "alice@laptop")
        #expect(RFC3339.isValidUTC(payload.sealedAt))
        #expect(payload.version == nil)
    }

    @Test func binaryValuesAndTheLargestValueRoundTrip() throws {
        let allBytes = SecureBytes((0...255).map { UInt8($0) })
        let envelope = try Envelope.seal(allBytes, for: binding, to: pair.publicKey, sealedBy: "a")
        #expect(try envelope.open(with: pair, expecting: binding).value == allBytes)

        let largest = SecureBytes(randomCount: Envelope.maximumValueLength)
        let big = try Envelope.seal(largest, for: binding, to: pair.publicKey, sealedBy: "a")
        #expect(try Envelope.parse(big.text).open(with: pair, expecting: binding).value == largest)
    }

    @Test func theTextHasTheDocumentedForm() throws {
        let envelope = try seal()
        let parts = envelope.text.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(parts[0] == "bs1")
        #expect(parts[1] == Substring(pair.keyID.hex))
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(parts[2].allSatisfy { alphabet.contains($0) })
        #expect(try Envelope.parse(envelope.text) == envelope)
        #expect(envelope.description == envelope.text)
    }

    @Test func eachSealIsDifferent() throws {
        #expect(try seal().text != seal().text)
    }

    @Test func explicitSealingTimesAreKeptAndInvalidOnesRefused() throws {
        let envelope = try Envelope.seal(
            value("v"), for: binding, to: pair.publicKey, sealedBy: "a", sealedAt: "2025-02-03T04:05:06Z")
        #expect(try envelope.open(with: pair, expecting: binding).sealedAt == "2025-02-03T04:05:06Z")
        #expect(throws: SealingError.invalidTimestamp) {
            try Envelope.seal(
                value("v"), for: binding, to: pair.publicKey, sealedBy: "a", sealedAt: "yesterday")
        }
    }

    // MARK: - Bad envelopes

    @Test func everyFlippedCiphertextByteIsRefused() throws {
        let envelope = try seal()
        for index in envelope.ciphertext.indices {
            var altered = envelope.ciphertext
            altered[index] ^= 0x01
            let tampered = Envelope(format: .v1, keyID: pair.keyID, ciphertext: altered)
            #expect(throws: SealingError.cannotOpen(pair.keyID)) {
                try Envelope.parse(tampered.text).open(with: pair, expecting: binding)
            }
        }
    }

    @Test func everyTruncationIsRefused() throws {
        let text = try seal().text
        for length in 0..<text.count {
            let truncated = String(text.prefix(length))
            #expect(throws: SealingError.self, "length \(length)") {
                try Envelope.parse(truncated).open(with: pair, expecting: binding)
            }
        }
    }

    @Test func wrongPrefixesAndVersionsAreRefused() throws {
        let text = try seal().text
        let body = text.dropFirst(4)
        for prefix in ["", "bs.", "BS1.", "xs1.", "bsx.", "bs1", "sealed."] {
            #expect(throws: SealingError.notAnEnvelope, "prefix \(prefix)") {
                try Envelope.parse(prefix + body)
            }
        }
        for version in ["0", "3", "9", "10"] {
            #expect(throws: SealingError.unsupportedEnvelopeVersion(version)) {
                try Envelope.parse("bs\(version)." + body)
            }
        }
        #expect(throws: SealingError.notAnEnvelope) { try Envelope.parse("sk-plaintext-api-key") }
    }

    /// One envelope, one spelling: `bs01.` or `bs001.` is not another way to write `bs1.`.
    @Test func versionsWithLeadingZerosAreRefused() throws {
        let text = try seal().text
        let body = text.dropFirst(4)
        #expect(try Envelope.parse(String(text)).format == .v1)
        for prefix in ["bs01.", "bs001.", "bs02.", "bs00.", "bs0000000001."] {
            #expect(throws: SealingError.self, "prefix \(prefix)") { try Envelope.parse(prefix + body) }
            do {
                _ = try Envelope.parse(prefix + body)
            } catch {
                guard case .malformedEnvelope(let reason) = error else {
                    Issue.record("\(prefix): \(error)")
                    continue
                }
                #expect(reason.contains("bs1."))
            }
        }
    }

    @Test func malformedPartsAreRefused() throws {
        let text = try seal().text
        let parts = text.split(separator: ".").map(String.init)
        let cases = [
            "bs1.\(parts[1])", "bs1.\(parts[1]).\(parts[2]).extra",
            // A key id in upper case (its first digit made a letter, so it differs).
            "bs1.A\(parts[1].dropFirst()).\(parts[2])",
            "bs1.abc.\(parts[2])", "bs1.\(parts[1]).\(parts[2])=",
            "bs1.\(parts[1]).\(parts[2].replacingOccurrences(of: "-", with: "+"))+",
            "bs1.\(parts[1]).", "bs1.\(parts[1]).AAAA", " \(text)", "\(text)\n",
        ]
        for bad in cases {
            #expect(throws: SealingError.self, "\(bad.prefix(40))") { try Envelope.parse(bad) }
        }
    }

    /// libsodium 1.0.18 decodes any byte from 0x80 up as the last base64 character; an
    /// envelope has one spelling only, so such bytes are refused wherever base64 is read.
    @Test func nonASCIIBytesInBase64AreRefused() throws {
        // 0xFF bytes encode as `_` (base64url) and `/` (standard); U+00CC is the bytes C3 8C,
        // which libsodium 1.0.18 alone would read as two such characters.
        let canonical = Envelope(
            format: .v1, keyID: pair.keyID, ciphertext: [UInt8](repeating: 0xFF, count: 60))
        #expect(try Envelope.parse(canonical.text) == canonical)
        let altered = canonical.text.replacingOccurrences(of: "__", with: "\u{CC}")
        #expect(throws: SealingError.self) { try Envelope.parse(altered) }

        #expect(throws: SealingError.malformedPayload("member value is not standard base64")) {
            try envelope(payload: payloadJSON(value: "AA\u{CC}")).open(with: pair, expecting: binding)
        }

        let key = try SealingPublicKey(bytes: [UInt8](repeating: 0xFF, count: 32))
        #expect(try SealingPublicKey(base64: key.base64) == key)
        #expect(throws: SealingError.self) {
            try SealingPublicKey(base64: key.base64.replacingOccurrences(of: "//", with: "\u{CC}"))
        }
    }

    @Test func envelopesSealedToAnotherKeyAreRefusedByKeyID() throws {
        let other = SealingKeyPair.generate()
        let envelope = try Envelope.seal(value("v"), for: binding, to: other.publicKey, sealedBy: "a")
        #expect(throws: SealingError.unknownKeyID(other.keyID, held: [pair.keyID])) {
            try envelope.open(with: pair, expecting: binding)
        }
    }

    @Test func aWrongPrivateKeyUnderTheRightKeyIDDoesNotOpen() throws {
        // An envelope sealed to another key but relabelled with our key id.
        let other = SealingKeyPair.generate()
        let sealed = try Envelope.seal(value("v"), for: binding, to: other.publicKey, sealedBy: "a")
        let relabelled = Envelope(format: .v1, keyID: pair.keyID, ciphertext: sealed.ciphertext)
        #expect(throws: SealingError.cannotOpen(pair.keyID)) {
            try relabelled.open(with: pair, expecting: binding)
        }
    }

    @Test func envelopesCannotMoveToAnotherNamespaceSecretOrKey() throws {
        let envelope = try seal()
        let elsewhere: [(SecretBinding, SecretBinding.Field)] = [
            (try SecretBinding(namespace: "staging", secret: binding.secret, key: binding.key), .namespace),
            (try SecretBinding(namespace: binding.namespace, secret: "other", key: binding.key), .secret),
            (
                try SecretBinding(
                    namespace: binding.namespace, secret: binding.secret, key: "anthropic-api-key"), .key
            ),
        ]
        for (target, field) in elsewhere {
            let error = #expect(throws: SealingError.bindingMismatch(field)) {
                try envelope.open(with: pair, expecting: target)
            }
            #expect(error?.description.contains("prod") == false, "the mismatch names the field, not values")
        }
    }

    /// Names are bytes: a payload naming the key `\u{212A}ey` (KELVIN SIGN) is not for the key
    /// `Key`, though Swift's `==` finds the two strings equal (canonical equivalence); nor is a
    /// decomposed `é` the precomposed one.
    @Test func bindingsCompareAsBytesNotAsCanonicallyEquivalentText() throws {
        let target = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "Key")
        #expect("\u{212A}ey" == "Key", "the premise: Swift calls them equal")
        let kelvin = envelope(payload: payloadJSON(key: "\u{212A}ey"))
        #expect(throws: SealingError.bindingMismatch(.key)) { try kelvin.open(with: pair, expecting: target) }
        let escaped = envelope(payload: payloadJSON(key: "\\u212Aey"))
        #expect(throws: SealingError.bindingMismatch(.key)) {
            try escaped.open(with: pair, expecting: target)
        }
        let decomposed = envelope(payload: payloadJSON(secret: "caf\u{65}\u{301}"))
        let precomposed = try SecretBinding(namespace: "prod", secret: "caf\u{E9}", key: "openai-api-key")
        #expect(throws: SealingError.bindingMismatch(.secret)) {
            try decomposed.open(with: pair, expecting: precomposed)
        }
        #expect(
            try envelope(payload: payloadJSON(key: "Key")).open(with: pair, expecting: target).binding
                == target)
        let kelvinBinding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "Key")
        #expect(kelvinBinding == target)
        #expect(
            Set([target, SecretBinding(unchecked: "prod", secret: "beluga-ai-secrets", key: "\u{212A}ey")])
                .count == 2,
            "equal and hashed as bytes")
    }

    // MARK: - Values and key names

    @Test func emptyAndOversizedValuesAreRefused() throws {
        #expect(throws: SealingError.emptyValue) { try seal("") }
        let tooLarge = SecureBytes(randomCount: Envelope.maximumValueLength + 1)
        #expect(throws: SealingError.valueTooLarge(Envelope.maximumValueLength + 1)) {
            try Envelope.seal(tooLarge, for: binding, to: pair.publicKey, sealedBy: "a")
        }
        // Also when another producer sealed them.
        #expect(throws: SealingError.emptyValue) {
            try envelope(payload: payloadJSON(value: "")).open(with: pair, expecting: binding)
        }
        let big = Data(repeating: 0x41, count: Envelope.maximumValueLength + 1).base64EncodedString()
        #expect(throws: SealingError.valueTooLarge(Envelope.maximumValueLength + 1)) {
            try envelope(payload: payloadJSON(value: big)).open(with: pair, expecting: binding)
        }
    }

    @Test(arguments: [
        "", ".", "..", "a/b", "a b", "key:1", "ключ", "tab\tkey", "new\nline",
        String(repeating: "k", count: 254),
    ])
    func invalidKeyNamesAreRefused(name: String) {
        let error = #expect(throws: SealingError.self) {
            try SecretBinding(namespace: "prod", secret: "s", key: name)
        }
        guard case .invalidKeyName = error else {
            Issue.record("expected invalidKeyName, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("\n") == false)
    }

    @Test(arguments: ["a", "A-b_c.d", "...", ".env", "openai-api-key", String(repeating: "k", count: 253)])
    func validKeyNamesAreAccepted(name: String) throws {
        _ = try SecretBinding(namespace: "prod", secret: "s", key: name)
    }

    // MARK: - Payloads from other producers

    @Test func whitespaceAndEscapesOfOtherEncodersAreAccepted() throws {
        let base64 = Data([0xfb, 0xff, 0xfe, 0x3f]).base64EncodedString()  // contains '/' and '+'
        #expect(base64.contains("/"))
        let escaped = base64.replacingOccurrences(of: "/", with: "\\/")
        let payload = """
            {
              "namespace": "pr\\u006fd", "secret" : "beluga-ai-secrets",\t"key":"openai-api-key",
              "value": "\(escaped)", "sealedBy": "caf\\u00e9 \\ud83d\\ude00 \\"q\\"", "sealedAt": "2025-01-31T12:00:00.123456+00:00"
            }
            """
        let opened = try envelope(payload: payload).open(with: pair, expecting: binding)
        #expect(opened.value == SecureBytes([0xfb, 0xff, 0xfe, 0x3f]))
        #expect(opened.sealedBy == "café 😀 \"q\"")
    }

    @Test func unusualButValidTextSurvivesTheWriter() throws {
        let unusual = "quote\" backslash\\ control\u{1} newline\n ✓"
        let target = try SecretBinding(namespace: unusual, secret: "s\"", key: "k")
        let envelope = try Envelope.seal(value("v"), for: target, to: pair.publicKey, sealedBy: unusual)
        let payload = try envelope.open(with: pair, expecting: target)
        #expect(payload.sealedBy == unusual)
        #expect(payload.binding == target)
    }

    @Test func payloadsBreakingTheFormatAreRefused() throws {
        let good = Data("sk-test".utf8).base64EncodedString()
        let bad: [String] = [
            "", "[]", "\"text\"", "{}", "{",
            payloadJSON(extra: #","extra":"x""#),
            payloadJSON(extra: #","namespace":"prod""#),
            payloadJSON(extra: #","version":2"#),
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":"bob"}"#,
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":"bob","sealedAt":1}"#,
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":null,"sealedAt":"2025-01-31T12:00:00Z"}"#,
            payloadJSON(value: "not base64!"),
            payloadJSON(value: String(good.dropLast())),
            payloadJSON(value: good.replacingOccurrences(of: "=", with: "")),
            payloadJSON(
                value: Data("x".utf8).base64EncodedString().replacingOccurrences(of: "eA", with: "eB")),
            payloadJSON(extra: "") + "x",
            payloadJSON(extra: "") + "{}",
            payloadJSON(namespace: "bad\\x"),
            payloadJSON(namespace: "bad\\ud800"),
            payloadJSON(namespace: "bad\u{1}ctl"),
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":"bob","sealedAt":"31/01/2025"}"#,
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":"bob","sealedAt":"2025-01-31T12:00:00+02:00"}"#,
            #"{"namespace":"prod","secret":"beluga-ai-secrets","key":"openai-api-key","value":"\#(good)","sealedBy":"bob","sealedAt":"2025-01-31T12:00:00Z",}"#,
        ]
        for payload in bad {
            let error = #expect(throws: SealingError.self, "\(payload)") {
                try envelope(payload: payload).open(with: pair, expecting: binding)
            }
            guard case .malformedPayload = error else {
                Issue.record("expected malformedPayload for \(payload), got \(String(describing: error))")
                continue
            }
        }
        // Invalid UTF-8 in a member.
        var bytes = Array(payloadJSON(namespace: "prod").utf8)
        bytes[15] = 0xff
        let box = Envelope.sealBox(SecureBytes(bytes), to: pair.publicKey)
        #expect(throws: SealingError.self) {
            try Envelope(format: .v1, keyID: pair.keyID, ciphertext: box).open(with: pair, expecting: binding)
        }
    }

    @Test func payloadErrorsNeverRepeatContent() throws {
        let marker = "sk-MARKER-payload-error"
        let cases = [
            payloadJSON(extra: #","\#(marker)":"x""#),
            payloadJSON(value: marker),
            payloadJSON(namespace: marker),
        ]
        for payload in cases {
            let error = #expect(throws: SealingError.self) {
                try envelope(payload: payload).open(with: pair, expecting: binding)
            }
            #expect(error?.description.contains("MARKER") == false)
        }
    }

    @Test func everyErrorTextIsOneLineSayingWhatToDo() throws {
        let errors: [SealingError] = [
            .notAnEnvelope, .unsupportedEnvelopeVersion("3"), .malformedEnvelope("x"),
            .unknownKeyID(pair.keyID, held: []), .unknownKeyID(pair.keyID, held: [pair.keyID]),
            .cannotOpen(pair.keyID),
            .malformedPayload("x"), .bindingMismatch(.namespace),
            .payloadSignerMismatch(SignerID("0123456789abcdef")!),
            .invalidKeyName("x"), .emptyValue, .valueTooLarge(2), .invalidTimestamp, .invalidVersion,
            .invalidKey(.signerPublicKey, "x"),
            .keyFileUnreadable(path: "/p", kind: .sealingPrivateKey, reason: "r"),
            .insecureKeyFile(path: "/p", kind: .sealingPrivateKey, mode: 0o644),
            .keyFileMalformed(path: "/p", kind: .sealingPublicKey),
            .wrongKeyLength(path: "/p", kind: .signerPublicKey, found: 3),
            .keyFileExists(path: "/p", kind: .signerPrivateKey),
            .keyFileWriteFailed(path: "/p", kind: .sealingPrivateKey, reason: "r"),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(":"), "\(error) says what to do after a colon")
        }
        #expect(
            SealingError.insecureKeyFile(path: "/p", kind: .sealingPrivateKey, mode: 0o644).description
                .contains("0644"))
    }
}
