import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow

/// `DotEnv` (the env_file format, case by case, and its errors with line and column),
/// the `env_file` key, `EnvFileValues` reading the files a workflow names, and `mask`.
final class EnvFileTests: XCTestCase {
    private func parse(_ text: String) throws -> [String] {
        try DotEnv.parse(text, file: "/x/secrets.env").map { $0.0 + "=" + $0.1 }
    }

    /// The problems `text` has, as `LINE:COLUMN: message`.
    private func problems(_ text: String) -> [String] {
        do {
            _ = try DotEnv.parse(text, file: "/x/secrets.env")
            return []
        } catch let error as WorkflowError {
            XCTAssertEqual(error.file, "/x/secrets.env")
            return error.problems.map { "\($0.line):\($0.column): \($0.message)" }
        } catch {
            XCTFail("\(error)")
            return []
        }
    }

    // MARK: the format

    func testKeyValueExportBlankLinesAndComments() throws {
        XCTAssertEqual(try parse("""
            # a comment
            A=1

              # an indented comment
            export B=two
            export\tC=3
            \tD = four\t
            E=
            exported=yes
            """), ["A=1", "B=two", "C=3", "D=four", "E=", "exported=yes"])
        XCTAssertEqual(try parse(""), [])
        XCTAssertEqual(try parse("\n\n# only comments\n"), [])
    }

    func testUnquotedValuesAreTrimmedAndEndAtABlankThenHash() throws {
        XCTAssertEqual(try parse("A=  spaced out   # why\n"), ["A=spaced out"])
        XCTAssertEqual(try parse("A=a#b\n"), ["A=a#b"], "a # not after a blank is part of the value")
        XCTAssertEqual(try parse("A=#fff\n"), ["A=#fff"])
        XCTAssertEqual(try parse("A= # nothing\n"), ["A="])
        XCTAssertEqual(try parse("A=x\t# tab then comment\n"), ["A=x"])
        XCTAssertEqual(try parse("URL=https://u:p@host/a?b=c&d=$e\n"), ["URL=https://u:p@host/a?b=c&d=$e"],
                       "nothing is expanded, '=' after the first is the value's")
        XCTAssertEqual(try parse("A=it's \"fine\"\n"), ["A=it's \"fine\""], "quotes inside an unquoted value are kept")
    }

