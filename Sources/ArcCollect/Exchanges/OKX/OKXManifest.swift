import ArcCore

/// An answer of OKX's market-data-history endpoint, read: the files it lists, or the
/// error it gives. The shape (OKX's API docs, as client libraries read it):
///
///     {"code":"0","msg":"","data":[{"ts":"…","totalSizeMB":"…","dateAggrType":"daily",
///       "details":[{"instId":"BTC-USDT","instFamily":"","dateRangeStart":"…","dateRangeEnd":"…",
///         "groupSizeMB":"…","groupDetails":[{"filename":"BTC-USDT-trades-2025-09-01.zip",
///           "dateTs":"1756656000000","sizeMB":"15.64","url":"https://static.okx.com/…"}]}]}]}
///
/// Numbers may come as JSON strings or numbers (OKX writes most as strings); the day's
/// timestamp is `dateTs` in the docs' example and `dataTs` in their field table: both read.
public enum OKXManifest {
    public struct File: Sendable, Equatable {
        public var instrument: String
        public var filename: String
        public var url: String
        /// The size in MB as OKX wrote it (rounded: no exact byte count).
        public var sizeMB: String?
        /// The day's midnight in UTC+8, Unix milliseconds.
        public var dateTs: Int64?
    }

    /// An answer whose `code` is not "0" (or that is no answer at all).
    public struct APIError: ArcError {
        public var apiCode: String
        public var message: String
        public var code: FailureCode { apiCode.isEmpty ? .badListing : apiCode == OKXManifest.tooManyRequests ? .unavailable : FailureCode("api_error") }
        public var exitStatus: ExitStatus { .unavailable }
        public var description: String {
            apiCode.isEmpty ? message : "OKX API error \(apiCode): \(message.isEmpty ? "(no message)" : message)"
        }
    }

    /// OKX's "Too Many Requests": the call may be made again after a pause.
    public static let tooManyRequests = "50011"

    /// The files an answer lists; throws `APIError` for an error answer or one that is not
    /// the endpoint's JSON.
    public static func parse(_ bytes: [UInt8]) throws -> [File] {
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch {
            let start = String(decoding: bytes.prefix(80), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw APIError(apiCode: "", message: "the answer is not JSON (\(error)): \(start)")
        }
        guard case .object = json else { throw APIError(apiCode: "", message: "the answer is not a JSON object") }
        let code = scalar(json["code"]) ?? ""
        guard code == "0" else {
            throw APIError(apiCode: code.isEmpty ? "?" : code, message: scalar(json["msg"]) ?? "")
        }
        var files: [File] = []
        for snapshot in json["data"]?.arrayValue ?? [] {
            for detail in snapshot["details"]?.arrayValue ?? [] {
                let instrument = scalar(detail["instId"]) ?? ""
                for g in detail["groupDetails"]?.arrayValue ?? [] {
                    guard let url = scalar(g["url"]), !url.isEmpty else { continue }
                    let ts = scalar(g["dateTs"]) ?? scalar(g["dataTs"])
                    files.append(File(instrument: instrument, filename: scalar(g["filename"]) ?? "", url: url,
                                      sizeMB: scalar(g["sizeMB"]), dateTs: ts.flatMap { Int64($0) }))
                }
            }
        }
        return files
    }

    /// The error a failed HTTP answer carries in its body ({"code":"51000","msg":…}), if any.
    public static func apiError(inBody text: String) -> APIError? {
        guard let json = try? JSONValue(parsing: text), let code = scalar(json["code"]), code != "0" else { return nil }
        return APIError(apiCode: code, message: scalar(json["msg"]) ?? "")
    }

    /// A string or a number, as text.
    static func scalar(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: return s
        case .number(let n)?: return n
        default: return nil
        }
    }

    /// `YYYY-MM-DD` from a name ending in `-YYYY-MM-DD.zip`.
    public static func day(inFilename name: String) -> Day? {
        guard name.hasSuffix(".zip"), name.utf8.count >= 15 else { return nil }
        let stem = name.dropLast(4)
        let date = stem.suffix(10)
        guard stem.dropLast(10).hasSuffix("-") else { return nil }
        return Day(date)
    }

    /// An approximate byte count for `sizeMB` (taken as MiB, 2^20 bytes), nil when it is
    /// not a number.
    public static func approximateBytes(sizeMB: String) -> Int64? {
        guard let mb = Double(sizeMB), mb.isFinite, mb >= 0, mb < 1e9 else { return nil }
        return Int64((mb * 1_048_576).rounded())
    }
}
