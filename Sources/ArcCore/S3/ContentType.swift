/// Content types from file extensions, for uploads without --content-type (as aws cli does).
public enum ContentType {
    static let table: [String: String] = [
        "txt": "text/plain", "csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson",
        "html": "text/html", "htm": "text/html", "xml": "application/xml", "zip": "application/zip",
        "gz": "application/gzip", "tar": "application/x-tar", "parquet": "application/vnd.apache.parquet",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml",
        "pdf": "application/pdf", "js": "text/javascript", "css": "text/css", "md": "text/markdown",
        "zst": "application/zstd", "bz2": "application/x-bzip2", "xz": "application/x-xz",
    ]

    public static func guess(_ path: String) -> String? {
        let name = FileSystem.baseName(of: path)
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return table[name[name.index(after: dot)...].lowercased()]
    }
}
