#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Per-transfer state the libcurl callbacks write into (one thread only:
/// libcurl calls them from inside `curl_easy_perform`).
final class CurlTransfer {
    let limit: Int
    var body: [UInt8] = []
    var oversized = false
    var cacheControl = CacheControl.Accumulator()

    init(limit: Int) { self.limit = limit }
}

/// The write callback: appends to the body, or stops the transfer (returns
/// 0, CURLE_WRITE_ERROR) as soon as the size limit would be exceeded.
let curlWriteBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, ctx in
    guard let ctx else { return 0 }
    let t = Unmanaged<CurlTransfer>.fromOpaque(ctx).takeUnretainedValue()
    let (n, overflow) = size.multipliedReportingOverflow(by: count)
    if overflow { t.oversized = true; return 0 }
    if n == 0 { return 0 }
    guard let data else { return 0 }
    if n > t.limit - t.body.count {
        t.oversized = true
        return 0                       // CURLE_WRITE_ERROR: stops the transfer now
    }
    t.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
    return n
}

/// The header callback: collects `Cache-Control` of the final response.
let curlReadHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, ctx in
    let (n, overflow) = size.multipliedReportingOverflow(by: count)
    guard let ctx, let data, !overflow else { return overflow ? 0 : n }
    let t = Unmanaged<CurlTransfer>.fromOpaque(ctx).takeUnretainedValue()
    let line = UnsafeRawBufferPointer(start: data, count: n)
    // A new status line starts a new header block (1xx, or a proxy's CONNECT
    // answer): only the last block counts.
    if n >= 5, line.prefix(5).elementsEqual("HTTP/".utf8) {
        t.cacheControl = CacheControl.Accumulator()
        return n
    }
    let name = "cache-control:".utf8
    if n > name.count,
       zip(line.prefix(name.count), name).allSatisfy({ ($0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0) == $1 }) {
        t.cacheControl.add(ArraySlice(line.dropFirst(name.count)))
    }
    return n
}
