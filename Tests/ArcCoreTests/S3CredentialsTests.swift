import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

/// The credentials chain against real files, a real `sh -c` credential_process, and a real
/// HTTP server on 127.0.0.1 playing the container endpoint and IMDSv2.
final class S3CredentialsTests: XCTestCase {
    var dir: TempDir!
    var server: MetadataServer?

    override func setUp() { dir = TempDir("arc-cred") }

    override func tearDown() {
        server?.stop()
        server = nil
        dir.remove()
    }

    /// An environment pointing at this test's files, with IMDS off so no test waits on 169.254.169.254.
    func env(_ extra: [String: String] = [:]) -> [String: String] {
        let base = ["AWS_SHARED_CREDENTIALS_FILE": dir.file("credentials"), "AWS_CONFIG_FILE": dir.file("config"),
                    "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"]
        return base.merging(extra) { $1 }
    }

    func resolver(_ extra: [String: String] = [:], profile: String? = nil) -> CredentialsResolver {
        CredentialsResolver(profile: profile, environment: env(extra), home: dir.path)
    }

    func keys(_ id: String, _ secret: String, _ token: String? = nil) -> S3Credentials {
        S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    func writeFiles() {
        dir.write("credentials", """
            [default]
            aws_access_key_id = AKDEFAULT
            aws_secret_access_key = default-secret

            [work]
            aws_access_key_id=AKWORK
            aws_secret_access_key=work-secret
            aws_session_token=work-token

            [both]
            aws_access_key_id = AKBOTH-CREDENTIALS
            aws_secret_access_key = both-secret

            """)
        dir.write("config", """
            [default]
            region = eu-west-1

            [profile cfg]
            aws_access_key_id = AKCFG
            aws_secret_access_key = cfg-secret
            region = us-east-2

            [profile both]
            aws_access_key_id = AKBOTH-CONFIG
            aws_secret_access_key = ignored
            region = ap-south-1

            [profile noprofilekeys]
            region = sa-east-1

            """)
    }

    // MARK: environment and files

    func testEnvironmentWins() throws {
        writeFiles()
        let r = resolver(["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"])
        XCTAssertEqual(try r.resolve(), keys("AKENV", "env-secret", "env-token"))
        // Half the pair is not credentials: the profile is used.
        XCTAssertEqual(try resolver(["AWS_ACCESS_KEY_ID": "AKENV"]).resolve(), keys("AKDEFAULT", "default-secret"))
        // AWS_PROFILE does not beat env keys; an explicit --profile does, as in the AWS CLI.
        let withProfile = ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_PROFILE": "work"]
        XCTAssertEqual(try resolver(withProfile).resolve(), keys("AKENV", "env-secret"))
        XCTAssertEqual(try resolver(withProfile, profile: "cfg").resolve(), keys("AKCFG", "cfg-secret"))
    }

    func testProfilesFromCredentialsAndConfig() throws {
        writeFiles()
        XCTAssertEqual(try resolver().resolve(), keys("AKDEFAULT", "default-secret"))
        XCTAssertEqual(try resolver(profile: "work").resolve(), keys("AKWORK", "work-secret", "work-token"))
        XCTAssertEqual(try resolver(profile: "cfg").resolve(), keys("AKCFG", "cfg-secret"), "[profile cfg] in config")
        XCTAssertEqual(try resolver(profile: "both").resolve(), keys("AKBOTH-CREDENTIALS", "both-secret"),
                       "the credentials file wins over the config file")
        XCTAssertNil(try resolver(profile: "noprofilekeys").resolve(), "a profile without keys falls through the chain")
    }

    func testDefaultFilesUnderHome() throws {
        try FileSystem.makeDirectories(dir.file(".aws"))
        dir.write(".aws/credentials", "[default]\naws_access_key_id = AKHOME\naws_secret_access_key = home-secret\n")
        dir.write(".aws/config", "[default]\nregion = us-west-2\n")
        let r = CredentialsResolver(profile: nil, environment: ["AWS_EC2_METADATA_DISABLED": "true"], home: dir.path)
        XCTAssertEqual(try r.resolve(), keys("AKHOME", "home-secret"))
        XCTAssertEqual(r.region(), "us-west-2")
        let tilde = CredentialsResolver(profile: nil, environment: ["AWS_EC2_METADATA_DISABLED": "true",
                                                                    "AWS_SHARED_CREDENTIALS_FILE": "~/.aws/credentials"], home: dir.path)
        XCTAssertEqual(try tilde.resolve(), keys("AKHOME", "home-secret"))
    }

    func testExplicitProfileBeatsAWSProfile() throws {
        writeFiles()
        XCTAssertEqual(try resolver(["AWS_PROFILE": "work"]).resolve(), keys("AKWORK", "work-secret", "work-token"))
        XCTAssertEqual(try resolver(["AWS_PROFILE": "work"], profile: "cfg").resolve(), keys("AKCFG", "cfg-secret"))
        XCTAssertEqual(resolver(["AWS_PROFILE": "work"], profile: "cfg").region(), "us-east-2")
        XCTAssertEqual(try resolver(["AWS_PROFILE": ""]).resolve(), keys("AKDEFAULT", "default-secret"), "empty means unset")
    }

    func testMissingNamedProfile() throws {
        writeFiles()
        let explicit = assertThrows(CredentialsError.self, try resolver(profile: "nope").resolve())
        XCTAssertEqual(explicit?.code, FailureCode("profile_not_found"))
        XCTAssertEqual(explicit?.exitStatus, .usage)
        XCTAssertTrue(explicit?.description.contains("'nope'") ?? false, explicit?.description ?? "")
        XCTAssertEqual(assertThrows(CredentialsError.self, try resolver(["AWS_PROFILE": "nope"]).resolve())?.code,
                       FailureCode("profile_not_found"))
        // No files at all: the default profile is simply absent, not an error.
        let empty = TempDir("arc-cred-empty")
        defer { empty.remove() }
        let bare = CredentialsResolver(profile: nil, environment: ["AWS_EC2_METADATA_DISABLED": "true"], home: empty.path)
        XCTAssertNil(try bare.resolve())
        XCTAssertNil(try CredentialsResolver(profile: "default", environment: ["AWS_EC2_METADATA_DISABLED": "true"],
                                             home: empty.path).resolve())
    }

    func testBadLineNamesFileAndLine() throws {
        let path = dir.write("credentials", "[default]\n# fine\nthis is not ini\naws_access_key_id = x\n")
        let error = assertThrows(CredentialsError.self, try resolver().resolve())
        XCTAssertEqual(error?.code, FailureCode("bad_credentials_file"))
        XCTAssertEqual(error?.exitStatus, .usage)
        XCTAssertTrue(error?.description.hasPrefix("\(path):3:") ?? false, error?.description ?? "")

        dir.write("credentials", "aws_access_key_id = x\n[default]\n")
        XCTAssertTrue(assertThrows(CredentialsError.self, try resolver().resolve())?.description.contains(":1:") ?? false)
        dir.write("credentials", "[default\n")
        XCTAssertEqual(assertThrows(CredentialsError.self, try resolver().resolve())?.code, FailureCode("bad_credentials_file"))
        dir.write("credentials", "[default]\naws_access_key_id = AKONLY\n")
        let half = assertThrows(CredentialsError.self, try resolver().resolve())
        XCTAssertTrue(half?.description.contains("credentials:2:") ?? false, half?.description ?? "")
    }

    func testINISyntax() throws {
        dir.write("credentials", "; leading comment\r\n[ default ]  # trailing comment\r\n" +
                  "AWS_Access_Key_ID\t=   AKMIXED  \r\naws_secret_access_key=s=with=equals\r\n")
        dir.write("config", """
            [profile   spaced]
            region = eu-central-1
            s3 =
              addressing_style = path
              endpoint_url = http://127.0.0.1:8333
            # a comment between blocks
            endpoint_url = http://ignored.example

            [profile flat]
            endpoint_url = http://127.0.0.1:9000
            s3 =
                addressing_style = virtual
            [sso-session corp]
            sso_region = us-east-1
            """)
        XCTAssertEqual(try resolver().resolve(), keys("AKMIXED", "s=with=equals"))
        let spaced = resolver(profile: "spaced")
        let settings = try XCTUnwrap(spaced.configSection())
        XCTAssertEqual(settings["s3.addressing_style"]?.value, "path")
        XCTAssertEqual(settings["s3"]?.value, "")
        XCTAssertEqual(spaced.endpointURL(), "http://127.0.0.1:8333", "the s3 block's endpoint_url wins")
        XCTAssertEqual(spaced.region(), "eu-central-1")
        XCTAssertEqual(resolver(profile: "flat").endpointURL(), "http://127.0.0.1:9000")
        XCTAssertNil(resolver().endpointURL())

        dir.write("config", "[default]\nregion = a\n  b\n")
        XCTAssertEqual(try resolver().configSection()?["region"]?.value, "a\nb", "an indented line continues a value, as in configparser")
        dir.write("config", "[default]\ns3 =\n  not a pair\n")
        XCTAssertTrue(assertThrows(CredentialsError.self, try resolver().configSection())?.description.contains("config:3:") ?? false)
    }

    func testRegionOrder() {
        writeFiles()
        XCTAssertEqual(resolver(["AWS_REGION": "r1", "AWS_DEFAULT_REGION": "r2"]).region(), "r1")
        XCTAssertEqual(resolver(["AWS_DEFAULT_REGION": "r2"]).region(), "r2")
        XCTAssertEqual(resolver().region(), "eu-west-1", "[default] of the config file")
        XCTAssertEqual(resolver(["AWS_PROFILE": "both"]).region(), "ap-south-1")
        XCTAssertNil(resolver(profile: "work").region(), "region is read from the config file only")
        dir.write("config", "garbage\n")
        XCTAssertNil(resolver().region(), "a broken config file gives no region; resolve() reports it")
    }

    func testCredentialProcess() throws {
        dir.write("config", """
            [profile proc]
            credential_process = printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token"}' "$ARC_TEST_KEY"

            [profile failing]
            credential_process = exit 3

            [profile garbled]
            credential_process = echo not json
            """)
        XCTAssertEqual(try resolver(["ARC_TEST_KEY": "AKPROC"], profile: "proc").resolve(), keys("AKPROC", "proc-secret", "proc-token"))
        XCTAssertEqual(try resolver(["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "proc"]).resolve(),
                       keys("AKENV", "s"), "env keys come before the process")
        let failed = assertThrows(CredentialsError.self, try resolver(profile: "failing").resolve())
        XCTAssertEqual(failed?.code, FailureCode("credential_process_failed"))
        XCTAssertEqual(failed?.exitStatus, .unavailable)
        XCTAssertTrue(failed?.description.contains("status 3") ?? false)
        XCTAssertEqual(assertThrows(CredentialsError.self, try resolver(profile: "garbled").resolve())?.code,
                       FailureCode("credential_process_failed"))
    }

    // MARK: container and instance metadata, against a real server

    func startServer() throws -> MetadataServer {
        let s = try MetadataServer()
        server = s
        return s
    }

    func testContainerEndpoint() throws {
        let s = try startServer()
        let url = "\(s.base)/container"
        let expected = keys("AKCONTAINER", "container-secret", "container-token")
        XCTAssertEqual(try resolver(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth"]).resolve(), expected)
        let tokenFile = dir.write("token", "container-auth\n")
        XCTAssertEqual(try resolver(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale",
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile]).resolve(), expected,
                       "the token file wins over the variable")

        let refused = assertThrows(CredentialsError.self, try resolver(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                                                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"]).resolve())
        XCTAssertEqual(refused?.code, FailureCode("metadata_unavailable"))
        XCTAssertEqual(refused?.exitStatus, .unavailable)
        XCTAssertTrue(refused?.description.contains("HTTP 401") ?? false, refused?.description ?? "")
        let down = assertThrows(CredentialsError.self, try resolver(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "\(closedPortURL())/x"]).resolve())
        XCTAssertEqual(down?.code, FailureCode("metadata_unavailable"))
    }

    func testInstanceMetadataV2() throws {
        let s = try startServer()
        let imds = ["AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": s.base + "/"]
        XCTAssertEqual(try resolver(imds).resolve(), keys("ASIAIMDS", "imds-secret", "imds-token"))
        var noRole = imds
        noRole["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = s.base + "/norole"
        XCTAssertNil(try resolver(noRole).resolve(), "an instance without a role")
        var disabled = imds
        disabled["AWS_EC2_METADATA_DISABLED"] = "TRUE"
        XCTAssertNil(try resolver(disabled).resolve())
        var broken = imds
        broken["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = s.base + "/badrole"
        XCTAssertEqual(assertThrows(CredentialsError.self, try resolver(broken).resolve())?.code, FailureCode("metadata_unavailable"))

        let started = MonotonicClock.nanos()
        var absent = imds
        absent["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = closedPortURL()
        XCTAssertNil(try resolver(absent).resolve(), "no metadata service: no credentials, no error")
        XCTAssertLessThan(MonotonicClock.nanos() - started, 2_000_000_000)
    }

    // MARK: SimpleHTTP

    func testSimpleHTTP() throws {
        let s = try startServer()
        let got = try SimpleHTTP.request(s.base + "/echo", headers: ["X-Hello: there"])
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(got.header("X-Method"), "GET")
        XCTAssertEqual(got.header("x-saw-hello"), "there")
        XCTAssertTrue(got.headers.allSatisfy { $0.name == $0.name.lowercased() })
        XCTAssertEqual(got.body, [])

        let put = try SimpleHTTP.request(s.base + "/echo", method: "PUT", body: Array("payload".utf8))
        XCTAssertEqual(put.status, 200)
        XCTAssertEqual(put.text, "payload")
        XCTAssertEqual(put.header("x-method"), "PUT")
        XCTAssertEqual(put.header("x-content-type"), "", "no form Content-Type slipped in")
        XCTAssertEqual(put.header("x-expect"), "")

        let post = try SimpleHTTP.request(s.base + "/echo", method: "POST", headers: ["Content-Type: application/json"], body: Array("{}".utf8))
        XCTAssertEqual(post.header("x-method"), "POST")
        XCTAssertEqual(post.header("x-content-type"), "application/json")

        let missing = try SimpleHTTP.request(s.base + "/nothing")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.text, "not here")

        let refused = assertThrows(TransferError.self, try SimpleHTTP.request(closedPortURL() + "/x"))
        XCTAssertEqual(refused?.code, FailureCode("connection_failed"))
        let tooBig = assertThrows(TransferError.self, try SimpleHTTP.request(s.base + "/nothing", maxBody: 3))
        XCTAssertTrue(tooBig?.description.contains("larger than 3 bytes") ?? false, tooBig?.description ?? "")
    }
}

/// A URL on 127.0.0.1 where nothing listens: a port the kernel picked, then released.
func closedPortURL() -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            _ = bind(fd, p, len)
            _ = getsockname(fd, p, &len)
        }
    }
    close(fd)
    return "http://127.0.0.1:\(UInt16(bigEndian: addr.sin_port))"
}

/// python3's http.server on a free loopback port, answering as IMDSv2 (checking the token
/// header), as a container credentials endpoint (checking Authorization), and echoing.
final class MetadataServer {
    let process: Subprocess
    let base: String

    init() throws {
        guard let python = FileSystem.which("python3") else { throw XCTSkip("python3 is not installed") }
        process = try Subprocess(executable: python, arguments: ["python3", "-c", Self.script], captureStdout: true)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(process.stdout!, &byte, 1) == 1 && byte != UInt8(ascii: "\n") { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.signal(SIGKILL)
            _ = process.wait()
            throw UnavailableError("python3", "the test server did not start")
        }
        base = "http://127.0.0.1:\(port)"
    }

    func stop() {
        process.signal(SIGTERM)
        _ = process.wait()
        close(process.stdout!)
    }

    static let script = #"""
import http.server, json
TOKEN = "imds-session-token"
ROLES = "/latest/meta-data/iam/security-credentials/"
def keys(prefix, token):
    return json.dumps({"Code": "Success", "AccessKeyId": prefix, "SecretAccessKey": token.split("-")[0] + "-secret",
                       "Token": token, "Expiration": "2099-01-01T00:00:00Z"})
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def send(self, status, body, extra=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def route(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, variant = self.path, ""
        for v in ("/norole", "/badrole"):
            if path.startswith(v): path, variant = path[len(v):], v
        if path == "/latest/api/token":
            if self.command != "PUT" or self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return self.send(400, "bad token request")
            return self.send(200, TOKEN)
        if path.startswith(ROLES):
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN: return self.send(401, "missing token")
            if variant == "/norole": return self.send(404, "no role")
            role = path[len(ROLES):]
            if role == "": return self.send(200, "arc-role\n")
            if role == "arc-role": return self.send(200, "{}" if variant == "/badrole" else keys("ASIAIMDS", "imds-token"))
            return self.send(404, "no such role")
        if path == "/container":
            if self.headers.get("Authorization") != "container-auth": return self.send(401, "bad authorization")
            return self.send(200, keys("AKCONTAINER", "container-token"))
        if path == "/echo":
            return self.send(200, body, [("X-Method", self.command), ("X-Content-Type", self.headers.get("Content-Type", "")),
                                         ("X-Expect", self.headers.get("Expect", "")), ("X-Saw-Hello", self.headers.get("X-Hello", ""))])
        return self.send(404, "not here")
    do_GET = do_PUT = do_POST = route
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#
}
