import Foundation
import JSONValue
import Testing
import TimeFormat
import TestSupport

@testable import KubeAPI

@Suite struct ModelTests {
    @Test func unknownFieldsSurviveEdits() throws {
        let json = try JSON(
            parsing: """
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"beluga-ai","namespace":"ns",
                 "labels":{"app":"beluga"},"managedFields":[{"manager":"helm"}]},
                 "spec":{"replicas":2,"strategy":{"type":"RollingUpdate"},
                  "template":{"metadata":{"annotations":{"keep":"me"}},"spec":{"containers":[{"name":"c","image":"i"}]}}},
                 "status":{"observedGeneration":1}}
                """)
        var deployment = Deployment(json: json)
        var annotations = deployment.templateAnnotations
        annotations["beluga-ai.io/content-hash"] = "abc"
        deployment.templateAnnotations = annotations
        deployment.metadata.labels["extra"] = "1"
        #expect(deployment.json[path: "spec", "strategy", "type"] == "RollingUpdate")
        #expect(deployment.json[path: "metadata", "managedFields"] != nil)
        #expect(deployment.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 1)
        #expect(deployment.templateAnnotations == ["keep": "me", "beluga-ai.io/content-hash": "abc"])
        #expect(deployment.metadata.labels == ["app": "beluga", "extra": "1"])
        #expect(deployment.replicas == 2)
    }

    @Test func secretDataIsBytesAndNeverPrinted() {
        var markers = LeakMarkers()
        let value = markers.make("secret")
        var secret = Secret(name: "beluga-ai-secrets", namespace: "ns")
        secret.set("openai-api-key", Array(value.utf8))
        #expect(
            secret.json[path: "data", "openai-api-key"]?.stringValue == Data(value.utf8).base64EncodedString()
        )
        #expect(secret.data["openai-api-key"] == Array(value.utf8))
        #expect(secret.keys == ["openai-api-key"])
        let printed = "\(secret) \(String(reflecting: secret))"
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(markers.leaks(in: printed + dumped).isEmpty)
        #expect(printed.contains("openai-api-key"))
    }

    @Test func listAndStatusWrappers() throws {
        let list = ObjectList<ConfigMap>(
            json: try JSON(
                parsing:
                    #"{"kind":"ConfigMapList","metadata":{"resourceVersion":"42","continue":"abc"},"items":[{"metadata":{"name":"a"},"data":{"k":"v"}}]}"#
            ))
        #expect(list.items.first?["k"] == "v")
        #expect(list.resourceVersion == "42")
        #expect(list.continueToken == "abc")
        let status = Status(
            body: Array(
                #"{"kind":"Status","status":"Failure","reason":"Invalid","code":422,"message":"bad","details":{"causes":[{"field":"data[a b]","message":"invalid key"}]}}"#
                    .utf8))
        #expect(status?.reason == "Invalid")
        #expect(status?.causes == ["data[a b]: invalid key"])
    }

    @Test func pathsAndQueries() {
        #expect(
            ResourceType.deployments.path(namespace: "ns", name: "d")
                == "/apis/apps/v1/namespaces/ns/deployments/d")
        #expect(ResourceType.namespaces.path(namespace: "ignored", name: "n") == "/api/v1/namespaces/n")
        #expect(
            ResourceType.pods.path(namespace: "ns", name: "p", subresource: "log")
                == "/api/v1/namespaces/ns/pods/p/log")
        #expect(
            makeQuery(ListOptions(labelSelector: "a=b,c!=d", limit: 5).queryItems)
                == "?labelSelector=a%3Db%2Cc%21%3Dd&limit=5")
        #expect(ResourceType.deployments.description == "deployments.apps")
    }

    @Test func microTimeHasSixDigits() {
        let text = KubeTime.microTime(UnixTime(secondsSince1970: 1_700_000_000.25))
        #expect(text == "2023-11-14T22:13:20.250000Z")
    }

    @Test func lineSplitterKeepsPartialLines() {
        var splitter = LineSplitter()
        #expect(
            splitter.push(Array("{\"a\":1}\n{\"b\"".utf8)).map { String(decoding: $0, as: UTF8.self) } == [
                "{\"a\":1}"
            ])
        #expect(
            splitter.push(Array(":2}\n".utf8)).map { String(decoding: $0, as: UTF8.self) } == ["{\"b\":2}"])
    }
}
