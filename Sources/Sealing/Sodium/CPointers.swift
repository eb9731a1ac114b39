/// libsodium declares most pointer parameters `nonnull`, while Swift gives empty buffers a nil
/// base address. These give every buffer a usable address: for an empty buffer, one that is
/// valid but never read or written (libsodium touches no bytes of a zero-length region).
nonisolated(unsafe) private let placeholderByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

extension UnsafeRawBufferPointer {
    var bytes: UnsafePointer<UInt8> {
        baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(placeholderByte)
    }
}

extension UnsafeMutableRawBufferPointer {
    var bytes: UnsafeMutablePointer<UInt8> {
        baseAddress?.assumingMemoryBound(to: UInt8.self) ?? placeholderByte
    }
}

extension UnsafeBufferPointer<UInt8> {
    var bytes: UnsafePointer<UInt8> { baseAddress ?? UnsafePointer(placeholderByte) }
}

extension UnsafeMutableBufferPointer<UInt8> {
    var bytes: UnsafeMutablePointer<UInt8> { baseAddress ?? placeholderByte }
}
