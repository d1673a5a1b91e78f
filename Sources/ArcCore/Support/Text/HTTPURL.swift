extension String {
    /// An http:// or https:// URL: the only kind the transfer engine is asked to fetch.
    public var isHTTPURL: Bool { hasPrefix("http://") || hasPrefix("https://") }
}
