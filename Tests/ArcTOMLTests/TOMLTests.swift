import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcTOML

/// A table as short canonical JSON-ish text, so expectations fit on a line: keys in document
/// order, date-times as <...>, floats as Swift prints them (inf, -inf, nan).
private func render(_ table: TOMLTable) -> String {
    "{" + table.entries.map { quote($0.key) + ":" + render($0.value) }.joined(separator: ",") + "}"
}

private func render(_ value: TOMLValue) -> String {
    switch value.kind {
    case .string(let s): return quote(s)
    case .integer(let i): return String(i)
    case .float(let d): return d.isNaN ? "nan" : String(describing: d)
    case .boolean(let b): return String(b)
    case .datetime(let s): return "<" + s + ">"
    case .array(let a): return "[" + a.map(render).joined(separator: ",") + "]"
    case .table(let t): return render(t)
    }
}

private func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16, uppercase: true)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

final class TOMLTests: XCTestCase {
    /// Valid documents, most from the TOML 1.0 specification's own examples.
    static let valid: [(toml: String, expected: String)] = [
        ("", "{}"),
        ("# only a comment\n\n   \n\t# indented comment\n", "{}"),
        // Keys
        ("key = \"value\"\nbare_key = \"value\"\nbare-key = \"value\"\n1234 = \"value\"",
         #"{"key":"value","bare_key":"value","bare-key":"value","1234":"value"}"#),
        ("\"127.0.0.1\" = \"value\"\n\"character encoding\" = \"value\"\n\"ʎǝʞ\" = \"value\"\n'key2' = \"value\"\n'quoted \"value\"' = \"value\"",
         #"{"127.0.0.1":"value","character encoding":"value","ʎǝʞ":"value","key2":"value","quoted \"value\"":"value"}"#),
        ("\"\" = \"blank\"", #"{"":"blank"}"#),
        ("'' = 'blank'", #"{"":"blank"}"#),
        ("name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true",
         #"{"name":"Orange","physical":{"color":"orange","shape":"round"},"site":{"google.com":true}}"#),
        ("fruit.name = \"banana\"\nfruit. color = \"yellow\"\nfruit . flavor = \"banana\"",
         #"{"fruit":{"name":"banana","color":"yellow","flavor":"banana"}}"#),
        ("3.14159 = \"pi\"", #"{"3":{"14159":"pi"}}"#),
        ("\"a\\u0041\" = 1", #"{"aA":1}"#),
        // Basic strings and escapes
        (#"str = "I'm a string. \"You can quote me\". Name\tJos\u00E9\nLocation\tSF.""#,
         #"{"str":"I'm a string. \"You can quote me\". Name\tJosé\nLocation\tSF."}"#),
        (#"e = "\b\f\r\\\U0001F600\u0000""#, #"{"e":"\u0008\u000C\u000D\\😀\u0000"}"#),
        ("t = \"tab\there\"", #"{"t":"tab\there"}"#),
        // Multi-line basic strings
        ("str1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"", #"{"str1":"Roses are red\nViolets are blue"}"#),
        ("str2 = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"\n"
            + "str3 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\\n       the lazy dog.\\\n       \"\"\"",
         #"{"str2":"The quick brown fox jumps over the lazy dog.","str3":"The quick brown fox jumps over the lazy dog."}"#),
        ("s = \"\"\"a \\  \t\n  b\"\"\"", #"{"s":"a b"}"#),
        (#"str4 = """Here are two quotation marks: "". Simple enough.""""#,
         #"{"str4":"Here are two quotation marks: \"\". Simple enough."}"#),
        (#"str5 = """Here are three quotation marks: ""\".""""#, #"{"str5":"Here are three quotation marks: \"\"\"."}"#),
        (#"str6 = """Here are fifteen quotation marks: ""\"""\"""\"""\"""\".""""#,
         #"{"str6":"Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"."}"#),
        (#"str7 = """"This," she said, "is just a pointless statement."""""#,
         #"{"str7":"\"This,\" she said, \"is just a pointless statement.\""}"#),
        ("e = \"\"\"\"\"\"", #"{"e":""}"#),
        // Literal strings
        (#"winpath = 'C:\Users\nodejs\templates'"# + "\n" + #"winpath2 = '\\ServerX\admin$\system32\'"#
            + "\n" + #"quoted = 'Tom "Dubs" Preston-Werner'"# + "\n" + #"regex = '<\i\c*\s*>'"#,
         #"{"winpath":"C:\\Users\\nodejs\\templates","winpath2":"\\\\ServerX\\admin$\\system32\\","quoted":"Tom \"Dubs\" Preston-Werner","regex":"<\\i\\c*\\s*>"}"#),
        ("regex2 = '''I [dw]on't need \\d{2} apples'''\nlines = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
         #"{"regex2":"I [dw]on't need \\d{2} apples","lines":"The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"}"#),
        ("quot15 = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\napos15 = \"Here are fifteen apostrophes: '''''''''''''''\"\nstr = ''''That,' she said, 'is still pointless.''''",
         #"{"quot15":"Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"","apos15":"Here are fifteen apostrophes: '''''''''''''''","str":"'That,' she said, 'is still pointless.'"}"#),
        // Integers
        ("int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\nint6 = 5_349_221\nint7 = 53_49_221\nint8 = 1_2_3_4_5",
         #"{"int1":99,"int2":42,"int3":0,"int4":-17,"int5":1000,"int6":5349221,"int7":5349221,"int8":12345}"#),
        ("hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef\noct1 = 0o01234567\noct2 = 0o755\nbin1 = 0b11010110",
         #"{"hex1":3735928559,"hex2":3735928559,"hex3":3735928559,"oct1":342391,"oct2":493,"bin1":214}"#),
        ("max = 9223372036854775807\nmin = -9223372036854775808\nzero = -0\nhexmax = 0x7FFFFFFFFFFFFFFF",
         #"{"max":9223372036854775807,"min":-9223372036854775808,"zero":0,"hexmax":9223372036854775807}"#),
        // Floats
        ("flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\nflt7 = 6.626e-34\nflt8 = 224_617.445_991_228",
         #"{"flt1":1.0,"flt2":3.1415,"flt3":-0.01,"flt4":5e+22,"flt5":1000000.0,"flt6":-0.02,"flt7":6.626e-34,"flt8":224617.445991228}"#),
        ("sf1 = inf\nsf2 = +inf\nsf3 = -inf\nsf4 = nan\nsf5 = +nan\nsf6 = -nan\nz = 0.0\nze = 0e0",
         #"{"sf1":inf,"sf2":inf,"sf3":-inf,"sf4":nan,"sf5":nan,"sf6":nan,"z":0.0,"ze":0.0}"#),
        // Booleans and date-times
        ("bool1 = true\nbool2 = false", #"{"bool1":true,"bool2":false}"#),
        ("odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\nodt3 = 1979-05-27T00:32:00.999999-07:00\nodt4 = 1979-05-27 07:32:00Z",
         #"{"odt1":<1979-05-27T07:32:00Z>,"odt2":<1979-05-27T00:32:00-07:00>,"odt3":<1979-05-27T00:32:00.999999-07:00>,"odt4":<1979-05-27 07:32:00Z>}"#),
        ("ldt1 = 1979-05-27T07:32:00\nldt2 = 1979-05-27T00:32:00.999999\nld1 = 1979-05-27\nlt1 = 07:32:00\nlt2 = 00:32:00.999999\nleap = 2000-02-29\nlower = 1979-05-27t07:32:00z",
         #"{"ldt1":<1979-05-27T07:32:00>,"ldt2":<1979-05-27T00:32:00.999999>,"ld1":<1979-05-27>,"lt1":<07:32:00>,"lt2":<00:32:00.999999>,"leap":<2000-02-29>,"lower":<1979-05-27t07:32:00z>}"#),
        ("d = [1979-05-27 07:32:00, 1979-05-27]", #"{"d":[<1979-05-27 07:32:00>,<1979-05-27>]}"#),
        // Arrays
        ("integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\nnested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\nnested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\nstring_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]",
         #"{"integers":[1,2,3],"colors":["red","yellow","green"],"nested_arrays_of_ints":[[1,2],[3,4,5]],"nested_mixed_array":[[1,2],["a","b","c"]],"string_array":["all","strings","are the same","type"]}"#),
        ("numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\ncontributors = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example.com/bazqux\" }\n]",
         #"{"numbers":[0.1,0.2,0.5,1,2,5],"contributors":["Foo Bar <foo@example.com>",{"name":"Baz Qux","email":"bazqux@example.com","url":"https://example.com/bazqux"}]}"#),
        ("integers2 = [\n  1, 2, 3\n]\nintegers3 = [\n  1,\n  2, # this is ok\n]\nempty = [ ]\nblank = [\n# nothing\n]",
         #"{"integers2":[1,2,3],"integers3":[1,2],"empty":[],"blank":[]}"#),
        // Tables
        ("[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456",
         #"{"table-1":{"key1":"some string","key2":123},"table-2":{"key1":"another string","key2":456}}"#),
        ("[dog.\"tater.man\"]\ntype.name = \"pug\"", #"{"dog":{"tater.man":{"type":{"name":"pug"}}}}"#),
        ("[a.b.c]            # this is best practice\n[ d.e.f ]          # same as [d.e.f]\n[ g .  h  . i ]    # same as [g.h.i]\n[ j . \"ʞ\" . 'l' ]  # same as [j.\"ʞ\".'l']",
         #"{"a":{"b":{"c":{}}},"d":{"e":{"f":{}}},"g":{"h":{"i":{}}},"j":{"ʞ":{"l":{}}}}"#),
        ("[x.y.z.w]\n[x]", #"{"x":{"y":{"z":{"w":{}}}}}"#),
        ("[a.b]\nx = 1\n[a]\ny = 2", #"{"a":{"b":{"x":1},"y":2}}"#),
        ("name = \"Fido\"\nbreed = \"pug\"\n\n[owner]\nname = \"Regina Dogman\"\nmember_since = 1999-08-04",
         #"{"name":"Fido","breed":"pug","owner":{"name":"Regina Dogman","member_since":<1999-08-04>}}"#),
        ("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]  # you can add sub-tables\nsmooth = true",
         #"{"fruit":{"apple":{"color":"red","taste":{"sweet":true},"texture":{"smooth":true}}}}"#),
        ("apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"",
         #"{"apple":{"type":"fruit","skin":"thin"},"orange":{"type":"fruit"}}"#),
        // Inline tables
        ("name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = \"pug\" }\nempty = {}",
         #"{"name":{"first":"Tom","last":"Preston-Werner"},"point":{"x":1,"y":2},"animal":{"type":{"name":"pug"}},"empty":{}}"#),
        ("t = { a = [\n 1,\n 2 ], b = { c = 'd' } }", #"{"t":{"a":[1,2],"b":{"c":"d"}}}"#),
        // Arrays of tables
        ("[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table within the array\n\n[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"",
         #"{"products":[{"name":"Hammer","sku":738594937},{},{"name":"Nail","sku":284758393,"color":"gray"}]}"#),
        ("[[fruits]]\nname = \"apple\"\n\n[fruits.physical]  # subtable\ncolor = \"red\"\nshape = \"round\"\n\n[[fruits.varieties]]  # nested array of tables\nname = \"red delicious\"\n\n[[fruits.varieties]]\nname = \"granny smith\"\n\n\n[[fruits]]\nname = \"banana\"\n\n[[fruits.varieties]]\nname = \"plantain\"",
         #"{"fruits":[{"name":"apple","physical":{"color":"red","shape":"round"},"varieties":[{"name":"red delicious"},{"name":"granny smith"}]},{"name":"banana","varieties":[{"name":"plantain"}]}]}"#),
        ("points = [ { x = 1, y = 2, z = 3 },\n           { x = 7, y = 8, z = 9 } ]",
         #"{"points":[{"x":1,"y":2,"z":3},{"x":7,"y":8,"z":9}]}"#),
        // CRLF, byte-order mark, tabs
        ("\u{FEFF}a = 1\r\n[t]\r\n\tb\t=\t\"x\"\t# c\r\n\r\nm = \"\"\"\r\none\r\ntwo \\\r\n  three\"\"\"\r\n",
         #"{"a":1,"t":{"b":"x","m":"one\ntwo three"}}"#),
    ]

    func testValidDocuments() throws {
        for (toml, expected) in TOMLTests.valid {
            do {
                let table = try TOML.parse(toml)
                XCTAssertEqual(render(table), expected, "document:\n\(toml)")
            } catch {
                XCTFail("\(error)\ndocument:\n\(toml)")
            }
        }
    }

    /// Invalid documents: where the error is (line, column) and a piece of its message.
    static let invalid: [(toml: String, line: Int, column: Int, message: String)] = [
        // Keys defined twice, tables redefined (the specification's examples)
        ("a = 1\na = 2", 2, 1, "duplicate key 'a' (first defined at line 1)"),
        ("spelling = \"favorite\"\n\"spelling\" = \"favourite\"", 2, 1, "duplicate key 'spelling'"),
        ("fruit.apple = 1\nfruit.apple.smooth = true", 2, 7, "duplicate key 'apple' (first defined at line 1)"),
        ("a.b = 1\na = 2", 2, 1, "duplicate key 'a'"),
        ("a = 1\r\nb = 1\r\na = 2", 3, 1, "first defined at line 1"),
        ("[fruit]\napple = \"red\"\n\n[fruit]\norange = \"orange\"", 4, 2, "table [fruit] is defined twice (first defined at line 1)"),
        ("[fruit]\napple = \"red\"\n\n[fruit.apple]\ntexture = \"smooth\"", 4, 8, "duplicate key 'apple' (first defined at line 2)"),
        ("[fruit]\napple.color = \"red\"\n[fruit.apple]", 3, 8, "already defined by dotted keys"),
        ("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.taste]", 4, 14, "already defined by dotted keys"),
        ("a = 1\n[a]", 2, 2, "duplicate key 'a'"),
        ("[a.b.c]\n  z = 9\n\n[a]\n  b.c.t = \"x\"", 5, 5, "cannot add to table 'c' with a dotted key"),
        // Inline tables and arrays written as values are complete
        ("[product]\ntype = { name = \"Nail\" }\ntype.edible = false", 3, 1, "cannot add to the inline table 'type' (defined at line 2)"),
        ("[product]\ntype.name = \"Nail\"\ntype = { edible = false }", 3, 1, "duplicate key 'type' (first defined at line 2)"),
        ("a = {x=1}\n[a.b]", 2, 2, "inline table 'a'"),
        ("a = {x=1}\n[a]", 2, 2, "inline table 'a'"),
        ("a = { x = 1, x = 2 }", 1, 14, "duplicate key 'x'"),
        ("a = [1]\n[a.b]", 2, 2, "cannot add to the array 'a'"),
        ("fruits = []\n\n[[fruits]] # Not allowed", 3, 3, "[[fruits]] cannot add to the array 'fruits'"),
        // Arrays of tables
        ("[fruit.physical]\ncolor = \"red\"\n\n[[fruit]]\nname = \"apple\"", 4, 3, "'fruit' is already a table"),
        ("[[fruits]]\nname = \"apple\"\n[[fruits.varieties]]\nname = \"red delicious\"\n[fruits.varieties]", 5, 9, "array of tables"),
        ("[[fruits]]\n[fruits.physical]\ncolor = \"red\"\n[[fruits.physical]]", 4, 10, "'physical' is already a table"),
        ("[[a.b]]\n\n[a]\nb.y = 2", 4, 1, "it is an array of tables"),
        // Strings
        ("a = \"abc", 1, 5, "unterminated string"),
        ("a = \"abc\nb = 1", 1, 5, "a single-line string cannot contain a newline"),
        ("a = \"abc\\\nb = 1", 1, 5, "a single-line string cannot contain a newline"),
        ("a = \"abc\\", 1, 5, "unterminated string"),
        ("a = 'abc\nb = 1", 1, 5, "a single-line string cannot contain a newline"),
        ("x = 1\na = \"\"\"abc\n\n", 2, 5, "unterminated multi-line string"),
        ("a = '''abc''", 1, 5, "unterminated multi-line string"),
        ("a = \"\\x41\"", 1, 6, "invalid escape '\\x'"),
        ("a = \"\\e\"", 1, 6, "invalid escape '\\e'"),
        ("a = \"x\\ \"", 1, 7, "invalid escape"),
        ("a = \"\"\"x\\ y\"\"\"", 1, 9, "invalid escape"),
        ("a = \"\\uD800\"", 1, 6, "not a Unicode scalar value"),
        ("a = \"\\U00110000\"", 1, 6, "not a Unicode scalar value"),
        ("a = \"\\u12\"", 1, 6, "needs 4 hexadecimal digits"),
        ("a = \"x\u{01}y\"", 1, 7, "control character U+0001"),
        ("a = 'x\u{7F}'", 1, 7, "control character U+007F"),
        ("a = \"\"\"\nok\nx\u{00}\"\"\"", 3, 2, "control character U+0000"),
        ("a = 1 # bell\u{07}", 1, 13, "in a comment"),
        ("a = 1\rb = 2", 1, 6, "carriage return"),
        ("\"\"\"a\"\"\" = 1", 1, 1, "a multi-line string cannot be a key"),
        // Numbers, booleans, date-times
        ("a = 012", 1, 5, "leading zeros"),
        ("a = 03.14", 1, 5, "leading zeros"),
        ("a = 1__2", 1, 5, "invalid number '1__2'"),
        ("a = 1_", 1, 5, "invalid number"),
        ("a = _1", 1, 5, "invalid number"),
        ("a = 9223372036854775808", 1, 5, "does not fit in 64 bits"),
        ("a = -9223372036854775809", 1, 5, "does not fit in 64 bits"),
        ("a = 0x8000000000000000", 1, 5, "does not fit in 64 bits"),
        ("a = 0x", 1, 5, "invalid hexadecimal integer"),
        ("a = 0b102", 1, 5, "invalid binary integer"),
        ("a = 0X1F", 1, 5, "invalid number"),
        ("a = +0x1F", 1, 5, "take no sign"),
        ("a = 1.", 1, 5, "invalid float '1.'"),
        ("a = .5", 1, 5, "invalid float"),
        ("a = 1.e5", 1, 5, "invalid float"),
        ("a = 1e", 1, 5, "invalid float"),
        ("a = 1e400", 1, 5, "out of range"),
        ("a = True", 1, 5, "invalid value 'True'"),
        ("a = yes", 1, 5, "strings need quotes"),
        ("a = 1979-13-01", 1, 5, "month must be 01 to 12"),
        ("a = 1979-02-29", 1, 5, "day must be 01 to 28"),
        ("a = 1979-05-27T24:00:00", 1, 5, "hour must be 00 to 23"),
        ("a = 1979-05-27T07:32:00+25:00", 1, 5, "offset"),
        ("a = 07:32", 1, 5, "invalid date-time '07:32'"),
        ("a = 07:32:00Z", 1, 5, "a local time takes no time zone offset"),
        ("a = 1979-5-27", 1, 5, "invalid"),
        ("a = 1979-05-27T07:32:00.", 1, 5, "needs digits"),
        // Line structure
        ("a 1", 1, 3, "expected '=' after the key 'a'"),
        ("t = {a}", 1, 7, "expected '=' after the key 'a'"),
        ("a", 1, 2, "expected '='"),
        ("a =", 1, 4, "missing value"),
        ("a = # nothing", 1, 5, "missing value"),
        ("a = @", 1, 5, "expected a value"),
        ("a = 1 2", 1, 7, "expected a newline or comment after the value"),
        ("a = \"x\" y", 1, 9, "expected a newline or comment after the value"),
        ("a = \"\"\"x\"\"\"\"\"\"", 1, 14, "expected a newline or comment after the value"),
        ("[t] x = 1", 1, 5, "expected a newline or comment after the table header"),
        ("[a]]", 1, 4, "after the table header"),
        ("[a", 1, 3, "expected ']' to close the table header"),
        ("[a b]", 1, 4, "expected ']'"),
        ("[[a]", 1, 4, "expected ']]'"),
        ("= 1", 1, 1, "missing key"),
        ("[]", 1, 2, "missing key"),
        ("[a.]", 1, 4, "missing key"),
        ("a..b = 1", 1, 3, "missing key"),
        ("é = 1", 1, 1, "invalid character 'é' in a key"),
        ("ké = 1", 1, 2, "invalid character 'é' in a key"),
        // Arrays and inline tables
        ("a = [1, 2", 1, 5, "unterminated array"),
        ("x = 0\na = [\n1,\n", 2, 5, "unterminated array"),
        ("a = [1, 2\nb = 3", 2, 1, "expected ',' or ']' after an array element (the array starts at line 1, column 5)"),
        ("a = [1 2]", 1, 8, "expected ',' or ']'"),
        ("a = [1,,2]", 1, 8, "expected a value"),
        ("a = {x = 1", 1, 5, "unterminated inline table"),
        ("a = {x = 1\n}", 1, 5, "unterminated inline table"),
        ("a = {\nx = 1}", 1, 5, "unterminated inline table"),
        ("a = {x = 1,}", 1, 11, "trailing comma"),
        ("a = {x = 1 y = 2}", 1, 12, "expected ',' or '}'"),
        ("a = " + String(repeating: "[", count: 40), 1, 37, "nested more than 32 deep"),
        // Columns count characters: a tab is one, so is "é" written as e and a combining accent
        ("\ta = 1\n\tb = \"x", 2, 6, "unterminated string"),
        ("s = \"e\u{301}\" x", 1, 9, "expected a newline or comment"),
        ("\u{FEFF}a = 1 2", 1, 7, "expected a newline or comment"),
    ]

    func testInvalidDocuments() {
        for (toml, line, column, message) in TOMLTests.invalid {
            do {
                let table = try TOML.parse(toml)
                XCTFail("parsed as \(render(table)), expected an error\ndocument:\n\(toml)")
            } catch let error as TOMLError {
                XCTAssertEqual("\(error.line):\(error.column)", "\(line):\(column)", "\(error)\ndocument:\n\(toml)")
                XCTAssertTrue(error.message.contains(message), "\(error) does not say \"\(message)\"\ndocument:\n\(toml)")
            } catch {
                XCTFail("not a TOMLError: \(error)")
            }
        }
    }

    func testErrorIsAnArcError() {
        XCTAssertThrowsError(try TOML.parse("retries = 1\n\nx = 2\nretries = 3")) { error in
            guard let error = error as? TOMLError else { return XCTFail("not a TOMLError: \(error)") }
            XCTAssertEqual(error.code, FailureCode("toml_syntax"))
            XCTAssertEqual(error.exitStatus, .usage)
            XCTAssertEqual(error.description, "line 4, column 1: duplicate key 'retries' (first defined at line 1)")
        }
    }

    /// The workflow loader reports problems at these positions.
    func testPositionsOfKeysAndValues() throws {
        let doc = """
        name = "build"
        [steps.compile]
        run = "make"
        needs = ["fetch", "x"]
        [[jobs]]
        env = { CC = "cc" }
        [[jobs]]
        a.b = 1
        """
        let root = try TOML.parse(doc)
        XCTAssertEqual(root.keys, ["name", "steps", "jobs"])
        func at(_ entry: TOMLTable.Entry?) -> String {
            guard let e = entry else { return "missing" }
            return "key \(e.keyLine):\(e.keyColumn) value \(e.value.line):\(e.value.column)"
        }
        XCTAssertEqual(at(root.entry("name")), "key 1:1 value 1:8")
        // An implicit table starts where it is first mentioned; [steps.compile] at its header.
        XCTAssertEqual(at(root.entry("steps")), "key 2:2 value 2:2")
        let steps = try XCTUnwrap(root["steps"]?.table)
        XCTAssertEqual(at(steps.entry("compile")), "key 2:8 value 2:1")
        let compile = try XCTUnwrap(steps["compile"]?.table)
        XCTAssertEqual(at(compile.entry("needs")), "key 4:1 value 4:9")
        let needs = try XCTUnwrap(compile["needs"]?.array)
        XCTAssertEqual(needs.map { "\($0.line):\($0.column)" }, ["4:10", "4:19"])
        XCTAssertEqual(at(root.entry("jobs")), "key 5:3 value 5:1")
        let jobs = try XCTUnwrap(root["jobs"]?.array)
        XCTAssertEqual(jobs.map { "\($0.line):\($0.column)" }, ["5:1", "7:1"])
        let env = try XCTUnwrap(jobs[0].table?.entry("env"))
        XCTAssertEqual(at(env), "key 6:1 value 6:7")
        XCTAssertEqual(at(env.value.table?.entry("CC")), "key 6:9 value 6:14")
        let dotted = try XCTUnwrap(jobs[1].table?.entry("a"))
        XCTAssertEqual(at(dotted), "key 8:1 value 8:1")
        XCTAssertEqual(at(dotted.value.table?.entry("b")), "key 8:3 value 8:7")
    }

    func testImplicitTableTakesItsHeaderPositionWhenDefined() throws {
        let root = try TOML.parse("[a.b]\nx = 1\n  [a]\n")
        let a = try XCTUnwrap(root.entry("a"))
        XCTAssertEqual("\(a.keyLine):\(a.keyColumn) \(a.value.line):\(a.value.column)", "3:4 3:3")
    }

    func testAccessorsAndTypeNames() throws {
        let root = try TOML.parse("s = 'x'\ni = 1\nf = 1.5\nb = true\nd = 1979-05-27\na = []\nt = {}")
        XCTAssertEqual(root.entries.map { $0.value.typeName }, ["string", "integer", "float", "boolean", "datetime", "array", "table"])
        XCTAssertEqual(root["s"]?.string, "x")
        XCTAssertNil(root["s"]?.integer)
        XCTAssertEqual(root["i"]?.integer, 1)
        XCTAssertEqual(root["b"]?.bool, true)
        XCTAssertEqual(root["a"]?.array?.count, 0)
        XCTAssertEqual(root["t"]?.table?.keys, [])
        XCTAssertNil(root["missing"])
        XCTAssertNil(root.entry("missing"))
    }

    /// Linear in the file size: a long document parses quickly.
    func testLargeDocument() throws {
        var text = ""
        for i in 0..<5_000 { text += "[[step]]\nname = \"s\(i)\"\nneeds = [\"a\", \"b\"]\nenv = { K = \(i) }\n" }
        let root = try TOML.parse(text)
        XCTAssertEqual(root["step"]?.array?.count, 5_000)
        XCTAssertEqual(root["step"]?.array?.last?.table?["name"]?.string, "s4999")
    }
}
