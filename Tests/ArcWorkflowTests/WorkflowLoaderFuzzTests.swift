import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow

/// Workflow files the fuzzer (Fuzz/, fuzz-workflow) found loading with values the runner
/// cannot use.
final class WorkflowLoaderFuzzTests: XCTestCase {
    /// The runner takes UInt64(seconds * 1e9) of a timeout: "99999999999d" trapped there.
    func testDurationsOverAHundredYearsAreProblems() throws {
        for value in ["\"99999999999d\"", "1e300", "9223372036854775807", "\"3153600001s\""] {
            let text = "[[step]]\nid = \"a\"\nrun = \"x\"\ntimeout = \(value)\nretry_delay = \(value)\n"
            let e = assertThrows(WorkflowError.self, try WorkflowLoader.parse(text, file: "/x/w.toml"))
            XCTAssertEqual(e?.problems.map(\.message), ["timeout: more than 100 years", "retry_delay: more than 100 years"], value)
            XCTAssertEqual(e?.problems.map(\.line), [4, 5], value)
        }
        let w = try WorkflowLoader.parse("[[step]]\nid = \"a\"\nrun = \"x\"\ntimeout = \"36500d\"\n", file: "/x/w.toml")
        XCTAssertEqual(w.steps.first?.timeout, 3_153_600_000)
    }
}
