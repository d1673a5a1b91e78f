import Glibc

/// AWS keys for SigV4; `sessionToken` comes with temporary keys (STS, containers, instances).
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        // Masked wherever they would be written (a log line, an error, a span).
        Secrets.register(secretAccessKey)
        if let sessionToken { Secrets.register(sessionToken) }
    }
}

/// Credentials were configured but could not be used. A misconfiguration is a usage error
/// (exit 2, nothing done); an endpoint or helper that fails is a service problem (exit 3).
public struct CredentialsError: ArcError {
    public enum Kind: String, Sendable {
        case profileNotFound = "profile_not_found"
        case badCredentialsFile = "bad_credentials_file"
        case metadataUnavailable = "metadata_unavailable"
        case processFailed = "credential_process_failed"
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func badLine(_ path: String, _ line: Int, _ what: String) -> CredentialsError {
        CredentialsError(.badCredentialsFile, "\(path):\(line): \(what)")
    }

    public var code: FailureCode { FailureCode(kind.rawValue) }
    public var exitStatus: ExitStatus {
        kind == .profileNotFound || kind == .badCredentialsFile ? .usage : .unavailable
    }
    public var description: String { message }
}

/// Finds credentials, region and endpoint the way the AWS CLI and SDKs do, so a user's
/// existing setup (env, ~/.aws files, ECS task role, EC2 instance role) works unchanged.
public struct CredentialsResolver {
    public let explicitProfile: String?
    public let environment: [String: String]
    public let home: String?

    /// profile: an explicit --profile (wins over AWS_PROFILE). environment: the process env (injectable for tests). home: $HOME.
    public init(profile: String?, environment: [String: String], home: String?) {
        explicitProfile = profile.flatMap { $0.isEmpty ? nil : $0 }
        self.environment = environment
        self.home = home
    }

    public static func fromProcess(profile: String?) -> CredentialsResolver {
        let env = ProcessEnvironment.all
        return CredentialsResolver(profile: profile, environment: env, home: env["HOME"])
    }

    /// The chain, first hit wins: the env keys; the profile's keys or `credential_process`
    /// in the shared files; the container endpoint; IMDSv2. Returns nil when nothing is found.
    ///
    /// Like the AWS CLI, an explicit --profile skips the env keys (flags override the
    /// environment); AWS_PROFILE does not. A named profile other than "default" that is in
    /// neither file is an error rather than a silent fall-through to instance credentials.
    public func resolve() throws -> S3Credentials? {
        if explicitProfile == nil, let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"))
        }
        if let found = try fromProfile() { return found }
        if let found = try fromContainer() { return found }
        return try fromInstanceMetadata()
    }

    /// Region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region` in the config file; nil when none.
    public func region() -> String? {
        env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? ((try? configSection())??["region"]?.value).nonEmpty
    }

    /// The profile's `endpoint_url` in the config file, its `s3 =` block's first, so the
    /// caller can give AWS_ENDPOINT_URL parity; nil when none.
    public func endpointURL() -> String? {
        guard let section = (try? configSection()) ?? nil else { return nil }
        return section["s3.endpoint_url"]?.value.nonEmpty ?? section["endpoint_url"]?.value.nonEmpty
    }

    // MARK: the profile

    var profileName: String { explicitProfile ?? env("AWS_PROFILE") ?? "default" }

    var credentialsPath: String? { env("AWS_SHARED_CREDENTIALS_FILE").map(expandTilde) ?? home.map { $0 + "/.aws/credentials" } }
    var configPath: String? { env("AWS_CONFIG_FILE").map(expandTilde) ?? home.map { $0 + "/.aws/config" } }

    /// The profile's section in the config file: `[profile NAME]`, or `[default]` for the default.
    func configSection() throws -> [String: AWSConfigFile.Entry]? {
        guard let path = configPath, let file = try AWSConfigFile.load(path) else { return nil }
        let name = profileName
        return file.sections["profile \(name)"] ?? (name == "default" ? file.sections["default"] : nil)
    }

    /// The profile from both files, the credentials file winning key by key; nil if in neither.
    func profileSettings() throws -> [String: AWSConfigFile.Entry]? {
        let config = try configSection()
        let credentials = try credentialsPath.flatMap { try AWSConfigFile.load($0) }?.sections[profileName]
        if config == nil && credentials == nil { return nil }
        return (config ?? [:]).merging(credentials ?? [:]) { $1 }
    }

