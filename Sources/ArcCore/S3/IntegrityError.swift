/// Verification failed: what S3 reports does not match the bytes sent or received.
public struct IntegrityError: ArcError {
    public let resource: String
    public let expected: String
    public let actual: String

    public init(resource: String, expected: String, actual: String) {
        self.resource = resource
        self.expected = expected
        self.actual = actual
    }

    public var code: FailureCode { .checksumMismatch }
    public var exitStatus: ExitStatus { .failures }
    public var description: String { "\(resource): ETag \(expected) does not match the MD5 \(actual) of the bytes transferred" }
}

extension String {
    /// True for a single-part ETag: 32 hex digits, the MD5 of the object.
    public var isPlainMD5: Bool { Hex.isHex(Substring(self), count: 32) }
}
