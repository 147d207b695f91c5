/// Issuers, clients and the signing key on a shared store (SQLite, Redis).
///
/// Registrations are written to the store first and installed locally; a
/// server starts with what the store holds, and every request checks (at
/// most once a second, one thread) whether the store's generation counter
/// moved, reloading the registrations when it did.
extension AuthorizationServer {
    /// The access-token signer on a shared store without a configured key:
    /// the key the store holds, or one generated here and stored (the first
    /// process wins; everybody signs with the stored key).
    static func sharedSigner(_ config: ServerConfig, _ shared: any SharedStore) throws(JWTGrantError) -> SigningKeySigner {
        let name = config.accessTokenAlgorithm ?? "ES256"
        guard let alg = Identifier(name).bytes.withUnsafeBytes({ JWSAlgorithm(bytes: $0) }) else {
            throw JWTGrantError(.invalidArgument, "access_token.algorithm is not supported")
        }
        var stored = try shared.documents(.signingKey).first?.document
        if stored == nil {
            let key = try SigningKey.generate(alg)
            let doc = JSONValue.object()
            doc.set("alg", .string(alg.rawValue))
            doc.set("pem", .string(try key.privateKeyPEM()))
            guard let existing = try shared.insertDocument(.signingKey, name: Array("access_token".utf8),
                                                           document: doc.canonicalBytes()) else {
                return SigningKeySigner(key)
            }
            stored = existing
        }
        guard let bytes = stored, let doc = try? bytes.withUnsafeBytes({ (b) throws(JWTGrantError) -> JSONValue in
            try JSONValue.parseObject(b, what: "stored signing key", code: .storeFailure)
        }), let storedAlg = doc["alg"]?.stringValue, let pem = doc["pem"]?.stringValue,
              let a = Identifier(storedAlg).bytes.withUnsafeBytes({ JWSAlgorithm(bytes: $0) }) else {
            throw JWTGrantError(.storeFailure, "\(shared.label): the stored access-token signing key is unreadable")
        }
        guard a == alg else {
            throw JWTGrantError(.invalidArgument,
                "\(shared.label) holds an access-token signing key for \(storedAlg), but access_token.algorithm is \(name)")
        }
        return SigningKeySigner(try SigningKey(pem: pem, algorithm: a))
    }

    /// Reads the generation when a second has passed since the last read,
    /// and reloads the registrations when it moved. A store that cannot be
    /// read leaves the registrations as they are and its error is returned
    /// (an exchange then answers 503 at once instead of waiting a second
    /// timeout for its replay record).
    @discardableResult
    public func refreshIfDue() -> JWTGrantError? {
        guard let sync = sharedSync, sync.claimCheck() else { return nil }
        do {
            try reload(force: false)
            return nil
        } catch {
            return error
        }
    }

    /// Loads the store's issuers and clients into the registries.
    func reload(force: Bool) throws(JWTGrantError) {
        guard let shared, let sync = sharedSync, let sharedClients else { return }
        // This process's writes are counted before anything is read: a
        // registration, removal or rotation made here while the documents
        // are read must not be undone by them.
        let issuerEpoch = sync.state.withLock { $0.localWrites }
        let clientEpoch = sharedClients.writeEpoch
        let generation = try shared.generation()
        if !force, sync.state.withLock({ $0.generation }) == generation { return }
        // The generation is read before the documents: a change made while
        // they are read moves it again, and the next check reloads.
        let issuerDocs = try shared.documents(.issuer)
        let clientDocs = try shared.documents(.client)
        sync.state.withLock { st in
            let clientsApplied = sharedClients.replaceAll(clientDocs, ifNoWritesSince: clientEpoch)
            guard st.localWrites == issuerEpoch else { return }   // generation left as is: reload next time
            var stored: [Identifier: [UInt8]] = [:]
            for d in issuerDocs { stored[Identifier(bytes: d.name)] = d.document }
            for (name, _) in st.issuerDocuments where stored[name] == nil {
                _ = try? issuers.remove(name: name.text)
                st.issuerDocuments[name] = nil
            }
            for (name, document) in stored where st.issuerDocuments[name] != document {
                if let issuer = try? parseIssuer(String(decoding: document, as: UTF8.self), now: -Double.infinity),
                   issuer.nameID == name {
                    install(issuer, document: document, name: name, into: &st)
                }
            }
            if clientsApplied { st.generation = generation }
        }
    }

    /// Installs `issuer` locally under `name`, replacing what was installed.
    private func install(_ issuer: TrustedIssuer, document: [UInt8], name: Identifier, into st: inout SharedSync.State) {
        if st.issuerDocuments[name] != nil || issuers.lookup(name: issuer.nameID) != nil {
            _ = try? issuers.remove(name: issuer.name)
        }
        do {
            try issuers.add(issuer)
            st.issuerDocuments[name] = document
        } catch {
            issuer.keySource.close()
            st.issuerDocuments[name] = nil
        }
    }

    /// `now` decides the refusal of an already expired certificate: the
    /// context's clock at registration; -infinity when reloading a document
    /// another process registered (never refused afresh, its expired
    /// certificates are simply not used).
    func parseIssuer(_ json: String, now: Double) throws(JWTGrantError) -> TrustedIssuer {
        try IssuerRegistration.parse(json, now: now) { (url, name) throws(JWTGrantError) -> any KeySource in
            try self.makeRemoteKeySource(url: url, issuerName: name)
        }
    }

    /// `registerIssuer` on a shared store.
    func registerSharedIssuer(json: String, shared: any SharedStore, sync: SharedSync) throws(JWTGrantError) {
        let issuer = try parseIssuer(json, now: clock.now())
        let document = try JSONValue.parse(json, what: "issuer_json").canonicalBytes()
        let name = issuer.nameID
        do throws(JWTGrantError) {
            if let other = issuers.lookup(iss: issuer.issuerID), other.nameID != name {
                throw JWTGrantError(.alreadyExists, "a trusted issuer with that issuer value exists")
            }
            if let existing = try shared.insertDocument(.issuer, name: name.bytes, document: document), existing != document {
                throw JWTGrantError(.alreadyExists,
                    "a trusted issuer named \"\(printable(issuer.name))\" exists (with other content)")
            }
        } catch {
            issuer.keySource.close()
            throw error
        }
        sync.state.withLock { st in
            st.localWrites &+= 1
            if st.issuerDocuments[name] == document, issuers.lookup(name: name) != nil {
                issuer.keySource.close()      // the same registration is installed already
            } else {
                install(issuer, document: document, name: name, into: &st)
            }
        }
    }

    /// `removeIssuer` on a shared store.
    func removeSharedIssuer(name: String, shared: any SharedStore, sync: SharedSync) throws(JWTGrantError) {
        let key = Identifier(name)
        let existed = try shared.removeDocument(.issuer, name: key.bytes)
        let local = sync.state.withLock { st -> Bool in
            st.localWrites &+= 1
            st.issuerDocuments[key] = nil
            return (try? issuers.remove(name: name)) != nil
        }
        guard existed || local else {
            throw JWTGrantError(.notFound, "no trusted issuer named \"\(printable(name))\"")
        }
    }
}