    func testSingleQuotedValuesAreLiteral() throws {
        XCTAssertEqual(try parse(#"A='  $HOME \n "x" # not a comment '"#), [#"A=  $HOME \n "x" # not a comment "#])
        XCTAssertEqual(try parse("A='x'   # comment\nB=2\n"), ["A=x", "B=2"])
        XCTAssertEqual(try parse("A=''\n"), ["A="])
    }

    func testDoubleQuotedValuesHaveEscapes() throws {
        XCTAssertEqual(try parse(#"A="line1\nline2\ttab\r \"q\" back\\slash""#), ["A=line1\nline2\ttab\r \"q\" back\\slash"])
        XCTAssertEqual(try parse(#"A="\$kept \x kept""#), [#"A=\$kept \x kept"#], "other backslashes are kept as written")
        XCTAssertEqual(try parse(##"A="# not a comment" # a comment"##), ["A=# not a comment"])
    }

    func testQuotedValuesGoOnOverLines() throws {
        let pem = "KEY=\"-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\"\nNEXT='a\nb'\nLAST=1\n"
        XCTAssertEqual(try parse(pem), ["KEY=-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----", "NEXT=a\nb", "LAST=1"])
        // Lines are still counted inside them.
        XCTAssertEqual(problems("A=\"x\ny\"\nB='1\n2'\nnot a line\n"), ["5:1: expected KEY=value"])
    }

    func testCRLFAByteOrderMarkAndALaterKeyWinning() throws {
        XCTAssertEqual(try parse("\u{FEFF}A=1\r\nB=\"x\"\r\nA=3\r\n"), ["A=1", "B=x", "A=3"])
    }

    // MARK: errors

    func testBadLinesNameLineAndColumnAndNeverQuoteTheFile() {
        XCTAssertEqual(problems("A=1\nhunter2\n"), ["2:1: expected KEY=value"])
        XCTAssertEqual(problems("A=1\n  export\n"), ["2:3: expected KEY=value"])
        XCTAssertEqual(problems("1A=x\n"), ["1:1: the name before '=' is not a variable name (letters, digits and '_', not first a digit)"])
        XCTAssertEqual(problems("MY-KEY=x\n").count, 1)
        XCTAssertEqual(problems("=x\n").map { $0.prefix(4) }, ["1:1:"])
        XCTAssertEqual(problems("A=1\nB=\"open\nC=2\n"), ["2:3: the double quote that starts the value of B is never closed"])
        XCTAssertEqual(problems("B='open\n"), ["1:3: the single quote that starts the value of B is never closed"])
        XCTAssertEqual(problems("A=\"x\" y\n"), ["1:7: unexpected text after the closing quote of A's value (a comment needs '#')"])
        XCTAssertEqual(problems("A=\"a\u{0}b\"\n"), ["1:1: the value of A holds a NUL character, which no environment variable can"])
        // Every problem, in order, and the good lines around them do not hide them.
        XCTAssertEqual(problems("A=1\nbad one\nB=2\nsecret-value\n").map { $0.prefix(4) }, ["2:1:", "4:1:"])
        for p in problems("PASSWORD hunter2\nTOKEN='s3cr3t\n") { XCTAssertFalse(p.contains("hunter2") || p.contains("s3cr3t"), p) }
    }

    // MARK: the env_file key

    func testEnvFileKeyAtEveryLevel() throws {
        let w = try WorkflowLoader.parse("""
            env_file = "common.env"
            [[step]]
            id = "a"
            run = "true"
            env_file = ["/etc/arc/a.env", "more.env"]
            [[step]]
            id = "b"
            run = "true"
            [on_exit]
            run = "true"
            env_file = "exit.env"
            """, file: "/srv/flows/flow.toml")
        XCTAssertEqual(w.envFiles, [EnvFileReference(path: "common.env", line: 1, column: 12)])
        XCTAssertEqual(w.steps[0].envFiles.map(\.path), ["/etc/arc/a.env", "more.env"])
        XCTAssertEqual(w.steps[0].envFiles.map(\.column), [13, 31])
        XCTAssertEqual(w.steps[1].envFiles, [])
        XCTAssertEqual(w.onExit?.envFiles.map(\.path), ["exit.env"])
        XCTAssertEqual(w.envFiles[0].resolved(in: w), "/srv/flows/common.env")
        XCTAssertEqual(w.steps[0].envFiles[0].resolved(in: w), "/etc/arc/a.env")
    }

    func testEnvFileKeyOfTheWrongType() {
        for (text, expected) in [("env_file = 3\n", "1:12: env_file: expected a path or a list of paths, got integer"),
                                 ("env_file = [\"a.env\", 1]\n", "1:22: env_file: expected a path, got integer"),
                                 ("env_file = \"\"\n", "1:12: env_file: expected a path, got an empty string")] {
            XCTAssertThrowsError(try WorkflowLoader.parse(text + "[[step]]\nid = \"a\"\nrun = \"true\"\n", file: "/x/f.toml")) { error in
                let e = error as! WorkflowError
                XCTAssertEqual(e.problems.map { "\($0.line):\($0.column): \($0.message)" }, [expected])
            }
        }
    }

    // MARK: reading the files

    func testReadingResolvesPathsReadsEachFileOnceAndKeepsTheOrder() throws {
        let dir = TempDir("arc-envfile")
        defer { dir.remove() }
        dir.write("common.env", "A=1\nB=2\n")
        dir.write("step.env", "B=step\nTOKEN=s3cr3t-token\n")
        let flow = dir.write("flow.toml", """
            env_file = "common.env"
            [[step]]
            id = "a"
            run = "true"
            env_file = ["\(dir.file("step.env"))", "common.env"]
            [on_failure]
            run = "true"
            env_file = "step.env"
            """)
        let values = try EnvFileValues.read(WorkflowLoader.load(path: flow))
        XCTAssertEqual(values.workflow.map { $0.0 + "=" + $0.1 }, ["A=1", "B=2"])
        XCTAssertEqual(values.steps["a"]?.map { $0.0 + "=" + $0.1 }, ["B=step", "TOKEN=s3cr3t-token", "A=1", "B=2"])
        XCTAssertEqual(values.steps["on_failure"]?.count, 2)
        XCTAssertEqual(values.count, 3, "keys, counted once")
    }

    func testAMissingFileNamesItAndTheLineNamingIt() throws {
        let dir = TempDir("arc-envfile")
        defer { dir.remove() }
        let flow = dir.write("flow.toml", "[[step]]\nid = \"a\"\nrun = \"true\"\nenv_file = \"nope.env\"\n")
        XCTAssertThrowsError(try EnvFileValues.read(WorkflowLoader.load(path: flow))) { error in
            guard let e = error as? UnavailableError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.exitStatus, .unavailable)
            XCTAssertEqual("\(e)", "\(flow):4:12: env_file: \(dir.file("nope.env")): open: No such file or directory")
        }
    }

    func testABadLineNamesTheEnvFile() throws {
        let dir = TempDir("arc-envfile")
        defer { dir.remove() }
        dir.write("bad.env", "A=1\n\nnot a pair\n")
        let flow = dir.write("flow.toml", "env_file = \"bad.env\"\n[[step]]\nid = \"a\"\nrun = \"true\"\n")
        XCTAssertThrowsError(try EnvFileValues.read(WorkflowLoader.load(path: flow))) { error in
            guard let e = error as? WorkflowError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.exitStatus, .usage)
            XCTAssertEqual(e.lines, ["\(dir.file("bad.env")):3:1: expected KEY=value"])
        }
    }

    // MARK: masking

    func testMaskReplacesEveryValueLongestFirstInOnePass() throws {
        let dir = TempDir("arc-envfile")
        defer { dir.remove() }
        dir.write("s.env", "TOKEN=abcd1234\nLONGER=abcd1234-and-more\nSHORT=1\nFROM=from\nUNICODE=pässwörd\n")
        let values = try EnvFileValues.read(WorkflowLoader.load(path: dir.write("f.toml", "env_file = \"s.env\"\n[[step]]\nid = \"a\"\nrun = \"true\"\n")))
        XCTAssertEqual(values.mask("exit status 1: bad token abcd1234"), "exit status 1: bad token [from env_file]",
                       "a 1-character value is not masked")
        XCTAssertEqual(values.mask("abcd1234-and-more"), "[from env_file]")
        XCTAssertEqual(values.mask("from here, pässwörd!"), "[from env_file] here, [from env_file]!",
                       "a placeholder is never masked again")
        XCTAssertEqual(values.mask("nothing to hide"), "nothing to hide")
        XCTAssertEqual(values.mask(values.mask("from abcd1234")), "[from env_file] [from env_file]", "masking twice changes nothing")
        XCTAssertEqual(EnvFileValues().mask("abcd1234"), "abcd1234")
    }
}
