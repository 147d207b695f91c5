/// Keys and certificates for the JOSE tests (generated with the openssl CLI
/// for these tests; none is used anywhere else).
enum KeyFixtures {
    /// Self-signed RSA-1024 certificate: must be refused.
    static let rsa1024Certificate = """
    -----BEGIN CERTIFICATE-----
    MIICADCCAWmgAwIBAgIUHAmAiSlGG3uVHlZWgYPLT4Wz7zgwDQYJKoZIhvcNAQEL
    BQAwEjEQMA4GA1UEAwwHcnNhMTAyNDAeFw0yNjExMjkxMDI0MTFaFw0zNjExMjYx
    MDI0MTFaMBIxEDAOBgNVBAMMB3JzYTEwMjQwgZ8wDQYJKoZIhvcNAQEBBQADgY0A
    MIGJAoGBANabkKWQeNRfxP/m/XSatQkYolr8goQF76DhLK5fb+hDHAdWqE/IGmSp
    R6oS23FWf+HU5gAHDlvjie2Zn2DOsAVgOFBDgqNXVYM7Y9VOc/aj5KrvvNAiEgCN
    ZCpy6WeiOooRQKvxw3lhUV48XuyDm9iv+LuPLm/IWX+8SN0vWvA3AgMBAAGjUzBR
    MB0GA1UdDgQWBBTf0ymMlk9tGRUZvAlCriQjlNmpMDAfBgNVHSMEGDAWgBTf0ymM
    lk9tGRUZvAlCriQjlNmpMDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUA
    A4GBAKxo35EQKyrnPX/RH2RhNXk8vuZOrNZhYAus6R/hhKEgLGA/7fpnGNjQzZ+t
    cPof3VHfMQSmqpicpG5CZRP7iOa6GJcllS3CQQOYdZEomAmTDK7KDkoHievTsKtz
    XekB0tA57XHlHT1jLr0pXz+BOdZqxucN6+VVwyFDJgv7RDO+
    -----END CERTIFICATE-----
    """

    /// Self-signed EC P-256 certificate, valid 2026-11-29T10:24:15Z .. 2036-11-26T10:24:15Z.
    static let ecCertificate = """
    -----BEGIN CERTIFICATE-----
    MIIBdTCCARugAwIBAgIUas61H+AXwPYHKp2ZLLVBdLvbKQMwCgYIKoZIzj0EAwIw
    EDEOMAwGA1UEAwwFZWMyNTYwHhcNMjYxMTI5MTAyNDE1WhcNMzYxMTI2MTAyNDE1
    WjAQMQ4wDAYDVQQDDAVlYzI1NjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFRF
    TM/3DE1P1ipNGtSEZyAm+i65n37NjswQZMnA2Ot+11Xz8+r7fzLVkph5mvOTzEE9
    2gQbnhT7CPixVgJ5KQWjUzBRMB0GA1UdDgQWBBT+8J0re/Qd5aSuets3XWB5wH66
    KTAfBgNVHSMEGDAWgBT+8J0re/Qd5aSuets3XWB5wH66KTAPBgNVHRMBAf8EBTAD
    AQH/MAoGCCqGSM49BAMCA0gAMEUCIQDDflggWg1FNuTsHis2FgLvNdEK5qqJr1f2
    KvDeWHo5XwIgEMG4KZXHugSnPtp4cqRVINzW2DOMnwFyjKkE4WTNIkc=
    -----END CERTIFICATE-----
    """
    static let ecCertificateNotBefore = 1_795_947_855.0
    static let ecCertificateNotAfter = 2_111_307_855.0
    /// The same certificate, DER in standard base64 on one line.
    static let ecCertificateBase64 = "MIIBdTCCARugAwIBAgIUas61H+AXwPYHKp2ZLLVBdLvbKQMwCgYIKoZIzj0EAwIwEDEOMAwGA1UEAwwFZWMyNTYwHhcNMjYxMTI5MTAyNDE1WhcNMzYxMTI2MTAyNDE1WjAQMQ4wDAYDVQQDDAVlYzI1NjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFRFTM/3DE1P1ipNGtSEZyAm+i65n37NjswQZMnA2Ot+11Xz8+r7fzLVkph5mvOTzEE92gQbnhT7CPixVgJ5KQWjUzBRMB0GA1UdDgQWBBT+8J0re/Qd5aSuets3XWB5wH66KTAfBgNVHSMEGDAWgBT+8J0re/Qd5aSuets3XWB5wH66KTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDDflggWg1FNuTsHis2FgLvNdEK5qqJr1f2KvDeWHo5XwIgEMG4KZXHugSnPtp4cqRVINzW2DOMnwFyjKkE4WTNIkc="