    private func fromProfile() throws -> S3Credentials? {
        guard let settings = try profileSettings() else {
            let named = explicitProfile != nil || env("AWS_PROFILE") != nil
            guard named && profileName != "default" else { return nil }
            let files = [credentialsPath, configPath].compactMap { $0 }.joined(separator: " or ")
            throw CredentialsError(.profileNotFound, "profile '\(profileName)' is not in \(files.isEmpty ? "any file ($HOME unset)" : files)")
        }
        if let id = settings["aws_access_key_id"], !id.value.isEmpty {
            guard let secret = settings["aws_secret_access_key"]?.value.nonEmpty else {
                throw CredentialsError.badLine(id.path, id.line, "profile '\(profileName)' has aws_access_key_id but no aws_secret_access_key")
            }
            return S3Credentials(accessKeyID: id.value, secretAccessKey: secret,
                                 sessionToken: settings["aws_session_token"]?.value.nonEmpty)
        }
        if let command = settings["credential_process"]?.value.nonEmpty { return try runCredentialProcess(command) }
        return nil
    }

    /// Runs the profile's `credential_process` with `sh -c` and reads its JSON from stdout.
    private func runCredentialProcess(_ command: String) throws -> S3Credentials {
        let child = try Subprocess(executable: "/bin/sh", arguments: ["sh", "-c", command], captureStdout: true,
                                   environment: environment.map { "\($0.key)=\($0.value)" })
        let output = Result { try FileSystem.readToEnd(child.stdout!, path: "credential_process") }
        close(child.stdout!)
        let status = child.wait()
        guard status == 0 else {
            throw CredentialsError(.processFailed, "credential_process '\(command)' exited with status \(status)")
        }
        guard let found = Self.parseKeys((try? output.get()) ?? [], tokenField: "SessionToken") else {
            throw CredentialsError(.processFailed, "credential_process '\(command)' did not print {AccessKeyId, SecretAccessKey}")
        }
        return found
    }

    // MARK: the metadata endpoints

    /// The ECS/EKS container endpoint. It is configured on purpose, so its failure is an error.
    private func fromContainer() throws -> S3Credentials? {
        let url: String
        if let relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") { // wins over FULL_URI, as in the SDKs
            url = "http://169.254.170.2" + relative
        } else if let full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            url = full
        } else {
            return nil
        }
        var headers: [String] = []
        if let token = try containerToken() { headers.append("Authorization: \(token)") }
        let response: SimpleHTTPResponse
        do { response = try SimpleHTTP.request(url, headers: headers) } catch {
            throw CredentialsError(.metadataUnavailable, "container credentials: \(error)")
        }
        guard response.status == 200, let found = Self.parseKeys(response.body, tokenField: "Token") else {
            throw CredentialsError(.metadataUnavailable, "container credentials: \(url): HTTP \(response.status), no keys")
        }
        return found
    }

    /// The token file (EKS Pod Identity rotates it) wins over the plain variable, as in the SDKs.
    private func containerToken() throws -> String? {
        var token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if let path = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            do { token = String(decoding: try FileSystem.read(path), as: UTF8.self) } catch {
                throw CredentialsError(.metadataUnavailable, "container authorization token: \(error)")
            }
        }
        guard let value = token?.trimmed(), !value.isEmpty else { return nil }
        guard !value.contains(where: \.isNewline) else {
            throw CredentialsError(.metadataUnavailable, "container authorization token has a line break")
        }
        return value
    }

    /// EC2 instance metadata, IMDSv2. Not answering the token request means "not on EC2"
    /// (nil, after at most a second's connect timeout); failing after it answered is an error.
    private func fromInstanceMetadata() throws -> S3Credentials? {
        if env("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
        var base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        func call(_ path: String, method: String = "GET", _ header: String) throws -> SimpleHTTPResponse {
            try SimpleHTTP.request(base + path, method: method, headers: [header], timeout: 2, connectTimeout: 1)
        }
        guard let answer = try? call("/latest/api/token", method: "PUT", "X-aws-ec2-metadata-token-ttl-seconds: 21600"),
              answer.status == 200 else { return nil }
        let auth = "X-aws-ec2-metadata-token: " + answer.text.trimmed()
        let rolesPath = "/latest/meta-data/iam/security-credentials/"
        do {
            let roles = try call(rolesPath, auth)
            if roles.status == 404 { return nil } // an instance without a role
            let role = roles.text.split(whereSeparator: \.isNewline).first.map { $0.trimmed() }
            guard roles.status == 200, let role, !role.isEmpty else {
                throw CredentialsError(.metadataUnavailable, "instance metadata: \(base)\(rolesPath): HTTP \(roles.status), no role")
            }
            let keys = try call(rolesPath + role, auth)
            guard keys.status == 200, let found = Self.parseKeys(keys.body, tokenField: "Token") else {
                throw CredentialsError(.metadataUnavailable, "instance metadata: role \(role): HTTP \(keys.status), no keys")
            }
            return found
        } catch let error as TransferError {
            throw CredentialsError(.metadataUnavailable, "instance metadata: \(error)")
        }
    }

    /// {AccessKeyId, SecretAccessKey, <tokenField>} from a JSON object; nil without both keys.
    static func parseKeys(_ json: [UInt8], tokenField: String) -> S3Credentials? {
        // The JSON reader of every record: an object over any number of lines.
        guard let object = try? json.withUnsafeBufferPointer({ try Record(line: $0) }),
              let id = (try? object.string("AccessKeyId")).nonEmpty,
              let secret = (try? object.string("SecretAccessKey")).nonEmpty else { return nil }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: (try? object.string(tokenField)).nonEmpty)
    }

    // MARK: helpers

    /// Set and not empty: `AWS_PROFILE=` in a script means "unset", not a profile named "".
    private func env(_ name: String) -> String? { environment[name].nonEmpty }

    private func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home else { return path }
        return home + path.dropFirst()
    }
}

