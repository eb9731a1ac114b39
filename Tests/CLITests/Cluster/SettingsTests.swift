import Foundation
import JSONValue
import KubeAPI
import Testing
import TestSupport

/// `config set|get|list|unset` on the settings ConfigMap.
@Suite struct SettingsTests {
    @Test func settingsAreSetReadListedAndRemovedOneKeyAtATime() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let set = try await workstation.run(["config", "set", "llmProvider", "anthropic"])
            expectSuccess(set)
            #expect(set.stdout.contains("llmProvider: set to anthropic (was openai)"))
            let embedding = try await workstation.run(["config", "set", "embeddingProvider", "openai"])
            expectSuccess(embedding)
            #expect(embedding.stdout.contains("(new)"))
            let kubectl = try await workstation.kubectl([
                "get", "configmap", "beluga-ai-config", "-o", "jsonpath={.data}",
            ])
            let data = try JSON(parsing: kubectl.stdout)
            #expect(data == ["llmProvider": "anthropic", "embeddingProvider": "openai"])

            let get = try await workstation.run(["config", "get", "llmProvider"])
            expectSuccess(get)
            #expect(get.stdout == "anthropic\n")
            let list = try await workstation.run(["config", "list"])
            expectSuccess(list)
            #expect(
                list.stdout
                    == "NAME                VALUE\nembeddingProvider   openai\nllmProvider         anthropic\n"
            )
            let json = try await workstation.run(["config", "list", "-o", "json"])
            #expect(try JSON(parsing: json.stdout) == data)
            let yaml = try await workstation.run(["config", "list", "-o", "yaml"])
            #expect(yaml.stdout == "embeddingProvider: openai\nllmProvider: anthropic\n")

            let unchanged = try await workstation.run(["config", "set", "llmProvider", "anthropic"])
            expectSuccess(unchanged)
            #expect(unchanged.stdout.contains("nothing changed"))

            let unset = try await workstation.run(["config", "unset", "embeddingProvider"])
            expectSuccess(unset)
            let settings = try await workstation.client().get(
                ConfigMap.self, name: "beluga-ai-config", namespace: "default")
            #expect(settings.data == ["llmProvider": "anthropic"])
            let missing = try await workstation.run(["config", "unset", "embeddingProvider"])
            expectFailure(missing, status: 2, mentioning: ["embeddingProvider"])
            let missingGet = try await workstation.run(["config", "get", "nothing"])
            expectFailure(missingGet, status: 2)
        }
    }

    @Test func invalidNamesAndOversizedValuesAreRefusedBeforeAnythingIsSent() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            workstation.fixture.emulator.resetRequestCounts()
            let badName = try await workstation.run(["config", "set", "llm provider", "x"])
            expectFailure(badName, status: 6, mentioning: ["invalid setting name", "a space"])
            // Values come from argv; a shell's limit makes 1 MiB impractical there, so the size rule
            // is checked with the rest of the ConfigMap: an existing large value plus a new one.
            try await workstation.fixture.emulator.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-ai-config", "namespace": "default"],
                "data": ["prompt": .string(String(repeating: "p", count: 1024 * 1024 - 100))],
            ])
            let tooBig = try await workstation.run([
                "config", "set", "another", String(repeating: "y", count: 200),
            ])
            expectFailure(tooBig, status: 6, mentioning: ["1 MiB"])
            #expect(workstation.fixture.emulator.requestCounts().writes == 0)
            let secretLooking = try await workstation.run(["config", "set", "openaiApiKey", "x"])
            #expect(secretLooking.stderr.contains("warning: settings are stored in clear"))
        }
    }

    @Test func controlCharactersInSettingsAreNotSentToTheTerminal() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // Anyone who may edit the ConfigMap chooses these bytes; a table must not carry an
            // escape sequence (clear screen) or a newline that forges a row.
            try await workstation.fixture.emulator.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-ai-config", "namespace": "default"],
                "data": ["banner": "\u{1B}[2Jhello\nforged   row\u{9B}"],
            ])
            let list = try await workstation.run(["config", "list"])
            expectSuccess(list)
            // Values with C0 controls are shown quoted and escaped; a C1 control (CSI) left by the
            // quoting is replaced by the table.
            #expect(list.stdout == "NAME     VALUE\nbanner   \"\\u001b[2Jhello\\nforged   row?\"\n")
            // Machine-readable output keeps the value exactly.
            let json = try await workstation.run(["config", "list", "-o", "json"])
            #expect(try JSON(parsing: json.stdout) == ["banner": "\u{1B}[2Jhello\nforged   row\u{9B}"])
        }
    }

    @Test func settingsWithoutTheConfigMapCreateIt() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let result = try await workstation.run([
                "config", "set", "llmProvider", "ollama", "--release", "other",
            ])
            expectSuccess(result)
            #expect(result.stdout.contains("ConfigMap default/other-beluga-ai-config"))
            let value = try await workstation.kubectl([
                "get", "configmap", "other-beluga-ai-config", "-o", "jsonpath={.data.llmProvider}",
            ])
            #expect(value.stdout == "ollama")
        }
    }
}
