#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl

/// The built-in fetcher: one libcurl easy handle per fetch, run on the
/// calling thread.
///
/// - Only `http` and `https` (`CURLOPT_PROTOCOLS_STR`), no redirects
///   (a 3xx comes back as a response and the key set refuses it).
/// - TLS peer and host verification always on; `caFile` replaces the trust
///   store.
/// - The whole transfer is bounded by `connectTimeoutMs + readTimeoutMs`
///   (`CURLOPT_TIMEOUT_MS`), plus a low-speed limit; `NOSIGNAL` so no
///   SIGALRM is used (threads).
/// - The size limit is enforced while the body arrives (the write callback
///   aborts) and from `Content-Length` (`CURLOPT_MAXFILESIZE`).
/// - No content encoding is requested, so the limit applies to what is parsed.
/// - Proxies from the environment are honoured, except for loopback hosts.
public struct CurlJWKSFetcher: JWKSFetcher {
    public init() {}

    public func fetch(url: String, options: JWKSEndpointOptions) -> JWKSFetchResult {
        let o = options.normalized()
        let loopback: Bool
        do { loopback = try JWKSURLPolicy.check(url) } catch { return .failure("refused URL: \(error.reason)") }
        guard let easy = CurlEasy() else { return .failure("unreachable: cannot initialise libcurl") }
        let transfer = CurlTransfer(limit: o.sizeLimitBytes)
        let ctx = Unmanaged.passUnretained(transfer).toOpaque()
        let total = o.connectTimeoutMs + o.readTimeoutMs

        var ok = easy.set(CURLOPT_URL, url)
        ok = ok && easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        ok = ok && easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        ok = ok && easy.set(CURLOPT_FOLLOWLOCATION, 0)
        ok = ok && easy.set(CURLOPT_NOSIGNAL, 1)
        ok = ok && easy.set(CURLOPT_CONNECTTIMEOUT_MS, o.connectTimeoutMs)
        ok = ok && easy.set(CURLOPT_TIMEOUT_MS, total)
        ok = ok && easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        ok = ok && easy.set(CURLOPT_LOW_SPEED_TIME, max(1, (o.readTimeoutMs + 999) / 1000))
        ok = ok && easy.set(CURLOPT_MAXFILESIZE, o.sizeLimitBytes)
        ok = ok && easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        ok = ok && easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        ok = ok && easy.set(CURLOPT_USERAGENT, "libjwtgrant")
        if let ca = o.caFile { ok = ok && easy.set(CURLOPT_CAINFO, ca) }
        if loopback { ok = ok && easy.set(CURLOPT_PROXY, "") }
        ok = ok && jg_curl_setopt_write(easy.handle, curlWriteBody) == CURLE_OK
        ok = ok && easy.set(CURLOPT_WRITEDATA, pointer: ctx)
        ok = ok && jg_curl_setopt_header(easy.handle, curlReadHeader) == CURLE_OK
        ok = ok && easy.set(CURLOPT_HEADERDATA, pointer: ctx)
        easy.addHeader("Accept: application/jwk-set+json, application/json")
        guard ok else { return .failure("unreachable: libcurl refused an option") }

        let rc = withExtendedLifetime(transfer) { easy.perform() }
        if rc != CURLE_OK {
            return .failure(Self.describe(rc, easy: easy, transfer: transfer, options: o))
        }
        return .response(status: easy.responseCode(), body: transfer.body,
                         maxAge: transfer.cacheControl.effectiveMaxAge)
    }

    static func describe(_ rc: CURLcode, easy: CurlEasy, transfer: CurlTransfer,
                         options o: JWKSEndpointOptions) -> String {
        let detail = easy.errorDetail.isEmpty ? String(cString: curl_easy_strerror(rc)) : easy.errorDetail
        if transfer.oversized || rc == CURLE_FILESIZE_EXCEEDED {
            return "oversized: the document exceeds \(o.sizeLimitBytes) bytes"
        }
        switch rc {
        case CURLE_OPERATION_TIMEDOUT:
            return "timeout: no complete answer within \(o.connectTimeoutMs + o.readTimeoutMs) ms (\(detail))"
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return "unreachable: \(detail)"
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            return "unreachable: the connection failed (\(detail))"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE:
            return "TLS: \(detail)"
        case CURLE_UNSUPPORTED_PROTOCOL:
            return "refused URL: \(detail)"
        case CURLE_TOO_MANY_REDIRECTS:
            return "redirect not followed"
        default:
            return "unreachable: \(detail)"
        }
    }
}