/// One AWS shared config or credentials file, parsed as the AWS CLI reads it: `[section]`
/// headers, `key = value` (keys case-insensitive), whole-line `#` and `;` comments, and
/// indented blocks under an empty key (`s3 =` then `  addressing_style = path`) read as
/// `s3.addressing_style`. Anything else is an error naming the file and line, so a typo
/// is not silently ignored in the file that holds the keys.
struct AWSConfigFile {
    struct Entry {
        var value: String
        var path: String
        var line: Int
    }

    let path: String
    /// By section name, with `[profile   x]` normalized to `profile x`.
    private(set) var sections: [String: [String: Entry]] = [:]

    /// nil when the file does not exist.
    static func load(_ path: String) throws -> AWSConfigFile? {
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path) } catch let error as SystemError where error.errno == ENOENT || error.errno == ENOTDIR {
            return nil
        }
        return try AWSConfigFile(path: path, text: String(decoding: bytes, as: UTF8.self))
    }

    init(path: String, text: String) throws {
        self.path = path
        var section: String?
        /// The last key read: indented lines below it belong to it.
        var last: (name: String, indent: Int, isBlock: Bool)?
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let indent = raw.prefix { $0 == " " || $0 == "\t" }.count
            let line = raw.trimmed()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if let section, let parent = last, indent > parent.indent {
                if parent.isBlock {
                    guard let (key, value) = Self.keyValue(line) else {
                        throw CredentialsError.badLine(path, number, "expected 'key = value' in the '\(parent.name)' block")
                    }
                    sections[section]!["\(parent.name).\(key)"] = Entry(value: value, path: path, line: number)
                } else {
                    sections[section]![parent.name]!.value += "\n" + line // a continued value
                }
                continue
            }
            if line.hasPrefix("[") {
                guard let name = Self.sectionName(line) else {
                    throw CredentialsError.badLine(path, number, "expected a section header '[name]'")
                }
                sections[name] = sections[name] ?? [:] // a repeated section adds to the first
                section = name
                last = nil
                continue
            }
            guard let (key, value) = Self.keyValue(line) else {
                throw CredentialsError.badLine(path, number, "expected '[section]', 'key = value' or a comment")
            }
            guard let section else { throw CredentialsError.badLine(path, number, "'\(key)' is outside any [section]") }
            sections[section]![key] = Entry(value: value, path: path, line: number)
            last = (key, indent, value.isEmpty)
        }
    }

    /// `[ profile  x ]` → `profile x`; a comment may follow the bracket.
    private static func sectionName(_ line: String) -> String? {
        guard let close = line.firstIndex(of: "]") else { return nil }
        let rest = line[line.index(after: close)...].trimmed()
        guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix(";") else { return nil }
        let name = line[line.index(after: line.startIndex)..<close].split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return name.isEmpty ? nil : name
    }

    /// `key = value` with a non-empty key, lower-cased; the value may be empty.
    private static func keyValue(_ line: String) -> (String, String)? {
        guard let eq = line.firstIndex(of: "=") else { return nil }
        let key = line[..<eq].trimmed().lowercased()
        guard !key.isEmpty else { return nil }
        return (key, line[line.index(after: eq)...].trimmed())
    }
}
