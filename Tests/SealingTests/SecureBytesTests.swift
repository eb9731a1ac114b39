import Testing

@testable import Sealing

@Suite struct SecureBytesTests {
    @Test func holdsTheBytesItWasGiven() {
        let bytes = SecureBytes(Array("sk-secret".utf8))
        #expect(bytes.count == 9)
        #expect(bytes.withUnsafeBytes { Array($0) } == Array("sk-secret".utf8))
    }

    @Test func neverPrintsItsContents() {
        let bytes = SecureBytes(Array("sk-MARKER-redaction".utf8))
        var dumped = ""
        dump(bytes, to: &dumped)
        let renderings = [
            bytes.description, bytes.debugDescription, "\(bytes)", String(describing: bytes),
            String(reflecting: bytes), dumped, "\([bytes])",
        ]
        for text in renderings {
            #expect(!text.contains("MARKER"), "leaked in \(text)")
        }
        #expect(bytes.description == "<redacted 19 bytes>")
        #expect(bytes.debugDescription == "<redacted 19 bytes>")
    }

    @Test func comparesContents() {
        #expect(SecureBytes([1, 2, 3]) == SecureBytes([1, 2, 3]))
        #expect(SecureBytes([1, 2, 3]) != SecureBytes([1, 2, 4]))
        #expect(SecureBytes([1, 2, 3]) != SecureBytes([1, 2]))
        #expect(SecureBytes([]) == SecureBytes([]))
    }

    @Test func keepsOnlyWhatTheInitializerReportsAndZeroesTheRest() {
        let bytes = SecureBytes(capacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = 0xAA }
            return 4
        }
        #expect(bytes.count == 4)
        #expect(bytes.withUnsafeBytes { Array($0) } == [0xAA, 0xAA, 0xAA, 0xAA])
    }

    @Test func propagatesInitializerErrors() {
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            _ = try SecureBytes(capacity: 8) { (_: UnsafeMutableRawBufferPointer) throws(Refused) -> Int in
                throw Refused()
            }
        }
    }

    @Test func randomBuffersDiffer() {
        let first = SecureBytes(randomCount: 32)
        let second = SecureBytes(randomCount: 32)
        #expect(first.count == 32)
        #expect(first != second)
    }

    /// Released one-page buffers keep their page locked for the next buffer: a new buffer
    /// still starts zeroed, whatever the page held before.
    @Test func aBufferNeverSeesWhatAReleasedBufferHeld() {
        for _ in 0..<200 {
            let size = LockedPages.pageSize - 7
            let secret = SecureBytes(capacity: size) { buffer in
                buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)
                return size
            }
            #expect(secret.count == size)
            _ = consume secret
            var sawOnlyZeros = true
            let next = SecureBytes(capacity: size) { buffer in
                sawOnlyZeros = buffer.allSatisfy { $0 == 0 }
                return 0
            }
            #expect(sawOnlyZeros)
            #expect(next.count == 0)
        }
    }

    @Test func atMostCapacityPagesStayLockedAfterRelease() {
        var buffers = (0..<(LockedPages.capacity * 3)).map { _ in SecureBytes(randomCount: 100) }
        #expect(buffers.allSatisfy { $0.isLocked } || !buffers.contains { $0.isLocked })
        buffers.removeAll()
        #expect(LockedPages.count <= LockedPages.capacity)
    }

    @Test func largeBuffersWork() {
        let bytes = SecureBytes(capacity: 2 * 1024 * 1024) { buffer in
            buffer[buffer.count - 1] = 7
            return buffer.count
        }
        #expect(bytes.withUnsafeBytes { $0[$0.count - 1] } == 7)
    }
}
