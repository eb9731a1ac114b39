import ArgumentParser

/// `beluga-secrets signer`: the operator's signing key, which proves who sealed a value.
struct Signer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage your signing key (Ed25519) and the signers a namespace allows.",
        discussion: """
            A sealed box is anonymous: anyone with the public key can seal a value, and the \
            sealedBy it records is only a claim. When you have a signing key, seal signs every \
            envelope with it (format 2), and an agent that knows your public key can prove that \
            you sealed it. The key lives in $XDG_CONFIG_HOME/beluga-secrets/signer.key \
            (~/.config/beluga-secrets/signer.key by default), mode 0600. An administrator lists \
            the public keys a namespace accepts with signer add, remove and list (ConfigMap \
            <release>-signers, or beluga-secrets-signers for a release installed with that name); the agent records the verified signer of every change.
            """,
        subcommands: [
            SignerInit.self,
            SignerShow.self,
            SignerAdd.self,
            SignerRemove.self,
            SignerList.self,
        ]
    )
}
