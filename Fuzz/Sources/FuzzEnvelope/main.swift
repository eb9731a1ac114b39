// Fuzzes what the agent reads from the sealed store: the envelope text (`Envelope.parse`) and
// the JSON payload a ciphertext opens into (`PayloadParser`, which works on raw bytes in
// secure memory). Each input is tried as all three: envelope text, format 1 payload, format 2
// payload.

import FuzzSupport
import TimeFormat
@testable import Sealing

/// A fixed key pair, so that every run seals and opens alike (a fuzz input must reproduce).
let fuzzKeyPair: SealingKeyPair? = try? SealingKeyPair(
    privateKey: SecureBytes([UInt8](repeating: 7, count: 32)))

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzEnvelope(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    checkEnvelopeText(Array(bytes))
    checkPayload(Array(bytes), format: .v1)
    checkPayload(Array(bytes), format: .v2)
    return 0
}

/// A text either is refused with a form error, or is an envelope whose parts put back
/// together give the very same text (one canonical spelling per envelope).
func checkEnvelopeText(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let envelope: Envelope
    do {
        envelope = try Envelope.parse(text)
    } catch {
        switch error {
        case .notAnEnvelope, .unsupportedEnvelopeVersion, .malformedEnvelope: break
        default: invariantFailed("parse threw \(error), which is not an error of form")
        }
        return
    }
    require(
        Array(envelope.text.utf8) == bytes,
        "an envelope's text is exactly the parsed bytes, but \(bytes) parsed as \(envelope.text)")
    require(bytes.allSatisfy { $0 > 0x20 && $0 < 0x7f }, "an envelope is printable ASCII")
    require(envelope.ciphertext.count >= Envelope.minimumCiphertext, "the ciphertext can hold a payload")
    switch envelope.format {
    case .v1:
        require(
            envelope.signerID == nil && envelope.signature == nil && envelope.signedText == nil,
            "format 1 has no signer or signature")
        let rebuilt = Envelope(format: .v1, keyID: envelope.keyID, ciphertext: envelope.ciphertext)
        require(rebuilt.text == text, "format 1 re-serialises to its text")
    case .v2:
        guard let signerID = envelope.signerID, let signature = envelope.signature else {
            invariantFailed("format 2 without signer or signature")
        }
        require(signature.count == 64, "an Ed25519 signature is 64 bytes")
        let rebuilt = Envelope(
            keyID: envelope.keyID, signerID: signerID, ciphertext: envelope.ciphertext, signature: signature)
        require(rebuilt.text == text, "format 2 re-serialises to its text")
        let signed = Envelope.signedText(
            keyID: envelope.keyID, signerID: signerID, ciphertext: envelope.ciphertext)
        require(envelope.signedText == signed, "the signed text is the envelope before its last dot")
        require(text.hasPrefix(signed + "."), "the signed text is a prefix of the envelope")
    }
    require((try? Envelope.parse(envelope.text)) == envelope, "parsing is idempotent")
}

/// A payload either is refused as malformed, or parses into fields that, written back by the
/// sealer's writer, parse again into the same fields; a format 1 payload also survives a
/// real seal and open.
func checkPayload(_ bytes: [UInt8], format: EnvelopeFormat) {
    let payload: SealedPayload
    do {
        payload = try PayloadParser.parse(SecureBytes(bytes), format: format)
    } catch {
        guard case .malformedPayload(let reason) = error else {
            invariantFailed("the payload parser threw \(error), not malformedPayload")
        }
        require(!reason.isEmpty, "a refusal says why")
        return
    }
    switch format {
    case .v1: require(payload.version == nil && payload.signerID == nil, "format 1 has no version or signer")
    case .v2:
        require(payload.signerID != nil, "format 2 names its signer")
        require(
            (1...Envelope.maximumVersion).contains(payload.version ?? 0), "format 2 has a version in range")
    }
    require(RFC3339.isValidUTC(payload.sealedAt), "sealedAt is an RFC 3339 UTC time")

    let rewritten = PayloadWriter.write(
        value: payload.value,
        .init(
            binding: payload.binding, sealedBy: payload.sealedBy, sealedAt: payload.sealedAt,
            version: payload.version, signerID: payload.signerID))
    guard let again = try? PayloadParser.parse(rewritten, format: format) else {
        invariantFailed("the writer's output of a parsed payload does not parse")
    }
    requireSame(payload, again, "writer round trip")

    // Sealing validates what opening validates; a value it accepts must come back unchanged.
    guard format == .v1, let keyPair = fuzzKeyPair,
        let envelope = try? Envelope.seal(
            payload.value, for: payload.binding, to: keyPair.publicKey, sealedBy: payload.sealedBy,
            sealedAt: payload.sealedAt)
    else { return }
    guard let opened = try? envelope.open(with: keyPair, expecting: payload.binding) else {
        invariantFailed("an envelope just sealed does not open")
    }
    requireSame(payload, opened, "seal and open")
}

func requireSame(_ first: SealedPayload, _ second: SealedPayload, _ what: String) {
    require(first.binding == second.binding, "\(what): same binding")
    require(first.value == second.value, "\(what): same value")
    require(first.sealedBy == second.sealedBy, "\(what): same sealedBy")
    require(first.sealedAt == second.sealedAt, "\(what): same sealedAt")
    require(first.version == second.version, "\(what): same version")
    require(first.signerID == second.signerID, "\(what): same signer")
}

runLibFuzzer(fuzzEnvelope)