    /// The certificate's private key, PKCS#8 and traditional (SEC1).
    static let ecPrivateKeyPKCS8 = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVLnm1GdxDFHYF5pP
    mGUQKzDiPxcsy8baWP2m6aImbZShRANCAARURUzP9wxNT9YqTRrUhGcgJvouuZ9+
    zY7MEGTJwNjrftdV8/Pq+38y1ZKYeZrzk8xBPdoEG54U+wj4sVYCeSkF
    -----END PRIVATE KEY-----
    """
    static let ecPrivateKeyTraditional = """
    -----BEGIN EC PRIVATE KEY-----
    MHcCAQEEIFS55tRncQxR2BeaT5hlECsw4j8XLMvG2lj9pumiJm2UoAoGCCqGSM49
    AwEHoUQDQgAEVEVMz/cMTU/WKk0a1IRnICb6Lrmffs2OzBBkycDY637XVfPz6vt/
    MtWSmHma85PMQT3aBBueFPsI+LFWAnkpBQ==
    -----END EC PRIVATE KEY-----
    """

    static let ed25519PublicKeyPEM = """
    -----BEGIN PUBLIC KEY-----
    MCowBQYDK2VwAyEALF0ax3bXNTUCdulLH2laIF3EgXJ9Cmv/9ZHsqEIOs8c=
    -----END PUBLIC KEY-----
    """
    static let ed25519PrivateKeyPEM = """
    -----BEGIN PRIVATE KEY-----
    MC4CAQAwBQYDK2VwBCIEIKPvx+f2+vzHAk2xq6XjAZvEqsr9z+i251rbx39yYMmq
    -----END PRIVATE KEY-----
    """

    /// RSA-2048 with public exponent 3: refused by the exponent policy.
    static let rsaExponent3PublicKey = """
    -----BEGIN PUBLIC KEY-----
    MIIBIDANBgkqhkiG9w0BAQEFAAOCAQ0AMIIBCAKCAQEA3FV/trKdRNEdVKnCxrYH
    v8bDttpIXhZtppVJrU4Y4x1RFzBuax3kVc9Fq+J4MlplrcagMNFnqCjgzBB5P5s3
    rgM3F7JzshouUCswx19P28RNqJAMcMMaT3iG8W0V3RSx0JJ8HJbqtoHUj1500l50
    hCO6L6An+gxVVron7QwGmx/Mc7NGWAZFvzHxKSuoZ1qZiSLaHwuN7BBhpR+Cw+2U
    Z2gsv/D22ROXs72rwkCLIda9AoZLf+L9pXaFrPn1CuJsTPpPSJRb5mGAs9XdIhTg
    Vlv54rp51j5A2VWpUtxfDs0/7i5iqOAjPatGYYBGpBkuvRINLw49+dbnF3yrxIip
    IwIBAw==
    -----END PUBLIC KEY-----
    """

    /// Wycheproof json_web_key_test "keysize_too_small" (RSA-1024) public JWK.
    static let rsa1024JWK = #"{"kty":"RSA","use":"sig","alg":"RS256","n":"rJBIp6T1YK-RtPyvYqFFlcucqewSAA_IReSFchE8qyiQrbARqRlXWkB2DR8j_pJQnIpYELbQWZC5Cd0PTGAU8rMbar2AW6zpmBbi7aQf17lUBdt8XI9M9rq7FPVQ1dDdUXm1SVH_9qqWhvMPR422SbfHBEzCAtzK0ANDRo6qz78","e":"AQAB","kid":"RS256_1024"}"#
}
