import Glibc
import Testing

@testable import KubeAPI

@Suite struct Base64Tests {
    @Test func rfc4648Vectors() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64.encode([0xFB, 0xFF, 0xFE]) == "+//+")
    }

    @Test func everyByteRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test func refusesWhatIsNotCanonicalInForm() {
        for text in [
            "Zg", "Zg=", "Zm9v\n", " Zm9v", "Zm9v=", "Z===", "Zg==Zg==", "Zm-v", "Zm_v", "Zm9é", "=Zm9",
        ] {
            #expect(Base64.decode(text) == nil, "\(text.debugDescription)")
        }
    }

    /// `Zh==` and `Zm9=` decode, in a lenient decoder, to the bytes of `Zg==` and `Zm8=`: the bits
    /// after the last byte are not zero. One value has one spelling, so they are refused, except
    /// where Go's lenient reading is the reference (kubeconfig data).
    @Test func refusesNonZeroTrailingBits() {
        for (text, bytes) in [("Zh==", "f"), ("Zp==", "f"), ("Zm9=", "fo"), ("Zm+=", "fo"), ("QR==", "A")] {
            #expect(Base64.decode(text) == nil, "\(text)")
            #expect(Base64.decode(text, canonical: false) == Array(bytes.utf8), "\(text)")
        }
        var secret = Secret(name: "s")
        secret.json["data"] = ["canonical": "Zg==", "other": "Zh=="]
        #expect(secret.data == ["canonical": Array("f".utf8)])
    }
}

@Suite struct PathTests {
    @Test func foldersAndJoins() {
        #expect(Path.folder(of: "/a/b/config") == "/a/b")
        #expect(Path.folder(of: "/config") == "/")
        #expect(Path.folder(of: "config") == "")
        #expect(Path.folder(of: "/a/b/") == "/a")
        #expect(Path.join("/a/b", "c.pem") == "/a/b/c.pem")
        #expect(Path.join("/", "c.pem") == "/c.pem")
        #expect(Path.join("", "c.pem") == "c.pem")
        #expect(Path.join("/a/", "certs/c.pem") == "/a/certs/c.pem")
    }

    @Test func tildeIsTheHomeFolder() throws {
        let home = try #require(ProcessEnvironment.value("HOME"))
        #expect(Path.expandingTilde("~") == home)
        #expect(Path.expandingTilde("~/.kube/config") == Path.join(home, ".kube/config"))
        #expect(Path.expandingTilde("~root/x") == Path.join(Path.passwordHome("root") ?? "", "x"))
        #expect(Path.expandingTilde("~no-such-user-here/x") == "~no-such-user-here/x")
        #expect(Path.expandingTilde("/abs/~") == "/abs/~")
    }

    @Test func filesThatCannotBeReadSayWhy() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write("f", "text")
        #expect((try? FileContents.read(file).get()) == Array("text".utf8))
        guard case .failure(.missing) = FileContents.read(fixtures.path + "/none") else {
            Issue.record("a missing file")
            return
        }
        guard case .failure(.folder) = FileContents.read(fixtures.path) else {
            Issue.record("a folder")
            return
        }
        guard case .failure(.tooLarge) = FileContents.read("/dev/zero") else {
            Issue.record("an endless file")
            return
        }
    }
}

@Suite struct ParsedURLTests {
    @Test func partsOfServerAddresses() throws {
        let url = try #require(ParsedURL("https://user@Example.com:6443/prefix?x=1"))
        #expect(url.scheme == "https")
        #expect(url.userInfo == "user")
        #expect(url.host == "Example.com")
        #expect(url.port == 6443)
        #expect(url.rest == "/prefix?x=1")
        #expect(
            url.replacing(host: "api.internal", port: 6443) == "https://user@api.internal:6443/prefix?x=1")
        let v6 = try #require(ParsedURL("HTTP://[::1]:8080"))
        #expect(v6.scheme == "http" && v6.host == "::1" && v6.port == 8080 && v6.rest.isEmpty)
        #expect(v6.replacing(host: "::2", port: 80) == "http://[::2]:80")
        #expect(ParsedURL("https://h")?.port == nil)
    }

    @Test func refusesWhatIsNotAURL() {
        for text in [
            "h:1", "https:h", "https://", "https://:6443", "https://h:port", "https://h:70000",
            "https://my host",
            "https://[::1", "https://h:1:2", "1https://h", "https://h\u{0}",
        ] {
            #expect(ParsedURL(text) == nil, "\(text.debugDescription)")
        }
        #expect(ParsedURL.scheme(of: "SOCKS5h://proxy:1080") == "socks5h")
        #expect(ParsedURL.scheme(of: "proxy:3128") == "proxy")
        #expect(ParsedURL.scheme(of: "//proxy") == nil)
    }
}

@Suite struct ProcessEnvironmentTests {
    @Test func readsTheEnvironmentAsItIsNow() {
        setenv("BELUGA_TEST_ENVIRONMENT_READ", "one=two", 1)
        #expect(ProcessEnvironment.current["BELUGA_TEST_ENVIRONMENT_READ"] == "one=two")
        #expect(ProcessEnvironment.value("BELUGA_TEST_ENVIRONMENT_READ") == "one=two")
        unsetenv("BELUGA_TEST_ENVIRONMENT_READ")
        #expect(ProcessEnvironment.current["BELUGA_TEST_ENVIRONMENT_READ"] == nil)
        #expect(ProcessEnvironment.entries.allSatisfy { $0.contains("=") })
    }
}
