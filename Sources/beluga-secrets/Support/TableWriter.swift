/// Columns as `kubectl get` prints them: upper-case headers, left-aligned, three spaces apart.
///
/// Cells often carry text read from the cluster (key names, reasons, signer names), which anyone
/// with write access to those objects chose: each cell is printed as one line with control
/// characters shown as `?`, so no cell can move the cursor, clear the screen or forge a row.
struct TableWriter {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    /// Headers made at run time (the kubeconfig's context names), as cells are: printable.
    init(headers: [String]) { self.headers = headers.map(Self.printable) }

    mutating func add(_ cells: [String]) { rows.append(cells.map(Self.printable)) }

    var text: String {
        let all = [headers] + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in all {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return all.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let last = index == row.count - 1
                line += last ? cell : cell.padded(to: widths[index] + 3)
            }
            return line.trailingSpacesRemoved + "\n"
        }.joined()
    }

    /// The cell with every C0 and C1 control character (newlines and escapes included) as `?`.
    static func printable(_ cell: String) -> String {
        guard cell.unicodeScalars.contains(where: isControl) else { return cell }
        var scalars = String.UnicodeScalarView()
        for scalar in cell.unicodeScalars { scalars.append(isControl(scalar) ? "?" : scalar) }
        return String(scalars)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }
}

extension String {
    fileprivate var trailingSpacesRemoved: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
