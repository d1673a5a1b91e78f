/// A container reader's rule once it threw: it stays failed, and every later read throws
/// the same error (where it stopped in the file is no place to go on from).
struct StickyFailure<Failure: Error> {
    private var failure: Failure?

    /// Runs `read` unless an earlier one failed; keeps the first `Failure` it throws.
    mutating func read(_ read: () throws -> Int) throws -> Int {
        if let failure { throw failure }
        do {
            return try read()
        } catch let error as Failure {
            failure = error
            throw error
        }
    }
}
