import JSONValue
import Testing

@testable import SecretSync

@Suite struct ContentHashTests {
    // Expected values computed independently with Python's hashlib from docs/formats.md.
    @Test func matchesTheDocumentedConstruction() {
        let hash = ContentHash.compute([
            .secret("beluga-ai-secrets"): [
                "openai-api-key": Array("sk-1".utf8), "anthropic-api-key": Array("sk-2".utf8),
            ],
            .configMap("beluga-ai-config"): ["llmProvider": Array("openai".utf8)],
        ])
        #expect(hash == "75a6151a1372342f018dad98f70795f8885337e7524765fa927ed923f05faef6")
        let absent = ContentHash.compute([
            .secret("beluga-ai-secrets"): nil, .configMap("beluga-ai-config"): [:],
        ])
        #expect(absent == "eb3b2c5f38dcf71966bc3228841856f42b7bba66214190c762b87d37cdb4550b")
    }

    @Test func differentContentsNeverHashAlike() {
        let a = ContentHash.compute([.secret("s"): ["a": Array("b;c".utf8)]])
        let b = ContentHash.compute([.secret("s"): ["a;b": Array("c".utf8)]])
        let c = ContentHash.compute([.secret("s"): ["ab": Array("c".utf8)]])
        let d = ContentHash.compute([.secret("s"): ["a": Array("bc".utf8)]])
        #expect(Set([a, b, c, d]).count == 4)
        // An absent object is not an empty one, and a Secret is not a ConfigMap of the same name.
        #expect(ContentHash.compute([.secret("s"): nil]) != ContentHash.compute([.secret("s"): [:]]))
        #expect(ContentHash.compute([.secret("s"): [:]]) != ContentHash.compute([.configMap("s"): [:]]))
    }

    @Test func readsSecretsAndConfigMapsAsTheirBytes() {
        let secret: JSON = ["data": ["k": "c2stMQ=="]]
        #expect(ContentHash.content(ofSecret: secret) == ["k": Array("sk-1".utf8)])
        let configMap: JSON = ["data": ["a": "x"], "binaryData": ["b": "AAE="]]
        #expect(ContentHash.content(ofConfigMap: configMap) == ["a": Array("x".utf8), "b": [0, 1]])
    }
}
