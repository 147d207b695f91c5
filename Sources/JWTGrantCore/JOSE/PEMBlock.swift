/// One "-----BEGIN label-----" ... "-----END label-----" block (RFC 7468),
/// its body decoded. Text between blocks (bundle comments) is ignored.
struct PEMBlock {
    let label: String
    let der: [UInt8]

    private static let begin = Array("-----BEGIN ".utf8)
    private static let end = Array("-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    /// All blocks of `text`; empty when there is none. A block that is not
    /// terminated or whose body is not base64 is an error.
    @_optimize(size)
    static func parseAll(_ text: [UInt8]) throws(JWTGrantError) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var i = 0
        while let b = find(begin, in: text, from: i) {
            let labelStart = b + begin.count
            guard let labelEnd = find(dashes, in: text, from: labelStart) else {
                throw JWTGrantError(.badKey, "PEM BEGIN line is not terminated")
            }
            let label = Array(text[labelStart..<labelEnd])
            guard label.count <= 64, !label.contains(0x0A) else {
                throw JWTGrantError(.badKey, "PEM BEGIN line is malformed")
            }
            let bodyStart = labelEnd + dashes.count
            let endLine = end + label + dashes
            guard let e = find(endLine, in: text, from: bodyStart) else {
                throw JWTGrantError(.badKey, "PEM block \(blocks.count + 1) has no matching END line")
            }
            let body = Array(text[bodyStart..<e])
            if body.contains(UInt8(ascii: ":")) {
                throw JWTGrantError(.badKey, "PEM block \(blocks.count + 1) is encrypted or has headers")
            }
            guard let der = body.withUnsafeBytes({ Base64URL.decodeLenient($0) }), !der.isEmpty else {
                throw JWTGrantError(.badKey, "PEM block \(blocks.count + 1) body is not base64")
            }
            blocks.append(PEMBlock(label: String(decoding: label, as: UTF8.self), der: der))
            i = e + endLine.count
        }
        return blocks
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard needle.count <= hay.count, start <= hay.count - needle.count else { return nil }
        var i = start
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
