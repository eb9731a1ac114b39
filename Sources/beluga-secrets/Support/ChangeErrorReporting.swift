import SecretSync

extension ChangeError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch self {
        case .api(let error): return error.exitStatus
        case .store(let error): return error.exitStatus
        case .sealing(let error): return error.exitStatus
        case .conflictPersisted: return .conflict
        case .keyNotFound, .disappeared: return .notFound
        case .managedBySealedStore, .managedDirectly, .signedVersionCannotBeRolledBack, .rejectedByAgent,
            .rolloutFailed,
            .invalidSetting, .storeTooLarge:
            return .rejected
        case .timedOut: return .unreachable
        }
    }
}

extension SealedStoreError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch self {
        case .keyNotFound, .versionNotKept: return .notFound
        case .malformedAnnotation, .outOfBounds, .invalidKeyName: return .rejected
        }
    }
}
