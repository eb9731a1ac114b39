import Foundation
import JSONValue
import TimeFormat

/// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which
/// `kubectl get` asks for: the columns the real server's printers define for the common kinds,
/// and NAME and CREATED AT for the others.
enum TablePrinters {
    struct Column {
        var name: String
        var type: String = "string"
        var format: String = ""
        var priority: Int = 0
        var description: String = ""

        var json: JSON {
            [
                "name": .string(name), "type": .string(type), "format": .string(format),
                "description": .string(description), "priority": .int(priority),
            ]
        }
    }

    static let nameColumn = Column(
        name: "Name", format: "name",
        description:
            "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    )
    static let ageColumn = Column(
        name: "Age",
        description:
            "CreationTimestamp is a timestamp representing the server time when this object was created.")

    static func columns(for resource: APIResource) -> [Column] {
        switch (resource.group, resource.kind) {
        case ("", "ConfigMap"): return [nameColumn, Column(name: "Data", type: "integer"), ageColumn]
        case ("", "Secret"):
            return [nameColumn, Column(name: "Type"), Column(name: "Data", type: "integer"), ageColumn]
        case ("", "Namespace"): return [nameColumn, Column(name: "Status"), ageColumn]
        case ("", "ServiceAccount"): return [nameColumn, Column(name: "Secrets", type: "integer"), ageColumn]
        case ("", "Pod"):
            return [
                nameColumn, Column(name: "Ready"), Column(name: "Status"), Column(name: "Restarts"),
                ageColumn,
                Column(name: "IP", priority: 1), Column(name: "Node", priority: 1),
                Column(name: "Nominated Node", priority: 1), Column(name: "Readiness Gates", priority: 1),
            ]
        case ("", "Service"):
            return [
                nameColumn, Column(name: "Type"), Column(name: "Cluster-IP"), Column(name: "External-IP"),
                Column(name: "Port(s)"), ageColumn, Column(name: "Selector", priority: 1),
            ]
        case ("", "Node"):
            return [
                nameColumn, Column(name: "Status"), Column(name: "Roles"), ageColumn, Column(name: "Version"),
                Column(name: "Internal-IP", priority: 1), Column(name: "External-IP", priority: 1),
                Column(name: "OS-Image", priority: 1), Column(name: "Kernel-Version", priority: 1),
                Column(name: "Container-Runtime", priority: 1),
            ]
        case ("", "Event"):
            return [
                Column(name: "Last Seen"), Column(name: "Type"), Column(name: "Reason"),
                Column(name: "Object"),
                Column(name: "Message"),
            ]
        case ("apps", "Deployment"):
            return [
                nameColumn, Column(name: "Ready"), Column(name: "Up-to-date", type: "integer"),
                Column(name: "Available", type: "integer"), ageColumn,
                Column(name: "Containers", priority: 1),
                Column(name: "Images", priority: 1), Column(name: "Selector", priority: 1),
            ]
        case ("apps", "ReplicaSet"):
            return [
                nameColumn, Column(name: "Desired", type: "integer"),
                Column(name: "Current", type: "integer"),
                Column(name: "Ready", type: "integer"), ageColumn, Column(name: "Containers", priority: 1),
                Column(name: "Images", priority: 1), Column(name: "Selector", priority: 1),
            ]
        case ("coordination.k8s.io", "Lease"): return [nameColumn, Column(name: "Holder"), ageColumn]
        case ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            return [
                nameColumn, Column(name: "Role"), ageColumn, Column(name: "Users", priority: 1),
                Column(name: "Groups", priority: 1), Column(name: "ServiceAccounts", priority: 1),
            ]
        default:
            return [
                nameColumn,
                Column(
                    name: "Created At", type: "date",
                    description:
                        "CreationTimestamp is a timestamp representing the server time when this object was created."
                ),
            ]
        }
    }

    static func cells(for object: JSON, resource: APIResource, now: UnixTime) -> [JSON] {
        let name = JSON.string(object[path: "metadata", "name"]?.stringValue ?? "")
        let created = object[path: "metadata", "creationTimestamp"]?.stringValue.flatMap(Clock.parse)
        let age = JSON.string(created.map { humanDuration((now - $0).inSeconds) } ?? "<unknown>")
        func string(_ path: String...) -> String { object[path: path]?.stringValue ?? "" }
        func int(_ path: String...) -> Int { object[path: path]?.intValue ?? 0 }
        switch (resource.group, resource.kind) {
        case ("", "ConfigMap"):
            let count =
                (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
            return [name, .int(count), age]
        case ("", "Secret"):
            return [name, .string(string("type")), .int(object["data"]?.objectValue?.count ?? 0), age]
        case ("", "Namespace"):
            return [name, .string(string("status", "phase")), age]
        case ("", "ServiceAccount"):
            return [name, .int(object["secrets"]?.arrayValue?.count ?? 0), age]
        case ("", "Pod"):
            // `printPod`: the last container's waiting or termination reason wins over the phase.
            let statuses = object[path: "status", "containerStatuses"]?.arrayValue ?? []
            let total = object[path: "spec", "containers"]?.arrayValue?.count ?? 0
            var ready = 0
            var restarts = 0
            var lastRestart: UnixTime?
            var hasRunning = false
            var status =
                string("status", "reason").isEmpty ? string("status", "phase") : string("status", "reason")
            for container in statuses.reversed() {
                restarts += container["restartCount"]?.intValue ?? 0
                if let finished = container[path: "lastState", "terminated", "finishedAt"]?.stringValue
                    .flatMap(Clock.parse), lastRestart.map({ finished > $0 }) ?? true
                {
                    lastRestart = finished
                }
                let terminated = container[path: "state", "terminated"]
                if let reason = container[path: "state", "waiting", "reason"]?.stringValue, !reason.isEmpty {
                    status = reason
                } else if let reason = terminated?["reason"]?.stringValue, !reason.isEmpty {
                    status = reason
                } else if let terminated {
                    let signal = terminated["signal"]?.intValue ?? 0
                    status =
                        signal != 0 ? "Signal:\(signal)" : "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                } else if container["ready"]?.boolValue == true, container[path: "state", "running"] != nil {
                    hasRunning = true
                    ready += 1
                }
            }
            if status == "Completed" && hasRunning {
                let podReady = (object[path: "status", "conditions"]?.arrayValue ?? []).contains {
                    $0["type"] == "Ready" && $0["status"] == "True"
                }
                status = podReady ? "Running" : "NotReady"
            }
            if object[path: "metadata", "deletionTimestamp"] != nil { status = "Terminating" }
            let restartText =
                lastRestart.map { "\(restarts) (\(humanDuration((now - $0).inSeconds)) ago)" }
                ?? String(restarts)
            return [
                name, .string("\(ready)/\(total)"), .string(status), .string(restartText), age,
                .string(string("status", "podIP").isEmpty ? "<none>" : string("status", "podIP")),
                .string(string("spec", "nodeName").isEmpty ? "<none>" : string("spec", "nodeName")), "<none>",
                "<none>",
            ]
        case ("", "Service"):
            let ports = (object[path: "spec", "ports"]?.arrayValue ?? []).map { port -> String in
                let number = port["port"]?.intValue ?? 0
                let node = port["nodePort"]?.intValue.map { ":\($0)" } ?? ""
                return "\(number)\(node)/\(port["protocol"]?.stringValue ?? "TCP")"
            }
            let selector = (object[path: "spec", "selector"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
            return [
                name, .string(string("spec", "type")),
                .string(string("spec", "clusterIP").isEmpty ? "<none>" : string("spec", "clusterIP")),
                "<none>",
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age,
                .string(selector.isEmpty ? "<none>" : selector),
            ]
        case ("", "Node"):
            let ready = (object[path: "status", "conditions"]?.arrayValue ?? []).first {
                $0["type"] == "Ready"
            }
            let roles = (object[path: "metadata", "labels"]?.objectValue ?? [:]).keys
                .filter { $0.hasPrefix("node-role.kubernetes.io/") }
                .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
            let address = (object[path: "status", "addresses"]?.arrayValue ?? []).first {
                $0["type"] == "InternalIP"
            }
            return [
                name, .string(ready?["status"] == "True" ? "Ready" : "NotReady"),
                .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")), age,
                .string(string("status", "nodeInfo", "kubeletVersion")),
                .string(address?["address"]?.stringValue ?? "<none>"), "<none>",
                .string(string("status", "nodeInfo", "osImage")),
                .string(string("status", "nodeInfo", "kernelVersion")),
                .string(string("status", "nodeInfo", "containerRuntimeVersion")),
            ]
        case ("", "Event"):
            let last = (object["lastTimestamp"]?.stringValue ?? object["eventTime"]?.stringValue).flatMap(
                Clock.parse)
            let involved =
                "\(string("involvedObject", "kind").lowercased())/\(string("involvedObject", "name"))"
            return [
                .string(last.map { humanDuration((now - $0).inSeconds) } ?? "<unknown>"),
                .string(string("type")),
                .string(string("reason")), .string(involved), .string(string("message")),
            ]
        case ("apps", "Deployment"), ("apps", "ReplicaSet"):
            let containers = object[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
            let names = containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")
            let images = containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")
            let selector = object[path: "spec", "selector"].map { LabelSelector(object: $0).text } ?? ""
            let desired = object[path: "spec", "replicas"]?.intValue ?? 1
            if resource.kind == "Deployment" {
                return [
                    name, .string("\(int("status", "readyReplicas"))/\(desired)"),
                    .int(int("status", "updatedReplicas")),
                    .int(int("status", "availableReplicas")), age, .string(names), .string(images),
                    .string(selector),
                ]
            }
            return [
                name, .int(desired), .int(int("status", "replicas")), .int(int("status", "readyReplicas")),
                age,
                .string(names), .string(images), .string(selector),
            ]
        case ("coordination.k8s.io", "Lease"):
            let holder = string("spec", "holderIdentity")
            return [name, .string(holder), age]
        case ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            let subjects = object["subjects"]?.arrayValue ?? []
            func names(_ kind: String) -> String {
                subjects.filter { $0["kind"]?.stringValue == kind }.map { subject in
                    let name = subject["name"]?.stringValue ?? ""
                    if kind == "ServiceAccount" {
                        return "\(subject["namespace"]?.stringValue ?? "")/\(name)"
                    }
                    return name
                }.joined(separator: ", ")
            }
            return [
                name, .string("\(string("roleRef", "kind"))/\(string("roleRef", "name"))"), age,
                .string(names("User")),
                .string(names("Group")), .string(names("ServiceAccount")),
            ]
        default:
            return [name, .string(created.map { Clock.timestamp($0) } ?? "")]
        }
    }

    /// A `meta.k8s.io/v1` Table of `objects`.
    static func table(
        _ objects: [JSON], resource: APIResource, listMetadata: JSON, includeObject: String?,
        headers: Bool = true
    ) -> JSON {
        let now = UnixTime.now()
        let rows: [JSON] = objects.map { object in
            var row: JSON = ["cells": .array(cells(for: object, resource: resource, now: now))]
            switch includeObject {
            case "None":
                break
            case "Object":
                var full = object
                full["kind"] = .string(resource.kind)
                full["apiVersion"] = .string(resource.apiVersion)
                row["object"] = full
            default:
                var metadata = object["metadata"] ?? [:]
                metadata["managedFields"] = nil
                row["object"] = [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                ]
            }
            return row
        }
        var table: JSON = [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMetadata, "rows": .array(rows),
        ]
        table["columnDefinitions"] = headers ? .array(columns(for: resource).map(\.json)) : []
        return table
    }

    /// apimachinery's `duration.HumanDuration`.
    static func humanDuration(_ interval: Double) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let rest = seconds % 60
            return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
        }
        if minutes < 180 { return "\(minutes)m" }
        let hours = seconds / 3600
        if hours < 8 {
            let rest = minutes % 60
            return rest == 0 ? "\(hours)h" : "\(hours)h\(rest)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let rest = hours % 24
            return rest == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(rest)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = (hours / 24) % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }
}
