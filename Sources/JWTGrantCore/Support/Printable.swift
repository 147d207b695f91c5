/// Caller-supplied text made fit for an error message: at most `limit`
/// characters, control characters (and DEL) replaced by "?", "..." when cut.
/// Used for names and identifiers only; tokens and secrets are never put in
/// a message at all.
func printable(_ s: String, limit: Int = 64) -> String {
    let scalars = s.unicodeScalars
    let shown = scalars.prefix(limit).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }
    let text = String(String.UnicodeScalarView(shown))
    return scalars.count > limit ? text + "..." : text
}
