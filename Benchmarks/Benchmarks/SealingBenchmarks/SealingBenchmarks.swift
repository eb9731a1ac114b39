// Figure 3 of `make bench`: envelopes opened per second by the agent's code, against a plain C
// loop over crypto_box_seal_open on a sealed box of the same size (the rate libsodium allows here).
//
// Each iteration opens `batch` envelopes, so that the harness's own cost per iteration is
// negligible next to the X25519 work; the batch size is part of the names, which the bench
// script reads to turn a time per iteration into envelopes per second.

import Benchmark
import Foundation
import Sealing
import SodiumBaseline

/// Envelopes opened per benchmark iteration, on both sides.
let batch = 100

/// A sealed value as the agent finds it in the sealed store: a 51-character API key sealed by
/// `beluga-secrets set` (format 1) for the Secret `beluga-ai-secrets` in `default`.
struct Fixture {
    let keyring: SealingKeyring
    let binding: SecretBinding
    let text: String
    let ciphertext: [UInt8]
    let publicKey: [UInt8]
    let privateKey: [UInt8]

    init() throws {
        let pair = SealingKeyPair.generate()
        keyring = SealingKeyring(current: pair)
        binding = try SecretBinding(namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
        let value = SecureBytes(Array("sk-bench-".utf8) + (0..<42).map { _ in UInt8.random(in: 0x61...0x7a) })
        let envelope = try Envelope.seal(
            value, for: binding, to: pair.publicKey, sealedBy: "bench@workstation")
        text = envelope.text
        ciphertext = envelope.ciphertext
        publicKey = pair.publicKey.bytes
        privateKey = pair.privateKey.withUnsafeBytes { Array($0) }
    }
}

let benchmarks: @Sendable () -> Void = {
    let quick = ProcessInfo.processInfo.environment["BENCH_QUICK"] == "1"
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(quick ? 1 : 2),
        maxIterations: quick ? 100 : 1_000)

    let fixture: Fixture
    do {
        fixture = try Fixture()
    } catch {
        fatalError("cannot prepare the sealed envelope: \(error)")
    }
    guard sodium_baseline_init() == 0 else { fatalError("sodium_init failed") }

    let agentOpenPath: (String) -> Void = { slot in
        // What the agent does for each stored key (SecretPlan): parse the envelope text, then open it
        // with the key ring and check its payload and binding.
        Benchmark("\(slot) agent open path, \(batch) envelopes") { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<batch {
                    do {
                        let envelope = try Envelope.parse(fixture.text)
                        blackHole(
                            try fixture.keyring.open(envelope, expecting: fixture.binding, allowedSigners: [])
                        )
                    } catch {
                        fatalError("the envelope did not open: \(error)")
                    }
                }
            }
        }
    }

    let agentParseStep: (String) -> Void = { slot in
        // The first step alone, to tell where the agent's time goes beyond libsodium.
        Benchmark("\(slot) agent parse step, \(batch) envelopes") { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<batch {
                    do {
                        blackHole(try Envelope.parse(fixture.text))
                    } catch {
                        fatalError("the envelope did not parse: \(error)")
                    }
                }
            }
        }
    }

    let secureBuffer: (String) -> Void = { slot in
        // One locked, zeroed buffer (SecureBytes) of the plaintext's size, as the open path makes
        // for the plaintext and again for the value: its cost per envelope, measured.
        Benchmark("\(slot) secure buffer step, \(batch) envelopes") { benchmark in
            let size = fixture.ciphertext.count - 48
            for _ in benchmark.scaledIterations {
                for _ in 0..<batch {
                    blackHole(
                        SecureBytes(capacity: size) { buffer in
                            buffer.initializeMemory(as: UInt8.self, repeating: 1)
                            return size
                        })
                }
            }
        }
    }

    let cLoop: (String) -> Void = { slot in
        Benchmark("\(slot) C crypto_box_seal_open loop, \(batch) envelopes") { benchmark in
            var plaintext = [UInt8](repeating: 0, count: fixture.ciphertext.count)
            for _ in benchmark.scaledIterations {
                let opened = sodium_baseline_open_loop(
                    &plaintext, fixture.ciphertext, fixture.ciphertext.count, fixture.publicKey,
                    fixture.privateKey,
                    batch)
                precondition(opened == batch, "crypto_box_seal_open failed")
            }
        }
    }

    // Rounds alternate the sides (the order reverses every other round), so that a machine whose
    // load changes during the run weighs on both alike; `make bench` takes medians over rounds.
    // The tool runs benchmarks sorted by name, each in its own process: the slot `r<round>.<n>`
    // at the start of each name sets that order.
    let rounds = min(9, max(1, Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 3))
    let order = [agentOpenPath, cLoop, agentParseStep, secureBuffer]
    for round in 1...rounds {
        for (position, register) in (round % 2 == 1 ? order : order.reversed()).enumerated() {
            register("r\(round).\(position + 1)")
        }
    }
}
