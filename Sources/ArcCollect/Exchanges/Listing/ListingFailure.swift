import ArcCore

extension Logger {
    /// A folder listing that failed for good (retries spent, or a bad page): one error
    /// line, the same from every lister, with the prefix and the failure's code.
    func listingFailed(_ prefix: String, _ error: Error) {
        let code = ((error as? ArcError)?.code ?? .ioError).rawValue
        self.error("listing \(prefix) failed: \(error)", ["prefix": .string(prefix), "code": .string(code)])
    }
}
