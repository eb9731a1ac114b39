import Testing

@testable import Sealing

@Suite struct FingerprintTests {
    @Test func matchesTheDefinitionComputedIndependently() throws {
        // Computed with Python's hashlib.blake2b from the definition in the README.
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key")
        let fingerprint = Fingerprint(of: SecureBytes(Array("sk-test-value".utf8)), binding: binding)
        #expect(fingerprint.text == "fp1:d62ea91610a7ca5c1d5463c751d14bc3")
    }

    @Test func equalExactlyForEqualValuesUnderTheSameBinding() throws {
        let binding = try SecretBinding(namespace: "prod", secret: "s", key: "k")
        let value = SecureBytes(Array("v1".utf8))
        #expect(
            Fingerprint(of: value, binding: binding)
                == Fingerprint(of: SecureBytes(Array("v1".utf8)), binding: binding))
        #expect(
            Fingerprint(of: value, binding: binding)
                != Fingerprint(of: SecureBytes(Array("v2".utf8)), binding: binding))
        for other in [
            try SecretBinding(namespace: "prod2", secret: "s", key: "k"),
            try SecretBinding(namespace: "prod", secret: "s2", key: "k"),
            try SecretBinding(namespace: "prod", secret: "s", key: "k2"),
        ] {
            #expect(Fingerprint(of: value, binding: binding) != Fingerprint(of: value, binding: other))
        }
    }

    @Test func parsesOnlyItsOwnForm() {
        #expect(Fingerprint("fp1:d62ea91610a7ca5c1d5463c751d14bc3") != nil)
        #expect(Fingerprint("fp1:D62EA91610A7CA5C1D5463C751D14BC3") == nil)
        #expect(Fingerprint("fp2:d62ea91610a7ca5c1d5463c751d14bc3") == nil)
        #expect(Fingerprint("fp1:d62ea91610a7ca5c1d5463c751d14b") == nil)
    }
}
