import Foundation

/// Reads a pipe until end of file, going on after a read a signal interrupted (EINTR), which
/// Foundation's `readDataToEndOfFile()` turns into a crash of the whole test process.
public func readToEnd(fileDescriptor: Int32, _ receive: (Data) -> Void) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            receive(Data(buffer[0..<count]))
        } else if count < 0 && errno == EINTR {
            continue
        } else {
            return
        }
    }
}

/// The whole content of a pipe, read as `readToEnd(fileDescriptor:_:)` does.
public func readToEnd(fileDescriptor: Int32) -> Data {
    var data = Data()
    readToEnd(fileDescriptor: fileDescriptor) { data.append($0) }
    return data
}
