extension String {
    /// The text cut or filled with spaces to `length` characters, as Foundation's
    /// `padding(toLength:withPad:startingAt:)` makes it with a space: table columns.
    func padded(to length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: " ", count: length - count)
    }
}
